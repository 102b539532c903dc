// OpenAI Chat Completions codec: golden fixtures (wire captures written from the API reference),
// stream reassembly at every byte boundary, the include_usage traps, SDK compatibility and a
// seeded write→read round trip.

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

const P = 'openai';
const codec = openaiCodec;

const writeAll = (events: readonly StreamEvent[], opts?: { includeUsage?: boolean }): string =>
  writeText(codec.newStreamWriter(opts), events);

const SAMPLE: Response = {
  id: 'msg_upstream',
  model: 'claude-sonnet-4-5',
  created: 1_750_000_000,
  content: [
    { type: 'thinking', thinking: 'Let me think about "this".', signature: 'sig-abc' },
    { type: 'text', text: 'Checking the weather.' },
    { type: 'tool_use', id: 'toolu_01A', name: 'get_weather', input: { city: 'Paris', days: [1, 2] } },
    { type: 'tool_use', id: 'toolu_01B', name: 'get_time', input: {} },
  ],
  stopReason: 'tool_use',
  usage: { inputTokens: 120, outputTokens: 45, cacheReadInputTokens: 100, reasoningTokens: 10 },
};

describe('openai requests', () => {
  for (const name of fixtures(P, 'request-', '.json')) {
    it(`reads and writes ${name}`, () => {
      const body = readJson(P, name);
      const ir = codec.readRequest(body, { model: 'lane-model', stream: body.stream === true });
      const written = codec.writeRequest(ir, { model: 'upstream-model', defaultMaxTokens: 4096 });
      golden(P, name.replace('.json', '.golden.json'), { ir, written });
    });
  }

  it('canonicalises system and developer messages and keeps unmodelled fields in extra', () => {
    const ir = codec.readRequest(readJson(P, 'request-text.json'), { model: 'm', stream: true });
    assert.deepEqual(
      ir.system.map((b) => b.text),
      ['You are a terse assistant.', 'Answer in English.'],
    );
    assert.equal(ir.temperature, 0.7);
    assert.equal(ir.maxTokens, 256);
    assert.deepEqual(Object.keys(ir.extra).sort(), ['logit_bias', 'n', 'presence_penalty', 'seed']);
  });

  it('records whether a streaming client asked for the usage chunk (stream_options.include_usage)', () => {
    const body = readJson(P, 'request-text.json');
    assert.equal(codec.readRequest(body, { model: 'm', stream: true }).includeUsage, true);
    const { stream_options: _, ...unasked } = body;
    assert.equal(codec.readRequest(unasked, { model: 'm', stream: true }).includeUsage, false);
    const off = { ...body, stream_options: { include_usage: false } };
    assert.equal(codec.readRequest(off, { model: 'm', stream: true }).includeUsage, false);
    // Not a stream: nothing to ask for.
    assert.equal(codec.readRequest(body, { model: 'm', stream: false }).includeUsage, undefined);
    // What the core does with it: no trailing usage chunk for a client that did not ask.
    const ir = codec.readRequest(unasked, { model: 'm', stream: true });
    const events: StreamEvent[] = [
      { type: 'message_start', id: 'x', model: 'm' },
      { type: 'text_delta', index: 0, text: 'hi' },
      { type: 'message_delta', stopReason: 'end_turn', usage: { inputTokens: 3, outputTokens: 1 } },
      { type: 'message_stop' },
    ];
    const opts = ir.includeUsage === undefined ? {} : { includeUsage: ir.includeUsage };
    const chunks = writeAll(events, opts)
      .split('\n\n')
      .filter((f) => f.startsWith('data: {'))
      .map((f) => JSON.parse(f.slice(6)) as { choices: unknown[]; usage?: unknown });
    assert.ok(chunks.length > 0);
    for (const c of chunks) assert.equal(c.choices.length, 1, 'every chunk has choices[0]');
  });

  it('writes no extra fields, max_tokens only when given, and include_usage for streams', () => {
    const ir = codec.readRequest(readJson(P, 'request-text.json'), { model: 'm', stream: true });
    const out = codec.writeRequest(ir, { model: 'up', defaultMaxTokens: 4096 });
    for (const k of ['seed', 'n', 'logit_bias', 'presence_penalty', 'metadata'])
      assert.equal(out[k], undefined, k);
    assert.deepEqual(out.stream_options, { include_usage: true });
    const bare = codec.writeRequest(
      { ...ir, maxTokens: undefined, stream: false },
      { model: 'up', defaultMaxTokens: 4096 },
    );
    assert.equal(bare.max_tokens, undefined);
    assert.equal(bare.stream, undefined);
  });

  it('turns tool messages into one user message of tool results and invalid arguments into {}', () => {
    const ir = codec.readRequest(readJson(P, 'request-tools.json'), { model: 'm', stream: false });
    const [, assistant, results] = ir.messages;
    assert.equal(assistant?.content[0]?.type, 'thinking');
    assert.deepEqual(
      assistant?.content
        .filter((b) => b.type === 'tool_use')
        .map((b) => (b.type === 'tool_use' ? b.input : null)),
      [{ city: 'Paris', unit: 'c' }, {}],
    );
    assert.deepEqual(
      results?.content.map((b) => b.type),
      ['tool_result', 'tool_result'],
    );
  });

  it('maps foreign tool ids to call_ and back', () => {
    const out = codec.writeRequest(
      {
        model: 'm',
        system: [],
        tools: [],
        stop: [],
        stream: false,
        extra: {},
        messages: [
          { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_XYZ', name: 'f', input: { a: 1 } }] },
          {
            role: 'user',
            content: [
              { type: 'tool_result', toolUseId: 'toolu_XYZ', content: [{ type: 'text', text: 'r' }] },
            ],
          },
        ],
      },
      { model: 'up', defaultMaxTokens: 4096 },
    );
    const msgs = out.messages as JsonObject[];
    assert.deepEqual(msgs[0], {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'call_XYZ', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }],
    });
    assert.deepEqual(msgs[1], { role: 'tool', tool_call_id: 'call_XYZ', content: 'r' });
  });

  it('probes with one token', () => {
    assert.deepEqual(codec.probeBody('gpt-4o'), {
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'ping' }],
      max_tokens: 1,
    });
  });
});

describe('openai responses', () => {
  for (const name of fixtures(P, 'response-', '.json')) {
    it(`reads and writes ${name}`, () => {
      const body = readJson(P, name);
      const ir = codec.readResponse(body);
      assert.deepEqual(codec.usageFromResponse(body), ir.usage);
      golden(P, name.replace('.json', '.golden.json'), { ir, written: normalised(codec.writeResponse(ir)) });
    });
  }

  it('writes reasoning_content, call_ ids, a minted chatcmpl id and the upstream model/created', () => {
    const out = codec.writeResponse(SAMPLE);
    assert.match(out.id as string, /^chatcmpl-[A-Za-z0-9]{24}$/);
    assert.equal(out.model, 'claude-sonnet-4-5');
    assert.equal(out.created, 1_750_000_000);
    const choice = (out.choices as JsonObject[])[0]!;
    assert.equal(choice.finish_reason, 'tool_calls');
    const msg = choice.message as JsonObject;
    assert.equal(msg.reasoning_content, 'Let me think about "this".');
    assert.deepEqual(
      (msg.tool_calls as JsonObject[]).map((c) => c.id),
      ['call_01A', 'call_01B'],
    );
    assert.deepEqual(out.usage, {
      prompt_tokens: 120,
      completion_tokens: 45,
      total_tokens: 165,
      prompt_tokens_details: { cached_tokens: 100 },
      completion_tokens_details: { reasoning_tokens: 10 },
    });
  });

  it('parses with the official SDK', async () => {
    const client = new OpenAI({
      apiKey: 'k',
      baseURL: 'http://gateway.test/v1',
      fetch: fetchReturning(JSON.stringify(codec.writeResponse(SAMPLE)), 'application/json'),
    });
    const res = await client.chat.completions.create({
      model: 'x',
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(res.choices[0]?.message.content, 'Checking the weather.');
    assert.equal(res.choices[0]?.message.tool_calls?.length, 2);
    assert.equal(res.usage?.prompt_tokens, 120);
  });
});

describe('openai stream reader', () => {
  for (const name of fixtures(P, 'stream-', '.sse')) {
    it(`reassembles ${name} identically at every byte boundary`, () => {
      const bytes = sse(readText(P, name));
      const events = assertSplitInvariant(() => codec.newStreamReader(), bytes);
      const crlf = sse(readText(P, name).replace(/\n/g, '\r\n'));
      assert.deepEqual(
        assertSplitInvariant(() => codec.newStreamReader(), crlf),
        events,
        'CRLF framing',
      );
      fold(events); // grammar check
      golden(P, name.replace('.sse', '.golden.json'), events);
    });
  }

  it('treats usage:null chunks as content and folds the trailing usage chunk into the last message_delta', () => {
    const events = replay(codec.newStreamReader(), [sse(readText(P, 'stream-text.sse'))]);
    const deltas = events.filter((e) => e.type === 'message_delta');
    assert.equal(deltas.length, 1);
    assert.deepEqual(events.at(-2), {
      type: 'message_delta',
      stopReason: 'end_turn',
      usage: { inputTokens: 9, outputTokens: 12, totalTokens: 21 },
    });
    assert.deepEqual(events.at(-1), { type: 'message_stop' });
    const f = fold(events);
    assert.deepEqual(f.content, [{ type: 'text', text: 'Hello wörld 🚀' }]);
  });

  it('emits nothing after message_stop when usage comes on the finish chunk and again after it', () => {
    const events = replay(codec.newStreamReader(), [sse(readText(P, 'stream-reasoning.sse'))]);
    assert.equal(events.filter((e) => e.type === 'message_delta').length, 1);
    assert.equal(events.at(-1)?.type, 'message_stop');
    const f = fold(events);
    assert.equal(f.stopReason, 'max_tokens');
    assert.deepEqual(f.usage, {
      inputTokens: 20,
      outputTokens: 120,
      cacheReadInputTokens: 16,
      reasoningTokens: 100,
      totalTokens: 140,
    });
    assert.deepEqual(
      f.content.map((b) => b.type),
      ['thinking', 'text'],
    );
  });

  it('maps tool call fragments by index', () => {
    const f = fold(replay(codec.newStreamReader(), [sse(readText(P, 'stream-tools.sse'))]));
    assert.deepEqual(f.content, [
      { type: 'tool_use', id: 'call_paris01', name: 'get_weather', input: { city: 'Paris' } },
      { type: 'tool_use', id: 'call_tokyo02', name: 'get_weather', input: { city: 'Tokyo' } },
    ]);
    assert.equal(f.stopReason, 'tool_use');
  });

  it("skips Azure's prompt-filter chunk and follows tool calls by id when index is missing", () => {
    const azure = replay(codec.newStreamReader(), [sse(readText(P, 'stream-azure.sse'))]);
    assert.deepEqual(azure[0], {
      type: 'message_start',
      id: 'chatcmpl-AZURE1',
      model: 'gpt-4o-2024-11-20',
      created: 1730000000,
    });
    assert.equal(fold(azure).stopReason, 'content_filter');
    const f = fold(replay(codec.newStreamReader(), [sse(readText(P, 'stream-noindex.sse'))]));
    assert.deepEqual(
      f.content.map((b) => (b.type === 'tool_use' ? [b.id, b.input] : [])),
      [
        ['function-call-1', { city: 'Paris' }],
        ['function-call-2', { city: 'Tokyo' }],
      ],
    );
    assert.deepEqual(f.usage, { inputTokens: 30, outputTokens: 20, totalTokens: 50 });
  });

  it('ends with an error event on upstream errors, truncation and malformed frames; a clean end is clean', () => {
    const last = (name: string): StreamEvent | undefined =>
      replay(codec.newStreamReader(), [sse(readText(P, name))]).at(-1);
    assert.equal(last('stream-error.sse')?.type, 'error');
    assert.equal(last('stream-truncated.sse')?.type, 'error');
    assert.equal(last('stream-malformed.sse')?.type, 'error');
    assert.equal(last('stream-no-done.sse')?.type, 'message_stop');
    const err = last('stream-error.sse');
    assert.equal(
      err?.type === 'error' ? err.error.message : '',
      'The server had an error while processing your request.',
    );
  });

  it('never throws on garbage', () => {
    const rng = new Rng(7);
    for (let i = 0; i < 200; i++) {
      const bytes = Uint8Array.from({ length: rng.int(0, 300) }, () =>
        rng.pick([10, 13, 58, 32, 100, 97, 116, 123, 125, 34, rng.int(0, 255)]),
      );
      const events = replay(codec.newStreamReader(), [bytes]);
      assert.equal(events.at(-1)?.type, 'error');
    }
  });
});

describe('openai stream writer', () => {
  it('writes chunks with a stable id, a role chunk, tool indexes, finish, usage and [DONE]', () => {
    const text = writeAll(eventsOf(SAMPLE));
    golden(P, 'write-sample.golden.sse', normaliseIds(text));
    const frames = text.split('\n\n').filter((f) => f !== '');
    assert.equal(frames.at(-1), 'data: [DONE]');
    const chunks = frames.slice(0, -1).map((f) => JSON.parse(f.slice(6)) as JsonObject);
    assert.equal(new Set(chunks.map((c) => c.id)).size, 1);
    assert.deepEqual((chunks[0]!.choices as JsonObject[])[0]!.delta, { role: 'assistant', content: '' });
    assert.deepEqual(chunks.at(-1)!.choices, []);
    assert.equal((chunks.at(-2)!.choices as JsonObject[])[0]!.finish_reason, 'tool_calls');
  });

  it('omits the usage chunk when asked to', () => {
    const text = writeAll(eventsOf(SAMPLE), { includeUsage: false });
    assert.ok(!text.includes('"choices":[]'));
  });

  it('renders an error event as an error chunk followed by [DONE]', () => {
    const text = writeAll([
      { type: 'message_start', id: 'x', model: 'm' },
      { type: 'block_start', index: 0, block: { type: 'text' } },
      { type: 'text_delta', index: 0, text: 'Hi' },
      { type: 'error', error: { kind: 'overloaded', status: 503, message: 'Overloaded' } },
      { type: 'message_stop' },
    ]);
    assert.match(
      text,
      /data: {"error":{"message":"Overloaded","type":"overloaded_error","param":null,"code":null}}\n\ndata: \[DONE\]\n\n$/,
    );
  });

  it('is parsed by the official SDK stream helpers', async () => {
    const client = new OpenAI({
      apiKey: 'k',
      baseURL: 'http://gateway.test/v1',
      fetch: fetchReturning(writeAll(eventsOf(SAMPLE)), 'text/event-stream'),
    });
    const stream = client.chat.completions.stream({
      model: 'x',
      messages: [{ role: 'user', content: 'hi' }],
    });
    const final = await stream.finalChatCompletion();
    const msg = final.choices[0]!.message;
    assert.equal(msg.content, 'Checking the weather.');
    assert.deepEqual(
      msg.tool_calls?.map((c) =>
        c.type === 'function' ? [c.id, c.function.name, JSON.parse(c.function.arguments)] : [],
      ),
      [
        ['call_01A', 'get_weather', { city: 'Paris', days: [1, 2] }],
        ['call_01B', 'get_time', {}],
      ],
    );
    assert.equal(final.choices[0]!.finish_reason, 'tool_calls');
    assert.equal(final.usage?.prompt_tokens, 120);
    assert.equal(final.usage?.completion_tokens, 45);
  });

  it('surfaces a stream error through the SDK as an APIError', async () => {
    const body = writeAll([
      { type: 'message_start', id: 'x', model: 'm' },
      { type: 'error', error: { kind: 'rate_limit_error', status: 429, message: 'Slow down' } },
    ]);
    const client = new OpenAI({
      apiKey: 'k',
      baseURL: 'http://gateway.test/v1',
      fetch: fetchReturning(body, 'text/event-stream'),
    });
    const stream = await client.chat.completions.create({ model: 'x', messages: [], stream: true });
    await assert.rejects(
      (async () => {
        for await (const _ of stream) {
          // drain
        }
      })(),
      (e: unknown) => e instanceof OpenAI.APIError && e.message.includes('Slow down'),
    );
  });

  it('tolerates odd but valid event orders', () => {
    const text = writeAll([
      { type: 'text_delta', index: 0, text: 'no start' },
      { type: 'tool_args_delta', index: 1, partialJson: '{}' },
      { type: 'message_delta', stopReason: 'end_turn' },
      { type: 'message_delta', stopReason: 'max_tokens' },
      { type: 'message_stop' },
      { type: 'text_delta', index: 0, text: 'after stop' },
    ]);
    assert.ok(!text.includes('after stop'));
    assert.equal((text.match(/finish_reason":"/g) ?? []).length, 1);
  });
});

const REQ_CAPS: RequestCaps = {
  toolPrefix: 'call_',
  systemBlocks: 1,
  cache: false,
  documents: ['base64'],
  signedThinking: false,
  toolResultImages: false,
  toolResultErrors: false,
  mixedToolResults: false,
  stop: true,
  topK: false,
  reasoning: 'effort',
  formats: ['text', 'json_object', 'json_schema'],
  schemaName: true,
  metadata: false,
  requireMaxTokens: false,
};

const RES_CAPS: ResponseCaps = {
  toolPrefix: 'call_',
  signedThinking: false,
  redacted: false,
  thinkingFirstOnly: true,
  textBeforeTools: true,
  stops: ['end_turn', 'max_tokens', 'content_filter'],
  stopSequence: false,
  reasoningTokens: true,
  total: true,
  created: true,
};

describe('openai round trip (seeded)', () => {
  it('write→read preserves every field Chat Completions carries', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const rng = new Rng(seed);
      const req = genRequest(rng, REQ_CAPS);
      const body = codec.writeRequest(req, { model: 'm', defaultMaxTokens: 4096 });
      // The writer always asks a streaming upstream for usage (accounting needs it).
      assert.deepEqual(
        codec.readRequest(body, { model: 'm', stream: req.stream }),
        req.stream ? { ...req, includeUsage: true } : req,
        `request seed ${seed}`,
      );

      const res = genResponse(rng, RES_CAPS);
      const { id: _, ...back } = codec.readResponse(codec.writeResponse(res));
      assert.deepEqual(back, carried(res), `response seed ${seed}`);

      const bytes = sse(writeAll(eventsOf(res, rng.int(1, 9))));
      const at = rng.int(1, bytes.length - 1);
      const f = fold(replay(codec.newStreamReader(), [bytes.subarray(0, at), bytes.subarray(at)]));
      const expected = carried(res);
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

describe('openai stream writer robustness (seeded)', () => {
  it('keeps text, reasoning and tool calls through odd but valid event orders, and the SDK accepts them', async () => {
    for (let seed = 1; seed <= 40; seed++) {
      const rng = new Rng(seed * 101);
      const res = genResponse(rng, RES_CAPS);
      const text = writeAll(oddOrder(eventsOf(res, rng.int(1, 5)), rng, false));
      const events = replay(codec.newStreamReader(), [sse(text)]);
      assert.equal(events.at(-1)?.type, 'message_stop', `seed ${seed}`);
      assert.deepEqual(essence(fold(events).content), essence(res.content), `seed ${seed}`);
      const client = new OpenAI({
        apiKey: 'k',
        baseURL: 'http://gateway.test/v1',
        fetch: fetchReturning(text, 'text/event-stream'),
      });
      const final = await client.chat.completions.stream({ model: 'x', messages: [] }).finalChatCompletion();
      assert.equal(final.choices[0]?.message.content ?? '', essence(res.content).text, `sdk seed ${seed}`);
    }
  });
});

describe('openai hostile input', () => {
  it('readers never throw on mutated fixtures or random JSON, and every writer accepts what they read', () => {
    hostileInput(codec, P, [openaiCodec, responsesCodec, anthropicCodec]);
  });
});
