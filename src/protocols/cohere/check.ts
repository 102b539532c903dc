// What Cohere v2 chat refuses and the reader would otherwise coerce (issue 10, item 9a): the shapes
// of `V2ChatRequest` in the official SDK (snake_case on the wire).

import {
  needArray,
  needObject,
  needOneOf,
  needString,
  objectIn,
  optArray,
  optInteger,
  optNumber,
  optObject,
  optOneOf,
  optString,
  optStrings,
  pathOf,
  stringOrArray,
} from '../expect.ts';
import type { JsonObject, JsonValue } from '../ir.ts';

const ROLES = new Set(['user', 'assistant', 'system', 'tool']);
/** Content item types by role (`document` in user content is older API, still read). */
const PARTS: Record<string, ReadonlySet<string>> = {
  user: new Set(['text', 'image_url', 'document']),
  assistant: new Set(['text', 'thinking']),
  system: new Set(['text']),
  tool: new Set(['text', 'document']),
};
const CHOICES = new Set(['REQUIRED', 'NONE']);
const FORMATS = new Set(['text', 'json_object']);
const THINKING = new Set(['enabled', 'disabled']);
const FUNCTION = new Set(['function']);

function checkParts(parts: readonly JsonValue[], at: string, allowed: ReadonlySet<string>): void {
  for (let i = 0; i < parts.length; i++) {
    const part = objectIn(parts, i, at);
    const here = pathOf(at, i);
    const type = needOneOf(part, 'type', here, allowed);
    if (type === 'text') needString(part, 'text', here);
    else if (type === 'thinking') needString(part, 'thinking', here);
    else if (type === 'document') needObject(part, 'document', here);
    else if (type === 'image_url' && typeof part.image_url !== 'string')
      needString(needObject(part, 'image_url', here), 'url', pathOf(here, 'image_url'));
  }
}

function checkToolCalls(calls: readonly JsonValue[], at: string): void {
  for (let i = 0; i < calls.length; i++) {
    const call = objectIn(calls, i, at);
    const here = pathOf(at, i);
    needString(call, 'id', here);
    optOneOf(call, 'type', here, FUNCTION);
    const fn = optObject(call, 'function', here);
    if (fn === undefined) continue;
    optString(fn, 'name', pathOf(here, 'function'));
    optString(fn, 'arguments', pathOf(here, 'function'));
  }
}

function checkMessage(msg: JsonObject, at: string): void {
  const role = needOneOf(msg, 'role', at, ROLES);
  const allowed = PARTS[role]!;
  if (role === 'assistant') {
    if (msg.content !== undefined && msg.content !== null) {
      const parts = stringOrArray(msg, 'content', at);
      if (parts) checkParts(parts, pathOf(at, 'content'), allowed);
    }
    optString(msg, 'tool_plan', at);
    const calls = optArray(msg, 'tool_calls', at);
    if (calls) checkToolCalls(calls, pathOf(at, 'tool_calls'));
    return;
  }
  const parts = stringOrArray(msg, 'content', at);
  if (parts) checkParts(parts, pathOf(at, 'content'), allowed);
  if (role === 'tool') needString(msg, 'tool_call_id', at);
}

function checkTools(tools: readonly JsonValue[]): void {
  for (let i = 0; i < tools.length; i++) {
    const tool = objectIn(tools, i, 'tools');
    const at = pathOf('tools', i);
    needOneOf(tool, 'type', at, FUNCTION);
    const fn = needObject(tool, 'function', at);
    const here = pathOf(at, 'function');
    needString(fn, 'name', here);
    optString(fn, 'description', here);
    optObject(fn, 'parameters', here);
  }
}

export function checkCohereRequest(body: JsonObject): void {
  const messages = needArray(body, 'messages', '');
  for (let i = 0; i < messages.length; i++)
    checkMessage(objectIn(messages, i, 'messages'), pathOf('messages', i));
  const tools = optArray(body, 'tools', '');
  if (tools) checkTools(tools);
  optOneOf(body, 'tool_choice', '', CHOICES);
  optInteger(body, 'max_tokens', '');
  optNumber(body, 'temperature', '');
  optNumber(body, 'p', '');
  optNumber(body, 'k', '');
  optStrings(body, 'stop_sequences', '');
  const format = optObject(body, 'response_format', '');
  if (format) {
    needOneOf(format, 'type', 'response_format', FORMATS);
    optObject(format, 'json_schema', 'response_format');
  }
  const thinking = optObject(body, 'thinking', '');
  if (thinking) {
    needOneOf(thinking, 'type', 'thinking', THINKING);
    optInteger(thinking, 'token_budget', 'thinking');
  }
}
