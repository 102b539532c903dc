// The per-hop pick under concurrency, in process with an injected clock (gateway.md §2.8, G-POOL-3,
// G-POOL-9, G-POOL-16, G-BRK-13/14): hundreds of simultaneous picks claim a half-open probe exactly
// once, a pick that cannot get a permit gives its probe back, and permits are conserved.

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ManualClock } from '../../src/reliability/clock.ts';
import { stickyIndex } from '../../src/routing/affinity.ts';
import { type Picked, PickRequest, pickLane } from '../../src/routing/pick.ts';
import { Semaphore } from '../../src/routing/semaphore.ts';
import { newLaneMemory, type RouteTarget, RoutingTable } from '../../src/routing/table.ts';
import { loadConfigText } from '../support/load-config.ts';

const CATALOG = 'local:\n  protocol: openai\n  base_url: http://127.0.0.1:9\n';
const BREAKER = { trip: { mode: 'consecutive', n: 2 }, base_cooldown_secs: 1, max_cooldown_secs: 2 };
const CONFIG = JSON.stringify({
  listen: '127.0.0.1:0',
  auth: { mode: 'token', client_tokens: ['t'] },
  providers: { local: { api_key_env: 'PICK_TEST_KEY' } },
  models: {
    trippy: { provider: 'local', max_concurrent: 8 },
    healthy: { provider: 'local', max_concurrent: 4 },
    solo: { provider: 'local', max_concurrent: 1 },
    'sticky-x': { provider: 'local', max_concurrent: 1 },
    'sticky-y': { provider: 'local', max_concurrent: 4 },
  },
  pools: {
    busy: { members: [{ target: 'trippy' }, { target: 'healthy' }], breaker: BREAKER },
    lonely: { members: [{ target: 'solo' }], breaker: BREAKER },
    sticky: {
      members: [
        { target: 'sticky-x', weight: 1 },
        { target: 'sticky-y', weight: 5 },
      ],
      breaker: BREAKER,
    },
  },
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let clock: ManualClock;

/** A pick request whose deadline is `deadlineMs` from now on the test's clock. */
function request(deadlineMs: number, affinityKey?: string): PickRequest {
  return new PickRequest(affinityKey, clock.nowMs() + deadlineMs, new AbortController().signal);
}

/** Trips the member's cell (consecutive, n = 2) and moves the clock past its cooldown. */
function tripAndExpire(target: RouteTarget, lane: string, clock: ManualClock): void {
  const cell = target.members.find((m) => m.lane.name === lane)!.cell;
  cell.recordFailure();
  cell.recordFailure();
  assert.equal(cell.state, 'open');
  clock.advance(cell.cooldownRemaining() + 1);
}

describe('pick under concurrency (in process)', () => {
  let targets: RoutingTable;
  before(() => {
    const config = loadConfigText(CONFIG, CATALOG, { PICK_TEST_KEY: 'k' });
    clock = new ManualClock(2_000_000);
    targets = new RoutingTable(
      config,
      newLaneMemory(clock, () => 0),
    );
  });
  it('G-BRK-13 500 simultaneous picks claim the half-open probe exactly once; permits all return', async () => {
    const pool = targets.pools.get('busy')!;
    tripAndExpire(pool, 'trippy', clock);
    const trippyCell = pool.members[0]!.cell;
    const counts = new Map<string, number>();
    let probe: Picked | undefined;
    let peak = 0;
    const one = async (): Promise<void> => {
      const picked = await pickLane(pool, request(10_000));
      assert.ok(picked, 'every pick finds a lane (waiting for a permit if needed)');
      counts.set(picked.lane.name, (counts.get(picked.lane.name) ?? 0) + 1);
      peak = Math.max(peak, picked.lane.permits.inFlight);
      if (picked.lane.name === 'trippy') {
        probe = picked; // held (in flight) until every other pick is done
        return;
      }
      await sleep(1); // the "upstream call"
      picked.lane.permits.release();
    };
    await Promise.all(Array.from({ length: 500 }, one));
    assert.equal(counts.get('trippy'), 1, 'single-flight probe');
    assert.equal(counts.get('healthy'), 499);
    assert.equal(trippyCell.state, 'half_open');
    assert.ok(peak <= 4, 'a lane never exceeds max_concurrent');
    // The probe fails: Open again, probe flag cleared, its permit returned.
    trippyCell.recordFailure();
    probe!.lane.permits.release();
    assert.deepEqual([trippyCell.state, trippyCell.probeInFlight], ['open', false]);
    for (const lane of targets.lanes.values()) assert.equal(lane.permits.inFlight, 0, lane.name);
  });

  it('G-POOL-3 / G-BRK-14 a probe winner that times out waiting for a permit gives the probe back', async () => {
    const pool = targets.pools.get('lonely')!;
    const solo = pool.members[0]!;
    tripAndExpire(pool, 'solo', clock);
    assert.ok(solo.lane.permits.tryAcquire(), 'another request holds the only permit');
    let settled = false;
    const waiting = pickLane(pool, request(80)).finally(() => {
      settled = true;
    });
    await sleep(5);
    assert.equal(settled, false, 'waits for a permit until the deadline');
    clock.advanceMs(80);
    const picked = await waiting;
    assert.equal(picked, undefined, 'deadline passed while waiting: no lane');
    assert.deepEqual([solo.cell.state, solo.cell.probeInFlight], ['open', false], 'probe released');
    solo.lane.permits.release();
    // The next request can probe at once (the cooldown already expired).
    const next = await pickLane(pool, request(1000));
    assert.equal(next?.lane.name, 'solo');
    assert.equal(solo.cell.state, 'half_open');
    solo.cell.recordSuccess();
    next!.lane.permits.release();
    assert.deepEqual([solo.cell.state, solo.lane.permits.inFlight], ['closed', 0]);
  });

  it('G-POOL-16 an affinity pin whose permit is busy releases its probe and falls back to SWRR', async () => {
    const pool = targets.pools.get('sticky')!;
    const key = Array.from({ length: 50 }, (_, i) => `session-${i}`).find((k) => stickyIndex(k, 2) === 0)!;
    const x = pool.members[0]!;
    tripAndExpire(pool, 'sticky-x', clock);
    assert.ok(x.lane.permits.tryAcquire());
    const picked = await pickLane(pool, request(1000, key));
    assert.equal(picked?.lane.name, 'sticky-y', 'SWRR (weights 1/5) picks the other member without waiting');
    assert.deepEqual([x.cell.state, x.cell.probeInFlight], ['open', false], 'the pin gave its probe back');
    picked!.lane.permits.release();
    x.lane.permits.release();
  });

  it('G-POOL-2/3 the lane semaphore is FIFO, honours timeouts and never leaks a permit', async () => {
    const sem = new Semaphore(3);
    const order: number[] = [];
    const waiters = Array.from({ length: 200 }, async (_, i) => {
      // Every third waiter gives up quickly; the rest wait long enough to be served.
      const ok = await sem.acquire(i % 3 === 0 ? 5 : 10_000);
      if (!ok) return;
      order.push(i);
      await sleep(0);
      sem.release();
    });
    await Promise.all(waiters);
    assert.equal(sem.inFlight, 0);
    const served = order.filter((i) => i >= 3);
    assert.deepEqual(
      served,
      [...served].sort((a, b) => a - b),
      'waiters are served in arrival order',
    );
    assert.ok(order.length >= 133);
    // Over-release never raises the count above capacity.
    sem.release();
    assert.equal(sem.inFlight, 0);
    assert.ok(sem.tryAcquire() && sem.tryAcquire() && sem.tryAcquire());
    assert.equal(sem.tryAcquire(), false);
  });
});
