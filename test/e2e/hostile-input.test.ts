// Hostile input (G-SEC-3, G-SEC-20…22, G-RTE-3/5/6): each bad request gets a clear native error for its ingress
// protocol, never reaches the upstream, never crashes the gateway, and the next normal request succeeds.

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { GoogleGenAI } from '@google/genai';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { CohereClientV2 } from 'cohere-ai';
import OpenAI from 'openai';
import type { Protocol } from '../../src/protocols/names.ts';
import { type Gateway, startGateway } from '../support/gateway-process.ts';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.ts';
import { assertNativeError, badCredentialKind, badCredentialStatus } from '../support/native-errors.ts';
import { postRaw, rawRequest } from '../support/raw-requests.ts';
import { SDK_CALLS } from '../support/sdk-calls.ts';
import {
  CLIENT_TOKEN,
  LANE_LIST,
  LANES,
  sixProvidersCatalog,
  sixProvidersConfig,
  sixProvidersEnv,
} from '../support/six-providers.ts';

let mock: MockUpstream;
let gw: Gateway;

before(async () => {
  mock = await startMockUpstream();
  gw = await startGateway({
    configYaml: sixProvidersConfig(),
    providersYaml: sixProvidersCatalog(mock.url),
    env: sixProvidersEnv(),
  });
});

after(async () => {
  await gw?.stop();
  await mock?.close();
});

const AUTH = { authorization: `Bearer ${CLIENT_TOKEN}` };

/** The gateway is alive and serves a normal request after the hostile one. */
async function assertStillServing(protocol: Protocol = 'openai'): Promise<void> {
  assert.equal(gw.child.exitCode, null, `gateway exited; stderr:\n${gw.stderr()}`);
  mock.reset();
  const lane = LANES[protocol];
  const r = await SDK_CALLS[protocol]({
    baseUrl: gw.url,
    token: CLIENT_TOKEN,
    name: lane.pool,
    stream: false,
  });
  assert.equal(r.text, `Hello from ${protocol} mock`);
  assert.equal(mock.requests.length, 1);
}

/** Same route as a normal request for `protocol`, with another body. */
function routeOf(protocol: Protocol): string {
  return rawRequest(protocol, LANES[protocol].pool, false).path;
}

afterEach(() => {
  assert.equal(gw.child.exitCode, null, `gateway exited; stderr:\n${gw.stderr()}`);
});

describe('malformed JSON → 400 native invalid_request_error, parser details hidden (G-RTE-5)', () => {
  for (const lane of LANE_LIST) {
    it(lane.protocol, async () => {
      mock.reset();
      const res = await postRaw(
        gw.url + routeOf(lane.protocol),
        '{"model": "chat-pool", "messages": [',
        AUTH,
      );
      assert.equal(res.status, 400, res.body);
      const message = assertNativeError(lane.protocol, res, 'invalid_request_error');
      assert.equal(message, 'We could not parse the JSON body of your request.');
      assert.equal(mock.requests.length, 0, 'nothing reached the upstream');
      await assertStillServing(lane.protocol);
    });
  }
});

describe('JSON nested 200 levels deep → 400 (G-SEC-22)', () => {
  for (const lane of LANE_LIST) {
    it(lane.protocol, async () => {
      mock.reset();
      const normal = JSON.parse(rawRequest(lane.protocol, lane.pool, false).body) as Record<string, unknown>;
      const deep = `${JSON.stringify(normal).slice(0, -1)},"deep":${'['.repeat(200)}${']'.repeat(200)}}`;
      JSON.parse(deep); // valid JSON, only too deep
      const res = await postRaw(gw.url + routeOf(lane.protocol), deep, AUTH);
      assert.equal(res.status, 400, res.body);
      assertNativeError(lane.protocol, res, 'invalid_request_error');
      assert.equal(mock.requests.length, 0);
      await assertStillServing(lane.protocol);
    });
  }
});

describe('unknown model → 404 native not_found_error (G-RTE-6)', () => {
  for (const lane of LANE_LIST) {
    it(lane.protocol, async () => {
      mock.reset();
      const { path, body } = rawRequest(lane.protocol, 'no-such-model', false);
      const res = await postRaw(gw.url + path, body, AUTH);
      assert.equal(res.status, 404, res.body);
      const message = assertNativeError(lane.protocol, res, 'not_found_error');
      assert.ok(message.length > 0);
      if (lane.protocol === 'openai' || lane.protocol === 'responses') {
        assert.equal(message, "The model 'no-such-model' does not exist or you do not have access to it.");
      }
      assert.equal(mock.requests.length, 0);
      await assertStillServing(lane.protocol);
    });
  }
});

describe('wrong or missing client token → native bad-credential error (G-SEC-3)', () => {
  for (const lane of LANE_LIST) {
    it(`${lane.protocol}: ${badCredentialStatus(lane.protocol)}, same body for wrong and missing`, async () => {
      mock.reset();
      const { path, body } = rawRequest(lane.protocol, lane.pool, false);
      const wrong = await postRaw(gw.url + path, body, { authorization: 'Bearer not-the-token' });
      assert.equal(wrong.status, badCredentialStatus(lane.protocol), wrong.body);
      assertNativeError(lane.protocol, wrong, badCredentialKind(lane.protocol));
      const missing = await postRaw(gw.url + path, body);
      assert.equal(missing.status, wrong.status);
      assert.equal(missing.body.replace(/"id":"[^"]*"/, ''), wrong.body.replace(/"id":"[^"]*"/, ''));
      for (const r of [wrong, missing]) {
        assert.doesNotMatch(r.body, /busbar|virtual key|allowlist|lane|token list/i, 'no gateway vocabulary');
      }
      assert.equal(mock.requests.length, 0);
      await assertStillServing(lane.protocol);
    });
  }

  it('every official SDK raises its own typed error', async () => {
    const bad = 'not-the-token';
    await assert.rejects(
      new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: bad, maxRetries: 0 }).chat.completions.create({
        model: 'chat-pool',
        messages: [{ role: 'user', content: 'hi' }],
      }),
      OpenAI.AuthenticationError,
    );
    await assert.rejects(
      new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: bad, maxRetries: 0 }).responses.create({
        model: 'responses-pool',
        input: 'hi',
      }),
      OpenAI.AuthenticationError,
    );
    await assert.rejects(
      new Anthropic({ baseURL: `${gw.url}/messages-pool`, apiKey: bad, maxRetries: 0 }).messages.create({
        model: 'messages-pool',
        max_tokens: 16,
        messages: [{ role: 'user', content: 'hi' }],
      }),
      Anthropic.AuthenticationError,
    );
    await assert.rejects(
      new GoogleGenAI({ apiKey: bad, httpOptions: { baseUrl: gw.url } }).models.generateContent({
        model: 'gemini-pool',
        contents: 'hi',
      }),
      (e: unknown) => (e as { status?: number }).status === 400,
    );
    await assert.rejects(
      new CohereClientV2({ token: bad, environment: gw.url, maxRetries: 0 }).chat({
        model: 'cohere-pool',
        messages: [{ role: 'user', content: 'hi' }],
      }),
      (e: unknown) => (e as { statusCode?: number }).statusCode === 401,
    );
    const bedrock = new BedrockRuntimeClient({
      endpoint: gw.url,
      region: 'us-east-1',
      token: { token: bad },
      authSchemePreference: ['httpBearerAuth'],
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler(),
    });
    await assert.rejects(
      bedrock.send(
        new ConverseCommand({
          modelId: 'converse-pool',
          messages: [{ role: 'user', content: [{ text: 'hi' }] }],
        }),
      ),
      (e: unknown) => (e as Error).name === 'AccessDeniedException',
    );
    bedrock.destroy();
    await assertStillServing();
  });

  it('a SigV4-signed Bedrock client is rejected 403 AccessDeniedException without governance (G-GOV-25)', async () => {
    mock.reset();
    const client = new BedrockRuntimeClient({
      endpoint: gw.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'SECRETEXAMPLE' },
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler(),
    });
    await assert.rejects(
      client.send(
        new ConverseCommand({
          modelId: 'converse-pool',
          messages: [{ role: 'user', content: [{ text: 'hi' }] }],
        }),
      ),
      (e: unknown) => {
        assert.equal((e as Error).name, 'AccessDeniedException');
        assert.equal((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, 403);
        return true;
      },
    );
    client.destroy();
    assert.equal(mock.requests.length, 0);
  });
});

interface StreamedPost {
  reply: ParsedReply;
  /** Bytes of body the client wrote before the server answered or closed. */
  written: number;
  /** The socket error the client saw (EPIPE / ECONNRESET when the server closed first), if any. */
  socketError: string | undefined;
}

/**
 * Streams `total` bytes of a JSON-looking body to `path` over a raw socket in 1 MiB pieces with backpressure,
 * reading the reply concurrently and stopping as soon as it starts. A server that answers early and closes
 * makes the writes fail (EPIPE / ECONNRESET): that is tolerated, and the reply read so far is returned.
 * (Node's http.request drops an early reply when its write fails first, so it cannot be used here.)
 */
function streamHugeBody(path: string, total: number, chunked: boolean): Promise<StreamedPost> {
  const url = new URL(gw.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port) });
    let raw = '';
    let written = 0;
    let socketError: string | undefined;
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      raw += d;
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      socketError = err.code ?? err.message;
    });
    socket.setTimeout(15_000, () => {
      socket.destroy();
      reject(new Error(`no reply after ${written} bytes`));
    });
    socket.on('close', () => {
      if (!raw) {
        reject(new Error(`connection closed without a reply after ${written} bytes (${socketError})`));
        return;
      }
      resolve({ reply: parseReply(raw), written, socketError });
    });
    const framing = chunked ? 'transfer-encoding: chunked' : `content-length: ${total}`;
    const head =
      `POST ${path} HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\n` +
      `authorization: Bearer ${CLIENT_TOKEN}\r\n${framing}\r\n\r\n`;
    const piece = Buffer.alloc(1024 * 1024, 0x61);
    piece.write('{"model":"chat-pool","messages":[],"pad":"', 0);
    const frame = (bytes: Buffer): Buffer =>
      chunked
        ? Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from('\r\n')])
        : bytes;
    const writeAsync = (bytes: Buffer | string): Promise<void> =>
      new Promise((done, fail) => socket.write(bytes, (err) => (err ? fail(err) : done())));
    const pump = async (): Promise<void> => {
      await writeAsync(head);
      while (written < total && raw === '' && !socket.destroyed) {
        const n = Math.min(piece.length, total - written);
        const bytes = written === 0 ? piece.subarray(0, n) : Buffer.alloc(n, 0x61);
        written += n;
        await writeAsync(frame(bytes));
        // Let the read side run between pieces: an early reply must be read before a later write fails
        // (Node destroys the socket on EPIPE and would drop the unread reply).
        await new Promise((r) => setImmediate(r));
      }
      if (raw === '' && !socket.destroyed) socket.end(chunked ? '0\r\n\r\n' : '');
      else setTimeout(() => socket.destroy(), 200);
    };
    pump().catch(() => {
      // The server closed early; the reply (if any) is collected by the data handler.
    });
  });
}

describe('40 MiB body → 413 native request_too_large (G-RTE-3, G-SEC-20)', () => {
  const total = 40 * 1024 * 1024;
  for (const [protocol, chunked] of [
    ['openai', false],
    ['openai', true],
    ['anthropic', true],
    ['bedrock', false],
  ] as const) {
    it(`${protocol}, ${chunked ? 'chunked' : 'content-length'}`, async () => {
      mock.reset();
      const { reply } = await streamHugeBody(routeOf(protocol), total, chunked);
      assert.equal(reply.status, 413, reply.body);
      const message = assertNativeError(protocol, reply, 'request_too_large');
      assert.equal(message, 'request body exceeds the maximum allowed size');
      assert.equal(mock.requests.length, 0);
      await assertStillServing(protocol);
    });
  }
});

/** Sends raw bytes over TCP and returns the raw reply (the server may close first). */
function rawExchange(bytes: Buffer): Promise<string> {
  const url = new URL(gw.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port) }, () => socket.end(bytes));
    let reply = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      reply += d;
    });
    socket.on('close', () => resolve(reply));
    socket.on('error', (err) => (reply ? resolve(reply) : reject(err)));
    socket.setTimeout(5000, () => {
      socket.destroy();
      reject(new Error(`no reply within 5 s; got ${JSON.stringify(reply)}`));
    });
  });
}

function httpRequestBytes(authorization: Buffer): Buffer {
  const body = rawRequest('openai', 'chat-pool', false).body;
  return Buffer.concat([
    Buffer.from(
      'POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\nAuthorization: `,
      'latin1',
    ),
    authorization,
    Buffer.from(`\r\n\r\n${body}`, 'latin1'),
  ]);
}

interface ParsedReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function parseReply(reply: string): ParsedReply {
  const m = /^HTTP\/1\.1 (\d{3})/.exec(reply);
  assert.ok(m, `an HTTP reply: ${JSON.stringify(reply.slice(0, 200))}`);
  const split = reply.indexOf('\r\n\r\n');
  const head = split < 0 ? reply : reply.slice(0, split);
  const rest = split < 0 ? '' : reply.slice(split + 4);
  const headers = Object.fromEntries(
    head
      .split('\r\n')
      .slice(1)
      .map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
  );
  const body = headers['transfer-encoding'] === 'chunked' ? dechunk(rest) : rest;
  return { status: Number(m[1]), headers, body };
}

describe('malformed Authorization headers fail cleanly (G-SEC-21)', () => {
  const controlCases: Array<[string, Buffer]> = [
    ['SOH inside the token', Buffer.from('Bearer test\x01token', 'latin1')],
    ['NUL inside the token', Buffer.from('Bearer test\x00token', 'latin1')],
    ['DEL alone', Buffer.from('\x7f', 'latin1')],
    ['ESC sequence', Buffer.from('Bearer \x1b[31mtest-token', 'latin1')],
  ];
  for (const [name, value] of controlCases) {
    it(`control character: ${name} → 400/401 in the OpenAI envelope, nothing upstream`, async () => {
      mock.reset();
      const reply = parseReply(await rawExchange(httpRequestBytes(value)));
      // Node's HTTP parser rejects these bytes before any handler runs; the gateway's clientError handler must
      // still answer in the native envelope of the (openai) route rather than Node's bare `400 Bad Request`.
      assert.ok(reply.status === 400 || reply.status === 401, `status ${reply.status}`);
      assertNativeError(
        'openai',
        reply,
        reply.status === 400 ? 'invalid_request_error' : 'authentication_error',
      );
      assert.equal(mock.requests.length, 0);
      await assertStillServing();
    });
  }

  const textCases: Array<[string, Buffer]> = [
    ['multi-byte UTF-8 token', Buffer.from('Bearer tést-tökén-✓', 'utf8')],
    ['no space after the scheme', Buffer.from(`Bearer${CLIENT_TOKEN}`, 'latin1')],
    [
      'Basic scheme',
      Buffer.from(`Basic ${Buffer.from(`user:${CLIENT_TOKEN}`).toString('base64')}`, 'latin1'),
    ],
    ['scheme only', Buffer.from('Bearer ', 'latin1')],
    ['an 8 KiB token', Buffer.from(`Bearer ${'x'.repeat(8 * 1024)}`, 'latin1')],
  ];
  for (const [name, value] of textCases) {
    it(`${name} → 401 native authentication_error`, async () => {
      mock.reset();
      const reply = parseReply(await rawExchange(httpRequestBytes(value)));
      assert.equal(reply.status, 401, reply.body);
      assertNativeError('openai', reply, 'authentication_error');
      assert.equal(mock.requests.length, 0);
      await assertStillServing();
    });
  }
});

function dechunk(body: string): string {
  let out = '';
  let rest = body;
  for (;;) {
    const eol = rest.indexOf('\r\n');
    if (eol < 0) return out;
    const size = Number.parseInt(rest.slice(0, eol), 16);
    if (!size) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}
