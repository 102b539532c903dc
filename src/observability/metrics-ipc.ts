// `/metrics` under `workers: N` shows the whole node (issue 12): the worker that took the scrape asks
// the primary, which collects every worker's series over the cluster IPC channel, merges them
// (counters and histograms summed, gauges by their own rule) with the per-key gauges of the
// governance arbiter it runs, and sends back the text.

import type { Worker } from 'node:cluster';
import { log } from '../log.ts';
import type { FamilySnapshot } from './exposition.ts';
import type { Catalogue } from './metrics.ts';

const TAG = 'busbar-metrics';
/** A worker that has not answered by then is left out of the scrape. */
const COLLECT_MS = 2000;
/** The asking worker gives up a little later than the primary's own wait. */
const SCRAPE_MS = COLLECT_MS + 1000;

type ToPrimary =
  | { tag: typeof TAG; kind: 'scrape'; id: number }
  | { tag: typeof TAG; kind: 'series'; id: number; families: FamilySnapshot[] };
type ToWorker =
  | { tag: typeof TAG; kind: 'collect'; id: number }
  | { tag: typeof TAG; kind: 'text'; id: number; text: string };

function isTagged(m: unknown): m is { tag: typeof TAG } {
  return typeof m === 'object' && m !== null && (m as { tag?: unknown }).tag === TAG;
}

/** Worker side: answers the primary's collection and asks it for the node's exposition. */
export class NodeScrape {
  readonly #pending = new Map<number, (text: string | undefined) => void>();
  #next = 1;

  constructor(catalogue: Catalogue) {
    process.on('message', (m: unknown) => {
      if (!isTagged(m)) return;
      const msg = m as ToWorker;
      if (msg.kind === 'collect') {
        const reply: ToPrimary = {
          tag: TAG,
          kind: 'series',
          id: msg.id,
          families: catalogue.registry.snapshot(),
        };
        process.send?.(reply);
      } else {
        this.#pending.get(msg.id)?.(msg.text);
        this.#pending.delete(msg.id);
      }
    });
  }

  /** The whole node's exposition, or undefined when the primary did not answer in time. */
  scrape(): Promise<string | undefined> {
    const id = this.#next++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        resolve(undefined);
      }, SCRAPE_MS);
      this.#pending.set(id, (text) => {
        clearTimeout(timer);
        resolve(text);
      });
      process.send?.({ tag: TAG, kind: 'scrape', id } satisfies ToPrimary);
    });
  }
}

/** Primary side: gathers every worker's series for each scrape a worker forwards. */
export function hostMetrics(
  catalogue: Catalogue,
  workers: () => readonly Worker[],
  listen: (on: (worker: Worker, m: unknown) => void) => void,
): void {
  const gathering = new Map<number, (families: FamilySnapshot[]) => void>();
  let next = 1;
  const collect = (w: Worker): Promise<FamilySnapshot[] | undefined> =>
    new Promise((resolve) => {
      const id = next++;
      const timer = setTimeout(() => {
        gathering.delete(id);
        log.warn({ worker: w.process.pid }, 'a worker did not answer a metrics scrape in time');
        resolve(undefined);
      }, COLLECT_MS);
      gathering.set(id, (families) => {
        clearTimeout(timer);
        resolve(families);
      });
      w.send({ tag: TAG, kind: 'collect', id } satisfies ToWorker);
    });
  listen(async (worker, m) => {
    if (!isTagged(m)) return;
    const msg = m as ToPrimary;
    if (msg.kind === 'series') {
      gathering.get(msg.id)?.(msg.families);
      gathering.delete(msg.id);
      return;
    }
    const parts = await Promise.all(workers().map(collect));
    // The primary's own families carry the per-key gauges of the arbiter it runs.
    parts.push(catalogue.registry.snapshot());
    const text = catalogue.registry.merged(parts.filter((p) => p !== undefined)).render();
    if (worker.isConnected()) worker.send({ tag: TAG, kind: 'text', id: msg.id, text } satisfies ToWorker);
  });
}
