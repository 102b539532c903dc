// The two files' shapes as written (after type checks, before resolution), and their readers.
// Values that G-VAL rules check (protocol names, auth styles, error classes…) stay plain strings
// here so that resolution can report every problem at once instead of failing on the first.

import type { Fields, ParseScope } from './yaml.ts';

export interface RawHealth {
  readonly mode: 'none' | 'dead' | 'active' | undefined;
  readonly intervalSecs: number | undefined;
  readonly timeoutSecs: number | undefined;
}

/** Fields a catalog entry and a deployment activation share (§1.4, §1.7). */
export interface RawProviderFields {
  readonly protocol: string | undefined;
  readonly baseUrl: string | undefined;
  readonly errorMap: ReadonlyMap<string, string> | undefined;
  readonly path: string | undefined;
  readonly auth: string | undefined;
  readonly health: RawHealth | undefined;
  readonly allowMetadataHosts: readonly string[] | undefined;
}

export interface RawCatalogEntry extends RawProviderFields {
  readonly protocol: string;
  readonly baseUrl: string;
}

export interface RawActivation extends RawProviderFields {
  readonly apiKeyEnv: string;
  /** Legacy inline key: only its presence matters (a warning); the value is never kept. */
  readonly hasInlineApiKey: boolean;
}

export interface RawModel {
  readonly provider: string;
  readonly maxConcurrent: number;
  readonly maxRequests: number | undefined;
  readonly defaultMaxTokens: number | undefined;
}

export interface RawMember {
  readonly target: string;
  readonly weight: number | undefined;
  readonly contextMax: number | undefined;
  readonly tier: string | undefined;
  readonly costPerMtok: number | undefined;
  readonly tags: readonly string[] | undefined;
}

export const ROUTE_VALUES = [
  'weighted',
  'native',
  'webhook',
  'script',
  'cheapest',
  'fastest',
  'least_busy',
  'usage',
] as const;
export type RawRoute = (typeof ROUTE_VALUES)[number];

export interface RawPolicy {
  readonly name: string | undefined;
  readonly url: string | undefined;
  readonly timeoutMs: number | undefined;
  readonly onError: 'weighted' | 'reject' | 'first' | 'abstain' | undefined;
  readonly script: string | undefined;
  readonly scriptFile: string | undefined;
}

export interface RawBreaker {
  readonly baseCooldownSecs: number | undefined;
  readonly maxCooldownSecs: number | undefined;
  readonly tripMode: 'error_rate' | 'consecutive' | undefined;
  readonly windowS: number | undefined;
  readonly threshold: number | undefined;
  readonly minRequests: number | undefined;
  readonly n: number | undefined;
}

export interface RawPool {
  readonly members: readonly RawMember[];
  readonly route: RawRoute | undefined;
  readonly policy: RawPolicy | undefined;
  readonly breaker: RawBreaker | undefined;
  readonly deadlineSecs: number | undefined;
  readonly cap: number | undefined;
  readonly exclusions: readonly string[] | undefined;
  readonly onExhaustedAction: string | undefined;
  readonly affinityMode: string | undefined;
  readonly affinityHeader: string | undefined;
}

export interface RawAuth {
  readonly mode: string | undefined;
  readonly clientTokens: readonly string[] | undefined;
  readonly token: string | undefined;
}

export interface RawGovernance {
  readonly enabled: boolean | undefined;
  readonly dbPath: string | undefined;
  readonly adminToken: string | undefined;
  readonly pricePerRequestCents: number | undefined;
  readonly pricePer1kTokensCents: number | undefined;
  readonly budgetOnStoreError: 'allow' | 'deny' | undefined;
}

export interface RawSecurity {
  readonly blockedMetadataHosts: readonly string[] | undefined;
  readonly allowMetadataHosts: readonly string[] | undefined;
  readonly allowAllMetadata: boolean | undefined;
}

export interface RawTls {
  readonly certFile: string;
  readonly keyFile: string;
  readonly clientCaFile: string | undefined;
}

export interface RawDeployment {
  readonly listen: string | undefined;
  readonly workers: number | 'auto' | undefined;
  readonly tls: RawTls | undefined;
  /** Undefined when the file had no `auth:` block (G-CFG-19 banner variant). */
  readonly auth: RawAuth | undefined;
  readonly providers: ReadonlyMap<string, RawActivation>;
  readonly models: ReadonlyMap<string, RawModel>;
  readonly pools: ReadonlyMap<string, RawPool>;
  readonly otlpEndpoint: string | undefined;
  readonly requestLogWebhookUrl: string | undefined;
  readonly governance: RawGovernance | undefined;
  readonly security: RawSecurity | undefined;
}

// ---------------------------------------------------------------------------------------------

function readHealth(f: Fields | undefined): RawHealth | undefined {
  if (!f) return undefined;
  return {
    mode: f.oneOf('mode', ['none', 'dead', 'active']),
    intervalSecs: f.int('interval_secs'),
    timeoutSecs: f.int('timeout_secs'),
  };
}

function readProviderFields(f: Fields): RawProviderFields {
  return {
    protocol: f.str('protocol'),
    baseUrl: f.str('base_url'),
    errorMap: f.strMap('error_map'),
    path: f.str('path'),
    auth: f.str('auth'),
    health: readHealth(f.obj('health')),
    allowMetadataHosts: f.strList('allow_metadata_hosts'),
  };
}

/** `providers.yaml`: name → entry. Only types are checked here (G-CFG-13). */
export function readCatalog(root: Fields): Map<string, RawCatalogEntry> {
  const out = new Map<string, RawCatalogEntry>();
  for (const [name, f] of root.ownNamedObjects()) {
    const fields = readProviderFields(f);
    out.set(name, {
      ...fields,
      protocol: f.require('protocol', fields.protocol),
      baseUrl: f.require('base_url', fields.baseUrl),
    });
  }
  return out;
}

function readMember(f: Fields): RawMember {
  return {
    target: f.require('target', f.str('target')),
    weight: f.uint('weight'),
    contextMax: f.uint('context_max'),
    tier: f.str('tier'),
    costPerMtok: f.float('cost_per_mtok'),
    tags: f.strList('tags'),
  };
}

function readPool(f: Fields): RawPool {
  const policy = f.obj('policy');
  const breaker = f.obj('breaker');
  const trip = breaker?.obj('trip');
  const failover = f.obj('failover');
  const onExhausted = f.obj('on_exhausted');
  const affinity = f.obj('affinity');
  return {
    members: (f.objList('members') ?? []).map(readMember),
    route: f.oneOf('route', ROUTE_VALUES),
    policy: policy && {
      name: policy.str('name'),
      url: policy.str('url'),
      timeoutMs: policy.uint('timeout_ms'),
      onError: policy.oneOf('on_error', ['weighted', 'reject', 'first', 'abstain']),
      script: policy.str('script'),
      scriptFile: policy.str('script_file'),
    },
    breaker: breaker && {
      baseCooldownSecs: breaker.uint('base_cooldown_secs'),
      maxCooldownSecs: breaker.uint('max_cooldown_secs'),
      tripMode: trip?.oneOf('mode', ['error_rate', 'consecutive']),
      windowS: trip?.uint('window_s'),
      threshold: trip?.float('threshold'),
      minRequests: trip?.uint('min_requests'),
      n: trip?.uint('n'),
    },
    deadlineSecs: failover?.uint('deadline_secs'),
    cap: failover?.uint('cap'),
    exclusions: failover?.strList('exclusions'),
    onExhaustedAction: onExhausted?.str('action'),
    affinityMode: affinity?.str('mode'),
    affinityHeader: affinity?.str('header_name'),
  };
}

function readWorkers(scope: ParseScope, root: Fields): number | 'auto' | undefined {
  const raw = root.raw('workers');
  if (raw === undefined) return undefined;
  if (raw === 'auto') return 'auto';
  if (typeof raw === 'bigint' && raw >= 1n && raw <= 4096n) return Number(raw);
  return scope.fail('workers', "expected an integer >= 1 or 'auto'");
}

/** `config.yaml` top level (§1.5). */
export function readDeployment(scope: ParseScope, root: Fields): RawDeployment {
  const tls = root.obj('tls');
  const auth = root.obj('auth');
  const observability = root.obj('observability');
  const governance = root.obj('governance');
  const security = root.obj('security');
  const providers = root.require('providers', root.namedObjects('providers'));
  const models = root.require('models', root.namedObjects('models'));
  return {
    listen: root.str('listen'),
    workers: readWorkers(scope, root),
    tls: tls && {
      certFile: tls.require('cert_file', tls.str('cert_file')),
      keyFile: tls.require('key_file', tls.str('key_file')),
      clientCaFile: tls.str('client_ca_file'),
    },
    auth: auth && {
      mode: auth.str('mode'),
      clientTokens: auth.strList('client_tokens', { nullAsEmpty: true }),
      token: auth.str('token'),
    },
    providers: new Map(
      providers.map(([name, f]) => [
        name,
        {
          ...readProviderFields(f),
          apiKeyEnv: f.require('api_key_env', f.str('api_key_env')),
          hasInlineApiKey: f.raw('api_key') !== undefined,
        },
      ]),
    ),
    models: new Map(
      models.map(([name, f]) => [
        name,
        {
          provider: f.require('provider', f.str('provider')),
          maxConcurrent: f.require('max_concurrent', f.uint('max_concurrent')),
          maxRequests: f.int('max_requests'),
          defaultMaxTokens: f.uint('default_max_tokens'),
        },
      ]),
    ),
    pools: new Map((root.namedObjects('pools') ?? []).map(([name, f]) => [name, readPool(f)])),
    otlpEndpoint: observability?.str('otlp_endpoint'),
    requestLogWebhookUrl: observability?.str('request_log_webhook_url'),
    governance: governance && {
      enabled: governance.bool('enabled'),
      dbPath: governance.str('db_path'),
      adminToken: governance.str('admin_token'),
      pricePerRequestCents: governance.int('price_per_request_cents'),
      pricePer1kTokensCents: governance.int('price_per_1k_tokens_cents'),
      budgetOnStoreError: governance.oneOf('budget_on_store_error', ['allow', 'deny']),
    },
    security: security && {
      blockedMetadataHosts: security.strList('blocked_metadata_hosts'),
      allowMetadataHosts: security.strList('allow_metadata_hosts'),
      allowAllMetadata: security.bool('allow_all_metadata'),
    },
  };
}
