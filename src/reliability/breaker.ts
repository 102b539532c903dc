// One circuit-breaker cell per (pool, lane) (G-BRK-7…18): Closed / Open / HalfOpen with soft and
// hard cooldowns, an outcome window for error-rate trips, and a single-flight half-open probe.
// Every transition is synchronous, so no two callers can interleave on one cell (G-BRK-16).

import type { BreakerConfig } from '../config/types.ts';
import type { Clock } from './clock.ts';

export type BreakerState = 'closed' | 'open' | 'half_open';

/** Hard-down cooldown (G-BRK-15) and the Retry-After ceiling (G-SEC-23). */
export const HARD_DOWN_SECS = 1800;
export const MAX_RETRY_AFTER_SECS = 86_400;
const WINDOW_CAPACITY = 1024;

export const DEFAULT_BREAKER: BreakerConfig = Object.freeze({
  baseCooldownSecs: 15,
  maxCooldownSecs: 120,
  trip: Object.freeze({ mode: 'error_rate', windowS: 30, threshold: 0.5, minRequests: 5 }),
});

/** Uniform integer in [lo, hi]; injectable for deterministic tests. */
export type RandomInt = (lo: number, hi: number) => number;
export const uniformInt: RandomInt = (lo, hi) => lo + Math.floor(Math.random() * (hi - lo + 1));

/** G-BRK-11: exponential cooldown with signed jitter, Retry-After floor, never below 1 s. */
export function cooldownSecs(
  cfg: BreakerConfig,
  streak: number,
  retryAfter: number | undefined,
  rand: RandomInt,
): number {
  const exponent = Math.min(Math.max(streak, 0), 63);
  let d = Math.min(cfg.baseCooldownSecs * 2 ** exponent, cfg.maxCooldownSecs);
  const r = Math.max(Math.floor(d / 10), 1);
  d = Math.min(Math.max(d + rand(-r, r), Math.floor(d / 2)), cfg.maxCooldownSecs);
  if (retryAfter !== undefined) d = Math.max(d, Math.min(retryAfter, MAX_RETRY_AFTER_SECS));
  return Math.max(d, 1);
}

export class BreakerCell {
  readonly config: BreakerConfig;
  readonly #clock: Clock;
  readonly #rand: RandomInt;
  state: BreakerState = 'closed';
  /** Epoch seconds; 0 = none. */
  cooldownUntil = 0;
  streak = 0;
  probeInFlight = false;
  /** Failures recorded on this cell, lifetime. */
  errors = 0;
  /** SWRR current weight (G-POOL-7), reset when the cell recovers. */
  currentWeight = 0;
  // Outcome window: a ring of (second, isError).
  readonly #at = new Float64Array(WINDOW_CAPACITY);
  readonly #isError = new Uint8Array(WINDOW_CAPACITY);
  #head = 0;
  #size = 0;

  constructor(config: BreakerConfig, clock: Clock, rand: RandomInt = uniformInt) {
    this.config = config;
    this.#clock = clock;
    this.#rand = rand;
  }

  /** A new pool cell inherits the default cell's health; an inherited probe becomes Open (G-BRK-7). */
  static inheriting(from: BreakerCell, config: BreakerConfig, clock: Clock, rand?: RandomInt): BreakerCell {
    const cell = new BreakerCell(config, clock, rand);
    cell.state = from.state === 'half_open' ? 'open' : from.state;
    cell.cooldownUntil = from.cooldownUntil;
    cell.streak = from.streak;
    return cell;
  }

  #push(now: number, isError: boolean): void {
    const at = (this.#head + this.#size) % WINDOW_CAPACITY;
    if (this.#size === WINDOW_CAPACITY) this.#head = (this.#head + 1) % WINDOW_CAPACITY;
    else this.#size++;
    this.#at[at] = now;
    this.#isError[at] = isError ? 1 : 0;
  }

  #clearWindow(): void {
    this.#head = 0;
    this.#size = 0;
  }

  /** G-BRK-10 */
  #shouldTrip(now: number): boolean {
    const trip = this.config.trip;
    if (trip.mode === 'consecutive') return this.streak >= trip.n;
    let total = 0;
    let errors = 0;
    for (let k = 0; k < this.#size; k++) {
      const i = (this.#head + k) % WINDOW_CAPACITY;
      if (this.#at[i]! < now - trip.windowS) continue;
      total++;
      errors += this.#isError[i]!;
    }
    return total >= trip.minRequests && errors / total >= trip.threshold;
  }

  /** G-BRK-12: side-effect free. */
  ready(now = this.#clock.nowSecs()): boolean {
    return this.state !== 'half_open' && now >= this.cooldownUntil;
  }

  /** True while tripped or cooling down (dead-mode probing and /stats). */
  suppressed(now = this.#clock.nowSecs()): boolean {
    return this.state !== 'closed' || now < this.cooldownUntil;
  }

  cooldownRemaining(now = this.#clock.nowSecs()): number {
    return Math.max(0, this.cooldownUntil - now);
  }

  /** G-BRK-13: claims the cell for one dispatch; an expired Open cell admits one probe. */
  acquire(now = this.#clock.nowSecs()): boolean {
    switch (this.state) {
      case 'closed':
        return now >= this.cooldownUntil;
      case 'open':
        if (now < this.cooldownUntil) return false;
        this.state = 'half_open';
        this.probeInFlight = true;
        return true;
      case 'half_open':
        return false;
      default: {
        const never: never = this.state;
        throw new Error(`unknown breaker state ${String(never)}`);
      }
    }
  }

  /** G-BRK-14: a probe winner gave up without an outcome; the next request may probe at once. */
  releaseProbe(): void {
    if (this.state !== 'half_open') return;
    this.state = 'open';
    this.probeInFlight = false;
  }

  /** G-BRK-8: returns true when this failure tripped the cell (Closed → Open). */
  recordFailure(retryAfter?: number, now = this.#clock.nowSecs()): boolean {
    this.#push(now, true);
    this.errors++;
    this.streak++;
    const cooldown = (): number => now + cooldownSecs(this.config, this.streak, retryAfter, this.#rand);
    switch (this.state) {
      case 'closed':
        this.cooldownUntil = cooldown();
        if (!this.#shouldTrip(now)) return false;
        this.state = 'open';
        return true;
      case 'half_open':
        this.state = 'open';
        this.probeInFlight = false;
        this.cooldownUntil = cooldown();
        return false;
      case 'open':
        return false;
      default: {
        const never: never = this.state;
        throw new Error(`unknown breaker state ${String(never)}`);
      }
    }
  }

  /** G-BRK-9: a half-open success closes the cell; a soft cooldown on a Closed cell stands. */
  recordSuccess(now = this.#clock.nowSecs()): void {
    if (this.state === 'open') return;
    this.streak = 0;
    this.#push(now, false);
    if (this.state === 'half_open') this.#close();
  }

  #close(): void {
    this.state = 'closed';
    this.#clearWindow();
    this.streak = 0;
    this.cooldownUntil = 0;
    this.probeInFlight = false;
    this.currentWeight = 0;
  }

  /** G-HLT-6: recovery by a health probe, unless the cooldown moved after the probe looked. */
  recover(observedCooldownUntil: number): void {
    if (this.cooldownUntil > observedCooldownUntil) return;
    if (this.state !== 'closed' || this.cooldownUntil !== 0) this.#close();
  }

  /** G-BRK-15 */
  hardDown(now = this.#clock.nowSecs()): void {
    this.state = 'open';
    this.cooldownUntil = now + HARD_DOWN_SECS;
    this.probeInFlight = false;
  }
}
