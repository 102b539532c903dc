// Whether a lane can take a request right now and, when it cannot, why and for how long: read from
// its permits, breaker cells and lifetime budget without changing any of them (G-BRK-12). Shared by
// /stats and the `busbar_lane_*` gauges.

import type { Lane } from '../routing/lane.ts';

/** Why a lane cannot take a request now, most fundamental first. */
export const UNAVAILABLE_REASONS = [
  'budget_exhausted',
  'dead',
  'breaker_open',
  'probe_in_flight',
  'at_capacity',
] as const;
export type UnavailableReason = (typeof UNAVAILABLE_REASONS)[number];

export interface Availability {
  readonly available: boolean;
  readonly reason: UnavailableReason | undefined;
  /** Milliseconds until the lane may serve again: 0 when available or any moment now, -1 never by waiting. */
  readonly recoversInMs: number;
}

const AVAILABLE: Availability = Object.freeze({ available: true, reason: undefined, recoversInMs: 0 });

export function laneAvailability(lane: Lane, nowMs = lane.clock.nowMs()): Availability {
  if (!lane.admissible) return { available: false, reason: 'budget_exhausted', recoversInMs: -1 };
  const now = Math.floor(nowMs / 1000);
  if (!lane.usable(now)) {
    // No cell that serves the lane is ready: hard-down, tripped or cooling down, or probing.
    const cells = lane.state.hasPoolCells ? [...lane.state.poolCells()] : [lane.defaultCell];
    const probing = cells.some((c) => c.state === 'half_open');
    const until = Math.min(...cells.filter((c) => c.state !== 'half_open').map((c) => c.cooldownUntil));
    const recoversInMs = Number.isFinite(until) ? Math.max(0, until * 1000 - nowMs) : 0;
    if (lane.state.hardDownUntil > now && until >= lane.state.hardDownUntil)
      return { available: false, reason: 'dead', recoversInMs };
    if (probing && (!Number.isFinite(until) || until * 1000 > nowMs))
      return { available: false, reason: 'probe_in_flight', recoversInMs: 0 };
    return { available: false, reason: 'breaker_open', recoversInMs };
  }
  if (lane.permits.inFlight >= lane.permits.capacity)
    return { available: false, reason: 'at_capacity', recoversInMs: 0 };
  return AVAILABLE;
}
