// One undici keep-alive pool per upstream origin, created at startup and shared by every lane on
// that origin. Redirects are never followed (G-SEC-36): undici only follows them when asked to.

import { Pool } from 'undici';

/** Idle keep-alive sockets stay open this long; upstreams usually allow 60 s or more. */
const KEEP_ALIVE_MS = 60_000;

export class OriginPools {
  readonly #pools = new Map<string, Pool>();

  get(origin: string): Pool {
    let pool = this.#pools.get(origin);
    if (pool === undefined) {
      pool = new Pool(origin, {
        pipelining: 1,
        keepAliveTimeout: KEEP_ALIVE_MS,
        keepAliveMaxTimeout: 10 * KEEP_ALIVE_MS,
        connect: { timeout: 10_000 },
      });
      this.#pools.set(origin, pool);
    }
    return pool;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#pools.values()].map((p) => p.close()));
  }
}
