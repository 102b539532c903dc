// The one context object carried through an inference request, from authentication to finish.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from '../auth/principal.ts';
import { crypto } from '../builtins.ts';
import type { ProtocolCodec } from '../protocols/codec.ts';
import { CODECS } from '../protocols/codecs.ts';
import type { ProtocolEdge } from '../protocols/edge.ts';
import type { EmbedReply } from '../protocols/embed.ts';
import type { Usage } from '../protocols/ir.ts';
import type { Protocol } from '../protocols/names.ts';
import type { Operation } from '../protocols/routes.ts';
import type { AnswerFacts } from '../protocols/usage.ts';
import type { Clock } from '../reliability/clock.ts';
import type { Lane } from '../routing/lane.ts';
import type { RouteTarget } from '../routing/table.ts';
import type { UpstreamExchange } from '../upstream/exchange.ts';
import type { OriginPools } from '../upstream/origins.ts';
import type { OutcomeCode } from './finish.ts';
import type { ScanResult } from './json-scan.ts';
import type { ReasoningMemory } from './reasoning-memory.ts';

/**
 * What one upstream attempt came to, for the lane's counters: a 2xx (`ok`), a recorded failure
 * (`failed`), the caller's fault (`client_fault`), nothing to count (`no_outcome`), or a 2xx whose
 * body then failed in transit (`interrupted`, counted as both).
 */
export type HopResult = 'ok' | 'failed' | 'client_fault' | 'no_outcome' | 'interrupted';

/** Why a main-path hop moved on to the next member (G-OBS-16). */
export type FailoverReason = 'timeout' | 'connect' | 'transient_upstream' | 'hard_down' | 'context_length';
/** The disposition of a recorded upstream failure (G-OBS-14). */
export type FailureDisposition = 'transient_upstream' | 'hard_down' | 'context_length';

export interface Hop {
  readonly lane: Lane;
  /** The metrics label of the target whose cell this hop used: a pool, or a direct route's model. */
  readonly pool: string;
  /** A hop of on_exhausted (least-bad or a fallback pool), not of the main failover loop. */
  readonly degraded: boolean;
  /** performance.now() when the hop began, and when the upstream answered or failed (0: not yet). */
  readonly startedAt: number;
  respondedAt: number;
  result: HopResult;
  /** The upstream's HTTP status; 0 when none arrived. */
  status: number;
  /** Upstream header latency of a 2xx, ms (G-POL-8); 0 otherwise. */
  latencyMs: number;
  /** Whether a lifetime-budget unit was taken for this hop's 2xx. */
  spent: boolean;
  /** A failure this hop recorded against the upstream (G-BRK-4), if any. */
  failure: FailureDisposition | undefined;
  /** Why the failover loop moved on after this hop, if it did. */
  failover: FailoverReason | undefined;
  /** This hop's failure tripped a breaker (Closed → Open) or hard-downed the lane (G-BRK-18). */
  tripped: boolean;
  /** Fields of the client's request this hop's translation could not carry (issue 20). */
  lost: readonly string[];
}

/** What the route table fixed about an inference request before its body was read. */
export interface IngressRoute {
  readonly protocol: Protocol;
  /** What the route asks of a model: chat, embeddings or rerank. */
  readonly operation: Operation;
  /** Target name from the path (path-model protocols); undefined → the body's `model`. */
  readonly pathName: string | undefined;
  /** The path name may also be `{provider}/{model}` (the ad-hoc route, G-RTE-7). */
  readonly adhoc: boolean;
  /** Stream intent fixed by the route; undefined → the body's `stream`. */
  readonly routeStream: boolean | undefined;
  /** The stream framing the client asked for (opaque; the protocol's own), undefined = default. */
  readonly framing: string | undefined;
}

const EMPTY_BODY = Buffer.alloc(0);
const NOTHING_LOST: readonly string[] = Object.freeze([]);
/** A client-supplied request id is used only when it is a short, printable token. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const EMPTY_SCAN: ScanResult = Object.freeze({
  isObject: false,
  model: undefined,
  stream: undefined,
  system: undefined,
  max_tokens: undefined,
  max_completion_tokens: undefined,
  max_output_tokens: undefined,
  generationConfig: undefined,
  inferenceConfig: undefined,
  stream_options: undefined,
});

export class RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly route: IngressRoute;
  readonly ingress: Protocol;
  readonly edge: ProtocolEdge;
  readonly codec: ProtocolCodec;
  /** The raw query string, without `?`. */
  readonly query: string;
  readonly origins: OriginPools;
  readonly clock: Clock;
  /** performance.now() at arrival, at the first response byte, and at finish. */
  readonly startedAt = performance.now();
  firstByteAt = 0;
  endedAt = 0;
  /** Set by the authenticate stage. */
  principal: Principal | undefined;
  /** The client's body, exactly as received. */
  body: Buffer = EMPTY_BODY;
  scan: ScanResult = EMPTY_SCAN;
  /** The name the client asked for (pool or model). */
  name = '';
  stream = false;
  /** What the name resolved to. */
  target: RouteTarget | undefined;
  /** Epoch ms (on `clock`) by which the request must be answered, all hops included. */
  deadline = 0;
  /** Upstream attempts in order. */
  readonly hops: Hop[] = [];
  /**
   * A same-protocol stream opted in to usage the client did not ask for (OpenAI include_usage):
   * the usage-only event is dropped on the way back (attempt.ts, deliver.ts).
   */
  hiddenStreamUsage = false;
  /** The client's stream usage opt-in, read when the request was translated (OpenAI include_usage). */
  includeUsage: boolean | undefined;
  /** How a translated embeddings answer is written for the client, read with its request. */
  embedReply: EmbedReply | undefined;
  /** Stop sequences this hop's upstream cannot carry, enforced on its answer (issue 20). */
  emulatedStop: readonly string[] | undefined;
  /** The body family of an embeddings request, where its protocol has several (read once). */
  embedDialect: string | undefined;
  /** Token usage of the delivered answer (P-USE), when it reported one. */
  usage: Usage | undefined;
  /** The delivered answer's model and stop reason (trace attributes), when read. */
  answer: AnswerFacts | undefined;
  /** Whether delivery should read a relayed whole answer's model and stop reason (tracing is on). */
  wantsAnswerFacts = false;
  /** What the request cost its virtual key, cents (set by governance at finish). */
  costCents: number | undefined;
  /** The routing policy whose order this request's pool walked (G-POL-6, G-POL-7). */
  routePolicy: string | undefined;
  /** How the pool's routing policy decided (G-OBS-22): prefer, abstain, timeout, error or reject. */
  routeDecision: 'prefer' | 'abstain' | 'timeout' | 'error' | 'reject' | undefined;
  /** The caller's virtual-key rate headroom, set at admission when its key has a limit (G-GOV-17). */
  rateHeadroom: number | undefined;
  /** Where signed reasoning is remembered for clients that cannot hand it back (reasoning-replay.ts). */
  reasoningMemory: ReasoningMemory | undefined;
  #requestId: string | undefined;
  /** Set once, by Finish.emit. */
  outcome: OutcomeCode | undefined;
  /** Aborted when the client goes away. */
  readonly signal: AbortSignal;
  readonly #abort = new AbortController();
  /** The lane whose concurrency permit this request holds, if any. */
  #permit: Lane | undefined;
  /** The upstream exchange in progress, aborted if the client leaves. */
  #upstream: UpstreamExchange | undefined;

  constructor(init: {
    req: IncomingMessage;
    res: ServerResponse;
    route: IngressRoute;
    query: string;
    edge: ProtocolEdge;
    origins: OriginPools;
    clock: Clock;
  }) {
    this.req = init.req;
    this.res = init.res;
    this.route = init.route;
    this.ingress = init.route.protocol;
    this.edge = init.edge;
    this.codec = CODECS[init.route.protocol];
    this.query = init.query;
    this.origins = init.origins;
    this.clock = init.clock;
    this.signal = this.#abort.signal;
  }

  /**
   * The id that correlates this request in logs, spans and request-log records (G-OBS-52): the
   * client's `x-request-id` when it is a safe token, else a fresh UUID.
   */
  get requestId(): string {
    this.#requestId ??= this.clientRequestId ?? crypto.randomUUID();
    return this.#requestId;
  }

  /** The client's own `x-request-id` when it is a safe token. */
  get clientRequestId(): string | undefined {
    const incoming = this.req.headers['x-request-id'];
    return typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : undefined;
  }

  /** The stream framing the client asked for (opaque to the core). */
  get framing(): string | undefined {
    return this.route.framing;
  }

  /** Starts recording one upstream attempt on `lane`, under the target labelled `pool`. */
  beginHop(lane: Lane, pool: string, degraded: boolean): Hop {
    const hop: Hop = {
      lane,
      pool,
      degraded,
      startedAt: performance.now(),
      respondedAt: 0,
      result: 'no_outcome',
      status: 0,
      latencyMs: 0,
      spent: false,
      failure: undefined,
      failover: undefined,
      tripped: false,
      lost: NOTHING_LOST,
    };
    this.hops.push(hop);
    return hop;
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
}
