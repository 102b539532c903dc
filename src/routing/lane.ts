// A lane: one configured model on one provider, with its concurrency permits and lifetime budget
// (G-POOL-1…5). Shared by every pool and direct route that reaches the model.

import type { ModelConfig } from '../config/types.ts';
import type { UpstreamTarget } from '../upstream/target.ts';
import { Semaphore } from './semaphore.ts';

export class Lane {
  readonly model: ModelConfig;
  readonly name: string;
  readonly index: number;
  readonly permits: Semaphore;
  readonly upstream: UpstreamTarget;
  /** Remaining lifetime requests; -1 = unlimited. */
  #budget: number;
  ok = 0;
  err = 0;
  clientFault = 0;

  constructor(model: ModelConfig, upstream: UpstreamTarget) {
    this.model = model;
    this.name = model.name;
    this.index = model.index;
    this.permits = new Semaphore(model.maxConcurrent);
    this.upstream = upstream;
    this.#budget = model.maxRequests < 0 ? -1 : model.maxRequests;
  }

  get budget(): number {
    return this.#budget;
  }

  /** Not administratively dead (reserved, never set) and unlimited or budget left (G-POOL-5). */
  get admissible(): boolean {
    return this.#budget !== 0;
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
}
