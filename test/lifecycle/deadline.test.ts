// Request deadlines on the injectable clock (G-FO-1/3, G-POOL-3): a gateway runs in this process
// on a manual clock, and its upstream moves that clock as it answers, so each case is exact and no
// assertion depends on how fast the machine is.

import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../src/reliability/clock.ts';
import { newLaneMemory } from '../../src/routing/table.ts';
import { type RunningGateway, startGateway } from '../../src/server/gateway.ts';
import { loadConfigText } from '../support/load-config.ts';

const AUTH = { authorization: 'Bearer t', 'content-type': 'application/json' };

/** An OpenAI-shaped upstream whose handler is swapped per case. */
let answer: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
let calls = 0;

function chat(model: string, stream = false): string {
  return JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'hi' }] });
}

function failSlowly(clock: ManualClock, ms: number) {
  return (_req: IncomingMessage, res: ServerResponse): void => {
    calls++;
    clock.advanceMs(ms);
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: 'boom', type: 'server_error', code: null } }));
  };
}

describe('deadlines on the injected clock (in process)', () => {
  let upstream: Server;
  let clock: ManualClock;
  let gw: RunningGateway;

  before(async () => {
    upstream = createServer((req, res) => {
      req.resume();
      req.once('end', () => answer(req, res));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const port = (upstream.address() as AddressInfo).port;
    const lanes = ['a', 'b', 'c', 'd'];
    const config = loadConfigText(
      JSON.stringify({
        listen: '127.0.0.1:0',
        auth: { mode: 'token', client_tokens: ['t'] },
        providers: { up: { api_key_env: 'DEADLINE_KEY' } },
        models: {
          ...Object.fromEntries(lanes.map((m) => [m, { provider: 'up', max_concurrent: 4 }])),
          single: { provider: 'up', max_concurrent: 1 },
        },
        pools: {
          four: { members: lanes.map((target) => ({ target })), failover: { deadline_secs: 1, cap: 3 } },
          tight: { members: [{ target: 'single' }], failover: { deadline_secs: 1 } },
        },
      }),
      `up:\n  protocol: openai\n  base_url: http://127.0.0.1:${port}\n`,
      { DEADLINE_KEY: 'k' },
    );
    clock = new ManualClock(3_000_000);
    gw = await startGateway(config, { quiet: true, memory: newLaneMemory(clock, () => 0) });
  });

  after(async () => {
    await gw?.close();
    await new Promise((resolve) => upstream?.close(resolve));
  });

  it('G-FO-1/3 the deadline stops failover: two 700 ms failures use up a 1 s deadline → 503 timed out', async () => {
    calls = 0;
    answer = failSlowly(clock, 700);
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: AUTH,
      body: chat('four'),
    });
    assert.equal(res.status, 503);
    const { error } = (await res.json()) as { error: { type: string; message: string } };
    assert.equal(error.type, 'overloaded_error');
    assert.match(error.message, /timed out/);
    assert.equal(res.headers.get('retry-after'), null, 'a timeout carries no Retry-After');
    assert.equal(calls, 2, 'cap 3 alone would have allowed 4 attempts');
  });

  it('the same failures inside the deadline go on to the cap: 4 attempts, then 503 overloaded', async () => {
    // The first case left soft cooldowns on the lanes it tried: let them pass.
    clock.advance(300);
    calls = 0;
    answer = failSlowly(clock, 100);
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: AUTH,
      body: chat('four'),
    });
    assert.equal(res.status, 503);
    assert.doesNotMatch(((await res.json()) as { error: { message: string } }).error.message, /timed out/);
    assert.equal(calls, 4);
  });

  it('G-POOL-3 a permit wait ends at the deadline with 503, not before', async () => {
    calls = 0;
    let release: () => void = () => {};
    answer = (_req, res) => {
      calls++;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(
        'data: {"id":"x","object":"chat.completion.chunk","created":1,"model":"single","choices":[]}\n\n',
      );
      release = () => res.end('data: [DONE]\n\n');
    };
    const first = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: AUTH,
      body: chat('tight', true),
    });
    assert.equal(first.status, 200, 'the first request holds the only permit');
    let settled = false;
    const second = fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: AUTH,
      body: chat('tight'),
    }).then((r) => {
      settled = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 100));
    clock.advanceMs(999);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(settled, false, 'still waiting 1 ms before the deadline');
    clock.advanceMs(1);
    const late = await second;
    assert.equal(late.status, 503);
    await late.text();
    release();
    await first.text();
    assert.equal(calls, 1, 'the waiting request never reached the upstream');
  });
});
