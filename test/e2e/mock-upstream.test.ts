// Self-test of the mock upstream: each official SDK pointed straight at it (no gateway) parses its replies,
// streaming and not, text and tool calls, and raises its own typed error for the native error envelopes.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  type Tool,
} from '@aws-sdk/client-bedrock-runtime';
import { GoogleGenAI } from '@google/genai';
import { CohereClientV2 } from 'cohere-ai';
import OpenAI from 'openai';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.ts';
import { mockSignatureHolds } from '../support/mock-wire/shared.ts';

const TOOL = { name: 'get_weather', arguments: { city: 'Paris', unit: 'celsius' } };
const SCHEMA = {
  type: 'object',
  properties: { city: { type: 'string' }, unit: { type: 'string' } },
  required: ['city'],
};

let mock: MockUpstream;
before(async () => {
  mock = await startMockUpstream();
});
after(async () => {
  await mock.close();
});

function expectOne(path: RegExp | string): void {
  assert.equal(mock.requests.length, 1, 'exactly one upstream request');
  const req = mock.last()!;
  if (typeof path === 'string') assert.equal(req.path, path);
  else assert.match(req.path, path);
}

describe('openai chat completions', () => {
  const client = () => new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: 'sk-mock', maxRetries: 0 });
  const base = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'hi' }] };

  it('non-stream text', async () => {
    mock.reset();
    const r = await client().chat.completions.create(base);
    assert.equal(r.choices[0]!.message.content, 'Hello from openai mock');
    assert.equal(r.choices[0]!.finish_reason, 'stop');
    assert.deepEqual([r.usage?.prompt_tokens, r.usage?.completion_tokens], [11, 7]);
    expectOne('/v1/chat/completions');
    assert.equal(mock.last()!.headers.authorization, 'Bearer sk-mock');
  });

  it('stream text with include_usage', async () => {
    mock.reset();
    const s = await client().chat.completions.create({
      ...base,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let deltas = 0;
    let usage: OpenAI.CompletionUsage | null | undefined;
    let finish: string | null | undefined;
    for await (const c of s) {
      const d = c.choices[0]?.delta.content;
      if (d) {
        text += d;
        deltas += 1;
      }
      finish = c.choices[0]?.finish_reason ?? finish;
      if (c.usage) usage = c.usage;
    }
    assert.equal(text, 'Hello from openai mock');
    assert.ok(deltas >= 3);
    assert.equal(finish, 'stop');
    assert.deepEqual([usage?.prompt_tokens, usage?.completion_tokens], [11, 7]);
  });

  it('stream without include_usage has no usage chunk', async () => {
    mock.reset();
    const s = await client().chat.completions.create({ ...base, stream: true });
    for await (const c of s) assert.equal(c.usage, undefined);
  });

  it('tool call, stream and not', async () => {
    mock.reset();
    mock.configure({ toolCall: TOOL });
    try {
      const tools = [{ type: 'function' as const, function: { name: TOOL.name, parameters: SCHEMA } }];
      const r = await client().chat.completions.create({ ...base, tools });
      const call = r.choices[0]!.message.tool_calls![0]!;
      assert.equal(r.choices[0]!.finish_reason, 'tool_calls');
      assert.ok(call.type === 'function');
      assert.equal(call.function.name, TOOL.name);
      assert.deepEqual(JSON.parse(call.function.arguments), TOOL.arguments);

      const s = client().chat.completions.stream({ ...base, tools, stream: true });
      const final = await s.finalChatCompletion();
      const sc = final.choices[0]!.message.tool_calls![0]!;
      assert.ok(sc.type === 'function');
      assert.equal(sc.function.name, TOOL.name);
      assert.deepEqual(JSON.parse(sc.function.arguments), TOOL.arguments);
      // Without tools in the request the mock answers text even when configured with a tool call.
      const plain = await client().chat.completions.create(base);
      assert.equal(plain.choices[0]!.message.content, 'Hello from openai mock');
    } finally {
      mock.configure({ toolCall: undefined });
    }
  });

  it('native error envelope raises the typed error', async () => {
    mock.reset();
    mock.enqueue({ status: 429, message: 'slow down' });
    await assert.rejects(client().chat.completions.create(base), (e: unknown) => {
      assert.ok(e instanceof OpenAI.RateLimitError);
      assert.equal(e.status, 429);
      assert.equal(e.type, 'rate_limit_error');
      assert.equal(e.message, '429 slow down');
      return true;
    });
  });
});

describe('openai responses', () => {
  const client = () => new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: 'sk-mock', maxRetries: 0 });

  it('non-stream text', async () => {
    mock.reset();
    const r = await client().responses.create({ model: 'gpt-4.1', input: 'hi' });
    assert.equal(r.output_text, 'Hello from responses mock');
    assert.equal(r.status, 'completed');
    assert.deepEqual([r.usage?.input_tokens, r.usage?.output_tokens], [11, 7]);
    expectOne('/v1/responses');
  });

  it('stream text', async () => {
    mock.reset();
    const s = await client().responses.create({ model: 'gpt-4.1', input: 'hi', stream: true });
    let text = '';
    let deltas = 0;
    let completed: OpenAI.Responses.Response | undefined;
    let lastSeq = -1;
    for await (const e of s) {
      assert.equal(e.sequence_number, lastSeq + 1);
      lastSeq = e.sequence_number;
      if (e.type === 'response.output_text.delta') {
        text += e.delta;
        deltas += 1;
      }
      if (e.type === 'response.completed') completed = e.response;
    }
    assert.equal(text, 'Hello from responses mock');
    assert.ok(deltas >= 3);
    assert.deepEqual([completed?.usage?.input_tokens, completed?.usage?.output_tokens], [11, 7]);
  });

  it('tool call, stream and not', async () => {
    mock.reset();
    const tools = [
      { type: 'function' as const, name: TOOL.name, parameters: SCHEMA, strict: false, description: 'w' },
    ];
    const r = await client().responses.create({ model: 'gpt-4.1', input: 'hi', tools }, {});
    assert.equal(r.output[0]!.type, 'message', 'no tool call unless configured');
    mock.enqueue({ toolCall: TOOL });
    const t = await client().responses.create({ model: 'gpt-4.1', input: 'hi', tools });
    const item = t.output[0]!;
    assert.ok(item.type === 'function_call');
    assert.equal(item.name, TOOL.name);
    assert.deepEqual(JSON.parse(item.arguments), TOOL.arguments);

    mock.enqueue({ toolCall: TOOL });
    const s = client().responses.stream({ model: 'gpt-4.1', input: 'hi', tools });
    const final = await s.finalResponse();
    const sitem = final.output[0]!;
    assert.ok(sitem.type === 'function_call');
    assert.deepEqual(JSON.parse(sitem.arguments), TOOL.arguments);
  });
});

describe('anthropic messages', () => {
  const client = () => new Anthropic({ baseURL: mock.url, apiKey: 'sk-ant-mock', maxRetries: 0 });
  const base = {
    model: 'claude-sonnet-4-5',
    max_tokens: 64,
    messages: [{ role: 'user' as const, content: 'hi' }],
  };

  it('non-stream text', async () => {
    mock.reset();
    const r = await client().messages.create(base);
    const block = r.content[0]!;
    assert.ok(block.type === 'text');
    assert.equal(block.text, 'Hello from anthropic mock');
    assert.equal(r.stop_reason, 'end_turn');
    assert.deepEqual([r.usage.input_tokens, r.usage.output_tokens], [11, 7]);
    expectOne('/v1/messages');
    // @anthropic-ai/sdk 1.x sends the apiKey as a bearer token (and its own newer anthropic-version).
    assert.equal(mock.last()!.headers.authorization, 'Bearer sk-ant-mock');
  });

  it('stream text', async () => {
    mock.reset();
    const s = await client().messages.create({ ...base, stream: true });
    let text = '';
    let deltas = 0;
    let input = 0;
    let output = 0;
    for await (const e of s) {
      if (e.type === 'message_start') input = e.message.usage.input_tokens;
      if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') {
        text += e.delta.text;
        deltas += 1;
      }
      if (e.type === 'message_delta') output = e.usage.output_tokens;
    }
    assert.equal(text, 'Hello from anthropic mock');
    assert.ok(deltas >= 3);
    assert.deepEqual([input, output], [11, 7]);
  });

  it('tool call, stream and not', async () => {
    mock.reset();
    const tools = [{ name: TOOL.name, input_schema: SCHEMA as Anthropic.Tool.InputSchema }];
    mock.enqueue({ toolCall: TOOL }, { toolCall: TOOL });
    const r = await client().messages.create({ ...base, tools });
    const block = r.content[0]!;
    assert.ok(block.type === 'tool_use');
    assert.equal(block.name, TOOL.name);
    assert.deepEqual(block.input, TOOL.arguments);
    assert.equal(r.stop_reason, 'tool_use');
    const final = await client()
      .messages.stream({ ...base, tools })
      .finalMessage();
    const sblock = final.content[0]!;
    assert.ok(sblock.type === 'tool_use');
    assert.deepEqual(sblock.input, TOOL.arguments);
    assert.equal(final.stop_reason, 'tool_use');
  });

  it('with thinking on, a tool call opens with signed thinking, and only a turn that keeps it continues', async () => {
    mock.reset();
    const tools = [{ name: TOOL.name, input_schema: SCHEMA as Anthropic.Tool.InputSchema }];
    const thinking = { type: 'enabled' as const, budget_tokens: 1024 };
    const params = { ...base, max_tokens: 2048, tools, thinking };
    mock.enqueue({ toolCall: TOOL }, { toolCall: TOOL });
    const whole = await client().messages.create(params);
    const streamed = await client().messages.stream(params).finalMessage();
    for (const r of [whole, streamed]) {
      assert.deepEqual(
        r.content.map((b) => b.type),
        ['thinking', 'tool_use'],
      );
      const first = r.content[0]!;
      assert.ok(first.type === 'thinking' && first.signature.length > 20);
    }
    const tool = streamed.content[1] as Anthropic.ToolUseBlock;
    const next = (content: Anthropic.ContentBlockParam[]) =>
      client().messages.create({
        ...params,
        messages: [
          ...base.messages,
          { role: 'assistant', content },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: tool.id, content: 'sunny' }] },
        ],
      });
    mock.enqueue({ text: 'Sunny.' });
    const after = await next(streamed.content as Anthropic.ContentBlockParam[]);
    assert.equal(after.content[0]!.type === 'text' && after.content[0].text, 'Sunny.');
    const refused = (message: RegExp) => (e: unknown) =>
      e instanceof Anthropic.BadRequestError && message.test(e.message);
    await assert.rejects(next([tool]), refused(/messages\.1\.content\.0\.type: Expected `thinking`/));
    const altered = { ...(streamed.content[0] as Anthropic.ThinkingBlock), thinking: 'something else' };
    await assert.rejects(next([altered, tool]), refused(/Invalid `signature` in `thinking` block/));
  });

  it('native error envelope raises the typed error', async () => {
    mock.reset();
    mock.enqueue({ status: 404, message: 'model: nope' });
    await assert.rejects(client().messages.create(base), (e: unknown) => {
      assert.ok(e instanceof Anthropic.NotFoundError);
      assert.equal(e.status, 404);
      assert.deepEqual(e.error, {
        type: 'error',
        error: { type: 'not_found_error', message: 'model: nope' },
      });
      return true;
    });
  });
});

describe('gemini generateContent', () => {
  const client = () => new GoogleGenAI({ apiKey: 'AIza-mock', httpOptions: { baseUrl: mock.url } });

  it('non-stream text', async () => {
    mock.reset();
    const r = await client().models.generateContent({ model: 'gemini-2.5-flash', contents: 'hi' });
    assert.equal(r.text, 'Hello from gemini mock');
    assert.equal(r.candidates?.[0]?.finishReason, 'STOP');
    assert.deepEqual([r.usageMetadata?.promptTokenCount, r.usageMetadata?.candidatesTokenCount], [11, 7]);
    expectOne('/v1beta/models/gemini-2.5-flash:generateContent');
    assert.equal(mock.last()!.headers['x-goog-api-key'], 'AIza-mock');
  });

  it('stream text (alt=sse)', async () => {
    mock.reset();
    const s = await client().models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'hi' });
    let text = '';
    let chunks = 0;
    let usage: { promptTokenCount?: number; candidatesTokenCount?: number } | undefined;
    for await (const c of s) {
      text += c.text ?? '';
      chunks += 1;
      if (c.usageMetadata) usage = c.usageMetadata;
    }
    assert.equal(text, 'Hello from gemini mock');
    assert.ok(chunks >= 3);
    assert.deepEqual([usage?.promptTokenCount, usage?.candidatesTokenCount], [11, 7]);
    expectOne('/v1beta/models/gemini-2.5-flash:streamGenerateContent');
    assert.equal(mock.last()!.query.get('alt'), 'sse');
  });

  it('stream without alt=sse is one incrementally written JSON array', async () => {
    mock.reset();
    const res = await fetch(`${mock.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': 'k' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }),
    });
    const raw = await res.text();
    assert.match(raw, /^\[\{/);
    assert.match(raw, /\n\]$/);
    const arr = JSON.parse(raw) as Array<{
      candidates: Array<{ content: { parts: Array<{ text: string }> } }>;
    }>;
    assert.ok(arr.length >= 3);
    assert.equal(arr.map((c) => c.candidates[0]!.content.parts[0]!.text).join(''), 'Hello from gemini mock');
  });

  it('tool call, stream and not', async () => {
    mock.reset();
    const config = {
      tools: [{ functionDeclarations: [{ name: TOOL.name, parametersJsonSchema: SCHEMA }] }],
    };
    mock.enqueue({ toolCall: TOOL }, { toolCall: TOOL });
    const r = await client().models.generateContent({ model: 'gemini-2.5-flash', contents: 'hi', config });
    assert.deepEqual(r.functionCalls?.[0]?.name, TOOL.name);
    assert.deepEqual(r.functionCalls?.[0]?.args, TOOL.arguments);
    const s = await client().models.generateContentStream({
      model: 'gemini-2.5-flash',
      contents: 'hi',
      config,
    });
    const calls = [];
    for await (const c of s) calls.push(...(c.functionCalls ?? []));
    assert.deepEqual(calls[0]?.args, TOOL.arguments);
  });

  it('native error envelope raises the typed error', async () => {
    mock.reset();
    mock.enqueue({ status: 400, message: 'API key not valid. Please pass a valid API key.' });
    await assert.rejects(
      client().models.generateContent({ model: 'gemini-2.5-flash', contents: 'hi' }),
      (e: unknown) => {
        assert.ok(e instanceof Error);
        assert.equal((e as { status?: number }).status, 400);
        assert.match(e.message, /INVALID_ARGUMENT/);
        return true;
      },
    );
  });
});

describe('cohere v2 chat', () => {
  const client = () => new CohereClientV2({ token: 'co-mock', environment: mock.url, maxRetries: 0 });
  const base = { model: 'command-a-03-2025', messages: [{ role: 'user' as const, content: 'hi' }] };

  it('non-stream text', async () => {
    mock.reset();
    const r = await client().chat(base);
    const item = r.message.content?.[0];
    assert.equal(item?.type === 'text' ? item.text : undefined, 'Hello from cohere mock');
    assert.equal(r.finishReason, 'COMPLETE');
    assert.deepEqual([r.usage?.tokens?.inputTokens, r.usage?.tokens?.outputTokens], [11, 7]);
    expectOne('/v2/chat');
    assert.equal(mock.last()!.headers.authorization, 'Bearer co-mock');
  });

  it('stream text', async () => {
    mock.reset();
    const s = await client().chatStream(base);
    let text = '';
    let deltas = 0;
    let usage: { inputTokens?: number; outputTokens?: number } | undefined;
    for await (const e of s) {
      if (e.type === 'content-delta') {
        text += e.delta?.message?.content?.text ?? '';
        deltas += 1;
      }
      if (e.type === 'message-end') usage = e.delta?.usage?.tokens;
    }
    assert.equal(text, 'Hello from cohere mock');
    assert.ok(deltas >= 3);
    assert.deepEqual([usage?.inputTokens, usage?.outputTokens], [11, 7]);
  });

  it('tool call, stream and not', async () => {
    mock.reset();
    const tools = [
      { type: 'function' as const, function: { name: TOOL.name, description: 'w', parameters: SCHEMA } },
    ];
    mock.enqueue({ toolCall: TOOL }, { toolCall: TOOL });
    const r = await client().chat({ ...base, tools });
    assert.equal(r.finishReason, 'TOOL_CALL');
    assert.equal(r.message.toolCalls?.[0]?.function?.name, TOOL.name);
    assert.deepEqual(JSON.parse(r.message.toolCalls?.[0]?.function?.arguments ?? ''), TOOL.arguments);
    const s = await client().chatStream({ ...base, tools });
    let name: string | undefined;
    let args = '';
    for await (const e of s) {
      if (e.type === 'tool-call-start') name = e.delta?.message?.toolCalls?.function?.name;
      if (e.type === 'tool-call-delta') args += e.delta?.message?.toolCalls?.function?.arguments ?? '';
    }
    assert.equal(name, TOOL.name);
    assert.deepEqual(JSON.parse(args), TOOL.arguments);
  });

  it('native error envelope raises the typed error', async () => {
    mock.reset();
    mock.enqueue({ status: 401, message: 'invalid api token' });
    await assert.rejects(client().chat(base), (e: unknown) => {
      assert.ok(e instanceof Error);
      assert.equal((e as { statusCode?: number }).statusCode, 401);
      const body = (e as unknown as { body?: { id?: unknown; message?: unknown } }).body;
      assert.equal(body?.message, 'invalid api token');
      assert.equal(typeof body?.id, 'string');
      return true;
    });
  });
});

describe('bedrock converse (SDK default transport: HTTP/2 cleartext)', () => {
  const client = () =>
    new BedrockRuntimeClient({
      endpoint: mock.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'SECRETEXAMPLE' },
      maxAttempts: 1,
    });
  const base = {
    modelId: 'anthropic.claude-3-haiku',
    messages: [{ role: 'user' as const, content: [{ text: 'hi' }] }],
  };

  it('non-stream text, SigV4-signed', async () => {
    mock.reset();
    const c = client();
    const r = await c.send(new ConverseCommand(base));
    c.destroy();
    assert.equal(r.output?.message?.content?.[0]?.text, 'Hello from bedrock mock');
    assert.equal(r.stopReason, 'end_turn');
    assert.deepEqual([r.usage?.inputTokens, r.usage?.outputTokens], [11, 7]);
    expectOne('/model/anthropic.claude-3-haiku/converse');
    const h = mock.last()!.headers;
    assert.match(
      h.authorization ?? '',
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/bedrock\//,
    );
    assert.ok(h['x-amz-date']);
    assert.equal(mock.last()!.httpVersion, '2.0');
  });

  it('stream text (eventstream frames)', async () => {
    mock.reset();
    const c = client();
    const r = await c.send(new ConverseStreamCommand(base));
    let text = '';
    let deltas = 0;
    let stop: string | undefined;
    let usage: { inputTokens?: number; outputTokens?: number } | undefined;
    for await (const e of r.stream!) {
      if (e.contentBlockDelta?.delta?.text !== undefined) {
        text += e.contentBlockDelta.delta.text;
        deltas += 1;
      }
      if (e.messageStop) stop = e.messageStop.stopReason;
      if (e.metadata) usage = e.metadata.usage;
    }
    c.destroy();
    assert.equal(text, 'Hello from bedrock mock');
    assert.ok(deltas >= 3);
    assert.equal(stop, 'end_turn');
    assert.deepEqual([usage?.inputTokens, usage?.outputTokens], [11, 7]);
    expectOne('/model/anthropic.claude-3-haiku/converse-stream');
  });

  it('bearer (API key) auth', async () => {
    mock.reset();
    const c = new BedrockRuntimeClient({
      endpoint: mock.url,
      region: 'us-east-1',
      token: { token: 'bedrock-api-key' },
      authSchemePreference: ['httpBearerAuth'],
      maxAttempts: 1,
    });
    const r = await c.send(new ConverseCommand(base));
    c.destroy();
    assert.equal(r.output?.message?.content?.[0]?.text, 'Hello from bedrock mock');
    assert.equal(mock.last()!.headers.authorization, 'Bearer bedrock-api-key');
  });

  it('tool call, stream and not', async () => {
    mock.reset();
    const toolConfig = {
      tools: [{ toolSpec: { name: TOOL.name, inputSchema: { json: SCHEMA } } }] as Tool[],
    };
    mock.enqueue({ toolCall: TOOL }, { toolCall: TOOL });
    const c = client();
    const r = await c.send(new ConverseCommand({ ...base, toolConfig }));
    const use = r.output?.message?.content?.[0]?.toolUse;
    assert.equal(use?.name, TOOL.name);
    assert.deepEqual(use?.input, TOOL.arguments);
    assert.equal(r.stopReason, 'tool_use');
    const s = await c.send(new ConverseStreamCommand({ ...base, toolConfig }));
    let name: string | undefined;
    let input = '';
    for await (const e of s.stream!) {
      if (e.contentBlockStart?.start?.toolUse) name = e.contentBlockStart.start.toolUse.name;
      input += e.contentBlockDelta?.delta?.toolUse?.input ?? '';
    }
    c.destroy();
    assert.equal(name, TOOL.name);
    assert.deepEqual(JSON.parse(input), TOOL.arguments);
  });

  it('with thinking on, a tool call opens with signed reasoning, and only a turn that keeps it continues', async () => {
    mock.reset();
    const toolConfig = {
      tools: [{ toolSpec: { name: TOOL.name, inputSchema: { json: SCHEMA } } }] as Tool[],
    };
    const params = {
      ...base,
      toolConfig,
      additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 1024 } },
    };
    mock.enqueue({ toolCall: TOOL }, { toolCall: TOOL });
    const c = client();
    const r = await c.send(new ConverseCommand(params));
    const content = r.output!.message!.content!;
    assert.ok((content[0]?.reasoningContent?.reasoningText?.signature ?? '').length > 20);
    const s = await c.send(new ConverseStreamCommand(params));
    let text = '';
    let signature = '';
    for await (const e of s.stream!) {
      text += e.contentBlockDelta?.delta?.reasoningContent?.text ?? '';
      signature += e.contentBlockDelta?.delta?.reasoningContent?.signature ?? '';
    }
    assert.ok(mockSignatureHolds(text, signature), 'streamed, the reasoning is signed too');
    const use = content[1]!.toolUse!;
    const next = (turn: typeof content) =>
      c.send(
        new ConverseCommand({
          ...params,
          messages: [
            ...base.messages,
            { role: 'assistant', content: turn },
            {
              role: 'user',
              content: [{ toolResult: { toolUseId: use.toolUseId, content: [{ text: 'sunny' }] } }],
            },
          ],
        }),
      );
    mock.enqueue({ text: 'Sunny.' });
    assert.equal((await next(content)).output?.message?.content?.[0]?.text, 'Sunny.');
    await assert.rejects(next([{ toolUse: use }]), (e: unknown) => {
      assert.ok(e instanceof Error);
      assert.equal(e.name, 'ValidationException');
      assert.match(
        e.message,
        /content\.0\.type: Expected `thinking` or `redacted_thinking`, but found `tool_use`/,
      );
      return true;
    });
    c.destroy();
  });

  it('native error envelope raises the typed error', async () => {
    mock.reset();
    mock.enqueue({ status: 429, message: 'Too many requests, please wait before trying again.' });
    const c = client();
    await assert.rejects(c.send(new ConverseCommand(base)), (e: unknown) => {
      assert.ok(e instanceof Error);
      assert.equal(e.name, 'ThrottlingException');
      assert.equal(e.message, 'Too many requests, please wait before trying again.');
      assert.equal((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, 429);
      return true;
    });
    c.destroy();
  });
});

describe('fault injection', () => {
  it('literal body, status and headers', async () => {
    mock.reset();
    mock.enqueue({ status: 200, body: { hello: 'world' }, headers: { 'x-extra': '1' } });
    const res = await fetch(`${mock.url}/v2/chat`, { method: 'POST', body: '{}' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-extra'), '1');
    assert.deepEqual(await res.json(), { hello: 'world' });
  });

  it('resetConnection fails the request', async () => {
    mock.reset();
    mock.enqueue({ resetConnection: true });
    await assert.rejects(fetch(`${mock.url}/v1/messages`, { method: 'POST', body: '{}' }));
    assert.equal(mock.requests.length, 1);
  });

  it('cutStreamAfterChunks ends the body early', async () => {
    mock.reset();
    mock.enqueue({ cutStreamAfterChunks: 2 });
    const res = await fetch(`${mock.url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'm', stream: true, messages: [] }),
    });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    let got = '';
    await assert.rejects(async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        got += Buffer.from(value).toString();
      }
    });
    assert.ok(got.startsWith('data: '));
    assert.ok(!got.includes('[DONE]'));
  });

  it('delayMs delays the answer; errors default to the native envelope; FIFO then default', async () => {
    mock.reset();
    mock.enqueue({ delayMs: 150, status: 503 }, { status: 500 });
    const t0 = Date.now();
    const first = await fetch(`${mock.url}/model/x/converse`, { method: 'POST', body: '{}' });
    assert.ok(Date.now() - t0 >= 140);
    assert.equal(first.status, 503);
    assert.match(first.headers.get('x-amzn-errortype') ?? '', /^ServiceUnavailableException/);
    assert.deepEqual(await first.json(), { message: 'mock upstream error 503' });
    const second = await fetch(`${mock.url}/v1beta/models/g:generateContent`, { method: 'POST', body: '{}' });
    assert.deepEqual(await second.json(), {
      error: { code: 500, message: 'mock upstream error 500', status: 'INTERNAL' },
    });
    const third = await fetch(`${mock.url}/v1/responses`, { method: 'POST', body: '{"model":"m"}' });
    assert.equal(third.status, 200);
    assert.equal(mock.requests.length, 3);
  });

  it('unknown route answers 404 in the OpenAI envelope', async () => {
    const res = await fetch(`${mock.url}/nope`, { method: 'POST', body: '{}' });
    assert.equal(res.status, 404);
    const body = (await res.json()) as { error: { type: string } };
    assert.equal(body.error.type, 'not_found_error');
  });
});
