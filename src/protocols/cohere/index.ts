// The Cohere v2 chat protocol: request, response, stream and error sides in one codec.

import type { ProtocolCodec } from '../codec.ts';
import { cohereAuthFailure, cohereModelNotFound, readCohereError, writeCohereError } from './errors.ts';
import { cohereProbeBody, readCohereRequest, writeCohereRequest } from './request.ts';
import {
  cohereAnswerFacts,
  cohereUsageFromResponse,
  readCohereResponse,
  writeCohereResponse,
} from './response.ts';
import { CohereStreamReader, CohereStreamWriter } from './stream.ts';

export const cohereCodec: ProtocolCodec = {
  protocol: 'cohere',
  carriesStop: true,
  readRequest: readCohereRequest,
  writeRequest: writeCohereRequest,
  probeBody: cohereProbeBody,
  readResponse: readCohereResponse,
  writeResponse: writeCohereResponse,
  newStreamReader: () => new CohereStreamReader(),
  newStreamWriter: () => new CohereStreamWriter(),
  usageFromResponse: cohereUsageFromResponse,
  answerFacts: cohereAnswerFacts,
  readError: (_status, body) => readCohereError(body),
  writeError: writeCohereError,
  authFailure: cohereAuthFailure,
  modelNotFound: cohereModelNotFound,
};
