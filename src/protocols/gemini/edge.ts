import type { ProtocolEdge } from '../edge.ts';
import { geminiAuthFailure, geminiModelNotFound, readGeminiError, writeGeminiError } from './errors.ts';

export const geminiEdge: ProtocolEdge = {
  protocol: 'gemini',
  modelIn: 'path',
  bodyNamesModel: false,
  egressPath: (model, stream, sse) =>
    stream
      ? `/v1beta/models/${encodeURIComponent(model)}:streamGenerateContent${sse ? '?alt=sse' : ''}`
      : `/v1beta/models/${encodeURIComponent(model)}:generateContent`,
  credentialHeaders: (key, apiKeyStyle): Record<string, string> =>
    apiKeyStyle ? { 'api-key': key } : { 'x-goog-api-key': key },
  fixedHeaders: {},
  forwardedClientHeaders: [],
  usesSigV4: false,
  streamAccept: 'text/event-stream',
  writeError: writeGeminiError,
  readError: (_status, body) => readGeminiError(body),
  authFailure: geminiAuthFailure,
  modelNotFound: geminiModelNotFound,
};
