// Cohere v2 chat wire shapes (chat response, typed SSE events with object-shaped content deltas).

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

function usage(answer: MockAnswer): Record<string, unknown> {
  const counts = { input_tokens: answer.usage.input, output_tokens: answer.usage.output };
  return { billed_units: { ...counts }, tokens: { ...counts } };
}

function finishReason(answer: MockAnswer): string {
  if (answer.toolCall) return 'TOOL_CALL';
  return answer.truncated ? 'MAX_TOKENS' : 'COMPLETE';
}

const HEADERS = { 'x-trial-endpoint-call-remaining': '999', num_tokens: '18' };

export const cohereWire: ProtocolWire = {
  protocol: 'cohere',

  declaresTools(body) {
    return nonEmptyArray(body?.tools);
  },

  nonStream(answer: MockAnswer): WireReply {
    const tc = answer.toolCall;
    const message: Record<string, unknown> = tc
      ? {
          role: 'assistant',
          tool_plan: `I will call ${tc.name}.`,
          tool_calls: [
            {
              id: mockId(`${tc.name}_`, answer.seq, 16),
              type: 'function',
              function: { name: tc.name, arguments: JSON.stringify(tc.arguments) },
            },
          ],
        }
      : { role: 'assistant', content: [{ type: 'text', text: answer.text }] };
    const body = {
      id: mockId('', answer.seq, 36),
      message,
      finish_reason: finishReason(answer),
      usage: usage(answer),
    };
    return {
      status: 200,
      headers: { 'content-type': 'application/json', ...HEADERS },
      chunks: [JSON.stringify(body)],
    };
  },

  stream(answer: MockAnswer): WireReply {
    const id = mockId('', answer.seq, 36);
    const chunks: string[] = [];
    const emit = (type: string, fields: Record<string, unknown>): void => {
      chunks.push(sse({ type, ...fields }, type));
    };
    emit('message-start', {
      id,
      delta: { message: { role: 'assistant', content: [], tool_plan: '', tool_calls: [], citations: [] } },
    });
    const tc = answer.toolCall;
    if (tc) {
      for (const piece of splitText(`I will call ${tc.name}.`)) {
        emit('tool-plan-delta', { delta: { message: { tool_plan: piece } } });
      }
      emit('tool-call-start', {
        index: 0,
        delta: {
          message: {
            tool_calls: {
              id: mockId(`${tc.name}_`, answer.seq, 16),
              type: 'function',
              function: { name: tc.name, arguments: '' },
            },
          },
        },
      });
      for (const piece of splitText(JSON.stringify(tc.arguments))) {
        emit('tool-call-delta', {
          index: 0,
          delta: { message: { tool_calls: { function: { arguments: piece } } } },
        });
      }
      emit('tool-call-end', { index: 0 });
    } else {
      emit('content-start', { index: 0, delta: { message: { content: { type: 'text', text: '' } } } });
      for (const text of splitText(answer.text)) {
        // The object shape `delta.message.content = {text}` (not an array) is the real wire (P-XLT-10).
        emit('content-delta', { index: 0, delta: { message: { content: { text } } } });
      }
      emit('content-end', { index: 0 });
    }
    emit('message-end', {
      id,
      delta: { finish_reason: finishReason(answer), usage: usage(answer) },
    });
    return { status: 200, headers: { ...SSE_HEADERS, ...HEADERS }, chunks };
  },

  error(status: number, message: string): WireReply {
    return {
      status,
      headers: { 'content-type': 'application/json' },
      chunks: [JSON.stringify({ id: mockId('', status, 36), message })],
    };
  },
};
