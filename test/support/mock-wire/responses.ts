// OpenAI Responses wire shapes (response object, typed SSE events with sequence_number).

import { openaiError } from './openai.ts';
import {
  MOCK_CREATED,
  type MockAnswer,
  mockId,
  nonEmptyArray,
  type ProtocolWire,
  SSE_HEADERS,
  type StreamContext,
  splitText,
  sse,
  type WireReply,
} from './shared.ts';

function usage(answer: MockAnswer): Record<string, unknown> {
  return {
    input_tokens: answer.usage.input,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: answer.usage.output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: answer.usage.input + answer.usage.output,
  };
}

/** `completed`, or `incomplete` when the answer hit the output-token limit. */
function finalStatus(answer: MockAnswer): string {
  return answer.truncated && !answer.toolCall ? 'incomplete' : 'completed';
}

function outputItem(answer: MockAnswer, done: boolean): Record<string, unknown> {
  const status = done ? finalStatus(answer) : 'in_progress';
  const tc = answer.toolCall;
  if (tc) {
    return {
      id: mockId('fc_', answer.seq),
      type: 'function_call',
      status,
      arguments: done ? JSON.stringify(tc.arguments) : '',
      call_id: mockId('call_', answer.seq),
      name: tc.name,
    };
  }
  return {
    id: mockId('msg_', answer.seq),
    type: 'message',
    status,
    content: done ? [textPart(answer.text)] : [],
    role: 'assistant',
  };
}

function textPart(text: string): Record<string, unknown> {
  return { type: 'output_text', annotations: [], logprobs: [], text };
}

function responseObject(answer: MockAnswer, body: Record<string, unknown> | undefined, done: boolean) {
  return {
    id: mockId('resp_', answer.seq),
    object: 'response',
    created_at: MOCK_CREATED,
    status: done ? finalStatus(answer) : 'in_progress',
    background: false,
    error: null,
    incomplete_details: done && finalStatus(answer) === 'incomplete' ? { reason: 'max_output_tokens' } : null,
    instructions: typeof body?.instructions === 'string' ? body.instructions : null,
    max_output_tokens: typeof body?.max_output_tokens === 'number' ? body.max_output_tokens : null,
    model: answer.model,
    output: done ? [outputItem(answer, true)] : [],
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    service_tier: 'default',
    store: true,
    temperature: 1,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: Array.isArray(body?.tools) ? body.tools : [],
    top_p: 1,
    truncation: 'disabled',
    usage: done ? usage(answer) : null,
    user: null,
    metadata: {},
  };
}

export const responsesWire: ProtocolWire = {
  protocol: 'responses',

  declaresTools(body) {
    return nonEmptyArray(body?.tools);
  },

  nonStream(answer: MockAnswer, ctx: StreamContext): WireReply {
    return {
      status: 200,
      headers: { 'content-type': 'application/json', 'x-request-id': 'req_mock' },
      chunks: [JSON.stringify(responseObject(answer, ctx.body, true))],
    };
  },

  stream(answer: MockAnswer, ctx: StreamContext): WireReply {
    let seq = 0;
    const chunks: string[] = [];
    const emit = (type: string, fields: Record<string, unknown>): void => {
      chunks.push(sse({ type, ...fields, sequence_number: seq++ }, type));
    };
    emit('response.created', { response: responseObject(answer, ctx.body, false) });
    emit('response.in_progress', { response: responseObject(answer, ctx.body, false) });
    emit('response.output_item.added', { output_index: 0, item: outputItem(answer, false) });
    const tc = answer.toolCall;
    if (tc) {
      const itemId = mockId('fc_', answer.seq);
      const args = JSON.stringify(tc.arguments);
      for (const delta of splitText(args)) {
        emit('response.function_call_arguments.delta', { item_id: itemId, output_index: 0, delta });
      }
      emit('response.function_call_arguments.done', {
        item_id: itemId,
        output_index: 0,
        name: tc.name,
        arguments: args,
      });
    } else {
      const itemId = mockId('msg_', answer.seq);
      const where = { item_id: itemId, output_index: 0, content_index: 0 };
      emit('response.content_part.added', { ...where, part: textPart('') });
      for (const delta of splitText(answer.text)) {
        emit('response.output_text.delta', { ...where, delta, logprobs: [] });
      }
      emit('response.output_text.done', { ...where, text: answer.text, logprobs: [] });
      emit('response.content_part.done', { ...where, part: textPart(answer.text) });
    }
    emit('response.output_item.done', { output_index: 0, item: outputItem(answer, true) });
    const last = finalStatus(answer) === 'incomplete' ? 'response.incomplete' : 'response.completed';
    emit(last, { response: responseObject(answer, ctx.body, true) });
    return { status: 200, headers: { ...SSE_HEADERS, 'x-request-id': 'req_mock' }, chunks };
  },

  error: openaiError,
};
