// CLI entry: flags, load config, start the server, handle signals.

import cluster from 'node:cluster';
import type { DrainResult } from './admin/api.ts';
import { parseCli, versionLine } from './cli.ts';
import { ConfigError, configFiles, loadGatewayConfig, printMetadataBlocklist } from './config/index.ts';
import { line } from './log.ts';
import type { KeySource } from './observability/live.ts';
import type { DrainCommand } from './server/drain.ts';
import type { PrimaryService } from './server/workers.ts';

async function main(): Promise<number | undefined> {
  const cli = parseCli(process.argv.slice(2));
  switch (cli.kind) {
    case 'help': {
      const { helpText } = await import('./help.ts');
      process.stdout.write(helpText());
      return 0;
    }
    case 'version':
      process.stdout.write(`${versionLine()}\n`);
      return 0;
    case 'print-metadata-blocklist':
      printMetadataBlocklist({ configPath: cli.configPath });
      return 0;
    case 'unknown':
      process.stderr.write(`busbar: unrecognized argument '${cli.arg}'. Try 'busbar --help'.\n`);
      return 2;
    case 'validate': {
      const config = loadGatewayConfig({
        validateOnly: true,
        configPath: cli.configPath,
        providersPath: cli.providersPath,
      });
      process.stdout.write(`config OK: ${config.models.size} models, ${config.pools.size} pools\n`);
      return 0;
    }
    case 'serve': {
      // Workers of a multi-process gateway load the same files quietly: the primary already spoke.
      const worker = cluster.isWorker;
      const config = loadGatewayConfig({
        validateOnly: false,
        configPath: cli.configPath,
        providersPath: cli.providersPath,
        ...(worker ? { emit: () => {} } : {}),
      });
      if (config.workers > 1 && cluster.isPrimary) {
        const [
          { superviseWorkers },
          { Catalogue, catalogueFeatures },
          { hostMetrics },
          { ReasoningStore },
          { hostReasoningMemory },
        ] = await Promise.all([
          import('./server/workers.ts'),
          import('./observability/metrics.ts'),
          import('./observability/metrics-ipc.ts'),
          import('./lifecycle/reasoning-memory.ts'),
          import('./lifecycle/reasoning-memory-ipc.ts'),
        ]);
        // A scrape at any worker shows the whole node: the primary gathers every worker's series.
        const catalogue = new Catalogue(catalogueFeatures(config));
        const services: PrimaryService[] = [
          { start: (workers, listen) => hostMetrics(catalogue, workers, listen), stop: () => {} },
          // Signed reasoning remembered for the whole node, whichever worker takes the next turn.
          { start: (_workers, listen) => hostReasoningMemory(new ReasoningStore(), listen), stop: () => {} },
        ];
        const gov = config.governance;
        /** The keys the dashboard lists, from the governance this primary runs. */
        let keys: KeySource | undefined;
        if (gov?.fleet !== undefined) {
          // Shared stores: each worker is its own client; the primary reads the per-key gauges.
          const { FleetAuthority } = await import('./governance/fleet.ts');
          const fleet = await FleetAuthority.start(gov.fleet, gov.failOpen, true);
          catalogue.watchKeys(fleet);
          keys = fleet;
          services.push({ start: () => {}, stop: () => fleet.close() });
        } else if (gov !== undefined) {
          // The node's one governance arbiter lives here; the workers call it (governance/arbiter-ipc.ts).
          const [{ openArbiter }, { hostArbiter }] = await Promise.all([
            import('./governance/setup.ts'),
            import('./governance/arbiter-ipc.ts'),
          ]);
          const { arbiter, store } = openArbiter(gov);
          catalogue.watchKeys(arbiter);
          keys = arbiter;
          services.push({
            start: (workers, listen) => hostArbiter(arbiter, workers, listen),
            stop: () => {
              arbiter.flush();
              store.close();
            },
          });
        }
        // Reloads: SIGHUP or a changed file here, and every worker swaps together.
        const [{ hostReload }, { watchConfigFiles }, { logReload }, { hostCommands }, { DRAIN_CHANNEL }] =
          await Promise.all([
            import('./server/reload-ipc.ts'),
            import('./server/config-watch.ts'),
            import('./config/reload.ts'),
            import('./server/node-command.ts'),
            import('./server/drain.ts'),
          ]);
        if (config.dashboard) {
          // The dashboard's points: every worker's sample merged here, with the keys (observability/live.ts).
          const { hostLive } = await import('./observability/live.ts');
          services.push({ start: (workers, listen) => void hostLive(keys, workers, listen), stop: () => {} });
        }
        // A lane drained at one worker is drained at every worker.
        services.push({
          start: (workers, listen) =>
            void hostCommands<DrainCommand, DrainResult>(DRAIN_CHANNEL, workers, listen),
          stop: () => {},
        });
        services.push({
          start: (workers, listen) => {
            // The one line a reload logs, for every worker.
            const reloadAll = hostReload(workers, listen, (r) => logReload(r, ' by every worker'));
            const reload = (): void => void reloadAll();
            watchConfigFiles(
              configFiles({ configPath: cli.configPath, providersPath: cli.providersPath }),
              reload,
            );
            process.on('SIGHUP', reload);
          },
          stop: () => {},
        });
        superviseWorkers(config.workers, services);
        return undefined;
      }
      const [{ startGateway }, { superviseProcess }] = await Promise.all([
        import('./server/gateway.ts'),
        import('./server/process.ts'),
      ]);
      const files = { configPath: cli.configPath, providersPath: cli.providersPath };
      // A lone process watches its files itself; a worker is told to reload by the primary.
      superviseProcess(
        await startGateway(config, { quiet: worker, ...files }),
        worker ? [] : configFiles(files),
      );
      return undefined;
    }
    default: {
      const never: never = cli;
      throw new Error(`unhandled cli ${String(never)}`);
    }
  }
}

// Fatal startup problems print `[error] …` lines and exit 1, never a stack trace (G-CFG-29).
main().then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) {
      for (const msg of err.lines) line('error', msg);
    } else {
      line('error', err instanceof Error ? err.message : String(err));
    }
    process.exitCode = 1;
    // A worker's IPC channel would keep it alive: a worker that cannot start must end, so the
    // primary sees it fail (and retries, backing off, server/workers.ts).
    if (cluster.isWorker) process.exit(1);
  },
);
