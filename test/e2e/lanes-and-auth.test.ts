// Lanes (max_concurrent, max_requests), auth modes, request ids and the small routes, driven through
// the HTTP surface against the mock upstream.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Gateway, startGateway } from '../support/gateway-process.ts';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.ts';
import { postRaw, rawRequest } from '../support/raw-requests.ts';

const TOKEN = 'lane-token';

function config(
  mockUrl: string,
  authBlock: string,
  models: string,
  pools = '',
): { configYaml: string; providersYaml: string } {
  return {
    providersYaml: `mock-openai:\n  protocol: openai\n  base_url: ${mockUrl}\n`,
    configYaml: `listen: 127.0.0.1:0\n${authBlock}\nproviders:\n  mock-openai:\n    api_key_env: LANE_TEST_KEY\nmodels:\n${models}\n${pools}`,
  };
}

const chat = (model: string) => rawRequest('openai', model, false).body;

describe('lanes', () => {
  let mock: MockUpstream;
  let gw: Gateway;
  before(async () => {
    mock = await startMockUpstream();
    gw = await startGateway({
      ...config(
        mock.url,
        `auth:\n  mode: token\n  client_tokens: [${TOKEN}]`,
        [
          '  budgeted:\n    provider: mock-openai\n    max_concurrent: 4\n    max_requests: 2',
          '  single:\n    provider: mock-openai\n    max_concurrent: 1',
        ].join('\n'),
        'pools:\n  tight:\n    failover:\n      deadline_secs: 1\n    members:\n      - target: single',
      ),
      env: { LANE_TEST_KEY: 'sk-lane' },
    });
  });
  after(async () => {
    await gw?.stop();
    await mock?.close();
  });
  const auth = { authorization: `Bearer ${TOKEN}` };

  it('G-TST-10 max_requests: 2 admits two 2xx answers, then the lane is inadmissible (503)', async () => {
    for (let i = 0; i < 2; i++)
      assert.equal((await postRaw(`${gw.url}/v1/chat/completions`, chat('budgeted'), auth)).status, 200);
    const third = await postRaw(`${gw.url}/v1/chat/completions`, chat('budgeted'), auth);
    assert.equal(third.status, 503);
    assert.ok(Number(third.headers.get('retry-after')) >= 1);
    assert.equal((JSON.parse(third.body) as { error: { type: string } }).error.type, 'overloaded_error');
    const stats = (await (await fetch(`${gw.url}/stats`, { headers: auth })).json()) as {
      lanes: { model: string; budget: number; usable: boolean }[];
    };
    const lane = stats.lanes.find((l) => l.model === 'budgeted');
    assert.deepEqual({ budget: lane?.budget, usable: lane?.usable }, { budget: 0, usable: false });
    assert.equal(mock.requests.filter((r) => r.model === 'budgeted').length, 2);
  });

  it('G-POOL-2/3 max_concurrent: 1 makes the second request wait for the permit (FIFO)', async () => {
    mock.reset();
    mock.enqueue({ delayMs: 300 }, { delayMs: 0 });
    const t0 = Date.now();
    const [a, b] = await Promise.all([
      postRaw(`${gw.url}/v1/chat/completions`, chat('single'), auth),
      (async () => {
        await new Promise((r) => setTimeout(r, 50));
        return postRaw(`${gw.url}/v1/chat/completions`, chat('single'), auth);
      })(),
    ]);
    assert.deepEqual([a.status, b.status], [200, 200]);
    assert.equal(mock.requests.length, 2);
    // The second upstream call could only start after the first answer released the permit.
    assert.ok(Date.now() - t0 >= 300);
    const stats = (await (await fetch(`${gw.url}/stats`, { headers: auth })).json()) as {
      lanes: { model: string; inflight: number; free_slots: number }[];
    };
    assert.deepEqual(
      stats.lanes.filter((l) => l.model === 'single').map((l) => [l.inflight, l.free_slots]),
      [[0, 1]],
    );
  });

  it('G-POOL-3 a permit wait is bounded by the request deadline, then 503', async () => {
    mock.reset();
    // A slow stream holds the only permit well past the pool's 1 s deadline.
    mock.enqueue({ chunkDelayMs: 400 });
    const streamed = rawRequest('openai', 'tight', true).body;
    const first = postRaw(`${gw.url}/v1/chat/completions`, streamed, auth);
    await new Promise((r) => setTimeout(r, 100));
    // The exact bound is held on the injected clock in test/lifecycle/deadline.test.ts.
    const second = await postRaw(`${gw.url}/v1/chat/completions`, chat('tight'), auth);
    assert.equal(second.status, 503);
    assert.equal((await first).status, 200);
    assert.equal(mock.requests.length, 1);
  });

  it("G-OBS-52 no gateway request id by default; the upstream's own passes on a same-protocol relay", async () => {
    const relayed = await postRaw(`${gw.url}/v1/chat/completions`, chat('single'), {
      ...auth,
      'x-request-id': 'trace-42',
    });
    assert.equal(relayed.headers.get('x-request-id'), 'req_mock');
    assert.equal(relayed.headers.get('server-timing'), null);
    const refused = await postRaw(`${gw.url}/v1/chat/completions`, chat('no-such-model'), auth);
    assert.equal(refused.status, 404);
    assert.equal(refused.headers.get('x-request-id'), null);
  });

  it('P-FWD-3 an upstream 4xx is relayed verbatim on a same-protocol hop', async () => {
    const body =
      '{"error": {"message": "bad temperature", "type": "invalid_request_error", "param": "temperature", "code": null}}';
    mock.enqueue({ status: 400, body, headers: { 'content-type': 'application/json' } });
    const res = await postRaw(`${gw.url}/v1/chat/completions`, chat('single'), auth);
    assert.equal(res.status, 400);
    assert.equal(res.body, body);
  });

  it('/healthz is open and plain text; unknown routes 404 and wrong methods 405 in the OpenAI shape', async () => {
    const health = await fetch(`${gw.url}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(await health.text(), 'ok');
    assert.match(health.headers.get('content-type') ?? '', /^text\/plain/);
    const missing = await fetch(`${gw.url}/v1/images/generations`, {
      method: 'POST',
      headers: auth,
      body: '{}',
    });
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: { type: string } }).error.type, 'not_found_error');
    const wrongMethod = await fetch(`${gw.url}/v1/chat/completions`, { headers: auth });
    assert.equal(wrongMethod.status, 405);
    assert.equal(
      ((await wrongMethod.json()) as { error: { type: string } }).error.type,
      'invalid_request_error',
    );
    const stats = await fetch(`${gw.url}/stats`);
    assert.equal(stats.status, 401);
  });
});

describe('auth modes', () => {
  let mock: MockUpstream;
  before(async () => {
    mock = await startMockUpstream();
  });
  after(async () => {
    await mock?.close();
  });
  const model = '  gpt-4o-mini:\n    provider: mock-openai\n    max_concurrent: 4';

  it('G-SEC-4 passthrough forwards the caller credential instead of the configured key', async () => {
    const gw = await startGateway({
      ...config(mock.url, 'auth:\n  mode: passthrough', model),
      env: { LANE_TEST_KEY: '' },
    });
    try {
      mock.reset();
      const res = await postRaw(`${gw.url}/v1/chat/completions`, chat('gpt-4o-mini'), {
        authorization: 'Bearer sk-caller-own',
      });
      assert.equal(res.status, 200);
      assert.equal(mock.last()?.headers.authorization, 'Bearer sk-caller-own');
    } finally {
      await gw.stop();
    }
  });

  it('G-CFG-17 mode none admits requests without a credential and sends the configured key', async () => {
    const gw = await startGateway({
      ...config(mock.url, 'auth:\n  mode: none', model),
      env: { LANE_TEST_KEY: 'sk-configured' },
    });
    try {
      mock.reset();
      const res = await postRaw(`${gw.url}/v1/chat/completions`, chat('gpt-4o-mini'));
      assert.equal(res.status, 200);
      assert.equal(mock.last()?.headers.authorization, 'Bearer sk-configured');
      assert.match(gw.stderr(), /OPEN RELAY/);
    } finally {
      await gw.stop();
    }
  });
});
