// Pool resolution and validation (§1.9, G-VAL-21…34): members, breaker, failover, on_exhausted,
// affinity and the routing policy, and the frozen PoolConfig built from them. The webhook and script
// policies are not built yet (unavailable.ts rejects them).

import { resolve } from 'node:path';
import { Script } from 'node:vm';
import { fs } from '../builtins.ts';
import { checkSinkUrl, maskUrlUserinfo } from '../net/ssrf.ts';
import { timerRangeError } from './limits.ts';
import type { RawModel, RawPool } from './raw.ts';
import {
  type BreakerConfig,
  NATIVE_POLICIES,
  type NativePolicyName,
  type OnExhausted,
  type PolicyOnError,
  type PoolConfig,
  type PoolMemberConfig,
  type RoutePolicyConfig,
  type WebhookTarget,
} from './types.ts';

const DEFAULT_AFFINITY_HEADER = 'x-session-id';
const ON_ERROR = ['weighted', 'reject', 'first', 'abstain'];
/** G-POL-4: the decision deadline when `timeout_ms` is absent or 0. */
const DEFAULT_POLICY_TIMEOUT_MS = 150;

/**
 * G-VAL-35: a script policy's source (inline `script` or `script_file`, read once), or why it
 * cannot be used. The syntax is checked here with V8's parser, which runs nothing; the sandbox
 * compiles it again when the gateway starts.
 */
function scriptSource(pool: RawPool, cwd: string): { readonly source: string } | { readonly error: string } {
  const inline = pool.policy?.script;
  const file = pool.policy?.scriptFile;
  if ((inline === undefined) === (file === undefined)) {
    return { error: 'route script needs exactly one of policy.script and policy.script_file' };
  }
  let source = inline;
  if (file !== undefined) {
    try {
      source = fs.readFileSync(resolve(cwd, file), 'utf8');
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'unreadable';
      return { error: `policy.script_file '${file}' cannot be read (${code})` };
    }
  }
  try {
    new Script(source!, { filename: 'policy.js' });
  } catch (err) {
    return { error: `policy script does not compile: ${err instanceof Error ? err.message : String(err)}` };
  }
  return { source: source! };
}

/** G-VAL-33, G-SEC-40: where a webhook policy is asked, or why it cannot be. */
function webhookTarget(url: string | undefined): WebhookTarget | { readonly error: string } {
  if (url === undefined) {
    return { error: 'route webhook needs policy.url: an http(s) URL, or unix:/path/to/socket' };
  }
  const text = url.trim();
  if (text.startsWith('unix:')) {
    const socketPath = text.slice('unix:'.length);
    if (!socketPath.startsWith('/')) {
      return { error: `policy.url '${text}': a Unix socket needs an absolute path (unix:/run/ranker.sock)` };
    }
    return { kind: 'unix', socketPath };
  }
  const problem = checkSinkUrl(text, { allowLoopbackHttp: true });
  if (problem !== undefined) return { error: `policy.url '${maskUrlUserinfo(text)}': ${problem}` };
  const parsed = new URL(text);
  if (parsed.username !== '' || parsed.password !== '') {
    // G-POL-10: the hook is asked without credentials.
    return { error: `policy.url '${maskUrlUserinfo(text)}': must not carry credentials` };
  }
  return { kind: 'http', url: parsed.toString() };
}

/**
 * The native policy a pool's `route` and `policy.name` select (an explicit name wins over a
 * shorthand route), undefined for weighted, or the reason the pair is invalid (G-VAL-34).
 */
function nativePolicy(pool: RawPool): NativePolicyName | undefined | { readonly error: string } {
  const route = pool.route ?? 'weighted';
  if (route === 'weighted' || route === 'webhook' || route === 'script') return undefined;
  const name = pool.policy?.name ?? (route === 'native' ? undefined : route);
  if (name === undefined)
    return { error: `route native needs policy.name: one of weighted, ${NATIVE_POLICIES.join(', ')}` };
  if (name === 'weighted') return undefined;
  if ((NATIVE_POLICIES as readonly string[]).includes(name)) return name as NativePolicyName;
  return {
    error: `policy.name '${name}' is not a native policy: use one of weighted, ${NATIVE_POLICIES.join(', ')}`,
  };
}
const HEADER_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export type ParsedOnExhausted =
  | { readonly ok: true; readonly value: OnExhausted }
  | { readonly ok: false; readonly reason: string };

/** §1.9 `on_exhausted.action` (absent = reject). */
export function parseOnExhausted(raw: string | undefined): ParsedOnExhausted {
  if (raw === undefined) return { ok: true, value: { action: 'reject' } };
  const text = raw.trim();
  const lower = text.toLowerCase();
  if (['reject', '503', 'status_503', 'status503'].includes(lower))
    return { ok: true, value: { action: 'reject' } };
  if (['least_bad', 'least-bad', 'leastbad'].includes(lower))
    return { ok: true, value: { action: 'least_bad' } };
  if (lower.startsWith('fallback_pool:')) {
    const pool = text.slice('fallback_pool:'.length).trim();
    if (pool === '') return { ok: false, reason: "'fallback_pool:' requires a non-empty pool name" };
    return { ok: true, value: { action: 'fallback_pool', pool } };
  }
  if (lower === 'fallback_pool') {
    return {
      ok: false,
      reason: "'fallback_pool' requires a pool name argument: use 'fallback_pool:<pool_name>'",
    };
  }
  if (lower === 'fallback' || lower === 'failover')
    return { ok: false, reason: "use 'fallback_pool:<pool_name>'" };
  return {
    ok: false,
    reason:
      `unknown on_exhausted action '${text}': valid values are reject, 503, status_503, status503, ` +
      'least_bad, least-bad, leastbad, fallback_pool:<pool_name>',
  };
}

export function onExhaustedError(pool: string, raw: string, reason: string): string {
  return `pool '${pool}' has invalid on_exhausted action '${raw}': ${reason}`;
}

export interface PoolContext {
  readonly models: ReadonlyMap<string, RawModel>;
  readonly activated: ReadonlySet<string>;
  readonly pools: ReadonlyMap<string, RawPool>;
  /** Where relative paths (script_file) are resolved. */
  readonly cwd: string;
}

/** G-VAL-21…30 and 32 for one pool (cycles: fallbackCycles). */
export function poolErrors(name: string, pool: RawPool, ctx: PoolContext): string[] {
  const who = `pool '${name}'`;
  const errors: string[] = [];
  if (pool.members.length === 0) errors.push(`${who} has no members`);
  for (const m of pool.members) {
    const model = ctx.models.get(m.target);
    if (model === undefined) errors.push(`${who} references unknown model '${m.target}'`);
    else if (!ctx.activated.has(model.provider)) {
      errors.push(
        `${who} references model '${m.target}' whose provider '${model.provider}' is not configured under providers:`,
      );
    }
  }
  const b = pool.breaker;
  const base = b?.baseCooldownSecs ?? 15;
  const max = b?.maxCooldownSecs ?? 120;
  if (base === 0) errors.push(`${who} breaker.base_cooldown_secs must be >= 1`);
  if (max === 0) errors.push(`${who} breaker.max_cooldown_secs must be >= 1`);
  if (base > 0 && max > 0 && max < base) {
    errors.push(`${who} breaker.max_cooldown_secs (${max}) must be >= base_cooldown_secs (${base})`);
  }
  if (b?.minRequests === 0) errors.push(`${who} breaker.trip.min_requests must be >= 1`);
  if (b?.windowS === 0) errors.push(`${who} breaker.trip.window_s must be >= 1`);
  const mode = b?.tripMode ?? 'error_rate';
  const threshold = b?.threshold ?? 0.5;
  if (mode === 'error_rate' && !(threshold > 0 && threshold <= 1)) {
    errors.push(`${who} breaker.trip.threshold must be in (0.0, 1.0] for mode error_rate (got ${threshold})`);
  }
  if (mode === 'consecutive' && b?.n === 0)
    errors.push(`${who} breaker.trip.n must be >= 1 for mode consecutive`);
  if (pool.deadlineSecs === 0) errors.push(`${who} failover.deadline_secs must be >= 1`);
  if (pool.attemptTimeoutMs === 0) errors.push(`${who} failover.attempt_timeout_ms must be >= 1`);
  for (const tooLong of [
    timerRangeError(`${who} failover.deadline_secs`, pool.deadlineSecs, 1000),
    timerRangeError(`${who} failover.attempt_timeout_ms`, pool.attemptTimeoutMs, 1),
  ])
    if (tooLong !== undefined) errors.push(tooLong);
  const memberNames = new Set(pool.members.map((m) => m.target));
  for (const ex of pool.exclusions ?? []) {
    if (!memberNames.has(ex))
      errors.push(`${who} failover.exclusions names '${ex}', which is not a member of the pool`);
  }
  const parsed = parseOnExhausted(pool.onExhaustedAction);
  if (parsed.ok && parsed.value.action === 'fallback_pool') {
    const target = parsed.value.pool;
    if (target === name) {
      errors.push(
        `${who} on_exhausted fallback_pool:${target} references the pool itself; a self-reference never engages`,
      );
    } else if (!ctx.pools.has(target)) {
      errors.push(`${who} on_exhausted fallback_pool:${target} names an unknown pool '${target}'`);
    }
  }
  const policy = nativePolicy(pool);
  if (typeof policy === 'object') errors.push(`${who} ${policy.error}`);
  if (pool.route === 'webhook') {
    const target = webhookTarget(pool.policy?.url);
    if ('error' in target) errors.push(`${who} ${target.error}`);
  }
  if (pool.route === 'script') {
    const script = scriptSource(pool, ctx.cwd);
    if ('error' in script) errors.push(`${who} ${script.error}`);
  }
  const onError = pool.policy?.onError;
  if (onError !== undefined && !ON_ERROR.includes(onError)) {
    errors.push(`${who} policy.on_error '${onError}' is not one of ${ON_ERROR.join(', ')}`);
  }
  pool.members.forEach((m, i) => {
    const cost = m.costPerMtok;
    if (cost !== undefined && !(Number.isFinite(cost) && cost >= 0)) {
      errors.push(`${who} members[${i}].cost_per_mtok must be a number >= 0 (got ${cost})`);
    }
  });
  if (pool.affinityMode !== undefined && pool.affinityMode.trim().toLowerCase() !== 'session') {
    errors.push(`${who} affinity.mode '${pool.affinityMode}' is not supported: the only mode is 'session'`);
  }
  if (pool.affinityHeader !== undefined && !HEADER_TOKEN.test(pool.affinityHeader.trim())) {
    errors.push(`${who} affinity.header_name '${pool.affinityHeader}' is not a valid HTTP header name`);
  }
  return errors;
}

/** G-VAL-31: each fallback cycle once, starting at its first pool in file order: `a -> b -> a`. */
export function fallbackCycles(pools: ReadonlyMap<string, RawPool>): string[] {
  const next = new Map<string, string>();
  for (const [name, pool] of pools) {
    const parsed = parseOnExhausted(pool.onExhaustedAction);
    if (parsed.ok && parsed.value.action === 'fallback_pool') {
      const target = parsed.value.pool;
      if (target !== name && pools.has(target)) next.set(name, target);
    }
  }
  const done = new Set<string>();
  const errors: string[] = [];
  for (const start of pools.keys()) {
    const path: string[] = [];
    const onPath = new Map<string, number>();
    let cur: string | undefined = start;
    while (cur !== undefined && !done.has(cur) && !onPath.has(cur)) {
      onPath.set(cur, path.length);
      path.push(cur);
      cur = next.get(cur);
    }
    if (cur !== undefined && onPath.has(cur)) {
      const cycle = path.slice(onPath.get(cur));
      errors.push(`on_exhausted fallback_pool chain forms a cycle: ${[...cycle, cycle[0]].join(' -> ')}`);
    }
    for (const p of path) done.add(p);
  }
  return errors;
}

function buildBreaker(pool: RawPool): BreakerConfig {
  const b = pool.breaker;
  const windowS = b?.windowS ?? 30;
  const minRequests = b?.minRequests ?? 5;
  return Object.freeze({
    baseCooldownSecs: b?.baseCooldownSecs ?? 15,
    maxCooldownSecs: b?.maxCooldownSecs ?? 120,
    trip: Object.freeze(
      (b?.tripMode ?? 'error_rate') === 'error_rate'
        ? { mode: 'error_rate' as const, windowS, threshold: b?.threshold ?? 0.5, minRequests }
        : { mode: 'consecutive' as const, windowS, n: b?.n ?? 3, minRequests },
    ),
  });
}

/**
 * Builds the frozen pool; call only after validation passed and on_exhausted parsed.
 * `defaultDeadlineSecs`: the deadline when the pool sets no `failover.deadline_secs` (limits:).
 */
export function buildPool(
  name: string,
  pool: RawPool,
  onExhausted: OnExhausted,
  cwd: string,
  defaultDeadlineSecs: number,
): PoolConfig {
  const members: PoolMemberConfig[] = pool.members.map((m) =>
    Object.freeze({
      target: m.target,
      weight: m.weight ?? 1,
      contextMax: m.contextMax,
      costPerMtok: m.costPerMtok,
      tier: m.tier,
      tags: Object.freeze([...(m.tags ?? [])]),
    }),
  );
  return Object.freeze({
    name,
    members: Object.freeze(members),
    breaker: buildBreaker(pool),
    failover: Object.freeze({
      deadlineSecs: pool.deadlineSecs ?? defaultDeadlineSecs,
      attemptTimeoutMs: pool.attemptTimeoutMs,
      cap: pool.cap ?? 3,
      exclusions: Object.freeze([...new Set(pool.exclusions ?? [])]),
    }),
    onExhausted: Object.freeze(onExhausted),
    affinityHeader: (pool.affinityHeader?.trim() || DEFAULT_AFFINITY_HEADER).toLowerCase(),
    policy: buildPolicy(pool, cwd),
  });
}

/** The pool's routing policy; call only after validation passed. */
function buildPolicy(pool: RawPool, cwd: string): RoutePolicyConfig | undefined {
  const timeoutMs = pool.policy?.timeoutMs || DEFAULT_POLICY_TIMEOUT_MS;
  const onErrorRaw = pool.policy?.onError ?? 'weighted';
  const onError = (onErrorRaw === 'abstain' ? 'weighted' : onErrorRaw) as PolicyOnError;
  if (pool.route === 'script') {
    const script = scriptSource(pool, cwd);
    if ('error' in script) throw new Error(script.error);
    return Object.freeze({ kind: 'script', source: script.source, timeoutMs, onError });
  }
  if (pool.route === 'webhook') {
    const target = webhookTarget(pool.policy?.url);
    if ('error' in target) throw new Error(target.error);
    return Object.freeze({
      kind: 'webhook',
      target: Object.freeze(target),
      timeoutMs,
      onError,
      sendPrompt: pool.policy?.sendPrompt ?? false,
    });
  }
  const native = nativePolicy(pool);
  return typeof native === 'string' ? Object.freeze({ kind: 'native', name: native }) : undefined;
}
