// The embedded default (G-CFG-2a): what busbar serves when no deployment file exists — loopback
// only, no auth, one model per shipped provider whose conventional key variable is set, and the
// in-process `demo` model so the first request works offline. Which provider, key variables and
// model: embedded-default.json, a table rather than code, since a provider is a catalog row.

import { DEMO_PROTOCOL, PROTOCOLS } from '../protocols/names.ts';
import { ROUTES } from '../protocols/registry.ts';
import candidates from './embedded-default.json' with { type: 'json' };
import type { RawActivation, RawCatalogEntry, RawDeployment, RawModel } from './raw.ts';
import type { BuiltinModel } from './resolve.ts';
import type { GatewayConfig, InProcessUpstream, ProviderConfig } from './types.ts';

export const EMBEDDED_DEFAULT_LISTEN = '127.0.0.1:8080';
export const DEMO_MODEL = 'demo';
const DEFAULT_MAX_CONCURRENT = 16;
const DEFAULT_AWS_REGION = 'us-east-1';

interface Candidate {
  readonly provider: string;
  /** The conventional variable(s) that must be set; the first is reported as `api_key_env`. */
  readonly keyVars: readonly string[];
  /** Joined after `keyVars` when set (a credential spread over variables, see `readKey`). */
  readonly optionalKeyVars?: readonly string[];
  /** Instead of the catalog's base URL; `{region}` is the validated `AWS_REGION`. */
  readonly baseUrl?: string;
  readonly model: string;
}

/** Read only in embedded-default mode (G-CFG-3 holds for real config files). */
const CANDIDATES: readonly Candidate[] = candidates;

const isSet = (env: NodeJS.ProcessEnv, name: string): boolean => (env[name] ?? '').trim() !== '';

function awsRegion(env: NodeJS.ProcessEnv): string {
  const region = (env.AWS_REGION ?? '').trim();
  return /^[a-z]{2}(-[a-z]+)+-\d+$/.test(region) ? region : DEFAULT_AWS_REGION;
}

/** The in-process demo provider: no upstream is ever contacted for it. */
export const DEMO_PROVIDER: ProviderConfig = Object.freeze({
  name: 'demo',
  protocol: DEMO_PROTOCOL,
  baseUrl: 'http://127.0.0.1',
  path: undefined,
  auth: 'bearer',
  errorMap: Object.freeze({}),
  health: Object.freeze({ mode: 'none', intervalSecs: 30, timeoutSecs: 5 }),
  allowMetadataHosts: Object.freeze([]),
  apiKeyEnv: '',
  apiKey: '',
  inProcess: Object.freeze({
    // The echo code and the codecs it writes with load on the first demo request, not at startup.
    answer: async (call: Parameters<InProcessUpstream['answer']>[0]) =>
      (await import('../protocols/demo.ts')).answerDemoCall(DEMO_PROTOCOL, call),
  }),
});

export interface EmbeddedDefault {
  readonly deployment: RawDeployment;
  readonly readKey: (provider: string, apiKeyEnv: string) => string;
  readonly builtinModels: readonly BuiltinModel[];
}

/** A deployment as if written by hand, so the default goes through the same resolution and checks. */
export function embeddedDefault(
  catalog: ReadonlyMap<string, RawCatalogEntry>,
  env: NodeJS.ProcessEnv,
): EmbeddedDefault {
  const providers = new Map<string, RawActivation>();
  const models = new Map<string, RawModel>();
  for (const c of CANDIDATES) {
    if (!catalog.has(c.provider) || !c.keyVars.every((v) => isSet(env, v))) continue;
    providers.set(c.provider, {
      protocol: undefined,
      baseUrl: c.baseUrl?.replace('{region}', awsRegion(env)),
      errorMap: undefined,
      path: undefined,
      auth: undefined,
      health: undefined,
      allowMetadataHosts: undefined,
      apiKeyEnv: c.keyVars[0]!,
      hasInlineApiKey: false,
    });
    models.set(c.model, {
      provider: c.provider,
      maxConcurrent: DEFAULT_MAX_CONCURRENT,
      maxRequests: undefined,
      defaultMaxTokens: undefined,
      mode: undefined,
      upstreamModel: undefined,
      attemptTimeoutMs: undefined,
    });
  }
  const deployment: RawDeployment = {
    listen: EMBEDDED_DEFAULT_LISTEN,
    workers: undefined,
    tls: undefined,
    auth: undefined,
    providers,
    models,
    pools: new Map(),
    observability: undefined,
    governance: undefined,
    dashboard: undefined,
    security: undefined,
    limits: undefined,
  };
  const readKey = (provider: string, apiKeyEnv: string): string => {
    const c = CANDIDATES.find((x) => x.provider === provider);
    if (c === undefined || c.keyVars.length === 1) return env[apiKeyEnv] ?? '';
    // A credential spread over variables is one key, the values joined with ':' (for AWS,
    // `ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN]`, G-CFG-22).
    const vars = [...c.keyVars, ...(c.optionalKeyVars ?? []).filter((v) => isSet(env, v))];
    return vars.map((v) => (env[v] ?? '').trim()).join(':');
  };
  return {
    deployment,
    readKey,
    builtinModels: [{ name: DEMO_MODEL, provider: DEMO_PROVIDER, maxConcurrent: 64 }],
  };
}

const PROMPT = 'Say hello in five words.';

function curl(baseUrl: string, path: string, body: unknown, headers: readonly string[] = []): string {
  const h = ["-H 'content-type: application/json'", ...headers.map((x) => `-H '${x}'`)].join(' ');
  return `  curl -s ${baseUrl}${path} ${h} -d '${JSON.stringify(body)}'`;
}

/**
 * Lines the server prints after binding in embedded-default mode: the live models and one `curl`
 * per ingress protocol against the demo model. `baseUrl` is e.g. `http://127.0.0.1:8080`.
 */
export function embeddedDefaultBanner(config: GatewayConfig, baseUrl: string): string[] {
  const base = baseUrl.replace(/\/+$/, '');
  const width = Math.max(...[...config.models.keys()].map((m) => m.length), 4) + 2;
  const lines = [
    'busbar is serving the EMBEDDED DEFAULT: no config file was found (--config, BUSBAR_CONFIG, ./config.yaml, /etc/busbar/config.yaml)',
    'live models:',
  ];
  for (const m of config.models.values()) {
    const where = m.provider.inProcess
      ? 'built-in, answered in-process (no upstream, no key)'
      : `${m.provider.name} (${m.provider.baseUrl})`;
    lines.push(`  ${m.name.padEnd(width)}${where}`);
  }
  const missing = CANDIDATES.filter((c) => !config.providers.has(c.provider));
  if (missing.length > 0) {
    lines.push(
      `more models appear when these are set: ${missing.map((c) => c.keyVars.join('+')).join(', ')}`,
    );
  }
  lines.push('try it (any protocol in, any provider out):');
  const streaming: string[] = [];
  for (const protocol of PROTOCOLS) {
    const example = ROUTES[protocol].example(DEMO_MODEL, PROMPT);
    lines.push(`  # ${example.title}`, curl(base, example.path, example.body, example.headers));
    if (!streaming.includes(example.streaming)) streaming.push(example.streaming);
  }
  lines.push(
    `streaming works too: ${streaming.join(', ')}`,
    'write a config.yaml (see config.example.yaml) for auth, pools, failover and more',
  );
  return lines;
}
