// Issue 20, item 2: extended thinking across a tool loop. With thinking on, Claude (the mock's
// Anthropic and Converse wires enforce it as the real APIs do) refuses the turn that continues a
// tool loop unless it starts with the signed thinking it answered with. An OpenAI Chat client gets
// the signature in `reasoning_details` and hands it back with the message; a Cohere client (or an
// OpenAI client library that rebuilds the message) cannot, and the gateway restores the reasoning
// it remembered for that caller. A forged tool-call id, or a real one sent by another caller,
// restores nothing: the upstream's refusal comes back.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CohereError } from 'cohere-ai';
import OpenAI from 'openai';
import type { Protocol } from '../../src/protocols/names.ts';
import { type Gateway, startGateway } from '../support/gateway-process.ts';
import { governanceYaml, mintKey, tempDbPath } from '../support/governance.ts';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.ts';
import { mockSignatureHolds } from '../support/mock-wire/shared.ts';
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
const MODES = [false, true] as const;
const modeName = (stream: boolean): string => (stream ? 'streamed' : 'whole');
const REFUSED = /Expected `thinking` or `redacted_thinking`, but found `tool_use`/;
/**
 * Toward Converse the gateway passes a Cohere client's unsigned reasoning text on (Bedrock carries
 * reasoning without a signature for other models), and Claude refuses that instead.
 */
const REFUSED_UNSIGNED = /content\.0\.thinking\.signature: Field required/;

/** The assistant turn of the upstream's last request, and whether it opens with the mock's signed thinking. */
function upstreamTurnIsSigned(mock: MockUpstream, protocol: Protocol): boolean {
  const body = mock.last()!.json() as { messages: { role: string; content: Record<string, unknown>[] }[] };
  const turn = body.messages.find((m) => m.role === 'assistant')!;
  const first = turn.content[0]!;
  if (protocol === 'anthropic')
    return first.type === 'thinking' && mockSignatureHolds(first.thinking, first.signature);
  const text = (
    first.reasoningContent as { reasoningText?: { text: unknown; signature: unknown } } | undefined
  )?.reasoningText;
  return text !== undefined && mockSignatureHolds(text.text, text.signature);
}

/** The refusal a client SDK raised: its status and message. */
function refusal(err: unknown): { status: number | undefined; message: string } {
  if (err instanceof OpenAI.APIError) return { status: err.status, message: err.message };
  if (err instanceof CohereError) return { status: err.statusCode, message: JSON.stringify(err.body) };
  throw err;
}

async function refused(turn: Promise<string>): Promise<{ status: number | undefined; message: string }> {
  try {
    await turn;
  } catch (err) {
    return refusal(err);
  }
  assert.fail('the second turn was expected to be refused');
}

describe('signed reasoning across a tool loop (auth.mode: token)', () => {
  let mock: MockUpstream;
  let gw: Gateway;
  before(async () => {
    mock = await startMockUpstream({ toolCall: LOOP_TOOL_CALL });
    gw = await startGateway({
      configYaml: claudeLanesConfig(),
      providersYaml: claudeLanesCatalog(mock.url),
      env: claudeLanesEnv(),
    });
  });
  after(async () => {
    await gw?.stop();
    await mock?.close();
  });

  const client = (token: string, lane: Protocol = 'anthropic'): LoopClient => ({
    baseUrl: gw.url,
    token,
    name: LANES[lane].model,
  });
  const [tokenA, tokenB] = LOOP_TOKENS;

  for (const stream of MODES) {
    it(`OpenAI Chat, ${modeName(stream)}: the SDK's own message carries reasoning_details, and turn 2 succeeds`, async () => {
      const c = client(tokenA);
      const first = await openaiFirstTurn(c, stream);
      assert.equal(first.tool_calls?.length, 1);
      const details = (first as unknown as { reasoning_details?: Record<string, unknown>[] })
        .reasoning_details;
      assert.equal(details?.length, 1, 'one reasoning item');
      assert.equal(details[0]!.type, 'reasoning.text');
      assert.ok(
        mockSignatureHolds(details[0]!.text, details[0]!.signature),
        'the signature Claude issued, whole',
      );
      mock.enqueue({ toolCall: undefined, text: AFTER_TOOL });
      assert.equal(await openaiSecondTurn(c, stream, first as OpenAI.ChatCompletionMessageParam), AFTER_TOOL);
      assert.ok(upstreamTurnIsSigned(mock, 'anthropic'));
    });

    it(`OpenAI Chat, ${modeName(stream)}: a message rebuilt without reasoning_details gets its reasoning restored`, async () => {
      const c = client(tokenA);
      const first = await openaiFirstTurn(c, stream);
      mock.enqueue({ toolCall: undefined, text: AFTER_TOOL });
      assert.equal(await openaiSecondTurn(c, stream, openaiRebuilt(first)), AFTER_TOOL);
      assert.ok(upstreamTurnIsSigned(mock, 'anthropic'));
    });

    for (const lane of ['anthropic', 'bedrock'] as const) {
      it(`Cohere v2, ${modeName(stream)}, Claude on ${lane}: turn 2 succeeds without a signature in the client's hands`, async () => {
        const c = client(tokenA, lane);
        const first = await cohereFirstTurn(c, stream);
        const carried = JSON.stringify(first);
        assert.match(carried, /Mock reasoning/, 'the client sees the reasoning text');
        assert.doesNotMatch(carried, /signature/i, 'but has no place for its signature');
        mock.enqueue({ toolCall: undefined, text: AFTER_TOOL });
        assert.equal(await cohereSecondTurn(c, stream, first), AFTER_TOOL);
        assert.ok(upstreamTurnIsSigned(mock, lane));
      });
    }
  }

  it('a forged tool-call id restores nothing: the upstream refusal reaches the client', async () => {
    const c = client(tokenA);
    const first = openaiRebuilt(await openaiFirstTurn(c, false));
    assert.ok('tool_calls' in first && first.tool_calls !== undefined);
    const forged: OpenAI.ChatCompletionMessageParam = {
      ...first,
      tool_calls: first.tool_calls.map((call) => ({ ...call, id: 'call_forgedmock000000000000' })),
    };
    const r = await refused(openaiSecondTurn(c, false, forged));
    assert.equal(r.status, 400);
    assert.match(r.message, REFUSED);
    assert.ok(!upstreamTurnIsSigned(mock, 'anthropic'));
  });

  it("a real id sent by another client token restores nothing, and its own caller's turn still does", async () => {
    const first = await openaiFirstTurn(client(tokenA), false);
    const r = await refused(openaiSecondTurn(client(tokenB), false, openaiRebuilt(first)));
    assert.equal(r.status, 400);
    assert.match(r.message, REFUSED);
    assert.ok(!upstreamTurnIsSigned(mock, 'anthropic'));

    const cohereFirst = await cohereFirstTurn(client(tokenA, 'bedrock'), true);
    const c = await refused(cohereSecondTurn(client(tokenB, 'bedrock'), false, cohereFirst));
    assert.equal(c.status, 400);
    assert.match(c.message, REFUSED_UNSIGNED);
    assert.ok(!upstreamTurnIsSigned(mock, 'bedrock'));

    mock.enqueue({ toolCall: undefined, text: AFTER_TOOL });
    assert.equal(await openaiSecondTurn(client(tokenA), false, openaiRebuilt(first)), AFTER_TOOL);
    mock.enqueue({ toolCall: undefined, text: AFTER_TOOL });
    assert.equal(await cohereSecondTurn(client(tokenA, 'bedrock'), false, cohereFirst), AFTER_TOOL);
  });

  it('reasoning signed by one upstream protocol is not restored toward another', async () => {
    // Turn 1 on Claude through Anthropic, turn 2 sent to Claude on Bedrock.
    const first = await cohereFirstTurn(client(tokenA, 'anthropic'), false);
    const r = await refused(cohereSecondTurn(client(tokenA, 'bedrock'), false, first));
    assert.equal(r.status, 400);
    // The mock's two wires verify the same signatures: a wrong restore would have passed.
    assert.match(r.message, REFUSED_UNSIGNED);
    assert.ok(!upstreamTurnIsSigned(mock, 'bedrock'));
  });
});

describe('signed reasoning across a tool loop (governance virtual keys)', () => {
  let mock: MockUpstream;
  let gw: Gateway;
  before(async () => {
    mock = await startMockUpstream({ toolCall: LOOP_TOOL_CALL });
    gw = await startGateway({
      configYaml: claudeLanesConfig(governanceYaml(tempDbPath())),
      providersYaml: claudeLanesCatalog(mock.url),
      env: claudeLanesEnv(),
    });
  });
  after(async () => {
    await gw?.stop();
    await mock?.close();
  });

  it('a real id sent with another virtual key restores nothing; with its own key the turn succeeds', async () => {
    const a = await mintKey(gw.url);
    const b = await mintKey(gw.url);
    const as = (secret: string): LoopClient => ({
      baseUrl: gw.url,
      token: secret,
      name: LANES.anthropic.model,
    });
    const first = await cohereFirstTurn(as(a.secret), false);
    const r = await refused(cohereSecondTurn(as(b.secret), false, first));
    assert.equal(r.status, 400);
    assert.match(r.message, REFUSED);
    mock.enqueue({ toolCall: undefined, text: AFTER_TOOL });
    assert.equal(await cohereSecondTurn(as(a.secret), false, first), AFTER_TOOL);
  });
});
