// The metric catalogue (G-OBS-10…24) and how a finished request feeds it. Counters move once per
// request, in the finish listener, from what the request context recorded on its way; gauges are
// computed when scraped, never on the request path. Every label value comes from configuration or
// a fixed enumeration (G-OBS-23): pool and model names, protocol names, outcome codes.

import type { GatewayConfig } from '../config/types.ts';
import type { RequestContext } from '../lifecycle/context.ts';
import type { OutcomeCode } from '../lifecycle/finish.ts';
import { log } from '../log.ts';
import type { NameResolver, RoutingTable } from '../routing/table.ts';
import { Family, Registry } from './exposition.ts';
import { laneAvailability, UNAVAILABLE_REASONS } from './lane-availability.ts';

/** G-OBS-11 buckets, seconds. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
/** G-OBS-24 */
export const MAX_KEY_SERIES = 2000;

/** One virtual key's figures for its current budget window, as the governance arbiter knows them. */
export interface KeyFigures {
  readonly id: string;
  readonly spendCents: number;
  readonly tokens: number;
  readonly capCents: number | null;
  /** Requests in the budget window, where the source knows it. */
  readonly requests?: number;
  /** Requests and tokens in the key's current RPM/TPM window, where the source knows them. */
  readonly rpmUsed?: number;
  readonly tpmUsed?: number;
}

/** Where the per-key gauges come from: the process that runs the governance arbiter. */
export interface KeyFiguresSource {
  keyFigures(nowMs: number, limit: number): { figures: KeyFigures[]; truncated: boolean };
}

/** A shared governance store as this process sees it (governance/store-health.ts). */
export interface StoreHealthSource {
  readonly store: string;
  readonly up: boolean;
  readonly errors: number;
}

const counter = (name: string, help: string, labelNames: string[]): Family =>
  new Family({ name, help, type: 'counter', labelNames });
const gauge = (name: string, help: string, labelNames: string[], merge: 'sum' | 'max' | 'min'): Family =>
  new Family({ name, help, type: 'gauge', labelNames, merge });

export type AnsweredOutcome = 'ok' | 'exhausted' | 'client_error' | 'error';

/**
 * G-OBS-10: a request counts once its response headers were produced; refused credentials and
 * oversized bodies do not count. Its outcome label: 2xx ok, 503 exhausted, other 4xx client_error,
 * anything else error.
 */
export function answeredOutcome(ctx: RequestContext, outcome: OutcomeCode): AnsweredOutcome | undefined {
  if (!ctx.res.headersSent || outcome === 'unauthorized' || outcome === 'body_too_large') return undefined;
  const status = ctx.res.statusCode;
  if (status >= 200 && status < 300) return 'ok';
  if (status === 503) return 'exhausted';
  return status >= 400 && status < 500 ? 'client_error' : 'error';
}

/**
 * G-OBS-23: the `pool` label — the target's name, or for a request refused before resolution
 * (governance) the name it asked for when that is a configured pool or model, else `unresolved`.
 */
export function poolLabel(ctx: RequestContext, table: NameResolver): string {
  if (ctx.target !== undefined) return ctx.target.name;
  return ctx.name !== '' && table.resolve(ctx.name).kind === 'target' ? ctx.name : 'unresolved';
}

/** Which optional features the node runs; workers and the primary must agree. */
export interface CatalogueFeatures {
  readonly governance: boolean;
  /** Governance on the shared PostgreSQL + Redis stores. */
  readonly fleet: boolean;
  readonly tracing: boolean;
  readonly requestLog: boolean;
}

/** The features `config` switches on. */
export function catalogueFeatures(config: GatewayConfig): CatalogueFeatures {
  const o = config.observability;
  return {
    governance: config.governance !== undefined,
    fleet: config.governance?.fleet !== undefined,
    tracing: o.otlp !== undefined,
    requestLog: o.requestLogWebhookUrl !== undefined || o.requestLogFile !== undefined,
  };
}

/** Every family the gateway exposes, in exposition order. Workers and the primary build the same. */
export class Catalogue {
  readonly requests = counter(
    'busbar_requests_total',
    'Inference requests answered, by ingress protocol, pool and outcome.',
    ['ingress_protocol', 'pool', 'outcome'],
  );
  readonly duration = new Family({
    name: 'busbar_request_duration_seconds',
    help: 'Time from request arrival to response headers.',
    type: 'histogram',
    labelNames: ['ingress_protocol', 'pool'],
    bounds: DURATION_BUCKETS,
  });
  readonly policySelections = counter(
    'busbar_route_policy_selections_total',
    'Requests whose member order a routing policy chose.',
    ['policy', 'pool'],
  );
  readonly routeDecisions = counter(
    'busbar_route_decisions_total',
    'Routing-policy decisions by outcome: prefer, abstain, timeout, error, reject.',
    ['pool', 'policy', 'outcome'],
  );
  readonly attempts = counter(
    'busbar_upstream_attempts_total',
    'Upstream attempts of the main failover loop.',
    ['pool', 'lane'],
  );
  readonly failures = counter(
    'busbar_upstream_failures_total',
    'Upstream failures recorded against a lane, by disposition.',
    ['pool', 'lane', 'disposition'],
  );
  readonly trips = counter(
    'busbar_breaker_trips_total',
    'Breaker trips (closed to open) and hard-downs from organic traffic.',
    ['pool', 'lane'],
  );
  readonly failovers = counter(
    'busbar_failovers_total',
    'Decisions to move a request on to the next pool member, by reason.',
    ['pool', 'reason'],
  );
  readonly translations = counter(
    'busbar_translations_total',
    'Upstream attempts translated from one protocol to another.',
    ['from', 'to'],
  );
  readonly losses = counter(
    'busbar_translation_losses_total',
    "Request fields dropped on a translated attempt because the upstream's protocol has no place for them.",
    ['from', 'to', 'field'],
  );
  readonly keySpend = gauge(
    'busbar_key_spend_cents',
    "A virtual key's spend in its current budget window, cents.",
    ['key'],
    'max',
  );
  readonly keyRemaining = gauge(
    'busbar_key_budget_remaining_cents',
    "A capped virtual key's budget left in its current window, cents.",
    ['key'],
    'max',
  );
  readonly keyTokens = gauge(
    'busbar_key_tokens_total',
    "A virtual key's tokens in its current budget window.",
    ['key'],
    'max',
  );
  readonly laneState = gauge(
    'busbar_lane_state',
    "A pool member's breaker: 0 healthy, 1 cooling down in this pool, 2 cooling down and usable nowhere.",
    ['pool', 'lane'],
    'max',
  );
  readonly laneAvailable = gauge(
    'busbar_lane_available',
    'Whether a lane can take a request now (1) or not (0); with workers, 1 if any worker can.',
    ['lane'],
    'max',
  );
  readonly laneUnavailable = gauge(
    'busbar_lane_unavailable',
    'Why a lane cannot take a request now: 1 on the current reason, 0 on the others.',
    ['lane', 'reason'],
    'max',
  );
  readonly laneRecovery = gauge(
    'busbar_lane_recovery_ms',
    'Milliseconds until an unavailable lane may serve again; 0 available or any moment, -1 not by waiting.',
    ['lane'],
    'min',
  );
  readonly storeUp = gauge(
    'busbar_governance_store_up',
    'Whether a shared governance store answered its last call (1) or not (0); with workers, 0 if any worker failed.',
    ['store'],
    'min',
  );
  readonly storeErrors = counter(
    'busbar_governance_store_errors_total',
    'Calls to a shared governance store that failed or timed out.',
    ['store'],
  );
  readonly spansDropped = counter(
    'busbar_trace_spans_dropped_total',
    'Spans dropped because the trace export queue was full or an export failed.',
    [],
  );
  readonly requestLogDropped = counter(
    'busbar_request_log_dropped_total',
    'Request-log records dropped because a sink was full or failed.',
    ['sink'],
  );
  readonly registry: Registry;

  /** Families of a feature that is off are left out (governance's per-key gauges, the sinks' drops). */
  constructor(features: CatalogueFeatures) {
    if (features.tracing) this.spansDropped.series();
    this.registry = new Registry([
      this.requests,
      this.duration,
      this.policySelections,
      this.routeDecisions,
      this.attempts,
      this.failures,
      this.trips,
      this.failovers,
      this.translations,
      this.losses,
      ...(features.governance ? [this.keySpend, this.keyRemaining, this.keyTokens] : []),
      ...(features.fleet ? [this.storeUp, this.storeErrors] : []),
      this.laneState,
      this.laneAvailable,
      this.laneUnavailable,
      this.laneRecovery,
      ...(features.tracing ? [this.spansDropped] : []),
      ...(features.requestLog ? [this.requestLogDropped] : []),
    ]);
  }

  #table: RoutingTable | undefined;

  /** The lane gauges read `table` at every scrape; request labels resolve names against it. */
  watchLanes(table: RoutingTable): void {
    this.#table = table;
    this.laneState.collect = () => {
      this.laneState.clear();
      const now = table.clock.nowSecs();
      for (const pool of table.pools.values()) {
        for (const m of pool.members) {
          const cell = m.lane.state.peekCell(pool.name);
          const cooling = cell.cooldownRemaining(now) > 0 || cell.state === 'half_open';
          const value = cooling ? (m.lane.usable(now) ? 1 : 2) : 0;
          this.laneState.set([pool.name, String(m.lane.index)], value);
        }
      }
    };
    this.laneAvailable.collect = () => {
      this.laneAvailable.clear();
      this.laneUnavailable.clear();
      this.laneRecovery.clear();
      const nowMs = table.clock.nowMs();
      for (const lane of table.lanes.values()) {
        const a = laneAvailability(lane, nowMs);
        this.laneAvailable.set([lane.name], a.available ? 1 : 0);
        for (const reason of UNAVAILABLE_REASONS)
          this.laneUnavailable.set([lane.name, reason], a.reason === reason ? 1 : 0);
        this.laneRecovery.set([lane.name], a.recoversInMs);
      }
    };
  }

  /** The per-key gauges read the governance arbiter at every scrape (G-OBS-18…20, 24). */
  watchKeys(source: KeyFiguresSource, now: () => number = Date.now): void {
    let warned = false;
    this.keySpend.collect = () => {
      this.keySpend.clear();
      this.keyRemaining.clear();
      this.keyTokens.clear();
      const { figures, truncated } = source.keyFigures(now(), MAX_KEY_SERIES);
      if (truncated && !warned) {
        warned = true;
        log.warn(
          { limit: MAX_KEY_SERIES },
          'more virtual keys than per-key metric series; the rest are left out',
        );
      }
      for (const k of figures) {
        this.keySpend.set([k.id], k.spendCents);
        this.keyTokens.set([k.id], k.tokens);
        if (k.capCents !== null) this.keyRemaining.set([k.id], Math.max(0, k.capCents - k.spendCents));
      }
    };
  }

  /** The shared stores' health, read at every scrape. */
  watchStores(stores: readonly StoreHealthSource[]): void {
    this.storeUp.collect = () => {
      for (const s of stores) {
        this.storeUp.set([s.store], s.up ? 1 : 0);
        this.storeErrors.series(s.store).value = s.errors;
      }
    };
  }

  /** The finish listener: one request's counters and its duration. */
  readonly record = (ctx: RequestContext, outcome: OutcomeCode): void => {
    for (const hop of ctx.hops) {
      const egress = hop.lane.upstream.protocol;
      if (egress !== ctx.ingress) this.translations.series(ctx.ingress, egress).value++;
      for (const field of hop.lost) this.losses.series(ctx.ingress, egress, field).value++;
      // G-OBS-13…16 count the main failover loop; on_exhausted's degraded hops are not counted.
      if (hop.degraded) continue;
      const lane = hop.lane.name;
      this.attempts.series(hop.pool, lane).value++;
      if (hop.failure !== undefined) this.failures.series(hop.pool, lane, hop.failure).value++;
      if (hop.failover !== undefined) this.failovers.series(hop.pool, hop.failover).value++;
      if (hop.tripped) this.trips.series(hop.pool, lane).value++;
    }
    // G-POL-7: a policy's order was used; the pool is the configured one it belongs to.
    const target = ctx.target;
    if (ctx.routePolicy !== undefined && target !== undefined)
      this.policySelections.series(ctx.routePolicy, target.name).value++;
    // G-OBS-22: every decision a pool's policy made, whatever came of it.
    if (ctx.routeDecision !== undefined && target?.policy !== undefined)
      this.routeDecisions.series(target.name, target.policy.name, ctx.routeDecision).value++;
    const label = answeredOutcome(ctx, outcome);
    if (label === undefined) return;
    const pool = this.#table === undefined ? (ctx.target?.name ?? 'unresolved') : poolLabel(ctx, this.#table);
    this.requests.series(ctx.ingress, pool, label).value++;
    const headAt = ctx.firstByteAt > 0 ? ctx.firstByteAt : ctx.endedAt;
    this.duration.observe([ctx.ingress, pool], (headAt - ctx.startedAt) / 1000);
  };
}
