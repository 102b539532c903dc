// Configuration entry points: load + validate both files into the frozen GatewayConfig, and the
// `--print-metadata-blocklist` helper. Fatal problems are thrown as ConfigError (G-CFG-29).

import pkg from '../../package.json' with { type: 'json' };
import { crypto } from '../builtins.ts';
import { line } from '../log.ts';
import { BUILTIN_METADATA_HOSTS } from '../net/ssrf.ts';
import { embeddedDefault } from './default.ts';
import { fileLabel, locateCatalog, locateDeployment, readConfigText } from './files.ts';
import { interpolate } from './interpolate.ts';
import { readCatalog, readDeployment } from './raw.ts';
import { type Emit, resolveConfig } from './resolve.ts';
import type { GatewayConfig } from './types.ts';
import { isMapping, ParseScope, parseYaml } from './yaml.ts';

export { embeddedDefaultBanner } from './default.ts';
export { ConfigError } from './errors.ts';
export { checkTlsMaterial } from './tls.ts';

export interface LoadOptions {
  /** `--validate`: check the TLS material instead of binding (G-CLI-6). */
  readonly validateOnly: boolean;
  /** `--config PATH` (wins over BUSBAR_CONFIG). */
  readonly configPath?: string | undefined;
  /** `--providers PATH` (wins over BUSBAR_PROVIDERS). */
  readonly providersPath?: string | undefined;
  readonly env?: NodeJS.ProcessEnv;
  /** Base for relative paths; defaults to process.cwd(). */
  readonly cwd?: string;
  /** Where startup lines go; defaults to `[level] message` on stderr. */
  readonly emit?: Emit;
}

/** The files `loadGatewayConfig` reads with these options (a reload watches them). */
export function configFiles(
  opts: Pick<LoadOptions, 'configPath' | 'providersPath' | 'env' | 'cwd'>,
): string[] {
  const where = {
    configPath: opts.configPath,
    providersPath: opts.providersPath,
    env: opts.env ?? process.env,
    cwd: opts.cwd ?? process.cwd(),
  };
  const files = [locateCatalog(where).path];
  const deployment = locateDeployment(where);
  if (deployment !== undefined) files.push(deployment.path);
  return files;
}

/** Steps 3–16 of G-CFG-28 (plus the --validate checks). Synchronous; throws ConfigError. */
export function loadGatewayConfig(opts: LoadOptions): GatewayConfig {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const warnings: string[] = [];
  const print: Emit = opts.emit ?? line;
  const emit: Emit = (level, text) => {
    if (level === 'warn') warnings.push(text);
    print(level, text);
  };
  const where = { configPath: opts.configPath, providersPath: opts.providersPath, env, cwd };

  const catalogFile = locateCatalog(where);
  const catalogLabel = fileLabel(catalogFile);
  const catalogScope = new ParseScope(catalogLabel);
  const catalogRaw = readConfigText('providers', catalogFile);
  const catalogText = interpolate(catalogRaw, catalogLabel, env);
  const catalog = readCatalog(catalogScope.root(parseYaml(catalogText, catalogLabel)));
  for (const w of catalogScope.unknownKeys()) emit('warn', w);

  const configFile = locateDeployment(where);
  if (configFile === undefined) {
    if (!opts.validateOnly) emit('info', `busbar starting (version ${pkg.version})`);
    const fallback = embeddedDefault(catalog, env);
    const config = resolveConfig({
      catalog,
      deployment: fallback.deployment,
      configLabel: 'embedded default config',
      catalogLabel,
      env,
      cwd,
      validateOnly: opts.validateOnly,
      emit,
      readKey: fallback.readKey,
      builtinModels: fallback.builtinModels,
      embeddedDefault: true,
    });
    return withSource(
      config,
      [catalogRaw, JSON.stringify(fallback.deployment, mapsAsObjects)],
      opts,
      emit,
      warnings,
    );
  }
  const configLabel = fileLabel(configFile);
  const configScope = new ParseScope(configLabel);
  const configRaw = readConfigText('config', configFile);
  const configText = interpolate(configRaw, configLabel, env);
  const deployment = readDeployment(configScope, configScope.root(parseYaml(configText, configLabel)));
  for (const w of configScope.unknownKeys()) emit('warn', w);
  if (!opts.validateOnly) emit('info', `busbar starting (version ${pkg.version})`);

  const config = resolveConfig({
    catalog,
    deployment,
    configLabel,
    catalogLabel,
    env,
    cwd,
    validateOnly: opts.validateOnly,
    emit,
  });
  return withSource(config, [catalogRaw, configRaw], opts, emit, warnings);
}

/**
 * The config with the identity of its files: a hash over their text as read (before `${VAR}`
 * substitution, so no secret value enters it), logged once at load and shown in /stats.
 */
function withSource(
  config: Omit<GatewayConfig, 'source'>,
  texts: readonly string[],
  opts: LoadOptions,
  emit: Emit,
  warnings: readonly string[],
): GatewayConfig {
  const digest = crypto.createHash('sha256');
  for (const text of texts) digest.update(text).update('\0');
  const source = { hash: digest.digest('hex'), loadedAt: new Date().toISOString(), warnings };
  if (!opts.validateOnly) emit('info', `config ${source.hash.slice(0, 12)} loaded at ${source.loadedAt}`);
  return Object.freeze({ ...config, source });
}

/** JSON.stringify replacer: Maps (the embedded default's models) as plain objects. */
function mapsAsObjects(_key: string, value: unknown): unknown {
  return value instanceof Map ? Object.fromEntries(value) : value;
}

export interface BlocklistOptions {
  readonly configPath?: string | undefined;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly write?: (text: string) => void;
}

/** G-CLI-5: the built-in denylist, then `security.blocked_metadata_hosts` when the file loads. Never fails. */
export function printMetadataBlocklist(opts: BlocklistOptions = {}): void {
  const write = opts.write ?? ((text: string) => process.stdout.write(text));
  const entries = [...BUILTIN_METADATA_HOSTS];
  try {
    const env = opts.env ?? process.env;
    const location = locateDeployment({ configPath: opts.configPath, env, cwd: opts.cwd ?? process.cwd() });
    if (location !== undefined) {
      const label = fileLabel(location);
      const root = parseYaml(interpolate(readConfigText('config', location), label, env), label);
      const security = isMapping(root) ? root.get('security') : undefined;
      const extra = isMapping(security) ? security.get('blocked_metadata_hosts') : undefined;
      if (Array.isArray(extra)) for (const e of extra) if (typeof e === 'string') entries.push(e);
    }
  } catch {
    // Unreadable, uninterpolatable or invalid config: the built-ins alone (G-CLI-5 never fails).
  }
  write(`${entries.join('\n')}\n`);
}
