// Memory back after a burst: one memory-reducing collection once a busy spell is followed by four
// quiet checks — never during traffic, never after a trickle, once per spell — and the collector
// V8 hands over really runs.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IdleMemory, memoryReducingCollector } from '../../src/server/idle-memory.ts';

test('collects once after a busy spell and four quiet checks; not during traffic, not after a trickle', () => {
  let collections = 0;
  const idle = new IdleMemory(() => collections++, 100);
  const serve = (n: number) => {
    for (let i = 0; i < n; i++) idle.count();
  };
  const quiet = (checks: number) => {
    for (let i = 0; i < checks; i++) idle.check();
  };
  serve(60);
  idle.check();
  serve(60);
  idle.check();
  quiet(3);
  assert.equal(collections, 0, 'three quiet checks are not yet quiet');
  serve(1);
  idle.check();
  quiet(3);
  assert.equal(collections, 0, 'traffic resets the quiet checks');
  quiet(1);
  assert.equal(collections, 1);
  quiet(8);
  assert.equal(collections, 1, 'once per spell');
  serve(10);
  idle.check();
  quiet(8);
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
