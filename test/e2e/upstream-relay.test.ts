// What of an upstream's error answer reaches the client (G-FO-8, issue 10 items 4d–4f): only the
// status, content type, body and the protocol's own relay headers; a redirect becomes a native 502
// (never followed, never passed on); a body cut at its cap is replaced by a native error; a relayed
// stream cut short of its Content-Length closes the connection instead of leaving the client waiting.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertNativeError } from '../support/native-errors.ts';
import { postRaw, rawRequest } from '../support/raw-requests.ts';
import { CLIENT_TOKEN, LANE_LIST, LANES } from '../support/six-providers.ts';
import { useSixProvidersGateway } from '../support/six-providers-gateway.ts';

const fixture = useSixProvidersGateway();

const AUTH = { authorization: `Bearer ${CLIENT_TOKEN}` };
const FOREIGN = {
  location: 'https://attacker.example/steal',
  'openai-organization': 'org-secret-name',
  'x-internal-trace': 'upstream-internal',
  'set-cookie': 'session=1',
};

describe('a relayed client-fault answer carries only what the protocol relays', () => {
  for (const lane of LANE_LIST) {
    it(lane.protocol, async () => {
      fixture.mock.reset();
      const own: Record<string, string> =
        lane.protocol === 'bedrock'
          ? {
              'x-amzn-requestid': 'req-1',
              'x-amzn-errortype': 'ValidationException:http://internal.amazon.com/',
            }
          : lane.protocol === 'anthropic'
            ? { 'request-id': 'req_1' }
            : {};
      fixture.mock.enqueue({ status: 400, message: 'bad field', headers: { ...FOREIGN, ...own } });
      const { path, body } = rawRequest(lane.protocol, lane.pool, false);
      const res = await postRaw(fixture.gw.url + path, body, AUTH);
      assert.equal(res.status, 400, res.body);
      assert.equal(res.body, fixture.mock.requests[0]!.response!.body.toString(), 'the body byte for byte');
      assert.match(res.headers.get('content-type') ?? '', /json/);
      for (const name of Object.keys(FOREIGN)) assert.equal(res.headers.get(name), null, name);
      for (const [name, value] of Object.entries(own)) assert.equal(res.headers.get(name), value, name);
    });
  }
});

describe('an upstream redirect → native 502, no Location', () => {
  for (const lane of LANE_LIST) {
    it(lane.protocol, async () => {
      fixture.mock.reset();
      fixture.mock.enqueue({ status: 307, headers: { location: FOREIGN.location }, body: '' });
      const { path, body } = rawRequest(lane.protocol, lane.pool, false);
      const res = await postRaw(fixture.gw.url + path, body, AUTH);
      assert.equal(res.status, 502, res.body);
      assertNativeError(lane.protocol, res, 'api_error');
      assert.equal(res.headers.get('location'), null);
      assert.equal(fixture.mock.requests.length, 1, 'the redirect was not followed');
    });
  }
});

it('an error body cut at the 256 KiB cap → a native error, not truncated JSON', async () => {
  fixture.mock.reset();
  const huge = JSON.stringify({ error: { message: 'x'.repeat(300 * 1024), type: 'invalid_request_error' } });
  fixture.mock.enqueue({ status: 400, body: huge, headers: { 'content-type': 'application/json' } });
  const { path, body } = rawRequest('openai', LANES.openai.pool, false);
  const res = await postRaw(fixture.gw.url + path, body, AUTH);
  assert.equal(res.status, 400);
  assertNativeError('openai', res, 'invalid_request_error');
  assert.ok(res.body.length < 256 * 1024, 'not the cut upstream body');
});

it('4d a relayed stream cut short of its Content-Length ends the connection, the client does not wait', async () => {
  fixture.mock.reset();
  fixture.mock.enqueue({ cutStreamAfterChunks: 1, headers: { 'content-length': '5000' } });
  const { path, body } = rawRequest('openai', LANES.openai.pool, true);
  const res = await fetch(fixture.gw.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...AUTH },
    body,
    signal: AbortSignal.timeout(5000),
  });
  assert.equal(res.status, 200);
  await assert.rejects(res.text(), (err: Error) => !/timeout|abort/i.test(`${err.name} ${err.message}`));
});

it('10 an answer translated into Anthropic Messages carries no "citations": null (schema-checking clients reject it)', async () => {
  const res = await postRaw(
    `${fixture.gw.url}/v1/messages`,
    JSON.stringify({ model: LANES.cohere.pool, max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] }),
    { ...AUTH, 'anthropic-version': '2023-06-01' },
  );
  assert.equal(res.status, 200, res.body);
  const { content } = JSON.parse(res.body) as { content: Record<string, unknown>[] };
  assert.equal(content[0]!.type, 'text');
  assert.equal('citations' in content[0]!, false, res.body);
});
