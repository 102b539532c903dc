// The per-hop pick (gateway.md §2.8): affinity fast path, then SWRR over ready candidates, then
// the cell claim. Synchronous: the only wait, for a permit, is the caller's (takePermit).

import type { BreakerCell } from '../reliability/breaker.ts';
import { stickyIndex } from './affinity.ts';
import type { Lane } from './lane.ts';
import { pickSwrr } from './swrr.ts';
import type { Member, RouteTarget } from './table.ts';

export interface Picked {
  readonly member: Member;
  readonly lane: Lane;
  readonly cell: BreakerCell;
  /** The affinity fast path takes its permit immediately; SWRR picks leave it to takePermit. */
  readonly permitHeld: boolean;
}

/** One request's routing state, created once and reused by every hop. */
export class PickRequest {
  /** Lanes this request attempted, or ruled out (context length); shared with fallback pools. */
  readonly excluded: Set<Lane>;
  readonly affinityKey: string | undefined;
  /** Epoch ms. */
  readonly deadline: number;
  readonly signal: AbortSignal;
  /** When set, only members of this provider (passthrough: the caller's key stays with its provider). */
  provider: string | undefined;
  // Per-pick scratch, read by `candidate` without a closure per pick.
  members: readonly Member[] = [];
  now = 0;
  lostRace: Set<Member> | undefined;

  constructor(
    affinityKey: string | undefined,
    deadline: number,
    signal: AbortSignal,
    excluded = new Set<Lane>(),
  ) {
    this.excluded = excluded;
    this.affinityKey = affinityKey;
    this.deadline = deadline;
    this.signal = signal;
  }
}

/** SWRR's usable test: not tried, admissible, ready, and not lost to a half-open race this pick. */
function candidate(index: number, req: PickRequest): boolean {
  const m = req.members[index]!;
  return (
    !req.excluded.has(m.lane) &&
    m.lane.admissible &&
    (req.provider === undefined || m.lane.model.provider.name === req.provider) &&
    m.cell.ready(req.now) &&
    req.lostRace?.has(m) !== true
  );
}

function stickyPick(target: RouteTarget, req: PickRequest, now: number): Picked | undefined {
  if (req.affinityKey === undefined || target.members.length === 0) return undefined;
  const member = target.members[stickyIndex(req.affinityKey, target.members.length)]!;
  const lane = member.lane;
  if (member.weight <= 0 || req.excluded.has(lane) || !lane.admissible) return undefined;
  if (req.provider !== undefined && lane.model.provider.name !== req.provider) return undefined;
  const cell = member.cell;
  if (!cell.acquire(now)) return undefined;
  // The fast path never waits for a permit (G-POOL-16).
  if (lane.permits.tryAcquire()) return { member, lane, cell, permitHeld: true };
  cell.releaseProbe();
  return undefined;
}

/** The member for this hop with its cell claimed, or undefined when none is usable. */
export function pickMember(target: RouteTarget, req: PickRequest): Picked | undefined {
  const clock = target.members[0]?.lane.clock;
  if (clock === undefined || clock.nowMs() >= req.deadline) return undefined;
  const now = clock.nowSecs();
  const sticky = stickyPick(target, req, now);
  if (sticky !== undefined) return sticky;
  req.members = target.members;
  req.now = now;
  req.lostRace = undefined;
  for (;;) {
    const at = pickSwrr(target.members, candidate, req);
    if (at < 0) return undefined;
    const member = target.members[at]!;
    // Lost a half-open race: rule the lane out for this pick only and select again (G-POOL-9).
    if (member.cell.acquire(now)) return { member, lane: member.lane, cell: member.cell, permitHeld: false };
    req.lostRace ??= new Set();
    req.lostRace.add(member);
  }
}

/** A permit for the picked lane, waiting in line until the deadline (G-POOL-3). */
export async function takePermit(picked: Picked, req: PickRequest): Promise<boolean> {
  if (picked.permitHeld || picked.lane.permits.tryAcquire()) return true;
  const left = req.deadline - picked.lane.clock.nowMs();
  if (await picked.lane.permits.acquire(left, req.signal)) return true;
  picked.cell.releaseProbe();
  return false;
}

/** pickMember then takePermit: the whole per-hop pick, with a permit held on success. */
export async function pickLane(target: RouteTarget, req: PickRequest): Promise<Picked | undefined> {
  const picked = pickMember(target, req);
  if (picked === undefined) return undefined;
  return (await takePermit(picked, req)) ? picked : undefined;
}
