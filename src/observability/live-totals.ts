// The dashboard's in-memory totals (issue 17): a finish listener adds each request to the current
// interval's counters, and once a second `take` hands the interval over with the lanes as they are
// now, and starts the next. Nothing is stored per request, so the cost is the same however much
// traffic has passed.

import type { RequestContext } from '../lifecycle/context.ts';
import type { OutcomeCode } from '../lifecycle/finish.ts';
import type { RoutingTable } from '../routing/table.ts';
import { laneAvailability } from './lane-availability.ts';
import {
  LATENCY_BOUNDS_MS,
  type LaneView,
  type LiveSample,
  noTraffic,
  type PoolView,
  type Traffic,
} from './live-sample.ts';
import { answeredOutcome, poolLabel } from './metrics.ts';

const LAST_BUCKET = LATENCY_BOUNDS_MS.length - 1;

function bucketOf(ms: number): number {
  for (let i = 0; i < LAST_BUCKET; i++) if (ms <= LATENCY_BOUNDS_MS[i]!) return i;
  return LAST_BUCKET;
}

function entry(map: Map<string, Traffic>, name: string): Traffic {
  let t = map.get(name);
  if (t === undefined) {
    t = noTraffic();
    map.set(name, t);
  }
  return t;
}

function count(t: Traffic, failed: boolean, failovers: number, tokens: number): void {
  t.requests++;
  if (failed) t.errors++;
  t.failovers += failovers;
  t.tokens += tokens;
}

export class LiveTotals {
  #table: RoutingTable;
  #traffic = noTraffic();
  #tokensIn = 0;
  #tokensOut = 0;
  #latency = LATENCY_BOUNDS_MS.map(() => 0);
  #pools = new Map<string, Traffic>();
  #lanes = new Map<string, Traffic>();

  constructor(table: RoutingTable) {
    this.#table = table;
  }

  /** A reloaded config's table: its lanes and pools from the next sample on. */
  use(table: RoutingTable): void {
    this.#table = table;
  }

  /** The finish listener. */
  readonly record = (ctx: RequestContext, outcome: OutcomeCode): void => {
    const answered = answeredOutcome(ctx, outcome);
    if (answered === undefined) return;
    const failed = answered === 'error' || answered === 'exhausted';
    const usage = ctx.usage;
    const tokens = usage === undefined ? 0 : usage.inputTokens + usage.outputTokens;
    let failovers = 0;
    let upstreamMs = 0;
    const hops = ctx.hops;
    for (let i = 0; i < hops.length; i++) {
      const hop = hops[i]!;
      const lane = entry(this.#lanes, hop.lane.name);
      lane.requests++;
      if (hop.failure !== undefined || hop.result === 'failed') lane.errors++;
      if (hop.failover !== undefined) failovers++;
      if (hop.respondedAt > 0) upstreamMs += hop.respondedAt - hop.startedAt;
      if (i === hops.length - 1 && outcome === 'delivered') lane.tokens += tokens;
    }
    count(entry(this.#pools, poolLabel(ctx, this.#table)), failed, failovers, tokens);
    count(this.#traffic, failed, failovers, tokens);
    if (usage !== undefined) {
      this.#tokensIn += usage.inputTokens;
      this.#tokensOut += usage.outputTokens;
    }
    // The gateway's own time to the response head: all of it, less the upstreams' (Server-Timing's split).
    const headAt = ctx.firstByteAt > 0 ? ctx.firstByteAt : ctx.endedAt;
    this.#latency[bucketOf(Math.max(0, headAt - ctx.startedAt - upstreamMs))]!++;
  };

  /** The interval so far with the lanes as they are now; the next interval starts empty. */
  take(): LiveSample {
    const sample: LiveSample = {
      traffic: this.#traffic,
      tokensIn: this.#tokensIn,
      tokensOut: this.#tokensOut,
      latency: this.#latency,
      pools: Object.fromEntries(this.#pools),
      lanes: Object.fromEntries(this.#lanes),
      laneViews: laneViews(this.#table),
      poolViews: poolViews(this.#table),
    };
    this.#traffic = noTraffic();
    this.#tokensIn = 0;
    this.#tokensOut = 0;
    this.#latency = LATENCY_BOUNDS_MS.map(() => 0);
    this.#pools = new Map();
    this.#lanes = new Map();
    return sample;
  }
}

function poolViews(table: RoutingTable): PoolView[] {
  return [...table.pools.values()].map((pool) => ({
    name: pool.name,
    members: pool.members.map((m) => ({
      lane: m.lane.name,
      weight: m.weight,
      drained: m.lane.state.drained,
    })),
  }));
}

function laneViews(table: RoutingTable): LaneView[] {
  const poolsOf = new Map<string, string[]>();
  for (const pool of table.pools.values())
    for (const m of pool.members)
      (poolsOf.get(m.lane.name) ?? poolsOf.set(m.lane.name, []).get(m.lane.name)!).push(pool.name);
  const nowMs = table.clock.nowMs();
  return [...table.lanes.values()].map((lane) => {
    const a = laneAvailability(lane, nowMs);
    const cells = lane.cells();
    const breaker = cells.some((c) => c.state === 'open')
      ? 'open'
      : cells.some((c) => c.state === 'half_open')
        ? 'half_open'
        : 'closed';
    const totals = lane.account.totals();
    return {
      name: lane.name,
      provider: lane.model.provider.name,
      pools: poolsOf.get(lane.name) ?? [],
      breaker,
      available: a.available,
      reason: a.reason ?? '',
      recovers_in_ms: a.recoversInMs,
      inflight: lane.permits.inFlight,
      max_concurrent: lane.permits.capacity,
      drained: lane.state.drained,
      ok: totals.ok,
      err: totals.err,
    };
  });
}
