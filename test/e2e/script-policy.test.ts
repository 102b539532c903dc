// The script routing policy (issue 13, G-POL-14…18) through the OpenAI SDK: the operator's
// JavaScript orders the members from the request projection and the members' tags; a script that
// spins ends at its deadline in `on_error`, and requests to another pool keep their latency while
// it does (the sandbox runs in a worker thread).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { type Gateway, startGateway } from '../support/gateway-process.ts';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.ts';
import { routedCompletion } from '../support/routed-completion.ts';

const TOKEN = 'script-token';

const catalog = (url: string): string => `prov:\n  protocol: openai\n  base_url: ${url}\n`;

const DEPLOYMENT = `listen: 127.0.0.1:0
auth: {mode: token, client_tokens: [${TOKEN}]}
providers:
  prov: {api_key_env: SCRIPT_KEY}
models:
  small-m: {provider: prov, max_concurrent: 64}
  big-m: {provider: prov, max_concurrent: 64}
  other-m: {provider: prov, max_concurrent: 64}
pools:
  scripted:
    route: script
    policy:
      script: |
        const big = req.total_chars > 20;
        candidates.filter(c => c.tags.includes(big ? "big" : "small")).map(c => c.idx)
    members: [{target: small-m, tags: [small]}, {target: big-m, tags: [big]}]
  spinner:
    route: script
    policy: {script: "while (true) {}", timeout_ms: 100, on_error: first}
    members: [{target: big-m}, {target: small-m}]
  other:
    members: [{target: other-m}]
`;

describe('script routing policy through the OpenAI SDK', () => {
  let mock: MockUpstream;
  let gw: Gateway;
  let openai: OpenAI;
  before(async () => {
    mock = await startMockUpstream();
    gw = await startGateway({
      configYaml: DEPLOYMENT,
      providersYaml: catalog(mock.url),
      env: { SCRIPT_KEY: 'sk-script-upstream' },
    });
    openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: TOKEN, maxRetries: 0 });
  });
  after(async () => {
    await gw?.stop();
    await mock?.close();
  });

  const ask = (model: string, content = 'hi') => routedCompletion(openai, model, content);

  it("follows the script's order, computed from the request and the members' tags", async () => {
    assert.deepEqual(await ask('scripted', 'hi'), { served: 'small-m', policy: 'script', target: 'small-m' });
    assert.deepEqual(await ask('scripted', 'a much longer question than twenty characters'), {
      served: 'big-m',
      policy: 'script',
      target: 'big-m',
    });
  });

  it('a script that spins ends in on_error (first) within its deadline', async () => {
    const started = performance.now();
    assert.deepEqual(await ask('spinner'), { served: 'big-m', policy: 'script', target: 'big-m' });
    assert.ok(performance.now() - started < 1000, `${(performance.now() - started).toFixed(0)} ms`);
  });

  it('requests to another pool keep their latency while scripts spin', async (t) => {
    const p50 = async (): Promise<number> => {
      const times: number[] = [];
      for (let i = 0; i < 60; i++) {
        const started = performance.now();
        await ask('other');
        times.push(performance.now() - started);
      }
      return times.sort((a, b) => a - b)[30]!;
    };
    /** The other pool's p50 while four clients keep asking `pool`. */
    const whileBusy = async (pool: string): Promise<number> => {
      let busy = true;
      const clients = Array.from({ length: 4 }, async () => {
        while (busy) await ask(pool);
      });
      const measured = await p50();
      busy = false;
      await Promise.all(clients);
      return measured;
    };
    await p50(); // warm
    const calm = await whileBusy('scripted');
    const spinning = await whileBusy('spinner');
    t.diagnostic(
      `p50 of another pool: ${calm.toFixed(2)} ms beside a quick script, ${spinning.toFixed(2)} ms beside scripts that spin to their deadline`,
    );
    // A script run on the event loop would hold every request for its whole spin; in the worker the
    // spin costs CPU only (on this 2-core VM it competes with the gateway for the second core).
    assert.ok(spinning < calm * 1.5 + 1, `${calm.toFixed(2)} ms → ${spinning.toFixed(2)} ms`);
  });
});
