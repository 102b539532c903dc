// Routing policies (G-POL-1…9): a pool's preferred member order for one request, decided once before
// the first hop and walked by the pick (§2.8 step 4) ahead of SWRR. A policy only prefers: unranked
// and unready members stay reachable through SWRR, and it never marks a lane healthy. A weighted
// pool has no policy object at all (G-POL-1).
//
// The native policies rank by one signal each, read at decision time; the sort is stable over the
// candidates in lane-index order, so ties go to the lower index, and candidates without the signal
// follow the ones with it (demoted, never dropped). When no candidate has the signal, the policy
// abstains and the pick is plain SWRR.

import type { NativePolicyName } from '../config/types.ts';
import type { Member } from './table.ts';

/** What a decision reads from the request (G-POL signals that are not per member). */
export interface PolicyInput {
  /** The caller's virtual-key rate headroom in [0, 1] (G-GOV-17); undefined without one. */
  readonly rateHeadroom: number | undefined;
}

export interface RoutePolicy {
  /** The name in `x-busbar-route-policy` and the `policy` metric label (G-POL-6, G-POL-7). */
  readonly name: NativePolicyName;
  /** The preferred order for one request, or undefined to abstain. */
  order(input: PolicyInput): readonly Member[] | undefined;
}

/** Candidates in lane-index order, each with its signal value (undefined: no signal). */
function ranked(
  candidates: readonly Member[],
  signal: (m: Member) => number | undefined,
  descending: boolean,
): Member[] | undefined {
  const valued: { readonly member: Member; readonly value: number }[] = [];
  const without: Member[] = [];
  for (const member of candidates) {
    const value = signal(member);
    if (value === undefined) without.push(member);
    else valued.push({ member, value });
  }
  if (valued.length === 0) return undefined;
  // Array.prototype.sort is stable: equal values keep lane-index order.
  valued.sort(descending ? (a, b) => b.value - a.value : (a, b) => a.value - b.value);
  const order = valued.map((v) => v.member);
  for (const member of without) order.push(member);
  return order;
}

/**
 * The native policy `name` over a pool's members, or undefined when it could never order anything
 * (no candidates, or `cheapest` with no member priced): such a pool routes by weight at no cost.
 */
export function nativeRoutePolicy(
  name: NativePolicyName,
  members: readonly Member[],
): RoutePolicy | undefined {
  // G-POL-3: the candidates are the members minus the configured exclusions.
  const candidates = members.filter((m) => !m.excluded).sort((a, b) => a.lane.index - b.lane.index);
  if (candidates.length === 0) return undefined;
  switch (name) {
    case 'cheapest': {
      // Prices come from configuration: the order is the same for every request.
      const order = ranked(candidates, (m) => m.costPerMtok, false);
      return order === undefined ? undefined : { name, order: () => order };
    }
    case 'fastest':
      return { name, order: () => ranked(candidates, (m) => m.lane.account.latencyMs(), false) };
    case 'least_busy':
      return { name, order: () => ranked(candidates, (m) => m.lane.permits.free, true) };
    case 'usage': {
      // The headroom is the caller's, the same for every candidate: with it, lane-index order.
      return { name, order: (input) => (input.rateHeadroom === undefined ? undefined : candidates) };
    }
  }
}
