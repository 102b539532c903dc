// Reloads under `workers: N`: the primary coordinates, so every worker swaps together. A trigger
// (SIGHUP or a file change, seen by the primary; or POST /admin/config/reload at any worker,
// passed to the primary) makes the primary tell every worker to reload; each validates the files
// for itself and answers; the admin call answers once all have, with every worker's errors.

import type { Worker } from 'node:cluster';
import type { ReloadResult } from '../config/reload.ts';

const TAG = 'busbar-reload';
/** A worker slower than this to reload counts as a failed reload. */
const WORKER_REPLY_MS = 30_000;

type ToPrimary =
  | { tag: typeof TAG; kind: 'request'; id: number }
  | { tag: typeof TAG; kind: 'result'; id: number; result: ReloadResult };
type ToWorker =
  | { tag: typeof TAG; kind: 'reload'; id: number }
  | { tag: typeof TAG; kind: 'done'; id: number; result: ReloadResult };

function isTagged(m: unknown): m is { tag: string; kind: string; id: number } {
  return typeof m === 'object' && m !== null && (m as { tag?: unknown }).tag === TAG;
}

/** Every worker's answers as one: ok when all are; errors deduplicated. */
export function combine(results: readonly ReloadResult[]): ReloadResult {
  const errors = [...new Set(results.flatMap((r) => (r.ok ? [] : r.errors)))];
  if (errors.length > 0) return { ok: false, errors };
  const oks = results.filter((r): r is Extract<ReloadResult, { ok: true }> => r.ok);
  const first = oks[0];
  if (first === undefined) return { ok: false, errors: ['no worker answered'] };
  return {
    ok: true,
    changed: oks.some((r) => r.changed),
    hash: first.hash,
    loadedAt: first.loadedAt,
    summary: first.summary,
  };
}

/**
 * Worker side: reloads when the primary says so (answering with the result), and returns what the
 * admin API calls: a request to the primary to reload every worker.
 */
export function workerReload(local: () => Promise<ReloadResult>): () => Promise<ReloadResult> {
  const pending = new Map<number, (r: ReloadResult) => void>();
  let next = 1;
  process.on('message', (m: unknown) => {
    if (!isTagged(m)) return;
    const msg = m as ToWorker;
    if (msg.kind === 'reload') {
      void local().then((result) =>
        process.send?.({ tag: TAG, kind: 'result', id: msg.id, result } satisfies ToPrimary),
      );
    } else if (msg.kind === 'done') {
      pending.get(msg.id)?.(msg.result);
      pending.delete(msg.id);
    }
  });
  return () =>
    new Promise<ReloadResult>((resolve) => {
      const id = next++;
      pending.set(id, resolve);
      process.send?.({ tag: TAG, kind: 'request', id } satisfies ToPrimary);
    });
}

/**
 * Primary side: `reloadAll` tells every worker to reload and combines their answers; a worker's
 * request is served the same way and answered to it.
 */
export function hostReload(
  workers: () => readonly Worker[],
  listen: (on: (worker: Worker, message: unknown) => void) => void,
  log: (r: ReloadResult) => void,
): () => Promise<ReloadResult> {
  const waiting = new Map<
    number,
    { left: Set<number>; results: ReloadResult[]; done: (r: ReloadResult) => void }
  >();
  let next = 1;
  let chain: Promise<unknown> = Promise.resolve();
  const once = (): Promise<ReloadResult> =>
    new Promise<ReloadResult>((resolve) => {
      const id = next++;
      const targets = workers();
      if (targets.length === 0) return resolve({ ok: false, errors: ['no worker is running'] });
      const entry = { left: new Set(targets.map((w) => w.id)), results: [] as ReloadResult[], done: resolve };
      waiting.set(id, entry);
      const timer = setTimeout(() => {
        waiting.delete(id);
        resolve(
          combine([
            ...entry.results,
            {
              ok: false,
              errors: [
                `${entry.left.size} worker(s) did not finish reloading within ${WORKER_REPLY_MS / 1000} s`,
              ],
            },
          ]),
        );
      }, WORKER_REPLY_MS);
      entry.done = (r) => {
        clearTimeout(timer);
        resolve(r);
      };
      for (const w of targets) w.send({ tag: TAG, kind: 'reload', id } satisfies ToWorker);
    });
  const reloadAll = (): Promise<ReloadResult> => {
    const result = chain.then(once, once);
    chain = result;
    return result.then((r) => {
      log(r);
      return r;
    });
  };
  listen((worker, m) => {
    if (!isTagged(m)) return;
    const msg = m as ToPrimary;
    if (msg.kind === 'result') {
      const entry = waiting.get(msg.id);
      if (entry === undefined) return;
      entry.results.push(msg.result);
      entry.left.delete(worker.id);
      if (entry.left.size === 0) {
        waiting.delete(msg.id);
        entry.done(combine(entry.results));
      }
    } else if (msg.kind === 'request') {
      void reloadAll().then((result) => {
        if (worker.isConnected())
          worker.send({ tag: TAG, kind: 'done', id: msg.id, result } satisfies ToWorker);
      });
    }
  });
  return reloadAll;
}
