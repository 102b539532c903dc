// Anthropic Messages streams: named SSE events ↔ IR stream events (P-STR-2).

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
import { count, field, isObject, str } from '../json-access.ts';
import { encodeSse, SseParser } from '../sse.ts';
import { nativeToolId } from '../tool-ids.ts';
import { writeAnthropicError } from './errors.ts';
import { anthropicStop, anthropicUsage, stopFromAnthropic, usageFromAnthropicUsage } from './response.ts';

const KIND_BY_TYPE: Readonly<Record<string, readonly [ErrorKind, number]>> = {
  invalid_request_error: ['invalid_request_error', 400],
  authentication_error: ['authentication_error', 401],
  permission_error: ['permission_error', 403],
  not_found_error: ['not_found_error', 404],
  request_too_large: ['request_too_large', 413],
  rate_limit_error: ['rate_limit_error', 429],
  overloaded_error: ['overloaded', 503],
  timeout_error: ['timeout', 504],
};

function anthropicStreamError(body: JsonValue | undefined): GatewayErrorInfo {
  const error = isObject(field(body, 'error')) ? field(body, 'error') : body;
  const [kind, status] = KIND_BY_TYPE[str(field(error, 'type')) ?? ''] ?? ['api_error', 502];
  return { kind, status, message: str(field(error, 'message')) ?? 'upstream stream error' };
}

function fault(message: string): StreamEvent {
  return { type: 'error', error: { kind: 'api_error', status: 502, message } };
}

export class AnthropicStreamReader implements StreamReader {
  #sse = new SseParser();
  #done = false;
  #started = false;
  #inputUsage: Usage | undefined;
  /** Wire block index → IR block index; blocks without an IR form are absent and skipped. */
  #blocks = new Map<number, number>();
  #next = 0;
  #stop: StopReason | undefined;

  push(chunk: Uint8Array): StreamEvent[] {
    const out: StreamEvent[] = [];
    for (const frame of this.#sse.push(chunk)) {
      if (this.#done) break;
      this.#frame(frame.event, frame.data, out);
    }
    if (this.#sse.overflowed && !this.#done) this.#fail(out, fault('upstream stream frame too large'));
    return out;
  }

  end(): StreamEvent[] {
    const out: StreamEvent[] = [];
    for (const frame of this.#sse.end()) if (!this.#done) this.#frame(frame.event, frame.data, out);
    if (this.#done) return out;
    // After message_delta the answer is complete; only the closing event went missing.
    if (this.#stop !== undefined) this.#fail(out, { type: 'message_stop' });
    else this.#fail(out, fault('upstream stream ended before message_stop'));
    return out;
  }

  #fail(out: StreamEvent[], event: StreamEvent): void {
    out.push(event);
    this.#done = true;
  }

  #frame(name: string | undefined, data: string, out: StreamEvent[]): void {
    let ev: unknown;
    try {
      ev = JSON.parse(data);
    } catch {
      this.#fail(out, fault('malformed upstream stream frame'));
      return;
    }
    if (!isObject(ev)) return;
    const type = str(ev.type) ?? name;
    if (type === 'error') {
      this.#fail(out, { type: 'error', error: anthropicStreamError(ev) });
      return;
    }
    if (!this.#started && type !== 'message_start' && type !== 'ping') {
      this.#fail(out, fault('upstream stream did not start with message_start'));
      return;
    }
    switch (type) {
      case 'message_start': {
        if (this.#started) return;
        this.#started = true;
        const msg = ev.message;
        this.#inputUsage = usageFromAnthropicUsage(field(msg, 'usage'));
        out.push({
          type: 'message_start',
          id: str(field(msg, 'id')) ?? '',
          model: str(field(msg, 'model')) ?? '',
          ...(this.#inputUsage ? { usage: this.#inputUsage } : {}),
        });
        return;
      }
      case 'content_block_start':
        this.#blockStart(count(ev.index), ev.content_block, out);
        return;
      case 'content_block_delta': {
        const index = this.#blocks.get(count(ev.index) ?? -1);
        if (index !== undefined) this.#delta(index, ev.delta, out);
        return;
      }
      case 'content_block_stop': {
        const index = this.#blocks.get(count(ev.index) ?? -1);
        if (index !== undefined) out.push({ type: 'block_stop', index });
        return;
      }
      case 'message_delta': {
        this.#stop = stopFromAnthropic(str(field(ev.delta, 'stop_reason')));
        const stopSequence = str(field(ev.delta, 'stop_sequence'));
        const usage = this.#usage(ev.usage);
        out.push({
          type: 'message_delta',
          stopReason: this.#stop,
          ...(stopSequence !== undefined ? { stopSequence } : {}),
          ...(usage ? { usage } : {}),
        });
        return;
      }
      case 'message_stop':
        if (this.#stop === undefined) out.push({ type: 'message_delta', stopReason: 'end_turn' });
        out.push({ type: 'message_stop' });
        this.#done = true;
        return;
      // ping and unknown future events carry nothing for the IR.
    }
  }

  /** message_delta usage is cumulative; input counts may only have come with message_start. */
  #usage(raw: JsonValue | undefined): Usage | undefined {
    const output = count(field(raw, 'output_tokens'));
    const start = this.#inputUsage;
    if (output === undefined) return start;
    const startRead = start?.cacheReadInputTokens ?? 0;
    const startWrite = start?.cacheCreationInputTokens ?? 0;
    const read = count(field(raw, 'cache_read_input_tokens')) ?? startRead;
    const write = count(field(raw, 'cache_creation_input_tokens')) ?? startWrite;
    const uncached =
      count(field(raw, 'input_tokens')) ?? Math.max(0, (start?.inputTokens ?? 0) - startRead - startWrite);
    return {
      inputTokens: uncached + read + write,
      outputTokens: output,
      ...(read ? { cacheReadInputTokens: read } : {}),
      ...(write ? { cacheCreationInputTokens: write } : {}),
    };
  }

  #blockStart(wire: number | undefined, block: JsonValue | undefined, out: StreamEvent[]): void {
    if (wire === undefined || this.#blocks.has(wire)) return;
    const type = str(field(block, 'type'));
    const index = this.#next;
    if (type === 'text') {
      out.push({ type: 'block_start', index, block: { type: 'text' } });
      const text = str(field(block, 'text'));
      if (text) out.push({ type: 'text_delta', index, text });
    } else if (type === 'thinking') {
      out.push({ type: 'block_start', index, block: { type: 'thinking' } });
      const thinking = str(field(block, 'thinking'));
      if (thinking) out.push({ type: 'thinking_delta', index, thinking });
      const signature = str(field(block, 'signature'));
      if (signature) out.push({ type: 'signature_delta', index, signature });
    } else if (type === 'redacted_thinking') {
      out.push({
        type: 'block_start',
        index,
        block: { type: 'redacted_thinking', data: str(field(block, 'data')) ?? '' },
      });
    } else if (type === 'tool_use') {
      const id = str(field(block, 'id')) ?? '';
      out.push({
        type: 'block_start',
        index,
        block: { type: 'tool_use', id, name: str(field(block, 'name')) ?? '' },
      });
    } else {
      return; // server_tool_use, web_search_tool_result, …: Anthropic-only
    }
    this.#blocks.set(wire, index);
    this.#next++;
  }

  #delta(index: number, delta: JsonValue | undefined, out: StreamEvent[]): void {
    switch (str(field(delta, 'type'))) {
      case 'text_delta':
        out.push({ type: 'text_delta', index, text: str(field(delta, 'text')) ?? '' });
        return;
      case 'thinking_delta':
        out.push({ type: 'thinking_delta', index, thinking: str(field(delta, 'thinking')) ?? '' });
        return;
      case 'signature_delta':
        out.push({ type: 'signature_delta', index, signature: str(field(delta, 'signature')) ?? '' });
        return;
      case 'input_json_delta':
        out.push({ type: 'tool_args_delta', index, partialJson: str(field(delta, 'partial_json')) ?? '' });
        return;
      // citations_delta has no IR stream form.
    }
  }
}

type BlockKind = 'text' | 'thinking' | 'redacted_thinking' | 'tool_use';

export class AnthropicStreamWriter implements StreamWriter {
  readonly contentType = 'text/event-stream';
  #started = false;
  #closed = false;
  #stopped = false;
  #model = '';
  #startUsage: Usage | undefined;
  /** IR index → wire index (contiguous in start order, as the SDK's accumulator requires). */
  #wire = new Map<
    number,
    { readonly index: number; readonly kind: BlockKind; open: boolean; signature: string }
  >();

  write(event: StreamEvent): string {
    if (this.#closed) return '';
    switch (event.type) {
      case 'message_start':
        this.#model = event.model;
        this.#startUsage = event.usage;
        return this.#start();
      case 'block_start': {
        const b = event.block;
        const body: JsonObject =
          b.type === 'text'
            ? { type: 'text', text: '' }
            : b.type === 'thinking'
              ? { type: 'thinking', thinking: '', signature: '' }
              : b.type === 'redacted_thinking'
                ? { type: 'redacted_thinking', data: b.data }
                : { type: 'tool_use', id: nativeToolId(b.id, 'toolu_'), name: b.name, input: {} };
        return this.#start() + this.#open(event.index, b.type, body);
      }
      case 'text_delta':
        if (event.text === '') return this.#ensure(event.index, 'text');
        return this.#delta(event.index, 'text', { type: 'text_delta', text: event.text });
      case 'thinking_delta':
        if (event.thinking === '') return this.#ensure(event.index, 'thinking');
        return this.#delta(event.index, 'thinking', { type: 'thinking_delta', thinking: event.thinking });
      case 'signature_delta': {
        const head = this.#ensure(event.index, 'thinking');
        const block = this.#wire.get(event.index);
        if (block) block.signature += event.signature;
        return head;
      }
      case 'tool_args_delta':
        return this.#delta(event.index, 'tool_use', {
          type: 'input_json_delta',
          partial_json: event.partialJson,
        });
      case 'block_stop':
        return this.#stopBlock(event.index);
      case 'message_delta': {
        if (this.#stopped) return '';
        this.#stopped = true;
        let out = this.#start() + this.#stopAll();
        const usage = event.usage ?? this.#startUsage;
        const wireUsage = usage ? anthropicUsage(usage) : { output_tokens: 0 };
        const stopSequence = event.stopReason === 'stop_sequence' ? (event.stopSequence ?? null) : null;
        out += frame('message_delta', {
          type: 'message_delta',
          delta: { stop_reason: anthropicStop(event.stopReason), stop_sequence: stopSequence },
          usage: wireUsage,
        });
        return out;
      }
      case 'message_stop': {
        let out = this.#stopped ? '' : this.write({ type: 'message_delta', stopReason: 'end_turn' });
        out += frame('message_stop', { type: 'message_stop' });
        this.#closed = true;
        return out;
      }
      case 'error': {
        this.#closed = true;
        return `event: error\ndata: ${writeAnthropicError(event.error).body}\n\n`;
      }
    }
  }

  end(): string {
    this.#closed = true;
    return '';
  }

  #start(): string {
    if (this.#started) return '';
    this.#started = true;
    const usage = this.#startUsage
      ? anthropicUsage(this.#startUsage)
      : anthropicUsage({ inputTokens: 0, outputTokens: 0 });
    return frame('message_start', {
      type: 'message_start',
      message: {
        id: mintId('msg_'),
        type: 'message',
        role: 'assistant',
        model: this.#model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage,
      },
    });
  }

  #open(irIndex: number, kind: BlockKind, body: JsonObject): string {
    if (this.#wire.has(irIndex) || this.#stopped) return '';
    const index = this.#wire.size;
    this.#wire.set(irIndex, { index, kind, open: true, signature: '' });
    return frame('content_block_start', { type: 'content_block_start', index, content_block: body });
  }

  #ensure(irIndex: number, kind: BlockKind): string {
    if (this.#wire.has(irIndex)) return this.#start();
    const body: JsonObject =
      kind === 'text'
        ? { type: 'text', text: '' }
        : kind === 'thinking'
          ? { type: 'thinking', thinking: '', signature: '' }
          : { type: 'tool_use', id: nativeToolId(undefined, 'toolu_'), name: '', input: {} };
    return this.#start() + this.#open(irIndex, kind, body);
  }

  #delta(irIndex: number, kind: BlockKind, delta: JsonObject): string {
    const head = this.#ensure(irIndex, kind);
    const block = this.#wire.get(irIndex);
    if (!block?.open || block.kind !== kind) return head;
    return head + frame('content_block_delta', { type: 'content_block_delta', index: block.index, delta });
  }

  #stopBlock(irIndex: number): string {
    const block = this.#wire.get(irIndex);
    if (!block?.open) return '';
    block.open = false;
    let out = '';
    if (block.kind === 'thinking' && block.signature !== '') {
      const delta = { type: 'signature_delta', signature: block.signature };
      out += frame('content_block_delta', { type: 'content_block_delta', index: block.index, delta });
    }
    return out + frame('content_block_stop', { type: 'content_block_stop', index: block.index });
  }

  #stopAll(): string {
    let out = '';
    for (const irIndex of this.#wire.keys()) out += this.#stopBlock(irIndex);
    return out;
  }
}

function frame(event: string, data: JsonObject): string {
  return encodeSse(JSON.stringify(data), event);
}
