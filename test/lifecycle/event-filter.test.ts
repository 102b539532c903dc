// The event dropper: whole events taken out of a relayed stream however its bytes are split,
// everything else forwarded byte for byte, and never more than one bounded event held.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventDropper } from '../../src/lifecycle/event-filter.ts';

const STREAM =
  'data: {"choices":[{"delta":{"content":"a"}}],"usage":null}\n\n' +
  'data: {"choices":[{"delta":{"content":"b"}}],"usage":null}\r\n\r\n' +
  'data: {"choices":[],"usage":{"prompt_tokens":3}}\n\n' +
  'data: [DONE]\n\n';
const EXPECTED = STREAM.replace('data: {"choices":[],"usage":{"prompt_tokens":3}}\n\n', '');
const MARKER = Buffer.from('"choices":[]');
const isUsage = (e: Uint8Array) => Buffer.from(e).includes(MARKER);

test('the usage event is dropped at every split of the stream, the rest is byte for byte', () => {
  const bytes = Buffer.from(STREAM);
  // Every first cut, so a chunk ends inside the marker and at each event boundary.
  for (let a = 0; a <= bytes.length; a++) {
    for (let b = a; b <= bytes.length; b += 5) {
      const d = new EventDropper(isUsage, MARKER);
      const out = Buffer.concat([
        d.push(bytes.subarray(0, a)),
        d.push(bytes.subarray(a, b)),
        d.push(bytes.subarray(b)),
        d.end(),
      ]);
      assert.equal(out.toString(), EXPECTED, `split at ${a}, ${b}`);
    }
  }
});

test('one byte at a time, and a stream that ends without its last blank line', () => {
  const d = new EventDropper(isUsage, MARKER);
  const parts: Buffer[] = [];
  for (const byte of Buffer.from(STREAM.slice(0, -2))) parts.push(d.push(Buffer.from([byte])));
  parts.push(d.end());
  assert.equal(Buffer.concat(parts).toString(), EXPECTED.slice(0, -2));
});

test('an event longer than the hold limit goes on as it is', () => {
  const d = new EventDropper(isUsage, MARKER);
  const huge = Buffer.alloc(1024 * 1024 + 10, 0x61);
  const out = d.push(huge);
  assert.equal(out.length, huge.length);
  assert.equal(d.end().length, 0);
});

test('a whole-event chunk is searched for the marker wherever it sits, among near misses', () => {
  const events = [
    'data: ]]]\n\n',
    'data: {"x":[[]],"choices":[ ],"y":"]"}\n\n',
    'data: "choices":]]\n\n',
    'data: choices":[]\n\n',
  ];
  const usage = '"choices":[]\n\n';
  for (let n = 0; n <= events.length; n++) {
    const kept = events.slice(0, n).join('');
    const d = new EventDropper(isUsage, MARKER);
    // The marker as the chunk's very first bytes (no `data:` field: an event of its own).
    assert.equal(d.push(Buffer.from(usage + kept)).toString(), kept, `marker first, ${n} others`);
    assert.equal(new EventDropper(isUsage, MARKER).push(Buffer.from(kept + usage)).toString(), kept);
    assert.equal(new EventDropper(isUsage, MARKER).push(Buffer.from(kept)).toString(), kept);
  }
});
