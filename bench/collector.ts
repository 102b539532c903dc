// A stand-in OTLP/HTTP collector for benchmarks, run as its own process (bench/lib/collector.ts
// starts it): reads each export and answers 200; `GET /received` reports what arrived. A process
// of its own, so its work slows neither the load generator nor the gateway's event loop.
//
//   node bench/collector.ts   → prints {"port":N}

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const received = { exports: 0, bytes: 0 };
const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/received') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(received));
    return;
  }
  req.on('data', (chunk: Buffer) => {
    received.bytes += chunk.length;
  });
  req.on('end', () => {
    received.exports++;
    res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
