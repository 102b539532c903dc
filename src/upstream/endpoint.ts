// Everything needed to call one lane's upstream, computed once at startup (paths, static headers,
// credential headers, the signer, an in-process dispatcher): the hot path only reads these.

import type { ModelConfig, ProviderConfig } from '../config/types.ts';
import type { ProtocolEdge, RequestSigner } from '../protocols/edge.ts';
import type { Protocol } from '../protocols/names.ts';
import { EMBED_CODECS, RERANK_CODECS } from '../protocols/operation-codecs.ts';
import { EDGES } from '../protocols/registry.ts';
import type { Operation } from '../protocols/routes.ts';
import type { UpstreamDispatcher } from './dispatch.ts';
import { InProcessDispatcher } from './in-process.ts';

/** Header values must be encodable and free of control characters (G-SEC-21). */
export function isHeaderSafe(value: string): boolean {
  return value !== '' && /^[\x20-\x7e\x80-\xff]+$/.test(value) && value.trim() === value;
}

export class UpstreamEndpoint {
  readonly protocol: Protocol;
  readonly edge: ProtocolEdge;
  readonly origin: string;
  readonly provider: ProviderConfig;
  /** Path prefix of base_url (may be ''). */
  readonly #basePath: string;
  readonly #plainPath: string;
  /** Streamed-call paths by framing ('' = the protocol's default). */
  readonly #streamPaths: ReadonlyMap<string, string>;
  /** Static headers (fixed protocol headers, the configured credential, Accept) per stream mode. */
  readonly #plainHeaders: Readonly<Record<string, string>>;
  readonly #streamHeaders: Readonly<Record<string, string>>;
  /** Embedding and rerank paths by operation and route variant, made on first use. */
  readonly #operationPaths = new Map<string, string>();
  readonly #model: string;
  /** Set by the runtime loader for SigV4 protocols with a key (server/runtime.ts). */
  signer: RequestSigner | undefined;
  /** Set for an upstream answered in-process; calls to it never touch the network. */
  readonly inProcess: UpstreamDispatcher | undefined;

  constructor(model: ModelConfig) {
    const provider = model.provider;
    this.provider = provider;
    this.protocol = provider.protocol;
    this.edge = EDGES[provider.protocol];
    const url = new URL(provider.baseUrl);
    this.origin = url.origin;
    this.#basePath = url.pathname.replace(/\/+$/, '');
    this.#model = model.upstreamModel;
    const path = (stream: boolean, framing: string | undefined): string =>
      this.#basePath + (provider.path ?? this.edge.egressPath(model.upstreamModel, stream, framing));
    this.#plainPath = path(false, undefined);
    this.#streamPaths = new Map([
      ['', path(true, undefined)],
      ...this.edge.streamFramings.map((f): [string, string] => [f, path(true, f)]),
    ]);
    this.inProcess =
      provider.inProcess === undefined
        ? undefined
        : new InProcessDispatcher(provider.inProcess, model.upstreamModel);
    const credential =
      this.edge.loadSigner !== undefined || !isHeaderSafe(provider.apiKey)
        ? {}
        : this.edge.credentialHeaders(provider.apiKey, provider.auth === 'api-key');
    const base = {
      'content-type': 'application/json',
      'accept-encoding': 'identity',
      ...this.edge.fixedHeaders,
      ...credential,
    };
    this.#plainHeaders = Object.freeze({ ...base, accept: 'application/json' });
    this.#streamHeaders = Object.freeze({ ...base, accept: this.edge.streamAccept });
  }

  /** Whether this upstream signs its requests (the signer is made once its library is loaded). */
  get needsSigner(): boolean {
    return this.edge.loadSigner !== undefined && this.provider.apiKey !== '';
  }

  /** The upstream path; `framing` is one of the protocol's stream framings, undefined its default. */
  path(stream: boolean, framing: string | undefined): string {
    if (!stream) return this.#plainPath;
    return this.#streamPaths.get(framing ?? '') ?? this.#streamPaths.get('')!;
  }

  /**
   * The path of an embedding or rerank call; `framing` is the client route's variant on a forwarded
   * hop (Gemini's single embedContent), undefined otherwise. Config validation keeps such models on
   * protocols that have the endpoint.
   */
  operationPath(operation: Exclude<Operation, 'chat'>, framing: string | undefined): string {
    const key = `${operation}:${framing ?? ''}`;
    let path = this.#operationPaths.get(key);
    if (path === undefined) {
      const tail =
        operation === 'embedding'
          ? EMBED_CODECS[this.protocol]?.egressPath(this.#model, framing)
          : RERANK_CODECS[this.protocol]?.egressPath(this.#model);
      if (tail === undefined) throw new Error(`no ${operation} endpoint for protocol ${this.protocol}`);
      path = this.#basePath + tail;
      this.#operationPaths.set(key, path);
    }
    return path;
  }

  /** Headers for a call with the configured credential; frozen, copy before changing. */
  headers(stream: boolean): Readonly<Record<string, string>> {
    return stream ? this.#streamHeaders : this.#plainHeaders;
  }

  /** Headers for a call made with the caller's own credential (passthrough mode, G-SEC-4). */
  passthroughHeaders(credential: string | undefined, stream: boolean): Record<string, string> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'accept-encoding': 'identity',
      accept: stream ? this.edge.streamAccept : 'application/json',
      ...this.edge.fixedHeaders,
    };
    if (credential !== undefined && isHeaderSafe(credential)) {
      Object.assign(headers, this.edge.credentialHeaders(credential, this.provider.auth === 'api-key'));
    }
    return headers;
  }
}
