// The native routing policies (issue 13, G-POL-1…9) driven through the OpenAI SDK: `cheapest`
// always takes the cheaper member and moves on when it fails, `fastest` follows a member whose
// latency changes, `least_busy` spreads a burst by free permits where weights alone would not, a
// weighted pool adds nothing, the route headers appear on policy-ordered successes only, and
// `usage` orders only for a virtual key with a rate limit.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { type Gateway, startGateway } from '../support/gateway-process.ts';
import { governanceYaml, mintKey, tempDbPath } from '../support/governance.ts';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.ts';
import { parseExposition } from '../support/prometheus.ts';
import { routedCompletion } from '../support/routed-completion.ts';
import { sixProvidersCatalog, sixProvidersConfig, sixProvidersEnv } from '../support/six-providers.ts';

const TOKEN = 'policy-token';

const catalog = (a: string, b: string): string =>
  `prov-a:\n  protocol: openai\n  base_url: ${a}\nprov-b:\n  protocol: openai\n  base_url: ${b}\n`;

const DEPLOYMENT = `listen: 127.0.0.1:0
auth: {mode: token, client_tokens: [${TOKEN}]}
providers:
  prov-a: {api_key_env: POLICY_KEY}
  prov-b: {api_key_env: POLICY_KEY}
models:
  cheap-a: {provider: prov-a, max_concurrent: 64}
  dear-b: {provider: prov-b, max_concurrent: 64}
  fast-a: {provider: prov-a, max_concurrent: 64}
  fast-b: {provider: prov-b, max_concurrent: 64}
  busy-a: {provider: prov-a, max_concurrent: 4}
  busy-b: {provider: prov-b, max_concurrent: 4}
pools:
  cheap:
    route: cheapest
    members: [{target: dear-b, cost_per_mtok: 100}, {target: cheap-a, cost_per_mtok: 1}]
  fast:
    route: native
    policy: {name: fastest}
    members: [{target: fast-a}, {target: fast-b}]
  busy:
    route: least_busy
    members: [{target: busy-a, weight: 10}, {target: busy-b, weight: 1}]
    failover: {deadline_secs: 10}
  plain:
    members: [{target: dear-b}, {target: cheap-a}]
`;

describe('native routing policies through the OpenAI SDK', () => {
  let a: MockUpstream;
  let b: MockUpstream;
  let gw: Gateway;
  let openai: OpenAI;

  before(async () => {
    a = await startMockUpstream();
    b = await startMockUpstream();
    gw = await startGateway({
      configYaml: DEPLOYMENT,
      providersYaml: catalog(a.url, b.url),
      env: { POLICY_KEY: 'sk-policy-upstream' },
    });
    openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: TOKEN, maxRetries: 0 });
  });
  after(async () => {
    await gw?.stop();
    await a?.close();
    await b?.close();
  });

  /** One completion: which upstream model answered and the route headers. */
  const ask = (model: string) => routedCompletion(openai, model);

  it('cheapest always takes the cheaper member', async () => {
    for (let i = 0; i < 6; i++) {
      assert.deepEqual(await ask('cheap'), { served: 'cheap-a', policy: 'cheapest', target: 'cheap-a' });
    }
  });

  it('an error answer carries no route headers (G-POL-6)', async () => {
    a.enqueue({ status: 400, message: 'bad request from upstream' });
    const err = await openai.chat.completions
      .create({ model: 'cheap', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    assert.ok(err instanceof OpenAI.BadRequestError, String(err));
    assert.equal(err.headers?.get('x-busbar-route-policy') ?? null, null);
    assert.equal(err.headers?.get('x-busbar-route-target') ?? null, null);
  });

  it('cheapest moves on when the cheaper member fails, and skips it while it cools down', async () => {
    a.enqueue({ status: 500 });
    assert.deepEqual(await ask('cheap'), { served: 'dear-b', policy: 'cheapest', target: 'dear-b' });
    // The 5xx put cheap-a's cell in a cooldown: the order walks past it, nothing is stranded.
    assert.deepEqual(await ask('cheap'), { served: 'dear-b', policy: 'cheapest', target: 'dear-b' });
  });

  it('a weighted pool adds nothing: no headers (G-POL-1)', async () => {
    for (let i = 0; i < 4; i++) {
      const r = await ask('plain');
      assert.equal(r.policy, null);
      assert.equal(r.target, null);
    }
  });

  it('fastest abstains without latencies, then follows the lane latency average', async () => {
    // No lane has a sample yet: the policy abstains, SWRR picks, no headers.
    assert.equal((await ask('fast')).policy, null);
    // Latency is lane-global (G-POL-8): direct requests teach it. fast-a answers in 60 ms.
    a.enqueue({ delayMs: 60 });
    await ask('fast-a');
    await ask('fast-b');
    assert.deepEqual(await ask('fast'), { served: 'fast-b', policy: 'fastest', target: 'fast-b' });
    // fast-b slows down to 200 ms: its average passes fast-a's within a few requests.
    const served: string[] = [];
    for (let i = 0; i < 8 && served.at(-1) !== 'fast-a'; i++) {
      b.enqueue({ delayMs: 200 });
      served.push((await ask('fast')).served);
    }
    assert.equal(served.at(-1), 'fast-a', `served in turn: ${served.join(', ')}`);
    assert.ok(served.length >= 2, 'one slow answer alone does not move the average past 60 ms');
    b.reset();
    assert.equal((await ask('fast')).served, 'fast-a');
  });

  it('least_busy spreads a burst by free permits, where the weights (10:1) would not', async () => {
    const before = { a: a.requests.length, b: b.requests.length };
    for (let i = 0; i < 8; i++) {
      a.enqueue({ delayMs: 300 });
      b.enqueue({ delayMs: 300 });
    }
    const burst = await Promise.all(Array.from({ length: 8 }, () => ask('busy')));
    const sent = { a: a.requests.length - before.a, b: b.requests.length - before.b };
    a.reset();
    b.reset();
    const onA = burst.filter((r) => r.served === 'busy-a').length;
    assert.deepEqual([onA, 8 - onA], [4, 4], burst.map((r) => r.served).join(', '));
    assert.ok(burst.every((r) => r.policy === 'least_busy' && r.target === r.served));
    assert.deepEqual(sent, { a: 4, b: 4 });
  });

  it('busbar_route_policy_selections_total counts the requests a policy ordered (G-POL-7)', async () => {
    const r = await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const m = parseExposition(await r.text());
    // cheapest: 6 + the error + 2 = 9; fastest: 1 + up to 8 + 1 ordered; least_busy: 8.
    assert.equal(m.get('busbar_route_policy_selections_total', { policy: 'cheapest', pool: 'cheap' }), 9);
    assert.equal(m.get('busbar_route_policy_selections_total', { policy: 'least_busy', pool: 'busy' }), 8);
    assert.ok((m.get('busbar_route_policy_selections_total', { policy: 'fastest', pool: 'fast' }) ?? 0) >= 3);
    assert.equal(
      m.get('busbar_route_policy_selections_total', { policy: 'weighted', pool: 'plain' }),
      undefined,
    );
  });
});

describe('the usage policy with virtual keys (governance)', () => {
  let mock: MockUpstream;
  let gw: Gateway;
  before(async () => {
    mock = await startMockUpstream();
    gw = await startGateway({
      configYaml: sixProvidersConfig(
        `  usage-pool:\n    route: usage\n    members: [{target: claude-sonnet-4-5}, {target: gpt-4o-mini}]\n${governanceYaml(tempDbPath())}`,
      ),
      providersYaml: sixProvidersCatalog(mock.url),
      env: sixProvidersEnv(),
    });
  });
  after(async () => {
    await gw?.stop();
    await mock?.close();
  });

  const ask = async (key: string) => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
    const { data, response } = await client.chat.completions
      .create({ model: 'usage-pool', messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    return { served: data.model, policy: response.headers.get('x-busbar-route-policy') };
  };

  it('orders the pool for a key with a rate limit (lane order), and abstains for one without', async () => {
    const limited = await mintKey(gw.url, { rpm_limit: 100 });
    for (let i = 0; i < 3; i++) {
      // gpt-4o-mini is the first model in models:, so the lower lane index.
      assert.deepEqual(await ask(limited.secret), { served: 'gpt-4o-mini', policy: 'usage' });
    }
    const unlimited = await mintKey(gw.url);
    const served = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const r = await ask(unlimited.secret);
      assert.equal(r.policy, null);
      served.add(r.served);
    }
    assert.equal(served.size, 2, 'round-robin over both members');
  });
});
