// Gemini generateContent requests: wire body ↔ IR. The model lives in the URL (P-GEN-5), so the
// body never names one; tool results answer by function NAME, which the writer recovers by id.

import { mintId } from '../ids.ts';
import type {
  ContentBlock,
  DocumentBlock,
  ImageBlock,
  JsonObject,
  JsonValue,
  Message,
  ReasoningSettings,
  Request,
  ResponseFormat,
  TextBlock,
  ToolChoice,
  ToolDefinition,
  ToolResultBlock,
} from '../ir.ts';
import { arr, count, field, isObject, str } from '../json-access.ts';
import { checkGeminiRequest, protoNumber } from './check.ts';

/** A field under its camelCase name, or the snake_case spelling the REST API also accepts. */
export function gf(value: JsonValue | undefined, key: string): JsonValue | undefined {
  const direct = field(value, key);
  if (direct !== undefined) return direct;
  const snake = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  return snake === key ? undefined : field(value, snake);
}

/** Proto3 JSON numbers may come as strings (`"1024"`). */
const num = protoNumber;

const SCHEMA_TYPES = new Set(['STRING', 'NUMBER', 'INTEGER', 'BOOLEAN', 'ARRAY', 'OBJECT', 'NULL']);

/** Gemini's OpenAPI-style `Schema` spells types in capitals; JSON Schema consumers want lower case. */
export function toJsonSchema(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(toJsonSchema);
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] =
      key === 'type' && typeof inner === 'string' && SCHEMA_TYPES.has(inner)
        ? inner.toLowerCase()
        : toJsonSchema(inner);
  }
  return out;
}

const EXT_MEDIA: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  heic: 'image/heic',
  pdf: 'application/pdf',
  txt: 'text/plain',
};

function guessMediaType(url: string, fallback: string): string {
  const ext = /\.([A-Za-z0-9]+)(?:[?#].*)?$/.exec(url)?.[1]?.toLowerCase();
  return (ext !== undefined ? EXT_MEDIA[ext] : undefined) ?? fallback;
}

/** `data:<type>;base64,<data>` split into its parts. */
export function parseDataUrl(url: string): { mediaType: string; data: string } | undefined {
  const m = /^data:([^;,]*)(?:;[^,;]*)*;base64,(.*)$/s.exec(url);
  if (m === null) return undefined;
  return { mediaType: m[1] || 'application/octet-stream', data: m[2] ?? '' };
}

function mediaBlock(mediaType: string, source: ImageBlock['source']): ImageBlock | DocumentBlock {
  return mediaType.startsWith('image/') ? { type: 'image', source } : { type: 'document', source };
}

/** A tool result's `response` object as IR content: `{output: "…"}` unwraps, anything else is JSON. */
function responseContent(response: JsonValue | undefined): { text: string; isError: boolean } {
  if (!isObject(response))
    return { text: response === undefined ? '' : JSON.stringify(response), isError: false };
  const keys = Object.keys(response);
  if (keys.length === 1 && (keys[0] === 'output' || keys[0] === 'error')) {
    const inner = response[keys[0]];
    return { text: typeof inner === 'string' ? inner : JSON.stringify(inner), isError: keys[0] === 'error' };
  }
  return { text: JSON.stringify(response), isError: false };
}

export function readParts(
  content: JsonValue,
  model: boolean,
  pendingCalls: Map<string, string[]>,
): ContentBlock[] {
  const blocks: ContentBlock[] = [];
  for (const part of arr(gf(content, 'parts'))) {
    const raw = str(gf(part, 'thoughtSignature'));
    // The validator-skip sentinel is not a real signature: it is not surfaced to clients.
    const signature = raw === SKIP_SIGNATURE ? undefined : raw;
    const text = str(field(part, 'text'));
    const thought = field(part, 'thought') === true;
    if (model && thought && text !== undefined) {
      blocks.push({ type: 'thinking', thinking: text, ...(signature !== undefined && { signature }) });
      continue;
    }
    // A signature on an ordinary part (Gemini 3 puts them on function calls) rides as an empty
    // thinking block in front of it, so Anthropic-style clients hand it back on the next turn.
    if (model && signature !== undefined) blocks.push({ type: 'thinking', thinking: '', signature });
    if (text !== undefined) {
      if (text !== '') blocks.push({ type: 'text', text });
      continue;
    }
    const inline = gf(part, 'inlineData');
    if (isObject(inline)) {
      const mediaType = str(gf(inline, 'mimeType')) ?? 'application/octet-stream';
      blocks.push(
        mediaBlock(mediaType, { kind: 'base64', mediaType, data: str(field(inline, 'data')) ?? '' }),
      );
      continue;
    }
    const file = gf(part, 'fileData');
    if (isObject(file)) {
      const url = str(gf(file, 'fileUri')) ?? '';
      const mediaType = str(gf(file, 'mimeType')) ?? guessMediaType(url, 'application/octet-stream');
      blocks.push(mediaBlock(mediaType, { kind: 'url', url, mediaType }));
      continue;
    }
    const call = gf(part, 'functionCall');
    if (isObject(call)) {
      const name = str(field(call, 'name')) ?? '';
      const id = str(field(call, 'id')) || mintId('gm_');
      const queue = pendingCalls.get(name) ?? [];
      queue.push(id);
      pendingCalls.set(name, queue);
      const args = field(call, 'args');
      blocks.push({ type: 'tool_use', id, name, input: isObject(args) ? args : {} });
      continue;
    }
    const response = gf(part, 'functionResponse');
    if (isObject(response)) {
      const name = str(field(response, 'name')) ?? '';
      const queue = pendingCalls.get(name);
      let id = str(field(response, 'id'));
      if (id && queue !== undefined) {
        const at = queue.indexOf(id);
        if (at !== -1) queue.splice(at, 1);
      } else if (!id) {
        id = queue?.shift() ?? mintId('gm_');
      }
      const { text, isError } = responseContent(field(response, 'response'));
      const result: ToolResultBlock = {
        type: 'tool_result',
        toolUseId: id,
        name,
        content: [{ type: 'text', text }],
        ...(isError && { isError: true }),
      };
      blocks.push(result);
    }
    // executableCode / codeExecutionResult / videoMetadata have no IR form.
  }
  return blocks;
}

function readSystem(value: JsonValue | undefined): TextBlock[] {
  if (typeof value === 'string') return value === '' ? [] : [{ type: 'text', text: value }];
  const out: TextBlock[] = [];
  for (const part of arr(gf(value, 'parts'))) {
    const text = str(field(part, 'text'));
    if (text !== undefined && text !== '') out.push({ type: 'text', text });
  }
  return out;
}

function readTools(value: JsonValue | undefined, extra: JsonObject): ToolDefinition[] {
  const tools: ToolDefinition[] = [];
  const others: JsonValue[] = [];
  for (const tool of arr(value)) {
    const decls = gf(tool, 'functionDeclarations');
    if (decls === undefined) {
      others.push(tool);
      continue;
    }
    for (const decl of arr(decls)) {
      const jsonSchema = gf(decl, 'parametersJsonSchema');
      const schema = isObject(jsonSchema) ? jsonSchema : toJsonSchema(gf(decl, 'parameters') ?? null);
      const description = str(field(decl, 'description'));
      tools.push({
        name: str(field(decl, 'name')) ?? '',
        ...(description !== undefined && { description }),
        inputSchema: isObject(schema) ? schema : { type: 'object', properties: {} },
      });
    }
  }
  if (others.length > 0) extra.tools = others;
  return tools;
}

function readToolChoice(value: JsonValue | undefined): ToolChoice | undefined {
  const config = gf(value, 'functionCallingConfig');
  const mode = str(field(config, 'mode'));
  const allowed = arr(gf(config, 'allowedFunctionNames'));
  switch (mode) {
    case 'AUTO':
    case 'VALIDATED':
      return { type: 'auto' };
    case 'NONE':
      return { type: 'none' };
    case 'ANY': {
      const only = allowed.length === 1 ? str(allowed[0]) : undefined;
      return only !== undefined ? { type: 'tool', name: only } : { type: 'any' };
    }
    default:
      return undefined;
  }
}

const EFFORT_BY_LEVEL: Record<string, ReasoningSettings['effort']> = {
  MINIMAL: 'minimal',
  LOW: 'low',
  MEDIUM: 'medium',
  HIGH: 'high',
};

function readThinking(value: JsonValue | undefined): ReasoningSettings | undefined {
  if (!isObject(value)) return undefined;
  const budget = num(gf(value, 'thinkingBudget'));
  const level = str(gf(value, 'thinkingLevel'));
  const effort = level !== undefined ? EFFORT_BY_LEVEL[level.toUpperCase()] : undefined;
  if (budget === 0) return { disabled: true };
  const settings: { effort?: ReasoningSettings['effort']; budgetTokens?: number } = {};
  if (budget !== undefined && budget > 0) settings.budgetTokens = budget;
  if (effort !== undefined) settings.effort = effort;
  return settings.budgetTokens === undefined && settings.effort === undefined ? undefined : settings;
}

const MODELLED_CONFIG = new Set([
  'maxOutputTokens',
  'max_output_tokens',
  'temperature',
  'topP',
  'top_p',
  'topK',
  'top_k',
  'stopSequences',
  'stop_sequences',
  'responseMimeType',
  'response_mime_type',
  'responseSchema',
  'response_schema',
  'responseJsonSchema',
  'response_json_schema',
  'thinkingConfig',
  'thinking_config',
]);

function readResponseFormat(config: JsonValue | undefined): ResponseFormat | undefined {
  const mime = str(gf(config, 'responseMimeType'));
  if (mime === 'text/plain') return { type: 'text' };
  if (mime !== 'application/json') return undefined;
  const jsonSchema = gf(config, 'responseJsonSchema');
  const schema = isObject(jsonSchema) ? jsonSchema : toJsonSchema(gf(config, 'responseSchema') ?? null);
  return isObject(schema) ? { type: 'json_schema', name: 'response', schema } : { type: 'json_object' };
}

const MODELLED_TOP = new Set([
  'model',
  'contents',
  'systemInstruction',
  'system_instruction',
  'tools',
  'toolConfig',
  'tool_config',
  'generationConfig',
  'generation_config',
]);

export function readGeminiRequest(body: JsonObject, ctx: { model: string; stream: boolean }): Request {
  checkGeminiRequest(body);
  const extra: JsonObject = {};
  for (const [key, value] of Object.entries(body)) if (!MODELLED_TOP.has(key)) extra[key] = value;

  const pendingCalls = new Map<string, string[]>();
  const messages: Message[] = [];
  for (const content of arr(field(body, 'contents'))) {
    const role = str(field(content, 'role')) === 'model' ? 'assistant' : 'user';
    const blocks = readParts(content, role === 'assistant', pendingCalls);
    if (blocks.length > 0) messages.push({ role, content: blocks });
  }

  const config = gf(body, 'generationConfig');
  const leftover: JsonObject = {};
  if (isObject(config)) {
    for (const [key, value] of Object.entries(config)) if (!MODELLED_CONFIG.has(key)) leftover[key] = value;
  }
  if (Object.keys(leftover).length > 0) extra.generationConfig = leftover;
  const stop = arr(gf(config, 'stopSequences')).filter((s): s is string => typeof s === 'string');

  return {
    model: ctx.model,
    system: readSystem(gf(body, 'systemInstruction')),
    messages,
    tools: readTools(field(body, 'tools'), extra),
    toolChoice: readToolChoice(gf(body, 'toolConfig')),
    maxTokens: count(num(gf(config, 'maxOutputTokens'))),
    temperature: num(field(config, 'temperature')),
    topP: num(gf(config, 'topP')),
    topK: count(num(gf(config, 'topK'))),
    stop,
    stream: ctx.stream,
    responseFormat: readResponseFormat(config),
    reasoning: readThinking(gf(config, 'thinkingConfig')),
    extra,
  };
}

// ---- writer --------------------------------------------------------------------------------

/** Budgets Google's own OpenAI-compatible endpoint uses for `reasoning_effort`. */
const BUDGET_BY_EFFORT: Record<NonNullable<ReasoningSettings['effort']>, number> = {
  minimal: 1024,
  low: 1024,
  medium: 8192,
  high: 24576,
};

function mediaPart(
  source: ImageBlock['source'] | DocumentBlock['source'],
  fallback: string,
): JsonObject | undefined {
  if (source.kind === 'base64') return { inlineData: { mimeType: source.mediaType, data: source.data } };
  if (source.kind === 'text') return source.text === '' ? undefined : { text: source.text };
  const inline = parseDataUrl(source.url);
  if (inline !== undefined) return { inlineData: { mimeType: inline.mediaType, data: inline.data } };
  return {
    fileData: { mimeType: source.mediaType ?? guessMediaType(source.url, fallback), fileUri: source.url },
  };
}

function toolResponse(block: ToolResultBlock): { response: JsonObject; extraParts: JsonObject[] } {
  const texts: string[] = [];
  const extraParts: JsonObject[] = [];
  for (const item of block.content) {
    if (item.type === 'text') texts.push(item.text);
    else {
      const part = mediaPart(item.source, item.type === 'image' ? 'image/jpeg' : 'application/pdf');
      if (part !== undefined) extraParts.push(part);
    }
  }
  const text = texts.join('\n');
  let parsed: JsonValue | undefined;
  try {
    parsed = text.startsWith('{') ? (JSON.parse(text) as JsonValue) : undefined;
  } catch {
    parsed = undefined;
  }
  if (block.isError) return { response: { error: isObject(parsed) ? parsed : text }, extraParts };
  return { response: isObject(parsed) ? parsed : { output: text }, extraParts };
}

export function writeParts(message: Message, names: Map<string, string>): JsonObject[] {
  const parts: JsonObject[] = [];
  let pendingSignature: string | undefined;
  const push = (part: JsonObject): void => {
    if (pendingSignature !== undefined) {
      part.thoughtSignature = pendingSignature;
      pendingSignature = undefined;
    }
    parts.push(part);
  };
  for (const block of message.content) {
    switch (block.type) {
      case 'text':
        if (block.text !== '') push({ text: block.text });
        break;
      case 'image':
      case 'document': {
        const part = mediaPart(block.source, block.type === 'image' ? 'image/jpeg' : 'application/pdf');
        if (part !== undefined) push(part);
        break;
      }
      case 'thinking':
        if (block.thinking === '') {
          if (block.signature) pendingSignature = block.signature;
        } else {
          push({
            text: block.thinking,
            thought: true,
            ...(block.signature && { thoughtSignature: block.signature }),
          });
        }
        break;
      case 'redacted_thinking':
        break;
      case 'tool_use':
        names.set(block.id, block.name);
        push({ functionCall: { id: block.id, name: block.name, args: block.input } });
        break;
      case 'tool_result': {
        const { response, extraParts } = toolResponse(block);
        const name = block.name || names.get(block.toolUseId) || 'function';
        push({ functionResponse: { id: block.toolUseId, name, response } });
        for (const part of extraParts) push(part);
        break;
      }
      default: {
        const exhaustive: never = block;
        return exhaustive;
      }
    }
  }
  return parts;
}

/**
 * Google's documented stand-in for a thought signature the history cannot supply (a turn that came
 * through another protocol): Gemini 3 refuses a replayed function call without one.
 */
export const SKIP_SIGNATURE = 'skip_thought_signature_validator';

/** Gemini 1.x and 2.x do not validate signatures; anything else may. */
function validatesSignatures(model: string): boolean {
  return !/^(models\/)?gemini-[12][.-]/.test(model);
}

export function writeGeminiRequest(
  req: Request,
  ctx: { model: string; defaultMaxTokens: number },
): JsonObject {
  const body: JsonObject = {};
  const names = new Map<string, string>();
  const contents: JsonValue[] = [];
  const sentinel = validatesSignatures(ctx.model);
  for (const message of req.messages) {
    const parts = writeParts(message, names);
    if (parts.length === 0) continue;
    // Only the first call of a step carries a signature (parallel calls share it).
    const call = parts.find((p) => p.functionCall !== undefined);
    if (
      sentinel &&
      message.role === 'assistant' &&
      call !== undefined &&
      call.thoughtSignature === undefined
    ) {
      call.thoughtSignature = SKIP_SIGNATURE;
    }
    contents.push({ role: message.role === 'assistant' ? 'model' : 'user', parts });
  }
  body.contents = contents;
  if (req.system.length > 0) body.systemInstruction = { parts: req.system.map((b) => ({ text: b.text })) };

  if (req.tools.length > 0) {
    body.tools = [
      {
        functionDeclarations: req.tools.map((t) => ({
          name: t.name,
          ...(t.description !== undefined && { description: t.description }),
          parametersJsonSchema: t.inputSchema,
        })),
      },
    ];
  }
  if (req.toolChoice !== undefined) {
    const choice = req.toolChoice;
    const config: JsonObject =
      choice.type === 'tool'
        ? { mode: 'ANY', allowedFunctionNames: [choice.name] }
        : { mode: choice.type === 'auto' ? 'AUTO' : choice.type === 'any' ? 'ANY' : 'NONE' };
    body.toolConfig = { functionCallingConfig: config };
  }

  const config: JsonObject = {};
  if (req.maxTokens !== undefined) config.maxOutputTokens = req.maxTokens; // never injected (P-XLT-3)
  if (req.temperature !== undefined) config.temperature = req.temperature;
  if (req.topP !== undefined) config.topP = req.topP;
  if (req.topK !== undefined) config.topK = req.topK;
  if (req.stop.length > 0) config.stopSequences = [...req.stop];
  const format = req.responseFormat;
  if (format?.type === 'json_object') config.responseMimeType = 'application/json';
  if (format?.type === 'json_schema') {
    config.responseMimeType = 'application/json';
    config.responseJsonSchema = format.schema;
  }
  const thinking = writeThinking(req.reasoning);
  if (thinking !== undefined) config.thinkingConfig = thinking;
  if (Object.keys(config).length > 0) body.generationConfig = config;
  return body;
}

function writeThinking(reasoning: ReasoningSettings | undefined): JsonObject | undefined {
  if (reasoning === undefined) return undefined;
  if (reasoning.disabled) return { thinkingBudget: 0 };
  const budget =
    reasoning.budgetTokens ??
    (reasoning.effort !== undefined ? BUDGET_BY_EFFORT[reasoning.effort] : undefined);
  return budget === undefined ? undefined : { thinkingBudget: budget, includeThoughts: true };
}

export function geminiProbeBody(_model: string): JsonObject {
  return {
    contents: [{ role: 'user', parts: [{ text: 'ping' }] }],
    generationConfig: { maxOutputTokens: 1 },
  };
}
