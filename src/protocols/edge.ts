// Transport facts of one protocol: where its model name lives, which upstream path it posts to,
// how its upstream credential is carried, and its native errors. Translation lives in the codecs.

import type { UpstreamErrorFacts, WireError } from './codec.ts';
import type { GatewayErrorInfo, JsonValue } from './ir.ts';
import type { Protocol } from './names.ts';

/** Signs one upstream request with the configured key (SigV4 for Bedrock). */
export interface RequestSigner {
  /** Headers to add for a POST of `body` to `path` (path may carry a query). */
  sign(path: string, headers: Record<string, string>, body: Uint8Array): Promise<Record<string, string>>;
}

export type SignerFactory = (key: string, baseUrl: URL) => RequestSigner;

/**
 * A protocol whose streams report usage only when the client opts in (OpenAI Chat's
 * `stream_options.include_usage`): a same-protocol stream is opted in upstream so every answer's
 * tokens are counted, and the usage-only event the client did not ask for is dropped on the way
 * back.
 */
export interface HiddenStreamUsage {
  /** The top-level body field that carries the opt-in. */
  readonly field: string;
  /** That field's value opting in, from its current value (undefined: absent); undefined = already in. */
  optIn(current: JsonValue | undefined): JsonValue | undefined;
  /** The member added to a body without the field (`"field":<opt-in value>`), made once. */
  readonly absentMember: string;
  /** Whether one stream event (its bytes, without the blank line) is the usage-only event. */
  isUsageOnlyEvent(event: Uint8Array): boolean;
  /** Bytes the usage-only event always contains: a chunk without them is relayed without a look. */
  readonly marker: Uint8Array;
}

export interface ProtocolEdge {
  readonly protocol: Protocol;
  /** Set where streamed usage needs the client's opt-in (OpenAI Chat). */
  readonly hiddenStreamUsage?: HiddenStreamUsage;
  /** Body-model protocols read the model from the JSON body; path-model ones from the URL (P-GEN-5). */
  readonly modelIn: 'body' | 'path';
  /** Whether the upstream body names the model (Anthropic does although its ingress is path-model). */
  readonly bodyNamesModel: boolean;
  /**
   * Upstream path (appended to base_url) for `model`; `framing` is one of `streamFramings`, or
   * undefined for the protocol's default.
   */
  egressPath(model: string, stream: boolean, framing: string | undefined): string;
  /** The one native credential header set for `key` (P-GEN-4); `apiKeyStyle` is `auth: api-key`. */
  credentialHeaders(key: string, apiKeyStyle: boolean): Readonly<Record<string, string>>;
  /** Headers sent on every upstream call regardless of credential (e.g. `anthropic-version`). */
  readonly fixedHeaders: Readonly<Record<string, string>>;
  /** Whether this protocol's clients may carry their key in the query (`?key=`, Gemini only). */
  readonly keyInQuery: boolean;
  /** `gen_ai.provider.name` (OpenTelemetry GenAI conventions) of an upstream spoken to in this protocol. */
  readonly genAiProvider: string;
  /** Upstream error headers a same-protocol client may see (G-FO-8), e.g. Bedrock's `x-amzn-errortype`. */
  readonly errorRelayHeaders: readonly string[];
  /** Client headers worth keeping on a same-protocol hop (feature flags such as `anthropic-beta`). */
  readonly forwardedClientHeaders: readonly string[];
  /**
   * Set for protocols that sign each request instead of sending a credential header: loads the
   * signer (its library loads only when a lane needs it).
   */
  readonly loadSigner: (() => Promise<SignerFactory>) | undefined;
  /** `Accept` for a streamed upstream answer. */
  readonly streamAccept: string;
  /** Stream framings a client may choose besides the default (opaque to the core). */
  readonly streamFramings: readonly string[];
  /** The framing asked of this protocol's upstream on a translated hop; undefined = the default. */
  readonly translatedStreamFraming: string | undefined;
  writeError(err: GatewayErrorInfo): WireError;
  readError(
    status: number,
    body: JsonValue | undefined,
    headers: Readonly<Record<string, string>>,
  ): UpstreamErrorFacts;
  authFailure(): GatewayErrorInfo;
  modelNotFound(name: string): GatewayErrorInfo;
}

export function bearer(key: string, apiKeyStyle: boolean): Readonly<Record<string, string>> {
  return apiKeyStyle ? { 'api-key': key } : { authorization: `Bearer ${key}` };
}
