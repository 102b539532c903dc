// What Bedrock Converse refuses and the reader would otherwise coerce (issue 10, item 9a): the shapes
// of `ConverseRequest` in the official SDK. A content block is a union: one member key per block;
// members without an IR form (video, audio, citationsContent, …) are not checked.

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
} from '../expect.ts';
import type { JsonObject, JsonValue } from '../ir.ts';

const ROLES = new Set(['user', 'assistant']);
const STATUSES = new Set(['success', 'error']);

function checkSource(block: JsonObject, at: string): void {
  const source = needObject(block, 'source', at);
  const here = pathOf(at, 'source');
  optString(source, 'bytes', here);
  optString(source, 'text', here);
  const s3 = optObject(source, 's3Location', here);
  if (s3) needString(s3, 'uri', pathOf(here, 's3Location'));
}

function checkMedia(block: JsonObject, key: 'image' | 'document', at: string): void {
  const media = optObject(block, key, at);
  if (media === undefined) return;
  const here = pathOf(at, key);
  optString(media, 'format', here);
  if (key === 'document') needString(media, 'name', here);
  checkSource(media, here);
}

function checkToolResult(block: JsonObject, at: string): void {
  const result = optObject(block, 'toolResult', at);
  if (result === undefined) return;
  const here = pathOf(at, 'toolResult');
  needString(result, 'toolUseId', here);
  optOneOf(result, 'status', here, STATUSES);
  const content = needArray(result, 'content', here);
  const where = pathOf(here, 'content');
  for (let i = 0; i < content.length; i++) {
    const item = objectIn(content, i, where);
    optString(item, 'text', pathOf(where, i));
    checkMedia(item, 'image', pathOf(where, i));
    checkMedia(item, 'document', pathOf(where, i));
  }
}

function checkBlocks(blocks: readonly JsonValue[], at: string): void {
  for (let i = 0; i < blocks.length; i++) {
    const block = objectIn(blocks, i, at);
    const here = pathOf(at, i);
    optString(block, 'text', here);
    checkMedia(block, 'image', here);
    checkMedia(block, 'document', here);
    const use = optObject(block, 'toolUse', here);
    if (use) {
      needString(use, 'toolUseId', pathOf(here, 'toolUse'));
      needString(use, 'name', pathOf(here, 'toolUse'));
    }
    checkToolResult(block, here);
    const reasoning = optObject(block, 'reasoningContent', here);
    if (reasoning) {
      const where = pathOf(here, 'reasoningContent');
      optString(reasoning, 'redactedContent', where);
      const text = optObject(reasoning, 'reasoningText', where);
      if (text) {
        needString(text, 'text', pathOf(where, 'reasoningText'));
        optString(text, 'signature', pathOf(where, 'reasoningText'));
      }
    }
    optObject(block, 'cachePoint', here);
    optObject(block, 'guardContent', here);
  }
}

function checkToolConfig(config: JsonObject): void {
  const tools = needArray(config, 'tools', 'toolConfig');
  for (let i = 0; i < tools.length; i++) {
    const tool = objectIn(tools, i, 'toolConfig.tools');
    const at = pathOf('toolConfig.tools', i);
    const spec = optObject(tool, 'toolSpec', at);
    if (spec === undefined) continue;
    const here = pathOf(at, 'toolSpec');
    needString(spec, 'name', here);
    optString(spec, 'description', here);
    needObject(spec, 'inputSchema', here);
  }
  const choice = optObject(config, 'toolChoice', 'toolConfig');
  const tool = choice && optObject(choice, 'tool', 'toolConfig.toolChoice');
  if (tool) needString(tool, 'name', 'toolConfig.toolChoice.tool');
}

export function checkBedrockRequest(body: JsonObject): void {
  const messages = optArray(body, 'messages', '') ?? [];
  for (let i = 0; i < messages.length; i++) {
    const msg = objectIn(messages, i, 'messages');
    const at = pathOf('messages', i);
    needOneOf(msg, 'role', at, ROLES);
    checkBlocks(needArray(msg, 'content', at), pathOf(at, 'content'));
  }
  const system = optArray(body, 'system', '');
  if (system) checkBlocks(system, 'system');
  const inference = optObject(body, 'inferenceConfig', '');
  if (inference) {
    optInteger(inference, 'maxTokens', 'inferenceConfig');
    optNumber(inference, 'temperature', 'inferenceConfig');
    optNumber(inference, 'topP', 'inferenceConfig');
    optStrings(inference, 'stopSequences', 'inferenceConfig');
  }
  const toolConfig = optObject(body, 'toolConfig', '');
  if (toolConfig) checkToolConfig(toolConfig);
  optObject(body, 'outputConfig', '');
  optObject(body, 'requestMetadata', '');
}
