// The memory of signed reasoning (issue 20, item 2): scoped per caller, kept an hour at most,
// bounded in turns and characters with the least recently used out first; and its IPC form, where a
// worker asks the primary and a primary that does not answer means nothing remembered.

import assert from 'node:assert/strict';
import type { Worker } from 'node:cluster';
import { describe, it } from 'node:test';
import { type ReasoningLimits, ReasoningStore } from '../../src/lifecycle/reasoning-memory.ts';
import {
  hostReasoningMemory,
  MAX_PENDING_RECALLS,
  RemoteReasoningMemory,
  type WorkerChannel,
} from '../../src/lifecycle/reasoning-memory-ipc.ts';
import type { SignedTurn } from '../../src/protocols/signed-reasoning.ts';

const turn = (key: string, thinking = 'because', signature = `sig-${key}`): SignedTurn => ({
  key,
  blocks: [{ type: 'thinking', thinking, signature }],
});

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

const LIMITS: ReasoningLimits = { ttlMs: 60_000, maxChars: 10_000, maxTurns: 3 };

describe('ReasoningStore', () => {
  it('answers a scope only what that scope remembered, with the upstream that signed it', () => {
    const store = new ReasoningStore(LIMITS);
    store.remember('token:a', turn('k1'), 'anthropic');
    assert.deepEqual(store.recallNow('token:a', ['k1', 'k2']), {
      k1: { upstream: 'anthropic', blocks: turn('k1').blocks },
    });
    assert.deepEqual(store.recallNow('token:b', ['k1']), {});
    assert.deepEqual(store.recallNow('token:a\u0000k', ['1']), {}, 'a scope cannot reach into another key');
  });

  it('forgets a turn once its time is up', () => {
    const c = clock();
    const store = new ReasoningStore(LIMITS, c.now);
    store.remember('s', turn('k'), 'bedrock');
    c.advance(59_999);
    assert.ok(store.recallNow('s', ['k']).k);
    c.advance(1);
    assert.deepEqual(store.recallNow('s', ['k']), {});
    assert.equal(store.size.turns, 0);
  });

  it('holds at most maxTurns, evicting the least recently used', () => {
    const store = new ReasoningStore(LIMITS);
    for (const key of ['k1', 'k2', 'k3']) store.remember('s', turn(key), 'anthropic');
    store.recallNow('s', ['k1']);
    store.remember('s', turn('k4'), 'anthropic');
    assert.deepEqual(Object.keys(store.recallNow('s', ['k1', 'k2', 'k3', 'k4'])).sort(), ['k1', 'k3', 'k4']);
    assert.equal(store.size.turns, 3);
  });

  it('holds at most maxChars, and never a turn larger than that', () => {
    const store = new ReasoningStore({ ...LIMITS, maxTurns: 100, maxChars: 1000 });
    store.remember('s', turn('big', 'x'.repeat(2000)), 'anthropic');
    assert.deepEqual(store.size, { turns: 0, chars: 0 });
    for (let i = 0; i < 5; i++) store.remember('s', turn(`k${i}`, 'y'.repeat(300)), 'anthropic');
    assert.ok(store.size.chars <= 1000, `${store.size.chars} characters held`);
    assert.deepEqual(Object.keys(store.recallNow('s', ['k0', 'k1', 'k2', 'k3', 'k4'])), ['k3', 'k4']);
  });

  it('a turn remembered again under the same key replaces the old one', () => {
    const store = new ReasoningStore(LIMITS);
    store.remember('s', turn('k', 'first'), 'anthropic');
    store.remember('s', turn('k', 'second'), 'bedrock');
    assert.equal(store.size.turns, 1);
    const found = store.recallNow('s', ['k']).k!;
    assert.equal(found.upstream, 'bedrock');
    assert.deepEqual(found.blocks, turn('k', 'second').blocks);
  });
});

/** A worker channel wired to a primary hosting `store`, with switches to silence or cut it. */
function wired(store: ReasoningStore): { channel: WorkerChannel; silent: () => void; cut: () => void } {
  let toWorker: (m: unknown) => void = () => {};
  let onPrimary: (worker: Worker, m: unknown) => void = () => {};
  let answering = true;
  let connected = true;
  const worker = {
    isConnected: () => connected,
    send: (m: unknown) => {
      if (answering) setImmediate(() => toWorker(structuredClone(m)));
      return true;
    },
  } as unknown as Worker;
  hostReasoningMemory(store, (on) => {
    onPrimary = on;
  });
  return {
    channel: {
      send: (m) => {
        setImmediate(() => onPrimary(worker, structuredClone(m)));
        return true;
      },
      onMessage: (listener) => {
        toWorker = listener;
      },
      get connected() {
        return connected;
      },
    },
    silent: () => {
      answering = false;
    },
    cut: () => {
      connected = false;
    },
  };
}

describe('RemoteReasoningMemory', () => {
  it("remembers in the primary's store and recalls from it", async () => {
    const store = new ReasoningStore(LIMITS);
    const remote = new RemoteReasoningMemory(wired(store).channel, 500);
    remote.remember('s', turn('k'), 'anthropic');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(store.size.turns, 1, 'held by the primary');
    assert.deepEqual(await remote.recall('s', ['k']), {
      k: { upstream: 'anthropic', blocks: turn('k').blocks },
    });
    assert.deepEqual(await remote.recall('other', ['k']), {});
  });

  it('a primary that does not answer in time, or a closed channel, recalls nothing', async () => {
    const store = new ReasoningStore(LIMITS);
    store.remember('s', turn('k'), 'anthropic');
    const link = wired(store);
    const remote = new RemoteReasoningMemory(link.channel, 20);
    link.silent();
    const started = performance.now();
    assert.deepEqual(await remote.recall('s', ['k']), {});
    assert.ok(performance.now() - started >= 19, 'waited for the primary');
    link.cut();
    assert.deepEqual(await remote.recall('s', ['k']), {});
  });

  it(`at most ${MAX_PENDING_RECALLS} recalls wait at once; more answer nothing at once`, async () => {
    const link = wired(new ReasoningStore(LIMITS));
    const remote = new RemoteReasoningMemory(link.channel, 50);
    link.silent();
    const waiting = Array.from({ length: MAX_PENDING_RECALLS }, () => remote.recall('s', ['k']));
    let settled = false;
    const extra = remote.recall('s', ['k']).then((found) => {
      settled = true;
      return found;
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(settled, 'answered without waiting');
    assert.deepEqual(await extra, {});
    await Promise.all(waiting);
  });
});
