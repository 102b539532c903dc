// Where budget and rate windows start (G-GOV-10, G-GOV-14). Times are epoch milliseconds in,
// epoch seconds out (the stored `window_start`).

import type { BudgetPeriod } from './keys.ts';

/** The start of the budget window holding `nowMs`: 0 (all time), UTC midnight, or the UTC 1st. */
export function budgetWindowStart(period: BudgetPeriod, nowMs: number): number {
  switch (period) {
    case 'total':
      return 0;
    case 'daily':
      return Math.floor(nowMs / 86_400_000) * 86_400;
    case 'monthly': {
      const d = new Date(nowMs);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) / 1000;
    }
    default: {
      const never: never = period;
      throw new Error(`unknown budget period ${String(never)}`);
    }
  }
}

/** The start of the fixed 60 s rate window holding `nowMs`, aligned to the epoch minute. */
export function rateWindowStart(nowMs: number): number {
  return Math.floor(nowMs / 60_000) * 60;
}
