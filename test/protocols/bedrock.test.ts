// Bedrock Converse codec: golden request/response files from the Converse reference, binary
// eventstream frames built here with zlib's CRC32 (independent of the codec under test), reassembly
// at every byte boundary, a seeded round trip, and the AWS SDK's own unmarshaller on our bytes.

import assert from 'node:assert/strict';
import { createServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  type ConverseStreamOutput,
} from '@aws-sdk/client-bedrock-runtime';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { bedrockCodec } from '../../src/protocols/bedrock/index.ts';
import type {
  ContentBlock,
  JsonObject,
  JsonValue,
  Message,
  Request,
  Response,
  StreamEvent,
} from '../../src/protocols/ir.ts';
import {
  assertSplitInvariant,
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
} from '../support/protocol-harness.ts';

// ---- golden-file helpers -------------------------------------------------------------------

/** Minted ids (Converse has none on the wire) become stable placeholders; latencies become 0. */
const normalise = idPlaceholders({
  pattern: /^(msg_bdrk_[A-Za-z0-9]{24}|[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})$/,
  stem: 'id',
  zero: ['latencyMs'],
});
const { json, golden } = protocolFixtures('bedrock', normalise);

// ---- eventstream frames, built by hand -----------------------------------------------------

type FrameSpec = { event?: string; exception?: string; payload: JsonValue };

/** One frame per the vnd.amazon.eventstream layout: string headers (type 7), CRC32s from zlib. */
function frame(headers: Record<string, string>, payload: string): Buffer {
  const parts = Object.entries(headers).map(([name, value]) => {
    const n = Buffer.from(name);
    const v = Buffer.from(value);
    const b = Buffer.alloc(4 + n.length + v.length);
    b[0] = n.length;
    n.copy(b, 1);
    b[1 + n.length] = 7;
    b.writeUInt16BE(v.length, 2 + n.length);
    v.copy(b, 4 + n.length);
    return b;
  });
  const head = Buffer.concat(parts);
  const body = Buffer.from(payload);
  const total = 16 + head.length + body.length;
  const out = Buffer.alloc(total);
  out.writeUInt32BE(total, 0);
  out.writeUInt32BE(head.length, 4);
  out.writeUInt32BE(crc32(out.subarray(0, 8)), 8);
  head.copy(out, 12);
  body.copy(out, 12 + head.length);
  out.writeUInt32BE(crc32(out.subarray(0, total - 4)), total - 4);
  return out;
}

function framesOf(specs: readonly FrameSpec[]): Buffer {
  return Buffer.concat(
    specs.map((s) =>
      s.exception !== undefined
        ? frame(
            {
              ':exception-type': s.exception,
              ':content-type': 'application/json',
              ':message-type': 'exception',
            },
            JSON.stringify(s.payload),
          )
        : frame(
            { ':event-type': s.event!, ':content-type': 'application/json', ':message-type': 'event' },
            JSON.stringify(s.payload),
          ),
    ),
  );
}

const codec = new EventStreamCodec(
  (b) => new TextDecoder().decode(b),
  (s) => new TextEncoder().encode(s),
);

/** Our writer's bytes split back into frames by smithy's decoder (CRCs are checked there). */
function decodeFrames(bytes: Uint8Array): { headers: Record<string, string>; payload: JsonValue }[] {
  const out: { headers: Record<string, string>; payload: JsonValue }[] = [];
  let at = 0;
  while (at < bytes.length) {
    const total = new DataView(bytes.buffer, bytes.byteOffset + at).getUint32(0);
    const message = codec.decode(bytes.slice(at, at + total));
    const headers = Object.fromEntries(Object.entries(message.headers).map(([k, v]) => [k, String(v.value)]));
    out.push({ headers, payload: JSON.parse(new TextDecoder().decode(message.body)) as JsonValue });
    at += total;
  }
  return out;
}

// ---- stream helpers ------------------------------------------------------------------------

const readAll = (bytes: Uint8Array, cuts: number[] = []): StreamEvent[] =>
  replay(bedrockCodec.newStreamReader(), cut(bytes, cuts));

function writeAll(events: readonly StreamEvent[]): Buffer {
  const writer = bedrockCodec.newStreamWriter();
  const parts = events.map((e) => writer.write(e));
  parts.push(writer.end());
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
}

/** Text in pieces of 4, tool arguments in pieces of 6, thinking whole. */
const EVENTS: EventShape = { piece: 4, argsPiece: 6, wholeThinking: true };

// ---- seeded generators ---------------------------------------------------------------------

const VOCAB: Vocabulary = {
  words: ['bedrock', 'river', 'é', '"q"', 'two\nlines', '☃', '{x}', 'tab\t', '\\', '日本'],
  idents: ['top_song', 'lookup', 'search', 'calc'],
  id: (g) => `tooluse_${g.int(1e12).toString(36)}`,
};

function randomResponse(seed: number): Response {
  const g = gen(seed, VOCAB);
  const content: ContentBlock[] = [];
  if (g.r() < 0.4)
    content.push({
      type: 'thinking',
      thinking: g.sentence(),
      ...(g.r() < 0.6 && { signature: `sig-${seed}` }),
    });
  if (g.r() < 0.2) content.push({ type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3p' });
  for (let i = 0; i < 1 + g.int(3); i++) {
    content.push(
      g.r() < 0.5
        ? { type: 'text', text: g.sentence() }
        : { type: 'tool_use', id: g.id(), name: g.ident(), input: g.args() },
    );
  }
  const input = g.int(9000);
  const read = g.r() < 0.4 ? g.int(input + 1) : 0;
  const write = g.r() < 0.3 ? g.int(input - read + 1) : 0;
  const output = g.int(900);
  return {
    id: 'ignored',
    model: '',
    content,
    stopReason: g.pick([
      'end_turn',
      'max_tokens',
      'stop_sequence',
      'tool_use',
      'content_filter',
      'error',
    ] as const),
    usage: {
      inputTokens: input,
      outputTokens: output,
      ...(read > 0 && { cacheReadInputTokens: read }),
      ...(write > 0 && { cacheCreationInputTokens: write }),
      totalTokens: input + output,
    },
  };
}

function randomRequest(seed: number): Request {
  const g = gen(seed, VOCAB);
  const cache = (): { cacheControl?: { type: 'ephemeral'; ttl?: string } } =>
    g.r() < 0.2
      ? { cacheControl: g.r() < 0.5 ? { type: 'ephemeral' } : { type: 'ephemeral', ttl: '1h' } }
      : {};
  const messages: Message[] = [];
  for (let t = 0; t < 1 + g.int(3); t++) {
    const user: ContentBlock[] = [];
    const prev = messages.at(-1);
    if (prev !== undefined) {
      for (const b of prev.content) {
        if (b.type !== 'tool_use') continue;
        user.push({
          type: 'tool_result',
          toolUseId: b.id,
          content: [{ type: 'text', text: g.sentence() }],
          ...(g.r() < 0.3 && { isError: true }),
          ...cache(),
        });
      }
    }
    user.push({ type: 'text', text: g.sentence(), ...cache() });
    if (g.r() < 0.3) {
      user.push({
        type: 'image',
        source: {
          kind: 'base64',
          mediaType: g.pick(['image/png', 'image/jpeg', 'image/gif', 'image/webp']),
          data: 'AAAA',
        },
      });
    }
    if (g.r() < 0.2) {
      user.push({
        type: 'document',
        source: { kind: 'base64', mediaType: 'application/pdf', data: 'JVBERi0=' },
        title: `Doc ${t}`,
      });
    }
    messages.push({ role: 'user', content: user });
    const assistant: ContentBlock[] = [];
    if (g.r() < 0.3) assistant.push({ type: 'thinking', thinking: g.sentence(), signature: `sig${t}` });
    if (g.r() < 0.1) assistant.push({ type: 'redacted_thinking', data: 'EmwKAhgB' });
    assistant.push({ type: 'text', text: g.sentence() });
    for (let i = 0; i < g.int(3); i++)
      assistant.push({ type: 'tool_use', id: g.id(), name: g.ident(), input: g.args() });
    messages.push({ role: 'assistant', content: assistant });
  }
  const tools = Array.from({ length: 1 + g.int(2) }, () => ({
    name: g.ident(),
    description: g.sentence(),
    inputSchema: { type: 'object', properties: { q: { type: 'string' } } } as JsonObject,
    ...cache(),
  }));
  return {
    model: 'anthropic.claude-sonnet-4',
    system: g.r() < 0.5 ? [{ type: 'text', text: g.sentence(), ...cache() }] : [],
    messages,
    tools,
    toolChoice: g.pick([
      undefined,
      { type: 'auto' },
      { type: 'any' },
      { type: 'tool', name: tools[0]!.name },
    ] as const),
    maxTokens: g.r() < 0.5 ? 1 + g.int(4000) : undefined,
    temperature: g.r() < 0.5 ? g.pick([0, 0.5, 1, 0.123456789]) : undefined,
    topP: g.r() < 0.5 ? 0.9 : undefined,
    stop: g.r() < 0.5 ? ['END'] : [],
    stream: g.r() < 0.5,
    responseFormat: g.pick([
      undefined,
      { type: 'json_schema', name: 'out', schema: { type: 'object' } },
    ] as const),
    reasoning: g.pick([undefined, { budgetTokens: 1024 + g.int(8000) }] as const),
    extra: {},
  };
}

// ---- tests ---------------------------------------------------------------------------------

describe('bedrock request reader', () => {
  for (const name of [
    'request-basic',
    'request-media',
    'request-tools',
    'request-reasoning',
    'request-output-config',
  ]) {
    it(`reads ${name}`, () => {
      golden(
        name,
        bedrockCodec.readRequest(json(`${name}.json`), { model: 'anthropic.claude-sonnet-4', stream: false }),
      );
    });
  }

  it('takes the model from the URL, never the body (P-GEN-5)', () => {
    const ir = bedrockCodec.readRequest(
      { modelId: 'body', messages: [] },
      { model: 'url-model', stream: true },
    );
    assert.equal(ir.model, 'url-model');
    assert.equal(ir.extra.modelId, undefined);
  });
});

describe('bedrock request writer', () => {
  const ir = json<Request>('ir-request.json');

  it('writes the golden body', () => {
    golden(
      'write-request',
      bedrockCodec.writeRequest(ir, { model: 'anthropic.claude-sonnet-4', defaultMaxTokens: 4096 }),
    );
  });

  it('never injects maxTokens and never writes extra (P-XLT-2, P-XLT-3)', () => {
    const body = bedrockCodec.writeRequest(
      { ...ir, maxTokens: undefined, extra: { seed: 1, logit_bias: {} } },
      { model: 'm', defaultMaxTokens: 4096 },
    );
    assert.equal((body.inferenceConfig as JsonObject).maxTokens, undefined);
    assert.equal(JSON.stringify(body).includes('logit_bias'), false);
    assert.equal(body.modelId, undefined);
  });

  it('merges same-role turns, declares tools used in history, and fills blank tool results', () => {
    const body = bedrockCodec.writeRequest(
      {
        ...ir,
        tools: [],
        toolChoice: undefined,
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'a' }] },
          { role: 'user', content: [{ type: 'text', text: 'b' }] },
          { role: 'assistant', content: [{ type: 'tool_use', id: 'call_9', name: 'f', input: {} }] },
          {
            role: 'user',
            content: [{ type: 'tool_result', toolUseId: 'call_9', content: [{ type: 'text', text: '' }] }],
          },
        ],
      },
      { model: 'm', defaultMaxTokens: 0 },
    );
    assert.deepEqual(body.messages, [
      { role: 'user', content: [{ text: 'a' }, { text: 'b' }] },
      { role: 'assistant', content: [{ toolUse: { toolUseId: 'tooluse_9', name: 'f', input: {} } }] },
      { role: 'user', content: [{ toolResult: { toolUseId: 'tooluse_9', content: [{ text: '(empty)' }] } }] },
    ]);
    assert.deepEqual(body.toolConfig, {
      tools: [{ toolSpec: { name: 'f', inputSchema: { json: { type: 'object' } } } }],
    });
  });

  it('produces a one-token probe (P-PRB-1)', () => {
    assert.deepEqual(bedrockCodec.probeBody('m'), {
      messages: [{ role: 'user', content: [{ text: 'ping' }] }],
      inferenceConfig: { maxTokens: 1 },
    });
  });
});

describe('bedrock response', () => {
  for (const name of [
    'response-text',
    'response-tool-use',
    'response-reasoning-cache',
    'response-guardrail',
  ]) {
    it(`reads ${name}`, () => golden(name, bedrockCodec.readResponse(json(`${name}.json`))));
  }

  it('reads cache read/write tokens (P-USE-1)', () => {
    assert.deepEqual(bedrockCodec.usageFromResponse(json('response-reasoning-cache.json')), {
      inputTokens: 2520,
      outputTokens: 40,
      cacheReadInputTokens: 2000,
      cacheCreationInputTokens: 500,
      totalTokens: 2560,
    });
  });

  it('writes the golden body', () =>
    golden('write-response', bedrockCodec.writeResponse(json<Response>('ir-response.json'))));
});

describe('bedrock stream reader', () => {
  for (const name of [
    'stream-text',
    'stream-tools',
    'stream-reasoning',
    'stream-exception',
    'stream-no-metadata',
  ]) {
    it(`reads ${name}`, () => golden(name, readAll(framesOf(json<FrameSpec[]>(`${name}.json`)))));
  }

  it('holds the message end until metadata brings the usage', () => {
    const reader = bedrockCodec.newStreamReader();
    const specs = json<FrameSpec[]>('stream-text.json');
    const upToStop = reader.push(framesOf(specs.slice(0, 5)));
    assert.equal(
      upToStop.some((e) => e.type === 'message_delta' || e.type === 'message_stop'),
      false,
    );
    const rest = reader.push(framesOf(specs.slice(5)));
    assert.deepEqual(rest, [
      {
        type: 'message_delta',
        stopReason: 'end_turn',
        usage: { inputTokens: 12, outputTokens: 4, totalTokens: 16 },
      },
      { type: 'message_stop' },
    ]);
    assert.deepEqual(reader.end(), []);
  });

  for (const name of ['stream-text', 'stream-tools', 'stream-reasoning']) {
    it(`reassembles ${name} frames split at every byte boundary`, () => {
      const bytes = framesOf(json<FrameSpec[]>(`${name}.json`));
      assertSplitInvariant(() => bedrockCodec.newStreamReader(), bytes, { normalise, message: CUT_MESSAGES });
    });
  }

  it('reports a bad CRC, a truncated frame and a missing messageStop as one error, never throwing', () => {
    const good = framesOf(json<FrameSpec[]>('stream-text.json'));
    const flipped = Buffer.from(good);
    flipped[40] = flipped[40]! ^ 0xff;
    for (const bytes of [
      flipped,
      good.subarray(0, good.length - 3),
      framesOf(json<FrameSpec[]>('stream-text.json').slice(0, 3)),
    ]) {
      const events = readAll(bytes);
      assert.equal(events.filter((e) => e.type === 'error').length, 1);
      assert.equal(events.at(-1)?.type, 'error');
    }
  });

  it('rejects a corrupt length at once instead of buffering for it', () => {
    const prelude = Buffer.alloc(12);
    prelude.writeUInt32BE(15 * 1024 * 1024, 0);
    prelude.writeUInt32BE(10, 4);
    prelude.writeUInt32BE(12345, 8);
    const events = bedrockCodec.newStreamReader().push(prelude);
    assert.equal(events.at(-1)?.type, 'error');
    const oversize = Buffer.alloc(4);
    oversize.writeUInt32BE(64 * 1024 * 1024, 0);
    assert.equal(bedrockCodec.newStreamReader().push(oversize).at(-1)?.type, 'error');
  });

  it('never throws on malformed or random input', () => {
    const r = rng(5);
    const samples: Uint8Array[] = [
      Buffer.from([0, 0, 0, 4]),
      Buffer.from([255, 255, 255, 255, 1, 2, 3]),
      frame({ ':event-type': 'contentBlockDelta', ':message-type': 'event' }, '{not json'),
      frame({ ':event-type': 'contentBlockDelta', ':message-type': 'event' }, '[1]'),
      frame({ ':message-type': 'error', ':error-code': 'InternalFailure', ':error-message': 'boom' }, ''),
    ];
    for (let i = 0; i < 200; i++)
      samples.push(
        Buffer.from(Array.from({ length: 1 + Math.floor(r() * 64) }, () => Math.floor(r() * 256))),
      );
    for (const sample of samples) {
      const events = readAll(sample, [Math.floor(sample.length / 2)]);
      assert.equal(events.filter((e) => e.type === 'error').length, 1);
    }
  });
});

describe('bedrock stream writer', () => {
  const events = json<StreamEvent[]>('ir-stream-events.json');

  it('writes golden frames with valid CRCs, metadata after messageStop', () => {
    const frames = decodeFrames(writeAll(events));
    golden('write-stream', frames);
    assert.deepEqual(
      frames.slice(-2).map((f) => f.headers[':event-type']),
      ['messageStop', 'metadata'],
    );
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
      { type: 'message_delta', stopReason: 'tool_use' },
      { type: 'message_stop' },
    ];
    const { res, errors } = foldResponse(readAll(writeAll(seq)));
    assert.deepEqual(errors, []);
    assert.deepEqual(res.content, [
      { type: 'thinking', thinking: 'plan' },
      { type: 'tool_use', id: 'tooluse_1', name: 'f', input: { x: 1 } },
      { type: 'text', text: 'hi' },
    ]);
    assert.equal(res.stopReason, 'tool_use');
    assert.deepEqual(res.usage, { inputTokens: 0, outputTokens: 0, totalTokens: 0 });
  });

  it('writes errors as exception frames', () => {
    const bytes = writeAll([
      { type: 'message_start', id: 'a', model: 'm' },
      { type: 'error', error: { kind: 'overloaded', status: 503, message: 'busy' } },
      { type: 'message_stop' },
    ]);
    const frames = decodeFrames(bytes);
    assert.deepEqual(frames.at(-1), {
      headers: {
        ':exception-type': 'serviceUnavailableException',
        ':content-type': 'application/json',
        ':message-type': 'exception',
      },
      payload: { message: 'busy' },
    });
    assert.deepEqual(readAll(bytes).at(-1), {
      type: 'error',
      error: { kind: 'overloaded', status: 503, message: 'busy' },
    });
  });
});

describe('bedrock round trip (seeded property)', () => {
  it('write→read preserves responses', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const res = randomResponse(seed);
      const back = bedrockCodec.readResponse(bedrockCodec.writeResponse(res) as JsonValue);
      assert.deepEqual(back.content, res.content, `seed ${seed}`);
      assert.equal(back.stopReason, res.stopReason, `seed ${seed}`);
      assert.deepEqual(back.usage, res.usage, `seed ${seed}`);
    }
  });

  it('write→read preserves streams however the bytes are split', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const res = randomResponse(seed);
      const bytes = writeAll(eventsOf(res, EVENTS));
      const cuts = randomCuts(rng(seed), 8, bytes.length);
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
      const body = bedrockCodec.writeRequest(req, { model: req.model, defaultMaxTokens: 4096 });
      const back = bedrockCodec.readRequest(JSON.parse(JSON.stringify(body)) as JsonObject, {
        model: req.model,
        stream: req.stream,
      });
      assert.deepEqual(JSON.parse(JSON.stringify(back)), JSON.parse(JSON.stringify(req)), `seed ${seed}`);
    }
  });
});

describe('bedrock SDK compatibility (AWS SDK unmarshaller against the writers)', () => {
  it('decodes streamed and buffered answers, and raises exception frames as typed errors', async () => {
    const res = json<Response>('ir-response.json');
    let failing = false;
    const server = createServer((req, rsp) => {
      req.resume();
      req.on('end', () => {
        if (String(req.headers[':path']).endsWith('/converse-stream')) {
          const writer = bedrockCodec.newStreamWriter();
          rsp.writeHead(200, { 'content-type': writer.contentType });
          const events = eventsOf(res, EVENTS);
          if (failing)
            events.splice(4, events.length, {
              type: 'error',
              error: { kind: 'rate_limit_error', status: 429, message: 'slow down' },
            });
          for (const event of events) rsp.write(writer.write(event));
          rsp.end(writer.end());
        } else {
          rsp.writeHead(200, { 'content-type': 'application/json' });
          rsp.end(JSON.stringify(bedrockCodec.writeResponse(res)));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = new BedrockRuntimeClient({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
      maxAttempts: 1,
    });
    const input = {
      modelId: 'anthropic.claude-sonnet-4',
      messages: [{ role: 'user' as const, content: [{ text: 'hi' }] }],
    };
    try {
      const seen: ConverseStreamOutput[] = [];
      const out = await client.send(new ConverseStreamCommand(input));
      for await (const event of out.stream!) seen.push(event);
      const text = seen.map((e) => e.contentBlockDelta?.delta?.text ?? '').join('');
      const args = seen.map((e) => e.contentBlockDelta?.delta?.toolUse?.input ?? '').join('');
      assert.equal(text, 'I will check the weather in Boston.');
      assert.deepEqual(JSON.parse(args), { location: 'Boston' });
      assert.deepEqual(seen.find((e) => e.contentBlockStart)?.contentBlockStart?.start?.toolUse, {
        toolUseId: 'tooluse_01A',
        name: 'get_weather',
      });
      assert.equal(
        seen.find((e) => e.contentBlockDelta?.delta?.reasoningContent?.signature) !== undefined,
        true,
      );
      assert.equal(seen.at(-2)?.messageStop?.stopReason, 'tool_use');
      assert.deepEqual(seen.at(-1)?.metadata?.usage, {
        inputTokens: 40,
        outputTokens: 50,
        totalTokens: 150,
        cacheReadInputTokens: 60,
      });

      const whole = await client.send(new ConverseCommand(input));
      assert.equal(whole.stopReason, 'tool_use');
      assert.deepEqual(whole.output?.message?.content?.[2], {
        toolUse: { toolUseId: 'tooluse_01A', name: 'get_weather', input: { location: 'Boston' } },
      });
      assert.equal(whole.usage?.cacheReadInputTokens, 60);

      failing = true;
      const broken = await client.send(new ConverseStreamCommand(input));
      await assert.rejects(
        async () => {
          for await (const _ of broken.stream!) {
            // drain until the exception frame surfaces
          }
        },
        (err: Error) => err.name === 'ThrottlingException' && err.message === 'slow down',
      );
    } finally {
      client.destroy();
      server.close();
    }
  });
});
