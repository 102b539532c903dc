// Delivering an upstream answer to the client once a hop succeeded (G-FO-10…19): relayed byte for
// byte on a same-protocol hop, translated frame by frame otherwise. After the first byte there is
// no failover: a failure in transit is recorded once and ends the response natively.

import { log } from '../log.ts';
import type { StreamReader, StreamWriter } from '../protocols/codec.ts';
import { CODECS } from '../protocols/codecs.ts';
import { embedUsage } from '../protocols/embed.ts';
import type { ErrorKind, JsonValue, StreamEvent, Usage } from '../protocols/ir.ts';
import { EMBED_CODECS, operationUsage } from '../protocols/operation-codecs.ts';
import { cutAnswerAtStop, StopCutter } from '../protocols/stop-emulation.ts';
import { UsageAccumulator, UsageTap } from '../protocols/usage.ts';
import type { BreakerCell } from '../reliability/breaker.ts';
import type { Lane } from '../routing/lane.ts';
import type { BodySink, UpstreamExchange } from '../upstream/exchange.ts';
import { relayHeaders } from '../upstream/relay-headers.ts';
import type { UpstreamError } from './attempt.ts';
import type { Hop, RequestContext } from './context.ts';
import { EventDropper } from './event-filter.ts';
import type { OutcomeCode } from './finish.ts';
import { rememberAnswer, rememberStream, type StreamRemembrance } from './reasoning-replay.ts';
import { errorInfo, sendError } from './respond.ts';

/** Buffered cross-protocol successes are capped (G-SEC-20). */
const MAX_TRANSLATED_BODY = 32 * 1024 * 1024;
const INTERRUPTED = 'The upstream response was interrupted.';
const REDIRECTED = 'The upstream service answered with a redirect, which the gateway does not follow.';

export interface Delivery {
  readonly lane: Lane;
  readonly cell: BreakerCell;
  /** The 2xx hop being delivered; a failure in transit marks it interrupted. */
  readonly hop: Hop;
}

/**
 * One transit failure per response (G-FO-19): the breaker now; the lane's error count and the
 * budget refund at finish, from the hop marked interrupted.
 */
function failInTransit(d: Delivery): void {
  if (d.hop.result === 'interrupted') return;
  d.hop.result = 'interrupted';
  d.hop.failure = 'transient_upstream';
  // G-BRK-18: a mid-stream failure that trips counts; a degraded hop's does not.
  d.hop.tripped = d.cell.recordFailure() && !d.hop.degraded;
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

/**
 * G-FO-8: an upstream error answer the client should see. Same protocol: the status, content type
 * and body byte for byte, with only the protocol's own relay headers (nothing else an upstream
 * sets, such as `Location` or organisation ids, reaches the client). Otherwise, and for a body cut
 * at its cap or a redirect (never followed, never passed on), a native error.
 */
export function relayUpstreamError(ctx: RequestContext, lane: Lane, e: UpstreamError): void {
  if (e.status >= 300 && e.status < 400) {
    sendError(ctx.res, ctx.edge, errorInfo('api_error', 502, REDIRECTED));
    return;
  }
  const edge = lane.upstream.edge;
  if (lane.upstream.protocol === ctx.ingress && !e.truncated) {
    const headers: Record<string, string | string[] | number> = { 'content-length': e.bytes.length };
    const type = e.headers['content-type'];
    if (type !== undefined) headers['content-type'] = type;
    for (const name of edge.errorRelayHeaders) {
      const value = e.headers[name];
      if (value !== undefined) headers[name] = value;
    }
    // Seconds come back lowered to the ceiling (limits: max_retry_after_secs); an HTTP date as it is.
    const retry = e.retryAfter ?? e.headers['retry-after'];
    if (retry !== undefined) headers['retry-after'] = retry;
    ctx.res.writeHead(e.status, headers);
    ctx.res.end(e.bytes);
    return;
  }
  const message = e.facts.message ?? 'The request could not be processed.';
  sendError(ctx.res, ctx.edge, errorInfo(kindForStatus(e.status), e.status, message));
}

/** `relayed`: the client's own bytes went upstream, so the answer goes back as it is. */
export function deliver(
  ctx: RequestContext,
  d: Delivery,
  upstream: UpstreamExchange,
  relayed: boolean,
): Promise<OutcomeCode> {
  if (relayed) return relay(ctx, d, upstream);
  if (ctx.route.operation === 'embedding') return translateEmbeddings(ctx, d, upstream);
  return ctx.stream ? translateStream(ctx, d, upstream) : translateBuffered(ctx, d, upstream);
}

/**
 * A success's head goes out: the first byte's time is what the client waited for. A main-path
 * answer walked from a policy's order names the policy and the lane that served (G-POL-6).
 */
function writeHead(
  ctx: RequestContext,
  d: Delivery,
  status: number,
  headers: Record<string, string | string[] | number>,
): void {
  if (ctx.routePolicy !== undefined && !d.hop.degraded && d.lane.headerName !== undefined) {
    headers['x-busbar-route-policy'] = ctx.routePolicy;
    headers['x-busbar-route-target'] = d.lane.headerName;
  }
  ctx.firstByteAt = performance.now();
  ctx.res.writeHead(status, headers);
}

/**
 * Writes the upstream body into the client's response as it arrives, leaving the response open,
 * and taps a copy for usage. A full client socket pauses the upstream until it drains.
 */
class RelaySink implements BodySink {
  readonly #res: RequestContext['res'];
  readonly #upstream: UpstreamExchange;
  readonly #tap: UsageTap;
  readonly #dropper: EventDropper | undefined;
  readonly ended: Promise<'end' | 'error'>;
  #settle: (how: 'end' | 'error') => void = () => {};
  #waiting = false;
  readonly #onDrain = (): void => {
    this.#waiting = false;
    this.#upstream.resume();
  };

  constructor(
    res: RequestContext['res'],
    upstream: UpstreamExchange,
    tap: UsageTap,
    dropper: EventDropper | undefined,
  ) {
    this.#res = res;
    this.#upstream = upstream;
    this.#tap = tap;
    this.#dropper = dropper;
    this.ended = new Promise((resolve) => {
      this.#settle = resolve;
    });
  }

  data(chunk: Buffer): boolean {
    this.#tap.push(chunk);
    const out = this.#dropper === undefined ? chunk : this.#dropper.push(chunk);
    // The head goes with the first bytes (one write, as a plain proxy's); a first chunk that was
    // all dropped must not hold it back.
    if (out.length === 0 && !this.#res.headersSent) this.#res.flushHeaders();
    if ((out.length === 0 || this.#res.write(out)) && !this.#waiting) return true;
    if (!this.#waiting) {
      this.#waiting = true;
      this.#res.once('drain', this.#onDrain);
    }
    return false;
  }

  end(): void {
    const rest = this.#dropper?.end();
    if (rest !== undefined && rest.length > 0) this.#res.write(rest);
    this.#settle('end');
  }

  error(): void {
    this.#res.off('drain', this.#onDrain);
    this.#settle('error');
  }
}

async function relay(ctx: RequestContext, d: Delivery, upstream: UpstreamExchange): Promise<OutcomeCode> {
  const { res } = ctx;
  // The usage event of a stream opted in on the client's behalf goes to the tap, not the client.
  const hidden = ctx.hiddenStreamUsage ? d.lane.upstream.edge.hiddenStreamUsage : undefined;
  const dropper = hidden === undefined ? undefined : new EventDropper(hidden.isUsageOnlyEvent, hidden.marker);
  const headers = relayHeaders(upstream.headers);
  // Bytes may be taken out: a length the upstream declared would no longer hold.
  if (dropper !== undefined) delete headers['content-length'];
  writeHead(ctx, d, upstream.statusCode, headers);
  const { protocol } = d.lane.upstream;
  const { operation } = ctx.route;
  const chat = operation === 'chat';
  const tap = new UsageTap(
    protocol,
    ctx.stream,
    ctx.wantsAnswerFacts && chat,
    operationUsage(operation, protocol),
  );
  const sink = new RelaySink(res, upstream, tap, dropper);
  upstream.attach(sink);
  const how = await sink.ended;
  if (how === 'end') {
    res.end();
    ctx.usage = tap.finish() ?? (chat ? undefined : headerUsage(ctx, d, upstream));
    if (chat) ctx.answer = tap.facts;
    return 'delivered';
  }
  // The client leaving is not an upstream failure: the upstream answered, the unit stays spent.
  if (ctx.signal.aborted || res.destroyed) return 'client_gone';
  failInTransit(d);
  // A relayed Content-Length promised bytes that will not come: only closing the connection tells
  // the client; anything appended would be read as part of a short body.
  if (ctx.stream && (dropper !== undefined || upstream.headers['content-length'] === undefined)) {
    // G-FO-16: one terminal error event in the client's own framing, then the end.
    const writer = ctx.codec.newStreamWriter({ framing: ctx.framing });
    res.end(
      concat(writer.write({ type: 'error', error: errorInfo('api_error', 502, INTERRUPTED) }), writer.end()),
    );
  } else {
    res.destroy();
  }
  return 'upstream_interrupted';
}

/** Usage an upstream reports in a header instead of its body (Bedrock's Cohere embedding models). */
function headerUsage(ctx: RequestContext, d: Delivery, upstream: UpstreamExchange): Usage | undefined {
  if (ctx.route.operation !== 'embedding') return undefined;
  return EMBED_CODECS[d.lane.upstream.protocol]?.usageFromHeaders?.(upstream.headers);
}

/** An upstream body that could not be read or translated: one transit failure, a native 502. */
function unreadableAnswer(ctx: RequestContext, d: Delivery, err: unknown): OutcomeCode {
  log.debug(
    { lane: d.lane.name, err: err instanceof Error ? err.message : String(err) },
    'upstream answer unreadable',
  );
  failInTransit(d);
  sendError(
    ctx.res,
    ctx.edge,
    errorInfo('api_error', 502, 'The upstream service returned a response that could not be read.'),
  );
  return 'upstream_interrupted';
}

/** The whole upstream body under the translation cap; an outcome when it cannot be had. */
async function bufferedAnswer(
  ctx: RequestContext,
  upstream: UpstreamExchange,
): Promise<Buffer | OutcomeCode> {
  const { bytes, end } = await upstream.readCapped(MAX_TRANSLATED_BODY);
  if (ctx.signal.aborted) return 'client_gone';
  if (end === 'oversize') {
    // G-FO-12: the gateway's own size cap, not an upstream failure: no refund, no token charge.
    sendError(
      ctx.res,
      ctx.edge,
      errorInfo('api_error', 500, 'The upstream response was too large to translate.'),
    );
    return 'response_too_large';
  }
  return end === 'failed' ? 'upstream_interrupted' : bytes;
}

/** A whole upstream answer turned into the client's: its bytes and the usage it reported. */
type Conversion = (body: JsonValue) => { readonly out: string; readonly usage: Usage | undefined };

/**
 * Buffers a whole upstream answer (under the translation cap), converts it and writes it. An
 * answer that cannot be read or converted is one transit failure and a native 502.
 */
async function translateWhole(
  ctx: RequestContext,
  d: Delivery,
  upstream: UpstreamExchange,
  convert: Conversion,
): Promise<OutcomeCode> {
  const bytes = await bufferedAnswer(ctx, upstream);
  if (bytes === 'upstream_interrupted')
    return unreadableAnswer(ctx, d, new Error('the upstream body was interrupted'));
  if (typeof bytes === 'string') return bytes;
  let converted: ReturnType<Conversion>;
  try {
    converted = convert(JSON.parse(bytes.toString()) as JsonValue);
  } catch (err) {
    return unreadableAnswer(ctx, d, err);
  }
  const { out } = converted;
  writeHead(ctx, d, 200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
  ctx.res.end(out);
  ctx.usage = converted.usage;
  return 'delivered';
}

/** A whole embeddings answer, read in the upstream's protocol and written in the client's. */
function translateEmbeddings(
  ctx: RequestContext,
  d: Delivery,
  upstream: UpstreamExchange,
): Promise<OutcomeCode> {
  return translateWhole(ctx, d, upstream, (body) => {
    const from = EMBED_CODECS[d.lane.upstream.protocol]!;
    const to = EMBED_CODECS[ctx.ingress]!;
    const answer = from.readResponse(body, d.lane.model.upstreamModel);
    const tokens = answer.inputTokens ?? from.usageFromHeaders?.(upstream.headers)?.inputTokens;
    // Gemini, Cohere and Bedrock do not echo the model: the lane's model is what answered.
    const model = answer.model === '' ? d.lane.model.upstreamModel : answer.model;
    const out = JSON.stringify(to.writeResponse({ ...answer, model, inputTokens: tokens }, ctx.embedReply!));
    return { out, usage: embedUsage(tokens) };
  });
}

/** A whole chat answer, read in the upstream's protocol and written in the client's. */
function translateBuffered(
  ctx: RequestContext,
  d: Delivery,
  upstream: UpstreamExchange,
): Promise<OutcomeCode> {
  return translateWhole(ctx, d, upstream, (body) => {
    const read = CODECS[d.lane.upstream.protocol].readResponse(body);
    const response = ctx.emulatedStop === undefined ? read : cutAnswerAtStop(read, ctx.emulatedStop);
    rememberAnswer(ctx, d.lane, response.content);
    // Some protocols (Cohere, Bedrock) do not echo the model: the lane's upstream model answered.
    const model = response.model === '' ? d.lane.model.upstreamModel : response.model;
    ctx.answer = { model, stopReason: response.stopReason };
    return { out: JSON.stringify(ctx.codec.writeResponse({ ...response, model })), usage: response.usage };
  });
}

function concat(a: string | Uint8Array, b: string | Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(a), Buffer.from(b)]);
}

/**
 * Translates an upstream stream frame by frame as chunks arrive: each chunk's events are written
 * at once, and a full client socket pauses the upstream until it drains.
 */
class TranslateSink implements BodySink {
  readonly #ctx: RequestContext;
  readonly #d: Delivery;
  readonly #upstream: UpstreamExchange;
  readonly #reader: StreamReader;
  readonly #writer: StreamWriter;
  readonly #usage = new UsageAccumulator();
  /** Enforces stop sequences the upstream could not carry (issue 20); undefined when none. */
  readonly #stops: StopCutter | undefined;
  /** Remembers signed reasoning the client cannot hand back (issue 20); undefined when none. */
  readonly #reasoning: StreamRemembrance | undefined;
  /** The stream has been ended (a stop sequence matched, or the upstream ended or failed). */
  #done = false;
  readonly ended: Promise<OutcomeCode>;
  #settle: (outcome: OutcomeCode) => void = () => {};
  #blocked = false;
  readonly #onDrain = (): void => {
    this.#blocked = false;
    this.#upstream.resume();
  };

  constructor(ctx: RequestContext, d: Delivery, upstream: UpstreamExchange, writer: StreamWriter) {
    this.#ctx = ctx;
    this.#d = d;
    this.#upstream = upstream;
    this.#reader = CODECS[d.lane.upstream.protocol].newStreamReader();
    this.#writer = writer;
    this.#stops = ctx.emulatedStop === undefined ? undefined : new StopCutter(ctx.emulatedStop);
    this.#reasoning = rememberStream(ctx, d.lane);
    this.ended = new Promise((resolve) => {
      this.#settle = resolve;
    });
  }

  /** Upstream events on their way to the client, through the stop-sequence cutter when there is one. */
  #pass(events: readonly StreamEvent[]): void {
    const stops = this.#stops;
    if (stops === undefined) {
      this.#emit(events);
      return;
    }
    for (const event of events) {
      this.#emit(stops.push(event));
      if (stops.stopped) break;
    }
  }

  #emit(events: readonly StreamEvent[]): void {
    const res = this.#ctx.res;
    for (const event of events) {
      this.#usage.add(event);
      this.#reasoning?.add(event);
      // G-FO-17: an in-band terminal error (or a translator abort) is one transient failure.
      if (event.type === 'error') failInTransit(this.#d);
      const named =
        event.type === 'message_start' && event.model === ''
          ? { ...event, model: this.#d.lane.model.upstreamModel }
          : event;
      const bytes = this.#writer.write(named);
      if (bytes.length === 0 || res.destroyed) continue;
      if (!res.write(bytes) && !this.#blocked) {
        this.#blocked = true;
        res.once('drain', this.#onDrain);
      }
    }
  }

  data(chunk: Buffer): boolean {
    if (this.#done) return true;
    this.#pass(this.#reader.push(chunk));
    if (this.#stops?.stopped === true) {
      // The answer is complete: nothing more is read or paid for (issue 20).
      this.#finish();
      this.#upstream.abort();
    }
    return !this.#blocked;
  }

  end(): void {
    if (this.#done) return;
    try {
      if (!this.#ctx.res.destroyed) this.#pass(this.#reader.end());
    } catch (err) {
      // A writer that cannot render the last events ends the stream as interrupted.
      log.debug({ err: err instanceof Error ? err.message : String(err) }, 'stream translation failed');
      this.error();
      return;
    }
    this.#finish();
  }

  error(): void {
    if (this.#done) return;
    if (!this.#ctx.signal.aborted) {
      failInTransit(this.#d);
      this.#emit([{ type: 'error', error: errorInfo('api_error', 502, INTERRUPTED) }]);
    }
    this.#finish();
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    const ctx = this.#ctx;
    ctx.res.off('drain', this.#onDrain);
    // Before the last byte: the client's next turn may follow at once.
    if (!ctx.signal.aborted && this.#d.hop.result !== 'interrupted') this.#reasoning?.commit();
    ctx.res.end(this.#writer.end());
    if (ctx.signal.aborted) this.#settle('client_gone');
    else if (this.#d.hop.result === 'interrupted') this.#settle('upstream_interrupted');
    else {
      ctx.usage = this.#usage.result();
      ctx.answer = this.#usage.facts();
      this.#settle('delivered');
    }
  }
}

function translateStream(ctx: RequestContext, d: Delivery, upstream: UpstreamExchange): Promise<OutcomeCode> {
  // OpenAI clients get the trailing usage chunk only when they asked for it.
  const { includeUsage } = ctx;
  const writer = ctx.codec.newStreamWriter(
    includeUsage === undefined ? { framing: ctx.framing } : { framing: ctx.framing, includeUsage },
  );
  writeHead(ctx, d, 200, { 'content-type': writer.contentType, 'cache-control': 'no-cache' });
  const sink = new TranslateSink(ctx, d, upstream, writer);
  upstream.attach(sink);
  return sink.ended;
}
