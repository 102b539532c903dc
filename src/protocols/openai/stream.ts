// OpenAI Chat Completions streams: `chat.completion.chunk` SSE ↔ IR stream events (P-STR-1),
// including the `include_usage` traps of P-XLT-10.

import type { StreamReader, StreamWriter } from '../codec.ts';
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
import { arr, codeStr, count, field, isObject, str } from '../json-access.ts';
import { ReasoningGatherer } from '../signed-reasoning.ts';
import { encodeSse, SseParser } from '../sse.ts';
import { nativeToolId } from '../tool-ids.ts';
import { writeOpenAIError } from './errors.ts';
import { writeReasoningDetails } from './reasoning-details.ts';
import { finishFromStop, openAIUsage, stopFromFinish, usageFromOpenAIUsage } from './response.ts';

const KIND_BY_TYPE: Readonly<Record<string, readonly [ErrorKind, number]>> = {
  invalid_request_error: ['invalid_request_error', 400],
  authentication_error: ['authentication_error', 401],
  permission_error: ['permission_error', 403],
  not_found_error: ['not_found_error', 404],
  rate_limit_error: ['rate_limit_error', 429],
  rate_limit_exceeded: ['rate_limit_error', 429],
  insufficient_quota: ['insufficient_quota', 429],
  overloaded_error: ['overloaded', 503],
  timeout: ['timeout', 504],
};

/** An upstream in-stream OpenAI error object as a gateway error. */
export function openAIStreamError(error: JsonValue | undefined): GatewayErrorInfo {
  const code = codeStr(field(error, 'code'));
  const [kind, status] = KIND_BY_TYPE[str(field(error, 'type')) ?? ''] ??
    KIND_BY_TYPE[code ?? ''] ?? ['api_error', 502];
  return {
    kind,
    status,
    message: str(field(error, 'message')) ?? 'upstream stream error',
    ...(code !== undefined ? { code } : {}),
  };
}

export function streamFault(message: string): StreamEvent {
  return { type: 'error', error: { kind: 'api_error', status: 502, message } };
}

type OpenBlock = {
  readonly kind: 'text' | 'thinking' | 'tool';
  readonly index: number;
  readonly tool?: number;
};

/**
 * A frame the usage tap must read: it may carry a stop reason, a usage object or an error. Written
 * from `_reason` rather than `"finish_reason`: with every branch opening on a quote, the search
 * stopped at each of a chunk's quotes (2.7× the time, measured). Any `…_reason` with a string value
 * matching too only means a frame read that need not have been.
 */
const TALLIED = /_reason"\s*:\s*"|"usage"\s*:\s*\{|"error"/;

/** What a chunk the tally passes over yields: one frozen empty list, not a new one per chunk. */
const PASSED_OVER: readonly StreamEvent[] = Object.freeze([]);

/** Whether `b` ends with a blank line (LF LF), the end of an event. */
function endsAtEvent(b: Uint8Array): boolean {
  const n = b.length;
  return n >= 2 && b[n - 1] === 0x0a && b[n - 2] === 0x0a;
}

export class OpenAIStreamReader implements StreamReader {
  /** Only the usage tap reads this stream: content frames are not parsed (most of a stream). */
  readonly #tally: boolean;
  /** The tally also gathers the answer's model (from the first frame) for traces. */
  readonly #facts: boolean;
  #sse = new SseParser();
  #started = false;
  #done = false;
  #finish: StopReason | undefined;
  #usage: Usage | undefined;
  #next = 0;
  #open: OpenBlock | undefined;
  /** The tool calls seen, by index, with their ids (made with the first: most answers have none). */
  #tools: Map<number, string> | undefined;

  constructor(tally = false, facts = true) {
    this.#tally = tally;
    this.#facts = facts;
  }

  /** Frames without a stop reason, usage or error are passed over (a tally past the first frame). */
  get #skipping(): boolean {
    return this.#tally && (this.#started || !this.#facts);
  }

  push(chunk: Uint8Array): readonly StreamEvent[] {
    let bytes = chunk;
    // Most chunks of a stream are whole content events: a tally passes over them without framing
    // them, and over the content events before the first one it needs. Every LF LF in a chunk
    // that starts between events ends one. (Latin-1 reads the ASCII markers as UTF-8 would; a
    // multi-byte character can only add a match.)
    if (this.#skipping && this.#sse.idle && endsAtEvent(chunk)) {
      const text = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1');
      const at = text.search(TALLIED);
      if (at < 0) return PASSED_OVER;
      const eventStart = text.lastIndexOf('\n\n', at);
      if (eventStart >= 0) bytes = chunk.subarray(eventStart + 2);
    }
    const out: StreamEvent[] = [];
    for (const frame of this.#sse.push(bytes)) {
      if (this.#done) break;
      // The first frame starts the message (its model, for traces); past it a tally needs only these.
      if (this.#skipping && !TALLIED.test(frame.data)) continue;
      this.#frame(frame.data, out);
    }
    if (this.#sse.overflowed && !this.#done) this.#fail(out, 'upstream stream frame too large');
    return out;
  }

  end(): StreamEvent[] {
    const out: StreamEvent[] = [];
    for (const frame of this.#sse.end()) if (!this.#done) this.#frame(frame.data, out);
    if (this.#done) return out;
    // A clean end after finish_reason is a clean end (P-XLT-10), even without `[DONE]`.
    if (this.#finish !== undefined) this.#complete(out);
    else this.#fail(out, 'upstream stream ended before the response was complete');
    return out;
  }

  #frame(data: string, out: StreamEvent[]): void {
    if (data.trim() === '[DONE]') {
      if (!this.#started) this.#fail(out, 'upstream stream ended without a response');
      else this.#complete(out);
      return;
    }
    let chunk: unknown;
    try {
      chunk = JSON.parse(data);
    } catch {
      this.#fail(out, 'malformed upstream stream frame');
      return;
    }
    if (!isObject(chunk)) return;
    if (chunk.error !== undefined && chunk.error !== null) {
      out.push({ type: 'error', error: openAIStreamError(chunk.error) });
      this.#done = true;
      return;
    }
    const choices = arr(chunk.choices);
    // Azure's leading prompt_filter_results chunk (empty id/model, no choices) carries nothing.
    if (choices.length === 0 && !isObject(chunk.usage)) return;
    if (!this.#started) {
      this.#started = true;
      const created = count(chunk.created);
      out.push({
        type: 'message_start',
        id: str(chunk.id) ?? '',
        model: str(chunk.model) ?? '',
        ...(created !== undefined ? { created } : {}),
      });
    }
    const choice = choices.find((c) => (count(field(c, 'index')) ?? 0) === 0);
    if (choice !== undefined) this.#choice(choice, out);
    // `usage: null` on ordinary chunks is not a message delta; a usage object after finish_reason is
    // the trailing include_usage chunk, which completes the message.
    const usage = usageFromOpenAIUsage(chunk.usage);
    if (usage !== undefined) {
      this.#usage = usage;
      if (this.#finish !== undefined) this.#complete(out);
    }
  }

  #choice(choice: JsonValue, out: StreamEvent[]): void {
    const delta = field(choice, 'delta');
    const reasoning = str(field(delta, 'reasoning_content')) ?? str(field(delta, 'reasoning'));
    if (reasoning) this.#append('thinking', reasoning, out);
    const text = str(field(delta, 'content'));
    if (text) this.#append('text', text, out);
    const refusal = str(field(delta, 'refusal'));
    if (refusal) this.#append('text', refusal, out);
    for (const call of arr(field(delta, 'tool_calls'))) this.#toolFragment(call, this.#toolIndex(call), out);
    const finish = str(field(choice, 'finish_reason'));
    if (finish !== undefined && this.#finish === undefined) {
      this.#close(out);
      this.#finish = stopFromFinish(finish, this.#tools !== undefined);
    }
  }

  #append(kind: 'text' | 'thinking', piece: string, out: StreamEvent[]): void {
    if (this.#open?.kind !== kind) {
      this.#close(out);
      this.#open = { kind, index: this.#next++ };
      out.push({ type: 'block_start', index: this.#open.index, block: { type: kind } });
    }
    const index = this.#open.index;
    out.push(
      kind === 'text'
        ? { type: 'text_delta', index, text: piece }
        : { type: 'thinking_delta', index, thinking: piece },
    );
  }

  /** The fragment's `index`; servers that omit it are followed by call id (a new id is a new call). */
  #toolIndex(call: JsonValue): number {
    const index = count(field(call, 'index'));
    if (index !== undefined) return index;
    const id = str(field(call, 'id'));
    const current = this.#open?.tool;
    if (current !== undefined && (id === undefined || id === this.#tools?.get(current))) return current;
    return Math.max(-1, ...(this.#tools?.keys() ?? [])) + 1;
  }

  #toolFragment(call: JsonValue, tool: number, out: StreamEvent[]): void {
    const fn = field(call, 'function');
    const args = str(field(fn, 'arguments'));
    if (this.#tools?.has(tool) !== true) {
      this.#close(out);
      this.#tools ??= new Map();
      this.#tools.set(tool, str(field(call, 'id')) ?? '');
      this.#open = { kind: 'tool', index: this.#next++, tool };
      out.push({
        type: 'block_start',
        index: this.#open.index,
        block: { type: 'tool_use', id: str(field(call, 'id')) ?? '', name: str(field(fn, 'name')) ?? '' },
      });
    } else if (this.#open?.tool !== tool) {
      return; // a fragment for a call that was already closed cannot be reopened
    }
    if (args) out.push({ type: 'tool_args_delta', index: this.#open.index, partialJson: args });
  }

  #close(out: StreamEvent[]): void {
    if (this.#open === undefined) return;
    out.push({ type: 'block_stop', index: this.#open.index });
    this.#open = undefined;
  }

  #complete(out: StreamEvent[]): void {
    this.#close(out);
    out.push({
      type: 'message_delta',
      stopReason: this.#finish ?? (this.#tools !== undefined ? 'tool_use' : 'end_turn'),
      ...(this.#usage ? { usage: this.#usage } : {}),
    });
    out.push({ type: 'message_stop' });
    this.#done = true;
  }

  #fail(out: StreamEvent[], message: string): void {
    out.push(streamFault(message));
    this.#done = true;
  }
}

/** Message-start usage (input) completed by message-delta usage (output, sometimes input too). */
export function mergeUsage(start: Usage | undefined, delta: Usage | undefined): Usage | undefined {
  if (start === undefined) return delta;
  if (delta === undefined) return start;
  const read = delta.cacheReadInputTokens ?? start.cacheReadInputTokens;
  const write = delta.cacheCreationInputTokens ?? start.cacheCreationInputTokens;
  const reasoning = delta.reasoningTokens ?? start.reasoningTokens;
  return {
    inputTokens: delta.inputTokens || start.inputTokens,
    outputTokens: delta.outputTokens,
    ...(read !== undefined ? { cacheReadInputTokens: read } : {}),
    ...(write !== undefined ? { cacheCreationInputTokens: write } : {}),
    ...(reasoning !== undefined ? { reasoningTokens: reasoning } : {}),
    ...(delta.totalTokens !== undefined ? { totalTokens: delta.totalTokens } : {}),
  };
}

export interface OpenAIStreamWriterOptions {
  /** Emit the final usage chunk with empty `choices` (`stream_options.include_usage`); default true. */
  readonly includeUsage?: boolean;
}

export class OpenAIStreamWriter implements StreamWriter {
  readonly contentType = 'text/event-stream';
  #id = mintId('chatcmpl-');
  #created = Math.floor(Date.now() / 1000);
  #model = '';
  #started = false;
  #finished = false;
  #closed = false;
  #ended = false;
  #toolIndex = new Map<number, number>();
  #startUsage: Usage | undefined;
  #usage: Usage | undefined;
  #includeUsage: boolean;
  /** The reasoning so far, for the one `reasoning_details` delta sent before the finish. */
  readonly #reasoning = new ReasoningGatherer();

  constructor(opts: OpenAIStreamWriterOptions = {}) {
    this.#includeUsage = opts.includeUsage ?? true;
  }

  write(event: StreamEvent): string {
    if (this.#closed) return '';
    this.#reasoning.add(event);
    switch (event.type) {
      case 'message_start':
        if (this.#started) return '';
        this.#model = event.model;
        if (event.created !== undefined) this.#created = event.created;
        this.#startUsage = event.usage;
        return this.#start();
      case 'block_start':
        if (event.block.type !== 'tool_use') return this.#start();
        return this.#start() + this.#toolStart(event.index, event.block.id, event.block.name);
      case 'text_delta':
        return event.text === '' ? '' : this.#start() + this.#chunk({ content: event.text });
      case 'thinking_delta':
        return event.thinking === ''
          ? ''
          : this.#start() + this.#chunk({ reasoning_content: event.thinking });
      case 'tool_args_delta': {
        let head = this.#start();
        if (!this.#toolIndex.has(event.index)) head += this.#toolStart(event.index, '', '');
        const index = this.#toolIndex.get(event.index) ?? 0;
        return head + this.#chunk({ tool_calls: [{ index, function: { arguments: event.partialJson } }] });
      }
      case 'signature_delta':
      case 'block_stop':
        return '';
      case 'message_delta':
        if (this.#finished) return '';
        this.#finished = true;
        this.#usage = mergeUsage(this.#startUsage, event.usage);
        return this.#start() + this.#details() + this.#chunk({}, finishFromStop(event.stopReason));
      case 'message_stop': {
        let out = this.#start();
        if (!this.#finished) {
          this.#finished = true;
          out += this.#details() + this.#chunk({}, 'stop');
        }
        this.#closed = true;
        const usage = this.#usage ?? this.#startUsage;
        if (this.#includeUsage && usage !== undefined) {
          out += encodeSse(JSON.stringify({ ...this.#envelope(), choices: [], usage: openAIUsage(usage) }));
        }
        return out;
      }
      case 'error':
        this.#closed = true;
        return encodeSse(writeOpenAIError(event.error).body);
    }
  }

  end(): string {
    if (this.#ended) return '';
    this.#ended = true;
    this.#closed = true;
    return 'data: [DONE]\n\n';
  }

  #envelope(): JsonObject {
    return { id: this.#id, object: 'chat.completion.chunk', created: this.#created, model: this.#model };
  }

  #chunk(delta: JsonObject, finish: string | null = null): string {
    const choice = { index: 0, delta, logprobs: null, finish_reason: finish };
    return encodeSse(JSON.stringify({ ...this.#envelope(), choices: [choice] }));
  }

  /**
   * The whole signed reasoning in one delta, once it is complete: the official SDK's stream helper
   * keeps an unknown delta field by replacing it, so pieces would leave only the last one in the
   * message it assembles, and a client that merges items by `index` sees each item once.
   */
  #details(): string {
    const details = writeReasoningDetails(this.#reasoning.blocks());
    return details === undefined ? '' : this.#chunk({ reasoning_details: details });
  }

  #start(): string {
    if (this.#started) return '';
    this.#started = true;
    return this.#chunk({ role: 'assistant', content: '' });
  }

  #toolStart(block: number, id: string, name: string): string {
    if (this.#toolIndex.has(block)) return '';
    const index = this.#toolIndex.size;
    this.#toolIndex.set(block, index);
    const call = {
      index,
      id: nativeToolId(id, 'call_'),
      type: 'function',
      function: { name, arguments: '' },
    };
    return this.#chunk({ tool_calls: [call] });
  }
}
