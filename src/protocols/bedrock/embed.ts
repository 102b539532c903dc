// Bedrock embeddings through InvokeModel (`POST /model/{id}/invoke`) behind EmbedCodec. The body is
// the model family's own: Amazon Titan text embeddings (one `inputText` per call) or Cohere embed
// (Cohere's body without `model`). A client's family is read from its body, an upstream's from the
// model id.

import { crypto } from '../../builtins.ts';
import { cohereByType, cohereVectors, readCohereEmbed, writeCohereEmbed } from '../cohere/embed.ts';
import {
  type EmbedCodec,
  type EmbedReply,
  type EmbedRequest,
  type EmbedResponse,
  embedUsage,
  numbers,
  optDimensions,
  refuseEncodings,
  textsOf,
} from '../embed.ts';
import { InvalidRequest, needString, optStrings } from '../expect.ts';
import type { JsonObject, JsonValue, Usage } from '../ir.ts';
import { count, field } from '../json-access.ts';

const TITAN = 'titan';
const COHERE = 'cohere';
/** Bedrock reports a Cohere model's input tokens only in this header. */
const INPUT_TOKENS_HEADER = 'x-amzn-bedrock-input-token-count';

/** The family an upstream model id belongs to (inference profiles carry a region prefix). */
function familyOf(model: string): typeof TITAN | typeof COHERE | undefined {
  if (model.includes('amazon.titan-embed')) return TITAN;
  if (model.includes('cohere.embed')) return COHERE;
  return undefined;
}

function readRequest(body: JsonObject): EmbedRequest {
  if (body.inputText === undefined) return readCohereEmbed(body, { single: false, dialect: COHERE });
  const inputText = needString(body, 'inputText', '');
  optStrings(body, 'embeddingTypes', '');
  const types = (body.embeddingTypes as string[] | undefined) ?? ['float'];
  const dimensions = optDimensions(body, 'dimensions');
  const normalize = typeof body.normalize === 'boolean' ? body.normalize : undefined;
  refuseEncodings(types, 'embeddingTypes');
  return {
    inputs: [{ kind: 'text', text: inputText }],
    ...(dimensions === undefined ? {} : { dimensions }),
    ...(normalize === undefined ? {} : { normalize }),
    reply: { encodings: ['float'], single: true, dialect: TITAN },
  };
}

function writeRequest(req: EmbedRequest, model: string): JsonObject {
  if (familyOf(model) === COHERE) return writeCohereEmbed(req);
  const texts = textsOf(req, 'Bedrock');
  if (texts.length !== 1)
    throw new InvalidRequest(
      `this pool member (${model}) embeds one input per request and the request has ${texts.length}; send one input, or route batches to a model that takes them`,
    );
  const body: JsonObject = { inputText: texts[0]! };
  if (req.dimensions !== undefined) body.dimensions = req.dimensions;
  if (req.normalize !== undefined) body.normalize = req.normalize;
  return body;
}

function readResponse(body: JsonValue): EmbedResponse {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new Error('not an object');
  if (body.embedding !== undefined)
    return {
      model: '',
      vectors: [numbers(body.embedding, 'embedding')],
      inputTokens: usage(body)?.inputTokens,
    };
  return { model: '', vectors: cohereVectors(body.embeddings), inputTokens: undefined };
}

function writeResponse(res: EmbedResponse, reply: EmbedReply): JsonObject {
  if (reply.dialect === COHERE)
    return {
      id: crypto.randomUUID(),
      embeddings: cohereByType(res, reply),
      response_type: 'embeddings_by_type',
      texts: [],
    };
  const vector = [...(res.vectors[0] ?? [])];
  return {
    embedding: vector,
    inputTextTokenCount: res.inputTokens ?? 0,
    embeddingsByType: { float: vector },
  };
}

function usage(body: JsonValue): Usage | undefined {
  return embedUsage(count(field(body, 'inputTextTokenCount')));
}

export const bedrockEmbed: EmbedCodec = {
  readRequest,
  writeRequest,
  readResponse,
  writeResponse,
  usage,
  usageFromHeaders: (headers) => {
    const count = Number(headers[INPUT_TOKENS_HEADER]);
    return Number.isSafeInteger(count) && count >= 0 ? embedUsage(count) : undefined;
  },
  egressPath: (model) => `/model/${encodeURIComponent(model)}/invoke`,
  dialectOf: (body) => (body.inputText === undefined ? COHERE : TITAN),
  dialectFor: (model) => familyOf(model) ?? TITAN,
  checkModel: (model) =>
    familyOf(model) === undefined
      ? `is served by Bedrock InvokeModel, whose embedding bodies are known for Amazon Titan text embeddings and Cohere embed models; '${model}' is neither`
      : undefined,
  probeBody: (model): JsonObject =>
    familyOf(model) === COHERE ? { texts: ['ping'], input_type: 'search_query' } : { inputText: 'ping' },
};
