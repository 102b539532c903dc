// Protocol name → its edge (transport facts and errors), its ingress routes and its codec module.
// The only place that lists the six.

import { anthropicEdge } from './anthropic/edge.ts';
import { anthropicRoutes } from './anthropic/routes.ts';
import { bedrockEdge } from './bedrock/edge.ts';
import { bedrockRoutes } from './bedrock/routes.ts';
import { cohereEdge } from './cohere/edge.ts';
import { cohereRoutes } from './cohere/routes.ts';
import type { ProtocolEdge } from './edge.ts';
import { geminiEdge } from './gemini/edge.ts';
import { geminiRoutes } from './gemini/routes.ts';
import type { Protocol } from './names.ts';
import { openaiEdge } from './openai/edge.ts';
import { openaiRoutes } from './openai/routes.ts';
import { responsesEdge } from './responses/edge.ts';
import { responsesRoutes } from './responses/routes.ts';
import type { ProtocolRoutes } from './routes.ts';

export const EDGES: Readonly<Record<Protocol, ProtocolEdge>> = {
  openai: openaiEdge,
  responses: responsesEdge,
  anthropic: anthropicEdge,
  gemini: geminiEdge,
  cohere: cohereEdge,
  bedrock: bedrockEdge,
};

/** Each protocol's ingress paths; the server's route table is built from these at load. */
export const ROUTES: Readonly<Record<Protocol, ProtocolRoutes>> = {
  openai: openaiRoutes,
  responses: responsesRoutes,
  anthropic: anthropicRoutes,
  gemini: geminiRoutes,
  cohere: cohereRoutes,
  bedrock: bedrockRoutes,
};

/**
 * The protocol whose shape answers what no protocol owns: the gateway's own paths (health, stats,
 * admin) and URLs no protocol claims.
 */
export const DEFAULT_PROTOCOL: Protocol = 'openai';

/** The error shapes of the gateway's own endpoints (/stats, /admin, unknown paths). */
export const GATEWAY_EDGE: ProtocolEdge = EDGES[DEFAULT_PROTOCOL];

/**
 * Each protocol's codec module, for loading the codecs one at a time after the bind (each import
 * compiles its modules synchronously; server/runtime.ts yields between them).
 */
export const CODEC_MODULES: readonly string[] = [
  './openai/index.ts',
  './responses/index.ts',
  './anthropic/index.ts',
  './gemini/index.ts',
  './cohere/index.ts',
  './bedrock/index.ts',
].map((file) => new URL(file, import.meta.url).href);
