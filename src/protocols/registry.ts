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
