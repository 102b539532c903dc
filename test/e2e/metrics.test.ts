// /metrics after a scripted workload (issue 12): successes, a failover that trips a breaker, an
// unknown model, a rate limit and a budget hit, each counter checked to its exact value, the
// histogram's count, and the per-key and per-lane gauges — in one process and with `workers: 2`,
// where a scrape at any worker shows the whole node.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Agent } from 'undici';
import { type Gateway, startGateway } from '../support/gateway-process.ts';
import { governanceYaml, mintKey, tempDbPath } from '../support/governance.ts';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.ts';
import { type Exposition, parseExposition } from '../support/prometheus.ts';

function deployment(workers: number): string {
  return [
    'listen: 127.0.0.1:0',
    `workers: ${workers}`,
    'providers:',
    '  mock-openai:',
    '    api_key_env: METRICS_OPENAI_KEY',
    '  mock-anthropic:',
    '    api_key_env: METRICS_ANTHROPIC_KEY',
    'models:',
    '  gpt-a:',
    '    provider: mock-openai',
    '    max_concurrent: 4',
    '  claude-b:',
    '    provider: mock-anthropic',
    '    max_concurrent: 4',
    'pools:',
    '  mix:',
    '    members:',
    '      - target: gpt-a',
    '      - target: claude-b',
    '    breaker:',
    '      trip:',
    '        mode: consecutive',
    '        n: 1',
    governanceYaml(tempDbPath()),
  ].join('\n');
}

const catalog = (url: string): string =>
  `mock-openai:\n  protocol: openai\n  base_url: ${url}\nmock-anthropic:\n  protocol: anthropic\n  base_url: ${url}\n`;

/** A fresh connection per request, so with workers the kernel spreads them over both. */
async function post(gw: Gateway, path: string, secret: string, body: unknown): Promise<number> {
  const dispatcher = new Agent({ pipelining: 0 });
  try {
    const r = await fetch(`${gw.url}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${secret}`,
        'x-api-key': secret,
        'anthropic-version': '2023-06-01',
        'content-type': 'application/json',
        connection: 'close',
      },
      body: JSON.stringify(body),
      dispatcher,
    } as RequestInit);
    await r.text();
    return r.status;
  } finally {
    await dispatcher.close();
  }
}

const chat = (model: string) => ({ model, messages: [{ role: 'user', content: 'hi' }] });

interface Run {
  gw: Gateway;
  stop(): Promise<void>;
  keys: { a: string; b: string; c: string };
  statuses: number[];
}

/** The scripted workload; returns the statuses in order. */
async function workload(gw: Gateway, mock: MockUpstream): Promise<Run> {
  const a = await mintKey(gw.url);
  const b = await mintKey(gw.url, { rpm_limit: 1 });
  const c = await mintKey(gw.url, { max_budget_cents: 1 });
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++) statuses.push(await post(gw, '/v1/chat/completions', a.secret, chat('gpt-a')));
  // The pool's first member answers 500: its breaker (n = 1) trips and the request fails over to
  // claude-b, translated to Anthropic.
  mock.enqueue({ status: 500 });
  statuses.push(await post(gw, '/v1/chat/completions', a.secret, chat('mix')));
  statuses.push(await post(gw, '/v1/chat/completions', a.secret, chat('no-such-model')));
  statuses.push(await post(gw, '/v1/messages', a.secret, { ...chat('claude-b'), max_tokens: 64 }));
  statuses.push(await post(gw, '/v1/chat/completions', b.secret, chat('gpt-a')));
  statuses.push(await post(gw, '/v1/chat/completions', b.secret, chat('gpt-a')));
  statuses.push(await post(gw, '/v1/chat/completions', c.secret, chat('gpt-a')));
  statuses.push(await post(gw, '/v1/chat/completions', c.secret, chat('gpt-a')));
  return { gw, keys: { a: a.id, b: b.id, c: c.id }, statuses, stop: async () => {} };
}

/** A gateway with `workers` processes in front of a fresh mock, after the scripted workload. */
async function startAndRun(workers: number): Promise<Run> {
  const mock = await startMockUpstream();
  const gw = await startGateway({
    configYaml: deployment(workers),
    providersYaml: catalog(mock.url),
    env: { METRICS_OPENAI_KEY: 'sk-o', METRICS_ANTHROPIC_KEY: 'sk-a' },
  });
  const run = await workload(gw, mock);
  return {
    ...run,
    stop: async () => {
      await gw.stop();
      await mock.close();
    },
  };
}

async function scrape(gw: Gateway, secret: string): Promise<{ status: number; type: string; text: string }> {
  const dispatcher = new Agent({ pipelining: 0 });
  try {
    const r = await fetch(`${gw.url}/metrics`, {
      headers: { authorization: `Bearer ${secret}`, connection: 'close' },
      dispatcher,
    } as RequestInit);
    return { status: r.status, type: r.headers.get('content-type') ?? '', text: await r.text() };
  } finally {
    await dispatcher.close();
  }
}

/** The counters and key gauges the workload must leave, the same for one process or two. */
function checkCounters(m: Exposition, keys: Run['keys']): void {
  const requests = (ingress: string, pool: string, outcome: string) =>
    m.get('busbar_requests_total', { ingress_protocol: ingress, pool, outcome });
  assert.equal(requests('openai', 'gpt-a', 'ok'), 5);
  assert.equal(requests('openai', 'gpt-a', 'client_error'), 2);
  assert.equal(requests('openai', 'mix', 'ok'), 1);
  assert.equal(requests('openai', 'unresolved', 'client_error'), 1);
  assert.equal(requests('anthropic', 'claude-b', 'ok'), 1);
  assert.equal(m.all('busbar_requests_total').length, 5, 'no other request series');

  const count = (ingress: string, pool: string) =>
    m.get('busbar_request_duration_seconds_count', { ingress_protocol: ingress, pool });
  assert.equal(count('openai', 'gpt-a'), 7);
  assert.equal(count('openai', 'mix'), 1);
  assert.equal(count('openai', 'unresolved'), 1);
  assert.equal(count('anthropic', 'claude-b'), 1);
  const inf = m.get('busbar_request_duration_seconds_bucket', {
    ingress_protocol: 'openai',
    pool: 'gpt-a',
    le: '+Inf',
  });
  assert.equal(inf, 7);
  assert.equal(m.all('busbar_request_duration_seconds_bucket', { pool: 'gpt-a' }).length, 16);

  assert.equal(m.get('busbar_upstream_attempts_total', { pool: 'gpt-a', lane: 'gpt-a' }), 5);
  assert.equal(m.get('busbar_upstream_attempts_total', { pool: 'mix', lane: 'gpt-a' }), 1);
  assert.equal(m.get('busbar_upstream_attempts_total', { pool: 'mix', lane: 'claude-b' }), 1);
  assert.equal(m.get('busbar_upstream_attempts_total', { pool: 'claude-b', lane: 'claude-b' }), 1);
  assert.equal(
    m.get('busbar_upstream_failures_total', {
      pool: 'mix',
      lane: 'gpt-a',
      disposition: 'transient_upstream',
    }),
    1,
  );
  assert.equal(m.all('busbar_upstream_failures_total').length, 1);
  assert.equal(m.get('busbar_breaker_trips_total', { pool: 'mix', lane: 'gpt-a' }), 1);
  assert.equal(m.all('busbar_breaker_trips_total').length, 1);
  assert.equal(m.get('busbar_failovers_total', { pool: 'mix', reason: 'transient_upstream' }), 1);
  assert.equal(m.all('busbar_failovers_total').length, 1);
  assert.equal(m.get('busbar_translations_total', { from: 'openai', to: 'anthropic' }), 1);
  assert.equal(m.all('busbar_translations_total').length, 1);

  // Flat fee 1 cent, no token price; the mock reports 11 + 7 tokens per answer.
  assert.equal(m.get('busbar_key_spend_cents', { key: keys.a }), 5);
  assert.equal(m.get('busbar_key_tokens_total', { key: keys.a }), 5 * 18);
  assert.equal(m.get('busbar_key_spend_cents', { key: keys.b }), 1);
  assert.equal(m.get('busbar_key_spend_cents', { key: keys.c }), 1);
  assert.equal(m.get('busbar_key_budget_remaining_cents', { key: keys.c }), 0);
  assert.equal(m.get('busbar_key_budget_remaining_cents', { key: keys.a }), undefined, 'uncapped: no series');
  assert.equal(m.get('busbar_key_tokens_total', { key: keys.c }), 18);

  // The pool's lane gauge: gpt-a's only pool cell is cooling down, so it is usable nowhere (2).
  const laneIndex = (name: string) => (name === 'gpt-a' ? '0' : '1');
  assert.equal(m.get('busbar_lane_state', { pool: 'mix', lane: laneIndex('gpt-a') }), 2);
  assert.equal(m.get('busbar_lane_state', { pool: 'mix', lane: laneIndex('claude-b') }), 0);
  for (const [name, type] of m.types) assert.ok(m.helps.get(name), `${name} (${type}) has HELP`);
  for (const name of [
    'busbar_requests_total',
    'busbar_request_duration_seconds',
    'busbar_route_policy_selections_total',
    'busbar_upstream_attempts_total',
    'busbar_upstream_failures_total',
    'busbar_breaker_trips_total',
    'busbar_failovers_total',
    'busbar_translations_total',
    'busbar_key_spend_cents',
    'busbar_key_budget_remaining_cents',
    'busbar_key_tokens_total',
    'busbar_lane_state',
    'busbar_lane_available',
  ])
    assert.ok(m.types.has(name), `${name} is exposed`);
}

const EXPECTED_STATUSES = [200, 200, 200, 200, 404, 200, 200, 429, 200, 429];

describe('/metrics in one process', () => {
  let run: Run;
  let keyA: string;
  before(async () => {
    run = await startAndRun(1);
    keyA = (await mintKey(run.gw.url)).secret;
  });
  after(() => run?.stop());

  it('the workload got the answers it scripted', () => {
    assert.deepEqual(run.statuses, EXPECTED_STATUSES);
  });

  it('every counter, the histogram and the key gauges hold their exact values', async () => {
    const r = await scrape(run.gw, keyA);
    assert.equal(r.status, 200);
    assert.equal(r.type, 'text/plain; version=0.0.4');
    checkCounters(parseExposition(r.text), run.keys);
  });

  it('the lane gauges say which lane cannot serve, why, and for how long; /stats agrees', async () => {
    const m = parseExposition((await scrape(run.gw, keyA)).text);
    assert.equal(m.get('busbar_lane_available', { lane: 'gpt-a' }), 0);
    assert.equal(m.get('busbar_lane_unavailable', { lane: 'gpt-a', reason: 'breaker_open' }), 1);
    assert.equal(m.get('busbar_lane_unavailable', { lane: 'gpt-a', reason: 'at_capacity' }), 0);
    const ms = m.get('busbar_lane_recovery_ms', { lane: 'gpt-a' })!;
    // Consecutive-trip cooldown: base 15 s × 2^1 with ±10 % jitter.
    assert.ok(ms > 20_000 && ms <= 33_000, `recovery ${ms} ms`);
    assert.equal(m.get('busbar_lane_available', { lane: 'claude-b' }), 1);
    assert.equal(m.get('busbar_lane_recovery_ms', { lane: 'claude-b' }), 0);
    const stats = (await (
      await fetch(`${run.gw.url}/stats`, { headers: { authorization: `Bearer ${keyA}` } })
    ).json()) as {
      lanes: { model: string; available: boolean; unavailable_reason: string; recovers_in_ms: number }[];
    };
    const gpt = stats.lanes.find((l) => l.model === 'gpt-a')!;
    assert.equal(gpt.available, false);
    assert.equal(gpt.unavailable_reason, 'breaker_open');
    assert.ok(gpt.recovers_in_ms > 20_000);
    assert.equal(stats.lanes.find((l) => l.model === 'claude-b')!.unavailable_reason, '');
  });

  it('scraping needs a virtual key under governance; /healthz stays open', async () => {
    assert.equal((await fetch(`${run.gw.url}/metrics`)).status, 401);
    assert.equal((await scrape(run.gw, 'sk-not-a-key')).status, 401);
    assert.equal((await fetch(`${run.gw.url}/healthz`)).status, 200);
  });

  it('scrapes and gateway endpoints are not counted as requests', async () => {
    const before = parseExposition((await scrape(run.gw, keyA)).text);
    await fetch(`${run.gw.url}/healthz`);
    await fetch(`${run.gw.url}/stats`, { headers: { authorization: `Bearer ${keyA}` } });
    const after = parseExposition((await scrape(run.gw, keyA)).text);
    assert.deepEqual(after.all('busbar_requests_total'), before.all('busbar_requests_total'));
  });
});

describe('/metrics with workers: 2 shows the whole node', () => {
  let run: Run;
  let keyA: string;
  before(async () => {
    run = await startAndRun(2);
    keyA = (await mintKey(run.gw.url)).secret;
  });
  after(() => run?.stop());

  it('the same workload leaves the same counters, whichever worker is scraped', async () => {
    assert.deepEqual(run.statuses, EXPECTED_STATUSES);
    // Settlements reach the primary's arbiter just after each answer.
    await new Promise((r) => setTimeout(r, 200));
    for (let i = 0; i < 4; i++) {
      const r = await scrape(run.gw, keyA);
      assert.equal(r.status, 200);
      checkCounters(parseExposition(r.text), run.keys);
    }
  });
});
