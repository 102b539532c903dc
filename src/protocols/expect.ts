// Structure checks for request readers (issue 10, item 9a): a body its own protocol would reject is
// refused with a message naming the field, instead of being coerced into something else. Each
// check reads `parent[key]`; `at` is the parent's path, so a path string is built only on failure.
// An optional field that is absent or null passes (every provider here reads null as "not set").

import type { JsonObject, JsonValue } from './ir.ts';

/** A request body that is valid JSON but not a valid request for its protocol. */
export class InvalidRequest extends Error {
  override readonly name = 'InvalidRequest';
}

/** `at.key`, `at[3]`, or `key` at the top level. */
export function pathOf(at: string, key: string | number): string {
  if (typeof key === 'number') return `${at}[${key}]`;
  return at === '' ? key : `${at}.${key}`;
}

export function refuse(at: string, key: string | number, expected: string): never {
  throw new InvalidRequest(`${pathOf(at, key)}: expected ${expected}`);
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The element `i` of an array, which must be an object. */
export function objectIn(items: readonly JsonValue[], i: number, at: string): JsonObject {
  const item = items[i];
  if (!isObject(item)) refuse(at, i, 'an object');
  return item;
}

export function optArray(o: JsonObject, key: string, at: string): readonly JsonValue[] | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) refuse(at, key, 'an array');
  return v;
}

export function needArray(o: JsonObject, key: string, at: string): readonly JsonValue[] {
  const v = o[key];
  if (!Array.isArray(v)) refuse(at, key, 'an array');
  return v;
}

export function optObject(o: JsonObject, key: string, at: string): JsonObject | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) refuse(at, key, 'an object');
  return v;
}

export function needObject(o: JsonObject, key: string, at: string): JsonObject {
  const v = o[key];
  if (!isObject(v)) refuse(at, key, 'an object');
  return v;
}

export function optString(o: JsonObject, key: string, at: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') refuse(at, key, 'a string');
  return v;
}

export function needString(o: JsonObject, key: string, at: string): string {
  const v = o[key];
  if (typeof v !== 'string') refuse(at, key, 'a string');
  return v;
}

export function optBoolean(o: JsonObject, key: string, at: string): void {
  const v = o[key];
  if (v !== undefined && v !== null && typeof v !== 'boolean') refuse(at, key, 'a boolean');
}

/** A finite number. */
export function optNumber(o: JsonObject, key: string, at: string): void {
  const v = o[key];
  if (v !== undefined && v !== null && (typeof v !== 'number' || !Number.isFinite(v)))
    refuse(at, key, 'a number');
}

/** A whole number (token counts; 1e3 is one, 1.5 is not). */
export function optInteger(o: JsonObject, key: string, at: string): void {
  const v = o[key];
  if (v !== undefined && v !== null && !Number.isSafeInteger(v)) refuse(at, key, 'an integer');
}

export function needInteger(o: JsonObject, key: string, at: string): void {
  if (!Number.isSafeInteger(o[key])) refuse(at, key, 'an integer');
}

/** A string, or an array of strings (`stop`). */
export function optStrings(o: JsonObject, key: string, at: string, orString = false): void {
  const v = o[key];
  if (v === undefined || v === null || (orString && typeof v === 'string')) return;
  const expected = orString ? 'a string or an array of strings' : 'an array of strings';
  if (!Array.isArray(v)) refuse(at, key, expected);
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'string') refuse(pathOf(at, key), i, 'a string');
}

/** One of `allowed` (roles, part types). */
export function needOneOf(o: JsonObject, key: string, at: string, allowed: ReadonlySet<string>): string {
  const v = o[key];
  if (typeof v !== 'string' || !allowed.has(v)) refuse(at, key, `one of ${[...allowed].join(', ')}`);
  return v;
}

export function optOneOf(o: JsonObject, key: string, at: string, allowed: ReadonlySet<string>): void {
  const v = o[key];
  if (v !== undefined && v !== null) needOneOf(o, key, at, allowed);
}

/** A string or an array (`content` in most protocols); returns the array, if it is one. */
export function stringOrArray(o: JsonObject, key: string, at: string): readonly JsonValue[] | undefined {
  const v = o[key];
  if (typeof v === 'string') return undefined;
  if (!Array.isArray(v)) refuse(at, key, 'a string or an array');
  return v;
}
