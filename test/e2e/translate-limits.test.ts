// G-FO-12: a buffered cross-protocol answer over the 32 MiB translation cap is the gateway's own
// limit: 500 native api_error, the budget unit stays spent, the breaker is untouched.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Gateway, startGateway } from '../support/gateway-process.ts';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.ts';
import { postRaw, rawRequest } from '../support/raw-requests.ts';

describe('translation size cap', () => {
  let mock: MockUpstream;
  let gw: Gateway;
  before(async () => {
    mock = await startMockUpstream();
    gw = await startGateway({
      providersYaml: `mock-anthropic:\n  protocol: anthropic\n  base_url: ${mock.url}\n`,
      configYaml: [
        'listen: 127.0.0.1:0',
        'auth:\n  mode: token\n  client_tokens: [cap-token]',
        'providers:\n  mock-anthropic:\n    api_key_env: CAP_TEST_KEY',
        'models:\n  claude-sonnet-4-5:\n    provider: mock-anthropic\n    max_concurrent: 2\n    max_requests: 5',
      ].join('\n'),
      env: { CAP_TEST_KEY: 'sk-ant-api03-cap' },
    });
  });
  after(async () => {
    await gw?.stop();
    await mock?.close();
  });

  async function lane(): Promise<{ budget: number; err: number; ok: number }> {
    const res = await fetch(`${gw.url}/stats`, { headers: { authorization: 'Bearer cap-token' } });
    return ((await res.json()) as { lanes: { budget: number; err: number; ok: number }[] }).lanes[0]!;
  }

  it('answers 500 api_error, keeps the unit spent and records no failure; the next request is served', async () => {
    const huge = `{"type":"message","pad":"${'x'.repeat(33 * 1024 * 1024)}"}`;
    mock.enqueue({ status: 200, headers: { 'content-type': 'application/json' }, body: huge });
    const { body } = rawRequest('openai', 'claude-sonnet-4-5', false);
    const res = await postRaw(`${gw.url}/v1/chat/completions`, body, { authorization: 'Bearer cap-token' });
    assert.equal(res.status, 500);
    assert.equal((JSON.parse(res.body) as { error: { type: string } }).error.type, 'api_error');
    assert.deepEqual(await lane(), { ...(await lane()), budget: 4, err: 0 });
    const next = await postRaw(`${gw.url}/v1/chat/completions`, body, { authorization: 'Bearer cap-token' });
    assert.equal(next.status, 200);
    assert.equal((await lane()).budget, 3);
  });
});
