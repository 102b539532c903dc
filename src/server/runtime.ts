// The request path's heavier modules (the six codecs, request signers,
// the lifecycle) load after the listener is bound, then the health probers and the structured
// logger. Each step yields to the event loop, so a readiness probe that arrives meanwhile is
// answered at once instead of waiting for the whole load (G-PERF-3, G-CFG-31). Inference requests
// await the pipeline only.

import type { Authenticator } from '../auth/principal.ts';
import type { BodyBudget, BodyPace } from '../lifecycle/body.ts';
import type { RequestContext } from '../lifecycle/context.ts';
import type { FinishListener } from '../lifecycle/finish.ts';
import type { AdmissionStage, InferencePipeline } from '../lifecycle/pipeline.ts';
import { line, loadStructuredLogger } from '../log.ts';
import { CODEC_MODULES } from '../protocols/registry.ts';
import type { HealthProber } from '../reliability/health.ts';
import type { RoutingTable } from '../routing/table.ts';
import type { OriginPools } from '../upstream/origins.ts';

/** Stages and finish listeners features add to the request path (governance, observability). */
export interface PipelineExtras {
  readonly guards: readonly AdmissionStage[];
  readonly listeners: readonly FinishListener[];
  /** Called as each request starts. */
  readonly begin: readonly ((ctx: RequestContext) => void)[];
}

export interface Runtime {
  readonly pipeline: InferencePipeline;
  /** Filled once the probers have started, after the request path is ready. */
  readonly probers: HealthProber[];
  /**
   * A pipeline for another routing table (a reloaded config), with its own guards and finish
   * listeners; everything else (bodies, inbound slots, origins) is shared with the first.
   */
  build(table: RoutingTable, extras: PipelineExtras): InferencePipeline;
  /** Starts health probers for `table`'s lanes (a reloaded config); returns them. */
  probe(table: RoutingTable): Promise<HealthProber[]>;
}

/** Lets requests that already arrived be answered between two synchronous module loads. */
const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Resolves when inference requests can be served; probers and the logger follow in the background. */
export async function loadRuntime(
  table: RoutingTable,
  origins: OriginPools,
  authenticator: Authenticator,
  pace: BodyPace,
  bodies: BodyBudget,
  extras: PipelineExtras,
  maxInbound = 0,
): Promise<Runtime> {
  // One codec at a time, then the core that needs them all: one import of the whole graph measured
  // a 45–65 ms block of the event loop.
  for (const piece of CODEC_MODULES) {
    await yieldToLoop();
    await import(piece);
  }
  await yieldToLoop();
  const [pipeline, finish, count] = await Promise.all([
    import('../lifecycle/pipeline.ts'),
    import('../lifecycle/finish.ts'),
    import('../lifecycle/count.ts'),
  ]);
  await attachSigners(table);
  const inbound = new pipeline.InboundSlots(maxInbound);
  const build = (forTable: RoutingTable, parts: PipelineExtras): InferencePipeline => {
    const done = new finish.Finish();
    done.subscribe(count.countHops);
    for (const listener of parts.listeners) done.subscribe(listener);
    return new pipeline.InferencePipeline({
      table: forTable,
      authenticator,
      finish: done,
      origins,
      pace,
      bodies,
      guards: parts.guards,
      begin: parts.begin,
      inbound,
    });
  };
  const runtime: Runtime = {
    pipeline: build(table, extras),
    probers: [],
    build,
    probe: async (forTable) => {
      await attachSigners(forTable);
      const health = await import('../reliability/health.ts');
      return health.startHealthProbers(forTable.lanes.values(), origins);
    },
  };
  startBackground(table, origins, runtime).catch((err: unknown) =>
    line(
      'error',
      `health probers or logger failed to load: ${err instanceof Error ? err.message : String(err)}`,
    ),
  );
  return runtime;
}

/** Request signers (SigV4) for the lanes that need one and have none yet. */
export async function attachSigners(table: RoutingTable): Promise<void> {
  for (const lane of table.lanes.values()) {
    if (!lane.upstream.needsSigner || lane.upstream.signer !== undefined) continue;
    await yieldToLoop();
    const signer = await lane.upstream.edge.loadSigner!();
    lane.upstream.signer = signer(lane.model.provider.apiKey, new URL(lane.model.provider.baseUrl));
  }
}

async function startBackground(table: RoutingTable, origins: OriginPools, runtime: Runtime): Promise<void> {
  await yieldToLoop();
  const health = await import('../reliability/health.ts');
  runtime.probers.push(...health.startHealthProbers(table.lanes.values(), origins));
  await yieldToLoop();
  await loadStructuredLogger();
}
