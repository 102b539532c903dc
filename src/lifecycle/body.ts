// Request body reading under the body cap (G-RTE-3, G-SEC-20; limits: max_request_body_bytes).

import type { IncomingMessage } from 'node:http';
import type { Http2Stream } from 'node:http2';

/** True when the declared length already exceeds the cap: answer 413 without reading. */
export function declaredTooLarge(req: IncomingMessage, maxBytes: number): boolean {
  const declared = req.headers['content-length'];
  return declared !== undefined && Number(declared) > maxBytes;
}

/** How large a body may be and how fast it must arrive: `graceMs` plus its size at `minBytesPerSec` (limits:). */
export interface BodyPace {
  readonly maxBytes: number;
  readonly graceMs: number;
  readonly minBytesPerSec: number;
}

/** Bodies this small are never refused for memory: a full budget must not stop ordinary requests. */
const SMALL_BODY_BYTES = 64 * 1024;

/**
 * The bytes of request bodies the gateway holds at once, across requests (limits:
 * max_buffered_body_bytes). A body is counted from its first byte until its request finishes.
 */
export class BodyBudget {
  readonly capacity: number;
  #used = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get used(): number {
    return this.#used;
  }

  /** Counts `n` more bytes of a body already `held` bytes long; false when they do not fit. */
  take(n: number, held: number): boolean {
    if (this.#used + n > this.capacity && held + n > SMALL_BODY_BYTES) return false;
    this.#used += n;
    return true;
  }

  give(n: number): void {
    this.#used = Math.max(0, this.#used - n);
  }
}

export type BodyRead = Buffer | 'too_large' | 'too_slow' | 'no_memory' | 'aborted';

/**
 * The whole body; 'too_large' as soon as it passes the cap; 'too_slow' when it arrives slower than
 * the pace allows (a trickle cannot hold the socket and the handler); 'no_memory' when it does not
 * fit the budget of buffered bodies; 'aborted' when the client left. A body's bytes stay counted
 * in `budget` until the caller gives them back (the body's length), except on failure.
 */
export function readBody(req: IncomingMessage, pace: BodyPace, budget: BodyBudget): Promise<BodyRead> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const started = Date.now();
    let size = 0;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const settle = (value: BodyRead): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.off('data', onData);
      if (!Buffer.isBuffer(value)) budget.give(size);
      resolve(value);
    };
    const deadline = (): number => started + pace.graceMs + (size / pace.minBytesPerSec) * 1000;
    const check = (): void => {
      const left = deadline() - Date.now();
      if (left <= 0) settle('too_slow');
      else timer = setTimeout(check, left);
    };
    const onData = (chunk: Buffer): void => {
      if (size + chunk.length > pace.maxBytes) {
        chunks.length = 0;
        settle('too_large');
        return;
      }
      if (!budget.take(chunk.length, size)) {
        chunks.length = 0;
        settle('no_memory');
        return;
      }
      size += chunk.length;
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => settle(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.once('error', () => settle('aborted'));
    req.once('close', () => settle('aborted'));
    timer = setTimeout(check, pace.graceMs);
  });
}

/** How a discarded body ended: the client finished sending, or a bound was passed and the connection closed. */
export type DiscardEnd = 'ended' | 'cut';

/** After a cut, the peer gets this long to read the answer before the socket is dropped. */
const LINGER_MS = 2000;

/**
 * Closes a connection whose body is no longer read without losing the answer already written: a
 * reset would discard it in the client's kernel (over HTTP/2, only the request's stream closes). Our side stops reading (the peer's sends stall
 * on TCP flow control) and sends FIN after the answer; the socket is dropped shortly after.
 */
export function lingeringClose(req: IncomingMessage): void {
  const stream = (req as { stream?: Http2Stream }).stream;
  if (stream !== undefined) {
    // HTTP/2: the connection is shared; only this stream ends, once its answer is out.
    req.pause();
    if (stream.writableFinished) stream.close();
    else stream.once('finish', () => stream.close());
    return;
  }
  const socket = req.socket;
  socket.pause();
  socket.end();
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

/**
 * Reads and drops the rest of a body the gateway will not use, so the client finishes sending and
 * then reads the answer (closing under a sender loses the answer: EPIPE). Past `maxBytes` or
 * `maxMs` the connection is closed instead: nobody holds a socket by trickling a body at us.
 * Write the answer before calling this, or before the cut (the caller's `onCut`).
 */
export function discardBody(
  req: IncomingMessage,
  maxBytes: number,
  maxMs: number,
  onCut: () => void = () => {},
): Promise<DiscardEnd> {
  if (req.readableEnded || req.destroyed) return Promise.resolve(req.readableEnded ? 'ended' : 'cut');
  return new Promise((resolve) => {
    let seen = 0;
    const settle = (how: DiscardEnd): void => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      if (how === 'cut') {
        onCut();
        lingeringClose(req);
      }
      resolve(how);
    };
    const onData = (chunk: Buffer): void => {
      seen += chunk.length;
      if (seen > maxBytes) settle('cut');
    };
    const onEnd = (): void => settle('ended');
    const onClose = (): void => settle('cut');
    const timer = setTimeout(() => settle('cut'), maxMs);
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('close', onClose);
    req.resume();
  });
}
