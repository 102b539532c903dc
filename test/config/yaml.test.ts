// The YAML reader under the config (js-yaml with the core schema): what the config relies on from it.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { ConfigError } from '../../src/config/errors.ts';
import { parseYaml, type YamlValue } from '../../src/config/yaml.ts';

const read = (text: string): YamlValue => parseYaml(text, 'c.yaml');
const failure = (text: string): string => {
  try {
    read(text);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.message;
  }
  return assert.fail('parsed');
};
const mapping = (v: YamlValue | undefined): ReadonlyMap<string, YamlValue> => {
  assert.ok(v instanceof Map);
  return v;
};

describe('config YAML', () => {
  test('names keep declaration order, integer-like ones too (lane order is declaration order)', () => {
    const text = 'models:\n  zeta: {}\n  "2": {}\n  10: {}\n  alpha: {}\n  1: {}\n';
    const models = mapping(mapping(read(text)).get('models'));
    assert.deepEqual([...models.keys()], ['zeta', '2', '10', 'alpha', '1']);
  });

  test('integers are exact bigints, floats numbers: 1 and 1.0 stay apart', () => {
    const m = mapping(
      read('a: 1\nb: 1.0\nc: 0x1F\nd: 0o17\ne: -12\nf: 99999999999999999999\ng: 1e3\nh: "5"\n'),
    );
    assert.deepEqual(Object.fromEntries(m), {
      a: 1n,
      b: 1,
      c: 31n,
      d: 15n,
      e: -12n,
      f: 99999999999999999999n,
      g: 1000,
      h: '5',
    });
  });

  test('the core schema: no YAML 1.1 booleans, no timestamps, no merge keys', () => {
    const m = mapping(read('a: yes\nb: off\nc: 2024-01-01\nbase: &b {x: 1}\nuse: {<<: *b}\nd: ~\n'));
    assert.equal(m.get('a'), 'yes');
    assert.equal(m.get('b'), 'off');
    assert.equal(m.get('c'), '2024-01-01');
    assert.deepEqual([...mapping(m.get('use')).keys()], ['<<']);
    assert.equal(m.get('d'), null);
    // The same reading as an independent YAML 1.2 core implementation's.
    assert.deepEqual(parse('a: yes\nb: off\nc: 2024-01-01\n', { version: '1.2' }), {
      a: 'yes',
      b: 'off',
      c: '2024-01-01',
    });
  });

  test('duplicate keys, non-scalar and null keys are errors that name the path', () => {
    assert.equal(
      failure('models:\n  gpt: {}\n  gpt: {}\n'),
      "c.yaml: invalid YAML: models: duplicate key 'gpt'",
    );
    assert.equal(failure('m:\n  1: a\n  "1": b\n'), "c.yaml: invalid YAML: m: duplicate key '1'");
    assert.equal(failure('m:\n  [a, b]: 1\n'), 'c.yaml: invalid YAML: m: mapping keys must be plain strings');
    assert.equal(failure('m:\n  ~: 1\n'), 'c.yaml: invalid YAML: m: mapping keys must be plain strings');
  });

  test('syntax errors and unknown tags say where', () => {
    assert.match(failure('a: 1\nb: [unclosed\n'), /^c\.yaml: invalid YAML: line 3, column 1: /);
    assert.match(
      failure('a: !!binary aGVsbG8=\n'),
      /^c\.yaml: invalid YAML: line 1, column 4: unknown scalar tag/,
    );
    assert.match(failure('a: 1\n---\nb: 2\n'), /^c\.yaml: invalid YAML: .*single document/);
  });

  test('an alias bomb is refused, a plain alias is read', () => {
    const levels = ['a: &a [1,1,1,1,1,1,1,1,1,1]'];
    for (const [prev, name] of [
      ['a', 'b'],
      ['b', 'c'],
      ['c', 'd'],
      ['d', 'e'],
      ['e', 'f'],
      ['f', 'g'],
    ])
      levels.push(`${name}: &${name} [${Array(10).fill(`*${prev}`).join(',')}]`);
    assert.match(failure(levels.join('\n')), /document too large/);
    const m = mapping(read('base: &b {x: 1}\nuse: *b\n'));
    assert.deepEqual(Object.fromEntries(mapping(m.get('use'))), { x: 1n });
  });
});
