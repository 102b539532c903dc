// Bedrock Converse ingress: `/model/{modelId}/converse` and `/converse-stream`. A model id holding
// a slash (an inference-profile ARN) arrives percent-encoded as one segment.

import { decodeSegment, type InferenceRoute, type ProtocolRoutes } from '../routes.ts';

const MODEL = '/model/';

function parseBedrockPath(path: string): InferenceRoute | undefined {
  const slash = path.indexOf('/', MODEL.length);
  if (slash <= MODEL.length) return undefined;
  const action = path.slice(slash + 1);
  if (action !== 'converse' && action !== 'converse-stream') return undefined;
  const pathName = decodeSegment(path.slice(MODEL.length, slash));
  if (pathName === undefined) return undefined;
  const routeStream = action === 'converse-stream';
  return { kind: 'inference', protocol: 'bedrock', pathName, adhoc: false, routeStream, framing: undefined };
}

export const bedrockRoutes: ProtocolRoutes = {
  exact: [],
  prefixes: [MODEL],
  parse: parseBedrockPath,
  endpoints: [
    ['/model/{modelId}/converse', 'Bedrock Converse'],
    ['/model/{modelId}/converse-stream', 'Bedrock ConverseStream'],
  ],
  example: (model, prompt) => ({
    title: 'Bedrock Converse',
    path: `${MODEL}${encodeURIComponent(model)}/converse`,
    body: { messages: [{ role: 'user', content: [{ text: prompt }] }] },
    headers: [],
    streaming: '/converse-stream',
  }),
};
