// The Anthropic Messages codec: request, response, stream and error sides behind ProtocolCodec.

import type { ProtocolCodec } from '../codec.ts';
import {
  anthropicAuthFailure,
  anthropicModelNotFound,
  readAnthropicError,
  writeAnthropicError,
} from './errors.ts';
import { anthropicProbeBody, readAnthropicRequest, writeAnthropicRequest } from './request.ts';
import {
  anthropicAnswerFacts,
  readAnthropicResponse,
  usageFromAnthropicResponse,
  writeAnthropicResponse,
} from './response.ts';
import { AnthropicStreamReader, AnthropicStreamWriter } from './stream.ts';

export const anthropicCodec: ProtocolCodec = {
  protocol: 'anthropic',
  carriesStop: true,
  readRequest: readAnthropicRequest,
  writeRequest: writeAnthropicRequest,
  probeBody: anthropicProbeBody,
  readResponse: readAnthropicResponse,
  writeResponse: writeAnthropicResponse,
  newStreamReader: () => new AnthropicStreamReader(),
  newStreamWriter: () => new AnthropicStreamWriter(),
  usageFromResponse: usageFromAnthropicResponse,
  answerFacts: anthropicAnswerFacts,
  readError: (_status, body) => readAnthropicError(body),
  writeError: writeAnthropicError,
  authFailure: anthropicAuthFailure,
  modelNotFound: anthropicModelNotFound,
};
