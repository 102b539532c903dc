// Reloads under `workers: N`: the primary coordinates, so every worker swaps together. A trigger
// (SIGHUP or a file change, seen by the primary; or POST /admin/config/reload at any worker,
// passed to the primary) makes the primary tell every worker to reload; each validates the files
// for itself and answers; the admin call answers once all have, with every worker's errors.

import type { Worker } from 'node:cluster';
import type { ReloadResult } from '../config/reload.ts';
import { type CommandChannel, hostCommands, workerCommands } from './node-command.ts';

/** A worker slower than this to reload counts as a failed reload. */
const WORKER_REPLY_MS = 30_000;

/** Every worker's answers as one: ok when all are; errors deduplicated. */
export function combine(results: readonly ReloadResult[], late = 0): ReloadResult {
  const errors = [...new Set(results.flatMap((r) => (r.ok ? [] : r.errors)))];
  if (late > 0) errors.push(`${late} worker(s) did not finish reloading within ${WORKER_REPLY_MS / 1000} s`);
  if (errors.length > 0) return { ok: false, errors };
  const oks = results.filter((r): r is Extract<ReloadResult, { ok: true }> => r.ok);
  const first = oks[0];
  if (first === undefined) return { ok: false, errors: ['no worker is running'] };
  return {
    ok: true,
    changed: oks.some((r) => r.changed),
    hash: first.hash,
    loadedAt: first.loadedAt,
    summary: first.summary,
  };
}

const RELOAD: CommandChannel<ReloadResult> = {
  tag: 'busbar-reload',
  replyMs: WORKER_REPLY_MS,
  combine,
};

/**
 * Worker side: reloads when the primary says so (answering with the result), and returns what the
 * admin API calls: a request to the primary to reload every worker.
 */
export function workerReload(local: () => Promise<ReloadResult>): () => Promise<ReloadResult> {
  const ask = workerCommands<null, ReloadResult>(RELOAD, () => local());
  return () => ask(null);
}

/**
 * Primary side: the returned function tells every worker to reload and combines their answers; a
 * worker's request is served the same way and answered to it.
 */
export function hostReload(
  workers: () => readonly Worker[],
  listen: (on: (worker: Worker, message: unknown) => void) => void,
  log: (r: ReloadResult) => void,
): () => Promise<ReloadResult> {
  const reloadAll = hostCommands<null, ReloadResult>(RELOAD, workers, listen, log);
  return () => reloadAll(null);
}
