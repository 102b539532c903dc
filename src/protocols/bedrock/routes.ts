// Bedrock ingress: Converse at `/model/{modelId}/converse` and `/converse-stream`; InvokeModel
// (`/invoke`) for embedding models. A model id holding
// a slash (an inference-profile ARN) arrives percent-encoded as one segment.

import { decodeSegment, type InferenceRoute, type Operation, type ProtocolRoutes } from '../routes.ts';

const MODEL = '/model/';
/** InvokeModel is served for embedding models only: its body is the model family's own. */
const ACTIONS: Readonly<Record<string, Operation>> = {
  converse: 'chat',
  'converse-stream': 'chat',
  invoke: 'embedding',
};

function parseBedrockPath(path: string): InferenceRoute | undefined {
  const slash = path.indexOf('/', MODEL.length);
  if (slash <= MODEL.length) return undefined;
  const action = path.slice(slash + 1);
  const operation = ACTIONS[action];
  if (operation === undefined) return undefined;
  const pathName = decodeSegment(path.slice(MODEL.length, slash));
  if (pathName === undefined) return undefined;
  const routeStream = action === 'converse-stream';
  return {
    kind: 'inference',
    protocol: 'bedrock',
    operation,
    pathName,
    adhoc: false,
    routeStream,
    framing: undefined,
  };
}

export const bedrockRoutes: ProtocolRoutes = {
  exact: [],
  prefixes: [MODEL],
  parse: parseBedrockPath,
  endpoints: [
    ['/model/{modelId}/converse', 'Bedrock Converse'],
    ['/model/{modelId}/converse-stream', 'Bedrock ConverseStream'],
    ['/model/{modelId}/invoke', 'Bedrock InvokeModel, for embedding models (Titan, Cohere embed)'],
  ],
  example: (model, prompt) => ({
    title: 'Bedrock Converse',
    path: `${MODEL}${encodeURIComponent(model)}/converse`,
    body: { messages: [{ role: 'user', content: [{ text: prompt }] }] },
    headers: [],
    streaming: '/converse-stream',
  }),
};
