// `${VAR}` interpolation on raw file text, before YAML parsing (G-CFG-5…8).

import { ConfigError } from './errors.ts';

/** U+0000–U+001F, U+007F–U+009F, U+2028, U+2029: anything that could add YAML structure. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u;

/**
 * Replaces each `${NAME}` with the variable's value, left to right, without re-scanning the
 * substituted text. `$` not followed by `{` is literal; there is no escape syntax.
 * Throws ConfigError with the message prefixed by `label` (the file name).
 */
export function interpolate(text: string, label: string, env: NodeJS.ProcessEnv): string {
  let out = '';
  let i = 0;
  for (;;) {
    const start = text.indexOf('${', i);
    if (start === -1) return out + text.slice(i);
    out += text.slice(i, start);
    const close = text.indexOf('}', start + 2);
    if (close === -1) {
      const shown = text.slice(start, start + 66).split(/\r?\n/)[0]!;
      throw new ConfigError(`${label}: unclosed variable reference starting at '${shown}'`);
    }
    const name = text.slice(start + 2, close);
    if (name === '') throw new ConfigError(`${label}: empty variable name in \${}`);
    const value = env[name];
    if (value === undefined) throw new ConfigError(`${label}: unset environment variable: ${name}`);
    const bad = CONTROL.exec(value);
    if (bad) {
      const cp = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
      throw new ConfigError(
        `${label}: environment variable '${name}' contains a control character (U+${cp}) that could inject ` +
          'YAML structure; remove it from the value',
      );
    }
    out += value;
    i = close + 1;
  }
}
