// RPM and TPM windows per key (G-GOV-10…13): fixed 60 s windows aligned to the epoch minute, kept
// in memory by the one arbiter of the node, so the counts are exact however many workers serve.

import { rateWindowStart } from './windows.ts';

interface Entry {
  window: number;
  requests: number;
  tokens: number;
}

export interface RateLimits {
  readonly rpm: number | null;
  readonly tpm: number | null;
}

/** How often a check also sweeps out stale entries. */
const SWEEP_EVERY = 256;

export class RateWindows {
  readonly #entries = new Map<string, Entry>();
  #checks = 0;

  /**
   * Counts one request against the key's window, or refuses it with the seconds until the window
   * ends (≥ 1). Keys without limits are not tracked at all.
   */
  admit(
    keyId: string,
    limits: RateLimits,
    nowMs: number,
  ): { ok: true } | { ok: false; retryAfterSecs: number } {
    if (limits.rpm === null && limits.tpm === null) return { ok: true };
    if (++this.#checks % SWEEP_EVERY === 0) this.#sweep(nowMs);
    const window = rateWindowStart(nowMs);
    let entry = this.#entries.get(keyId);
    if (entry === undefined || entry.window !== window) {
      entry = { window, requests: 0, tokens: 0 };
      this.#entries.set(keyId, entry);
    }
    const full =
      (limits.tpm !== null && entry.tokens >= limits.tpm) ||
      (limits.rpm !== null && entry.requests >= limits.rpm);
    if (full) return { ok: false, retryAfterSecs: Math.max(1, Math.ceil(window + 60 - nowMs / 1000)) };
    entry.requests++;
    return { ok: true };
  }

  /**
   * Credits a finished answer's tokens to the key's live window when the request was admitted in
   * it or earlier (TPM is best effort, G-GOV-12); never creates an entry.
   */
  credit(keyId: string, tokens: number, admittedAtMs: number, nowMs: number): void {
    const entry = this.#entries.get(keyId);
    if (entry === undefined) return;
    const live = rateWindowStart(nowMs);
    if (entry.window !== live) {
      entry.window = live;
      entry.requests = 0;
      entry.tokens = 0;
    }
    if (rateWindowStart(admittedAtMs) <= live)
      entry.tokens = Math.min(Number.MAX_SAFE_INTEGER, entry.tokens + tokens);
  }

  /** Forgets a key (deleted, or its limits cleared). */
  forget(keyId: string): void {
    this.#entries.delete(keyId);
  }

  get size(): number {
    return this.#entries.size;
  }

  #sweep(nowMs: number): void {
    const live = rateWindowStart(nowMs);
    for (const [id, entry] of this.#entries) if (entry.window !== live) this.#entries.delete(id);
  }
}
