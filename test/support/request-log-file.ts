// Reads a request-log file (observability.request_log_file) in tests: records are written on a
// later turn than the answer, so a reader polls briefly until the count it waits for is there.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

/** The file's records once it holds at least `count` of them. */
export async function logRecords(file: string, count: number): Promise<Record<string, unknown>[]> {
  for (let i = 0; i < 100; i++) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {}
    const lines = text.split('\n').filter((l) => l !== '');
    if (lines.length >= count) return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`the request log did not reach ${count} records`);
}
