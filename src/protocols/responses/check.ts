// What the OpenAI Responses API refuses and the reader would otherwise coerce (issue 10, item 9a):
// the shapes of `ResponseCreateParams` in the official SDK. Item types without an IR form (hosted
// tool calls, item references, …) are many and growing; only their `type` is checked.

import {
  needObject,
  needOneOf,
  needString,
  objectIn,
  optArray,
  optBoolean,
  optInteger,
  optNumber,
  optObject,
  optString,
  pathOf,
  stringOrArray,
} from '../expect.ts';
import type { JsonObject, JsonValue } from '../ir.ts';

const ROLES = new Set(['user', 'assistant', 'system', 'developer']);
const PARTS = new Set([
  'input_text',
  'input_image',
  'input_file',
  'input_audio',
  'output_text',
  'refusal',
  'text',
]);
const CHOICES = new Set(['none', 'auto', 'required']);
const FORMATS = new Set(['text', 'json_object', 'json_schema']);

function checkParts(parts: readonly JsonValue[], at: string): void {
  for (let i = 0; i < parts.length; i++) {
    const part = objectIn(parts, i, at);
    const here = pathOf(at, i);
    const type = needOneOf(part, 'type', here, PARTS);
    if (type === 'input_text' || type === 'output_text' || type === 'text') needString(part, 'text', here);
    else if (type === 'refusal') needString(part, 'refusal', here);
    else if (type === 'input_image') optString(part, 'image_url', here);
    else if (type === 'input_file') {
      optString(part, 'file_data', here);
      optString(part, 'file_url', here);
      optString(part, 'filename', here);
    }
  }
}

function checkItem(item: JsonObject, at: string): void {
  const type = optString(item, 'type', at) ?? 'message';
  if (type === 'message') {
    needOneOf(item, 'role', at, ROLES);
    const parts = stringOrArray(item, 'content', at);
    if (parts) checkParts(parts, pathOf(at, 'content'));
  } else if (type === 'function_call') {
    needString(item, 'call_id', at);
    needString(item, 'name', at);
    needString(item, 'arguments', at);
  } else if (type === 'function_call_output') {
    needString(item, 'call_id', at);
    const parts = stringOrArray(item, 'output', at);
    if (parts) checkParts(parts, pathOf(at, 'output'));
  } else if (type === 'reasoning') {
    for (const key of ['summary', 'content']) {
      const list = optArray(item, key, at) ?? [];
      for (let i = 0; i < list.length; i++)
        needString(objectIn(list, i, pathOf(at, key)), 'text', pathOf(pathOf(at, key), i));
    }
    optString(item, 'encrypted_content', at);
  }
}

function checkTools(tools: readonly JsonValue[]): void {
  for (let i = 0; i < tools.length; i++) {
    const tool = objectIn(tools, i, 'tools');
    const at = pathOf('tools', i);
    if (needString(tool, 'type', at) !== 'function') continue;
    needString(tool, 'name', at);
    optString(tool, 'description', at);
    optObject(tool, 'parameters', at);
    optBoolean(tool, 'strict', at);
  }
}

function checkToolChoice(body: JsonObject): void {
  if (typeof body.tool_choice === 'string') {
    needOneOf(body, 'tool_choice', '', CHOICES);
    return;
  }
  const choice = optObject(body, 'tool_choice', '');
  if (choice === undefined) return;
  const type = needString(choice, 'type', 'tool_choice');
  if (type === 'function') needString(choice, 'name', 'tool_choice');
  if (type === 'allowed_tools') needString(choice, 'mode', 'tool_choice');
}

export function checkResponsesRequest(body: JsonObject): void {
  if (body.input !== undefined && body.input !== null) {
    const items = stringOrArray(body, 'input', '') ?? [];
    for (let i = 0; i < items.length; i++) checkItem(objectIn(items, i, 'input'), pathOf('input', i));
  }
  optString(body, 'instructions', '');
  const tools = optArray(body, 'tools', '');
  if (tools) checkTools(tools);
  checkToolChoice(body);
  optBoolean(body, 'parallel_tool_calls', '');
  optInteger(body, 'max_output_tokens', '');
  optNumber(body, 'temperature', '');
  optNumber(body, 'top_p', '');
  const format = optObject(optObject(body, 'text', '') ?? {}, 'format', 'text');
  if (format && needOneOf(format, 'type', 'text.format', FORMATS) === 'json_schema') {
    needString(format, 'name', 'text.format');
    needObject(format, 'schema', 'text.format');
    optBoolean(format, 'strict', 'text.format');
  }
  optString(optObject(body, 'reasoning', '') ?? {}, 'effort', 'reasoning');
  optString(body, 'user', '');
  optObject(body, 'metadata', '');
}
