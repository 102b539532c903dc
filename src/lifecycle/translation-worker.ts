// The worker thread that translates large request bodies and reads large bodies' policy facts
// (translate-request.ts): one job at a time, a translation's bytes transferred back without a copy.

import { parentPort } from 'node:worker_threads';
import { InvalidRequest } from '../protocols/expect.ts';
import { readBodyFacts } from './projection.ts';
import { translateNow, type WorkerJob } from './translate-request.ts';

parentPort?.on('message', ({ id, job }: { id: number; job: WorkerJob }) => {
  try {
    if (job.kind === 'facts') {
      parentPort?.postMessage({ id, facts: readBodyFacts(job.body, job.withPrompt) });
      return;
    }
    const { body, includeUsage, embedReply, emulatedStop, lost, unsignedTurns } = translateNow(job);
    // A large Buffer owns its memory, which can move to the main thread; a pooled one is copied.
    const owns = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength;
    const bytes = owns ? new Uint8Array(body.buffer, 0, body.byteLength) : new Uint8Array(body);
    parentPort?.postMessage(
      { id, body: bytes, includeUsage, embedReply, emulatedStop, lost, unsignedTurns },
      [bytes.buffer as ArrayBuffer],
    );
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    parentPort?.postMessage({ id, error, invalid: err instanceof InvalidRequest });
  }
});
