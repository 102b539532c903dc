// Name → target resolution (G-RTE-6…9): pools first, then models; plus the ad-hoc
// `/{provider}/{model}` form. Built once at startup.

import type { GatewayConfig, PoolConfig } from '../config/types.ts';
import { OriginPools } from '../upstream/origins.ts';
import { UpstreamTarget } from '../upstream/target.ts';
import { Lane } from './lane.ts';
import { pickSwrr, type SwrrMember } from './swrr.ts';

/** Failover defaults of direct and ad-hoc routes (G-RTE-8). */
const DIRECT_DEADLINE_SECS = 120;

export interface PoolMember extends SwrrMember {
  readonly lane: Lane;
}

export class Pool {
  readonly name: string;
  readonly config: PoolConfig;
  readonly members: readonly PoolMember[];
  readonly deadlineMs: number;

  constructor(config: PoolConfig, lanes: ReadonlyMap<string, Lane>) {
    this.name = config.name;
    this.config = config;
    const excluded = new Set(config.failover.exclusions);
    this.members = config.members.map((m) => ({
      lane: lanes.get(m.target)!,
      // Excluded members stay in the list (affinity hashes over it) but never get picked.
      weight: excluded.has(m.target) ? 0 : m.weight,
      currentWeight: 0,
    }));
    this.deadlineMs = config.failover.deadlineSecs * 1000;
  }

  pick(): Lane | undefined {
    const at = pickSwrr(this.members, (i) => this.members[i]!.lane.admissible);
    return at < 0 ? undefined : this.members[at]!.lane;
  }
}

export type Resolution =
  | { readonly kind: 'pool'; readonly pool: Pool }
  | { readonly kind: 'lane'; readonly lane: Lane; readonly deadlineMs: number }
  | { readonly kind: 'not_found' }
  /** Ad-hoc route naming a real model on another provider (G-RTE-7). */
  | { readonly kind: 'provider_mismatch' };

export class Targets {
  readonly lanes: ReadonlyMap<string, Lane>;
  readonly pools: ReadonlyMap<string, Pool>;
  readonly origins = new OriginPools();

  constructor(config: GatewayConfig) {
    const lanes = new Map<string, Lane>();
    for (const model of config.models.values())
      lanes.set(model.name, new Lane(model, new UpstreamTarget(model)));
    this.lanes = lanes;
    const pools = new Map<string, Pool>();
    for (const pool of config.pools.values()) pools.set(pool.name, new Pool(pool, lanes));
    this.pools = pools;
  }

  resolve(name: string): Resolution {
    const pool = this.pools.get(name);
    if (pool !== undefined) return { kind: 'pool', pool };
    const lane = this.lanes.get(name);
    if (lane !== undefined) return { kind: 'lane', lane, deadlineMs: DIRECT_DEADLINE_SECS * 1000 };
    return { kind: 'not_found' };
  }

  /** `/{provider}/{model}/v1/messages`: the model must be configured on exactly that provider. */
  resolveAdhoc(provider: string, model: string): Resolution {
    const lane = this.lanes.get(model);
    if (lane === undefined) return { kind: 'not_found' };
    if (lane.model.provider.name !== provider) return { kind: 'provider_mismatch' };
    return { kind: 'lane', lane, deadlineMs: DIRECT_DEADLINE_SECS * 1000 };
  }
}
