// The shared SSE framing (src/protocols/sse.ts): line endings, split chunks, multi-line data,
// comments, the buffer bound, and the encoder.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeSse, type SseFrame, SseParser } from '../../src/protocols/sse.ts';

function parseAll(chunks: readonly (Uint8Array | string)[], parser = new SseParser()): SseFrame[] {
  const frames: SseFrame[] = [];
  for (const c of chunks) frames.push(...parser.push(c));
  frames.push(...parser.end());
  return frames;
}

const STREAM =
  '\uFEFF: comment line\n' +
  'event: message_start\ndata: {"a":1}\n\n' +
  'data: line one\r\ndata: line two\r\n\r\n' +
  'data:no-space\rdata:  two spaces\r\r' +
  'id: 7\nretry: 1000\nunknown: x\ndata\n\n' +
  'event: only-event\n\n' +
  'event: ü\ndata: 🚀 grüße\n\n' +
  'data: [DONE]\n\n';

const EXPECTED: SseFrame[] = [
  { event: 'message_start', data: '{"a":1}' },
  { data: 'line one\nline two' },
  { data: 'no-space\n two spaces' },
  { data: '' },
  { event: 'ü', data: '🚀 grüße' },
  { data: '[DONE]' },
];

describe('SseParser', () => {
  it('parses events, multi-line data, comments and every line ending', () => {
    assert.deepEqual(parseAll([STREAM]), EXPECTED);
  });

  it('gives the same frames for every split of the bytes, including inside CRLF and UTF-8 sequences', () => {
    const bytes = new TextEncoder().encode(STREAM);
    for (let at = 1; at < bytes.length; at++) {
      assert.deepEqual(parseAll([bytes.subarray(0, at), bytes.subarray(at)]), EXPECTED, `split at ${at}`);
    }
    assert.deepEqual(
      parseAll(Array.from(bytes, (_, i) => bytes.subarray(i, i + 1))),
      EXPECTED,
      'byte by byte',
    );
  });

  it('delivers a last frame that lacks its blank line only at end()', () => {
    const p = new SseParser();
    assert.deepEqual(p.push('data: a\n\ndata: b\n'), [{ data: 'a' }]);
    assert.deepEqual(p.end(), [{ data: 'b' }]);
    assert.deepEqual(parseAll(['data: no newline at all']), [{ data: 'no newline at all' }]);
  });

  it('stops at the buffer bound instead of growing without limit', () => {
    const p = new SseParser(64);
    assert.deepEqual(p.push('data: short\n\n'), [{ data: 'short' }]);
    assert.deepEqual(p.push(`data: ${'x'.repeat(100)}`), []);
    assert.equal(p.overflowed, true);
    assert.deepEqual(p.push('data: later\n\n'), []);
    assert.deepEqual(p.end(), []);
    const lines = new SseParser(64);
    for (let i = 0; i < 20; i++) lines.push('data: 0123456789\n');
    assert.equal(lines.overflowed, true, 'many data lines of one frame count too');
  });

  it('reads invalid UTF-8 and byte order marks as one streaming decoder would, however split', () => {
    const encode = (t: string): number[] => [...new TextEncoder().encode(t)];
    const bytes = Uint8Array.from([
      ...[0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf],
      ...encode('data: a'),
      ...[0xff, 0xc3, 0x28, 0xe2, 0x82],
      ...encode('\n\ndata: '),
      ...[0xef, 0xbb, 0xbf, 0xf0, 0x9f, 0x9a],
      ...encode('\n\ndata: end'),
      0xe2,
    ]);
    // The reference: the whole stream decoded at once by the WHATWG decoder, then framed.
    const expected = parseAll([new TextDecoder().decode(bytes)]);
    assert.equal(expected.length, 3);
    for (let at = 0; at <= bytes.length; at++) {
      assert.deepEqual(parseAll([bytes.subarray(0, at), bytes.subarray(at)]), expected, `split at ${at}`);
    }
    assert.deepEqual(
      parseAll(Array.from(bytes, (_, i) => bytes.subarray(i, i + 1))),
      expected,
      'byte by byte',
    );
  });

  it('never throws on arbitrary bytes', () => {
    let s = 12345;
    const next = (): number => {
      s = (s * 1103515245 + 12345) & 0x7fffffff;
      return s;
    };
    for (let n = 0; n < 300; n++) {
      const bytes = Uint8Array.from({ length: next() % 200 }, () => next() % 256);
      assert.doesNotThrow(() => parseAll([bytes.subarray(0, 50), bytes.subarray(50)]));
    }
  });
});

describe('encodeSse', () => {
  it('writes one data line per line and round-trips through the parser', () => {
    assert.equal(encodeSse('{"x":1}'), 'data: {"x":1}\n\n');
    assert.equal(encodeSse('a\nb', 'ev'), 'event: ev\ndata: a\ndata: b\n\n');
    const frames = parseAll([encodeSse('one\r\ntwo\nthree', 'e'), encodeSse('')]);
    assert.deepEqual(frames, [{ event: 'e', data: 'one\ntwo\nthree' }, { data: '' }]);
  });
});
