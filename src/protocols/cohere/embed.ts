// Cohere v2 embeddings (`POST /v2/embed`) behind EmbedCodec: `texts` (or text-only `inputs`),
// `input_type`, `embedding_types`, `output_dimension`, `truncate`; usage in `meta.billed_units`.

import { crypto } from '../../builtins.ts';
import {
  type EmbedCodec,
  type EmbedPurpose,
  type EmbedReply,
  type EmbedRequest,
  type EmbedResponse,
  embedUsage,
  numbers,
  optDimensions,
  packFloat32,
  refuseEncodings,
  textsOf,
  unpackFloat32,
} from '../embed.ts';
import { InvalidRequest, needArray, objectIn, optString, optStrings, refuse } from '../expect.ts';
import type { JsonObject, JsonValue, Usage } from '../ir.ts';
import { count, field } from '../json-access.ts';

const INPUT_TYPES: Readonly<Record<string, EmbedPurpose>> = {
  search_query: 'query',
  search_document: 'document',
  classification: 'classification',
  clustering: 'clustering',
};
const TO_INPUT_TYPE: Readonly<Record<EmbedPurpose, string>> = {
  query: 'search_query',
  document: 'search_document',
  // Both sides of a similarity are embedded alike, as Cohere's clustering type does.
  similarity: 'clustering',
  classification: 'classification',
  clustering: 'clustering',
  question_answering: 'search_query',
  fact_verification: 'search_query',
  code_query: 'search_query',
};
const TRUNCATE: Readonly<Record<string, 'none' | 'start' | 'end'>> = {
  NONE: 'none',
  START: 'start',
  END: 'end',
};

/** `inputs` entries are content lists; only their text components translate. */
function inputTexts(inputs: readonly JsonValue[]): string[] {
  return inputs.map((_, i) => {
    const input = objectIn(inputs, i, 'inputs');
    const content = needArray(input, 'content', `inputs[${i}]`);
    return content
      .map((_c, j) => {
        const part = objectIn(content, j, `inputs[${i}].content`);
        if (part.type !== 'text' || typeof part.text !== 'string')
          throw new InvalidRequest(
            `inputs[${i}].content[${j}]: only text can be embedded through another provider`,
          );
        return part.text;
      })
      .join(' ');
  });
}

/** Shared with Cohere's models on Bedrock, whose body is this one without `model`. */
export function readCohereEmbed(body: JsonObject, reply: Omit<EmbedReply, 'encodings'>): EmbedRequest {
  if (body.images !== undefined && body.images !== null)
    throw new InvalidRequest('images: image embeddings can only be forwarded to a Cohere upstream');
  optStrings(body, 'texts', '');
  const texts = Array.isArray(body.inputs)
    ? inputTexts(body.inputs)
    : ((body.texts as string[] | undefined) ?? []);
  if (texts.length === 0) refuse('', 'texts', 'a non-empty array of strings');
  const inputType = optString(body, 'input_type', '');
  if (inputType === 'image') throw new InvalidRequest('input_type: image embeddings are not translated');
  optStrings(body, 'embedding_types', '');
  const types = (body.embedding_types as string[] | undefined) ?? ['float'];
  const truncate = TRUNCATE[optString(body, 'truncate', '') ?? ''];
  const dimensions = optDimensions(body, 'output_dimension');
  const purpose = inputType === undefined ? undefined : INPUT_TYPES[inputType];
  return {
    inputs: texts.map((text) => ({ kind: 'text', text })),
    ...(purpose === undefined ? {} : { purpose }),
    ...(dimensions === undefined ? {} : { dimensions }),
    ...(truncate === undefined ? {} : { truncate }),
    reply: { ...reply, encodings: refuseEncodings(types, 'embedding_types') },
  };
}

/** The body shared with Bedrock's Cohere models (which take no `model`). */
export function writeCohereEmbed(req: EmbedRequest): JsonObject {
  const body: JsonObject = {
    texts: textsOf(req, 'Cohere'),
    // Required by Cohere's v3+ models; a document is what an unlabelled input usually is.
    input_type: TO_INPUT_TYPE[req.purpose ?? 'document'],
    embedding_types: ['float'],
  };
  if (req.dimensions !== undefined) body.output_dimension = req.dimensions;
  if (req.truncate !== undefined) body.truncate = req.truncate.toUpperCase();
  return body;
}

/** Float vectors from either answer shape: by type (`{float: [...]}`) or v1's bare list. */
export function cohereVectors(embeddings: JsonValue | undefined): number[][] {
  if (Array.isArray(embeddings)) return embeddings.map((v, i) => numbers(v, `embeddings[${i}]`));
  if (embeddings === null || typeof embeddings !== 'object') throw new Error('an answer without embeddings');
  if (Array.isArray(embeddings.float))
    return embeddings.float.map((v, i) => numbers(v, `embeddings.float[${i}]`));
  if (Array.isArray(embeddings.base64))
    return embeddings.base64.map((v) => {
      if (typeof v !== 'string') throw new Error('a base64 embedding is not a string');
      return unpackFloat32(v);
    });
  throw new Error('an answer without float embeddings');
}

/** Embeddings by type, one entry per encoding asked for. */
export function cohereByType(res: EmbedResponse, reply: EmbedReply): JsonObject {
  const out: JsonObject = {};
  for (const e of reply.encodings)
    out[e] = e === 'float' ? res.vectors.map((v) => [...v]) : res.vectors.map(packFloat32);
  return out;
}

function usage(body: JsonValue): Usage | undefined {
  const meta = field(body, 'meta');
  return embedUsage(
    count(field(field(meta, 'billed_units'), 'input_tokens')) ??
      count(field(field(meta, 'tokens'), 'input_tokens')),
  );
}

export const cohereEmbed: EmbedCodec = {
  readRequest: (body) => readCohereEmbed(body, { single: false }),
  writeRequest: (req, model) => ({ model, ...writeCohereEmbed(req) }),
  readResponse: (body) => {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new Error('not an object');
    return { model: '', vectors: cohereVectors(body.embeddings), inputTokens: usage(body)?.inputTokens };
  },
  writeResponse: (res, reply) => {
    const tokens = res.inputTokens ?? 0;
    return {
      id: crypto.randomUUID(),
      embeddings: cohereByType(res, reply),
      meta: { api_version: { version: '2' }, billed_units: { input_tokens: tokens } },
      response_type: 'embeddings_by_type',
    };
  },
  usage,
  egressPath: () => '/v2/embed',
  probeBody: (model) => ({ model, texts: ['ping'], input_type: 'search_query', embedding_types: ['float'] }),
};
