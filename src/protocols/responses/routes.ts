// OpenAI Responses ingress: one path, the model in the body. Its other endpoints (retrieve, cancel,
// input items) are not served, but answer "not found" in the Responses shape.

import type { ProtocolRoutes } from '../routes.ts';

export const responsesRoutes: ProtocolRoutes = {
  exact: ['/v1/responses'],
  prefixes: ['/v1/responses'],
};
