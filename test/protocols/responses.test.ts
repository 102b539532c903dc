// OpenAI Responses codec: golden fixtures (wire captures written from the API reference), stream
// reassembly at every byte boundary, item ids/status/annotations, SDK compatibility and a seeded
// write→read round trip.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import OpenAI from 'openai';
import { anthropicCodec } from '../../src/protocols/anthropic/index.ts';
import type { JsonObject, Response, StreamEvent } from '../../src/protocols/ir.ts';
import { openaiCodec } from '../../src/protocols/openai/index.ts';
import { responsesCodec } from '../../src/protocols/responses/index.ts';
import {
  assertSplitInvariant,
  carried,
  essence,
  eventsOf,
  fetchReturning,
  fixtures,
  fold,
  genRequest,
  genResponse,
  golden,
  hostileInput,
  normalised,
  normaliseIds,
  oddOrder,
  type RequestCaps,
  type ResponseCaps,
  Rng,
  readJson,
  readText,
  replay,
  sse,
  writeText,
} from '../support/protocol-harness.ts';

const P = 'responses';
const codec = responsesCodec;

const writeAll = (events: readonly StreamEvent[]): string => writeText(codec.newStreamWriter(), events);

function parseFrames(text: string): JsonObject[] {
  return text
    .split('\n\n')
    .filter((f) => f !== '')
    .map((f) => {
      const [event, data] = f.split('\n');
      const body = JSON.parse(data!.slice(6)) as JsonObject;
      assert.equal(event, `event: ${body.type}`);
      return body;
    });
}

const SAMPLE: Response = {
  id: 'msg_upstream',
  model: 'claude-sonnet-4-5',
  created: 1_750_000_000,
  content: [
    { type: 'thinking', thinking: 'Considering the tools.', signature: 'sig-xyz' },
    { type: 'text', text: 'Checking ' },
    { type: 'text', text: 'the weather.' },
    { type: 'tool_use', id: 'toolu_01A', name: 'get_weather', input: { city: 'Paris' } },
  ],
  stopReason: 'tool_use',
  usage: { inputTokens: 300, outputTokens: 40, cacheReadInputTokens: 256, reasoningTokens: 12 },
};

describe('responses requests', () => {
  for (const name of fixtures(P, 'request-', '.json')) {
    it(`reads and writes ${name}`, () => {
      const body = readJson(P, name);
      const ir = codec.readRequest(body, { model: 'lane-model', stream: body.stream === true });
      const written = codec.writeRequest(ir, { model: 'upstream-model', defaultMaxTokens: 4096 });
      golden(P, name.replace('.json', '.golden.json'), { ir, written });
    });
  }

  it('canonicalises instructions and system/developer items, groups calls and outputs into turns', () => {
    const ir = codec.readRequest(readJson(P, 'request-items.json'), { model: 'm', stream: false });
    assert.deepEqual(
      ir.system.map((b) => b.text),
      ['Only answer about images.', 'Be brief.'],
    );
    assert.deepEqual(
      ir.messages.map((m) => [m.role, m.content.map((b) => b.type).join(',')]),
      [
        ['user', 'text,image,image,document,document'],
        ['assistant', 'thinking,text,tool_use'],
        ['user', 'tool_result'],
        ['user', 'text'],
      ],
    );
    const thinking = ir.messages[1]?.content[0];
    assert.deepEqual(thinking, {
      type: 'thinking',
      thinking: '**Looking at the images**\n\nA boardwalk.',
      signature: 'gAAAAABoSecretBlob==',
    });
  });

  it('writes non-strict function tools, max_output_tokens and no stop sequences', () => {
    const ir = codec.readRequest(readJson(P, 'request-tools.json'), { model: 'm', stream: false });
    const out = codec.writeRequest(
      { ...ir, stop: ['END'], maxTokens: 99 },
      { model: 'up', defaultMaxTokens: 4096 },
    );
    assert.equal((out.tools as JsonObject[])[0]!.strict, false);
    assert.equal(out.max_output_tokens, 99);
    assert.equal(out.stop, undefined);
  });

  it('probes with the smallest output budget the API accepts', () => {
    assert.deepEqual(codec.probeBody('gpt-4.1'), { model: 'gpt-4.1', input: 'ping', max_output_tokens: 16 });
  });
});

describe('responses responses', () => {
  for (const name of fixtures(P, 'response-', '.json')) {
    it(`reads and writes ${name}`, () => {
      const body = readJson(P, name);
      const ir = codec.readResponse(body);
      assert.deepEqual(codec.usageFromResponse(body), ir.usage);
      golden(P, name.replace('.json', '.golden.json'), { ir, written: normalised(codec.writeResponse(ir)) });
    });
  }

  it('gives every output item an id and status, and text parts annotations (P-XLT-10)', () => {
    const out = codec.writeResponse(SAMPLE);
    assert.match(out.id as string, /^resp_[A-Za-z0-9]{24}$/);
    assert.equal(out.status, 'completed');
    const items = out.output as JsonObject[];
    assert.deepEqual(
      items.map((i) => [i.type, String(i.id).replace(/_.*/, '_'), i.status]),
      [
        ['reasoning', 'rs_', 'completed'],
        ['message', 'msg_', 'completed'],
        ['function_call', 'fc_', 'completed'],
      ],
    );
    const parts = items[1]!.content as JsonObject[];
    assert.equal(parts.length, 2);
    for (const p of parts) assert.deepEqual(p.annotations, []);
    assert.equal(items[2]!.call_id, 'call_01A');
    assert.equal(items[0]!.encrypted_content, 'sig-xyz');
  });

  it('renders max_tokens as incomplete', () => {
    const out = codec.writeResponse({ ...SAMPLE, stopReason: 'max_tokens' });
    assert.equal(out.status, 'incomplete');
    assert.deepEqual(out.incomplete_details, { reason: 'max_output_tokens' });
  });

  it('parses with the official SDK', async () => {
    const client = new OpenAI({
      apiKey: 'k',
      baseURL: 'http://gateway.test/v1',
      fetch: fetchReturning(JSON.stringify(codec.writeResponse(SAMPLE)), 'application/json'),
    });
    const res = await client.responses.create({ model: 'x', input: 'hi' });
    assert.equal(res.output_text, 'Checking the weather.');
    assert.equal(res.usage?.input_tokens, 300);
  });
});

describe('responses stream reader', () => {
  for (const name of fixtures(P, 'stream-', '.sse')) {
    it(`reassembles ${name} identically at every byte boundary`, () => {
      const bytes = sse(readText(P, name));
      const events = assertSplitInvariant(() => codec.newStreamReader(), bytes);
      fold(events);
      golden(P, name.replace('.sse', '.golden.json'), events);
    });
  }

  it('reads reasoning summaries with their encrypted content and function call arguments', () => {
    const f = fold(replay(codec.newStreamReader(), [sse(readText(P, 'stream-tools.sse'))]));
    assert.deepEqual(f.content, [
      { type: 'thinking', thinking: '**Weather lookup**\n\nNeed Paris.', signature: 'gAAAAABoEnc==' },
      {
        type: 'tool_use',
        id: 'call_Xq7UXWRU4h6rSWBGjIj1R0tm',
        name: 'get_weather',
        input: { location: 'Paris, France' },
      },
    ]);
    assert.equal(f.stopReason, 'tool_use');
    assert.deepEqual(f.usage, {
      inputTokens: 81,
      outputTokens: 120,
      cacheReadInputTokens: 64,
      reasoningTokens: 96,
      totalTokens: 201,
    });
  });

  it('maps incomplete to max_tokens and failed/error/truncation to an error event', () => {
    const events = (name: string): StreamEvent[] => replay(codec.newStreamReader(), [sse(readText(P, name))]);
    assert.equal(fold(events('stream-incomplete.sse')).stopReason, 'max_tokens');
    assert.deepEqual(events('stream-error.sse').at(-1), {
      type: 'error',
      error: {
        kind: 'rate_limit_error',
        status: 429,
        message: 'Rate limit reached for requests',
        code: 'rate_limit_exceeded',
      },
    });
    assert.equal(events('stream-failed.sse').at(-1)?.type, 'error');
    assert.equal(events('stream-truncated.sse').at(-1)?.type, 'error');
  });

  it('never throws on garbage', () => {
    const rng = new Rng(5);
    for (let i = 0; i < 200; i++) {
      const bytes = Uint8Array.from({ length: rng.int(0, 300) }, () =>
        rng.pick([10, 13, 58, 32, 100, 97, 123, 125, 34, rng.int(0, 255)]),
      );
      assert.equal(replay(codec.newStreamReader(), [bytes]).at(-1)?.type, 'error');
    }
  });
});

describe('responses stream writer', () => {
  it('numbers every event and emits the item lifecycle', () => {
    const text = writeAll(eventsOf(SAMPLE));
    golden(P, 'write-sample.golden.sse', normaliseIds(text));
    const frames = parseFrames(text);
    assert.deepEqual(
      frames.map((f) => f.sequence_number),
      frames.map((_, i) => i),
    );
    assert.deepEqual(
      frames.map((f) => f.type),
      [
        'response.created',
        'response.in_progress',
        'response.output_item.added',
        'response.reasoning_summary_part.added',
        'response.reasoning_summary_text.delta',
        'response.reasoning_summary_text.delta',
        'response.reasoning_summary_text.delta',
        'response.reasoning_summary_text.delta',
        'response.reasoning_summary_text.done',
        'response.reasoning_summary_part.done',
        'response.output_item.done',
        'response.output_item.added',
        'response.content_part.added',
        'response.output_text.delta',
        'response.output_text.delta',
        'response.output_text.done',
        'response.content_part.done',
        'response.content_part.added',
        'response.output_text.delta',
        'response.output_text.delta',
        'response.output_text.done',
        'response.content_part.done',
        'response.output_item.done',
        'response.output_item.added',
        'response.function_call_arguments.delta',
        'response.function_call_arguments.delta',
        'response.function_call_arguments.delta',
        'response.function_call_arguments.done',
        'response.output_item.done',
        'response.completed',
      ],
    );
  });

  it('ends with response.incomplete for max_tokens and error + response.failed for an error', () => {
    const cut = writeAll(eventsOf({ ...SAMPLE, stopReason: 'max_tokens' }));
    assert.equal(parseFrames(cut).at(-1)?.type, 'response.incomplete');
    const failed = parseFrames(
      writeAll([
        { type: 'message_start', id: 'x', model: 'm' },
        { type: 'block_start', index: 0, block: { type: 'text' } },
        { type: 'text_delta', index: 0, text: 'Hi' },
        { type: 'error', error: { kind: 'overloaded', status: 503, message: 'Overloaded' } },
      ]),
    );
    assert.deepEqual(
      failed.slice(-2).map((f) => f.type),
      ['error', 'response.failed'],
    );
    const response = failed.at(-1)!.response as JsonObject;
    assert.deepEqual(response.error, { code: 'server_error', message: 'Overloaded' });
  });

  it('is accumulated by the official SDK ResponseStream', async () => {
    const client = new OpenAI({
      apiKey: 'k',
      baseURL: 'http://gateway.test/v1',
      fetch: fetchReturning(writeAll(eventsOf(SAMPLE)), 'text/event-stream'),
    });
    const final = await client.responses.stream({ model: 'x', input: 'hi' }).finalResponse();
    assert.equal(final.output_text, 'Checking the weather.');
    assert.equal(final.status, 'completed');
    const call = final.output.find((o) => o.type === 'function_call');
    assert.deepEqual(call?.type === 'function_call' ? [call.call_id, JSON.parse(call.arguments)] : [], [
      'call_01A',
      { city: 'Paris' },
    ]);
    assert.equal(final.usage?.input_tokens_details.cached_tokens, 256);
  });

  it('tolerates interleaved blocks, deltas without block_start and a missing message_delta', () => {
    const text = writeAll([
      { type: 'text_delta', index: 0, text: 'a' },
      { type: 'block_start', index: 1, block: { type: 'tool_use', id: 'call_1', name: 'f' } },
      { type: 'text_delta', index: 0, text: 'b' },
      { type: 'tool_args_delta', index: 1, partialJson: '{}' },
      { type: 'thinking_delta', index: 2, thinking: 'late' },
      { type: 'message_stop' },
    ]);
    const f = fold(replay(codec.newStreamReader(), [sse(text)]));
    assert.deepEqual(f.content, [
      { type: 'text', text: 'ab' },
      { type: 'tool_use', id: 'call_1', name: 'f', input: {} },
      { type: 'thinking', thinking: 'late' },
    ]);
  });
});

const REQ_CAPS: RequestCaps = {
  toolPrefix: 'call_',
  systemBlocks: 1,
  cache: false,
  documents: ['base64', 'url'],
  signedThinking: false,
  toolResultImages: false,
  toolResultErrors: false,
  mixedToolResults: false,
  stop: false,
  topK: false,
  reasoning: 'effort',
  formats: ['text', 'json_object', 'json_schema'],
  schemaName: true,
  metadata: true,
  requireMaxTokens: false,
};

const RES_CAPS: ResponseCaps = {
  toolPrefix: 'call_',
  signedThinking: true,
  redacted: false,
  thinkingFirstOnly: false,
  textBeforeTools: false,
  stops: ['end_turn', 'max_tokens', 'content_filter', 'error'],
  stopSequence: false,
  reasoningTokens: true,
  total: true,
  created: true,
};

describe('responses round trip (seeded)', () => {
  it('write→read preserves every field Responses carries', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const rng = new Rng(seed * 17);
      const req = genRequest(rng, REQ_CAPS);
      const body = codec.writeRequest(req, { model: 'm', defaultMaxTokens: 4096 });
      assert.deepEqual(
        codec.readRequest(body, { model: 'm', stream: req.stream }),
        req,
        `request seed ${seed}`,
      );

      const res = genResponse(rng, RES_CAPS);
      const { id: _, ...back } = codec.readResponse(codec.writeResponse(res));
      const expected = carried(res);
      assert.deepEqual(back, expected, `response seed ${seed}`);

      const bytes = sse(writeAll(eventsOf(res, rng.int(1, 9))));
      const at = rng.int(1, bytes.length - 1);
      const f = fold(replay(codec.newStreamReader(), [bytes.subarray(0, at), bytes.subarray(at)]));
      if (expected.stopReason === 'error') {
        assert.ok(f.error, `stream seed ${seed}: an errored response streams as an error`);
        continue;
      }
      assert.deepEqual(
        { model: f.model, created: f.created, content: f.content, stopReason: f.stopReason, usage: f.usage },
        {
          model: expected.model,
          created: expected.created,
          content: expected.content,
          stopReason: expected.stopReason,
          usage: expected.usage,
        },
        `stream seed ${seed}`,
      );
    }
  });
});

describe('responses stream writer robustness (seeded)', () => {
  it('keeps text, reasoning and tool calls through odd but valid event orders, and the SDK accepts them', async () => {
    for (let seed = 1; seed <= 40; seed++) {
      const rng = new Rng(seed * 101);
      const res = genResponse(rng, RES_CAPS);
      if (res.stopReason === 'error') continue; // streams as an error, covered above
      const text = writeAll(oddOrder(eventsOf(res, rng.int(1, 5)), rng, true));
      const events = replay(codec.newStreamReader(), [sse(text)]);
      assert.equal(events.at(-1)?.type, 'message_stop', `seed ${seed}`);
      assert.deepEqual(essence(fold(events).content), essence(res.content), `seed ${seed}`);
      const client = new OpenAI({
        apiKey: 'k',
        baseURL: 'http://gateway.test/v1',
        fetch: fetchReturning(text, 'text/event-stream'),
      });
      const final = await client.responses.stream({ model: 'x', input: 'hi' }).finalResponse();
      assert.equal(final.output_text, essence(res.content).text, `sdk seed ${seed}`);
    }
  });
});

describe('responses hostile input', () => {
  it('readers never throw on mutated fixtures or random JSON, and every writer accepts what they read', () => {
    hostileInput(codec, P, [openaiCodec, responsesCodec, anthropicCodec]);
  });
});
