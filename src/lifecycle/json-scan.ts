// One validating pass over a JSON request body, without building it: checks the syntax, bounds
// the nesting depth (G-SEC-22), and records where the top-level routing fields sit so the model
// name can be spliced in place (P-FWD-1). Same-protocol requests never need a full JSON.parse.

const MAX_DEPTH = 128;

/** Byte span of one top-level member's value, `end` exclusive. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

export interface ScanResult {
  readonly isObject: boolean;
  readonly model: Span | undefined;
  readonly stream: Span | undefined;
  readonly system: Span | undefined;
  /** Where each protocol caps the answer's length (budget reservations read them, output-cap.ts). */
  readonly max_tokens?: Span | undefined;
  readonly max_completion_tokens?: Span | undefined;
  readonly max_output_tokens?: Span | undefined;
  readonly generationConfig?: Span | undefined;
  readonly inferenceConfig?: Span | undefined;
  /** OpenAI Chat's usage opt-in for streams (protocols/openai/edge.ts). */
  readonly stream_options?: Span | undefined;
}

export type ScanFailure = 'syntax' | 'depth' | 'duplicate';

// Tracked keys may appear once: two `max_tokens` would let governance and the upstream read different values.
const TRACKED = [
  'model',
  'stream',
  'system',
  'max_tokens',
  'max_completion_tokens',
  'max_output_tokens',
  'generationConfig',
  'inferenceConfig',
  'stream_options',
] as const;
type Tracked = (typeof TRACKED)[number];
const TRACKED_BYTES = TRACKED.map((k) => Buffer.from(k));

const VALUE = 0;
const KEY = 1;
const AFTER = 2;
const OBJ = 1;
const ARR = 2;

function isWs(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Index after the closing quote of the string starting at `i`, or -1. */
function skipString(b: Uint8Array, i: number): number {
  const n = b.length;
  i++;
  while (i < n) {
    const c = b[i]!;
    if (c === 0x22) return i + 1;
    if (c === 0x5c) {
      const e = b[i + 1];
      if (e === 0x75) {
        for (let k = i + 2; k < i + 6; k++) {
          const h = b[k];
          if (
            h === undefined ||
            !((h >= 0x30 && h <= 0x39) || (h >= 0x41 && h <= 0x46) || (h >= 0x61 && h <= 0x66))
          )
            return -1;
        }
        i += 6;
        continue;
      }
      if (
        e === 0x22 ||
        e === 0x5c ||
        e === 0x2f ||
        e === 0x62 ||
        e === 0x66 ||
        e === 0x6e ||
        e === 0x72 ||
        e === 0x74
      ) {
        i += 2;
        continue;
      }
      return -1;
    }
    if (c < 0x20) return -1;
    i++;
  }
  return -1;
}

function skipDigits(b: Uint8Array, i: number): number {
  while (i < b.length && b[i]! >= 0x30 && b[i]! <= 0x39) i++;
  return i;
}

/** Index after the number starting at `i`, or -1. */
function skipNumber(b: Uint8Array, i: number): number {
  if (b[i] === 0x2d) i++;
  if (b[i] === 0x30) i++;
  else if (b[i] !== undefined && b[i]! >= 0x31 && b[i]! <= 0x39) i = skipDigits(b, i + 1);
  else return -1;
  if (b[i] === 0x2e) {
    const j = skipDigits(b, i + 1);
    if (j === i + 1) return -1;
    i = j;
  }
  if (b[i] === 0x65 || b[i] === 0x45) {
    i++;
    if (b[i] === 0x2b || b[i] === 0x2d) i++;
    const j = skipDigits(b, i);
    if (j === i) return -1;
    i = j;
  }
  return i;
}

function skipLiteral(b: Uint8Array, i: number, word: string): number {
  for (let k = 0; k < word.length; k++) if (b[i + k] !== word.charCodeAt(k)) return -1;
  return i + word.length;
}

/** Which tracked key (if any) the top-level key in `b[start, end)` (quotes excluded) names. */
function trackedKey(b: Uint8Array, start: number, end: number): Tracked | undefined {
  let hasEscape = false;
  for (let i = start; i < end; i++) if (b[i] === 0x5c) hasEscape = true;
  if (hasEscape) {
    // `"mod\u0065l"` is `model` to every JSON parser downstream, so it must be to us too.
    const decoded: unknown = JSON.parse(
      Buffer.from(b.buffer, b.byteOffset + start - 1, end - start + 2).toString(),
    );
    return (TRACKED as readonly string[]).includes(decoded as string) ? (decoded as Tracked) : undefined;
  }
  for (let t = 0; t < TRACKED_BYTES.length; t++) {
    const k = TRACKED_BYTES[t]!;
    if (k.length !== end - start) continue;
    let same = true;
    for (let i = 0; i < k.length; i++) {
      if (k[i] !== b[start + i]) {
        same = false;
        break;
      }
    }
    if (same) return TRACKED[t];
  }
  return undefined;
}

/** The open brackets of the scan in progress; one for all scans (a scan runs to its end at once). */
const STACK = new Uint8Array(MAX_DEPTH + 1);

export function scanJson(b: Uint8Array): ScanResult | ScanFailure {
  const n = b.length;
  const stack = STACK;
  const spans: Partial<Record<Tracked, Span>> = {};
  let depth = 0;
  let state = VALUE;
  let i = 0;
  let rootIsObject = false;
  let current: Tracked | undefined;
  let valueStart = 0;

  for (;;) {
    if (state !== AFTER) while (i < n && isWs(b[i])) i++;
    if (state === VALUE) {
      const c = b[i];
      if (depth === 1) valueStart = i;
      if (c === 0x7b || c === 0x5b) {
        if (depth === MAX_DEPTH) return 'depth';
        if (depth === 0) rootIsObject = c === 0x7b;
        stack[++depth] = c === 0x7b ? OBJ : ARR;
        i++;
        while (i < n && isWs(b[i])) i++;
        if (b[i] === (c === 0x7b ? 0x7d : 0x5d)) {
          depth--;
          i++;
          state = AFTER;
        } else {
          state = c === 0x7b ? KEY : VALUE;
        }
        continue;
      }
      if (c === 0x22) i = skipString(b, i);
      else if (c === 0x74) i = skipLiteral(b, i, 'true');
      else if (c === 0x66) i = skipLiteral(b, i, 'false');
      else if (c === 0x6e) i = skipLiteral(b, i, 'null');
      else i = skipNumber(b, i);
      if (i < 0) return 'syntax';
      state = AFTER;
      continue;
    }
    if (state === KEY) {
      if (b[i] !== 0x22) return 'syntax';
      const keyStart = i + 1;
      i = skipString(b, i);
      if (i < 0) return 'syntax';
      if (depth === 1) {
        current = trackedKey(b, keyStart, i - 1);
        if (current !== undefined && spans[current] !== undefined) return 'duplicate';
      }
      while (i < n && isWs(b[i])) i++;
      if (b[i] !== 0x3a) return 'syntax';
      i++;
      state = VALUE;
      continue;
    }
    // AFTER a complete value at `depth` (closing brackets have already popped).
    if (depth === 1 && current !== undefined) {
      spans[current] = { start: valueStart, end: i };
      current = undefined;
    }
    while (i < n && isWs(b[i])) i++;
    if (depth === 0) {
      if (i !== n) return 'syntax';
      // One object shape whatever the body held: the request path's reads stay monomorphic.
      return {
        isObject: rootIsObject,
        model: spans.model,
        stream: spans.stream,
        system: spans.system,
        max_tokens: spans.max_tokens,
        max_completion_tokens: spans.max_completion_tokens,
        max_output_tokens: spans.max_output_tokens,
        generationConfig: spans.generationConfig,
        inferenceConfig: spans.inferenceConfig,
        stream_options: spans.stream_options,
      };
    }
    const c = b[i];
    if (c === 0x2c) {
      i++;
      state = stack[depth] === OBJ ? KEY : VALUE;
      continue;
    }
    if ((c === 0x7d && stack[depth] === OBJ) || (c === 0x5d && stack[depth] === ARR)) {
      depth--;
      i++;
      continue;
    }
    return 'syntax';
  }
}

/** The string value at `span`, or undefined when the value is not a JSON string. */
export function spanString(b: Uint8Array, span: Span | undefined): string | undefined {
  if (span === undefined || b[span.start] !== 0x22) return undefined;
  const raw = Buffer.from(b.buffer, b.byteOffset + span.start, span.end - span.start);
  if (!raw.includes(0x5c)) return raw.toString('utf8', 1, raw.length - 1);
  return JSON.parse(raw.toString()) as string;
}

/** True only for the literal `true`. */
export function spanIsTrue(b: Uint8Array, span: Span | undefined): boolean {
  return span !== undefined && span.end - span.start === 4 && b[span.start] === 0x74;
}

/** `b` with the value at `span` replaced by the JSON string `value`: bytes elsewhere untouched. */
export function spliceString(b: Buffer, span: Span, value: string): Buffer {
  const replacement = Buffer.from(JSON.stringify(value));
  return Buffer.concat([b.subarray(0, span.start), replacement, b.subarray(span.end)]);
}

/** One replacement of `b[start, end)` by `text`. */
export interface Edit {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/**
 * The edit putting `members` (each `"key":value` followed by a comma) first in the object `b`; in
 * an empty object the last comma goes.
 */
export function insertion(b: Buffer, members: string): Edit {
  const open = b.indexOf(0x7b);
  let next = open + 1;
  while (next < b.length && isWs(b[next])) next++;
  return { start: open + 1, end: open + 1, text: b[next] === 0x7d ? members.slice(0, -1) : members };
}

/**
 * `b` with every edit made; edits refer to `b`'s own offsets and must not overlap. The result is
 * written in one allocation, the texts straight into it.
 */
export function applyEdits(b: Buffer, edits: readonly Edit[]): Buffer {
  if (edits.length === 0) return b;
  const sorted = edits.length === 1 || inOrder(edits) ? edits : [...edits].sort((x, y) => x.start - y.start);
  let size = b.length;
  for (const e of sorted) size += Buffer.byteLength(e.text) - (e.end - e.start);
  const out = Buffer.allocUnsafe(size);
  let from = 0;
  let to = 0;
  for (const e of sorted) {
    to += b.copy(out, to, from, e.start);
    to += out.write(e.text, to);
    from = e.end;
  }
  b.copy(out, to, from);
  return out;
}

function inOrder(edits: readonly Edit[]): boolean {
  for (let i = 1; i < edits.length; i++) if (edits[i]!.start < edits[i - 1]!.start) return false;
  return true;
}
