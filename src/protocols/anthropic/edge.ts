import type { ProtocolEdge } from '../edge.ts';
import {
  anthropicAuthFailure,
  anthropicModelNotFound,
  readAnthropicError,
  writeAnthropicError,
} from './errors.ts';

export const ANTHROPIC_VERSION = '2023-06-01';

export const anthropicEdge: ProtocolEdge = {
  protocol: 'anthropic',
  modelIn: 'path',
  bodyNamesModel: true,
  egressPath: () => '/v1/messages',
  // API keys go in x-api-key; OAuth tokens (sk-ant-oat…) are bearer. Exactly one header (G-CFG-22).
  credentialHeaders: (key, apiKeyStyle): Record<string, string> => {
    if (apiKeyStyle) return { 'api-key': key };
    return key.startsWith('sk-ant-oat') ? { authorization: `Bearer ${key}` } : { 'x-api-key': key };
  },
  fixedHeaders: { 'anthropic-version': ANTHROPIC_VERSION },
  keyInQuery: false,
  genAiProvider: 'anthropic',
  errorRelayHeaders: ['request-id'],
  forwardedClientHeaders: ['anthropic-beta'],
  loadSigner: undefined,
  streamAccept: 'text/event-stream',
  streamFramings: [],
  translatedStreamFraming: undefined,
  writeError: writeAnthropicError,
  readError: (_status, body) => readAnthropicError(body),
  authFailure: anthropicAuthFailure,
  modelNotFound: anthropicModelNotFound,
};
