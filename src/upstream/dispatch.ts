// The interface an upstream call is sent through: the HTTP/1.1 pools (h1-pool.ts) and the
// in-process upstream (in-process.ts) both take a request and drive a handler with the head, the
// body chunks and the end. Timing is the handler's: a dispatcher never gives up on its own, so
// every caller bounds its exchange (UpstreamExchange.expireAfter).

import type { IncomingHttpHeaders } from 'node:http';

export interface DispatchOptions {
  /** Origin-form target: starts with `/`. */
  readonly path: string;
  readonly method: 'POST' | 'GET';
  /** Lower-case names; `host` here replaces the origin's (a signed request names it). */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Uint8Array | string;
}

/** What a handler can do to its exchange while it runs. */
export interface DispatchController {
  /** Stops body delivery until `resume` (backpressure). */
  pause(): void;
  resume(): void;
  /** Drops the exchange; the handler's `onResponseError` follows with `reason`. */
  abort(reason: Error): void;
}

export interface DispatchHandler {
  /** Called once, before anything else, with the controller of this exchange. */
  onRequestStart(controller: DispatchController): void;
  /** The final response head (1xx heads are not passed on). */
  onResponseStart(controller: DispatchController, statusCode: number, headers: IncomingHttpHeaders): void;
  onResponseData(controller: DispatchController, chunk: Buffer): void;
  onResponseEnd(controller: DispatchController): void;
  /** Transport failure, malformed answer or abort; nothing follows it. */
  onResponseError(controller: DispatchController | undefined, err: Error): void;
}

export interface UpstreamDispatcher {
  dispatch(options: DispatchOptions, handler: DispatchHandler): void;
}

/** A transport failure, with a code saying which (`…_TIMEOUT` codes are time limits). */
export class UpstreamError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}
