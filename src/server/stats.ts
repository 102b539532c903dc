// GET /stats body (G-OBS-2, G-OBS-3): pools, per-lane counters from the ledger and breaker cells,
// read without side effects.

import type { InboundSlots } from '../lifecycle/pipeline.ts';
import { laneAvailability } from '../observability/lane-availability.ts';
import { REPLICA } from '../replica.ts';
import type { RoutingTable } from '../routing/table.ts';

export function statsBody(table: RoutingTable, inbound: InboundSlots | undefined): string {
  const pools: Record<string, string[]> = {};
  for (const pool of table.pools.values()) pools[pool.name] = pool.members.map((m) => m.lane.name);
  const now = table.clock.nowSecs();
  const lanes = [...table.lanes.values()].map((lane) => {
    const cells = lane.cells();
    const totals = lane.account.totals();
    const availability = laneAvailability(lane);
    return {
      model: lane.name,
      provider: lane.model.provider.name,
      max_concurrent: lane.permits.capacity,
      inflight: lane.permits.inFlight,
      free_slots: lane.permits.capacity - lane.permits.inFlight,
      ok: totals.ok,
      err: totals.err,
      client_fault: totals.clientFault,
      usable: lane.usable(now),
      // G-POOL-5: no lane is ever administratively dead; hard-downs show in the cells.
      dead: false,
      dead_reason: lane.state.deadReason,
      // Beyond the reference: drained at run time (PATCH /admin/lanes/{name}); weight 0 in every pool.
      drained: lane.state.drained,
      cooldown_remaining_s: Math.max(...cells.map((c) => c.cooldownRemaining(now))),
      streak: Math.max(...cells.map((c) => c.streak)),
      budget: totals.budget,
      // Beyond the reference: whether the lane can take a request now, and if not why and for how long.
      available: availability.available,
      unavailable_reason: availability.reason ?? '',
      recovers_in_ms: availability.recoversInMs,
      input_tokens: totals.inputTokens,
      output_tokens: totals.outputTokens,
      // Per (pool, lane) breaker cells; "" is the default cell of direct routes.
      cells: Object.fromEntries(
        lane.state.namedCells().map(([pool, cell]) => [
          pool,
          {
            state: cell.state,
            cooldown_remaining_s: cell.cooldownRemaining(now),
            streak: cell.streak,
            errors: cell.errors,
            probe_in_flight: cell.probeInFlight,
          },
        ]),
      ),
    };
  });
  // Beyond the reference: which configuration is serving (the files' hash and when they were loaded).
  const config = { hash: table.source.hash, loaded_at: table.source.loadedAt };
  // Which replica (process) answered: breakers, affinity and latency are its own (docs/deployment.md).
  // Beyond the reference: inference requests in progress in this process (limits:
  // max_inbound_concurrent, 0 = no cap); null until the request path has loaded.
  const requests = inbound === undefined ? null : { in_flight: inbound.inFlight, max: inbound.max };
  return JSON.stringify({ pools, lanes, config, replica: REPLICA, inbound: requests });
}
