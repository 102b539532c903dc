// Anthropic Messages requests: wire body → IR.Request (reader) and IR.Request → upstream body (writer,
// which injects the required `max_tokens`, P-XLT-3).

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
import { checkAnthropicRequest } from './check.ts';

const FALLBACK_MAX_TOKENS = 4096;
/** Thinking budgets for an effort-only setting (Anthropic's minimum budget is 1024). */
const BUDGET_BY_EFFORT = { minimal: 1024, low: 2048, medium: 8192, high: 16384 } as const;

const KNOWN = new Set([
  'model',
  'system',
  'messages',
  'tools',
  'tool_choice',
  'max_tokens',
  'temperature',
  'top_p',
  'top_k',
  'stop_sequences',
  'stream',
  'thinking',
  'output_config',
  'metadata',
]);

// ---- reader ------------------------------------------------------------------------------

function cacheControl(value: JsonValue | undefined): { cacheControl?: CacheControl } {
  if (str(field(value, 'type')) !== 'ephemeral') return {};
  const ttl = str(field(value, 'ttl'));
  return { cacheControl: ttl === undefined ? { type: 'ephemeral' } : { type: 'ephemeral', ttl } };
}

function textBlock(b: JsonValue): TextBlock {
  const citations = field(b, 'citations');
  return {
    type: 'text',
    text: str(field(b, 'text')) ?? '',
    ...(Array.isArray(citations) && citations.length > 0 ? { citations } : {}),
    ...cacheControl(field(b, 'cache_control')),
  };
}

function imageBlock(b: JsonValue): ImageBlock | undefined {
  const src = field(b, 'source');
  const kind = str(field(src, 'type'));
  const cc = cacheControl(field(b, 'cache_control'));
  if (kind === 'base64') {
    const mediaType = str(field(src, 'media_type')) ?? 'image/png';
    return { type: 'image', source: { kind, mediaType, data: str(field(src, 'data')) ?? '' }, ...cc };
  }
  const url = str(field(src, 'url'));
  if (kind === 'url' && url !== undefined) return { type: 'image', source: { kind, url }, ...cc };
  return undefined; // `file` sources reference Anthropic's Files API and cannot travel.
}

function documentBlock(b: JsonValue): DocumentBlock | undefined {
  const src = field(b, 'source');
  const kind = str(field(src, 'type'));
  const title = str(field(b, 'title'));
  const rest = { ...(title !== undefined ? { title } : {}), ...cacheControl(field(b, 'cache_control')) };
  if (kind === 'base64') {
    const mediaType = str(field(src, 'media_type')) ?? 'application/pdf';
    return { type: 'document', source: { kind, mediaType, data: str(field(src, 'data')) ?? '' }, ...rest };
  }
  if (kind === 'url')
    return { type: 'document', source: { kind, url: str(field(src, 'url')) ?? '' }, ...rest };
  if (kind === 'text')
    return { type: 'document', source: { kind, text: str(field(src, 'data')) ?? '' }, ...rest };
  if (kind === 'content') {
    const content = field(src, 'content');
    const text =
      typeof content === 'string'
        ? content
        : arr(content)
            .map((c) => str(field(c, 'text')) ?? '')
            .join('');
    return { type: 'document', source: { kind: 'text', text }, ...rest };
  }
  return undefined;
}

function toolResult(b: JsonValue): ToolResultBlock {
  const raw = field(b, 'content');
  const content: (TextBlock | ImageBlock | DocumentBlock)[] = [];
  if (typeof raw === 'string') content.push({ type: 'text', text: raw });
  for (const part of arr(raw)) {
    const type = str(field(part, 'type'));
    const block =
      type === 'text' ? textBlock(part) : type === 'image' ? imageBlock(part) : documentBlock(part);
    if (block) content.push(block);
  }
  return {
    type: 'tool_result',
    toolUseId: str(field(b, 'tool_use_id')) ?? '',
    content,
    ...(field(b, 'is_error') === true ? { isError: true } : {}),
    ...cacheControl(field(b, 'cache_control')),
  };
}

function contentBlocks(content: JsonValue | undefined): ContentBlock[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  const out: ContentBlock[] = [];
  for (const b of arr(content)) {
    switch (str(field(b, 'type'))) {
      case 'text':
        out.push(textBlock(b));
        break;
      case 'image': {
        const img = imageBlock(b);
        if (img) out.push(img);
        break;
      }
      case 'document': {
        const doc = documentBlock(b);
        if (doc) out.push(doc);
        break;
      }
      case 'thinking': {
        const signature = str(field(b, 'signature'));
        out.push({
          type: 'thinking',
          thinking: str(field(b, 'thinking')) ?? '',
          ...(signature ? { signature } : {}),
        });
        break;
      }
      case 'redacted_thinking':
        out.push({ type: 'redacted_thinking', data: str(field(b, 'data')) ?? '' });
        break;
      case 'tool_use': {
        const input = field(b, 'input');
        out.push({
          type: 'tool_use',
          id: str(field(b, 'id')) ?? '',
          name: str(field(b, 'name')) ?? '',
          input: isObject(input) ? input : {},
        });
        break;
      }
      case 'tool_result':
        out.push(toolResult(b));
        break;
      // Server-tool blocks, search results and the like have no IR form.
    }
  }
  return out;
}

function readToolChoice(value: JsonValue | undefined): ToolChoice | undefined {
  const type = str(field(value, 'type'));
  const single = field(value, 'disable_parallel_tool_use') === true ? { disableParallel: true } : {};
  if (type === 'auto' || type === 'any') return { type, ...single };
  if (type === 'none') return { type };
  const name = str(field(value, 'name'));
  if (type === 'tool' && name !== undefined) return { type, name, ...single };
  return undefined;
}

function readTools(value: JsonValue | undefined): ToolDefinition[] {
  const out: ToolDefinition[] = [];
  for (const t of arr(value)) {
    const name = str(field(t, 'name'));
    const schema = field(t, 'input_schema');
    const type = str(field(t, 'type'));
    // Server tools (`web_search_20250305`, `bash_…`) carry no input_schema: Anthropic-only.
    if (name === undefined || !isObject(schema) || (type !== undefined && type !== 'custom')) continue;
    const description = str(field(t, 'description'));
    out.push({
      name,
      inputSchema: schema,
      ...(description !== undefined ? { description } : {}),
      ...cacheControl(field(t, 'cache_control')),
    });
  }
  return out;
}

function readReasoning(
  thinking: JsonValue | undefined,
  outputConfig: JsonValue | undefined,
): ReasoningSettings | undefined {
  const type = str(field(thinking, 'type'));
  if (type === 'disabled') return { disabled: true };
  const budget = count(field(thinking, 'budget_tokens'));
  const rawEffort = str(field(outputConfig, 'effort'));
  const effort =
    rawEffort === 'xhigh' || rawEffort === 'max'
      ? 'high'
      : rawEffort === 'low' || rawEffort === 'medium' || rawEffort === 'high'
        ? rawEffort
        : undefined;
  // Adaptive thinking without an effort: reasoning on, depth left to the model.
  if (budget === undefined && effort === undefined)
    return type === 'adaptive' || type === 'enabled' ? {} : undefined;
  return { ...(effort ? { effort } : {}), ...(budget !== undefined ? { budgetTokens: budget } : {}) };
}

function readFormat(outputConfig: JsonValue | undefined): ResponseFormat | undefined {
  const format = field(outputConfig, 'format');
  const schema = field(format, 'schema');
  if (str(field(format, 'type')) !== 'json_schema' || !isObject(schema)) return undefined;
  return { type: 'json_schema', name: 'response', schema };
}

export function readAnthropicRequest(body: JsonObject, ctx: { model: string; stream: boolean }): Request {
  checkAnthropicRequest(body);
  const system: TextBlock[] = [];
  if (typeof body.system === 'string') {
    if (body.system !== '') system.push({ type: 'text', text: body.system });
  } else {
    for (const b of arr(body.system)) system.push(textBlock(b));
  }
  const messages: Message[] = [];
  for (const m of arr(body.messages)) {
    const role = str(field(m, 'role'));
    const content = contentBlocks(field(m, 'content'));
    if (role === 'system') system.push(...content.filter((b): b is TextBlock => b.type === 'text'));
    else if (role === 'user' || role === 'assistant') messages.push({ role, content });
  }
  const maxTokens = count(body.max_tokens);
  const temperature = typeof body.temperature === 'number' ? body.temperature : undefined;
  const topP = typeof body.top_p === 'number' ? body.top_p : undefined;
  const topK = count(body.top_k);
  const toolChoice = readToolChoice(body.tool_choice);
  const reasoning = readReasoning(body.thinking, body.output_config);
  const responseFormat = readFormat(body.output_config);
  const user = str(field(body.metadata, 'user_id'));
  return {
    model: ctx.model,
    system,
    messages,
    tools: readTools(body.tools),
    stop: arr(body.stop_sequences).filter((s): s is string => typeof s === 'string'),
    stream: ctx.stream,
    extra: Object.fromEntries(Object.entries(body).filter(([k]) => !KNOWN.has(k))),
    ...(toolChoice ? { toolChoice } : {}),
    ...(maxTokens !== undefined ? { maxTokens } : {}),
    ...(temperature !== undefined ? { temperature } : {}),
    ...(topP !== undefined ? { topP } : {}),
    ...(topK !== undefined ? { topK } : {}),
    ...(reasoning ? { reasoning } : {}),
    ...(responseFormat ? { responseFormat } : {}),
    ...(user !== undefined ? { user } : {}),
  };
}

// ---- writer ------------------------------------------------------------------------------

function withCache(out: JsonObject, cc: CacheControl | undefined): JsonObject {
  if (cc)
    out.cache_control = cc.ttl === undefined ? { type: 'ephemeral' } : { type: 'ephemeral', ttl: cc.ttl };
  return out;
}

function writeText(b: TextBlock): JsonObject {
  const out: JsonObject = { type: 'text', text: b.text };
  if (b.citations && b.citations.length > 0) out.citations = [...b.citations];
  return withCache(out, b.cacheControl);
}

function writeBlock(b: ContentBlock): JsonObject | undefined {
  switch (b.type) {
    case 'text':
      return writeText(b);
    case 'image': {
      const s = b.source;
      const source: JsonObject =
        s.kind === 'url'
          ? { type: 'url', url: s.url }
          : { type: 'base64', media_type: s.mediaType, data: s.data };
      return withCache({ type: 'image', source }, b.cacheControl);
    }
    case 'document': {
      const s = b.source;
      const source: JsonObject =
        s.kind === 'url'
          ? { type: 'url', url: s.url }
          : s.kind === 'text'
            ? { type: 'text', media_type: 'text/plain', data: s.text }
            : { type: 'base64', media_type: s.mediaType, data: s.data };
      const out: JsonObject = { type: 'document', source };
      if (b.title !== undefined) out.title = b.title;
      return withCache(out, b.cacheControl);
    }
    case 'thinking':
      // Anthropic verifies signatures: an unsigned (foreign) reasoning trace cannot be replayed.
      return b.signature ? { type: 'thinking', thinking: b.thinking, signature: b.signature } : undefined;
    case 'redacted_thinking':
      return { type: 'redacted_thinking', data: b.data };
    case 'tool_use':
      return { type: 'tool_use', id: nativeToolId(b.id, 'toolu_'), name: b.name, input: b.input };
    case 'tool_result': {
      const out: JsonObject = {
        type: 'tool_result',
        tool_use_id: nativeToolId(b.toolUseId, 'toolu_'),
        content: b.content.flatMap((c) => {
          const w = writeBlock(c);
          return w ? [w] : [];
        }),
      };
      if (b.isError) out.is_error = true;
      return withCache(out, b.cacheControl);
    }
  }
}

function writeMessages(messages: readonly Message[]): JsonObject[] {
  const out: JsonObject[] = [];
  for (const m of messages) {
    // Tool results must open the user turn that answers a tool_use.
    const ordered =
      m.role === 'user'
        ? [
            ...m.content.filter((b) => b.type === 'tool_result'),
            ...m.content.filter((b) => b.type !== 'tool_result'),
          ]
        : m.content;
    const content = ordered.flatMap((b) => {
      const w = writeBlock(b);
      return w ? [w] : [];
    });
    if (content.length > 0) out.push({ role: m.role, content });
  }
  return out;
}

function writeToolChoice(c: ToolChoice): JsonObject {
  const out: JsonObject = c.type === 'tool' ? { type: 'tool', name: c.name } : { type: c.type };
  if (c.type !== 'none' && c.disableParallel) out.disable_parallel_tool_use = true;
  return out;
}

export function writeAnthropicRequest(
  req: Request,
  ctx: { model: string; defaultMaxTokens: number },
): JsonObject {
  const fallback = ctx.defaultMaxTokens > 0 ? ctx.defaultMaxTokens : FALLBACK_MAX_TOKENS;
  let maxTokens = req.maxTokens ?? fallback;
  const body: JsonObject = { model: ctx.model, max_tokens: maxTokens, messages: writeMessages(req.messages) };
  if (req.system.length > 0) {
    const plain = req.system.length === 1 && !req.system[0]!.cacheControl && !req.system[0]!.citations;
    body.system = plain ? req.system[0]!.text : req.system.map(writeText);
  }
  if (req.tools.length > 0) {
    body.tools = req.tools.map((t) => {
      const out: JsonObject = { name: t.name, input_schema: t.inputSchema };
      if (t.description !== undefined) out.description = t.description;
      return withCache(out, t.cacheControl);
    });
    if (req.toolChoice) body.tool_choice = writeToolChoice(req.toolChoice);
  }
  if (req.stop.length > 0) body.stop_sequences = [...req.stop];
  let budget = thinkingBudget(req.reasoning);
  if (budget !== undefined && budget >= maxTokens) {
    // The budget must stay below max_tokens: an injected default grows, a caller's value wins.
    if (req.maxTokens === undefined) body.max_tokens = maxTokens = budget + fallback;
    else budget = maxTokens > 1024 ? maxTokens - 1 : undefined;
  }
  const r = req.reasoning;
  const adaptive = r !== undefined && !r.disabled && r.effort === undefined && r.budgetTokens === undefined;
  if (budget !== undefined) body.thinking = { type: 'enabled', budget_tokens: Math.max(1024, budget) };
  else if (adaptive) body.thinking = { type: 'adaptive' };
  else if (r?.disabled) body.thinking = { type: 'disabled' };
  if (budget !== undefined || adaptive) {
    // Thinking rejects a modified temperature or top_k, and top_p below 0.95.
    if (req.topP !== undefined && req.topP >= 0.95) body.top_p = req.topP;
  } else {
    if (req.temperature !== undefined) body.temperature = req.temperature;
    if (req.topP !== undefined) body.top_p = req.topP;
    if (req.topK !== undefined) body.top_k = req.topK;
  }
  if (req.responseFormat?.type === 'json_schema') {
    body.output_config = { format: { type: 'json_schema', schema: req.responseFormat.schema } };
  }
  if (req.user !== undefined) body.metadata = { user_id: req.user };
  if (req.stream) body.stream = true;
  return body;
}

function thinkingBudget(r: ReasoningSettings | undefined): number | undefined {
  if (r === undefined || r.disabled) return undefined;
  if (r.budgetTokens !== undefined) return r.budgetTokens;
  return r.effort === undefined ? undefined : BUDGET_BY_EFFORT[r.effort];
}

export function anthropicProbeBody(model: string): JsonObject {
  return { model, max_tokens: 1, messages: [{ role: 'user', content: 'ping' }] };
}
