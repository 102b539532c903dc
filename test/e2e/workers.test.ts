// `workers: N`: several gateway processes share one port (node:cluster); each serves requests.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Agent } from 'undici';
import { type Gateway, startGateway } from '../support/gateway-process.ts';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.ts';
import { rawRequest } from '../support/raw-requests.ts';

describe('workers: 2', () => {
  let mock: MockUpstream;
  let gw: Gateway;
  before(async () => {
    mock = await startMockUpstream();
    gw = await startGateway({
      providersYaml: `mock-openai:\n  protocol: openai\n  base_url: ${mock.url}\n`,
      configYaml: [
        'listen: 127.0.0.1:0',
        'workers: 2',
        'auth:\n  mode: token\n  client_tokens: [w-token]',
        'providers:\n  mock-openai:\n    api_key_env: WORKERS_TEST_KEY',
        'models:\n  gpt-4o-mini:\n    provider: mock-openai\n    max_concurrent: 8',
      ].join('\n'),
      env: { WORKERS_TEST_KEY: 'sk-w' },
    });
  });
  after(async () => {
    await gw?.stop();
    await mock?.close();
  });

  it('both processes serve on the one port, and the primary reports them once', async () => {
    assert.match(gw.stderr(), /busbar listening on http:\/\/127\.0\.0\.1:\d+ \(2 workers\)/);
    assert.equal(gw.stderr().match(/busbar listening/g)?.length, 1);
    const { body } = rawRequest('openai', 'gpt-4o-mini', false);
    const seen = new Set<number>();
    // A fresh connection per request lets the cluster spread them over both workers.
    for (let i = 0; i < 30; i++) {
      const dispatcher = new Agent({ pipelining: 0 });
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer w-token' },
        body,
        dispatcher,
      } as RequestInit);
      assert.equal(res.status, 200);
      await res.text();
      const stats = await fetch(`${gw.url}/stats`, {
        headers: { authorization: 'Bearer w-token' },
        dispatcher,
      } as RequestInit);
      const lanes = ((await stats.json()) as { lanes: { ok: number }[] }).lanes;
      seen.add(lanes[0]!.ok);
      await dispatcher.close();
    }
    assert.equal(mock.requests.length, 30);
    // One process alone would have counted 1, 2, …, 30; two share the count between them.
    assert.ok(Math.max(...seen) < 30, `per-process counts ${[...seen].sort((a, b) => a - b)}`);
  });
});
