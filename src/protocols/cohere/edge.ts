import { bearer, type ProtocolEdge } from '../edge.ts';
import { cohereAuthFailure, cohereModelNotFound, readCohereError, writeCohereError } from './errors.ts';

export const cohereEdge: ProtocolEdge = {
  protocol: 'cohere',
  modelIn: 'body',
  bodyNamesModel: true,
  egressPath: () => '/v2/chat',
  credentialHeaders: bearer,
  fixedHeaders: {},
  keyInQuery: false,
  genAiProvider: 'cohere',
  errorRelayHeaders: [],
  forwardedClientHeaders: [],
  loadSigner: undefined,
  streamAccept: 'text/event-stream',
  streamFramings: [],
  translatedStreamFraming: undefined,
  writeError: writeCohereError,
  readError: (_status, body) => readCohereError(body),
  authFailure: cohereAuthFailure,
  modelNotFound: cohereModelNotFound,
};
