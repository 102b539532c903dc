// Bedrock Converse requests: wire body ↔ IR. The model lives in the URL (P-GEN-5); cache points
// become cache-control on the block before them; tool ids go out in Bedrock's `tooluse_` form.

import type {
  CacheControl,
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
import { nativeToolId } from '../tool-ids.ts';
import { checkBedrockRequest } from './check.ts';

function num(value: JsonValue | undefined): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

const IMAGE_MEDIA: Record<string, string> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  jpg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
};
const DOC_MEDIA: Record<string, string> = {
  pdf: 'application/pdf',
  csv: 'text/csv',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  html: 'text/html',
  txt: 'text/plain',
  md: 'text/markdown',
};

function cachePoint(value: JsonValue | undefined): CacheControl {
  const ttl = str(field(value, 'ttl'));
  return ttl === undefined ? { type: 'ephemeral' } : { type: 'ephemeral', ttl };
}

function readImage(value: JsonValue): ImageBlock | undefined {
  const format = str(field(value, 'format')) ?? 'png';
  const source = field(value, 'source');
  const bytes = str(field(source, 'bytes'));
  const mediaType = IMAGE_MEDIA[format] ?? `image/${format}`;
  if (bytes !== undefined) return { type: 'image', source: { kind: 'base64', mediaType, data: bytes } };
  const uri = str(field(field(source, 's3Location'), 'uri'));
  return uri === undefined ? undefined : { type: 'image', source: { kind: 'url', url: uri, mediaType } };
}

function readDocument(value: JsonValue): DocumentBlock | undefined {
  const format = str(field(value, 'format')) ?? 'txt';
  const name = str(field(value, 'name'));
  const source = field(value, 'source');
  const mediaType = DOC_MEDIA[format] ?? 'application/octet-stream';
  const title = name !== undefined ? { title: name } : {};
  const bytes = str(field(source, 'bytes'));
  if (bytes !== undefined)
    return { type: 'document', source: { kind: 'base64', mediaType, data: bytes }, ...title };
  const text = str(field(source, 'text'));
  if (text !== undefined) return { type: 'document', source: { kind: 'text', text }, ...title };
  const uri = str(field(field(source, 's3Location'), 'uri'));
  return uri === undefined
    ? undefined
    : { type: 'document', source: { kind: 'url', url: uri, mediaType }, ...title };
}

function readToolResult(value: JsonValue): ToolResultBlock {
  const content: (TextBlock | ImageBlock | DocumentBlock)[] = [];
  for (const item of arr(field(value, 'content'))) {
    const text = str(field(item, 'text'));
    if (text !== undefined) content.push({ type: 'text', text });
    else if (field(item, 'json') !== undefined)
      content.push({ type: 'text', text: JSON.stringify(field(item, 'json')) });
    else if (isObject(field(item, 'image'))) {
      const image = readImage(field(item, 'image')!);
      if (image !== undefined) content.push(image);
    } else if (isObject(field(item, 'document'))) {
      const doc = readDocument(field(item, 'document')!);
      if (doc !== undefined) content.push(doc);
    }
  }
  return {
    type: 'tool_result',
    toolUseId: str(field(value, 'toolUseId')) ?? '',
    content,
    ...(str(field(value, 'status')) === 'error' && { isError: true }),
  };
}

/** Attaches a cache point to the block before it, where the IR block kind can carry one. */
function withCache(block: ContentBlock, cc: CacheControl): ContentBlock {
  switch (block.type) {
    case 'text':
    case 'image':
    case 'document':
    case 'tool_result':
      return { ...block, cacheControl: cc };
    default:
      return block;
  }
}

export function readBlocks(content: JsonValue | undefined): ContentBlock[] {
  const out: ContentBlock[] = [];
  for (const item of arr(content)) {
    if (!isObject(item)) continue;
    if (typeof item.text === 'string') {
      out.push({ type: 'text', text: item.text });
    } else if (isObject(item.image)) {
      const image = readImage(item.image);
      if (image !== undefined) out.push(image);
    } else if (isObject(item.document)) {
      const doc = readDocument(item.document);
      if (doc !== undefined) out.push(doc);
    } else if (isObject(item.toolUse)) {
      const input = field(item.toolUse, 'input');
      out.push({
        type: 'tool_use',
        id: str(field(item.toolUse, 'toolUseId')) ?? '',
        name: str(field(item.toolUse, 'name')) ?? '',
        input: isObject(input) ? input : {},
      });
    } else if (isObject(item.toolResult)) {
      out.push(readToolResult(item.toolResult));
    } else if (isObject(item.reasoningContent)) {
      const reasoning = item.reasoningContent;
      const redacted = str(field(reasoning, 'redactedContent'));
      if (redacted !== undefined) {
        out.push({ type: 'redacted_thinking', data: redacted });
      } else {
        const rt = field(reasoning, 'reasoningText');
        const signature = str(field(rt, 'signature'));
        out.push({
          type: 'thinking',
          thinking: str(field(rt, 'text')) ?? '',
          ...(signature !== undefined && { signature }),
        });
      }
    } else if (isObject(item.cachePoint)) {
      const last = out.at(-1);
      if (last !== undefined) out[out.length - 1] = withCache(last, cachePoint(item.cachePoint));
    } else if (isObject(item.guardContent)) {
      const text = str(field(field(item.guardContent, 'text'), 'text'));
      if (text !== undefined) out.push({ type: 'text', text });
    }
    // video, audio, searchResult and citationsContent have no IR form.
  }
  return out;
}

function readSystem(value: JsonValue | undefined): TextBlock[] {
  const out: TextBlock[] = [];
  for (const block of readBlocks(value)) if (block.type === 'text') out.push(block);
  return out;
}

function readTools(config: JsonValue | undefined): ToolDefinition[] {
  const tools: ToolDefinition[] = [];
  for (const tool of arr(field(config, 'tools'))) {
    const spec = field(tool, 'toolSpec');
    if (isObject(spec)) {
      const schema = field(field(spec, 'inputSchema'), 'json');
      const description = str(field(spec, 'description'));
      tools.push({
        name: str(field(spec, 'name')) ?? '',
        ...(description !== undefined && { description }),
        inputSchema: isObject(schema) ? schema : { type: 'object', properties: {} },
      });
    } else if (isObject(field(tool, 'cachePoint')) && tools.length > 0) {
      const last = tools[tools.length - 1]!;
      tools[tools.length - 1] = { ...last, cacheControl: cachePoint(field(tool, 'cachePoint')) };
    }
  }
  return tools;
}

function readToolChoice(config: JsonValue | undefined): ToolChoice | undefined {
  const choice = field(config, 'toolChoice');
  if (isObject(field(choice, 'auto'))) return { type: 'auto' };
  if (isObject(field(choice, 'any'))) return { type: 'any' };
  const name = str(field(field(choice, 'tool'), 'name'));
  return name !== undefined ? { type: 'tool', name } : undefined;
}

const EFFORTS = new Set(['minimal', 'low', 'medium', 'high']);

/** Anthropic models take `thinking`; Nova takes `reasoningConfig`. The rest stays in `extra`. */
function readAdditional(
  fields: JsonValue | undefined,
  extra: JsonObject,
): { reasoning?: ReasoningSettings; topK?: number } {
  if (!isObject(fields)) return {};
  const rest: JsonObject = {};
  let reasoning: ReasoningSettings | undefined;
  let topK: number | undefined;
  for (const [key, value] of Object.entries(fields)) {
    if (key === 'thinking' || key === 'reasoning_config' || key === 'reasoningConfig') {
      const type = str(field(value, 'type'));
      const budget = count(field(value, 'budget_tokens'));
      const effort = str(field(value, 'maxReasoningEffort'));
      if (type === 'disabled') reasoning = { disabled: true };
      else if (budget !== undefined) reasoning = { budgetTokens: budget };
      else if (effort !== undefined && EFFORTS.has(effort)) {
        reasoning = { effort: effort as NonNullable<ReasoningSettings['effort']> };
      } else if (type === 'enabled') reasoning = { effort: 'medium' };
    } else if ((key === 'top_k' || key === 'topK') && count(value) !== undefined) {
      topK = count(value);
    } else {
      rest[key] = value;
    }
  }
  if (Object.keys(rest).length > 0) extra.additionalModelRequestFields = rest;
  return { ...(reasoning !== undefined && { reasoning }), ...(topK !== undefined && { topK }) };
}

function readOutputConfig(value: JsonValue | undefined, extra: JsonObject): ResponseFormat | undefined {
  if (!isObject(value)) return undefined;
  const format = field(value, 'textFormat');
  const def = field(field(format, 'structure'), 'jsonSchema');
  let schema: JsonValue | undefined;
  try {
    schema = JSON.parse(str(field(def, 'schema')) ?? 'null') as JsonValue;
  } catch {
    schema = undefined;
  }
  const { textFormat: _, ...rest } = value;
  if (Object.keys(rest).length > 0) extra.outputConfig = rest;
  if (str(field(format, 'type')) !== 'json_schema' || !isObject(schema)) {
    if (format !== undefined) extra.outputConfig = value;
    return undefined;
  }
  return { type: 'json_schema', name: str(field(def, 'name')) ?? 'response', schema };
}

const MODELLED = new Set([
  'modelId',
  'messages',
  'system',
  'inferenceConfig',
  'toolConfig',
  'additionalModelRequestFields',
  'outputConfig',
  'requestMetadata',
]);

export function readBedrockRequest(body: JsonObject, ctx: { model: string; stream: boolean }): Request {
  checkBedrockRequest(body);
  const extra: JsonObject = {};
  for (const [key, value] of Object.entries(body)) if (!MODELLED.has(key)) extra[key] = value;
  const messages: Message[] = [];
  for (const message of arr(field(body, 'messages'))) {
    const content = readBlocks(field(message, 'content'));
    if (content.length > 0)
      messages.push({ role: str(field(message, 'role')) === 'assistant' ? 'assistant' : 'user', content });
  }
  const inference = field(body, 'inferenceConfig');
  const additional = readAdditional(field(body, 'additionalModelRequestFields'), extra);
  const metadata = field(body, 'requestMetadata');
  return {
    model: ctx.model,
    system: readSystem(field(body, 'system')),
    messages,
    tools: readTools(field(body, 'toolConfig')),
    toolChoice: readToolChoice(field(body, 'toolConfig')),
    maxTokens: count(field(inference, 'maxTokens')),
    temperature: num(field(inference, 'temperature')),
    topP: num(field(inference, 'topP')),
    topK: additional.topK,
    stop: arr(field(inference, 'stopSequences')).filter((s): s is string => typeof s === 'string'),
    stream: ctx.stream,
    responseFormat: readOutputConfig(field(body, 'outputConfig'), extra),
    reasoning: additional.reasoning,
    ...(isObject(metadata) && { metadata }),
    extra,
  };
}

// ---- writer --------------------------------------------------------------------------------

const FORMAT_BY_MEDIA: Record<string, string> = {};
for (const [format, media] of Object.entries(DOC_MEDIA)) FORMAT_BY_MEDIA[media] = format;
FORMAT_BY_MEDIA['text/x-markdown'] = 'md';
FORMAT_BY_MEDIA['application/vnd.ms-excel'] = 'xls';

function parseDataUrl(url: string): { mediaType: string; data: string } | undefined {
  const m = /^data:([^;,]*)(?:;[^,;]*)*;base64,/i.exec(url);
  return m === null
    ? undefined
    : { mediaType: m[1] || 'application/octet-stream', data: url.slice(m[0].length) };
}

function imageFormat(mediaType: string): string | undefined {
  const sub = mediaType.toLowerCase().replace(/^image\//, '');
  if (sub === 'jpg' || sub === 'jpeg' || sub === 'pjpeg') return 'jpeg';
  return sub === 'png' || sub === 'gif' || sub === 'webp' ? sub : undefined;
}

function writeImage(block: ImageBlock): JsonObject | undefined {
  const s = block.source;
  const inline = s.kind === 'base64' ? s : parseDataUrl(s.url);
  if (inline !== undefined) {
    const format = imageFormat(inline.mediaType);
    return format === undefined ? undefined : { image: { format, source: { bytes: inline.data } } };
  }
  if (s.kind === 'url' && s.url.startsWith('s3://')) {
    const format = imageFormat(s.mediaType ?? 'image/png');
    return format === undefined ? undefined : { image: { format, source: { s3Location: { uri: s.url } } } };
  }
  return undefined; // Bedrock cannot fetch http(s) URLs.
}

/** Bedrock document names allow letters, digits, single spaces, hyphens, parentheses and brackets. */
class DocumentNames {
  #used = new Set<string>();
  name(title: string | undefined): string {
    const base =
      (title ?? '')
        .replace(/[^A-Za-z0-9\-()[\] ]/g, ' ')
        .replace(/\s+/g, ' ')
        .trim() || 'document';
    let name = base;
    for (let n = 2; this.#used.has(name); n++) name = `${base} (${n})`;
    this.#used.add(name);
    return name;
  }
}

function writeDocument(block: DocumentBlock, names: DocumentNames): JsonObject | undefined {
  const s = block.source;
  if (s.kind === 'text') {
    return s.text === ''
      ? undefined
      : { document: { format: 'txt', name: names.name(block.title), source: { text: s.text } } };
  }
  const inline = s.kind === 'base64' ? s : parseDataUrl(s.url);
  if (inline !== undefined) {
    const format = FORMAT_BY_MEDIA[inline.mediaType.toLowerCase()];
    if (format === undefined) return undefined;
    return { document: { format, name: names.name(block.title), source: { bytes: inline.data } } };
  }
  return undefined;
}

function cacheFields(cc: CacheControl | undefined): JsonObject[] {
  if (cc === undefined) return [];
  return [{ cachePoint: cc.ttl === undefined ? { type: 'default' } : { type: 'default', ttl: cc.ttl } }];
}

/** Bedrock refuses blank text blocks, so an empty tool output gets a visible placeholder. */
const EMPTY_RESULT = '(empty)';

function writeToolResult(block: ToolResultBlock, names: DocumentNames): JsonObject {
  const content: JsonObject[] = [];
  for (const item of block.content) {
    if (item.type === 'text') {
      if (item.text.trim() !== '') content.push({ text: item.text });
    } else {
      const out = item.type === 'image' ? writeImage(item) : writeDocument(item, names);
      if (out !== undefined) content.push(out);
    }
  }
  if (content.length === 0) content.push({ text: EMPTY_RESULT });
  return {
    toolResult: {
      toolUseId: nativeToolId(block.toolUseId, 'tooluse_'),
      content,
      ...(block.isError && { status: 'error' }),
    },
  };
}

export function writeBlocks(blocks: readonly ContentBlock[], names: DocumentNames): JsonObject[] {
  const out: JsonObject[] = [];
  for (const block of blocks) {
    switch (block.type) {
      case 'text':
        if (block.text.trim() !== '') out.push({ text: block.text }, ...cacheFields(block.cacheControl));
        break;
      case 'image': {
        const image = writeImage(block);
        if (image !== undefined) out.push(image, ...cacheFields(block.cacheControl));
        break;
      }
      case 'document': {
        const doc = writeDocument(block, names);
        if (doc !== undefined) out.push(doc, ...cacheFields(block.cacheControl));
        break;
      }
      case 'thinking':
        out.push({
          reasoningContent: {
            reasoningText: {
              text: block.thinking,
              ...(block.signature && { signature: block.signature }),
            },
          },
        });
        break;
      case 'redacted_thinking':
        out.push({ reasoningContent: { redactedContent: block.data } });
        break;
      case 'tool_use':
        out.push({
          toolUse: { toolUseId: nativeToolId(block.id, 'tooluse_'), name: block.name, input: block.input },
        });
        break;
      case 'tool_result':
        out.push(writeToolResult(block, names), ...cacheFields(block.cacheControl));
        break;
      default: {
        const exhaustive: never = block;
        return exhaustive;
      }
    }
  }
  return out;
}

export function newDocumentNames(): DocumentNames {
  return new DocumentNames();
}

function writeToolConfig(req: Request, messages: readonly JsonObject[]): JsonObject | undefined {
  const tools: JsonValue[] = [];
  for (const tool of req.tools) {
    tools.push({
      toolSpec: {
        name: tool.name,
        ...(tool.description !== undefined && { description: tool.description }),
        inputSchema: { json: tool.inputSchema },
      },
    });
    tools.push(...cacheFields(tool.cacheControl));
  }
  if (tools.length === 0) {
    // Converse refuses toolUse/toolResult history without a toolConfig: declare the tools used.
    const used = new Set<string>();
    for (const message of messages) {
      for (const block of arr(message.content)) {
        const name = str(field(field(block, 'toolUse'), 'name'));
        if (name !== undefined) used.add(name);
      }
    }
    const hasResults = messages.some((m) => arr(m.content).some((b) => field(b, 'toolResult') !== undefined));
    if (used.size === 0 && hasResults) used.add('tool');
    for (const name of used) tools.push({ toolSpec: { name, inputSchema: { json: { type: 'object' } } } });
  }
  if (tools.length === 0) return undefined;
  const config: JsonObject = { tools };
  const choice = req.toolChoice;
  // Converse has no "none": the tools stay declared (history may need them) with no choice set.
  if (choice?.type === 'auto') config.toolChoice = { auto: {} };
  if (choice?.type === 'any') config.toolChoice = { any: {} };
  if (choice?.type === 'tool') config.toolChoice = { tool: { name: choice.name } };
  return config;
}

export function writeBedrockRequest(
  req: Request,
  _ctx: { model: string; defaultMaxTokens: number },
): JsonObject {
  const names = new DocumentNames();
  const messages: JsonObject[] = [];
  for (const message of req.messages) {
    const content = writeBlocks(message.content, names);
    if (content.length === 0) continue;
    const last = messages.at(-1);
    // Converse requires alternating roles: consecutive same-role turns merge.
    if (last !== undefined && last.role === message.role) last.content = [...arr(last.content), ...content];
    else messages.push({ role: message.role, content });
  }
  const body: JsonObject = { messages };
  const system = writeBlocks(req.system, names);
  if (system.length > 0) body.system = system;

  const inference: JsonObject = {};
  if (req.maxTokens !== undefined) inference.maxTokens = req.maxTokens; // never injected (P-XLT-3)
  if (req.temperature !== undefined) inference.temperature = req.temperature;
  if (req.topP !== undefined) inference.topP = req.topP;
  if (req.stop.length > 0) inference.stopSequences = [...req.stop];
  if (Object.keys(inference).length > 0) body.inferenceConfig = inference;

  const toolConfig = writeToolConfig(req, messages);
  if (toolConfig !== undefined) body.toolConfig = toolConfig;

  if (req.reasoning?.budgetTokens !== undefined && !req.reasoning.disabled) {
    body.additionalModelRequestFields = {
      thinking: { type: 'enabled', budget_tokens: req.reasoning.budgetTokens },
    };
  }
  const format = req.responseFormat;
  if (format?.type === 'json_schema') {
    body.outputConfig = {
      textFormat: {
        type: 'json_schema',
        structure: { jsonSchema: { schema: JSON.stringify(format.schema), name: format.name } },
      },
    };
  }
  return body;
}

export function bedrockProbeBody(_model: string): JsonObject {
  return { messages: [{ role: 'user', content: [{ text: 'ping' }] }], inferenceConfig: { maxTokens: 1 } };
}
