// OpenAI Chat Completions ingress: one path, the model in the body.

import type { ProtocolRoutes } from '../routes.ts';

/**
 * OpenAI's list shape, each entry also carrying the fields of Anthropic's (`type`, `display_name`,
 * `created_at`, and `has_more` on the page): both SDKs call `GET /v1/models`, and each reads its own.
 */
function renderModels(names: readonly string[]): string {
  const data = names.map((id) => ({
    id,
    object: 'model',
    created: 0,
    owned_by: 'busbar',
    type: 'model',
    display_name: id,
    created_at: '1970-01-01T00:00:00Z',
  }));
  return JSON.stringify({
    object: 'list',
    data,
    has_more: false,
    first_id: names[0] ?? null,
    last_id: names.at(-1) ?? null,
  });
}

export const openaiRoutes: ProtocolRoutes = {
  exact: ['/v1/chat/completions'],
  operations: [['/v1/embeddings', 'embedding']],
  prefixes: [],
  listing: { path: '/v1/models', render: renderModels },
  endpoints: [
    ['/v1/chat/completions', 'OpenAI Chat Completions (body model)'],
    ['/v1/embeddings', 'OpenAI embeddings (body model)'],
    ['GET /v1/models', 'the pools and models the caller may use (OpenAI and Anthropic shapes)'],
  ],
  example: (model, prompt) => ({
    title: 'OpenAI Chat Completions',
    path: '/v1/chat/completions',
    body: { model, messages: [{ role: 'user', content: prompt }] },
    headers: [],
    streaming: '"stream": true',
  }),
};
