// OpenAI Chat Completions ingress: one path, the model in the body.

import type { ProtocolRoutes } from '../routes.ts';

export const openaiRoutes: ProtocolRoutes = {
  exact: ['/v1/chat/completions'],
  prefixes: [],
  endpoints: [['/v1/chat/completions', 'OpenAI Chat Completions (body model)']],
  example: (model, prompt) => ({
    title: 'OpenAI Chat Completions',
    path: '/v1/chat/completions',
    body: { model, messages: [{ role: 'user', content: prompt }] },
    headers: [],
    streaming: '"stream": true',
  }),
};
