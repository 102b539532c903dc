// Anthropic Messages codec: golden fixtures (wire captures written from the API reference), stream
// reassembly at every byte boundary, thinking/signature handling, max_tokens injection, SDK
// compatibility and a seeded write→read round trip.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { anthropicCodec } from '../../src/protocols/anthropic/index.ts';
import type { JsonObject, Request, Response, StreamEvent } from '../../src/protocols/ir.ts';
import { openaiCodec } from '../../src/protocols/openai/index.ts';
import { responsesCodec } from '../../src/protocols/responses/index.ts';
import {
  assertSplitInvariant,
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

const P = 'anthropic';
const codec = anthropicCodec;

const writeAll = (events: readonly StreamEvent[]): string => writeText(codec.newStreamWriter(), events);

const SAMPLE: Response = {
  id: 'chatcmpl-upstream',
  model: 'gpt-4o',
  created: 1_750_000_000,
  content: [
    { type: 'thinking', thinking: 'Reasoning from an OpenAI-style upstream.' },
    { type: 'text', text: 'Checking the weather.' },
    { type: 'tool_use', id: 'call_01A', name: 'get_weather', input: { city: 'Paris' } },
  ],
  stopReason: 'tool_use',
  usage: { inputTokens: 1200, outputTokens: 45, cacheReadInputTokens: 1000 },
};

/** SAMPLE with its reasoning signed, as a Claude upstream (Anthropic, Bedrock) sends it. */
const SIGNED: Response = {
  ...SAMPLE,
  content: [
    { type: 'thinking', thinking: 'Signed reasoning.', signature: 'sig-0' },
    ...SAMPLE.content.slice(1),
  ],
};

const BASE: Request = { model: 'm', system: [], messages: [], tools: [], stop: [], stream: false, extra: {} };

describe('anthropic requests', () => {
  for (const name of fixtures(P, 'request-', '.json')) {
    it(`reads and writes ${name}`, () => {
      const body = readJson(P, name);
      const ir = codec.readRequest(body, { model: 'lane-model', stream: body.stream === true });
      const written = codec.writeRequest(ir, { model: 'upstream-model', defaultMaxTokens: 8192 });
      golden(P, name.replace('.json', '.golden.json'), { ir, written });
    });
  }

  it('injects max_tokens only when absent (P-XLT-3)', () => {
    const msg = { role: 'user' as const, content: [{ type: 'text' as const, text: 'hi' }] };
    assert.equal(
      codec.writeRequest({ ...BASE, messages: [msg] }, { model: 'x', defaultMaxTokens: 2000 }).max_tokens,
      2000,
    );
    assert.equal(
      codec.writeRequest({ ...BASE, messages: [msg] }, { model: 'x', defaultMaxTokens: 0 }).max_tokens,
      4096,
    );
    assert.equal(
      codec.writeRequest({ ...BASE, messages: [msg], maxTokens: 77 }, { model: 'x', defaultMaxTokens: 2000 })
        .max_tokens,
      77,
    );
  });

  it('drops unsigned (foreign) thinking, keeps tool results first and maps ids to toolu_', () => {
    const out = codec.writeRequest(
      {
        ...BASE,
        messages: [
          {
            role: 'assistant',
            content: [
              { type: 'thinking', thinking: 'from openai' },
              { type: 'tool_use', id: 'call_abc', name: 'f', input: {} },
            ],
          },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'and also' },
              { type: 'tool_result', toolUseId: 'call_abc', content: [{ type: 'text', text: 'r' }] },
            ],
          },
        ],
      },
      { model: 'x', defaultMaxTokens: 1000 },
    );
    assert.deepEqual(out.messages, [
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_abc', name: 'f', input: {} }] },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_abc', content: [{ type: 'text', text: 'r' }] },
          { type: 'text', text: 'and also' },
        ],
      },
    ]);
  });

  it('turns an effort into a thinking budget below max_tokens and drops sampling knobs thinking rejects', () => {
    const msg = { role: 'user' as const, content: [{ type: 'text' as const, text: 'hi' }] };
    const out = codec.writeRequest(
      { ...BASE, messages: [msg], reasoning: { effort: 'high' }, temperature: 0.2, topK: 5 },
      { model: 'x', defaultMaxTokens: 4096 },
    );
    assert.deepEqual(out.thinking, { type: 'enabled', budget_tokens: 16384 });
    assert.equal(out.max_tokens, 16384 + 4096);
    assert.equal(out.temperature, undefined);
    assert.equal(out.top_k, undefined);
    const capped = codec.writeRequest(
      { ...BASE, messages: [msg], reasoning: { budgetTokens: 5000 }, maxTokens: 3000 },
      { model: 'x', defaultMaxTokens: 4096 },
    );
    assert.deepEqual(capped.thinking, { type: 'enabled', budget_tokens: 2999 });
    assert.equal(capped.max_tokens, 3000);
    const adaptive = codec.readRequest(
      { model: 'x', max_tokens: 100, thinking: { type: 'adaptive' }, temperature: 0.3, messages: [] },
      { model: 'x', stream: false },
    );
    assert.deepEqual(adaptive.reasoning, {});
    const back = codec.writeRequest(adaptive, { model: 'x', defaultMaxTokens: 4096 });
    assert.deepEqual(back.thinking, { type: 'adaptive' });
    assert.equal(back.temperature, undefined);
  });

  it('probes with one token', () => {
    assert.deepEqual(codec.probeBody('claude-haiku-4-5'), {
      model: 'claude-haiku-4-5',
      max_tokens: 1,
      messages: [{ role: 'user', content: 'ping' }],
    });
  });
});

describe('anthropic responses', () => {
  for (const name of fixtures(P, 'response-', '.json')) {
    it(`reads and writes ${name}`, () => {
      const body = readJson(P, name);
      const ir = codec.readResponse(body);
      assert.deepEqual(codec.usageFromResponse(body), ir.usage);
      golden(P, name.replace('.json', '.golden.json'), { ir, written: normalised(codec.writeResponse(ir)) });
    });
  }

  it('counts cache tokens into IR input and splits them out again on write', () => {
    const ir = codec.readResponse(readJson(P, 'response-text.json'));
    assert.deepEqual(ir.usage, {
      inputTokens: 2095 + 2051 + 4096,
      outputTokens: 503,
      cacheReadInputTokens: 4096,
      cacheCreationInputTokens: 2051,
    });
    assert.deepEqual((codec.writeResponse(ir) as JsonObject).usage, {
      input_tokens: 2095,
      output_tokens: 503,
      cache_creation_input_tokens: 2051,
      cache_read_input_tokens: 4096,
    });
  });

  it('leads with thinking, mints a msg_ id and keeps the upstream model', () => {
    const late: Response = { ...SIGNED, content: [...SIGNED.content.slice(1), SIGNED.content[0]!] };
    const out = codec.writeResponse(late);
    assert.match(out.id as string, /^msg_[A-Za-z0-9]{24}$/);
    assert.equal(out.model, 'gpt-4o');
    assert.deepEqual(
      (out.content as JsonObject[]).map((b) => b.type),
      ['thinking', 'text', 'tool_use'],
    );
    assert.equal((out.content as JsonObject[])[2]!.id, 'toolu_01A');
  });

  it('parses with the official SDK', async () => {
    const client = new Anthropic({
      apiKey: 'k',
      baseURL: 'http://gateway.test',
      fetch: fetchReturning(JSON.stringify(codec.writeResponse(SIGNED)), 'application/json'),
    });
    const msg = await client.messages.create({
      model: 'x',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(msg.stop_reason, 'tool_use');
    assert.deepEqual(
      msg.content.map((b) => b.type),
      ['thinking', 'text', 'tool_use'],
    );
  });

  it('omits unsigned reasoning (from an OpenAI-style upstream): a thinking block must carry a signature', () => {
    const out = codec.writeResponse(SAMPLE);
    assert.deepEqual(
      (out.content as JsonObject[]).map((b) => b.type),
      ['text', 'tool_use'],
    );
    const empty: Response = { ...SAMPLE, content: [{ type: 'thinking', thinking: 'x', signature: '' }] };
    assert.deepEqual(codec.writeResponse(empty).content, []);
  });
});

describe('anthropic stream reader', () => {
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
      fold(events);
      golden(P, name.replace('.sse', '.golden.json'), events);
    });
  }

  it('reads thinking with its signature, skips server tools and renumbers blocks contiguously', () => {
    const f = fold(replay(codec.newStreamReader(), [sse(readText(P, 'stream-tools-thinking.sse'))]));
    assert.deepEqual(
      f.content.map((b) => b.type),
      ['thinking', 'text', 'tool_use'],
    );
    const thinking = f.content[0];
    assert.equal(
      thinking?.type === 'thinking' ? thinking.signature : '',
      'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds...',
    );
    assert.deepEqual(f.content[2], {
      type: 'tool_use',
      id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6',
      name: 'get_weather',
      input: { location: 'San Francisco, CA', unit: 'fahrenheit' },
    });
    assert.deepEqual(f.usage, { inputTokens: 472, outputTokens: 89 });
  });

  it('combines message_start input usage with message_delta output usage', () => {
    const f = fold(replay(codec.newStreamReader(), [sse(readText(P, 'stream-text.sse'))]));
    assert.deepEqual(f.usage, { inputTokens: 125, outputTokens: 15, cacheReadInputTokens: 100 });
  });

  it('ends with an error event on error events, truncation and malformed frames', () => {
    const last = (name: string): StreamEvent | undefined =>
      replay(codec.newStreamReader(), [sse(readText(P, name))]).at(-1);
    const err = last('stream-error.sse');
    assert.deepEqual(err, {
      type: 'error',
      error: { kind: 'overloaded', status: 503, message: 'Overloaded' },
    });
    assert.equal(last('stream-truncated.sse')?.type, 'error');
    assert.equal(last('stream-malformed.sse')?.type, 'error');
  });

  it('never throws on garbage', () => {
    const rng = new Rng(11);
    for (let i = 0; i < 200; i++) {
      const bytes = Uint8Array.from({ length: rng.int(0, 300) }, () =>
        rng.pick([10, 13, 58, 32, 101, 100, 97, 123, 125, 34, rng.int(0, 255)]),
      );
      assert.equal(replay(codec.newStreamReader(), [bytes]).at(-1)?.type, 'error');
    }
  });
});

describe('anthropic stream writer', () => {
  it('writes message_start, indexed blocks, the signature before block stop, message_delta and message_stop', () => {
    const signed: Response = {
      ...SAMPLE,
      content: [{ type: 'thinking', thinking: 'hmm', signature: 'sig-1' }, ...SAMPLE.content.slice(1)],
    };
    const text = writeAll(eventsOf(signed));
    golden(P, 'write-sample.golden.sse', normaliseIds(text));
    assert.match(text, /^event: message_start\n/);
    assert.match(text, /event: message_stop\ndata: {"type":"message_stop"}\n\n$/);
    assert.match(
      text,
      /"delta":{"type":"signature_delta","signature":"sig-1"}}\n\nevent: content_block_stop\ndata: {"type":"content_block_stop","index":0}/,
    );
  });

  it('renders an error as event: error', () => {
    const text = writeAll([
      { type: 'message_start', id: 'x', model: 'm' },
      { type: 'error', error: { kind: 'rate_limit_error', status: 429, message: 'Slow down' } },
      { type: 'message_stop' },
    ]);
    assert.match(
      text,
      /event: error\ndata: {"type":"error","error":{"type":"rate_limit_error","message":"Slow down"}}\n\n$/,
    );
  });

  it('is accumulated by the official SDK MessageStream, usage included', async () => {
    const client = new Anthropic({
      apiKey: 'k',
      baseURL: 'http://gateway.test',
      fetch: fetchReturning(writeAll(eventsOf(SAMPLE)), 'text/event-stream'),
    });
    const final = await client.messages.stream({ model: 'x', max_tokens: 10, messages: [] }).finalMessage();
    assert.deepEqual(
      final.content.map((b) => b.type),
      ['thinking', 'text', 'tool_use'],
    );
    const tool = final.content[2];
    assert.deepEqual(tool?.type === 'tool_use' ? [tool.id, tool.input] : [], [
      'toolu_01A',
      { city: 'Paris' },
    ]);
    assert.equal(final.stop_reason, 'tool_use');
    assert.equal(final.usage.input_tokens, 200);
    assert.equal(final.usage.cache_read_input_tokens, 1000);
    assert.equal(final.usage.output_tokens, 45);
  });

  it('surfaces a stream error through the SDK with its error type', async () => {
    const body = writeAll([
      { type: 'message_start', id: 'x', model: 'm' },
      { type: 'error', error: { kind: 'overloaded', status: 503, message: 'Overloaded' } },
    ]);
    const client = new Anthropic({
      apiKey: 'k',
      baseURL: 'http://gateway.test',
      fetch: fetchReturning(body, 'text/event-stream'),
    });
    await assert.rejects(
      client.messages.stream({ model: 'x', max_tokens: 10, messages: [] }).finalMessage(),
      (e: unknown) => {
        return e instanceof Anthropic.APIError && e.message.includes('Overloaded');
      },
    );
  });

  it('tolerates deltas without block_start, message_delta with open blocks and a missing message_delta', () => {
    const text = writeAll([
      { type: 'text_delta', index: 0, text: 'a' },
      { type: 'block_start', index: 1, block: { type: 'tool_use', id: '', name: 'f' } },
      { type: 'tool_args_delta', index: 1, partialJson: '{}' },
      { type: 'message_stop' },
    ]);
    const events = replay(codec.newStreamReader(), [sse(text)]);
    const f = fold(events);
    assert.equal(f.stopReason, 'end_turn');
    assert.deepEqual(
      f.content.map((b) => b.type),
      ['text', 'tool_use'],
    );
  });
});

const REQ_CAPS: RequestCaps = {
  toolPrefix: 'toolu_',
  systemBlocks: 3,
  cache: true,
  documents: ['base64', 'url', 'text'],
  signedThinking: true,
  toolResultImages: true,
  toolResultErrors: true,
  mixedToolResults: true,
  stop: true,
  topK: true,
  reasoning: 'budget',
  formats: ['json_schema'],
  schemaName: false,
  metadata: false,
  requireMaxTokens: true,
};

const RES_CAPS: ResponseCaps = {
  toolPrefix: 'toolu_',
  signedThinking: true,
  redacted: true,
  thinkingFirstOnly: true,
  textBeforeTools: false,
  stops: ['end_turn', 'max_tokens', 'stop_sequence', 'content_filter'],
  stopSequence: true,
  reasoningTokens: false,
  total: false,
  created: false,
};

describe('anthropic round trip (seeded)', () => {
  it('write→read preserves every field Messages carries', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const rng = new Rng(seed * 31);
      const req = genRequest(rng, REQ_CAPS);
      const body = codec.writeRequest(req, { model: 'm', defaultMaxTokens: 4096 });
      assert.deepEqual(
        codec.readRequest(body, { model: 'm', stream: req.stream }),
        req,
        `request seed ${seed}`,
      );

      const res = genResponse(rng, RES_CAPS);
      const { id: _, ...expected } = res;
      const { id: __, ...back } = codec.readResponse(codec.writeResponse(res));
      assert.deepEqual(back, expected, `response seed ${seed}`);

      const bytes = sse(writeAll(eventsOf(res, rng.int(1, 9))));
      const at = rng.int(1, bytes.length - 1);
      const f = fold(replay(codec.newStreamReader(), [bytes.subarray(0, at), bytes.subarray(at)]));
      assert.deepEqual(
        {
          model: f.model,
          content: f.content,
          stopReason: f.stopReason,
          stopSequence: f.stopSequence,
          usage: f.usage,
        },
        {
          model: res.model,
          content: res.content,
          stopReason: res.stopReason,
          stopSequence: res.stopSequence,
          usage: res.usage,
        },
        `stream seed ${seed}`,
      );
    }
  });
});

describe('anthropic stream writer robustness (seeded)', () => {
  it('keeps text, reasoning and tool calls through odd but valid event orders, and the SDK accepts them', async () => {
    for (let seed = 1; seed <= 40; seed++) {
      const rng = new Rng(seed * 101);
      const res = genResponse(rng, RES_CAPS);
      const text = writeAll(oddOrder(eventsOf(res, rng.int(1, 5)), rng, true));
      const events = replay(codec.newStreamReader(), [sse(text)]);
      assert.equal(events.at(-1)?.type, 'message_stop', `seed ${seed}`);
      assert.deepEqual(essence(fold(events).content), essence(res.content), `seed ${seed}`);
      const client = new Anthropic({
        apiKey: 'k',
        baseURL: 'http://gateway.test',
        fetch: fetchReturning(text, 'text/event-stream'),
      });
      const final = await client.messages.stream({ model: 'x', max_tokens: 1, messages: [] }).finalMessage();
      const sdkText = final.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
      assert.equal(sdkText, essence(res.content).text, `sdk seed ${seed}`);
    }
  });
});

describe('anthropic hostile input', () => {
  it('readers never throw on mutated fixtures or random JSON, and every writer accepts what they read', () => {
    hostileInput(codec, P, [openaiCodec, responsesCodec, anthropicCodec]);
  });
});
