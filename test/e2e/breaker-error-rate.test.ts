// The default breaker trip mode, `error_rate` (gateway.md §1.9, G-BRK-8…11, G-BRK-17), seen through
// HTTP: pools without a `breaker:` block (window 30 s, threshold 0.5, min_requests 5, cooldown 15/120)
// and pools with an explicit error_rate block. What an operator sees is checked: the per-cell state in
// /stats (`lanes[].cells[pool]`), the lane counters, which mock upstream received traffic, and that
// every client request is still answered by the other member.
//
// A failure arms a (soft) cooldown even on a Closed cell, so after its first failure a lane gets no
// new traffic for a while. To put several outcomes into one cell's window without waiting, the
// failures are concurrent: every request of a burst is routed (equal weights: SWRR alternates over the
// two members) before the flaky member's delayed failures come back, and successes are recorded first
// by sequential requests, which arm no cooldown. No test sleeps for a cooldown to end; the window
// expiry (outcomes older than window_s dropping out) needs time to pass and is left to unit tests
// with an injected clock.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type Fleet,
  type LaneSpec,
  type LaneStats,
  openaiError,
  type PoolSpec,
  servedBy,
  startFleet,
} from '../reliability/harness.ts';

const OVERLOADED = 'The service is temporarily overloaded. Please retry shortly.';
/** Failures answer this late, so the whole burst is routed before the first failure is recorded. */
const FAIL_DELAY_MS = 400;

/** One breaker cell as /stats reports it (the per-cell view beyond G-OBS-3). */
interface CellStats {
  state: 'closed' | 'open' | 'half_open';
  cooldown_remaining_s: number;
  streak: number;
  errors: number;
  probe_in_flight: boolean;
}

/** An error_rate block that differs from the defaults in every key, with long (stable) cooldowns. */
const STRICT: PoolSpec['breaker'] = {
  base_cooldown_secs: 40,
  max_cooldown_secs: 300,
  trip: { mode: 'error_rate', window_s: 60, threshold: 0.75, min_requests: 4 },
};

const lanes: LaneSpec[] = [];
const pools: Record<string, PoolSpec> = {};
/** A pool [<name>-flaky, <name>-steady]; returns the three names. */
function pair(name: string, breaker?: PoolSpec['breaker']): { pool: string; flaky: string; steady: string } {
  const flaky = `${name}-flaky`;
  const steady = `${name}-steady`;
  lanes.push({ name: flaky }, { name: steady });
  pools[name] = { members: [flaky, steady], ...(breaker === undefined ? {} : { breaker }) };
  return { pool: name, flaky, steady };
}

const below = pair('er-below');
const floor = pair('er-floor');
const whileOpen = pair('er-while-open');
const mixHold = pair('er-mix-hold');
const mixTrip = pair('er-mix-trip');
const soft = pair('er-soft');
const strictTrip = pair('er-strict-trip', STRICT);
const strictHold = pair('er-strict-hold', STRICT);
const DIRECT = 'er-direct';
const DIRECT_BELOW = 'er-direct-below';
lanes.push({ name: DIRECT }, { name: DIRECT_BELOW });

describe('breaker: error_rate trip mode through HTTP', { concurrency: true }, () => {
  let f: Fleet;
  before(async () => {
    f = await startFleet(lanes, pools);
  });
  after(async () => {
    await f?.stop();
  });

  async function laneAndCell(lane: string, pool: string): Promise<{ lane: LaneStats; cell: CellStats }> {
    const stats = await f.client.lane(lane);
    const cells = (stats as LaneStats & { cells?: Record<string, CellStats> }).cells;
    const cell = cells?.[pool];
    assert.ok(cell !== undefined, `/stats has no cell '${pool}' for lane ${lane}: ${JSON.stringify(stats)}`);
    return { lane: stats, cell };
  }

  /** Sequential requests to `pool` until `flaky` has answered `n` of them (successes: no cooldown). */
  async function successesOn(pool: string, flaky: string, n: number): Promise<void> {
    const mock = f.mock(flaky);
    for (let i = 0; i < 3 * n && mock.requests.length < n; i++) {
      const res = await f.client.chat(pool);
      assert.equal(res.status, 200, res.body);
    }
    assert.equal(mock.requests.length, n, `${flaky} answered ${mock.requests.length} of ${n} successes`);
  }

  /**
   * `failures` concurrent failures on `flaky`: a burst of twice as many requests, half of which SWRR
   * routes to it; each failed one fails over to `steady`, so the client sees only 200s.
   */
  async function concurrentFailures(
    p: { pool: string; flaky: string; steady: string },
    failures: number,
  ): Promise<void> {
    const mock = f.mock(p.flaky);
    const before = mock.requests.length;
    mock.enqueue(...Array.from({ length: failures }, () => ({ status: 500, delayMs: FAIL_DELAY_MS })));
    const burst = await Promise.all(Array.from({ length: 2 * failures }, () => f.client.chat(p.pool)));
    assert.deepEqual(
      burst.map((r) => [r.status, servedBy(r)]),
      Array(2 * failures).fill([200, p.steady]),
      'every request is answered by the healthy member (failed ones by failover)',
    );
    assert.equal(mock.requests.length - before, failures, `${p.flaky} got one request per planned failure`);
  }

  /** Further traffic all goes to `steady`; `flaky` receives nothing. */
  async function onlySteadyServes(p: { pool: string; flaky: string; steady: string }): Promise<void> {
    const flakyBefore = f.mock(p.flaky).requests.length;
    const next = await Promise.all(Array.from({ length: 6 }, () => f.client.chat(p.pool)));
    assert.deepEqual(
      next.map((r) => [r.status, servedBy(r)]),
      Array(6).fill([200, p.steady]),
    );
    assert.equal(f.mock(p.flaky).requests.length, flakyBefore, `${p.flaky} gets no traffic`);
  }

  /** G-BRK-11 bounds of the cooldown armed at `streak` (base·2^streak capped, ±10 % jitter), 3 s slack. */
  function assertCooldown(cell: CellStats, lo: number, hi: number): void {
    assert.ok(
      cell.cooldown_remaining_s >= lo - 3 && cell.cooldown_remaining_s <= hi,
      `cooldown_remaining_s ${cell.cooldown_remaining_s} not in [${lo}, ${hi}]: ${JSON.stringify(cell)}`,
    );
  }

  it('G-BRK-10 defaults: 4 failures at 100 % error share stay below min_requests 5 — Closed, soft cooldown', async () => {
    await concurrentFailures(below, 4);
    const { lane, cell } = await laneAndCell(below.flaky, below.pool);
    assert.equal(cell.state, 'closed', 'below min_requests the cell never trips');
    // G-BRK-8: each failure counts and re-arms a soft cooldown; the last one at streak 4: min(15·16, 120) ±12.
    assert.deepEqual([cell.streak, cell.errors, lane.err, lane.ok], [4, 4, 4, 0]);
    assertCooldown(cell, 108, 120);
    assert.equal(
      lane.usable,
      false,
      'a soft-cooled lane is skipped (G-BRK-12: Closed is ready only after it)',
    );
    await onlySteadyServes(below);
    assert.equal((await laneAndCell(below.flaky, below.pool)).cell.state, 'closed');
  });

  it('G-BRK-10 defaults: the 5th failure at 100 % errors reaches min_requests — the cell opens', async () => {
    await concurrentFailures(floor, 5);
    const { lane, cell } = await laneAndCell(floor.flaky, floor.pool);
    assert.equal(cell.state, 'open');
    assert.deepEqual([cell.streak, cell.errors, lane.err], [5, 5, 5]);
    // Tripped at streak 5: min(15·32, 120) = 120, −10 % jitter.
    assertCooldown(cell, 108, 120);
    assert.equal(lane.usable, false);
    await onlySteadyServes(floor);
    assert.equal((await laneAndCell(floor.flaky, floor.pool)).cell.state, 'open');
  });

  it('G-BRK-10 defaults: 3 successes then 2 failures (5 outcomes, 40 % errors) keep the cell Closed', async () => {
    await successesOn(mixHold.pool, mixHold.flaky, 3);
    await concurrentFailures(mixHold, 2);
    const { lane, cell } = await laneAndCell(mixHold.flaky, mixHold.pool);
    assert.equal(cell.state, 'closed', 'min_requests reached but the error share is below 0.5');
    assert.deepEqual([cell.streak, cell.errors, lane.err, lane.ok], [2, 2, 2, 3]);
    // Still a soft cooldown from the last failure (streak 2: 15·4 = 60 ±6).
    assertCooldown(cell, 54, 66);
    await onlySteadyServes(mixHold);
  });

  it('G-BRK-10 defaults: 3 successes then 3 failures — the share reaches exactly 0.5 at 6 outcomes: Open', async () => {
    await successesOn(mixTrip.pool, mixTrip.flaky, 3);
    await concurrentFailures(mixTrip, 3);
    const { lane, cell } = await laneAndCell(mixTrip.flaky, mixTrip.pool);
    assert.equal(cell.state, 'open', 'errors / total = 3 / 6 ≥ threshold 0.5 trips');
    assert.deepEqual([cell.streak, cell.errors, lane.err, lane.ok], [3, 3, 3, 3]);
    // Tripped at streak 3: min(15·8, 120) = 120, −10 % jitter.
    assertCooldown(cell, 108, 120);
    assert.equal(lane.usable, false);
    await onlySteadyServes(mixTrip);
  });

  it('G-BRK-8 a failure recorded on an Open cell counts and grows the streak, nothing else', async () => {
    // Six in flight at once: the 5th trips, the 6th lands on the Open cell.
    await concurrentFailures(whileOpen, 6);
    const { lane, cell } = await laneAndCell(whileOpen.flaky, whileOpen.pool);
    assert.deepEqual([cell.state, cell.streak, cell.errors, lane.err], ['open', 6, 6, 6]);
    // The trip's cooldown stands (not re-armed or cleared by the 6th failure).
    assertCooldown(cell, 108, 120);
    await onlySteadyServes(whileOpen);
  });

  it('G-BRK-9 a success after a failure resets the streak but never clears the pending soft cooldown', async () => {
    const mock = f.mock(soft.flaky);
    // Two concurrent requests reach soft-flaky: the first fails early, the second succeeds later.
    mock.enqueue({ status: 500, delayMs: 300 }, { delayMs: 2 * FAIL_DELAY_MS });
    const burst = await Promise.all(Array.from({ length: 4 }, () => f.client.chat(soft.pool)));
    assert.deepEqual(
      burst.map((r) => r.status),
      [200, 200, 200, 200],
    );
    assert.deepEqual(burst.map(servedBy).sort(), [soft.flaky, soft.steady, soft.steady, soft.steady]);
    assert.equal(mock.requests.length, 2);
    const { lane, cell } = await laneAndCell(soft.flaky, soft.pool);
    assert.deepEqual(
      [cell.state, cell.streak, cell.errors, lane.err, lane.ok],
      ['closed', 0, 1, 1, 1],
      JSON.stringify(cell),
    );
    // The soft cooldown of the failure (streak 1: 15·2 = 30 ±3, the G-BRK-11 example) is still pending.
    assertCooldown(cell, 27, 33);
    assert.equal(lane.usable, false);
    await onlySteadyServes(soft);
  });

  /** `n` concurrent requests to a direct route whose upstream answers 500 to each: all 503 overloaded. */
  async function directFailures(model: string, n: number): Promise<void> {
    const mock = f.mock(model);
    mock.enqueue(...Array.from({ length: n }, () => ({ status: 500, delayMs: FAIL_DELAY_MS })));
    const burst = await Promise.all(Array.from({ length: n }, () => f.client.chat(model)));
    for (const r of burst) {
      assert.equal(r.status, 503);
      assert.equal(openaiError(r).type, 'overloaded_error');
      assert.equal(openaiError(r).message, OVERLOADED);
    }
    assert.equal(mock.requests.length, n);
  }

  it('G-BRK-17 direct route, default cell: 4 concurrent 500s stay below min_requests 5 — Closed, soft cooldown', async () => {
    await directFailures(DIRECT_BELOW, 4);
    const { lane, cell } = await laneAndCell(DIRECT_BELOW, '');
    assert.deepEqual([cell.state, cell.streak, lane.err], ['closed', 4, 4]);
    assertCooldown(cell, 108, 120);
    assert.equal(lane.usable, false);
  });

  it('G-BRK-17 direct route, default cell: 5 concurrent 500s trip it at min_requests; each client gets 503', async () => {
    await directFailures(DIRECT, 5);
    const mock = f.mock(DIRECT);
    const { lane, cell } = await laneAndCell(DIRECT, '');
    assert.deepEqual([cell.state, cell.streak, lane.err], ['open', 5, 5]);
    assertCooldown(cell, 108, 120);
    // Open: refused without an upstream call.
    const refused = await f.client.chat(DIRECT);
    assert.equal(refused.status, 503);
    assert.ok(Number(refused.headers['retry-after']) >= 105, `Retry-After ${refused.headers['retry-after']}`);
    assert.equal(mock.requests.length, 5);
  });

  it('explicit error_rate (min_requests 4, threshold 0.75): 1 success + 3 failures trips — below the default floor of 5', async () => {
    await successesOn(strictTrip.pool, strictTrip.flaky, 1);
    await concurrentFailures(strictTrip, 3);
    const { lane, cell } = await laneAndCell(strictTrip.flaky, strictTrip.pool);
    assert.equal(cell.state, 'open', '3 / 4 = 0.75 ≥ threshold with total = min_requests');
    assert.deepEqual([cell.streak, cell.errors, lane.err, lane.ok], [3, 3, 3, 1]);
    // The pool's own cooldowns: streak 3 → min(40·8, 300) = 300, −10 % jitter.
    assertCooldown(cell, 270, 300);
    await onlySteadyServes(strictTrip);
  });

  it('explicit error_rate (threshold 0.75): 2 successes + 3 failures (0.6, which trips by default) stay Closed', async () => {
    await successesOn(strictHold.pool, strictHold.flaky, 2);
    await concurrentFailures(strictHold, 3);
    const { lane, cell } = await laneAndCell(strictHold.flaky, strictHold.pool);
    assert.equal(cell.state, 'closed', '3 / 5 = 0.6 < 0.75');
    assert.deepEqual([cell.streak, cell.errors, lane.err, lane.ok], [3, 3, 3, 2]);
    assertCooldown(cell, 270, 300);
    assert.equal(lane.usable, false, 'soft cooldown');
    await onlySteadyServes(strictHold);
  });
});
