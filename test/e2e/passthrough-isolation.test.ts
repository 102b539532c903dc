// Passthrough mode (issue 10 items 4–6): one caller's own key must never hurt another caller or
// leak. An answer about the caller's key (401, 402, 403, 429, billing) goes back to that caller and
// never touches a breaker shared by all; upstream health (5xx) still counts; a caller's key only
// ever goes to the provider of its first attempt; `?key=` counts only on Gemini routes.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Gateway, startGateway } from '../support/gateway-process.ts';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.ts';
import { postRaw, rawRequest } from '../support/raw-requests.ts';

let alpha: MockUpstream;
let beta: MockUpstream;
let gw: Gateway;

interface CellStats {
  state: string;
  streak: number;
  cooldown_remaining_s: number;
}
interface LaneStats {
  model: string;
  err: number;
  client_fault: number;
  dead_reason: string;
  cells: Record<string, CellStats>;
}

before(async () => {
  alpha = await startMockUpstream();
  beta = await startMockUpstream();
  gw = await startGateway({
    // Two providers of the same protocol; alpha carries the shipped OpenAI error_map (insufficient_quota → billing).
    providersYaml: [
      `alpha:\n  protocol: openai\n  base_url: ${alpha.url}\n  error_map:\n    insufficient_quota: billing\n`,
      `beta:\n  protocol: openai\n  base_url: ${beta.url}\n`,
    ].join(''),
    configYaml: [
      'listen: 127.0.0.1:0',
      'auth:\n  mode: passthrough',
      'providers:\n  alpha: {api_key_env: PT_ALPHA_KEY}\n  beta: {api_key_env: PT_BETA_KEY}',
      'models:\n  a-model: {provider: alpha, max_concurrent: 8}\n  b-model: {provider: beta, max_concurrent: 8}',
      'pools:\n  mixed:\n    members:\n      - {target: a-model, weight: 1000}\n      - {target: b-model, weight: 1}',
    ].join('\n'),
    env: { PT_ALPHA_KEY: '', PT_BETA_KEY: '' },
  });
});

after(async () => {
  await gw?.stop();
  await alpha?.close();
  await beta?.close();
});

async function lane(model: string): Promise<LaneStats> {
  const stats = (await (await fetch(`${gw.url}/stats`)).json()) as { lanes: LaneStats[] };
  return stats.lanes.find((l) => l.model === model)!;
}

function call(key: string, name = 'a-model', query = ''): ReturnType<typeof postRaw> {
  const { path, body } = rawRequest('openai', name, false);
  return postRaw(`${gw.url}${path}${query}`, body, key === '' ? {} : { authorization: `Bearer ${key}` });
}

describe('answers about the caller’s own key', () => {
  for (const [what, fault] of [
    [
      'exhausted quota (429 insufficient_quota → billing)',
      {
        status: 429,
        body: {
          error: {
            message: 'You exceeded your current quota',
            type: 'insufficient_quota',
            code: 'insufficient_quota',
          },
        },
      },
    ],
    ['per-key rate limit (429)', { status: 429, message: 'Rate limit reached for your key' }],
    ['refused key (401)', { status: 401, message: 'Incorrect API key provided' }],
    ['unpaid (402)', { status: 402, message: 'Payment required' }],
  ] as const) {
    it(`${what}: relayed to that caller, no breaker moves, the next caller is served`, async () => {
      alpha.reset();
      beta.reset();
      alpha.enqueue(fault);
      const first = await call('sk-caller-one');
      assert.equal(first.status, fault.status, first.body);
      const stats = await lane('a-model');
      assert.equal(stats.dead_reason, '', 'not hard-downed');
      for (const cell of Object.values(stats.cells)) {
        assert.deepEqual([cell.state, cell.streak, cell.cooldown_remaining_s], ['closed', 0, 0]);
      }
      const second = await call('sk-caller-two');
      assert.equal(second.status, 200, second.body);
      assert.equal(alpha.requests.length, 2);
      assert.equal(alpha.requests[1]!.headers.authorization, 'Bearer sk-caller-two');
      assert.equal(beta.requests.length, 0, 'no failover with the caller’s key');
    });
  }
});

describe('a caller’s key stays with its provider', () => {
  it('a failing first member never fails over to another provider with the caller’s key', async () => {
    alpha.reset();
    beta.reset();
    alpha.enqueue({ status: 503 });
    const res = await call('sk-only-for-alpha', 'mixed');
    assert.equal(res.status, 503, res.body);
    assert.equal(alpha.requests.length, 1);
    assert.equal(beta.requests.length, 0, 'the key never reached beta');
  });

  it('?key= is not a credential on a non-Gemini route, and never goes upstream', async () => {
    beta.reset();
    const res = await call('', 'b-model', '?key=sk-in-the-query');
    assert.equal(res.status, 200);
    const seen = JSON.stringify(beta.requests[0]!.headers);
    assert.ok(!seen.includes('sk-in-the-query'), seen);
  });
});

it('--validate warns about a pool mixing providers under passthrough', () => {
  assert.match(gw.stderr(), /pool 'mixed' mixes providers \(alpha, beta\) under auth\.mode passthrough/);
});

// Last: it leaves the lane cooling down.
describe('upstream health', () => {
  it('upstream health still counts: a 500 records a breaker failure', async () => {
    alpha.reset();
    const before = (await lane('a-model')).err;
    alpha.enqueue({ status: 500 });
    await call('sk-caller-three', 'a-model');
    const after = await lane('a-model');
    assert.equal(after.err, before + 1);
    assert.equal(after.cells['']!.streak, 1);
  });
});
