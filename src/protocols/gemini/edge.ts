import type { ProtocolEdge } from '../edge.ts';
import { geminiAuthFailure, geminiModelNotFound, readGeminiError, writeGeminiError } from './errors.ts';
import { ARRAY, SSE } from './framing.ts';

export const geminiEdge: ProtocolEdge = {
  protocol: 'gemini',
  modelIn: 'path',
  bodyNamesModel: false,
  egressPath: (model, stream, framing) =>
    stream
      ? `/v1beta/models/${encodeURIComponent(model)}:streamGenerateContent${framing === SSE ? '?alt=sse' : ''}`
      : `/v1beta/models/${encodeURIComponent(model)}:generateContent`,
  credentialHeaders: (key, apiKeyStyle): Record<string, string> =>
    apiKeyStyle ? { 'api-key': key } : { 'x-goog-api-key': key },
  fixedHeaders: {},
  keyInQuery: true,
  genAiProvider: 'gcp.gemini',
  errorRelayHeaders: [],
  forwardedClientHeaders: [],
  loadSigner: undefined,
  streamAccept: 'text/event-stream',
  streamFramings: [SSE, ARRAY],
  // A translated stream is always asked for as SSE; a forwarded one keeps the client's framing.
  translatedStreamFraming: SSE,
  writeError: writeGeminiError,
  readError: (_status, body) => readGeminiError(body),
  authFailure: geminiAuthFailure,
  modelNotFound: geminiModelNotFound,
};
