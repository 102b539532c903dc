// The plain-HTTP listener serves HTTP/1.1 and cleartext HTTP/2 ("prior knowledge") on one port:
// the AWS SDK's default Bedrock transport speaks HTTP/2, every other SDK HTTP/1.1. The first bytes
// of each connection decide; after that the connection belongs to one server, with no per-request
// cost.

import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createH2Server, type Http2Server } from 'node:http2';
import { createServer as createTcpServer, type Socket, type Server as TcpServer } from 'node:net';
import { Duplex } from 'node:stream';

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/** A socket with `head` put back in front: http2 reads the raw handle, so unshift would be lost. */
export function replaying(socket: Socket, head: Buffer): Duplex {
  const duplex = new Duplex({
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
  readonly http2: Http2Server;
}

export function createDualListener(handle: RequestListener): DualListener {
  const http1 = createHttpServer(handle);
  const http2 = createH2Server();
  http2.on('request', handle as unknown as (...args: unknown[]) => void);
  const tcp = createTcpServer({ pauseOnConnect: false }, (socket) => {
    let head: Buffer = Buffer.alloc(0);
    const onData = (data: Buffer): void => {
      head = head.length === 0 ? data : Buffer.concat([head, data]);
      const n = Math.min(head.length, H2_PREFACE.length);
      if (head.length < H2_PREFACE.length && head.subarray(0, n).equals(H2_PREFACE.subarray(0, n))) return;
      socket.off('data', onData);
      socket.pause();
      if (head.subarray(0, H2_PREFACE.length).equals(H2_PREFACE)) {
        http2.emit('connection', replaying(socket, head));
        return;
      }
      socket.unshift(head);
      http1.emit('connection', socket);
      socket.resume();
    };
    socket.on('data', onData);
    socket.on('error', () => socket.destroy());
  });
  return { tcp, http1, http2 };
}
