// The request log to a file and the response headers (issue 12, G-OBS-40…42, G-OBS-52): one JSON
// line per answered request with what operators ask for — request id, key, pool, lane, protocols,
// status, disposition, tokens, cost, time to first byte and total — and never any text; with
// `response_headers: true`, `x-request-id` and `Server-Timing` on every inference answer.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Gateway, startGateway } from '../support/gateway-process.ts';
import { governanceYaml, mintKey, tempDbPath } from '../support/governance.ts';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.ts';
import { logRecords } from '../support/request-log-file.ts';
import { LANES, sixProvidersCatalog, sixProvidersConfig, sixProvidersEnv } from '../support/six-providers.ts';

const PRICES = `price_per_request_cents: 2
model_prices:
  ${LANES.openai.model}:
    input_per_1k_tokens_cents: 1000
    output_per_1k_tokens_cents: 2000`;

let mock: MockUpstream;
let gw: Gateway;
let logFile: string;
let key: { id: string; secret: string };

before(async () => {
  mock = await startMockUpstream();
  const db = tempDbPath();
  logFile = path.join(path.dirname(db), 'requests.jsonl');
  gw = await startGateway({
    configYaml: sixProvidersConfig(
      `observability:\n  request_log_file: ${logFile}\n  response_headers: true\n${governanceYaml(db, PRICES)}`,
    ),
    providersYaml: sixProvidersCatalog(mock.url),
    env: sixProvidersEnv(),
  });
  key = await mintKey(gw.url);
});
after(async () => {
  await gw?.stop();
  await mock?.close();
});

async function chat(model: string, headers: Record<string, string> = {}, stream = false): Promise<Response> {
  const r = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key.secret}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'the secret prompt text' }] }),
  });
  await r.arrayBuffer();
  return r;
}

/** The log's records once it holds `count` of them. */
const records = (count: number) => logRecords(logFile, count);

const SERVER_TIMING = /^upstream;dur=(\d+\.\d{3}), gateway;dur=(\d+\.\d{3})$/;

describe('response headers (observability.response_headers: true)', () => {
  it('x-request-id: the client’s safe id is echoed, an unsafe or missing one replaced by a UUID', async () => {
    assert.equal(
      (await chat(LANES.openai.pool, { 'x-request-id': 'trace-42' })).headers.get('x-request-id'),
      'trace-42',
    );
    const minted = (await chat(LANES.openai.pool)).headers.get('x-request-id') ?? '';
    assert.match(minted, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const unsafe = (await chat(LANES.openai.pool, { 'x-request-id': 'a b"c' })).headers.get('x-request-id');
    assert.match(unsafe ?? '', /^[0-9a-f-]{36}$/);
  });

  it('Server-Timing splits the upstream’s time from the gateway’s, on answers and on refusals', async () => {
    mock.enqueue({ delayMs: 150 });
    const slow = await chat(LANES.openai.pool);
    const [, upstream, gateway] = SERVER_TIMING.exec(slow.headers.get('server-timing') ?? '') ?? [];
    assert.ok(Number(upstream) >= 150, `upstream ${upstream} ms covers the mock's 150 ms`);
    assert.ok(Number(gateway) < Number(upstream), `gateway ${gateway} ms is the smaller part`);
    const missing = await chat('no-such-model');
    assert.equal(missing.status, 404);
    const [, none] = SERVER_TIMING.exec(missing.headers.get('server-timing') ?? '') ?? [];
    assert.equal(none, '0.000');
    assert.match(missing.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  it('the gateway’s own endpoints carry neither header', async () => {
    const r = await fetch(`${gw.url}/healthz`);
    assert.equal(r.headers.get('x-request-id'), null);
    assert.equal(r.headers.get('server-timing'), null);
  });
});

describe('the request log file', () => {
  it('one record per answered request, with ids, labels, tokens, cost and timings, never text', async () => {
    const before = (await records(0)).length;
    const ok = await chat(LANES.openai.pool, { 'x-request-id': 'rl-ok' });
    assert.equal(ok.status, 200);
    mock.enqueue({ chunkDelayMs: 30 });
    await chat(LANES.anthropic.pool, { 'x-request-id': 'rl-stream' }, true);
    await chat('no-such-model', { 'x-request-id': 'rl-missing' });
    // Refused credentials are not answered requests: no record (as for busbar_requests_total).
    await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        authorization: 'Bearer sk-wrong',
        'content-type': 'application/json',
        'x-request-id': 'rl-refused',
      },
      body: JSON.stringify({ model: LANES.openai.pool, messages: [] }),
    }).then((r) => r.arrayBuffer());
    const all = (await records(before + 3)).slice(before);
    assert.deepEqual(
      all.map((r) => r.request_id),
      ['rl-ok', 'rl-stream', 'rl-missing'],
    );
    const [first, streamed, missing] = all as [
      Record<string, unknown>,
      Record<string, unknown>,
      Record<string, unknown>,
    ];
    const { ts, ttfb_ms, latency_ms, ...rest } = first;
    assert.ok(Math.abs((ts as number) - Date.now() / 1000) < 30);
    assert.ok(
      Number.isInteger(ttfb_ms) &&
        Number.isInteger(latency_ms) &&
        (ttfb_ms as number) <= (latency_ms as number),
    );
    // 2 cents flat + floor((11 × 1000 + 7 × 2000) / 1000) = 2 + 25.
    assert.deepEqual(rest, {
      request_id: 'rl-ok',
      key_id: key.id,
      ingress_protocol: 'openai',
      egress_protocol: 'openai',
      pool: LANES.openai.pool,
      lane: LANES.openai.model,
      outcome: 'ok',
      disposition: 'delivered',
      status: 200,
      attempts: 1,
      input_tokens: 11,
      output_tokens: 7,
      cost_cents: 27,
    });
    assert.equal(streamed.egress_protocol, 'anthropic');
    assert.equal(streamed.pool, LANES.anthropic.pool);
    assert.equal(streamed.cost_cents, 2);
    assert.ok((streamed.latency_ms as number) - (streamed.ttfb_ms as number) >= 20, JSON.stringify(streamed));
    assert.deepEqual(
      { ...missing, ts: 0, ttfb_ms: 0, latency_ms: 0 },
      {
        ts: 0,
        request_id: 'rl-missing',
        key_id: key.id,
        ingress_protocol: 'openai',
        egress_protocol: null,
        pool: 'unresolved',
        lane: null,
        outcome: 'client_error',
        disposition: 'unknown_model',
        status: 404,
        attempts: 0,
        input_tokens: null,
        output_tokens: null,
        cost_cents: 0,
        ttfb_ms: 0,
        latency_ms: 0,
      },
    );
    const text = readFileSync(logFile, 'utf8');
    for (const secret of ['the secret prompt text', 'Hello from', key.secret, 'sk-wrong'])
      assert.ok(!text.includes(secret), `the log holds no ${secret}`);
  });
});
