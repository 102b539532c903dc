// YAML 1.2 (core schema) to a plain value tree, plus a typed field reader that names key paths in
// errors and remembers which keys were read so the rest can be warned about (G-CFG-9…12).

import { isAlias, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { ConfigError } from './errors.ts';

/** Integers stay `bigint` so `1` and `1.0` remain distinguishable (G-CFG-10). */
export type YamlValue = string | number | bigint | boolean | null | readonly YamlValue[] | YamlMapping;
export type YamlMapping = ReadonlyMap<string, YamlValue>;

const MAX_NODES = 1_000_000;

/** Parses one document; syntax errors, duplicate keys and non-scalar keys are fatal. */
export function parseYaml(text: string, file: string): YamlValue {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    version: '1.2',
    schema: 'core',
    intAsBigInt: true,
    uniqueKeys: false,
    merge: false,
    prettyErrors: false,
    lineCounter,
  });
  const first = doc.errors[0];
  if (first) {
    const pos = lineCounter.linePos(first.pos[0]);
    const detail = first.message.split('\n')[0]!;
    throw new ConfigError(`${file}: invalid YAML: line ${pos.line}, column ${pos.col}: ${detail}`);
  }
  let budget = MAX_NODES;
  const fail = (path: string, detail: string): never => {
    throw new ConfigError(`${file}: invalid YAML: ${path === '' ? '' : `${path}: `}${detail}`);
  };
  const walk = (node: unknown, path: string): YamlValue => {
    if (--budget < 0) fail(path, 'document too large (too many nodes or alias expansions)');
    if (node === null || node === undefined) return null;
    if (isAlias(node)) return walk(node.resolve(doc), path);
    if (isScalar(node)) {
      const v = node.value;
      if (v === null || typeof v === 'string' || typeof v === 'boolean' || typeof v === 'bigint') return v;
      if (typeof v === 'number') return v;
      return fail(path, 'unsupported YAML tag (only strings, numbers, booleans, lists and mappings)');
    }
    if (isSeq(node)) return node.items.map((item, i) => walk(item, `${path}[${i}]`));
    if (isMap(node)) {
      const out = new Map<string, YamlValue>();
      for (const pair of node.items) {
        const keyNode = isAlias(pair.key) ? pair.key.resolve(doc) : pair.key;
        if (!isScalar(keyNode) || keyNode.value === null || typeof keyNode.value === 'object') {
          fail(path, 'mapping keys must be plain strings');
        }
        const key = String((keyNode as { value: unknown }).value);
        const keyPath = joinPath(path, key);
        if (out.has(key)) fail(path === '' ? key : path, `duplicate key '${key}'`);
        out.set(key, walk(pair.value as Node | null, keyPath));
      }
      return out;
    }
    return fail(path, 'unsupported YAML node');
  };
  return walk(doc.contents, '');
}

export function joinPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  const part = /^[A-Za-z0-9_-]+$/.test(key) ? key : `'${key}'`;
  if (path === '') return part;
  return /^[A-Za-z0-9_-]+$/.test(key) ? `${path}.${key}` : `${path}[${part}]`;
}

export function isMapping(value: YamlValue | undefined): value is YamlMapping {
  return value instanceof Map;
}

/** Keys whose values are credentials: a type error under them never echoes the value (G-SEC-50). */
const SECRET_PATH =
  /(?:^|\.)(?:client_tokens|token|admin_token|api_key|[a-z_]*(?:secret|password))(?:\[\d+\])?$/;

/** What was found instead, with the value only where it cannot be a secret. */
function describeAt(path: string, value: YamlValue): string {
  if (SECRET_PATH.test(path) && (typeof value === 'bigint' || typeof value === 'number')) {
    return typeof value === 'bigint' ? 'an integer' : 'a float';
  }
  return describe(value);
}

function describe(value: YamlValue): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'bigint') return `an integer (${value})`;
  if (typeof value === 'number') return `a float (${value})`;
  if (typeof value === 'boolean') return `a boolean (${value})`;
  if (Array.isArray(value)) return 'a list';
  return 'a mapping';
}

/** Collects unknown-key warnings for one file and turns type errors into G-CFG-10 messages. */
export class ParseScope {
  readonly file: string;
  private readonly readers: Fields[] = [];

  constructor(file: string) {
    this.file = file;
  }

  fail(path: string, detail: string): never {
    throw new ConfigError(`${this.file}: invalid YAML: ${path === '' ? '' : `${path}: `}${detail}`);
  }

  /** The root mapping of the file (G-CFG-9: both top levels are mappings). */
  root(value: YamlValue): Fields {
    if (!isMapping(value)) this.fail('', `top level must be a mapping, found ${describe(value)}`);
    return this.track(new Fields(this, value as YamlMapping, ''));
  }

  track(fields: Fields): Fields {
    this.readers.push(fields);
    return fields;
  }

  /** One line per unknown key path, in document order (G-CFG-11). */
  unknownKeys(): string[] {
    return this.readers.flatMap((r) => r.unusedKeys().map((p) => `${this.file}: unknown key '${p}' ignored`));
  }
}

/** Typed access to one mapping; every accessor marks its key as known. */
export class Fields {
  readonly path: string;
  private readonly scope: ParseScope;
  private readonly map: YamlMapping;
  private readonly used = new Set<string>();

  constructor(scope: ParseScope, map: YamlMapping, path: string) {
    this.scope = scope;
    this.map = map;
    this.path = path;
  }

  pathOf(key: string): string {
    return joinPath(this.path, key);
  }

  /** Value of `key`, null treated as absent. */
  private get(key: string): YamlValue | undefined {
    this.used.add(key);
    const v = this.map.get(key);
    return v === null ? undefined : v;
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  /** Marks a key as known without reading it (deprecated fields handled elsewhere). */
  raw(key: string): YamlValue | undefined {
    return this.get(key);
  }

  /** Every key with a non-null value, all marked as known (blocks whose every key is checked). */
  presentKeys(): string[] {
    for (const k of this.map.keys()) this.used.add(k);
    return [...this.map].filter(([, v]) => v !== null).map(([k]) => k);
  }

  unusedKeys(): string[] {
    return [...this.map.keys()].filter((k) => !this.used.has(k)).map((k) => this.pathOf(k));
  }

  private wrong(key: string, expected: string, v: YamlValue): never {
    return this.scope.fail(
      this.pathOf(key),
      `expected ${expected}, found ${describeAt(this.pathOf(key), v)}`,
    );
  }

  require<T>(key: string, value: T | undefined): T {
    if (value === undefined) this.scope.fail(this.path, `missing required key '${key}'`);
    return value as T;
  }

  str(key: string): string | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') {
      return this.wrong(
        key,
        typeof v === 'bigint' || typeof v === 'number' ? 'a string (quote it)' : 'a string',
        v,
      );
    }
    return v;
  }

  int(key: string): number | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'bigint') return this.wrong(key, 'an integer', v);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      return this.scope.fail(this.pathOf(key), 'integer out of range');
    }
    return Number(v);
  }

  uint(key: string): number | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'bigint' || v < 0n) return this.wrong(key, 'an unsigned integer', v);
    return this.int(key);
  }

  float(key: string): number | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (typeof v === 'bigint') return Number(v);
    if (typeof v !== 'number' || !Number.isFinite(v)) return this.wrong(key, 'a finite number', v);
    return v;
  }

  bool(key: string): boolean | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') return this.wrong(key, 'a boolean (true or false)', v);
    return v;
  }

  oneOf<const T extends string>(key: string, allowed: readonly T[]): T | undefined {
    const v = this.str(key);
    if (v === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(v)) {
      this.scope.fail(this.pathOf(key), `unknown variant '${v}', expected one of ${allowed.join(', ')}`);
    }
    return v as T;
  }

  /** A list of strings; with `nullAsEmpty`, a null item (e.g. `- ${EMPTY_VAR}`) reads as ''. */
  strList(key: string, opts: { nullAsEmpty?: boolean } = {}): string[] | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) return this.wrong(key, 'a list of strings', v);
    return (v as YamlValue[]).map((item, i) => {
      if (item === null && opts.nullAsEmpty) return '';
      if (typeof item !== 'string') {
        const at = joinPath(this.pathOf(key), i);
        this.scope.fail(at, `expected a string, found ${describeAt(at, item)}`);
      }
      return item as string;
    });
  }

  /** A string → string mapping (e.g. `error_map`); numeric keys are read as their text. */
  strMap(key: string): Map<string, string> | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (!isMapping(v)) return this.wrong(key, 'a mapping', v);
    const out = new Map<string, string>();
    for (const [k, item] of v) {
      if (typeof item !== 'string') {
        const at = joinPath(this.pathOf(key), k);
        this.scope.fail(at, `expected a string, found ${describeAt(at, item)}`);
      }
      out.set(k, item as string);
    }
    return out;
  }

  /** A nested object; absent or null → undefined. */
  obj(key: string): Fields | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (!isMapping(v)) return this.wrong(key, 'a mapping', v);
    return this.scope.track(new Fields(this.scope, v, this.pathOf(key)));
  }

  /** A name → object mapping (providers, models, pools) in file order; a null entry reads as `{}`. */
  namedObjects(key: string): [string, Fields][] | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (!isMapping(v)) return this.wrong(key, 'a mapping', v);
    return this.named(v, this.pathOf(key));
  }

  /** This mapping itself read as name → object (the catalog's top level). */
  ownNamedObjects(): [string, Fields][] {
    for (const k of this.map.keys()) this.used.add(k);
    return this.named(this.map, this.path);
  }

  private named(v: YamlMapping, base: string): [string, Fields][] {
    return [...v].map(([name, item]): [string, Fields] => {
      const path = joinPath(base, name);
      if (item !== null && !isMapping(item))
        this.scope.fail(path, `expected a mapping, found ${describe(item)}`);
      const map: YamlMapping = item === null ? new Map() : (item as YamlMapping);
      return [name, this.scope.track(new Fields(this.scope, map, path))];
    });
  }

  /** A list of objects (pool members). */
  objList(key: string): Fields[] | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) return this.wrong(key, 'a list', v);
    const base = this.pathOf(key);
    return (v as YamlValue[]).map((item, i) => {
      const path = joinPath(base, i);
      if (!isMapping(item)) this.scope.fail(path, `expected a mapping, found ${describe(item)}`);
      return this.scope.track(new Fields(this.scope, item as YamlMapping, path));
    });
  }
}
