// Breaker cell arithmetic with an injected clock (Appendix D G-TST-2…5, G-BRK-8…15).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BreakerConfig } from '../../src/config/types.ts';
import { BreakerCell, cooldownSecs, DEFAULT_BREAKER, type RandomInt } from '../../src/reliability/breaker.ts';
import { ManualClock } from '../../src/reliability/clock.ts';

const CONSECUTIVE_2: BreakerConfig = {
  baseCooldownSecs: 5,
  maxCooldownSecs: 60,
  trip: { mode: 'consecutive', windowS: 30, n: 2, minRequests: 5 },
};
const noJitter: RandomInt = () => 0;

describe('breaker cell scenarios (Appendix D)', () => {
  it('G-TST-2 one failure below the trip floor arms a soft cooldown of 10 ± 1 s and stays Closed', () => {
    for (let trial = 0; trial < 200; trial++) {
      const clock = new ManualClock();
      const cell = new BreakerCell(CONSECUTIVE_2, clock);
      assert.equal(cell.recordFailure(), false);
      assert.equal(cell.state, 'closed');
      const d = cell.cooldownRemaining();
      assert.ok(d >= 9 && d <= 11, `soft cooldown ${d}`);
      assert.equal(cell.ready(), false);
      clock.advance(d);
      assert.equal(cell.ready(), true);
    }
  });

  it('G-TST-3 a second failure after the soft cooldown trips: Open, 20 ± 2 s, then a single probe', () => {
    for (let trial = 0; trial < 200; trial++) {
      const clock = new ManualClock();
      const cell = new BreakerCell(CONSECUTIVE_2, clock);
      cell.recordFailure();
      clock.advance(cell.cooldownRemaining());
      assert.equal(cell.acquire(), true);
      assert.equal(cell.recordFailure(), true, 'counts as a trip');
      assert.equal(cell.state, 'open');
      const d = cell.cooldownRemaining();
      assert.ok(d >= 18 && d <= 22, `trip cooldown ${d}`);
      assert.equal(cell.acquire(), false, 'no probe before expiry');
      clock.advance(d);
      assert.equal(cell.ready(), true);
      assert.equal(cell.acquire(), true, 'first caller becomes the probe');
      assert.equal(cell.state, 'half_open');
      assert.equal(cell.acquire(), false, 'single-flight');
      assert.equal(cell.ready(), false, 'readiness never admits a second probe');
    }
  });

  it('G-TST-4 failed probes escalate to 40 ± 4 then 54–60 (clamped), without counting trips; success closes', () => {
    for (let trial = 0; trial < 200; trial++) {
      const clock = new ManualClock();
      const cell = new BreakerCell(CONSECUTIVE_2, clock);
      cell.recordFailure();
      clock.advance(cell.cooldownRemaining());
      cell.recordFailure();
      clock.advance(cell.cooldownRemaining());
      assert.equal(cell.acquire(), true);
      assert.equal(cell.recordFailure(), false, 'a failed probe is not a new trip');
      const third = cell.cooldownRemaining();
      assert.ok(third >= 36 && third <= 44, `third ${third}`);
      clock.advance(third);
      assert.equal(cell.acquire(), true);
      assert.equal(cell.recordFailure(), false);
      const fourth = cell.cooldownRemaining();
      assert.ok(fourth >= 54 && fourth <= 60, `fourth ${fourth}`);
      clock.advance(fourth);
      assert.equal(cell.acquire(), true);
      cell.recordSuccess();
      assert.deepEqual(
        [cell.state, cell.streak, cell.cooldownUntil, cell.probeInFlight],
        ['closed', 0, 0, false],
      );
      // The window was cleared: consecutive failures start from zero again.
      assert.equal(cell.recordFailure(), false);
    }
  });

  it('G-TST-5 Retry-After floors the cooldown above max_cooldown_secs, capped at 86 400 s', () => {
    const cfg: BreakerConfig = { ...DEFAULT_BREAKER, maxCooldownSecs: 60 };
    for (let trial = 0; trial < 100; trial++) {
      assert.ok(cooldownSecs(cfg, 1, 90, (lo, hi) => lo + Math.floor(Math.random() * (hi - lo + 1))) >= 90);
    }
    assert.equal(cooldownSecs(cfg, 1, 86_400, noJitter), 86_400);
    const clock = new ManualClock();
    const cell = new BreakerCell(cfg, clock);
    cell.recordFailure(86_400);
    assert.equal(cell.cooldownRemaining(), 86_400);
  });

  it('G-TST-6 arithmetic: one 5xx on a default cell arms a 27–33 s soft cooldown', () => {
    const seen = new Set<number>();
    for (let trial = 0; trial < 500; trial++) {
      const cell = new BreakerCell(DEFAULT_BREAKER, new ManualClock());
      cell.recordFailure();
      const d = cell.cooldownRemaining();
      assert.ok(d >= 27 && d <= 33, `cooldown ${d}`);
      seen.add(d);
    }
    assert.ok(seen.has(27) && seen.has(33), 'jitter reaches both signs');
  });
});

describe('breaker cell transitions', () => {
  it('G-BRK-10 error_rate trips on windowed errors over windowed total with min_requests', () => {
    const clock = new ManualClock();
    const cfg: BreakerConfig = {
      baseCooldownSecs: 1,
      maxCooldownSecs: 2,
      trip: { mode: 'error_rate', windowS: 30, threshold: 0.5, minRequests: 4 },
    };
    const cell = new BreakerCell(cfg, clock, noJitter);
    cell.recordSuccess();
    cell.recordSuccess();
    assert.equal(cell.recordFailure(), false, '1/3 errors, below min_requests');
    clock.advance(5);
    assert.equal(cell.recordFailure(), true, '2/4 = 0.5 ≥ threshold');
  });

  it('G-BRK-10 old errors age out of the window (no spurious trip on a long-running lane)', () => {
    const clock = new ManualClock();
    const cfg: BreakerConfig = {
      baseCooldownSecs: 1,
      maxCooldownSecs: 2,
      trip: { mode: 'error_rate', windowS: 30, threshold: 0.5, minRequests: 4 },
    };
    const cell = new BreakerCell(cfg, clock, noJitter);
    for (let i = 0; i < 3; i++) {
      cell.recordFailure();
      clock.advance(5);
    }
    clock.advance(60);
    for (let i = 0; i < 3; i++) cell.recordSuccess();
    assert.equal(cell.recordFailure(), false, 'only 1 of the 4 recent outcomes is an error');
  });

  it('G-BRK-9 a success never clears a soft cooldown on a Closed cell', () => {
    const cell = new BreakerCell(DEFAULT_BREAKER, new ManualClock(), noJitter);
    cell.recordFailure();
    const until = cell.cooldownUntil;
    cell.recordSuccess();
    assert.equal(cell.cooldownUntil, until);
    assert.equal(cell.streak, 0);
  });

  it('G-BRK-14 releaseProbe reopens a won probe so the next request can probe at once', () => {
    const clock = new ManualClock();
    const cell = new BreakerCell(CONSECUTIVE_2, clock, noJitter);
    cell.recordFailure();
    clock.advance(100);
    cell.recordFailure();
    clock.advance(100);
    assert.equal(cell.acquire(), true);
    cell.releaseProbe();
    assert.equal(cell.state, 'open');
    assert.equal(cell.acquire(), true);
    cell.releaseProbe();
    cell.releaseProbe();
    assert.equal(cell.state, 'open', 'idempotent');
  });

  it('G-BRK-15 hard-down opens for 1800 s and a later probe can recover it', () => {
    const clock = new ManualClock();
    const cell = new BreakerCell(DEFAULT_BREAKER, clock, noJitter);
    cell.hardDown();
    assert.deepEqual([cell.state, cell.cooldownRemaining()], ['open', 1800]);
    clock.advance(1800);
    assert.equal(cell.acquire(), true);
    cell.recordSuccess();
    assert.equal(cell.state, 'closed');
  });

  it('G-BRK-7 a new pool cell inherits the default cell, with an inherited probe stored as Open', () => {
    const clock = new ManualClock();
    const base = new BreakerCell(CONSECUTIVE_2, clock, noJitter);
    base.recordFailure();
    clock.advance(100);
    base.recordFailure();
    clock.advance(100);
    base.acquire();
    const child = BreakerCell.inheriting(base, DEFAULT_BREAKER, clock, noJitter);
    assert.deepEqual([child.state, child.cooldownUntil, child.streak], ['open', base.cooldownUntil, 2]);
    assert.equal(child.acquire(), true, 'the new cell can run its own probe');
  });
});
