// A stand-in routing-policy hook for the benchmark, as an operator's sidecar would be: it answers
// every decision with the first lane (`{"order":[0]}`) in microseconds, over the Unix socket named
// by HOOK_SOCKET, keeping connections alive. A bare `node:net` server reading just enough HTTP (the
// head and Content-Length), so the figure is the gateway's cost, not a framework's. Prints
// {"port":0} once listening.
//
//   HOOK_SOCKET=/tmp/hook.sock node bench/policy-hook.ts

import { rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';

const socket = process.env.HOOK_SOCKET;
if (socket === undefined) throw new Error('HOOK_SOCKET is not set');
rmSync(socket, { force: true });

const REPLY_BODY = '{"order":[0]}';
const REPLY = Buffer.from(
  `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${REPLY_BODY.length}\r\nkeep-alive: timeout=60\r\n\r\n${REPLY_BODY}`,
);
const HEAD_END = Buffer.from('\r\n\r\n');
const LENGTH = /\r\ncontent-length:\s*(\d+)/i;

function serve(conn: Socket): void {
  let pending: Buffer = Buffer.alloc(0);
  conn.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    for (;;) {
      const end = pending.indexOf(HEAD_END);
      if (end < 0) return;
      const length = Number(LENGTH.exec(pending.subarray(0, end).toString('latin1'))?.[1] ?? 0);
      const total = end + HEAD_END.length + length;
      if (pending.length < total) return;
      pending = pending.subarray(total);
      conn.write(REPLY);
    }
  });
  conn.on('error', () => conn.destroy());
}

const server = createServer(serve);
server.listen(socket, () => process.stdout.write('{"port":0}\n'));
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 500).unref();
});
