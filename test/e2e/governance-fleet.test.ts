// Governance across three replicas on one real PostgreSQL and one real Redis (issue 15): budgets
// exact by reservation however the requests spread, RPM exact for the fleet, key changes in force
// on every replica within a second, and a replica killed mid-stream leaves no charge and no
// reservation behind once its reservations expire.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { Agent } from 'undici';
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

const { model, pool } = LANES.openai;
/** 1 cent flat + 100 output tokens at 10 cents per 1k = 2 cents: the reservation and the real cost. */
const MAX_TOKENS = 100;
const COST = 2;

function configYaml(db: TestDatabase, prefix: string): string {
  return fleetDeploymentYaml(
    { postgres: db.url, redis: REDIS_URL, prefix },
    {
      maxConcurrent: 500,
      governance: `reservation_ttl_secs: 3
model_prices:
  ${model}:
    input_per_1k_tokens_cents: 0
    output_per_1k_tokens_cents: 10`,
    },
  );
}

let mock: MockUpstream;
let db: TestDatabase;
let redis: ReturnType<typeof redisPrefix>;
let replicas: Gateway[] = [];
const redisClient = new Redis(REDIS_URL);

async function startReplica(): Promise<Gateway> {
  return startGateway({
    configYaml: configYaml(db, redis.prefix),
    providersYaml: sixProvidersCatalog(mock.url),
    env: sixProvidersEnv(),
  });
}

before(async () => {
  mock = await startMockUpstream({ usage: { input: 11, output: MAX_TOKENS } });
  db = await createTestDatabase();
  redis = redisPrefix();
  // One at a time first: the first creates the schema, the others find it.
  replicas = await Promise.all([startReplica(), startReplica(), startReplica()]);
});
after(async () => {
  await Promise.all(replicas.map((r) => r.stop()));
  await mock?.close();
  await db?.drop();
  await redis?.clear();
  redisClient.disconnect();
});

const agent = new Agent({ connections: 512 });

async function chat(gw: Gateway, secret: string, stream = true): Promise<{ status: number; text: string }> {
  const r = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: pool,
      stream,
      // No stream_options: the gateway asks the upstream for the stream's usage itself.
      max_tokens: MAX_TOKENS,
      messages: [{ role: 'user', content: 'hi' }],
    }),
    dispatcher: agent,
  } as RequestInit);
  return { status: r.status, text: await r.text() };
}

interface Counter {
  spend: number;
  reserved: number;
  tokens: number;
  requests: number;
}

/** PostgreSQL's durable counters of the key's all-time window, and what Redis holds reserved. */
async function counter(keyId: string): Promise<Counter> {
  const rows = await db.sql<Omit<Counter, 'reserved'>[]>`
    SELECT spend_cents::float8 AS spend, tokens::float8 AS tokens, requests::float8 AS requests
    FROM usage_counters WHERE key_id = ${keyId}`;
  const reserved = Number((await redisClient.hget(`${redis.prefix}budget:${keyId}:0`, 'reserved')) ?? 0);
  return { spend: 0, tokens: 0, requests: 0, ...rows[0], reserved };
}

/**
 * Until `requests` have settled in both stores: PostgreSQL's count and Redis's reservations are
 * written by separate batches, either of which may land first.
 */
async function settled(keyId: string, requests: number): Promise<void> {
  await until(
    async () => {
      const c = await counter(keyId);
      return c.requests === requests && c.reserved === 0;
    },
    2000,
    'settlements',
  );
}

/** Redis's mirror of the spend, which admission checks against. */
async function mirrored(keyId: string): Promise<number> {
  return Number((await redisClient.hget(`${redis.prefix}budget:${keyId}:0`, 'spent')) ?? 0);
}

async function until(check: () => Promise<boolean>, ms: number, what: string): Promise<number> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - start;
}

test('200 concurrent streams over three replicas on a budget of exactly 50: never past the cap, spend exact', async () => {
  const cap = 50 * COST;
  const { id, secret } = await mintKey(replicas[0]!.url, { max_budget_cents: cap });
  // The key must be known everywhere before the burst (NOTIFY reaches the others at once).
  await until(async () => (await chat(replicas[2]!, 'sk-bb-none')).status === 401, 1000, 'warm-up');
  let watching = true;
  let highest = 0;
  const watcher = (async () => {
    while (watching) {
      // One read of both fields: settlement moves cents from one to the other atomically.
      const [spent, reserved] = (
        await redisClient.hmget(`${redis.prefix}budget:${id}:0`, 'spent', 'reserved')
      ).map(Number);
      const durable = (await counter(id)).spend;
      highest = Math.max(highest, spent! + reserved!, durable);
      assert.ok(spent! + reserved! <= cap, `spend ${spent} + reserved ${reserved} > ${cap}`);
      assert.ok(durable <= cap, `durable spend ${durable} > ${cap}`);
    }
  })();
  const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => chat(replicas[i % 3]!, secret)));
  watching = false;
  await watcher;
  const ok = answers.filter((a) => a.status === 200);
  // A store that stalled would have admitted per budget_on_store_error: say so if it did.
  const storeTrouble = replicas.flatMap((r) =>
    r
      .stderr()
      .split('\n')
      .filter((l) => /store .*not answering/.test(l)),
  );
  assert.equal(ok.length, 50, `${answers.map((a) => a.status).join(',')}\n${storeTrouble.join('\n')}`);
  assert.equal(answers.filter((a) => a.status === 429).length, 150);
  for (const a of ok) assert.match(a.text, /data: \[DONE\]/);
  assert.ok(highest <= cap);
  await settled(id, 50);
  const end = await counter(id);
  assert.deepEqual(end, { spend: 50 * COST, reserved: 0, tokens: 50 * (11 + MAX_TOKENS), requests: 50 });
  assert.equal(await mirrored(id), 50 * COST);
  // The admin API of any replica reads the same truth.
  const usage = await admin(replicas[1]!.url, 'GET', `/admin/keys/${id}/usage`);
  assert.deepEqual(usage.body, { id, spend_cents: 50 * COST, tokens: 50 * 111, requests: 50 });
});

test('RPM 60 across three replicas: exactly 60 admitted in one window', async () => {
  const intoMinute = Date.now() % 60_000;
  if (intoMinute > 45_000) await new Promise((r) => setTimeout(r, 60_000 - intoMinute + 1500));
  const { secret } = await mintKey(replicas[1]!.url, { rpm_limit: 60 });
  await new Promise((r) => setTimeout(r, 100));
  const answers = await Promise.all(
    Array.from({ length: 120 }, (_, i) => chat(replicas[i % 3]!, secret, false)),
  );
  assert.equal(answers.filter((a) => a.status === 200).length, 60);
  assert.equal(answers.filter((a) => a.status === 429).length, 60);
});

test('a key revoked on replica 1 is refused by replicas 2 and 3 within one second', async () => {
  const { id, secret } = await mintKey(replicas[0]!.url);
  await until(
    async () =>
      (await chat(replicas[1]!, secret, false)).status === 200 &&
      (await chat(replicas[2]!, secret, false)).status === 200,
    1000,
    'minted key known everywhere',
  );
  const patched = await admin(replicas[0]!.url, 'PATCH', `/admin/keys/${id}`, { enabled: false });
  assert.equal(patched.status, 200);
  const took = await until(
    async () =>
      (await chat(replicas[1]!, secret, false)).status === 401 &&
      (await chat(replicas[2]!, secret, false)).status === 401,
    1000,
    'revocation on replicas 2 and 3',
  );
  assert.ok(took < 1000);
});

test('kill -9 of a replica mid-stream: its reservations expire, nothing is charged or lost', async () => {
  // The four slow streams below reserve the whole budget between them.
  const cap = 4 * COST;
  const { id, secret } = await mintKey(replicas[0]!.url, { max_budget_cents: cap });
  const doomed = await startReplica();
  // Slow streams: each chunk waits, so the requests are mid-stream when the replica dies.
  mock.enqueue(...Array.from({ length: 4 }, () => ({ chunkDelayMs: 2000 })));
  const seen = mock.requests.length;
  const inFlight = Array.from({ length: 4 }, () =>
    chat(doomed, secret).catch(() => ({ status: 0, text: '' })),
  );
  await until(async () => (await counter(id)).reserved === cap, 3000, 'reservations made');
  // Every slow stream has reached the upstream (so none of the slow answers is left for later).
  await until(async () => mock.requests.length >= seen + 4, 3000, 'streams upstream');
  doomed.child.kill('SIGKILL');
  const killedAt = Date.now();
  await Promise.all(inFlight);
  // Held by the dead replica: refused, until its reservations expire (3 s after their last renewal).
  assert.equal((await chat(replicas[0]!, secret)).status, 429);
  let first: { status: number; text: string };
  for (;;) {
    first = await chat(replicas[1]!, secret);
    if (first.status === 200 || Date.now() - killedAt > 8000) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const releasedAfter = Date.now() - killedAt;
  assert.equal(first.status, 200);
  assert.ok(releasedAfter <= 3000 + 1500, `released ${releasedAfter} ms after the kill`);
  // Nothing was charged for the streams that never finished, and the whole budget is back.
  const answers = [];
  for (let i = 0; i < 4; i++) answers.push((await chat(replicas[i % 3]!, secret)).status);
  assert.deepEqual(answers, [200, 200, 200, 429]);
  await settled(id, 4);
  assert.deepEqual(await counter(id), { spend: cap, reserved: 0, tokens: 4 * 111, requests: 4 });
  assert.equal(await mirrored(id), cap);
});

test('TPM across three replicas: tokens credited as answers finish close the window for all', async () => {
  const intoMinute = Date.now() % 60_000;
  if (intoMinute > 45_000) await new Promise((r) => setTimeout(r, 60_000 - intoMinute + 1500));
  const { secret } = await mintKey(replicas[2]!.url, { tpm_limit: 500 });
  await new Promise((r) => setTimeout(r, 100));
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) {
    statuses.push((await chat(replicas[i % 3]!, secret, false)).status);
    // Credits travel with the next settlement batch (20 ms).
    await new Promise((r) => setTimeout(r, 60));
  }
  // 111 tokens each: after five answers (555 ≥ 500) the window is full on every replica.
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429]);
  const refused = await fetch(`${replicas[1]!.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: pool, messages: [{ role: 'user', content: 'hi' }] }),
  });
  await refused.text();
  assert.equal(refused.status, 429);
  const retryAfter = Number(refused.headers.get('retry-after'));
  assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
});

test('Redis forgetting a budget (restart, eviction): the spend is read back from PostgreSQL', async () => {
  const cap = 5 * COST;
  const { id, secret } = await mintKey(replicas[0]!.url, { max_budget_cents: cap });
  for (let i = 0; i < 3; i++) assert.equal((await chat(replicas[i]!, secret)).status, 200);
  await settled(id, 3);
  // What a Redis restart loses.
  await redisClient.del(`${redis.prefix}budget:${id}:0`, `${redis.prefix}held:${id}:0`);
  const statuses = [];
  for (let i = 0; i < 3; i++) statuses.push((await chat(replicas[(i + 1) % 3]!, secret)).status);
  assert.deepEqual(statuses, [200, 200, 429]);
  await settled(id, 5);
  assert.equal((await counter(id)).spend, cap);
  assert.equal(await mirrored(id), cap);
});

test('/stats names the replica that answered', async () => {
  const { secret } = await mintKey(replicas[0]!.url);
  await new Promise((r) => setTimeout(r, 100));
  const names = await Promise.all(
    replicas.map(async (gw) => {
      const r = await fetch(`${gw.url}/stats`, { headers: { authorization: `Bearer ${secret}` } });
      return ((await r.json()) as { replica: string }).replica;
    }),
  );
  assert.equal(new Set(names).size, 3, names.join(', '));
  // The startup log says where governance lives (no credentials) and names the replica.
  assert.match(
    replicas[0]!.stderr(),
    /governance shared by replicas: keys and spend in PostgreSQL at 127\.0\.0\.1:5432\/busbar_t_[0-9a-f]+, rate windows and budget reservations in Redis at 127\.0\.0\.1:6379/,
  );
  for (const name of names) assert.match(name, /-\d+-[0-9a-f]{6}$/);
});

test('a config reload asked through one replica reaches the others', async () => {
  const { readFileSync, writeFileSync } = await import('node:fs');
  // A deploy writes the new files to every replica; one admin call reloads the fleet.
  for (const r of replicas) {
    const text = readFileSync(r.configFile!, 'utf8').replace('max_concurrent: 500', 'max_concurrent: 400');
    writeFileSync(r.configFile!, text);
  }
  const answer = await admin(replicas[0]!.url, 'POST', '/admin/config/reload');
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  const hash = (answer.body.config as { hash: string }).hash;
  const { secret } = await mintKey(replicas[0]!.url);
  await until(
    async () => {
      const seen = await Promise.all(
        replicas.map(async (gw) => {
          const r = await fetch(`${gw.url}/stats`, { headers: { authorization: `Bearer ${secret}` } });
          // 401 until the new key's notification has reached that replica.
          return r.ok ? ((await r.json()) as { config: { hash: string } }).config.hash : '';
        }),
      );
      return seen.every((h) => h === hash);
    },
    2000,
    'every replica on the new config',
  );
  for (const r of replicas.slice(1)) assert.match(r.stderr(), /config reload asked by another replica/);
});
