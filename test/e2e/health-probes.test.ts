// Active health probing (G-HLT-1…6) through the HTTP surface: a benched lane comes back by probe
// in `dead` mode, and a failing probe benches a lane in `active` mode.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Gateway, startGateway } from '../support/gateway-process.ts';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.ts';
import { postRaw, rawRequest } from '../support/raw-requests.ts';

const TOKEN = 'probe-token';
const auth = { authorization: `Bearer ${TOKEN}` };

interface LaneStats {
  model: string;
  ok: number;
  err: number;
  usable: boolean;
  cooldown_remaining_s: number;
}

async function laneStats(gw: Gateway, model: string): Promise<LaneStats> {
  const stats = (await (await fetch(`${gw.url}/stats`, { headers: auth })).json()) as { lanes: LaneStats[] };
  return stats.lanes.find((l) => l.model === model)!;
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`condition not met within ${timeoutMs} ms`);
}

function gatewayFor(mock: MockUpstream, mode: 'dead' | 'active', intervalSecs: number): Promise<Gateway> {
  return startGateway({
    providersYaml: `mock-openai:\n  protocol: openai\n  base_url: ${mock.url}\n`,
    configYaml: [
      'listen: 127.0.0.1:0',
      `auth:\n  mode: token\n  client_tokens: [${TOKEN}]`,
      'providers:',
      '  mock-openai:',
      '    api_key_env: PROBE_TEST_KEY',
      `    health: {mode: ${mode}, interval_secs: ${intervalSecs}, timeout_secs: 1}`,
      'models:',
      '  flaky:\n    provider: mock-openai\n    max_concurrent: 2',
    ].join('\n'),
    env: { PROBE_TEST_KEY: 'sk-probe' },
  });
}

describe('health probes, dead mode', () => {
  let mock: MockUpstream;
  let gw: Gateway;
  before(async () => {
    mock = await startMockUpstream();
    gw = await gatewayFor(mock, 'dead', 1);
  });
  after(async () => {
    await gw?.stop();
    await mock?.close();
  });

  it('G-HLT-2/4/6 a lane benched by a 5xx is recovered by the next probe, not after its 30 s cooldown', async () => {
    const healthyStart = await laneStats(gw, 'flaky');
    assert.equal(healthyStart.usable, true);
    // While the lane is healthy, dead mode sends no probes.
    await new Promise((r) => setTimeout(r, 1300));
    assert.equal(mock.requests.length, 0);

    mock.enqueue({ status: 500 });
    const failed = await postRaw(
      `${gw.url}/v1/chat/completions`,
      rawRequest('openai', 'flaky', false).body,
      auth,
    );
    assert.equal(failed.status, 503);
    const benched = await laneStats(gw, 'flaky');
    assert.equal(benched.usable, false);
    assert.ok(benched.cooldown_remaining_s >= 20, `cooldown ${benched.cooldown_remaining_s}`);
    assert.equal((await fetch(`${gw.url}/healthz`)).status, 503);

    await until(async () => (await laneStats(gw, 'flaky')).usable, 3500);
    const probe = mock.requests.at(-1)!;
    const body = probe.json() as { max_tokens: number; messages: { content: string }[]; model: string };
    assert.deepEqual([body.model, body.max_tokens, body.messages[0]?.content], ['flaky', 1, 'ping']);
    assert.equal(probe.headers.authorization, 'Bearer sk-probe');
    assert.match(gw.stderr(), /lane flaky recovered via health probe/);
    const ok = await postRaw(
      `${gw.url}/v1/chat/completions`,
      rawRequest('openai', 'flaky', false).body,
      auth,
    );
    assert.equal(ok.status, 200);
  });
});

describe('health probes, active mode', () => {
  let mock: MockUpstream;
  let gw: Gateway;
  before(async () => {
    mock = await startMockUpstream();
    // Two seconds between probes: the next (healthy) probe recovers the lane, so the benched
    // state must be observed within one interval.
    gw = await gatewayFor(mock, 'active', 2);
  });
  after(async () => {
    await gw?.stop();
    await mock?.close();
  });

  it('G-HLT-2/5 probes run on every tick and a failing probe benches a lane before traffic hits it', async () => {
    await until(async () => mock.requests.length >= 1, 4500);
    assert.equal((await laneStats(gw, 'flaky')).usable, true);
    mock.enqueue({ status: 503, headers: { 'retry-after': '40' } });
    await until(async () => (await laneStats(gw, 'flaky')).err === 1, 4500);
    const benched = await laneStats(gw, 'flaky');
    assert.equal(benched.usable, false);
    assert.ok(benched.cooldown_remaining_s >= 39, 'Retry-After floors the cooldown');
  });
});

describe('health probes of embedding and rerank models', () => {
  let mock: MockUpstream;
  let gw: Gateway;
  before(async () => {
    mock = await startMockUpstream();
    gw = await startGateway({
      providersYaml: [
        `mock-gemini:\n  protocol: gemini\n  base_url: ${mock.url}\n`,
        `mock-cohere:\n  protocol: cohere\n  base_url: ${mock.url}\n`,
      ].join(''),
      configYaml: [
        'listen: 127.0.0.1:0',
        `auth:\n  mode: token\n  client_tokens: [${TOKEN}]`,
        'providers:',
        '  mock-gemini:\n    api_key_env: PROBE_TEST_KEY\n    health: {mode: active, interval_secs: 1, timeout_secs: 1}',
        '  mock-cohere:\n    api_key_env: PROBE_TEST_KEY\n    health: {mode: active, interval_secs: 1, timeout_secs: 1}',
        'models:',
        '  text-embedding-004: {provider: mock-gemini, max_concurrent: 2, mode: embedding}',
        '  rerank-v3.5: {provider: mock-cohere, max_concurrent: 2, mode: rerank}',
      ].join('\n'),
      env: { PROBE_TEST_KEY: 'sk-probe' },
    });
  });
  after(async () => {
    await gw?.stop();
    await mock?.close();
  });

  it('probe with a request of the operation the model serves, which the upstream accepts', async () => {
    await until(async () => {
      const paths = new Set(mock.requests.map((r) => r.path));
      return paths.has('/v1beta/models/text-embedding-004:batchEmbedContents') && paths.has('/v2/rerank');
    }, 5000);
    for (const r of mock.requests) assert.equal(r.response?.status, 200, `${r.path}: ${r.response?.body}`);
    assert.equal((await laneStats(gw, 'text-embedding-004')).usable, true);
    assert.equal((await laneStats(gw, 'rerank-v3.5')).usable, true);
  });
});
