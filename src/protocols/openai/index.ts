// The OpenAI Chat Completions codec: request, response, stream and error sides behind ProtocolCodec.

import type { ProtocolCodec } from '../codec.ts';
import { openAIAuthFailure, openAIModelNotFound, readOpenAIError, writeOpenAIError } from './errors.ts';
import { openAIProbeBody, readOpenAIRequest, writeOpenAIRequest } from './request.ts';
import {
  openAIAnswerFacts,
  readOpenAIResponse,
  usageFromOpenAIResponse,
  writeOpenAIResponse,
} from './response.ts';
import { OpenAIStreamReader, OpenAIStreamWriter } from './stream.ts';

export const openaiCodec: ProtocolCodec = {
  protocol: 'openai',
  carriesStop: true,
  readRequest: readOpenAIRequest,
  writeRequest: writeOpenAIRequest,
  probeBody: openAIProbeBody,
  readResponse: readOpenAIResponse,
  writeResponse: writeOpenAIResponse,
  newStreamReader: (opts) => new OpenAIStreamReader(opts?.tally ?? false, opts?.facts ?? true),
  newStreamWriter: (opts) =>
    new OpenAIStreamWriter(opts?.includeUsage === undefined ? {} : { includeUsage: opts.includeUsage }),
  usageFromResponse: usageFromOpenAIResponse,
  answerFacts: openAIAnswerFacts,
  readError: (_status, body) => readOpenAIError(body),
  writeError: writeOpenAIError,
  authFailure: openAIAuthFailure,
  modelNotFound: openAIModelNotFound,
};
