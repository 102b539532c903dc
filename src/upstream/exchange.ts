// One upstream HTTP exchange, driven through the dispatch handler interface (dispatch.ts). Body chunks go
// from the HTTP parser straight to a sink (the client's socket, a capped buffer, a stream
// translator): no Readable, no async iterator and no extra tick per chunk, and backpressure is
// the parser's own pause and resume.

import type { IncomingHttpHeaders } from 'node:http';
import type { DispatchController, DispatchHandler } from './dispatch.ts';

/** Receives the body once the head has been looked at. `data` returning false pauses the upstream. */
export interface BodySink {
  data(chunk: Buffer): boolean;
  end(): void;
  /** Transport failure, timeout or abort after the head. */
  error(): void;
}

/** Why the exchange was aborted from our side (the client left, the body was not wanted). */
const ABORTED = new Error('upstream exchange aborted by the gateway');

export class UpstreamExchange implements DispatchHandler {
  statusCode = 0;
  headers: IncomingHttpHeaders = {};
  /** Resolves true when the response head arrived, false when the exchange failed before it. */
  readonly head: Promise<boolean>;
  #settleHead: ((ok: boolean) => void) | undefined;
  #controller: DispatchController | undefined;
  #sink: BodySink | undefined;
  /** Chunks that arrived between the head and `attach` (the head settles through a microtask). */
  #early: Buffer[] | undefined;
  #state: 'open' | 'end' | 'error' = 'open';
  #abortRequested = false;
  #ceiling: NodeJS.Timeout | undefined;
  /** The exchange failed because a time limit passed (ours or the connect's), not a connection error. */
  timedOut = false;

  constructor() {
    this.head = new Promise<boolean>((resolve) => {
      this.#settleHead = resolve;
    });
  }

  onRequestStart(controller: DispatchController): void {
    this.#controller = controller;
    if (this.#abortRequested) controller.abort(ABORTED);
  }

  onResponseStart(_c: DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    this.statusCode = statusCode;
    this.headers = headers;
    this.#settleHead?.(true);
    this.#settleHead = undefined;
  }

  onResponseData(controller: DispatchController, chunk: Buffer): void {
    if (this.#sink === undefined) {
      this.#early ??= [];
      this.#early.push(chunk);
      // Nothing reads yet: hold the upstream rather than buffer without bound.
      controller.pause();
    } else if (!this.#sink.data(chunk)) controller.pause();
  }

  /** The whole exchange, body included, ends within `ms`: past it the exchange is aborted (G-FO-5). */
  expireAfter(ms: number): void {
    this.#ceiling = setTimeout(() => {
      this.timedOut = true;
      this.abort();
    }, ms);
    this.#ceiling.unref();
  }

  /**
   * The response head must arrive within `ms` (attempt_timeout_ms): past it the exchange is aborted
   * as timed out. A body that has started is never cut by this.
   */
  expireHeadAfter(ms: number): void {
    const timer = setTimeout(() => {
      if (this.#settleHead === undefined) return;
      this.timedOut = true;
      this.abort();
    }, ms);
    timer.unref();
    void this.head.then(() => clearTimeout(timer));
  }

  onResponseEnd(): void {
    clearTimeout(this.#ceiling);
    this.#state = 'end';
    if (this.#sink !== undefined) this.#sink.end();
  }

  onResponseError(_c: DispatchController | undefined, err: Error): void {
    clearTimeout(this.#ceiling);
    if (this.#state !== 'open') return;
    // CONNECT_TIMEOUT from the pool (dispatch.ts: `…_TIMEOUT` codes are time limits).
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.endsWith('_TIMEOUT')) this.timedOut = true;
    this.#state = 'error';
    if (this.#settleHead !== undefined) {
      this.#settleHead(false);
      this.#settleHead = undefined;
      return;
    }
    if (this.#sink !== undefined) this.#sink.error();
  }

  /** Starts delivering the body to `sink`, first what arrived before it was attached. */
  attach(sink: BodySink): void {
    this.#sink = sink;
    const early = this.#early;
    this.#early = undefined;
    let flowing = true;
    // `this.#sink`, not `sink`: a sink may hand over to another one (readCapped past its cap).
    if (early !== undefined) for (const chunk of early) flowing = this.#sink.data(chunk) && flowing;
    if (this.#state === 'end') this.#sink.end();
    else if (this.#state === 'error') this.#sink.error();
    else if (flowing) this.#controller?.resume();
  }

  /** Lets a paused body flow again (the sink's destination drained). */
  resume(): void {
    this.#controller?.resume();
  }

  /** Drops the exchange: nothing more is wanted from the upstream. A no-op once it has ended. */
  abort(): void {
    if (this.#state !== 'open') return;
    this.#abortRequested = true;
    if (this.#controller !== undefined) this.#controller.abort(ABORTED);
    // Still queued for a connection: fail now; the request is dropped once a connection takes it.
    else this.onResponseError(undefined, ABORTED);
  }

  /** The whole body up to `cap` bytes; past the cap the exchange is dropped. */
  readCapped(cap: number): Promise<{ bytes: Buffer; end: CappedEnd }> {
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = (end: CappedEnd): void => resolve({ bytes: Buffer.concat(chunks, size), end });
      this.attach({
        data: (chunk) => {
          if (size + chunk.length > cap) {
            this.#sink = IGNORE;
            this.abort();
            done('oversize');
            return true;
          }
          size += chunk.length;
          chunks.push(chunk);
          return true;
        },
        end: () => done('complete'),
        error: () => done('failed'),
      });
    });
  }

  /** Reads and discards the body (keeps the connection reusable when the body is small). */
  discard(): void {
    this.attach(IGNORE);
  }
}

/** How reading a capped body ended: whole, cut at the cap, or failed in transit. */
export type CappedEnd = 'complete' | 'oversize' | 'failed';

const IGNORE: BodySink = { data: () => true, end: () => {}, error: () => {} };
