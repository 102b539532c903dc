// OpenAI embeddings (`POST /v1/embeddings`) behind EmbedCodec: `input` as a string, strings or
// token ids; `encoding_format` float or base64; `dimensions`; usage as `prompt_tokens`.

import {
  type EmbedCodec,
  type EmbedInput,
  type EmbedReply,
  type EmbedRequest,
  type EmbedResponse,
  embedUsage,
  numbers,
  optDimensions,
  packFloat32,
  refuseEncodings,
  unpackFloat32,
} from '../embed.ts';
import { optString, refuse } from '../expect.ts';
import type { JsonObject, JsonValue } from '../ir.ts';
import { count, field } from '../json-access.ts';

function readInputs(input: JsonValue | undefined): EmbedInput[] {
  if (typeof input === 'string') return [{ kind: 'text', text: input }];
  if (!Array.isArray(input) || input.length === 0) refuse('', 'input', 'a string or a non-empty array');
  if (input.every((n) => typeof n === 'number')) return [{ kind: 'tokens', tokens: input as number[] }];
  return input.map((item, i): EmbedInput => {
    if (typeof item === 'string') return { kind: 'text', text: item };
    if (Array.isArray(item) && item.every((n) => typeof n === 'number'))
      return { kind: 'tokens', tokens: item as number[] };
    return refuse('input', i, 'a string or an array of token ids');
  });
}

function readRequest(body: JsonObject): EmbedRequest {
  const format = optString(body, 'encoding_format', '') ?? 'float';
  const user = optString(body, 'user', '');
  const dimensions = optDimensions(body, 'dimensions');
  return {
    inputs: readInputs(body.input),
    ...(dimensions === undefined ? {} : { dimensions }),
    ...(user === undefined ? {} : { user }),
    reply: { encodings: refuseEncodings([format], 'encoding_format'), single: false },
  };
}

function writeRequest(req: EmbedRequest, model: string): JsonObject {
  const input: JsonValue[] = req.inputs.map((i) => (i.kind === 'text' ? i.text : [...i.tokens]));
  const body: JsonObject = {
    model,
    input: input.length === 1 && typeof input[0] === 'string' ? input[0] : input,
    // A quarter of the bytes of decimal floats, and exact float32 (what the service computes in).
    encoding_format: 'base64',
  };
  if (req.dimensions !== undefined) body.dimensions = req.dimensions;
  if (req.user !== undefined) body.user = req.user;
  return body;
}

function readResponse(body: JsonValue): EmbedResponse {
  if (body === null || typeof body !== 'object' || Array.isArray(body) || !Array.isArray(body.data))
    throw new Error('an embeddings answer without data');
  const rows = body.data.map((row, i) => {
    if (row === null || typeof row !== 'object' || Array.isArray(row))
      throw new Error('an embedding row is not an object');
    const index = typeof row.index === 'number' ? row.index : i;
    const e = row.embedding;
    return { index, vector: typeof e === 'string' ? unpackFloat32(e) : numbers(e, 'embedding') };
  });
  rows.sort((a, b) => a.index - b.index);
  return {
    model: typeof body.model === 'string' ? body.model : '',
    vectors: rows.map((r) => r.vector),
    inputTokens: usage(body)?.inputTokens,
  };
}

function writeResponse(res: EmbedResponse, reply: EmbedReply): JsonObject {
  const base64 = reply.encodings[0] === 'base64';
  const tokens = res.inputTokens ?? 0;
  return {
    object: 'list',
    data: res.vectors.map((v, index) => ({
      object: 'embedding',
      index,
      embedding: base64 ? packFloat32(v) : [...v],
    })),
    model: res.model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}

function usage(body: JsonValue) {
  return embedUsage(count(field(field(body, 'usage'), 'prompt_tokens')));
}

export const openaiEmbed: EmbedCodec = {
  readRequest,
  writeRequest,
  readResponse,
  writeResponse,
  usage,
  egressPath: () => '/v1/embeddings',
  probeBody: (model) => ({ model, input: 'ping' }),
};
