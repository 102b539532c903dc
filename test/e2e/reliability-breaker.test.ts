// Breaker behaviour over time through the HTTP surface (gateway.md §3.2–3.3, Appendix D G-TST-2…5),
// with one-to-two-second cooldowns (`base_cooldown_secs: 1, max_cooldown_secs: 2`). The exact
// second-level arithmetic (10 ± 1, 20 ± 2, …) is unit-tested with an injected clock; here the
// observable behaviour is checked: a soft cooldown skips the lane, n consecutive failures trip it,
// the first request after expiry is the only probe, and a successful probe closes the cell.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type Fleet,
  type LaneStats,
  type PoolSpec,
  servedBy,
  startFleet,
  startOfSecond,
} from '../reliability/harness.ts';

const FAST = (n: number): PoolSpec['breaker'] => ({
  trip: { mode: 'consecutive', n },
  base_cooldown_secs: 1,
  max_cooldown_secs: 2,
});

/** The per-cell state, when the gateway's /stats exposes it (an addition beyond G-OBS-3). */
function cellState(lane: LaneStats, pool: string): string | undefined {
  const cells = (lane as LaneStats & { cells?: Record<string, { state?: string }> }).cells;
  return cells?.[pool]?.state;
}

describe('reliability: breaker through HTTP', { concurrency: true }, () => {
  let f: Fleet;
  before(async () => {
    f = await startFleet(
      [
        { name: 'soft-flaky' },
        { name: 'soft-steady' },
        { name: 'trip-flaky' },
        { name: 'trip-steady' },
        { name: 'ra90' },
        { name: 'ra90-spare' },
        { name: 'rahuge' },
        { name: 'rahuge-spare' },
      ],
      {
        soft: { members: ['soft-flaky', 'soft-steady'], breaker: FAST(3) },
        trip: { members: ['trip-flaky', 'trip-steady'], breaker: FAST(2) },
        'ra90-pool': {
          members: ['ra90', 'ra90-spare'],
          breaker: { base_cooldown_secs: 5, max_cooldown_secs: 60 },
        },
        'rahuge-pool': {
          members: ['rahuge', 'rahuge-spare'],
          breaker: { base_cooldown_secs: 5, max_cooldown_secs: 60 },
        },
      },
    );
  });
  after(async () => {
    await f?.stop();
  });

  it('G-TST-2 one failure below the trip floor: Closed with a soft cooldown, lane skipped meanwhile', async () => {
    const flaky = f.mock('soft-flaky');
    flaky.enqueue({ status: 500 });
    await startOfSecond();
    const first = await f.client.chat('soft');
    assert.equal(first.status, 200);
    assert.equal(servedBy(first), 'soft-steady', 'the failure failed over');
    const after1 = await f.client.lane('soft-flaky');
    assert.deepEqual([after1.streak, after1.err, after1.usable], [1, 1, false]);
    assert.ok(after1.cooldown_remaining_s >= 1 && after1.cooldown_remaining_s <= 2, JSON.stringify(after1));
    const state = cellState(after1, 'soft');
    if (state !== undefined) assert.equal(state, 'closed');

    // Skipped while the soft cooldown runs.
    for (let i = 0; i < 3; i++) assert.equal(servedBy(await f.client.chat('soft')), 'soft-steady');
    assert.equal(flaky.requests.length, 1);

    // After it, the cell is Closed, not probing: concurrent requests reach the lane again, several at once.
    await f.client.cooldownOver('soft-flaky');
    flaky.enqueue({ delayMs: 200 }, { delayMs: 200 }, { delayMs: 200 });
    const burst = await Promise.all(Array.from({ length: 6 }, () => f.client.chat('soft')));
    assert.ok(burst.every((r) => r.status === 200));
    assert.ok(
      flaky.requests.length - 1 >= 2,
      `soft-cooled lane got ${flaky.requests.length - 1} of 6 (no probe gate)`,
    );
    const healed = await f.client.lane('soft-flaky');
    assert.deepEqual([healed.streak, healed.cooldown_remaining_s, healed.usable], [0, 0, true]);
  });

  it('G-TST-3/4 n consecutive failures trip; no traffic until expiry; then a single probe; success closes', async () => {
    const flaky = f.mock('trip-flaky');
    const steady = f.mock('trip-steady');
    // Failure 1: soft cooldown.
    flaky.enqueue({ status: 500 });
    assert.equal((await f.client.chat('trip')).status, 200);
    assert.equal((await f.client.lane('trip-flaky')).streak, 1);
    await f.client.cooldownOver('trip-flaky');

    // Failure 2 (after the soft cooldown) reaches n = 2: trip. SWRR reaches the lane within two requests.
    flaky.enqueue({ status: 500 });
    await startOfSecond();
    for (let i = 0; i < 3 && flaky.requests.length < 2; i++)
      assert.equal((await f.client.chat('trip')).status, 200);
    assert.equal(flaky.requests.length, 2);
    const tripped = await f.client.lane('trip-flaky');
    assert.equal(tripped.streak, 2);
    assert.equal(tripped.usable, false);
    assert.ok(tripped.cooldown_remaining_s >= 1, JSON.stringify(tripped));
    const state = cellState(tripped, 'trip');
    if (state !== undefined) assert.equal(state, 'open');

    // Open: no traffic at all until the cooldown ends.
    const during = await Promise.all(Array.from({ length: 8 }, () => f.client.chat('trip')));
    assert.ok(during.every((r) => r.status === 200 && servedBy(r) === 'trip-steady'));
    assert.equal(flaky.requests.length, 2);

    // Expiry: exactly one probe among concurrent requests (it is slow, so the others overlap it); it fails.
    await f.client.cooldownOver('trip-flaky');
    flaky.enqueue({ status: 500, delayMs: 300 });
    const steadyBefore = steady.requests.length;
    const probeBurst = await Promise.all(Array.from({ length: 10 }, () => f.client.chat('trip')));
    assert.ok(probeBurst.every((r) => r.status === 200));
    assert.equal(flaky.requests.length, 3, 'single-flight half-open probe');
    assert.equal(
      steady.requests.length - steadyBefore,
      10,
      'every request answered once, the probe by failover',
    );
    const reopened = await f.client.lane('trip-flaky');
    assert.equal(reopened.streak, 3, 'a failed probe re-opens (streak keeps growing)');
    assert.equal(reopened.usable, false);
    assert.ok(reopened.cooldown_remaining_s >= 1);

    // Next expiry: one probe again, and this one succeeds → Closed, streak 0, no cooldown.
    await f.client.cooldownOver('trip-flaky');
    flaky.enqueue({ delayMs: 300 });
    const closeBurst = await Promise.all(Array.from({ length: 10 }, () => f.client.chat('trip')));
    assert.ok(closeBurst.every((r) => r.status === 200));
    assert.equal(flaky.requests.length, 4, 'single-flight half-open probe');
    assert.equal(closeBurst.filter((r) => servedBy(r) === 'trip-flaky').length, 1);
    const closed = await f.client.lane('trip-flaky');
    assert.deepEqual([closed.streak, closed.cooldown_remaining_s, closed.usable], [0, 0, true]);
    const closedState = cellState(closed, 'trip');
    if (closedState !== undefined) assert.equal(closedState, 'closed');

    // Closed again: the lane takes its SWRR share.
    const resumed = await Promise.all(Array.from({ length: 6 }, () => f.client.chat('trip')));
    assert.equal(resumed.filter((r) => servedBy(r) === 'trip-flaky').length, 3);
  });

  it('G-TST-5 a 429 with Retry-After: 90 on a pool whose max cooldown is 60 holds the lane ≥ 90 s', async () => {
    f.mock('ra90').enqueue({ status: 429, headers: { 'retry-after': '90' } });
    const res = await f.client.chat('ra90-pool');
    assert.equal(res.status, 200);
    assert.equal(servedBy(res), 'ra90-spare');
    const lane = await f.client.lane('ra90');
    assert.ok(lane.cooldown_remaining_s >= 89 && lane.cooldown_remaining_s <= 90, JSON.stringify(lane));
    assert.equal(lane.usable, false);
  });

  it('G-TST-5 Retry-After: 99999999999 is capped at 86400 s', async () => {
    f.mock('rahuge').enqueue({ status: 429, headers: { 'retry-after': '99999999999' } });
    const res = await f.client.chat('rahuge-pool');
    assert.equal(res.status, 200);
    const lane = await f.client.lane('rahuge');
    assert.ok(
      lane.cooldown_remaining_s >= 86_399 && lane.cooldown_remaining_s <= 86_400,
      JSON.stringify(lane),
    );
  });
});
