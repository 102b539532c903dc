// Whether a shared governance store answers, seen from this process: an outage is logged once when
// it begins and once when it ends (never per request), and counted for /metrics.

import { log } from '../log.ts';

export class StoreHealth {
  /** `postgres` or `redis`: the metric label. */
  readonly store: string;
  /** What the log calls it. */
  readonly #role: string;
  /** What requests get while it is down, for the outage's log line. */
  readonly #meanwhile: string;
  /** Operations that failed, ever. */
  errors = 0;
  #downSince: number | undefined;

  constructor(store: string, role: string, meanwhile: string) {
    this.store = store;
    this.#role = role;
    this.#meanwhile = meanwhile;
  }

  get up(): boolean {
    return this.#downSince === undefined;
  }

  failed(err: unknown): void {
    this.errors++;
    if (this.#downSince !== undefined) return;
    this.#downSince = Date.now();
    log.warn(
      { store: this.store, err: err instanceof Error ? err.message : String(err) },
      `governance ${this.#role} is not answering; ${this.#meanwhile} until it does`,
    );
  }

  ok(): void {
    if (this.#downSince === undefined) return;
    const secs = Math.round((Date.now() - this.#downSince) / 100) / 10;
    this.#downSince = undefined;
    log.info({ store: this.store, down_secs: secs }, `governance ${this.#role} answers again`);
  }
}

/** Rejects with a timeout error when `work` has not settled within `ms`; `work` runs on. */
export function within<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
