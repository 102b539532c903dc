// YAML 1.2 (core schema) to a plain value tree, plus a typed field reader that names key paths in
// errors and remembers which keys were read so the rest can be warned about (G-CFG-9…12).

import { CORE_SCHEMA, defineMappingTag, defineScalarTag, load, NOT_RESOLVED, YAMLException } from 'js-yaml';
import { ConfigError } from './errors.ts';

/** Integers stay `bigint` so `1` and `1.0` remain distinguishable (G-CFG-10). */
export type YamlValue = string | number | bigint | boolean | null | readonly YamlValue[] | YamlMapping;
export type YamlMapping = ReadonlyMap<string, YamlValue>;

const MAX_NODES = 1_000_000;

/** YAML 1.2 core integers (`0o17`, `0x1F`, `-12`; explicit `!!int` also `0b101` and signed forms). */
const IMPLICIT_INT = /^(?:0o[0-7]+|0x[0-9a-fA-F]+|[-+]?[0-9]+)$/;
const EXPLICIT_INT = /^(?:[-+]?0b[01]+|[-+]?0o[0-7]+|[-+]?0x[0-9a-fA-F]+|[-+]?[0-9]+)$/;

const exactInt = defineScalarTag('tag:yaml.org,2002:int', {
  implicit: true,
  implicitFirstChars: ['-', '+', ...'0123456789'],
  resolve: (source, explicit) => {
    if (!(explicit ? EXPLICIT_INT : IMPLICIT_INT).test(source)) return NOT_RESOLVED;
    const negative = source.startsWith('-');
    const digits = BigInt(/^[-+]/.test(source) ? source.slice(1) : source);
    return negative ? -digits : digits;
  },
  identify: (value) => typeof value === 'bigint',
});

/**
 * A mapping as its pairs in document order, duplicates and all: the walk below turns it into a Map
 * and names the path of a duplicate or non-scalar key.
 */
class Pairs {
  readonly items: [unknown, unknown][] = [];
}

const pairs = defineMappingTag('tag:yaml.org,2002:map', {
  create: () => new Pairs(),
  addPair: (carrier: Pairs, key, value) => {
    carrier.items.push([key, value]);
    return '';
  },
  // Duplicates are found by the walk, which knows the key path.
  has: () => false,
  keys: (carrier: Pairs) => carrier.items.map(([key]) => key),
  get: (carrier: Pairs, key) => carrier.items.find(([k]) => k === key)?.[1],
  identify: (value) => value instanceof Pairs,
});

/** The core schema without merge keys, with exact integers and mappings in document order. */
const SCHEMA = CORE_SCHEMA.withTags(exactInt, pairs);

/** Parses one document; syntax errors, duplicate keys and non-scalar keys are fatal. */
export function parseYaml(text: string, file: string): YamlValue {
  let doc: unknown;
  try {
    doc = load(text, { schema: SCHEMA });
  } catch (err) {
    if (!(err instanceof YAMLException)) throw err;
    const at = err.mark === undefined ? '' : `line ${err.mark.line + 1}, column ${err.mark.column + 1}: `;
    throw new ConfigError(`${file}: invalid YAML: ${at}${err.reason.split('\n')[0]}`);
  }
  let budget = MAX_NODES;
  const fail = (path: string, detail: string): never => {
    throw new ConfigError(`${file}: invalid YAML: ${path === '' ? '' : `${path}: `}${detail}`);
  };
  // Aliases are shared references here: the budget counts each visit, so an alias bomb fails.
  const walk = (node: unknown, path: string): YamlValue => {
    if (--budget < 0) fail(path, 'document too large (too many nodes or alias expansions)');
    if (node === null || node === undefined) return null;
    if (typeof node === 'string' || typeof node === 'boolean' || typeof node === 'bigint') return node;
    if (typeof node === 'number') return node;
    if (Array.isArray(node)) return node.map((item, i) => walk(item, `${path}[${i}]`));
    if (node instanceof Pairs) {
      const out = new Map<string, YamlValue>();
      for (const [k, value] of node.items) {
        if (k === null || typeof k === 'object') fail(path, 'mapping keys must be plain strings');
        const key = String(k);
        if (out.has(key)) fail(path === '' ? key : path, `duplicate key '${key}'`);
        out.set(key, walk(value, joinPath(path, key)));
      }
      return out;
    }
    return fail(path, 'unsupported YAML tag (only strings, numbers, booleans, lists and mappings)');
  };
  return walk(doc, '');
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
