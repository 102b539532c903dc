// Issue 20, item 2 under `workers: 2`: the primary holds the remembered reasoning and workers ask it
// over IPC (a worker keeps none itself), so a tool loop whose turns land on different workers still
// gets its signed reasoning back, and a forged id still gets nothing.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { Agent } from 'undici';
import { type Gateway, startGateway } from '../support/gateway-process.ts';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.ts';
import { LANES } from '../support/six-providers.ts';
import {
  claudeLanesCatalog,
  claudeLanesConfig,
  claudeLanesEnv,
  cohereFirstTurn,
  cohereSecondTurn,
  LOOP_TOKENS,
  LOOP_TOOL_CALL,
  type LoopClient,
  openaiFirstTurn,
  openaiRebuilt,
  openaiSecondTurn,
} from '../support/tool-loop-clients.ts';

const AFTER_TOOL = 'Sunny and 21 degrees in Paris.';
/** Each loop runs this often, so its turns meet both workers. */
const ROUNDS = 3;

describe('signed reasoning across a tool loop (workers: 2)', () => {
  let mock: MockUpstream;
  let gw: Gateway;
  const agents: Agent[] = [];
  /** A fresh connection per request: the cluster hands each to the next worker in turn. */
  const freshConnection = ((input: string | URL | Request, init?: RequestInit) => {
    const dispatcher = new Agent({ pipelining: 0 });
    agents.push(dispatcher);
    return fetch(input, { ...init, dispatcher } as RequestInit);
  }) as typeof fetch;

  before(async () => {
    mock = await startMockUpstream({ toolCall: LOOP_TOOL_CALL });
    gw = await startGateway({
      configYaml: claudeLanesConfig('workers: 2'),
      providersYaml: claudeLanesCatalog(mock.url),
      env: claudeLanesEnv(),
    });
  });
  after(async () => {
    // The gateway's shutdown waits for idle client connections.
    await Promise.all(agents.map((a) => a.close()));
    await gw?.stop();
    await mock?.close();
  });

  const client = (lane: 'anthropic' | 'bedrock' = 'anthropic'): LoopClient => ({
    baseUrl: gw.url,
    token: LOOP_TOKENS[0],
    name: LANES[lane].model,
    fetch: freshConnection,
  });

  for (const stream of [false, true]) {
    const mode = stream ? 'streamed' : 'whole';
    it(`OpenAI Chat, ${mode}: as the SDK returned it, and rebuilt without reasoning_details`, async () => {
      for (let i = 0; i < ROUNDS; i++) {
        const first = await openaiFirstTurn(client(), stream);
        mock.enqueue({ toolCall: undefined, text: AFTER_TOOL });
        assert.equal(
          await openaiSecondTurn(client(), stream, first as OpenAI.ChatCompletionMessageParam),
          AFTER_TOOL,
        );
        mock.enqueue({ toolCall: undefined, text: AFTER_TOOL });
        assert.equal(await openaiSecondTurn(client(), stream, openaiRebuilt(first)), AFTER_TOOL);
      }
    });

    it(`Cohere v2, ${mode}: Claude on Anthropic and on Bedrock`, async () => {
      for (let i = 0; i < ROUNDS; i++) {
        for (const lane of ['anthropic', 'bedrock'] as const) {
          const first = await cohereFirstTurn(client(lane), stream);
          mock.enqueue({ toolCall: undefined, text: AFTER_TOOL });
          assert.equal(await cohereSecondTurn(client(lane), stream, first), AFTER_TOOL);
        }
      }
    });
  }

  it('a forged tool-call id restores nothing: the upstream refusal reaches the client', async () => {
    const first = openaiRebuilt(await openaiFirstTurn(client(), false));
    assert.ok('tool_calls' in first && first.tool_calls !== undefined);
    const forged: OpenAI.ChatCompletionMessageParam = {
      ...first,
      tool_calls: first.tool_calls.map((call) => ({ ...call, id: 'call_forgedmock000000000000' })),
    };
    await assert.rejects(
      openaiSecondTurn(client(), false, forged),
      (err: unknown) =>
        err instanceof OpenAI.APIError && err.status === 400 && /Expected `thinking`/.test(err.message),
    );
  });
});
