// The dashboard's Server-Sent Events stream (issue 17): the last 15 minutes of points in a ring
// and the node's state now; each subscriber gets the whole ring once, then one `tick` a second.
// A subscriber that stops reading is cut off rather than buffered for: no watcher holds memory.

import type { ServerResponse } from 'node:http';
import type { LaneView, LivePoint, PoolView } from './live-sample.ts';

export const INTERVAL_MS = 1000;
const WINDOW_S = 15 * 60;
const MAX_POINTS = (WINDOW_S * 1000) / INTERVAL_MS;
/** Dashboards open at once at most; more are refused (503). */
export const MAX_SUBSCRIBERS = 16;
/** Bytes a subscriber may leave unread before it is cut off (a ring's snapshot is well under this). */
const MAX_UNREAD = 4 * 1024 * 1024;

/** A key as the governance authority lists it (its admin API metadata). */
export interface ListedKey {
  readonly id: string;
  readonly name: string;
  readonly enabled: boolean;
  readonly allowed_pools: readonly string[];
  readonly budget_period: string;
  readonly max_budget_cents: number | null;
  readonly rpm_limit: number | null;
  readonly tpm_limit: number | null;
}

/** A listed key with what it has used: in its budget window, and of its RPM/TPM window. */
export interface KeyView extends ListedKey {
  readonly spend_cents: number;
  readonly tokens: number;
  readonly requests: number | null;
  readonly rpm_used: number | null;
  readonly tpm_used: number | null;
}

export interface LiveState {
  readonly config: { readonly hash: string; readonly loaded_at: string };
  readonly replica: string;
  readonly workers: number;
  readonly reload: boolean;
  readonly governance: boolean;
  readonly pools: readonly PoolView[];
  readonly lanes: readonly LaneView[];
  readonly keys: readonly KeyView[] | null;
}

const event = (name: string, data: unknown): string => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;

export class LiveFeed {
  readonly #points: LivePoint[] = [];
  #state: LiveState | undefined;
  readonly #subscribers = new Set<ServerResponse>();

  /** Whether anyone is watching (per-key figures are read only then). */
  get watching(): boolean {
    return this.#subscribers.size > 0;
  }

  publish(point: LivePoint, state: LiveState): void {
    this.#points.push(point);
    if (this.#points.length > MAX_POINTS) this.#points.shift();
    this.#state = state;
    if (this.#subscribers.size === 0) return;
    const text = event('tick', { point, state });
    for (const res of this.#subscribers) {
      if (res.writableLength > MAX_UNREAD) {
        res.destroy();
        this.#subscribers.delete(res);
      } else res.write(text);
    }
  }

  /** Starts a stream on `res`; false (nothing written) when the feed has its fill of subscribers. */
  subscribe(res: ServerResponse): boolean {
    if (this.#subscribers.size >= MAX_SUBSCRIBERS) return false;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    res.write(
      event('snapshot', {
        interval_ms: INTERVAL_MS,
        window_s: WINDOW_S,
        points: this.#points,
        state: this.#state ?? null,
      }),
    );
    this.#subscribers.add(res);
    res.once('close', () => this.#subscribers.delete(res));
    return true;
  }

  /** Ends every stream (shutdown). */
  close(): void {
    for (const res of this.#subscribers) res.end();
    this.#subscribers.clear();
  }
}
