// Protocol name → its edge (transport facts and errors). The only place that lists the six.

import { anthropicEdge } from './anthropic/edge.ts';
import { bedrockEdge } from './bedrock/edge.ts';
import { cohereEdge } from './cohere/edge.ts';
import type { ProtocolEdge } from './edge.ts';
import { geminiEdge } from './gemini/edge.ts';
import type { Protocol } from './names.ts';
import { openaiEdge } from './openai/edge.ts';
import { responsesEdge } from './responses/edge.ts';

export const EDGES: Readonly<Record<Protocol, ProtocolEdge>> = {
  openai: openaiEdge,
  responses: responsesEdge,
  anthropic: anthropicEdge,
  gemini: geminiEdge,
  cohere: cohereEdge,
  bedrock: bedrockEdge,
};

/** The error shapes of the gateway's own endpoints (/stats, /admin, unknown paths): OpenAI's. */
export const GATEWAY_EDGE: ProtocolEdge = openaiEdge;

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
