// The plain-HTTP listener serves HTTP/1.1 and cleartext HTTP/2 ("prior knowledge") on one port:
// the AWS SDK's default Bedrock transport speaks HTTP/2, every other SDK HTTP/1.1. The first bytes
// of each connection decide; after that the connection belongs to one server, with no per-request
// cost.

import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { Http2Server, Http2Session } from 'node:http2';
import type { Socket, Server as TcpServer } from 'node:net';
import type { Duplex } from 'node:stream';
import { http, net, stream } from '../builtins.ts';

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

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

export interface DualListener {
  readonly tcp: TcpServer;
  readonly http1: Server;
  /** Loads the HTTP/2 side; called after the bind, since node:http2 costs startup time. */
  enableHttp2(): Promise<void>;
  /** Shutdown: close idle connections now and busy ones as their last request ends. */
  drain(): void;
}

/**
 * Connection bookkeeping for shutdown. The HTTP/1.1 server never listens itself (the TCP front
 * does), so Node's own idle-connection tracking is not running for it.
 */
class ConnectionTracker {
  readonly #busy = new Map<Duplex, number>();
  readonly #sessions = new Set<Http2Session>();
  #draining = false;

  watch(http1: Server): void {
    http1.on('connection', (socket: Duplex) => {
      this.#busy.set(socket, 0);
      socket.once('close', () => this.#busy.delete(socket));
    });
    http1.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const socket = req.socket;
      this.#busy.set(socket, (this.#busy.get(socket) ?? 0) + 1);
      res.once('close', () => {
        const left = (this.#busy.get(socket) ?? 1) - 1;
        this.#busy.set(socket, left);
        if (this.#draining && left === 0) socket.destroy();
      });
    });
  }

  watchHttp2(http2: Http2Server): void {
    http2.on('session', (session: Http2Session) => {
      this.#sessions.add(session);
      session.once('close', () => this.#sessions.delete(session));
    });
  }

  drain(): void {
    this.#draining = true;
    for (const [socket, busy] of this.#busy) if (busy === 0) socket.destroy();
    for (const session of this.#sessions) session.close();
  }
}

export function createDualListener(handle: RequestListener): DualListener {
  const http1 = http.createServer(handle);
  const tracker = new ConnectionTracker();
  tracker.watch(http1);
  let http2: Promise<Http2Server> | undefined;
  const enableHttp2 = (): Promise<Http2Server> => {
    http2 ??= import('node:http2').then(({ createServer }) => {
      const server = createServer();
      server.on('request', handle as unknown as (...args: unknown[]) => void);
      tracker.watchHttp2(server);
      return server;
    });
    return http2;
  };
  const tcp = net.createServer({ noDelay: true, keepAlive: true }, (socket) => {
    let head: Buffer = Buffer.alloc(0);
    const onData = (data: Buffer): void => {
      head = head.length === 0 ? data : Buffer.concat([head, data]);
      const n = Math.min(head.length, H2_PREFACE.length);
      if (head.length < H2_PREFACE.length && head.subarray(0, n).equals(H2_PREFACE.subarray(0, n))) return;
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
  });
  // Node arms the HTTP/1.1 server's header and request timeouts (slowloris bounds) on its own
  // 'listening' event, which only the TCP front emits.
  tcp.once('listening', () => http1.emit('listening'));
  return {
    tcp,
    http1,
    enableHttp2: async () => {
      await enableHttp2();
    },
    drain: () => tracker.drain(),
  };
}
