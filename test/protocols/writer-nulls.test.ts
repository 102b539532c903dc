// Writers emit no null where the official SDK's type does not allow one, and no empty placeholder
// where the provider sends nothing (issue 10, item 10). Every protocol's response fixtures are read
// into the IR and written by all six writers, whole and streamed, with a few edge cases added.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameDecoder } from '../../src/protocols/bedrock/eventstream.ts';
import { CODECS } from '../../src/protocols/codecs.ts';
import type { JsonValue, Response, StreamEvent } from '../../src/protocols/ir.ts';
import { PROTOCOLS, type Protocol } from '../../src/protocols/names.ts';
import { SseParser } from '../../src/protocols/sse.ts';
import { eventsOf, fixtures, readJson } from '../support/protocol-harness.ts';

/** Where the SDK types allow null (`T | null`), by protocol; `[]` is any array item. */
const RESPONSES_NULLABLE = [
  'error',
  'incomplete_details',
  'instructions',
  'max_output_tokens',
  'previous_response_id',
  'reasoning.effort',
  'reasoning.summary',
  'temperature',
  'top_p',
];
const NULLABLE: Record<Protocol, { whole: readonly string[]; stream: readonly string[] }> = {
  // ChatCompletion / ChatCompletionChunk; the error envelope's param and code.
  openai: {
    whole: ['choices[].message.content', 'choices[].message.refusal', 'choices[].logprobs'],
    stream: ['choices[].finish_reason', 'choices[].logprobs', 'error.param', 'error.code'],
  },
  // Response; ResponseStreamEvent (the response snapshots, ResponseErrorEvent).
  responses: {
    whole: RESPONSES_NULLABLE,
    stream: [...RESPONSES_NULLABLE.map((p) => `response.${p}`), 'code', 'param'],
  },
  // Message; MessageStartEvent and MessageDeltaEvent (citations are left out: the Vercel AI SDK
  // rejects a null there although the SDK type allows it).
  anthropic: {
    whole: ['stop_reason', 'stop_sequence'],
    stream: ['message.stop_reason', 'message.stop_sequence', 'delta.stop_reason', 'delta.stop_sequence'],
  },
  // Proto3 JSON (Gemini) and the Cohere and Bedrock SDKs have no nullable response fields.
  gemini: { whole: [], stream: [] },
  cohere: { whole: [], stream: [] },
  bedrock: { whole: [], stream: [] },
};

function nullPaths(value: JsonValue, path: string, out: Set<string>): Set<string> {
  if (value === null) out.add(path);
  else if (Array.isArray(value)) for (const item of value) nullPaths(item, `${path}[]`, out);
  else if (typeof value === 'object')
    for (const [key, inner] of Object.entries(value))
      nullPaths(inner, path === '' ? key : `${path}.${key}`, out);
  return out;
}

/** The JSON payloads of a writer's whole stream. */
function payloads(protocol: Protocol, events: readonly StreamEvent[]): JsonValue[] {
  const writer = CODECS[protocol].newStreamWriter({ framing: 'sse' });
  const chunks = [...events.map((e) => writer.write(e)), writer.end()];
  if (protocol === 'bedrock') {
    const decoder = new FrameDecoder();
    const frames = chunks.flatMap((c) => decoder.push(typeof c === 'string' ? Buffer.from(c) : c).frames);
    return frames.map((f) => JSON.parse(f.payload) as JsonValue);
  }
  const parser = new SseParser();
  const frames = chunks.flatMap((c) => parser.push(c));
  return frames.filter((f) => f.data !== '[DONE]').map((f) => JSON.parse(f.data) as JsonValue);
}

const UNSIGNED: Response = {
  id: 'r',
  model: '',
  content: [
    { type: 'thinking', thinking: 'unsigned reasoning' },
    { type: 'thinking', thinking: '', signature: 'sig-on-its-own' },
    { type: 'text', text: '' },
    { type: 'text', text: 'answer' },
    { type: 'tool_use', id: 'c1', name: 'f', input: {} },
  ],
  stopReason: 'tool_use',
  usage: { inputTokens: 3, outputTokens: 4 },
};

/** Every fixture response read by its own protocol, and edge cases. */
const RESPONSES: Response[] = [
  ...PROTOCOLS.flatMap((p) =>
    fixtures(p, 'response-', '.json').map((name) => CODECS[p].readResponse(readJson<JsonValue>(p, name))),
  ),
  UNSIGNED,
];

/** Canonical streams of those responses, one without usage, and one ending in an error. */
const STREAMS: StreamEvent[][] = [
  ...RESPONSES.map((r) => eventsOf(r, { startUsage: true })),
  eventsOf(UNSIGNED).map((e) =>
    e.type === 'message_delta' ? { type: e.type, stopReason: e.stopReason } : e,
  ),
  [
    ...eventsOf(UNSIGNED).slice(0, 3),
    { type: 'error', error: { kind: 'overloaded', status: 529, message: 'Overloaded.' } },
  ],
];

for (const protocol of PROTOCOLS) {
  describe(`${protocol} writers emit null only where the SDK type allows it`, () => {
    const allowed = NULLABLE[protocol];

    it('whole responses', () => {
      for (const res of RESPONSES) {
        const nulls = nullPaths(CODECS[protocol].writeResponse(res), '', new Set());
        for (const path of nulls) assert.ok(allowed.whole.includes(path), `null at ${path}`);
      }
    });

    it('streams', () => {
      for (const events of STREAMS) {
        for (const payload of payloads(protocol, events)) {
          for (const path of nullPaths(payload, '', new Set()))
            assert.ok(allowed.stream.includes(path), `null at ${path} in ${JSON.stringify(payload)}`);
        }
      }
    });
  });
}

describe('writers omit fields that have no value', () => {
  const whole = (p: Protocol): string => JSON.stringify(CODECS[p].writeResponse(UNSIGNED));
  const streamed = (p: Protocol): string => JSON.stringify(payloads(p, eventsOf(UNSIGNED)));

  it('anthropic: no unsigned thinking block in a whole answer (a signature is required)', () => {
    assert.deepEqual(JSON.parse(whole('anthropic')).content, [
      { type: 'thinking', thinking: '', signature: 'sig-on-its-own' },
      { type: 'text', text: '' },
      { type: 'text', text: 'answer' },
      { type: 'tool_use', id: 'toolu_c1', name: 'f', input: {} },
    ]);
  });

  it('anthropic and bedrock streams: no empty deltas', () => {
    const empty: StreamEvent[] = [
      { type: 'message_start', id: 'r', model: 'm' },
      { type: 'block_start', index: 0, block: { type: 'thinking' } },
      { type: 'thinking_delta', index: 0, thinking: '' },
      { type: 'signature_delta', index: 0, signature: '' },
      { type: 'block_stop', index: 0 },
      { type: 'block_start', index: 1, block: { type: 'text' } },
      { type: 'text_delta', index: 1, text: '' },
      { type: 'text_delta', index: 1, text: 'answer' },
      { type: 'block_stop', index: 1 },
      { type: 'message_delta', stopReason: 'end_turn' },
      { type: 'message_stop' },
    ];
    assert.doesNotMatch(
      JSON.stringify(payloads('anthropic', empty)),
      /_delta","(text|thinking|signature)":""/,
    );
    assert.doesNotMatch(JSON.stringify(payloads('bedrock', empty)), /"(text|signature)":""/);
  });

  it('openai: no empty reasoning_content', () => {
    const empty: Response = { ...UNSIGNED, content: [{ type: 'thinking', thinking: '', signature: 's' }] };
    assert.equal(
      'reasoning_content' in
        JSON.parse(JSON.stringify(CODECS.openai.writeResponse(empty))).choices[0].message,
      false,
    );
  });

  it('responses: no usage key until usage is known', () => {
    const created = payloads('responses', eventsOf(UNSIGNED))[0] as { response: object };
    assert.equal('usage' in created.response, false);
  });

  it('gemini: no empty modelVersion or thoughtSignature', () => {
    assert.doesNotMatch(whole('gemini') + streamed('gemini'), /"(modelVersion|thoughtSignature)":""/);
    const blank: Response = { ...UNSIGNED, content: [{ type: 'thinking', thinking: 't', signature: '' }] };
    assert.doesNotMatch(JSON.stringify(CODECS.gemini.writeResponse(blank)), /thoughtSignature/);
  });

  it('bedrock: no empty reasoning signature', () => {
    const blank: Response = { ...UNSIGNED, content: [{ type: 'thinking', thinking: 't', signature: '' }] };
    assert.doesNotMatch(JSON.stringify(CODECS.bedrock.writeResponse(blank)), /signature/);
  });
});
