// Process logging. Startup and fatal lines are plain `[level] message` on stderr (operators read
// them at a terminal); runtime events go through pino as JSON on stderr, off the hot path. pino is
// loaded after the listener is bound; until then runtime events fall back to plain lines.

import type { Logger } from 'pino';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug' | 'trace';
const LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug', 'trace'];

/** BUSBAR_LOG, else RUST_LOG, as a bare level word; anything else means `info` (G-CFG-2). */
export function levelFromEnv(env: NodeJS.ProcessEnv = process.env): LogLevel {
  const raw = (env.BUSBAR_LOG ?? env.RUST_LOG ?? '').trim().toLowerCase();
  return (LEVELS as readonly string[]).includes(raw) ? (raw as LogLevel) : 'info';
}

const threshold = LEVELS.indexOf(levelFromEnv());

/** One human-readable stderr line, e.g. `[warn] provider x key env X empty`. */
export function line(level: LogLevel, message: string): void {
  if (level !== 'error' && LEVELS.indexOf(level) > threshold) return;
  process.stderr.write(`[${level}] ${message}\n`);
}

let structured: Logger | undefined;

/** Loads pino (called by the runtime loader after the bind). */
export async function loadStructuredLogger(): Promise<void> {
  const { pino } = await import('pino');
  structured ??= pino({ level: levelFromEnv(), base: undefined }, pino.destination({ fd: 2, sync: false }));
}

type LogFn = (fields: Record<string, unknown>, message: string) => void;

function at(level: LogLevel): LogFn {
  return (fields, message) => {
    if (structured !== undefined) structured[level](fields, message);
    else line(level, `${message} ${JSON.stringify(fields)}`);
  };
}

/** Structured runtime logger (JSON lines on stderr). Never pass secrets or bodies. */
export const log = {
  error: at('error'),
  warn: at('warn'),
  info: at('info'),
  debug: at('debug'),
  trace: at('trace'),
  /** Whether `level` is written: skip building fields nobody will read. */
  enabled: (level: LogLevel): boolean => LEVELS.indexOf(level) <= threshold,
};
