// What OpenAI Chat Completions refuses and the reader would otherwise coerce (issue 10, item 9a):
// the shapes of `ChatCompletionCreateParams` in the official SDK. Unknown top-level fields pass.

import {
  needArray,
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
  optStrings,
  pathOf,
  stringOrArray,
} from '../expect.ts';
import type { JsonObject, JsonValue } from '../ir.ts';

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);
const USER_PARTS = new Set(['text', 'image_url', 'input_audio', 'file']);
const TEXT_PARTS = new Set(['text']);
const ASSISTANT_PARTS = new Set(['text', 'refusal']);
const CALL_TYPES = new Set(['function', 'custom']);
const CHOICES = new Set(['none', 'auto', 'required']);
const FORMATS = new Set(['text', 'json_object', 'json_schema']);

function checkParts(parts: readonly JsonValue[], at: string, allowed: ReadonlySet<string>): void {
  for (let i = 0; i < parts.length; i++) {
    const part = objectIn(parts, i, at);
    const here = pathOf(at, i);
    const type = needOneOf(part, 'type', here, allowed);
    if (type === 'text') needString(part, 'text', here);
    else if (type === 'refusal') needString(part, 'refusal', here);
    else if (type === 'image_url')
      needString(needObject(part, 'image_url', here), 'url', pathOf(here, 'image_url'));
    else if (type === 'file') {
      const file = needObject(part, 'file', here);
      optString(file, 'file_data', pathOf(here, 'file'));
      optString(file, 'filename', pathOf(here, 'file'));
    }
  }
}

function checkToolCalls(calls: readonly JsonValue[], at: string): void {
  for (let i = 0; i < calls.length; i++) {
    const call = objectIn(calls, i, at);
    const here = pathOf(at, i);
    needString(call, 'id', here);
    if (needOneOf(call, 'type', here, CALL_TYPES) !== 'function') continue;
    const fn = needObject(call, 'function', here);
    needString(fn, 'name', pathOf(here, 'function'));
    needString(fn, 'arguments', pathOf(here, 'function'));
  }
}

function checkMessage(msg: JsonObject, at: string): void {
  const role = needOneOf(msg, 'role', at, ROLES);
  if (role === 'assistant') {
    // Content may be absent or null when the turn is tool calls only.
    if (msg.content !== undefined && msg.content !== null) {
      const list = stringOrArray(msg, 'content', at);
      if (list) checkParts(list, pathOf(at, 'content'), ASSISTANT_PARTS);
    }
    optString(msg, 'refusal', at);
    const calls = optArray(msg, 'tool_calls', at);
    if (calls) checkToolCalls(calls, pathOf(at, 'tool_calls'));
    return;
  }
  if (role === 'function') return;
  const list = stringOrArray(msg, 'content', at);
  if (list) checkParts(list, pathOf(at, 'content'), role === 'user' ? USER_PARTS : TEXT_PARTS);
  if (role === 'tool') needString(msg, 'tool_call_id', at);
}

/** Function tools as Chat Completions nests them (`function.name`, `function.parameters`). */
function checkTools(tools: readonly JsonValue[]): void {
  for (let i = 0; i < tools.length; i++) {
    const tool = objectIn(tools, i, 'tools');
    const at = pathOf('tools', i);
    if (needOneOf(tool, 'type', at, CALL_TYPES) !== 'function') continue;
    const fn = needObject(tool, 'function', at);
    const here = pathOf(at, 'function');
    needString(fn, 'name', here);
    optString(fn, 'description', here);
    optObject(fn, 'parameters', here);
    optBoolean(fn, 'strict', here);
  }
}

function checkToolChoice(body: JsonObject): void {
  const choice = body.tool_choice;
  if (choice === undefined || choice === null) return;
  if (typeof choice === 'string') {
    needOneOf(body, 'tool_choice', '', CHOICES);
    return;
  }
  const obj = needObject(body, 'tool_choice', '');
  const type = needString(obj, 'type', 'tool_choice');
  if (type === 'function')
    needString(needObject(obj, 'function', 'tool_choice'), 'name', 'tool_choice.function');
  if (type === 'allowed_tools') needObject(obj, 'allowed_tools', 'tool_choice');
}

export function checkOpenAIRequest(body: JsonObject): void {
  const messages = needArray(body, 'messages', '');
  for (let i = 0; i < messages.length; i++)
    checkMessage(objectIn(messages, i, 'messages'), pathOf('messages', i));
  const tools = optArray(body, 'tools', '');
  if (tools) checkTools(tools);
  checkToolChoice(body);
  optBoolean(body, 'parallel_tool_calls', '');
  optInteger(body, 'max_tokens', '');
  optInteger(body, 'max_completion_tokens', '');
  optNumber(body, 'temperature', '');
  optNumber(body, 'top_p', '');
  optNumber(body, 'top_k', '');
  optStrings(body, 'stop', '', true);
  const options = optObject(body, 'stream_options', '');
  if (options) optBoolean(options, 'include_usage', 'stream_options');
  const format = optObject(body, 'response_format', '');
  if (format && needOneOf(format, 'type', 'response_format', FORMATS) === 'json_schema') {
    const spec = needObject(format, 'json_schema', 'response_format');
    needString(spec, 'name', 'response_format.json_schema');
    optObject(spec, 'schema', 'response_format.json_schema');
    optBoolean(spec, 'strict', 'response_format.json_schema');
  }
  optString(body, 'reasoning_effort', '');
  optString(body, 'user', '');
  optObject(body, 'metadata', '');
}
