// Cohere v2 ingress: chat, embed and rerank, the model in the body; the rest of /v2/ answers in
// Cohere's shape.

import type { ProtocolRoutes } from '../routes.ts';

export const cohereRoutes: ProtocolRoutes = {
  exact: ['/v2/chat'],
  operations: [
    ['/v2/embed', 'embedding'],
    ['/v2/rerank', 'rerank'],
  ],
  prefixes: ['/v2/'],
  // LangChain's Cohere client and older SDKs post here.
  unserved: [
    ['/v1/chat', 'Cohere v1 chat is not served by this gateway; use POST /v2/chat (Cohere v2 chat).'],
  ],
  endpoints: [
    ['/v2/chat', 'Cohere v2 chat (body model)'],
    ['/v2/embed', 'Cohere v2 embeddings (body model)'],
    ['/v2/rerank', 'Cohere v2 rerank (body model)'],
  ],
  example: (model, prompt) => ({
    title: 'Cohere v2 chat',
    path: '/v2/chat',
    body: { model, messages: [{ role: 'user', content: prompt }] },
    headers: [],
    streaming: '"stream": true',
  }),
};
