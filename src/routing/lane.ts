// A lane: one configured model on one provider (G-POOL-1…5, G-BRK-7), shared by every pool and
// direct route that reaches the model. The lane itself is configuration; what it learns lives in
// its state (permits, breaker cells) and its ledger account (counters, budget, latency).

import type { BreakerConfig, ModelConfig } from '../config/types.ts';
import type { LaneAccount } from '../ledger/ledger.ts';
import { type BreakerCell, HARD_DOWN_SECS } from '../reliability/breaker.ts';
import type { Clock } from '../reliability/clock.ts';
import type { UpstreamEndpoint } from '../upstream/endpoint.ts';
import type { LaneState } from './lane-state.ts';
import type { Semaphore } from './semaphore.ts';

/** Visible ASCII: what a response header value may carry as is. */
const HEADER_VALUE = /^[\x21-\x7e]+$/;

export class Lane {
  readonly model: ModelConfig;
  readonly name: string;
  /** The name as `x-busbar-route-target` carries it (G-POL-6); undefined when it cannot be one. */
  readonly headerName: string | undefined;
  /** The upstream model name as a JSON string: what a same-protocol body is given (made once). */
  readonly upstreamModelJson: string;
  readonly index: number;
  /** Model identity: the key of this lane's state and ledger account. */
  readonly key: string;
  readonly upstream: UpstreamEndpoint;
  readonly clock: Clock;
  readonly state: LaneState;
  readonly account: LaneAccount;
  readonly permits: Semaphore;
  readonly defaultCell: BreakerCell;

  constructor(
    model: ModelConfig,
    key: string,
    upstream: UpstreamEndpoint,
    clock: Clock,
    state: LaneState,
    account: LaneAccount,
  ) {
    this.model = model;
    this.name = model.name;
    this.headerName = HEADER_VALUE.test(model.name) ? model.name : undefined;
    this.upstreamModelJson = JSON.stringify(model.upstreamModel);
    this.index = model.index;
    this.key = key;
    this.upstream = upstream;
    this.clock = clock;
    this.state = state;
    this.account = account;
    this.permits = state.permits;
    this.defaultCell = state.defaultCell;
  }

  cellFor(pool: string, config: BreakerConfig): BreakerCell {
    return this.state.cellFor(pool, config);
  }

  /** The default cell and every pool cell created so far. */
  cells(): BreakerCell[] {
    return [this.state.defaultCell, ...this.state.poolCells()];
  }

  /** Unlimited, or lifetime budget left (G-POOL-5). */
  get admissible(): boolean {
    return this.account.remaining() !== 0;
  }

  /** G-HLT-7: admissible, and ready in some pool cell (or in the default cell if it has none). */
  usable(now = this.clock.nowSecs()): boolean {
    if (!this.admissible) return false;
    if (!this.state.hasPoolCells) return this.state.defaultCell.ready(now);
    for (const cell of this.state.poolCells()) if (cell.ready(now)) return true;
    return false;
  }

  /** G-BRK-15: every cell Open for 30 minutes. */
  hardDown(reason: string): void {
    const now = this.clock.nowSecs();
    for (const cell of this.cells()) cell.hardDown(now);
    this.state.deadReason = reason;
    this.state.hardDownUntil = now + HARD_DOWN_SECS;
  }
}
