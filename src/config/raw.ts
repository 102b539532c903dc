// The two files' shapes as written (after type checks, before resolution), and their readers.
// Values that G-VAL rules check (protocol names, auth styles, error classes…) stay plain strings
// here so that resolution can report every problem at once instead of failing on the first.

import { OPERATIONS } from '../protocols/routes.ts';
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
  /** What the model serves: chat (the default), embedding or rerank. */
  readonly mode: string | undefined;
  /** The model id sent upstream when it differs from the config name. */
  readonly upstreamModel: string | undefined;
  readonly attemptTimeoutMs: number | undefined;
}

export interface RawMember {
  readonly target: string;
  readonly weight: number | undefined;
  readonly contextMax: number | undefined;
  readonly costPerMtok: number | undefined;
  readonly tier: string | undefined;
  readonly tags: readonly string[] | undefined;
}

/** A pool's `policy:` block (§1.9), as written. */
export interface RawPolicy {
  readonly name: string | undefined;
  readonly url: string | undefined;
  readonly timeoutMs: number | undefined;
  readonly onError: string | undefined;
  readonly script: string | undefined;
  readonly scriptFile: string | undefined;
  /** Webhook: the prompt text goes to the hook too (off by default). */
  readonly sendPrompt: boolean | undefined;
}

/** `route:` values of the reference format. */
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
  readonly attemptTimeoutMs: number | undefined;
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

/** One entry of `governance.model_prices`, as written (cents per 1k tokens; decimals allowed). */
export interface RawModelPrice {
  readonly input_per_1k_tokens_cents: number | undefined;
  readonly output_per_1k_tokens_cents: number | undefined;
}

/** The `governance:` block as written (§1.11). */
export interface RawGovernance {
  readonly enabled: boolean | undefined;
  readonly dbPath: string | undefined;
  readonly adminToken: string | undefined;
  readonly pricePerRequestCents: number | undefined;
  readonly pricePer1kTokensCents: number | undefined;
  readonly budgetOnStoreError: string | undefined;
  readonly modelPrices: ReadonlyMap<string, RawModelPrice> | undefined;
  /** `postgres://…`: keys and spend shared by every replica (instead of `db_path`). */
  readonly store: string | undefined;
  /** `redis://…`: the fleet's rate windows. */
  readonly rateStore: string | undefined;
  readonly rateStorePrefix: string | undefined;
  readonly reservationTtlSecs: number | undefined;
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

/** `observability:` (§1.10): the reference's two sinks, and beyond it a request-log file and response headers. */
export interface RawObservability {
  readonly otlpEndpoint: string | undefined;
  readonly requestLogWebhookUrl: string | undefined;
  readonly requestLogFile: string | undefined;
  readonly responseHeaders: boolean | undefined;
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
  readonly observability: RawObservability | undefined;
  readonly governance: RawGovernance | undefined;
  readonly security: RawSecurity | undefined;
  readonly limits: RawLimits | undefined;
  /** `dashboard:` (issue 17): the operator page at /ui. */
  readonly dashboard: { readonly enabled: boolean | undefined } | undefined;
}

/** `limits:` — bounds on what one client can hold (connections, time, bytes). */
export interface RawLimits {
  readonly headerTimeoutSecs: number | undefined;
  readonly keepaliveIdleSecs: number | undefined;
  readonly bodyGraceSecs: number | undefined;
  readonly bodyMinBytesPerSec: number | undefined;
  readonly maxConnections: number | undefined;
  readonly maxConnectionsPerClient: number | undefined;
  readonly http2MaxConcurrentStreams: number | undefined;
  readonly http2SessionIdleSecs: number | undefined;
  readonly maxBufferedBodyBytes: number | undefined;
  readonly maxRequestBodyBytes: number | undefined;
  readonly requestDeadlineSecs: number | undefined;
  readonly maxInboundConcurrent: number | undefined;
  readonly tlsHandshakeTimeoutSecs: number | undefined;
  readonly upstreamTimeoutSecs: number | undefined;
  readonly upstreamConnectionsPerHost: number | undefined;
  readonly upstreamIdleSecs: number | undefined;
  readonly maxErrorBodyBytes: number | undefined;
  readonly maxRetryAfterSecs: number | undefined;
  readonly defaultMaxTokens: number | undefined;
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
    costPerMtok: f.float('cost_per_mtok'),
    tier: f.str('tier'),
    tags: f.strList('tags'),
  };
}

/** Any `route:` outside the reference's set is a parse error; the set's policies fail later. */
function readRoute(scope: ParseScope, f: Fields): RawRoute | undefined {
  const route = f.str('route');
  if (route === undefined || (ROUTE_VALUES as readonly string[]).includes(route)) return route as RawRoute;
  return scope.fail(
    f.pathOf('route'),
    `unknown variant '${route}', expected one of ${ROUTE_VALUES.join(', ')}`,
  );
}

function readPool(scope: ParseScope, f: Fields): RawPool {
  const breaker = f.obj('breaker');
  const trip = breaker?.obj('trip');
  const failover = f.obj('failover');
  const onExhausted = f.obj('on_exhausted');
  const affinity = f.obj('affinity');
  const policy = f.obj('policy');
  return {
    members: (f.objList('members') ?? []).map(readMember),
    route: readRoute(scope, f),
    policy: policy && {
      name: policy.str('name'),
      url: policy.str('url'),
      timeoutMs: policy.uint('timeout_ms'),
      onError: policy.str('on_error'),
      script: policy.str('script'),
      scriptFile: policy.str('script_file'),
      sendPrompt: policy.bool('send_prompt'),
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
    attemptTimeoutMs: failover?.uint('attempt_timeout_ms'),
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

function readGovernance(g: Fields): RawGovernance {
  const prices = g.namedObjects('model_prices');
  return {
    enabled: g.bool('enabled'),
    dbPath: g.str('db_path'),
    adminToken: g.str('admin_token'),
    pricePerRequestCents: g.int('price_per_request_cents'),
    pricePer1kTokensCents: g.int('price_per_1k_tokens_cents'),
    budgetOnStoreError: g.str('budget_on_store_error')?.trim().toLowerCase(),
    store: g.str('store'),
    rateStore: g.str('rate_store'),
    rateStorePrefix: g.str('rate_store_prefix'),
    reservationTtlSecs: g.int('reservation_ttl_secs'),
    modelPrices:
      prices &&
      new Map(
        prices.map(([name, f]) => [
          name,
          {
            input_per_1k_tokens_cents: f.float('input_per_1k_tokens_cents'),
            output_per_1k_tokens_cents: f.float('output_per_1k_tokens_cents'),
          },
        ]),
      ),
  };
}

/** `config.yaml` top level (§1.5). */
export function readDeployment(scope: ParseScope, root: Fields): RawDeployment {
  const tls = root.obj('tls');
  const auth = root.obj('auth');
  const observability = root.obj('observability');
  const governance = root.obj('governance');
  const security = root.obj('security');
  const limits = root.obj('limits');
  const dashboard = root.obj('dashboard');
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
          mode: f.oneOf('mode', OPERATIONS),
          upstreamModel: f.str('upstream_model'),
          attemptTimeoutMs: f.uint('attempt_timeout_ms'),
        },
      ]),
    ),
    pools: new Map((root.namedObjects('pools') ?? []).map(([name, f]) => [name, readPool(scope, f)])),
    observability: observability && {
      otlpEndpoint: observability.str('otlp_endpoint'),
      requestLogWebhookUrl: observability.str('request_log_webhook_url'),
      requestLogFile: observability.str('request_log_file'),
      responseHeaders: observability.bool('response_headers'),
    },
    governance: governance && readGovernance(governance),
    dashboard: dashboard && { enabled: dashboard.bool('enabled') },
    limits: limits && {
      headerTimeoutSecs: limits.uint('header_timeout_secs'),
      keepaliveIdleSecs: limits.uint('keepalive_idle_secs'),
      bodyGraceSecs: limits.uint('body_grace_secs'),
      bodyMinBytesPerSec: limits.uint('body_min_bytes_per_sec'),
      maxConnections: limits.uint('max_connections'),
      maxConnectionsPerClient: limits.uint('max_connections_per_client'),
      http2MaxConcurrentStreams: limits.uint('http2_max_concurrent_streams'),
      http2SessionIdleSecs: limits.uint('http2_session_idle_secs'),
      maxBufferedBodyBytes: limits.uint('max_buffered_body_bytes'),
      maxRequestBodyBytes: limits.uint('max_request_body_bytes'),
      requestDeadlineSecs: limits.uint('request_deadline_secs'),
      maxInboundConcurrent: limits.uint('max_inbound_concurrent'),
      tlsHandshakeTimeoutSecs: limits.uint('tls_handshake_timeout_secs'),
      upstreamTimeoutSecs: limits.uint('upstream_timeout_secs'),
      upstreamConnectionsPerHost: limits.uint('upstream_connections_per_host'),
      upstreamIdleSecs: limits.uint('upstream_idle_secs'),
      maxErrorBodyBytes: limits.uint('max_error_body_bytes'),
      maxRetryAfterSecs: limits.uint('max_retry_after_secs'),
      defaultMaxTokens: limits.uint('default_max_tokens'),
    },
    security: security && {
      blockedMetadataHosts: security.strList('blocked_metadata_hosts'),
      allowMetadataHosts: security.strList('allow_metadata_hosts'),
      allowAllMetadata: security.bool('allow_all_metadata'),
    },
  };
}
