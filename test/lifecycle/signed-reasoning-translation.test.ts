// Issue 20, item 2, at the translation: a client's tool turn without signed reasoning is reported
// (by its key) only when the upstream's body demands it and the client's protocol may have dropped
// it; remembered reasoning handed to the translation opens that turn in the upstream body. Both
// inline and on the worker thread, which must carry the new fields across.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OFF_THREAD_BYTES, type TranslationJob, translate } from '../../src/lifecycle/translate-request.ts';
import type { Protocol } from '../../src/protocols/names.ts';

const SIGNED = { type: 'thinking', thinking: 'I need the weather tool.', signature: 'sig-1' } as const;

/** A Cohere client's second turn of a tool loop, its reasoning text without a signature. */
function cohereTurn(thinking: object | undefined, pad = ''): object {
  return {
    model: 'm',
    ...(thinking === undefined ? {} : { thinking }),
    tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
    messages: [
      { role: 'user', content: `Weather in Paris?${pad}` },
      {
        role: 'assistant',
        content: [{ type: 'thinking', thinking: 'I need the weather tool.' }],
        tool_calls: [
          { id: 'toolu_01Abc', type: 'function', function: { name: 'get_weather', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'toolu_01Abc', content: '{"temp_c":21}' },
    ],
  };
}

function job(ingress: Protocol, upstream: Protocol, body: object): TranslationJob {
  return {
    ingress,
    upstream,
    body: Buffer.from(JSON.stringify(body)),
    name: 'm',
    stream: false,
    model: 'up',
    operation: 'chat',
    defaultMaxTokens: 4096,
  };
}

const THINKING_ON = { type: 'enabled', token_budget: 2048 };

for (const [where, pad] of [
  ['inline', ''],
  ['on the worker thread', 'x'.repeat(OFF_THREAD_BYTES)],
] as const) {
  describe(`translating a tool loop's next turn ${where}`, () => {
    it('reports the unsigned tool turn by its key toward an upstream that demands signed reasoning', async () => {
      const t = await translate(job('cohere', 'anthropic', cohereTurn(THINKING_ON, pad)));
      assert.deepEqual(t.unsignedTurns, ['01Abc']);
      const turn = JSON.parse(t.body.toString()).messages[1];
      assert.equal(turn.content[0].type, 'tool_use', 'the unsigned reasoning is not sent to Anthropic');
    });

    it('puts remembered reasoning at the head of that turn, in place of the unsigned text', async () => {
      const t = await translate({
        ...job('cohere', 'anthropic', cohereTurn(THINKING_ON, pad)),
        restoredReasoning: { '01Abc': [SIGNED] },
      });
      assert.equal(t.unsignedTurns, undefined);
      const turn = JSON.parse(t.body.toString()).messages[1];
      assert.deepEqual(turn.content[0], SIGNED);
      assert.equal(turn.content[1].type, 'tool_use');
      assert.equal(turn.content.length, 2);
    });

    it('toward Converse, the restored block replaces the unsigned reasoning text', async () => {
      const t = await translate({
        ...job('cohere', 'bedrock', cohereTurn(THINKING_ON, pad)),
        restoredReasoning: { '01Abc': [SIGNED] },
      });
      const turn = JSON.parse(t.body.toString()).messages[1];
      assert.deepEqual(turn.content[0], {
        reasoningContent: { reasoningText: { text: SIGNED.thinking, signature: SIGNED.signature } },
      });
      assert.ok(turn.content[1].toolUse);
      assert.equal(turn.content.length, 2);
    });
  });
}

describe('nothing to restore', () => {
  it('with thinking off, toward an upstream that does not demand it, or from a client that keeps signatures', async () => {
    assert.equal(
      (await translate(job('cohere', 'anthropic', cohereTurn(undefined)))).unsignedTurns,
      undefined,
    );
    assert.equal(
      (await translate(job('cohere', 'gemini', cohereTurn(THINKING_ON)))).unsignedTurns,
      undefined,
    );
    const anthropicClient = {
      model: 'm',
      max_tokens: 4096,
      thinking: { type: 'enabled', budget_tokens: 2048 },
      messages: [
        { role: 'user', content: 'Weather?' },
        {
          role: 'assistant',
          content: [{ type: 'tool_use', id: 'toolu_01Abc', name: 'get_weather', input: {} }],
        },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01Abc', content: 'sunny' }] },
      ],
    };
    assert.equal((await translate(job('anthropic', 'bedrock', anthropicClient))).unsignedTurns, undefined);
  });

  it('a turn that already carries its signed reasoning (OpenAI reasoning_details) is not looked up', async () => {
    const body = {
      model: 'm',
      reasoning_effort: 'low',
      messages: [
        { role: 'user', content: 'Weather?' },
        {
          role: 'assistant',
          content: null,
          reasoning_details: [
            { type: 'reasoning.text', text: SIGNED.thinking, signature: 'sig-1', index: 0 },
          ],
          tool_calls: [
            { id: 'call_01Abc', type: 'function', function: { name: 'get_weather', arguments: '{}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_01Abc', content: 'sunny' },
      ],
    };
    const t = await translate(job('openai', 'anthropic', body));
    assert.equal(t.unsignedTurns, undefined);
    assert.deepEqual(JSON.parse(t.body.toString()).messages[1].content[0], SIGNED);
  });
});
