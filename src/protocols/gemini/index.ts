// The Gemini (generateContent) protocol: request, response, stream and error sides in one codec.

import type { ProtocolCodec } from '../codec.ts';
import { geminiAuthFailure, geminiModelNotFound, readGeminiError, writeGeminiError } from './errors.ts';
import { geminiProbeBody, readGeminiRequest, writeGeminiRequest } from './request.ts';
import {
  geminiAnswerFacts,
  geminiUsageFromResponse,
  readGeminiResponse,
  writeGeminiResponse,
} from './response.ts';
import { GeminiStreamReader, GeminiStreamWriter } from './stream.ts';

export const geminiCodec: ProtocolCodec = {
  protocol: 'gemini',
  carriesStop: true,
  readRequest: readGeminiRequest,
  writeRequest: writeGeminiRequest,
  probeBody: geminiProbeBody,
  readResponse: readGeminiResponse,
  writeResponse: writeGeminiResponse,
  newStreamReader: () => new GeminiStreamReader(),
  newStreamWriter: (opts) => new GeminiStreamWriter(opts),
  usageFromResponse: geminiUsageFromResponse,
  answerFacts: geminiAnswerFacts,
  readError: (_status, body) => readGeminiError(body),
  writeError: writeGeminiError,
  authFailure: geminiAuthFailure,
  modelNotFound: geminiModelNotFound,
};
