// Issue 14, items 4 and 5: `attempt_timeout_ms` (per model and per pool) and the `limits:` keys for
// numbers that used to be fixed — each key shown by its effect through the HTTP surface.

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { type Gateway, startGateway } from '../support/gateway-process.ts';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.ts';
import { parseExposition } from '../support/prometheus.ts';
import { makePki } from '../support/test-pki.ts';

const TOKEN = 'limits-token';
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

/** A TCP server that accepts connections and never says a word. */
async function silentServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function gateway(
  providers: Record<string, { protocol: string; url: string }>,
  body: string[],
): Promise<Gateway> {
  return startGateway({
    providersYaml: Object.entries(providers)
      .map(([name, p]) => `${name}:\n  protocol: ${p.protocol}\n  base_url: ${p.url}\n`)
      .join(''),
    configYaml: [
      'listen: 127.0.0.1:0',
      `auth:\n  mode: token\n  client_tokens: [${TOKEN}]`,
      'providers:',
      ...Object.keys(providers).map((name) => `  ${name}: {api_key_env: LIMITS_KEY}`),
      ...body,
    ].join('\n'),
    env: { LIMITS_KEY: 'sk-limits' },
  });
}

function chat(gw: Gateway, model: string, extra: Record<string, unknown> = {}): Promise<Response> {
  return fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], ...extra }),
  });
}

describe('attempt_timeout_ms', () => {
  let silent: Awaited<ReturnType<typeof silentServer>>;
  let mock: MockUpstream;
  let gw: Gateway;
  before(async () => {
    silent = await silentServer();
    mock = await startMockUpstream();
    gw = await gateway(
      {
        hung: { protocol: 'openai', url: `http://127.0.0.1:${silent.port}` },
        good: { protocol: 'openai', url: mock.url },
      },
      [
        'models:',
        '  stuck: {provider: hung, max_concurrent: 8, attempt_timeout_ms: 500}',
        '  stuck-long: {provider: hung, max_concurrent: 8, attempt_timeout_ms: 30000}',
        '  fine: {provider: good, max_concurrent: 8, attempt_timeout_ms: 500}',
        'pools:',
        '  p:\n    members:\n      - {target: stuck, weight: 100}\n      - {target: fine, weight: 1}',
        '  q:\n    members:\n      - {target: stuck-long, weight: 100}\n      - {target: fine, weight: 1}\n    failover: {attempt_timeout_ms: 300}',
      ],
    );
  });
  after(async () => {
    await gw?.stop();
    await mock?.close();
    await silent?.close();
  });

  it('an upstream that accepts and never answers fails over after 0.5 s', async () => {
    const t0 = Date.now();
    const r = await chat(gw, 'p');
    const elapsed = Date.now() - t0;
    assert.equal(r.status, 200);
    assert.equal(
      ((await r.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content,
      'Hello from openai mock',
    );
    assert.ok(elapsed >= 450 && elapsed < 2000, `answered after ${elapsed} ms`);
    // Counted as the transport timeout it is: a failover by reason timeout, a failure on the lane.
    const metrics = parseExposition(await (await fetch(`${gw.url}/metrics`, { headers: auth })).text());
    assert.equal(metrics.get('busbar_failovers_total', { pool: 'p', reason: 'timeout' }), 1);
    assert.equal(
      metrics.get('busbar_upstream_failures_total', {
        pool: 'p',
        lane: 'stuck',
        disposition: 'transient_upstream',
      }),
      1,
    );
  });

  it("a pool's value overrides its members' models", async () => {
    const t0 = Date.now();
    const r = await chat(gw, 'q');
    const elapsed = Date.now() - t0;
    assert.equal(r.status, 200);
    await r.arrayBuffer();
    assert.ok(elapsed >= 250 && elapsed < 1500, `answered after ${elapsed} ms`);
  });

  it('a stream that started is never cut: 10 s of slow chunks arrive whole', async () => {
    // The mock sends 16 characters a chunk, a second apart: about 10 s in all.
    const text =
      'one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty-one';
    mock.enqueue({ text, chunkDelayMs: 1000 });
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: TOKEN, maxRetries: 0 });
    const t0 = Date.now();
    let got = '';
    for await (const chunk of await client.chat.completions.create({
      model: 'fine',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    }))
      got += chunk.choices[0]?.delta.content ?? '';
    assert.equal(got, text);
    assert.ok(Date.now() - t0 > 9000, `the stream took ${Date.now() - t0} ms`);
  });
});

describe('limits: request_deadline_secs', () => {
  let silent: Awaited<ReturnType<typeof silentServer>>;
  let gw: Gateway;
  before(async () => {
    silent = await silentServer();
    gw = await gateway({ hung: { protocol: 'openai', url: `http://127.0.0.1:${silent.port}` } }, [
      'models:',
      '  stuck: {provider: hung, max_concurrent: 8}',
      'pools:',
      '  plain: {members: [{target: stuck}]}',
      '  own: {members: [{target: stuck}], failover: {deadline_secs: 3}}',
      'limits:',
      '  request_deadline_secs: 1',
    ]);
  });
  after(async () => {
    await gw?.stop();
    await silent?.close();
  });

  it("bounds model routes and pools without their own deadline_secs; a pool's own wins", async () => {
    const timed = async (name: string): Promise<{ status: number; ms: number; message: string }> => {
      const t0 = Date.now();
      const r = await chat(gw, name);
      const { error } = (await r.json()) as { error: { message: string } };
      return { status: r.status, ms: Date.now() - t0, message: error.message };
    };
    const [model, plain, own] = await Promise.all([timed('stuck'), timed('plain'), timed('own')]);
    for (const [what, x, lo, hi] of [
      ['model route', model, 900, 2500],
      ['pool without deadline_secs', plain, 900, 2500],
      ['pool with deadline_secs: 3', own, 2900, 4500],
    ] as const) {
      assert.equal(x.status, 503, what);
      assert.match(x.message, /timed out/, what);
      assert.ok(x.ms >= lo && x.ms < hi, `${what}: answered after ${x.ms} ms`);
    }
  });
});

describe('limits: max_inbound_concurrent', () => {
  let mock: MockUpstream;
  let gw: Gateway;
  before(async () => {
    mock = await startMockUpstream();
    gw = await gateway({ up: { protocol: 'openai', url: mock.url } }, [
      'models:',
      '  m: {provider: up, max_concurrent: 64}',
      'limits:',
      '  max_inbound_concurrent: 10',
    ]);
  });
  after(async () => {
    await gw?.stop();
    await mock?.close();
  });

  it('50 concurrent clients: 10 served, 40 shed at once with native 503s and Retry-After', async () => {
    mock.enqueue(...Array.from({ length: 50 }, () => ({ delayMs: 600 })));
    const t0 = Date.now();
    const openai = (i: number) =>
      chat(gw, 'm', { user: `u${i}` }).then(async (r) => ({
        r,
        at: Date.now() - t0,
        body: await r.text(),
        shape: 'openai',
      }));
    const anthropic = () =>
      fetch(`${gw.url}/v1/messages`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
      }).then(async (r) => ({ r, at: Date.now() - t0, body: await r.text(), shape: 'anthropic' }));
    const all = await Promise.all(
      Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? openai(i) : anthropic())),
    );
    const served = all.filter((x) => x.r.status === 200);
    const shed = all.filter((x) => x.r.status === 503);
    assert.equal(served.length, 10);
    assert.equal(shed.length, 40);
    // Shed at once: every refusal is out before the first served answer (the upstream takes 600 ms).
    const firstServed = Math.min(...served.map((x) => x.at));
    for (const x of shed) {
      assert.equal(x.r.headers.get('retry-after'), '1');
      assert.ok(x.at < firstServed, `shed after ${x.at} ms, not queued (first served at ${firstServed} ms)`);
      // Each client's own error envelope.
      const body = JSON.parse(x.body) as { type?: string; error: { type: string; message: string } };
      if (x.shape === 'anthropic')
        assert.deepEqual([body.type, body.error.type], ['error', 'overloaded_error']);
      else assert.equal(body.type, undefined);
      assert.match(body.error.message, /overloaded/);
    }
    for (const x of served) assert.ok(x.at >= 550, 'served after the upstream answered');
    // Every slot came back: the next requests are served.
    assert.equal((await chat(gw, 'm')).status, 200);
  });
});

describe('limits: bodies, errors, tokens, Retry-After and upstream sockets', () => {
  let mock: MockUpstream;
  let counted: Server;
  let connections = 0;
  let gw: Gateway;
  before(async () => {
    mock = await startMockUpstream();
    // An OpenAI-shaped upstream that counts its TCP connections and answers after 200 ms.
    counted = createServer((req, res) => {
      req.resume();
      req.on('end', () =>
        setTimeout(() => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              id: 'x',
              object: 'chat.completion',
              created: 1,
              model: 'c',
              choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
              usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
            }),
          );
        }, 200),
      );
    });
    counted.on('connection', () => connections++);
    await new Promise<void>((r) => counted.listen(0, '127.0.0.1', r));
    const countedUrl = `http://127.0.0.1:${(counted.address() as net.AddressInfo).port}`;
    gw = await gateway(
      {
        up: { protocol: 'openai', url: mock.url },
        claude: { protocol: 'anthropic', url: mock.url },
        counted: { protocol: 'openai', url: countedUrl },
      },
      [
        'models:',
        '  m: {provider: up, max_concurrent: 8}',
        '  c: {provider: claude, max_concurrent: 8}',
        '  c-own: {provider: claude, max_concurrent: 8, default_max_tokens: 55}',
        '  k: {provider: counted, max_concurrent: 8}',
        '  k2: {provider: up, max_concurrent: 8}',
        'limits:',
        '  max_request_body_bytes: 2000',
        '  max_error_body_bytes: 100',
        '  default_max_tokens: 77',
        '  max_retry_after_secs: 5',
        '  upstream_connections_per_host: 1',
        '  upstream_idle_secs: 1',
        '  upstream_timeout_secs: 1',
      ],
    );
  });
  after(async () => {
    await gw?.stop();
    await mock?.close();
    await new Promise<void>((r) => counted.close(() => r()));
  });

  it('max_request_body_bytes: a larger body gets the native 413', async () => {
    const r = await chat(gw, 'm', { padding: 'x'.repeat(3000) });
    assert.equal(r.status, 413);
    assert.equal(((await r.json()) as { error: { type: string } }).error.type, 'invalid_request_error');
    assert.equal((await chat(gw, 'm', { padding: 'x'.repeat(1000) })).status, 200);
  });

  it('max_error_body_bytes: an upstream error body past the cap is not relayed as it is', async () => {
    mock.enqueue({ status: 400, message: 'small' });
    const small = await chat(gw, 'm');
    assert.equal(
      await small.text(),
      mock.last()!.response!.body.toString(),
      'a small one is relayed byte for byte',
    );
    mock.enqueue({ status: 400, message: 'x'.repeat(500) });
    const large = await chat(gw, 'm');
    assert.equal(large.status, 400);
    assert.notEqual(await large.text(), mock.last()!.response!.body.toString());
  });

  it("default_max_tokens: injected where the upstream requires max_tokens; a model's own wins", async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: TOKEN, maxRetries: 0 });
    await client.chat.completions.create({ model: 'c', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal((mock.last()!.json() as { max_tokens: number }).max_tokens, 77);
    await client.chat.completions.create({ model: 'c-own', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal((mock.last()!.json() as { max_tokens: number }).max_tokens, 55);
  });

  it("max_retry_after_secs: an upstream's Retry-After is honoured up to the ceiling", async () => {
    mock.enqueue({ status: 429, headers: { 'retry-after': '3600' } });
    const r = await chat(gw, 'm');
    await r.arrayBuffer();
    // The lane cools down, so the client gets the exhausted 503 and its Retry-After from that cooldown.
    assert.equal(r.status, 503);
    const retryAfter = Number(r.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}, not the upstream's 3600`);
    const stats = (await (await fetch(`${gw.url}/stats`, { headers: auth })).json()) as {
      lanes: { model: string; cooldown_remaining_s: number }[];
    };
    // The breaker's own backoff still applies; an hour-long Retry-After does not.
    const cooldown = stats.lanes.find((l) => l.model === 'm')!.cooldown_remaining_s;
    assert.ok(cooldown > 0 && cooldown <= 60, `cooldown ${cooldown} s, not the upstream's 3600`);
    // An upstream error relayed as it is (the caller's fault) carries the Retry-After lowered too.
    mock.enqueue({ status: 400, headers: { 'retry-after': '3600' }, message: 'wait' });
    const relayed = await chat(gw, 'k2');
    assert.equal(relayed.status, 400);
    assert.equal(relayed.headers.get('retry-after'), '5');
    assert.equal(await relayed.text(), mock.last()!.response!.body.toString(), 'the body byte for byte');
  });

  it('upstream_connections_per_host and upstream_idle_secs: one socket per host, closed when idle', async () => {
    connections = 0;
    const t0 = Date.now();
    const three = await Promise.all([chat(gw, 'k'), chat(gw, 'k'), chat(gw, 'k')]);
    for (const r of three) assert.equal(r.status, 200);
    assert.ok(Date.now() - t0 >= 580, 'the three waited for the one socket');
    assert.equal(connections, 1);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await chat(gw, 'k')).status, 200);
    assert.equal(connections, 2, 'the idle socket was closed after 1 s');
  });

  it('upstream_timeout_secs: a stream still running after it is ended as interrupted', async () => {
    mock.enqueue({ text: 'a b c d e f g h i j k l m n o p q r s t u v w x y z', chunkDelayMs: 400 });
    const client = new Anthropic({ baseURL: gw.url, apiKey: TOKEN, maxRetries: 0 });
    const t0 = Date.now();
    await assert.rejects(async () => {
      for await (const _ of await client.messages.create({
        model: 'c',
        max_tokens: 50,
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      }));
    });
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 900 && elapsed < 2500, `ended after ${elapsed} ms`);
  });
});

describe('limits: tls_handshake_timeout_secs', () => {
  let mock: MockUpstream;
  let gw: Gateway;
  before(async () => {
    const pki = makePki();
    mock = await startMockUpstream();
    gw = await gateway({ up: { protocol: 'openai', url: mock.url } }, [
      'models:',
      '  m: {provider: up, max_concurrent: 8}',
      'tls:',
      `  cert_file: ${pki.file('server.pem')}`,
      `  key_file: ${pki.file('server.key')}`,
      'limits:',
      '  header_timeout_secs: 10',
      '  tls_handshake_timeout_secs: 1',
    ]);
  });
  after(async () => {
    await gw?.stop();
    await mock?.close();
  });

  it('a handshake that starts and stalls is closed after 1 s, not the 10 s header timeout', async () => {
    const { port } = new URL(gw.url);
    const seconds = await new Promise<number>((resolve, reject) => {
      const t0 = Date.now();
      const socket = net.connect(Number(port), '127.0.0.1', () =>
        socket.write(Buffer.from([0x16, 0x03, 0x01])),
      );
      socket.on('error', () => {});
      socket.on('close', () => resolve((Date.now() - t0) / 1000));
      setTimeout(() => {
        socket.destroy();
        reject(new Error('still open after 6 s'));
      }, 6000).unref();
    });
    assert.ok(seconds >= 0.9 && seconds < 3, `closed after ${seconds} s`);
  });
});
