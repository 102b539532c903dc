// The finish listener that keeps the lanes' ledger accounts: per-hop outcomes, latency, budget
// refunds for answers that failed in transit, and the delivered answer's tokens (G-OBS-3, P-USE).

import type { RequestContext } from './context.ts';
import type { OutcomeCode } from './finish.ts';

export function countHops(ctx: RequestContext, outcome: OutcomeCode): void {
  for (const hop of ctx.hops) {
    const account = hop.lane.account;
    switch (hop.result) {
      case 'ok':
        account.count('ok');
        account.recordLatency(hop.latencyMs);
        break;
      case 'interrupted':
        // The upstream answered (ok) and then failed in transit (err, G-FO-19); the unit comes back.
        account.count('ok');
        account.count('err');
        account.recordLatency(hop.latencyMs);
        if (hop.spent) account.refund();
        break;
      case 'failed':
        account.count('err');
        break;
      case 'client_fault':
        account.count('clientFault');
        break;
      case 'no_outcome':
        break;
      default: {
        const never: never = hop.result;
        throw new Error(`unknown hop result ${String(never)}`);
      }
    }
  }
  if (outcome === 'delivered' && ctx.usage !== undefined) ctx.hops.at(-1)?.lane.account.addUsage(ctx.usage);
}
