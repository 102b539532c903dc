// Turns the parsed catalog + deployment into the frozen GatewayConfig, following the startup
// sequence of G-CFG-28 steps 7–16 and the error batching of §1.15 / G-CFG-29.

import { availableParallelism } from 'node:os';
import { BUILTIN_METADATA_HOSTS, canonicalHostKey, type MetadataPolicy } from '../net/ssrf.ts';
import type { Operation } from '../protocols/routes.ts';
import { ConfigError } from './errors.ts';
import { governanceErrors, resolveGovernance } from './governance.ts';
import { limitErrors, resolveLimits, timerRangeError } from './limits.ts';
import { DEFAULT_LISTEN, parseListen } from './listen.ts';
import { modeErrors, modeOf } from './modes.ts';
import { resolveObservability } from './observability.ts';
import { buildPool, fallbackCycles, onExhaustedError, parseOnExhausted, poolErrors } from './pools.ts';
import {
  buildProvider,
  hostListErrors,
  type MergedProvider,
  mergeProvider,
  providerErrors,
} from './providers.ts';
import type { RawCatalogEntry, RawDeployment } from './raw.ts';
import { redactSecrets } from './redact.ts';
import { checkTlsMaterial } from './tls.ts';
import type {
  AuthConfig,
  AuthMode,
  GatewayConfig,
  ModelConfig,
  PoolConfig,
  ProviderConfig,
} from './types.ts';
import { unavailableErrors } from './unavailable.ts';

export type StartupLevel = 'error' | 'warn' | 'info';
export type Emit = (level: StartupLevel, message: string) => void;

/** A model served in-process (the embedded default's `demo`), appended after the file's models. */
export interface BuiltinModel {
  readonly name: string;
  readonly provider: ProviderConfig;
  readonly maxConcurrent: number;
}

export interface ResolveInput {
  readonly catalog: ReadonlyMap<string, RawCatalogEntry>;
  readonly deployment: RawDeployment;
  /** File names for messages (`config.yaml`, `providers.yaml`). */
  readonly configLabel: string;
  readonly catalogLabel: string;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly validateOnly: boolean;
  readonly emit: Emit;
  /** Reads a provider's credential once (G-CFG-21); defaults to the `api_key_env` variable. */
  readonly readKey?: (provider: string, apiKeyEnv: string) => string;
  readonly builtinModels?: readonly BuiltinModel[];
  readonly embeddedDefault?: boolean;
}

const AUTH_MODES: readonly AuthMode[] = ['token', 'passthrough', 'none'];

/** Why an `upstream_model` value cannot be sent upstream; undefined when it can (or is absent). */
function upstreamModelError(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === '') return 'must not be empty';
  // It goes into JSON bodies and URL paths: control characters have no business there.
  if (/[\u0000-\u001f\u007f-\u009f]/.test(value)) return 'must not contain control characters';
  return undefined;
}

function isReservedName(name: string): boolean {
  return name.split('/')[0] === 'admin';
}

function reservedError(kind: string, name: string): string {
  return `${kind} name '${name}' is reserved: 'admin' and 'admin/…' would collide with the /admin operator surface`;
}

function freezeDeep<T>(value: T): T {
  if (value && typeof value === 'object' && !(value instanceof Map) && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) freezeDeep(v);
    Object.freeze(value);
  }
  return value;
}

export function resolveConfig(input: ResolveInput): Omit<GatewayConfig, 'source'> {
  const { deployment: d, catalog, emit } = input;
  const authMode = d.auth?.mode?.trim().toLowerCase() ?? 'none';
  const workers = d.workers === 'auto' ? availableParallelism() : (d.workers ?? 1);

  // Step 7: resolve (G-VAL-4), reported together as one block. G-VAL-5/6 concern governance, which
  // is not built yet: its keys are step-8 errors instead (unavailable.ts).
  const resolveErrors: string[] = [];
  for (const name of d.providers.keys()) {
    if (!catalog.has(name)) {
      resolveErrors.push(
        `provider '${name}' referenced in ${input.configLabel} not found in ${input.catalogLabel}`,
      );
    }
  }
  if (resolveErrors.length > 0)
    throw new ConfigError(['config errors:', ...resolveErrors.map((e) => `  - ${e}`)]);

  // Step 8: validation (G-VAL-7…32, 36), all collected, led by the keys of features not built yet.
  // Non-fatal warnings are printed as found.
  const errors: string[] = unavailableErrors(d, workers);
  const sec = d.security;
  const security: MetadataPolicy = {
    blocked: sec?.blockedMetadataHosts ?? [],
    allow: sec?.allowMetadataHosts ?? [],
    allowAll: sec?.allowAllMetadata ?? false,
  };
  errors.push(...hostListErrors('security.blocked_metadata_hosts', security.blocked));
  errors.push(...hostListErrors('security.allow_metadata_hosts', security.allow));
  errors.push(...limitErrors(d.limits));
  errors.push(...governanceErrors(d.governance, authMode, new Set(d.models.keys())));
  if (d.dashboard?.enabled === true && d.governance?.enabled !== true)
    errors.push(
      'dashboard.enabled needs governance.enabled: the dashboard signs in with governance.admin_token and acts through the admin API',
    );
  const governed = d.governance?.enabled === true;

  const merged = new Map<string, MergedProvider>();
  for (const [name, act] of d.providers) {
    const p = mergeProvider(name, catalog.get(name)!, act);
    merged.set(name, p);
    if (isReservedName(name)) errors.push(reservedError('provider', name));
    errors.push(...providerErrors(p, security));
    if (act.hasInlineApiKey) {
      emit(
        'warn',
        `provider ${name} has an inline api_key: inline keys are unsupported and ignored; put the key in an environment variable and name it in api_key_env`,
      );
    }
  }

  for (const [name, m] of d.models) {
    if (isReservedName(name)) errors.push(reservedError('model', name));
    if (!merged.has(m.provider)) errors.push(`model '${name}' references unknown provider '${m.provider}'`);
    if (m.defaultMaxTokens === 0) errors.push(`model '${name}' default_max_tokens must be > 0`);
    if (m.attemptTimeoutMs === 0) errors.push(`model '${name}' attempt_timeout_ms must be >= 1`);
    const attemptTooLong = timerRangeError(`model '${name}' attempt_timeout_ms`, m.attemptTimeoutMs, 1);
    if (attemptTooLong !== undefined) errors.push(attemptTooLong);
    const upstreamError = upstreamModelError(m.upstreamModel);
    if (upstreamError !== undefined) errors.push(`model '${name}' upstream_model ${upstreamError}`);
    if (m.maxConcurrent === 0) errors.push(`model '${name}' max_concurrent must be >= 1`);
    if (m.maxRequests === 0) {
      errors.push(
        `model '${name}' max_requests is 0: a zero budget never admits a request (omit it or use -1 for unlimited)`,
      );
    }
  }

  const poolCtx = { models: d.models, activated: new Set(merged.keys()), pools: d.pools, cwd: input.cwd };
  for (const [name, pool] of d.pools) {
    if (isReservedName(name)) errors.push(reservedError('pool', name));
    if (merged.has(name)) {
      errors.push(
        `pool name '${name}' collides with provider '${name}' (pools are resolved first and would shadow it)`,
      );
    }
    if (d.models.has(name)) {
      errors.push(
        `pool name '${name}' collides with model '${name}' (pools are resolved first and would shadow it)`,
      );
    }
    errors.push(...poolErrors(name, pool, poolCtx));
  }
  errors.push(...fallbackCycles(d.pools));
  errors.push(...modeErrors(d.models, merged, d.pools));

  if (!(AUTH_MODES as readonly string[]).includes(authMode)) {
    errors.push(`auth.mode '${d.auth?.mode}' is not valid: expected one of token, passthrough, none`);
  }
  const listed = (d.auth?.clientTokens ?? []).filter((t) => t.trim() !== '');
  const legacy = d.auth?.token?.trim() ? d.auth.token : undefined;
  if (listed.length > 0 && legacy !== undefined) {
    emit('warn', 'auth.token is deprecated and is discarded because auth.client_tokens is set');
  }
  const clientTokens = listed.length > 0 ? listed : legacy !== undefined ? [legacy] : [];
  if (authMode === 'token' && clientTokens.length === 0) {
    errors.push('auth.mode is token but no client tokens are configured (auth.client_tokens is empty)');
  }
  if (errors.length > 0) throw new ConfigError(errors);

  // A governance block that is switched off must not look like protection (the truth rule).
  const g = d.governance;
  if (g !== undefined && g.enabled !== true) {
    const { enabled: _, ...rest } = g;
    if (Object.values(rest).some((v) => v !== undefined)) {
      emit(
        'warn',
        'governance.enabled is not true: governance is off and the other governance keys have no effect',
      );
    }
  }
  // Virtual keys replace client tokens and the open relay (G-GOV-1, G-CFG-18).
  if (governed && (authMode === 'none' || clientTokens.length > 0)) {
    emit(
      'warn',
      `governance is enabled: every inference route, /stats and /metrics need a virtual key; auth.mode ${authMode}${clientTokens.length > 0 ? ' and its client_tokens' : ''} no longer admit anyone`,
    );
  }
  // Only mode token reads the list; with the other modes it would look like protection it is not.
  if (!governed && authMode !== 'token' && clientTokens.length > 0) {
    emit('warn', `auth.mode is ${authMode}: auth.client_tokens has no effect`);
  }
  if (workers > 1) {
    emit(
      'warn',
      `workers is ${workers}: each worker process keeps its own max_concurrent permits, so a model admits up to ${workers} × max_concurrent requests in flight`,
    );
    // Shedding protects each process, so each counts only what it serves (docs: limits).
    const inbound = d.limits?.maxInboundConcurrent ?? 0;
    if (inbound > 0)
      emit(
        'warn',
        `workers is ${workers}: each worker process sheds past its own limits.max_inbound_concurrent (${inbound}), so the node admits up to ${workers} × ${inbound} = ${workers * inbound} inference requests in progress`,
      );
  }

  // Step 9: metadata guard status.
  if (security.allowAll) {
    emit(
      'warn',
      'metadata protection DISABLED — all cloud-metadata endpoints reachable (security.allow_all_metadata)',
    );
  } else {
    const key = (h: string) => (h.includes('/') ? h : canonicalHostKey(h));
    const blocked = new Set([...BUILTIN_METADATA_HOSTS, ...security.blocked].map(key));
    emit('info', `metadata protection: ${blocked.size} hosts blocked (--print-metadata-blocklist to view)`);
  }

  // Step 10: lanes. Each key variable is read exactly once (G-CFG-21).
  const readKey = input.readKey ?? ((_p: string, envVar: string) => input.env[envVar] ?? '');
  const providers = new Map<string, ProviderConfig>();
  for (const [name, p] of merged) {
    const apiKey = readKey(name, p.apiKeyEnv);
    if (apiKey.trim() === '') emit('warn', `provider ${name} key env ${p.apiKeyEnv} empty`);
    else if (authMode === 'passthrough') {
      emit(
        'warn',
        `auth.mode is passthrough and provider ${name} also has a key in ${p.apiKeyEnv}: callers' credentials are forwarded upstream while this key stays loaded (health probes use it); remove it unless intended`,
      );
    }
    providers.set(name, buildProvider(p, apiKey));
  }
  for (const b of input.builtinModels ?? []) providers.set(b.provider.name, b.provider);

  // Step 11: context_max is a lane property declared on members (G-CFG-24).
  const contextMax = new Map<string, number>();
  for (const pool of d.pools.values()) {
    for (const m of pool.members) {
      if (m.contextMax === undefined) continue;
      const seen = contextMax.get(m.target);
      if (seen !== undefined && seen !== m.contextMax) {
        throw new ConfigError(
          `model '${m.target}' has conflicting context_max across pools (${seen} vs ${m.contextMax}); a model maps to one lane and must declare a single context_max`,
        );
      }
      contextMax.set(m.target, m.contextMax);
    }
  }

  const models = new Map<string, ModelConfig>();
  const addModel = (
    name: string,
    provider: ProviderConfig,
    maxConcurrent: number,
    maxRequests: number,
    mode: Operation,
    upstreamModel: string,
    attemptTimeoutMs: number | undefined,
    dmt?: number,
  ) => {
    models.set(
      name,
      Object.freeze({
        name,
        upstreamModel,
        attemptTimeoutMs,
        index: models.size,
        provider,
        maxConcurrent,
        maxRequests,
        defaultMaxTokens: dmt,
        contextMax: contextMax.get(name),
        mode,
      }),
    );
    const where = provider.inProcess ? 'in-process' : provider.baseUrl;
    emit('info', `  model ${name} via ${provider.name} (${where}) max ${maxConcurrent}`);
  };
  for (const [name, m] of d.models) {
    const maxRequests = m.maxRequests === undefined || m.maxRequests < 0 ? -1 : m.maxRequests;
    const upstreamModel = m.upstreamModel ?? name;
    addModel(
      name,
      providers.get(m.provider)!,
      m.maxConcurrent,
      maxRequests,
      modeOf(m),
      upstreamModel,
      m.attemptTimeoutMs,
      m.defaultMaxTokens,
    );
  }
  for (const b of input.builtinModels ?? []) {
    if (!models.has(b.name)) addModel(b.name, b.provider, b.maxConcurrent, -1, 'chat', b.name, undefined);
  }
  emit('info', `busbar: ${models.size} models, ${d.pools.size} pools`);

  // Step 12: pools, with the drained / heterogeneous warnings.
  const onExhaustedByPool = new Map<string, ReturnType<typeof parseOnExhausted>>();
  const pools = new Map<string, PoolConfig>();
  for (const [name, pool] of d.pools) {
    const protocols = new Set<string>();
    const providerNames = new Set<string>();
    let aggregate = 0;
    for (const m of pool.members) {
      const model = models.get(m.target)!;
      protocols.add(model.provider.protocol);
      providerNames.add(model.provider.name);
      aggregate += model.maxConcurrent;
      if (m.weight === 0)
        emit('warn', `pool '${name}' member '${m.target}' has weight 0: drained, never selected`);
    }
    if (authMode === 'passthrough' && providerNames.size > 1) {
      emit(
        'warn',
        `pool '${name}' mixes providers (${[...providerNames].sort().join(', ')}) under auth.mode passthrough: a caller's key only goes to the provider of its first attempt, so failover never reaches the others`,
      );
    }
    if (protocols.size > 1) {
      emit(
        'warn',
        `pool '${name}' is heterogeneous (${[...protocols].sort().join('+')}): cross-protocol hops only preserve what the translation layer models`,
      );
    }
    emit(
      'info',
      `  pool /${name} = [${pool.members.map((m) => m.target).join(', ')}] aggregate ${aggregate}`,
    );
    onExhaustedByPool.set(name, parseOnExhausted(pool.onExhaustedAction));
  }

  // Step 13: the open-relay banner (G-CFG-19), error level whatever the log level.
  if (authMode === 'none' && !governed) {
    if (input.embeddedDefault) {
      emit(
        'error',
        'no config file found: running the EMBEDDED DEFAULT with auth DISABLED — busbar is an OPEN RELAY for anything that can reach it, and it listens on loopback (127.0.0.1) only; write a config.yaml with an auth: block (mode: token) before exposing it',
      );
    } else if (d.auth === undefined) {
      emit(
        'error',
        `no auth: block found in ${input.configLabel} — auth is DISABLED and busbar is running as an OPEN RELAY; add an auth: block with mode: token (and client_tokens) before running this in production`,
      );
    } else {
      emit(
        'error',
        'auth is DISABLED (auth.mode=none) — busbar is running as an OPEN RELAY; do not run this in production',
      );
    }
  }

  // Step 16: on_exhausted, reported individually after the collected set.
  const limits = resolveLimits(d.limits);
  for (const [name, pool] of d.pools) {
    const parsed = onExhaustedByPool.get(name)!;
    if (!parsed.ok)
      throw new ConfigError(onExhaustedError(name, pool.onExhaustedAction ?? '', parsed.reason));
    pools.set(name, buildPool(name, pool, parsed.value, input.cwd, limits.requestDeadlineSecs));
  }

  const tls = d.tls && { certFile: d.tls.certFile, keyFile: d.tls.keyFile, clientCaFile: d.tls.clientCaFile };
  if (tls && input.validateOnly) {
    const problem = checkTlsMaterial(tls);
    if (problem !== undefined) throw new ConfigError(`TLS configuration error: ${problem}`);
  }

  const listenText = d.listen ?? DEFAULT_LISTEN;
  const listen = parseListen(listenText);
  if (listen === undefined) {
    throw new ConfigError(`cannot bind listen address '${listenText}': invalid socket address syntax`);
  }

  const auth: AuthConfig = redactSecrets(
    { mode: authMode as AuthMode, clientTokens, explicit: d.auth !== undefined },
    ['clientTokens'],
  );
  return freezeDeep({
    listen,
    tls,
    auth,
    providers,
    models,
    pools,
    security: {
      blockedMetadataHosts: [...security.blocked],
      allowMetadataHosts: [...security.allow],
      allowAllMetadata: security.allowAll,
    },
    limits,
    governance: resolveGovernance(d.governance, input.cwd),
    observability: resolveObservability(d.observability, input.cwd, emit),
    dashboard: resolveDashboard(d.dashboard, d.governance),
    workers,
    embeddedDefault: input.embeddedDefault ?? false,
  });
}

/** `dashboard.enabled`; that it needs governance is checked with the other errors. */
function resolveDashboard(raw: RawDeployment['dashboard'], governance: RawDeployment['governance']): boolean {
  return raw?.enabled === true && governance?.enabled === true;
}
