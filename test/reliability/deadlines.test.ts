// The deadline sweep (src/deadlines.ts): a deadline is noticed after it passes and at most a sweep
// later, never before; one that moves later is not taken at its old time; an unwatched one never fires.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DeadlineSweep, type Expiring, SWEEP_MS } from '../../src/deadlines.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function deadlineIn(ms: number): Expiring & { at: number; firedAt: number | undefined } {
  const item = {
    at: performance.now() + ms,
    firedAt: undefined as number | undefined,
    expiresAt: () => item.at,
    expire: () => {
      item.firedAt = performance.now();
    },
  };
  return item;
}

test('a deadline fires after its time and within a sweep of it, once; an unwatched one never', async () => {
  const sweep = new DeadlineSweep();
  const soon = deadlineIn(250);
  const gone = deadlineIn(150);
  const moving = deadlineIn(150);
  sweep.watch(soon);
  sweep.watch(gone);
  sweep.watch(moving);
  sweep.unwatch(gone);
  await sleep(100);
  moving.at += 400; // e.g. a body whose bytes buy it more time
  await sleep(250 + 2 * SWEEP_MS);
  assert.ok(soon.firedAt !== undefined, 'fired');
  assert.ok(soon.firedAt >= soon.at, 'not early');
  // One sweep late at most; a loaded CI machine gets another sweep's slack.
  assert.ok(soon.firedAt - soon.at <= 2 * SWEEP_MS, `${soon.firedAt - soon.at} ms late`);
  assert.equal(gone.firedAt, undefined);
  assert.equal(moving.firedAt, undefined, 'not at its old time');
  await sleep(300);
  assert.ok(moving.firedAt !== undefined && moving.firedAt >= moving.at);
  assert.equal(sweep.size, 0, 'nothing left watched');
});
