// A counting semaphore with a FIFO wait queue and per-waiter deadlines (G-POOL-2, G-POOL-3). Waits
// run on the lane's clock, so tests move time instead of sleeping.

import { type Clock, systemClock } from '../reliability/clock.ts';

interface Waiter {
  resolve(granted: boolean): void;
  cancel: (() => void) | undefined;
  done: boolean;
}

export class Semaphore {
  #free: number;
  readonly #waiters: Waiter[] = [];
  #capacity: number;
  readonly #clock: Clock;

  constructor(capacity: number, clock: Clock = systemClock) {
    this.#capacity = capacity;
    this.#free = capacity;
    this.#clock = clock;
  }

  get capacity(): number {
    return this.#capacity;
  }

  get inFlight(): number {
    return this.#capacity - this.#free;
  }

  /**
   * A reloaded `max_concurrent`: permits held stay held; below the new capacity waiters are granted
   * at once, above it no permit is granted until enough are released.
   */
  resize(capacity: number): void {
    this.#free += capacity - this.#capacity;
    this.#capacity = capacity;
    while (this.#free > 0 && this.#grantNext()) this.#free--;
  }

  /** Hands a permit to the first live waiter; false when none waits. */
  #grantNext(): boolean {
    for (;;) {
      const next = this.#waiters.shift();
      if (next === undefined) return false;
      if (next.done) continue;
      next.done = true;
      next.cancel?.();
      next.resolve(true);
      return true;
    }
  }

  /** Permits free now (G-POL signal `available_concurrency`). */
  get free(): number {
    return this.#free;
  }

  tryAcquire(): boolean {
    if (this.#free > 0 && this.#waiters.length === 0) {
      this.#free--;
      return true;
    }
    return false;
  }

  /** Resolves true with a permit, or false once `timeoutMs` passes first (or `signal` aborts). */
  acquire(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.tryAcquire()) return Promise.resolve(true);
    if (timeoutMs <= 0 || signal?.aborted) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const waiter: Waiter = { resolve, cancel: undefined, done: false };
      const giveUp = (): void => {
        if (waiter.done) return;
        waiter.done = true;
        waiter.cancel?.();
        signal?.removeEventListener('abort', giveUp);
        const at = this.#waiters.indexOf(waiter);
        if (at >= 0) this.#waiters.splice(at, 1);
        resolve(false);
      };
      waiter.cancel = this.#clock.after(timeoutMs, giveUp);
      signal?.addEventListener('abort', giveUp, { once: true });
      this.#waiters.push(waiter);
    });
  }

  release(): void {
    // Over capacity after a shrink (free < 0), a release only pays the debt.
    if (this.#free >= 0 && this.#grantNext()) return;
    if (this.#free < this.#capacity) this.#free++;
  }
}
