// Spend per (key, budget window), decided in memory and written behind to the store. The arbiter is
// the one process that owns the database (it is opened exclusively), so its counters are the truth
// and every admission decision is exact without a database round trip. What changed is written in
// one transaction at most FLUSH_MS after the first change, and at once on shutdown or an admin
// change; a hard kill loses at most the charges of that last interval. A SQLite commit per request
// measured +45 µs CPU per request (1.65× governance off); this costs a map update.

import { log } from '../log.ts';
import type { GovernanceStore, UsageRow, WindowUsage } from './store.ts';

/** How long a change may wait before it is written. */
export const FLUSH_MS = 10;

interface Counter {
  spend: number;
  tokens: number;
  requests: number;
}

const MAX = Number.MAX_SAFE_INTEGER;

export class SpendBook {
  readonly #store: GovernanceStore;
  readonly #counters = new Map<string, Counter>();
  readonly #dirty = new Set<string>();
  #timer: NodeJS.Timeout | undefined;

  constructor(store: GovernanceStore) {
    this.#store = store;
  }

  /** The counter of (key, window), read from the store on first use. Throws when the store fails. */
  #counter(keyId: string, window: number): Counter {
    const id = `${window}:${keyId}`;
    let counter = this.#counters.get(id);
    if (counter === undefined) {
      const row = this.#store.usage(keyId, window);
      counter = { spend: row.spend_cents, tokens: row.tokens, requests: row.requests };
      this.#counters.set(id, counter);
    }
    return counter;
  }

  #changed(keyId: string, window: number): void {
    this.#dirty.add(`${window}:${keyId}`);
    // Unref'd: shutdown flushes explicitly; a pending write never keeps the process alive.
    this.#timer ??= setTimeout(this.flush, FLUSH_MS).unref();
  }

  /**
   * Charges the flat fee and counts the request iff the key is uncapped or the fee fits under the
   * cap (G-GOV-15). False when the cap refuses it. Throws when the store cannot be read.
   */
  charge(keyId: string, window: number, fee: number, cap: number | null): boolean {
    const c = this.#counter(keyId, window);
    if (cap !== null && (fee > cap || c.spend + fee > cap)) return false;
    c.spend = Math.min(MAX, c.spend + fee);
    c.requests = Math.min(MAX, c.requests + 1);
    this.#changed(keyId, window);
    return true;
  }

  /** Gives back a flat fee and its request count, floored at 0. */
  refund(keyId: string, window: number, fee: number): void {
    const c = this.#counter(keyId, window);
    c.spend = Math.max(0, c.spend - fee);
    c.requests = Math.max(0, c.requests - 1);
    this.#changed(keyId, window);
  }

  /** Adds a delivered answer's token fee and tokens. */
  addTokens(keyId: string, window: number, cost: number, tokens: number): void {
    const c = this.#counter(keyId, window);
    c.spend = Math.min(MAX, c.spend + cost);
    c.tokens = Math.min(MAX, c.tokens + tokens);
    this.#changed(keyId, window);
  }

  usage(keyId: string, window: number): WindowUsage {
    const c = this.#counter(keyId, window);
    return { spend_cents: c.spend, tokens: c.tokens, requests: c.requests };
  }

  /** Forgets a deleted key's counters (the store deletes its rows). */
  forget(keyId: string): void {
    for (const id of [...this.#counters.keys()]) {
      if (id.endsWith(`:${keyId}`)) {
        this.#counters.delete(id);
        this.#dirty.delete(id);
      }
    }
  }

  /** Writes every changed counter in one transaction; on failure they stay pending for the next try. */
  readonly flush = (): void => {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#dirty.size === 0) return;
    const rows: UsageRow[] = [];
    for (const id of this.#dirty) {
      const colon = id.indexOf(':');
      const c = this.#counters.get(id)!;
      rows.push({ keyId: id.slice(colon + 1), window: Number(id.slice(0, colon)), ...c });
    }
    try {
      this.#store.writeUsage(rows);
      this.#dirty.clear();
      // Counters of windows that ended stay correct in the store; memory keeps only the live ones.
      if (this.#counters.size > 4096) this.#counters.clear();
    } catch (err) {
      log.error(
        { err: err instanceof Error ? err.message : String(err), pending: rows.length },
        'governance store failed to write spend; retrying',
      );
      this.#timer = setTimeout(this.flush, FLUSH_MS * 10).unref();
    }
  };
}
