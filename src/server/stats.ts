// GET /stats body (G-OBS-2, G-OBS-3): pools and per-lane counters, read without side effects.

import type { Targets } from '../routing/targets.ts';

export function statsBody(targets: Targets): string {
  const pools: Record<string, string[]> = {};
  for (const pool of targets.pools.values()) pools[pool.name] = pool.members.map((m) => m.lane.name);
  const now = targets.clock.nowSecs();
  const lanes = [...targets.lanes.values()].map((lane) => {
    const cells = lane.cells();
    return {
      model: lane.name,
      provider: lane.model.provider.name,
      max_concurrent: lane.permits.capacity,
      inflight: lane.permits.inFlight,
      free_slots: lane.permits.capacity - lane.permits.inFlight,
      ok: lane.ok,
      err: lane.err,
      client_fault: lane.clientFault,
      usable: lane.usable(now),
      dead: false,
      dead_reason: lane.deadReason,
      cooldown_remaining_s: Math.max(...cells.map((c) => c.cooldownRemaining(now))),
      streak: Math.max(...cells.map((c) => c.streak)),
      budget: lane.budget,
      input_tokens: lane.inputTokens,
      output_tokens: lane.outputTokens,
      // Per (pool, lane) breaker cells; "" is the default cell of direct routes.
      cells: Object.fromEntries(
        lane.namedCells().map(([pool, cell]) => [
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
  return JSON.stringify({ pools, lanes });
}
