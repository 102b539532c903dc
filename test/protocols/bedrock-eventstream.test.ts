// Our event-stream framing (src/protocols/bedrock/eventstream.ts) against @smithy's codec, the one
// the AWS SDK uses: frames it writes (every header type) are read back the same, split anywhere;
// frames we write are read by it; a damaged frame fails the stream.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventStreamCodec, Int64 } from '@smithy/eventstream-codec';
import { encodeEvent, encodeFrame, FrameDecoder } from '../../src/protocols/bedrock/eventstream.ts';

const smithy = new EventStreamCodec(
  (bytes) => new TextDecoder().decode(bytes),
  (text) => new TextEncoder().encode(text),
);

const everyType = smithy.encode({
  headers: {
    ':event-type': { type: 'string', value: 'contentBlockDelta' },
    yes: { type: 'boolean', value: true },
    no: { type: 'boolean', value: false },
    b: { type: 'byte', value: -5 },
    s: { type: 'short', value: 1234 },
    i: { type: 'integer', value: -70000 },
    l: { type: 'long', value: Int64.fromNumber(9_007_199_254_740_000) },
    bytes: { type: 'binary', value: new Uint8Array([1, 2, 255]) },
    t: { type: 'timestamp', value: new Date('2026-12-05T10:00:00.000Z') },
    u: { type: 'uuid', value: '0af76519-16cd-43dd-8448-eb211c80319c' },
  },
  body: new TextEncoder().encode('{"delta":{"text":"héllo"}}'),
});

const EXPECTED = {
  headers: {
    ':event-type': 'contentBlockDelta',
    yes: 'true',
    no: 'false',
    b: '-5',
    s: '1234',
    i: '-70000',
    l: '9007199254740000',
    bytes: 'AQL/',
    t: '2026-12-05T10:00:00.000Z',
    u: '0af76519-16cd-43dd-8448-eb211c80319c',
  },
  payload: '{"delta":{"text":"héllo"}}',
};

test('a frame @smithy wrote, with every header type, reads the same however it is split', () => {
  const two = new Uint8Array(everyType.byteLength * 2);
  two.set(everyType, 0);
  two.set(everyType, everyType.byteLength);
  for (let cut = 0; cut <= two.byteLength; cut++) {
    const decoder = new FrameDecoder();
    const first = decoder.push(two.subarray(0, cut));
    const second = decoder.push(two.subarray(cut));
    assert.equal(first.error ?? second.error, undefined, `cut at ${cut}`);
    assert.deepEqual([...first.frames, ...second.frames], [EXPECTED, EXPECTED], `cut at ${cut}`);
    assert.equal(decoder.pending, 0);
  }
});

test('frames we write are read by @smithy', () => {
  const message = smithy.decode(encodeEvent('messageStop', '{"stopReason":"end_turn"}'));
  assert.deepEqual(message.headers, {
    ':event-type': { type: 'string', value: 'messageStop' },
    ':content-type': { type: 'string', value: 'application/json' },
    ':message-type': { type: 'string', value: 'event' },
  });
  assert.equal(new TextDecoder().decode(message.body), '{"stopReason":"end_turn"}');
  const plain = smithy.decode(encodeFrame({}, ''));
  assert.deepEqual(plain.headers, {});
  assert.equal(plain.body.byteLength, 0);
});

test('a damaged frame fails the stream, which then yields nothing more', () => {
  const bad = everyType.slice();
  bad[bad.byteLength - 10]! ^= 0xff;
  const decoder = new FrameDecoder();
  assert.deepEqual(decoder.push(bad), { frames: [], error: 'bad message CRC' });
  assert.deepEqual(decoder.push(everyType), { frames: [] });
  const prelude = everyType.slice();
  prelude[2]! ^= 0x01;
  assert.equal(new FrameDecoder().push(prelude).error, 'bad prelude CRC');
});
