// Governance with `workers: 2`: the primary's one arbiter keeps budgets and RPM windows exact for
// the whole node, and a key change made through either worker is in force on both once it answers.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { onFreshConnection } from '../support/fresh-connection.ts';
import { type Gateway, startGateway } from '../support/gateway-process.ts';
import { admin, governanceYaml, mintKey, tempDbPath } from '../support/governance.ts';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.ts';
import { LANES, sixProvidersCatalog, sixProvidersConfig, sixProvidersEnv } from '../support/six-providers.ts';

const PRICES = `model_prices:
  ${LANES.openai.model}:
    input_per_1k_tokens_cents: 0.5
    output_per_1k_tokens_cents: 1.5`;

let mock: MockUpstream;
let gw: Gateway;
before(async () => {
  mock = await startMockUpstream();
  gw = await startGateway({
    configYaml: `workers: 2\n${sixProvidersConfig(governanceYaml(tempDbPath(), PRICES))}`,
    providersYaml: sixProvidersCatalog(mock.url),
    env: sixProvidersEnv(),
  });
});
after(async () => {
  await gw?.stop();
  await mock?.close();
});

/** A fresh connection per request, so the kernel spreads them over both workers. */
async function chat(secret: string): Promise<number> {
  const body = { model: LANES.openai.pool, messages: [{ role: 'user', content: 'hi' }] };
  return (await onFreshConnection(`${gw.url}/v1/chat/completions`, secret, body)).status;
}

test('both workers serve, and 200 parallel requests on a 50-fee budget admit exactly 50', async () => {
  const { id, secret } = await mintKey(gw.url, { max_budget_cents: 50 });
  const statuses = await Promise.all(Array.from({ length: 200 }, () => chat(secret)));
  assert.equal(statuses.filter((s) => s === 200).length, 50);
  assert.equal(statuses.filter((s) => s === 429).length, 150);
  await new Promise((r) => setTimeout(r, 200));
  const usage = await admin(gw.url, 'GET', `/admin/keys/${id}/usage`);
  // The default mock usage (11 in, 7 out) costs under a cent: the flat fees alone.
  assert.deepEqual(usage.body, { id, spend_cents: 50, tokens: 50 * 18, requests: 50 });
});

test('per-token prices across both workers: spend is usage times prices to the cent', async () => {
  mock.configure({ usage: { input: 12_345, output: 6_789 } });
  try {
    const { id, secret } = await mintKey(gw.url);
    const statuses = await Promise.all(Array.from({ length: 40 }, () => chat(secret)));
    assert.ok(statuses.every((s) => s === 200));
    // 1 flat + floor((12345 × 0.5 + 6789 × 1.5) / 1000) = 17 cents each. Settlements travel from
    // the worker after the answer; give the last ones a moment to reach the primary.
    await new Promise((r) => setTimeout(r, 200));
    const usage = await admin(gw.url, 'GET', `/admin/keys/${id}/usage`);
    assert.deepEqual(usage.body, { id, spend_cents: 40 * 17, tokens: 40 * 19_134, requests: 40 });
  } finally {
    mock.configure({ usage: { input: 11, output: 7 } });
  }
});

test('RPM 60 across both workers: exactly 60 admitted in one window', async () => {
  // Start early in a minute so the burst does not straddle a window boundary.
  const intoMinute = Date.now() % 60_000;
  if (intoMinute > 45_000) await new Promise((r) => setTimeout(r, 60_000 - intoMinute + 200));
  const { secret } = await mintKey(gw.url, { rpm_limit: 60 });
  const statuses = await Promise.all(Array.from({ length: 100 }, () => chat(secret)));
  assert.equal(statuses.filter((s) => s === 200).length, 60);
  assert.equal(statuses.filter((s) => s === 429).length, 40);
});

test('a key minted or revoked through one connection is in force on every worker at once', async () => {
  const { id, secret } = await mintKey(gw.url);
  const first = await Promise.all(Array.from({ length: 20 }, () => chat(secret)));
  assert.ok(
    first.every((s) => s === 200),
    first.join(','),
  );
  await admin(gw.url, 'DELETE', `/admin/keys/${id}`);
  const after = await Promise.all(Array.from({ length: 20 }, () => chat(secret)));
  assert.ok(
    after.every((s) => s === 401),
    after.join(','),
  );
});
