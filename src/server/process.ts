// What the serving process does beyond serving: SIGINT/SIGTERM stop the listener, let in-flight
// requests (streams included) finish and exit 0 (G-CLI-8); SIGHUP and a change to a config file
// reload the configuration (server/reload.ts). A defect inside a request is caught at
// the request boundary (lifecycle/pipeline.ts); an exception nothing caught means shared state may
// be half-updated, so the process stops taking connections, lets in-flight requests finish within
// a bound and exits 1 — under `workers`, the primary then starts a replacement.

import { line } from '../log.ts';
import { watchConfigFiles } from './config-watch.ts';
import type { RunningGateway } from './gateway.ts';

/** How long in-flight requests get to finish after an uncaught exception. */
export const CRASH_DRAIN_MS = 10_000;

/**
 * `configFiles`: the files to watch for changes (a change, like SIGHUP, reloads them); none
 * under `workers: N`, whose primary watches and reloads every worker together.
 */
export function superviseProcess(gateway: RunningGateway, configFiles: readonly string[] = []): void {
  const stopWatching =
    configFiles.length === 0 ? () => {} : watchConfigFiles(configFiles, () => void gateway.reload());
  let stopping = false;
  const stop = (code: number, boundMs: number | undefined): void => {
    if (stopping) return;
    stopping = true;
    stopWatching();
    if (boundMs !== undefined) setTimeout(() => process.exit(code), boundMs).unref();
    gateway.close().then(
      () => process.exit(code),
      () => process.exit(code),
    );
  };
  const crash = (what: string, err: unknown): void => {
    const why = err instanceof Error ? err.message : String(err);
    line(
      'error',
      `${what}: ${why}; closing the listener, letting in-flight requests finish (at most ${CRASH_DRAIN_MS / 1000} s), then exiting`,
    );
    process.exitCode = 1;
    stop(1, CRASH_DRAIN_MS);
  };
  process.on('uncaughtException', (err) => crash('uncaught exception', err));
  process.on('unhandledRejection', (err) => crash('unhandled promise rejection', err));
  const onSignal = (): void => {
    line('info', 'shutdown signal received; draining in-flight requests');
    stop(0, undefined);
  };
  try {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    if (configFiles.length > 0) process.on('SIGHUP', () => void gateway.reload());
  } catch (err) {
    line('warn', `could not install signal handlers: ${String(err)}`);
  }
}
