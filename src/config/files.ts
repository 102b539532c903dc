// Locating and reading the two files (G-CFG-2a, G-VAL-2).

import { basename, resolve } from 'node:path';
import { fs } from '../builtins.ts';
import { ConfigError, describeFsError } from './errors.ts';

/** The catalog shipped in the package root, used when no other catalog is found. */
export const SHIPPED_CATALOG = resolve(import.meta.dirname, '../../providers.yaml');

export interface FileLocation {
  readonly path: string;
  /** As the operator wrote it (flag or env var), for messages. */
  readonly display: string;
  /** Given by a flag or env var: must exist. */
  readonly explicit: boolean;
}

export interface LocateOptions {
  readonly configPath?: string | undefined;
  readonly providersPath?: string | undefined;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

function locate(
  flag: string | undefined,
  envValue: string | undefined,
  fallbacks: readonly string[],
  cwd: string,
): FileLocation | undefined {
  if (flag !== undefined && flag !== '') return { path: resolve(cwd, flag), display: flag, explicit: true };
  if (envValue !== undefined && envValue !== '') {
    return { path: resolve(cwd, envValue), display: envValue, explicit: true };
  }
  for (const candidate of fallbacks) {
    const path = resolve(cwd, candidate);
    if (fs.existsSync(path)) return { path, display: candidate, explicit: false };
  }
  return undefined;
}

/** `--config`, `BUSBAR_CONFIG`, `./config.yaml`, `/etc/busbar/config.yaml`; undefined → embedded default. */
export function locateDeployment(opts: LocateOptions): FileLocation | undefined {
  return locate(
    opts.configPath,
    opts.env.BUSBAR_CONFIG,
    ['config.yaml', '/etc/busbar/config.yaml'],
    opts.cwd,
  );
}

/** `--providers`, `BUSBAR_PROVIDERS`, `./providers.yaml`, `/etc/busbar/providers.yaml`, the shipped catalog. */
export function locateCatalog(opts: LocateOptions): FileLocation {
  return (
    locate(
      opts.providersPath,
      opts.env.BUSBAR_PROVIDERS,
      ['providers.yaml', '/etc/busbar/providers.yaml'],
      opts.cwd,
    ) ?? {
      path: SHIPPED_CATALOG,
      display: SHIPPED_CATALOG,
      explicit: false,
    }
  );
}

export type FileKind = 'config' | 'providers';

/** Reads a located file; any failure is G-VAL-2. */
export function readConfigText(kind: FileKind, location: FileLocation): string {
  try {
    return fs.readFileSync(location.path, 'utf8');
  } catch (err) {
    const hint = kind === 'config' ? 'BUSBAR_CONFIG' : 'BUSBAR_PROVIDERS';
    throw new ConfigError(
      `cannot read ${kind} file '${location.display}': ${describeFsError(err)} (set ${hint})`,
    );
  }
}

/** The name used to prefix messages about a file (`config.yaml: …`). */
export function fileLabel(location: FileLocation): string {
  return basename(location.path);
}
