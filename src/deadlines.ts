// Deadlines of a second or more (a request body's pace, a whole upstream exchange) checked together
// by one timer, instead of a Node timer each: arming and clearing a Node timer per request showed
// as ~1 µs of each request's CPU in profiles (the timer list's insert and unenroll); a Set's add and
// delete is a fraction of that. A deadline is noticed up to SWEEP_MS late, never early.

/** Something with a deadline: asked when it expires, told once when that time has passed. */
export interface Expiring {
  /** When it expires, on `performance.now()`'s clock; may move later while watched. */
  expiresAt(): number;
  /** The deadline passed (it is no longer watched). */
  expire(): void;
}

/** How often the watched deadlines are looked at: at most a tenth of the shortest one. */
export const SWEEP_MS = 100;

export class DeadlineSweep {
  readonly #watched = new Set<Expiring>();
  #timer: NodeJS.Timeout | undefined;

  /** Watches `item` until `unwatch` or until it expires. */
  watch(item: Expiring): void {
    this.#watched.add(item);
    // Never keeps the process alive; stopped again by the first sweep that finds nothing to watch.
    this.#timer ??= setInterval(this.#sweep, SWEEP_MS).unref();
  }

  unwatch(item: Expiring): void {
    this.#watched.delete(item);
  }

  /** How many deadlines are watched (tests). */
  get size(): number {
    return this.#watched.size;
  }

  readonly #sweep = (): void => {
    if (this.#watched.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    const now = performance.now();
    for (const item of this.#watched) {
      if (item.expiresAt() > now) continue;
      this.#watched.delete(item);
      item.expire();
    }
  };
}

/** The process's sweep. */
export const deadlines = new DeadlineSweep();
