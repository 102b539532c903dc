// Cohere v2 rerank (`POST /v2/rerank`): billed in search units, reported in `meta.billed_units`.

import type { JsonValue, Usage } from '../ir.ts';
import type { RerankCodec } from '../rerank.ts';

function count(o: JsonValue | undefined, key: string): number | undefined {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return undefined;
  const v = o[key];
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}

function usage(body: JsonValue): Usage | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const meta = body.meta;
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) return undefined;
  const billed = meta.billed_units;
  const searchUnits = count(billed, 'search_units');
  const inputTokens = count(billed, 'input_tokens') ?? count(meta.tokens, 'input_tokens');
  if (searchUnits === undefined && inputTokens === undefined) return undefined;
  return {
    inputTokens: inputTokens ?? 0,
    outputTokens: 0,
    ...(searchUnits === undefined ? {} : { searchUnits }),
  };
}

export const cohereRerank: RerankCodec = {
  egressPath: () => '/v2/rerank',
  usage,
  probeBody: (model) => ({ model, query: 'ping', documents: ['ping'], top_n: 1 }),
};
