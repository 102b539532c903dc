// A shared rate store (Redis) that stops for 10 s under load (issue 15): with
// `budget_on_store_error: deny` every request in that time is refused in its own protocol's shape
// and none waits past the store's timeout; with `allow` they are served and their spend counted;
// both recover by themselves when Redis returns, and the outage is logged once, not per request.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Agent } from 'undici';
import {
  createTestDatabase,
  fleetDeploymentYaml,
  PrivateRedis,
  redisPrefix,
  type TestDatabase,
} from '../support/fleet.ts';
import { type Gateway, startGateway } from '../support/gateway-process.ts';
import { mintKey } from '../support/governance.ts';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.ts';
import { LANES, sixProvidersCatalog, sixProvidersEnv } from '../support/six-providers.ts';

const { pool } = LANES.openai;

let mock: MockUpstream;
let db: TestDatabase;
let redis: PrivateRedis;
const prefix = redisPrefix();
const gateways: Record<'deny' | 'allow', Gateway | undefined> = { deny: undefined, allow: undefined };

function configYaml(onError: 'deny' | 'allow'): string {
  return fleetDeploymentYaml(
    { postgres: db.url, redis: redis.url, prefix: prefix.prefix },
    { maxConcurrent: 100, governance: `budget_on_store_error: ${onError}` },
  );
}

before(async () => {
  mock = await startMockUpstream();
  db = await createTestDatabase();
  redis = await PrivateRedis.start();
  const env = sixProvidersEnv();
  for (const mode of ['deny', 'allow'] as const) {
    gateways[mode] = await startGateway({
      configYaml: configYaml(mode),
      providersYaml: sixProvidersCatalog(mock.url),
      env,
    });
  }
});
after(async () => {
  await Promise.all(Object.values(gateways).map((g) => g?.stop()));
  await mock?.close();
  await redis?.stop();
  await db?.drop();
});

const agent = new Agent({ connections: 64 });

interface Sample {
  readonly at: number;
  readonly ms: number;
  readonly status: number;
  readonly body: string;
}

async function chat(gw: Gateway, secret: string): Promise<Sample> {
  const at = Date.now();
  const r = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: pool, messages: [{ role: 'user', content: 'hi' }] }),
    dispatcher: agent,
  } as RequestInit);
  const body = await r.text();
  return { at, ms: Date.now() - at, status: r.status, body };
}

/** Four clients each sending one request after another until `stop` resolves. */
async function load(gw: Gateway, secret: string, stop: Promise<void>): Promise<Sample[]> {
  let running = true;
  void stop.then(() => {
    running = false;
  });
  const samples: Sample[] = [];
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (running) samples.push(await chat(gw, secret));
    }),
  );
  return samples;
}

async function spend(keyId: string): Promise<{ spend: number; requests: number }> {
  const rows = await db.sql<{ spend: number; requests: number }[]>`
    SELECT spend_cents::float8 AS spend, requests::float8 AS requests FROM usage_counters WHERE key_id = ${keyId}`;
  return rows[0] ?? { spend: 0, requests: 0 };
}

test('Redis stopped for 10 s under load: deny refuses natively, allow serves and counts, both recover', async () => {
  const deny = gateways.deny!;
  const allow = gateways.allow!;
  // Rate-limited keys consult Redis on every request; the limits themselves never bind here.
  const denyKey = await mintKey(deny.url, { rpm_limit: 1_000_000 });
  const allowKey = await mintKey(allow.url, { rpm_limit: 1_000_000 });
  await new Promise((r) => setTimeout(r, 200));
  let finish: () => void = () => {};
  const stop = new Promise<void>((r) => {
    finish = r;
  });
  const runs = Promise.all([load(deny, denyKey.secret, stop), load(allow, allowKey.secret, stop)]);
  await new Promise((r) => setTimeout(r, 1000));
  const downAt = Date.now();
  await redis.stop();
  await new Promise((r) => setTimeout(r, 10_000));
  const upAt = Date.now();
  await redis.resume();
  await new Promise((r) => setTimeout(r, 4000));
  finish();
  const [denied, allowed] = await runs;

  // During the outage (after a moment for the connection to be seen gone): deny refuses, natively.
  const during = (s: Sample): boolean => s.at > downAt + 300 && s.at + s.ms < upAt;
  const deniedDuring = denied.filter(during);
  assert.ok(deniedDuring.length > 20, `only ${deniedDuring.length} requests during the outage`);
  for (const s of deniedDuring) {
    assert.equal(s.status, 429, s.body);
    assert.equal((JSON.parse(s.body) as { error: { code: string } }).error.code, 'insufficient_quota');
  }
  // Nothing hangs: no request waited past the store's timeout (2 s).
  for (const s of [...denied, ...allowed]) assert.ok(s.ms < 2500, `a request took ${s.ms} ms`);
  // Allow serves everything and counts it in the (healthy) spend store.
  assert.ok(
    allowed.every((s) => s.status === 200),
    allowed.map((s) => s.status).join(','),
  );
  assert.ok(allowed.filter(during).length > 20);
  await new Promise((r) => setTimeout(r, 300));
  const counted = await spend(allowKey.id);
  assert.equal(counted.requests, allowed.length);
  assert.equal(counted.spend, allowed.length);
  // Both recover by themselves: deny serves again within seconds of Redis returning.
  const lastSecond = denied.filter((s) => s.at > upAt + 3000);
  assert.ok(
    lastSecond.length > 0 && lastSecond.every((s) => s.status === 200),
    lastSecond.map((s) => s.status).join(','),
  );
  // Logged once per outage, not per request.
  for (const gw of [deny, allow]) {
    const lines = gw.stderr().split('\n');
    assert.equal(
      lines.filter((l) => l.includes('rate store (Redis) is not answering')).length,
      1,
      gw.stderr(),
    );
    assert.equal(lines.filter((l) => l.includes('rate store (Redis) answers again')).length, 1, gw.stderr());
  }
  // And counted for /metrics.
  const metrics = await fetch(`${deny.url}/metrics`, {
    headers: { authorization: `Bearer ${denyKey.secret}` },
  });
  const text = await metrics.text();
  assert.match(text, /busbar_governance_store_up\{store="redis"\} 1/);
  const errors = Number(/busbar_governance_store_errors_total\{store="redis"\} (\d+)/.exec(text)?.[1]);
  assert.ok(errors >= deniedDuring.length, `${errors} errors counted`);
});
