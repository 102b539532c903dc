// Strict request readers (issue 10, item 9a): in each of the six protocols, a body its provider would
// refuse is refused with a message naming the field, and the variants its provider accepts (nulls,
// both content forms, Gemini's snake_case and numeric strings, …) still read.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CODECS } from '../../src/protocols/codecs.ts';
import { InvalidRequest } from '../../src/protocols/expect.ts';
import type { JsonObject, JsonValue, Request } from '../../src/protocols/ir.ts';
import type { Protocol } from '../../src/protocols/names.ts';
import { hostileInput } from '../support/protocol-harness.ts';

/** Base-body fields to replace; `undefined` removes the field. */
type Patch = Readonly<Record<string, JsonValue | undefined>>;

interface Cases {
  readonly base: JsonObject;
  readonly refuses: readonly (readonly [Patch, string])[];
  readonly accepts: readonly Patch[];
}

function patched(base: JsonObject, patch: Patch): JsonObject {
  const out: JsonObject = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) delete out[key];
    else out[key] = value;
  }
  return out;
}

const read = (protocol: Protocol, body: JsonObject): Request =>
  CODECS[protocol].readRequest(body, { model: 'm', stream: false });

const user = (content: JsonValue): JsonObject => ({ role: 'user', content });
const CALL = { id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } };

const CASES: Record<Protocol, Cases> = {
  openai: {
    base: { model: 'm', messages: [user('hi')] },
    refuses: [
      [{ messages: 5 }, 'messages: expected an array'],
      [{ messages: undefined }, 'messages: expected an array'],
      [{ messages: ['hi'] }, 'messages[0]: expected an object'],
      [
        { messages: [{ role: 'wizard', content: 'x' }] },
        'messages[0].role: expected one of system, developer, user, assistant, tool, function',
      ],
      [{ messages: [user(5)] }, 'messages[0].content: expected a string or an array'],
      [{ messages: [user(null)] }, 'messages[0].content: expected a string or an array'],
      [
        { messages: [user([{ type: 'txet', text: 'x' }])] },
        'messages[0].content[0].type: expected one of text, image_url, input_audio, file',
      ],
      [{ messages: [user([{ type: 'text', text: 5 }])] }, 'messages[0].content[0].text: expected a string'],
      [
        { messages: [user([{ type: 'image_url', image_url: 'https://x/a.png' }])] },
        'messages[0].content[0].image_url: expected an object',
      ],
      [
        { messages: [{ role: 'system', content: [{ type: 'image_url', image_url: { url: 'u' } }] }] },
        'messages[0].content[0].type: expected one of text',
      ],
      [
        { messages: [user('q'), { role: 'assistant', tool_calls: {} }] },
        'messages[1].tool_calls: expected an array',
      ],
      [
        {
          messages: [
            { role: 'assistant', tool_calls: [{ ...CALL, function: { name: 'f', arguments: {} } }] },
          ],
        },
        'messages[0].tool_calls[0].function.arguments: expected a string',
      ],
      [{ messages: [{ role: 'tool', content: 'r' }] }, 'messages[0].tool_call_id: expected a string'],
      [{ tools: {} }, 'tools: expected an array'],
      [
        { tools: [{ type: 'function', function: { parameters: {} } }] },
        'tools[0].function.name: expected a string',
      ],
      [
        { tools: [{ type: 'fn', function: { name: 'f' } }] },
        'tools[0].type: expected one of function, custom',
      ],
      [{ tool_choice: 'sometimes' }, 'tool_choice: expected one of none, auto, required'],
      [{ max_tokens: '100' }, 'max_tokens: expected an integer'],
      [{ max_completion_tokens: 1.5 }, 'max_completion_tokens: expected an integer'],
      [{ temperature: '0.5' }, 'temperature: expected a number'],
      [{ top_p: true }, 'top_p: expected a number'],
      [{ stop: [1] }, 'stop[0]: expected a string'],
      [{ response_format: { type: 'json_schema' } }, 'response_format.json_schema: expected an object'],
    ],
    accepts: [
      { messages: [user('q'), { role: 'assistant', content: null, tool_calls: [CALL] }] },
      {
        messages: [
          user('q'),
          { role: 'assistant', tool_calls: [CALL] },
          { role: 'tool', tool_call_id: 'call_1', content: 'r' },
        ],
      },
      {
        messages: [
          { role: 'developer', content: [{ type: 'text', text: 's' }] },
          user([{ type: 'text', text: 'q' }]),
        ],
      },
      { messages: [user([{ type: 'input_audio', input_audio: { data: 'AA', format: 'wav' } }])] },
      { temperature: null, max_tokens: null, top_p: null, stop: 'END', user: 'u', reasoning_effort: null },
      {
        tools: [{ type: 'custom', custom: { name: 'c' } }],
        tool_choice: { type: 'function', function: { name: 'f' } },
      },
      { unknown_field: { anything: [1] } },
    ],
  },
  responses: {
    base: { model: 'm', input: 'hi' },
    refuses: [
      [{ input: 5 }, 'input: expected a string or an array'],
      [{ input: [5] }, 'input[0]: expected an object'],
      [
        { input: [{ role: 'wizard', content: 'x' }] },
        'input[0].role: expected one of user, assistant, system, developer',
      ],
      [{ input: [user(5)] }, 'input[0].content: expected a string or an array'],
      [
        { input: [user([{ type: 'input_txt', text: 'x' }])] },
        'input[0].content[0].type: expected one of input_text, input_image, input_file, input_audio, output_text, refusal, text',
      ],
      [{ input: [user([{ type: 'input_text', text: 5 }])] }, 'input[0].content[0].text: expected a string'],
      [
        { input: [{ type: 'function_call', call_id: 'c', name: 'f', arguments: {} }] },
        'input[0].arguments: expected a string',
      ],
      [
        { input: [{ type: 'function_call_output', call_id: 1, output: 'x' }] },
        'input[0].call_id: expected a string',
      ],
      [{ input: [{ type: 7 }] }, 'input[0].type: expected a string'],
      [{ instructions: ['x'] }, 'instructions: expected a string'],
      [{ tools: [{ type: 'function', parameters: {} }] }, 'tools[0].name: expected a string'],
      [{ max_output_tokens: '5' }, 'max_output_tokens: expected an integer'],
      [{ temperature: 'hot' }, 'temperature: expected a number'],
      [{ text: { format: { type: 'json_schema', schema: {} } } }, 'text.format.name: expected a string'],
    ],
    accepts: [
      { input: undefined, previous_response_id: 'resp_1' },
      {
        input: [
          user([{ type: 'input_text', text: 'q' }]),
          { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 't' }] },
          { type: 'function_call', call_id: 'c', name: 'f', arguments: '{}' },
          { type: 'function_call_output', call_id: 'c', output: [{ type: 'input_text', text: 'r' }] },
          { role: 'assistant', content: [{ type: 'output_text', text: 'a' }] },
          { type: 'item_reference', id: 'msg_1' },
        ],
      },
      { temperature: null, max_output_tokens: null, instructions: null, tool_choice: 'auto' },
    ],
  },
  anthropic: {
    base: { model: 'm', max_tokens: 64, messages: [user('hi')] },
    refuses: [
      [{ messages: {} }, 'messages: expected an array'],
      [{ max_tokens: undefined }, 'max_tokens: expected an integer'],
      [{ max_tokens: '64' }, 'max_tokens: expected an integer'],
      [{ messages: [null] }, 'messages[0]: expected an object'],
      [
        { messages: [{ role: 'bot', content: 'x' }] },
        'messages[0].role: expected one of user, assistant, system',
      ],
      [{ messages: [user(5)] }, 'messages[0].content: expected a string or an array'],
      [{ messages: [user([{ type: 'text' }])] }, 'messages[0].content[0].text: expected a string'],
      [{ messages: [user([{ text: 'x' }])] }, 'messages[0].content[0].type: expected a string'],
      [{ messages: [user([{ type: 'image' }])] }, 'messages[0].content[0].source: expected an object'],
      [
        {
          messages: [{ role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'f', input: '{}' }] }],
        },
        'messages[0].content[0].input: expected an object',
      ],
      [
        { messages: [user([{ type: 'tool_result', tool_use_id: 't', content: 5 }])] },
        'messages[0].content[0].content: expected a string or an array',
      ],
      [
        { messages: [{ role: 'assistant', content: [{ type: 'thinking', thinking: 't' }] }] },
        'messages[0].content[0].signature: expected a string',
      ],
      [{ system: 5 }, 'system: expected a string or an array'],
      [{ system: [{ type: 'image', source: {} }] }, 'system[0].type: expected one of text'],
      [{ tools: [{ name: 'f' }] }, 'tools[0].input_schema: expected an object'],
      [{ tool_choice: 'auto' }, 'tool_choice: expected an object'],
      [{ tool_choice: { type: 'tool' } }, 'tool_choice.name: expected a string'],
      [{ temperature: '1' }, 'temperature: expected a number'],
      [{ top_k: 1.5 }, 'top_k: expected an integer'],
      [{ stop_sequences: 'END' }, 'stop_sequences: expected an array of strings'],
      [{ thinking: { type: 'enabled' } }, 'thinking.budget_tokens: expected an integer'],
    ],
    accepts: [
      { system: [{ type: 'text', text: 's', cache_control: { type: 'ephemeral' } }] },
      { system: 's', messages: [{ role: 'system', content: 'more' }, user('q')] },
      {
        tools: [
          { type: 'web_search_20250305', name: 'web_search' },
          { name: 'f', input_schema: { type: 'object' } },
        ],
      },
      {
        messages: [
          user('q'),
          {
            role: 'assistant',
            content: [
              { type: 'thinking', thinking: 't', signature: 's' },
              { type: 'tool_use', id: 't1', name: 'f', input: {} },
            ],
          },
          user([
            { type: 'tool_result', tool_use_id: 't1' },
            { type: 'search_result', source: 's', title: 't', content: [] },
          ]),
        ],
      },
      { thinking: { type: 'adaptive' }, metadata: { user_id: null }, stop_sequences: ['END'] },
    ],
  },
  gemini: {
    base: { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] },
    refuses: [
      [{ contents: undefined }, 'contents: expected an array'],
      [{ contents: { role: 'user', parts: [{ text: 'hi' }] } }, 'contents: expected an array'],
      [{ contents: [5] }, 'contents[0]: expected an object'],
      [{ contents: [{ role: 'assistant', parts: [] }] }, 'contents[0].role: expected one of user, model'],
      [{ contents: [{ role: 'user', parts: 'hi' }] }, 'contents[0].parts: expected an array'],
      [{ contents: [{ role: 'user' }] }, 'contents[0].parts: expected an array'],
      [{ contents: [{ parts: [{ text: 5 }] }] }, 'contents[0].parts[0].text: expected a string'],
      [
        { contents: [{ parts: [{ inline_data: { data: 'AA' } }] }] },
        'contents[0].parts[0].inline_data.mimeType: expected a string',
      ],
      [
        { contents: [{ role: 'model', parts: [{ functionCall: { args: {} } }] }] },
        'contents[0].parts[0].functionCall.name: expected a string',
      ],
      [
        { contents: [{ role: 'model', parts: [{ function_call: { name: 'f', args: '{}' } }] }] },
        'contents[0].parts[0].function_call.args: expected an object',
      ],
      [{ systemInstruction: 5 }, 'systemInstruction: expected an object'],
      [
        { tools: [{ functionDeclarations: [{ parameters: {} }] }] },
        'tools[0].functionDeclarations[0].name: expected a string',
      ],
      [
        { generationConfig: { maxOutputTokens: 'lots' } },
        'generationConfig.maxOutputTokens: expected an integer',
      ],
      [{ generation_config: { temperature: true } }, 'generation_config.temperature: expected a number'],
      [
        { generationConfig: { stopSequences: 'END' } },
        'generationConfig.stopSequences: expected an array of strings',
      ],
    ],
    accepts: [
      {
        contents: [{ parts: [{ inline_data: { mime_type: 'image/png', data: 'AA' } }, { text: 'q' }] }],
        system_instruction: { parts: [{ text: 's' }] },
        generation_config: { max_output_tokens: 10, stop_sequences: ['END'] },
        tool_config: { function_calling_config: { mode: 1, allowed_function_names: ['f'] } },
      },
      {
        systemInstruction: 'be brief',
        generationConfig: { temperature: null, maxOutputTokens: '100', topK: 2.5 },
      },
      {
        contents: [
          { role: 'user', parts: [{ text: 'q' }] },
          { role: 'model', parts: [{ functionCall: { name: 'f', args: {} }, thoughtSignature: 'c2ln' }] },
          { role: 'user', parts: [{ functionResponse: { name: 'f', response: { output: 'r' } } }] },
        ],
      },
    ],
  },
  cohere: {
    base: { model: 'm', messages: [user('hi')] },
    refuses: [
      [{ messages: 'hi' }, 'messages: expected an array'],
      [{ messages: [[]] }, 'messages[0]: expected an object'],
      [
        { messages: [{ role: 'chatbot', content: 'x' }] },
        'messages[0].role: expected one of user, assistant, system, tool',
      ],
      [{ messages: [user({ text: 'x' })] }, 'messages[0].content: expected a string or an array'],
      [
        { messages: [user([{ type: 'thinking', thinking: 'x' }])] },
        'messages[0].content[0].type: expected one of text, image_url, document',
      ],
      [
        { messages: [user([{ type: 'text', text: null }])] },
        'messages[0].content[0].text: expected a string',
      ],
      [{ messages: [{ role: 'tool', content: 'r' }] }, 'messages[0].tool_call_id: expected a string'],
      [
        {
          messages: [
            { role: 'assistant', tool_calls: [{ ...CALL, function: { name: 'f', arguments: {} } }] },
          ],
        },
        'messages[0].tool_calls[0].function.arguments: expected a string',
      ],
      [
        { tools: [{ type: 'function', function: { parameters: {} } }] },
        'tools[0].function.name: expected a string',
      ],
      [{ tool_choice: 'AUTO' }, 'tool_choice: expected one of REQUIRED, NONE'],
      [{ max_tokens: '1' }, 'max_tokens: expected an integer'],
      [{ p: 'x' }, 'p: expected a number'],
      [{ thinking: { type: 'on' } }, 'thinking.type: expected one of enabled, disabled'],
    ],
    accepts: [
      {
        messages: [
          { role: 'system', content: [{ type: 'text', text: 's' }] },
          user([
            { type: 'text', text: 'q' },
            { type: 'image_url', image_url: { url: 'https://x/a.png' } },
          ]),
          {
            role: 'assistant',
            tool_plan: 'p',
            tool_calls: [CALL],
            content: [{ type: 'thinking', thinking: 't' }],
          },
          {
            role: 'tool',
            tool_call_id: 'call_1',
            content: [{ type: 'document', document: { data: { a: 1 } } }],
          },
        ],
      },
      { temperature: null, stop_sequences: ['END'], tool_choice: 'REQUIRED', thinking: { type: 'enabled' } },
    ],
  },
  bedrock: {
    base: { messages: [{ role: 'user', content: [{ text: 'hi' }] }] },
    refuses: [
      [{ messages: {} }, 'messages: expected an array'],
      [{ messages: [1] }, 'messages[0]: expected an object'],
      [{ messages: [{ role: 'system', content: [] }] }, 'messages[0].role: expected one of user, assistant'],
      [{ messages: [{ role: 'user', content: 'hi' }] }, 'messages[0].content: expected an array'],
      [{ messages: [{ role: 'user', content: ['hi'] }] }, 'messages[0].content[0]: expected an object'],
      [
        { messages: [{ role: 'user', content: [{ text: 5 }] }] },
        'messages[0].content[0].text: expected a string',
      ],
      [
        { messages: [{ role: 'user', content: [{ image: { format: 'png' } }] }] },
        'messages[0].content[0].image.source: expected an object',
      ],
      [
        { messages: [{ role: 'assistant', content: [{ toolUse: { toolUseId: 't', input: {} } }] }] },
        'messages[0].content[0].toolUse.name: expected a string',
      ],
      [
        { messages: [{ role: 'user', content: [{ toolResult: { toolUseId: 't', content: 'r' } }] }] },
        'messages[0].content[0].toolResult.content: expected an array',
      ],
      [{ system: 'be brief' }, 'system: expected an array'],
      [{ inferenceConfig: { maxTokens: '10' } }, 'inferenceConfig.maxTokens: expected an integer'],
      [{ inferenceConfig: { temperature: '0' } }, 'inferenceConfig.temperature: expected a number'],
      [
        { toolConfig: { tools: [{ toolSpec: { name: 'f' } }] } },
        'toolConfig.tools[0].toolSpec.inputSchema: expected an object',
      ],
    ],
    accepts: [
      { messages: undefined },
      {
        system: [{ text: 's' }, { cachePoint: { type: 'default' } }],
        messages: [
          { role: 'user', content: [{ text: 'q' }, { cachePoint: { type: 'default' } }] },
          {
            role: 'assistant',
            content: [
              { reasoningContent: { reasoningText: { text: 't', signature: 's' } } },
              { toolUse: { toolUseId: 't', name: 'f', input: {} } },
            ],
          },
          {
            role: 'user',
            content: [{ toolResult: { toolUseId: 't', content: [{ json: { a: 1 } }], status: 'error' } }],
          },
        ],
        additionalModelRequestFields: { anything: ['goes'] },
        inferenceConfig: { maxTokens: 10, temperature: null },
      },
    ],
  },
};

for (const [protocol, cases] of Object.entries(CASES) as [Protocol, Cases][]) {
  describe(`${protocol} strict request reader`, () => {
    it('reads the base body', () => {
      read(protocol, cases.base);
    });

    it('refuses what its provider refuses, naming the field', () => {
      for (const [patch, message] of cases.refuses) {
        assert.throws(
          () => read(protocol, patched(cases.base, patch)),
          (err: unknown) => err instanceof InvalidRequest && err.message === message,
          `${JSON.stringify(patch)} → ${message}`,
        );
      }
    });

    it('accepts what its provider accepts', () => {
      for (const patch of cases.accepts) read(protocol, patched(cases.base, patch));
    });
  });
}

describe('what strict readers carry', () => {
  it('gemini reads numeric strings as numbers (proto3 JSON)', () => {
    const ir = read('gemini', {
      contents: [{ parts: [{ text: 'q' }] }],
      generationConfig: { maxOutputTokens: '100', temperature: '0.5', topK: '3' },
    });
    assert.deepEqual([ir.maxTokens, ir.temperature, ir.topK], [100, 0.5, 3]);
  });

  it('openai null parameters read as unset', () => {
    const ir = read('openai', { messages: [user('q')], temperature: null, max_tokens: null });
    assert.deepEqual([ir.temperature, ir.maxTokens], [undefined, undefined]);
  });
});

describe('readers refuse mutated fixtures only as InvalidRequest', () => {
  for (const protocol of ['gemini', 'cohere', 'bedrock'] as const) {
    it(protocol, () => hostileInput(CODECS[protocol], protocol, Object.values(CODECS)));
  }
});
