import { bearer, type ProtocolEdge } from '../edge.ts';
import {
  openAIAuthFailure,
  openAIModelNotFound,
  readOpenAIError,
  writeOpenAIError,
} from '../openai/errors.ts';

export const responsesEdge: ProtocolEdge = {
  protocol: 'responses',
  modelIn: 'body',
  bodyNamesModel: true,
  egressPath: () => '/v1/responses',
  credentialHeaders: bearer,
  fixedHeaders: {},
  keyInQuery: false,
  genAiProvider: 'openai',
  errorRelayHeaders: [],
  forwardedClientHeaders: ['openai-beta'],
  loadSigner: undefined,
  streamAccept: 'text/event-stream',
  streamFramings: [],
  translatedStreamFraming: undefined,
  writeError: writeOpenAIError,
  readError: (_status, body) => readOpenAIError(body),
  authFailure: openAIAuthFailure,
  modelNotFound: openAIModelNotFound,
};
