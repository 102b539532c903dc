// A stand-in OTLP/HTTP collector for benchmarks: reads each export and answers 200, in the bench's
// own process (its CPU is not the gateway's).

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Collector {
  readonly url: string;
  /** Export requests received and their bytes. */
  readonly received: { exports: number; bytes: number };
  close(): Promise<void>;
}

export async function startCollector(): Promise<Collector> {
  const received = { exports: 0, bytes: 0 };
  const server = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => {
      received.bytes += chunk.length;
    });
    req.on('end', () => {
      received.exports++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`,
    received,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
