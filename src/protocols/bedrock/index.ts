// The Bedrock Converse protocol: request, response, stream and error sides in one codec.

import type { ProtocolCodec } from '../codec.ts';
import { bedrockAuthFailure, bedrockModelNotFound, readBedrockError, writeBedrockError } from './errors.ts';
import { bedrockProbeBody, readBedrockRequest, writeBedrockRequest } from './request.ts';
import {
  bedrockAnswerFacts,
  bedrockUsageFromResponse,
  readBedrockResponse,
  writeBedrockResponse,
} from './response.ts';
import { BedrockStreamReader, BedrockStreamWriter } from './stream.ts';

export const bedrockCodec: ProtocolCodec = {
  protocol: 'bedrock',
  carriesStop: true,
  readRequest: readBedrockRequest,
  writeRequest: writeBedrockRequest,
  probeBody: bedrockProbeBody,
  readResponse: readBedrockResponse,
  writeResponse: writeBedrockResponse,
  newStreamReader: () => new BedrockStreamReader(),
  newStreamWriter: () => new BedrockStreamWriter(),
  usageFromResponse: bedrockUsageFromResponse,
  answerFacts: bedrockAnswerFacts,
  readError: (_status, body, headers) => readBedrockError(body, headers),
  writeError: writeBedrockError,
  authFailure: bedrockAuthFailure,
  modelNotFound: bedrockModelNotFound,
};
