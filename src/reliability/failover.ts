// The in-flight failover loop (G-FO-1…15) and exhaustion (G-FO-20…23): pick a lane, attempt it,
// and on a transient failure try the next one, all before the first byte reaches the client.

import { log } from '../log.ts';
import type { Lane } from '../routing/lane.ts';
import { type Picked, PickRequest, pickLane, pickMember, takePermit } from '../routing/pick.ts';
import type { Member, RouteTarget, Targets } from '../routing/targets.ts';
import type { InferenceContext } from '../server/context.ts';
import { deliver, relayUpstreamError } from '../server/deliver.ts';
import { answerDemo } from '../server/demo.ts';
import { spanString } from '../server/json-scan.ts';
import { errorInfo, sendError } from '../server/respond.ts';
import { attemptUpstream, type UpstreamError } from './attempt.ts';
import { recordTransientFailure } from './breaker.ts';

type HopEnd = 'done' | 'next';
type FailedAttempt = UpstreamError | { readonly kind: 'transport' };

const UNREADABLE = 'The request body is not a valid request for this API.';

/** G-POOL-14: the affinity header, else a non-empty string `system`, else none. */
function affinityKey(ctx: InferenceContext, target: RouteTarget): string | undefined {
  if (target.affinityHeader === undefined) return undefined;
  const header = ctx.req.headers[target.affinityHeader];
  if (typeof header === 'string' && header !== '') return header;
  const system = spanString(ctx.body, ctx.scan.system);
  return system ? system : undefined;
}

function timedOut(ctx: InferenceContext): void {
  sendError(ctx.res, ctx.edge, errorInfo('overloaded', 503, 'The request timed out. Please retry shortly.'));
}

function reject(ctx: InferenceContext, target: RouteTarget, lanesClock: Lane | undefined): void {
  const now = lanesClock?.clock.nowSecs() ?? Math.floor(Date.now() / 1000);
  sendError(
    ctx.res,
    ctx.edge,
    errorInfo(
      'overloaded',
      503,
      'The service is temporarily overloaded. Please retry shortly.',
      target.retryAfterSecs(now),
    ),
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
  readonly #targets: Targets;

  constructor(targets: Targets) {
    this.#targets = targets;
  }

  async serve(ctx: InferenceContext, target: RouteTarget): Promise<void> {
    const req = new PickRequest(affinityKey(ctx, target), ctx.deadline, ctx.signal);
    for (let hop = 0; hop <= target.cap; hop++) {
      if (Date.now() >= ctx.deadline) return timedOut(ctx);
      const picked = pickMember(target, req);
      if (picked === undefined) break;
      if (!(await takePermit(picked, req))) {
        if (ctx.signal.aborted) return;
        break;
      }
      req.excluded.add(picked.lane);
      if ((await this.#hop(ctx, target, picked, req.excluded)) === 'done') return;
    }
    return this.#exhaust(ctx, target, req, new Set());
  }

  /**
   * Sends one attempt on a picked lane and settles what both paths settle alike: a success is
   * delivered, a client that left or an unreadable body ends the request. Failures come back for
   * the caller's own policy, with the permit already released.
   */
  async #attempt(ctx: InferenceContext, picked: Picked): Promise<'done' | FailedAttempt> {
    const { lane, cell } = picked;
    // The permit stays held through delivery; failures give it back at once.
    ctx.holdPermit(lane);
    if (lane.model.provider.builtin === 'demo') {
      cell.recordSuccess();
      await answerDemo(ctx, lane);
      return 'done';
    }
    const result = await attemptUpstream(ctx, lane);
    switch (result.kind) {
      case 'ok': {
        // G-FO-10: success is recorded when headers arrive, before the body streams.
        cell.recordSuccess();
        lane.ok++;
        const spent = lane.spendBudget();
        await deliver(ctx, { lane, cell, spent }, result.upstream);
        return 'done';
      }
      case 'aborted':
        cell.releaseProbe();
        ctx.releasePermit();
        return 'done';
      case 'unreadable_request':
        cell.releaseProbe();
        ctx.releasePermit();
        sendError(ctx.res, ctx.edge, errorInfo('invalid_request_error', 400, UNREADABLE));
        return 'done';
      case 'transport':
      case 'http_error':
        ctx.releasePermit();
        return result;
      default: {
        const never: never = result;
        throw new Error(`unhandled attempt result ${JSON.stringify(never)}`);
      }
    }
  }

  /** One main-path hop: any outcome either ends the request or lets the loop try the next lane. */
  async #hop(
    ctx: InferenceContext,
    target: RouteTarget,
    picked: Picked,
    excluded: Set<Lane>,
  ): Promise<HopEnd> {
    const failed = await this.#attempt(ctx, picked);
    if (failed === 'done') return 'done';
    if (failed.kind === 'http_error') return this.#onHttpError(ctx, target, picked, failed, excluded);
    recordTransientFailure(picked.lane, picked.cell);
    return 'next';
  }

  #onHttpError(
    ctx: InferenceContext,
    target: RouteTarget,
    picked: Picked,
    e: UpstreamError,
    excluded: Set<Lane>,
  ): HopEnd {
    const { lane, cell } = picked;
    // G-BRK-5: in passthrough a 401/403 is the caller's own credential failing.
    if (ctx.passthroughCredential !== false && (e.status === 401 || e.status === 403)) {
      cell.releaseProbe();
      relayUpstreamError(ctx, lane, e);
      return 'done';
    }
    switch (e.disposition) {
      case 'client_fault':
        lane.clientFault++;
        cell.releaseProbe();
        relayUpstreamError(ctx, lane, e);
        return 'done';
      case 'transient':
        recordTransientFailure(lane, cell, e.retryAfter);
        return 'next';
      case 'hard_down':
        lane.err++;
        lane.hardDown(
          e.cls === 'auth' ? `auth rejected (HTTP ${e.status})` : 'billing / insufficient balance',
        );
        log.warn({ lane: lane.name, status: e.status }, 'lane hard-down');
        if (e.cls !== 'auth') return 'next';
        // G-FO-9: the upstream body concerns the gateway's own key and is never relayed.
        sendError(ctx.res, ctx.edge, ctx.edge.authFailure());
        return 'done';
      case 'context_length':
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
    ctx: InferenceContext,
    target: RouteTarget,
    req: PickRequest,
    visited: Set<string>,
  ): Promise<void> {
    const action = target.onExhausted;
    switch (action.action) {
      case 'reject':
        return reject(ctx, target, target.members[0]?.lane);
      case 'least_bad':
        return this.#leastBad(ctx, target);
      case 'fallback_pool':
        return this.#fallback(ctx, target, action.pool, req, visited);
      default: {
        const never: never = action;
        throw new Error(`unhandled on_exhausted ${JSON.stringify(never)}`);
      }
    }
  }

  /** G-FO-21: one attempt on the member with the least remaining cooldown, readiness bypassed. */
  async #leastBad(ctx: InferenceContext, target: RouteTarget): Promise<void> {
    let best: Member | undefined;
    for (const m of target.members) {
      if (m.weight <= 0 || !m.lane.admissible) continue;
      if (best === undefined || m.cell.cooldownRemaining() < best.cell.cooldownRemaining()) best = m;
    }
    if (best === undefined || !best.lane.permits.tryAcquire()) return reject(ctx, target, best?.lane);
    log.warn({ pool: target.name, lane: best.lane.name }, 'least-bad mode: routing to a degraded member');
    const end = await this.#degradedHop(ctx, {
      member: best,
      lane: best.lane,
      cell: best.cell,
      permitHeld: true,
    });
    if (end === 'next') reject(ctx, target, best.lane);
  }

  /** G-FO-22: SWRR over the fallback pool's members on the degraded path, then its own on_exhausted. */
  async #fallback(
    ctx: InferenceContext,
    from: RouteTarget,
    poolName: string,
    main: PickRequest,
    visited: Set<string>,
  ): Promise<void> {
    visited.add(from.name);
    if (Date.now() >= ctx.deadline) return timedOut(ctx);
    const pool = this.#targets.pools.get(poolName);
    if (pool === undefined || visited.has(pool.name)) return reject(ctx, from, from.members[0]?.lane);
    visited.add(pool.name);
    // Fallback pools never use affinity; lanes already tried stay excluded.
    const req = new PickRequest(undefined, ctx.deadline, ctx.signal, main.excluded);
    for (;;) {
      if (Date.now() >= ctx.deadline) return timedOut(ctx);
      const picked = await pickLane(pool, req);
      if (picked === undefined && ctx.signal.aborted) return;
      if (picked === undefined) return this.#exhaust(ctx, pool, req, visited);
      req.excluded.add(picked.lane);
      if ((await this.#degradedHop(ctx, picked)) === 'done') return;
    }
  }

  /** G-FO-23: any HTTP answer goes to the client; only a transport failure moves on. */
  async #degradedHop(ctx: InferenceContext, picked: Picked): Promise<HopEnd> {
    const failed = await this.#attempt(ctx, picked);
    if (failed === 'done') return 'done';
    if (failed.kind === 'http_error') {
      picked.cell.releaseProbe();
      relayUpstreamError(ctx, picked.lane, failed);
      return 'done';
    }
    recordTransientFailure(picked.lane, picked.cell);
    return 'next';
  }
}
