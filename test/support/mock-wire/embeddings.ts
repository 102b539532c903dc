// The mock upstream's embedding and rerank endpoints, written from the providers' API references
// (not from the gateway's codecs): OpenAI /v1/embeddings, Gemini :embedContent and
// :batchEmbedContents, Cohere /v2/embed and /v2/rerank, Bedrock InvokeModel for Titan text
// embeddings v2 and Cohere embed. Each refuses what its service would refuse, with 400s.
//
// Vectors are deterministic and exact in float32: element j of the vector for text t is
// ((t.length + j) % 8) / 4 - 0.75, so a test can recompute what any input must map to.

import { jsonReply, type WireReply } from './shared.ts';

export type EmbeddingWire = 'openai' | 'gemini' | 'cohere' | 'bedrock';

export const MOCK_DIMENSIONS = 4;

/** The vector the mocks answer for `text` with `dimensions` elements. */
export function mockVector(text: string, dimensions = MOCK_DIMENSIONS): number[] {
  return Array.from({ length: dimensions }, (_, j) => ((text.length + j) % 8) / 4 - 0.75);
}

/** The tokens the mocks count for `text`: its whitespace-separated words. */
export function mockTokens(text: string): number {
  return text.split(/\s+/).filter((w) => w !== '').length;
}

function float32Base64(vector: readonly number[]): string {
  const floats = new Float32Array(vector);
  return Buffer.from(floats.buffer).toString('base64');
}

type Body = Record<string, unknown>;

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
const bad = (message: string): WireReply =>
  jsonReply(400, { error: { message, type: 'invalid_request_error' } });

function openai(body: Body): WireReply {
  const input = body.input;
  const texts = typeof input === 'string' ? [input] : isStrings(input) ? input : undefined;
  if (texts === undefined || texts.length === 0)
    return bad("'input' must be a string or an array of strings");
  const format = body.encoding_format ?? 'float';
  if (format !== 'float' && format !== 'base64') return bad("'encoding_format' must be float or base64");
  const dims = typeof body.dimensions === 'number' ? body.dimensions : MOCK_DIMENSIONS;
  const tokens = texts.reduce((n, t) => n + mockTokens(t), 0);
  return jsonReply(200, {
    object: 'list',
    data: texts.map((t, index) => ({
      object: 'embedding',
      index,
      embedding: format === 'base64' ? float32Base64(mockVector(t, dims)) : mockVector(t, dims),
    })),
    model: body.model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}

function geminiError(message: string): WireReply {
  return jsonReply(400, { error: { code: 400, message, status: 'INVALID_ARGUMENT' } });
}

function geminiText(content: unknown): string | undefined {
  if (typeof content !== 'object' || content === null) return undefined;
  const parts = (content as Body).parts;
  if (!Array.isArray(parts) || parts.length === 0) return undefined;
  const texts = parts.map((p) => (p as Body).text);
  return isStrings(texts) ? texts.join(' ') : undefined;
}

function gemini(body: Body, model: string, single: boolean): WireReply {
  const dims = (r: Body) =>
    typeof r.outputDimensionality === 'number' ? r.outputDimensionality : MOCK_DIMENSIONS;
  if (single) {
    const text = geminiText(body.content);
    if (text === undefined) return geminiError('* EmbedContentRequest.content: contents must not be empty');
    return jsonReply(200, { embedding: { values: mockVector(text, dims(body)) } });
  }
  const requests = body.requests;
  if (!Array.isArray(requests) || requests.length === 0)
    return geminiError('* BatchEmbedContentsRequest.requests: requests must not be empty');
  const values: number[][] = [];
  for (const [i, r] of (requests as Body[]).entries()) {
    if (r.model !== `models/${model}`)
      return geminiError(
        `* BatchEmbedContentsRequest.requests[${i}].model: Model names must match; expected models/${model}`,
      );
    const text = geminiText(r.content);
    if (text === undefined) return geminiError(`* BatchEmbedContentsRequest.requests[${i}].content: empty`);
    values.push(mockVector(text, dims(r)));
  }
  return jsonReply(200, { embeddings: values.map((v) => ({ values: v })) });
}

const COHERE_INPUT_TYPES = new Set([
  'search_document',
  'search_query',
  'classification',
  'clustering',
  'image',
]);
const COHERE_TYPES = new Set(['float', 'int8', 'uint8', 'binary', 'ubinary', 'base64']);

/** Cohere's embed body, with or without `model` (Bedrock carries it in the path). */
function cohereEmbeddings(body: Body): { texts: string[]; byType: Body } | string {
  if (!isStrings(body.texts) || body.texts.length === 0 || body.texts.length > 96)
    return 'texts: expected between 1 and 96 strings';
  if (typeof body.input_type !== 'string' || !COHERE_INPUT_TYPES.has(body.input_type))
    return 'invalid request: input_type is required for Embed v3+ models';
  const types = body.embedding_types ?? ['float'];
  if (!isStrings(types) || !types.every((t) => COHERE_TYPES.has(t))) return 'invalid embedding_types';
  const dims = typeof body.output_dimension === 'number' ? body.output_dimension : MOCK_DIMENSIONS;
  const vectors = body.texts.map((t) => mockVector(t, dims));
  const byType: Body = {};
  for (const t of types) {
    if (t === 'float') byType.float = vectors;
    else if (t === 'base64') byType.base64 = vectors.map(float32Base64);
    else byType[t] = vectors.map((v) => v.map((x) => Math.round(x * 100)));
  }
  return { texts: body.texts, byType };
}

function cohere(body: Body): WireReply {
  const out = cohereEmbeddings(body);
  if (typeof out === 'string') return jsonReply(400, { id: 'mock-error', message: out });
  const tokens = out.texts.reduce((n, t) => n + mockTokens(t), 0);
  return jsonReply(200, {
    id: '8d4a5f3e-0000-4000-8000-000000000001',
    embeddings: out.byType,
    texts: out.texts,
    meta: { api_version: { version: '2' }, billed_units: { input_tokens: tokens } },
    response_type: 'embeddings_by_type',
  });
}

const TITAN_KEYS = new Set(['inputText', 'dimensions', 'normalize', 'embeddingTypes']);

function bedrockError(message: string): WireReply {
  return jsonReply(
    400,
    { message },
    { 'x-amzn-errortype': 'ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/' },
  );
}

function bedrock(body: Body, model: string): WireReply {
  if (model.includes('cohere.embed')) {
    if ('model' in body)
      return bedrockError('Malformed input request: extraneous key [model] is not permitted');
    const out = cohereEmbeddings(body);
    if (typeof out === 'string') return bedrockError(`Malformed input request: ${out}`);
    const tokens = out.texts.reduce((n, t) => n + mockTokens(t), 0);
    return jsonReply(
      200,
      {
        id: 'mock-bedrock-cohere',
        embeddings: out.byType,
        response_type: 'embeddings_by_type',
        texts: out.texts,
      },
      { 'x-amzn-bedrock-input-token-count': String(tokens) },
    );
  }
  if (!model.includes('titan-embed'))
    return bedrockError(`The provided model identifier is invalid: ${model}`);
  for (const key of Object.keys(body))
    if (!TITAN_KEYS.has(key))
      return bedrockError(`Malformed input request: extraneous key [${key}] is not permitted`);
  if (typeof body.inputText !== 'string' || body.inputText === '')
    return bedrockError('Malformed input request: #: required key [inputText] not found');
  const dims = typeof body.dimensions === 'number' ? body.dimensions : MOCK_DIMENSIONS;
  const vector = mockVector(body.inputText, dims);
  return jsonReply(200, {
    embedding: vector,
    embeddingsByType: { float: vector },
    inputTextTokenCount: mockTokens(body.inputText),
  });
}

/** Cohere v2 rerank: documents scored by the words they share with the query. */
export function cohereRerank(body: Body): WireReply {
  if (typeof body.query !== 'string' || !isStrings(body.documents) || body.documents.length === 0)
    return jsonReply(400, { id: 'mock-error', message: 'query and documents are required' });
  const words = new Set(body.query.toLowerCase().split(/\s+/));
  const scored = body.documents.map((doc, index) => {
    const shared = doc
      .toLowerCase()
      .split(/\s+/)
      .filter((w) => words.has(w)).length;
    return { index, relevance_score: shared / (shared + 1) };
  });
  scored.sort((a, b) => b.relevance_score - a.relevance_score || a.index - b.index);
  const topN = typeof body.top_n === 'number' ? body.top_n : scored.length;
  return jsonReply(200, {
    id: '8d4a5f3e-0000-4000-8000-000000000002',
    results: scored.slice(0, topN),
    meta: { api_version: { version: '2' }, billed_units: { search_units: 1 } },
  });
}

/** The embedding endpoint of `wire`; `model` is the path's (Gemini, Bedrock), `single` Gemini's embedContent. */
export function embeddingReply(wire: EmbeddingWire, body: Body, model: string, single: boolean): WireReply {
  switch (wire) {
    case 'openai':
      return openai(body);
    case 'gemini':
      return gemini(body, model, single);
    case 'cohere':
      return cohere(body);
    case 'bedrock':
      return bedrock(body, model);
  }
}
