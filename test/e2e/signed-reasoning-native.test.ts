// Issue 20, item 2, for clients whose protocol carries signed reasoning: Responses
// (`encrypted_content`), Gemini (`thoughtSignature`) and Bedrock (`reasoningContent.signature`)
// clients that append Claude's answer as their SDK returned it hand the signature back themselves,
// through the mock that refuses a tool loop without it. The gateway remembers nothing for them:
// one that drops its reasoning gets Claude's refusal.

import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import {
  BedrockRuntimeClient,
  type ContentBlock,
  ConverseCommand,
  type Message,
  type Tool,
} from '@aws-sdk/client-bedrock-runtime';
import { type Content, GoogleGenAI } from '@google/genai';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import OpenAI from 'openai';
import { type Gateway, startGateway } from '../support/gateway-process.ts';
import { WEATHER_TOOL } from '../support/matrix-clients/shared.ts';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.ts';
import { LANES } from '../support/six-providers.ts';
import {
  claudeLanesCatalog,
  claudeLanesConfig,
  claudeLanesEnv,
  LOOP_PROMPT,
  LOOP_TOKENS,
  LOOP_TOOL_CALL,
} from '../support/tool-loop-clients.ts';

const MODEL = LANES.anthropic.model;
const AFTER_TOOL = 'Sunny and 21 degrees in Paris.';

let mock: MockUpstream;
let gw: Gateway;
before(async () => {
  mock = await startMockUpstream({ toolCall: LOOP_TOOL_CALL });
  gw = await startGateway({
    configYaml: claudeLanesConfig(),
    providersYaml: claudeLanesCatalog(mock.url),
    env: claudeLanesEnv(),
  });
});
after(async () => {
  await gw?.stop();
  await mock?.close();
});

it('Responses: the output items as returned carry encrypted_content back', async () => {
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: LOOP_TOKENS[0], maxRetries: 0 });
  const params = {
    model: MODEL,
    tools: [
      { type: 'function' as const, name: WEATHER_TOOL.name, parameters: WEATHER_TOOL.schema, strict: false },
    ],
    reasoning: { effort: 'low' as const },
  };
  const input: OpenAI.Responses.ResponseInput = [{ role: 'user', content: LOOP_PROMPT }];
  const first = await client.responses.create({ ...params, input });
  const reasoning = first.output.find((item) => item.type === 'reasoning');
  assert.ok(reasoning?.encrypted_content);
  const call = first.output.find((item) => item.type === 'function_call');
  assert.ok(call);
  mock.enqueue({ toolCall: undefined, text: AFTER_TOOL });
  const second = await client.responses.create({
    ...params,
    input: [
      ...input,
      ...(first.output as OpenAI.Responses.ResponseInputItem[]),
      { type: 'function_call_output', call_id: call.call_id, output: 'sunny' },
    ],
  });
  assert.equal(second.output_text, AFTER_TOOL);
});

it('Gemini: the candidate content as returned carries thoughtSignature back', async () => {
  const client = new GoogleGenAI({ apiKey: LOOP_TOKENS[0], httpOptions: { baseUrl: gw.url } });
  const config = {
    tools: [
      { functionDeclarations: [{ name: WEATHER_TOOL.name, parametersJsonSchema: WEATHER_TOOL.schema }] },
    ],
    thinkingConfig: { thinkingBudget: 2048, includeThoughts: true },
  };
  const contents: Content[] = [{ role: 'user', parts: [{ text: LOOP_PROMPT }] }];
  const first = await client.models.generateContent({ model: MODEL, contents, config });
  const content = first.candidates![0]!.content!;
  assert.ok(content.parts?.some((part) => part.thought && part.thoughtSignature));
  const call = first.functionCalls![0]!;
  mock.enqueue({ toolCall: undefined, text: AFTER_TOOL });
  const second = await client.models.generateContent({
    model: MODEL,
    config,
    contents: [
      ...contents,
      content,
      {
        role: 'user',
        parts: [{ functionResponse: { id: call.id, name: call.name, response: { output: 'sunny' } } }],
      },
    ],
  });
  assert.equal(second.text, AFTER_TOOL);
});

it('Bedrock: the output message as returned carries its signature back; dropping it gets the refusal', async () => {
  const client = new BedrockRuntimeClient({
    endpoint: gw.url,
    region: 'us-east-1',
    token: { token: LOOP_TOKENS[0] },
    authSchemePreference: ['httpBearerAuth'],
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler(),
  });
  try {
    const base = {
      modelId: MODEL,
      toolConfig: {
        tools: [
          { toolSpec: { name: WEATHER_TOOL.name, inputSchema: { json: WEATHER_TOOL.schema } } },
        ] as Tool[],
      },
      additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 2048 } },
    };
    const messages: Message[] = [{ role: 'user', content: [{ text: LOOP_PROMPT }] }];
    const first = await client.send(new ConverseCommand({ ...base, messages }));
    const turn = first.output!.message!;
    assert.ok(turn.content?.[0]?.reasoningContent?.reasoningText?.signature);
    const use = turn.content!.find((block) => block.toolUse)!.toolUse!;
    const next = (content: ContentBlock[]) =>
      client.send(
        new ConverseCommand({
          ...base,
          messages: [
            ...messages,
            { role: 'assistant', content },
            {
              role: 'user',
              content: [{ toolResult: { toolUseId: use.toolUseId, content: [{ text: 'sunny' }] } }],
            },
          ],
        }),
      );
    mock.enqueue({ toolCall: undefined, text: AFTER_TOOL });
    assert.equal((await next(turn.content!)).output?.message?.content?.[0]?.text, AFTER_TOOL);
    await assert.rejects(next([{ toolUse: use }]), (err: unknown) => {
      assert.ok(err instanceof Error);
      assert.equal(err.name, 'ValidationException');
      assert.match(err.message, /Expected `thinking` or `redacted_thinking`, but found `tool_use`/);
      return true;
    });
  } finally {
    client.destroy();
  }
});
