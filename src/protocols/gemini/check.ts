// What the Gemini API refuses and the reader would otherwise coerce (issue 10, item 9a): the shapes
// of `GenerateContentRequest`. Its JSON is proto3 JSON, so every field may be spelled camelCase or
// snake_case, and numbers may come as numeric strings; enums (mode, thinkingLevel) may be numbers
// and are left unchecked.

import {
  needArray,
  needObject,
  needString,
  objectIn,
  optArray,
  optBoolean,
  optObject,
  optOneOf,
  optString,
  optStrings,
  pathOf,
  refuse,
} from '../expect.ts';
import type { JsonObject, JsonValue } from '../ir.ts';

const SNAKE = new Map<string, string>();

/** The spelling of `key` that `o` uses: camelCase, else snake_case (the camelCase one when neither). */
function k(o: JsonObject, key: string): string {
  if (key in o) return key;
  let snake = SNAKE.get(key);
  if (snake === undefined) {
    snake = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    SNAKE.set(key, snake);
  }
  return snake in o ? snake : key;
}

/** A proto3 JSON number: a finite number, or a string holding one. */
export function protoNumber(value: JsonValue | undefined): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

function optProtoNumber(o: JsonObject, key: string, at: string, integer: boolean): void {
  const name = k(o, key);
  const v = o[name];
  if (v === undefined || v === null) return;
  const n = protoNumber(v);
  if (n === undefined || (integer && !Number.isSafeInteger(n)))
    refuse(at, name, integer ? 'an integer' : 'a number');
}

const ROLES = new Set(['user', 'model']);

function checkPart(part: JsonObject, at: string): void {
  optString(part, 'text', at);
  optBoolean(part, 'thought', at);
  optString(part, k(part, 'thoughtSignature'), at);
  const inline = optObject(part, k(part, 'inlineData'), at);
  if (inline) {
    const here = pathOf(at, k(part, 'inlineData'));
    needString(inline, k(inline, 'mimeType'), here);
    needString(inline, 'data', here);
  }
  const file = optObject(part, k(part, 'fileData'), at);
  if (file) {
    const here = pathOf(at, k(part, 'fileData'));
    needString(file, k(file, 'fileUri'), here);
    optString(file, k(file, 'mimeType'), here);
  }
  for (const key of ['functionCall', 'functionResponse']) {
    const name = k(part, key);
    const call = optObject(part, name, at);
    if (call === undefined) continue;
    needString(call, 'name', pathOf(at, name));
    optString(call, 'id', pathOf(at, name));
    optObject(call, key === 'functionCall' ? 'args' : 'response', pathOf(at, name));
  }
}

function checkParts(content: JsonObject, at: string): void {
  const parts = needArray(content, 'parts', at);
  const here = pathOf(at, 'parts');
  for (let i = 0; i < parts.length; i++) checkPart(objectIn(parts, i, here), pathOf(here, i));
}

function checkTools(tools: readonly JsonValue[]): void {
  for (let i = 0; i < tools.length; i++) {
    const tool = objectIn(tools, i, 'tools');
    const at = pathOf('tools', i);
    const name = k(tool, 'functionDeclarations');
    const decls = optArray(tool, name, at) ?? [];
    for (let j = 0; j < decls.length; j++) {
      const decl = objectIn(decls, j, pathOf(at, name));
      const here = pathOf(pathOf(at, name), j);
      needString(decl, 'name', here);
      optString(decl, 'description', here);
      optObject(decl, 'parameters', here);
    }
  }
}

function checkConfig(config: JsonObject, at: string): void {
  optProtoNumber(config, 'maxOutputTokens', at, true);
  optProtoNumber(config, 'temperature', at, false);
  optProtoNumber(config, 'topP', at, false);
  // An integer on the Gemini API, a float on Vertex AI.
  optProtoNumber(config, 'topK', at, false);
  optStrings(config, k(config, 'stopSequences'), at);
  optString(config, k(config, 'responseMimeType'), at);
  optObject(config, k(config, 'responseSchema'), at);
  const thinking = optObject(config, k(config, 'thinkingConfig'), at);
  if (thinking) optProtoNumber(thinking, 'thinkingBudget', pathOf(at, k(config, 'thinkingConfig')), true);
}

export function checkGeminiRequest(body: JsonObject): void {
  const contents = needArray(body, 'contents', '');
  for (let i = 0; i < contents.length; i++) {
    const content = objectIn(contents, i, 'contents');
    const at = pathOf('contents', i);
    optOneOf(content, 'role', at, ROLES);
    checkParts(content, at);
  }
  const system = body[k(body, 'systemInstruction')];
  // A bare string is what the SDKs accept there; the reader takes it too.
  if (system !== undefined && system !== null && typeof system !== 'string') {
    const name = k(body, 'systemInstruction');
    const content = needObject(body, name, '');
    if (content.parts !== undefined) checkParts(content, name);
  }
  const tools = optArray(body, 'tools', '');
  if (tools) checkTools(tools);
  const toolConfig = optObject(body, k(body, 'toolConfig'), '');
  if (toolConfig) {
    const at = k(body, 'toolConfig');
    const calling = optObject(toolConfig, k(toolConfig, 'functionCallingConfig'), at);
    const here = pathOf(at, k(toolConfig, 'functionCallingConfig'));
    if (calling) optStrings(calling, k(calling, 'allowedFunctionNames'), here);
  }
  const config = optObject(body, k(body, 'generationConfig'), '');
  if (config) checkConfig(config, k(body, 'generationConfig'));
}
