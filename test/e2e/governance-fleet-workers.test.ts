// Shared-store governance with `workers: 2` (issue 15): every worker is its own client of
// PostgreSQL and Redis, so a budget stays exact across the workers as across replicas, and the
// primary still shows the per-key gauges for the node.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  createTestDatabase,
  fleetDeploymentYaml,
  REDIS_URL,
  redisPrefix,
  type TestDatabase,
} from '../support/fleet.ts';
import { onFreshConnection } from '../support/fresh-connection.ts';
import { type Gateway, startGateway } from '../support/gateway-process.ts';
import { mintKey } from '../support/governance.ts';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.ts';
import { LANES, sixProvidersCatalog, sixProvidersEnv } from '../support/six-providers.ts';

const { pool } = LANES.openai;

let mock: MockUpstream;
let db: TestDatabase;
const redis = redisPrefix();
let gw: Gateway;

before(async () => {
  mock = await startMockUpstream();
  db = await createTestDatabase();
  gw = await startGateway({
    configYaml: fleetDeploymentYaml(
      { postgres: db.url, redis: REDIS_URL, prefix: redis.prefix },
      { maxConcurrent: 200, workers: 2 },
    ),
    providersYaml: sixProvidersCatalog(mock.url),
    env: sixProvidersEnv(),
  });
});
after(async () => {
  await gw?.stop();
  await mock?.close();
  await db?.drop();
  await redis.clear();
});

/** A fresh connection per request, so the kernel spreads them over both workers. */
async function chat(secret: string): Promise<number> {
  const body = { model: pool, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] };
  return (await onFreshConnection(`${gw.url}/v1/chat/completions`, secret, body)).status;
}

test('100 parallel requests over two workers on a budget of 30 fees: exactly 30, and the gauges show it', async () => {
  // The default price: 1 cent a request, tokens free — the reservation is the fee alone.
  const { id, secret } = await mintKey(gw.url, { max_budget_cents: 30 });
  await new Promise((r) => setTimeout(r, 200));
  const statuses = await Promise.all(Array.from({ length: 100 }, () => chat(secret)));
  assert.equal(statuses.filter((s) => s === 200).length, 30, statuses.join(','));
  assert.equal(statuses.filter((s) => s === 429).length, 70);
  // The gauges read the store at each scrape and show the one before: scrape until they settle.
  let text = '';
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const r = await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${secret}` } });
    text = await r.text();
    if (text.includes(`busbar_key_spend_cents{key="${id}"} 30`)) break;
  }
  assert.match(text, new RegExp(`busbar_key_spend_cents\\{key="${id}"\\} 30`));
  assert.match(text, new RegExp(`busbar_key_budget_remaining_cents\\{key="${id}"\\} 0`));
  assert.match(text, /busbar_governance_store_up\{store="postgres"\} 1/);
});
