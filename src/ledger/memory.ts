// The in-process ledger: plain numbers per account. Every operation is synchronous, so two
// requests can never interleave inside one update.

import type { Usage } from '../protocols/ir.ts';
import { LATENCY_ALPHA, type LaneAccount, type LaneTotals, type Ledger, type Outcome } from './ledger.ts';

const add = (a: number, b: number): number => Math.min(a + b, Number.MAX_SAFE_INTEGER);

class MemoryAccount implements LaneAccount {
  #limit: number;
  #budget: number;
  #ok = 0;
  #err = 0;
  #clientFault = 0;
  #inputTokens = 0;
  #outputTokens = 0;
  #latency: number | undefined;

  constructor(limit: number) {
    this.#limit = limit < 0 ? -1 : limit;
    this.#budget = this.#limit;
  }

  remaining(): number {
    return this.#budget;
  }

  get limit(): number {
    return this.#limit;
  }

  /** A reloaded `max_requests`: what was used stays used (an unlimited past counts as none). */
  relimit(limit: number): void {
    const next = limit < 0 ? -1 : limit;
    if (next === this.#limit) return;
    const used = this.#limit < 0 ? 0 : this.#limit - this.#budget;
    this.#limit = next;
    this.#budget = next < 0 ? -1 : Math.max(0, next - used);
  }

  spend(): boolean {
    if (this.#budget <= 0) return false;
    this.#budget--;
    return true;
  }

  refund(): void {
    if (this.#budget >= 0 && this.#budget < this.#limit) this.#budget++;
  }

  count(outcome: Outcome, n = 1): void {
    switch (outcome) {
      case 'ok':
        this.#ok = add(this.#ok, n);
        return;
      case 'err':
        this.#err = add(this.#err, n);
        return;
      case 'clientFault':
        this.#clientFault = add(this.#clientFault, n);
        return;
      default: {
        const never: never = outcome;
        throw new Error(`unknown outcome ${String(never)}`);
      }
    }
  }

  addUsage(usage: Usage): void {
    this.#inputTokens = add(this.#inputTokens, usage.inputTokens);
    this.#outputTokens = add(this.#outputTokens, usage.outputTokens);
  }

  recordLatency(ms: number): void {
    if (!Number.isFinite(ms) || ms <= 0) return;
    this.#latency =
      this.#latency === undefined ? ms : LATENCY_ALPHA * ms + (1 - LATENCY_ALPHA) * this.#latency;
  }

  latencyMs(): number | undefined {
    return this.#latency;
  }

  totals(): LaneTotals {
    return {
      ok: this.#ok,
      err: this.#err,
      clientFault: this.#clientFault,
      inputTokens: this.#inputTokens,
      outputTokens: this.#outputTokens,
      budget: this.#budget,
      latencyEwmaMs: this.#latency,
    };
  }
}

export class MemoryLedger implements Ledger {
  readonly #accounts = new Map<string, MemoryAccount>();

  account(key: string, limit: number): LaneAccount {
    let account = this.#accounts.get(key);
    if (account === undefined) {
      account = new MemoryAccount(limit);
      this.#accounts.set(key, account);
    } else {
      account.relimit(limit);
    }
    return account;
  }
}
