// Draining a lane at run time (PATCH /admin/lanes/{name}, the dashboard's Drain button): every pool
// weighs it 0 until it is undrained, direct routes still reach it (G-POOL-10), /stats says so, and
// under `workers: 2` a drain sent to one worker holds on both.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { onFreshConnection } from '../support/fresh-connection.ts';
import { type Gateway, startGateway } from '../support/gateway-process.ts';
import { ADMIN_TOKEN, admin, governanceYaml, mintKey, tempDbPath } from '../support/governance.ts';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.ts';

let mock: MockUpstream;
before(async () => {
  mock = await startMockUpstream();
});
after(() => mock?.close());

function config(workers: number): string {
  return [
    'listen: 127.0.0.1:0',
    `workers: ${workers}`,
    'providers:',
    '  up:',
    '    api_key_env: DRAIN_UP_KEY',
    'models:',
    '  a:',
    '    provider: up',
    '    max_concurrent: 16',
    '    upstream_model: model-a',
    '  b:',
    '    provider: up',
    '    max_concurrent: 16',
    '    upstream_model: model-b',
    'pools:',
    '  chat:',
    '    members:',
    '      - target: a',
    '      - target: b',
    governanceYaml(tempDbPath()),
  ].join('\n');
}

const catalog = () => `up:\n  protocol: openai\n  base_url: ${mock.url}\n`;

/** Which upstream models answered `n` requests for `model`, each on a fresh connection. */
async function servedBy(gw: Gateway, secret: string, model: string, n: number): Promise<string[]> {
  const body = { model, messages: [{ role: 'user', content: 'hi' }] };
  const replies = await Promise.all(
    Array.from({ length: n }, () => onFreshConnection(`${gw.url}/v1/chat/completions`, secret, body)),
  );
  return replies.map((r) => {
    assert.equal(r.status, 200, r.text);
    return (JSON.parse(r.text) as { model: string }).model;
  });
}

describe('one process', () => {
  let gw: Gateway;
  let secret: string;
  before(async () => {
    gw = await startGateway({
      configYaml: config(1),
      providersYaml: catalog(),
      env: { DRAIN_UP_KEY: 'sk-up' },
    });
    secret = (await mintKey(gw.url)).secret;
  });
  after(() => gw?.stop());

  test('a drained lane gets no pool traffic until undrained; its direct route still serves', async () => {
    assert.deepEqual(new Set(await servedBy(gw, secret, 'chat', 20)), new Set(['model-a', 'model-b']));
    const drained = await admin(gw.url, 'PATCH', '/admin/lanes/a', { drained: true });
    assert.deepEqual(drained, { status: 200, body: { lane: 'a', drained: true } });
    assert.deepEqual(new Set(await servedBy(gw, secret, 'chat', 20)), new Set(['model-b']));
    assert.deepEqual(await servedBy(gw, secret, 'a', 2), ['model-a', 'model-a']);
    const stats = await fetch(`${gw.url}/stats`, { headers: { authorization: `Bearer ${secret}` } });
    const lanes = ((await stats.json()) as { lanes: { model: string; drained: boolean }[] }).lanes;
    assert.deepEqual(
      lanes.map((l) => [l.model, l.drained]),
      [
        ['a', true],
        ['b', false],
      ],
    );
    assert.equal((await admin(gw.url, 'PATCH', '/admin/lanes/a', { drained: false })).status, 200);
    assert.ok((await servedBy(gw, secret, 'chat', 20)).includes('model-a'));
  });

  test('wrong calls are refused: unknown lane 404, bad body 422, GET 405, no token 401', async () => {
    assert.deepEqual(await admin(gw.url, 'PATCH', '/admin/lanes/nope', { drained: true }), {
      status: 404,
      body: { error: 'lane not found' },
    });
    assert.equal((await admin(gw.url, 'PATCH', '/admin/lanes/a', { drained: 'yes' })).status, 422);
    assert.equal((await admin(gw.url, 'GET', '/admin/lanes/a')).status, 405);
    const anonymous = await fetch(`${gw.url}/admin/lanes/a`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ drained: true }),
    });
    assert.equal(anonymous.status, 401);
    const withKey = await fetch(`${gw.url}/admin/lanes/a`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
      body: JSON.stringify({ drained: true }),
    });
    assert.equal(withKey.status, 401);
    assert.notEqual(secret, ADMIN_TOKEN);
  });
});

describe('workers: 2', () => {
  let gw: Gateway;
  let secret: string;
  before(async () => {
    gw = await startGateway({
      configYaml: config(2),
      providersYaml: catalog(),
      env: { DRAIN_UP_KEY: 'sk-up' },
    });
    secret = (await mintKey(gw.url)).secret;
  });
  after(() => gw?.stop());

  test('a drain sent to one worker holds on every worker', async () => {
    assert.equal((await admin(gw.url, 'PATCH', '/admin/lanes/b', { drained: true })).status, 200);
    // Fresh connections spread over both workers.
    assert.deepEqual(new Set(await servedBy(gw, secret, 'chat', 40)), new Set(['model-a']));
    assert.equal((await admin(gw.url, 'PATCH', '/admin/lanes/b', { drained: false })).status, 200);
    assert.ok((await servedBy(gw, secret, 'chat', 40)).includes('model-b'));
  });
});
