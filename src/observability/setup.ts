// Turns `observability:` into what the gateway plugs in: the metric catalogue (always on), and the
// trace exporter and request log when configured, as finish listeners. The exporter and the log
// only send once requests finish, after the upstream client has loaded; nothing here delays the bind.

import { version } from '../cli.ts';
import type { GatewayConfig } from '../config/types.ts';
import type { RequestContext } from '../lifecycle/context.ts';
import type { FinishListener, OutcomeCode } from '../lifecycle/finish.ts';
import { log } from '../log.ts';
import type { NameResolver, RoutingTable } from '../routing/table.ts';
import type { OriginPools } from '../upstream/origins.ts';
import { Catalogue, catalogueFeatures, type KeyFiguresSource, type StoreHealthSource } from './metrics.ts';
import { stampResponseHead } from './response-headers.ts';
import { SinkClient } from './sink-client.ts';

function wantAnswerFacts(ctx: RequestContext): void {
  ctx.wantsAnswerFacts = true;
}

/** One trace-level line per finished request: ids, labels and figures, never a body or credential. */
function logFinished(ctx: RequestContext, outcome: OutcomeCode): void {
  log.trace(
    {
      request_id: ctx.requestId,
      ingress: ctx.ingress,
      pool: ctx.target?.name,
      lane: ctx.hops.at(-1)?.lane.name,
      attempts: ctx.hops.length,
      outcome,
      status: ctx.res.headersSent ? ctx.res.statusCode : undefined,
      ms: Math.round(ctx.endedAt - ctx.startedAt),
    },
    'request finished',
  );
}

export interface Observability {
  readonly metrics: Catalogue;
  readonly listeners: readonly FinishListener[];
  /** Run as each inference request starts: response headers (G-OBS-52), what traces need read. */
  readonly begin: readonly ((ctx: RequestContext) => void)[];
  /** Flushes pending spans and records (graceful shutdown, G-OBS-34). */
  close(): Promise<void>;
}

export async function startObservability(
  gateway: GatewayConfig,
  table: RoutingTable,
  origins: OriginPools,
  keyFigures: KeyFiguresSource | undefined,
  stores: readonly StoreHealthSource[] = [],
  /** Resolves names against the current table (a reload swaps it); default: `table`. */
  names: NameResolver = table,
): Promise<Observability> {
  const config = gateway.observability;
  const metrics = new Catalogue(catalogueFeatures(gateway));
  metrics.watchLanes(table);
  if (keyFigures !== undefined) metrics.watchKeys(keyFigures);
  if (stores.length > 0) metrics.watchStores(stores);
  const listeners: FinishListener[] = [metrics.record];
  if (log.enabled('trace')) listeners.push(logFinished);
  const closers: (() => Promise<void>)[] = [];
  const client = new SinkClient(origins);
  if (config.otlp !== undefined) {
    const { Tracing } = await import('./tracing.ts');
    const tracing = new Tracing({
      url: new URL(config.otlp.url),
      client,
      authorization: config.otlp.authorization,
      version: version(),
      table: names,
      onDrop: (spans) => {
        metrics.spansDropped.series().value += spans;
      },
    });
    listeners.push(tracing.record);
    closers.push(() => tracing.flush());
  }
  if (config.requestLogWebhookUrl !== undefined || config.requestLogFile !== undefined) {
    const { RequestLog, WebhookSink, FileSink } = await import('./request-log.ts');
    const dropped = (sink: 'webhook' | 'file') => () => {
      metrics.requestLogDropped.series(sink).value++;
    };
    const sinks = [];
    if (config.requestLogWebhookUrl !== undefined)
      sinks.push(new WebhookSink(config.requestLogWebhookUrl, client, dropped('webhook')));
    if (config.requestLogFile !== undefined) sinks.push(new FileSink(config.requestLogFile, dropped('file')));
    const requestLog = new RequestLog(sinks, names, (sink) => dropped(sink)());
    listeners.push(requestLog.record);
    closers.push(() => requestLog.close());
  }
  return {
    metrics,
    listeners,
    begin: [
      ...(config.responseHeaders ? [stampResponseHead] : []),
      // Traces carry a relayed whole answer's model and stop reason, which costs a full read.
      ...(config.otlp !== undefined ? [wantAnswerFacts] : []),
    ],
    close: async () => {
      await Promise.all(closers.map((close) => close()));
      client.abortAll();
    },
  };
}
