// OpenAI Responses requests: `instructions` + `input` items → IR.Request (reader) and back (writer).

import type {
  ContentBlock,
  DocumentBlock,
  JsonObject,
  JsonValue,
  Message,
  Request,
  TextBlock,
  ToolChoice,
  ToolResultBlock,
} from '../ir.ts';
import { arr, field, isObject, str } from '../json-access.ts';
import {
  dataUrl,
  effortOf,
  extraFields,
  imageFromUrl,
  imageUrlOf,
  numberOr,
  parseDataUrl,
  parseToolArguments,
  readFunctionTools,
  readResponseFormat,
  reasoningFromEffort,
  textOnly,
} from '../openai/request.ts';
import { nativeToolId } from '../tool-ids.ts';
import { checkResponsesRequest } from './check.ts';

const KNOWN = new Set([
  'model',
  'instructions',
  'input',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'max_output_tokens',
  'temperature',
  'top_p',
  'stream',
  'stream_options',
  'text',
  'reasoning',
  'user',
  'metadata',
]);

// ---- reader ------------------------------------------------------------------------------

function inputDocument(part: JsonValue): DocumentBlock | undefined {
  const title = str(field(part, 'filename'));
  const named = title === undefined ? {} : { title };
  const data = str(field(part, 'file_data'));
  if (data !== undefined) {
    const parsed = parseDataUrl(data);
    const source = parsed
      ? { kind: 'base64' as const, mediaType: parsed.mediaType, data: parsed.data }
      : { kind: 'base64' as const, mediaType: 'application/pdf', data };
    return { type: 'document', source, ...named };
  }
  const url = str(field(part, 'file_url'));
  return url === undefined ? undefined : { type: 'document', source: { kind: 'url', url }, ...named };
}

function contentParts(content: JsonValue | undefined): ContentBlock[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  const out: ContentBlock[] = [];
  for (const part of arr(content)) {
    const type = str(field(part, 'type'));
    if (type === 'input_text' || type === 'output_text' || type === 'text') {
      out.push({ type: 'text', text: str(field(part, 'text')) ?? '' });
    } else if (type === 'refusal') {
      out.push({ type: 'text', text: str(field(part, 'refusal')) ?? '' });
    } else if (type === 'input_image') {
      const url = str(field(part, 'image_url'));
      if (url !== undefined) out.push(imageFromUrl(url));
    } else if (type === 'input_file') {
      const doc = inputDocument(part);
      if (doc) out.push(doc);
    }
    // file_id references point into OpenAI storage and cannot travel.
  }
  return out;
}

function toolOutput(item: JsonValue): ToolResultBlock {
  const output = field(item, 'output');
  const content = contentParts(output).filter(
    (b): b is TextBlock | DocumentBlock | Extract<ContentBlock, { type: 'image' }> =>
      b.type === 'text' || b.type === 'image' || b.type === 'document',
  );
  return { type: 'tool_result', toolUseId: str(field(item, 'call_id')) ?? '', content };
}

/** Appends blocks to the last message when it has `role`, else opens a new message. */
function append(
  messages: Message[],
  role: 'user' | 'assistant',
  blocks: readonly ContentBlock[],
  merge: boolean,
): void {
  const last = messages.at(-1);
  if (merge && last?.role === role)
    messages[messages.length - 1] = { role, content: [...last.content, ...blocks] };
  else messages.push({ role, content: [...blocks] });
}

function readInput(input: JsonValue | undefined, system: TextBlock[]): Message[] {
  const messages: Message[] = [];
  if (typeof input === 'string') return [{ role: 'user', content: [{ type: 'text', text: input }] }];
  for (const item of arr(input)) {
    const type = str(field(item, 'type')) ?? 'message';
    if (type === 'message') {
      const role = str(field(item, 'role'));
      const content = contentParts(field(item, 'content'));
      if (role === 'system' || role === 'developer') {
        system.push(...content.filter((b): b is TextBlock => b.type === 'text'));
      } else if (role === 'user' || role === 'assistant') {
        append(messages, role, content, role === 'assistant');
      }
    } else if (type === 'function_call') {
      const block: ContentBlock = {
        type: 'tool_use',
        id: str(field(item, 'call_id')) ?? '',
        name: str(field(item, 'name')) ?? '',
        input: parseToolArguments(field(item, 'arguments')),
      };
      append(messages, 'assistant', [block], true);
    } else if (type === 'function_call_output') {
      const last = messages.at(-1);
      const merge = last?.role === 'user' && last.content.every((b) => b.type === 'tool_result');
      append(messages, 'user', [toolOutput(item)], merge);
    } else if (type === 'reasoning') {
      const summary = arr(field(item, 'summary')).map((s) => str(field(s, 'text')) ?? '');
      const content = arr(field(item, 'content')).map((s) => str(field(s, 'text')) ?? '');
      const thinking = (summary.length > 0 ? summary : content).join('\n\n');
      const signature = str(field(item, 'encrypted_content'));
      append(
        messages,
        'assistant',
        [{ type: 'thinking', thinking, ...(signature ? { signature } : {}) }],
        true,
      );
    }
    // Hosted-tool calls, item references and the like have no IR form.
  }
  return messages;
}

function readToolChoice(
  value: JsonValue | undefined,
  parallel: JsonValue | undefined,
): ToolChoice | undefined {
  const single = parallel === false ? { disableParallel: true } : {};
  if (value === 'none') return { type: 'none' };
  if (value === 'auto') return { type: 'auto', ...single };
  if (value === 'required') return { type: 'any', ...single };
  const name = str(field(value, 'name'));
  if (str(field(value, 'type')) === 'function' && name !== undefined)
    return { type: 'tool', name, ...single };
  const mode = str(field(value, 'mode'));
  if (str(field(value, 'type')) === 'allowed_tools' && mode !== undefined) {
    return { type: mode === 'required' ? 'any' : 'auto', ...single };
  }
  return parallel === false ? { type: 'auto', disableParallel: true } : undefined;
}

export function readResponsesRequest(body: JsonObject, ctx: { model: string; stream: boolean }): Request {
  checkResponsesRequest(body);
  const system: TextBlock[] = [];
  if (typeof body.instructions === 'string' && body.instructions !== '') {
    system.push({ type: 'text', text: body.instructions });
  }
  const messages = readInput(body.input, system);
  const maxTokens = numberOr(body.max_output_tokens);
  const temperature = numberOr(body.temperature);
  const topP = numberOr(body.top_p);
  const toolChoice = readToolChoice(body.tool_choice, body.parallel_tool_calls);
  const responseFormat = readResponseFormat(field(body.text, 'format'));
  const reasoning = reasoningFromEffort(field(body.reasoning, 'effort'));
  const user = str(body.user);
  return {
    model: ctx.model,
    system,
    messages,
    tools: readFunctionTools(body.tools, (tool) => tool),
    stop: [],
    stream: ctx.stream,
    extra: extraFields(body, KNOWN),
    ...(toolChoice ? { toolChoice } : {}),
    ...(maxTokens !== undefined ? { maxTokens } : {}),
    ...(temperature !== undefined ? { temperature } : {}),
    ...(topP !== undefined ? { topP } : {}),
    ...(responseFormat ? { responseFormat } : {}),
    ...(reasoning ? { reasoning } : {}),
    ...(user !== undefined ? { user } : {}),
    ...(isObject(body.metadata) ? { metadata: body.metadata } : {}),
  };
}

// ---- writer ------------------------------------------------------------------------------

function inputPart(b: ContentBlock): JsonObject | undefined {
  switch (b.type) {
    case 'text':
      return { type: 'input_text', text: b.text };
    case 'image':
      return { type: 'input_image', image_url: imageUrlOf(b), detail: 'auto' };
    case 'document':
      if (b.source.kind === 'text') return { type: 'input_text', text: b.source.text };
      if (b.source.kind === 'url') {
        return {
          type: 'input_file',
          file_url: b.source.url,
          ...(b.title !== undefined ? { filename: b.title } : {}),
        };
      }
      return {
        type: 'input_file',
        file_data: dataUrl(b.source.mediaType, b.source.data),
        filename: b.title ?? 'document.pdf',
      };
    default:
      return undefined;
  }
}

function writeInput(messages: readonly Message[]): JsonObject[] {
  const items: JsonObject[] = [];
  for (const m of messages) {
    if (m.role === 'assistant') {
      // Assistant text and calls keep their order; reasoning is not replayed (encrypted_content from
      // another provider would be rejected).
      let text = '';
      const flush = (): void => {
        if (text !== '') items.push({ role: 'assistant', content: text });
        text = '';
      };
      for (const b of m.content) {
        if (b.type === 'text') text += b.text;
        else if (b.type === 'tool_use') {
          flush();
          items.push({
            type: 'function_call',
            call_id: nativeToolId(b.id, 'call_'),
            name: b.name,
            arguments: JSON.stringify(b.input),
          });
        }
      }
      flush();
      continue;
    }
    for (const b of m.content) {
      if (b.type !== 'tool_result') continue;
      items.push({
        type: 'function_call_output',
        call_id: nativeToolId(b.toolUseId, 'call_'),
        output: textOnly(b.content),
      });
    }
    const parts = m.content.flatMap((b) => {
      const p = inputPart(b);
      return p ? [p] : [];
    });
    if (parts.length > 0) items.push({ role: 'user', content: parts });
  }
  return items;
}

function writeToolChoice(c: ToolChoice): JsonValue {
  switch (c.type) {
    case 'auto':
      return 'auto';
    case 'any':
      return 'required';
    case 'none':
      return 'none';
    case 'tool':
      return { type: 'function', name: c.name };
  }
}

export function writeResponsesRequest(
  req: Request,
  ctx: { model: string; defaultMaxTokens: number },
): JsonObject {
  const body: JsonObject = { model: ctx.model, input: writeInput(req.messages) };
  if (req.system.length > 0) body.instructions = req.system.map((b) => b.text).join('\n\n');
  if (req.tools.length > 0) {
    // Responses function tools are strict by default, which rejects ordinary JSON schemas.
    body.tools = req.tools.map((t) => ({
      type: 'function',
      name: t.name,
      ...(t.description !== undefined ? { description: t.description } : {}),
      parameters: t.inputSchema,
      strict: false,
    }));
    if (req.toolChoice) {
      body.tool_choice = writeToolChoice(req.toolChoice);
      if (req.toolChoice.type !== 'none' && req.toolChoice.disableParallel) body.parallel_tool_calls = false;
    }
  }
  if (req.maxTokens !== undefined) body.max_output_tokens = req.maxTokens;
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.topP !== undefined) body.top_p = req.topP;
  if (req.responseFormat) {
    const rf = req.responseFormat;
    const format: JsonObject =
      rf.type === 'json_schema'
        ? { type: 'json_schema', name: rf.name, schema: rf.schema }
        : { type: rf.type };
    if (rf.type === 'json_schema' && rf.strict !== undefined) format.strict = rf.strict;
    body.text = { format };
  }
  const effort = effortOf(req.reasoning);
  if (effort !== undefined) body.reasoning = { effort };
  if (req.user !== undefined) body.user = req.user;
  if (req.metadata !== undefined) body.metadata = req.metadata;
  if (req.stream) body.stream = true;
  return body;
}

export function responsesProbeBody(model: string): JsonObject {
  // 16 is the smallest max_output_tokens the Responses API accepts.
  return { model, input: 'ping', max_output_tokens: 16 };
}
