// OpenAI Responses non-stream responses: `response` object ↔ IR.Response. Output items carry `id`,
// `status` and `annotations` exactly like the streamed ones (P-XLT-10).

import type { ResponseFacts } from '../codec.ts';
import { mintId } from '../ids.ts';
import type { ContentBlock, JsonObject, JsonValue, Response, StopReason, Usage } from '../ir.ts';
import { arr, count, field, isObject, str } from '../json-access.ts';
import { parseToolArguments } from '../openai/request.ts';
import { nativeToolId } from '../tool-ids.ts';

export function usageFromResponsesUsage(usage: JsonValue | undefined): Usage | undefined {
  if (!isObject(usage)) return undefined;
  const input = count(usage.input_tokens);
  const output = count(usage.output_tokens);
  if (input === undefined && output === undefined) return undefined;
  const read = count(field(usage.input_tokens_details, 'cached_tokens'));
  const write = count(field(usage.input_tokens_details, 'cache_write_tokens'));
  const reasoning = count(field(usage.output_tokens_details, 'reasoning_tokens'));
  const total = count(usage.total_tokens);
  return {
    inputTokens: input ?? 0,
    outputTokens: output ?? 0,
    ...(read ? { cacheReadInputTokens: read } : {}),
    ...(write ? { cacheCreationInputTokens: write } : {}),
    ...(reasoning ? { reasoningTokens: reasoning } : {}),
    ...(total !== undefined ? { totalTokens: total } : {}),
  };
}

export function responsesUsage(u: Usage): JsonObject {
  return {
    input_tokens: u.inputTokens,
    input_tokens_details: {
      cached_tokens: u.cacheReadInputTokens ?? 0,
      cache_write_tokens: u.cacheCreationInputTokens ?? 0,
    },
    output_tokens: u.outputTokens,
    output_tokens_details: { reasoning_tokens: u.reasoningTokens ?? 0 },
    total_tokens: u.totalTokens ?? u.inputTokens + u.outputTokens,
  };
}

export function usageFromResponsesResponse(body: JsonValue): Usage | undefined {
  return usageFromResponsesUsage(field(body, 'usage'));
}

/** Canonical stop reason from a response's status, incomplete reason and whether it called tools. */
export function stopFromStatus(
  status: string | undefined,
  reason: string | undefined,
  sawCall: boolean,
): StopReason {
  if (status === 'incomplete') return reason === 'content_filter' ? 'content_filter' : 'max_tokens';
  if (status === 'failed' || status === 'cancelled') return 'error';
  return sawCall ? 'tool_use' : 'end_turn';
}

/** Status, incomplete_details and error for a stop reason. */
export function statusOf(stop: StopReason): {
  status: string;
  incomplete_details: JsonValue;
  error: JsonValue;
} {
  if (stop === 'max_tokens') {
    return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, error: null };
  }
  if (stop === 'content_filter') {
    return { status: 'incomplete', incomplete_details: { reason: 'content_filter' }, error: null };
  }
  if (stop === 'error') {
    return {
      status: 'failed',
      incomplete_details: null,
      error: { code: 'server_error', message: 'The model failed.' },
    };
  }
  return { status: 'completed', incomplete_details: null, error: null };
}

export function reasoningText(item: JsonValue): string {
  const summary = arr(field(item, 'summary')).map((s) => str(field(s, 'text')) ?? '');
  const content = arr(field(item, 'content')).map((s) => str(field(s, 'text')) ?? '');
  return (summary.length > 0 ? summary : content).join('\n\n');
}

/** The status, with the incomplete reason; a function call makes a completed answer `tool_use`. */
function responsesStop(body: JsonValue): StopReason {
  const sawCall = arr(field(body, 'output')).some((item) => str(field(item, 'type')) === 'function_call');
  const reason = str(field(field(body, 'incomplete_details'), 'reason'));
  return stopFromStatus(str(field(body, 'status')), reason, sawCall);
}

export function responsesAnswerFacts(body: JsonValue): ResponseFacts {
  return { model: str(field(body, 'model')) ?? '', stopReason: responsesStop(body) };
}

export function readResponsesResponse(body: JsonValue): Response {
  const content: ContentBlock[] = [];
  for (const item of arr(field(body, 'output'))) {
    const type = str(field(item, 'type'));
    if (type === 'message') {
      for (const part of arr(field(item, 'content'))) {
        const text = str(field(part, 'text')) ?? str(field(part, 'refusal'));
        if (text === undefined) continue;
        const annotations = field(part, 'annotations');
        content.push({
          type: 'text',
          text,
          ...(Array.isArray(annotations) && annotations.length > 0 ? { citations: annotations } : {}),
        });
      }
    } else if (type === 'reasoning') {
      const signature = str(field(item, 'encrypted_content'));
      const thinking = reasoningText(item);
      // A reasoning item with neither summary nor encrypted content carries nothing.
      if (thinking !== '' || signature)
        content.push({ type: 'thinking', thinking, ...(signature ? { signature } : {}) });
    } else if (type === 'function_call') {
      content.push({
        type: 'tool_use',
        id: str(field(item, 'call_id')) ?? '',
        name: str(field(item, 'name')) ?? '',
        input: parseToolArguments(field(item, 'arguments')),
      });
    }
  }
  const created = count(field(body, 'created_at'));
  return {
    id: str(field(body, 'id')) ?? '',
    model: str(field(body, 'model')) ?? '',
    content,
    stopReason: responsesStop(body),
    usage: usageFromResponsesResponse(body) ?? { inputTokens: 0, outputTokens: 0 },
    ...(created !== undefined ? { created } : {}),
  };
}

export function outputText(text: string): JsonObject {
  return { type: 'output_text', text, annotations: [], logprobs: [] };
}

export function reasoningItem(
  id: string,
  thinking: string,
  signature: string | undefined,
  status: string,
): JsonObject {
  const item: JsonObject = {
    id,
    type: 'reasoning',
    summary: thinking === '' ? [] : [{ type: 'summary_text', text: thinking }],
    status,
  };
  if (signature) item.encrypted_content = signature;
  return item;
}

export function functionCallItem(
  id: string,
  callId: string,
  name: string,
  args: string,
  status: string,
): JsonObject {
  return { id, type: 'function_call', status, arguments: args, call_id: nativeToolId(callId, 'call_'), name };
}

/** Output items for IR content: consecutive text blocks share one assistant message. */
export function outputItems(content: readonly ContentBlock[], itemStatus: string): JsonObject[] {
  const items: JsonObject[] = [];
  let message: JsonValue[] | undefined;
  for (const b of content) {
    if (b.type === 'text') {
      if (message === undefined) {
        message = [];
        items.push({
          id: mintId('msg_'),
          type: 'message',
          status: itemStatus,
          role: 'assistant',
          content: message,
        });
      }
      const part = outputText(b.text);
      if (b.citations) part.annotations = [...b.citations];
      message.push(part);
      continue;
    }
    message = undefined;
    if (b.type === 'thinking') items.push(reasoningItem(mintId('rs_'), b.thinking, b.signature, 'completed'));
    else if (b.type === 'redacted_thinking')
      items.push(reasoningItem(mintId('rs_'), '', b.data, 'completed'));
    else if (b.type === 'tool_use') {
      items.push(functionCallItem(mintId('fc_'), b.id, b.name, JSON.stringify(b.input), 'completed'));
    }
  }
  return items;
}

/** The `response` object shared by the non-stream body and the stream's lifecycle events. */
export function responseObject(
  id: string,
  model: string,
  created: number,
  fields: { status: string; incomplete_details: JsonValue; error: JsonValue },
  output: JsonValue[],
  usage: Usage | undefined,
): JsonObject {
  return {
    id,
    object: 'response',
    created_at: created,
    status: fields.status,
    error: fields.error,
    incomplete_details: fields.incomplete_details,
    instructions: null,
    max_output_tokens: null,
    model,
    output,
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: false,
    temperature: null,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: [],
    top_p: null,
    truncation: 'disabled',
    // Optional, not nullable, in the SDK's Response type: absent until it is known.
    ...(usage !== undefined && { usage: responsesUsage(usage) }),
    metadata: {},
  };
}

export function writeResponsesResponse(res: Response): JsonObject {
  const fields = statusOf(res.stopReason);
  const itemStatus = fields.status === 'incomplete' ? 'incomplete' : 'completed';
  return responseObject(
    mintId('resp_'),
    res.model,
    res.created ?? Math.floor(Date.now() / 1000),
    fields,
    outputItems(res.content, itemStatus),
    res.usage,
  );
}
