// One keep-alive HTTP/1.1 pool per upstream origin, shared by every lane on that origin.
// Redirects are never followed (G-SEC-36): a 3xx is an answer like any other.

import { DEFAULT_UPSTREAM_LIMITS } from '../config/limits.ts';
import type { UpstreamLimits } from '../config/types.ts';
import { H1Pool, type H1PoolOptions } from './h1-pool.ts';

const CONNECT_TIMEOUT_MS = 10_000;

export class OriginPools {
  readonly #pools = new Map<string, H1Pool>();
  /** Bounds and defaults of upstream calls (`limits:`). */
  readonly limits: UpstreamLimits;
  readonly #ca: H1PoolOptions['ca'];

  /** `ca`: authorities trusted instead of the system's (tests with their own CA). */
  constructor(limits: UpstreamLimits = DEFAULT_UPSTREAM_LIMITS, ca?: H1PoolOptions['ca']) {
    this.limits = limits;
    this.#ca = ca;
  }

  get(origin: string): H1Pool {
    let pool = this.#pools.get(origin);
    if (pool === undefined) {
      pool = new H1Pool(origin, {
        connections: this.limits.connectionsPerHost,
        idleMs: this.limits.idleMs,
        connectTimeoutMs: CONNECT_TIMEOUT_MS,
        ...(this.#ca === undefined ? {} : { ca: this.#ca }),
      });
      this.#pools.set(origin, pool);
    }
    return pool;
  }

  /** The pool for a local Unix socket (a routing-policy sidecar); its requests name no real host. */
  forSocket(socketPath: string): H1Pool {
    const key = `unix:${socketPath}`;
    let pool = this.#pools.get(key);
    if (pool === undefined) {
      pool = new H1Pool('http://localhost', {
        connections: 0,
        idleMs: this.limits.idleMs,
        connectTimeoutMs: CONNECT_TIMEOUT_MS,
        socketPath,
      });
      this.#pools.set(key, pool);
    }
    return pool;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#pools.values()].map((p) => p.close()));
  }
}
