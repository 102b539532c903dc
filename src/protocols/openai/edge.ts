import { bearer, type HiddenStreamUsage, type ProtocolEdge } from '../edge.ts';
import type { JsonValue } from '../ir.ts';
import { openAIAuthFailure, openAIModelNotFound, readOpenAIError, writeOpenAIError } from './errors.ts';

/**
 * The usage chunk (`stream_options.include_usage`) has no choices and a usage object. Other chunks
 * may have no choices too (Azure's first one carries `prompt_filter_results`): they stay.
 */
const NO_CHOICES = Buffer.from('"choices":[]');
const USAGE_OBJECT = Buffer.from('"usage":{');

const streamUsage: HiddenStreamUsage = {
  field: 'stream_options',
  optIn: (current: JsonValue | undefined) => {
    if (current === undefined || current === null) return { include_usage: true };
    if (typeof current !== 'object' || Array.isArray(current)) return undefined;
    return current.include_usage === true ? undefined : { ...current, include_usage: true };
  },
  isUsageOnlyEvent: (event) => {
    const b = Buffer.from(event.buffer, event.byteOffset, event.byteLength);
    return b.includes(NO_CHOICES) && b.includes(USAGE_OBJECT);
  },
  marker: NO_CHOICES,
  absentMember: '"stream_options":{"include_usage":true}',
};

export const openaiEdge: ProtocolEdge = {
  protocol: 'openai',
  modelIn: 'body',
  bodyNamesModel: true,
  hiddenStreamUsage: streamUsage,
  egressPath: () => '/v1/chat/completions',
  credentialHeaders: bearer,
  fixedHeaders: {},
  keyInQuery: false,
  genAiProvider: 'openai',
  errorRelayHeaders: [],
  forwardedClientHeaders: [],
  loadSigner: undefined,
  streamAccept: 'text/event-stream',
  streamFramings: [],
  translatedStreamFraming: undefined,
  writeError: writeOpenAIError,
  readError: (_status, body) => readOpenAIError(body),
  authFailure: openAIAuthFailure,
  modelNotFound: openAIModelNotFound,
};
