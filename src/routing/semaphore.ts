// A counting semaphore with a FIFO wait queue and per-waiter deadlines (G-POOL-2, G-POOL-3).

interface Waiter {
  resolve(granted: boolean): void;
  timer: NodeJS.Timeout | undefined;
  done: boolean;
}

export class Semaphore {
  #free: number;
  readonly #waiters: Waiter[] = [];
  readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.#free = capacity;
  }

  get inFlight(): number {
    return this.capacity - this.#free;
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
      const waiter: Waiter = { resolve, timer: undefined, done: false };
      const giveUp = (): void => {
        if (waiter.done) return;
        waiter.done = true;
        const at = this.#waiters.indexOf(waiter);
        if (at >= 0) this.#waiters.splice(at, 1);
        resolve(false);
      };
      waiter.timer = setTimeout(giveUp, timeoutMs);
      signal?.addEventListener('abort', giveUp, { once: true });
      this.#waiters.push(waiter);
    });
  }

  release(): void {
    for (;;) {
      const next = this.#waiters.shift();
      if (next === undefined) break;
      if (next.done) continue;
      next.done = true;
      clearTimeout(next.timer);
      next.resolve(true);
      return;
    }
    if (this.#free < this.capacity) this.#free++;
  }
}
