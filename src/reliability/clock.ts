// "Now" for breaker, cooldown and deadline arithmetic, and the timers that wait for deadlines:
// the wall clock in production (G-GEN-3), a manual clock in tests so they can move time instead
// of sleeping through it.

export interface Clock {
  /** Integer epoch seconds (breaker cooldowns). */
  nowSecs(): number;
  /** Epoch milliseconds (request deadlines). */
  nowMs(): number;
  /** Calls `fn` once `ms` have passed on this clock; the returned function cancels it. */
  after(ms: number, fn: () => void): () => void;
}

export const systemClock: Clock = {
  nowSecs: () => Math.floor(Date.now() / 1000),
  nowMs: () => Date.now(),
  after: (ms, fn) => {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};

interface PendingTimer {
  readonly at: number;
  readonly fn: () => void;
}

/** A clock tests can set and advance; its timers fire as `advance` passes their time. */
export class ManualClock implements Clock {
  #nowMs: number;
  #timers: PendingTimer[] = [];

  /** `start` in epoch seconds. */
  constructor(start = 1_000_000) {
    this.#nowMs = start * 1000;
  }

  nowSecs(): number {
    return Math.floor(this.#nowMs / 1000);
  }

  nowMs(): number {
    return this.#nowMs;
  }

  after(ms: number, fn: () => void): () => void {
    const timer = { at: this.#nowMs + Math.max(0, ms), fn };
    this.#timers.push(timer);
    return () => {
      this.#timers = this.#timers.filter((t) => t !== timer);
    };
  }

  /** Moves time forward by `seconds`, firing every timer that falls due, in time order. */
  advance(seconds: number): void {
    this.advanceMs(seconds * 1000);
  }

  advanceMs(ms: number): void {
    const until = this.#nowMs + ms;
    for (;;) {
      const due = this.#timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.#nowMs = Math.max(this.#nowMs, due.at);
      due.fn();
    }
    this.#nowMs = until;
  }
}
