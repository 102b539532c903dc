// The request path's heavier modules (the upstream HTTP client, the six codecs, the SigV4 signer,
// the structured logger, the health probers) load right after the listener is bound, so startup
// and /healthz never wait for them (G-PERF-3, G-CFG-31). The first inference request awaits them.

import type { Pool } from 'undici';
import { loadStructuredLogger } from '../observability/log.ts';
import type { Failover } from '../reliability/failover.ts';
import type { HealthProber } from '../reliability/health.ts';
import type { Targets } from '../routing/targets.ts';
import type { InferenceContext } from './context.ts';

export interface Runtime {
  readonly failover: Failover;
  readonly Context: typeof InferenceContext;
  readonly probers: readonly HealthProber[];
}

/**
 * Only undici's connection pool: its index also loads fetch, WebSocket, cookies, caches and mocks,
 * which measured +70 ms and +16 MiB before the first request could be served. Requests go through
 * `dispatch`, which the pool class carries itself.
 */
const UNDICI_POOL = 'undici/lib/dispatcher/pool.js';

export async function loadRuntime(targets: Targets): Promise<Runtime> {
  const [poolModule, failover, context, health] = await Promise.all([
    import(UNDICI_POOL) as Promise<{ default: typeof Pool }>,
    import('../reliability/failover.ts'),
    import('./context.ts'),
    import('../reliability/health.ts'),
    loadStructuredLogger(),
  ]);
  targets.origins.use(poolModule.default);
  const signed = [...targets.lanes.values()].filter((lane) => lane.upstream.needsSigner);
  if (signed.length > 0) {
    const { BedrockSigner } = await import('../upstream/sigv4.ts');
    for (const lane of signed)
      lane.upstream.signer = new BedrockSigner(
        lane.model.provider.apiKey,
        new URL(lane.model.provider.baseUrl),
      );
  }
  return {
    failover: new failover.Failover(targets),
    Context: context.InferenceContext,
    probers: health.startHealthProbers(targets),
  };
}
