// OpenAI Responses streams: typed item events with `sequence_number` ↔ IR stream events (P-STR-3).

import type { StreamReader, StreamWriter } from '../codec.ts';
import { mintId } from '../ids.ts';
import type { GatewayErrorInfo, JsonObject, JsonValue, StopReason, StreamEvent, Usage } from '../ir.ts';
import { count, field, isObject, str } from '../json-access.ts';
import { mergeUsage, openAIStreamError, streamFault } from '../openai/stream.ts';
import { encodeSse, SseParser } from '../sse.ts';
import {
  functionCallItem,
  outputText,
  reasoningItem,
  reasoningText,
  responseObject,
  statusOf,
  stopFromStatus,
  usageFromResponsesUsage,
} from './response.ts';

interface ReadEntry {
  readonly kind: 'text' | 'thinking' | 'tool';
  readonly tool?: { readonly id: string; readonly name: string };
  /** Assigned when the IR block starts; reasoning starts lazily, so an empty item yields nothing. */
  index: number;
  started: boolean;
  open: boolean;
  emitted: boolean;
  parts: number;
}

export class ResponsesStreamReader implements StreamReader {
  #sse = new SseParser();
  #started = false;
  #done = false;
  #next = 0;
  #sawCall = false;
  /** `o<output_index>` for reasoning/function items, `t<output_index>:<content_index>` for text parts. */
  #entries = new Map<string, ReadEntry>();

  push(chunk: Uint8Array): StreamEvent[] {
    const out: StreamEvent[] = [];
    for (const frame of this.#sse.push(chunk)) {
      if (this.#done) break;
      this.#frame(frame.data, out);
    }
    if (this.#sse.overflowed && !this.#done)
      this.#finish(out, streamFault('upstream stream frame too large'));
    return out;
  }

  end(): StreamEvent[] {
    const out: StreamEvent[] = [];
    for (const frame of this.#sse.end()) if (!this.#done) this.#frame(frame.data, out);
    if (!this.#done) this.#finish(out, streamFault('upstream stream ended before response.completed'));
    return out;
  }

  #finish(out: StreamEvent[], event: StreamEvent): void {
    out.push(event);
    this.#done = true;
  }

  #frame(data: string, out: StreamEvent[]): void {
    let ev: unknown;
    try {
      ev = JSON.parse(data);
    } catch {
      this.#finish(out, streamFault('malformed upstream stream frame'));
      return;
    }
    if (!isObject(ev)) return;
    const type = str(ev.type);
    if (type === 'error') {
      this.#finish(out, { type: 'error', error: openAIStreamError(isObject(ev.error) ? ev.error : ev) });
      return;
    }
    if (type === 'response.created' || !this.#started) {
      if (this.#started) return;
      this.#started = true;
      const created = count(field(ev.response, 'created_at'));
      out.push({
        type: 'message_start',
        id: str(field(ev.response, 'id')) ?? '',
        model: str(field(ev.response, 'model')) ?? '',
        ...(created !== undefined ? { created } : {}),
      });
      if (type === 'response.created') return;
    }
    const o = count(ev.output_index) ?? 0;
    const textKey = `t${o}:${count(ev.content_index) ?? 0}`;
    switch (type) {
      case 'response.output_item.added': {
        const item = ev.item;
        const itemType = str(field(item, 'type'));
        if (itemType === 'reasoning') this.#open(`o${o}`, 'thinking', out, undefined, true);
        else if (itemType === 'function_call') {
          this.#sawCall = true;
          const id = str(field(item, 'call_id')) ?? '';
          this.#open(`o${o}`, 'tool', out, { id, name: str(field(item, 'name')) ?? '' });
          this.#piece(`o${o}`, str(field(item, 'arguments')), out);
        }
        return;
      }
      case 'response.content_part.added': {
        const partType = str(field(ev.part, 'type'));
        if (partType !== 'output_text' && partType !== 'refusal') return;
        this.#open(textKey, 'text', out);
        this.#piece(textKey, str(field(ev.part, 'text')) ?? str(field(ev.part, 'refusal')), out);
        return;
      }
      case 'response.output_text.delta':
      case 'response.refusal.delta':
        if (!this.#entries.has(textKey)) this.#open(textKey, 'text', out);
        this.#piece(textKey, str(ev.delta), out);
        return;
      case 'response.content_part.done':
        this.#close(textKey, out);
        return;
      case 'response.reasoning_summary_part.added': {
        const entry = this.#entries.get(`o${o}`);
        if (entry && entry.parts++ > 0) this.#piece(`o${o}`, '\n\n', out);
        return;
      }
      case 'response.reasoning_summary_text.delta':
      case 'response.reasoning_text.delta':
      case 'response.function_call_arguments.delta':
        this.#piece(`o${o}`, str(ev.delta), out);
        return;
      case 'response.function_call_arguments.done': {
        const entry = this.#entries.get(`o${o}`);
        if (entry && !entry.emitted) this.#piece(`o${o}`, str(ev.arguments), out);
        return;
      }
      case 'response.output_item.done':
        this.#itemDone(o, ev.item, out);
        return;
      case 'response.completed':
      case 'response.incomplete': {
        for (const key of this.#entries.keys()) this.#close(key, out);
        const reason = str(field(field(ev.response, 'incomplete_details'), 'reason'));
        const usage = usageFromResponsesUsage(field(ev.response, 'usage'));
        out.push({
          type: 'message_delta',
          stopReason: stopFromStatus(
            str(field(ev.response, 'status')) ?? type.slice(9),
            reason,
            this.#sawCall,
          ),
          ...(usage ? { usage } : {}),
        });
        this.#finish(out, { type: 'message_stop' });
        return;
      }
      case 'response.failed':
        this.#finish(out, { type: 'error', error: openAIStreamError(field(ev.response, 'error')) });
        return;
      // response.in_progress, annotations, hosted-tool progress: nothing for the IR.
    }
  }

  #itemDone(o: number, item: JsonValue | undefined, out: StreamEvent[]): void {
    const key = `o${o}`;
    const entry = this.#entries.get(key);
    const type = str(field(item, 'type'));
    if (type === 'message') {
      for (const k of this.#entries.keys()) if (k.startsWith(`t${o}:`)) this.#close(k, out);
      return;
    }
    if (entry === undefined) return;
    if (type === 'reasoning') {
      if (!entry.emitted) this.#piece(key, reasoningText(item ?? null), out);
      const signature = str(field(item, 'encrypted_content'));
      if (signature && entry.open) {
        this.#begin(entry, out);
        out.push({ type: 'signature_delta', index: entry.index, signature });
      }
    } else if (type === 'function_call' && !entry.emitted) {
      this.#piece(key, str(field(item, 'arguments')), out);
    }
    this.#close(key, out);
  }

  #open(
    key: string,
    kind: ReadEntry['kind'],
    out: StreamEvent[],
    tool?: ReadEntry['tool'],
    lazy = false,
  ): void {
    if (this.#entries.has(key)) return;
    const entry: ReadEntry = {
      kind,
      index: -1,
      started: false,
      open: true,
      emitted: false,
      parts: 0,
      ...(tool ? { tool } : {}),
    };
    this.#entries.set(key, entry);
    if (!lazy) this.#begin(entry, out);
  }

  #begin(entry: ReadEntry, out: StreamEvent[]): void {
    if (entry.started) return;
    entry.started = true;
    entry.index = this.#next++;
    const block =
      entry.kind === 'tool'
        ? { type: 'tool_use' as const, id: entry.tool?.id ?? '', name: entry.tool?.name ?? '' }
        : { type: entry.kind === 'text' ? ('text' as const) : ('thinking' as const) };
    out.push({ type: 'block_start', index: entry.index, block });
  }

  #piece(key: string, piece: string | undefined, out: StreamEvent[]): void {
    const entry = this.#entries.get(key);
    if (!entry?.open || !piece) return;
    this.#begin(entry, out);
    entry.emitted = true;
    const index = entry.index;
    if (entry.kind === 'text') out.push({ type: 'text_delta', index, text: piece });
    else if (entry.kind === 'thinking') out.push({ type: 'thinking_delta', index, thinking: piece });
    else out.push({ type: 'tool_args_delta', index, partialJson: piece });
  }

  #close(key: string, out: StreamEvent[]): void {
    const entry = this.#entries.get(key);
    if (!entry?.open) return;
    entry.open = false;
    if (entry.started) out.push({ type: 'block_stop', index: entry.index });
  }
}

// ---- writer ------------------------------------------------------------------------------

interface MessageItem {
  readonly output: number;
  readonly id: string;
  readonly parts: { text: string; open: boolean }[];
  attached: boolean;
  done: boolean;
}

type WriteEntry =
  | { readonly kind: 'text'; readonly message: MessageItem; readonly part: number }
  | {
      readonly kind: 'thinking';
      readonly output: number;
      readonly id: string;
      text: string;
      signature: string;
      open: boolean;
      summary: boolean;
    }
  | { readonly kind: 'redacted'; readonly output: number }
  | {
      readonly kind: 'tool';
      readonly output: number;
      readonly id: string;
      readonly callId: string;
      readonly name: string;
      args: string;
      open: boolean;
    };

export class ResponsesStreamWriter implements StreamWriter {
  readonly contentType = 'text/event-stream';
  #seq = 0;
  #id = mintId('resp_');
  #created = Math.floor(Date.now() / 1000);
  #model = '';
  #started = false;
  #closed = false;
  #stop: StopReason = 'end_turn';
  #startUsage: Usage | undefined;
  #usage: Usage | undefined;
  #output: JsonObject[] = [];
  #messages: MessageItem[] = [];
  #current: MessageItem | undefined;
  #blocks = new Map<number, WriteEntry>();

  write(event: StreamEvent): string {
    if (this.#closed) return '';
    switch (event.type) {
      case 'message_start':
        if (this.#started) return '';
        this.#model = event.model;
        if (event.created !== undefined) this.#created = event.created;
        this.#startUsage = event.usage;
        return this.#start();
      case 'block_start': {
        const b = event.block;
        if (b.type === 'text') return this.#start() + this.#textStart(event.index);
        if (b.type === 'thinking') return this.#start() + this.#thinkingStart(event.index);
        if (b.type === 'tool_use') return this.#start() + this.#toolStart(event.index, b.id, b.name);
        return this.#start() + this.#redacted(event.index, b.data);
      }
      case 'text_delta': {
        let out = this.#start();
        if (!this.#blocks.has(event.index)) out += this.#textStart(event.index);
        return out + this.#textDelta(event.index, event.text);
      }
      case 'thinking_delta': {
        let out = this.#start();
        if (!this.#blocks.has(event.index)) out += this.#thinkingStart(event.index);
        return out + this.#thinkingDelta(event.index, event.thinking);
      }
      case 'signature_delta': {
        const entry = this.#blocks.get(event.index);
        if (entry?.kind === 'thinking') entry.signature += event.signature;
        return '';
      }
      case 'tool_args_delta': {
        let out = this.#start();
        if (!this.#blocks.has(event.index)) out += this.#toolStart(event.index, '', '');
        const entry = this.#blocks.get(event.index);
        if (entry?.kind !== 'tool' || !entry.open || event.partialJson === '') return out;
        entry.args += event.partialJson;
        const ids = { item_id: entry.id, output_index: entry.output };
        return (
          out + this.#emit('response.function_call_arguments.delta', { ...ids, delta: event.partialJson })
        );
      }
      case 'block_stop':
        return this.#blockStop(event.index);
      case 'message_delta':
        this.#stop = event.stopReason;
        this.#usage = mergeUsage(this.#startUsage, event.usage);
        return this.#start();
      case 'message_stop':
        return this.#start() + this.#finish(undefined);
      case 'error':
        return this.#start() + this.#finish(event.error);
    }
  }

  end(): string {
    this.#closed = true;
    return '';
  }

  #emit(type: string, body: JsonObject): string {
    return encodeSse(JSON.stringify({ type, sequence_number: this.#seq++, ...body }), type);
  }

  #snapshot(fields: ReturnType<typeof statusOf>, usage: Usage | undefined): JsonObject {
    return responseObject(this.#id, this.#model, this.#created, fields, this.#output, usage);
  }

  #start(): string {
    if (this.#started) return '';
    this.#started = true;
    const fields = { status: 'in_progress', incomplete_details: null, error: null };
    return (
      this.#emit('response.created', { response: this.#snapshot(fields, undefined) }) +
      this.#emit('response.in_progress', { response: this.#snapshot(fields, undefined) })
    );
  }

  #addItem(item: JsonObject): string {
    const output = this.#output.length;
    this.#output.push(item);
    return this.#emit('response.output_item.added', { output_index: output, item });
  }

  #detach(): string {
    const m = this.#current;
    this.#current = undefined;
    if (m === undefined) return '';
    m.attached = false;
    return this.#maybeFinishMessage(m);
  }

  #textStart(irIndex: number): string {
    let out = '';
    if (this.#current === undefined) {
      const id = mintId('msg_');
      out += this.#addItem({ id, type: 'message', status: 'in_progress', role: 'assistant', content: [] });
      this.#current = { output: this.#output.length - 1, id, parts: [], attached: true, done: false };
      this.#messages.push(this.#current);
    }
    const m = this.#current;
    const part = m.parts.length;
    m.parts.push({ text: '', open: true });
    this.#blocks.set(irIndex, { kind: 'text', message: m, part });
    const ids = { item_id: m.id, output_index: m.output, content_index: part };
    return out + this.#emit('response.content_part.added', { ...ids, part: outputText('') });
  }

  #textDelta(irIndex: number, text: string): string {
    const entry = this.#blocks.get(irIndex);
    if (entry?.kind !== 'text' || text === '') return '';
    const part = entry.message.parts[entry.part];
    if (!part?.open) return '';
    part.text += text;
    const ids = { item_id: entry.message.id, output_index: entry.message.output, content_index: entry.part };
    return this.#emit('response.output_text.delta', { ...ids, delta: text, logprobs: [] });
  }

  #thinkingStart(irIndex: number): string {
    const out = this.#detach();
    const id = mintId('rs_');
    const added = this.#addItem({ id, type: 'reasoning', summary: [], status: 'in_progress' });
    const output = this.#output.length - 1;
    this.#blocks.set(irIndex, {
      kind: 'thinking',
      output,
      id,
      text: '',
      signature: '',
      open: true,
      summary: false,
    });
    return out + added;
  }

  #thinkingDelta(irIndex: number, text: string): string {
    const entry = this.#blocks.get(irIndex);
    if (entry?.kind !== 'thinking' || !entry.open || text === '') return '';
    const ids = { item_id: entry.id, output_index: entry.output, summary_index: 0 };
    let out = '';
    if (!entry.summary) {
      entry.summary = true;
      out += this.#emit('response.reasoning_summary_part.added', {
        ...ids,
        part: { type: 'summary_text', text: '' },
      });
    }
    entry.text += text;
    return out + this.#emit('response.reasoning_summary_text.delta', { ...ids, delta: text });
  }

  #redacted(irIndex: number, data: string): string {
    const out = this.#detach();
    const item = reasoningItem(mintId('rs_'), '', data, 'completed');
    const added = this.#addItem({ ...item, status: 'in_progress' });
    const output = this.#output.length - 1;
    this.#blocks.set(irIndex, { kind: 'redacted', output });
    this.#output[output] = item;
    return out + added + this.#emit('response.output_item.done', { output_index: output, item });
  }

  #toolStart(irIndex: number, callId: string, name: string): string {
    const out = this.#detach();
    const id = mintId('fc_');
    const added = this.#addItem(functionCallItem(id, callId, name, '', 'in_progress'));
    const output = this.#output.length - 1;
    this.#blocks.set(irIndex, { kind: 'tool', output, id, callId, name, args: '', open: true });
    return out + added;
  }

  #blockStop(irIndex: number): string {
    const entry = this.#blocks.get(irIndex);
    if (entry === undefined) return '';
    if (entry.kind === 'text') {
      const part = entry.message.parts[entry.part];
      if (!part?.open) return '';
      part.open = false;
      const ids = {
        item_id: entry.message.id,
        output_index: entry.message.output,
        content_index: entry.part,
      };
      return (
        this.#emit('response.output_text.done', { ...ids, text: part.text, logprobs: [] }) +
        this.#emit('response.content_part.done', { ...ids, part: outputText(part.text) }) +
        this.#maybeFinishMessage(entry.message)
      );
    }
    if (entry.kind === 'thinking') {
      if (!entry.open) return '';
      entry.open = false;
      let out = '';
      if (entry.summary) {
        const ids = { item_id: entry.id, output_index: entry.output, summary_index: 0 };
        out += this.#emit('response.reasoning_summary_text.done', { ...ids, text: entry.text });
        out += this.#emit('response.reasoning_summary_part.done', {
          ...ids,
          part: { type: 'summary_text', text: entry.text },
        });
      }
      const item = reasoningItem(entry.id, entry.text, entry.signature, 'completed');
      this.#output[entry.output] = item;
      return out + this.#emit('response.output_item.done', { output_index: entry.output, item });
    }
    if (entry.kind === 'tool') {
      if (!entry.open) return '';
      entry.open = false;
      const ids = { item_id: entry.id, output_index: entry.output };
      const item = functionCallItem(entry.id, entry.callId, entry.name, entry.args, 'completed');
      this.#output[entry.output] = item;
      return (
        this.#emit('response.function_call_arguments.done', {
          ...ids,
          name: entry.name,
          arguments: entry.args,
        }) + this.#emit('response.output_item.done', { output_index: entry.output, item })
      );
    }
    return '';
  }

  #maybeFinishMessage(m: MessageItem, status = 'completed'): string {
    if (m.done || m.attached || m.parts.some((p) => p.open)) return '';
    m.done = true;
    const item = {
      id: m.id,
      type: 'message',
      status,
      role: 'assistant',
      content: m.parts.map((p) => outputText(p.text)),
    };
    this.#output[m.output] = item;
    return this.#emit('response.output_item.done', { output_index: m.output, item });
  }

  #finish(error: GatewayErrorInfo | undefined): string {
    this.#closed = true;
    let out = '';
    for (const irIndex of this.#blocks.keys()) out += this.#blockStop(irIndex);
    const fields = error
      ? {
          status: 'failed',
          incomplete_details: null,
          error: { code: 'server_error', message: error.message },
        }
      : statusOf(this.#stop);
    const itemStatus = fields.status === 'incomplete' ? 'incomplete' : 'completed';
    if (this.#current) this.#current.attached = false;
    for (const m of this.#messages) out += this.#maybeFinishMessage(m, itemStatus);
    if (error) {
      out += this.#emit('error', {
        code: error.code ?? openAICode(error),
        message: error.message,
        param: null,
      });
    }
    const usage = this.#usage ?? this.#startUsage;
    const type =
      fields.status === 'completed'
        ? 'response.completed'
        : fields.status === 'incomplete'
          ? 'response.incomplete'
          : 'response.failed';
    return out + this.#emit(type, { response: this.#snapshot(fields, usage) });
  }
}

function openAICode(error: GatewayErrorInfo): string {
  if (error.kind === 'rate_limit_error') return 'rate_limit_exceeded';
  return 'server_error';
}
