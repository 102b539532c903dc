// One chat completion through the OpenAI SDK, reduced to what routing-policy tests check: the
// upstream model that answered and the route headers (G-POL-6).

import type OpenAI from 'openai';

export interface Routed {
  readonly served: string;
  readonly policy: string | null;
  readonly target: string | null;
}

export async function routedCompletion(
  openai: OpenAI,
  model: string,
  content = 'hi',
  maxTokens?: number,
): Promise<Routed> {
  const { data, response } = await openai.chat.completions
    .create({
      model,
      messages: [{ role: 'user', content }],
      ...(maxTokens === undefined ? {} : { max_tokens: maxTokens }),
    })
    .withResponse();
  return {
    served: data.model,
    policy: response.headers.get('x-busbar-route-policy'),
    target: response.headers.get('x-busbar-route-target'),
  };
}
