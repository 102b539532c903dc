// The real PostgreSQL and Redis on this machine for fleet-governance tests (docs/deployment.md):
// each test file gets its own database and Redis key prefix and removes them after. A private
// redis-server can be started on its own port for tests that stop it.

import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { ADMIN_TOKEN } from './governance.ts';
import { LANES } from './six-providers.ts';

export const POSTGRES_ADMIN_URL =
  process.env.BUSBAR_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.BUSBAR_TEST_REDIS ?? 'redis://127.0.0.1:6379';

export interface TestDatabase {
  readonly url: string;
  /** A client of the database, for the test's own checks. */
  readonly sql: postgres.Sql;
  drop(): Promise<void>;
}

/** A fresh database on the local server, dropped (with its connections) by `drop`. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `busbar_t_${randomBytes(6).toString('hex')}`;
  const adminSql = postgres(POSTGRES_ADMIN_URL, { max: 1, onnotice: () => {} });
  await adminSql.unsafe(`CREATE DATABASE ${name}`);
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  const sql = postgres(url.toString(), { max: 2, onnotice: () => {}, fetch_types: false });
  return {
    url: url.toString(),
    sql,
    drop: async () => {
      await sql.end({ timeout: 1 });
      await adminSql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await adminSql.end({ timeout: 1 });
    },
  };
}

/** A key prefix of its own on the shared Redis; `clear` deletes every key under it. */
export function redisPrefix(): { prefix: string; clear: () => Promise<void> } {
  const prefix = `busbar-test:${randomBytes(6).toString('hex')}:`;
  return {
    prefix,
    clear: async () => {
      const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await redis.connect();
        const keys = await redis.keys(`${prefix}*`);
        if (keys.length > 0) await redis.del(...keys);
      } finally {
        redis.disconnect();
      }
    },
  };
}

/** The `governance:` block of a fleet deployment (appended to sixProvidersConfig). */
export function fleetGovernanceYaml(
  stores: { postgres: string; redis: string; prefix: string },
  more = '',
): string {
  return [
    'governance:',
    '  enabled: true',
    `  admin_token: ${ADMIN_TOKEN}`,
    `  store: ${stores.postgres}`,
    `  rate_store: ${stores.redis}`,
    `  rate_store_prefix: "${stores.prefix}"`,
    ...more
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => `  ${l}`),
  ].join('\n');
}

/**
 * The fleet tests' deployment: the OpenAI lane of the six-provider fixture (one model behind one
 * pool, see six-providers.ts) governed on the shared stores, with `more` under `governance:`.
 */
export function fleetDeploymentYaml(
  stores: { postgres: string; redis: string; prefix: string },
  opts: { maxConcurrent: number; workers?: number; governance?: string },
): string {
  const { model, provider, pool, keyEnv } = LANES.openai;
  return [
    'listen: 127.0.0.1:0',
    ...(opts.workers === undefined ? [] : [`workers: ${opts.workers}`]),
    'providers:',
    `  ${provider}:`,
    `    api_key_env: ${keyEnv}`,
    'models:',
    `  ${model}:`,
    `    provider: ${provider}`,
    `    max_concurrent: ${opts.maxConcurrent}`,
    'pools:',
    `  ${pool}:`,
    '    members:',
    `      - target: ${model}`,
    fleetGovernanceYaml(stores, opts.governance),
  ].join('\n');
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A redis-server of the test's own, which it may stop and start again on the same port. */
export class PrivateRedis {
  readonly port: number;
  #child: ChildProcess | undefined;

  private constructor(port: number) {
    this.port = port;
  }

  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    await redis.resume();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the server and waits until it answers. */
  async resume(): Promise<void> {
    this.#child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    const deadline = Date.now() + 5000;
    for (;;) {
      const probe = new Redis(this.url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      probe.on('error', () => {});
      try {
        await probe.connect();
        await probe.ping();
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 50));
      } finally {
        probe.disconnect();
      }
    }
  }

  /** Kills the server outright (no clean shutdown) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.#child = undefined;
  }
}
