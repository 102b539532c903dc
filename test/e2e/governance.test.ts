// Governance through the real HTTP surface: keys minted by the admin API, used from the official
// SDKs, refused by ACL, rate limit and budget in each caller's own error shape, and spend that
// matches the mock's reported usage times the configured prices.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ServiceQuotaExceededException } from '@aws-sdk/client-bedrock-runtime';
import OpenAI from 'openai';
import type { Protocol } from '../../src/protocols/names.ts';
import { type Gateway, startGateway } from '../support/gateway-process.ts';
import { ADMIN_TOKEN, admin, governanceYaml, mintKey, tempDbPath } from '../support/governance.ts';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.ts';
import { assertNativeError } from '../support/native-errors.ts';
import { callBedrock, SDK_CALLS } from '../support/sdk-calls.ts';
import {
  CLIENT_TOKEN,
  LANE_LIST,
  LANES,
  sixProvidersCatalog,
  sixProvidersConfig,
  sixProvidersEnv,
} from '../support/six-providers.ts';

const PRICES = `model_prices:
  ${LANES.openai.model}:
    input_per_1k_tokens_cents: 0.5
    output_per_1k_tokens_cents: 1.5`;

let mock: MockUpstream;
let gw: Gateway;
let dbPath: string;

before(async () => {
  mock = await startMockUpstream();
  dbPath = tempDbPath();
  gw = await startGateway({
    configYaml: sixProvidersConfig(governanceYaml(dbPath, PRICES)),
    providersYaml: sixProvidersCatalog(mock.url),
    env: sixProvidersEnv(),
  });
});
after(async () => {
  await gw?.stop();
  await mock?.close();
});

async function chat(secret: string, model: string = LANES.openai.pool): Promise<Response> {
  return fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
  });
}

describe('admin API', () => {
  test('refuses callers without the admin token, on either carrier, and never via x-api-key', async () => {
    for (const headers of [
      {},
      { authorization: 'Bearer wrong' },
      { 'x-admin-token': 'wrong' },
      { 'x-api-key': ADMIN_TOKEN },
      { authorization: `Basic ${ADMIN_TOKEN}` },
    ]) {
      const r = await fetch(`${gw.url}/admin/keys`, { headers });
      assert.equal(r.status, 401, JSON.stringify(headers));
      await r.text();
    }
    const viaHeader = await fetch(`${gw.url}/admin/keys`, { headers: { 'x-admin-token': ADMIN_TOKEN } });
    assert.equal(viaHeader.status, 200);
    await viaHeader.text();
  });

  test('an unauthenticated admin body is not read past a bound: the connection closes', async () => {
    const socket = connect(gw.port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write(
      'POST /admin/keys HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 104857600\r\n\r\n',
    );
    let answer = '';
    socket.on('data', (d: Buffer) => {
      answer += d.toString('latin1');
    });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => {});
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    let open = true;
    void closed.then(() => {
      open = false;
    });
    while (open && sent < 100 * 1024 * 1024) {
      if (!socket.write(chunk)) await Promise.race([once(socket, 'drain'), closed]);
      sent += chunk.length;
    }
    await closed;
    assert.ok(sent < 20 * 1024 * 1024, `the gateway read ${sent} bytes`);
    assert.match(answer, /^HTTP\/1\.1 401/);
  });

  test('mint returns the secret once; list and usage never show it', async () => {
    const minted = await mintKey(gw.url, { name: 'team-ml', allowed_pools: ['chat-pool'], rpm_limit: 600 });
    assert.match(minted.secret, /^sk-bb-[0-9a-f]{32}$/);
    assert.match(minted.id, /^vk_[0-9a-f]{16}$/);
    assert.deepEqual(
      { ...minted.body, secret: undefined, id: undefined, created_at: undefined },
      {
        name: 'team-ml',
        allowed_pools: ['chat-pool'],
        max_budget_cents: null,
        budget_period: 'total',
        rpm_limit: 600,
        tpm_limit: null,
        enabled: true,
        secret: undefined,
        id: undefined,
        created_at: undefined,
      },
    );
    const list = await admin(gw.url, 'GET', '/admin/keys');
    assert.equal(list.status, 200);
    const text = JSON.stringify(list.body);
    assert.ok(text.includes(minted.id));
    assert.ok(!text.includes(minted.secret) && !text.includes('hash'), text);
    const usage = await admin(gw.url, 'GET', `/admin/keys/${minted.id}/usage`);
    assert.deepEqual(usage, { status: 200, body: { id: minted.id, spend_cents: 0, tokens: 0, requests: 0 } });
  });

  test('validation: 415 without JSON, 400 for bad JSON and refused values, 422 for wrong types', async () => {
    const raw = await fetch(`${gw.url}/admin/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'text/plain' },
      body: '{"name":"x"}',
    });
    assert.equal(raw.status, 415);
    await raw.text();
    const bad = await fetch(`${gw.url}/admin/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: '{"name":',
    });
    assert.equal(bad.status, 400);
    assert.ok(typeof ((await bad.json()) as { error: unknown }).error === 'string');
    const cases: [Record<string, unknown>, number, string][] = [
      [
        { name: 'x', budget_period: 'weekly' },
        400,
        `invalid budget_period 'weekly': must be one of ["total", "daily", "monthly"]`,
      ],
      [{ name: 'x', max_budget_cents: -1 }, 400, 'max_budget_cents must be >= 0'],
      [{ name: 'x', rpm_limit: 0 }, 400, 'rpm_limit must be >= 1 (omit the field for unlimited)'],
      [{ name: 'x', tpm_limit: 0 }, 400, 'tpm_limit must be >= 1 (omit the field for unlimited)'],
      [{}, 422, 'name is required and must be a string'],
      [{ name: 'x', rpm_limit: -5 }, 422, 'rpm_limit must be an integer between 1 and 4294967295'],
      [{ name: 'x', rpm_limit: 2 ** 32 }, 422, 'rpm_limit is out of range'],
      [{ name: 'x', allowed_pools: 'chat-pool' }, 422, 'allowed_pools must be a list of strings'],
      [{ name: 'x', max_budget_cents: '5' }, 422, 'max_budget_cents must be an integer or null'],
    ];
    for (const [body, status, error] of cases) {
      assert.deepEqual(
        await admin(gw.url, 'POST', '/admin/keys', body),
        { status, body: { error } },
        JSON.stringify(body),
      );
    }
  });

  test('PATCH: absent keeps, null clears, a value sets; unknown id 404; DELETE once', async () => {
    const { id } = await mintKey(gw.url, { rpm_limit: 5, tpm_limit: 100, max_budget_cents: 10 });
    const patched = await admin(gw.url, 'PATCH', `/admin/keys/${id}`, {
      rpm_limit: null,
      max_budget_cents: 20,
      name: 'ignored',
    });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.rpm_limit, null);
    assert.equal(patched.body.tpm_limit, 100);
    assert.equal(patched.body.max_budget_cents, 20);
    assert.equal(patched.body.name, 'test');
    assert.deepEqual(await admin(gw.url, 'PATCH', '/admin/keys/vk_0000000000000000', { enabled: false }), {
      status: 404,
      body: { error: 'key not found' },
    });
    assert.deepEqual(await admin(gw.url, 'DELETE', `/admin/keys/${id}`), {
      status: 200,
      body: { deleted: id },
    });
    assert.deepEqual(await admin(gw.url, 'DELETE', `/admin/keys/${id}`), {
      status: 404,
      body: { error: 'key not found' },
    });
  });
});

describe('virtual keys on inference routes', () => {
  test('a minted key works from all six official SDKs, streamed and not', async () => {
    const { secret } = await mintKey(gw.url);
    for (const lane of LANE_LIST) {
      for (const stream of [false, true]) {
        const r = await SDK_CALLS[lane.protocol]({ baseUrl: gw.url, token: secret, name: lane.pool, stream });
        assert.equal(r.text, `Hello from ${lane.protocol} mock`, `${lane.protocol} stream=${stream}`);
      }
    }
  });

  test('static client tokens, unknown, disabled and deleted keys all get the same native refusal', async () => {
    const { id, secret } = await mintKey(gw.url);
    const disabled = await mintKey(gw.url);
    await admin(gw.url, 'PATCH', `/admin/keys/${disabled.id}`, { enabled: false });
    await admin(gw.url, 'DELETE', `/admin/keys/${id}`);
    const bodies = new Set<string>();
    for (const token of [CLIENT_TOKEN, 'sk-bb-00000000000000000000000000000000', disabled.secret, secret]) {
      const r = await chat(token);
      const text = await r.text();
      assert.equal(r.status, 401, text);
      bodies.add(text);
    }
    assert.equal(bodies.size, 1, [...bodies].join('\n'));
  });

  test('ACL: 403 in the caller shape for a name not allowed or an unknown name; unrestricted unknown name 404', async () => {
    const restricted = await mintKey(gw.url, { allowed_pools: [LANES.anthropic.pool] });
    const open = await mintKey(gw.url);
    for (const name of [LANES.openai.pool, 'no-such-pool']) {
      const r = await chat(restricted.secret, name);
      assertNativeError(
        'openai',
        { status: r.status, headers: r.headers, body: await r.text() },
        'permission_error',
      );
    }
    const unknown = await chat(open.secret, 'no-such-pool');
    assert.equal(unknown.status, 404);
    await unknown.text();
    const usage = await admin(gw.url, 'GET', `/admin/keys/${restricted.id}/usage`);
    assert.equal(usage.body.requests, 0, 'a refused request is never charged');
  });

  test('a restricted key lists only its names; /stats needs a virtual key', async () => {
    const restricted = await mintKey(gw.url, { allowed_pools: [LANES.gemini.pool, 'not-configured'] });
    const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: restricted.secret, maxRetries: 0 });
    const listed: string[] = [];
    for await (const m of openai.models.list()) listed.push(m.id);
    assert.deepEqual(listed, [LANES.gemini.pool]);
    const open = await mintKey(gw.url);
    const all = await fetch(`${gw.url}/v1beta/models`, { headers: { 'x-goog-api-key': open.secret } });
    const models = ((await all.json()) as { models: { name: string }[] }).models.map((m) => m.name);
    assert.equal(models.length, 12);
    for (const headers of [{}, { authorization: `Bearer ${CLIENT_TOKEN}` }]) {
      const r = await fetch(`${gw.url}/stats`, { headers });
      assert.equal(r.status, 401);
      await r.text();
    }
    const stats = await fetch(`${gw.url}/stats`, { headers: { authorization: `Bearer ${open.secret}` } });
    assert.equal(stats.status, 200);
    await stats.text();
  });

  test('RPM limit: 429 with Retry-After in the caller shape', async () => {
    const { secret } = await mintKey(gw.url, { rpm_limit: 2 });
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 3; i++) {
      const r = await chat(secret);
      statuses.push(r.status);
      if (r.status === 429) {
        retryAfter = r.headers.get('retry-after');
        assertNativeError(
          'openai',
          { status: r.status, headers: r.headers, body: await r.text() },
          'rate_limit_error',
        );
      } else await r.text();
    }
    // Two per window: the third is refused unless the minute turned between the calls.
    if (statuses[2] === 200) return;
    assert.deepEqual(statuses, [200, 200, 429]);
    assert.ok(Number(retryAfter) >= 1 && Number(retryAfter) <= 60, String(retryAfter));
  });

  test('a tiny budget runs out: OpenAI SDK sees insufficient_quota (429), Bedrock SDK its quota exception (400)', async () => {
    const { secret, id } = await mintKey(gw.url, { max_budget_cents: 2 });
    const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: secret, maxRetries: 0 });
    const ask = () =>
      openai.chat.completions.create({
        model: LANES.openai.pool,
        messages: [{ role: 'user', content: 'hi' }],
      });
    await ask();
    await ask();
    await assert.rejects(ask(), (err: unknown) => {
      assert.ok(err instanceof OpenAI.APIError);
      assert.equal(err.status, 429);
      assert.equal(err.code, 'insufficient_quota');
      return true;
    });
    await assert.rejects(
      callBedrock({ baseUrl: gw.url, token: secret, name: LANES.bedrock.pool, stream: false }),
      (err: unknown) => {
        assert.ok(err instanceof ServiceQuotaExceededException, String(err));
        assert.equal(err.$metadata.httpStatusCode, 400);
        return true;
      },
    );
    const usage = await admin(gw.url, 'GET', `/admin/keys/${id}/usage`);
    assert.deepEqual(usage.body, { id, spend_cents: 2, tokens: 36, requests: 2 });
  });

  test('200 parallel requests on a budget of exactly 50 flat fees: exactly 50 admitted and charged', async () => {
    const { secret, id } = await mintKey(gw.url, { max_budget_cents: 50 });
    const statuses = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const r = await chat(secret, LANES.anthropic.pool);
        await r.text();
        return r.status;
      }),
    );
    assert.equal(statuses.filter((s) => s === 200).length, 50);
    assert.equal(statuses.filter((s) => s === 429).length, 150);
    const usage = await admin(gw.url, 'GET', `/admin/keys/${id}/usage`);
    assert.equal(usage.body.spend_cents, 50);
    assert.equal(usage.body.requests, 50);
  });

  test('per-token prices: spend is the reported usage times the model prices, to the cent, streamed or not', async () => {
    mock.configure({ usage: { input: 12_345, output: 6_789 } });
    try {
      const { secret, id } = await mintKey(gw.url);
      const protocols: Protocol[] = ['openai', 'anthropic', 'gemini', 'bedrock'];
      for (const protocol of protocols) {
        for (const stream of [false, true]) {
          await SDK_CALLS[protocol]({ baseUrl: gw.url, token: secret, name: LANES.openai.pool, stream });
        }
      }
      // Each answer from the priced model: 1 flat + floor((12345 × 0.5 + 6789 × 1.5) / 1000) = 1 + 16.
      const usage = await admin(gw.url, 'GET', `/admin/keys/${id}/usage`);
      assert.deepEqual(usage.body, { id, spend_cents: 8 * 17, tokens: 8 * 19_134, requests: 8 });
    } finally {
      mock.configure({ usage: { input: 11, output: 7 } });
    }
  });

  test('a stream cut after its first bytes keeps its flat fee (the 200 was sent) and is never charged tokens', async () => {
    const { secret, id } = await mintKey(gw.url);
    mock.enqueue({ cutStreamAfterChunks: 2 });
    const r = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: LANES.anthropic.pool,
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    assert.equal(r.status, 200);
    await r.text().catch(() => '');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const usage = await admin(gw.url, 'GET', `/admin/keys/${id}/usage`);
    assert.deepEqual(usage.body, { id, spend_cents: 1, tokens: 0, requests: 1 });
  });

  test('an answer that is not 2xx gets its flat fee and request count back', async () => {
    const { secret, id } = await mintKey(gw.url);
    mock.enqueue({ status: 400, message: 'bad request upstream' });
    const r = await chat(secret);
    assert.equal(r.status, 400);
    await r.text();
    const usage = await admin(gw.url, 'GET', `/admin/keys/${id}/usage`);
    assert.deepEqual(usage.body, { id, spend_cents: 0, tokens: 0, requests: 0 });
  });
});
