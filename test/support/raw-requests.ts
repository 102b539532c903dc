// Minimal hand-written requests per ingress protocol, for byte-exact and hostile-input checks without an SDK.

import type { Protocol } from '../../src/protocols/names.ts';

/** A raw request for `name` in the lane's protocol, so the relayed bytes can be compared exactly. */
export function rawRequest(
  protocol: Protocol,
  name: string,
  stream: boolean,
  prompt = 'Say hello.',
): { path: string; body: string } {
  switch (protocol) {
    case 'openai':
      return {
        path: '/v1/chat/completions',
        body: JSON.stringify({
          model: name,
          messages: [{ role: 'user', content: prompt }],
          stream,
          ...(stream ? { stream_options: { include_usage: true } } : {}),
        }),
      };
    case 'responses':
      return { path: '/v1/responses', body: JSON.stringify({ model: name, input: prompt, stream }) };
    case 'anthropic':
      return {
        path: `/${name}/v1/messages`,
        body: JSON.stringify({
          model: name,
          max_tokens: 64,
          messages: [{ role: 'user', content: prompt }],
          stream,
        }),
      };
    case 'cohere':
      return {
        path: '/v2/chat',
        body: JSON.stringify({ model: name, messages: [{ role: 'user', content: prompt }], stream }),
      };
    case 'gemini':
      return {
        path: `/v1beta/models/${name}:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`,
        body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: prompt }] }] }),
      };
    case 'bedrock':
      return {
        path: `/model/${encodeURIComponent(name)}/${stream ? 'converse-stream' : 'converse'}`,
        body: JSON.stringify({ messages: [{ role: 'user', content: [{ text: prompt }] }] }),
      };
    default: {
      const never: never = protocol;
      throw new Error(`unknown protocol ${String(never)}`);
    }
  }
}

export interface RawResponse {
  status: number;
  headers: Headers;
  body: string;
}

/** POSTs `body` to the gateway with a bearer client token (unless `headers` overrides it). */
export async function postRaw(
  url: string,
  body: string | Uint8Array,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: res.status, headers: res.headers, body: await res.text() };
}
