// The one error type configuration loading throws: each line is printed by main as `[error] <line>`.

export class ConfigError extends Error {
  readonly lines: string[];

  constructor(lines: string | readonly string[]) {
    const list = typeof lines === 'string' ? [lines] : [...lines];
    super(list.join('\n'));
    this.name = 'ConfigError';
    this.lines = list;
  }
}

/** `ENOENT: no such file or directory, open 'x'` → `no such file or directory`; keeps messages path-free. */
export function describeFsError(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err) {
    switch ((err as { code?: unknown }).code) {
      case 'ENOENT':
        return 'no such file or directory';
      case 'EACCES':
      case 'EPERM':
        return 'permission denied';
      case 'EISDIR':
        return 'is a directory';
      case 'ENOTDIR':
        return 'not a directory';
      default:
        break;
    }
  }
  return err instanceof Error ? err.message : String(err);
}
