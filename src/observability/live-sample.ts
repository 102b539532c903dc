// What the dashboard's live stream is made of (issue 17): a sample is one process's traffic over
// one interval plus its lanes as they are now; samples of several workers merge into the node's.
// Everything here is plain JSON, so a sample crosses the cluster IPC channel as it is.

import type { BreakerState } from '../reliability/breaker.ts';

/** Upper bounds (ms) of the added-latency buckets; the last catches everything above. */
export const LATENCY_BOUNDS_MS = [
  0.05,
  0.1,
  0.2,
  0.3,
  0.5,
  0.75,
  1,
  1.5,
  2,
  3,
  5,
  7.5,
  10,
  15,
  20,
  30,
  50,
  75,
  100,
  150,
  200,
  300,
  500,
  750,
  1000,
  2000,
  5000,
  10_000,
  Number.POSITIVE_INFINITY,
];

export interface Traffic {
  requests: number;
  errors: number;
  failovers: number;
  tokens: number;
}

export interface LaneView {
  readonly name: string;
  readonly provider: string;
  readonly pools: readonly string[];
  /** The worst of the lane's breaker cells. */
  readonly breaker: BreakerState;
  readonly available: boolean;
  readonly reason: string;
  readonly recovers_in_ms: number;
  readonly inflight: number;
  readonly max_concurrent: number;
  readonly drained: boolean;
  readonly ok: number;
  readonly err: number;
}

export interface PoolView {
  readonly name: string;
  readonly members: readonly { readonly lane: string; readonly weight: number; readonly drained: boolean }[];
}

/** One process's interval. */
export interface LiveSample {
  readonly traffic: Traffic;
  readonly tokensIn: number;
  readonly tokensOut: number;
  /** Requests per LATENCY_BOUNDS_MS bucket. */
  readonly latency: number[];
  readonly pools: Record<string, Traffic>;
  readonly lanes: Record<string, Traffic>;
  readonly laneViews: readonly LaneView[];
  readonly poolViews: readonly PoolView[];
}

/** One interval of the whole node, as the page charts it. */
export interface LivePoint {
  readonly t: number;
  readonly interval_ms: number;
  readonly requests: number;
  readonly errors: number;
  readonly failovers: number;
  readonly tokens_in: number;
  readonly tokens_out: number;
  readonly added_p50_ms: number | null;
  readonly added_p99_ms: number | null;
  readonly pools: Record<string, Traffic>;
  readonly lanes: Record<string, Traffic>;
}

export const noTraffic = (): Traffic => ({ requests: 0, errors: 0, failovers: 0, tokens: 0 });

function addTraffic(into: Record<string, Traffic>, from: Record<string, Traffic>): void {
  for (const [name, t] of Object.entries(from)) {
    const sum = into[name] ?? noTraffic();
    into[name] = sum;
    sum.requests += t.requests;
    sum.errors += t.errors;
    sum.failovers += t.failovers;
    sum.tokens += t.tokens;
  }
}

const BREAKER_RANK: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

/**
 * Several workers' lanes as the node's: in flight and limits summed; the lane can serve if any
 * worker's can (as `busbar_lane_available`); the worst breaker; the soonest recovery.
 */
function mergeLanes(views: readonly (readonly LaneView[])[]): LaneView[] {
  const byName = new Map<string, LaneView>();
  for (const list of views) {
    for (const v of list) {
      const seen = byName.get(v.name);
      if (seen === undefined) {
        byName.set(v.name, v);
        continue;
      }
      const available = seen.available || v.available;
      byName.set(v.name, {
        ...seen,
        breaker: BREAKER_RANK[v.breaker] > BREAKER_RANK[seen.breaker] ? v.breaker : seen.breaker,
        available,
        reason: available ? '' : seen.reason || v.reason,
        recovers_in_ms: available ? 0 : Math.min(seen.recovers_in_ms, v.recovers_in_ms),
        inflight: seen.inflight + v.inflight,
        max_concurrent: seen.max_concurrent + v.max_concurrent,
        drained: seen.drained || v.drained,
        ok: seen.ok + v.ok,
        err: seen.err + v.err,
      });
    }
  }
  return [...byName.values()];
}

/** The node's sample from its workers' (one process: its own). */
export function mergeSamples(samples: readonly LiveSample[]): LiveSample {
  if (samples.length === 1) return samples[0]!;
  const traffic = noTraffic();
  const latency = LATENCY_BOUNDS_MS.map(() => 0);
  const pools: Record<string, Traffic> = {};
  const lanes: Record<string, Traffic> = {};
  let tokensIn = 0;
  let tokensOut = 0;
  for (const s of samples) {
    addTraffic({ all: traffic }, { all: s.traffic });
    s.latency.forEach((n, i) => {
      latency[i]! += n;
    });
    addTraffic(pools, s.pools);
    addTraffic(lanes, s.lanes);
    tokensIn += s.tokensIn;
    tokensOut += s.tokensOut;
  }
  return {
    traffic,
    tokensIn,
    tokensOut,
    latency,
    pools,
    lanes,
    laneViews: mergeLanes(samples.map((s) => s.laneViews)),
    // Every worker runs the same config; a drain reaches all of them.
    poolViews: samples[0]?.poolViews ?? [],
  };
}

/**
 * The q-quantile of bucketed latencies, interpolated inside its bucket; null without requests.
 * The last bucket has no upper bound: its quantiles read as the bucket's lower bound.
 */
export function quantile(buckets: readonly number[], q: number): number | null {
  const total = buckets.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < buckets.length; i++) {
    const n = buckets[i]!;
    if (n > 0 && below + n >= rank) {
      const low = i === 0 ? 0 : LATENCY_BOUNDS_MS[i - 1]!;
      const high = LATENCY_BOUNDS_MS[i]!;
      if (!Number.isFinite(high)) return low;
      return Math.round((low + ((rank - below) / n) * (high - low)) * 1000) / 1000;
    }
    below += n;
  }
  return LATENCY_BOUNDS_MS.at(-2)!;
}

export function toPoint(sample: LiveSample, t: number, intervalMs: number): LivePoint {
  return {
    t,
    interval_ms: intervalMs,
    requests: sample.traffic.requests,
    errors: sample.traffic.errors,
    failovers: sample.traffic.failovers,
    tokens_in: sample.tokensIn,
    tokens_out: sample.tokensOut,
    added_p50_ms: quantile(sample.latency, 0.5),
    added_p99_ms: quantile(sample.latency, 0.99),
    pools: sample.pools,
    lanes: sample.lanes,
  };
}
