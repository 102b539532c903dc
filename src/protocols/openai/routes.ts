// OpenAI Chat Completions ingress: one path, the model in the body.

import type { ProtocolRoutes } from '../routes.ts';

export const openaiRoutes: ProtocolRoutes = {
  exact: ['/v1/chat/completions'],
  prefixes: [],
};
