// Draining a lane at run time (PATCH /admin/lanes/{name}, the dashboard's Drain): the lane's state
// is marked, so every pool weighs it 0 as it would a configured `weight: 0` (G-POOL-10: direct
// routes still reach it), until it is undrained. The mark lives with the lane's state: a reload
// keeps it, a restart or a changed upstream starts the lane undrained. Under `workers: N` every
// worker drains together (node-command.ts).

import type { DrainResult } from '../admin/api.ts';
import type { RoutingTable } from '../routing/table.ts';
import type { CommandChannel } from './node-command.ts';

export interface DrainCommand {
  readonly lane: string;
  readonly drained: boolean;
}

export function drainLane(table: RoutingTable, { lane, drained }: DrainCommand): DrainResult {
  const found = table.lanes.get(lane);
  if (found === undefined) return { ok: false, status: 404 };
  found.state.drained = drained;
  return { ok: true, lane, drained };
}

/** Every worker has the same lanes: one that did not find it, or did not answer, fails the call. */
function combine(results: readonly DrainResult[], late: number): DrainResult {
  const failed = results.find((r) => !r.ok);
  if (failed !== undefined) return failed;
  const first = results[0];
  return late > 0 || first === undefined ? { ok: false, status: 500 } : first;
}

export const DRAIN_CHANNEL: CommandChannel<DrainResult> = {
  tag: 'busbar-drain',
  replyMs: 5000,
  combine,
};
