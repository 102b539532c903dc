// What a routing policy's decision comes to (G-POL-5), shared by the webhook and script policies:
// the verdict, the candidates' signals they are given, and the normalisation of an index list.

import type { Member } from '../routing/table.ts';

export type PolicyVerdict =
  | { readonly kind: 'order'; readonly order: readonly Member[] }
  | { readonly kind: 'abstain' }
  | { readonly kind: 'reject'; readonly status: number; readonly message: string }
  | { readonly kind: 'error'; readonly reason: string; readonly timedOut?: boolean };

export const ABSTAIN: PolicyVerdict = { kind: 'abstain' };

/** G-POL-10: one candidate's signals, absent values as null. */
export function candidateSignals(m: Member, rateHeadroom: number | undefined) {
  const budget = m.lane.account.remaining();
  return {
    idx: m.lane.index,
    model: m.lane.name,
    tier: m.tier ?? null,
    cost_per_mtok: m.costPerMtok ?? null,
    latency_ms: m.lane.account.latencyMs() ?? null,
    available_concurrency: m.lane.permits.free,
    budget_remaining: budget < 0 ? null : budget,
    rate_headroom: rateHeadroom ?? null,
  };
}

/** G-POL-5: indices that are candidates, first occurrence kept; none left is an abstention. */
export function normalise(indices: readonly number[], candidates: readonly Member[]): PolicyVerdict {
  const picked: Member[] = [];
  for (const idx of indices) {
    const m = candidates.find((c) => c.lane.index === idx);
    if (m !== undefined && !picked.includes(m)) picked.push(m);
  }
  return picked.length === 0 ? ABSTAIN : { kind: 'order', order: picked };
}
