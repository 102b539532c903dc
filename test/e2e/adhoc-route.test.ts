// The ad-hoc Messages route `/{provider}/{model}/v1/messages` (G-RTE-7): only configured
// (provider, model) pairs are reachable; clients can never introduce a host, path or provider.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Gateway, startGateway } from '../support/gateway-process.ts';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.ts';
import { postRaw } from '../support/raw-requests.ts';
import {
  CLIENT_TOKEN,
  LANES,
  sixProvidersCatalog,
  sixProvidersConfig,
  sixProvidersEnv,
} from '../support/six-providers.ts';

const auth = { authorization: `Bearer ${CLIENT_TOKEN}`, 'anthropic-version': '2023-06-01' };
const body = JSON.stringify({ max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });

describe('ad-hoc route', () => {
  let mock: MockUpstream;
  let gw: Gateway;
  before(async () => {
    mock = await startMockUpstream();
    gw = await startGateway({
      providersYaml: sixProvidersCatalog(mock.url),
      configYaml: sixProvidersConfig(),
      env: sixProvidersEnv(),
    });
  });
  after(async () => {
    await gw?.stop();
    await mock?.close();
  });

  it('a configured provider/model pair is served, with the model named upstream', async () => {
    mock.reset();
    const lane = LANES.anthropic;
    const res = await postRaw(`${gw.url}/${lane.provider}/${lane.model}/v1/messages`, body, auth);
    assert.equal(res.status, 200, res.body);
    assert.equal((mock.last()!.json() as { model: string }).model, lane.model);
  });

  it('the pair can reach a model of another protocol (translated)', async () => {
    mock.reset();
    const lane = LANES.gemini;
    const res = await postRaw(`${gw.url}/${lane.provider}/${lane.model}/v1/messages`, body, auth);
    assert.equal(res.status, 200, res.body);
    assert.equal(mock.last()?.path, `/v1beta/models/${lane.model}:generateContent`);
  });

  it('an unknown model is a 404 and a model of another provider a 400, both before any upstream call', async () => {
    mock.reset();
    const unknown = await postRaw(
      `${gw.url}/${LANES.anthropic.provider}/no-such-model/v1/messages`,
      body,
      auth,
    );
    assert.equal(unknown.status, 404);
    assert.equal((JSON.parse(unknown.body) as { error: { type: string } }).error.type, 'not_found_error');
    const mismatch = await postRaw(
      `${gw.url}/${LANES.anthropic.provider}/${LANES.openai.model}/v1/messages`,
      body,
      auth,
    );
    assert.equal(mismatch.status, 400);
    assert.equal(
      (JSON.parse(mismatch.body) as { error: { type: string } }).error.type,
      'invalid_request_error',
    );
    const hostile = await postRaw(
      `${gw.url}/http%3A%2F%2Fevil.example/${LANES.anthropic.model}/v1/messages`,
      body,
      auth,
    );
    assert.ok(hostile.status === 404 || hostile.status === 400);
    assert.equal(mock.requests.length, 0);
  });
});
