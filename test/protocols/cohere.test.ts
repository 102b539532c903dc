// Cohere v2 codec: golden request/response/stream files from the v2 chat reference, the object-shaped
// content delta (P-XLT-10), split-chunk reassembly, a seeded round trip and the cohere-ai SDK.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { CohereClientV2 } from 'cohere-ai';
import { cohereCodec } from '../../src/protocols/cohere/index.ts';
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

/** Minted UUIDs become stable placeholders, keeping equalities. */
const normalise = idPlaceholders({
  pattern: /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
  stem: 'uuid',
});
const { text, json, golden } = protocolFixtures('cohere', normalise);

// ---- stream helpers ------------------------------------------------------------------------

const readAll = (bytes: Uint8Array, cuts: number[] = []): StreamEvent[] =>
  replay(cohereCodec.newStreamReader(), cut(bytes, cuts));

const writeAll = (events: readonly StreamEvent[]): string => writeText(cohereCodec.newStreamWriter(), events);

/** The `data:` payloads of an SSE text, parsed. */
function frames(sse: string): JsonObject[] {
  return sse
    .split('\n\n')
    .filter(Boolean)
    .map((f) => JSON.parse(f.slice(f.indexOf('data: ') + 6)) as JsonObject);
}

/** Text in pieces of 4, tool arguments in pieces of 6, thinking whole. */
const EVENTS: EventShape = { piece: 4, argsPiece: 6, wholeThinking: true };

// ---- seeded generators ---------------------------------------------------------------------

const VOCAB: Vocabulary = {
  words: ['cohere', 'plan', 'é', '"q"', 'two\nlines', '☃', '{x}', 'tab\t', '\\', '日本'],
  idents: ['get_weather', 'lookup', 'search', 'calc'],
  id: (g) => `${g.ident()}_${g.int(1e9).toString(36)}`,
};

/** Cohere carries: thinking (no signature), one text (content or tool plan), tool calls after it. */
function randomResponse(seed: number): Response {
  const g = gen(seed, VOCAB);
  const content: ContentBlock[] = [];
  if (g.r() < 0.4) content.push({ type: 'thinking', thinking: g.sentence() });
  if (g.r() < 0.7) content.push({ type: 'text', text: g.sentence() });
  const calls = g.int(3);
  for (let i = 0; i < calls; i++)
    content.push({ type: 'tool_use', id: g.id(), name: g.ident(), input: g.args() });
  if (content.length === 0) content.push({ type: 'text', text: g.sentence() });
  const stopReason: StopReason =
    calls > 0 ? 'tool_use' : g.pick(['end_turn', 'max_tokens', 'stop_sequence', 'error'] as const);
  const input = g.int(9000);
  const output = g.int(900);
  const cached = g.r() < 0.5 ? 1 + g.int(input + 1) : undefined;
  return {
    id: 'ignored',
    model: '',
    content,
    stopReason,
    usage: {
      inputTokens: input,
      outputTokens: output,
      ...(cached !== undefined && { cacheReadInputTokens: cached }),
      totalTokens: input + output,
    },
  };
}

function randomRequest(seed: number): Request {
  const g = gen(seed, VOCAB);
  const messages: Message[] = [];
  for (let t = 0; t < 1 + g.int(3); t++) {
    const user: ContentBlock[] = [{ type: 'text', text: g.sentence() }];
    if (g.r() < 0.3) user.push({ type: 'image', source: { kind: 'url', url: 'https://example.com/a.png' } });
    if (g.r() < 0.3)
      user.push({ type: 'image', source: { kind: 'base64', mediaType: 'image/png', data: 'iVBORw0KGgo=' } });
    messages.push({ role: 'user', content: user });
    const assistant: ContentBlock[] = [];
    if (g.r() < 0.3) assistant.push({ type: 'thinking', thinking: g.sentence() });
    if (g.r() < 0.7) assistant.push({ type: 'text', text: g.sentence() });
    const calls = g.int(3);
    for (let i = 0; i < calls; i++)
      assistant.push({ type: 'tool_use', id: g.id(), name: g.ident(), input: g.args() });
    if (assistant.filter((b) => b.type !== 'thinking').length === 0)
      assistant.push({ type: 'text', text: g.sentence() });
    messages.push({ role: 'assistant', content: assistant });
    const results = assistant.flatMap((b): ContentBlock[] =>
      b.type === 'tool_use'
        ? [
            {
              type: 'tool_result',
              toolUseId: b.id,
              name: b.name,
              content: [{ type: 'text', text: g.sentence() }],
            },
          ]
        : [],
    );
    if (results.length > 0) messages.push({ role: 'user', content: results });
  }
  const tools = Array.from({ length: g.int(3) }, () => ({
    name: g.ident(),
    description: g.sentence(),
    inputSchema: { type: 'object', properties: { q: { type: 'string' } } } as JsonObject,
  }));
  return {
    model: 'command-a-03-2025',
    system: g.r() < 0.5 ? [{ type: 'text', text: g.sentence() }] : [],
    messages,
    tools,
    toolChoice: g.pick([undefined, { type: 'any' }, { type: 'none' }] as const),
    maxTokens: g.r() < 0.5 ? 1 + g.int(4000) : undefined,
    temperature: g.r() < 0.5 ? g.pick([0, 0.3, 1, 0.123456789]) : undefined,
    topP: g.r() < 0.5 ? 0.75 : undefined,
    topK: g.r() < 0.5 ? 1 + g.int(500) : undefined,
    stop: g.r() < 0.5 ? ['END'] : [],
    stream: g.r() < 0.5,
    responseFormat: g.pick([
      undefined,
      { type: 'json_object' },
      { type: 'json_schema', name: 'response', schema: { type: 'object' } },
    ] as const),
    reasoning: g.pick([undefined, { budgetTokens: 1 + g.int(8000) }, { disabled: true }] as const),
    extra: {},
  };
}

// ---- tests ---------------------------------------------------------------------------------

describe('cohere request reader', () => {
  for (const name of [
    'request-basic',
    'request-images',
    'request-tools',
    'request-thinking',
    'request-response-format',
  ]) {
    it(`reads ${name}`, () => {
      const body = json(`${name}.json`);
      golden(
        name,
        cohereCodec.readRequest(body, { model: String(body.model), stream: body.stream === true }),
      );
    });
  }

  it('canonicalises system messages and turns tool messages into one user turn (P-XLT-6)', () => {
    const ir = cohereCodec.readRequest(json('request-tools.json'), { model: 'm', stream: false });
    assert.deepEqual(
      ir.messages.map((m) => [m.role, m.content.map((b) => b.type).join(',')]),
      [
        ['user', 'text'],
        ['assistant', 'text,tool_use,tool_use'],
        ['user', 'tool_result,tool_result'],
        ['assistant', 'text'],
        ['user', 'text'],
      ],
    );
  });
});

describe('cohere request writer', () => {
  const ir = JSON.parse(text('ir-request.json')) as Request;

  it('writes the golden body', () => {
    golden(
      'write-request',
      cohereCodec.writeRequest(ir, { model: 'command-a-03-2025', defaultMaxTokens: 4096 }),
    );
  });

  it('never injects max tokens and never writes extra (P-XLT-2, P-XLT-3)', () => {
    const body = cohereCodec.writeRequest(
      { ...ir, maxTokens: undefined, extra: { seed: 1, logit_bias: {} } },
      { model: 'm', defaultMaxTokens: 4096 },
    );
    assert.equal(body.max_tokens, undefined);
    assert.equal(body.seed, undefined);
    assert.equal(body.model, 'm');
  });

  it('produces a one-token probe (P-PRB-1)', () => {
    assert.deepEqual(cohereCodec.probeBody('command-r'), {
      model: 'command-r',
      messages: [{ role: 'user', content: 'ping' }],
      max_tokens: 1,
    });
  });
});

describe('cohere response', () => {
  for (const name of ['response-text', 'response-tool-call', 'response-thinking']) {
    it(`reads ${name}`, () => golden(name, cohereCodec.readResponse(json(`${name}.json`))));
  }

  it('reads usage tokens, falling back to billed units (P-USE-1)', () => {
    assert.deepEqual(cohereCodec.usageFromResponse(json('response-text.json')), {
      inputTokens: 71,
      outputTokens: 418,
      cacheReadInputTokens: 64,
      totalTokens: 489,
    });
    assert.deepEqual(cohereCodec.usageFromResponse(json('response-thinking.json')), {
      inputTokens: 12,
      outputTokens: 50,
      totalTokens: 62,
    });
  });

  it('writes the golden body', () => {
    golden('write-response', cohereCodec.writeResponse(JSON.parse(text('ir-response.json')) as Response));
  });
});

describe('cohere stream reader', () => {
  for (const name of ['stream-text.sse', 'stream-tools.sse', 'stream-thinking.sse', 'stream-error.sse']) {
    it(`reads ${name}`, () => golden(name, readAll(bytesOf(text(name)))));
  }

  it('decodes the object-shaped content delta (P-XLT-10) and the array variant too', () => {
    const sse = (content: unknown): string =>
      `event: content-delta\ndata: ${JSON.stringify({ type: 'content-delta', index: 0, delta: { message: { content } } })}\n\n`;
    for (const content of [{ text: 'Hi' }, { type: 'text', text: 'Hi' }, [{ type: 'text', text: 'Hi' }]]) {
      const events = readAll(bytesOf(sse(content)));
      assert.deepEqual(
        events.filter((e) => e.type === 'text_delta'),
        [{ type: 'text_delta', index: 0, text: 'Hi' }],
      );
    }
  });

  for (const name of ['stream-text.sse', 'stream-tools.sse', 'stream-thinking.sse']) {
    it(`reassembles ${name} split at every byte boundary`, () => {
      const bytes = bytesOf(text(name));
      assertSplitInvariant(() => cohereCodec.newStreamReader(), bytes, { normalise, message: CUT_MESSAGES });
    });
  }

  it('reports a stream without message-end as an error, without throwing', () => {
    const events = readAll(bytesOf(text('stream-truncated.sse')));
    assert.equal(events.at(-1)?.type, 'error');
    assert.equal(
      events.some((e) => e.type === 'message_stop'),
      false,
    );
  });

  it('never throws on malformed or random input', () => {
    const r = rng(11);
    const samples = [
      'event: content-delta\ndata: {oops\n\n',
      'data: 42\n\n',
      'data: {"type":"tool-call-delta","index":3}\n\n',
      'data: {"type":"message-end","delta":null}\n\n',
      text('stream-tools.sse').replace(/"/g, "'"),
    ];
    for (let i = 0; i < 200; i++) {
      samples.push(
        String.fromCharCode(...Array.from({ length: 1 + Math.floor(r() * 64) }, () => Math.floor(r() * 128))),
      );
    }
    for (const sample of samples) {
      const events = readAll(bytesOf(sample), [Math.floor(sample.length / 3)]);
      assert.equal(events.filter((e) => e.type === 'error').length <= 1, true);
      assert.equal(events.at(-1)?.type === 'error' || events.at(-1)?.type === 'message_stop', true);
    }
  });
});

describe('cohere stream writer', () => {
  const events = JSON.parse(text('ir-stream-events.json')) as StreamEvent[];

  it('writes the golden event sequence', () => {
    const out = writeAll(events);
    for (const f of out.split('\n\n').filter(Boolean)) {
      const type = /^event: (.+)$/m.exec(f)?.[1];
      assert.equal(JSON.parse(f.slice(f.indexOf('data: ') + 6)).type, type);
    }
    golden('write-stream', frames(out));
  });

  it('writes object-shaped content deltas and JSON-string argument deltas', () => {
    const out = frames(writeAll(events));
    assert.deepEqual(
      out.find((f) => f.type === 'content-delta' && f.index === 1),
      {
        type: 'content-delta',
        index: 1,
        delta: { message: { content: { text: 'Hello' } } },
      },
    );
    const end = out.at(-1)!;
    assert.deepEqual((end.delta as JsonObject).usage, {
      billed_units: { input_tokens: 25, output_tokens: 12 },
      tokens: { input_tokens: 25, output_tokens: 12 },
    });
  });

  it('handles a message_delta without usage, interleaved tools and a thinking block at index 0', () => {
    const seq: StreamEvent[] = [
      { type: 'message_start', id: 'a', model: 'm' },
      { type: 'block_start', index: 0, block: { type: 'thinking' } },
      { type: 'thinking_delta', index: 0, thinking: 'plan' },
      { type: 'signature_delta', index: 0, signature: 'dropped' },
      { type: 'block_start', index: 1, block: { type: 'tool_use', id: 'call_1', name: 'f' } },
      { type: 'block_start', index: 2, block: { type: 'text' } },
      { type: 'tool_args_delta', index: 1, partialJson: '{"x":' },
      { type: 'text_delta', index: 2, text: 'hi' },
      { type: 'tool_args_delta', index: 1, partialJson: '1}' },
      { type: 'text_delta', index: 5, text: 'late' },
      { type: 'block_stop', index: 0 },
      { type: 'message_delta', stopReason: 'tool_use' },
      { type: 'message_stop' },
      { type: 'text_delta', index: 2, text: 'after the end' },
    ];
    const sse = writeAll(seq);
    const { res, errors } = foldResponse(readAll(bytesOf(sse)));
    assert.deepEqual(errors, []);
    assert.deepEqual(res.content, [
      { type: 'thinking', thinking: 'plan' },
      { type: 'tool_use', id: 'call_1', name: 'f', input: { x: 1 } },
      { type: 'text', text: 'hi' },
      { type: 'text', text: 'late' },
    ]);
    assert.equal(res.stopReason, 'tool_use');
    assert.equal(sse.includes('after the end'), false);
  });

  it('renders an error event as message-end with finish_reason ERROR, which reads back as an error', () => {
    const out = frames(
      writeAll([
        { type: 'message_start', id: 'a', model: 'm' },
        { type: 'error', error: { kind: 'api_error', status: 500, message: 'boom' } },
      ]),
    );
    assert.equal(out.at(-1)!.type, 'message-end');
    assert.deepEqual((out.at(-1)!.delta as JsonObject).finish_reason, 'ERROR');
    assert.deepEqual((out.at(-1)!.delta as JsonObject).error, 'boom');
    const sse = writeAll([{ type: 'error', error: { kind: 'api_error', status: 500, message: 'boom' } }]);
    assert.deepEqual(readAll(bytesOf(sse)), [
      { type: 'message_start', id: frames(sse)[0]!.id, model: '' },
      { type: 'error', error: { kind: 'api_error', status: 500, message: 'boom' } },
    ]);
  });
});

describe('cohere round trip (seeded property)', () => {
  it('write→read preserves responses', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const res = randomResponse(seed);
      const back = cohereCodec.readResponse(cohereCodec.writeResponse(res) as JsonValue);
      assert.deepEqual(back.content, res.content, `seed ${seed}`);
      assert.equal(back.stopReason, res.stopReason, `seed ${seed}`);
      assert.deepEqual(back.usage, res.usage, `seed ${seed}`);
    }
  });

  it('write→read preserves streams however the bytes are split', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const res = randomResponse(seed);
      const bytes = bytesOf(writeAll(eventsOf(res, EVENTS)));
      const cuts = randomCuts(rng(seed), 6, bytes.length);
      const { res: back, errors } = foldResponse(readAll(bytes, cuts));
      assert.deepEqual(errors, []);
      assert.deepEqual(back.content, res.content, `seed ${seed}`);
      assert.equal(back.stopReason, res.stopReason, `seed ${seed}`);
      assert.deepEqual(back.usage, res.usage, `seed ${seed}`);
    }
  });

  it('write→read preserves requests', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const req = randomRequest(seed);
      const body = cohereCodec.writeRequest(req, { model: req.model, defaultMaxTokens: 4096 });
      const back = cohereCodec.readRequest(JSON.parse(JSON.stringify(body)) as JsonObject, {
        model: req.model,
        stream: req.stream,
      });
      // Cohere sends images as URLs; inline ones come back as the base64 they were.
      assert.deepEqual(JSON.parse(JSON.stringify(back)), JSON.parse(JSON.stringify(req)), `seed ${seed}`);
    }
  });
});

describe('cohere SDK compatibility (cohere-ai against the writers)', () => {
  it('parses streamed and buffered answers', async () => {
    const res = JSON.parse(text('ir-response.json')) as Response;
    const server = createServer((req, rsp) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        const streaming = (JSON.parse(body) as JsonObject).stream === true;
        rsp.writeHead(200, { 'content-type': streaming ? 'text/event-stream' : 'application/json' });
        rsp.end(streaming ? writeAll(eventsOf(res, EVENTS)) : JSON.stringify(cohereCodec.writeResponse(res)));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const client = new CohereClientV2({
        token: 'test',
        environment: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      });
      let streamed = '';
      let args = '';
      let call: unknown;
      let end: unknown;
      const stream = await client.chatStream({
        model: 'command-a-03-2025',
        messages: [{ role: 'user', content: 'hi' }],
      });
      for await (const event of stream) {
        if (event.type === 'content-delta') streamed += event.delta?.message?.content?.text ?? '';
        if (event.type === 'tool-call-start') call = event.delta?.message?.toolCalls;
        if (event.type === 'tool-call-delta')
          args += event.delta?.message?.toolCalls?.function?.arguments ?? '';
        if (event.type === 'message-end') end = event.delta;
      }
      assert.equal(streamed, 'I will check the weather in Boston.');
      assert.deepEqual(call, {
        id: 'toolu_01A',
        type: 'function',
        function: { name: 'get_weather', arguments: '' },
      });
      assert.deepEqual(JSON.parse(args), { location: 'Boston' });
      assert.deepEqual(end, {
        finishReason: 'TOOL_CALL',
        usage: {
          billedUnits: { inputTokens: 100, outputTokens: 50 },
          tokens: { inputTokens: 100, outputTokens: 50 },
          cachedTokens: 60,
        },
      });

      const whole = await client.chat({
        model: 'command-a-03-2025',
        messages: [{ role: 'user', content: 'hi' }],
      });
      assert.equal(whole.finishReason, 'TOOL_CALL');
      assert.equal(whole.message.toolPlan, 'I will check the weather in Boston.');
      assert.equal(whole.message.toolCalls?.[0]?.function?.arguments, '{"location":"Boston"}');
      assert.equal(whole.usage?.tokens?.inputTokens, 100);
    } finally {
      server.close();
    }
  });
});
