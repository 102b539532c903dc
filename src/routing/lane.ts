// A lane: one configured model on one provider, with its concurrency permits, lifetime budget,
// counters and breaker cells (G-POOL-1…5, G-BRK-7). Shared by every pool and direct route that
// reaches the model.

import type { BreakerConfig, ModelConfig } from '../config/types.ts';
import type { Usage } from '../protocols/ir.ts';
import { BreakerCell, DEFAULT_BREAKER, type RandomInt } from '../reliability/breaker.ts';
import type { Clock } from '../reliability/clock.ts';
import type { UpstreamTarget } from '../upstream/target.ts';
import { Semaphore } from './semaphore.ts';

export class Lane {
  readonly model: ModelConfig;
  readonly name: string;
  readonly index: number;
  readonly permits: Semaphore;
  readonly upstream: UpstreamTarget;
  readonly clock: Clock;
  readonly #rand: RandomInt | undefined;
  /** The cell of direct and ad-hoc routes (pool name ""). */
  readonly defaultCell: BreakerCell;
  readonly #poolCells = new Map<string, BreakerCell>();
  /** Remaining lifetime requests; -1 = unlimited. */
  #budget: number;
  ok = 0;
  err = 0;
  clientFault = 0;
  /** Tokens of cleanly delivered 2xx answers, from the usage tap (P-USE). */
  inputTokens = 0;
  outputTokens = 0;
  /** Why the lane was last hard-downed ("" if never); kept after recovery (G-BRK-15). */
  deadReason = '';
  /** Upstream header latency EWMA in ms (G-POL-8); undefined before the first sample. */
  latencyEwma: number | undefined;

  constructor(model: ModelConfig, upstream: UpstreamTarget, clock: Clock, rand?: RandomInt) {
    this.model = model;
    this.name = model.name;
    this.index = model.index;
    this.permits = new Semaphore(model.maxConcurrent);
    this.upstream = upstream;
    this.clock = clock;
    this.#rand = rand;
    this.defaultCell = new BreakerCell(DEFAULT_BREAKER, clock, rand);
    this.#budget = model.maxRequests < 0 ? -1 : model.maxRequests;
  }

  /** The (pool, lane) cell, created on first use from the default cell's current health. */
  cellFor(pool: string, config: BreakerConfig): BreakerCell {
    let cell = this.#poolCells.get(pool);
    if (cell === undefined) {
      cell = BreakerCell.inheriting(this.defaultCell, config, this.clock, this.#rand);
      this.#poolCells.set(pool, cell);
    }
    return cell;
  }

  /** The default cell and every pool cell created so far. */
  cells(): BreakerCell[] {
    return [this.defaultCell, ...this.#poolCells.values()];
  }

  /** Cells by pool name ("" = the default cell of direct routes). */
  namedCells(): [string, BreakerCell][] {
    return [['', this.defaultCell], ...this.#poolCells.entries()];
  }

  get budget(): number {
    return this.#budget;
  }

  /** Not administratively dead (reserved, never set) and unlimited or budget left (G-POOL-5). */
  get admissible(): boolean {
    return this.#budget !== 0;
  }

  /** G-HLT-7: admissible, and ready in some pool cell (or in the default cell if it has none). */
  usable(now = this.clock.nowSecs()): boolean {
    if (!this.admissible) return false;
    if (this.#poolCells.size === 0) return this.defaultCell.ready(now);
    for (const cell of this.#poolCells.values()) if (cell.ready(now)) return true;
    return false;
  }

  /** One 2xx response: take exactly one unit, never below 0. Returns whether a unit was taken. */
  spendBudget(): boolean {
    if (this.#budget <= 0) return false;
    this.#budget--;
    return true;
  }

  /** Give back a unit taken for a 2xx whose body then failed in transit (G-POOL-4). */
  refundBudget(): void {
    if (this.#budget >= 0 && this.#budget < this.model.maxRequests) this.#budget++;
  }

  /** G-BRK-15: every cell Open for 30 minutes. */
  hardDown(reason: string): void {
    const now = this.clock.nowSecs();
    for (const cell of this.cells()) cell.hardDown(now);
    this.deadReason = reason;
  }

  /** Counts the usage of one cleanly delivered answer (saturating, G-SEC-23). */
  recordUsage(usage: Usage | undefined): void {
    if (usage === undefined) return;
    this.inputTokens = Math.min(this.inputTokens + usage.inputTokens, Number.MAX_SAFE_INTEGER);
    this.outputTokens = Math.min(this.outputTokens + usage.outputTokens, Number.MAX_SAFE_INTEGER);
  }

  /** G-POL-8 */
  recordLatency(ms: number): void {
    if (!Number.isFinite(ms) || ms <= 0) return;
    this.latencyEwma = this.latencyEwma === undefined ? ms : 0.2 * ms + 0.8 * this.latencyEwma;
  }
}
