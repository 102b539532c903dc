// Asking a script routing policy (G-POL-15, G-POL-16): the request projection, every candidate's
// signals (configuration, tags included) and the context go to the pool's sandbox as deep copies;
// its order, abstention or failure comes back as a verdict for the pool's `on_error`.

import type { ScriptPolicy } from '../routing/policy.ts';
import type { RequestContext } from './context.ts';
import { candidateSignals, normalise, type PolicyVerdict } from './policy-verdict.ts';
import { projectRequest } from './projection.ts';

/** One decision: never throws; every failure is an error verdict. */
export async function askScript(
  ctx: RequestContext,
  pool: string,
  policy: ScriptPolicy,
): Promise<PolicyVerdict> {
  const sandbox = policy.sandbox;
  if (sandbox === undefined) return { kind: 'error', reason: 'the script sandbox is not running' };
  try {
    const { projection } = await projectRequest(ctx, pool, false);
    const verdict = await sandbox.evaluate(
      {
        req: { ...projection },
        candidates: policy.candidates.map((m) => ({
          ...candidateSignals(m, ctx.rateHeadroom),
          provider: m.lane.model.provider.name,
          weight: m.weight,
          context_max: m.contextMax ?? null,
          tags: m.tags,
        })),
        ctx: { pool, budget_remaining: null },
      },
      policy.timeoutMs,
    );
    return verdict.kind === 'order' ? normalise(verdict.order, policy.candidates) : verdict;
  } catch (err) {
    return { kind: 'error', reason: err instanceof Error ? err.message : String(err) };
  }
}
