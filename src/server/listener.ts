// The listening socket: one TCP front that admits connections (a total cap, an optional per-client
// cap) and hands each to the server that speaks its protocol. Plain: HTTP/1.1, or cleartext HTTP/2
// ("prior knowledge", the AWS SDK's default Bedrock transport), decided by the first bytes. TLS:
// ALPN offers h2 and http/1.1 on the same port (G-TLS-2). After the hand-over a connection belongs
// to one server, with no per-request cost. Every wait a client can make us do is bounded: first
// bytes, the TLS handshake, request heads, keep-alive idleness, HTTP/2 session idleness.

import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { Http2SecureServer, Http2Server, Http2Session, ServerHttp2Session } from 'node:http2';
import type { Socket, Server as TcpServer } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TlsOptions } from 'node:tls';
import { http, net, stream } from '../builtins.ts';
import type { LimitsConfig } from '../config/types.ts';
import { log } from '../log.ts';

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
/** A refused connection gets a FIN; if the peer never closes, it is dropped after this. */
const CLOSE_LINGER_MS = 1000;

const BAD_REQUEST_BODY = JSON.stringify({
  error: {
    message: 'The request could not be parsed.',
    type: 'invalid_request_error',
    param: null,
    code: null,
  },
});

/** A socket with `head` put back in front: http2 reads the raw handle, so unshift would be lost. */
export function replaying(socket: Socket, head: Buffer): Duplex {
  const duplex = new stream.Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      socket.write(chunk, callback);
    },
    final(callback) {
      socket.end();
      callback();
    },
    destroy(err, callback) {
      socket.destroy();
      callback(err);
    },
  });
  duplex.push(head);
  socket.on('data', (data: Buffer) => {
    if (!duplex.push(data)) socket.pause();
  });
  socket.on('end', () => duplex.push(null));
  socket.on('close', () => duplex.destroy());
  return duplex;
}

export interface Listener {
  /** The socket to bind. */
  readonly tcp: TcpServer;
  /** Shutdown: close idle connections now and busy ones as their last request ends. */
  drain(): void;
  /** TLS only: new connections use this certificate material (a reload re-read it). */
  useTls?(tls: TlsOptions): void;
}

function closeCleanly(socket: Socket): void {
  socket.end();
  setTimeout(() => socket.destroy(), CLOSE_LINGER_MS).unref();
}

/** Admission of new connections: a total cap and an optional cap per client address. */
class ConnectionGate {
  readonly #limits: LimitsConfig;
  readonly #perClient = new Map<string, number>();
  #open = 0;

  constructor(limits: LimitsConfig) {
    this.#limits = limits;
  }

  /** False (and the socket closed) when the connection is over a cap. */
  admit(socket: Socket): boolean {
    const client = socket.remoteAddress ?? '';
    const mine = this.#perClient.get(client) ?? 0;
    const perClient = this.#limits.maxConnectionsPerClient;
    if (this.#open >= this.#limits.maxConnections || (perClient > 0 && mine >= perClient)) {
      log.debug({ open: this.#open, client: mine }, 'connection refused: over the connection cap');
      closeCleanly(socket);
      return false;
    }
    this.#open++;
    this.#perClient.set(client, mine + 1);
    socket.once('close', () => {
      this.#open--;
      const left = (this.#perClient.get(client) ?? 1) - 1;
      if (left === 0) this.#perClient.delete(client);
      else this.#perClient.set(client, left);
    });
    return true;
  }
}

/**
 * Connection bookkeeping for shutdown. The HTTP/1.1 servers never listen themselves (the TCP front
 * does), so Node's own idle-connection tracking is not running for them.
 */
class ConnectionTracker {
  readonly #busy = new Map<Duplex, number>();
  readonly #sessions = new Set<Http2Session>();
  /** Accepted connections not yet handed to HTTP/1.1 or HTTP/2 (no first bytes, or a TLS handshake). */
  readonly #undecided = new Set<Duplex>();
  #draining = false;

  /** A connection the TCP front accepted; `decided` once a server has taken it. */
  accept(socket: Duplex): void {
    if (this.#draining) {
      socket.destroy();
      return;
    }
    this.#undecided.add(socket);
    socket.once('close', () => this.#undecided.delete(socket));
  }

  decided(socket: Duplex): void {
    this.#undecided.delete(socket);
  }

  /** An HTTP/1.1 connection, idle until its first request. */
  add(socket: Duplex): void {
    if (this.#draining) {
      socket.destroy();
      return;
    }
    this.#busy.set(socket, 0);
    socket.once('close', () => this.#busy.delete(socket));
  }

  request(req: IncomingMessage, res: ServerResponse): void {
    if (req.httpVersionMajor !== 1) return;
    const socket = req.socket;
    this.#busy.set(socket, (this.#busy.get(socket) ?? 0) + 1);
    res.once('close', () => {
      const left = (this.#busy.get(socket) ?? 1) - 1;
      this.#busy.set(socket, left);
      if (this.#draining && left === 0) socket.destroy();
    });
  }

  session(session: Http2Session): void {
    this.#sessions.add(session);
    session.once('close', () => this.#sessions.delete(session));
    if (this.#draining) session.close();
  }

  drain(): void {
    this.#draining = true;
    // Nothing was asked on these yet: waiting for their first bytes would only delay shutdown.
    for (const socket of this.#undecided) socket.destroy();
    for (const [socket, busy] of this.#busy) if (busy === 0) socket.destroy();
    for (const session of this.#sessions) session.close();
  }
}

/**
 * A malformed request line or header gets a JSON 400 and only that connection closes (G-SEC-21).
 * A TLS failure (a handshake timeout included) closes at once: an answer written into a connection
 * that never became secure would keep it open for ever.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  log.debug({ code: err.code }, 'client connection error');
  const tlsFailure = err.code?.startsWith('ERR_TLS') === true || err.code?.startsWith('ERR_SSL') === true;
  if (
    socket.writable &&
    !tlsFailure &&
    err.code !== 'ECONNRESET' &&
    err.code !== 'ERR_HTTP_REQUEST_TIMEOUT'
  ) {
    socket.end(
      `HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(BAD_REQUEST_BODY)}\r\nconnection: close\r\n\r\n${BAD_REQUEST_BODY}`,
    );
  } else {
    socket.destroy();
  }
}

/** HTTP/1.1 timeouts from the limits; Node checks them on this interval. */
function http1Options(limits: LimitsConfig) {
  return {
    headersTimeout: limits.headerTimeoutMs,
    // Bodies are bounded by the request path's minimum rate (lifecycle/body.ts), not a total.
    requestTimeout: 0,
    keepAliveTimeout: limits.keepAliveIdleMs,
    connectionsCheckingInterval: Math.min(1000, limits.headerTimeoutMs),
  };
}

function http2Settings(limits: LimitsConfig) {
  return { settings: { maxConcurrentStreams: limits.http2MaxConcurrentStreams } };
}

function watchHttp2(
  server: Http2Server | Http2SecureServer,
  tracker: ConnectionTracker,
  limits: LimitsConfig,
) {
  server.setTimeout(limits.http2SessionIdleMs);
  server.on('session', (session: ServerHttp2Session) => tracker.session(session));
}

export function createListener(
  handle: RequestListener,
  limits: LimitsConfig,
  tls: TlsOptions | undefined,
): Listener {
  return tls === undefined ? plainListener(handle, limits) : tlsListener(handle, limits, tls);
}

function plainListener(handle: RequestListener, limits: LimitsConfig): Listener {
  const gate = new ConnectionGate(limits);
  const tracker = new ConnectionTracker();
  const http1: Server = http.createServer(http1Options(limits), handle);
  http1.on('connection', (socket: Duplex) => tracker.add(socket));
  http1.on('request', (req: IncomingMessage, res: ServerResponse) => tracker.request(req, res));
  http1.on('clientError', answerClientError);
  // node:http2 (with node:tls under it) is ~9 MiB of a process's memory: loaded when the first
  // HTTP/2 connection arrives, so a gateway that only ever sees HTTP/1.1 never holds it.
  let http2: Promise<Http2Server> | undefined;
  const enableHttp2 = (): Promise<Http2Server> => {
    http2 ??= import('node:http2').then(({ createServer }) => {
      const server = createServer(http2Settings(limits));
      server.on('request', handle as unknown as (...args: unknown[]) => void);
      watchHttp2(server, tracker, limits);
      return server;
    });
    return http2;
  };
  const tcp = net.createServer({ noDelay: true, keepAlive: true }, (socket) => {
    if (!gate.admit(socket)) return;
    tracker.accept(socket);
    // Until the first bytes decide the protocol, nothing but this timer bounds the connection.
    const firstBytes = setTimeout(() => socket.destroy(), limits.headerTimeoutMs);
    let head: Buffer = Buffer.alloc(0);
    const onData = (data: Buffer): void => {
      head = head.length === 0 ? data : Buffer.concat([head, data]);
      const n = Math.min(head.length, H2_PREFACE.length);
      if (head.length < H2_PREFACE.length && head.subarray(0, n).equals(H2_PREFACE.subarray(0, n))) return;
      clearTimeout(firstBytes);
      tracker.decided(socket);
      socket.off('data', onData);
      socket.pause();
      if (head.subarray(0, H2_PREFACE.length).equals(H2_PREFACE)) {
        const replay = replaying(socket, head);
        enableHttp2().then(
          (server) => server.emit('connection', replay),
          () => socket.destroy(),
        );
        return;
      }
      socket.unshift(head);
      http1.emit('connection', socket);
      socket.resume();
    };
    socket.on('data', onData);
    socket.on('error', () => socket.destroy());
    socket.once('close', () => clearTimeout(firstBytes));
  });
  // Node arms the HTTP/1.1 server's header timeout checks on its own 'listening' event, which
  // only the TCP front emits.
  tcp.once('listening', () => http1.emit('listening'));
  return { tcp, drain: () => tracker.drain() };
}

function tlsListener(handle: RequestListener, limits: LimitsConfig, tls: TlsOptions): Listener {
  const gate = new ConnectionGate(limits);
  const tracker = new ConnectionTracker();
  // One TLS server speaks both: h2 sessions, and HTTP/1.1 connections when ALPN picks it.
  const { createSecureServer } = process.getBuiltinModule('node:http2');
  const server = createSecureServer(
    {
      ...tls,
      ...http1Options(limits),
      ...http2Settings(limits),
      allowHTTP1: true,
      ALPNProtocols: ['h2', 'http/1.1'],
      // A connection that never completes its handshake is closed (G-TLS-5).
      handshakeTimeout: limits.tlsHandshakeTimeoutMs,
    },
    handle as unknown as (...args: unknown[]) => void,
  );
  server.on('secureConnection', (socket: Duplex & { alpnProtocol?: string | false }) => {
    if (socket.alpnProtocol !== 'h2') tracker.add(socket);
  });
  // Until its handshake completes, a TCP connection is undecided (shutdown closes it at once); the
  // TLS socket is matched to its TCP socket by the peer's address and port.
  const handshaking = new Map<string, Socket>();
  const peer = (s: { remoteAddress?: string | undefined; remotePort?: number | undefined }) =>
    `${s.remoteAddress}|${s.remotePort}`;
  server.on('secureConnection', (socket: Socket) => {
    const raw = handshaking.get(peer(socket));
    if (raw === undefined) return;
    handshaking.delete(peer(socket));
    tracker.decided(raw);
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => tracker.request(req, res));
  server.on('clientError', answerClientError);
  server.on('tlsClientError', (err: Error) => log.debug({ err: err.message }, 'TLS handshake failed'));
  watchHttp2(server, tracker, limits);
  const tcp = net.createServer({ noDelay: true, keepAlive: true }, (socket) => {
    if (!gate.admit(socket)) return;
    socket.on('error', () => socket.destroy());
    tracker.accept(socket);
    const key = peer(socket);
    handshaking.set(key, socket);
    socket.once('close', () => {
      if (handshaking.get(key) === socket) handshaking.delete(key);
    });
    server.emit('connection', socket);
  });
  tcp.once('listening', () => server.emit('listening'));
  return {
    tcp,
    drain: () => tracker.drain(),
    // Connections already open keep the context they shook hands with.
    useTls: (next) => server.setSecureContext(next),
  };
}
