// The lane semaphore resized by a reload (issue 16): permits held stay held; growing grants
// waiters at once; shrinking below what is held grants nothing until enough are released.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Semaphore } from '../../src/routing/semaphore.ts';

test('growing grants waiting requests at once', async () => {
  const s = new Semaphore(1);
  assert.equal(s.tryAcquire(), true);
  const waiting = [s.acquire(10_000), s.acquire(10_000)];
  s.resize(3);
  assert.deepEqual(await Promise.all(waiting), [true, true]);
  assert.equal(s.inFlight, 3);
  assert.equal(s.free, 0);
});

test('shrinking below the permits held: releases pay the debt before anyone is granted', async () => {
  const s = new Semaphore(4);
  for (let i = 0; i < 4; i++) assert.equal(s.tryAcquire(), true);
  s.resize(2);
  assert.equal(s.capacity, 2);
  assert.equal(s.inFlight, 4);
  let granted = false;
  const waiter = s.acquire(10_000).then((ok) => {
    granted = ok;
  });
  s.release();
  s.release();
  await new Promise((r) => setImmediate(r));
  assert.equal(granted, false, 'still at capacity: 2 held');
  s.release();
  await waiter;
  assert.equal(granted, true);
  assert.equal(s.inFlight, 2);
});
