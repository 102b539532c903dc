// Delivering an upstream answer to the client once a hop succeeded (G-FO-10…19): relayed byte for
// byte on a same-protocol hop, translated frame by frame otherwise. After the first byte there is
// no failover: a failure in transit is recorded once and ends the response natively.

import type { StreamReader, StreamWriter } from '../protocols/codec.ts';
import { CODECS } from '../protocols/codecs.ts';
import type { ErrorKind, JsonValue, StreamEvent, Usage } from '../protocols/ir.ts';
import { UsageAccumulator, UsageTap } from '../protocols/usage.ts';
import type { UpstreamError } from '../reliability/attempt.ts';
import { type BreakerCell, recordTransientFailure } from '../reliability/breaker.ts';
import type { Lane } from '../routing/lane.ts';
import type { BodySink, UpstreamExchange } from '../upstream/exchange.ts';
import { relayHeaders } from '../upstream/relay-headers.ts';
import type { InferenceContext } from './context.ts';
import { errorInfo, sendBody, sendError } from './respond.ts';

/** Buffered cross-protocol successes are capped (G-SEC-20). */
const MAX_TRANSLATED_BODY = 32 * 1024 * 1024;
const INTERRUPTED = 'The upstream response was interrupted.';

export interface Delivery {
  readonly lane: Lane;
  readonly cell: BreakerCell;
  /** Whether a max_requests unit was taken for this 2xx (refunded if the body then fails). */
  readonly spent: boolean;
}

/** One transit failure per response (G-FO-19): breaker failure, lane error, budget refund. */
function failInTransit(d: Delivery, recorded: { done: boolean }): void {
  if (recorded.done) return;
  recorded.done = true;
  recordTransientFailure(d.lane, d.cell);
  if (d.spent) d.lane.refundBudget();
}

/** P-XLT-9 / G-FO-8: the ingress error kind for an upstream status. */
export function kindForStatus(status: number): ErrorKind {
  switch (status) {
    case 401:
      return 'authentication_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 503:
    case 529:
      return 'overloaded';
    case 504:
      return 'timeout';
    default:
      return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

/** G-FO-8: an upstream error answer the client should see. */
export function relayUpstreamError(ctx: InferenceContext, lane: Lane, e: UpstreamError): void {
  if (lane.upstream.protocol === ctx.ingress) {
    const headers = relayHeaders(e.headers);
    delete headers['content-length'];
    ctx.res.writeHead(e.status, { ...headers, 'content-length': e.bytes.length });
    ctx.res.end(e.bytes);
    return;
  }
  const message = e.facts.message ?? 'The request could not be processed.';
  sendError(ctx.res, ctx.edge, errorInfo(kindForStatus(e.status), e.status, message));
}

export function deliver(ctx: InferenceContext, d: Delivery, upstream: UpstreamExchange): Promise<void> {
  if (d.lane.upstream.protocol === ctx.ingress) return relay(ctx, d, upstream);
  return ctx.stream ? translateStream(ctx, d, upstream) : translateBuffered(ctx, d, upstream);
}

/**
 * Writes the upstream body into the client's response as it arrives, leaving the response open,
 * and taps a copy for usage. A full client socket pauses the upstream until it drains.
 */
class RelaySink implements BodySink {
  readonly #res: InferenceContext['res'];
  readonly #upstream: UpstreamExchange;
  readonly #tap: UsageTap;
  readonly ended: Promise<'end' | 'error'>;
  #settle: (how: 'end' | 'error') => void = () => {};
  #waiting = false;
  readonly #onDrain = (): void => {
    this.#waiting = false;
    this.#upstream.resume();
  };

  constructor(res: InferenceContext['res'], upstream: UpstreamExchange, tap: UsageTap) {
    this.#res = res;
    this.#upstream = upstream;
    this.#tap = tap;
    this.ended = new Promise((resolve) => {
      this.#settle = resolve;
    });
  }

  data(chunk: Buffer): boolean {
    this.#tap.push(chunk);
    if (this.#res.write(chunk) && !this.#waiting) return true;
    if (!this.#waiting) {
      this.#waiting = true;
      this.#res.once('drain', this.#onDrain);
    }
    return false;
  }

  end(): void {
    this.#settle('end');
  }

  error(): void {
    this.#res.off('drain', this.#onDrain);
    this.#settle('error');
  }
}

async function relay(ctx: InferenceContext, d: Delivery, upstream: UpstreamExchange): Promise<void> {
  const { res } = ctx;
  res.writeHead(upstream.statusCode, relayHeaders(upstream.headers));
  const tap = new UsageTap(d.lane.upstream.protocol, ctx.stream);
  const sink = new RelaySink(res, upstream, tap);
  upstream.attach(sink);
  const how = await sink.ended;
  if (how === 'end') {
    res.end();
    d.lane.recordUsage(tap.finish());
    return;
  }
  // The client leaving is not an upstream failure: the upstream answered, the unit stays spent.
  if (ctx.signal.aborted || res.destroyed) return;
  failInTransit(d, { done: false });
  if (ctx.stream) {
    // G-FO-16: one terminal error event in the client's own framing, then the end.
    const writer = ctx.codec.newStreamWriter({ sse: ctx.sse });
    res.end(
      concat(writer.write({ type: 'error', error: errorInfo('api_error', 502, INTERRUPTED) }), writer.end()),
    );
  } else {
    res.destroy();
  }
}

function concat(a: string | Uint8Array, b: string | Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(a), Buffer.from(b)]);
}

async function translateBuffered(
  ctx: InferenceContext,
  d: Delivery,
  upstream: UpstreamExchange,
): Promise<void> {
  const { bytes, end } = await upstream.readCapped(MAX_TRANSLATED_BODY);
  if (ctx.signal.aborted) return;
  if (end === 'oversize') {
    // G-FO-12: the gateway's own size cap, not an upstream failure: no refund, no token charge.
    return sendError(
      ctx.res,
      ctx.edge,
      errorInfo('api_error', 500, 'The upstream response was too large to translate.'),
    );
  }
  let out: string;
  let usage: Usage | undefined;
  try {
    if (end === 'failed') throw new Error('interrupted');
    const parsed = JSON.parse(bytes.toString()) as JsonValue;
    const response = CODECS[d.lane.upstream.protocol].readResponse(parsed);
    usage = response.usage;
    // Some protocols (Cohere, Bedrock) do not echo the model: the lane's model is what answered.
    out = JSON.stringify(
      ctx.codec.writeResponse(response.model === '' ? { ...response, model: d.lane.name } : response),
    );
  } catch {
    failInTransit(d, { done: false });
    return sendError(
      ctx.res,
      ctx.edge,
      errorInfo('api_error', 502, 'The upstream service returned a response that could not be read.'),
    );
  }
  sendBody(ctx.res, 200, 'application/json', out);
  d.lane.recordUsage(usage);
}

/**
 * Translates an upstream stream frame by frame as chunks arrive: each chunk's events are written
 * at once, and a full client socket pauses the upstream until it drains.
 */
class TranslateSink implements BodySink {
  readonly #ctx: InferenceContext;
  readonly #d: Delivery;
  readonly #upstream: UpstreamExchange;
  readonly #reader: StreamReader;
  readonly #writer: StreamWriter;
  readonly #usage = new UsageAccumulator();
  readonly #recorded = { done: false };
  readonly ended: Promise<void>;
  #settle: () => void = () => {};
  #blocked = false;
  readonly #onDrain = (): void => {
    this.#blocked = false;
    this.#upstream.resume();
  };

  constructor(ctx: InferenceContext, d: Delivery, upstream: UpstreamExchange, writer: StreamWriter) {
    this.#ctx = ctx;
    this.#d = d;
    this.#upstream = upstream;
    this.#reader = CODECS[d.lane.upstream.protocol].newStreamReader();
    this.#writer = writer;
    this.ended = new Promise((resolve) => {
      this.#settle = resolve;
    });
  }

  #emit(events: readonly StreamEvent[]): void {
    const res = this.#ctx.res;
    for (const event of events) {
      this.#usage.add(event);
      // G-FO-17: an in-band terminal error (or a translator abort) is one transient failure.
      if (event.type === 'error') failInTransit(this.#d, this.#recorded);
      const named =
        event.type === 'message_start' && event.model === '' ? { ...event, model: this.#d.lane.name } : event;
      const bytes = this.#writer.write(named);
      if (bytes.length === 0 || res.destroyed) continue;
      if (!res.write(bytes) && !this.#blocked) {
        this.#blocked = true;
        res.once('drain', this.#onDrain);
      }
    }
  }

  data(chunk: Buffer): boolean {
    this.#emit(this.#reader.push(chunk));
    return !this.#blocked;
  }

  end(): void {
    try {
      if (!this.#ctx.res.destroyed) this.#emit(this.#reader.end());
    } catch {
      // A writer that cannot render the last events ends the stream as interrupted.
      this.error();
      return;
    }
    this.#finish();
  }

  error(): void {
    if (!this.#ctx.signal.aborted) {
      failInTransit(this.#d, this.#recorded);
      this.#emit([{ type: 'error', error: errorInfo('api_error', 502, INTERRUPTED) }]);
    }
    this.#finish();
  }

  #finish(): void {
    const res = this.#ctx.res;
    res.off('drain', this.#onDrain);
    res.end(this.#writer.end());
    if (!this.#recorded.done && !this.#ctx.signal.aborted) this.#d.lane.recordUsage(this.#usage.result());
    this.#settle();
  }
}

function translateStream(ctx: InferenceContext, d: Delivery, upstream: UpstreamExchange): Promise<void> {
  // OpenAI clients get the trailing usage chunk only when they asked for it.
  const { includeUsage } = ctx.ir();
  const writer = ctx.codec.newStreamWriter(
    includeUsage === undefined ? { sse: ctx.sse } : { sse: ctx.sse, includeUsage },
  );
  ctx.res.writeHead(200, { 'content-type': writer.contentType, 'cache-control': 'no-cache' });
  const sink = new TranslateSink(ctx, d, upstream, writer);
  upstream.attach(sink);
  return sink.ended;
}
