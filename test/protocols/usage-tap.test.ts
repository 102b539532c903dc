// The usage tap on a relayed OpenAI stream reads only the frames that can carry what it counts (the
// first, a stop reason, usage, an error): the figures must be those of reading every frame, however
// the upstream spaces its JSON and however the bytes are split.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageTap } from '../../src/protocols/usage.ts';

const frames = (spaced: boolean): string[] => {
  const sp = spaced ? ' ' : '';
  // OpenAI puts `"usage": null` on every chunk of an include_usage stream; others leave it out.
  const chunk = (delta: string, finish: string, usage: string) =>
    `data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-x","choices":[{"index":0,"delta":${delta},"finish_reason":${sp}${finish}}]${spaced ? `,"usage":${sp}${usage}` : ''}}\n\n`;
  return [
    chunk('{"role":"assistant","content":""}', 'null', 'null'),
    chunk('{"content":"the \\"usage\\" and \\"finish_reason\\":\\"x\\" in text"}', 'null', 'null'),
    chunk('{"content":" more"}', 'null', 'null'),
    chunk('{}', '"length"', 'null'),
    `data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-x","choices":[],"usage":${sp}{"prompt_tokens":${sp}12,"completion_tokens":${sp}34,"total_tokens":46}}\n\n`,
    'data: [DONE]\n\n',
  ];
};

test('a tally of a relayed stream: usage and stop reason as a full read finds them, at every split', () => {
  for (const spaced of [false, true]) {
    const bytes = Buffer.from(frames(spaced).join(''));
    for (let cut = 0; cut <= bytes.length; cut += 7) {
      const tap = new UsageTap('openai', true, true);
      tap.push(bytes.subarray(0, cut));
      tap.push(bytes.subarray(cut));
      assert.deepEqual(tap.finish(), { inputTokens: 12, outputTokens: 34 }, `spaced ${spaced}, cut ${cut}`);
      assert.deepEqual(tap.facts, { model: 'gpt-x', stopReason: 'max_tokens' });
    }
  }
});

test('an error frame in a relayed stream still fails the tally (no usage counted)', () => {
  const tap = new UsageTap('openai', true);
  tap.push(Buffer.from(frames(false).slice(0, 2).join('')));
  tap.push(Buffer.from('data: {"error":{"message":"overloaded","type":"server_error"}}\n\n'));
  tap.push(Buffer.from(frames(false).slice(4).join('')));
  assert.equal(tap.finish(), undefined);
});

test('one event per chunk, as upstreams send them: the same figures as one chunk of everything', () => {
  const content = (text: string) =>
    `data: {"id":"c1","model":"gpt-x","choices":[{"index":0,"delta":{"content":${JSON.stringify(text)}},"finish_reason":null}]}\n\n`;
  const finish =
    'data: {"id":"c1","model":"gpt-x","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n';
  const usage =
    'data: {"id":"c1","model":"gpt-x","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":9,"total_tokens":14}}\n\n';
  const error = 'data: {"error":{"message":"overloaded","type":"server_error"}}\n\n';
  const head = [content(''), content('Grüße ✓ — "usage": {'), content(' more')];
  const streams = {
    'usage after the stop': [...head, finish, usage, 'data: [DONE]\n\n'],
    'no usage, then [DONE]': [...head, finish, 'data: [DONE]\n\n'],
    '[DONE] without a stop': [...head, 'data: [DONE]\n\n'],
    'an error mid-stream': [...head, error, finish, usage],
    'cut off after content': [...head],
    // Some OpenAI-compatible servers report running usage on every chunk.
    'usage on every chunk': [
      content(''),
      ...[1, 2, 3].map(
        (n) =>
          `data: {"id":"c1","model":"gpt-x","choices":[{"index":0,"delta":{"content":"t${n}"},"finish_reason":null}],"usage":{"prompt_tokens":5,"completion_tokens":${n},"total_tokens":${5 + n}}}\n\n`,
      ),
      content(' after'),
      finish,
      usage,
    ],
  };
  const read = (chunks: readonly string[], facts = true) => {
    const tap = new UsageTap('openai', true, facts);
    for (const c of chunks) tap.push(Buffer.from(c));
    return { usage: tap.finish(), facts: tap.facts };
  };
  for (const [name, events] of Object.entries(streams)) {
    const whole = read([events.join('')]);
    assert.deepEqual(read(events), whole, `${name}: one event per chunk`);
    // Each event split in two: the second half arrives while the parser holds the first.
    const halves = events.flatMap((e) => [e.slice(0, 9), e.slice(9)]);
    assert.deepEqual(read(halves), whole, `${name}: halves`);
    // Without traces the tally reads no start at all: the usage is still the same.
    for (const pieces of [[events.join('')], events, halves])
      assert.deepEqual(read(pieces, false).usage, whole.usage, `${name}: usage alone`);
  }
  assert.deepEqual(read(streams['usage after the stop']).usage, { inputTokens: 5, outputTokens: 9 });
  assert.equal(read(streams['an error mid-stream']).usage, undefined);
});
