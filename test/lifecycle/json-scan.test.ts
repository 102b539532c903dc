import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  applyEdits,
  insertion,
  scanJson,
  spanIsTrue,
  spanString,
  spliceString,
} from '../../src/lifecycle/json-scan.ts';

function scan(text: string) {
  return scanJson(Buffer.from(text));
}

describe('scanJson', () => {
  it('agrees with JSON.parse on validity', () => {
    const samples = [
      '{}',
      '[]',
      ' {"a" : [1, -2.5e+3, true, false, null, "x\\n\\u00e9"]} ',
      '"text"',
      '0',
      '{"a":1,}',
      '{"a":01}',
      '{"a":tru}',
      '{"a":"\u0001"}',
      '{"a":1}x',
      '{"a" 1}',
      '[1 2]',
      '{',
      '',
      '{"a":"\\x"}',
      '{"a":1.}',
      '{"a":-}',
      '{"a":"\\u12g4"}',
    ];
    for (const s of samples) {
      let valid = true;
      try {
        JSON.parse(s);
      } catch {
        valid = false;
      }
      assert.equal(typeof scan(s) !== 'string', valid, s);
    }
  });

  it('G-SEC-22 rejects nesting deeper than 128 levels and accepts 128', () => {
    assert.equal(scan(`${'['.repeat(129)}${']'.repeat(129)}`), 'depth');
    assert.equal(typeof scan(`${'['.repeat(128)}${']'.repeat(128)}`), 'object');
    assert.equal(scan(`{"a":${'{"b":'.repeat(200)}1${'}'.repeat(200)}}`), 'depth');
  });

  it('finds top-level model and stream, ignoring nested ones', () => {
    const text = '{"messages":[{"model":"inner","stream":true}],"model":"gpt","stream":true}';
    const r = scan(text);
    assert.ok(typeof r === 'object');
    const b = Buffer.from(text);
    assert.equal(spanString(b, r.model), 'gpt');
    assert.equal(spanIsTrue(b, r.stream), true);
  });

  it('decodes escaped keys and values the way JSON.parse does', () => {
    const text = '{"mod\\u0065l":"g\\u0070t"}';
    const r = scan(text);
    assert.ok(typeof r === 'object');
    assert.equal(spanString(Buffer.from(text), r.model), 'gpt');
  });

  it('refuses a duplicated model field (the upstream could read the other one)', () => {
    assert.equal(scan('{"model":"a","model":"b"}'), 'duplicate');
    assert.equal(scan('{"model":"a","mod\\u0065l":"b"}'), 'duplicate');
  });

  it('splices the model value and leaves every other byte alone (P-FWD-1)', () => {
    const text = '{ "b":1,\n  "model" :  "alias" , "x":{"model":"keep"} }';
    const b = Buffer.from(text);
    const r = scan(text);
    assert.ok(typeof r === 'object' && r.model);
    assert.equal(
      spliceString(b, r.model, 'real-"model"').toString(),
      '{ "b":1,\n  "model" :  "real-\\"model\\"" , "x":{"model":"keep"} }',
    );
  });

  it('reports non-object roots', () => {
    const r = scan('[1]');
    assert.ok(typeof r === 'object');
    assert.equal(r.isObject, false);
    const numeric = scan('{"model":5}');
    assert.ok(typeof numeric === 'object');
    assert.equal(spanString(Buffer.from('{"model":5}'), numeric.model), undefined);
  });
});

describe('applyEdits and insertion', () => {
  /** The edits made one at a time on strings, from the last: the reference. */
  function naive(text: string, edits: ReadonlyArray<{ start: number; end: number; text: string }>): string {
    const bytes = Buffer.from(text);
    let out = bytes;
    for (const e of [...edits].sort((x, y) => y.start - x.start))
      out = Buffer.concat([out.subarray(0, e.start), Buffer.from(e.text), out.subarray(e.end)]);
    return out.toString();
  }

  it('makes every edit, in any order given, with multi-byte texts', () => {
    const body = '{"model":"p","messages":[{"content":"grüße 🚀"}],"stream":true}';
    const b = Buffer.from(body);
    const scan = scanJson(b);
    assert.ok(typeof scan !== 'string' && scan.model !== undefined && scan.stream !== undefined);
    const edits = [
      { start: scan.stream.start, end: scan.stream.end, text: 'false' },
      { start: scan.model.start, end: scan.model.end, text: '"modèle-🚀"' },
      insertion(b, '"first":1,'),
    ];
    const out = applyEdits(b, edits).toString();
    assert.equal(out, naive(body, edits));
    assert.deepEqual(JSON.parse(out), {
      first: 1,
      model: 'modèle-🚀',
      messages: [{ content: 'grüße 🚀' }],
      stream: false,
    });
    assert.equal(applyEdits(b, []), b, 'no edit: the same bytes');
  });

  it('puts members first, dropping the last comma in an empty object', () => {
    for (const [body, expected] of [
      ['{}', { a: 1, b: 'x' }],
      [' { \n } ', { a: 1, b: 'x' }],
      ['{"c":true}', { a: 1, b: 'x', c: true }],
      ['{ "c" : [] }', { a: 1, b: 'x', c: [] }],
    ] as const) {
      const b = Buffer.from(body);
      const out = applyEdits(b, [insertion(b, '"a":1,"b":"x",')]).toString();
      assert.deepEqual(JSON.parse(out), expected, body);
      assert.deepEqual(Object.keys(JSON.parse(out)).slice(0, 2), ['a', 'b'], body);
    }
  });
});
