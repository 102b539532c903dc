// Commands every worker carries out together under `workers: N` (a reload, a lane drain): the
// worker that took the admin call asks the primary, which sends the command to every worker,
// waits for each answer (bounded) and answers the asking worker with the answers combined. The
// primary runs one command of a channel at a time, so two never interleave.

import type { Worker } from 'node:cluster';

export interface CommandChannel<R> {
  /** Tags this channel's IPC messages (each channel has its own). */
  readonly tag: string;
  /** A worker slower than this to answer is counted as not having answered. */
  readonly replyMs: number;
  /** Every worker's answer as one; `late` workers did not answer in time. */
  combine(results: readonly R[], late: number): R;
}

type ToPrimary<C, R> =
  | { tag: string; kind: 'request'; id: number; command: C }
  | { tag: string; kind: 'result'; id: number; result: R };
type ToWorker<C, R> =
  | { tag: string; kind: 'run'; id: number; command: C }
  | { tag: string; kind: 'done'; id: number; result: R };

function tagged(m: unknown, tag: string): boolean {
  return typeof m === 'object' && m !== null && (m as { tag?: unknown }).tag === tag;
}

/**
 * Worker side: carries out what the primary sends (answering with the result) and returns what an
 * admin call runs: the command sent to the primary for every worker.
 */
export function workerCommands<C, R>(
  channel: CommandChannel<R>,
  local: (command: C) => Promise<R>,
): (command: C) => Promise<R> {
  const { tag } = channel;
  const pending = new Map<number, (r: R) => void>();
  let next = 1;
  process.on('message', (m: unknown) => {
    if (!tagged(m, tag)) return;
    const msg = m as ToWorker<C, R>;
    if (msg.kind === 'run') {
      void local(msg.command).then((result) =>
        process.send?.({ tag, kind: 'result', id: msg.id, result } satisfies ToPrimary<C, R>),
      );
    } else {
      pending.get(msg.id)?.(msg.result);
      pending.delete(msg.id);
    }
  });
  return (command) =>
    new Promise<R>((resolve) => {
      const id = next++;
      pending.set(id, resolve);
      process.send?.({ tag, kind: 'request', id, command } satisfies ToPrimary<C, R>);
    });
}

/** Primary side: the returned function runs a command on every worker; workers' requests run the same way. */
export function hostCommands<C, R>(
  channel: CommandChannel<R>,
  workers: () => readonly Worker[],
  listen: (on: (worker: Worker, message: unknown) => void) => void,
  done: (result: R) => void = () => {},
): (command: C) => Promise<R> {
  const { tag } = channel;
  const waiting = new Map<number, { left: Set<number>; results: R[]; finish: () => void }>();
  let next = 1;
  let chain: Promise<unknown> = Promise.resolve();
  const once = (command: C): Promise<R> =>
    new Promise<R>((resolve) => {
      const id = next++;
      const targets = workers();
      const entry = { left: new Set(targets.map((w) => w.id)), results: [] as R[], finish: () => {} };
      const timer = setTimeout(() => entry.finish(), channel.replyMs);
      entry.finish = () => {
        clearTimeout(timer);
        waiting.delete(id);
        resolve(channel.combine(entry.results, entry.left.size));
      };
      if (targets.length === 0) return entry.finish();
      waiting.set(id, entry);
      for (const w of targets) w.send({ tag, kind: 'run', id, command } satisfies ToWorker<C, R>);
    });
  const runAll = (command: C): Promise<R> => {
    const result = chain.then(
      () => once(command),
      () => once(command),
    );
    chain = result;
    return result.then((r) => {
      done(r);
      return r;
    });
  };
  listen((worker, m) => {
    if (!tagged(m, tag)) return;
    const msg = m as ToPrimary<C, R>;
    if (msg.kind === 'result') {
      const entry = waiting.get(msg.id);
      if (entry === undefined) return;
      entry.results.push(msg.result);
      entry.left.delete(worker.id);
      if (entry.left.size === 0) entry.finish();
    } else {
      void runAll(msg.command).then((result) => {
        if (worker.isConnected())
          worker.send({ tag, kind: 'done', id: msg.id, result } satisfies ToWorker<C, R>);
      });
    }
  });
  return runAll;
}
