// OpenAI Responses ingress: one path, the model in the body. Its other endpoints (retrieve, cancel,
// input items) are not served, but answer "not found" in the Responses shape.

import type { ProtocolRoutes } from '../routes.ts';

export const responsesRoutes: ProtocolRoutes = {
  exact: ['/v1/responses'],
  prefixes: ['/v1/responses'],
  endpoints: [['/v1/responses', 'OpenAI Responses (body model)']],
  example: (model, prompt) => ({
    title: 'OpenAI Responses',
    path: '/v1/responses',
    body: { model, input: prompt },
    headers: [],
    streaming: '"stream": true',
  }),
};
