// A client that stops reading holds the upstream back instead of filling the gateway's memory
// (streams piped with backpressure), on a same-protocol relay and on a translated stream; once
// the client reads again the whole answer arrives intact.

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { type Gateway, gatewayInFrontOf } from '../support/gateway-process.ts';

const MiB = 1024 * 1024;
/** What the upstream offers: far more than the socket buffers between it and the client can hold. */
const TOTAL = 96 * MiB;
const PIECE = 'x'.repeat(64 * 1024);
/** With backpressure, kernel and stream buffers on two loopback hops stay well under this. */
const HELD_BACK = 48 * MiB;

/** An OpenAI-shaped upstream streaming TOTAL bytes of content as fast as its socket takes them. */
function floodingUpstream(): { server: http.Server; sent: () => number } {
  let sent = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const frame = (delta: object, finish: string | null): string =>
      `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    let content = 0;
    const pump = (): void => {
      while (content < TOTAL) {
        const chunk = frame({ content: PIECE }, null);
        content += PIECE.length;
        sent += chunk.length;
        if (!res.write(chunk)) {
          res.once('drain', pump);
          return;
        }
      }
      res.end(`${frame({}, 'stop')}data: [DONE]\n\n`);
    };
    pump();
  });
  return { server, sent: () => sent };
}

interface Paused {
  readonly status: number;
  /** Resumes reading and resolves with the whole body. */
  readAll(): Promise<string>;
}

/** Sends the request, takes the response head, and reads nothing further until asked. */
function requestPaused(url: string, path: string, headers: Record<string, string>, body: string) {
  return new Promise<Paused>((resolve, reject) => {
    const req = http.request(`${url}${path}`, { method: 'POST', headers }, (res) => {
      res.pause();
      resolve({
        status: res.statusCode ?? 0,
        readAll: () =>
          new Promise((done, fail) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => done(Buffer.concat(chunks).toString()));
            res.on('error', fail);
            res.resume();
          }),
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('backpressure from a slow client', () => {
  const upstream = floodingUpstream();
  let gw: Gateway;
  before(async () => {
    gw = await gatewayInFrontOf(upstream.server, { token: 'bp-token', models: { 'flood-model': 4 } });
  });
  after(async () => {
    await gw?.stop();
    upstream.server.close();
  });

  async function heldBack(path: string, headers: Record<string, string>, body: string): Promise<string> {
    const before = upstream.sent();
    const res = await requestPaused(gw.url, path, headers, body);
    assert.equal(res.status, 200);
    await sleep(1500);
    const whilePaused = upstream.sent() - before;
    assert.ok(
      whilePaused < HELD_BACK,
      `upstream sent ${(whilePaused / MiB).toFixed(1)} MiB to a client reading nothing`,
    );
    return res.readAll();
  }

  it('same protocol: the relay pauses the upstream, then delivers every byte', async () => {
    const text = await heldBack(
      '/v1/chat/completions',
      { authorization: 'Bearer bp-token', 'content-type': 'application/json' },
      JSON.stringify({ model: 'flood-model', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    );
    let content = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith('data: {')) continue;
      content += (JSON.parse(line.slice(6)).choices[0].delta.content ?? '').length;
    }
    assert.equal(content, TOTAL);
    assert.ok(text.endsWith('data: [DONE]\n\n'));
  });

  it('translated (OpenAI upstream → Anthropic client): the translator pauses the upstream too', async () => {
    const text = await heldBack(
      '/v1/messages',
      { 'x-api-key': 'bp-token', 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      JSON.stringify({
        model: 'flood-model',
        max_tokens: 16,
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    );
    let content = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith('data: {')) continue;
      const event = JSON.parse(line.slice(6)) as { type: string; delta?: { text?: string } };
      if (event.type === 'content_block_delta') content += event.delta?.text?.length ?? 0;
    }
    assert.equal(content, TOTAL);
    assert.match(text, /event: message_stop/);
  });
});
