// Two rules from STYLE.md, checked over every src/**/*.ts: arrows point one way between folders
// (no cycle in the folder import graph), and the core never names a protocol or a provider (or the
// in-process demo model). What breaks them today is listed below with a reason; both lists only
// shrink: a new break fails, and so does an entry that no longer occurs.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { PROTOCOLS } from '../src/protocols/names.ts';
import { type Token, tokenize } from './support/ts-tokens.ts';

interface KnownEdge {
  /** `from -> to` between folders (or top-level files) of src/. */
  readonly edge: string;
  readonly reason: string;
}

/** Folder edges allowed to close a cycle: none. An entry needs a reason and is removed once fixed. */
const KNOWN_CYCLE_EDGES: readonly KnownEdge[] = [];

interface KnownNames {
  readonly file: string;
  /** Name (a protocol or provider, `'demo'` or `.builtin`) → how many times it occurs today. */
  readonly names: Readonly<Record<string, number>>;
  readonly reason: string;
}

/** Names allowed in code outside src/protocols/: none. An entry needs a reason and only shrinks. */
const KNOWN_NAMES: readonly KnownNames[] = [];

// ---------------------------------------------------------------------------------------------

const ROOT = resolve(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');

interface Source {
  /** Path from the repository root, `src/server/routes.ts`. */
  readonly file: string;
  readonly tokens: readonly Token[];
}

const SOURCES: readonly Source[] = readdirSync(SRC, { recursive: true, withFileTypes: true })
  .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
  .map((entry) => join(entry.parentPath, entry.name))
  .sort()
  .map((path) => ({ file: relative(ROOT, path), tokens: tokenize(readFileSync(path, 'utf8')) }));

const at = (source: Source, line: number): string => `${source.file}:${line}`;

// --- (a) the folder import graph ----------------------------------------------------------------

interface ModuleRef {
  readonly specifier: string;
  readonly line: number;
}

/**
 * Module specifiers a file names: `import … from '…'`, `import type … from '…'`, `export … from '…'`,
 * `import '…'`, `import('…')`, and, in a file that resolves modules with `import.meta.url` (lists of
 * modules loaded one by one), every relative string literal.
 */
function moduleRefs(tokens: readonly Token[]): ModuleRef[] {
  const resolvesUrls = tokens.some(
    (t, i) => t.text === 'import' && tokens[i + 2]?.text === 'meta' && tokens[i + 4]?.text === 'url',
  );
  const refs: ModuleRef[] = [];
  tokens.forEach((token, i) => {
    if (token.kind !== 'string') return;
    const prev = tokens[i - 1];
    const isStatic = prev?.kind === 'ident' && (prev.text === 'from' || prev.text === 'import');
    const isDynamic = prev?.text === '(' && tokens[i - 2]?.text === 'import';
    const isListed = resolvesUrls && /^\.\.?\//.test(token.text);
    if (isStatic || isDynamic || isListed) refs.push({ specifier: token.text, line: token.line });
  });
  return refs;
}

/** A file's node in the folder graph: its first folder under src/, or the file itself at the top. */
const nodeOf = (file: string): string => relative(SRC, join(ROOT, file)).split('/')[0]!;

/** Folder edge `from -> to` → the imports that make it. */
const EDGES = new Map<string, string[]>();
const GRAPH = new Map<string, Set<string>>();
for (const source of SOURCES) {
  for (const ref of moduleRefs(source.tokens)) {
    if (!ref.specifier.startsWith('.')) continue;
    const target = resolve(ROOT, dirname(source.file), ref.specifier);
    if (!target.startsWith(SRC + '/')) continue;
    const from = nodeOf(source.file);
    const to = nodeOf(relative(ROOT, target));
    if (from === to) continue;
    const edge = `${from} -> ${to}`;
    EDGES.set(edge, [...(EDGES.get(edge) ?? []), `${at(source, ref.line)} ${ref.specifier}`]);
    GRAPH.set(from, (GRAPH.get(from) ?? new Set()).add(to));
  }
}

/** Strongly connected components (Tarjan): node → component id. */
function components(graph: ReadonlyMap<string, ReadonlySet<string>>): Map<string, number> {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const component = new Map<string, number>();
  const stack: string[] = [];
  let counter = 0;
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter += 1;
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (!component.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      let member: string;
      do {
        member = stack.pop()!;
        component.set(member, index.get(node)!);
      } while (member !== node);
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return component;
}

/** The shortest way back from `to` to `from` (breadth first), to show the cycle an edge closes. */
function wayBack(from: string, to: string): string[] {
  const previous = new Map<string, string>([[to, to]]);
  const queue = [to];
  while (queue.length > 0) {
    const node = queue.shift()!;
    if (node === from) break;
    for (const next of GRAPH.get(node) ?? []) {
      if (previous.has(next)) continue;
      previous.set(next, node);
      queue.push(next);
    }
  }
  const path = [from];
  for (let node = from; node !== to; ) {
    node = previous.get(node)!;
    path.unshift(node);
  }
  return path;
}

function describeCycle(edge: string): string {
  const [from, to] = edge.split(' -> ') as [string, string];
  const imports = EDGES.get(edge)!.map((ref) => `      ${ref}`);
  return [`  ${[from, ...wayBack(from, to)].join(' -> ')}`, ...imports].join('\n');
}

// --- (b) names in code --------------------------------------------------------------------------

const PROVIDERS = Object.keys(parse(readFileSync(join(ROOT, 'providers.yaml'), 'utf8')) as object);
const NAMES = [...new Set([...PROTOCOLS, ...PROVIDERS])].sort((a, b) => b.length - a.length);
/**
 * Names that are also words of ordinary prose. In a string they count only as a whole value, a
 * path segment or part of a joined name (`/v1/responses`, `api.together.xyz`, `responses-api`), so a
 * message saying "no responses" is not a hit; as an identifier, only as a property or object key.
 */
const PROSE_WORDS = new Set([
  'responses',
  'together',
  'lambda',
  'synthetic',
  'fireworks',
  'moonshot',
  'chutes',
  'hyperbolic',
  'featherless',
  'minimax',
]);
const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
const NAME_IN_TEXT = new RegExp(
  `(?<![A-Za-z0-9])(?:${NAMES.map(escapeRegExp).join('|')})(?![A-Za-z0-9])`,
  'gi',
);
/** The demo model may be named only where it is defined. */
const DEMO_HOMES = ['src/protocols/', 'src/config/default.ts'];

interface Violation {
  readonly file: string;
  readonly line: number;
  readonly name: string;
  readonly where: string;
}

function isProse(text: string, start: number, name: string): boolean {
  if (!PROSE_WORDS.has(name) || text.length === name.length) return false;
  const before = text[start - 1] ?? '';
  const after = text[start + name.length] ?? '';
  const joined = (c: string): boolean => c === '/' || c === '-' || c === '_';
  return !(joined(before) || joined(after) || (before === '.' && after === '.'));
}

/** `fooBarBaz`, `FOO_BAR`, `FooBAR` → their lower-case words. */
const words = (identifier: string): string[] =>
  identifier
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[ _$]+/);

function namesIn(source: Source): Violation[] {
  const found: Violation[] = [];
  /** `offset`: where in a multi-line template the name is, to quote that line only. */
  const add = (line: number, name: string, token: Token, offset = 0): void => {
    const start = token.text.lastIndexOf('\n', offset) + 1;
    const end = token.text.indexOf('\n', offset);
    let text = token.text.slice(start, end < 0 ? undefined : end).trim();
    if (text.length > 72) text = `${text.slice(0, 69)}...`;
    found.push({ file: source.file, line, name, where: `${token.kind} ${JSON.stringify(text)}` });
  };
  source.tokens.forEach((token, i) => {
    if (token.kind === 'string' || token.kind === 'template' || token.kind === 'regex') {
      for (const match of token.text.matchAll(NAME_IN_TEXT)) {
        const name = match[0].toLowerCase();
        if (isProse(token.text, match.index, name)) continue;
        const line = token.line + (token.text.slice(0, match.index).match(/\n/g)?.length ?? 0);
        add(line, name, token, match.index);
      }
    } else if (token.kind === 'ident') {
      const isProperty =
        tokens(i - 1) === '.' || (tokens(i + 1) === ':' && ['{', ','].includes(tokens(i - 1)));
      for (const word of words(token.text)) {
        if (!NAMES.includes(word)) continue;
        if (PROSE_WORDS.has(word) && !(isProperty && token.text.toLowerCase() === word)) continue;
        add(token.line, word, token);
      }
    }
  });
  if (!DEMO_HOMES.some((home) => source.file.startsWith(home))) {
    source.tokens.forEach((token, i) => {
      if (token.kind === 'string' && token.text.toLowerCase() === 'demo') add(token.line, "'demo'", token);
      if (token.kind === 'ident' && token.text === 'builtin' && tokens(i - 1) === '.')
        add(token.line, '.builtin', token);
    });
  }
  return found;

  function tokens(i: number): string {
    return source.tokens[i]?.text ?? '';
  }
}

const VIOLATIONS: readonly Violation[] = SOURCES.filter(
  (source) => !source.file.startsWith('src/protocols/'),
).flatMap(namesIn);

// ---------------------------------------------------------------------------------------------

describe('the checks themselves', () => {
  const scan = (code: string, file = 'src/server/x.ts') =>
    namesIn({ file, tokens: tokenize(code) }).map((v) => `${v.line} ${v.name}`);

  it('tokenizes comments, strings, templates and regex literals apart', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: TypeScript source under test
    const tokens = tokenize("// 'a'\n/* `b` */ x = `c${ {d: 'e'}.d }f` / 2; y = /'[/]'/g.test('g');");
    const literals = tokens.filter((t) => t.kind !== 'ident' && t.kind !== 'punct' && t.kind !== 'number');
    assert.deepEqual(
      literals.map((t) => `${t.kind} ${t.text} @${t.line}`),
      ['template c @2', 'string e @2', 'template f @2', "regex /'[/]'/g @2", 'string g @2'],
    );
    assert.throws(() => tokenize("x = 'open"), /unterminated string at line 1/);
  });

  it('flags names in strings, template text, regexes and properties, not in comments or prose', () => {
    assert.deepEqual(
      scan(
        [
          "// openai, gemini: comments are fine; so is 'no responses yet'",
          "const a = 'no responses yet';",
          // biome-ignore lint/suspicious/noTemplateCurlyInString: TypeScript source under test
          "const b = x === 'gemini' ? `https://api.groq.com/${m}` : /^bedrock-runtime\\./;",
          'const c = edges.openai ?? { cohere: 1 };',
          "const d = ['/v1/responses', 'api.together.xyz', 'Z.AI'];",
          'const responses = [], together = 1;',
        ].join('\n'),
      ),
      ['3 gemini', '3 groq', '3 bedrock', '4 openai', '4 cohere', '5 responses', '5 together', '5 z.ai'],
    );
  });

  it("flags the demo model's name and builtin checks outside their homes", () => {
    const code = "if (p.builtin === 'demo') {}";
    assert.deepEqual(scan(code), ['1 .builtin', "1 'demo'"]);
    assert.deepEqual(scan(code, 'src/config/default.ts'), []);
    assert.deepEqual(scan(code, 'src/protocols/demo.ts'), []);
  });

  it('finds the folders on a cycle', () => {
    const graph = new Map([
      ['a', new Set(['b'])],
      ['b', new Set(['c'])],
      ['c', new Set(['a', 'd'])],
      ['d', new Set<string>()],
    ]);
    const component = components(graph);
    assert.equal(component.get('a'), component.get('c'));
    assert.notEqual(component.get('c'), component.get('d'));
  });
});

describe('the folder import graph', () => {
  it('sees every kind of import the sources use', () => {
    const refs = (file: string) =>
      moduleRefs(SOURCES.find((s) => s.file === file)!.tokens).map((r) => r.specifier);
    // Static imports, type-only imports, dynamic imports with a literal, and module lists
    // resolved against import.meta.url.
    assert.ok(refs('src/server/handler.ts').includes('./routes.ts'));
    assert.ok(refs('src/server/runtime.ts').includes('../lifecycle/pipeline.ts'));
    assert.ok(refs('src/server/runtime.ts').includes('../reliability/health.ts'));
    assert.ok(refs('src/protocols/registry.ts').includes('./bedrock/index.ts'));
    assert.ok(EDGES.has('server -> protocols'));
    assert.ok(GRAPH.get('main.ts')?.has('log.ts'), 'a top-level file is its own node');
  });

  it('has no cycle beyond the known edges, and every known edge still closes one', (t) => {
    const component = components(GRAPH);
    const cycleEdges = [...EDGES.keys()].filter((edge) => {
      const [from, to] = edge.split(' -> ') as [string, string];
      return component.get(from) === component.get(to);
    });
    for (const edge of cycleEdges.sort()) t.diagnostic(`cycle edge ${edge}`);
    const known = new Set(KNOWN_CYCLE_EDGES.map((k) => k.edge));
    const added = cycleEdges.filter((edge) => !known.has(edge));
    const stale = [...known].filter((edge) => !cycleEdges.includes(edge));
    assert.equal(added.length, 0, `new folder cycle(s):\n${added.map(describeCycle).join('\n')}`);
    assert.equal(
      stale.length,
      0,
      `no longer in a cycle; remove from KNOWN_CYCLE_EDGES:\n${stale.map((e) => `  ${e}`).join('\n')}`,
    );
  });
});

describe('names in code outside src/protocols/', () => {
  it('reads the names to look for', () => {
    assert.ok(NAMES.includes('gemini') && NAMES.includes('groq') && NAMES.includes('z.ai'));
  });

  it('finds no protocol, provider or demo name beyond the known ones, and every known one still occurs', (t) => {
    for (const v of VIOLATIONS) t.diagnostic(`${v.file}:${v.line}  ${v.name}  in ${v.where}`);
    const found = new Map<string, Violation[]>();
    for (const v of VIOLATIONS) {
      const key = `${v.file} ${v.name}`;
      found.set(key, [...(found.get(key) ?? []), v]);
    }
    const known = new Map<string, number>();
    for (const k of KNOWN_NAMES)
      for (const [name, count] of Object.entries(k.names)) known.set(`${k.file} ${name}`, count);
    const problems: string[] = [];
    for (const [key, list] of found) {
      if (list.length <= (known.get(key) ?? 0)) continue;
      problems.push(
        `new: ${key} occurs ${list.length} time(s), known ${known.get(key) ?? 0}:`,
        ...list.map((v) => `  ${v.file}:${v.line}  ${v.name}  in ${v.where}`),
      );
    }
    for (const [key, count] of known) {
      const now = found.get(key)?.length ?? 0;
      if (now < count)
        problems.push(`stale: ${key} occurs ${now} time(s), known ${count}; lower KNOWN_NAMES`);
    }
    assert.ok(problems.length === 0, problems.join('\n'));
  });
});
