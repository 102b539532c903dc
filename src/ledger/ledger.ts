// The ledger: what the gateway has counted per lane — outcomes, tokens, the lifetime request budget
// and the upstream latency average. Lanes hold an account; the finish listener and the health
// prober write to it; /stats reads it. Accounts are keyed by model identity (`laneKey`), so a new
// routing table built from a changed config reaches the same accounts.

import type { ModelConfig } from '../config/types.ts';
import type { Usage } from '../protocols/ir.ts';

/** A snapshot of one account. `budget` is the remaining lifetime requests, -1 unlimited. */
export interface LaneTotals {
  readonly ok: number;
  readonly err: number;
  readonly clientFault: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly budget: number;
  /** Upstream header latency EWMA in ms (G-POL-8); undefined before the first sample. */
  readonly latencyEwmaMs: number | undefined;
}

export type Outcome = 'ok' | 'err' | 'clientFault';

export interface LaneAccount {
  /** Remaining lifetime requests; -1 = unlimited (G-POOL-4). */
  remaining(): number;
  /** Takes exactly one unit for a 2xx answer, never below 0. True when a unit was taken. */
  spend(): boolean;
  /** Gives back a unit taken for an answer that then failed in transit; never above the limit. */
  refund(): void;
  /** Counts `n` outcomes of one kind (saturating). */
  count(outcome: Outcome, n?: number): void;
  /** Adds one delivered answer's tokens (saturating, G-SEC-23). */
  addUsage(usage: Usage): void;
  /** One upstream header latency sample in ms; non-finite or non-positive samples are ignored. */
  recordLatency(ms: number): void;
  /** The latency EWMA in ms (G-POL-8); undefined before the first sample. */
  latencyMs(): number | undefined;
  totals(): LaneTotals;
}

export interface Ledger {
  /**
   * The account for a lane identity. The first call creates it with `limit` lifetime requests
   * (-1 unlimited); later calls with the same key return the same account, re-limited when the
   * limit differs (a reloaded config), keeping what was used.
   */
  account(key: string, limit: number): LaneAccount;
}

/**
 * A lane's identity across configurations: its provider and model names. The config name, not the
 * `upstream_model` id: names are unique under `models:` while ids are not (two names may send one id
 * to one provider as two lanes, each with its own permits, budget and breakers), and the budget and
 * the counters /stats shows belong to the name. Like a changed base_url, a changed id under the same
 * name keeps the account.
 */
export function laneKey(model: ModelConfig): string {
  return `${model.provider.name}/${model.name}`;
}

/** The EWMA weight of a new latency sample (G-POL-8). */
export const LATENCY_ALPHA = 0.2;
