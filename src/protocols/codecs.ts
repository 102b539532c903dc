// Protocol name → codec (reader and writer). The translation core looks codecs up here and never
// names a protocol itself.

import { anthropicCodec } from './anthropic/index.ts';
import { bedrockCodec } from './bedrock/index.ts';
import type { ProtocolCodec } from './codec.ts';
import { cohereCodec } from './cohere/index.ts';
import { geminiCodec } from './gemini/index.ts';
import type { Protocol } from './names.ts';
import { openaiCodec } from './openai/index.ts';
import { responsesCodec } from './responses/index.ts';

export const CODECS: Readonly<Record<Protocol, ProtocolCodec>> = {
  openai: openaiCodec,
  responses: responsesCodec,
  anthropic: anthropicCodec,
  gemini: geminiCodec,
  cohere: cohereCodec,
  bedrock: bedrockCodec,
};
