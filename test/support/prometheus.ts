// Reads a Prometheus text exposition (format 0.0.4) strictly, for tests: every sample line must
// parse, every family must carry HELP and TYPE before its samples, and a sample is looked up by
// name and exact label set.

import assert from 'node:assert/strict';

export interface Exposition {
  /** `# TYPE` of each family. */
  readonly types: ReadonlyMap<string, string>;
  readonly helps: ReadonlyMap<string, string>;
  readonly samples: readonly { name: string; labels: Record<string, string>; value: number }[];
  /** The value of the one sample with exactly these labels; undefined when absent. */
  get(name: string, labels?: Record<string, string>): number | undefined;
  /** Every sample of `name` whose labels include `partial`. */
  all(name: string, partial?: Record<string, string>): { labels: Record<string, string>; value: number }[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const m = LABEL.exec(text);
    assert.ok(m, `bad label set {${text}}`);
    labels[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  return labels;
}

function familyOf(name: string, types: ReadonlyMap<string, string>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (name.endsWith(suffix) && types.get(name.slice(0, -suffix.length)) === 'histogram')
      return name.slice(0, -suffix.length);
  }
  return name;
}

export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const helps = new Map<string, string>();
  const samples: { name: string; labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# HELP ')) {
      const [name, ...help] = line.slice(7).split(' ');
      helps.set(name!, help.join(' '));
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      const [name, type] = line.slice(7).split(' ');
      assert.ok(helps.has(name!), `TYPE before HELP for ${name}`);
      types.set(name!, type!);
      continue;
    }
    const m = SAMPLE.exec(line);
    assert.ok(m, `unparseable sample line: ${line}`);
    const name = m[1]!;
    assert.ok(types.has(familyOf(name, types)), `sample ${name} without # TYPE`);
    const value = m[4] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[4]);
    assert.ok(!Number.isNaN(value) || m[4] === 'NaN', `bad value in ${line}`);
    samples.push({ name, labels: m[3] === undefined ? {} : parseLabels(m[3]), value });
  }
  const same = (a: Record<string, string>, b: Record<string, string>): boolean =>
    Object.keys(a).length === Object.keys(b).length && Object.entries(b).every(([k, v]) => a[k] === v);
  return {
    types,
    helps,
    samples,
    get(name, labels = {}) {
      const found = samples.filter((s) => s.name === name && same(s.labels, labels));
      assert.ok(found.length <= 1, `duplicate series ${name}${JSON.stringify(labels)}`);
      return found[0]?.value;
    },
    all(name, partial = {}) {
      return samples.filter(
        (s) => s.name === name && Object.entries(partial).every(([k, v]) => s.labels[k] === v),
      );
    },
  };
}
