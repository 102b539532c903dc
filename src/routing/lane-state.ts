// What a lane has learned at run time — its concurrency permits, its breaker cells and why it was
// last hard-downed — kept apart from what the lane is (its configuration). States are keyed by
// model identity, so a routing table rebuilt from a changed config carries them over.

import { util } from '../builtins.ts';
import type { BreakerConfig } from '../config/types.ts';
import { BreakerCell, DEFAULT_BREAKER, type RandomInt } from '../reliability/breaker.ts';
import type { Clock } from '../reliability/clock.ts';
import { Semaphore } from './semaphore.ts';

export class LaneState {
  readonly permits: Semaphore;
  /** The cell of direct and ad-hoc routes (pool name ""). */
  readonly defaultCell: BreakerCell;
  readonly #poolCells = new Map<string, BreakerCell>();
  readonly #clock: Clock;
  readonly #rand: RandomInt | undefined;
  /** Why the lane was last hard-downed ("" if never); kept after recovery (G-BRK-15). */
  deadReason = '';
  /** Epoch seconds the last hard-down lasts until (0 = never hard-downed). */
  hardDownUntil = 0;
  /**
   * Drained by an operator at run time (PATCH /admin/lanes): weight 0 in every pool, as a
   * configured `weight: 0` is; direct routes still reach it (G-POOL-10). Kept across reloads.
   */
  drained = false;

  constructor(maxConcurrent: number, clock: Clock, rand?: RandomInt) {
    this.permits = new Semaphore(maxConcurrent, clock);
    this.defaultCell = new BreakerCell(DEFAULT_BREAKER, clock, rand);
    this.#clock = clock;
    this.#rand = rand;
  }

  /**
   * The (pool, lane) cell, created on first use from the default cell's current health. A pool
   * whose breaker settings a reload changed gets a new cell that keeps the old one's state.
   */
  cellFor(pool: string, config: BreakerConfig): BreakerCell {
    let cell = this.#poolCells.get(pool);
    if (cell === undefined || (cell.config !== config && !util.isDeepStrictEqual(cell.config, config))) {
      cell = BreakerCell.inheriting(cell ?? this.defaultCell, config, this.#clock, this.#rand);
      this.#poolCells.set(pool, cell);
    }
    return cell;
  }

  /** The pool's cell if it exists, else the default cell it would inherit from; creates nothing. */
  peekCell(pool: string): BreakerCell {
    return this.#poolCells.get(pool) ?? this.defaultCell;
  }

  get hasPoolCells(): boolean {
    return this.#poolCells.size > 0;
  }

  poolCells(): IterableIterator<BreakerCell> {
    return this.#poolCells.values();
  }

  /** Cells by pool name ("" = the default cell of direct routes). */
  namedCells(): [string, BreakerCell][] {
    return [['', this.defaultCell], ...this.#poolCells.entries()];
  }
}

/** Lane states by model identity: the same key always gets the same state. */
export class LaneStates {
  readonly #states = new Map<string, LaneState>();
  readonly #clock: Clock;
  readonly #rand: RandomInt | undefined;

  constructor(clock: Clock, rand?: RandomInt) {
    this.#clock = clock;
    this.#rand = rand;
  }

  get clock(): Clock {
    return this.#clock;
  }

  /** The lane's state, made on first use; a reloaded `max_concurrent` resizes its permits. */
  stateFor(key: string, maxConcurrent: number): LaneState {
    let state = this.#states.get(key);
    if (state === undefined) {
      state = new LaneState(maxConcurrent, this.#clock, this.#rand);
      this.#states.set(key, state);
    } else if (state.permits.capacity !== maxConcurrent) {
      state.permits.resize(maxConcurrent);
    }
    return state;
  }

  /** Forgets a lane: removed by a reload, or its upstream target changed (it starts fresh). */
  forget(key: string): void {
    this.#states.delete(key);
  }
}
