// Signed reasoning on the IR (issue 20, item 2): which tool turns of a request lack it, what of an
// answer (whole or streamed) is worth remembering, and OpenAI Chat's reasoning_details both ways.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContentBlock, Message, Request, StreamEvent } from '../../src/protocols/ir.ts';
import { openaiCodec } from '../../src/protocols/openai/index.ts';
import {
  MAX_SIGNED_TURN_CHARS,
  MAX_TURNS_LOOKED_UP,
  ReasoningGatherer,
  signedTurnOf,
  unsignedToolTurns,
  withRestoredReasoning,
} from '../../src/protocols/signed-reasoning.ts';

const SIGNED = { type: 'thinking', thinking: 'Use the tool.', signature: 'sig' } as const;
const call = (id: string): ContentBlock => ({ type: 'tool_use', id, name: 'get_weather', input: {} });
const result = (id: string): Message => ({
  role: 'user',
  content: [{ type: 'tool_result', toolUseId: id, content: [{ type: 'text', text: 'sunny' }] }],
});
const ask = (text: string): Message => ({ role: 'user', content: [{ type: 'text', text }] });
const request = (messages: Message[]): Request => ({
  model: 'm',
  system: [],
  messages,
  tools: [],
  stop: [],
  stream: false,
  extra: {},
});

describe('unsignedToolTurns', () => {
  it('keys the tool turns of the loop in progress that lack signed reasoning, latest first', () => {
    const req = request([
      ask('q1'),
      { role: 'assistant', content: [call('toolu_old')] },
      result('toolu_old'),
      { role: 'assistant', content: [{ type: 'text', text: 'done' }] },
      ask('q2'),
      { role: 'assistant', content: [{ type: 'thinking', thinking: 'unsigned' }, call('call_A1')] },
      result('call_A1'),
      { role: 'assistant', content: [SIGNED, call('toolu_B2')] },
      result('toolu_B2'),
      { role: 'assistant', content: [call('tooluse_C3'), call('tooluse_C4')] },
      result('tooluse_C3'),
    ]);
    // The earlier loop ended with a text answer; B2 is signed; ids lose their protocol prefix.
    assert.deepEqual(unsignedToolTurns(req), ['C3', 'A1']);
  });

  it('is empty without tool calls in the history, and looks at most MAX_TURNS_LOOKED_UP turns up', () => {
    assert.deepEqual(unsignedToolTurns(request([ask('hi')])), []);
    const long: Message[] = [ask('go')];
    for (let i = 0; i < MAX_TURNS_LOOKED_UP + 4; i++)
      long.push({ role: 'assistant', content: [call(`call_${i}`)] }, result(`call_${i}`));
    const keys = unsignedToolTurns(request(long));
    assert.equal(keys.length, MAX_TURNS_LOOKED_UP);
    assert.equal(keys[0], String(MAX_TURNS_LOOKED_UP + 3));
  });
});

describe('withRestoredReasoning', () => {
  it('opens each remembered turn with its blocks, replacing unsigned reasoning; other turns stay', () => {
    const req = request([
      ask('q'),
      { role: 'assistant', content: [{ type: 'thinking', thinking: 'unsigned' }, call('call_A1')] },
      result('call_A1'),
      { role: 'assistant', content: [{ ...SIGNED, signature: 'own' }, call('call_B2')] },
      result('call_B2'),
    ]);
    const out = withRestoredReasoning(req, { A1: [SIGNED], B2: [SIGNED] });
    assert.deepEqual(out.messages[1]!.content, [SIGNED, call('call_A1')]);
    assert.equal(out.messages[3], req.messages[3], 'a turn with its own signed reasoning is left as it is');
  });
});

describe('what an answer leaves to remember', () => {
  it('a whole answer: its signed and redacted reasoning, keyed by its first tool call', () => {
    const redacted = { type: 'redacted_thinking', data: 'opaque' } as const;
    assert.deepEqual(
      signedTurnOf([SIGNED, redacted, { type: 'text', text: 'x' }, call('toolu_K1'), call('toolu_K2')]),
      {
        key: 'K1',
        blocks: [SIGNED, redacted],
      },
    );
    assert.equal(signedTurnOf([SIGNED, { type: 'text', text: 'no call' }]), undefined);
    assert.equal(signedTurnOf([{ type: 'thinking', thinking: 'unsigned' }, call('toolu_K1')]), undefined);
    const huge = { ...SIGNED, thinking: 'x'.repeat(MAX_SIGNED_TURN_CHARS) };
    assert.equal(signedTurnOf([huge, call('toolu_K1')]), undefined, 'too large to remember whole');
  });

  it('a stream: gathered across its pieces', () => {
    const g = new ReasoningGatherer();
    const events: StreamEvent[] = [
      { type: 'message_start', id: 'm', model: 'claude' },
      { type: 'block_start', index: 0, block: { type: 'thinking' } },
      { type: 'thinking_delta', index: 0, thinking: 'Use the ' },
      { type: 'thinking_delta', index: 0, thinking: 'tool.' },
      { type: 'signature_delta', index: 0, signature: 'sig' },
      { type: 'block_stop', index: 0 },
      { type: 'block_start', index: 1, block: { type: 'tool_use', id: 'tooluse_K1', name: 'get_weather' } },
      { type: 'tool_args_delta', index: 1, partialJson: '{}' },
      { type: 'block_stop', index: 1 },
      { type: 'message_delta', stopReason: 'tool_use' },
    ];
    for (const e of events) g.add(e);
    assert.deepEqual(g.turn(), { key: 'K1', blocks: [SIGNED] });
  });

  it('a stream whose reasoning passes the cap leaves nothing', () => {
    const g = new ReasoningGatherer();
    g.add({ type: 'block_start', index: 0, block: { type: 'thinking' } });
    g.add({ type: 'thinking_delta', index: 0, thinking: 'x'.repeat(MAX_SIGNED_TURN_CHARS) });
    g.add({ type: 'signature_delta', index: 0, signature: 'sig' });
    g.add({ type: 'block_start', index: 1, block: { type: 'tool_use', id: 'toolu_K1', name: 'f' } });
    assert.equal(g.turn(), undefined);
    assert.deepEqual(g.blocks(), []);
  });
});

describe('OpenAI Chat reasoning_details', () => {
  const answer = {
    id: 'msg_1',
    model: 'claude',
    content: [SIGNED, { type: 'redacted_thinking', data: 'opaque' }, call('toolu_K1')] as ContentBlock[],
    stopReason: 'tool_use' as const,
    usage: { inputTokens: 1, outputTokens: 1 },
  };

  it("are written on the answer's message and read back from the client's next turn as they were", () => {
    const message = (openaiCodec.writeResponse(answer).choices as { message: Record<string, unknown> }[])[0]!
      .message;
    assert.deepEqual(message.reasoning_details, [
      { type: 'reasoning.text', text: 'Use the tool.', signature: 'sig', format: 'unknown', index: 0 },
      { type: 'reasoning.encrypted', data: 'opaque', format: 'unknown', index: 1 },
    ]);
    assert.equal(message.reasoning_content, 'Use the tool.');
    const next = openaiCodec.readRequest(
      {
        model: 'm',
        messages: [
          { role: 'user', content: 'q' },
          // What the SDK hands back, reasoning_content included: read once, from reasoning_details.
          JSON.parse(JSON.stringify(message)),
          { role: 'tool', tool_call_id: 'call_K1', content: 'sunny' },
        ],
      },
      { model: 'm', stream: false },
    );
    assert.deepEqual(next.messages[1]!.content, [
      SIGNED,
      { type: 'redacted_thinking', data: 'opaque' },
      call('call_K1'),
    ]);
  });

  it('are left out when no reasoning is signed', () => {
    const plain = {
      ...answer,
      content: [{ type: 'thinking', thinking: 'unsigned' }, call('toolu_K1')] as ContentBlock[],
    };
    const message = (openaiCodec.writeResponse(plain).choices as { message: Record<string, unknown> }[])[0]!
      .message;
    assert.equal(message.reasoning_details, undefined);
    assert.equal(message.reasoning_content, 'unsigned');
  });

  it('travel in one whole delta before the finish of a stream', () => {
    const writer = openaiCodec.newStreamWriter({ includeUsage: false });
    const out = [
      { type: 'message_start', id: 'm', model: 'claude' },
      { type: 'block_start', index: 0, block: { type: 'thinking' } },
      { type: 'thinking_delta', index: 0, thinking: 'Use the ' },
      { type: 'thinking_delta', index: 0, thinking: 'tool.' },
      { type: 'signature_delta', index: 0, signature: 'sig' },
      { type: 'block_stop', index: 0 },
      { type: 'block_start', index: 1, block: { type: 'tool_use', id: 'toolu_K1', name: 'get_weather' } },
      { type: 'message_delta', stopReason: 'tool_use' },
      { type: 'message_stop' },
    ]
      .map((e) => writer.write(e as StreamEvent))
      .join('');
    const deltas = out
      .split('\n\n')
      .filter((frame) => frame.startsWith('data: {'))
      .map((frame) => JSON.parse(frame.slice(6)).choices[0].delta);
    const withDetails = deltas.filter((d) => d.reasoning_details !== undefined);
    assert.deepEqual(withDetails, [
      {
        reasoning_details: [
          { type: 'reasoning.text', text: 'Use the tool.', signature: 'sig', format: 'unknown', index: 0 },
        ],
      },
    ]);
    assert.deepEqual(deltas.at(-1), {}, 'the finish chunk comes after it');
  });
});
