// The one context object carried through an inference request, from the handler to delivery.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ProtocolCodec } from '../protocols/codec.ts';
import { CODECS } from '../protocols/codecs.ts';
import type { ProtocolEdge } from '../protocols/edge.ts';
import type { JsonObject, Request } from '../protocols/ir.ts';
import type { Protocol } from '../protocols/names.ts';
import type { Lane } from '../routing/lane.ts';
import type { UpstreamExchange } from '../upstream/exchange.ts';
import type { OriginPools } from '../upstream/origins.ts';
import type { ScanResult } from './json-scan.ts';

export class InferenceContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly ingress: Protocol;
  readonly edge: ProtocolEdge;
  readonly codec: ProtocolCodec;
  /** The client's body, exactly as received. */
  readonly body: Buffer;
  readonly scan: ScanResult;
  /** The name the client asked for (pool or model). */
  readonly name: string;
  readonly stream: boolean;
  /** Gemini ingress framing: SSE (`alt=sse`) or a JSON array. */
  readonly sse: boolean;
  /** The caller's credential in passthrough mode; `false` when configured keys are used. */
  readonly passthroughCredential: string | undefined | false;
  /** Epoch ms by which the request must be answered (all hops included). */
  deadline = 0;
  /** Aborted when the client goes away. */
  readonly signal: AbortSignal;
  readonly origins: OriginPools;
  #ir: Request | undefined;
  readonly #abort = new AbortController();
  /** The lane whose concurrency permit this request holds, if any. */
  #permit: Lane | undefined;
  /** The upstream exchange in progress, aborted if the client leaves. */
  #upstream: UpstreamExchange | undefined;

  constructor(init: {
    req: IncomingMessage;
    res: ServerResponse;
    ingress: Protocol;
    edge: ProtocolEdge;
    body: Buffer;
    scan: ScanResult;
    name: string;
    stream: boolean;
    sse: boolean;
    passthroughCredential: string | undefined | false;
    origins: OriginPools;
  }) {
    this.req = init.req;
    this.res = init.res;
    this.ingress = init.ingress;
    this.edge = init.edge;
    this.codec = CODECS[init.ingress];
    this.body = init.body;
    this.scan = init.scan;
    this.name = init.name;
    this.stream = init.stream;
    this.sse = init.sse;
    this.passthroughCredential = init.passthroughCredential;
    this.signal = this.#abort.signal;
    this.origins = init.origins;
  }

  /** Records the permit taken for `lane`; it is given back by releasePermit or when the response closes. */
  holdPermit(lane: Lane): void {
    this.#permit = lane;
  }

  /** Gives the held permit back (idempotent): at once when a hop fails, else when the response closes. */
  releasePermit(): void {
    const lane = this.#permit;
    this.#permit = undefined;
    lane?.permits.release();
  }

  /** The exchange of the current hop: the client leaving aborts it. */
  watchUpstream(exchange: UpstreamExchange): void {
    this.#upstream = exchange;
    if (this.signal.aborted) exchange.abort();
  }

  /** The response closed: release the permit, and abort upstream work if the client left early. */
  readonly onClose = (): void => {
    if (!this.res.writableFinished) {
      this.#abort.abort();
      this.#upstream?.abort();
    }
    this.releasePermit();
  };

  /** The request in the IR, read once on the first cross-protocol hop (throws on an unreadable body). */
  ir(): Request {
    this.#ir ??= this.codec.readRequest(JSON.parse(this.body.toString()) as JsonObject, {
      model: this.name,
      stream: this.stream,
    });
    return this.#ir;
  }
}
