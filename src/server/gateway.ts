// Starts the gateway: builds the routing table, binds the listener (plain or TLS), prints the
// banner, and loads the request path. What the process does on signals and defects is
// server/process.ts's job, so a gateway can also run inside a test process.

import cluster from 'node:cluster';
import type { Server as NetServer } from 'node:net';
import { authenticatorFor } from '../auth/principal.ts';
import { util } from '../builtins.ts';
import { embeddedDefaultBanner } from '../config/default.ts';
import { ConfigError, loadGatewayConfig } from '../config/index.ts';
import { fixedSectionChanges, logReload, type ReloadResult } from '../config/reload.ts';
import type { GatewayConfig, GovernanceConfig, ModelConfig } from '../config/types.ts';
import type { GovernanceParts } from '../governance/setup.ts';
import { laneKey } from '../ledger/ledger.ts';
import { BodyBudget } from '../lifecycle/body.ts';
import { type ReasoningMemory, ReasoningStore } from '../lifecycle/reasoning-memory.ts';
import { line } from '../log.ts';
import type { KeySource } from '../observability/live.ts';
import type { Catalogue } from '../observability/metrics.ts';
import { startObservability } from '../observability/setup.ts';
import { REPLICA } from '../replica.ts';
import { type LaneMemory, type NameResolver, newLaneMemory, RoutingTable } from '../routing/table.ts';
import { OriginPools } from '../upstream/origins.ts';
import { DRAIN_CHANNEL, type DrainCommand, drainLane } from './drain.ts';
import { RequestHandler } from './handler.ts';
import { IdleMemory, memoryReducingCollector } from './idle-memory.ts';
import { createListener } from './listener.ts';
import { loadRuntime, type PipelineExtras, type Runtime } from './runtime.ts';
import { loadTls, TlsConfigError } from './tls.ts';

export interface RunningGateway {
  readonly url: string;
  close(): Promise<void>;
  /** Re-reads both files and swaps in what they route, or refuses them (server/reload.ts). */
  reload(): Promise<ReloadResult>;
}

export interface GatewayOptions {
  /** Workers of a multi-process gateway start quietly: the primary already spoke. */
  readonly quiet?: boolean;
  /** Lane states and ledger; tests pass a manual clock's. */
  readonly memory?: LaneMemory;
  /** The files a reload re-reads (`--config`, `--providers`; else as startup found them). */
  readonly configPath?: string | undefined;
  readonly providersPath?: string | undefined;
}

/** The keys and their figures, where the governance authority runs in this process. */
function keySource(governed: GovernanceParts): KeySource | undefined {
  const figures = governed.keyFigures;
  if (figures === undefined) return undefined;
  return {
    list: () => governed.authority.list(),
    keyFigures: (now, limit) => figures.keyFigures(now, limit),
  };
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
  // Kept across reloads: a table built from a changed config carries what the lanes learned.
  const memory = opts.memory ?? newLaneMemory();
  const table = new RoutingTable(config, memory);
  await startScriptSandboxes(table);
  // The table requests resolve against now; a reload replaces it.
  const live = { config, table };
  const names: NameResolver = { resolve: (name) => live.table.resolve(name) };
  const origins = new OriginPools(config.limits.upstream);
  // Governance opens its database before the bind: a bad db_path stops startup, not a request.
  const governed =
    config.governance === undefined ? undefined : await startGoverned(config, config.governance);
  const authenticator = governed?.authenticator ?? authenticatorFor(config.auth);
  const observed = await startObservability(
    config,
    table,
    origins,
    governed?.keyFigures,
    governed?.stores,
    names,
  );
  const metrics = observed.metrics;
  const reasoning = await reasoningMemory();
  const admin =
    governed === undefined
      ? undefined
      : new (await import('../admin/api.ts')).AdminApi(
          governed.authority,
          governed.config.adminToken,
          new Set([...config.pools.keys(), ...config.models.keys()]),
        );
  // The dashboard (issue 17) needs the admin token, so governance: the config refuses it otherwise.
  const dashboard =
    config.dashboard && admin !== undefined && governed !== undefined
      ? await (await import('./dashboard.ts')).startDashboard(table, admin, keySource(governed), () => ({
          config: { hash: live.config.source.hash, loaded_at: live.config.source.loadedAt },
          replica: REPLICA,
          workers: config.workers,
          reload: true,
          governance: true,
        }))
      : undefined;
  // Memory a burst grew goes back once traffic stops (idle-memory.ts).
  const idle = new IdleMemory(memoryReducingCollector());
  const stopIdle = idle.start();
  // Every finish listener but governance's settlement, which a reload rebuilds with its guard.
  const listeners = [
    ...observed.listeners,
    ...(dashboard === undefined ? [] : [dashboard.listener]),
    idle.count,
  ];
  const extras: PipelineExtras = {
    guards: governed ? [governed.governance] : [],
    // Governance settles first: the request log records what the request cost.
    listeners: [...(governed ? [governed.governance.settle] : []), ...listeners],
    begin: [
      ...observed.begin,
      (ctx) => {
        ctx.reasoningMemory = reasoning;
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
  const handler = new RequestHandler(
    table,
    authenticator,
    runtime.then((r) => r.pipeline),
    admin,
    scrape,
  );
  if (dashboard !== undefined) handler.useDashboard(dashboard.dashboard);

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
  if (!opts.quiet && dashboard !== undefined)
    line('info', `dashboard on ${url}/ui/ (sign in with the admin token)`);
  if (config.embeddedDefault && !opts.quiet)
    for (const text of embeddedDefaultBanner(config, url)) process.stderr.write(`${text}\n`);
  // The request path's heavier modules and the probers load once the bind is announced
  // (G-CFG-31), in steps that let early requests through (server/runtime.ts).
  setImmediate(startRuntime);

  /**
   * One reload at a time: read and validate both files, refuse changes only a restart applies,
   * then build the new table (carrying lane state by identity), its script sandboxes, signers,
   * governance guard, pipeline and probers, and swap them in at once.
   */
  const reloadOnce = async (): Promise<ReloadResult> => {
    let next: GatewayConfig;
    try {
      // Printed below, and only what is new: the running config's warnings were printed already.
      next = loadGatewayConfig({
        validateOnly: true,
        configPath: opts.configPath,
        providersPath: opts.providersPath,
        emit: () => {},
      });
    } catch (err) {
      return { ok: false, errors: err instanceof ConfigError ? err.lines : [String(err)] };
    }
    const fixed = fixedSectionChanges(live.config, next);
    if (fixed.length > 0) return { ok: false, errors: fixed };
    // TLS files replaced at the same paths: checked as at startup, used by new connections.
    let tlsNext: ReturnType<typeof loadTls> | undefined;
    if (next.tls !== undefined) {
      try {
        tlsNext = loadTls(next.tls);
      } catch (err) {
        return { ok: false, errors: [err instanceof Error ? err.message : String(err)] };
      }
    }
    const tlsChanged = tlsNext !== undefined && !util.isDeepStrictEqual(tlsNext, tlsOptions);
    const summary = `${next.models.size} models, ${next.pools.size} pools`;
    if (tlsChanged && tlsNext !== undefined) {
      listener.useTls?.(tlsNext);
      tlsOptions = tlsNext;
      if (!cluster.isWorker) line('info', 'TLS certificate files re-read: new connections use them');
    }
    if (next.source.hash === live.config.source.hash) {
      const { hash, loadedAt } = live.config.source;
      return { ok: true, changed: tlsChanged, hash, loadedAt, summary };
    }
    const rt = await runtime;
    // A lane whose upstream changed under the same name starts fresh (its budget stays).
    for (const [name, model] of next.models) {
      const before = live.config.models.get(name);
      if (before !== undefined && laneKey(before) === laneKey(model) && upstreamChanged(before, model))
        memory.states.forget(laneKey(model));
    }
    const nextTable = new RoutingTable(next, memory);
    try {
      await startScriptSandboxes(nextTable);
    } catch (err) {
      return { ok: false, errors: [err instanceof Error ? err.message : String(err)] };
    }
    const guard = governed?.rebuild(next);
    const pipeline = rt.build(nextTable, {
      guards: guard === undefined ? [] : [guard],
      listeners: [...(guard === undefined ? [] : [guard.settle]), ...listeners],
      begin: extras.begin,
    });
    const probers = await rt.probe(nextTable);
    // The swap: from here every new request routes by the new config.
    for (const prober of rt.probers.splice(0, rt.probers.length, ...probers)) prober.stop();
    handler.use(nextTable, pipeline);
    metrics.watchLanes(nextTable);
    dashboard?.use(nextTable);
    admin?.setNames(new Set([...next.pools.keys(), ...next.models.keys()]));
    // Lanes the new config no longer has drain with the requests that hold them, then are gone.
    const kept = new Set([...next.models.values()].map(laneKey));
    for (const model of live.config.models.values())
      if (!kept.has(laneKey(model))) memory.states.forget(laneKey(model));
    const printed = new Set(live.config.source.warnings);
    live.config = next;
    live.table = nextTable;
    // A worker stays quiet: the primary speaks once for all of them (server/reload-ipc.ts).
    if (!cluster.isWorker)
      for (const text of next.source.warnings) if (!printed.has(text)) line('warn', text);
    return { ok: true, changed: true, hash: next.source.hash, loadedAt: next.source.loadedAt, summary };
  };
  let reloading: Promise<unknown> = Promise.resolve();
  const reload = (): Promise<ReloadResult> => {
    const result = reloading.then(reloadOnce, reloadOnce);
    reloading = result;
    return result.then((r) => {
      if (!cluster.isWorker) logReload(r);
      return r;
    });
  };
  // Under `workers: N` an admin call reloads every worker, through the primary.
  const reloadNode = cluster.isWorker ? (await import('./reload-ipc.ts')).workerReload(reload) : reload;
  // On shared stores an admin call reaches every replica, each validating its own files. A worker
  // told by another replica reloads itself (every worker of that replica is told alike).
  const announce = await governed?.shareReloads?.(() => {
    line('info', 'config reload asked by another replica');
    void reload();
  });
  admin?.onReload(async () => {
    const result = await reloadNode();
    if (result.ok && announce !== undefined) announce();
    return result;
  });
  // A lane drained at one worker is drained at every worker, through the primary.
  const drainHere = async (command: DrainCommand) => drainLane(live.table, command);
  const drainNode = cluster.isWorker
    ? (await import('./node-command.ts')).workerCommands(DRAIN_CHANNEL, drainHere)
    : drainHere;
  admin?.onDrain((lane, drained) => drainNode({ lane, drained }));

  const close = async (): Promise<void> => {
    for (const prober of (await runtime).probers) prober.stop();
    await new Promise<void>((resolve) => {
      listening.close(() => resolve());
      listener.drain();
    });
    dashboard?.close();
    stopIdle();
    await observed.close();
    await origins.close();
    await governed?.close();
  };
  return { url, close, reload };
}

/** Whether a model's upstream (where and as what it is called) differs. */
function upstreamChanged(before: ModelConfig, after: ModelConfig): boolean {
  const a = before.provider;
  const b = after.provider;
  return (
    a.baseUrl !== b.baseUrl ||
    a.protocol !== b.protocol ||
    before.upstreamModel !== after.upstreamModel ||
    before.mode !== after.mode
  );
}
