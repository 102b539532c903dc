// Anthropic Messages wire shapes (message object, named-event SSE with ping, error envelope).

import {
  type MockAnswer,
  mockId,
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
      content: [contentBlock(answer)],
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
    if (tc) {
      emit('content_block_start', {
        index: 0,
        content_block: { type: 'tool_use', id: mockId('toolu_', answer.seq), name: tc.name, input: {} },
      });
      emit('ping', {});
      for (const partial of splitText(JSON.stringify(tc.arguments))) {
        emit('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: partial } });
      }
    } else {
      emit('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
      emit('ping', {});
      for (const text of splitText(answer.text)) {
        emit('content_block_delta', { index: 0, delta: { type: 'text_delta', text } });
      }
    }
    emit('content_block_stop', { index: 0 });
    emit('message_delta', {
      delta: { stop_reason: stopReason(answer), stop_sequence: null },
      usage: { output_tokens: answer.usage.output },
    });
    emit('message_stop', {});
    return { status: 200, headers: { ...SSE_HEADERS, ...HEADERS }, chunks };
  },

  error(status: number, message: string): WireReply {
    return {
      status,
      headers: { 'content-type': 'application/json', ...HEADERS },
      chunks: [JSON.stringify({ type: 'error', error: { type: errorType(status), message } })],
    };
  },
};
