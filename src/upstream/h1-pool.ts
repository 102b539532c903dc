// Keep-alive HTTP/1.1 connections to one upstream origin (or a local Unix socket), one exchange at
// a time per connection. Written for the gateway's one shape of call: a request whose body is
// already in memory, written in one go, and a response whose body goes straight from the socket
// to the handler with backpressure. undici did this before, but its package entry also loads
// fetch, WebSocket and the rest: +16–29 MiB resident and 65–110 ms at start, measured, for a
// client that spent more CPU per request than this one.
//
// No redirects are followed (a 3xx is an answer, G-SEC-36) and nothing is retried: a request that
// fails on a reused connection fails (a POST may have been acted on). A connection idle for its
// limit — ours, or shorter when the upstream's `keep-alive: timeout` says so — is never reused.

import type { Socket } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { net } from '../builtins.ts';
import {
  type DispatchController,
  type DispatchHandler,
  type DispatchOptions,
  UpstreamError,
} from './dispatch.ts';
import { type ResponseHead, ResponseParser } from './h1-response.ts';

export interface H1PoolOptions {
  /** Most connections at once; 0 = no limit. */
  readonly connections: number;
  /** A connection idle this long is closed and never reused. */
  readonly idleMs: number;
  readonly connectTimeoutMs: number;
  /** Connect to this Unix socket instead of the origin's host. */
  readonly socketPath?: string;
  /** Certificate authorities trusted for TLS instead of the system's (tests). */
  readonly ca?: ConnectionOptions['ca'];
}

/** An upstream's keep-alive hint is cut by this much, so we stop before it closes on us. */
const HINT_MARGIN_MS = 1000;
const NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[\r\n\0]/;
const PATH = /^\/[\x21-\x7e]*$/;
/** Headers the connection writes itself. */
const OWN = new Set(['host', 'content-length', 'connection', 'transfer-encoding', 'keep-alive']);
const EMPTY = Buffer.alloc(0);

/** One dispatched request: its controller, and the state of its exchange. */
class H1Request implements DispatchController {
  readonly options: DispatchOptions;
  readonly handler: DispatchHandler;
  connection: H1Connection | undefined;
  paused = false;
  /** Ended, failed or aborted: nothing more reaches the handler. */
  finished = false;
  #pool: H1Pool;

  constructor(pool: H1Pool, options: DispatchOptions, handler: DispatchHandler) {
    this.#pool = pool;
    this.options = options;
    this.handler = handler;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.connection?.resume(this);
  }

  abort(reason: Error): void {
    if (this.finished) return;
    if (this.connection === undefined) this.#pool.unqueue(this);
    else this.connection.destroy();
    this.fail(reason);
  }

  fail(err: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.handler.onResponseError(this, err);
  }
}

class H1Connection {
  readonly #pool: H1Pool;
  readonly socket: Socket;
  readonly #parser: ResponseParser;
  #request: H1Request | undefined;
  /** What the parser has not taken yet (the handler paused). */
  #pending: Buffer | undefined;
  #parsing = false;
  #reusable = true;
  #closed = false;
  /** When this connection went idle, and until when it may be reused. */
  idleUntil = 0;
  #hintMs: number | undefined;

  constructor(pool: H1Pool, socket: Socket) {
    this.#pool = pool;
    this.socket = socket;
    this.#parser = new ResponseParser({
      onHead: (head) => this.#onHead(head),
      onBody: (chunk) => this.#onBody(chunk),
      onEnd: () => this.#onEnd(),
    });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err) => this.#onClose(err));
    socket.on('close', () => this.#onClose(undefined));
  }

  /** Still open both ways (an upstream's close may not have been processed yet). */
  get alive(): boolean {
    return !this.#closed && this.socket.readable && this.socket.writable;
  }

  /** Keep-alive limit for this connection: ours, or the upstream's hint less a margin. */
  idleLimitMs(ourMs: number): number {
    return this.#hintMs === undefined ? ourMs : Math.min(ourMs, this.#hintMs - HINT_MARGIN_MS);
  }

  /** Writes the request; the response arrives through the parser. */
  send(request: H1Request, head: string, body: Uint8Array): void {
    this.#request = request;
    request.connection = this;
    const socket = this.socket;
    socket.cork();
    socket.write(head, 'latin1');
    if (body.length > 0) socket.write(body);
    socket.uncork();
  }

  resume(request: H1Request): void {
    if (request !== this.#request || this.#parsing) return;
    this.socket.resume();
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending !== undefined) this.#feed(pending);
    else if (!this.#parser.idle) this.#feed(EMPTY); // an end held back by the pause
  }

  destroy(): void {
    this.#reusable = false;
    this.socket.destroy();
  }

  #onData(chunk: Buffer): void {
    if (this.#request === undefined) {
      // Bytes nobody asked for: this connection cannot be trusted with another exchange.
      this.destroy();
      return;
    }
    this.#feed(chunk);
  }

  #feed(buf: Buffer): void {
    const request = this.#request!;
    this.#parsing = true;
    let used: number;
    try {
      used = this.#parser.execute(buf);
    } catch (err) {
      this.#parsing = false;
      this.destroy();
      request.fail(err as Error);
      return;
    }
    this.#parsing = false;
    if (request.finished) {
      // Ended (or aborted by the handler). Bytes past the end: the connection is not reusable.
      if (used < buf.length) this.destroy();
      if (this.#request === request) this.#release();
      return;
    }
    if (used < buf.length || request.paused) {
      this.#pending = used < buf.length ? buf.subarray(used) : undefined;
      this.socket.pause();
    }
  }

  #onHead(head: ResponseHead): void {
    if (!head.keepAlive) this.#reusable = false;
    if (head.keepAliveHintMs !== undefined) {
      this.#hintMs = head.keepAliveHintMs;
      if (head.keepAliveHintMs <= HINT_MARGIN_MS) this.#reusable = false;
    }
    const request = this.#request!;
    request.handler.onResponseStart(request, head.status, head.headers);
  }

  #onBody(chunk: Buffer): boolean {
    const request = this.#request!;
    if (request.finished) return false;
    request.handler.onResponseData(request, chunk);
    return !request.paused && !request.finished;
  }

  #onEnd(): void {
    const request = this.#request!;
    if (request.finished) return;
    request.finished = true;
    request.handler.onResponseEnd(request);
  }

  /** The exchange is over: back to the pool for the next one, or closed. */
  #release(): void {
    this.#request = undefined;
    this.#pending = undefined;
    // An answer that came before the whole request was written leaves the connection mid-request.
    if (!this.#reusable || this.#closed || this.socket.writableLength > 0) {
      this.destroy();
      this.#pool.closed(this);
      return;
    }
    this.#parser.reset();
    this.#pool.idle(this);
  }

  #onClose(err: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#reusable = false;
    const request = this.#request;
    if (request !== undefined && !request.finished) {
      // A body framed by the close ends here (once a paused handler resumes); the rest was cut off.
      if (err === undefined && this.#parser.eof()) {
        if (this.#pending === undefined && !request.paused) this.#feed(EMPTY);
      } else if (err instanceof UpstreamError) {
        request.fail(err);
      } else {
        const why = err === undefined ? 'closed by the upstream' : err.message;
        request.fail(new UpstreamError('UPSTREAM_CONNECTION', `upstream connection failed: ${why}`));
      }
    }
    if (this.#request === undefined || this.#request.finished) {
      this.#request = undefined;
      this.#pool.closed(this);
    }
  }
}

export class H1Pool {
  readonly #options: H1PoolOptions;
  readonly #url: URL;
  readonly #hostHeader: string;
  readonly #connect: () => Socket;
  readonly #idle: H1Connection[] = [];
  readonly #all = new Set<H1Connection>();
  readonly #queue: H1Request[] = [];
  #sweeper: NodeJS.Timeout | undefined;
  #closing: (() => void) | undefined;
  #tlsSession: Buffer | undefined;

  constructor(origin: string, options: H1PoolOptions) {
    this.#options = options;
    this.#url = new URL(origin);
    this.#hostHeader = this.#url.host;
    this.#connect = this.#connector();
  }

  dispatch(options: DispatchOptions, handler: DispatchHandler): void {
    const request = new H1Request(this, options, handler);
    handler.onRequestStart(request);
    if (request.finished) return;
    if (this.#closing !== undefined) {
      request.fail(new UpstreamError('UPSTREAM_POOL_CLOSED', 'the upstream pool is closed'));
      return;
    }
    const connection = this.#take();
    if (connection !== undefined) this.#start(connection, request);
    else this.#queue.push(request);
  }

  /** Closes idle connections now and the rest once their exchanges end. */
  close(): Promise<void> {
    for (const c of this.#idle.splice(0)) c.destroy();
    if (this.#all.size === 0 && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#closing = resolve;
    });
  }

  unqueue(request: H1Request): void {
    const at = this.#queue.indexOf(request);
    if (at >= 0) this.#queue.splice(at, 1);
  }

  /** A connection finished its exchange and may be reused. */
  idle(connection: H1Connection): void {
    const next = this.#queue.shift();
    if (next !== undefined) {
      this.#start(connection, next);
      return;
    }
    if (this.#closing !== undefined) {
      connection.destroy();
      return;
    }
    connection.idleUntil = Date.now() + connection.idleLimitMs(this.#options.idleMs);
    this.#idle.push(connection);
    this.#sweeper ??= setInterval(() => this.#sweep(), Math.max(1000, this.#options.idleMs / 2)).unref();
  }

  /** A connection is gone: forget it, and let a waiting request open another. */
  closed(connection: H1Connection): void {
    if (!this.#all.delete(connection)) return;
    const at = this.#idle.indexOf(connection);
    if (at >= 0) this.#idle.splice(at, 1);
    const next = this.#queue.shift();
    if (next !== undefined) this.#start(this.#open(), next);
    else if (this.#closing !== undefined && this.#all.size === 0) this.#closing();
  }

  /** The most recently used live connection, a new one under the limit, or none (queue). */
  #take(): H1Connection | undefined {
    const now = Date.now();
    for (let c = this.#idle.pop(); c !== undefined; c = this.#idle.pop()) {
      if (c.idleUntil > now && c.alive) return c;
      c.destroy();
    }
    const limit = this.#options.connections;
    if (limit > 0 && this.#all.size >= limit) return undefined;
    return this.#open();
  }

  #open(): H1Connection {
    const connection = new H1Connection(this, this.#connect());
    this.#all.add(connection);
    return connection;
  }

  #start(connection: H1Connection, request: H1Request): void {
    const { options } = request;
    let head: string;
    let body: Uint8Array;
    try {
      body = typeof options.body === 'string' ? Buffer.from(options.body) : (options.body ?? EMPTY);
      head = this.#head(options, body.length);
    } catch (err) {
      request.fail(err as Error);
      this.idle(connection);
      return;
    }
    connection.send(request, head, body);
  }

  #head(options: DispatchOptions, length: number): string {
    if (!PATH.test(options.path)) throw new UpstreamError('UPSTREAM_BAD_REQUEST', 'invalid request path');
    let host = this.#hostHeader;
    let head = '';
    for (const name in options.headers) {
      const value = options.headers[name]!;
      if (!NAME.test(name) || BAD_VALUE.test(value))
        throw new UpstreamError('UPSTREAM_BAD_REQUEST', `invalid request header '${name}'`);
      if (OWN.has(name)) {
        if (name === 'host') host = value;
        continue;
      }
      head += `${name}: ${value}\r\n`;
    }
    return `${options.method} ${options.path} HTTP/1.1\r\nhost: ${host}\r\n${head}content-length: ${length}\r\n\r\n`;
  }

  #sweep(): void {
    const now = Date.now();
    for (let i = this.#idle.length - 1; i >= 0; i--) {
      const c = this.#idle[i]!;
      if (c.idleUntil <= now) {
        this.#idle.splice(i, 1);
        c.destroy();
      }
    }
    if (this.#idle.length === 0) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }

  #connector(): () => Socket {
    const { socketPath, connectTimeoutMs, ca } = this.#options;
    const url = this.#url;
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const https = url.protocol === 'https:';
    const port = Number(url.port) || (https ? 443 : 80);
    const timed = (socket: Socket, event: string): Socket => {
      // Only the connect is timed here; the exchange's own limits time the rest.
      socket.setTimeout(connectTimeoutMs, () =>
        socket.destroy(new UpstreamError('CONNECT_TIMEOUT', 'upstream connect timed out')),
      );
      socket.once(event, () => socket.setTimeout(0));
      return socket;
    };
    if (socketPath !== undefined) return () => timed(net.connect({ path: socketPath }), 'connect');
    if (!https) return () => timed(net.connect({ host, port }), 'connect');
    // node:tls only where an origin needs it (3.5 ms and 6 MiB to load, measured).
    const tls = process.getBuiltinModule('node:tls');
    return () => {
      const options: ConnectionOptions = { host, port, ALPNProtocols: ['http/1.1'] };
      if (ca !== undefined) options.ca = ca;
      if (net.isIP(host) === 0) options.servername = host;
      if (this.#tlsSession !== undefined) options.session = this.#tlsSession;
      const socket = tls.connect(options);
      socket.on('session', (session: Buffer) => {
        this.#tlsSession = session;
      });
      return timed(socket, 'secureConnect');
    };
  }
}
