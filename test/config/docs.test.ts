// The documentation describes only configuration the gateway runs. config.example.yaml and every
// ```yaml block of docs/configuration.md and README.md load through the real loader with no error
// and no unknown-key warning (a key of a feature not built yet is an error, so it cannot hide in an
// example), and every key named in a key table of docs/configuration.md appears in one of them.
//
// Conventions the docs follow: a block starting `# providers.yaml` is a catalog; a block without
// `providers:` and `models:` is a fragment, loaded merged over the previous complete block of the
// same file; a key table is a table whose first header cell is `Key`, under a heading whose first
// `code` span names where its keys live (`config.yaml`, `providers.yaml`, `pools.<name>.breaker`).

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { isMap, parse, parseDocument, type Scalar } from 'yaml';
import { SHIPPED_CATALOG } from '../../src/config/files.ts';
import { ConfigError, loadGatewayConfig } from '../../src/config/index.ts';
import { interpolate } from '../../src/config/interpolate.ts';
import { tempDir } from './helpers.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const CONFIG_DOC = 'docs/configuration.md';
/** Catalog key paths live under this prefix, deployment ones at the root. */
const CATALOG = 'providers.yaml:*';
/** Deployment mappings of name → entry: their keys are names, not configuration keys. */
const NAMED = new Set(['providers', 'models', 'pools']);

interface Example {
  readonly label: string;
  readonly kind: 'config' | 'catalog';
  /** The text loaded (a fragment already merged over its base). */
  readonly text: string;
}

interface Loaded {
  readonly example: Example;
  /** Why it does not load cleanly; undefined when it does. */
  readonly problem: string | undefined;
  readonly paths: ReadonlySet<string>;
}

function yamlBlocks(file: string): { text: string; line: number }[] {
  const md = readFileSync(join(ROOT, file), 'utf8');
  const blocks: { text: string; line: number }[] = [];
  for (const m of md.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)) {
    blocks.push({ text: m[1]!, line: md.slice(0, m.index).split('\n').length });
  }
  return blocks;
}

/** The fragment's top-level keys replace the base's; the rest of the base stays as written. */
function mergeOver(base: string, fragment: string): string {
  const doc = parseDocument(base);
  const frag = parseDocument(fragment);
  if (!isMap(frag.contents)) throw new Error('a fragment must be a mapping');
  for (const pair of frag.contents.items) doc.set((pair.key as Scalar).value, pair.value);
  return doc.toString();
}

function examples(): Example[] {
  const out: Example[] = [
    {
      label: 'config.example.yaml',
      kind: 'config',
      text: readFileSync(join(ROOT, 'config.example.yaml'), 'utf8'),
    },
  ];
  for (const file of [CONFIG_DOC, 'README.md']) {
    let base: string | undefined;
    for (const { text, line } of yamlBlocks(file)) {
      const label = `${file}:${line}`;
      if (/^# providers\.yaml\b/.test(text)) {
        out.push({ label, kind: 'catalog', text });
        continue;
      }
      const top = parse(text) as Record<string, unknown> | null;
      if (top !== null && 'providers' in top && 'models' in top) {
        base = text;
        out.push({ label, kind: 'config', text });
      } else {
        if (base === undefined)
          throw new Error(`${label}: a fragment with no complete config block before it`);
        out.push({
          label: `${label} (over the block before it)`,
          kind: 'config',
          text: mergeOver(base, text),
        });
      }
    }
  }
  return out;
}

/** Every `${NAME}` set, so the examples load whatever the environment holds. */
function envFor(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of text.matchAll(/\$\{([^}]*)\}/g)) env[m[1]!] = 'x';
  return env;
}

/** Key paths as the docs name them: `pools.*.members[].weight`, `providers.yaml:*.health.mode`. */
function keyPaths(value: unknown, path: string, out: Set<string>): void {
  if (Array.isArray(value)) {
    for (const item of value) keyPaths(item, `${path}[]`, out);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const [k, v] of Object.entries(value)) {
    const p = path === '' ? k : `${path}.${k}`;
    out.add(p);
    if (path === '' && NAMED.has(k) && v !== null && typeof v === 'object') {
      for (const entry of Object.values(v)) keyPaths(entry, `${k}.*`, out);
    } else {
      keyPaths(v, p, out);
    }
  }
}

function load(example: Example): Loaded {
  const dir = tempDir();
  const env = envFor(example.text);
  const paths = new Set<string>();
  const tree = parse(interpolate(example.text, example.label, env)) as Record<string, unknown>;
  let config = example.text;
  let catalog = SHIPPED_CATALOG;
  if (example.kind === 'catalog') {
    // Activate every entry of the catalog block, one model each.
    catalog = join(dir, 'providers.yaml');
    writeFileSync(catalog, example.text);
    const names = Object.keys(tree).map((n) => JSON.stringify(n));
    config = [
      'auth: {mode: token, client_tokens: [t]}',
      'providers:',
      ...names.map((n) => `  ${n}: {api_key_env: DOCS_TEST_KEY}`),
      'models:',
      ...names.map((n, i) => `  m${i}: {provider: ${n}, max_concurrent: 1}`),
      '',
    ].join('\n');
    for (const entry of Object.values(tree)) keyPaths(entry, CATALOG, paths);
  } else {
    keyPaths(tree, '', paths);
  }
  writeFileSync(join(dir, 'config.yaml'), config);
  const lines: string[] = [];
  try {
    loadGatewayConfig({
      // Not --validate: the examples name TLS files that exist only on a real host.
      validateOnly: false,
      configPath: join(dir, 'config.yaml'),
      providersPath: catalog,
      cwd: dir,
      env: { ...env, DOCS_TEST_KEY: 'k' },
      emit: (level, message) => lines.push(`[${level}] ${message}`),
    });
  } catch (err) {
    const detail = err instanceof ConfigError ? err.lines.join('\n') : String(err);
    return { example, problem: `does not load:\n${detail}`, paths };
  }
  const bad = lines.filter(
    (l) => l.includes('unknown key') || (l.startsWith('[error]') && !l.includes('OPEN RELAY')),
  );
  return { example, problem: bad.length > 0 ? `loads with:\n${bad.join('\n')}` : undefined, paths };
}

interface DocumentedKey {
  readonly path: string;
  readonly where: string;
}

/** Keys named in the first column of each `Key` table, as full paths. */
function documentedKeys(file: string): DocumentedKey[] {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  const keys: DocumentedKey[] = [];
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('#')) heading = line;
    if (!/^\|\s*Key\s*\|/.test(line)) continue;
    const named = /`([^`]+)`/.exec(heading)?.[1];
    assert.ok(named !== undefined, `${file}:${i + 1}: a key table under a heading that names no path`);
    const prefix =
      named === 'config.yaml' ? '' : named === 'providers.yaml' ? CATALOG : named.replace(/<[^>]+>/g, '*');
    for (i += 2; i < lines.length && lines[i]!.startsWith('|'); i++) {
      const cell = lines[i]!.split('|')[1]!;
      for (const m of cell.matchAll(/`([^`]+)`/g)) {
        keys.push({ path: prefix === '' ? m[1]! : `${prefix}.${m[1]!}`, where: `${file}:${i + 1}` });
      }
    }
  }
  return keys;
}

const loaded = examples().map(load);

describe('the documented configuration is configuration the gateway runs', () => {
  for (const l of loaded) {
    test(`${l.example.label} loads with no error and no unknown key`, () => {
      assert.equal(
        l.problem,
        undefined,
        `${l.example.label} ${l.problem}\n--- as loaded:\n${l.example.text}`,
      );
    });
  }

  test(`every key in the key tables of ${CONFIG_DOC} appears in an example that loads`, () => {
    const shown = new Set(loaded.filter((l) => l.problem === undefined).flatMap((l) => [...l.paths]));
    const keys = documentedKeys(CONFIG_DOC);
    // The walk must see the tables at all: catalog, top level, tls, auth, providers, models, pools,
    // members, breaker, failover, security.
    assert.ok(keys.length >= 40, `only ${keys.length} documented keys found`);
    const missing = keys.filter((k) => !shown.has(k.path)).map((k) => `${k.where}: ${k.path}`);
    assert.deepEqual(missing, [], 'documented keys that no loading example shows');
  });
});
