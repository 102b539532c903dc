// Smooth weighted round-robin (nginx style, G-POOL-7). Runs synchronously, so selections on one
// pool never interleave on Node's single thread.

export interface SwrrMember {
  readonly weight: number;
  /** Current weight, owned by the (pool, lane) cell. */
  currentWeight: number;
}

/** Picks from `members` whose index passes `usable`; returns the index, or -1 if none. */
export function pickSwrr(members: readonly SwrrMember[], usable: (index: number) => boolean): number {
  let total = 0;
  let best = -1;
  let bestWeight = 0;
  for (let i = 0; i < members.length; i++) {
    const m = members[i]!;
    if (m.weight <= 0 || !usable(i)) continue;
    total += m.weight;
    m.currentWeight += m.weight;
    if (best < 0 || m.currentWeight > bestWeight) {
      best = i;
      bestWeight = m.currentWeight;
    }
  }
  if (best >= 0) members[best]!.currentWeight -= total;
  return best;
}
