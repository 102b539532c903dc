// A client that goes away mid-request: the upstream exchange is dropped (its connection closes),
// the lane's permit comes back, no failure is recorded against the upstream, and the gateway
// keeps serving. Covered while waiting for the head, during a relayed stream and during a
// translated stream.

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { type Gateway, gatewayInFrontOf } from '../support/gateway-process.ts';

const TOKEN = 'abort-token';

/** An OpenAI-shaped upstream: `hold` never answers; streams never end on their own; else JSON. */
function upstreamServer() {
  let closedEarly = 0;
  let received = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received++;
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { model: string; stream?: boolean };
      res.on('close', () => {
        if (!res.writableFinished) closedEarly++;
      });
      if (body.model === 'hold') return; // never answers
      if (body.stream === true) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const tick = (): void => {
          if (res.destroyed) return;
          res.write(
            `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: body.model, choices: [{ index: 0, delta: { content: 'tick ' }, finish_reason: null }] })}\n\n`,
          );
          setTimeout(tick, 20);
        };
        tick();
        return;
      }
      const answer = JSON.stringify({
        id: 'c2',
        object: 'chat.completion',
        created: 1,
        model: body.model,
        choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
      res.end(answer);
    });
  });
  return { server, closedEarly: () => closedEarly, received: () => received };
}

/**
 * Sends a request and destroys the connection at its first answer bytes, or once `reached` says
 * the upstream has the request (a fixed delay raced the gateway on a loaded machine: the client
 * could leave before anything was sent upstream).
 */
function leave(
  url: string,
  path: string,
  headers: Record<string, string>,
  body: string,
  when: { firstBytes: true } | { reached: () => boolean },
): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}${path}`, { method: 'POST', headers }, (res) => {
      res.once('data', () => {
        if ('firstBytes' in when) req.destroy();
      });
    });
    req.on('error', () => {});
    req.on('close', () => resolve());
    req.end(body);
    if ('reached' in when) {
      const poll = setInterval(() => {
        if (!when.reached()) return;
        clearInterval(poll);
        req.destroy();
      }, 10);
    }
    setTimeout(() => reject(new Error('the request never closed')), 10_000).unref();
  });
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`timed out waiting for: ${what}`);
}

describe('a client that leaves mid-request', () => {
  const upstream = upstreamServer();
  let gw: Gateway;
  before(async () => {
    gw = await gatewayInFrontOf(upstream.server, { token: TOKEN, models: { live: 1, hold: 1 } });
  });
  after(async () => {
    await gw?.stop();
    upstream.server.closeAllConnections();
    upstream.server.close();
  });

  type LaneStats = { model: string; inflight: number; err: number; streak: number; ok: number };
  async function lane(model: string): Promise<LaneStats> {
    const res = await fetch(`${gw.url}/stats`, { headers: { authorization: `Bearer ${TOKEN}` } });
    return ((await res.json()) as { lanes: LaneStats[] }).lanes.find((l) => l.model === model)!;
  }

  const openai = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  const chat = (model: string, stream: boolean): string =>
    JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'hi' }] });

  /** The upstream saw its request dropped, the permit is back, and no upstream failure was counted. */
  async function leftCleanly(model: string, closedBefore: number): Promise<void> {
    await until(() => upstream.closedEarly() > closedBefore, `upstream sees the ${model} request closed`);
    await until(async () => (await lane(model)).inflight === 0, `${model} permit released`);
    const stats = await lane(model);
    assert.equal(stats.err, 0);
    assert.equal(stats.streak, 0);
  }

  /** With max_concurrent 1, a served follow-up proves the permit came back. */
  async function servedAfterwards(): Promise<void> {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: openai,
      body: chat('live', false),
    });
    assert.equal(res.status, 200);
    assert.equal(
      ((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content,
      'ok',
    );
  }

  it('while the upstream has not answered: the upstream request is dropped, the permit returns', async () => {
    const closed = upstream.closedEarly();
    const received = upstream.received();
    await leave(gw.url, '/v1/chat/completions', openai, chat('hold', false), {
      reached: () => upstream.received() > received,
    });
    await leftCleanly('hold', closed);
  });

  it('during a relayed stream: the upstream stream is cut, nothing is counted as an upstream failure', async () => {
    const closed = upstream.closedEarly();
    await leave(gw.url, '/v1/chat/completions', openai, chat('live', true), { firstBytes: true });
    await leftCleanly('live', closed);
    await servedAfterwards();
  });

  it('during a translated stream (Anthropic client): the same', async () => {
    const closed = upstream.closedEarly();
    await leave(
      gw.url,
      '/v1/messages',
      { 'x-api-key': TOKEN, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      JSON.stringify({
        model: 'live',
        max_tokens: 16,
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      }),
      { firstBytes: true },
    );
    await leftCleanly('live', closed);
    await servedAfterwards();
  });
});
