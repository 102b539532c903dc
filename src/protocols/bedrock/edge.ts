import type { ProtocolEdge } from '../edge.ts';
import { bedrockAuthFailure, bedrockModelNotFound, readBedrockError, writeBedrockError } from './errors.ts';

export const bedrockEdge: ProtocolEdge = {
  protocol: 'bedrock',
  modelIn: 'path',
  bodyNamesModel: false,
  egressPath: (model, stream) =>
    `/model/${encodeURIComponent(model)}/${stream ? 'converse-stream' : 'converse'}`,
  // Bedrock signs every request with SigV4; a bearer-style credential is only used in passthrough.
  credentialHeaders: (key) => ({ authorization: `Bearer ${key}` }),
  fixedHeaders: {},
  keyInQuery: false,
  genAiProvider: 'aws.bedrock',
  errorRelayHeaders: ['x-amzn-requestid', 'x-amzn-errortype'],
  forwardedClientHeaders: [],
  loadSigner: async () => {
    const { BedrockSigner } = await import('./sigv4.ts');
    return (key, baseUrl) => new BedrockSigner(key, baseUrl);
  },
  streamAccept: 'application/vnd.amazon.eventstream',
  streamFramings: [],
  translatedStreamFraming: undefined,
  writeError: writeBedrockError,
  readError: (_status, body, headers) => readBedrockError(body, headers),
  authFailure: bedrockAuthFailure,
  modelNotFound: bedrockModelNotFound,
};
