// Shared test support for the six protocol codec tests: golden files and id placeholders, stream
// replay at arbitrary chunk boundaries, folding IR events back into a message, the canonical IR event
// sequence for a response, and seeded generators (IRs, JSON, chunk boundaries).

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { ProtocolCodec, StreamReader, StreamWriter } from '../../src/protocols/codec.ts';
import { InvalidRequest } from '../../src/protocols/expect.ts';
import type {
  ContentBlock,
  JsonObject,
  JsonValue,
  Message,
  Request,
  Response,
  StopReason,
  StreamEvent,
  ToolChoice,
  Usage,
} from '../../src/protocols/ir.ts';
import { isObject } from '../../src/protocols/json-access.ts';

// ---- golden files ------------------------------------------------------------------------

const UPDATE = process.env.UPDATE_GOLDEN === '1';

export function fixturePath(protocol: string, name: string): string {
  return new URL(`../fixtures/${protocol}/${name}`, import.meta.url).pathname;
}

export function fixtures(protocol: string, prefix: string, ext: string): string[] {
  const dir = new URL(`../fixtures/${protocol}/`, import.meta.url).pathname;
  return readdirSync(dir)
    .filter((f) => f.startsWith(prefix) && f.endsWith(ext) && !f.endsWith(`.golden${ext}`))
    .sort();
}

export function readText(protocol: string, name: string): string {
  return readFileSync(fixturePath(protocol, name), 'utf8');
}

export function readJson<T = JsonObject>(protocol: string, name: string): T {
  return JSON.parse(readText(protocol, name)) as T;
}

/** Compares `actual` with the golden file; UPDATE_GOLDEN=1 rewrites it. */
export function golden(protocol: string, name: string, actual: unknown): void {
  const path = fixturePath(protocol, name);
  const text = typeof actual === 'string' ? actual : `${JSON.stringify(actual, null, 2)}\n`;
  if (UPDATE) {
    writeFileSync(path, text);
    return;
  }
  assert.ok(existsSync(path), `missing golden ${name} (run with UPDATE_GOLDEN=1 and review it)`);
  const expected = readFileSync(path, 'utf8');
  if (typeof actual === 'string') assert.equal(text, expected, name);
  else assert.deepEqual(JSON.parse(text), JSON.parse(expected), name);
}

/** Replaces minted ids (24 random base62 characters after a known prefix) with a placeholder. */
export function normaliseIds(text: string): string {
  return text.replace(/\b(chatcmpl-|msg_|resp_|rs_|fc_)[A-Za-z0-9]{24}\b/g, '$1<id>');
}

/** A JSON value with its minted ids replaced as by `normaliseIds`. */
export function normalised(value: unknown): unknown {
  return JSON.parse(normaliseIds(JSON.stringify(value)));
}

export interface IdPlaceholders {
  /** A whole string that is a minted id. */
  readonly pattern: RegExp;
  /** Placeholders are `<${stem}1>`, `<${stem}2>`, … in order of first appearance. */
  readonly stem: string;
  /** Only strings under a key passing this test are replaced (array items have no key); default all. */
  readonly key?: (key: string | undefined) => boolean;
  /** Keys whose (scalar) values become 0, such as timings. */
  readonly zero?: readonly string[];
}

/** A JSON normaliser giving minted ids stable placeholders, keeping which of them are equal. */
export function idPlaceholders(opts: IdPlaceholders): (value: unknown) => unknown {
  const { pattern, stem, key: keyed = () => true, zero = [] } = opts;
  return (value) => {
    const seen = new Map<string, string>();
    const walk = (v: unknown, key?: string): unknown => {
      if (Array.isArray(v)) return v.map((x) => walk(x));
      if (v !== null && typeof v === 'object')
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
      if (key !== undefined && zero.includes(key)) return 0;
      if (typeof v === 'string' && keyed(key) && pattern.test(v)) {
        if (!seen.has(v)) seen.set(v, `<${stem}${seen.size + 1}>`);
        return seen.get(v);
      }
      return v;
    };
    return walk(JSON.parse(JSON.stringify(value)));
  };
}

/**
 * One protocol's fixture folder, by bare file name: `golden(name, actual)` compares `normalise(actual)`
 * with `<name>.golden.json`.
 */
export function protocolFixtures(protocol: string, normalise: (value: unknown) => unknown = (v) => v) {
  return {
    text: (name: string): string => readText(protocol, name),
    json: <T = JsonObject>(name: string): T => readJson<T>(protocol, name),
    golden: (name: string, actual: unknown): void =>
      golden(protocol, `${name}.golden.json`, normalise(actual)),
  };
}

// ---- streams -----------------------------------------------------------------------------

export function replay(reader: StreamReader, chunks: readonly Uint8Array[]): StreamEvent[] {
  const events: StreamEvent[] = [];
  for (const c of chunks) events.push(...reader.push(c));
  events.push(...reader.end());
  return events;
}

/**
 * The byte string cut at `at`: one cut at a number, a cut at each of an ascending list, or a
 * byte-by-byte split when `at` is undefined.
 */
export function cut(bytes: Uint8Array, at?: number | readonly number[]): Uint8Array[] {
  if (at === undefined) return Array.from(bytes, (_, i) => bytes.subarray(i, i + 1));
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const to of [...(typeof at === 'number' ? [at] : at), bytes.length]) {
    chunks.push(bytes.subarray(from, to));
    from = to;
  }
  return chunks;
}

/** Up to `count` distinct chunk boundaries in a byte string of `length`, ascending. */
export function randomCuts(random: () => number, count: number, length: number): number[] {
  return [...new Set(Array.from({ length: count }, () => Math.floor(random() * length)))].sort(
    (a, b) => a - b,
  );
}

export interface SplitCheck {
  /** Applied to each reading before the comparison (to replace minted ids, say). */
  readonly normalise?: (events: StreamEvent[]) => unknown;
  /** The assertion message for the cut at `at`, or for the byte-by-byte split (`at` undefined). */
  readonly message?: (at: number | undefined) => string | undefined;
}

/** Messages naming the cut, and none for the byte-by-byte split. */
export const CUT_MESSAGES = (at: number | undefined): string | undefined =>
  at === undefined ? undefined : `cut ${at}`;

/** Every single-cut split and the byte-by-byte split must give the same events as one chunk. */
export function assertSplitInvariant(
  newReader: () => StreamReader,
  bytes: Uint8Array,
  check: SplitCheck = {},
): StreamEvent[] {
  const {
    normalise = (events) => events,
    message = (at) => (at === undefined ? 'byte-by-byte' : `split at byte ${at}`),
  } = check;
  const events = replay(newReader(), [bytes]);
  const whole = normalise(events);
  for (let at = 1; at < bytes.length; at++) {
    assert.deepEqual(normalise(replay(newReader(), cut(bytes, at))), whole, message(at));
  }
  assert.deepEqual(normalise(replay(newReader(), cut(bytes))), whole, message(undefined));
  return events;
}

/** A text writer's whole output for `events`, end included. */
export function writeText(writer: StreamWriter, events: readonly StreamEvent[]): string {
  let out = '';
  for (const e of events) out += writer.write(e) as string;
  return out + (writer.end() as string);
}

export interface Folded {
  id?: string;
  model?: string;
  created?: number;
  content: ContentBlock[];
  stopReason?: StopReason;
  stopSequence?: string;
  usage?: Usage;
  error?: string;
  stopped: boolean;
}

/** Accumulates IR events into a message, checking the event grammar as it goes. */
export function fold(events: readonly StreamEvent[]): Folded {
  const out: Folded = { content: [], stopped: false };
  const open = new Map<number, { block: ContentBlock; args: string }>();
  const order: number[] = [];
  for (const e of events) {
    assert.equal(out.stopped, false, `event after message_stop: ${e.type}`);
    switch (e.type) {
      case 'message_start':
        out.id = e.id;
        out.model = e.model;
        if (e.created !== undefined) out.created = e.created;
        if (e.usage) out.usage = e.usage;
        break;
      case 'block_start': {
        assert.ok(!open.has(e.index), `block ${e.index} started twice`);
        assert.equal(e.index, order.length, 'block indexes are contiguous');
        order.push(e.index);
        const b = e.block;
        const block: ContentBlock =
          b.type === 'tool_use'
            ? { type: 'tool_use', id: b.id, name: b.name, input: {} }
            : b.type === 'redacted_thinking'
              ? { type: 'redacted_thinking', data: b.data }
              : b.type === 'thinking'
                ? { type: 'thinking', thinking: '' }
                : { type: 'text', text: '' };
        open.set(e.index, { block, args: '' });
        break;
      }
      case 'text_delta':
      case 'thinking_delta':
      case 'signature_delta':
      case 'tool_args_delta': {
        const slot = open.get(e.index);
        assert.ok(slot, `${e.type} for unopened block ${e.index}`);
        const b = slot.block;
        if (e.type === 'text_delta' && b.type === 'text') slot.block = { ...b, text: b.text + e.text };
        else if (e.type === 'thinking_delta' && b.type === 'thinking')
          slot.block = { ...b, thinking: b.thinking + e.thinking };
        else if (e.type === 'signature_delta' && b.type === 'thinking') {
          slot.block = { ...b, signature: (b.signature ?? '') + e.signature };
        } else if (e.type === 'tool_args_delta' && b.type === 'tool_use') slot.args += e.partialJson;
        else assert.fail(`${e.type} on a ${b.type} block`);
        break;
      }
      case 'block_stop': {
        const slot = open.get(e.index);
        assert.ok(slot, `block_stop for unopened block ${e.index}`);
        let block = slot.block;
        if (block.type === 'tool_use')
          block = { ...block, input: slot.args === '' ? {} : JSON.parse(slot.args) };
        out.content[e.index] = block;
        open.delete(e.index);
        break;
      }
      case 'message_delta':
        assert.equal(open.size, 0, 'message_delta with open blocks');
        out.stopReason = e.stopReason;
        if (e.stopSequence !== undefined) out.stopSequence = e.stopSequence;
        if (e.usage) out.usage = e.usage;
        break;
      case 'message_stop':
        out.stopped = true;
        break;
      case 'error':
        out.error = e.error.message;
        out.stopped = true;
        break;
    }
  }
  return out;
}

/** How `eventsOf` cuts a response into deltas. */
export interface EventShape {
  /** Characters per text (and thinking) delta; default 7. */
  readonly piece?: number;
  /** Characters per tool-argument delta; default `piece`. */
  readonly argsPiece?: number;
  /** One thinking delta per block rather than pieces. */
  readonly wholeThinking?: boolean;
  /** message_start carries the response's usage with no output tokens yet. */
  readonly startUsage?: boolean;
}

/** The canonical IR event sequence for a response, deltas cut as `shape` says (a number: `piece`). */
export function eventsOf(res: Response, shape: number | EventShape = 7): StreamEvent[] {
  const {
    piece = 7,
    argsPiece = piece,
    wholeThinking = false,
    startUsage = false,
  } = typeof shape === 'number' ? { piece: shape } : shape;
  const events: StreamEvent[] = [
    {
      type: 'message_start',
      id: res.id,
      model: res.model,
      ...(res.created !== undefined ? { created: res.created } : {}),
      ...(startUsage ? { usage: { ...res.usage, outputTokens: 0 } } : {}),
    },
  ];
  const chunks = (s: string, size: number): string[] => {
    const out: string[] = [];
    for (let i = 0; i < s.length; i += size) out.push(s.slice(i, i + size));
    return out;
  };
  res.content.forEach((b, index) => {
    if (b.type === 'text') {
      events.push({ type: 'block_start', index, block: { type: 'text' } });
      for (const text of chunks(b.text, piece)) events.push({ type: 'text_delta', index, text });
    } else if (b.type === 'thinking') {
      events.push({ type: 'block_start', index, block: { type: 'thinking' } });
      const size = wholeThinking ? b.thinking.length : piece;
      for (const thinking of chunks(b.thinking, size))
        events.push({ type: 'thinking_delta', index, thinking });
      if (b.signature) events.push({ type: 'signature_delta', index, signature: b.signature });
    } else if (b.type === 'redacted_thinking') {
      events.push({ type: 'block_start', index, block: { type: 'redacted_thinking', data: b.data } });
    } else if (b.type === 'tool_use') {
      events.push({ type: 'block_start', index, block: { type: 'tool_use', id: b.id, name: b.name } });
      for (const partialJson of chunks(JSON.stringify(b.input), argsPiece))
        events.push({ type: 'tool_args_delta', index, partialJson });
    }
    events.push({ type: 'block_stop', index });
  });
  events.push({
    type: 'message_delta',
    stopReason: res.stopReason,
    ...(res.stopSequence !== undefined ? { stopSequence: res.stopSequence } : {}),
    usage: res.usage,
  });
  events.push({ type: 'message_stop' });
  return events;
}

/**
 * Folds stream events back into a response the way a lenient client would: no grammar checks, blocks
 * ordered by index, error events collected apart.
 */
export function foldResponse(events: readonly StreamEvent[]): { res: Response; errors: StreamEvent[] } {
  const blocks = new Map<number, { kind: string; text: string; sig?: string; id?: string; name?: string }>();
  let id = '';
  let model = '';
  let stopReason: StopReason = 'error';
  let usage: Usage = { inputTokens: 0, outputTokens: 0 };
  const errors: StreamEvent[] = [];
  for (const e of events) {
    if (e.type === 'message_start') {
      id = e.id;
      model = e.model;
    } else if (e.type === 'block_start') {
      const b = e.block;
      blocks.set(e.index, {
        kind: b.type,
        text: b.type === 'redacted_thinking' ? b.data : '',
        ...(b.type === 'tool_use' && { id: b.id, name: b.name }),
      });
    } else if (e.type === 'text_delta') blocks.get(e.index)!.text += e.text;
    else if (e.type === 'thinking_delta') blocks.get(e.index)!.text += e.thinking;
    else if (e.type === 'tool_args_delta') blocks.get(e.index)!.text += e.partialJson;
    else if (e.type === 'signature_delta')
      blocks.get(e.index)!.sig = (blocks.get(e.index)!.sig ?? '') + e.signature;
    else if (e.type === 'message_delta') {
      stopReason = e.stopReason;
      if (e.usage) usage = e.usage;
    } else if (e.type === 'error') errors.push(e);
  }
  const content = [...blocks.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, b]): ContentBlock => {
      if (b.kind === 'text') return { type: 'text', text: b.text };
      if (b.kind === 'thinking')
        return { type: 'thinking', thinking: b.text, ...(b.sig !== undefined && { signature: b.sig }) };
      if (b.kind === 'redacted_thinking') return { type: 'redacted_thinking', data: b.text };
      return { type: 'tool_use', id: b.id!, name: b.name!, input: JSON.parse(b.text || '{}') as JsonObject };
    });
  return { res: { id, model, content, stopReason, usage }, errors };
}

export function sse(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

// ---- seeded generator --------------------------------------------------------------------

export class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  /** mulberry32 */
  next(): number {
    this.#s = (this.#s + 0x6d2b79f5) >>> 0;
    let t = this.#s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  bool(p = 0.5): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  word(): string {
    return this.pick([
      'alpha',
      'bravo',
      'ünïcode',
      'emoji 🚀',
      'quote "x"',
      'line\nbreak',
      'tab\tbed',
      'zulu',
    ]);
  }
  text(): string {
    return Array.from({ length: this.int(1, 6) }, () => this.word()).join(' ');
  }
  id(prefix: string): string {
    return `${prefix}${Array.from({ length: this.int(6, 12) }, () => this.pick([...'abcdefXYZ0123'])).join('')}`;
  }
  input(): JsonObject {
    const out: JsonObject = {};
    for (let i = this.int(0, 3); i > 0; i--) {
      out[`k${i}`] = this.pick<JsonObject[string]>([
        this.text(),
        this.int(-5, 500),
        this.bool(),
        null,
        [1, 'two'],
        { n: { deep: true } },
      ]);
    }
    return out;
  }
}

/** The bare mulberry32 stream of `Rng`, as a function. */
export function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

/** A protocol's words for `gen`. */
export interface Vocabulary {
  readonly words: readonly string[];
  /** Tool names (a digit is appended). */
  readonly idents: readonly string[];
  /** Items in a generated JSON array; default 1. */
  readonly arrayItems?: number;
  /** A tool call id in the protocol's own format. */
  readonly id: (g: Gen) => string;
}

export interface Gen {
  readonly r: () => number;
  int(n: number): number;
  pick<T>(xs: readonly T[]): T;
  sentence(): string;
  ident(): string;
  args(): JsonObject;
  id(): string;
}

/** Seeded pieces for building IRs: `int(n)` is below n, `args()` a tool input of nested JSON. */
export function gen(seed: number, vocab: Vocabulary): Gen {
  const r = rng(seed);
  const int = (n: number): number => Math.floor(r() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const word = (): string => pick(vocab.words);
  const sentence = (): string => Array.from({ length: 1 + int(6) }, word).join(' ');
  const ident = (): string => pick(vocab.idents) + int(9);
  const value = (depth: number): JsonValue => {
    const k = int(depth > 1 ? 4 : 6);
    if (k === 0) return sentence();
    if (k === 1) return int(1000) - 500;
    if (k === 2) return r() < 0.5;
    if (k === 3) return null;
    if (k === 4) return Array.from({ length: vocab.arrayItems ?? 1 }, () => value(depth + 1));
    return { [ident()]: value(depth + 1) };
  };
  const args = (): JsonObject =>
    Object.fromEntries(Array.from({ length: int(3) }, () => [ident(), value(0)]));
  const g: Gen = { r, int, pick, sentence, ident, args, id: () => vocab.id(g) };
  return g;
}

/** What a protocol's request can carry; the generator only produces carriable IRs. */
export interface RequestCaps {
  readonly toolPrefix: string;
  readonly systemBlocks: number;
  readonly cache: boolean;
  readonly documents: readonly ('base64' | 'url' | 'text')[];
  readonly signedThinking: boolean;
  readonly toolResultImages: boolean;
  readonly toolResultErrors: boolean;
  readonly mixedToolResults: boolean;
  readonly stop: boolean;
  readonly topK: boolean;
  readonly reasoning: 'effort' | 'budget';
  readonly formats: readonly ('text' | 'json_object' | 'json_schema')[];
  readonly schemaName: boolean;
  readonly metadata: boolean;
  readonly requireMaxTokens: boolean;
}

export function genRequest(rng: Rng, caps: RequestCaps): Request {
  const cc = (): { cacheControl?: { type: 'ephemeral' } } =>
    caps.cache && rng.bool(0.3) ? { cacheControl: { type: 'ephemeral' } } : {};
  const tools = Array.from({ length: rng.int(0, 2) }, (_, i) => ({
    name: `tool_${i}`,
    ...(rng.bool() ? { description: rng.text() } : {}),
    inputSchema: { type: 'object', properties: { q: { type: 'string' } } },
    ...cc(),
  }));
  const messages: Message[] = [];
  let pendingCalls: string[] = [];
  for (let turn = rng.int(1, 3); turn > 0; turn--) {
    const user: ContentBlock[] = [];
    for (const id of pendingCalls) {
      const content: (ContentBlock & { type: 'text' | 'image' })[] = [
        { type: 'text', text: rng.text(), ...cc() },
      ];
      if (caps.toolResultImages && rng.bool(0.3)) {
        content.push({ type: 'image', source: { kind: 'url', url: 'https://example.com/r.png' } });
      }
      user.push({
        type: 'tool_result',
        toolUseId: id,
        content: caps.toolResultImages ? content : [{ type: 'text', text: rng.text() }],
        ...(caps.toolResultErrors && rng.bool(0.3) ? { isError: true } : {}),
        ...cc(),
      });
    }
    if (pendingCalls.length === 0 || caps.mixedToolResults) {
      user.push({ type: 'text', text: rng.text(), ...cc() });
      if (rng.bool(0.3))
        user.push({ type: 'image', source: { kind: 'url', url: 'https://example.com/a.png' }, ...cc() });
      if (rng.bool(0.3)) {
        user.push({
          type: 'image',
          source: { kind: 'base64', mediaType: 'image/png', data: 'iVBORw0KGgo=' },
          ...cc(),
        });
      }
      if (caps.documents.length > 0 && rng.bool(0.3)) {
        const kind = rng.pick(caps.documents);
        const source =
          kind === 'base64'
            ? { kind, mediaType: 'application/pdf', data: 'JVBERi0xLjQ=' }
            : kind === 'url'
              ? { kind, url: 'https://example.com/d.pdf' }
              : { kind, text: rng.text() };
        user.push({ type: 'document', source, title: 'doc.pdf', ...cc() } as ContentBlock);
      }
    }
    messages.push({ role: 'user', content: user });
    pendingCalls = [];
    if (turn === 1 && rng.bool(0.3)) break;
    const assistant: ContentBlock[] = [];
    if (caps.signedThinking && rng.bool(0.4)) {
      assistant.push(
        rng.bool(0.8)
          ? { type: 'thinking', thinking: rng.text(), signature: `sig-${rng.int(0, 1e6)}` }
          : { type: 'redacted_thinking', data: `red-${rng.int(0, 1e6)}` },
      );
    }
    if (rng.bool(0.8) || tools.length === 0) assistant.push({ type: 'text', text: rng.text() });
    if (tools.length > 0 && turn > 1) {
      for (let n = rng.int(0, 2); n > 0; n--) {
        const id = rng.id(caps.toolPrefix);
        pendingCalls.push(id);
        assistant.push({ type: 'tool_use', id, name: rng.pick(tools).name, input: rng.input() });
      }
    }
    if (!assistant.some((b) => b.type === 'text' || b.type === 'tool_use'))
      assistant.push({ type: 'text', text: rng.text() });
    messages.push({ role: 'assistant', content: assistant });
  }
  const system = Array.from({ length: rng.int(0, caps.systemBlocks) }, () => ({
    type: 'text' as const,
    text: rng.text(),
    ...cc(),
  }));
  let toolChoice: ToolChoice | undefined;
  if (tools.length > 0 && rng.bool(0.6)) {
    const single = rng.bool(0.3) ? { disableParallel: true } : {};
    toolChoice = rng.pick<ToolChoice>([
      { type: 'auto', ...single },
      { type: 'any', ...single },
      { type: 'none' },
      { type: 'tool', name: tools[0]!.name, ...single },
    ]);
  }
  const maxTokens = caps.requireMaxTokens || rng.bool(0.7) ? rng.int(2048, 32000) : undefined;
  const budget =
    caps.reasoning === 'budget' && maxTokens !== undefined && rng.bool(0.3)
      ? rng.int(1024, maxTokens - 1)
      : undefined;
  const effort =
    caps.reasoning === 'effort' && rng.bool(0.3)
      ? rng.pick(['minimal', 'low', 'medium', 'high'] as const)
      : undefined;
  const format = caps.formats.length > 0 && rng.bool(0.3) ? rng.pick(caps.formats) : undefined;
  return {
    model: 'm',
    system,
    messages,
    tools,
    stop: caps.stop && rng.bool(0.4) ? ['END', rng.word()] : [],
    stream: rng.bool(),
    extra: {},
    ...(toolChoice ? { toolChoice } : {}),
    ...(maxTokens !== undefined ? { maxTokens } : {}),
    ...(budget === undefined && rng.bool(0.5) ? { temperature: rng.pick([0, 0.2, 0.7, 1, 1.3]) } : {}),
    ...(budget === undefined && rng.bool(0.3) ? { topP: rng.pick([0.1, 0.9, 1]) } : {}),
    ...(budget === undefined && caps.topK && rng.bool(0.3) ? { topK: rng.int(1, 100) } : {}),
    ...(budget !== undefined ? { reasoning: { budgetTokens: budget } } : {}),
    ...(effort !== undefined ? { reasoning: { effort } } : {}),
    ...(format === 'json_schema'
      ? {
          responseFormat: {
            type: format,
            name: caps.schemaName ? rng.pick(['answer', 'out']) : 'response',
            schema: { type: 'object', properties: { a: { type: 'number' } } },
          },
        }
      : format
        ? { responseFormat: { type: format } }
        : {}),
    ...(rng.bool(0.3) ? { user: `user-${rng.int(1, 99)}` } : {}),
    ...(caps.metadata && rng.bool(0.3) ? { metadata: { trace: rng.id('t') } } : {}),
  };
}

export interface ResponseCaps {
  readonly toolPrefix: string;
  readonly signedThinking: boolean;
  readonly redacted: boolean;
  readonly thinkingFirstOnly: boolean;
  readonly textBeforeTools: boolean;
  readonly stops: readonly StopReason[];
  readonly stopSequence: boolean;
  readonly reasoningTokens: boolean;
  readonly total: boolean;
  readonly created: boolean;
}

export function genResponse(rng: Rng, caps: ResponseCaps): Response {
  const content: ContentBlock[] = [];
  if (rng.bool(0.4)) {
    content.push(
      caps.redacted && rng.bool(0.2)
        ? { type: 'redacted_thinking', data: `red-${rng.int(0, 1e6)}` }
        : {
            type: 'thinking',
            thinking: rng.text(),
            ...(caps.signedThinking ? { signature: `sig-${rng.int(0, 1e6)}` } : {}),
          },
    );
  }
  const calls = rng.int(0, 2);
  const texts = caps.textBeforeTools ? (calls === 0 || rng.bool() ? 1 : 0) : rng.int(calls === 0 ? 1 : 0, 2);
  const body: ContentBlock[] = [];
  for (let i = 0; i < texts; i++) body.push({ type: 'text', text: rng.text() });
  for (let i = 0; i < calls; i++)
    body.push({ type: 'tool_use', id: rng.id(caps.toolPrefix), name: `tool_${i}`, input: rng.input() });
  if (!caps.textBeforeTools) body.sort(() => rng.next() - 0.5);
  content.push(...body);
  if (!caps.thinkingFirstOnly && rng.bool(0.2))
    content.push({ type: 'thinking', thinking: rng.text(), signature: 'late' });
  const stopReason = calls > 0 && rng.bool(0.8) ? 'tool_use' : rng.pick(caps.stops);
  const input = rng.int(1, 5000);
  const read = rng.bool(0.4) ? rng.int(1, input) : undefined;
  const write = rng.bool(0.3) ? rng.int(1, input - (read ?? 0) || 1) : undefined;
  const output = rng.int(1, 2000);
  const usage: Usage = {
    inputTokens: Math.max(input, (read ?? 0) + (write ?? 0)),
    outputTokens: output,
    ...(read ? { cacheReadInputTokens: read } : {}),
    ...(write ? { cacheCreationInputTokens: write } : {}),
    ...(caps.reasoningTokens && rng.bool(0.4) ? { reasoningTokens: rng.int(1, output) } : {}),
  };
  return {
    id: 'upstream-id',
    model: rng.pick(['gpt-x', 'claude-y', 'model/with:chars']),
    content,
    stopReason,
    ...(caps.stopSequence && stopReason === 'stop_sequence' ? { stopSequence: 'END' } : {}),
    usage: caps.total ? { ...usage, totalTokens: usage.inputTokens + usage.outputTokens } : usage,
    ...(caps.created ? { created: 1_700_000_000 + rng.int(0, 1e6) } : {}),
  };
}

/**
 * What a Chat Completions or Responses round trip carries: no id, and `stop` after tool calls reads back
 * as tool use (see stopFromFinish).
 */
export function carried(res: Response): Omit<Response, 'id'> {
  const { id: _, ...rest } = res;
  const calls = res.content.some((b) => b.type === 'tool_use');
  return { ...rest, stopReason: calls && res.stopReason === 'end_turn' ? 'tool_use' : res.stopReason };
}

/** A fetch stub answering every call with `body`, for driving the official SDKs offline. */
export function fetchReturning(body: string, contentType: string): typeof fetch {
  return async () => new Response(body, { status: 200, headers: { 'content-type': contentType } });
}

/**
 * A valid but unusual variant of a canonical event sequence: blocks interleaved (when `mix`), some
 * block_stops left to message_delta, usage sometimes missing, message_start sometimes absent.
 */
export function oddOrder(events: readonly StreamEvent[], rng: Rng, mix: boolean): StreamEvent[] {
  const start = events.find((e) => e.type === 'message_start');
  const tail = events.filter((e) => e.type === 'message_delta' || e.type === 'message_stop');
  const lanes: StreamEvent[][] = [];
  for (const e of events) {
    if (!('index' in e)) continue;
    const lane = lanes[e.index] ?? [];
    lanes[e.index] = lane;
    lane.push(e);
  }
  for (const lane of lanes) if (lane.at(-1)?.type === 'block_stop' && rng.bool(0.3)) lane.pop();
  const body: StreamEvent[] = [];
  let begun = 0;
  const cursor = lanes.map(() => 0);
  while (cursor.some((c, i) => c < lanes[i]!.length)) {
    const live = lanes
      .map((_, i) => i)
      .filter((i) => cursor[i]! < lanes[i]!.length && (i < begun || i === begun));
    const i = mix ? rng.pick(live) : Math.min(...live);
    if (i === begun) begun++;
    body.push(lanes[i]![cursor[i]!++]!);
  }
  const out: StreamEvent[] = [];
  if (start && rng.bool(0.8)) out.push(start);
  out.push(...body);
  for (const e of tail) {
    if (e.type === 'message_delta' && rng.bool(0.3)) {
      const { usage: _, ...bare } = e;
      out.push(bare);
    } else out.push(e);
  }
  return out;
}

/** What must survive any writer→reader hop: text and reasoning in order, tool calls, stop reason. */
export function essence(content: readonly ContentBlock[]): {
  text: string;
  thinking: string;
  tools: unknown[];
} {
  let text = '';
  let thinking = '';
  const tools: unknown[] = [];
  for (const b of content) {
    if (b.type === 'text') text += b.text;
    else if (b.type === 'thinking') thinking += b.thinking;
    else if (b.type === 'tool_use') tools.push([b.name, b.input]);
  }
  return { text, thinking, tools };
}

/** A random JSON value of bounded depth, biased towards shapes readers look into. */
export function randomJson(rng: Rng, depth = 3): JsonValue {
  const leaf = (): JsonValue =>
    rng.pick<JsonValue>([
      null,
      true,
      0,
      -1,
      1e308,
      3.5,
      '',
      'text',
      'data:image/png;base64,',
      '{"a":',
      'tool_use',
    ]);
  if (depth === 0 || rng.bool(0.3)) return leaf();
  if (rng.bool()) return Array.from({ length: rng.int(0, 3) }, () => randomJson(rng, depth - 1));
  const keys = [
    'type',
    'role',
    'content',
    'text',
    'id',
    'name',
    'input',
    'arguments',
    'usage',
    'delta',
    'index',
    'source',
  ];
  const out: { [key: string]: JsonValue } = {};
  for (let n = rng.int(0, 4); n > 0; n--) out[rng.pick(keys)] = randomJson(rng, depth - 1);
  return out;
}

/** `value` with random subtrees replaced, for hostile-input tests built from real fixtures. */
export function mutate(value: JsonValue, rng: Rng): JsonValue {
  if (rng.bool(0.08)) return randomJson(rng);
  if (Array.isArray(value)) return value.map((v) => mutate(v, rng));
  if (value !== null && typeof value === 'object') {
    const out: { [key: string]: JsonValue } = {};
    for (const [k, v] of Object.entries(value)) if (!rng.bool(0.05)) out[k] = mutate(v, rng);
    return out;
  }
  return value;
}

/**
 * Feeds `codec`'s readers mutated fixtures (of `protocol`) and random JSON, and each of `writers` what
 * they read: nothing may throw, except the request reader refusing a body as an InvalidRequest.
 */
export function hostileInput(
  codec: ProtocolCodec,
  protocol: string,
  writers: readonly ProtocolCodec[],
): void {
  const rng = new Rng(4242);
  const requests = fixtures(protocol, 'request-', '.json').map((n) => readJson(protocol, n));
  const responses = fixtures(protocol, 'response-', '.json').map((n) => readJson(protocol, n));
  let read = 0;
  for (let i = 0; i < 400; i++) {
    const raw = rng.bool(0.2) ? randomJson(rng) : mutate(rng.pick(requests), rng);
    const req = readOrRefuse(codec, isObject(raw) ? raw : {}, rng.bool());
    if (req !== undefined) read++;
    for (const w of req ? writers : [])
      JSON.stringify(w.writeRequest(req!, { model: 'up', defaultMaxTokens: 0 }));
    const body = rng.bool(0.2) ? randomJson(rng) : mutate(rng.pick(responses), rng);
    const res = codec.readResponse(body);
    codec.usageFromResponse(body);
    codec.readError(500, body, {});
    for (const w of writers) JSON.stringify(w.writeResponse(res));
  }
  // Most mutations break a field the reader now refuses; enough bodies stay valid to reach the writers.
  assert.ok(read >= 10, `only ${read} of 400 requests were read`);
}

/** The reader's IR, or undefined when it refused the body as an InvalidRequest (anything else fails). */
function readOrRefuse(codec: ProtocolCodec, body: JsonObject, stream: boolean): Request | undefined {
  try {
    return codec.readRequest(body, { model: 'm', stream });
  } catch (err) {
    assert.ok(err instanceof InvalidRequest, `the reader threw ${String(err)}`);
    return undefined;
  }
}
