// The OpenAI Responses codec: request, response, stream and error sides behind ProtocolCodec.

import type { ProtocolCodec } from '../codec.ts';
import {
  readResponsesError,
  responsesAuthFailure,
  responsesModelNotFound,
  writeResponsesError,
} from './errors.ts';
import { readResponsesRequest, responsesProbeBody, writeResponsesRequest } from './request.ts';
import {
  readResponsesResponse,
  responsesAnswerFacts,
  usageFromResponsesResponse,
  writeResponsesResponse,
} from './response.ts';
import { ResponsesStreamReader, ResponsesStreamWriter } from './stream.ts';

export const responsesCodec: ProtocolCodec = {
  protocol: 'responses',
  carriesStop: false,
  readRequest: readResponsesRequest,
  writeRequest: writeResponsesRequest,
  probeBody: responsesProbeBody,
  readResponse: readResponsesResponse,
  writeResponse: writeResponsesResponse,
  newStreamReader: () => new ResponsesStreamReader(),
  newStreamWriter: () => new ResponsesStreamWriter(),
  usageFromResponse: usageFromResponsesResponse,
  answerFacts: responsesAnswerFacts,
  readError: (_status, body) => readResponsesError(body),
  writeError: writeResponsesError,
  authFailure: responsesAuthFailure,
  modelNotFound: responsesModelNotFound,
};
