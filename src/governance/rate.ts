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

/** `1 − used/limit` clamped to [0, 1]; a limit of 0 leaves none. */
function left(used: number, limit: number): number {
  return limit <= 0 ? 0 : Math.min(1, Math.max(0, 1 - used / limit));
}

/** How often a check also sweeps out stale entries. */
const SWEEP_EVERY = 256;

export class RateWindows {
  readonly #entries = new Map<string, Entry>();
  #checks = 0;

  /**
   * Counts one request against the key's window, or refuses it with the seconds until the window
   * ends (≥ 1). An admitted request learns the key's headroom for routing (G-GOV-17): the least
   * of `1 − used/limit` over its limits, after this request, in [0, 1]; null for a key without
   * limits, which is not tracked at all.
   */
  admit(
    keyId: string,
    limits: RateLimits,
    nowMs: number,
  ): { ok: true; headroom: number | null } | { ok: false; retryAfterSecs: number } {
    if (limits.rpm === null && limits.tpm === null) return { ok: true, headroom: null };
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
    let headroom = 1;
    if (limits.rpm !== null) headroom = Math.min(headroom, left(entry.requests, limits.rpm));
    if (limits.tpm !== null) headroom = Math.min(headroom, left(entry.tokens, limits.tpm));
    return { ok: true, headroom };
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

  /** What the key has used of its current window (dashboard); zeros when it has used nothing. */
  peek(keyId: string, nowMs: number): { requests: number; tokens: number } {
    const entry = this.#entries.get(keyId);
    if (entry === undefined || entry.window !== rateWindowStart(nowMs)) return { requests: 0, tokens: 0 };
    return { requests: entry.requests, tokens: entry.tokens };
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
