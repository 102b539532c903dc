// The resolved, validated configuration: the only shape the rest of the gateway reads.
// Everything here is computed once at startup and frozen; the hot path never re-derives it.

import type { Protocol } from '../protocols/names.ts';
import type { Operation } from '../protocols/routes.ts';

/** Provider error classes an `error_map` may name (gateway.md §1.4). */
export const ERROR_CLASSES = [
  'rate_limit',
  'overloaded',
  'server_error',
  'timeout',
  'network',
  'auth',
  'billing',
  'client_error',
  'context_length',
] as const;
export type ErrorClass = (typeof ERROR_CLASSES)[number];

export type AuthMode = 'token' | 'passthrough' | 'none';
export type UpstreamAuthStyle = 'bearer' | 'api-key';
export type HealthMode = 'none' | 'dead' | 'active';

export interface HealthConfig {
  readonly mode: HealthMode;
  readonly intervalSecs: number;
  readonly timeoutSecs: number;
}

export interface ProviderConfig {
  readonly name: string;
  readonly protocol: Protocol;
  /** Scheme + host (+ path prefix), trailing `/` trimmed. */
  readonly baseUrl: string;
  /** Path override replacing the protocol's standard path; may carry a query. */
  readonly path: string | undefined;
  readonly auth: UpstreamAuthStyle;
  readonly errorMap: Readonly<Record<string, ErrorClass>>;
  readonly health: HealthConfig;
  readonly allowMetadataHosts: readonly string[];
  readonly apiKeyEnv: string;
  /** The key variable's value, read once at startup ('' when unset). Never logged. */
  readonly apiKey: string;
  /** An upstream answered inside the process (the embedded default's demo): no network is used. */
  readonly inProcess?: InProcessUpstream;
}

/** One upstream answer produced in-process, in the provider's own wire protocol. */
export interface InProcessAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly chunks: readonly (string | Uint8Array)[];
}

export interface InProcessUpstream {
  /** Answers one upstream call for `model`, with the body as the gateway would send it. */
  answer(call: {
    readonly model: string;
    readonly stream: boolean;
    readonly body: Uint8Array;
  }): Promise<InProcessAnswer>;
}

export interface ModelConfig {
  /** Config name: the lane's identity, what clients ask for and what metrics and headers show. */
  readonly name: string;
  /** The model id sent upstream (`upstream_model`, else the config name). */
  readonly upstreamModel: string;
  /** 0-based position in `models:` (file order). */
  readonly index: number;
  readonly provider: ProviderConfig;
  readonly maxConcurrent: number;
  /** Lifetime request budget; -1 = unlimited. */
  readonly maxRequests: number;
  readonly defaultMaxTokens: number | undefined;
  /** Resolved from pool members (G-CFG-24). */
  readonly contextMax: number | undefined;
  /** The one operation the model serves (issue 14). */
  readonly mode: Operation;
  /** One attempt's connect plus response head must arrive within this (ms); a pool's value wins. */
  readonly attemptTimeoutMs: number | undefined;
}

export interface PoolMemberConfig {
  readonly target: string;
  readonly weight: number;
  readonly contextMax: number | undefined;
  /** Cost per million tokens: drives `cheapest` (G-POL-9). */
  readonly costPerMtok: number | undefined;
  /** A free label for webhook and script policies. */
  readonly tier: string | undefined;
  /** Free labels for script policies. */
  readonly tags: readonly string[];
}

/** The native routing policies (G-POL-9); `weighted` is no policy at all (G-POL-1). */
export const NATIVE_POLICIES = ['cheapest', 'fastest', 'least_busy', 'usage'] as const;
export type NativePolicyName = (typeof NATIVE_POLICIES)[number];

/** What a failed decision does (G-POL-5); `abstain` is read as `weighted`. */
export type PolicyOnError = 'weighted' | 'reject' | 'first';

/** Where a webhook policy is asked: an http(s) URL, or a Unix socket (`unix:/path`, POST /). */
export type WebhookTarget =
  | { readonly kind: 'http'; readonly url: string }
  | { readonly kind: 'unix'; readonly socketPath: string };

/** A pool's routing policy; a weighted pool has none. */
export type RoutePolicyConfig =
  | { readonly kind: 'native'; readonly name: NativePolicyName }
  | {
      readonly kind: 'webhook';
      readonly target: WebhookTarget;
      readonly timeoutMs: number;
      readonly onError: PolicyOnError;
      readonly sendPrompt: boolean;
    }
  | {
      readonly kind: 'script';
      /** The script's source, read once at startup (G-POL-14). */
      readonly source: string;
      readonly timeoutMs: number;
      readonly onError: PolicyOnError;
    };

export type TripConfig =
  | {
      readonly mode: 'error_rate';
      readonly windowS: number;
      readonly threshold: number;
      readonly minRequests: number;
    }
  | {
      readonly mode: 'consecutive';
      readonly windowS: number;
      readonly n: number;
      readonly minRequests: number;
    };

export interface BreakerConfig {
  readonly baseCooldownSecs: number;
  readonly maxCooldownSecs: number;
  readonly trip: TripConfig;
}

export interface FailoverConfig {
  readonly deadlineSecs: number;
  /** One attempt's connect plus response head must arrive within this, else it fails over (ms). */
  readonly attemptTimeoutMs: number | undefined;
  readonly cap: number;
  readonly exclusions: readonly string[];
}

export type OnExhausted =
  | { readonly action: 'reject' }
  | { readonly action: 'least_bad' }
  | { readonly action: 'fallback_pool'; readonly pool: string };

export interface PoolConfig {
  readonly name: string;
  readonly members: readonly PoolMemberConfig[];
  readonly breaker: BreakerConfig;
  readonly failover: FailoverConfig;
  readonly onExhausted: OnExhausted;
  readonly affinityHeader: string;
  /** Undefined: weighted, the zero-cost path (G-POL-1). */
  readonly policy: RoutePolicyConfig | undefined;
}

export interface TlsConfig {
  readonly certFile: string;
  readonly keyFile: string;
  readonly clientCaFile: string | undefined;
}

export interface AuthConfig {
  readonly mode: AuthMode;
  readonly clientTokens: readonly string[];
  /** False when the deployment file had no `auth:` block (changes the open-relay banner). */
  readonly explicit: boolean;
}

/** Bounds on what one client can hold: connections, time and bytes (`limits:`). */
export interface LimitsConfig {
  /** A connection's first bytes, a TLS handshake and each request head must arrive within this. */
  readonly headerTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  readonly keepAliveIdleMs: number;
  /** A request body may take this long plus its size at the minimum rate. */
  readonly bodyGraceMs: number;
  readonly bodyMinBytesPerSec: number;
  /** Open client connections at most; past it new ones are closed at once. */
  readonly maxConnections: number;
  /** Open connections per client address at most; 0 = no per-client cap. */
  readonly maxConnectionsPerClient: number;
  readonly http2MaxConcurrentStreams: number;
  /** An HTTP/2 session with no activity is closed after this. */
  readonly http2SessionIdleMs: number;
  /** Bytes of request bodies held at once; past it, new large bodies get a 503. */
  readonly maxBufferedBodyBytes: number;
  /** A request body over this is refused with 413. */
  readonly maxRequestBodyBytes: number;
  /** A request's deadline where its route sets none (model and ad-hoc routes, pools without one). */
  readonly requestDeadlineSecs: number;
  /** Inference requests in progress at once; past it, new ones are shed with a 503. 0 = no cap. */
  readonly maxInboundConcurrent: number;
  /** A TLS handshake must complete within this. */
  readonly tlsHandshakeTimeoutMs: number;
  /** What the gateway asks of upstreams. */
  readonly upstream: UpstreamLimits;
}

/** Bounds and defaults of upstream calls (`limits:`). */
export interface UpstreamLimits {
  /** A streamed upstream exchange ends within this, body included. */
  readonly timeoutMs: number;
  /** Sockets per upstream origin at most; 0 = no cap. */
  readonly connectionsPerHost: number;
  /** An idle keep-alive upstream socket is closed after at most this (an upstream's hint may shorten it). */
  readonly idleMs: number;
  /** Upstream error bodies are read up to this many bytes. */
  readonly maxErrorBodyBytes: number;
  /** An upstream's Retry-After is honoured up to this many seconds. */
  readonly maxRetryAfterSecs: number;
  /** `max_tokens` where a protocol requires one and neither the client nor the model sets it. */
  readonly defaultMaxTokens: number;
}

export interface SecurityConfig {
  readonly blockedMetadataHosts: readonly string[];
  readonly allowMetadataHosts: readonly string[];
  readonly allowAllMetadata: boolean;
}

/** What one request costs on a model (governance). */
export interface ModelPrice {
  /**
   * The flat fee charged at admission and refunded when the answer is not 2xx. One for every model:
   * admission runs before the name is resolved to the member that will serve.
   */
  readonly perRequestCents: number;
  /** Token prices in millionths of a cent per 1,000 tokens. */
  readonly inputPer1kMicrocents: number;
  readonly outputPer1kMicrocents: number;
}

/** `governance:` when enabled (§1.11). */
/** `governance.store` + `rate_store`: governance shared by every replica (docs/deployment.md). */
export interface FleetStores {
  /** `postgres://…`; holds a password: never logged (redacted views). */
  readonly store: string;
  /** `redis://…`; may hold a password: never logged. */
  readonly rateStore: string;
  /** Prepended to every Redis key, so fleets (and test runs) can share one Redis. */
  readonly ratePrefix: string;
  /** How long a reservation outlives the replica that holds it (renewed while it lives). */
  readonly reservationTtlMs: number;
}

export interface GovernanceConfig {
  /** Absolute path of the SQLite file (unused when `fleet` is set). */
  readonly dbPath: string;
  /** Shared PostgreSQL + Redis stores instead of the embedded SQLite file. */
  readonly fleet: FleetStores | undefined;
  /** Never logged (redacted views). */
  readonly adminToken: string;
  /** Prices for models without an entry of their own. */
  readonly defaultPrice: ModelPrice;
  /** By model config name. */
  readonly prices: ReadonlyMap<string, ModelPrice>;
  /** `budget_on_store_error: allow`: admit without charging when the store fails. */
  readonly failOpen: boolean;
}

export interface ListenAddress {
  /** As written in config, for messages. */
  readonly raw: string;
  readonly host: string;
  readonly port: number;
}

/** `observability:` once validated; a sink whose URL failed its guard is absent (G-OBS-31, 41). */
export interface ObservabilityConfig {
  /** OTLP/HTTP trace export (G-OBS-30…34). */
  readonly otlp: { readonly url: string; readonly authorization: string | undefined } | undefined;
  readonly requestLogWebhookUrl: string | undefined;
  /** A file the request log is appended to (JSON lines), resolved against the working directory. */
  readonly requestLogFile: string | undefined;
  /** `x-request-id` and `Server-Timing` on responses (G-OBS-52); off by default. */
  readonly responseHeaders: boolean;
}

export interface GatewayConfig {
  readonly listen: ListenAddress;
  readonly tls: TlsConfig | undefined;
  readonly auth: AuthConfig;
  readonly providers: ReadonlyMap<string, ProviderConfig>;
  /** In `models:` file order. */
  readonly models: ReadonlyMap<string, ModelConfig>;
  readonly pools: ReadonlyMap<string, PoolConfig>;
  readonly security: SecurityConfig;
  readonly limits: LimitsConfig;
  /** Undefined when governance is off. */
  readonly governance: GovernanceConfig | undefined;
  readonly observability: ObservabilityConfig;
  /** `dashboard.enabled` (issue 17): /ui is served, signed in to with the admin token. */
  readonly dashboard: boolean;
  /** `workers: N | auto` (issue 5); 1 when absent. */
  readonly workers: number;
  /** True when no deployment file was found and the embedded default is serving. */
  readonly embeddedDefault: boolean;
  /** Which files' content this is, and when it was loaded (issue 16, item 6). */
  readonly source: ConfigSource;
}

/** The loaded files' identity: a SHA-256 over both files' text as read, and the load time. */
export interface ConfigSource {
  readonly hash: string;
  /** ISO 8601, UTC. */
  readonly loadedAt: string;
  /** The non-fatal warnings loading printed (a reload prints only the ones that are new). */
  readonly warnings: readonly string[];
}
