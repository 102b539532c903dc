// Acceptance test for same-protocol forwarding (P-FWD-1/2, P-GEN-4/5): each official SDK, pointed at the gateway,
// gets the mock upstream's answer; the upstream saw the client's bytes with only the model spliced, the lane's
// model in the path for path-model protocols, and the provider's own credential instead of the client token.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Gateway, startGateway } from '../support/gateway-process.ts';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.ts';
import { rawRequest } from '../support/raw-requests.ts';
import { SDK_CALLS, type SdkResult } from '../support/sdk-calls.ts';
import {
  CLIENT_TOKEN,
  LANE_LIST,
  type LaneFixture,
  sixProvidersCatalog,
  sixProvidersConfig,
  sixProvidersEnv,
} from '../support/six-providers.ts';
import { assertUpstreamAuth } from '../support/upstream-checks.ts';

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

function upstreamPath(lane: LaneFixture, stream: boolean): string {
  switch (lane.protocol) {
    case 'openai':
      return '/v1/chat/completions';
    case 'responses':
      return '/v1/responses';
    case 'anthropic':
      return '/v1/messages';
    case 'cohere':
      return '/v2/chat';
    case 'gemini':
      return `/v1beta/models/${lane.model}:${stream ? 'streamGenerateContent' : 'generateContent'}`;
    case 'bedrock':
      return `/model/${lane.model}/${stream ? 'converse-stream' : 'converse'}`;
    default: {
      const never: never = lane.protocol;
      throw new Error(`unknown protocol ${String(never)}`);
    }
  }
}

/** The client's bytes with the top-level `"model":"<requested>"` value replaced by the lane's model, in place. */
function spliceModel(sent: Buffer, requested: string, lane: string): Buffer {
  const text = sent.toString('utf8');
  const needle = `"model":${JSON.stringify(requested)}`;
  assert.equal(text.split(needle).length, 2, `client body names the model exactly once: ${text}`);
  return Buffer.from(text.replace(needle, `"model":${JSON.stringify(lane)}`), 'utf8');
}

function expectedUpstreamBody(lane: LaneFixture, name: string, sent: Buffer): Buffer {
  // Gemini and Bedrock bodies carry no model (it is in the URL); the others carry it in the body.
  if (lane.protocol === 'gemini' || lane.protocol === 'bedrock') return sent;
  return spliceModel(sent, name, lane.model);
}

function assertAnswer(lane: LaneFixture, r: SdkResult, stream: boolean): void {
  assert.equal(r.text, `Hello from ${lane.protocol} mock`);
  assert.deepEqual(r.usage, [11, 7]);
  if (stream) assert.ok(r.deltas >= 3, `stream arrived in ${r.deltas} text deltas`);
}

async function forwardOnce(lane: LaneFixture, name: string, stream: boolean): Promise<void> {
  mock.reset();
  const r = await SDK_CALLS[lane.protocol]({ baseUrl: gw.url, token: CLIENT_TOKEN, name, stream });
  assertAnswer(lane, r, stream);
  assert.equal(mock.requests.length, 1, 'exactly one upstream request');
  const up = mock.last()!;
  assert.equal(up.method, 'POST');
  assert.equal(up.path, upstreamPath(lane, stream));
  if (lane.protocol === 'gemini' && stream) assert.equal(up.query.get('alt'), 'sse');
  assert.equal(
    up.body.toString('utf8'),
    expectedUpstreamBody(lane, name, r.sent.body).toString('utf8'),
    'upstream body = client bytes with only the model spliced',
  );
  assertUpstreamAuth(lane, up);
}

for (const lane of LANE_LIST) {
  describe(`${lane.protocol} → ${lane.protocol}`, () => {
    it(`non-stream via pool ${lane.pool}`, () => forwardOnce(lane, lane.pool, false));
    it(`stream via pool ${lane.pool}`, () => forwardOnce(lane, lane.pool, true));
    it(`non-stream via model ${lane.model}`, () => forwardOnce(lane, lane.model, false));
    it(`stream via model ${lane.model}`, () => forwardOnce(lane, lane.model, true));
  });
}

describe('responses are relayed byte-for-byte (P-FWD-2)', () => {
  for (const lane of LANE_LIST) {
    for (const stream of [false, true]) {
      it(`${lane.protocol} ${stream ? 'stream' : 'non-stream'}`, async () => {
        mock.reset();
        const { path, body } = rawRequest(lane.protocol, lane.pool, stream);
        const res = await fetch(gw.url + path, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${CLIENT_TOKEN}` },
          body,
        });
        const got = Buffer.from(await res.arrayBuffer());
        assert.equal(res.status, 200, got.toString('utf8'));
        const up = mock.last()!;
        assert.ok(up.response, 'mock answered');
        assert.equal(got.toString('latin1'), up.response.body.toString('latin1'));
        assert.equal(res.headers.get('content-type'), up.response.headers['content-type']);
      });
    }
  }

  it('gemini streamGenerateContent without alt=sse gets a JSON array (P-STR-4)', async () => {
    mock.reset();
    const res = await fetch(`${gw.url}/v1beta/models/gemini-pool:streamGenerateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': CLIENT_TOKEN },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }),
    });
    const raw = await res.text();
    assert.equal(res.status, 200, raw);
    const chunks = JSON.parse(raw) as Array<{
      candidates?: Array<{ content?: { parts?: Array<{ text?: string }> } }>;
      usageMetadata?: { promptTokenCount?: number; candidatesTokenCount?: number };
    }>;
    assert.ok(Array.isArray(chunks));
    const text = chunks.map((c) => c.candidates?.[0]?.content?.parts?.[0]?.text ?? '').join('');
    assert.equal(text, 'Hello from gemini mock');
    const usage = chunks.at(-1)?.usageMetadata;
    assert.deepEqual([usage?.promptTokenCount, usage?.candidatesTokenCount], [11, 7]);
  });
});

describe('bedrock SDK with its default transport (HTTP/2 cleartext, prior knowledge)', () => {
  for (const stream of [false, true]) {
    it(`${stream ? 'ConverseStreamCommand' : 'ConverseCommand'} without a custom requestHandler`, async () => {
      mock.reset();
      const lane = LANE_LIST.find((l) => l.protocol === 'bedrock')!;
      const r = await SDK_CALLS.bedrock({
        baseUrl: gw.url,
        token: CLIENT_TOKEN,
        name: lane.pool,
        stream,
        bedrockTransport: 'default',
      });
      assertAnswer(lane, r, stream);
    });
  }
});
