// The usage tap (P-USE-1/2): token usage is read from every protocol's answer, streamed and
// buffered, same- and cross-protocol, and counted once per cleanly delivered answer.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Protocol } from '../../src/protocols/names.ts';
import { type Gateway, startGateway } from '../support/gateway-process.ts';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.ts';
import { postRaw, rawRequest } from '../support/raw-requests.ts';
import {
  CLIENT_TOKEN,
  LANE_LIST,
  LANES,
  sixProvidersCatalog,
  sixProvidersConfig,
  sixProvidersEnv,
} from '../support/six-providers.ts';

const auth = { authorization: `Bearer ${CLIENT_TOKEN}` };

describe('usage tap', () => {
  let mock: MockUpstream;
  let gw: Gateway;
  before(async () => {
    mock = await startMockUpstream({ usage: { input: 1234, output: 567 } });
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

  async function tokens(model: string): Promise<[number, number]> {
    const stats = (await (await fetch(`${gw.url}/stats`, { headers: auth })).json()) as {
      lanes: { model: string; input_tokens: number; output_tokens: number }[];
    };
    const lane = stats.lanes.find((l) => l.model === model)!;
    return [lane.input_tokens, lane.output_tokens];
  }

  async function call(ingress: Protocol, egress: Protocol, stream: boolean): Promise<void> {
    const { path, body } = rawRequest(ingress, LANES[egress].model, stream);
    const res = await postRaw(`${gw.url}${path}`, body, auth);
    assert.equal(
      res.status,
      200,
      `${ingress} → ${egress} ${stream ? 'stream' : 'buffered'}: ${res.body.slice(0, 200)}`,
    );
  }

  for (const lane of LANE_LIST) {
    for (const stream of [false, true]) {
      it(`same-protocol ${lane.protocol} ${stream ? 'stream' : 'buffered'} counts the upstream's usage once`, async () => {
        const [inBefore, outBefore] = await tokens(lane.model);
        await call(lane.protocol, lane.protocol, stream);
        assert.deepEqual(await tokens(lane.model), [inBefore + 1234, outBefore + 567]);
      });
    }
  }

  for (const [ingress, egress] of [
    ['openai', 'anthropic'],
    ['anthropic', 'bedrock'],
    ['gemini', 'cohere'],
    ['bedrock', 'responses'],
  ] as const) {
    for (const stream of [false, true]) {
      it(`cross-protocol ${ingress} → ${egress} ${stream ? 'stream' : 'buffered'} counts the upstream's usage once`, async () => {
        const [inBefore, outBefore] = await tokens(LANES[egress].model);
        await call(ingress, egress, stream);
        assert.deepEqual(await tokens(LANES[egress].model), [inBefore + 1234, outBefore + 567]);
      });
    }
  }

  it('a stream cut after the first byte is not counted', async () => {
    const [inBefore, outBefore] = await tokens(LANES.openai.model);
    mock.enqueue({ cutStreamAfterChunks: 2 });
    const { path, body } = rawRequest('openai', LANES.openai.model, true);
    const res = await postRaw(`${gw.url}${path}`, body, auth).catch(() => undefined);
    assert.ok(res === undefined || res.status === 200);
    assert.deepEqual(await tokens(LANES.openai.model), [inBefore, outBefore]);
  });
});
