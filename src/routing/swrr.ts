// Smooth weighted round-robin (nginx style, G-POOL-7). Runs synchronously, so selections on one
// pool never interleave on Node's single thread.

export interface SwrrMember {
  readonly weight: number;
  /** Holder of the current weight: the (pool, lane) breaker cell. */
  readonly cell: { currentWeight: number };
}

/**
 * Picks among `members` whose index passes `usable(index, state)`; returns the index, or -1 if
 * none. `state` is passed through so callers need no closure per pick.
 */
export function pickSwrr<S>(
  members: readonly SwrrMember[],
  usable: (index: number, state: S) => boolean,
  state: S,
): number {
  let total = 0;
  let best = -1;
  let bestWeight = 0;
  for (let i = 0; i < members.length; i++) {
    const m = members[i]!;
    const weight = m.weight;
    if (weight <= 0 || !usable(i, state)) continue;
    const cell = m.cell;
    total += weight;
    cell.currentWeight += weight;
    if (best < 0 || cell.currentWeight > bestWeight) {
      best = i;
      bestWeight = cell.currentWeight;
    }
  }
  if (best >= 0) members[best]!.cell.currentWeight -= total;
  return best;
}
