// Cohere v2 chat streams ↔ IR stream events. The streamed content delta is an OBJECT,
// `delta.message.content = {type?, text}` (P-XLT-10), and tool-call fragments carry one call each.

import { crypto } from '../../builtins.ts';
import type { StreamReader, StreamWriter } from '../codec.ts';
import type { JsonObject, JsonValue, StopReason, StreamEvent, Usage } from '../ir.ts';
import { count, field, isObject, str } from '../json-access.ts';
import { encodeSse, SseParser } from '../sse.ts';
import { cohereUsage, finishFromStop, stopFromFinish, usageFromCohere } from './response.ts';

function malformed(detail: string): StreamEvent {
  return {
    type: 'error',
    error: { kind: 'api_error', status: 502, message: `malformed Cohere stream: ${detail}` },
  };
}

/** An object field that some senders wrap in a one-element array. */
function one(value: JsonValue | undefined): JsonValue | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export class CohereStreamReader implements StreamReader {
  #sse = new SseParser();
  #started = false;
  #done = false;
  #next = 0;
  /** Cohere numbers content and tool calls separately (`c0`, `t0`); IR indexes are one sequence. */
  #indexes = new Map<string, number>();
  #open: number[] = [];
  #plan: number | undefined;
  #sawToolCall = false;

  push(chunk: Uint8Array): StreamEvent[] {
    const out: StreamEvent[] = [];
    for (const frame of this.#sse.push(chunk)) this.#frame(frame.event, frame.data, out);
    if (this.#sse.overflowed) this.#fail(out, malformed('frame too large'));
    return out;
  }

  end(): StreamEvent[] {
    const out: StreamEvent[] = [];
    for (const frame of this.#sse.end()) this.#frame(frame.event, frame.data, out);
    if (!this.#done) this.#fail(out, malformed('stream ended before message-end'));
    return out;
  }

  #fail(out: StreamEvent[], event: StreamEvent): void {
    if (this.#done) return;
    out.push(event);
    this.#done = true;
  }

  #start(id: string | undefined, out: StreamEvent[]): void {
    if (this.#started) return;
    this.#started = true;
    out.push({ type: 'message_start', id: id || crypto.randomUUID(), model: '' });
  }

  #openBlock(key: string, out: StreamEvent[], start: StreamEvent & { type: 'block_start' }): number {
    out.push(start);
    this.#indexes.set(key, start.index);
    this.#open.push(start.index);
    return start.index;
  }

  #close(index: number | undefined, out: StreamEvent[]): void {
    if (index === undefined || !this.#open.includes(index)) return;
    this.#open = this.#open.filter((i) => i !== index);
    out.push({ type: 'block_stop', index });
  }

  #closePlan(out: StreamEvent[]): void {
    this.#close(this.#plan, out);
    this.#plan = undefined;
  }

  #frame(eventName: string | undefined, data: string, out: StreamEvent[]): void {
    if (this.#done || data === '[DONE]') return;
    let event: JsonValue;
    try {
      event = JSON.parse(data) as JsonValue;
    } catch {
      this.#fail(out, malformed('invalid JSON event'));
      return;
    }
    if (!isObject(event)) {
      this.#fail(out, malformed('event is not an object'));
      return;
    }
    const type = str(event.type) ?? eventName;
    if (type === 'message-start') {
      this.#start(str(event.id), out);
      return;
    }
    this.#start(str(event.id), out);
    const wire = count(event.index) ?? 0;
    const message = field(field(event, 'delta'), 'message');
    switch (type) {
      case 'content-start': {
        this.#closePlan(out);
        const content = one(field(message, 'content'));
        const thinking =
          str(field(content, 'type')) === 'thinking' || str(field(content, 'thinking')) !== undefined;
        const index = this.#openBlock(`c${wire}`, out, {
          type: 'block_start',
          index: this.#next++,
          block: { type: thinking ? 'thinking' : 'text' },
        });
        this.#contentDelta(index, content, out);
        return;
      }
      case 'content-delta': {
        const content = one(field(message, 'content'));
        let index = this.#indexes.get(`c${wire}`);
        if (index === undefined || !this.#open.includes(index)) {
          const thinking = str(field(content, 'thinking')) !== undefined;
          index = this.#openBlock(`c${wire}`, out, {
            type: 'block_start',
            index: this.#next++,
            block: { type: thinking ? 'thinking' : 'text' },
          });
        }
        this.#contentDelta(index, content, out);
        return;
      }
      case 'content-end':
        this.#close(this.#indexes.get(`c${wire}`), out);
        return;
      case 'tool-plan-delta': {
        const plan = str(field(message, 'tool_plan')) ?? '';
        if (this.#plan === undefined) {
          this.#plan = this.#openBlock('plan', out, {
            type: 'block_start',
            index: this.#next++,
            block: { type: 'text' },
          });
        }
        if (plan !== '') out.push({ type: 'text_delta', index: this.#plan, text: plan });
        return;
      }
      case 'tool-call-start': {
        this.#closePlan(out);
        this.#sawToolCall = true;
        const call = one(field(message, 'tool_calls'));
        const fn = field(call, 'function');
        const index = this.#openBlock(`t${wire}`, out, {
          type: 'block_start',
          index: this.#next++,
          block: {
            type: 'tool_use',
            id: str(field(call, 'id')) || crypto.randomUUID(),
            name: str(field(fn, 'name')) ?? '',
          },
        });
        const args = str(field(fn, 'arguments'));
        if (args) out.push({ type: 'tool_args_delta', index, partialJson: args });
        return;
      }
      case 'tool-call-delta': {
        const index = this.#indexes.get(`t${wire}`);
        const args = str(field(field(one(field(message, 'tool_calls')), 'function'), 'arguments'));
        if (index !== undefined && this.#open.includes(index) && args) {
          out.push({ type: 'tool_args_delta', index, partialJson: args });
        }
        return;
      }
      case 'tool-call-end':
        this.#close(this.#indexes.get(`t${wire}`), out);
        return;
      case 'message-end': {
        for (const index of [...this.#open]) this.#close(index, out);
        this.#plan = undefined;
        const delta = field(event, 'delta');
        const failure = str(field(delta, 'error'));
        if (failure) {
          // A generation that failed mid-stream is an upstream error, not a stop reason (P-STR-8).
          const timeout = str(field(delta, 'finish_reason')) === 'TIMEOUT';
          out.push({
            type: 'error',
            error: { kind: timeout ? 'timeout' : 'api_error', status: timeout ? 504 : 500, message: failure },
          });
          this.#done = true;
          return;
        }
        const usage = usageFromCohere(field(delta, 'usage'));
        out.push({
          type: 'message_delta',
          stopReason: stopFromFinish(str(field(delta, 'finish_reason')), this.#sawToolCall),
          ...(usage !== undefined && { usage }),
        });
        out.push({ type: 'message_stop' });
        this.#done = true;
        return;
      }
      default:
        // citation-start/-end and debug events carry nothing the IR models.
        return;
    }
  }

  #contentDelta(index: number, content: JsonValue | undefined, out: StreamEvent[]): void {
    const text = str(field(content, 'text'));
    const thinking = str(field(content, 'thinking'));
    if (thinking) out.push({ type: 'thinking_delta', index, thinking });
    if (text) out.push({ type: 'text_delta', index, text });
  }
}

interface WireBlock {
  readonly kind: 'content' | 'tool' | 'none';
  readonly wire: number;
}

export class CohereStreamWriter implements StreamWriter {
  readonly contentType = 'text/event-stream';
  #id = crypto.randomUUID();
  #started = false;
  #finished = false;
  #blocks = new Map<number, WireBlock>();
  #nextContent = 0;
  #nextTool = 0;
  #stop: StopReason | undefined;
  #startUsage: Usage | undefined;
  #usage: Usage | undefined;

  write(event: StreamEvent): string {
    if (this.#finished) return '';
    switch (event.type) {
      case 'message_start':
        this.#startUsage = event.usage;
        return this.#start();
      case 'block_start': {
        const block = event.block;
        if (block.type === 'redacted_thinking') {
          this.#blocks.set(event.index, { kind: 'none', wire: -1 });
          return '';
        }
        if (block.type === 'tool_use') {
          const wire = this.#nextTool++;
          this.#blocks.set(event.index, { kind: 'tool', wire });
          return (
            this.#start() +
            this.#emit('tool-call-start', {
              index: wire,
              delta: {
                message: {
                  tool_calls: {
                    id: block.id,
                    type: 'function',
                    function: { name: block.name, arguments: '' },
                  },
                },
              },
            })
          );
        }
        return this.#startContent(event.index, block.type);
      }
      case 'text_delta':
      case 'thinking_delta': {
        const text = event.type === 'text_delta' ? event.text : event.thinking;
        if (text === '') return '';
        const kind = event.type === 'text_delta' ? 'text' : 'thinking';
        let block = this.#blocks.get(event.index);
        let prefix = '';
        if (block === undefined) {
          prefix = this.#startContent(event.index, kind);
          block = this.#blocks.get(event.index);
        }
        if (block?.kind !== 'content') return prefix;
        const content: JsonObject = kind === 'text' ? { text } : { thinking: text };
        return prefix + this.#emit('content-delta', { index: block.wire, delta: { message: { content } } });
      }
      case 'tool_args_delta': {
        const block = this.#blocks.get(event.index);
        if (block?.kind !== 'tool' || event.partialJson === '') return '';
        return this.#emit('tool-call-delta', {
          index: block.wire,
          delta: { message: { tool_calls: { function: { arguments: event.partialJson } } } },
        });
      }
      case 'signature_delta':
        return '';
      case 'block_stop':
        return this.#stopBlock(event.index);
      case 'message_delta':
        this.#stop = event.stopReason;
        if (event.usage !== undefined) this.#usage = event.usage;
        return '';
      case 'message_stop': {
        let out = this.#start();
        for (const index of [...this.#blocks.keys()]) out += this.#stopBlock(index);
        out += this.#emit('message-end', {
          delta: {
            finish_reason: finishFromStop(this.#stop ?? 'end_turn'),
            usage: cohereUsage(this.#mergedUsage()),
          },
        });
        this.#finished = true;
        return out;
      }
      case 'error':
        // Cohere reports a failed generation as a message-end with finish_reason ERROR.
        this.#finished = true;
        return (
          this.#start() +
          this.#emit('message-end', {
            delta: {
              error: event.error.message,
              finish_reason: 'ERROR',
              usage: cohereUsage(this.#mergedUsage()),
            },
          })
        );
      default: {
        const exhaustive: never = event;
        return exhaustive;
      }
    }
  }

  end(): string {
    return '';
  }

  #start(): string {
    if (this.#started) return '';
    this.#started = true;
    return this.#emit('message-start', {
      id: this.#id,
      delta: { message: { role: 'assistant', content: [], tool_plan: '', tool_calls: [], citations: [] } },
    });
  }

  #startContent(index: number, kind: 'text' | 'thinking'): string {
    const wire = this.#nextContent++;
    this.#blocks.set(index, { kind: 'content', wire });
    const content: JsonObject =
      kind === 'text' ? { type: 'text', text: '' } : { type: 'thinking', thinking: '' };
    return this.#start() + this.#emit('content-start', { index: wire, delta: { message: { content } } });
  }

  #stopBlock(index: number): string {
    const block = this.#blocks.get(index);
    this.#blocks.delete(index);
    if (block?.kind === 'content') return this.#emit('content-end', { index: block.wire });
    if (block?.kind === 'tool') return this.#emit('tool-call-end', { index: block.wire });
    return '';
  }

  #mergedUsage(): Usage {
    const start = this.#startUsage;
    const delta = this.#usage;
    if (delta === undefined) return start ?? { inputTokens: 0, outputTokens: 0 };
    if (start === undefined || delta.inputTokens > 0) return delta;
    return { ...delta, inputTokens: start.inputTokens, totalTokens: start.inputTokens + delta.outputTokens };
  }

  #emit(type: string, payload: JsonObject): string {
    const body: JsonObject = { type, ...payload };
    if (type === 'message-start' || type === 'message-end') body.id = this.#id;
    return encodeSse(JSON.stringify(body), type);
  }
}
