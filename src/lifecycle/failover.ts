// The attempt stage: the in-flight failover loop (G-FO-1…15) and exhaustion (G-FO-20…23). Pick a
// member, attempt it, and on a transient failure try the next one, all before the first byte
// reaches the client. Every path returns the request's outcome code; nothing here counts.

import { log } from '../log.ts';
import { HARD_DOWN_SECS } from '../reliability/breaker.ts';
import type { Lane } from '../routing/lane.ts';
import { type Picked, PickRequest, pickLane, pickMember, takePermit } from '../routing/pick.ts';
import type { Member, RouteTarget, RoutingTable } from '../routing/table.ts';
import { attemptUpstream, type UpstreamError } from './attempt.ts';
import type { RequestContext } from './context.ts';
import { deliver, kindForStatus, relayUpstreamError } from './deliver.ts';
import type { OutcomeCode } from './finish.ts';
import { spanString } from './json-scan.ts';
import type { PolicyVerdict } from './policy-verdict.ts';
import { errorInfo, sendError } from './respond.ts';
import { askScript } from './script-policy.ts';
import { askWebhook } from './webhook-policy.ts';

/** A hop either ended the request with an outcome or lets the loop try the next member. */
type HopEnd = OutcomeCode | 'next';
type FailedAttempt = UpstreamError | { readonly kind: 'transport'; readonly reason: 'timeout' | 'connect' };

/** G-POOL-14: the affinity header, else a non-empty string `system`, else none. */
function affinityKey(ctx: RequestContext, target: RouteTarget): string | undefined {
  if (target.affinityHeader === undefined) return undefined;
  const header = ctx.req.headers[target.affinityHeader];
  if (typeof header === 'string' && header !== '') return header;
  const system = spanString(ctx.body, ctx.scan.system);
  return system ? system : undefined;
}

/** A native 503 `overloaded` answer, with Retry-After when given. */
function overloaded(ctx: RequestContext, message: string, retryAfter?: number): void {
  sendError(ctx.res, ctx.edge, errorInfo('overloaded', 503, message, retryAfter));
}

function timedOut(ctx: RequestContext): OutcomeCode {
  overloaded(ctx, 'The request timed out. Please retry shortly.');
  return 'deadline';
}

function reject(ctx: RequestContext, target: RouteTarget): OutcomeCode {
  overloaded(
    ctx,
    'The service is temporarily overloaded. Please retry shortly.',
    target.retryAfterSecs(ctx.clock.nowSecs()),
  );
  return 'exhausted';
}

/** An upstream answer that concerns the credential it was sent with (401, 402, 403, 429, billing). */
function aboutCallersKey(e: UpstreamError): boolean {
  return (
    e.status === 401 ||
    e.status === 402 ||
    e.status === 403 ||
    e.status === 429 ||
    e.cls === 'auth' ||
    e.cls === 'billing' ||
    e.cls === 'rate_limit'
  );
}

/** G-FO-15: after a context-length error, members no larger than the failing lane are out too. */
function excludeSmaller(target: RouteTarget, failed: Member, excluded: Set<Lane>): void {
  const limit = failed.contextMax;
  if (limit === undefined) return;
  for (const m of target.members)
    if (m.contextMax !== undefined && m.contextMax <= limit) excluded.add(m.lane);
}

export class Failover {
  readonly #table: RoutingTable;
  /** When each pool's last policy-failure warning was logged. */
  readonly #policyWarned = new Map<string, number>();

  constructor(table: RoutingTable) {
    this.#table = table;
  }

  async serve(ctx: RequestContext, target: RouteTarget): Promise<OutcomeCode> {
    const req = new PickRequest(affinityKey(ctx, target), ctx.deadline, ctx.signal);
    // G-POL-2: once per request, before the first hop, for this pool only (never a fallback pool).
    const policy = target.policy;
    if (policy?.kind === 'native') {
      const order = policy.order(ctx);
      ctx.routeDecision = order === undefined ? 'abstain' : 'prefer';
      if (order !== undefined) this.#follow(ctx, req, target, order);
    } else if (policy !== undefined) {
      const verdict =
        policy.kind === 'webhook'
          ? await askWebhook(ctx, target.name, policy)
          : await askScript(ctx, target.name, policy);
      if (ctx.signal.aborted) return 'client_gone';
      const refused = this.#apply(ctx, req, target, verdict, policy.onError, policy.candidates);
      if (refused !== undefined) return refused;
    }
    for (let hop = 0; hop <= target.cap; hop++) {
      if (ctx.clock.nowMs() >= ctx.deadline) return timedOut(ctx);
      const picked = pickMember(target, req);
      if (picked === undefined) break;
      // A caller's own key only ever goes to the provider it was first sent to.
      if (ctx.principal?.kind === 'passthrough') req.provider ??= picked.lane.model.provider.name;
      // A free permit is taken at once; only a full lane is waited for.
      const permit = takePermit(picked, req);
      const held = typeof permit === 'boolean' ? permit : await permit;
      if (!held) {
        if (ctx.signal.aborted) return 'client_gone';
        break;
      }
      req.excluded.add(picked.lane);
      const end = await this.#hop(ctx, target, picked, req.excluded);
      if (end !== 'next') return end;
    }
    return this.#exhaust(ctx, target, req, new Set());
  }

  /** A failing hook is worth a warning, but not one per request: at most one a minute per pool. */
  #logPolicyFailure(pool: string, reason: string): void {
    const now = Date.now();
    if (now - (this.#policyWarned.get(pool) ?? 0) < 60_000) return;
    this.#policyWarned.set(pool, now);
    log.warn({ pool, reason }, 'routing policy decision failed; on_error applies');
  }

  /** The pool walks `order` before SWRR; the request counts as the policy's (G-POL-6, G-POL-7). */
  #follow(ctx: RequestContext, req: PickRequest, target: RouteTarget, order: readonly Member[]): void {
    req.order = order;
    req.orderedTarget = target;
    ctx.routePolicy = target.policy?.name;
  }

  /** G-POL-5: a decision's outcome; an outcome code when the request ends here. */
  #apply(
    ctx: RequestContext,
    req: PickRequest,
    target: RouteTarget,
    verdict: PolicyVerdict,
    onError: 'weighted' | 'reject' | 'first',
    candidates: readonly Member[],
  ): OutcomeCode | undefined {
    ctx.routeDecision =
      verdict.kind === 'order'
        ? 'prefer'
        : verdict.kind === 'error' && verdict.timedOut === true
          ? 'timeout'
          : verdict.kind;
    switch (verdict.kind) {
      case 'order':
        this.#follow(ctx, req, target, verdict.order);
        return undefined;
      case 'abstain':
        return undefined;
      case 'reject':
        sendError(
          ctx.res,
          ctx.edge,
          errorInfo(kindForStatus(verdict.status), verdict.status, verdict.message),
        );
        return 'policy_rejected';
      case 'error':
        this.#logPolicyFailure(target.name, verdict.reason);
        if (onError === 'first') this.#follow(ctx, req, target, candidates);
        else if (onError === 'reject') {
          // G-POL-5: no upstream call, no Retry-After.
          overloaded(ctx, 'The routing policy could not select an upstream. Please retry shortly.');
          return 'policy_rejected';
        }
        return undefined;
    }
  }

  /**
   * Sends one attempt on a picked lane and settles what both paths settle alike: a success is
   * delivered, a client that left or an unreadable body ends the request. Failures come back for
   * the caller's own policy, with the permit already released and the hop marked failed.
   */
  async #attempt(
    ctx: RequestContext,
    picked: Picked,
    pool: string,
    degraded: boolean,
  ): Promise<OutcomeCode | FailedAttempt> {
    const { lane, cell } = picked;
    // The permit stays held through delivery; failures give it back at once.
    ctx.holdPermit(lane);
    const hop = ctx.beginHop(lane, pool, degraded);
    const result = await attemptUpstream(ctx, lane, picked.member.attemptTimeoutMs);
    hop.respondedAt = performance.now();
    switch (result.kind) {
      case 'ok':
        // G-FO-10: success is recorded when headers arrive, before the body streams; the budget
        // unit is taken now, so concurrent requests never pass the limit (G-POOL-4).
        cell.recordSuccess();
        hop.result = 'ok';
        hop.status = result.upstream.statusCode;
        hop.latencyMs = result.latencyMs;
        hop.spent = lane.account.spend();
        return deliver(ctx, { lane, cell, hop }, result.upstream, result.relayed);
      case 'aborted':
        cell.releaseProbe();
        ctx.releasePermit();
        return 'client_gone';
      case 'unreadable_request':
        cell.releaseProbe();
        ctx.releasePermit();
        sendError(ctx.res, ctx.edge, errorInfo('invalid_request_error', 400, result.message));
        return 'unreadable_request';
      case 'http_error':
        hop.status = result.status;
        ctx.releasePermit();
        return result;
      case 'transport':
        ctx.releasePermit();
        return result;
      default: {
        const never: never = result;
        throw new Error(`unhandled attempt result ${JSON.stringify(never)}`);
      }
    }
  }

  /** One main-path hop: any outcome either ends the request or lets the loop try the next lane. */
  async #hop(ctx: RequestContext, target: RouteTarget, picked: Picked, excluded: Set<Lane>): Promise<HopEnd> {
    const failed = await this.#attempt(ctx, picked, target.name, false);
    if (typeof failed === 'string') return failed;
    if (failed.kind === 'http_error') return this.#onHttpError(ctx, target, picked, failed, excluded);
    // G-FO-6: a transport failure is transient, with no Retry-After.
    const hop = ctx.hops.at(-1)!;
    hop.result = 'failed';
    hop.failure = 'transient_upstream';
    hop.failover = failed.reason;
    hop.tripped = this.#recordFailure(target, picked);
    return 'next';
  }

  /** Records a failure on the hop's cell; true when it tripped the breaker (logged, G-OBS-51). */
  #recordFailure(target: RouteTarget, picked: Picked, retryAfter?: number): boolean {
    const tripped = picked.cell.recordFailure(retryAfter);
    if (tripped) log.warn({ pool: target.name, lane: picked.lane.name }, 'breaker tripped');
    return tripped;
  }

  #onHttpError(
    ctx: RequestContext,
    target: RouteTarget,
    picked: Picked,
    e: UpstreamError,
    excluded: Set<Lane>,
  ): HopEnd {
    const { lane, cell } = picked;
    const hop = ctx.hops.at(-1)!;
    // G-BRK-5, widened: in passthrough an answer about the caller's own key (refused, unpaid,
    // rate-limited per key) goes back to that caller and never touches a breaker shared by all.
    if (ctx.principal?.kind === 'passthrough' && aboutCallersKey(e)) {
      hop.result = 'client_fault';
      cell.releaseProbe();
      relayUpstreamError(ctx, lane, e);
      return 'upstream_error';
    }
    switch (e.disposition) {
      case 'client_fault':
        hop.result = 'client_fault';
        cell.releaseProbe();
        relayUpstreamError(ctx, lane, e);
        return 'upstream_error';
      case 'transient':
        hop.result = 'failed';
        hop.failure = 'transient_upstream';
        hop.failover = 'transient_upstream';
        hop.tripped = this.#recordFailure(target, picked, e.retryAfter);
        return 'next';
      case 'hard_down': {
        hop.result = 'failed';
        hop.failure = 'hard_down';
        // G-BRK-18: every organic hard-down counts as a trip.
        hop.tripped = true;
        const reason =
          e.cls === 'auth' ? `auth rejected (HTTP ${e.status})` : 'billing / insufficient balance';
        lane.hardDown(reason);
        log.warn({ lane: lane.name, reason, cooldown_s: HARD_DOWN_SECS }, 'lane hard-down');
        if (e.cls !== 'auth') {
          hop.failover = 'hard_down';
          return 'next';
        }
        // G-FO-9: the upstream body concerns the gateway's own key and is never relayed.
        sendError(ctx.res, ctx.edge, ctx.edge.authFailure());
        return 'upstream_auth';
      }
      case 'context_length':
        hop.failure = 'context_length';
        hop.failover = 'context_length';
        cell.releaseProbe();
        excludeSmaller(target, picked.member, excluded);
        return 'next';
      default: {
        const never: never = e.disposition;
        throw new Error(`unhandled disposition ${String(never)}`);
      }
    }
  }

  async #exhaust(
    ctx: RequestContext,
    target: RouteTarget,
    req: PickRequest,
    visited: Set<string>,
  ): Promise<OutcomeCode> {
    const action = target.onExhausted;
    switch (action.action) {
      case 'reject':
        return reject(ctx, target);
      case 'least_bad':
        return this.#leastBad(ctx, target, req);
      case 'fallback_pool':
        return this.#fallback(ctx, target, action.pool, req, visited);
      default: {
        const never: never = action;
        throw new Error(`unhandled on_exhausted ${JSON.stringify(never)}`);
      }
    }
  }

  /** G-FO-21: one attempt on the member with the least remaining cooldown, readiness bypassed. */
  async #leastBad(ctx: RequestContext, target: RouteTarget, req: PickRequest): Promise<OutcomeCode> {
    let best: Member | undefined;
    for (const m of target.members) {
      if (m.weight <= 0 || !m.lane.admissible) continue;
      if (req.provider !== undefined && m.lane.model.provider.name !== req.provider) continue;
      if (best === undefined || m.cell.cooldownRemaining() < best.cell.cooldownRemaining()) best = m;
    }
    if (best === undefined || !best.lane.permits.tryAcquire()) return reject(ctx, target);
    log.warn({ pool: target.name, lane: best.lane.name }, 'least-bad mode: routing to a degraded member');
    const end = await this.#degradedHop(
      ctx,
      { member: best, lane: best.lane, cell: best.cell, permitHeld: true },
      target.name,
    );
    return end === 'next' ? reject(ctx, target) : end;
  }

  /** G-FO-22: SWRR over the fallback pool's members on the degraded path, then its own on_exhausted. */
  async #fallback(
    ctx: RequestContext,
    from: RouteTarget,
    poolName: string,
    main: PickRequest,
    visited: Set<string>,
  ): Promise<OutcomeCode> {
    visited.add(from.name);
    if (ctx.clock.nowMs() >= ctx.deadline) return timedOut(ctx);
    const pool = this.#table.pools.get(poolName);
    if (pool === undefined || visited.has(pool.name)) return reject(ctx, from);
    visited.add(pool.name);
    // Fallback pools never use affinity; lanes already tried stay excluded.
    const req = new PickRequest(undefined, ctx.deadline, ctx.signal, main.excluded);
    req.provider = main.provider;
    for (;;) {
      if (ctx.clock.nowMs() >= ctx.deadline) return timedOut(ctx);
      const picked = await pickLane(pool, req);
      if (picked === undefined && ctx.signal.aborted) return 'client_gone';
      if (picked === undefined) return this.#exhaust(ctx, pool, req, visited);
      req.excluded.add(picked.lane);
      const end = await this.#degradedHop(ctx, picked, pool.name);
      if (end !== 'next') return end;
    }
  }

  /** G-FO-23: any HTTP answer goes to the client; only a transport failure moves on. */
  async #degradedHop(ctx: RequestContext, picked: Picked, pool: string): Promise<HopEnd> {
    const failed = await this.#attempt(ctx, picked, pool, true);
    if (typeof failed === 'string') return failed;
    if (failed.kind === 'http_error') {
      picked.cell.releaseProbe();
      relayUpstreamError(ctx, picked.lane, failed);
      return 'upstream_error';
    }
    picked.cell.recordFailure();
    ctx.hops.at(-1)!.result = 'failed';
    return 'next';
  }
}
