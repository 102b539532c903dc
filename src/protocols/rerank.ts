// Rerank (issue 14): a query and documents in, relevance-ordered indices out. Served in the shape
// Cohere's v2 API and several rerank providers share, forwarded to an upstream of that shape.

import type { JsonObject, JsonValue, Usage } from './ir.ts';

export interface RerankCodec {
  /** The upstream path (appended to base_url). */
  egressPath(model: string): string;
  /** What a relayed answer reports: search units, and tokens where given. */
  usage(body: JsonValue): Usage | undefined;
  /** A one-document request for health probes. */
  probeBody(model: string): JsonObject;
}
