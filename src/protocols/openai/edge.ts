import { bearer, type ProtocolEdge } from '../edge.ts';
import { openAIAuthFailure, openAIModelNotFound, readOpenAIError, writeOpenAIError } from './errors.ts';

export const openaiEdge: ProtocolEdge = {
  protocol: 'openai',
  modelIn: 'body',
  bodyNamesModel: true,
  egressPath: () => '/v1/chat/completions',
  credentialHeaders: bearer,
  fixedHeaders: {},
  keyInQuery: false,
  genAiProvider: 'openai',
  errorRelayHeaders: [],
  forwardedClientHeaders: [],
  loadSigner: undefined,
  streamAccept: 'text/event-stream',
  streamFramings: [],
  translatedStreamFraming: undefined,
  writeError: writeOpenAIError,
  readError: (_status, body) => readOpenAIError(body),
  authFailure: openAIAuthFailure,
  modelNotFound: openAIModelNotFound,
};
