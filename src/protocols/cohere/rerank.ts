// Cohere v2 rerank (`POST /v2/rerank`): billed in search units, reported in `meta.billed_units`.

import type { JsonValue, Usage } from '../ir.ts';
import { count, field } from '../json-access.ts';
import type { RerankCodec } from '../rerank.ts';

function usage(body: JsonValue): Usage | undefined {
  const meta = field(body, 'meta');
  const billed = field(meta, 'billed_units');
  const searchUnits = count(field(billed, 'search_units'));
  const inputTokens =
    count(field(billed, 'input_tokens')) ?? count(field(field(meta, 'tokens'), 'input_tokens'));
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
