// The routing table: what a requested name routes to (G-RTE-6…9) — a pool, or a model's direct
// route, which is a single-member pool on the lane's default cell with the default failover
// settings. Built from one configuration; what the lanes learn (states, ledger accounts) is passed
// in, so a table built from a changed configuration carries it over.

import type {
  BreakerConfig,
  ConfigSource,
  FailoverConfig,
  GatewayConfig,
  OnExhausted,
} from '../config/types.ts';
import { type Ledger, laneKey } from '../ledger/ledger.ts';
import { MemoryLedger } from '../ledger/memory.ts';
import type { Operation } from '../protocols/routes.ts';
import { type BreakerCell, DEFAULT_BREAKER, type RandomInt } from '../reliability/breaker.ts';
import { type Clock, systemClock } from '../reliability/clock.ts';
import { UpstreamEndpoint } from '../upstream/endpoint.ts';
import { Lane } from './lane.ts';
import { LaneStates } from './lane-state.ts';
import { type RoutePolicy, routePolicy } from './policy.ts';

/** Failover defaults of direct and ad-hoc routes (G-RTE-8); the deadline is `limits:`'s. */
function directFailover(config: GatewayConfig): FailoverConfig {
  return Object.freeze({
    deadlineSecs: config.limits.requestDeadlineSecs,
    cap: 3,
    exclusions: [],
    attemptTimeoutMs: undefined,
  });
}
const REJECT: OnExhausted = Object.freeze({ action: 'reject' });

export class Member {
  readonly lane: Lane;
  /** As configured; 0 for drained and for excluded members: never picked, still hashed by affinity. */
  readonly configuredWeight: number;
  readonly contextMax: number | undefined;
  /** Listed in `failover.exclusions`: never a candidate of this pool (G-POOL-12). */
  readonly excluded: boolean;
  readonly costPerMtok: number | undefined;
  readonly tier: string | undefined;
  readonly tags: readonly string[];
  /** One attempt's connect plus head must arrive within this (ms): the pool's, else the model's. */
  readonly attemptTimeoutMs: number | undefined;
  readonly #pool: string | undefined;
  readonly #breaker: BreakerConfig;
  #cell: BreakerCell | undefined;

  constructor(
    lane: Lane,
    weight: number,
    contextMax: number | undefined,
    pool: string | undefined,
    breaker: BreakerConfig,
    excluded = false,
    costPerMtok: number | undefined = undefined,
    tier: string | undefined = undefined,
    tags: readonly string[] = [],
    attemptTimeoutMs: number | undefined = lane.model.attemptTimeoutMs,
  ) {
    this.lane = lane;
    this.attemptTimeoutMs = attemptTimeoutMs;
    this.configuredWeight = excluded ? 0 : weight;
    this.contextMax = contextMax;
    this.excluded = excluded;
    this.costPerMtok = costPerMtok;
    this.tier = tier;
    this.tags = tags;
    this.#pool = pool;
    this.#breaker = breaker;
  }

  /** The weight picks use: 0 while an operator has the lane drained (pool members only). */
  get weight(): number {
    return this.#pool !== undefined && this.lane.state.drained ? 0 : this.configuredWeight;
  }

  /** This member's breaker cell: the pool's cell for the lane (made on first use), or the default cell. */
  get cell(): BreakerCell {
    this.#cell ??=
      this.#pool === undefined ? this.lane.defaultCell : this.lane.cellFor(this.#pool, this.#breaker);
    return this.#cell;
  }
}

export class RouteTarget {
  /** Pool name, or the model name for a direct route (also the metrics label). */
  readonly name: string;
  readonly isPool: boolean;
  readonly members: readonly Member[];
  readonly deadlineMs: number;
  readonly cap: number;
  readonly onExhausted: OnExhausted;
  /** Session-affinity header (lowercase); pools only (G-POOL-14). */
  readonly affinityHeader: string | undefined;
  /** The pool's routing policy; undefined for weighted pools and direct routes (G-POL-1, G-POL-2). */
  readonly policy: RoutePolicy | undefined;
  /** What its members serve; every member serves the same (config validation). */
  readonly mode: Operation;

  constructor(
    name: string,
    members: readonly Member[],
    failover: FailoverConfig,
    onExhausted: OnExhausted,
    affinityHeader: string | undefined,
    policy: RoutePolicy | undefined = undefined,
  ) {
    this.name = name;
    this.policy = policy;
    this.isPool = affinityHeader !== undefined;
    this.members = members;
    this.deadlineMs = failover.deadlineSecs * 1000;
    this.cap = failover.cap;
    this.onExhausted = onExhausted;
    this.affinityHeader = affinityHeader;
    this.mode = members[0]?.lane.model.mode ?? 'chat';
  }

  /** G-FO-20: the smallest remaining cooldown among the members' cells here, at least 1 s. */
  retryAfterSecs(now: number): number {
    let best = Number.POSITIVE_INFINITY;
    for (const m of this.members) best = Math.min(best, m.cell.cooldownRemaining(now));
    return Math.max(1, Number.isFinite(best) ? best : 1);
  }
}

export type Resolution =
  | { readonly kind: 'target'; readonly target: RouteTarget }
  | { readonly kind: 'not_found' }
  /** Ad-hoc route naming a real model on another provider (G-RTE-7). */
  | { readonly kind: 'provider_mismatch' };

/** What a requested name resolves to, wherever the current table is (a reload swaps it). */
export interface NameResolver {
  resolve(name: string): Resolution;
}

/** What lanes learn at run time, kept across routing tables: states and the ledger. */
export interface LaneMemory {
  readonly states: LaneStates;
  readonly ledger: Ledger;
}

/** Fresh lane memory on `clock` (the wall clock unless a test moves time). */
export function newLaneMemory(clock: Clock = systemClock, rand?: RandomInt): LaneMemory {
  return { states: new LaneStates(clock, rand), ledger: new MemoryLedger() };
}

export class RoutingTable {
  readonly lanes: ReadonlyMap<string, Lane>;
  readonly pools: ReadonlyMap<string, RouteTarget>;
  readonly #direct: ReadonlyMap<string, RouteTarget>;
  /** Every name a client may request: pools, then models, in config order. */
  readonly names: readonly string[];
  readonly clock: Clock;
  /** The loaded files this table was built from (/stats shows it). */
  readonly source: ConfigSource;

  constructor(config: GatewayConfig, memory: LaneMemory = newLaneMemory()) {
    const clock = memory.states.clock;
    this.clock = clock;
    this.source = config.source;
    const lanes = new Map<string, Lane>();
    const direct = new Map<string, RouteTarget>();
    const directDefaults = directFailover(config);
    for (const model of config.models.values()) {
      const key = laneKey(model);
      const lane = new Lane(
        model,
        key,
        new UpstreamEndpoint(model),
        clock,
        memory.states.stateFor(key, model.maxConcurrent),
        memory.ledger.account(key, model.maxRequests),
      );
      lanes.set(model.name, lane);
      const only = new Member(lane, 1, model.contextMax, undefined, DEFAULT_BREAKER);
      direct.set(model.name, new RouteTarget(model.name, [only], directDefaults, REJECT, undefined));
    }
    const pools = new Map<string, RouteTarget>();
    for (const pool of config.pools.values()) {
      const excluded = new Set(pool.failover.exclusions);
      const members = pool.members.map((m) => {
        const lane = lanes.get(m.target)!;
        const contextMax = lane.model.contextMax ?? m.contextMax;
        const out = excluded.has(m.target);
        return new Member(
          lane,
          m.weight,
          contextMax,
          pool.name,
          pool.breaker,
          out,
          m.costPerMtok,
          m.tier,
          m.tags,
          pool.failover.attemptTimeoutMs ?? lane.model.attemptTimeoutMs,
        );
      });
      pools.set(
        pool.name,
        new RouteTarget(
          pool.name,
          members,
          pool.failover,
          pool.onExhausted,
          pool.affinityHeader.toLowerCase(),
          pool.policy === undefined ? undefined : routePolicy(pool.policy, members),
        ),
      );
    }
    this.lanes = lanes;
    this.pools = pools;
    this.#direct = direct;
    this.names = Object.freeze([...pools.keys(), ...[...direct.keys()].filter((n) => !pools.has(n))]);
  }

  resolve(name: string): Resolution {
    const target = this.pools.get(name) ?? this.#direct.get(name);
    return target === undefined ? { kind: 'not_found' } : { kind: 'target', target };
  }

  /** `/{provider}/{model}/v1/messages`: the model must be configured on exactly that provider. */
  resolveAdhoc(provider: string, model: string): Resolution {
    const target = this.#direct.get(model);
    if (target === undefined) return { kind: 'not_found' };
    if (target.members[0]!.lane.model.provider.name !== provider) return { kind: 'provider_mismatch' };
    return { kind: 'target', target };
  }
}
