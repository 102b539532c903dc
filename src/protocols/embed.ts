// Embeddings in the intermediate representation (issue 14): what every protocol's embedding request
// and answer mean, and the codec each embedding-capable protocol implements. Vectors cross as
// float arrays; the float32 base64 packing OpenAI and Cohere offer is done at the edges.

import { InvalidRequest } from './expect.ts';
import type { JsonObject, JsonValue, Usage } from './ir.ts';

/** What the client embeds for: Gemini's task types, Cohere's input types, in one vocabulary. */
export const EMBED_PURPOSES = [
  'query',
  'document',
  'similarity',
  'classification',
  'clustering',
  'question_answering',
  'fact_verification',
  'code_query',
] as const;
export type EmbedPurpose = (typeof EMBED_PURPOSES)[number];

/** One input: text, or token ids (OpenAI only). */
export type EmbedInput =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'tokens'; readonly tokens: readonly number[] };

/** The vector encodings a client may ask for that any upstream can serve (float32 base64 = OpenAI's and Cohere's). */
export type EmbedEncoding = 'float' | 'base64';

/**
 * How the client wants its answer written, fixed by its request: kept apart from the request so it
 * can cross a thread (translation-worker.ts) and reach the ingress writer unchanged.
 */
export interface EmbedReply {
  /** One entry per encoding asked for (Cohere may ask for both); the first is OpenAI's. */
  readonly encodings: readonly EmbedEncoding[];
  /** The client asked for one embedding in a single-input form (Gemini embedContent, Titan). */
  readonly single: boolean;
  /** A protocol's own variant of its answer (Bedrock: the model family's body shape). */
  readonly dialect?: string;
}

export interface EmbedRequest {
  readonly inputs: readonly EmbedInput[];
  readonly purpose?: EmbedPurpose;
  /** A document title (Gemini, with the `document` purpose). */
  readonly title?: string;
  /** Output dimensions (OpenAI `dimensions`, Gemini `outputDimensionality`, Cohere `output_dimension`). */
  readonly dimensions?: number;
  /** How over-long inputs are cut (Cohere `truncate`). */
  readonly truncate?: 'none' | 'start' | 'end';
  /** Unit-length vectors (Titan `normalize`). */
  readonly normalize?: boolean;
  /** An end-user id (OpenAI `user`). */
  readonly user?: string;
  readonly reply: EmbedReply;
}

export interface EmbedResponse {
  /** The upstream's model value ('' when it names none). */
  readonly model: string;
  readonly vectors: readonly (readonly number[])[];
  /** Input tokens, when the upstream reported them. */
  readonly inputTokens: number | undefined;
}

/** One protocol's embedding endpoint: reader and writer for both directions, and its path. */
export interface EmbedCodec {
  /** Wire → IR for a client's body (throws InvalidRequest). */
  readRequest(body: JsonObject): EmbedRequest;
  /** IR → wire for an upstream serving `model` (throws InvalidRequest for what it cannot take). */
  writeRequest(req: EmbedRequest, model: string): JsonObject;
  readResponse(body: JsonValue, model: string): EmbedResponse;
  writeResponse(res: EmbedResponse, reply: EmbedReply): JsonObject;
  /** Input tokens of an answer relayed as it is. */
  usage(body: JsonValue): Usage | undefined;
  /** Input tokens an upstream reports in a header instead of its body (Bedrock's Cohere models). */
  usageFromHeaders?(headers: Readonly<Record<string, string | string[] | undefined>>): Usage | undefined;
  /** The upstream path (appended to base_url); `framing` is the route's variant (Gemini single). */
  egressPath(model: string, framing: string | undefined): string;
  /**
   * A same-protocol body retargeted to `model` where the model is named inside it beyond a top-level
   * `model` (Gemini batch requests); undefined when nothing needs to change.
   */
  retarget?(body: JsonObject, model: string): JsonObject | undefined;
  /**
   * Protocols whose embedding body is the model family's own (Bedrock): the family a client's body
   * is in, and the family `model` takes. Bytes are forwarded only between the same family.
   */
  dialectOf?(body: JsonObject): string;
  dialectFor?(model: string): string;
  /** Why `model` cannot be an embedding model of this protocol (config validation); undefined = it can. */
  checkModel?(model: string): string | undefined;
  /** A one-input request for health probes. */
  probeBody(model: string): JsonObject;
}

/** Usage of an embedding answer: all of it input. */
export function embedUsage(inputTokens: number | undefined): Usage | undefined {
  return inputTokens === undefined ? undefined : { inputTokens, outputTokens: 0, totalTokens: inputTokens };
}

/** Texts only: upstreams other than OpenAI take no token ids. */
export function textsOf(req: EmbedRequest, upstream: string): string[] {
  return req.inputs.map((input) => {
    if (input.kind === 'text') return input.text;
    throw new InvalidRequest(`token-id inputs cannot be embedded by a ${upstream} upstream; send text`);
  });
}

/** Only float and base64 vectors can be made from any upstream's floats. */
export function refuseEncodings(asked: readonly string[], at: string): EmbedEncoding[] {
  const out: EmbedEncoding[] = [];
  for (const e of asked) {
    if (e !== 'float' && e !== 'base64')
      throw new InvalidRequest(
        `${at}: '${e}' embeddings are not served through this gateway; use float or base64`,
      );
    out.push(e);
  }
  return out;
}

/** A float vector packed as little-endian float32, base64 (OpenAI's and Cohere's `base64`). */
export function packFloat32(vector: readonly number[]): string {
  const floats = new Float32Array(vector);
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength).toString('base64');
}

export function unpackFloat32(text: string): number[] {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length % 4 !== 0) throw new Error('a base64 embedding is not a whole number of float32 values');
  const out = new Array<number>(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(i * 4);
  return out;
}

/** An array of finite numbers (a vector in an answer). */
export function numbers(value: JsonValue | undefined, what: string): number[] {
  if (!Array.isArray(value)) throw new Error(`${what} is not an array`);
  for (const n of value) if (typeof n !== 'number') throw new Error(`${what} holds a non-number`);
  return value as number[];
}

/** A positive integer option, or undefined when absent or null. */
export function optDimensions(o: JsonObject, key: string): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!Number.isSafeInteger(v) || (v as number) < 1)
    throw new InvalidRequest(`${key}: expected a positive integer`);
  return v as number;
}
