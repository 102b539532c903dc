// OTLP/HTTP trace export (G-OBS-30…34, issue 12): a `forward` server span per inference request and
// a `forward_once` client span per upstream attempt. The attempt spans are the GenAI inference
// spans (semconv.ts): provider, model, and on the attempt that answered, the response model, usage
// and finish reason — once per answer, so a backend that sums `gen_ai.usage.*` over spans counts
// each answer once. The request span says what the client asked and what the gateway did.
// What the spans need is taken at finish; they are encoded a batch at a time at export (bounded; a
// full queue drops and counts), POSTed in batches of 512 or after a second, never on a request's
// own time. The client's W3C `traceparent` continues its trace; a parent that was not sampled is
// not recorded either.
//
// The OpenTelemetry JS SDK measured ~13.5 µs CPU per request for these two spans (span objects
// 7 µs, protobuf serialization 6.5 µs), about 12% of a request through the gateway; here each span
// goes straight into protobuf (otlp.ts), its configuration-derived attributes encoded once.

import type { Hop, RequestContext } from '../lifecycle/context.ts';
import type { OutcomeCode } from '../lifecycle/finish.ts';
import { log } from '../log.ts';
import type { StopReason, Usage } from '../protocols/ir.ts';
import { PROTOCOLS, type Protocol } from '../protocols/names.ts';
import { OPERATIONS, type Operation } from '../protocols/routes.ts';
import type { AnswerFacts } from '../protocols/usage.ts';
import type { Lane } from '../routing/lane.ts';
import type { NameResolver } from '../routing/table.ts';
import { poolLabel } from './metrics.ts';
import {
  type Attributes,
  type AttrKey,
  attrKey,
  encodeAttributes,
  SpanBatch,
  SpanKind,
  StatusCode,
} from './otlp.ts';
import { GEN_AI_OPERATIONS, type GenAiNames, genAiNames } from './semconv.ts';
import type { SinkClient } from './sink-client.ts';

/** Spans waiting for export at most; more are dropped and counted. */
export const MAX_QUEUED_SPANS = 2048;
/** Spans per export request. */
const BATCH = 512;
/** A partial batch waits at most this long. */
const EXPORT_DELAY_MS = 1000;
/** G-OBS-30 */
const EXPORT_TIMEOUT_MS = 10_000;
/** Encoded attribute blocks kept at most (their keys come from configuration, so this is a backstop). */
const MAX_CACHED = 4096;
/** Shutdown waits this long at most for pending exports. */
const FLUSH_BOUND_MS = 3000;
/** Export failures are logged at most this often. */
const FAILURE_LOG_MS = 60_000;

export interface TracingOptions {
  readonly url: URL;
  readonly client: SinkClient;
  readonly authorization: string | undefined;
  readonly version: string;
  /** Called with the number of spans dropped (queue full or export failed). */
  readonly onDrop: (spans: number) => void;
  /** Resolves the `busbar.pool` label of requests refused before resolution. */
  readonly table: NameResolver;
  readonly env?: NodeJS.ProcessEnv;
}

interface ParentContext {
  readonly traceId: Uint8Array;
  readonly spanId: Uint8Array;
  readonly flags: number;
  readonly traceState: string;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/** W3C Trace Context: the client's parent span, or undefined for a missing or invalid header. */
export function parseTraceparent(header: unknown, tracestate: unknown): ParentContext | undefined {
  if (typeof header !== 'string') return undefined;
  const m = TRACEPARENT.exec(header.trim());
  if (m === null) return undefined;
  const [, version, trace, span, flags, rest] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string?,
  ];
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (trace === ZERO_TRACE || span === ZERO_SPAN) return undefined;
  const state = typeof tracestate === 'string' && tracestate.length <= 512 ? tracestate.trim() : '';
  return {
    traceId: Buffer.from(trace, 'hex'),
    spanId: Buffer.from(span, 'hex'),
    flags: Number.parseInt(flags, 16),
    traceState: state,
  };
}

/**
 * Random ids from a pooled buffer, filled from V8's xorshift128+ (`Math.random`), as the
 * OpenTelemetry JS SDK's own id generator does: ids need to be unique, not secret, and the CSPRNG
 * measured 0.3 µs per request here (a 4 KiB fill every hundred requests).
 */
class IdSource {
  #pool = Buffer.alloc(0);
  #at = 0;

  next(bytes: 8 | 16): Uint8Array {
    if (this.#at + bytes > this.#pool.length) {
      // A fresh buffer: ids handed out earlier are views of the old one and must stay as they are.
      this.#pool = Buffer.allocUnsafe(4096);
      const words = new Uint32Array(this.#pool.buffer, this.#pool.byteOffset, 1024);
      for (let i = 0; i < words.length; i++) words[i] = (Math.random() * 0x1_0000_0000) >>> 0;
      this.#at = 0;
    }
    const id = this.#pool.subarray(this.#at, this.#at + bytes);
    this.#at += bytes;
    return id;
  }
}

/** Keys set per span, their protobuf encoded once. */
const KEYS = {
  requestId: attrKey('busbar.request_id'),
  attempts: attrKey('busbar.attempts'),
  keyId: attrKey('busbar.key_id'),
  status: attrKey('http.response.status_code'),
  degraded: attrKey('busbar.degraded'),
  failoverReason: attrKey('busbar.failover_reason'),
  errorType: attrKey('error.type'),
  route: attrKey('http.route'),
};

/** The path-named Messages route (G-RTE-7), whose handler has a span of its own (G-OBS-30). */
const HANDLER_ROUTE = '/{name}/v1/messages';

/** The GenAI keys set per span, in the naming this process emits. */
interface GenAiKeys {
  readonly requestModel: AttrKey;
  readonly responseModel: AttrKey;
  readonly inputTokens: AttrKey;
  readonly outputTokens: AttrKey;
}

/** Constant for the process; read once (the getter is a native call). */
const TIME_ORIGIN = performance.timeOrigin;
const epochUs = (t: number): number => (TIME_ORIGIN + t) * 1000;

/**
 * What a finished request's spans need, taken at finish. Spans are encoded a batch at a time at
 * export: one tight loop over a few hundred requests costs about a third of encoding each request
 * between other work (measured in the gateway: 13% → 7% CPU per request).
 */
interface Finished {
  readonly parent: ParentContext | undefined;
  /** Spans this request records. */
  readonly spans: number;
  /** The route handler span of the path-named Messages route (G-OBS-30), if the request came that way. */
  readonly handler: 'named' | 'adhoc' | undefined;
  readonly startedAt: number;
  readonly endedAt: number;
  /** The model the client named ('' when it named none). */
  readonly name: string;
  readonly pool: string;
  readonly ingress: Protocol;
  readonly operation: Operation;
  readonly outcome: OutcomeCode;
  /** The HTTP status sent to the client; 0 when none was. */
  readonly status: number;
  /** Attempts, in order; the array is the request's own (nothing changes it after finish). */
  readonly hops: readonly Hop[];
  readonly served: Hop | undefined;
  readonly answer: AnswerFacts | undefined;
  readonly usage: Usage | undefined;
  readonly clientRequestId: string | undefined;
  readonly keyId: string | undefined;
}

export class Tracing {
  readonly #options: TracingOptions;
  readonly #names: GenAiNames;
  readonly #ids = new IdSource();
  /** Requests waiting for export, their span count, and the batch an export is encoded into. */
  #pending: Finished[] = [];
  #queued = 0;
  #batch: SpanBatch;
  #timer: NodeJS.Timeout | undefined;
  #exporting: Promise<void> | undefined;
  #lastFailureLog = 0;
  readonly #keys: GenAiKeys;
  readonly #resource: Attributes;
  /** Request-span constants by served lane (or none), pool, then ingress, operation, outcome and status. */
  readonly #requestCache = new Map<Lane | undefined, Map<string, Map<number, Uint8Array>>>();
  /** A small number per outcome code, for the cache key above. */
  readonly #outcomes = new Map<OutcomeCode, number>();
  #requestCached = 0;
  readonly #attemptCache = new WeakMap<Lane, Map<string, Uint8Array>>();
  /** The finish-reasons attribute, whole, per stop reason (a closed set). */
  readonly #finishReasons = new Map<StopReason, Uint8Array>();

  #newBatch(): SpanBatch {
    return new SpanBatch(this.#resource, { name: 'busbar', version: this.#options.version });
  }

  constructor(options: TracingOptions) {
    this.#options = options;
    const env = options.env ?? process.env;
    this.#names = genAiNames(env);
    this.#keys = {
      requestModel: attrKey(this.#names.requestModel),
      responseModel: attrKey(this.#names.responseModel),
      inputTokens: attrKey(this.#names.inputTokens),
      outputTokens: attrKey(this.#names.outputTokens),
    };
    const resource: Attributes = [
      ['service.name', env.OTEL_SERVICE_NAME?.trim() || 'busbar'],
      ['service.version', options.version],
    ];
    this.#resource = resource;
    this.#batch = this.#newBatch();
  }

  /** The finish listener: the request joins the export queue. */
  readonly record = (ctx: RequestContext, outcome: OutcomeCode): void => {
    const headers = ctx.req.headers;
    const parent =
      headers.traceparent === undefined
        ? undefined
        : parseTraceparent(headers.traceparent, headers.tracestate);
    // Parent-based sampling: a client that did not sample its trace gets none from here either.
    if (parent !== undefined && (parent.flags & 1) === 0) return;
    const handler = routeHandler(ctx);
    const spans = (handler === undefined ? 1 : 2) + ctx.hops.length;
    if (this.#queued + spans > MAX_QUEUED_SPANS) {
      this.#options.onDrop(spans);
      return;
    }
    this.#queued += spans;
    const principal = ctx.principal;
    this.#pending.push({
      parent,
      spans,
      handler,
      startedAt: ctx.startedAt,
      endedAt: ctx.endedAt,
      name: ctx.name,
      pool: poolLabel(ctx, this.#options.table),
      ingress: ctx.ingress,
      operation: ctx.route.operation,
      outcome,
      status: ctx.res.headersSent ? ctx.res.statusCode : 0,
      hops: ctx.hops,
      served: servedHop(ctx, outcome),
      answer: ctx.answer,
      usage: ctx.usage,
      clientRequestId: ctx.clientRequestId,
      keyId: principal?.kind === 'virtual_key' ? principal.key.id : undefined,
    });
    this.#schedule();
  };

  /** Exports whatever is queued (graceful shutdown, G-OBS-34), waiting at most `boundMs`. */
  async flush(boundMs = FLUSH_BOUND_MS): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((resolve) => {
      timer = setTimeout(() => resolve('expired'), boundMs);
    });
    try {
      while (this.#exporting !== undefined || this.#queued > 0) {
        if ((await Promise.race([this.#exporting ?? this.#exportBatch(), expired])) === 'expired') {
          // A collector that does not answer cannot hold the shutdown: what is left is dropped.
          this.#options.onDrop(this.#queued);
          this.#queued = 0;
          this.#pending = [];
          return;
        }
      }
    } finally {
      clearTimeout(timer);
    }
  }

  #schedule(): void {
    if (this.#exporting !== undefined) return;
    if (this.#queued >= BATCH) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      void this.#exportBatch();
      return;
    }
    // Unref'd: a pending batch never keeps the process alive; shutdown flushes it.
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      void this.#exportBatch();
    }, EXPORT_DELAY_MS).unref();
  }

  /** Encodes the oldest requests, whole, up to a batch of spans, and sends them. */
  #exportBatch(): Promise<void> {
    const pending = this.#pending;
    let taken = 0;
    let spans = 0;
    while (taken < pending.length) {
      const next = pending[taken]!.spans;
      if (spans > 0 && spans + next > BATCH) break;
      spans += next;
      taken++;
    }
    // One batch buffer, reused: exports go one at a time, and the body is a view of it.
    const batch = this.#batch;
    batch.reset();
    for (let i = 0; i < taken; i++) this.#encode(batch, pending[i]!);
    this.#pending = taken === pending.length ? [] : pending.slice(taken);
    this.#queued -= spans;
    const done = this.#post(batch.take(), spans)
      .then((delivered) => {
        // A failed export's socket may still hold the body: the next batch gets a buffer of its own.
        if (!delivered) this.#batch = this.#newBatch();
      })
      .finally(() => {
        this.#exporting = undefined;
        if (this.#queued > 0) this.#schedule();
      });
    this.#exporting = done;
    return done;
  }

  /** Whether the collector took the spans; a failure drops and counts them. */
  async #post(body: Uint8Array, spans: number): Promise<boolean> {
    if (spans === 0) return true;
    const { url, authorization, client } = this.#options;
    const headers: Record<string, string> = { 'content-type': 'application/x-protobuf' };
    if (authorization !== undefined) headers.authorization = authorization;
    try {
      // G-OBS-33: a redirect is a failed export, never followed.
      const status = await client.post(url, body, headers, EXPORT_TIMEOUT_MS);
      if (status < 200 || status >= 300) throw new Error(`the collector answered HTTP ${status}`);
      return true;
    } catch (err) {
      this.#options.onDrop(spans);
      const now = Date.now();
      if (now - this.#lastFailureLog >= FAILURE_LOG_MS) {
        this.#lastFailureLog = now;
        log.warn(
          { spans, err: err instanceof Error ? err.message : String(err) },
          'trace export failed; spans dropped',
        );
      }
      return false;
    }
  }

  /** A request's `forward` span (under its route handler's span, if any) and a `forward_once` span per attempt. */
  #encode(batch: SpanBatch, f: Finished): void {
    const parent = f.parent;
    const traceId = parent?.traceId ?? this.#ids.next(16);
    const root = this.#ids.next(8);
    const flags = parent?.flags ?? 1;
    const traceState = parent?.traceState ?? '';
    const failed = f.status >= 500 || f.outcome === 'upstream_interrupted' || f.outcome === 'internal_error';
    const status = failed ? StatusCode.error : StatusCode.unset;
    if (f.handler === undefined)
      this.#requestSpan(batch, f, traceId, root, parent?.spanId, SpanKind.server, failed);
    else {
      const handler = this.#ids.next(8);
      batch.begin(
        traceId,
        handler,
        parent?.spanId,
        traceState,
        f.handler,
        SpanKind.server,
        epochUs(f.startedAt),
        epochUs(f.endedAt),
      );
      batch.attribute(KEYS.route, HANDLER_ROUTE);
      batch.end(status, '', flags, parent !== undefined);
      this.#requestSpan(batch, f, traceId, root, handler, SpanKind.internal, failed);
    }
    for (const hop of f.hops) {
      batch.begin(
        traceId,
        this.#ids.next(8),
        root,
        traceState,
        'forward_once',
        SpanKind.client,
        epochUs(hop.startedAt),
        epochUs(hop === f.served || hop.respondedAt === 0 ? f.endedAt : hop.respondedAt),
      );
      const failed = this.#attemptSpan(batch, f, hop);
      batch.end(failed ? StatusCode.error : StatusCode.unset, '', flags, false);
    }
  }

  #requestSpan(
    batch: SpanBatch,
    f: Finished,
    traceId: Uint8Array,
    root: Uint8Array,
    parentSpanId: Uint8Array | undefined,
    kind: number,
    failed: boolean,
  ): void {
    const parent = f.parent;
    batch.begin(
      traceId,
      root,
      parentSpanId,
      parent?.traceState ?? '',
      'forward',
      kind,
      epochUs(f.startedAt),
      epochUs(f.endedAt),
    );
    batch.attribute(this.#keys.requestModel, f.name === '' ? undefined : f.name);
    // Only a client's own request id: a fresh one would be noise next to the span id.
    batch.attribute(KEYS.requestId, f.clientRequestId);
    batch.attribute(KEYS.attempts, f.hops.length);
    batch.attribute(KEYS.keyId, f.keyId);
    batch.attribute(KEYS.status, f.status === 0 ? undefined : f.status);
    batch.encoded(this.#requestConstants(f, failed));
    const remoteParent = parent !== undefined && parentSpanId === parent.spanId;
    batch.end(failed ? StatusCode.error : StatusCode.unset, '', parent?.flags ?? 1, remoteParent);
  }

  /** An attempt span's attributes; true when the attempt failed. */
  #attemptSpan(batch: SpanBatch, f: Finished, hop: Hop): boolean {
    const failed = hop.result === 'failed' || hop.result === 'interrupted';
    const errorType = hop.failover === 'timeout' || hop.failover === 'connect' ? hop.failover : hop.failure;
    if (hop === f.served) this.#answerAttributes(batch, f);
    if (hop.degraded) batch.attribute(KEYS.degraded, true);
    batch.attribute(KEYS.failoverReason, hop.failover);
    batch.attribute(KEYS.status, hop.status === 0 ? undefined : hop.status);
    if (failed) batch.attribute(KEYS.errorType, errorType ?? 'upstream_error');
    batch.encoded(this.#attemptConstants(hop));
    return failed;
  }

  /**
   * The request span's attributes that come from configuration and fixed enumerations only, encoded
   * once per combination (bounded by the config): most of a span's bytes, none of them per request.
   */
  #requestConstants(f: Finished, failed: boolean): Uint8Array {
    const served = f.served;
    let byPool = this.#requestCache.get(served?.lane);
    if (byPool === undefined) {
      byPool = new Map();
      this.#requestCache.set(served?.lane, byPool);
    }
    let byRest = byPool.get(f.pool);
    if (byRest === undefined) {
      byRest = new Map();
      byPool.set(f.pool, byRest);
    }
    // Closed sets, as one number (no string built per request); the lane and pool are keyed above.
    let outcome = this.#outcomes.get(f.outcome);
    if (outcome === undefined) {
      outcome = this.#outcomes.size;
      this.#outcomes.set(f.outcome, outcome);
    }
    const rest =
      ((outcome * PROTOCOLS.length + PROTOCOLS.indexOf(f.ingress)) * OPERATIONS.length +
        OPERATIONS.indexOf(f.operation)) *
        2 +
      (failed ? 1 : 0);
    let bytes = byRest.get(rest);
    if (bytes === undefined) {
      const n = this.#names;
      bytes = encodeAttributes([
        [n.operation, GEN_AI_OPERATIONS[f.operation]],
        ['busbar.pool', f.pool],
        ['busbar.lane', served?.lane.name],
        ['busbar.ingress_protocol', f.ingress],
        ['busbar.egress_protocol', served?.lane.upstream.protocol],
        ['busbar.outcome', f.outcome],
        ['error.type', failed ? f.outcome : undefined],
      ]);
      if (this.#requestCached < MAX_CACHED) {
        this.#requestCached++;
        byRest.set(rest, bytes);
      }
    }
    return bytes;
  }

  /** An attempt span's constant attributes, encoded once per (lane, pool). */
  #attemptConstants(hop: Hop): Uint8Array {
    let byPool = this.#attemptCache.get(hop.lane);
    if (byPool === undefined) {
      byPool = new Map();
      this.#attemptCache.set(hop.lane, byPool);
    }
    let bytes = byPool.get(hop.pool);
    if (bytes === undefined) {
      const n = this.#names;
      bytes = encodeAttributes([
        [n.operation, GEN_AI_OPERATIONS[hop.lane.model.mode]],
        [n.provider, hop.lane.upstream.edge.genAiProvider],
        [n.requestModel, hop.lane.model.upstreamModel],
        ['busbar.pool', hop.pool],
        ['busbar.lane', hop.lane.name],
        ['busbar.egress_protocol', hop.lane.upstream.protocol],
      ]);
      byPool.set(hop.pool, bytes);
    }
    return bytes;
  }

  /** Response model, usage and finish reason of a delivered answer. */
  #answerAttributes(batch: SpanBatch, f: Finished): void {
    const keys = this.#keys;
    const stop = f.answer?.stopReason;
    batch.attribute(keys.responseModel, f.answer?.model);
    batch.attribute(keys.inputTokens, f.usage?.inputTokens);
    batch.attribute(keys.outputTokens, f.usage?.outputTokens);
    if (stop !== undefined) {
      let bytes = this.#finishReasons.get(stop);
      if (bytes === undefined) {
        bytes = encodeAttributes([[this.#names.finishReasons, [stop]]]);
        this.#finishReasons.set(stop, bytes);
      }
      batch.encoded(bytes);
    }
  }
}

/**
 * The handler of the path-named Messages route: `named` for a pool or model name, `adhoc` for a
 * `{provider}/{model}` name that is not itself one; undefined for every other route.
 */
function routeHandler(ctx: RequestContext): 'named' | 'adhoc' | undefined {
  if (!ctx.route.adhoc || ctx.route.pathName === undefined) return undefined;
  return ctx.name.includes('/') && ctx.target?.name !== ctx.name ? 'adhoc' : 'named';
}

/** The hop whose answer reached the client, if one did. */
function servedHop(ctx: RequestContext, outcome: OutcomeCode): Hop | undefined {
  const last = ctx.hops.at(-1);
  if (last === undefined || outcome === 'exhausted' || outcome === 'deadline') return undefined;
  return last.result === 'failed' ? undefined : last;
}
