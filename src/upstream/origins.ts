// One undici keep-alive pool per upstream origin, shared by every lane on that origin. Redirects
// are never followed (G-SEC-36): undici only follows them when asked to. undici itself is loaded
// after the listener is bound (see server/runtime.ts), so it never delays startup.

import type { Pool } from 'undici';

/** Idle keep-alive sockets stay open this long; upstreams usually allow 60 s or more. */
const KEEP_ALIVE_MS = 60_000;

export class OriginPools {
  readonly #pools = new Map<string, Pool>();
  #PoolClass: typeof Pool | undefined;

  /** Called once by the runtime loader before any upstream call. */
  use(PoolClass: typeof Pool): void {
    this.#PoolClass = PoolClass;
  }

  get(origin: string): Pool {
    let pool = this.#pools.get(origin);
    if (pool === undefined) {
      if (this.#PoolClass === undefined) throw new Error('upstream client used before it was loaded');
      pool = new this.#PoolClass(origin, {
        pipelining: 1,
        keepAliveTimeout: KEEP_ALIVE_MS,
        keepAliveMaxTimeout: 10 * KEEP_ALIVE_MS,
        connect: { timeout: 10_000 },
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
        keepAliveTimeout: KEEP_ALIVE_MS,
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
