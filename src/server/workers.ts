// `workers: N` (issue 5): N gateway processes share one listening port through node:cluster.
// Breaker, round-robin, permit and lane budget state is per process; each worker is a full
// gateway. Governance is the exception: its one arbiter runs here in the primary.

import cluster, { type Worker } from 'node:cluster';
import { line } from '../log.ts';

/** What the primary runs beside its workers (the governance arbiter, the node-wide metrics). */
export interface PrimaryService {
  /** Called once, before the first fork. */
  start(
    workers: () => readonly Worker[],
    listen: (on: (worker: Worker, message: unknown) => void) => void,
  ): void;
  /** Called once every worker has exited on shutdown. */
  stop(): void;
}

/** Runs in the primary: forks the workers, reports once all listen, replaces crashed ones. */
export function superviseWorkers(count: number, services: readonly PrimaryService[]): void {
  for (const service of services)
    service.start(
      () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w?.isConnected() === true),
      (on) => cluster.on('message', on),
    );
  let shuttingDown = false;
  let listening = 0;
  /** Workers that have bound; one that exits before it does failed to start. */
  const started = new WeakSet<Worker>();
  /** Replacements in a row that failed to start: each waits longer (a bad file on disk loops). */
  let failedStarts = 0;
  const fork = (): Worker => cluster.fork();
  cluster.on('listening', (worker, address) => {
    started.add(worker);
    failedStarts = 0;
    listening++;
    if (listening !== count) return;
    const host = address.address === null || address.address === '0.0.0.0' ? '127.0.0.1' : address.address;
    const shown = host.includes(':') ? `[${host}]` : host;
    line('info', `busbar listening on http://${shown}:${address.port} (${count} workers)`);
  });
  cluster.on('exit', (worker, code, signal) => {
    if (shuttingDown) {
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        for (const service of services) service.stop();
        process.exit(0);
      }
      return;
    }
    if (!started.has(worker)) {
      // It never bound: its start failed (the files on disk may no longer load since a reload
      // was refused). Retry, backing off, instead of forking in a tight loop.
      const delayMs = Math.min(30_000, 1000 * 2 ** failedStarts++);
      line(
        'error',
        `worker ${worker.process.pid} failed to start (${signal ?? code}); retrying in ${delayMs / 1000} s`,
      );
      setTimeout(() => {
        if (!shuttingDown) fork();
      }, delayMs);
      return;
    }
    line('error', `worker ${worker.process.pid} exited (${signal ?? code}); starting a replacement`);
    listening--;
    fork();
  });
  const stop = (): void => {
    if (shuttingDown) return;
    shuttingDown = true;
    line('info', 'shutdown signal received; draining in-flight requests');
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  for (let i = 0; i < count; i++) fork();
}
