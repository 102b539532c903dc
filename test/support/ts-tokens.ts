// A small TypeScript tokenizer for architecture tests: enough to tell code from comments, strings,
// template text and regex literals, with line numbers. Not a parser; it throws on anything it
// cannot close, so a source it misreads fails loudly instead of passing quietly.

export interface Token {
  readonly kind: 'ident' | 'punct' | 'number' | 'string' | 'template' | 'regex';
  /** The identifier or punctuation itself; a string's or template chunk's raw contents. */
  readonly text: string;
  /** Line of the token's first character (1-based). */
  readonly line: number;
}

const IDENT_START = /[A-Za-z_$]/;
const IDENT_PART = /[A-Za-z0-9_$]/;
const DIGIT = /[0-9]/;
/** After these keywords a `/` starts a regex literal, not a division. */
const REGEX_AFTER = new Set([
  'return',
  'typeof',
  'case',
  'do',
  'else',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'instanceof',
  'yield',
  'await',
]);

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  /** What each open `{` belongs to: code, or a `${` inside a template. */
  const braces: ('code' | 'template')[] = [];
  let i = 0;
  let line = 1;

  const fail = (what: string): never => {
    throw new Error(`${what} at line ${line}`);
  };
  const push = (kind: Token['kind'], text: string, at = line): void => {
    tokens.push({ kind, text, line: at });
  };
  const regexAllowed = (): boolean => {
    const prev = tokens.at(-1);
    if (prev === undefined) return true;
    if (prev.kind === 'ident') return REGEX_AFTER.has(prev.text);
    return prev.kind === 'punct' && prev.text !== ')' && prev.text !== ']' && prev.text !== '}';
  };
  /** Template text from `i` up to the closing backtick or the next `${`. */
  const templateChunk = (): void => {
    const start = line;
    let text = '';
    for (;;) {
      const c = source[i];
      if (c === undefined) fail('unterminated template literal');
      if (c === '\\') {
        text += source.slice(i, i + 2);
        i += 2;
      } else if (c === '`') {
        i += 1;
        push('template', text, start);
        return;
      } else if (c === '$' && source[i + 1] === '{') {
        i += 2;
        braces.push('template');
        push('template', text, start);
        return;
      } else {
        if (c === '\n') line += 1;
        text += c;
        i += 1;
      }
    }
  };

  while (i < source.length) {
    const c = source[i]!;
    const next = source[i + 1];
    if (c === '\n') {
      line += 1;
      i += 1;
    } else if (c === ' ' || c === '\t' || c === '\r') {
      i += 1;
    } else if (c === '/' && next === '/') {
      while (i < source.length && source[i] !== '\n') i += 1;
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      if (end < 0) fail('unterminated comment');
      for (let k = i; k < end; k++) if (source[k] === '\n') line += 1;
      i = end + 2;
    } else if (c === "'" || c === '"') {
      let text = '';
      let j = i + 1;
      while (source[j] !== c) {
        if (j >= source.length || source[j] === '\n') fail('unterminated string');
        const step = source[j] === '\\' ? 2 : 1;
        if (step === 2 && source[j + 1] === '\n') line += 1;
        text += source.slice(j, j + step);
        j += step;
      }
      push('string', text);
      i = j + 1;
    } else if (c === '`') {
      i += 1;
      templateChunk();
    } else if (c === '{') {
      braces.push('code');
      push('punct', c);
      i += 1;
    } else if (c === '}') {
      i += 1;
      if (braces.pop() === 'template') templateChunk();
      else push('punct', c);
    } else if (c === '/' && regexAllowed()) {
      let j = i + 1;
      let inClass = false;
      while (source[j] !== '/' || inClass) {
        if (j >= source.length || source[j] === '\n') fail('unterminated regex literal');
        if (source[j] === '\\') j += 1;
        else if (source[j] === '[') inClass = true;
        else if (source[j] === ']') inClass = false;
        j += 1;
      }
      j += 1;
      while (IDENT_PART.test(source[j] ?? '')) j += 1;
      push('regex', source.slice(i, j));
      i = j;
    } else if (IDENT_START.test(c)) {
      let j = i + 1;
      while (IDENT_PART.test(source[j] ?? '')) j += 1;
      push('ident', source.slice(i, j));
      i = j;
    } else if (DIGIT.test(c)) {
      let j = i + 1;
      while (/[0-9A-Za-z_.]/.test(source[j] ?? '')) j += 1;
      push('number', source.slice(i, j));
      i = j;
    } else {
      push('punct', c);
      i += 1;
    }
  }
  if (braces.length > 0) fail('unclosed brace');
  return tokens;
}
