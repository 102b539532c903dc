// Gemini ingress: `/v1beta/models/{model}:generateContent` (or under `/v1/models/`), streaming on
// `:streamGenerateContent`, framed as SSE when the query asks `alt=sse` (else one JSON array).

import { decodeSegment, type InferenceRoute, type ProtocolRoutes } from '../routes.ts';
import { SINGLE } from './embed.ts';
import { ARRAY, SSE } from './framing.ts';

const V1BETA_MODELS = '/v1beta/models/';
const V1_MODELS = '/v1/models/';
const GENERATE = ':generateContent';
const STREAM = ':streamGenerateContent';
const EMBED = ':embedContent';
const BATCH_EMBED = ':batchEmbedContents';
const ALT_SSE = /(?:^|&)alt=sse(?:&|$)/;

/** The model between the models/ prefix and the action; undefined when absent or malformed. */
function modelBefore(path: string, start: number, action: string): string | undefined {
  const end = path.length - action.length;
  return end > start ? decodeSegment(path.slice(start, end)) : undefined;
}

function parseEmbedPath(path: string, start: number): InferenceRoute | undefined {
  const single = path.endsWith(EMBED);
  if (!single && !path.endsWith(BATCH_EMBED)) return undefined;
  const pathName = modelBefore(path, start, single ? EMBED : BATCH_EMBED);
  if (pathName === undefined) return undefined;
  const framing = single ? SINGLE : undefined;
  return {
    kind: 'inference',
    protocol: 'gemini',
    operation: 'embedding',
    pathName,
    adhoc: false,
    routeStream: false,
    framing,
  };
}

function parseGeminiPath(path: string, query: string): InferenceRoute | undefined {
  const start = path.startsWith(V1BETA_MODELS)
    ? V1BETA_MODELS.length
    : path.startsWith(V1_MODELS)
      ? V1_MODELS.length
      : 0;
  if (start === 0) return undefined;
  if (path.endsWith('Contents') || path.endsWith(EMBED)) {
    const embed = parseEmbedPath(path, start);
    if (embed !== undefined) return embed;
  }
  const stream = path.endsWith(STREAM);
  if (!(stream || path.endsWith(GENERATE))) return undefined;
  // The action follows the model's last colon; the model itself may hold colons and slashes.
  const pathName = modelBefore(path, start, stream ? STREAM : GENERATE);
  if (pathName === undefined) return undefined;
  const framing = stream ? (ALT_SSE.test(query) ? SSE : ARRAY) : undefined;
  return {
    kind: 'inference',
    protocol: 'gemini',
    operation: 'chat',
    pathName,
    adhoc: false,
    routeStream: stream,
    framing,
  };
}

function renderModels(names: readonly string[]): string {
  const models = names.map((name) => ({
    name: `models/${name}`,
    displayName: name,
    supportedGenerationMethods: ['generateContent', 'streamGenerateContent'],
  }));
  return JSON.stringify({ models });
}

export const geminiRoutes: ProtocolRoutes = {
  exact: [],
  listing: { path: '/v1beta/models', render: renderModels },
  // All of /v1beta/ answers in Gemini's shape (files, tunedModels, …), but only models/ is served.
  prefixes: ['/v1beta/', V1_MODELS],
  parse: parseGeminiPath,
  endpoints: [
    ['/v1beta/models/{model}:generateContent', 'Gemini (also under /v1/models/)'],
    ['/v1beta/models/{model}:streamGenerateContent', 'Gemini streaming (?alt=sse for SSE)'],
    ['/v1beta/models/{model}:embedContent', 'Gemini embeddings (also :batchEmbedContents)'],
    ['GET /v1beta/models', 'the pools and models the caller may use (Gemini shape)'],
  ],
  example: (model, prompt) => ({
    title: 'Gemini generateContent',
    path: `${V1BETA_MODELS}${encodeURIComponent(model)}${GENERATE}`,
    body: { contents: [{ role: 'user', parts: [{ text: prompt }] }] },
    headers: [],
    streaming: ':streamGenerateContent?alt=sse',
  }),
};
