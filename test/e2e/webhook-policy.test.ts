// The webhook routing policy (issue 13, G-POL-10…13) against an operator's hook over HTTP and over
// a Unix socket: its order is followed, what it is sent (signals, no prompt unless asked), each
// failure (timeout, 5xx, oversize, malformed) taking the pool's on_error, and a reject reaching the
// client in each of the six protocols' own error shapes.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { PROTOCOLS } from '../../src/protocols/names.ts';
import { type Gateway, startGateway } from '../support/gateway-process.ts';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.ts';
import { assertNativeError } from '../support/native-errors.ts';
import { parseExposition } from '../support/prometheus.ts';
import { postRaw, rawRequest } from '../support/raw-requests.ts';
import { routedCompletion } from '../support/routed-completion.ts';
import {
  LANE_LIST,
  sixProvidersCatalog,
  sixProvidersConfig,
  sixProvidersEnv,
} from '../support/six-providers.ts';

const TOKEN = 'test-token';

/** What the hook does with the next decisions. */
type Behaviour = (req: Record<string, unknown>) => {
  status?: number;
  body: string;
  delayMs?: number;
};

class Hook {
  readonly seen: Record<string, unknown>[] = [];
  behave: Behaviour = () => ({ body: '{}' });
  readonly #server: Server;

  constructor() {
    this.#server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const json = JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>;
        this.seen.push(json);
        const { status = 200, body, delayMs = 0 } = this.behave(json);
        setTimeout(() => {
          if (!res.destroyed) res.writeHead(status, { 'content-type': 'application/json' }).end(body);
        }, delayMs);
      });
    });
  }

  listen(where: number | string): Promise<void> {
    return new Promise((r) =>
      typeof where === 'string' ? this.#server.listen(where, r) : this.#server.listen(where, '127.0.0.1', r),
    );
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((r) => this.#server.close(() => r()));
  }
}

/** Webhook pools over the OpenAI and Anthropic lanes, added to the six-provider deployment. */
function deployment(hookUrl: string, socketPath: string): string {
  const members =
    '[{target: gpt-4o-mini, tier: small, cost_per_mtok: 0.6}, {target: claude-sonnet-4-5, tier: large}]';
  const pool = (name: string, policy: string) =>
    `  ${name}:\n    route: webhook\n    policy: {${policy}}\n    members: ${members}\n`;
  return `${[
    pool('hooked', `url: "${hookUrl}", timeout_ms: 200`),
    pool('hooked-first', `url: "${hookUrl}", timeout_ms: 200, on_error: first`),
    pool('hooked-reject', `url: "${hookUrl}", timeout_ms: 200, on_error: reject`),
    pool('hooked-prompt', `url: "${hookUrl}", send_prompt: true`),
    pool('hooked-unix', `url: "unix:${socketPath}"`),
  ].join('')}`;
}

describe('webhook routing policy', () => {
  let mock: MockUpstream;
  let hook: Hook;
  let unixHook: Hook;
  let dir: string;
  let gw: Gateway;
  let openai: OpenAI;

  before(async () => {
    mock = await startMockUpstream();
    hook = new Hook();
    await hook.listen(0);
    dir = mkdtempSync(path.join(tmpdir(), 'busbar-hook-'));
    const socketPath = path.join(dir, 'ranker.sock');
    unixHook = new Hook();
    await unixHook.listen(socketPath);
    gw = await startGateway({
      configYaml: sixProvidersConfig(deployment(`http://127.0.0.1:${hook.port}/rank`, socketPath)),
      providersYaml: sixProvidersCatalog(mock.url),
      env: sixProvidersEnv(),
    });
    openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: TOKEN, maxRetries: 0 });
  });
  after(async () => {
    await gw?.stop();
    await hook?.close();
    await unixHook?.close();
    await mock?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** One completion through the OpenAI SDK: the upstream that answered, and the route headers. */
  const ask = (model: string, content = 'hello there') => routedCompletion(openai, model, content, 99);

  /** The lane index the hook was told for `model`. */
  const idxOf = (seen: Record<string, unknown>, model: string): number =>
    (seen.candidates as { idx: number; model: string }[]).find((c) => c.model === model)!.idx;

  it("follows the hook's order and sends it signals, not the prompt", async () => {
    hook.behave = (req) => ({ body: JSON.stringify({ order: [idxOf(req, 'claude-sonnet-4-5')] }) });
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(await ask('hooked'), {
        served: 'claude-sonnet-4-5',
        policy: 'webhook',
        target: 'claude-sonnet-4-5',
      });
    }
    const seen = hook.seen.at(-1)!;
    assert.deepEqual(seen.request, {
      pool: 'hooked',
      ingress_protocol: 'openai',
      message_count: 1,
      has_tools: false,
      total_chars: 'hello there'.length,
      max_tokens: 99,
      stream: false,
    });
    assert.deepEqual(seen.context, { pool: 'hooked', budget_remaining: null });
    const [small, large] = seen.candidates as Record<string, unknown>[];
    assert.deepEqual(Object.keys(small!).sort(), [
      'available_concurrency',
      'budget_remaining',
      'cost_per_mtok',
      'idx',
      'latency_ms',
      'model',
      'rate_headroom',
      'tier',
    ]);
    assert.equal(small!.model, 'gpt-4o-mini');
    assert.equal(small!.tier, 'small');
    assert.equal(small!.cost_per_mtok, 0.6);
    assert.equal(large!.cost_per_mtok, null);
    assert.equal(typeof large!.latency_ms, 'number', 'claude answered: its latency is known');
    assert.equal(large!.rate_headroom, null);
    assert.ok(!JSON.stringify(seen).includes('hello there'), 'no prompt text without send_prompt');
  });

  it('reads a large body for the hook on the worker thread, with the same figures', async () => {
    hook.behave = () => ({ body: '{"abstain": true}' });
    const big = 'é'.repeat(1_500_000); // 3 MB of UTF-8, 1.5 million characters
    await ask('hooked', big);
    const request = hook.seen.at(-1)!.request as { total_chars: number; message_count: number };
    assert.equal(request.total_chars, 1_500_000);
    assert.equal(request.message_count, 1);
  });

  it('sends the prompt text only when send_prompt is on', async () => {
    hook.behave = () => ({ body: '{"abstain": true}' });
    await ask('hooked-prompt', 'the secret plan');
    assert.equal((hook.seen.at(-1)!.request as { prompt?: string }).prompt, 'the secret plan');
  });

  it('abstains (round-robin, no headers) on abstain, an empty order, or only unknown indices', async () => {
    for (const body of ['{"abstain": true, "order": [0]}', '{"order": []}', '{}', '{"order": [999]}']) {
      hook.behave = () => ({ body });
      const r = await ask('hooked');
      assert.equal(r.policy, null, body);
      assert.equal(r.target, null, body);
    }
  });

  const failures: [string, Behaviour][] = [
    ['a timeout', () => ({ body: '{"order": [0]}', delayMs: 400 })],
    ['a 5xx', () => ({ status: 500, body: '{"order": [0]}' })],
    ['an oversize reply', () => ({ body: JSON.stringify({ order: [0], pad: 'x'.repeat(70 * 1024) }) })],
    ['a reply that is not JSON', () => ({ body: 'rank: claude' })],
    ['an order that is not integers', () => ({ body: '{"order": ["claude"]}' })],
  ];
  for (const [what, behave] of failures) {
    it(`${what} takes on_error: weighted, first or reject`, async () => {
      hook.behave = behave;
      const weighted = await ask('hooked');
      assert.equal(weighted.policy, null, 'weighted: round-robin, no headers');
      // first: the candidates in member order, as if the policy had chosen them.
      assert.deepEqual(await ask('hooked-first'), {
        served: 'gpt-4o-mini',
        policy: 'webhook',
        target: 'gpt-4o-mini',
      });
      const before = mock.requests.length;
      const err = await openai.chat.completions
        .create({ model: 'hooked-reject', messages: [{ role: 'user', content: 'hi' }] })
        .catch((e: unknown) => e);
      assert.ok(err instanceof OpenAI.APIError, String(err));
      assert.equal(err.status, 503);
      assert.match(err.message, /The routing policy could not select an upstream/);
      assert.equal(err.headers?.get('retry-after') ?? null, null, 'no Retry-After');
      assert.equal(mock.requests.length, before, 'no upstream call');
    });
  }

  it("a hook's reject reaches the client in each protocol's own error shape", async () => {
    hook.behave = () => ({ body: '{"reject": {"status": 403, "message": "EU data stays in the EU"}}' });
    for (const protocol of PROTOCOLS) {
      const { path: route, body } = rawRequest(protocol, 'hooked', false);
      const res = await postRaw(`${gw.url}${route}`, body, { authorization: `Bearer ${TOKEN}` });
      assert.equal(res.status, 403, `${protocol}: ${res.body}`);
      assert.equal(assertNativeError(protocol, res, 'permission_error'), 'EU data stays in the EU', protocol);
      assert.equal(res.headers.get('x-busbar-route-policy'), null);
    }
    assert.ok(LANE_LIST.length === PROTOCOLS.length);
  });

  it('busbar_route_decisions_total counts each decision by outcome (G-OBS-22)', async () => {
    const r = await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const m = parseExposition(await r.text());
    const count = (pool: string, outcome: string) =>
      m.get('busbar_route_decisions_total', { pool, policy: 'webhook', outcome });
    // hooked-reject saw one decision per failure test: the timeout, then four errors.
    assert.equal(count('hooked-reject', 'timeout'), 1);
    assert.equal(count('hooked-reject', 'error'), 4);
    assert.equal(count('hooked', 'reject'), 6, "the hook's own reject, once per protocol");
    assert.equal(count('hooked', 'prefer'), 3);
    assert.ok((count('hooked', 'abstain') ?? 0) >= 5);
  });

  it('asks a hook on a Unix socket', async () => {
    unixHook.behave = (req) => ({ body: JSON.stringify({ order: [idxOf(req, 'gpt-4o-mini')] }) });
    assert.deepEqual(await ask('hooked-unix'), {
      served: 'gpt-4o-mini',
      policy: 'webhook',
      target: 'gpt-4o-mini',
    });
    assert.equal(unixHook.seen.length, 1);
  });
});
