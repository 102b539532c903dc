// Gemini streamGenerateContent ↔ IR stream events. Every chunk is a whole GenerateContentResponse;
// it arrives either as SSE `data:` lines (`alt=sse`) or as one JSON array written incrementally.

import type { StreamReader, StreamWriter, StreamWriterOptions } from '../codec.ts';
import { mintId } from '../ids.ts';
import type {
  ErrorKind,
  GatewayErrorInfo,
  JsonObject,
  JsonValue,
  StopReason,
  StreamEvent,
  Usage,
} from '../ir.ts';
import { arr, count, field, isObject, str } from '../json-access.ts';
import { encodeSse, SseParser } from '../sse.ts';
import { nativeToolId } from '../tool-ids.ts';
import { writeGeminiError } from './errors.ts';
import { SSE } from './framing.ts';
import { gf } from './request.ts';
import { finishFromStop, metadataFromUsage, stopFromFinish, usageFromMetadata } from './response.ts';

/** Largest single array element the reader holds before it calls the stream malformed. */
const MAX_ELEMENT = 16 * 1024 * 1024;

const KIND_BY_STATUS: Record<string, [ErrorKind, number]> = {
  INVALID_ARGUMENT: ['invalid_request_error', 400],
  FAILED_PRECONDITION: ['invalid_request_error', 400],
  OUT_OF_RANGE: ['invalid_request_error', 400],
  UNAUTHENTICATED: ['authentication_error', 401],
  PERMISSION_DENIED: ['permission_error', 403],
  NOT_FOUND: ['not_found_error', 404],
  RESOURCE_EXHAUSTED: ['rate_limit_error', 429],
  UNAVAILABLE: ['overloaded', 503],
  DEADLINE_EXCEEDED: ['timeout', 504],
};

function streamError(error: JsonValue): GatewayErrorInfo {
  const status = str(field(error, 'status')) ?? '';
  const [kind, fallback] = KIND_BY_STATUS[status] ?? ['api_error', 500];
  const code = count(field(error, 'code'));
  return {
    kind,
    status: code !== undefined && code >= 400 && code < 600 ? code : fallback,
    message: str(field(error, 'message')) ?? 'upstream stream error',
  };
}

/** The input side of a chunk's usage: what is known before any output is counted. */
function inputUsage(usage: Usage): Usage {
  return {
    inputTokens: usage.inputTokens,
    outputTokens: 0,
    ...(usage.cacheReadInputTokens !== undefined && { cacheReadInputTokens: usage.cacheReadInputTokens }),
    totalTokens: usage.inputTokens,
  };
}

function malformed(detail: string): StreamEvent {
  return {
    type: 'error',
    error: { kind: 'api_error', status: 502, message: `malformed Gemini stream: ${detail}` },
  };
}

/** Turns whole chunks into IR events; shared by both framings. */
class ChunkInterpreter {
  started = false;
  done = false;
  #index = -1;
  #open: 'text' | 'thinking' | undefined;
  #sawToolCall = false;
  #usage: Usage | undefined;

  chunk(chunk: JsonValue, out: StreamEvent[]): void {
    if (this.done) return;
    if (!isObject(chunk)) {
      this.fail(out, malformed('chunk is not an object'));
      return;
    }
    if (chunk.error !== undefined) {
      this.fail(out, { type: 'error', error: streamError(chunk.error) });
      return;
    }
    const usage = usageFromMetadata(gf(chunk, 'usageMetadata'));
    if (!this.started) {
      this.started = true;
      out.push({
        type: 'message_start',
        id: str(gf(chunk, 'responseId')) || mintId('', 23),
        model: str(gf(chunk, 'modelVersion')) ?? '',
        ...(usage !== undefined && { usage: inputUsage(usage) }),
      });
    }
    if (usage !== undefined) this.#usage = usage;
    const candidate = arr(field(chunk, 'candidates'))[0];
    for (const part of arr(gf(gf(candidate, 'content'), 'parts'))) this.#part(part, out);

    const finish = str(gf(candidate, 'finishReason'));
    const blocked =
      candidate === undefined && str(gf(gf(chunk, 'promptFeedback'), 'blockReason')) !== undefined;
    if ((finish !== undefined && finish !== 'FINISH_REASON_UNSPECIFIED') || blocked) {
      this.#close(out);
      const stopReason: StopReason = blocked ? 'content_filter' : stopFromFinish(finish, this.#sawToolCall);
      out.push({
        type: 'message_delta',
        stopReason,
        ...(this.#usage !== undefined && { usage: this.#usage }),
      });
      out.push({ type: 'message_stop' });
      this.done = true;
    }
  }

  fail(out: StreamEvent[], event: StreamEvent): void {
    if (this.done) return;
    out.push(event);
    this.done = true;
  }

  #close(out: StreamEvent[]): void {
    if (this.#open !== undefined) out.push({ type: 'block_stop', index: this.#index });
    this.#open = undefined;
  }

  #ensure(kind: 'text' | 'thinking', out: StreamEvent[]): void {
    if (this.#open === kind) return;
    this.#close(out);
    this.#index++;
    this.#open = kind;
    out.push({ type: 'block_start', index: this.#index, block: { type: kind } });
  }

  #part(part: JsonValue, out: StreamEvent[]): void {
    const text = str(field(part, 'text'));
    const signature = str(gf(part, 'thoughtSignature'));
    if (field(part, 'thought') === true && text !== undefined) {
      this.#ensure('thinking', out);
      if (text !== '') out.push({ type: 'thinking_delta', index: this.#index, thinking: text });
      if (signature !== undefined) out.push({ type: 'signature_delta', index: this.#index, signature });
      return;
    }
    if (signature !== undefined) {
      // Same convention as the non-stream reader: an empty thinking block just before the part.
      this.#close(out);
      this.#ensure('thinking', out);
      out.push({ type: 'signature_delta', index: this.#index, signature });
      this.#close(out);
    }
    if (text !== undefined) {
      if (text === '') return;
      this.#ensure('text', out);
      out.push({ type: 'text_delta', index: this.#index, text });
      return;
    }
    const call = gf(part, 'functionCall');
    if (isObject(call)) {
      this.#close(out);
      this.#index++;
      this.#sawToolCall = true;
      const args = field(call, 'args');
      out.push({
        type: 'block_start',
        index: this.#index,
        block: {
          type: 'tool_use',
          id: str(field(call, 'id')) || mintId('gm_'),
          name: str(field(call, 'name')) ?? '',
        },
      });
      out.push({
        type: 'tool_args_delta',
        index: this.#index,
        partialJson: JSON.stringify(isObject(args) ? args : {}),
      });
      out.push({ type: 'block_stop', index: this.#index });
    }
  }
}

/** Accepts `alt=sse` frames or the bare JSON array; the first non-blank byte decides which. */
export class GeminiStreamReader implements StreamReader {
  #decoder = new TextDecoder('utf-8');
  #interp = new ChunkInterpreter();
  #mode: 'unknown' | 'sse' | 'array' = 'unknown';
  #sse = new SseParser();
  // Array framing: unconsumed text and the scanner's position and state within it.
  #buf = '';
  #pos = 0;
  #depth = 0;
  #inString = false;
  #escape = false;
  #opened = false;
  #closed = false;

  push(chunk: Uint8Array): StreamEvent[] {
    const out: StreamEvent[] = [];
    this.#text(this.#decoder.decode(chunk, { stream: true }), out);
    return out;
  }

  end(): StreamEvent[] {
    const out: StreamEvent[] = [];
    this.#text(this.#decoder.decode(), out);
    if (this.#mode === 'sse') for (const frame of this.#sse.end()) this.#data(frame.data, out);
    if (!this.#interp.done) {
      this.#interp.fail(out, malformed('stream ended before a finishReason'));
    }
    return out;
  }

  #text(text: string, out: StreamEvent[]): void {
    if (this.#interp.done || text === '') return;
    if (this.#mode === 'unknown') {
      this.#buf += text;
      const first = /[^\s\uFEFF]/.exec(this.#buf);
      if (first === null) return;
      this.#mode = first[0] === '[' ? 'array' : 'sse';
      text = this.#buf;
      this.#buf = '';
    }
    if (this.#mode === 'sse') {
      for (const frame of this.#sse.push(text)) this.#data(frame.data, out);
      if (this.#sse.overflowed) this.#interp.fail(out, malformed('frame too large'));
    } else {
      this.#buf += text;
      this.#scan(out);
    }
  }

  #data(data: string, out: StreamEvent[]): void {
    if (data === '[DONE]') return;
    this.#parse(data, out);
  }

  #parse(json: string, out: StreamEvent[]): void {
    if (this.#interp.done) return;
    let value: JsonValue;
    try {
      value = JSON.parse(json) as JsonValue;
    } catch {
      this.#interp.fail(out, malformed('invalid JSON chunk'));
      return;
    }
    this.#interp.chunk(value, out);
  }

  /** Finds complete top-level array elements without re-scanning what was already seen. */
  #scan(out: StreamEvent[]): void {
    const buf = this.#buf;
    let start = 0;
    for (let i = this.#pos; i < buf.length; i++) {
      const c = buf[i]!;
      if (this.#inString) {
        if (this.#escape) this.#escape = false;
        else if (c === '\\') this.#escape = true;
        else if (c === '"') this.#inString = false;
        continue;
      }
      if (!this.#opened) {
        if (c === '[') this.#opened = true;
        else if (!/[\s\uFEFF]/.test(c)) {
          this.#interp.fail(out, malformed('expected a JSON array'));
          return;
        }
        start = i + 1;
        continue;
      }
      if (this.#depth === 0) {
        if (/\s/.test(c) || (c === ',' && !this.#closed)) {
          start = i + 1;
        } else if (this.#closed) {
          this.#interp.fail(out, malformed('data after the closing bracket'));
          return;
        } else if (c === '{') {
          start = i;
          this.#depth = 1;
        } else if (c === ']') {
          this.#closed = true;
          start = i + 1;
        } else {
          this.#interp.fail(out, malformed(`unexpected '${c}' between array elements`));
          return;
        }
        continue;
      }
      if (c === '"') this.#inString = true;
      else if (c === '{' || c === '[') this.#depth++;
      else if (c === '}' || c === ']') {
        this.#depth--;
        if (this.#depth === 0) {
          this.#parse(buf.slice(start, i + 1), out);
          if (this.#interp.done) return;
          start = i + 1;
        }
      }
    }
    this.#buf = buf.slice(start);
    this.#pos = this.#buf.length;
    if (this.#buf.length > MAX_ELEMENT) this.#interp.fail(out, malformed('array element too large'));
  }
}

interface OpenBlock {
  readonly kind: 'text' | 'thinking' | 'redacted_thinking' | 'tool_use';
  readonly id: string;
  readonly name: string;
  args: string;
  wrote: boolean;
}

/** IR events → Gemini chunks; finishReason and usageMetadata ride on the last chunk. */
export class GeminiStreamWriter implements StreamWriter {
  readonly contentType: string;
  #sse: boolean;
  #chunks = 0;
  #responseId = mintId('', 23);
  #model = '';
  #blocks = new Map<number, OpenBlock>();
  #pendingSignature: string | undefined;
  #stop: StopReason | undefined;
  #startUsage: Usage | undefined;
  #usage: Usage | undefined;
  #finished = false;

  constructor(opts?: StreamWriterOptions) {
    this.#sse = (opts?.framing ?? SSE) === SSE;
    this.contentType = this.#sse ? 'text/event-stream' : 'application/json';
  }

  write(event: StreamEvent): string {
    if (this.#finished) return '';
    switch (event.type) {
      case 'message_start':
        this.#model = event.model;
        this.#startUsage = event.usage;
        return '';
      case 'block_start': {
        const block = event.block;
        this.#blocks.set(event.index, {
          kind: block.type,
          id: block.type === 'tool_use' ? nativeToolId(block.id, 'gm_') : '',
          name: block.type === 'tool_use' ? block.name : '',
          args: '',
          wrote: false,
        });
        return '';
      }
      case 'text_delta':
        return event.text === '' ? '' : this.#parts([{ text: event.text }]);
      case 'thinking_delta': {
        if (event.thinking === '') return '';
        const block = this.#blocks.get(event.index);
        if (block !== undefined) block.wrote = true;
        return this.#parts([{ text: event.thinking, thought: true }]);
      }
      case 'signature_delta': {
        if (event.signature === '') return '';
        const block = this.#blocks.get(event.index);
        if (block?.wrote)
          return this.#parts([{ text: '', thought: true, thoughtSignature: event.signature }]);
        // A bare signature belongs to whatever part comes next (a function call, usually).
        this.#pendingSignature = event.signature;
        return '';
      }
      case 'tool_args_delta': {
        const block = this.#blocks.get(event.index);
        if (block !== undefined) block.args += event.partialJson;
        return '';
      }
      case 'block_stop': {
        const block = this.#blocks.get(event.index);
        this.#blocks.delete(event.index);
        return block?.kind === 'tool_use' ? this.#functionCall(block) : '';
      }
      case 'message_delta':
        this.#stop = event.stopReason;
        if (event.usage !== undefined) this.#usage = event.usage;
        return '';
      case 'message_stop':
        return this.#final();
      case 'error':
        this.#finished = true;
        return this.#frame(JSON.parse(writeGeminiError(event.error).body) as JsonObject);
      default: {
        const exhaustive: never = event;
        return exhaustive;
      }
    }
  }

  end(): string {
    if (this.#sse) return '';
    return this.#chunks === 0 ? '[]' : ']';
  }

  #functionCall(block: OpenBlock): string {
    let args: JsonValue = {};
    try {
      args = block.args === '' ? {} : (JSON.parse(block.args) as JsonValue);
    } catch {
      args = {};
    }
    return this.#parts([
      { functionCall: { id: block.id, name: block.name, args: isObject(args) ? args : {} } },
    ]);
  }

  #final(): string {
    let out = '';
    // Tool calls still open at the end are flushed rather than lost.
    for (const block of this.#blocks.values())
      if (block.kind === 'tool_use') out += this.#functionCall(block);
    this.#blocks.clear();
    const parts: JsonObject[] = [];
    if (this.#pendingSignature !== undefined) {
      parts.push({ text: '', thought: true, thoughtSignature: this.#pendingSignature });
      this.#pendingSignature = undefined;
    }
    const stop = this.#stop ?? 'end_turn';
    const candidate: JsonObject = {};
    if (parts.length > 0 || stop !== 'content_filter') candidate.content = { role: 'model', parts };
    candidate.finishReason = finishFromStop(stop);
    candidate.index = 0;
    const chunk: JsonObject = { candidates: [candidate] };
    const usage = this.#mergedUsage();
    if (usage !== undefined) chunk.usageMetadata = metadataFromUsage(usage);
    out += this.#frame(this.#stamp(chunk));
    this.#finished = true;
    return out;
  }

  #mergedUsage(): Usage | undefined {
    const start = this.#startUsage;
    const delta = this.#usage;
    if (delta === undefined) return start === undefined ? undefined : { ...start, outputTokens: 0 };
    if (start === undefined || delta.inputTokens > 0) return delta;
    return {
      ...delta,
      inputTokens: start.inputTokens,
      ...(delta.cacheReadInputTokens === undefined &&
        start.cacheReadInputTokens !== undefined && { cacheReadInputTokens: start.cacheReadInputTokens }),
      totalTokens: start.inputTokens + delta.outputTokens,
    };
  }

  #parts(parts: JsonObject[]): string {
    if (this.#pendingSignature !== undefined && parts[0] !== undefined && parts[0].thought !== true) {
      parts[0].thoughtSignature = this.#pendingSignature;
      this.#pendingSignature = undefined;
    }
    return this.#frame(this.#stamp({ candidates: [{ content: { role: 'model', parts }, index: 0 }] }));
  }

  #stamp(chunk: JsonObject): JsonObject {
    if (this.#model !== '') chunk.modelVersion = this.#model;
    chunk.responseId = this.#responseId;
    return chunk;
  }

  #frame(chunk: JsonObject): string {
    const json = JSON.stringify(chunk);
    const first = this.#chunks === 0;
    this.#chunks++;
    if (this.#sse) return encodeSse(json);
    return (first ? '[' : ',\r\n') + json;
  }
}
