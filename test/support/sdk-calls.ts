// One call per official SDK (stream or not), capturing the exact bytes the SDK sent and what it parsed.
//
// Used by the gateway e2e tests: point `baseUrl` at the gateway (or at a mock) and compare.

import { Agent as HttpsAgent } from 'node:https';
import Anthropic from '@anthropic-ai/sdk';
import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
} from '@aws-sdk/client-bedrock-runtime';
import { GoogleGenAI } from '@google/genai';
import { NodeHttp2Handler, NodeHttpHandler } from '@smithy/node-http-handler';
import { CohereClientV2 } from 'cohere-ai';
import OpenAI from 'openai';
import type { Protocol } from '../../src/protocols/names.ts';

export interface SentRequest {
  url: string;
  /** The request body exactly as the SDK put it on the wire. */
  body: Buffer;
}

export interface SdkResult {
  /** Concatenated answer text as the SDK surfaced it. */
  text: string;
  /** [input, output] token counts as the SDK surfaced them (undefined when it does not). */
  usage: [number | undefined, number | undefined] | undefined;
  /** Number of text deltas seen (streams only). */
  deltas: number;
  sent: SentRequest;
}

export interface SdkCallOptions {
  /** Gateway (or mock) origin, e.g. `http://127.0.0.1:1234`. */
  baseUrl: string;
  /** Client credential (the gateway's client token). */
  token: string;
  /** Pool or model name the client asks for. */
  name: string;
  stream: boolean;
  prompt?: string;
  /**
   * Bedrock only: `http1` forces HTTP/1.1 through @smithy/node-http-handler; `default` keeps the SDK's own
   * transport, which is HTTP/2 (cleartext prior knowledge on http:// endpoints).
   */
  bedrockTransport?: 'http1' | 'default';
  /**
   * Bedrock only: TLS material for an https:// gateway signed by a test CA (the fetch-based SDKs
   * take theirs from the global dispatcher).
   */
  tls?: { readonly ca: Buffer; readonly cert?: Buffer; readonly key?: Buffer };
}

export function bodyBytes(body: unknown): Buffer {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  throw new Error(`cannot capture request body of type ${Object.prototype.toString.call(body)}`);
}

/** A fetch that records each request's URL and body bytes before sending it. */
export function capturingFetch(): { fetch: typeof fetch; sent: SentRequest[] } {
  const sent: SentRequest[] = [];
  const wrapped = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    sent.push({ url, body: bodyBytes(init?.body) });
    return fetch(input, init);
  };
  return { fetch: wrapped as typeof fetch, sent };
}

function onlySent(sent: SentRequest[]): SentRequest {
  if (sent.length !== 1) throw new Error(`expected the SDK to send one request, it sent ${sent.length}`);
  return sent[0]!;
}

const DEFAULT_PROMPT = 'Say hello.';

export async function callOpenAIChat(o: SdkCallOptions): Promise<SdkResult> {
  const cap = capturingFetch();
  const client = new OpenAI({ baseURL: `${o.baseUrl}/v1`, apiKey: o.token, maxRetries: 0, fetch: cap.fetch });
  const messages = [{ role: 'user' as const, content: o.prompt ?? DEFAULT_PROMPT }];
  if (!o.stream) {
    const r = await client.chat.completions.create({ model: o.name, messages });
    return {
      text: r.choices[0]?.message.content ?? '',
      usage: [r.usage?.prompt_tokens, r.usage?.completion_tokens],
      deltas: 0,
      sent: onlySent(cap.sent),
    };
  }
  const s = await client.chat.completions.create({
    model: o.name,
    messages,
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let deltas = 0;
  let usage: SdkResult['usage'];
  for await (const c of s) {
    const d = c.choices[0]?.delta.content;
    if (d) {
      text += d;
      deltas += 1;
    }
    if (c.usage) usage = [c.usage.prompt_tokens, c.usage.completion_tokens];
  }
  return { text, usage, deltas, sent: onlySent(cap.sent) };
}

export async function callOpenAIResponses(o: SdkCallOptions): Promise<SdkResult> {
  const cap = capturingFetch();
  const client = new OpenAI({ baseURL: `${o.baseUrl}/v1`, apiKey: o.token, maxRetries: 0, fetch: cap.fetch });
  const input = o.prompt ?? DEFAULT_PROMPT;
  if (!o.stream) {
    const r = await client.responses.create({ model: o.name, input });
    return {
      text: r.output_text,
      usage: [r.usage?.input_tokens, r.usage?.output_tokens],
      deltas: 0,
      sent: onlySent(cap.sent),
    };
  }
  const s = await client.responses.create({ model: o.name, input, stream: true });
  let text = '';
  let deltas = 0;
  let usage: SdkResult['usage'];
  for await (const e of s) {
    if (e.type === 'response.output_text.delta') {
      text += e.delta;
      deltas += 1;
    }
    if (e.type === 'response.completed')
      usage = [e.response.usage?.input_tokens, e.response.usage?.output_tokens];
  }
  return { text, usage, deltas, sent: onlySent(cap.sent) };
}

/** Anthropic routes by URL: the SDK appends `/v1/messages` to `<gateway>/<name>`. The body names `name` too. */
export async function callAnthropic(o: SdkCallOptions): Promise<SdkResult> {
  const cap = capturingFetch();
  const client = new Anthropic({
    baseURL: `${o.baseUrl}/${o.name}`,
    apiKey: o.token,
    maxRetries: 0,
    fetch: cap.fetch,
  });
  const params = {
    model: o.name,
    max_tokens: 256,
    messages: [{ role: 'user' as const, content: o.prompt ?? DEFAULT_PROMPT }],
  };
  if (!o.stream) {
    const r = await client.messages.create(params);
    const text = r.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
    return {
      text,
      usage: [r.usage.input_tokens, r.usage.output_tokens],
      deltas: 0,
      sent: onlySent(cap.sent),
    };
  }
  const s = await client.messages.create({ ...params, stream: true });
  let text = '';
  let deltas = 0;
  let input: number | undefined;
  let output: number | undefined;
  for await (const e of s) {
    if (e.type === 'message_start') input = e.message.usage.input_tokens;
    if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') {
      text += e.delta.text;
      deltas += 1;
    }
    if (e.type === 'message_delta') output = e.usage.output_tokens;
  }
  return { text, usage: [input, output], deltas, sent: onlySent(cap.sent) };
}

/** genai builds `<baseUrl>/v1beta/models/<name>:generateContent` (stream: `:streamGenerateContent?alt=sse`). */
export async function callGemini(o: SdkCallOptions): Promise<SdkResult> {
  const cap = capturingFetch();
  const client = new GoogleGenAI({ apiKey: o.token, httpOptions: { baseUrl: o.baseUrl, fetch: cap.fetch } });
  const params = { model: o.name, contents: o.prompt ?? DEFAULT_PROMPT };
  if (!o.stream) {
    const r = await client.models.generateContent(params);
    return {
      text: r.text ?? '',
      usage: [r.usageMetadata?.promptTokenCount, r.usageMetadata?.candidatesTokenCount],
      deltas: 0,
      sent: onlySent(cap.sent),
    };
  }
  const s = await client.models.generateContentStream(params);
  let text = '';
  let deltas = 0;
  let usage: SdkResult['usage'];
  for await (const c of s) {
    if (c.text) {
      text += c.text;
      deltas += 1;
    }
    if (c.usageMetadata) usage = [c.usageMetadata.promptTokenCount, c.usageMetadata.candidatesTokenCount];
  }
  return { text, usage, deltas, sent: onlySent(cap.sent) };
}

/** cohere-ai joins `environment` with `v2/chat`; it always sends `stream` (false or true) as the last field. */
export async function callCohere(o: SdkCallOptions): Promise<SdkResult> {
  const cap = capturingFetch();
  const client = new CohereClientV2({
    token: o.token,
    environment: o.baseUrl,
    maxRetries: 0,
    fetch: cap.fetch,
  });
  const params = {
    model: o.name,
    messages: [{ role: 'user' as const, content: o.prompt ?? DEFAULT_PROMPT }],
  };
  if (!o.stream) {
    const r = await client.chat(params);
    const text = (r.message.content ?? []).map((c) => (c.type === 'text' ? c.text : '')).join('');
    return {
      text,
      usage: [r.usage?.tokens?.inputTokens, r.usage?.tokens?.outputTokens],
      deltas: 0,
      sent: onlySent(cap.sent),
    };
  }
  const s = await client.chatStream(params);
  let text = '';
  let deltas = 0;
  let usage: SdkResult['usage'];
  for await (const e of s) {
    if (e.type === 'content-delta') {
      text += e.delta?.message?.content?.text ?? '';
      deltas += 1;
    }
    if (e.type === 'message-end')
      usage = [e.delta?.usage?.tokens?.inputTokens, e.delta?.usage?.tokens?.outputTokens];
  }
  return { text, usage, deltas, sent: onlySent(cap.sent) };
}

/**
 * Bedrock Runtime with API-key (bearer) auth: `token` + `authSchemePreference: ['httpBearerAuth']` makes the v3
 * SDK send `Authorization: Bearer <token>` instead of SigV4. The body is captured by a finalizeRequest middleware.
 */
export function bedrockClient(o: Pick<SdkCallOptions, 'baseUrl' | 'token' | 'bedrockTransport' | 'tls'>): {
  client: BedrockRuntimeClient;
  sent: SentRequest[];
} {
  const client = new BedrockRuntimeClient({
    endpoint: o.baseUrl,
    region: 'us-east-1',
    token: { token: o.token },
    authSchemePreference: ['httpBearerAuth'],
    maxAttempts: 1,
    ...bedrockHandler(o),
  });
  const sent: SentRequest[] = [];
  client.middlewareStack.add(
    (next) => async (args) => {
      const req = args.request as {
        protocol: string;
        hostname: string;
        port?: number;
        path: string;
        body: unknown;
      };
      sent.push({
        url: `${req.protocol}//${req.hostname}${req.port ? `:${req.port}` : ''}${req.path}`,
        body: bodyBytes(req.body),
      });
      return next(args);
    },
    { step: 'finalizeRequest', name: 'busbarCaptureBody' },
  );
  return { client, sent };
}

/** HTTP/1.1 through NodeHttpHandler, or the SDK's default HTTP/2 handler (given TLS material if any). */
function bedrockHandler(o: Pick<SdkCallOptions, 'bedrockTransport' | 'tls'>): {
  requestHandler?: NodeHttpHandler | NodeHttp2Handler;
} {
  if ((o.bedrockTransport ?? 'http1') === 'http1')
    return { requestHandler: new NodeHttpHandler(o.tls ? { httpsAgent: new HttpsAgent(o.tls) } : {}) };
  return o.tls ? { requestHandler: new NodeHttp2Handler({ nodeHttp2ConnectOptions: o.tls }) } : {};
}

export async function callBedrock(o: SdkCallOptions): Promise<SdkResult> {
  const { client, sent } = bedrockClient(o);
  const input = {
    modelId: o.name,
    messages: [{ role: 'user' as const, content: [{ text: o.prompt ?? DEFAULT_PROMPT }] }],
  };
  try {
    if (!o.stream) {
      const r = await client.send(new ConverseCommand(input));
      const text = (r.output?.message?.content ?? []).map((c) => c.text ?? '').join('');
      return { text, usage: [r.usage?.inputTokens, r.usage?.outputTokens], deltas: 0, sent: onlySent(sent) };
    }
    const r = await client.send(new ConverseStreamCommand(input));
    let text = '';
    let deltas = 0;
    let usage: SdkResult['usage'];
    for await (const e of r.stream ?? []) {
      const d = e.contentBlockDelta?.delta?.text;
      if (d !== undefined) {
        text += d;
        deltas += 1;
      }
      if (e.metadata?.usage) usage = [e.metadata.usage.inputTokens, e.metadata.usage.outputTokens];
    }
    return { text, usage, deltas, sent: onlySent(sent) };
  } finally {
    client.destroy();
  }
}

export const SDK_CALLS: Record<Protocol, (o: SdkCallOptions) => Promise<SdkResult>> = {
  openai: callOpenAIChat,
  responses: callOpenAIResponses,
  anthropic: callAnthropic,
  gemini: callGemini,
  cohere: callCohere,
  bedrock: callBedrock,
};
