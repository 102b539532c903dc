// Keys of the reference format whose feature this version does not have yet. The gateway accepts a
// key only when its feature works: each such key is one collected startup error naming its path.

import type { RawDeployment } from './raw.ts';
import { joinPath } from './yaml.ts';

/** The phrase every such error carries, so operators (and tests) can tell them apart. */
export const NOT_AVAILABLE = 'not available yet in this version of busbar';

/** One line per key, in the order models, pools. */
export function unavailableErrors(d: RawDeployment, workers: number): string[] {
  const errors: string[] = [];
  if (workers > 1) {
    // Lane budgets live in each worker process: N workers would admit up to N × max_requests.
    for (const [name, m] of d.models) {
      if (m.maxRequests === undefined || m.maxRequests <= 0) continue;
      errors.push(
        `${joinPath(joinPath('models', name), 'max_requests')}: max_requests with workers > 1 is ${NOT_AVAILABLE}: each of the ${workers} worker processes would keep its own budget, admitting up to ${workers}× the limit; remove max_requests or set workers: 1`,
      );
    }
  }
  return errors;
}
