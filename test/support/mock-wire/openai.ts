// OpenAI Chat Completions wire shapes (chat.completion, chat.completion.chunk SSE, error envelope).

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
    prompt_tokens: answer.usage.input,
    completion_tokens: answer.usage.output,
    total_tokens: answer.usage.input + answer.usage.output,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

export function openaiErrorType(status: number): { type: string; code: string | null } {
  switch (status) {
    case 400:
      return { type: 'invalid_request_error', code: null };
    case 401:
      return { type: 'authentication_error', code: 'invalid_api_key' };
    case 403:
      return { type: 'permission_error', code: null };
    case 404:
      return { type: 'not_found_error', code: 'model_not_found' };
    case 413:
      return { type: 'invalid_request_error', code: 'request_too_large' };
    case 429:
      return { type: 'rate_limit_error', code: 'rate_limit_exceeded' };
    case 503:
      return { type: 'overloaded_error', code: null };
    case 504:
      return { type: 'timeout', code: null };
    default:
      return status >= 500
        ? { type: 'api_error', code: null }
        : { type: 'invalid_request_error', code: null };
  }
}

/** The `{"error":{message,type,param,code}}` envelope shared by Chat Completions and Responses. */
export function openaiError(status: number, message: string): WireReply {
  const { type, code } = openaiErrorType(status);
  return {
    status,
    headers: { 'content-type': 'application/json', 'x-request-id': 'req_mockerror' },
    chunks: [JSON.stringify({ error: { message, type, param: null, code } })],
  };
}

export const openaiWire: ProtocolWire = {
  protocol: 'openai',

  declaresTools(body) {
    return nonEmptyArray(body?.tools);
  },

  nonStream(answer: MockAnswer): WireReply {
    const tc = answer.toolCall;
    const message: Record<string, unknown> = tc
      ? {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: mockId('call_', answer.seq),
              type: 'function',
              function: { name: tc.name, arguments: JSON.stringify(tc.arguments) },
            },
          ],
          refusal: null,
          annotations: [],
        }
      : { role: 'assistant', content: answer.text, refusal: null, annotations: [] };
    const body = {
      id: mockId('chatcmpl-', answer.seq),
      object: 'chat.completion',
      created: MOCK_CREATED,
      model: answer.model,
      choices: [
        {
          index: 0,
          message,
          logprobs: null,
          finish_reason: tc ? 'tool_calls' : answer.truncated ? 'length' : 'stop',
        },
      ],
      usage: usage(answer),
      service_tier: 'default',
      system_fingerprint: 'fp_mock',
    };
    return {
      status: 200,
      headers: { 'content-type': 'application/json', 'x-request-id': 'req_mock' },
      chunks: [JSON.stringify(body)],
    };
  },

  stream(answer: MockAnswer, ctx: StreamContext): WireReply {
    const streamOptions = ctx.body?.stream_options as Record<string, unknown> | undefined;
    const includeUsage = streamOptions?.include_usage === true;
    const id = mockId('chatcmpl-', answer.seq);
    const chunk = (delta: Record<string, unknown>, finish: string | null): string => {
      const c: Record<string, unknown> = {
        id,
        object: 'chat.completion.chunk',
        created: MOCK_CREATED,
        model: answer.model,
        service_tier: 'default',
        system_fingerprint: 'fp_mock',
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      };
      if (includeUsage) c.usage = null;
      return sse(c);
    };
    const chunks: string[] = [];
    const tc = answer.toolCall;
    if (tc) {
      chunks.push(
        chunk(
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                index: 0,
                id: mockId('call_', answer.seq),
                type: 'function',
                function: { name: tc.name, arguments: '' },
              },
            ],
            refusal: null,
          },
          null,
        ),
      );
      for (const piece of splitText(JSON.stringify(tc.arguments))) {
        chunks.push(chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] }, null));
      }
      chunks.push(chunk({}, 'tool_calls'));
    } else {
      chunks.push(chunk({ role: 'assistant', content: '', refusal: null }, null));
      for (const piece of splitText(answer.text)) chunks.push(chunk({ content: piece }, null));
      chunks.push(chunk({}, answer.truncated ? 'length' : 'stop'));
    }
    if (includeUsage) {
      chunks.push(
        sse({
          id,
          object: 'chat.completion.chunk',
          created: MOCK_CREATED,
          model: answer.model,
          service_tier: 'default',
          system_fingerprint: 'fp_mock',
          choices: [],
          usage: usage(answer),
        }),
      );
    }
    chunks.push(sse('[DONE]'));
    return { status: 200, headers: { ...SSE_HEADERS, 'x-request-id': 'req_mock' }, chunks };
  },

  error: openaiError,
};
