// Gemini codec: golden request/response/stream files from the generateContent reference, both stream
// framings, split-chunk reassembly, a seeded write→read round trip and the @google/genai SDK.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { GoogleGenAI } from '@google/genai';
import { geminiCodec } from '../../src/protocols/gemini/index.ts';
import type {
  ContentBlock,
  JsonObject,
  JsonValue,
  Message,
  Request,
  Response,
  StopReason,
  StreamEvent,
} from '../../src/protocols/ir.ts';
import {
  assertSplitInvariant,
  sse as bytesOf,
  CUT_MESSAGES,
  cut,
  type EventShape,
  eventsOf,
  foldResponse,
  gen,
  idPlaceholders,
  protocolFixtures,
  randomCuts,
  replay,
  rng,
  type Vocabulary,
  writeText,
} from '../support/protocol-harness.ts';

// ---- golden-file helpers -------------------------------------------------------------------

/** Random ids (minted where the wire has none) become stable placeholders, keeping equalities. */
const normalise = idPlaceholders({
  pattern:
    /^(gm_[A-Za-z0-9]{24}|[A-Za-z0-9]{23}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/,
  stem: 'id',
  key: (key) => key !== undefined && /id$|Id$/.test(key),
});
const { text, json, golden } = protocolFixtures('gemini', normalise);

// ---- stream helpers ------------------------------------------------------------------------

const readAll = (bytes: Uint8Array, cuts: number[] = []): StreamEvent[] =>
  replay(geminiCodec.newStreamReader(), cut(bytes, cuts));

const writeAll = (events: readonly StreamEvent[], sse: boolean): string =>
  writeText(geminiCodec.newStreamWriter({ framing: sse ? 'sse' : 'array' }), events);

/** The IR event sequence a reader would produce: text in pieces of 5, arguments of 7, thinking whole. */
const EVENTS: EventShape = { piece: 5, argsPiece: 7, wholeThinking: true, startUsage: true };

// ---- seeded generators ---------------------------------------------------------------------

const VOCAB: Vocabulary = {
  words: ['sky', 'blue', 'é', '"quoted"', 'line\nbreak', '☃', '{x}', '[y]', 'tab\t', '\\slash', '日本'],
  idents: ['get_weather', 'lookup', 'search_docs', 'calc'],
  arrayItems: 2,
  id: (g) => `gm_${Array.from({ length: 12 }, () => g.pick([...'abcXYZ0189'])).join('')}`,
};

function randomResponse(seed: number): Response {
  const g = gen(seed, VOCAB);
  const content: ContentBlock[] = [];
  if (g.r() < 0.4)
    content.push({
      type: 'thinking',
      thinking: g.sentence(),
      ...(g.r() < 0.5 && { signature: `sig${seed}` }),
    });
  const n = 1 + g.int(3);
  for (let i = 0; i < n; i++) {
    const last = content.at(-1)?.type;
    if (last !== 'text' && g.r() < 0.5) content.push({ type: 'text', text: g.sentence() });
    else {
      if (g.r() < 0.3) content.push({ type: 'thinking', thinking: '', signature: `call-sig-${i}` });
      content.push({ type: 'tool_use', id: g.id(), name: g.ident(), input: g.args() });
    }
  }
  const hasTool = content.some((b) => b.type === 'tool_use');
  const stopReason: StopReason = hasTool
    ? g.pick(['tool_use', 'max_tokens'] as const)
    : g.pick(['end_turn', 'max_tokens', 'content_filter'] as const);
  const input = g.int(5000);
  const reasoning = g.r() < 0.5 ? g.int(300) : undefined;
  const output = (reasoning ?? 0) + g.int(800);
  const cached = g.r() < 0.5 ? g.int(input + 1) : undefined;
  return {
    id: 'ignored',
    model: g.pick(['gemini-2.5-flash', 'gemini-2.5-pro']),
    content,
    stopReason,
    usage: {
      inputTokens: input,
      outputTokens: output,
      ...(cached !== undefined && { cacheReadInputTokens: cached }),
      ...(reasoning !== undefined && { reasoningTokens: reasoning }),
      totalTokens: input + output,
    },
  };
}

function randomRequest(seed: number): Request {
  const g = gen(seed, VOCAB);
  const messages: Message[] = [];
  const turns = 1 + g.int(3);
  for (let t = 0; t < turns; t++) {
    const user: ContentBlock[] = [{ type: 'text', text: g.sentence() }];
    if (g.r() < 0.3)
      user.push({ type: 'image', source: { kind: 'base64', mediaType: 'image/png', data: 'iVBORw0KGgo=' } });
    messages.push({ role: 'user', content: user });
    const calls: ContentBlock[] = [];
    if (g.r() < 0.5) calls.push({ type: 'text', text: g.sentence() });
    const ncalls = g.int(3);
    for (let i = 0; i < ncalls; i++)
      calls.push({ type: 'tool_use', id: g.id(), name: g.ident(), input: g.args() });
    if (calls.length === 0) calls.push({ type: 'text', text: g.sentence() });
    messages.push({ role: 'assistant', content: calls });
    const results = calls.flatMap((c): ContentBlock[] =>
      c.type === 'tool_use'
        ? [
            {
              type: 'tool_result',
              toolUseId: c.id,
              name: c.name,
              content: [{ type: 'text', text: g.sentence() }],
              ...(g.r() < 0.3 && { isError: true }),
            },
          ]
        : [],
    );
    if (results.length > 0) messages.push({ role: 'user', content: results });
  }
  const tools = Array.from({ length: g.int(3) }, () => ({
    name: g.ident(),
    description: g.sentence(),
    inputSchema: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] } as JsonObject,
  }));
  return {
    model: 'gemini-2.5-flash',
    system: g.r() < 0.5 ? [{ type: 'text', text: g.sentence() }] : [],
    messages,
    tools,
    toolChoice:
      tools.length === 0
        ? undefined
        : g.pick([
            { type: 'auto' },
            { type: 'any' },
            { type: 'none' },
            { type: 'tool', name: tools[0]!.name },
          ] as const),
    maxTokens: g.r() < 0.5 ? 1 + g.int(4000) : undefined,
    temperature: g.r() < 0.5 ? g.pick([0, 0.7, 1, 1.3, 0.123456789]) : undefined,
    topP: g.r() < 0.5 ? 0.95 : undefined,
    topK: g.r() < 0.5 ? 1 + g.int(50) : undefined,
    stop: g.r() < 0.5 ? ['END', '\n\n'] : [],
    stream: false,
    responseFormat: g.pick([
      undefined,
      { type: 'json_object' },
      {
        type: 'json_schema',
        name: 'response',
        schema: { type: 'object', properties: { a: { type: 'number' } } },
      },
    ] as const),
    reasoning: g.pick([undefined, { budgetTokens: 1 + g.int(8000) }, { disabled: true }] as const),
    extra: {},
  };
}

// ---- tests ---------------------------------------------------------------------------------

describe('gemini request reader', () => {
  for (const name of [
    'request-text-system',
    'request-snake-case',
    'request-media',
    'request-tools',
    'request-thinking',
    'request-json-schema',
  ]) {
    it(`reads ${name}`, () => {
      golden(
        name,
        geminiCodec.readRequest(json(`${name}.json`), { model: 'gemini-2.5-flash', stream: false }),
      );
    });
  }

  it('takes the model from the URL, never the body (P-GEN-5)', () => {
    const ir = geminiCodec.readRequest(
      { model: 'body-model', contents: [] },
      { model: 'url-model', stream: true },
    );
    assert.equal(ir.model, 'url-model');
    assert.equal(ir.stream, true);
  });

  it('answers nameless tool results with the id of the matching earlier call', () => {
    const ir = geminiCodec.readRequest(json('request-tools.json'), { model: 'm', stream: false });
    const calls = ir.messages[1]!.content.filter((b) => b.type === 'tool_use');
    const results = ir.messages[2]!.content.filter((b) => b.type === 'tool_result');
    assert.deepEqual(
      results.map((b) => b.toolUseId),
      calls.map((b) => b.id),
    );
  });
});

describe('gemini request writer', () => {
  const ir = JSON.parse(text('ir-request.json')) as Request;

  it('writes the golden body', () => {
    golden(
      'write-request',
      geminiCodec.writeRequest(ir, { model: 'gemini-2.5-pro', defaultMaxTokens: 4096 }),
    );
  });

  it('never injects max tokens and never writes extra (P-XLT-2, P-XLT-3)', () => {
    const body = geminiCodec.writeRequest(
      { ...ir, maxTokens: undefined, extra: { seed: 1, logit_bias: {} } },
      { model: 'm', defaultMaxTokens: 4096 },
    );
    const config = (body.generationConfig ?? {}) as JsonObject;
    assert.equal(config.maxOutputTokens, undefined);
    assert.equal(JSON.stringify(body).includes('logit_bias'), false);
    assert.equal(body.model, undefined);
  });

  it('names every functionResponse after the call it answers', () => {
    const body = geminiCodec.writeRequest(ir, { model: 'm', defaultMaxTokens: 0 });
    const responses = JSON.stringify(body).match(/"functionResponse":\{"id":"[^"]+","name":"[^"]+"/g);
    assert.deepEqual(responses, ['"functionResponse":{"id":"toolu_01A","name":"get_weather"']);
  });

  it('gives Gemini 3 a validator-skip signature for calls that arrived without one', () => {
    const req: Request = {
      ...ir,
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'two calls' }] },
        {
          role: 'assistant',
          content: [
            { type: 'tool_use', id: 'call_1', name: 'a', input: {} },
            { type: 'tool_use', id: 'call_2', name: 'b', input: {} },
          ],
        },
      ],
    };
    const parts = (model: string): JsonObject[] =>
      (geminiCodec.writeRequest(req, { model, defaultMaxTokens: 0 }).contents as JsonObject[])[1]!
        .parts as JsonObject[];
    assert.deepEqual(
      parts('gemini-3-pro-preview').map((p) => p.thoughtSignature),
      ['skip_thought_signature_validator', undefined],
    );
    assert.deepEqual(
      parts('gemini-2.5-flash').map((p) => p.thoughtSignature),
      [undefined, undefined],
    );
    const back = geminiCodec.readRequest(
      geminiCodec.writeRequest(req, { model: 'gemini-3-flash', defaultMaxTokens: 0 }),
      {
        model: 'gemini-3-flash',
        stream: false,
      },
    );
    assert.deepEqual(back.messages[1], req.messages[1]);
  });

  it('produces a one-token probe (P-PRB-1)', () => {
    assert.deepEqual(geminiCodec.probeBody('m'), {
      contents: [{ role: 'user', parts: [{ text: 'ping' }] }],
      generationConfig: { maxOutputTokens: 1 },
    });
  });
});

describe('gemini response', () => {
  for (const name of [
    'response-text',
    'response-tool-call',
    'response-thinking-cached',
    'response-safety',
    'response-prompt-blocked',
  ]) {
    it(`reads ${name}`, () => golden(name, geminiCodec.readResponse(json(`${name}.json`))));
  }

  it('treats a SAFETY candidate without content as a filtered answer (P-XLT-10)', () => {
    const res = geminiCodec.readResponse(json('response-safety.json'));
    assert.equal(res.stopReason, 'content_filter');
    assert.deepEqual(res.content, []);
    assert.deepEqual(geminiCodec.usageFromResponse(json('response-safety.json')), {
      inputTokens: 12,
      outputTokens: 0,
      totalTokens: 12,
    });
  });

  it('reads cached and thoughts tokens (P-USE-1)', () => {
    assert.deepEqual(geminiCodec.usageFromResponse(json('response-thinking-cached.json')), {
      inputTokens: 1200,
      outputTokens: 102,
      cacheReadInputTokens: 1024,
      reasoningTokens: 95,
      totalTokens: 1302,
    });
  });

  it('writes the golden body', () => {
    golden('write-response', geminiCodec.writeResponse(JSON.parse(text('ir-response.json')) as Response));
  });

  it('writes a filtered answer without content, as Gemini does', () => {
    const body = geminiCodec.writeResponse({
      id: 'x',
      model: 'm',
      content: [],
      stopReason: 'content_filter',
      usage: { inputTokens: 3, outputTokens: 0 },
    });
    assert.deepEqual((body.candidates as JsonObject[])[0], { finishReason: 'SAFETY', index: 0 });
  });
});

describe('gemini stream reader', () => {
  it('reads SSE chunks', () => golden('stream-text.sse', readAll(bytesOf(text('stream-text.sse')))));

  it('reads the JSON-array framing into the same events as SSE', () => {
    assert.deepEqual(
      normalise(readAll(bytesOf(text('stream-text.array')))),
      normalise(readAll(bytesOf(text('stream-text.sse')))),
    );
  });

  it('reads function calls with their thought signature', () => {
    golden('stream-tool.sse', readAll(bytesOf(text('stream-tool.sse'))));
  });

  it('ends a SAFETY stream normally with content_filter', () => {
    const events = readAll(bytesOf(text('stream-safety.sse')));
    assert.deepEqual(events.at(-2), {
      type: 'message_delta',
      stopReason: 'content_filter',
      usage: { inputTokens: 12, outputTokens: 3, totalTokens: 15 },
    });
    assert.deepEqual(events.at(-1), { type: 'message_stop' });
  });

  it('turns an in-stream error chunk into an IR error', () => {
    const events = readAll(bytesOf(text('stream-error.sse')));
    assert.deepEqual(events.at(-1), {
      type: 'error',
      error: { kind: 'overloaded', status: 503, message: 'The model is overloaded. Please try again later.' },
    });
    assert.equal(events.filter((e) => e.type === 'error').length, 1);
  });

  for (const name of ['stream-text.sse', 'stream-text.array', 'stream-tool.sse']) {
    it(`reassembles ${name} split at every byte boundary`, () => {
      const bytes = bytesOf(text(name));
      assertSplitInvariant(() => geminiCodec.newStreamReader(), bytes, { normalise, message: CUT_MESSAGES });
    });
  }

  it('reports a truncated stream as an error at end, without throwing', () => {
    const events = readAll(bytesOf(text('stream-truncated.array')));
    assert.equal(events.at(-1)?.type, 'error');
    const sse = text('stream-text.sse');
    const cut = readAll(bytesOf(sse.slice(0, sse.lastIndexOf('data:'))));
    assert.equal(cut.at(-1)?.type, 'error');
  });

  it('never throws on malformed or random input', () => {
    const r = rng(7);
    const samples = [
      'data: {not json}\n\n',
      '[{"candidates": 5}]',
      '[1, 2]',
      '[{}] trailing',
      'data: []\n\n',
      '\uFEFF   ',
      text('stream-text.array').replace(/"/g, ''),
    ];
    for (let i = 0; i < 200; i++) {
      samples.push(
        String.fromCharCode(...Array.from({ length: 1 + Math.floor(r() * 64) }, () => Math.floor(r() * 128))),
      );
    }
    for (const sample of samples) {
      const events = readAll(bytesOf(sample), [Math.floor(sample.length / 2)]);
      assert.equal(events.filter((e) => e.type === 'error').length <= 1, true);
      assert.equal(events.at(-1)?.type === 'error' || events.at(-1)?.type === 'message_stop', true);
    }
  });
});

describe('gemini stream writer', () => {
  const events = JSON.parse(text('ir-stream-events.json')) as StreamEvent[];

  it('writes SSE chunks with finishReason and usage on the last', () => {
    const frames = writeAll(events, true).split('\n\n').filter(Boolean);
    assert.equal(
      frames.every((f) => f.startsWith('data: {')),
      true,
    );
    golden(
      'write-stream.sse',
      frames.map((f) => JSON.parse(f.slice('data: '.length))),
    );
  });

  it('writes one incrementally built JSON array when not SSE', () => {
    const out = writeAll(events, false);
    assert.match(out, /^\[\{/);
    assert.match(out, /\}\]$/);
    assert.equal(out.split(',\r\n{').length, writeAll(events, true).split('data: ').length - 1);
    const chunks = JSON.parse(out) as JsonObject[];
    assert.deepEqual(
      normalise(chunks),
      normalise(
        writeAll(events, true)
          .split('\n\n')
          .filter(Boolean)
          .map((f) => JSON.parse(f.slice(6))),
      ),
    );
    assert.equal(writeAll([], false), '[]');
  });

  it('handles a message_delta without usage, interleaved tools and a thinking block at index 0', () => {
    const seq: StreamEvent[] = [
      { type: 'message_start', id: 'a', model: 'm' },
      { type: 'block_start', index: 0, block: { type: 'thinking' } },
      { type: 'thinking_delta', index: 0, thinking: 'plan' },
      { type: 'block_start', index: 1, block: { type: 'tool_use', id: 'call_1', name: 'f' } },
      { type: 'block_start', index: 2, block: { type: 'text' } },
      { type: 'tool_args_delta', index: 1, partialJson: '{"x":' },
      { type: 'text_delta', index: 2, text: 'hi' },
      { type: 'tool_args_delta', index: 1, partialJson: '1}' },
      { type: 'block_stop', index: 0 },
      { type: 'block_stop', index: 2 },
      { type: 'message_delta', stopReason: 'tool_use' },
      { type: 'message_stop' },
    ];
    const { res } = foldResponse(readAll(bytesOf(writeAll(seq, true))));
    assert.deepEqual(res.content, [
      { type: 'thinking', thinking: 'plan' },
      { type: 'text', text: 'hi' },
      { type: 'tool_use', id: 'gm_1', name: 'f', input: { x: 1 } },
    ]);
    assert.equal(res.stopReason, 'tool_use');
  });

  it('renders an error event as a Gemini error chunk and closes the array', () => {
    const out = writeAll(
      [
        { type: 'message_start', id: 'a', model: 'm' },
        { type: 'text_delta', index: 0, text: 'x' },
        { type: 'error', error: { kind: 'rate_limit_error', status: 429, message: 'quota' } },
        { type: 'message_stop' },
      ],
      false,
    );
    const chunks = JSON.parse(out) as JsonObject[];
    assert.deepEqual(chunks.at(-1), { error: { code: 429, message: 'quota', status: 'RESOURCE_EXHAUSTED' } });
  });
});

describe('gemini round trip (seeded property)', () => {
  it('write→read preserves responses', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const res = randomResponse(seed);
      const back = geminiCodec.readResponse(geminiCodec.writeResponse(res) as JsonValue);
      assert.deepEqual(back.content, res.content, `seed ${seed}`);
      assert.equal(back.stopReason, res.stopReason, `seed ${seed}`);
      assert.deepEqual(back.usage, res.usage, `seed ${seed}`);
      assert.equal(back.model, res.model);
    }
  });

  it('write→read preserves streams in both framings, however the bytes are split', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const res = randomResponse(seed);
      for (const sse of [true, false]) {
        const bytes = bytesOf(writeAll(eventsOf(res, EVENTS), sse));
        const cuts = randomCuts(rng(seed), 6, bytes.length);
        const { res: back, errors } = foldResponse(readAll(bytes, cuts));
        assert.deepEqual(errors, [], `seed ${seed}`);
        assert.deepEqual(back.content, res.content, `seed ${seed} sse=${sse}`);
        assert.equal(back.stopReason, res.stopReason, `seed ${seed}`);
        assert.deepEqual(back.usage, res.usage, `seed ${seed}`);
      }
    }
  });

  it('write→read preserves requests', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const req = randomRequest(seed);
      const body = geminiCodec.writeRequest(req, { model: req.model, defaultMaxTokens: 4096 });
      const back = geminiCodec.readRequest(JSON.parse(JSON.stringify(body)) as JsonObject, {
        model: req.model,
        stream: false,
      });
      assert.deepEqual(JSON.parse(JSON.stringify(back)), JSON.parse(JSON.stringify(req)), `seed ${seed}`);
    }
  });
});

describe('gemini SDK compatibility (@google/genai against the writers)', () => {
  it('parses streamed and buffered answers', async () => {
    const res = JSON.parse(text('ir-response.json')) as Response;
    const server = createServer((req, rsp) => {
      req.resume();
      req.on('end', () => {
        const streaming = (req.url ?? '').includes('streamGenerateContent');
        rsp.writeHead(200, { 'content-type': streaming ? 'text/event-stream' : 'application/json' });
        rsp.end(
          streaming ? writeAll(eventsOf(res, EVENTS), true) : JSON.stringify(geminiCodec.writeResponse(res)),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const ai = new GoogleGenAI({
        apiKey: 'test',
        httpOptions: { baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` },
      });
      let streamed = '';
      const calls: unknown[] = [];
      let last: { usageMetadata?: unknown; candidates?: { finishReason?: string }[] } = {};
      for await (const chunk of await ai.models.generateContentStream({
        model: 'gemini-2.5-pro',
        contents: 'hi',
      })) {
        for (const part of chunk.candidates?.[0]?.content?.parts ?? []) {
          if (part.text && !part.thought) streamed += part.text;
          if (part.functionCall) calls.push(part.functionCall);
        }
        last = chunk;
      }
      assert.equal(streamed, 'The weather in Boston is sunny.');
      assert.deepEqual(calls, [{ id: 'gm_01A', name: 'get_weather', args: { location: 'Boston' } }]);
      assert.equal(last.candidates?.[0]?.finishReason, 'STOP');
      assert.deepEqual(last.usageMetadata, {
        promptTokenCount: 100,
        candidatesTokenCount: 30,
        thoughtsTokenCount: 20,
        cachedContentTokenCount: 60,
        totalTokenCount: 150,
      });

      const whole = await ai.models.generateContent({ model: 'gemini-2.5-pro', contents: 'hi' });
      assert.deepEqual(whole.functionCalls, [
        { id: 'gm_01A', name: 'get_weather', args: { location: 'Boston' } },
      ]);
      assert.equal(whole.usageMetadata?.promptTokenCount, 100);
      assert.equal(whole.modelVersion, 'gemini-2.5-pro');
    } finally {
      server.close();
    }
  });
});
