// Checks on what a mock upstream received (P-MTX-2): a valid request in the upstream's own protocol, with the
// lane's model, the provider's native credential, no foreign fields, and tools and tool results in its own shape.

import assert from 'node:assert/strict';
import type { Protocol } from '../../src/protocols/names.ts';
import type { RecordedRequest } from './mock-upstream.ts';
import { CLIENT_TOKEN, type LaneFixture } from './six-providers.ts';

type Json = Record<string, unknown>;

export function upstreamPath(lane: LaneFixture, stream: boolean): string {
  switch (lane.protocol) {
    case 'openai':
      return '/v1/chat/completions';
    case 'responses':
      return '/v1/responses';
    case 'anthropic':
      return '/v1/messages';
    case 'cohere':
      return '/v2/chat';
    case 'gemini':
      return `/v1beta/models/${lane.model}:${stream ? 'streamGenerateContent' : 'generateContent'}`;
    case 'bedrock':
      return `/model/${lane.model}/${stream ? 'converse-stream' : 'converse'}`;
    default: {
      const never: never = lane.protocol;
      throw new Error(`unknown protocol ${String(never)}`);
    }
  }
}

const CREDENTIAL_HEADERS = ['authorization', 'x-api-key', 'x-goog-api-key', 'api-key'];

/** Exactly one credential header, the provider's native one carrying its own key (P-GEN-4). */
export function assertUpstreamAuth(lane: LaneFixture, req: RecordedRequest): void {
  const h = req.headers;
  for (const [name, value] of Object.entries(h)) {
    assert.ok(!value.includes(CLIENT_TOKEN), `client token leaked upstream in header ${name}`);
  }
  const present = CREDENTIAL_HEADERS.filter((name) => h[name] !== undefined);
  assert.equal(present.length, 1, `exactly one credential header upstream, got ${present.join(', ')}`);
  switch (lane.protocol) {
    case 'openai':
    case 'responses':
    case 'cohere':
      assert.equal(h.authorization, `Bearer ${lane.key}`);
      break;
    case 'anthropic':
      assert.equal(h['x-api-key'], lane.key);
      assert.equal(h['anthropic-version'], '2023-06-01');
      break;
    case 'gemini':
      assert.equal(h['x-goog-api-key'], lane.key);
      break;
    case 'bedrock':
      assert.match(
        h.authorization ?? '',
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/bedrock\/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$/,
      );
      assert.match(h['x-amz-date'] ?? '', /^\d{8}T\d{6}Z$/);
      break;
    default: {
      const never: never = lane.protocol;
      throw new Error(`unknown protocol ${String(never)}`);
    }
  }
}

/** Top-level request fields each provider's API defines (and the writers may emit). */
const ALLOWED_FIELDS: Record<Protocol, ReadonlySet<string>> = {
  openai: new Set([
    'model',
    'messages',
    'tools',
    'tool_choice',
    'parallel_tool_calls',
    'max_tokens',
    'max_completion_tokens',
    'temperature',
    'top_p',
    'stop',
    'response_format',
    'reasoning_effort',
    'user',
    'metadata',
    'stream',
    'stream_options',
  ]),
  responses: new Set([
    'model',
    'input',
    'instructions',
    'tools',
    'tool_choice',
    'parallel_tool_calls',
    'max_output_tokens',
    'temperature',
    'top_p',
    'text',
    'reasoning',
    'user',
    'metadata',
    'stream',
  ]),
  anthropic: new Set([
    'model',
    'max_tokens',
    'messages',
    'system',
    'tools',
    'tool_choice',
    'stop_sequences',
    'thinking',
    'temperature',
    'top_p',
    'top_k',
    'output_config',
    'metadata',
    'stream',
  ]),
  gemini: new Set(['contents', 'systemInstruction', 'tools', 'toolConfig', 'generationConfig']),
  cohere: new Set([
    'model',
    'messages',
    'tools',
    'tool_choice',
    'max_tokens',
    'temperature',
    'p',
    'k',
    'stop_sequences',
    'response_format',
    'thinking',
    'stream',
  ]),
  bedrock: new Set([
    'messages',
    'system',
    'inferenceConfig',
    'toolConfig',
    'additionalModelRequestFields',
    'outputConfig',
  ]),
};

function obj(value: unknown, what: string): Json {
  assert.ok(typeof value === 'object' && value !== null && !Array.isArray(value), `${what} is an object`);
  return value as Json;
}

function list(value: unknown, what: string): unknown[] {
  assert.ok(Array.isArray(value), `${what} is an array`);
  return value;
}

/** The max-tokens value in the upstream body, under the protocol's own field. */
function maxTokensOf(protocol: Protocol, body: Json): unknown {
  switch (protocol) {
    case 'openai':
      return body.max_tokens ?? body.max_completion_tokens;
    case 'responses':
      return body.max_output_tokens;
    case 'anthropic':
    case 'cohere':
      return body.max_tokens;
    case 'gemini':
      return (body.generationConfig as Json | undefined)?.maxOutputTokens;
    case 'bedrock':
      return (body.inferenceConfig as Json | undefined)?.maxTokens;
    default: {
      const never: never = protocol;
      throw new Error(`unknown protocol ${String(never)}`);
    }
  }
}

export interface UpstreamExpectation {
  stream: boolean;
  /** The prompt the client sent; it must reach the upstream. */
  prompt: string;
  /** Max tokens the client set, if any. */
  clientMaxTokens: number | undefined;
  /** What Anthropic egress gets when the client set none (the model's default_max_tokens, else 4096). */
  injectedMaxTokens: number;
  /** Client fields that must not cross to another protocol (P-XLT-2). */
  foreignFields: readonly string[];
  /** Ingress and egress protocols match: the body is the client's own bytes (P-FWD-1). */
  sameProtocol: boolean;
  /** The system prompt the client sent, if any: it must sit where this protocol keeps one (P-XLT-6). */
  system?: string;
  /** The temperature the client sent, if any: carried as the exact number (P-IR-1). */
  temperature?: number;
}

/** The system prompt text of an upstream body, read where its protocol keeps it ('' when none). */
function systemOf(protocol: Protocol, body: Json): string {
  const texts = (value: unknown): string =>
    typeof value === 'string'
      ? value
      : Array.isArray(value)
        ? value.map((v) => (obj(v, 'system part').text as string | undefined) ?? '').join('')
        : '';
  switch (protocol) {
    case 'openai':
    case 'cohere':
      return list(body.messages, 'messages')
        .map((m) => obj(m, 'message'))
        .filter((m) => m.role === 'system' || m.role === 'developer')
        .map((m) => texts(m.content))
        .join('');
    case 'responses':
      return typeof body.instructions === 'string' ? body.instructions : '';
    case 'anthropic':
      return texts(body.system);
    case 'gemini': {
      const si = body.systemInstruction;
      if (si === undefined) return '';
      return typeof si === 'string' ? si : texts(obj(si, 'systemInstruction').parts);
    }
    case 'bedrock':
      return body.system === undefined ? '' : texts(body.system);
    default: {
      const never: never = protocol;
      throw new Error(`unknown protocol ${String(never)}`);
    }
  }
}

function temperatureOf(protocol: Protocol, body: Json): unknown {
  if (protocol === 'gemini') return (body.generationConfig as Json | undefined)?.temperature;
  if (protocol === 'bedrock') return (body.inferenceConfig as Json | undefined)?.temperature;
  return body.temperature;
}

/** The upstream request is a valid request in its own protocol (P-MTX-2); returns the parsed body. */
export function assertValidUpstream(req: RecordedRequest, lane: LaneFixture, x: UpstreamExpectation): Json {
  const p = lane.protocol;
  assert.equal(req.method, 'POST');
  assert.equal(req.protocol, p, `request reached the ${p} route`);
  assert.equal(
    req.path,
    upstreamPath(lane, x.stream),
    'egress path, with the lane model for path-model protocols',
  );
  if (p === 'gemini' && x.stream) assert.equal(req.query.get('alt'), 'sse');
  assertUpstreamAuth(lane, req);
  const body = obj(req.json(), 'upstream body');
  assert.ok(JSON.stringify(body).includes(x.prompt), 'the prompt reached the upstream');

  // P-GEN-5: the lane's model in the body for body-model protocols (and Anthropic), never for Gemini/Bedrock.
  if (p === 'gemini' || p === 'bedrock') assert.equal(body.model, undefined, 'no model in a path-model body');
  else assert.equal(body.model, lane.model, 'the lane model in the body');

  if (!x.sameProtocol) {
    const unknown = Object.keys(body).filter((k) => !ALLOWED_FIELDS[p].has(k));
    assert.deepEqual(unknown, [], `only ${p} fields upstream (P-XLT-2)`);
    for (const f of x.foreignFields) assert.equal(body[f], undefined, `client-only field ${f} dropped`);
    // Writers mark a stream only when there is one; a non-stream body carries no stream flag.
    if (p !== 'gemini' && p !== 'bedrock') assert.equal(body.stream, x.stream ? true : undefined);
    if (p === 'openai' && x.stream) assert.deepEqual(body.stream_options, { include_usage: true });
  }

  // P-XLT-3: Anthropic always has max_tokens (the caller's, else the injected default); others never inject.
  const max = maxTokensOf(p, body);
  if (p === 'anthropic') assert.equal(max, x.clientMaxTokens ?? x.injectedMaxTokens, 'anthropic max_tokens');
  else assert.equal(max, x.clientMaxTokens, `${p} max tokens only when the caller set it`);

  assert.equal(systemOf(p, body), x.system ?? '', `system prompt where ${p} keeps it`);
  assert.equal(temperatureOf(p, body), x.temperature, 'temperature carried exactly');

  switch (p) {
    case 'openai':
    case 'anthropic':
    case 'cohere':
    case 'bedrock':
      assert.ok(list(body.messages, 'messages').length > 0, 'messages present');
      break;
    case 'responses':
      assert.ok(typeof body.input === 'string' || list(body.input, 'input').length > 0, 'input present');
      break;
    case 'gemini':
      assert.ok(list(body.contents, 'contents').length > 0, 'contents present');
      break;
    default: {
      const never: never = p;
      throw new Error(`unknown protocol ${String(never)}`);
    }
  }
  return body;
}

export interface DeclaredTool {
  name: unknown;
  schema: unknown;
}

/** Function tools declared in the upstream body, in the upstream protocol's own shape (P-XLT-5). */
export function declaredTools(protocol: Protocol, body: Json): DeclaredTool[] {
  switch (protocol) {
    case 'openai':
    case 'cohere':
      return list(body.tools, 'tools').map((t) => {
        const tool = obj(t, 'tool');
        assert.equal(tool.type, 'function');
        const fn = obj(tool.function, 'tool.function');
        return { name: fn.name, schema: fn.parameters };
      });
    case 'responses':
      return list(body.tools, 'tools').map((t) => {
        const tool = obj(t, 'tool');
        assert.equal(tool.type, 'function');
        return { name: tool.name, schema: tool.parameters };
      });
    case 'anthropic':
      return list(body.tools, 'tools').map((t) => {
        const tool = obj(t, 'tool');
        return { name: tool.name, schema: tool.input_schema };
      });
    case 'gemini':
      return list(body.tools, 'tools').flatMap((t) =>
        list(obj(t, 'tool').functionDeclarations, 'functionDeclarations').map((d) => {
          const decl = obj(d, 'functionDeclaration');
          return { name: decl.name, schema: decl.parametersJsonSchema ?? decl.parameters };
        }),
      );
    case 'bedrock':
      return list(obj(body.toolConfig, 'toolConfig').tools, 'toolConfig.tools').flatMap((t) => {
        const spec = obj(t, 'tool').toolSpec;
        if (spec === undefined) return []; // a cachePoint entry
        const s = obj(spec, 'toolSpec');
        return [{ name: s.name, schema: obj(s.inputSchema, 'inputSchema').json }];
      });
    default: {
      const never: never = protocol;
      throw new Error(`unknown protocol ${String(never)}`);
    }
  }
}

export interface ToolExchange {
  /** The assistant's earlier calls as replayed upstream. */
  calls: Array<{ id: unknown; name: unknown; args: unknown }>;
  /** The tool results, with the id (and name where the protocol carries one) they answer. */
  results: Array<{ id: unknown; name: unknown; value: unknown }>;
}

function parsed(text: unknown): unknown {
  if (typeof text !== 'string') return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Text of a content field that is a string or a list of `{type:'text', text}` parts. */
function textOf(content: unknown): unknown {
  if (!Array.isArray(content)) return content;
  return content.map((c) => (obj(c, 'content part').text as string | undefined) ?? '').join('');
}

/** The replayed calls and their results in a turn-2 upstream body, read in the upstream's own shape. */
export function toolExchange(protocol: Protocol, body: Json): ToolExchange {
  const out: ToolExchange = { calls: [], results: [] };
  switch (protocol) {
    case 'openai':
    case 'cohere':
      for (const m of list(body.messages, 'messages')) {
        const msg = obj(m, 'message');
        for (const c of (msg.tool_calls as unknown[] | undefined) ?? []) {
          const call = obj(c, 'tool call');
          const fn = obj(call.function, 'tool call function');
          assert.equal(typeof fn.arguments, 'string', 'arguments travel as a JSON string');
          out.calls.push({ id: call.id, name: fn.name, args: parsed(fn.arguments) });
        }
        if (msg.role === 'tool') {
          out.results.push({ id: msg.tool_call_id, name: undefined, value: parsed(textOf(msg.content)) });
        }
      }
      return out;
    case 'responses':
      for (const i of list(body.input, 'input')) {
        const item = obj(i, 'input item');
        if (item.type === 'function_call') {
          assert.equal(typeof item.arguments, 'string', 'arguments travel as a JSON string');
          out.calls.push({ id: item.call_id, name: item.name, args: parsed(item.arguments) });
        }
        if (item.type === 'function_call_output') {
          out.results.push({ id: item.call_id, name: undefined, value: parsed(textOf(item.output)) });
        }
      }
      return out;
    case 'anthropic':
      for (const m of list(body.messages, 'messages')) {
        const msg = obj(m, 'message');
        if (!Array.isArray(msg.content)) continue;
        for (const b of msg.content) {
          const block = obj(b, 'block');
          if (block.type === 'tool_use')
            out.calls.push({ id: block.id, name: block.name, args: block.input });
          if (block.type === 'tool_result') {
            out.results.push({
              id: block.tool_use_id,
              name: undefined,
              value: parsed(textOf(block.content)),
            });
          }
        }
      }
      return out;
    case 'gemini':
      for (const c of list(body.contents, 'contents')) {
        for (const p of list(obj(c, 'content').parts, 'parts')) {
          const part = obj(p, 'part');
          if (part.functionCall !== undefined) {
            const call = obj(part.functionCall, 'functionCall');
            out.calls.push({ id: call.id, name: call.name, args: call.args });
          }
          if (part.functionResponse !== undefined) {
            const r = obj(part.functionResponse, 'functionResponse');
            out.results.push({ id: r.id, name: r.name, value: r.response });
          }
        }
      }
      return out;
    case 'bedrock':
      for (const m of list(body.messages, 'messages')) {
        for (const b of list(obj(m, 'message').content, 'content')) {
          const block = obj(b, 'block');
          if (block.toolUse !== undefined) {
            const t = obj(block.toolUse, 'toolUse');
            out.calls.push({ id: t.toolUseId, name: t.name, args: t.input });
          }
          if (block.toolResult !== undefined) {
            const r = obj(block.toolResult, 'toolResult');
            const content = list(r.content, 'toolResult.content').map((x) => obj(x, 'toolResult item'));
            const value = content[0]?.json ?? parsed(content.map((x) => x.text ?? '').join(''));
            out.results.push({ id: r.toolUseId, name: undefined, value });
          }
        }
      }
      return out;
    default: {
      const never: never = protocol;
      throw new Error(`unknown protocol ${String(never)}`);
    }
  }
}
