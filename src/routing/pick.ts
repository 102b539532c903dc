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
  /** The routing policy's preferred order, walked before SWRR on `orderedTarget` only (§2.8 step 4). */
  order: readonly Member[] | undefined;
  orderedTarget: RouteTarget | undefined;
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
  return usable(req.members[index]!, req);
}

function usable(m: Member, req: PickRequest): boolean {
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
  const order = req.orderedTarget === target ? req.order : undefined;
  for (;;) {
    const member = (order && firstInOrder(order, req)) ?? swrrMember(target, req);
    if (member === undefined) return undefined;
    // Lost a half-open race: rule the lane out for this pick only and select again (G-POOL-9).
    if (member.cell.acquire(now)) return { member, lane: member.lane, cell: member.cell, permitHeld: false };
    req.lostRace ??= new Set();
    req.lostRace.add(member);
  }
}

/** §2.8 step 4: the first ranked member still usable, with weight, whose cell is ready. */
function firstInOrder(order: readonly Member[], req: PickRequest): Member | undefined {
  for (const m of order) if (m.weight > 0 && usable(m, req)) return m;
  return undefined;
}

function swrrMember(target: RouteTarget, req: PickRequest): Member | undefined {
  const at = pickSwrr(target.members, candidate, req);
  return at < 0 ? undefined : target.members[at];
}

/**
 * A permit for the picked lane, waiting in line until the deadline (G-POOL-3). A free permit is
 * `true` at once: no promise and no microtask on the common path (G-PERF-2).
 */
export function takePermit(picked: Picked, req: PickRequest): boolean | Promise<boolean> {
  if (picked.permitHeld || picked.lane.permits.tryAcquire()) return true;
  return waitForPermit(picked, req);
}

async function waitForPermit(picked: Picked, req: PickRequest): Promise<boolean> {
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
