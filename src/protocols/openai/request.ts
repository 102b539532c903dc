// OpenAI Chat Completions requests: wire body → IR.Request (reader) and IR.Request → upstream body
// (writer). Also holds the small conversions the Responses folder shares (data URLs, arguments).

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
import { arr, field, isObject, str } from '../json-access.ts';
import { nativeToolId } from '../tool-ids.ts';
import { checkOpenAIRequest } from './check.ts';
import { readReasoningDetails } from './reasoning-details.ts';

// ---- shared conversions ------------------------------------------------------------------

/** Tool-call arguments from a JSON string; anything that is not a JSON object becomes `{}`. */
export function parseToolArguments(raw: JsonValue | undefined): JsonObject {
  if (isObject(raw)) return raw;
  if (typeof raw !== 'string' || raw.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(raw);
    return isObject(parsed) ? parsed : {};
  } catch {
    return {};
  }
}

/** `data:<type>;base64,<data>` split into its parts; undefined for any other URL. */
export function parseDataUrl(url: string): { mediaType: string; data: string } | undefined {
  const m = /^data:([^;,]*)((?:;[^;,]*)*);base64,/i.exec(url);
  if (m === null) return undefined;
  return { mediaType: m[1] || 'application/octet-stream', data: url.slice(m[0].length) };
}

export function dataUrl(mediaType: string, data: string): string {
  return `data:${mediaType};base64,${data}`;
}

export function imageFromUrl(url: string): ImageBlock {
  const parsed = parseDataUrl(url);
  return parsed === undefined
    ? { type: 'image', source: { kind: 'url', url } }
    : { type: 'image', source: { kind: 'base64', mediaType: parsed.mediaType, data: parsed.data } };
}

export function imageUrlOf(block: ImageBlock): string {
  return block.source.kind === 'url' ? block.source.url : dataUrl(block.source.mediaType, block.source.data);
}

/** OpenAI-style `reasoning_effort` values (`xhigh`, `max`, `none` included) as IR settings. */
export function reasoningFromEffort(value: JsonValue | undefined): ReasoningSettings | undefined {
  switch (value) {
    case 'none':
      return { disabled: true };
    case 'minimal':
    case 'low':
    case 'medium':
    case 'high':
      return { effort: value };
    case 'xhigh':
    case 'max':
      return { effort: 'high' };
    default:
      return undefined;
  }
}

/** The effort an IR reasoning setting implies (a token budget is bucketed). */
export function effortOf(
  r: ReasoningSettings | undefined,
): 'minimal' | 'low' | 'medium' | 'high' | undefined {
  if (r === undefined || r.disabled) return undefined;
  if (r.effort !== undefined) return r.effort;
  if (r.budgetTokens === undefined) return undefined;
  if (r.budgetTokens <= 1024) return 'minimal';
  if (r.budgetTokens <= 4096) return 'low';
  if (r.budgetTokens <= 16384) return 'medium';
  return 'high';
}

export function numberOr(value: JsonValue | undefined): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export function stopList(value: JsonValue | undefined): string[] {
  if (typeof value === 'string') return [value];
  return arr(value).filter((s): s is string => typeof s === 'string');
}

/** Splits unmodelled fields off a body: everything whose key is not in `known`. */
export function extraFields(body: JsonObject, known: ReadonlySet<string>): JsonObject {
  const extra: JsonObject = {};
  for (const [key, value] of Object.entries(body)) if (!known.has(key)) extra[key] = value;
  return extra;
}

export function textOnly(blocks: readonly ContentBlock[]): string {
  let out = '';
  for (const b of blocks) if (b.type === 'text') out += b.text;
  return out;
}

// ---- reader ------------------------------------------------------------------------------

const KNOWN = new Set([
  'model',
  'messages',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'top_p',
  'top_k',
  'stop',
  'stream',
  'stream_options',
  'response_format',
  'reasoning_effort',
  'user',
  'metadata',
]);

function textBlocks(content: JsonValue | undefined): TextBlock[] {
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  const out: TextBlock[] = [];
  for (const part of arr(content)) {
    const text = str(field(part, 'text')) ?? str(field(part, 'refusal'));
    if (text !== undefined) out.push({ type: 'text', text });
  }
  return out;
}

function userParts(content: JsonValue | undefined): ContentBlock[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  const out: ContentBlock[] = [];
  for (const part of arr(content)) {
    const type = str(field(part, 'type'));
    if (type === 'text') {
      out.push({ type: 'text', text: str(field(part, 'text')) ?? '' });
    } else if (type === 'image_url') {
      const url = str(field(field(part, 'image_url'), 'url'));
      if (url !== undefined) out.push(imageFromUrl(url));
    } else if (type === 'file') {
      const doc = documentFromFile(field(part, 'file'));
      if (doc !== undefined) out.push(doc);
    }
    // input_audio and file_id references have no IR form.
  }
  return out;
}

function documentFromFile(file: JsonValue | undefined): DocumentBlock | undefined {
  const data = str(field(file, 'file_data'));
  if (data === undefined) return undefined;
  const title = str(field(file, 'filename'));
  const parsed = parseDataUrl(data);
  const source = parsed
    ? { kind: 'base64' as const, mediaType: parsed.mediaType, data: parsed.data }
    : { kind: 'base64' as const, mediaType: 'application/pdf', data };
  return title === undefined ? { type: 'document', source } : { type: 'document', source, title };
}

function readToolChoice(
  value: JsonValue | undefined,
  parallel: JsonValue | undefined,
): ToolChoice | undefined {
  const single = parallel === false ? { disableParallel: true } : {};
  if (value === 'none') return { type: 'none' };
  if (value === 'auto') return { type: 'auto', ...single };
  if (value === 'required') return { type: 'any', ...single };
  const name = str(field(field(value, 'function'), 'name'));
  if (name !== undefined) return { type: 'tool', name, ...single };
  const mode = str(field(field(value, 'allowed_tools'), 'mode'));
  if (mode !== undefined) return { type: mode === 'required' ? 'any' : 'auto', ...single };
  return parallel === false ? { type: 'auto', disableParallel: true } : undefined;
}

export function readResponseFormat(value: JsonValue | undefined): ResponseFormat | undefined {
  const type = str(field(value, 'type'));
  if (type === 'text' || type === 'json_object') return { type };
  if (type !== 'json_schema') return undefined;
  // Chat Completions nests the schema under `json_schema`; Responses' text.format is flat.
  const spec = isObject(field(value, 'json_schema')) ? field(value, 'json_schema') : value;
  const schema = field(spec, 'schema');
  const strict = field(spec, 'strict');
  return {
    type: 'json_schema',
    name: str(field(spec, 'name')) ?? 'response',
    schema: isObject(schema) ? schema : {},
    ...(typeof strict === 'boolean' ? { strict } : {}),
  };
}

/**
 * Function tools of a `tools` array. Chat Completions nests name, description and parameters under
 * `function`; Responses puts them on the tool itself, so `where` picks the node that holds them.
 */
export function readFunctionTools(
  value: JsonValue | undefined,
  where: (tool: JsonValue) => JsonValue | undefined,
): ToolDefinition[] {
  const out: ToolDefinition[] = [];
  for (const tool of arr(value)) {
    const fn = where(tool);
    const name = str(field(fn, 'name'));
    if (str(field(tool, 'type')) !== 'function' || name === undefined) continue;
    const params = field(fn, 'parameters');
    const description = str(field(fn, 'description'));
    out.push({
      name,
      inputSchema: isObject(params) ? params : { type: 'object', properties: {} },
      ...(description !== undefined ? { description } : {}),
    });
  }
  return out;
}

export function readOpenAIRequest(body: JsonObject, ctx: { model: string; stream: boolean }): Request {
  checkOpenAIRequest(body);
  const system: TextBlock[] = [];
  const messages: Message[] = [];
  for (const msg of arr(body.messages)) {
    const role = str(field(msg, 'role'));
    const content = field(msg, 'content');
    if (role === 'system' || role === 'developer') {
      system.push(...textBlocks(content));
    } else if (role === 'user') {
      messages.push({ role: 'user', content: userParts(content) });
    } else if (role === 'assistant') {
      messages.push({ role: 'assistant', content: assistantBlocks(msg) });
    } else if (role === 'tool') {
      const result: ToolResultBlock = {
        type: 'tool_result',
        toolUseId: str(field(msg, 'tool_call_id')) ?? '',
        content: textBlocks(content),
      };
      const last = messages.at(-1);
      // Consecutive tool messages answer one assistant turn: they become one user message.
      if (last?.role === 'user' && last.content.every((b) => b.type === 'tool_result')) {
        messages[messages.length - 1] = { role: 'user', content: [...last.content, result] };
      } else {
        messages.push({ role: 'user', content: [result] });
      }
    }
  }
  const maxTokens = numberOr(body.max_completion_tokens) ?? numberOr(body.max_tokens);
  const temperature = numberOr(body.temperature);
  const topP = numberOr(body.top_p);
  const topK = numberOr(body.top_k);
  const toolChoice = readToolChoice(body.tool_choice, body.parallel_tool_calls);
  const responseFormat = readResponseFormat(body.response_format);
  const reasoning = reasoningFromEffort(body.reasoning_effort);
  const user = str(body.user);
  return {
    model: ctx.model,
    system,
    messages,
    tools: readFunctionTools(body.tools, (tool) => field(tool, 'function')),
    stop: stopList(body.stop),
    stream: ctx.stream,
    // Usage is opt-in on OpenAI streams; a client that did not ask may index choices[0] of every chunk.
    ...(ctx.stream ? { includeUsage: field(body.stream_options, 'include_usage') === true } : {}),
    extra: extraFields(body, KNOWN),
    ...(toolChoice ? { toolChoice } : {}),
    ...(maxTokens !== undefined ? { maxTokens } : {}),
    ...(temperature !== undefined ? { temperature } : {}),
    ...(topP !== undefined ? { topP } : {}),
    ...(topK !== undefined ? { topK } : {}),
    ...(responseFormat ? { responseFormat } : {}),
    ...(reasoning ? { reasoning } : {}),
    ...(user !== undefined ? { user } : {}),
    ...(isObject(body.metadata) ? { metadata: body.metadata } : {}),
  };
}

function assistantBlocks(msg: JsonValue | undefined): ContentBlock[] {
  // `reasoning_details` (signed, OpenRouter-style) says what `reasoning_content` (DeepSeek, vLLM, …)
  // and `reasoning` (OpenRouter) say, with the signatures; the plain forms are read only without it.
  const out: ContentBlock[] = readReasoningDetails(field(msg, 'reasoning_details')) ?? [];
  const reasoning = str(field(msg, 'reasoning_content')) ?? str(field(msg, 'reasoning'));
  if (reasoning && out.length === 0) out.push({ type: 'thinking', thinking: reasoning });
  out.push(...textBlocks(field(msg, 'content')));
  const refusal = str(field(msg, 'refusal'));
  if (refusal) out.push({ type: 'text', text: refusal });
  for (const call of arr(field(msg, 'tool_calls'))) {
    const fn = field(call, 'function');
    const name = str(field(fn, 'name'));
    if (name === undefined) continue;
    out.push({
      type: 'tool_use',
      id: str(field(call, 'id')) ?? '',
      name,
      input: parseToolArguments(field(fn, 'arguments')),
    });
  }
  return out;
}

// ---- writer ------------------------------------------------------------------------------

function userPart(block: ContentBlock): JsonObject | undefined {
  switch (block.type) {
    case 'text':
      return { type: 'text', text: block.text };
    case 'image':
      return { type: 'image_url', image_url: { url: imageUrlOf(block) } };
    case 'document':
      if (block.source.kind === 'text') return { type: 'text', text: block.source.text };
      if (block.source.kind === 'url') return { type: 'text', text: block.source.url };
      return {
        type: 'file',
        file: {
          file_data: dataUrl(block.source.mediaType, block.source.data),
          filename: block.title ?? 'document.pdf',
        },
      };
    default:
      return undefined;
  }
}

function writeMessages(req: Request): JsonObject[] {
  const out: JsonObject[] = [];
  // One string: not every OpenAI-compatible server accepts content parts in a system message.
  if (req.system.length > 0)
    out.push({ role: 'system', content: req.system.map((b) => b.text).join('\n\n') });
  for (const msg of req.messages) {
    if (msg.role === 'assistant') {
      const text = textOnly(msg.content);
      const calls = msg.content.flatMap((b) =>
        b.type === 'tool_use'
          ? [
              {
                id: nativeToolId(b.id, 'call_'),
                type: 'function',
                function: { name: b.name, arguments: JSON.stringify(b.input) },
              },
            ]
          : [],
      );
      // Reasoning is not replayed upstream: most OpenAI-compatible servers reject it in input.
      const m: JsonObject = { role: 'assistant', content: text === '' && calls.length > 0 ? null : text };
      if (calls.length > 0) m.tool_calls = calls;
      out.push(m);
      continue;
    }
    // Tool results must directly follow the assistant turn, so they go out first.
    for (const b of msg.content) {
      if (b.type !== 'tool_result') continue;
      out.push({
        role: 'tool',
        tool_call_id: nativeToolId(b.toolUseId, 'call_'),
        content: textOnly(b.content),
      });
    }
    const parts = msg.content.flatMap((b) => {
      const p = userPart(b);
      return p ? [p] : [];
    });
    if (parts.length === 0) continue;
    const first = msg.content.find((b) => b.type !== 'tool_result');
    const plain = parts.length === 1 && first?.type === 'text';
    out.push({ role: 'user', content: plain ? first.text : parts });
  }
  return out;
}

function writeToolChoice(choice: ToolChoice): JsonValue {
  switch (choice.type) {
    case 'auto':
      return 'auto';
    case 'any':
      return 'required';
    case 'none':
      return 'none';
    case 'tool':
      return { type: 'function', function: { name: choice.name } };
  }
}

export function writeResponseFormat(rf: ResponseFormat): JsonObject {
  if (rf.type !== 'json_schema') return { type: rf.type };
  const spec: JsonObject = { name: rf.name, schema: rf.schema };
  if (rf.strict !== undefined) spec.strict = rf.strict;
  return { type: 'json_schema', json_schema: spec };
}

export function writeOpenAIRequest(
  req: Request,
  ctx: { model: string; defaultMaxTokens: number },
): JsonObject {
  const body: JsonObject = { model: ctx.model, messages: writeMessages(req) };
  if (req.tools.length > 0) {
    body.tools = req.tools.map((t) => {
      const fn: JsonObject = { name: t.name, parameters: t.inputSchema };
      if (t.description !== undefined) fn.description = t.description;
      return { type: 'function', function: fn };
    });
    if (req.toolChoice) {
      body.tool_choice = writeToolChoice(req.toolChoice);
      if ('disableParallel' in req.toolChoice && req.toolChoice.disableParallel)
        body.parallel_tool_calls = false;
    }
  }
  // `max_tokens` rather than `max_completion_tokens`: every OpenAI-compatible server knows it.
  if (req.maxTokens !== undefined) body.max_tokens = req.maxTokens;
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.topP !== undefined) body.top_p = req.topP;
  if (req.stop.length > 0) body.stop = [...req.stop];
  if (req.responseFormat) body.response_format = writeResponseFormat(req.responseFormat);
  const effort = effortOf(req.reasoning);
  if (effort !== undefined) body.reasoning_effort = effort;
  if (req.user !== undefined) body.user = req.user;
  if (req.stream) {
    body.stream = true;
    // Usage is otherwise absent from OpenAI streams; the usage tap and accounting need it.
    body.stream_options = { include_usage: true };
  }
  return body;
}

export function openAIProbeBody(model: string): JsonObject {
  return { model, messages: [{ role: 'user', content: 'ping' }], max_tokens: 1 };
}
