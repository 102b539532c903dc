// Governance on the request path: the guard that runs before resolution (ACL, fallback ACL, rate,
// budget — G-GOV-8, in that order) and the finish listener that settles what the request owes
// (refund of a failed request's flat fee, the delivered answer's token fee — G-GOV-15…19).

import type { GatewayConfig, GovernanceConfig, ModelPrice, PoolConfig } from '../config/types.ts';
import type { RequestContext } from '../lifecycle/context.ts';
import type { OutcomeCode } from '../lifecycle/finish.ts';
import { requestedOutputCap } from '../lifecycle/output-cap.ts';
import type { AdmissionStage } from '../lifecycle/pipeline.ts';
import { errorInfo, sendError } from '../lifecycle/respond.ts';
import { log } from '../log.ts';
import type { Authority, Verdict } from './arbiter.ts';

const NO_PERMISSION = 'Your API key does not have permission to access this resource.';
const RATE_LIMITED = 'Rate limit exceeded. Please retry after the indicated time.';
const OVER_BUDGET = 'You have exceeded your current quota. Please check your plan and billing details.';

/** What admission charged, for the finish listener. */
interface Admitted {
  readonly keyId: string;
  readonly window: number;
  readonly fee: number;
  readonly charged: boolean;
  readonly atMs: number;
  readonly reservation: string | undefined;
  readonly rateWindow: number | undefined;
}

/** The dearest prices and the longest answer among the models a name may be served by. */
interface WorstCase {
  readonly price: ModelPrice;
  /** Output tokens when the request sets no cap: the models' `default_max_tokens` (0 for embeddings). */
  readonly outputCeiling: number;
}

/** The pools reachable from each name through `on_exhausted: fallback_pool:` (visited-set guarded). */
function fallbackChains(pools: ReadonlyMap<string, PoolConfig>): Map<string, readonly string[]> {
  const chains = new Map<string, readonly string[]>();
  for (const name of pools.keys()) {
    const chain: string[] = [];
    const seen = new Set([name]);
    let at = pools.get(name);
    while (at?.onExhausted.action === 'fallback_pool' && !seen.has(at.onExhausted.pool)) {
      const next = at.onExhausted.pool;
      seen.add(next);
      chain.push(next);
      at = pools.get(next);
    }
    if (chain.length > 0) chains.set(name, chain);
  }
  return chains;
}

/**
 * Each configured name's worst case, at config load (a reservation reads it per request): over the
 * pool's members and every member of the pools its fallback chain reaches.
 */
function worstCases(
  config: GatewayConfig,
  gov: GovernanceConfig,
  fallbacks: ReadonlyMap<string, readonly string[]>,
): Map<string, WorstCase> {
  const priceOf = (model: string): ModelPrice => gov.prices.get(model) ?? gov.defaultPrice;
  const ceilingOf = (model: string): number => {
    const m = config.models.get(model);
    if (m === undefined) return config.limits.upstream.defaultMaxTokens;
    return m.mode === 'chat' ? (m.defaultMaxTokens ?? config.limits.upstream.defaultMaxTokens) : 0;
  };
  const worst = (models: readonly string[]): WorstCase => ({
    price: {
      perRequestCents: gov.defaultPrice.perRequestCents,
      inputPer1kMicrocents: Math.max(0, ...models.map((m) => priceOf(m).inputPer1kMicrocents)),
      outputPer1kMicrocents: Math.max(0, ...models.map((m) => priceOf(m).outputPer1kMicrocents)),
    },
    outputCeiling: Math.max(0, ...models.map(ceilingOf)),
  });
  const membersOf = (pool: string): string[] => config.pools.get(pool)?.members.map((m) => m.target) ?? [];
  const cases = new Map<string, WorstCase>();
  for (const name of config.models.keys()) cases.set(name, worst([name]));
  for (const name of config.pools.keys()) {
    const models = [name, ...(fallbacks.get(name) ?? [])].flatMap(membersOf);
    cases.set(name, worst(models));
  }
  return cases;
}

export class Governance implements AdmissionStage {
  readonly #authority: Authority;
  readonly #fee: number;
  readonly #defaultPrice: ModelPrice;
  readonly #prices: ReadonlyMap<string, ModelPrice>;
  readonly #fallbacks: ReadonlyMap<string, readonly string[]>;
  readonly #worst: ReadonlyMap<string, WorstCase>;
  /** An ad-hoc name's worst case: the default price and output ceiling. */
  readonly #worstAdhoc: WorstCase;
  /** Per request, what admission charged; weak so an abandoned context leaves nothing behind. */
  readonly #admitted = new WeakMap<RequestContext, Admitted>();

  constructor(authority: Authority, gateway: GatewayConfig, config: GovernanceConfig) {
    this.#authority = authority;
    this.#fee = config.defaultPrice.perRequestCents;
    this.#defaultPrice = config.defaultPrice;
    this.#prices = config.prices;
    this.#fallbacks = fallbackChains(gateway.pools);
    this.#worst = worstCases(gateway, config, this.#fallbacks);
    this.#worstAdhoc = {
      price: config.defaultPrice,
      outputCeiling: gateway.limits.upstream.defaultMaxTokens,
    };
  }

  /**
   * The most this request can cost: the flat fee, every body byte as an input token (a text
   * token spans at least one byte), and its output cap (or the models' ceiling) as output tokens,
   * at the dearest prices among the models that may serve it.
   */
  #worstCost(ctx: RequestContext): number {
    const worst = this.#worst.get(ctx.name) ?? this.#worstAdhoc;
    const output = requestedOutputCap(ctx.body, ctx.scan) ?? worst.outputCeiling;
    return this.#fee + tokenCost(worst.price, ctx.body.length, output);
  }

  admit(ctx: RequestContext): OutcomeCode | undefined | Promise<OutcomeCode | undefined> {
    const { res, edge } = ctx;
    const principal = ctx.principal;
    if (principal?.kind !== 'virtual_key') {
      sendError(res, edge, edge.authFailure());
      return 'unauthorized';
    }
    const key = principal.key;
    if (key.allowed_pools.length > 0) {
      const reachable = this.#fallbacks.get(ctx.name) ?? [];
      if (!key.allowed_pools.includes(ctx.name) || reachable.some((p) => !key.allowed_pools.includes(p))) {
        log.info(
          { key: key.id, pool: ctx.name },
          'virtual key not allowed the requested name or its fallbacks',
        );
        sendError(res, edge, errorInfo('permission_error', 403, NO_PERMISSION));
        return 'forbidden';
      }
    }
    const atMs = Date.now();
    const reserveCents = this.#authority.reserves && key.max_budget_cents !== null ? this.#worstCost(ctx) : 0;
    const verdict = this.#authority.admit({ keyId: key.id, fee: this.#fee, reserveCents, nowMs: atMs });
    // The lone process answers at once; a worker waits for the primary's arbiter.
    return verdict instanceof Promise
      ? verdict.then((v) => this.#decide(ctx, key.id, v, atMs))
      : this.#decide(ctx, key.id, verdict, atMs);
  }

  #decide(ctx: RequestContext, keyId: string, verdict: Verdict, atMs: number): OutcomeCode | undefined {
    const { res, edge } = ctx;
    switch (verdict.kind) {
      case 'admitted':
        this.#admitted.set(ctx, {
          keyId,
          window: verdict.window,
          fee: this.#fee,
          charged: verdict.charged,
          atMs,
          reservation: verdict.reservation,
          rateWindow: verdict.rateWindow,
        });
        if (verdict.headroom !== null) ctx.rateHeadroom = verdict.headroom;
        return undefined;
      case 'rate_limited':
        log.info({ key: keyId, pool: ctx.name }, 'virtual key rate limited');
        sendError(res, edge, errorInfo('rate_limit_error', 429, RATE_LIMITED, verdict.retryAfterSecs));
        return 'rate_limited';
      case 'over_budget':
        log.info({ key: keyId, pool: ctx.name }, 'virtual key over budget');
        sendError(res, edge, {
          ...errorInfo('insufficient_quota', 429, OVER_BUDGET),
          code: 'insufficient_quota',
        });
        return 'over_budget';
      case 'unknown_key':
        sendError(res, edge, edge.authFailure());
        return 'unauthorized';
      default: {
        const never: never = verdict;
        throw new Error(`unknown verdict ${JSON.stringify(never)}`);
      }
    }
  }

  /** The finish listener: bill successes only, and tokens only for a delivered answer. */
  readonly settle = (ctx: RequestContext, outcome: OutcomeCode): void => {
    const admitted = this.#admitted.get(ctx);
    // Admitted without the arbiter (it did not answer in time, fail-open): nothing to settle.
    if (admitted === undefined || admitted.window < 0) return;
    const { res } = ctx;
    const succeeded = res.headersSent && res.statusCode >= 200 && res.statusCode < 300;
    const refundFee = admitted.charged && !succeeded ? admitted.fee : undefined;
    let tokens = 0;
    let tokenCostCents = 0;
    const usage = ctx.usage;
    const served = ctx.hops.at(-1)?.lane.model.name;
    if (outcome === 'delivered' && succeeded && usage !== undefined && served !== undefined) {
      const input = Math.max(0, usage.inputTokens);
      const output = Math.max(0, usage.outputTokens);
      tokens = Math.min(Number.MAX_SAFE_INTEGER, input + output);
      tokenCostCents = tokenCost(this.#prices.get(served) ?? this.#defaultPrice, input, output);
    }
    const billed = admitted.charged && succeeded;
    const costCents = (billed ? admitted.fee : 0) + tokenCostCents;
    ctx.costCents = costCents;
    this.#authority.settle({
      keyId: admitted.keyId,
      window: admitted.window,
      refundFee,
      tokens,
      tokenCostCents,
      costCents,
      requests: billed ? 1 : 0,
      reservation: admitted.reservation,
      rateWindow: admitted.rateWindow,
      admittedAtMs: admitted.atMs,
      nowMs: Date.now(),
    });
  };
}

/** floor((input × input price + output × output price) / 1000) in cents, exact in integers. */
export function tokenCost(price: ModelPrice, input: number, output: number): number {
  const small = input * price.inputPer1kMicrocents + output * price.outputPer1kMicrocents;
  // Plain numbers are exact below 2^53; only larger products need BigInt.
  if (small <= Number.MAX_SAFE_INTEGER) return (small - (small % 1_000_000_000)) / 1_000_000_000;
  const microcents =
    BigInt(input) * BigInt(price.inputPer1kMicrocents) + BigInt(output) * BigInt(price.outputPer1kMicrocents);
  const cents = microcents / 1_000_000_000n;
  return cents > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(cents);
}
