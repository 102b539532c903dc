// Drives the dashboard's feed once a second (issue 17). A lone process samples its own totals; under
// `workers: N` every worker sends its sample to the primary, which merges them with the per-key
// figures of the governance it runs and sends the node's point back to every worker's feed.

import type { Worker } from 'node:cluster';
import { log } from '../log.ts';
import { INTERVAL_MS, type KeyView, type ListedKey, type LiveFeed, type LiveState } from './live-feed.ts';
import { type LivePoint, type LiveSample, mergeSamples, toPoint } from './live-sample.ts';
import type { LiveTotals } from './live-totals.ts';
import type { KeyFiguresSource } from './metrics.ts';

/** Keys the dashboard lists at most (the rest are reachable through the admin API). */
const MAX_KEYS = 500;

/** Where the keys and their figures come from: the governance authority this process runs. */
export interface KeySource extends KeyFiguresSource {
  list(): Promise<{ readonly ok: true; readonly value: readonly ListedKey[] } | { readonly ok: false }>;
}

/** What a process says about itself alongside its sample. */
export interface ProcessFacts {
  readonly config: LiveState['config'];
  readonly replica: string;
  readonly workers: number;
  readonly reload: boolean;
  readonly governance: boolean;
}

export async function keyViews(source: KeySource, nowMs: number): Promise<KeyView[]> {
  const listed = await source.list();
  if (!listed.ok) return [];
  const figures = new Map(source.keyFigures(nowMs, MAX_KEYS).figures.map((f) => [f.id, f]));
  return listed.value.slice(0, MAX_KEYS).map((k) => {
    const f = figures.get(k.id);
    return {
      id: k.id,
      name: k.name,
      enabled: k.enabled,
      allowed_pools: k.allowed_pools,
      budget_period: k.budget_period,
      max_budget_cents: k.max_budget_cents,
      spend_cents: f?.spendCents ?? 0,
      tokens: f?.tokens ?? 0,
      requests: f?.requests ?? null,
      rpm_limit: k.rpm_limit,
      rpm_used: f?.rpmUsed ?? null,
      tpm_limit: k.tpm_limit,
      tpm_used: f?.tpmUsed ?? null,
    };
  });
}

/**
 * Turns samples into the feed's points: per-key figures are read only while someone watches; a
 * dashboard opened later sees the last ones read until its first tick.
 */
class Publisher {
  readonly #keys: KeySource | undefined;
  #lastKeys: readonly KeyView[] = [];
  #busy = false;

  constructor(keys: KeySource | undefined) {
    this.#keys = keys;
  }

  async point(
    sample: LiveSample,
    facts: ProcessFacts,
    watching: boolean,
  ): Promise<{ point: LivePoint; state: LiveState } | undefined> {
    // A slow key store never stacks ticks: one that is still reading skips this one.
    if (this.#busy) return undefined;
    this.#busy = true;
    try {
      const now = Date.now();
      if (watching && this.#keys !== undefined) this.#lastKeys = await keyViews(this.#keys, now);
      return {
        point: toPoint(sample, now, INTERVAL_MS),
        state: {
          ...facts,
          pools: sample.poolViews,
          lanes: sample.laneViews,
          keys: facts.governance ? this.#lastKeys : null,
        },
      };
    } catch (err) {
      log.warn({ err: err instanceof Error ? err.message : String(err) }, 'dashboard tick failed');
      return undefined;
    } finally {
      this.#busy = false;
    }
  }
}

/** A lone process: its own totals, once a second. Returns the stop. */
export function startLocalLive(
  totals: LiveTotals,
  feed: LiveFeed,
  keys: KeySource | undefined,
  facts: () => ProcessFacts,
): () => void {
  const publisher = new Publisher(keys);
  const timer = setInterval(() => {
    void publisher.point(totals.take(), facts(), feed.watching).then((p) => {
      if (p !== undefined) feed.publish(p.point, p.state);
    });
  }, INTERVAL_MS).unref();
  return () => clearInterval(timer);
}

const TAG = 'busbar-live';
type ToPrimary = {
  tag: typeof TAG;
  kind: 'sample';
  sample: LiveSample;
  facts: ProcessFacts;
  watching: boolean;
};
type ToWorker = { tag: typeof TAG; kind: 'point'; point: LivePoint; state: LiveState };

const isTagged = (m: unknown): boolean =>
  typeof m === 'object' && m !== null && (m as { tag?: unknown }).tag === TAG;

/** A worker: sends its sample to the primary each second and publishes the node's points. */
export function startWorkerLive(totals: LiveTotals, feed: LiveFeed, facts: () => ProcessFacts): () => void {
  const onMessage = (m: unknown): void => {
    if (!isTagged(m)) return;
    const msg = m as ToWorker;
    feed.publish(msg.point, msg.state);
  };
  process.on('message', onMessage);
  const timer = setInterval(() => {
    const msg: ToPrimary = {
      tag: TAG,
      kind: 'sample',
      sample: totals.take(),
      facts: facts(),
      watching: feed.watching,
    };
    process.send?.(msg);
  }, INTERVAL_MS).unref();
  return () => {
    clearInterval(timer);
    process.off('message', onMessage);
  };
}

/** The primary: merges what its workers sent in each interval and sends the node's point to all. */
export function hostLive(
  keys: KeySource | undefined,
  workers: () => readonly Worker[],
  listen: (on: (worker: Worker, m: unknown) => void) => void,
): () => void {
  const publisher = new Publisher(keys);
  let pending = new Map<number, ToPrimary[]>();
  listen((worker, m) => {
    if (!isTagged(m)) return;
    const list = pending.get(worker.id);
    if (list === undefined) pending.set(worker.id, [m as ToPrimary]);
    else list.push(m as ToPrimary);
  });
  // A worker's samples of one interval (two when timers drift): traffic summed, its lanes as last seen.
  const ofWorker = (list: readonly ToPrimary[]): LiveSample => ({
    ...mergeSamples(list.map((t) => t.sample)),
    laneViews: list.at(-1)!.sample.laneViews,
  });
  const timer = setInterval(() => {
    if (pending.size === 0) return;
    const taken = [...pending.values()];
    pending = new Map();
    const facts = { ...taken[0]![0]!.facts, workers: workers().length };
    void publisher
      .point(
        mergeSamples(taken.map(ofWorker)),
        facts,
        taken.some((list) => list.some((t) => t.watching)),
      )
      .then((p) => {
        if (p === undefined) return;
        const msg: ToWorker = { tag: TAG, kind: 'point', ...p };
        for (const w of workers()) if (w.isConnected()) w.send(msg);
      });
  }, INTERVAL_MS).unref();
  return () => clearInterval(timer);
}
