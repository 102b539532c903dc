// Anthropic Messages wire shapes (message object, named-event SSE with ping, error envelope).

import {
  continuedToolTurn,
  invalidSignature,
  type MockAnswer,
  missingThinking,
  mockId,
  mockSignature,
  mockSignatureHolds,
  nonEmptyArray,
  type ProtocolWire,
  SSE_HEADERS,
  splitText,
  sse,
  type WireReply,
} from './shared.ts';

function errorType(status: number): string {
  switch (status) {
    case 400:
      return 'invalid_request_error';
    case 401:
      return 'authentication_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 503:
    case 529:
      return 'overloaded_error';
    default:
      return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

function contentBlock(answer: MockAnswer): Record<string, unknown> {
  const tc = answer.toolCall;
  return tc
    ? { type: 'tool_use', id: mockId('toolu_', answer.seq), name: tc.name, input: tc.arguments }
    : { type: 'text', text: answer.text };
}

/** The signed thinking block a tool-call answer opens with when thinking is on. */
function thinkingBlocks(answer: MockAnswer): Record<string, unknown>[] {
  const thinking = answer.thinking;
  return thinking === undefined ? [] : [{ type: 'thinking', thinking, signature: mockSignature(thinking) }];
}

type Block = { type?: unknown; thinking?: unknown; signature?: unknown };

function blocksOf(content: unknown): Block[] {
  return Array.isArray(content) ? (content as Block[]) : [];
}

/** Content holds a block of `kind`: a tool call (`tool_use`) or a tool result. */
function holds(content: unknown, kind: 'tool_call' | 'tool_result'): boolean {
  const type = kind === 'tool_call' ? 'tool_use' : 'tool_result';
  return blocksOf(content).some((b) => b.type === type);
}

function usage(answer: MockAnswer, output: number): Record<string, unknown> {
  return {
    input_tokens: answer.usage.input,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    output_tokens: output,
    service_tier: 'standard',
  };
}

function stopReason(answer: MockAnswer): string {
  if (answer.toolCall) return 'tool_use';
  return answer.truncated ? 'max_tokens' : 'end_turn';
}

const HEADERS = { 'request-id': 'req_mock', 'anthropic-organization-id': 'org-mock' };

export const anthropicWire: ProtocolWire = {
  protocol: 'anthropic',

  declaresTools(body) {
    return nonEmptyArray(body?.tools);
  },

  nonStream(answer: MockAnswer): WireReply {
    const body = {
      id: mockId('msg_', answer.seq),
      type: 'message',
      role: 'assistant',
      model: answer.model,
      content: [...thinkingBlocks(answer), contentBlock(answer)],
      stop_reason: stopReason(answer),
      stop_sequence: null,
      usage: usage(answer, answer.usage.output),
    };
    return {
      status: 200,
      headers: { 'content-type': 'application/json', ...HEADERS },
      chunks: [JSON.stringify(body)],
    };
  },

  stream(answer: MockAnswer): WireReply {
    const chunks: string[] = [];
    const emit = (type: string, fields: Record<string, unknown>): void => {
      chunks.push(sse({ type, ...fields }, type));
    };
    emit('message_start', {
      message: {
        id: mockId('msg_', answer.seq),
        type: 'message',
        role: 'assistant',
        model: answer.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: usage(answer, 1),
      },
    });
    const tc = answer.toolCall;
    let index = 0;
    if (answer.thinking !== undefined) {
      emit('content_block_start', {
        index,
        content_block: { type: 'thinking', thinking: '', signature: '' },
      });
      for (const thinking of splitText(answer.thinking)) {
        emit('content_block_delta', { index, delta: { type: 'thinking_delta', thinking } });
      }
      emit('content_block_delta', {
        index,
        delta: { type: 'signature_delta', signature: mockSignature(answer.thinking) },
      });
      emit('content_block_stop', { index });
      index += 1;
    }
    if (tc) {
      emit('content_block_start', {
        index,
        content_block: { type: 'tool_use', id: mockId('toolu_', answer.seq), name: tc.name, input: {} },
      });
      emit('ping', {});
      for (const partial of splitText(JSON.stringify(tc.arguments))) {
        emit('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: partial } });
      }
    } else {
      emit('content_block_start', { index, content_block: { type: 'text', text: '' } });
      emit('ping', {});
      for (const text of splitText(answer.text)) {
        emit('content_block_delta', { index, delta: { type: 'text_delta', text } });
      }
    }
    emit('content_block_stop', { index });
    emit('message_delta', {
      delta: { stop_reason: stopReason(answer), stop_sequence: null },
      usage: { output_tokens: answer.usage.output },
    });
    emit('message_stop', {});
    return { status: 200, headers: { ...SSE_HEADERS, ...HEADERS }, chunks };
  },

  thinkingOn(body) {
    const type = (body.thinking as { type?: unknown } | undefined)?.type;
    return type === 'enabled' || type === 'adaptive';
  },

  refusal(body) {
    if (!this.thinkingOn?.(body)) return undefined;
    const messages = Array.isArray(body.messages) ? body.messages : [];
    const at = continuedToolTurn(messages, holds);
    if (at < 0) return undefined;
    const first = blocksOf((messages[at] as { content?: unknown }).content)[0];
    const where = `messages.${at}.content.0`;
    if (first?.type === 'thinking')
      return mockSignatureHolds(first.thinking, first.signature) ? undefined : invalidSignature(where);
    // The mock never issues redacted thinking, so none can be its own.
    if (first?.type === 'redacted_thinking')
      return `${where}: Invalid \`data\` in \`redacted_thinking\` block`;
    return missingThinking(where, String(first?.type ?? 'nothing'));
  },

  error(status: number, message: string): WireReply {
    return {
      status,
      headers: { 'content-type': 'application/json', ...HEADERS },
      chunks: [JSON.stringify({ type: 'error', error: { type: errorType(status), message } })],
    };
  },
};
