// Bedrock Converse wire shapes (ConverseResponse; ConverseStream as application/vnd.amazon.eventstream frames).

import { EventStreamCodec } from '@smithy/eventstream-codec';
import {
  continuedToolTurn,
  invalidSignature,
  type MockAnswer,
  missingThinking,
  mockId,
  mockSignature,
  mockSignatureHolds,
  type ProtocolWire,
  splitText,
  type WireReply,
} from './shared.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const codec = new EventStreamCodec(
  (bytes: Uint8Array) => decoder.decode(bytes),
  (text: string) => encoder.encode(text),
);

/** Encodes one event frame exactly as Bedrock sends it: three string headers and a JSON payload. */
export function bedrockEventFrame(eventType: string, payload: unknown): Uint8Array {
  return codec.encode({
    headers: {
      ':event-type': { type: 'string', value: eventType },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'event' },
    },
    body: encoder.encode(JSON.stringify(payload)),
  });
}

/** An in-stream exception frame (`:message-type: exception`). */
export function bedrockExceptionFrame(exceptionType: string, message: string): Uint8Array {
  return codec.encode({
    headers: {
      ':exception-type': { type: 'string', value: exceptionType },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'exception' },
    },
    body: encoder.encode(JSON.stringify({ message })),
  });
}

/** Decodes a whole eventstream body into `{eventType, messageType, payload}` records (for assertions). */
export function decodeBedrockStream(body: Uint8Array): Array<{
  eventType: string | undefined;
  messageType: string | undefined;
  payload: unknown;
}> {
  const out = [];
  let offset = 0;
  while (offset + 4 <= body.length) {
    const total = new DataView(body.buffer, body.byteOffset + offset, 4).getUint32(0);
    const msg = codec.decode(body.subarray(offset, offset + total));
    offset += total;
    const header = (name: string): string | undefined => {
      const h = msg.headers[name];
      return h && h.type === 'string' ? h.value : undefined;
    };
    out.push({
      eventType: header(':event-type') ?? header(':exception-type'),
      messageType: header(':message-type'),
      payload: JSON.parse(decoder.decode(msg.body)),
    });
  }
  return out;
}

export function bedrockErrorType(status: number): string {
  switch (status) {
    case 400:
      return 'ValidationException';
    case 401:
      return 'UnrecognizedClientException';
    case 403:
      return 'AccessDeniedException';
    case 404:
      return 'ResourceNotFoundException';
    case 408:
      return 'ModelTimeoutException';
    case 424:
      return 'ModelErrorException';
    case 429:
      return 'ThrottlingException';
    case 503:
      return 'ServiceUnavailableException';
    default:
      return status >= 500 ? 'InternalServerException' : 'ValidationException';
  }
}

function usage(answer: MockAnswer): Record<string, unknown> {
  return {
    inputTokens: answer.usage.input,
    outputTokens: answer.usage.output,
    totalTokens: answer.usage.input + answer.usage.output,
  };
}

/** Bedrock pads stream payloads with a `p` field of varying length to hide token sizes. */
function pad(n: number): string {
  return 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'.slice(0, 4 + (n % 40));
}

function stopReason(answer: MockAnswer): string {
  if (answer.toolCall) return 'tool_use';
  return answer.truncated ? 'max_tokens' : 'end_turn';
}

const REQUEST_ID = '0f0e0d0c-0000-4000-8000-00000000beef';

/** The signed reasoning block a tool-call answer opens with when thinking is on (Claude on Bedrock). */
function reasoningBlocks(answer: MockAnswer): Record<string, unknown>[] {
  const text = answer.thinking;
  return text === undefined
    ? []
    : [{ reasoningContent: { reasoningText: { text, signature: mockSignature(text) } } }];
}

type Item = Record<string, unknown>;

function itemsOf(content: unknown): Item[] {
  return Array.isArray(content) ? (content as Item[]) : [];
}

/** Content holds a tool call (`toolUse`) or a tool result (`toolResult`). */
function holds(content: unknown, kind: 'tool_call' | 'tool_result'): boolean {
  const key = kind === 'tool_call' ? 'toolUse' : 'toolResult';
  return itemsOf(content).some((item) => item[key] !== undefined);
}

/** A Converse content item's kind, as Claude names the block it becomes. */
function blockType(item: Item | undefined): string {
  if (item === undefined) return 'nothing';
  if (item.toolUse !== undefined) return 'tool_use';
  if (item.text !== undefined) return 'text';
  return Object.keys(item)[0] ?? 'nothing';
}

export const bedrockWire: ProtocolWire = {
  protocol: 'bedrock',

  declaresTools(body) {
    const toolConfig = body?.toolConfig as Record<string, unknown> | undefined;
    return Array.isArray(toolConfig?.tools) && toolConfig.tools.length > 0;
  },

  nonStream(answer: MockAnswer): WireReply {
    const tc = answer.toolCall;
    const content: Record<string, unknown>[] = [
      ...reasoningBlocks(answer),
      tc
        ? { toolUse: { toolUseId: mockId('tooluse_', answer.seq, 22), name: tc.name, input: tc.arguments } }
        : { text: answer.text },
    ];
    const body = {
      output: { message: { role: 'assistant', content } },
      stopReason: stopReason(answer),
      usage: usage(answer),
      metrics: { latencyMs: 42 },
    };
    return {
      status: 200,
      headers: { 'content-type': 'application/json', 'x-amzn-requestid': REQUEST_ID },
      chunks: [JSON.stringify(body)],
    };
  },

  stream(answer: MockAnswer): WireReply {
    const chunks: Uint8Array[] = [];
    let n = 0;
    const emit = (eventType: string, payload: Record<string, unknown>): void => {
      chunks.push(bedrockEventFrame(eventType, { ...payload, p: pad(n++) }));
    };
    emit('messageStart', { role: 'assistant' });
    const tc = answer.toolCall;
    let index = 0;
    if (answer.thinking !== undefined) {
      for (const text of splitText(answer.thinking)) {
        emit('contentBlockDelta', { contentBlockIndex: index, delta: { reasoningContent: { text } } });
      }
      const signature = mockSignature(answer.thinking);
      emit('contentBlockDelta', { contentBlockIndex: index, delta: { reasoningContent: { signature } } });
      emit('contentBlockStop', { contentBlockIndex: index });
      index += 1;
    }
    if (tc) {
      emit('contentBlockStart', {
        contentBlockIndex: index,
        start: { toolUse: { toolUseId: mockId('tooluse_', answer.seq, 22), name: tc.name } },
      });
      for (const input of splitText(JSON.stringify(tc.arguments))) {
        emit('contentBlockDelta', { contentBlockIndex: index, delta: { toolUse: { input } } });
      }
    } else {
      for (const text of splitText(answer.text)) {
        emit('contentBlockDelta', { contentBlockIndex: index, delta: { text } });
      }
    }
    emit('contentBlockStop', { contentBlockIndex: index });
    emit('messageStop', { stopReason: stopReason(answer) });
    emit('metadata', { usage: usage(answer), metrics: { latencyMs: 42 } });
    return {
      status: 200,
      headers: { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': REQUEST_ID },
      chunks,
    };
  },

  thinkingOn(body) {
    const fields = body.additionalModelRequestFields as { thinking?: { type?: unknown } } | undefined;
    const type = fields?.thinking?.type;
    return type === 'enabled' || type === 'adaptive';
  },

  refusal(body) {
    if (!this.thinkingOn?.(body)) return undefined;
    const messages = Array.isArray(body.messages) ? body.messages : [];
    const at = continuedToolTurn(messages, holds);
    if (at < 0) return undefined;
    const first = itemsOf((messages[at] as { content?: unknown }).content)[0];
    const where = `messages.${at}.content.0`;
    const reasoning = first?.reasoningContent as
      | { reasoningText?: { text?: unknown; signature?: unknown }; redactedContent?: unknown }
      | undefined;
    // Bedrock passes Claude's own refusal on, prefixed.
    const refused = (message: string): string => `The model returned the following errors: ${message}`;
    if (reasoning?.reasoningText !== undefined) {
      const { text, signature } = reasoning.reasoningText;
      // Claude takes no reasoning without its signature.
      if (signature === undefined) return refused(`${where}.thinking.signature: Field required`);
      return mockSignatureHolds(text, signature) ? undefined : refused(invalidSignature(where));
    }
    if (reasoning?.redactedContent !== undefined)
      return refused(`${where}: Invalid \`data\` in \`redacted_thinking\` block`);
    return refused(missingThinking(where, blockType(first)));
  },

  error(status: number, message: string): WireReply {
    return {
      status,
      headers: {
        'content-type': 'application/json',
        'x-amzn-requestid': REQUEST_ID,
        // Real Bedrock appends the coral namespace after a colon; SDKs keep the part before it.
        'x-amzn-errortype': `${bedrockErrorType(status)}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
      },
      chunks: [JSON.stringify({ message })],
    };
  },
};
