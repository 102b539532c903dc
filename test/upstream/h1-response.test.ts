// The upstream response parser: every framing, at every split of the bytes, and every malformed
// answer a hostile upstream could send refused with an error.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ResponseHead } from '../../src/upstream/h1-response.ts';
import { ResponseParser } from '../../src/upstream/h1-response.ts';

interface Parsed {
  heads: ResponseHead[];
  body: string;
  ended: boolean;
  /** Bytes left over after the end. */
  rest: number;
}

/** Feeds `wire` cut at the given offsets; `pauseEvery` makes onBody stop after each slice. */
function parse(wire: string, cuts: number[] = [], pauseEvery = false): Parsed {
  const out: Parsed = { heads: [], body: '', ended: false, rest: 0 };
  const parser = new ResponseParser({
    onHead: (h) => out.heads.push(h),
    onBody: (chunk) => {
      out.body += chunk.toString('latin1');
      return !pauseEvery;
    },
    onEnd: () => {
      out.ended = true;
    },
  });
  const bytes = Buffer.from(wire, 'latin1');
  const bounds = [0, ...cuts, bytes.length];
  for (let i = 0; i + 1 < bounds.length; i++) {
    let piece = bytes.subarray(bounds[i], bounds[i + 1]);
    // A paused parser is called again with what it did not take (as the connection does).
    for (;;) {
      const used = parser.execute(piece);
      if (parser.done) {
        out.rest += piece.length - used;
        break;
      }
      if (used === piece.length && !pauseEvery) break;
      piece = piece.subarray(used);
      if (piece.length === 0) {
        parser.execute(piece); // an end held back by the pause
        break;
      }
    }
  }
  return out;
}

function everySplit(wire: string, check: (p: Parsed) => void): void {
  check(parse(wire));
  check(parse(wire, [], true));
  for (let i = 1; i < wire.length; i++) check(parse(wire, [i]));
  for (let i = 1; i + 3 < wire.length; i += 3) check(parse(wire, [i, i + 1, i + 3], true));
}

const fails = (wire: string, pattern: RegExp): void => {
  assert.throws(() => parse(wire), pattern);
};

describe('upstream response parser', () => {
  test('a content-length body, at every split', () => {
    const wire = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}';
    everySplit(wire, (p) => {
      assert.equal(p.heads.length, 1);
      assert.equal(p.heads[0]!.status, 200);
      assert.equal(p.heads[0]!.headers['content-type'], 'application/json');
      assert.equal(p.heads[0]!.keepAlive, true);
      assert.equal(p.body, '{"ok":true}');
      assert.equal(p.ended, true);
    });
  });

  test('a chunked body with extensions and trailers, at every split', () => {
    const wire =
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' +
      '5;name=value\r\nhello\r\n1 \r\n,\r\n6\r\n world\r\n0\r\nx-trailer: 1\r\n\r\n';
    everySplit(wire, (p) => {
      assert.equal(p.body, 'hello, world');
      assert.equal(p.ended, true);
      assert.equal(p.rest, 0);
    });
  });

  test('chunk sizes in either case and up to 12 hex digits, at every split', () => {
    const wire =
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' +
      'A\r\n0123456789\r\nb\r\nabcdefghijk\r\n00000000000C\r\nABCDEFGHIJKL\r\n0\r\n\r\n';
    everySplit(wire, (p) => {
      assert.equal(p.body, '0123456789abcdefghijkABCDEFGHIJKL');
      assert.equal(p.ended, true);
      assert.equal(p.rest, 0);
    });
    fails('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n000000000000A\r\n', /chunk size/);
    fails('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n\r\n', /chunk size/);
    fails('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1g\r\n', /chunk size/);
  });

  test('1xx heads are skipped; the final head is the one passed on', () => {
    const wire =
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n' +
      'HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\nok';
    everySplit(wire, (p) => {
      assert.deepEqual(
        p.heads.map((h) => h.status),
        [201],
      );
      assert.equal(p.body, 'ok');
    });
  });

  test('a body without a length runs to the close, and the connection is not kept', () => {
    const p = parse('HTTP/1.1 200 OK\r\n\r\nsome bytes');
    assert.equal(p.heads[0]!.keepAlive, false);
    assert.equal(p.body, 'some bytes');
    assert.equal(p.ended, false);
    const parser = new ResponseParser({ onHead: () => {}, onBody: () => true, onEnd: () => {} });
    parser.execute(Buffer.from('HTTP/1.1 200 OK\r\n\r\nabc'));
    assert.equal(parser.eof(), true);
    parser.execute(Buffer.alloc(0));
    assert.equal(parser.done, true);
  });

  test('204 and 304 have no body; bytes after a response are left over', () => {
    const p = parse('HTTP/1.1 204 No Content\r\ncontent-length: 5\r\n\r\nHTTP/1.1 200 OK\r\n');
    assert.equal(p.ended, true);
    assert.equal(p.body, '');
    assert.ok(p.rest > 0);
    assert.equal(parse('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokEXTRA').rest, 5);
  });

  test('repeated headers become lists; set-cookie is always one', () => {
    const p = parse('HTTP/1.1 200 OK\r\nx-a: 1\r\nX-A: 2\r\nset-cookie: s=1\r\ncontent-length: 0\r\n\r\n');
    assert.deepEqual(p.heads[0]!.headers['x-a'], ['1', '2']);
    assert.deepEqual(p.heads[0]!.headers['set-cookie'], ['s=1']);
  });

  test('keep-alive: close, HTTP/1.0 and the timeout hint', () => {
    const head = (extra: string, version = '1.1'): ResponseHead =>
      parse(`HTTP/${version} 200 OK\r\n${extra}content-length: 0\r\n\r\n`).heads[0]!;
    assert.equal(head('connection: close\r\n').keepAlive, false);
    assert.equal(head('connection: upgrade, close\r\n').keepAlive, false);
    assert.equal(head('', '1.0').keepAlive, false);
    assert.equal(head('connection: keep-alive\r\n', '1.0').keepAlive, true);
    assert.equal(head('keep-alive: timeout=5, max=100\r\n').keepAliveHintMs, 5000);
    assert.equal(head('').keepAliveHintMs, undefined);
  });

  test('equal repeated content-lengths are one length; different ones are an error', () => {
    assert.equal(parse('HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 2\r\n\r\nok').body, 'ok');
    fails('HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nok', /content-length/);
    fails('HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n', /content-length/);
    fails('HTTP/1.1 200 OK\r\ncontent-length: 0x10\r\n\r\n', /content-length/);
  });

  test('malformed answers are errors', () => {
    fails('HTTP/1.1 200 OK\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\n', /both/);
    fails('HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\n', /transfer-encoding/);
    fails('HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n', /transfer-encoding/);
    fails('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n', /chunk size/);
    fails('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nokX\r\n', /CRLF/);
    fails('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\nok\r\n', /bare LF/);
    fails('HTTP/1.1 200 OK\r\nx-a: 1\r\n folded\r\ncontent-length: 0\r\n\r\n', /header line/);
    fails('HTTP/1.1 200 OK\r\nx-a: a\x01b\r\ncontent-length: 0\r\n\r\n', /bad byte/);
    fails('HTTP/1.1 200 OK\r\nx-a: a\nb: c\r\ncontent-length: 0\r\n\r\n', /bad byte/);
    fails('HTTP/1.1 200 OK\r\nbad name: 1\r\n\r\n', /header line/);
    fails('HTTP/1.1 200 OK\r\nno-colon\r\n\r\n', /header line/);
    fails('HTTP/1.1 200 OK\r\n: empty name\r\n\r\n', /header line/);
    fails('HTTP/2 200 OK\r\n\r\n', /status line/);
    fails('HTTP/1.1 99 Low\r\n\r\n', /status line/);
    fails('HTTP/1.1 200 OK\r\nx\x00: 1\r\n\r\n', /header line/);
    fails('HTTP/1.1 101 Switching Protocols\r\n\r\n', /protocol switch/);
    fails(`HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(70_000)}\r\n\r\n`, /too long/);
    fails(`HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(70_000)}`, /too long/);
    fails(`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1;${'e'.repeat(5000)}`, /too long/);
    fails(
      `HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0\r\n${'x-t: 1\r\n'.repeat(3000)}\r\n`,
      /trailer/,
    );
  });

  test('a head trickled in byte by byte is read whole', () => {
    const wire = `HTTP/1.1 200 OK\r\n${'x-h: v\r\n'.repeat(4000)}content-length: 1\r\n\r\n!`;
    const cuts = Array.from({ length: wire.length - 1 }, (_, i) => i + 1);
    const p = parse(wire, cuts);
    assert.equal(p.body, '!');
    assert.equal(p.heads[0]!.headers['x-h']!.length, 4000);
  });
});
