// Cohere v2 chat requests: wire body ↔ IR. System messages are canonicalised into `system`, tool
// messages become user messages holding tool results (P-XLT-6), and argument strings are parsed.

import type {
  ContentBlock,
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
  ToolUseBlock,
} from '../ir.ts';
import { arr, count, field, isObject, str } from '../json-access.ts';
import { checkCohereRequest } from './check.ts';

function num(value: JsonValue | undefined): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** Tool-call arguments arrive as a JSON string; anything unparsable becomes an empty object. */
export function parseArguments(value: JsonValue | undefined): JsonObject {
  if (isObject(value)) return value;
  if (typeof value !== 'string' || value.trim() === '') return {};
  try {
    const parsed = JSON.parse(value) as JsonValue;
    return isObject(parsed) ? parsed : {};
  } catch {
    return {};
  }
}

function parseDataUrl(url: string): { mediaType: string; data: string } | undefined {
  const m = /^data:([^;,]*)(?:;[^,;]*)*;base64,/i.exec(url);
  return m === null
    ? undefined
    : { mediaType: m[1] || 'application/octet-stream', data: url.slice(m[0].length) };
}

/** Text of a `string | [{type:'text', text}]` content field. */
function texts(content: JsonValue | undefined): TextBlock[] {
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  const out: TextBlock[] = [];
  for (const item of arr(content)) {
    const text = str(field(item, 'text'));
    if (text !== undefined && text !== '' && (field(item, 'type') ?? 'text') === 'text')
      out.push({ type: 'text', text });
  }
  return out;
}

function userContent(content: JsonValue | undefined): ContentBlock[] {
  if (typeof content === 'string') return texts(content);
  const out: ContentBlock[] = [];
  for (const item of arr(content)) {
    const type = str(field(item, 'type'));
    if (type === 'text') {
      const text = str(field(item, 'text'));
      if (text) out.push({ type: 'text', text });
    } else if (type === 'image_url') {
      const image = field(item, 'image_url');
      const url = typeof image === 'string' ? image : (str(field(image, 'url')) ?? '');
      const inline = parseDataUrl(url);
      out.push({
        type: 'image',
        source: inline !== undefined ? { kind: 'base64', ...inline } : { kind: 'url', url },
      });
    } else if (type === 'document') {
      const data = field(field(item, 'document'), 'data');
      out.push({
        type: 'document',
        source: { kind: 'text', text: typeof data === 'string' ? data : JSON.stringify(data) },
      });
    }
  }
  return out;
}

export function assistantContent(message: JsonValue): ContentBlock[] {
  const out: ContentBlock[] = [];
  const content = field(message, 'content');
  if (typeof content === 'string') {
    if (content !== '') out.push({ type: 'text', text: content });
  } else {
    for (const item of arr(content)) {
      const type = str(field(item, 'type'));
      if (type === 'thinking') out.push({ type: 'thinking', thinking: str(field(item, 'thinking')) ?? '' });
      else if (type === 'text') {
        const text = str(field(item, 'text'));
        if (text) out.push({ type: 'text', text });
      }
    }
  }
  // The tool plan is the model's visible "I will …" preamble to its tool calls: plain text in IR.
  const plan = str(field(message, 'tool_plan'));
  if (plan) out.push({ type: 'text', text: plan });
  out.push(...toolCalls(field(message, 'tool_calls')));
  return out;
}

export function toolCalls(value: JsonValue | undefined): ToolUseBlock[] {
  const out: ToolUseBlock[] = [];
  for (const call of arr(value)) {
    const fn = field(call, 'function');
    out.push({
      type: 'tool_use',
      id: str(field(call, 'id')) ?? '',
      name: str(field(fn, 'name')) ?? '',
      input: parseArguments(field(fn, 'arguments')),
    });
  }
  return out;
}

function toolResult(message: JsonValue, names: Map<string, string>): ToolResultBlock {
  const id = str(field(message, 'tool_call_id')) ?? '';
  const content = field(message, 'content');
  const parts: TextBlock[] = [];
  if (typeof content === 'string') parts.push({ type: 'text', text: content });
  for (const item of arr(content)) {
    if (str(field(item, 'type')) === 'document') {
      const data = field(field(item, 'document'), 'data');
      parts.push({ type: 'text', text: typeof data === 'string' ? data : JSON.stringify(data ?? null) });
    } else {
      parts.push({ type: 'text', text: str(field(item, 'text')) ?? '' });
    }
  }
  const name = names.get(id);
  return { type: 'tool_result', toolUseId: id, ...(name !== undefined && { name }), content: parts };
}

function readTools(value: JsonValue | undefined): ToolDefinition[] {
  return arr(value).map((tool) => {
    const fn = field(tool, 'function');
    const description = str(field(fn, 'description'));
    const params = field(fn, 'parameters');
    return {
      name: str(field(fn, 'name')) ?? '',
      ...(description !== undefined && { description }),
      inputSchema: isObject(params) ? params : { type: 'object', properties: {} },
    };
  });
}

function readResponseFormat(value: JsonValue | undefined): ResponseFormat | undefined {
  const type = str(field(value, 'type'));
  if (type === 'text') return { type: 'text' };
  if (type !== 'json_object') return undefined;
  const schema = field(value, 'json_schema');
  return isObject(schema) ? { type: 'json_schema', name: 'response', schema } : { type: 'json_object' };
}

function readThinking(value: JsonValue | undefined): ReasoningSettings | undefined {
  const type = str(field(value, 'type'));
  if (type === 'disabled') return { disabled: true };
  if (type !== 'enabled') return undefined;
  const budget = count(field(value, 'token_budget'));
  return budget !== undefined ? { budgetTokens: budget } : { effort: 'medium' };
}

function readToolChoice(value: JsonValue | undefined): ToolChoice | undefined {
  if (value === 'REQUIRED') return { type: 'any' };
  if (value === 'NONE') return { type: 'none' };
  return undefined;
}

const MODELLED = new Set([
  'model',
  'messages',
  'tools',
  'tool_choice',
  'max_tokens',
  'temperature',
  'p',
  'k',
  'stop_sequences',
  'stream',
  'response_format',
  'thinking',
]);

export function readCohereRequest(body: JsonObject, ctx: { model: string; stream: boolean }): Request {
  checkCohereRequest(body);
  const extra: JsonObject = {};
  for (const [key, value] of Object.entries(body)) if (!MODELLED.has(key)) extra[key] = value;

  const system: TextBlock[] = [];
  const messages: Message[] = [];
  const names = new Map<string, string>();
  for (const message of arr(field(body, 'messages'))) {
    const role = str(field(message, 'role'));
    if (role === 'system') {
      system.push(...texts(field(message, 'content')));
    } else if (role === 'assistant') {
      const content = assistantContent(message);
      for (const block of content) if (block.type === 'tool_use') names.set(block.id, block.name);
      if (content.length > 0) messages.push({ role: 'assistant', content });
    } else if (role === 'tool') {
      const result = toolResult(message, names);
      const last = messages.at(-1);
      // Consecutive tool messages answer one assistant turn: keep them in one user message.
      if (last?.role === 'user' && last.content.every((b) => b.type === 'tool_result')) {
        messages[messages.length - 1] = { role: 'user', content: [...last.content, result] };
      } else {
        messages.push({ role: 'user', content: [result] });
      }
    } else if (role === 'user') {
      const content = userContent(field(message, 'content'));
      if (content.length > 0) messages.push({ role: 'user', content });
    }
  }

  return {
    model: ctx.model,
    system,
    messages,
    tools: readTools(field(body, 'tools')),
    toolChoice: readToolChoice(field(body, 'tool_choice')),
    maxTokens: count(field(body, 'max_tokens')),
    temperature: num(field(body, 'temperature')),
    topP: num(field(body, 'p')),
    topK: count(field(body, 'k')),
    stop: arr(field(body, 'stop_sequences')).filter((s): s is string => typeof s === 'string'),
    stream: ctx.stream,
    responseFormat: readResponseFormat(field(body, 'response_format')),
    reasoning: readThinking(field(body, 'thinking')),
    extra,
  };
}

// ---- writer --------------------------------------------------------------------------------

function imageUrl(block: Extract<ContentBlock, { type: 'image' }>): string {
  const s = block.source;
  return s.kind === 'url' ? s.url : `data:${s.mediaType};base64,${s.data}`;
}

function userParts(blocks: readonly ContentBlock[]): JsonValue[] {
  const parts: JsonValue[] = [];
  for (const block of blocks) {
    if (block.type === 'text' && block.text !== '') parts.push({ type: 'text', text: block.text });
    else if (block.type === 'image') parts.push({ type: 'image_url', image_url: { url: imageUrl(block) } });
    else if (block.type === 'document' && block.source.kind === 'text') {
      parts.push({ type: 'text', text: block.source.text });
    }
    // Binary documents have no Cohere v2 message form.
  }
  return parts;
}

/** A plain string when the parts are only text, as most Cohere clients send it. */
function compactContent(parts: JsonValue[]): JsonValue {
  if (parts.every((p) => field(p, 'type') === 'text'))
    return parts.map((p) => str(field(p, 'text')) ?? '').join('\n');
  return parts;
}

function toolMessage(block: ToolResultBlock): JsonObject {
  const content: JsonValue[] = [];
  for (const item of block.content) {
    if (item.type === 'text') content.push({ type: 'text', text: item.text });
    else if (item.type === 'document' && item.source.kind === 'text')
      content.push({ type: 'text', text: item.source.text });
  }
  if (content.length === 0) content.push({ type: 'text', text: '' });
  return { role: 'tool', tool_call_id: block.toolUseId, content };
}

function assistantMessage(blocks: readonly ContentBlock[]): JsonObject | undefined {
  const calls = blocks.filter((b): b is ToolUseBlock => b.type === 'tool_use');
  const text = blocks
    .filter((b): b is TextBlock => b.type === 'text')
    .map((b) => b.text)
    .join('');
  const thinking = blocks.filter((b) => b.type === 'thinking' && b.thinking !== '');
  const out: JsonObject = { role: 'assistant' };
  if (calls.length > 0) {
    // Cohere wants the words that precede tool calls as the tool plan.
    if (text !== '') out.tool_plan = text;
    out.tool_calls = calls.map((c) => ({
      id: c.id,
      type: 'function',
      function: { name: c.name, arguments: JSON.stringify(c.input) },
    }));
  }
  const content: JsonValue[] = thinking.map((b) => ({
    type: 'thinking',
    thinking: b.type === 'thinking' ? b.thinking : '',
  }));
  if (calls.length === 0 && text !== '') {
    if (content.length === 0) out.content = text;
    else content.push({ type: 'text', text });
  }
  if (content.length > 0) out.content = content;
  return out.content === undefined && out.tool_calls === undefined ? undefined : out;
}

export function writeCohereRequest(
  req: Request,
  ctx: { model: string; defaultMaxTokens: number },
): JsonObject {
  const messages: JsonValue[] = [];
  if (req.system.length > 0)
    messages.push({ role: 'system', content: req.system.map((b) => b.text).join('\n\n') });
  for (const message of req.messages) {
    if (message.role === 'assistant') {
      const out = assistantMessage(message.content);
      if (out !== undefined) messages.push(out);
      continue;
    }
    // Tool results go first, each as its own tool message (P-XLT-6); the rest stays a user turn.
    for (const block of message.content) if (block.type === 'tool_result') messages.push(toolMessage(block));
    const parts = userParts(message.content);
    if (parts.length > 0) messages.push({ role: 'user', content: compactContent(parts) });
  }

  const body: JsonObject = { model: ctx.model, messages };
  let tools = req.tools;
  const choice = req.toolChoice;
  // Cohere cannot name a tool; requiring a call with only that tool offered is the same thing.
  if (choice?.type === 'tool') tools = tools.filter((t) => t.name === choice.name);
  if (tools.length > 0) {
    body.tools = tools.map((t) => ({
      type: 'function',
      function: {
        name: t.name,
        ...(t.description !== undefined && { description: t.description }),
        parameters: t.inputSchema,
      },
    }));
  }
  if (choice?.type === 'any' || choice?.type === 'tool') body.tool_choice = 'REQUIRED';
  if (choice?.type === 'none') body.tool_choice = 'NONE';
  if (req.maxTokens !== undefined) body.max_tokens = req.maxTokens; // never injected (P-XLT-3)
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.topP !== undefined) body.p = req.topP;
  if (req.topK !== undefined) body.k = req.topK;
  if (req.stop.length > 0) body.stop_sequences = [...req.stop];
  const format = req.responseFormat;
  if (format?.type === 'json_object') body.response_format = { type: 'json_object' };
  if (format?.type === 'json_schema')
    body.response_format = { type: 'json_object', json_schema: format.schema };
  const reasoning = req.reasoning;
  if (reasoning?.disabled) body.thinking = { type: 'disabled' };
  else if (reasoning?.budgetTokens !== undefined)
    body.thinking = { type: 'enabled', token_budget: reasoning.budgetTokens };
  else if (reasoning?.effort !== undefined) body.thinking = { type: 'enabled' };
  if (req.stream) body.stream = true;
  return body;
}

export function cohereProbeBody(model: string): JsonObject {
  return { model, messages: [{ role: 'user', content: 'ping' }], max_tokens: 1 };
}
