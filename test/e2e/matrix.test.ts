// Acceptance test for lossless cross-protocol translation (P-MTX-1, P-MTX-2): every ingress protocol, driven by its
// official SDK, against a mock upstream of every egress protocol, non-streaming and streaming (72 cells). In each
// cell the SDK must parse the answer and see the upstream's text, the mapped stop reason and the usage under its own
// field names; a two-turn tool call must round-trip and a max-tokens stop must map, in both modes; and every
// upstream request must be valid in the upstream's own protocol (upstream-checks.ts).
//
// One gateway, six mocks (one per egress protocol, so cells run concurrently without sharing a fault queue): the
// cells of one ingress run in parallel, one per egress mock. The 6×6 result table is printed at the end.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Agent } from 'undici';
import { PROTOCOLS, type Protocol } from '../../src/protocols/names.ts';
import { type Gateway, startGateway } from '../support/gateway-process.ts';
import {
  type MatrixClient,
  matrixClient,
  type TurnResult,
  WEATHER_RESULT,
  WEATHER_TOOL,
} from '../support/matrix-clients.ts';
import { type MockUpstream, type RecordedRequest, startMockUpstream } from '../support/mock-upstream.ts';
import {
  CLIENT_TOKEN,
  LANES,
  sixProvidersCatalog,
  sixProvidersConfig,
  sixProvidersEnv,
} from '../support/six-providers.ts';
import { assertValidUpstream, declaredTools, toolExchange } from '../support/upstream-checks.ts';

/** Anthropic egress gets this when the client sets no max tokens (the model's default_max_tokens, P-XLT-3). */
const ANTHROPIC_DEFAULT_MAX_TOKENS = 2048;
const SYSTEM = 'You are a terse assistant.';
/** Not exactly representable in binary: it must arrive as the same JSON number (P-IR-1). */
const TEMPERATURE = 0.3;
const TOOL_CALL = { name: WEATHER_TOOL.name, arguments: { city: 'Paris', unit: 'celsius' } };

/** Native stop reason for a finished text answer and for a tool call, per ingress (P-XLT-7). */
const STOP_TEXT: Record<Protocol, string> = {
  openai: 'stop',
  responses: 'completed',
  anthropic: 'end_turn',
  gemini: 'STOP',
  cohere: 'COMPLETE',
  bedrock: 'end_turn',
};
const STOP_MAX: Record<Protocol, string> = {
  openai: 'length',
  responses: 'incomplete',
  anthropic: 'max_tokens',
  gemini: 'MAX_TOKENS',
  cohere: 'MAX_TOKENS',
  bedrock: 'max_tokens',
};
const STOP_TOOL: Record<Protocol, string> = {
  openai: 'tool_calls',
  responses: 'completed',
  anthropic: 'tool_use',
  gemini: 'STOP',
  cohere: 'TOOL_CALL',
  bedrock: 'tool_use',
};

/** Tool-call ids in the client's native form (P-XLT-5); Cohere ids are free-form. */
const CLIENT_TOOL_ID: Record<Protocol, RegExp> = {
  openai: /^call_[A-Za-z0-9_-]+$/,
  responses: /^call_[A-Za-z0-9_-]+$/,
  anthropic: /^toolu_[A-Za-z0-9_-]+$/,
  gemini: /^gm_[A-Za-z0-9_-]+$/,
  cohere: /^\S+$/,
  bedrock: /^tooluse_[A-Za-z0-9_-]+$/,
};

/** Response ids minted in the ingress protocol's native form on a cross-protocol hop (P-XLT-8). */
const RESPONSE_ID: Partial<Record<Protocol, RegExp>> = {
  openai: /^chatcmpl-[A-Za-z0-9]{24}$/,
  responses: /^resp_[A-Za-z0-9]{24}$/,
  anthropic: /^msg_[A-Za-z0-9]{24}$/,
  gemini: /^[A-Za-z0-9]{23}$/,
  cohere: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
};

/** Tool-call ids as the upstream sees them replayed on turn 2. */
const UPSTREAM_TOOL_ID: Record<Protocol, RegExp> = {
  openai: /^call_/,
  responses: /^call_/,
  anthropic: /^toolu_/,
  gemini: /^\S+$/,
  cohere: /^\S+$/,
  bedrock: /^tooluse_/,
};

/** The id without the known protocol prefix: what the deterministic prefix swap preserves. */
function idCore(id: unknown): string {
  return String(id).replace(/^(toolu_|tooluse_|call_|fc_|gm_)/, '');
}

const mocks = {} as Record<Protocol, MockUpstream>;
let gw: Gateway;
/**
 * The SDKs' keep-alive connections go through one agent that is closed before the gateway stops: the gateway's
 * shutdown waits for idle client sockets (closeIdleConnections has no effect behind the dual listener).
 */
const agent = new Agent();
const viaAgent = ((input: string | URL | Request, init?: RequestInit) =>
  fetch(input, { ...init, dispatcher: agent } as RequestInit)) as typeof fetch;
const started = Date.now();

type Mark = '✓' | '✗';
interface Both {
  nonStream: Mark;
  stream: Mark;
}
interface Cell {
  nonStream: Mark;
  stream: Mark;
  tools: Both;
  maxTokens: Both;
}

/** One letter for a check run in both modes: the letter when both passed, n/s when only that mode did. */
function both(b: Both, letter: string): string {
  if (b.nonStream === '✓' && b.stream === '✓') return letter;
  if (b.nonStream === '✓') return 'n';
  if (b.stream === '✓') return 's';
  return '✗';
}
const matrix = new Map<string, Cell>();

before(async () => {
  for (const p of PROTOCOLS) mocks[p] = await startMockUpstream();
  const urls = Object.fromEntries(PROTOCOLS.map((p) => [p, mocks[p].url])) as Record<Protocol, string>;
  gw = await startGateway({
    configYaml: sixProvidersConfig('', { anthropic: `default_max_tokens: ${ANTHROPIC_DEFAULT_MAX_TOKENS}` }),
    providersYaml: sixProvidersCatalog(urls),
    env: sixProvidersEnv(),
  });
});

after(async () => {
  await agent.close();
  await gw?.stop();
  await Promise.all(PROTOCOLS.map((p) => mocks[p]?.close()));
  console.log(renderMatrix(Date.now() - started));
});

function renderMatrix(ms: number): string {
  const width = 12;
  const pad = (s: string): string => s + ' '.repeat(Math.max(0, width - [...s].length));
  const lines = [
    'Cross-protocol matrix (rows: ingress SDK, columns: egress upstream).',
    'Each cell: text non-stream, text stream, T = tool round trip, M = max-tokens stop reason',
    '(T and M run streaming and not; n/s = only that mode passed, ✗ = neither).',
    pad('in \\ out') + PROTOCOLS.map(pad).join(''),
  ];
  for (const ingress of PROTOCOLS) {
    let row = pad(ingress);
    for (const egress of PROTOCOLS) {
      const c = matrix.get(`${ingress}>${egress}`);
      if (c === undefined) {
        row += pad('-');
        continue;
      }
      row += pad(`${c.nonStream} ${c.stream} ${both(c.tools, 'T')} ${both(c.maxTokens, 'M')}`);
    }
    lines.push(row);
  }
  lines.push(`(${matrix.size} of 36 pairs run in ${(ms / 1000).toFixed(1)} s)`);
  return lines.join('\n');
}

/** Runs `fn` against a clean mock and returns the requests it made; a failure is recorded, not thrown. */
async function step(
  failures: string[],
  label: string,
  mock: MockUpstream,
  fn: (requests: () => RecordedRequest[]) => Promise<void>,
): Promise<Mark> {
  mock.reset();
  try {
    await fn(() => mock.requests);
    return '✓';
  } catch (err) {
    failures.push(`${label}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return '✗';
  }
}

function assertTurn(
  r: TurnResult,
  x: { text: string; stop: string; usage: [number, number]; stream: boolean },
): void {
  assert.equal(r.text, x.text, 'the SDK sees the upstream text');
  assert.equal(r.stop, x.stop, 'the SDK sees the mapped stop reason');
  assert.deepEqual(r.usage, x.usage, 'the SDK sees the upstream usage');
  if (x.stream) assert.ok(r.deltas >= 3, `text arrived in ${r.deltas} deltas, not buffered`);
}

async function runCell(ingress: Protocol, egress: Protocol): Promise<void> {
  const lane = LANES[egress];
  const mock = mocks[egress];
  const failures: string[] = [];
  const seed = 100 + PROTOCOLS.indexOf(ingress) * 10 + PROTOCOLS.indexOf(egress);
  const answer = (what: string): string => `${egress} answers ${ingress} (${what}): héllo wörld ✓ 🚌`;
  const open = (name: string): MatrixClient =>
    matrixClient(ingress, { baseUrl: gw.url, token: CLIENT_TOKEN, name, fetch: viaAgent });
  const byModel = open(lane.model);
  const byPool = open(lane.pool);
  const expectUpstream = (stream: boolean, prompt: string) => ({
    stream,
    prompt,
    clientMaxTokens: byPool.maxTokens,
    injectedMaxTokens: ANTHROPIC_DEFAULT_MAX_TOKENS,
    foreignFields: byPool.foreignFields,
    sameProtocol: ingress === egress,
  });

  const text = async (stream: boolean, client: MatrixClient): Promise<Mark> =>
    step(failures, stream ? 'stream' : 'non-stream', mock, async (requests) => {
      const mode = stream ? 'stream' : 'buffered';
      const prompt = `Say hello (${ingress} to ${egress}, ${mode}).`;
      const usage: [number, number] = [seed, stream ? 9 : 8];
      mock.enqueue({ text: answer(mode), usage: { input: usage[0], output: usage[1] } });
      const r = await client.ask(stream, prompt, { system: SYSTEM, temperature: TEMPERATURE });
      assertTurn(r, { text: answer(mode), stop: STOP_TEXT[ingress], usage, stream });
      if (!stream) {
        // P-XLT-8: the upstream's model, and (across protocols) a fresh id in the client's native form.
        if (ingress !== 'cohere' && ingress !== 'bedrock')
          assert.equal(r.model, lane.model, 'upstream model');
        const idForm = RESPONSE_ID[ingress];
        if (ingress !== egress && idForm !== undefined) {
          assert.match(r.id ?? '', idForm, 'response id minted in the client native form');
        }
      }
      assert.equal(requests().length, 1, 'exactly one upstream request');
      assertValidUpstream(requests()[0]!, lane, {
        ...expectUpstream(stream, prompt),
        system: SYSTEM,
        temperature: TEMPERATURE,
      });
    });

  // P-XLT-7: the upstream's own max-tokens stop reason reaches the client as its own.
  const truncated = async (stream: boolean): Promise<Mark> =>
    step(failures, `max-tokens ${stream ? 'stream' : 'non-stream'}`, mock, async (requests) => {
      const prompt = `Tell a long story (${ingress} to ${egress}).`;
      mock.enqueue({ text: answer('cut short'), usage: { input: seed, output: 3 }, truncated: true });
      const r = await byPool.ask(stream, prompt);
      assertTurn(r, { text: answer('cut short'), stop: STOP_MAX[ingress], usage: [seed, 3], stream });
      assert.equal(requests().length, 1, 'exactly one upstream request');
      assertValidUpstream(requests()[0]!, lane, expectUpstream(stream, prompt));
    });

  const tools = async (stream: boolean): Promise<Mark> =>
    step(failures, `tools ${stream ? 'stream' : 'non-stream'}`, mock, async (requests) => {
      const prompt = `What is the weather in Paris? (${ingress} to ${egress})`;
      mock.enqueue({ toolCall: TOOL_CALL, usage: { input: seed, output: 20 } });
      const conv = await byPool.askWithTool(stream, prompt);
      const first = conv.first;
      assert.equal(first.toolCalls.length, 1, 'the SDK sees one tool call');
      const call = first.toolCalls[0]!;
      assert.equal(call.name, TOOL_CALL.name);
      assert.deepEqual(call.args, TOOL_CALL.arguments, 'tool arguments intact');
      if (ingress !== 'gemini' || egress !== 'gemini') {
        // Gemini itself often sends no call id; the gateway mints one for a Gemini client on a foreign hop.
        assert.match(call.id, CLIENT_TOOL_ID[ingress], 'tool-call id in the client native form');
      }
      assert.equal(first.stop, STOP_TOOL[ingress], 'tool-use stop reason');
      assert.deepEqual(first.usage, [seed, 20]);
      assert.equal(requests().length, 1, 'turn 1: one upstream request');
      const up1 = assertValidUpstream(requests()[0]!, lane, expectUpstream(stream, prompt));
      assert.deepEqual(
        declaredTools(egress, up1),
        [{ name: WEATHER_TOOL.name, schema: WEATHER_TOOL.schema }],
        'the tool is declared in the upstream shape with its schema intact',
      );

      mock.enqueue({ text: answer('after tool'), usage: { input: seed + 1, output: 5 } });
      const second = await conv.answer(stream);
      assertTurn(second, {
        text: answer('after tool'),
        stop: STOP_TEXT[ingress],
        usage: [seed + 1, 5],
        stream,
      });
      assert.equal(requests().length, 2, 'turn 2: one more upstream request');
      const up2 = assertValidUpstream(requests()[1]!, lane, expectUpstream(stream, prompt));
      assert.equal(declaredTools(egress, up2).length, 1, 'tools still declared on turn 2');
      const x = toolExchange(egress, up2);
      assert.equal(x.calls.length, 1, 'the assistant tool call is replayed upstream');
      assert.equal(x.results.length, 1, 'the tool result reaches the upstream');
      const [replayed, result] = [x.calls[0]!, x.results[0]!];
      assert.equal(replayed.name, TOOL_CALL.name);
      assert.deepEqual(replayed.args, TOOL_CALL.arguments);
      assert.deepEqual(result.value, WEATHER_RESULT, 'tool result content intact');
      if (egress === 'gemini')
        assert.equal(result.name, TOOL_CALL.name, 'functionResponse names the function');
      if (replayed.id !== undefined || result.id !== undefined) {
        assert.equal(result.id, replayed.id, 'the result answers the replayed call id');
        assert.match(String(replayed.id), UPSTREAM_TOOL_ID[egress], 'upstream-native tool id');
        if (call.id !== '')
          assert.equal(idCore(replayed.id), idCore(call.id), 'id mapped back by prefix swap');
      }
    });

  try {
    const cell: Cell = {
      nonStream: await text(false, byModel),
      stream: await text(true, byPool),
      tools: { nonStream: await tools(false), stream: await tools(true) },
      maxTokens: { nonStream: await truncated(false), stream: await truncated(true) },
    };
    matrix.set(`${ingress}>${egress}`, cell);
  } finally {
    byModel.close();
    byPool.close();
  }
  if (failures.length > 0) assert.fail(`${ingress} → ${egress}\n${failures.join('\n\n')}`);
}

for (const ingress of PROTOCOLS) {
  describe(`${ingress} SDK`, { concurrency: true }, () => {
    for (const egress of PROTOCOLS) {
      it(`${ingress} → ${egress}${ingress === egress ? ' (same protocol)' : ''}`, () =>
        runCell(ingress, egress));
    }
  });
}

/** The JSON payloads of an SSE body's `data:` lines (the `[DONE]` terminator left out). */
function sseData(body: string): unknown[] {
  return body
    .split(/\r?\n/)
    .filter((l) => l.startsWith('data: ') && l !== 'data: [DONE]')
    .map((l) => JSON.parse(l.slice(6)) as unknown);
}

const FOREIGN = (ingress: Protocol): Protocol[] => PROTOCOLS.filter((p) => p !== ingress);

describe('openai stream without stream_options.include_usage (P-STR-1)', { concurrency: true }, () => {
  for (const egress of FOREIGN('openai')) {
    it(`openai → ${egress}: no usage-only chunk; every chunk has choices[0]`, async () => {
      const lane = LANES[egress];
      mocks[egress].reset();
      mocks[egress].enqueue({ text: 'no usage asked', usage: { input: 4, output: 2 } });
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${CLIENT_TOKEN}` },
        body: JSON.stringify({ model: lane.pool, messages: [{ role: 'user', content: 'hi' }], stream: true }),
        dispatcher: agent,
      } as RequestInit);
      const body = await res.text();
      assert.equal(res.status, 200, body);
      const chunks = sseData(body) as Array<{ choices: unknown[]; usage?: unknown }>;
      assert.ok(body.trimEnd().endsWith('data: [DONE]'));
      for (const c of chunks)
        assert.equal(c.choices.length, 1, `a chunk without choices[0]: ${JSON.stringify(c)}`);
    });
  }
});

describe('gemini streamGenerateContent without alt=sse gets a JSON array on a foreign hop (P-STR-4)', {
  concurrency: true,
}, () => {
  for (const egress of FOREIGN('gemini')) {
    it(`gemini (array) → ${egress}`, async () => {
      const lane = LANES[egress];
      mocks[egress].reset();
      mocks[egress].enqueue({ text: 'array framing héllo', usage: { input: 6, output: 4 } });
      const res = await fetch(`${gw.url}/v1beta/models/${lane.pool}:streamGenerateContent`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-goog-api-key': CLIENT_TOKEN },
        body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }),
        dispatcher: agent,
      } as RequestInit);
      const raw = await res.text();
      assert.equal(res.status, 200, raw);
      assert.match(res.headers.get('content-type') ?? '', /application\/json/);
      const chunks = JSON.parse(raw) as Array<{
        candidates?: Array<{ content?: { parts?: Array<{ text?: string }> }; finishReason?: string }>;
        usageMetadata?: { promptTokenCount?: number; candidatesTokenCount?: number };
      }>;
      assert.ok(Array.isArray(chunks) && chunks.length >= 2, 'an array of chunks');
      const text = chunks.map(
        (c) => c.candidates?.[0]?.content?.parts?.map((p) => p.text ?? '').join('') ?? '',
      );
      assert.equal(text.join(''), 'array framing héllo');
      assert.equal(chunks.at(-1)?.candidates?.[0]?.finishReason, 'STOP');
      const usage = chunks.at(-1)?.usageMetadata;
      assert.deepEqual([usage?.promptTokenCount, usage?.candidatesTokenCount], [6, 4]);
      assert.equal(mocks[egress].requests.length, 1);
    });
  }
});
