// Cohere v2 ingress: chat only, the model in the body; the rest of /v2/ answers in Cohere's shape.

import type { ProtocolRoutes } from '../routes.ts';

export const cohereRoutes: ProtocolRoutes = {
  exact: ['/v2/chat'],
  prefixes: ['/v2/'],
};
