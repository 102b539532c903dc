// One undici keep-alive pool per upstream origin, shared by every lane on that origin. Redirects
// are never followed (G-SEC-36): undici only follows them when asked to. undici itself is loaded
// after the listener is bound (see server/runtime.ts), so it never delays startup.

import type { Pool } from 'undici';
import { DEFAULT_UPSTREAM_LIMITS } from '../config/limits.ts';
import type { UpstreamLimits } from '../config/types.ts';

export class OriginPools {
  readonly #pools = new Map<string, Pool>();
  #PoolClass: typeof Pool | undefined;
  /** Bounds and defaults of upstream calls (`limits:`). */
  readonly limits: UpstreamLimits;

  constructor(limits: UpstreamLimits = DEFAULT_UPSTREAM_LIMITS) {
    this.limits = limits;
  }

  /** Called once by the runtime loader before any upstream call. */
  use(PoolClass: typeof Pool): void {
    this.#PoolClass = PoolClass;
  }

  get(origin: string): Pool {
    let pool = this.#pools.get(origin);
    if (pool === undefined) {
      if (this.#PoolClass === undefined) throw new Error('upstream client used before it was loaded');
      const { idleMs, connectionsPerHost } = this.limits;
      pool = new this.#PoolClass(origin, {
        pipelining: 1,
        // A keep-alive hint from the upstream may shorten this, never lengthen it.
        keepAliveTimeout: idleMs,
        keepAliveMaxTimeout: idleMs,
        connect: { timeout: 10_000 },
        ...(connectionsPerHost > 0 ? { connections: connectionsPerHost } : {}),
      });
      this.#pools.set(origin, pool);
    }
    return pool;
  }

  /** The pool for a local Unix socket (a routing-policy sidecar); its requests name no real host. */
  forSocket(socketPath: string): Pool {
    const key = `unix:${socketPath}`;
    let pool = this.#pools.get(key);
    if (pool === undefined) {
      if (this.#PoolClass === undefined) throw new Error('upstream client used before it was loaded');
      pool = new this.#PoolClass('http://localhost', {
        pipelining: 1,
        keepAliveTimeout: this.limits.idleMs,
        connect: { socketPath, timeout: 10_000 },
      });
      this.#pools.set(key, pool);
    }
    return pool;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#pools.values()].map((p) => p.close()));
  }
}
