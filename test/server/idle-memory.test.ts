// Memory back after a burst: one memory-reducing collection once a busy spell is followed by two
// quiet checks — never during traffic, never after a trickle, once per spell — and the collector
// V8 hands over really runs.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IdleMemory, memoryReducingCollector } from '../../src/server/idle-memory.ts';

test('collects once after a busy spell and two quiet checks; not during traffic, not after a trickle', () => {
  let collections = 0;
  const idle = new IdleMemory(() => collections++, 100);
  const serve = (n: number) => {
    for (let i = 0; i < n; i++) idle.count();
  };
  serve(60);
  idle.check();
  serve(60);
  idle.check();
  idle.check();
  assert.equal(collections, 0, 'one quiet check is not yet quiet');
  serve(1);
  idle.check();
  idle.check();
  assert.equal(collections, 0, 'traffic resets the quiet checks');
  idle.check();
  assert.equal(collections, 1);
  idle.check();
  idle.check();
  assert.equal(collections, 1, 'once per spell');
  serve(10);
  idle.check();
  idle.check();
  idle.check();
  assert.equal(collections, 1, 'a trickle is not a burst');
});

test("V8's memory-reducing collection runs and frees what nothing holds", async () => {
  const collect = memoryReducingCollector();
  let reclaimed = false;
  const registry = new FinalizationRegistry(() => {
    reclaimed = true;
  });
  (() => registry.register({ big: new Array(1000).fill(0) }, 'x'))();
  collect();
  // Finalizers run after the collection, on a later task.
  for (let i = 0; i < 20 && !reclaimed; i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(reclaimed);
});
