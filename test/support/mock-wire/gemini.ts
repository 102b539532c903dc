// Gemini generateContent wire shapes (GenerateContentResponse; SSE with alt=sse, else a streamed JSON array).

import {
  type MockAnswer,
  mockId,
  type ProtocolWire,
  type StreamContext,
  splitText,
  sse,
  type WireReply,
} from './shared.ts';

function googleStatus(status: number): string {
  switch (status) {
    case 400:
      return 'INVALID_ARGUMENT';
    case 401:
      return 'UNAUTHENTICATED';
    case 403:
      return 'PERMISSION_DENIED';
    case 404:
      return 'NOT_FOUND';
    case 429:
      return 'RESOURCE_EXHAUSTED';
    case 500:
      return 'INTERNAL';
    case 503:
      return 'UNAVAILABLE';
    case 504:
      return 'DEADLINE_EXCEEDED';
    default:
      return status >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT';
  }
}

function usageMetadata(answer: MockAnswer): Record<string, unknown> {
  return {
    promptTokenCount: answer.usage.input,
    candidatesTokenCount: answer.usage.output,
    totalTokenCount: answer.usage.input + answer.usage.output,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: answer.usage.input }],
  };
}

function chunkBody(
  answer: MockAnswer,
  parts: Array<Record<string, unknown>>,
  last: boolean,
): Record<string, unknown> {
  const candidate: Record<string, unknown> = { content: { parts, role: 'model' } };
  if (last) candidate.finishReason = answer.truncated ? 'MAX_TOKENS' : 'STOP';
  candidate.index = 0;
  const out: Record<string, unknown> = { candidates: [candidate] };
  if (last) out.usageMetadata = usageMetadata(answer);
  out.modelVersion = answer.model;
  out.responseId = mockId('', answer.seq, 20);
  return out;
}

function hasFunctionDeclarations(tool: unknown): boolean {
  if (typeof tool !== 'object' || tool === null) return false;
  const t = tool as Record<string, unknown>;
  const decls = t.functionDeclarations ?? t.function_declarations;
  return Array.isArray(decls) && decls.length > 0;
}

export const geminiWire: ProtocolWire = {
  protocol: 'gemini',

  declaresTools(body) {
    return Array.isArray(body?.tools) && body.tools.some(hasFunctionDeclarations);
  },

  nonStream(answer: MockAnswer): WireReply {
    const tc = answer.toolCall;
    const parts = tc ? [{ functionCall: { name: tc.name, args: tc.arguments } }] : [{ text: answer.text }];
    return {
      status: 200,
      headers: { 'content-type': 'application/json; charset=UTF-8' },
      chunks: [JSON.stringify(chunkBody(answer, parts, true))],
    };
  },

  stream(answer: MockAnswer, ctx: StreamContext): WireReply {
    const tc = answer.toolCall;
    const bodies: Array<Record<string, unknown>> = [];
    if (tc) {
      // Gemini streams a function call whole, in one part, with the finish reason and usage.
      bodies.push(chunkBody(answer, [{ functionCall: { name: tc.name, args: tc.arguments } }], true));
    } else {
      const pieces = splitText(answer.text);
      pieces.forEach((text, i) => {
        bodies.push(chunkBody(answer, [{ text }], i === pieces.length - 1));
      });
    }
    if (ctx.sse) {
      return {
        status: 200,
        headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
        chunks: bodies.map((b) => sse(b, undefined, '\r\n')),
      };
    }
    // Without alt=sse Google writes one JSON array incrementally: `[{…}\n,\r\n{…}\n]`.
    const chunks = bodies.map((b, i) => (i === 0 ? '[' : '\n,\r\n') + JSON.stringify(b, null, 2));
    chunks.push('\n]');
    return { status: 200, headers: { 'content-type': 'application/json; charset=UTF-8' }, chunks };
  },

  error(status: number, message: string): WireReply {
    return {
      status,
      headers: { 'content-type': 'application/json; charset=UTF-8' },
      chunks: [JSON.stringify({ error: { code: status, message, status: googleStatus(status) } })],
    };
  },
};
