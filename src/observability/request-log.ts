// The request log (G-OBS-40…42, issue 12): one JSON record per answered inference request, to a
// webhook (one POST each) and/or a file (JSON lines). Fire and forget: the finish listener only
// queues the record; serialization and delivery happen on a later turn, and every full queue or
// failed delivery drops the record and counts it. Never prompt or answer text.

import type { WriteStream } from 'node:fs';
import { fs } from '../builtins.ts';
import type { RequestContext } from '../lifecycle/context.ts';
import type { OutcomeCode } from '../lifecycle/finish.ts';
import { log } from '../log.ts';
import type { NameResolver } from '../routing/table.ts';
import { type AnsweredOutcome, answeredOutcome, poolLabel } from './metrics.ts';
import type { SinkClient } from './sink-client.ts';

export interface RequestLogRecord {
  /** Epoch seconds when the request finished. */
  readonly ts: number;
  readonly request_id: string;
  readonly key_id: string | null;
  readonly ingress_protocol: string;
  readonly egress_protocol: string | null;
  /** The pool or model label, `unresolved` when the name did not resolve (as in metrics). */
  readonly pool: string;
  /** The model whose answer reached the client (or its error), null when none was tried. */
  readonly lane: string | null;
  readonly outcome: AnsweredOutcome;
  /** The request's outcome code (finish.ts), finer than `outcome`. */
  readonly disposition: OutcomeCode;
  readonly status: number;
  readonly attempts: number;
  readonly input_tokens: number | null;
  readonly output_tokens: number | null;
  /** What the request cost its virtual key, cents; null without governance. */
  readonly cost_cents: number | null;
  /** Arrival to response head, and arrival to the end of the answer, milliseconds. */
  readonly ttfb_ms: number;
  readonly latency_ms: number;
}

export function requestLogRecord(
  ctx: RequestContext,
  outcome: OutcomeCode,
  table: NameResolver,
): RequestLogRecord | undefined {
  const answered = answeredOutcome(ctx, outcome);
  if (answered === undefined) return undefined;
  const last = ctx.hops.at(-1);
  const principal = ctx.principal;
  const headAt = ctx.firstByteAt > 0 ? ctx.firstByteAt : ctx.endedAt;
  return {
    ts: Math.floor(Date.now() / 1000),
    request_id: ctx.requestId,
    key_id: principal?.kind === 'virtual_key' ? principal.key.id : null,
    ingress_protocol: ctx.ingress,
    egress_protocol: last?.lane.upstream.protocol ?? null,
    pool: poolLabel(ctx, table),
    lane: last?.lane.name ?? null,
    outcome: answered,
    disposition: outcome,
    status: ctx.res.statusCode,
    attempts: ctx.hops.length,
    input_tokens: ctx.usage?.inputTokens ?? null,
    output_tokens: ctx.usage?.outputTokens ?? null,
    cost_cents: ctx.costCents ?? null,
    ttfb_ms: Math.round(headAt - ctx.startedAt),
    latency_ms: Math.round(ctx.endedAt - ctx.startedAt),
  };
}

/** Where records go; `write` never blocks and reports a drop through `onDrop`. */
export interface RecordSink {
  readonly name: 'webhook' | 'file';
  write(line: string): void;
  close(): Promise<void>;
}

/** G-OBS-42: at most 64 POSTs in flight, 2 s each, a full sink drops; errors are counted, not retried. */
export class WebhookSink implements RecordSink {
  readonly name = 'webhook';
  static readonly MAX_IN_FLIGHT = 64;
  static readonly TIMEOUT_MS = 2000;
  readonly #url: URL;
  readonly #client: SinkClient;
  readonly #onDrop: () => void;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(url: string, client: SinkClient, onDrop: () => void) {
    this.#url = new URL(url);
    this.#client = client;
    this.#onDrop = onDrop;
  }

  write(line: string): void {
    if (this.#inFlight.size >= WebhookSink.MAX_IN_FLIGHT) {
      this.#onDrop();
      return;
    }
    const sent = this.#client
      .post(this.#url, line, { 'content-type': 'application/json' }, WebhookSink.TIMEOUT_MS)
      .then(
        (status) => {
          if (status < 200 || status >= 300) this.#onDrop();
        },
        () => this.#onDrop(),
      )
      .finally(() => this.#inFlight.delete(sent));
    this.#inFlight.add(sent);
  }

  async close(): Promise<void> {
    await Promise.all(this.#inFlight);
  }
}

/** JSON lines appended to a file; past 4 MiB not yet written out, records are dropped. */
export class FileSink implements RecordSink {
  readonly name = 'file';
  static readonly MAX_PENDING_BYTES = 4 * 1024 * 1024;
  readonly #stream: WriteStream;
  readonly #onDrop: () => void;
  #broken = false;

  constructor(path: string, onDrop: () => void) {
    this.#onDrop = onDrop;
    this.#stream = fs.createWriteStream(path, { flags: 'a', mode: 0o640 });
    this.#stream.on('error', (err) => {
      if (!this.#broken)
        log.error({ path, err: err.message }, 'request log file failed; records are dropped');
      this.#broken = true;
    });
  }

  write(line: string): void {
    if (this.#broken || this.#stream.writableLength > FileSink.MAX_PENDING_BYTES) {
      this.#onDrop();
      return;
    }
    this.#stream.write(`${line}\n`);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#stream.end(resolve));
  }
}

/** Records waiting for their turn to be serialized; more are dropped. */
const MAX_QUEUED = 4096;

export class RequestLog {
  readonly #sinks: readonly RecordSink[];
  readonly #table: NameResolver;
  readonly #onDrop: (sink: RecordSink['name']) => void;
  #queue: RequestLogRecord[] = [];
  #scheduled = false;

  constructor(sinks: readonly RecordSink[], table: NameResolver, onDrop: (sink: RecordSink['name']) => void) {
    this.#sinks = sinks;
    this.#table = table;
    this.#onDrop = onDrop;
  }

  /** The finish listener: the record is queued, written on a later turn. */
  readonly record = (ctx: RequestContext, outcome: OutcomeCode): void => {
    const record = requestLogRecord(ctx, outcome, this.#table);
    if (record === undefined) return;
    if (this.#queue.length >= MAX_QUEUED) {
      for (const sink of this.#sinks) this.#onDrop(sink.name);
      return;
    }
    this.#queue.push(record);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#drain);
    }
  };

  readonly #drain = (): void => {
    this.#scheduled = false;
    const records = this.#queue;
    this.#queue = [];
    for (const record of records) {
      const line = JSON.stringify(record);
      for (const sink of this.#sinks) sink.write(line);
    }
  };

  /** Writes what is queued and waits for deliveries in flight (shutdown). */
  async close(): Promise<void> {
    this.#drain();
    await Promise.all(this.#sinks.map((s) => s.close()));
  }
}
