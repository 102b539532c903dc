// Gemini embeddings behind EmbedCodec: `:embedContent` (one content) and `:batchEmbedContents`
// (`requests`, each naming the model); task types map onto the IR's purposes.

import {
  type EmbedCodec,
  type EmbedPurpose,
  type EmbedReply,
  type EmbedRequest,
  type EmbedResponse,
  embedUsage,
  numbers,
  optDimensions,
  textsOf,
} from '../embed.ts';
import { InvalidRequest, needArray, needObject, objectIn, optString, refuse } from '../expect.ts';
import type { JsonObject, JsonValue } from '../ir.ts';
import { count, field } from '../json-access.ts';

/** The route variant of `:embedContent` (the default is `:batchEmbedContents`). */
export const SINGLE = 'single';

const TASK_TYPES: Readonly<Record<string, EmbedPurpose>> = {
  RETRIEVAL_QUERY: 'query',
  RETRIEVAL_DOCUMENT: 'document',
  SEMANTIC_SIMILARITY: 'similarity',
  CLASSIFICATION: 'classification',
  CLUSTERING: 'clustering',
  QUESTION_ANSWERING: 'question_answering',
  FACT_VERIFICATION: 'fact_verification',
  CODE_RETRIEVAL_QUERY: 'code_query',
};
const PURPOSES = Object.fromEntries(Object.entries(TASK_TYPES).map(([k, v]) => [v, k])) as Record<
  EmbedPurpose,
  string
>;

/** The text of one content: its text parts joined (Gemini embeds a content's parts as one input). */
function contentText(content: JsonObject, at: string): string {
  const parts = needArray(content, 'parts', at);
  const texts: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = objectIn(parts, i, `${at}.parts`);
    if (typeof part.text !== 'string')
      throw new InvalidRequest(`${at}.parts[${i}]: only text parts can be embedded through another provider`);
    texts.push(part.text);
  }
  return texts.join(' ');
}

interface Item {
  readonly text: string;
  readonly taskType: string | undefined;
  readonly title: string | undefined;
  readonly dimensions: number | undefined;
}

function readItem(o: JsonObject, at: string): Item {
  return {
    text: contentText(needObject(o, 'content', at), at === '' ? 'content' : `${at}.content`),
    taskType: optString(o, 'taskType', at),
    title: optString(o, 'title', at),
    dimensions: optDimensions(o, 'outputDimensionality'),
  };
}

function readRequest(body: JsonObject): EmbedRequest {
  const batch = body.requests !== undefined;
  const items = batch
    ? needArray(body, 'requests', '').map((_, i, all) =>
        readItem(objectIn(all, i, 'requests'), `requests[${i}]`),
      )
    : [readItem(body, '')];
  if (items.length === 0) refuse('', 'requests', 'a non-empty array');
  const first = items[0]!;
  const purpose = first.taskType === undefined ? undefined : TASK_TYPES[first.taskType];
  return {
    inputs: items.map((item) => ({ kind: 'text', text: item.text })),
    ...(purpose === undefined ? {} : { purpose }),
    ...(first.title === undefined ? {} : { title: first.title }),
    ...(first.dimensions === undefined ? {} : { dimensions: first.dimensions }),
    reply: { encodings: ['float'], single: !batch },
  };
}

function writeRequest(req: EmbedRequest, model: string): JsonObject {
  const name = `models/${model}`;
  const taskType = req.purpose === undefined ? undefined : PURPOSES[req.purpose];
  return {
    requests: textsOf(req, 'Gemini').map((text) => {
      const item: JsonObject = { model: name, content: { parts: [{ text }] } };
      if (taskType !== undefined) item.taskType = taskType;
      if (req.title !== undefined) item.title = req.title;
      if (req.dimensions !== undefined) item.outputDimensionality = req.dimensions;
      return item;
    }),
  };
}

function vectorOf(e: JsonValue | undefined, what: string): number[] {
  if (e === null || typeof e !== 'object' || Array.isArray(e)) throw new Error(`${what} is not an object`);
  return numbers(e.values, `${what}.values`);
}

function readResponse(body: JsonValue): EmbedResponse {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new Error('not an object');
  const vectors = Array.isArray(body.embeddings)
    ? body.embeddings.map((e, i) => vectorOf(e, `embeddings[${i}]`))
    : [vectorOf(body.embedding, 'embedding')];
  return { model: '', vectors, inputTokens: usage(body)?.inputTokens };
}

function writeResponse(res: EmbedResponse, reply: EmbedReply): JsonObject {
  const out: JsonObject = reply.single
    ? { embedding: { values: [...(res.vectors[0] ?? [])] } }
    : { embeddings: res.vectors.map((v) => ({ values: [...v] })) };
  if (res.inputTokens !== undefined)
    out.usageMetadata = { promptTokenCount: res.inputTokens, totalTokenCount: res.inputTokens };
  return out;
}

function usage(body: JsonValue) {
  return embedUsage(count(field(field(body, 'usageMetadata'), 'promptTokenCount')));
}

/** Batch items name the model too: on a forwarded hop they must name the upstream's. */
function retarget(body: JsonObject, model: string): JsonObject | undefined {
  const name = `models/${model}`;
  if (Array.isArray(body.requests)) {
    if (
      body.requests.every((r) => r !== null && typeof r === 'object' && !Array.isArray(r) && r.model === name)
    )
      return undefined;
    return {
      ...body,
      requests: body.requests.map((r) =>
        r !== null && typeof r === 'object' && !Array.isArray(r) ? { ...r, model: name } : r,
      ),
    };
  }
  return body.model === undefined || body.model === name ? undefined : { ...body, model: name };
}

export const geminiEmbed: EmbedCodec = {
  readRequest,
  writeRequest,
  readResponse,
  writeResponse,
  usage,
  egressPath: (model, framing) =>
    `/v1beta/models/${encodeURIComponent(model)}:${framing === SINGLE ? 'embedContent' : 'batchEmbedContents'}`,
  retarget,
  probeBody: (model) => ({
    requests: [{ model: `models/${model}`, content: { parts: [{ text: 'ping' }] } }],
  }),
};
