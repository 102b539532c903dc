// The per-hop pick (gateway.md §2.8): affinity fast path, then SWRR over ready candidates, then
// the cell claim and the permit. Returns with the cell acquired and a permit held, or nothing.

import type { BreakerCell } from '../reliability/breaker.ts';
import { stickyIndex } from './affinity.ts';
import type { Lane } from './lane.ts';
import { pickSwrr } from './swrr.ts';
import type { Member, RouteTarget } from './targets.ts';

export interface Picked {
  readonly member: Member;
  readonly lane: Lane;
  readonly cell: BreakerCell;
}

export interface PickRequest {
  /** Lanes this request already attempted, or ruled out (context length). */
  readonly excluded: ReadonlySet<Lane>;
  readonly affinityKey: string | undefined;
  /** Epoch ms. */
  readonly deadline: number;
  readonly signal: AbortSignal;
}

function stickyPick(target: RouteTarget, req: PickRequest, now: number): Picked | undefined {
  if (req.affinityKey === undefined || target.members.length === 0) return undefined;
  const member = target.members[stickyIndex(req.affinityKey, target.members.length)]!;
  const lane = member.lane;
  if (member.weight <= 0 || req.excluded.has(lane) || !lane.admissible) return undefined;
  const cell = member.cell;
  if (!cell.acquire(now)) return undefined;
  // The fast path never waits for a permit (G-POOL-16).
  if (lane.permits.tryAcquire()) return { member, lane, cell };
  cell.releaseProbe();
  return undefined;
}

export async function pickLane(target: RouteTarget, req: PickRequest): Promise<Picked | undefined> {
  const clock = target.members[0]?.lane.clock;
  if (clock === undefined) return undefined;
  const sticky = stickyPick(target, req, clock.nowSecs());
  if (sticky !== undefined) return sticky;
  const rejected = new Set<Member>();
  for (;;) {
    if (Date.now() >= req.deadline) return undefined;
    const now = clock.nowSecs();
    const members = target.members;
    const at = pickSwrr(members, (i) => {
      const m = members[i]!;
      return !rejected.has(m) && !req.excluded.has(m.lane) && m.lane.admissible && m.cell.ready(now);
    });
    if (at < 0) return undefined;
    const member = members[at]!;
    const cell = member.cell;
    // Lost a half-open race: rule the lane out for this pick only and select again (G-POOL-9).
    if (!cell.acquire(now)) {
      rejected.add(member);
      continue;
    }
    const lane = member.lane;
    if (lane.permits.tryAcquire() || (await lane.permits.acquire(req.deadline - Date.now(), req.signal))) {
      return { member, lane, cell };
    }
    cell.releaseProbe();
    return undefined;
  }
}
