// What Anthropic Messages refuses and the reader would otherwise coerce (issue 10, item 9a): the
// shapes of `MessageCreateParams` in the official SDK. Block and tool types without an IR form
// (server tools, search results, beta blocks) are many and growing; only their `type` is checked.

import {
  needArray,
  needInteger,
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

const ROLES = new Set(['user', 'assistant', 'system']);
const CHOICES = new Set(['auto', 'any', 'tool', 'none']);
const TEXT = new Set(['text']);

function checkSource(block: JsonObject, at: string): void {
  const source = needObject(block, 'source', at);
  const here = pathOf(at, 'source');
  const kind = needString(source, 'type', here);
  if (kind === 'base64') {
    needString(source, 'media_type', here);
    needString(source, 'data', here);
  } else if (kind === 'url') needString(source, 'url', here);
  else if (kind === 'text') needString(source, 'data', here);
  else if (kind === 'content') {
    const parts = stringOrArray(source, 'content', here);
    if (parts) checkBlocks(parts, pathOf(here, 'content'));
  }
}

function checkBlock(block: JsonObject, at: string): void {
  switch (needString(block, 'type', at)) {
    case 'text':
      needString(block, 'text', at);
      optArray(block, 'citations', at);
      break;
    case 'image':
    case 'document':
      checkSource(block, at);
      optString(block, 'title', at);
      break;
    case 'thinking':
      needString(block, 'thinking', at);
      needString(block, 'signature', at);
      break;
    case 'redacted_thinking':
      needString(block, 'data', at);
      break;
    case 'tool_use':
      needString(block, 'id', at);
      needString(block, 'name', at);
      needObject(block, 'input', at);
      break;
    case 'tool_result': {
      needString(block, 'tool_use_id', at);
      optBoolean(block, 'is_error', at);
      const content = block.content;
      if (content === undefined || content === null) break;
      const parts = stringOrArray(block, 'content', at);
      if (parts) checkBlocks(parts, pathOf(at, 'content'));
      break;
    }
  }
  optObject(block, 'cache_control', at);
}

function checkBlocks(blocks: readonly JsonValue[], at: string): void {
  for (let i = 0; i < blocks.length; i++) checkBlock(objectIn(blocks, i, at), pathOf(at, i));
}

function checkTools(tools: readonly JsonValue[]): void {
  for (let i = 0; i < tools.length; i++) {
    const tool = objectIn(tools, i, 'tools');
    const at = pathOf('tools', i);
    needString(tool, 'name', at);
    // Server tools (`web_search_20250305`, …) carry a type and no input_schema.
    const type = optString(tool, 'type', at);
    if (type !== undefined && type !== 'custom') continue;
    needObject(tool, 'input_schema', at);
    optString(tool, 'description', at);
  }
}

export function checkAnthropicRequest(body: JsonObject): void {
  needInteger(body, 'max_tokens', '');
  const messages = needArray(body, 'messages', '');
  for (let i = 0; i < messages.length; i++) {
    const msg = objectIn(messages, i, 'messages');
    const at = pathOf('messages', i);
    needOneOf(msg, 'role', at, ROLES);
    const blocks = stringOrArray(msg, 'content', at);
    if (blocks) checkBlocks(blocks, pathOf(at, 'content'));
  }
  if (body.system !== undefined && body.system !== null) {
    const blocks = stringOrArray(body, 'system', '') ?? [];
    for (let i = 0; i < blocks.length; i++) {
      const block = objectIn(blocks, i, 'system');
      needOneOf(block, 'type', pathOf('system', i), TEXT);
      needString(block, 'text', pathOf('system', i));
    }
  }
  const tools = optArray(body, 'tools', '');
  if (tools) checkTools(tools);
  const choice = optObject(body, 'tool_choice', '');
  if (choice && needOneOf(choice, 'type', 'tool_choice', CHOICES) === 'tool')
    needString(choice, 'name', 'tool_choice');
  if (choice) optBoolean(choice, 'disable_parallel_tool_use', 'tool_choice');
  optNumber(body, 'temperature', '');
  optNumber(body, 'top_p', '');
  optInteger(body, 'top_k', '');
  optStrings(body, 'stop_sequences', '');
  const thinking = optObject(body, 'thinking', '');
  if (thinking && needString(thinking, 'type', 'thinking') === 'enabled') {
    needInteger(thinking, 'budget_tokens', 'thinking');
  }
  const config = optObject(body, 'output_config', '');
  if (config) {
    optString(config, 'effort', 'output_config');
    const format = optObject(config, 'format', 'output_config');
    if (format && needString(format, 'type', 'output_config.format') === 'json_schema')
      needObject(format, 'schema', 'output_config.format');
  }
  optString(optObject(body, 'metadata', '') ?? {}, 'user_id', 'metadata');
}
