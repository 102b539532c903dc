// Protocol name → embedding and rerank codecs, for the protocols that have those endpoints. The
// core looks codecs up here and never names a protocol itself.

import { bedrockEmbed } from './bedrock/embed.ts';
import { cohereEmbed } from './cohere/embed.ts';
import { cohereRerank } from './cohere/rerank.ts';
import type { EmbedCodec } from './embed.ts';
import { geminiEmbed } from './gemini/embed.ts';
import type { JsonValue, Usage } from './ir.ts';
import type { Protocol } from './names.ts';
import { openaiEmbed } from './openai/embed.ts';
import type { RerankCodec } from './rerank.ts';
import type { Operation } from './routes.ts';

export const EMBED_CODECS: Readonly<Partial<Record<Protocol, EmbedCodec>>> = {
  openai: openaiEmbed,
  gemini: geminiEmbed,
  cohere: cohereEmbed,
  bedrock: bedrockEmbed,
};

export const RERANK_CODECS: Readonly<Partial<Record<Protocol, RerankCodec>>> = {
  cohere: cohereRerank,
};

/** How a relayed answer of `operation` reports its usage; undefined for chat (the codec's own). */
export function operationUsage(
  operation: Operation,
  protocol: Protocol,
): ((body: JsonValue) => Usage | undefined) | undefined {
  if (operation === 'embedding') return EMBED_CODECS[protocol]?.usage;
  if (operation === 'rerank') return RERANK_CODECS[protocol]?.usage;
  return undefined;
}
