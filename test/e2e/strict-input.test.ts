// Strict input and bounded reading (issue 10 items 3a, 7, 8, 9a): bodies that are not UTF-8, and
// bodies their own protocol would refuse on a translated route, are refused natively in all six
// protocols; a refused credential does not let a client stream an unbounded body at the gateway; an
// oversized body sent with `Connection: close` always gets its 413.

import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import type { Protocol } from '../../src/protocols/names.ts';
import { startGateway } from '../support/gateway-process.ts';
import { assertNativeError } from '../support/native-errors.ts';
import { postRaw, rawRequest } from '../support/raw-requests.ts';
import {
  CLIENT_TOKEN,
  LANE_LIST,
  LANES,
  sixProvidersCatalog,
  sixProvidersConfig,
  sixProvidersEnv,
} from '../support/six-providers.ts';
import { useSixProvidersGateway } from '../support/six-providers-gateway.ts';

const fixture = useSixProvidersGateway();

const AUTH = { authorization: `Bearer ${CLIENT_TOKEN}` };
/** A byte sequence that is no UTF-8: C3 starts a pair that 28 does not continue; FF and 80 never start one. */
const NOT_UTF8 = Buffer.from([0xc3, 0x28, 0xff, 0x80]);

describe('a body that is not UTF-8 → 400 native invalid_request_error, nothing upstream', () => {
  for (const lane of LANE_LIST) {
    it(lane.protocol, async () => {
      fixture.mock.reset();
      const { path, body } = rawRequest(lane.protocol, lane.pool, false);
      const bad = Buffer.concat([Buffer.from(`${body.slice(0, -1)},"note":"`), NOT_UTF8, Buffer.from('"}')]);
      const res = await postRaw(fixture.gw.url + path, bad, AUTH);
      assert.equal(res.status, 400, res.body);
      assert.equal(
        assertNativeError(lane.protocol, res, 'invalid_request_error'),
        'The request body is not valid UTF-8.',
      );
      assert.equal(fixture.mock.requests.length, 0);
      const ok = await postRaw(fixture.gw.url + path, body, AUTH);
      assert.equal(ok.status, 200, 'the same body in UTF-8 passes');
    });
  }
});

/** A body each protocol refuses (a field of the wrong type), and the message naming the field. */
const MALFORMED: Record<Protocol, { body: object; message: string }> = {
  openai: { body: { model: '', messages: 5 }, message: 'messages: expected an array' },
  responses: {
    body: { model: '', input: [{ role: 'user', content: 5 }] },
    message: 'input[0].content: expected a string or an array',
  },
  anthropic: {
    body: { model: '', max_tokens: 64, messages: [{ role: 'user', content: [{ type: 'text', text: 5 }] }] },
    message: 'messages[0].content[0].text: expected a string',
  },
  gemini: {
    body: { contents: [{ role: 'user', parts: 'hi' }] },
    message: 'contents[0].parts: expected an array',
  },
  cohere: {
    body: { model: '', messages: [{ role: 'user', content: 'hi' }], temperature: 'hot' },
    message: 'temperature: expected a number',
  },
  bedrock: {
    body: { messages: [{ role: 'user', content: 'hi' }] },
    message: 'messages[0].content: expected an array',
  },
};

describe('9a a body its protocol refuses, on a translated route → 400 native invalid_request_error naming the field, nothing upstream', () => {
  LANE_LIST.forEach((lane, i) => {
    const upstream = LANE_LIST[(i + 1) % LANE_LIST.length]!;
    it(`${lane.protocol} → ${upstream.protocol}`, async () => {
      fixture.mock.reset();
      const pool = LANES[upstream.protocol].pool;
      const { path, body } = rawRequest(lane.protocol, pool, false);
      const { body: bad, message } = MALFORMED[lane.protocol];
      const named = 'model' in bad ? { ...bad, model: pool } : bad;
      const res = await postRaw(fixture.gw.url + path, JSON.stringify(named), AUTH);
      assert.equal(res.status, 400, res.body);
      assert.equal(assertNativeError(lane.protocol, res, 'invalid_request_error'), message);
      assert.equal(fixture.mock.requests.length, 0);
      const ok = await postRaw(fixture.gw.url + path, body, AUTH);
      assert.equal(ok.status, 200, 'a well-formed body on the same route is translated');
      assert.equal(fixture.mock.requests.length, 1);
    });
  });
});

/** Writes `head` and then body bytes as fast as the socket takes them; resolves with the bytes sent and the reply. */
function pushBody(head: string, total: number): Promise<{ sent: number; reply: string }> {
  const url = new URL(fixture.gw.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port) });
    let sent = 0;
    let reply = '';
    let closed = false;
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      reply += d;
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      closed = true;
      resolve({ sent, reply });
    });
    socket.setTimeout(20_000, () => {
      socket.destroy();
      reject(
        new Error(
          `the gateway kept reading: ${sent} bytes sent, reply ${JSON.stringify(reply.slice(0, 80))}`,
        ),
      );
    });
    const piece = Buffer.alloc(256 * 1024, 0x61);
    const pump = (): void => {
      while (!closed && sent < total) {
        sent += piece.length;
        if (!socket.write(piece)) {
          socket.once('drain', pump);
          return;
        }
      }
      if (!closed) socket.end();
    };
    socket.write(head, pump);
  });
}

describe('bounded reading of bodies the gateway refuses', () => {
  it('3a after a 401 the gateway reads at most a little of the body, then closes', async () => {
    // Under the 32 MiB cap, so the refusal is the credential's, not the size's.
    const total = 31 * 1024 * 1024;
    const { path } = rawRequest('openai', LANE_LIST[0]!.pool, false);
    const { sent, reply } = await pushBody(
      `POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n` +
        `authorization: Bearer wrong\r\ncontent-length: ${total}\r\n\r\n`,
      total,
    );
    assert.match(reply, /^HTTP\/1\.1 401 /, 'the refusal was answered');
    // 1 MiB read by the gateway, plus what the two kernels' socket buffers hold; before the bound,
    // the whole body was read and dropped, however large.
    assert.ok(sent < 20 * 1024 * 1024, `the client could push ${sent} bytes`);
  });

  it('8 an oversized body with Connection: close gets its 413 every time', async () => {
    const total = 40 * 1024 * 1024;
    const { path } = rawRequest('openai', LANE_LIST[0]!.pool, false);
    for (let i = 0; i < 5; i++) {
      const { reply } = await pushBody(
        `POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nconnection: close\r\n` +
          `authorization: Bearer ${CLIENT_TOKEN}\r\ncontent-length: ${total}\r\n\r\n`,
        total,
      );
      assert.match(reply, /^HTTP\/1\.1 413 /, `try ${i + 1}: ${JSON.stringify(reply.slice(0, 60))}`);
    }
  });
});

describe('answers about routes', () => {
  for (const lane of LANE_LIST) {
    it(`9 ${lane.protocol}: 405 carries Allow: POST`, async () => {
      const { path } = rawRequest(lane.protocol, lane.pool, false);
      const res = await fetch(fixture.gw.url + path, { method: 'GET', headers: AUTH });
      assert.equal(res.status, 405);
      assert.equal(res.headers.get('allow'), 'POST');
      await res.text();
    });
  }

  it('9 the gateway endpoints answer 405 with Allow: GET', async () => {
    const res = await fetch(`${fixture.gw.url}/healthz`, { method: 'POST' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'GET');
    await res.text();
  });

  it('11 an unknown route says the route is not served, not that a model is missing', async () => {
    const res = await postRaw(`${fixture.gw.url}/v1/embeddingz?key=x`, '{}', AUTH);
    assert.equal(res.status, 404);
    const { error } = JSON.parse(res.body) as { error: { message: string; code: string } };
    assert.equal(error.code, 'unknown_url');
    assert.equal(error.message, 'Invalid URL (POST /v1/embeddingz): the gateway serves no such route.');
  });

  it('11 Cohere v1 chat (LangChain) gets a Cohere-shaped 404 naming the v2 route', async () => {
    const res = await postRaw(`${fixture.gw.url}/v1/chat`, '{"message":"hi"}', AUTH);
    assert.equal(res.status, 404);
    assert.equal(assertNativeError('cohere', res, 'not_found_error').includes('POST /v2/chat'), true);
  });
});

it('4g at trace level, no credential reaches the log: not the ?key= value, not a client token, not an upstream key', async () => {
  const traced = await startGateway({
    configYaml: sixProvidersConfig(),
    providersYaml: sixProvidersCatalog(fixture.mock.url),
    env: { ...sixProvidersEnv(), BUSBAR_LOG: 'trace' },
  });
  try {
    const gemini = LANE_LIST.find((l) => l.protocol === 'gemini')!;
    const { path, body } = rawRequest('gemini', gemini.pool, false);
    const calls = [
      postRaw(`${traced.url}${path}?key=${CLIENT_TOKEN}`, body, {}),
      postRaw(`${traced.url}${path}?key=wrong-secret-in-query`, body, {}),
      postRaw(`${traced.url}/nowhere?key=${CLIENT_TOKEN}`, '{}', {}),
      postRaw(`${traced.url}/other-provider/${gemini.model}/v1/messages?key=${CLIENT_TOKEN}`, '{}', {}),
    ];
    fixture.mock.enqueue({ status: 500 });
    calls.push(postRaw(`${traced.url}${path}?key=${CLIENT_TOKEN}`, body, {}));
    const statuses = (await Promise.all(calls)).map((r) => r.status);
    assert.ok(statuses.includes(200) && statuses.includes(404), `statuses ${statuses}`);
    await sleep(300);
    const logged = traced.stderr() + traced.stdout();
    for (const secret of [CLIENT_TOKEN, 'wrong-secret-in-query', ...Object.values(sixProvidersEnv())])
      assert.ok(!logged.includes(secret), `the log holds ${secret}`);
  } finally {
    await traced.stop();
  }
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
