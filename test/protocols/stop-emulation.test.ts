// Issue 20, item 1: the stop-sequence cutter over IR answers and stream events.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Response, StreamEvent } from '../../src/protocols/ir.ts';
import { cutAnswerAtStop, emulatedStops, StopCutter } from '../../src/protocols/stop-emulation.ts';

function run(stops: string[], deltas: string[]): { text: string; events: StreamEvent[]; cutter: StopCutter } {
  const cutter = new StopCutter(stops);
  const events: StreamEvent[] = [];
  for (const text of deltas) events.push(...cutter.push({ type: 'text_delta', index: 0, text }));
  if (!cutter.stopped) events.push(...cutter.push({ type: 'block_stop', index: 0 }));
  const text = events.map((e) => (e.type === 'text_delta' ? e.text : '')).join('');
  return { text, events, cutter };
}

describe('stop-sequence emulation', () => {
  it('finds a sequence split across deltas, holding back at most its length minus one', () => {
    const { text, events, cutter } = run(['END'], ['abc E', 'N', 'D more']);
    assert.equal(text, 'abc ');
    assert.ok(cutter.stopped);
    assert.deepEqual(events.slice(-2), [
      { type: 'message_delta', stopReason: 'stop_sequence', stopSequence: 'END' },
      { type: 'message_stop' },
    ]);
    // Only the last two characters are ever held back: 'abc' went out with the first delta.
    const first = new StopCutter(['END']).push({ type: 'text_delta', index: 0, text: 'abc E' });
    assert.deepEqual(first, [{ type: 'text_delta', index: 0, text: 'abc' }]);
  });

  it('the earliest match wins among several sequences; text without one passes whole', () => {
    assert.equal(run(['zz', 'b'], ['a', 'bzz']).text, 'a');
    const none = run(['END'], ['no', ' match', ' here']);
    assert.equal(none.text, 'no match here');
    assert.ok(!none.cutter.stopped);
  });

  it('never splits a surrogate pair when holding back', () => {
    const out = new StopCutter(['xy']).push({ type: 'text_delta', index: 0, text: 'a😀' });
    assert.deepEqual(out, [{ type: 'text_delta', index: 0, text: 'a' }]);
  });

  it('cuts a whole answer and drops the blocks after the match', () => {
    const res: Response = {
      id: 'r',
      model: 'm',
      content: [
        { type: 'thinking', thinking: 'hmm END' },
        { type: 'text', text: 'one END two' },
        { type: 'tool_use', id: 't', name: 'f', input: {} },
      ],
      stopReason: 'tool_use',
      usage: { inputTokens: 1, outputTokens: 2 },
    };
    const cut = cutAnswerAtStop(res, ['END']);
    assert.deepEqual(cut.content, [
      { type: 'thinking', thinking: 'hmm END' },
      { type: 'text', text: 'one ' },
    ]);
    assert.equal(cut.stopReason, 'stop_sequence');
    assert.equal(cut.stopSequence, 'END');
    assert.equal(cutAnswerAtStop(res, ['nope']), res);
  });

  it('bounds the work a request can ask for: at most 16 sequences of at most 1000 characters', () => {
    assert.deepEqual(emulatedStops(['a', 'b']), ['a', 'b']);
    assert.throws(() => emulatedStops(Array.from({ length: 17 }, (_, i) => `s${i}`)), /at most 16/);
    assert.throws(() => emulatedStops(['x'.repeat(1001)]), /at most 1000 characters/);
  });
});
