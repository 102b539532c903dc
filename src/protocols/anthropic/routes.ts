// Anthropic Messages ingress: `/v1/messages` with the model in the body (an SDK pointed at the
// gateway root), or the ad-hoc `/{name}/v1/messages` where the name is a target or
// `{provider}/{model}` (an SDK whose base URL carries the model, G-RTE-7).

import { decodeSegment, type InferenceRoute, type ProtocolRoutes } from '../routes.ts';

const MESSAGES = '/v1/messages';

function parseAdhocPath(path: string): InferenceRoute | undefined {
  const pathName = decodeSegment(path.slice(1, path.length - MESSAGES.length));
  if (!pathName) return undefined;
  return {
    kind: 'inference',
    protocol: 'anthropic',
    operation: 'chat',
    pathName,
    adhoc: true,
    routeStream: undefined,
    framing: undefined,
  };
}

export const anthropicRoutes: ProtocolRoutes = {
  exact: [MESSAGES],
  prefixes: [],
  suffix: MESSAGES,
  parse: parseAdhocPath,
  endpoints: [
    ['/{name}/v1/messages', 'Anthropic Messages (pool or model in the path)'],
    ['/{provider}/{model}/v1/messages', 'Anthropic Messages, ad-hoc provider + model'],
    ['/v1/messages', 'Anthropic Messages (body model)'],
  ],
  example: (model, prompt) => ({
    title: 'Anthropic Messages',
    path: `/${encodeURIComponent(model)}/v1/messages`,
    body: { model, max_tokens: 64, messages: [{ role: 'user', content: prompt }] },
    headers: ['anthropic-version: 2023-06-01'],
    streaming: '"stream": true',
  }),
};
