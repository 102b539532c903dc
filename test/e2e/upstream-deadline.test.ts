// An upstream that sends its head and then trickles (or stalls) must not hold a request or its
// permit past the deadline (issue 10 item 4c, G-FO-5): a non-streamed exchange ends at the
// request's deadline, body included; the permit comes back; a translated answer ends in a native
// error, a relayed one (whose head is already out) by closing the connection.

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Gateway, startGateway } from '../support/gateway-process.ts';
import { assertNativeError } from '../support/native-errors.ts';
import { postRaw, rawRequest } from '../support/raw-requests.ts';

let stalling: Server;
let gw: Gateway;
const AUTH = { authorization: 'Bearer dl-token' };

before(async () => {
  // Answers 200 with the first bytes of a JSON body, then sends nothing more.
  stalling = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"id":"x",');
  });
  await new Promise<void>((resolve) => stalling.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(stalling.address() as AddressInfo).port}`;
  gw = await startGateway({
    providersYaml: `slow-openai:\n  protocol: openai\n  base_url: ${url}\nslow-anthropic:\n  protocol: anthropic\n  base_url: ${url}\n`,
    configYaml: [
      'listen: 127.0.0.1:0',
      'auth:\n  mode: token\n  client_tokens: [dl-token]',
      'providers:\n  slow-openai: {api_key_env: DL_KEY}\n  slow-anthropic: {api_key_env: DL_KEY}',
      'models:\n  same: {provider: slow-openai, max_concurrent: 1}\n  cross: {provider: slow-anthropic, max_concurrent: 1}',
      'pools:',
      '  same-pool: {members: [{target: same}], failover: {deadline_secs: 1}}',
      '  cross-pool: {members: [{target: cross}], failover: {deadline_secs: 1}}',
    ].join('\n'),
    env: { DL_KEY: 'k' },
  });
});

after(async () => {
  await gw?.stop();
  stalling?.closeAllConnections();
  await new Promise((resolve) => stalling?.close(resolve));
});

async function inflight(model: string): Promise<number> {
  const stats = (await (await fetch(`${gw.url}/stats`, { headers: AUTH })).json()) as {
    lanes: { model: string; inflight: number }[];
  };
  return stats.lanes.find((l) => l.model === model)!.inflight;
}

describe('a head, then nothing', () => {
  it('translated: a native error at the deadline, the permit returned', async () => {
    const t0 = Date.now();
    const { path, body } = rawRequest('openai', 'cross-pool', false);
    const res = await postRaw(gw.url + path, body, AUTH);
    const seconds = (Date.now() - t0) / 1000;
    assert.equal(res.status, 502, res.body);
    assertNativeError('openai', res, 'api_error');
    assert.ok(seconds < 3, `answered after ${seconds} s`);
    assert.equal(await inflight('cross'), 0);
  });

  it('relayed: the connection closes at the deadline, the permit returned', async () => {
    const t0 = Date.now();
    const { path, body } = rawRequest('openai', 'same-pool', false);
    const res = await fetch(gw.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...AUTH },
      body,
      signal: AbortSignal.timeout(8000),
    });
    await assert.rejects(res.text(), (err: Error) => !/timeout|abort/i.test(`${err.name} ${err.message}`));
    const seconds = (Date.now() - t0) / 1000;
    assert.ok(seconds < 3, `closed after ${seconds} s`);
    assert.equal(await inflight('same'), 0);
  });
});
