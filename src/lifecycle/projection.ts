// The request projection a webhook or script policy sees (gateway.md §2.9): size hints read from
// the client's own body before any translation, never its text (unless the operator asked for the
// prompt). Protocols whose bodies use other keys yield zeros: these are hints, not token counts.

import type { RequestContext } from './context.ts';
import { OFF_THREAD_BYTES, offThread } from './translate-request.ts';

export interface RequestProjection {
  readonly pool: string;
  readonly ingress_protocol: string;
  readonly requested_model: string | null;
  readonly message_count: number;
  readonly has_tools: boolean;
  readonly tool_count: number;
  readonly system_chars: number;
  readonly total_chars: number;
  readonly max_tokens: number | null;
  readonly stream: boolean;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Unicode code points, as the spec counts characters. */
function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // A high surrogate followed by a low one is one code point.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

const isObject = (v: Json | undefined): v is { [key: string]: Json } =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A message's text: a string `content`, or each `text` field of its content blocks. */
function messageText(message: Json, out: string[]): void {
  if (!isObject(message)) return;
  const content = message.content;
  if (typeof content === 'string') out.push(content);
  else if (Array.isArray(content))
    for (const block of content) if (isObject(block) && typeof block.text === 'string') out.push(block.text);
}

/** What the projection reads from the body itself (the rest comes from the request context). */
export interface BodyFacts {
  readonly requested_model: string | null;
  readonly message_count: number;
  readonly tool_count: number;
  readonly system_chars: number;
  readonly total_chars: number;
  readonly max_tokens: number | null;
  /** The system prompt and every message's text, in order; only when asked for. */
  readonly prompt: string | undefined;
}

/** The body facts of a client's request bytes: one JSON parse (zeros for a body it cannot parse). */
export function readBodyFacts(bytes: Uint8Array, withPrompt: boolean): BodyFacts {
  let body: Json = null;
  try {
    body = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString()) as Json;
  } catch {
    // A body the router could read but this parse cannot still routes: zeros.
  }
  const root = isObject(body) ? body : {};
  const messages = Array.isArray(root.messages) ? root.messages : [];
  const tools = Array.isArray(root.tools) ? root.tools : [];
  const system = typeof root.system === 'string' ? root.system : '';
  const texts: string[] = system === '' ? [] : [system];
  for (const m of messages) messageText(m, texts);
  let total = 0;
  for (const t of texts) total += codePoints(t);
  const maxTokens = root.max_tokens;
  return {
    requested_model: typeof root.model === 'string' ? root.model : null,
    message_count: messages.length,
    tool_count: tools.length,
    system_chars: codePoints(system),
    total_chars: total,
    max_tokens: typeof maxTokens === 'number' && Number.isInteger(maxTokens) ? maxTokens : null,
    prompt: withPrompt ? texts.join('\n\n') : undefined,
  };
}

/**
 * The projection of `ctx`'s body for the pool `pool`, and the prompt text when `withPrompt`. A large
 * body is read on the worker thread, so a policy never stalls the event loop on its parse.
 */
export async function projectRequest(
  ctx: RequestContext,
  pool: string,
  withPrompt: boolean,
): Promise<{ projection: RequestProjection; prompt: string | undefined }> {
  const facts =
    ctx.body.length > OFF_THREAD_BYTES
      ? await offThread<BodyFacts>({ kind: 'facts', body: ctx.body, withPrompt })
      : readBodyFacts(ctx.body, withPrompt);
  return {
    projection: {
      pool,
      ingress_protocol: ctx.ingress,
      requested_model: facts.requested_model ?? (ctx.name === '' ? null : ctx.name),
      message_count: facts.message_count,
      has_tools: facts.tool_count > 0,
      tool_count: facts.tool_count,
      system_chars: facts.system_chars,
      total_chars: facts.total_chars,
      max_tokens: facts.max_tokens,
      stream: ctx.stream,
    },
    prompt: facts.prompt,
  };
}
