// PostgreSQL unreachable for a few seconds under a fleet (issue 15): admission goes on from Redis,
// the charges of finished requests wait and are written when it returns, the admin API answers
// 500 meanwhile, the outage is logged once, and everything recovers by itself. The outage is a
// TCP proxy in front of the real server that drops every connection and refuses new ones.

import assert from 'node:assert/strict';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import {
  createTestDatabase,
  fleetDeploymentYaml,
  REDIS_URL,
  redisPrefix,
  type TestDatabase,
} from '../support/fleet.ts';
import { type Gateway, startGateway } from '../support/gateway-process.ts';
import { admin, mintKey } from '../support/governance.ts';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.ts';
import { LANES, sixProvidersCatalog, sixProvidersEnv } from '../support/six-providers.ts';

const { pool } = LANES.openai;

/** A TCP proxy to PostgreSQL that can be cut (every connection dropped, new ones refused). */
class CuttableProxy {
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  port = 0;

  async open(): Promise<void> {
    const server = createServer((client) => {
      const upstream = createConnection(5432, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('error', () => {});
        s.on('close', () => {
          this.#sockets.delete(s);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as { port: number }).port;
    this.#server = server;
  }

  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }
}

let mock: MockUpstream;
let db: TestDatabase;
const redis = redisPrefix();
const proxy = new CuttableProxy();
let gw: Gateway;

before(async () => {
  mock = await startMockUpstream();
  db = await createTestDatabase();
  await proxy.open();
  const url = new URL(db.url);
  url.port = String(proxy.port);
  gw = await startGateway({
    configYaml: fleetDeploymentYaml(
      { postgres: url.toString(), redis: REDIS_URL, prefix: redis.prefix },
      { maxConcurrent: 50, governance: 'budget_on_store_error: deny' },
    ),
    providersYaml: sixProvidersCatalog(mock.url),
    env: sixProvidersEnv(),
  });
});
after(async () => {
  await gw?.stop();
  await proxy.cut();
  await mock?.close();
  await db?.drop();
  await redis.clear();
});

async function chat(secret: string): Promise<{ status: number; ms: number }> {
  const at = Date.now();
  const r = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: pool, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
  });
  await r.text();
  return { status: r.status, ms: Date.now() - at };
}

async function durableSpend(keyId: string): Promise<number> {
  const rows = await db.sql<{ spend: number }[]>`
    SELECT spend_cents::float8 AS spend FROM usage_counters WHERE key_id = ${keyId}`;
  return rows[0]?.spend ?? 0;
}

test('PostgreSQL cut for 4 s: admission goes on from Redis, charges wait and land, all recover', async () => {
  const { id, secret } = await mintKey(gw.url, { max_budget_cents: 100 });
  for (let i = 0; i < 3; i++) assert.equal((await chat(secret)).status, 200);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(await durableSpend(id), 3);

  await proxy.cut();
  const during = [];
  for (let i = 0; i < 10; i++) during.push(await chat(secret));
  // Admitted from Redis's mirror (even with `deny`: no store failed for them), and none waited.
  assert.deepEqual(
    during.map((d) => d.status),
    Array(10).fill(200),
  );
  for (const d of during) assert.ok(d.ms < 1000, `a request took ${d.ms} ms`);
  // A write needs PostgreSQL: refused, quickly.
  const minted = await admin(gw.url, 'POST', '/admin/keys', { name: 'during' });
  assert.equal(minted.status, 500);
  await new Promise((r) => setTimeout(r, 4000));
  await proxy.open();

  // The waiting charges land; the admin API works again; the outage was logged once.
  const start = Date.now();
  while ((await durableSpend(id)) !== 13 && Date.now() - start < 10_000)
    await new Promise((r) => setTimeout(r, 100));
  assert.equal(await durableSpend(id), 13);
  assert.equal((await admin(gw.url, 'POST', '/admin/keys', { name: 'after' })).status, 201);
  const lines = gw.stderr().split('\n');
  assert.equal(lines.filter((l) => l.includes('store (PostgreSQL) is not answering')).length, 1, gw.stderr());
  assert.equal(lines.filter((l) => l.includes('store (PostgreSQL) answers again')).length, 1, gw.stderr());
});
