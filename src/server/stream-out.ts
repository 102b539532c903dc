// Writing wire frames to the client with backpressure: when the socket buffer is full we wait
// for `drain` (or the client going away) instead of queueing without bound.

import type { ServerResponse } from 'node:http';
import type { StreamWriter } from '../protocols/codec.ts';
import type { StreamEvent } from '../protocols/ir.ts';

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}

/** Writes `chunk`; resolves once the client can take more. */
export async function writeChunk(res: ServerResponse, chunk: string | Uint8Array): Promise<void> {
  if (chunk.length === 0 || res.destroyed) return;
  if (!res.write(chunk)) await drained(res);
}

export async function writeEvents(
  res: ServerResponse,
  writer: StreamWriter,
  events: Iterable<StreamEvent>,
): Promise<void> {
  for (const event of events) await writeChunk(res, writer.write(event));
}
