// Bedrock ConverseStream ↔ IR stream events over binary eventstream frames. Usage arrives in the
// `metadata` event AFTER `messageStop`, so the reader holds the IR message end until it has both.

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
import { nativeToolId } from '../tool-ids.ts';
import { type EventFrame, encodeEvent, encodeException, FrameDecoder } from './eventstream.ts';
import { bedrockStopReason, bedrockUsage, stopFromBedrock, usageFromBedrock } from './response.ts';

const KIND_BY_EXCEPTION: Record<string, [ErrorKind, number]> = {
  throttlingexception: ['rate_limit_error', 429],
  servicequotaexceededexception: ['insufficient_quota', 429],
  serviceunavailableexception: ['overloaded', 503],
  validationexception: ['invalid_request_error', 400],
  accessdeniedexception: ['permission_error', 403],
  resourcenotfoundexception: ['not_found_error', 404],
  modeltimeoutexception: ['timeout', 504],
  internalserverexception: ['api_error', 500],
  modelstreamerrorexception: ['api_error', 500],
};

function exceptionError(type: string | undefined, message: string | undefined): GatewayErrorInfo {
  const [kind, status] = KIND_BY_EXCEPTION[(type ?? '').toLowerCase()] ?? ['api_error', 500];
  return { kind, status, message: message ?? type ?? 'upstream stream exception' };
}

function malformed(detail: string): StreamEvent {
  return {
    type: 'error',
    error: { kind: 'api_error', status: 502, message: `malformed Bedrock stream: ${detail}` },
  };
}

type BlockKind = 'text' | 'thinking' | 'tool_use' | 'redacted_thinking';

export class BedrockStreamReader implements StreamReader {
  #decoder = new FrameDecoder();
  #started = false;
  #done = false;
  #next = 0;
  /** Bedrock content-block index → IR index, and the kinds of the blocks still open. */
  #indexes = new Map<number, number>();
  #open = new Map<number, BlockKind>();
  #stop: StopReason | undefined;
  #usage: Usage | undefined;
  #sawMetadata = false;

  push(chunk: Uint8Array): StreamEvent[] {
    const out: StreamEvent[] = [];
    if (this.#done) return out;
    const { frames, error } = this.#decoder.push(chunk);
    for (const frame of frames) this.#frame(frame, out);
    if (error !== undefined) this.#fail(out, malformed(error));
    return out;
  }

  end(): StreamEvent[] {
    const out: StreamEvent[] = [];
    if (this.#done) return out;
    if (this.#decoder.pending > 0) this.#fail(out, malformed('stream ended inside a frame'));
    else if (this.#stop !== undefined) this.#finish(out);
    else this.#fail(out, malformed('stream ended before messageStop'));
    return out;
  }

  #fail(out: StreamEvent[], event: StreamEvent): void {
    if (this.#done) return;
    out.push(event);
    this.#done = true;
  }

  #finish(out: StreamEvent[]): void {
    out.push({
      type: 'message_delta',
      stopReason: this.#stop ?? 'end_turn',
      ...(this.#usage !== undefined && { usage: this.#usage }),
    });
    out.push({ type: 'message_stop' });
    this.#done = true;
  }

  #start(out: StreamEvent[]): void {
    if (this.#started) return;
    this.#started = true;
    out.push({ type: 'message_start', id: mintId('msg_bdrk_'), model: '' });
  }

  #ensure(
    wire: number,
    kind: BlockKind,
    out: StreamEvent[],
    start?: StreamEvent & { type: 'block_start' },
  ): number {
    const known = this.#indexes.get(wire);
    if (known !== undefined && this.#open.has(known)) return known;
    const index = this.#next++;
    this.#indexes.set(wire, index);
    this.#open.set(index, kind);
    if (kind === 'text' || kind === 'thinking')
      out.push({ type: 'block_start', index, block: { type: kind } });
    else if (start !== undefined) out.push({ ...start, index });
    return index;
  }

  #closeAll(out: StreamEvent[]): void {
    for (const index of this.#open.keys()) out.push({ type: 'block_stop', index });
    this.#open.clear();
  }

  #frame(frame: EventFrame, out: StreamEvent[]): void {
    if (this.#done) return;
    const messageType = frame.headers[':message-type'] ?? 'event';
    if (messageType === 'exception' || messageType === 'error') {
      let message: string | undefined;
      try {
        const body = JSON.parse(frame.payload) as JsonValue;
        message = str(field(body, 'message')) ?? str(field(body, 'Message'));
      } catch {
        message = undefined;
      }
      const type = frame.headers[':exception-type'] ?? frame.headers[':error-code'];
      this.#fail(out, {
        type: 'error',
        error: exceptionError(type, message ?? frame.headers[':error-message']),
      });
      return;
    }
    let payload: JsonValue;
    try {
      payload = JSON.parse(frame.payload) as JsonValue;
    } catch {
      this.#fail(out, malformed('invalid JSON payload'));
      return;
    }
    if (!isObject(payload)) {
      this.#fail(out, malformed('payload is not an object'));
      return;
    }
    const wire = count(payload.contentBlockIndex) ?? 0;
    switch (frame.headers[':event-type']) {
      case 'messageStart':
        this.#start(out);
        return;
      case 'contentBlockStart': {
        this.#start(out);
        const tool = field(field(payload, 'start'), 'toolUse');
        if (isObject(tool)) {
          this.#ensure(wire, 'tool_use', out, {
            type: 'block_start',
            index: 0,
            block: {
              type: 'tool_use',
              id: str(tool.toolUseId) || mintId('tooluse_'),
              name: str(tool.name) ?? '',
            },
          });
        }
        return;
      }
      case 'contentBlockDelta':
        this.#start(out);
        this.#delta(wire, field(payload, 'delta'), out);
        return;
      case 'contentBlockStop': {
        const index = this.#indexes.get(wire);
        if (index !== undefined && this.#open.delete(index)) out.push({ type: 'block_stop', index });
        return;
      }
      case 'messageStop':
        this.#start(out);
        this.#closeAll(out);
        this.#stop = stopFromBedrock(str(payload.stopReason));
        if (this.#sawMetadata) this.#finish(out);
        return;
      case 'metadata':
        this.#sawMetadata = true;
        this.#usage = usageFromBedrock(payload.usage);
        if (this.#stop !== undefined) this.#finish(out);
        return;
      default:
        return;
    }
  }

  #delta(wire: number, delta: JsonValue | undefined, out: StreamEvent[]): void {
    const text = str(field(delta, 'text'));
    if (text !== undefined) {
      const index = this.#ensure(wire, 'text', out);
      if (text !== '') out.push({ type: 'text_delta', index, text });
      return;
    }
    const tool = field(delta, 'toolUse');
    if (isObject(tool)) {
      const index = this.#indexes.get(wire);
      const input = str(tool.input);
      if (index !== undefined && this.#open.get(index) === 'tool_use' && input) {
        out.push({ type: 'tool_args_delta', index, partialJson: input });
      }
      return;
    }
    const reasoning = field(delta, 'reasoningContent');
    if (!isObject(reasoning)) return;
    const redacted = str(reasoning.redactedContent);
    if (redacted !== undefined) {
      this.#ensure(wire, 'redacted_thinking', out, {
        type: 'block_start',
        index: 0,
        block: { type: 'redacted_thinking', data: redacted },
      });
      return;
    }
    const index = this.#ensure(wire, 'thinking', out);
    const thinking = str(reasoning.text);
    const signature = str(reasoning.signature);
    if (thinking) out.push({ type: 'thinking_delta', index, thinking });
    if (signature) out.push({ type: 'signature_delta', index, signature });
  }
}

const EXCEPTION_BY_KIND: Record<ErrorKind, string> = {
  invalid_request_error: 'validationException',
  authentication_error: 'validationException',
  permission_error: 'validationException',
  not_found_error: 'validationException',
  request_too_large: 'validationException',
  rate_limit_error: 'throttlingException',
  insufficient_quota: 'throttlingException',
  api_error: 'internalServerException',
  overloaded: 'serviceUnavailableException',
  timeout: 'modelStreamErrorException',
};

const EMPTY = new Uint8Array(0);

function join(frames: Uint8Array[]): Uint8Array {
  if (frames.length === 0) return EMPTY;
  if (frames.length === 1) return frames[0]!;
  return Buffer.concat(frames);
}

export class BedrockStreamWriter implements StreamWriter {
  readonly contentType = 'application/vnd.amazon.eventstream';
  #startedAt = Date.now();
  #started = false;
  #finished = false;
  #nextWire = 0;
  #blocks = new Map<number, number>();
  #stop: StopReason | undefined;
  #startUsage: Usage | undefined;
  #usage: Usage | undefined;

  write(event: StreamEvent): Uint8Array {
    if (this.#finished) return EMPTY;
    const frames: Uint8Array[] = [];
    switch (event.type) {
      case 'message_start':
        this.#startUsage = event.usage;
        this.#start(frames);
        break;
      case 'block_start': {
        this.#start(frames);
        const wire = this.#wire(event.index);
        const block = event.block;
        if (block.type === 'tool_use') {
          frames.push(
            this.#event('contentBlockStart', {
              contentBlockIndex: wire,
              start: { toolUse: { toolUseId: nativeToolId(block.id, 'tooluse_'), name: block.name } },
            }),
          );
        } else if (block.type === 'redacted_thinking') {
          frames.push(this.#delta(wire, { reasoningContent: { redactedContent: block.data } }));
        }
        // Text and reasoning blocks have no start event on Bedrock: their first delta opens them.
        break;
      }
      // Empty pieces are not sent: a text or reasoning block opens with its first real delta.
      case 'text_delta':
        this.#start(frames);
        if (event.text !== '') frames.push(this.#delta(this.#wire(event.index), { text: event.text }));
        break;
      case 'thinking_delta':
        this.#start(frames);
        if (event.thinking !== '')
          frames.push(this.#delta(this.#wire(event.index), { reasoningContent: { text: event.thinking } }));
        break;
      case 'signature_delta':
        this.#start(frames);
        if (event.signature !== '')
          frames.push(
            this.#delta(this.#wire(event.index), { reasoningContent: { signature: event.signature } }),
          );
        break;
      case 'tool_args_delta':
        if (this.#blocks.has(event.index) && event.partialJson !== '') {
          frames.push(this.#delta(this.#wire(event.index), { toolUse: { input: event.partialJson } }));
        }
        break;
      case 'block_stop': {
        const wire = this.#blocks.get(event.index);
        if (wire !== undefined) {
          this.#blocks.delete(event.index);
          frames.push(this.#event('contentBlockStop', { contentBlockIndex: wire }));
        }
        break;
      }
      case 'message_delta':
        this.#stop = event.stopReason;
        if (event.usage !== undefined) this.#usage = event.usage;
        break;
      case 'message_stop':
        this.#start(frames);
        for (const wire of this.#blocks.values())
          frames.push(this.#event('contentBlockStop', { contentBlockIndex: wire }));
        this.#blocks.clear();
        frames.push(this.#event('messageStop', { stopReason: bedrockStopReason(this.#stop ?? 'end_turn') }));
        frames.push(
          this.#event('metadata', {
            usage: bedrockUsage(this.#mergedUsage()),
            metrics: { latencyMs: Date.now() - this.#startedAt },
          }),
        );
        this.#finished = true;
        break;
      case 'error':
        frames.push(
          encodeException(
            EXCEPTION_BY_KIND[event.error.kind],
            JSON.stringify({ message: event.error.message }),
          ),
        );
        this.#finished = true;
        break;
      default: {
        const exhaustive: never = event;
        return exhaustive;
      }
    }
    return join(frames);
  }

  end(): Uint8Array {
    return EMPTY;
  }

  #start(frames: Uint8Array[]): void {
    if (this.#started) return;
    this.#started = true;
    frames.push(this.#event('messageStart', { role: 'assistant' }));
  }

  /** Bedrock numbers blocks from 0 in the order they open, whatever the IR indexes are. */
  #wire(index: number): number {
    let wire = this.#blocks.get(index);
    if (wire === undefined) {
      wire = this.#nextWire++;
      this.#blocks.set(index, wire);
    }
    return wire;
  }

  #delta(wire: number, delta: JsonObject): Uint8Array {
    return this.#event('contentBlockDelta', { contentBlockIndex: wire, delta });
  }

  #event(type: string, payload: JsonObject): Uint8Array {
    return encodeEvent(type, JSON.stringify(payload));
  }

  #mergedUsage(): Usage {
    const start = this.#startUsage;
    const delta = this.#usage;
    if (delta === undefined) return start ?? { inputTokens: 0, outputTokens: 0 };
    if (start === undefined || delta.inputTokens > 0) return delta;
    return {
      ...start,
      ...delta,
      inputTokens: start.inputTokens,
      totalTokens: start.inputTokens + delta.outputTokens,
    };
  }
}
