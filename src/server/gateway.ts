// Starts the gateway: builds the routing table, binds the listener (plain or TLS), prints the
// banner, and loads the request path. What the process does on signals and defects is
// server/process.ts's job, so a gateway can also run inside a test process.

import cluster from 'node:cluster';
import type { Server as NetServer } from 'node:net';
import { authenticatorFor } from '../auth/principal.ts';
import { embeddedDefaultBanner } from '../config/default.ts';
import type { GatewayConfig, GovernanceConfig } from '../config/types.ts';
import type { GovernanceParts } from '../governance/setup.ts';
import { BodyBudget } from '../lifecycle/body.ts';
import { type ReasoningMemory, ReasoningStore } from '../lifecycle/reasoning-memory.ts';
import { line } from '../log.ts';
import type { Catalogue } from '../observability/metrics.ts';
import { startObservability } from '../observability/setup.ts';
import type { LaneMemory } from '../routing/table.ts';
import { RoutingTable } from '../routing/table.ts';
import { OriginPools } from '../upstream/origins.ts';
import { RequestHandler } from './handler.ts';
import { createListener } from './listener.ts';
import { loadRuntime, type PipelineExtras, type Runtime } from './runtime.ts';
import { loadTls, TlsConfigError } from './tls.ts';

export interface RunningGateway {
  readonly url: string;
  close(): Promise<void>;
}

export interface GatewayOptions {
  /** Workers of a multi-process gateway start quietly: the primary already spoke. */
  readonly quiet?: boolean;
  /** Lane states and ledger; tests pass a manual clock's. */
  readonly memory?: LaneMemory;
}

/** In a worker of `workers: N`, the arbiter is the primary's; a lone process runs its own. */
async function startGoverned(config: GatewayConfig, gov: GovernanceConfig): Promise<GovernanceParts> {
  const setup = await import('../governance/setup.ts');
  if (gov.fleet !== undefined) return setup.startFleetGovernance(config, gov, gov.fleet);
  if (!cluster.isWorker) return setup.startGovernance(config, gov);
  const { RemoteAuthority } = await import('../governance/arbiter-ipc.ts');
  const remote = new RemoteAuthority(gov.failOpen);
  await remote.start();
  return setup.assemble(config, gov, remote, remote.directory, () => {});
}

/**
 * Where signed reasoning is remembered for clients that cannot hand it back: here in a lone
 * process, the primary's in a worker (lifecycle/reasoning-memory-ipc.ts).
 */
async function reasoningMemory(): Promise<ReasoningMemory> {
  if (!cluster.isWorker) return new ReasoningStore();
  const { RemoteReasoningMemory } = await import('../lifecycle/reasoning-memory-ipc.ts');
  return new RemoteReasoningMemory();
}

async function workerScrape(metrics: Catalogue): Promise<() => Promise<string | undefined>> {
  const { NodeScrape } = await import('../observability/metrics-ipc.ts');
  const node = new NodeScrape(metrics);
  return () => node.scrape();
}

/**
 * G-POL-14: each script policy compiled in its sandbox before the bind; a script the sandbox cannot
 * compile stops startup. The interpreter is loaded only when a pool has a script.
 */
async function startScriptSandboxes(table: RoutingTable): Promise<void> {
  const scripted = [...table.pools.values()].filter((t) => t.policy?.kind === 'script');
  if (scripted.length === 0) return;
  const { ScriptSandbox } = await import('../policy/script-sandbox.ts');
  for (const target of scripted) {
    const policy = target.policy;
    if (policy?.kind !== 'script') continue;
    try {
      policy.sandbox = await ScriptSandbox.create(policy.source);
    } catch (err) {
      throw new Error(
        `pool '${target.name}' policy script does not compile: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }
}

export async function startGateway(
  config: GatewayConfig,
  opts: GatewayOptions = {},
): Promise<RunningGateway> {
  const table = new RoutingTable(config, opts.memory);
  await startScriptSandboxes(table);
  const origins = new OriginPools(config.limits.upstream);
  // Governance opens its database before the bind: a bad db_path stops startup, not a request.
  const governed =
    config.governance === undefined ? undefined : await startGoverned(config, config.governance);
  const authenticator = governed?.authenticator ?? authenticatorFor(config.auth);
  const observed = await startObservability(config, table, origins, governed?.keyFigures, governed?.stores);
  const metrics = observed.metrics;
  const memory = await reasoningMemory();
  const extras: PipelineExtras = {
    guards: governed ? [governed.governance] : [],
    // Governance settles first: the request log records what the request cost.
    listeners: [...(governed ? [governed.governance.settle] : []), ...observed.listeners],
    begin: [
      ...observed.begin,
      (ctx) => {
        ctx.reasoningMemory = memory;
      },
    ],
  };
  // Under `workers: N` a scrape shows the whole node, gathered by the primary.
  const scrape = cluster.isWorker ? await workerScrape(metrics) : async () => metrics.registry.render();
  let startRuntime: () => void = () => {};
  const runtime = new Promise<Runtime>((resolve, reject) => {
    const pace = {
      maxBytes: config.limits.maxRequestBodyBytes,
      graceMs: config.limits.bodyGraceMs,
      minBytesPerSec: config.limits.bodyMinBytesPerSec,
    };
    const bodies = new BodyBudget(config.limits.maxBufferedBodyBytes);
    startRuntime = () =>
      loadRuntime(
        table,
        origins,
        authenticator,
        pace,
        bodies,
        extras,
        config.limits.maxInboundConcurrent,
      ).then(resolve, reject);
  });
  runtime.catch((err: unknown) =>
    line('error', `request path failed to load: ${err instanceof Error ? err.message : String(err)}`),
  );
  const admin =
    governed === undefined
      ? undefined
      : new (await import('../admin/api.ts')).AdminApi(
          governed.authority,
          governed.config.adminToken,
          new Set([...config.pools.keys(), ...config.models.keys()]),
        );
  const handler = new RequestHandler(
    table,
    authenticator,
    runtime.then((r) => r.pipeline),
    admin,
    scrape,
  );

  let tlsOptions: ReturnType<typeof loadTls> | undefined;
  if (config.tls !== undefined) {
    try {
      tlsOptions = loadTls(config.tls);
    } catch (err) {
      if (err instanceof TlsConfigError) throw new Error(`TLS configuration error: ${err.message}`);
      throw err;
    }
  }
  // One TCP front admits connections and hands each to HTTP/1.1 or HTTP/2, plain or over TLS.
  const listener = createListener(handler.handle, config.limits, tlsOptions);
  const listening: NetServer = listener.tcp;

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(new Error(`cannot bind listen address '${config.listen.raw}': ${err.message}`));
    };
    listening.once('error', onError);
    // A deep accept queue: a burst of connections waits to be accepted (and timed) instead of
    // sitting half-open in the kernel; the kernel caps it at net.core.somaxconn.
    listening.listen({ port: config.listen.port, host: config.listen.host, backlog: 4096 }, () => {
      listening.off('error', onError);
      resolve();
    });
  });
  const address = listening.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.listen.port;
  const host = config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host;
  const url = `${tlsOptions === undefined ? 'http' : 'https'}://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  if (!opts.quiet)
    line('info', `busbar listening on ${url}${config.tls?.clientCaFile !== undefined ? ' (mtls)' : ''}`);
  if (config.embeddedDefault && !opts.quiet)
    for (const text of embeddedDefaultBanner(config, url)) process.stderr.write(`${text}\n`);
  // The request path's heavier modules, the probers and HTTP/2 load once the bind is announced
  // (G-CFG-31), in steps that let early requests through (server/runtime.ts).
  setImmediate(() => {
    startRuntime();
    listener.enableHttp2().catch(() => line('error', 'HTTP/2 support failed to load'));
  });

  const close = async (): Promise<void> => {
    for (const prober of (await runtime).probers) prober.stop();
    await new Promise<void>((resolve) => {
      listening.close(() => resolve());
      listener.drain();
    });
    await observed.close();
    await origins.close();
    await governed?.close();
  };
  return { url, close };
}
