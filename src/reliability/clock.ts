// "Now" for breaker, cooldown and deadline arithmetic: integer epoch seconds from the wall
// clock (G-GEN-3), injectable so tests can move time.

export interface Clock {
  nowSecs(): number;
}

export const systemClock: Clock = { nowSecs: () => Math.floor(Date.now() / 1000) };

/** A clock tests can set and advance. */
export class ManualClock implements Clock {
  #now: number;
  constructor(start = 1_000_000) {
    this.#now = start;
  }
  nowSecs(): number {
    return this.#now;
  }
  advance(seconds: number): void {
    this.#now += seconds;
  }
}
