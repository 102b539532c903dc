// Routing policies (G-POL-1…9): a pool's preferred member order for one request, decided once before
// the first hop and walked by the pick (§2.8 step 4) ahead of SWRR. A policy only prefers: unranked
// and unready members stay reachable through SWRR, and it never marks a lane healthy. A weighted
// pool has no policy object at all (G-POL-1).
//
// The native policies rank by one signal each, read at decision time; the sort is stable over the
// candidates in lane-index order, so ties go to the lower index, and candidates without the signal
// follow the ones with it (demoted, never dropped). When no candidate has the signal, the policy
// abstains and the pick is plain SWRR.

import type { NativePolicyName, PolicyOnError, RoutePolicyConfig, WebhookTarget } from '../config/types.ts';
import type { ScriptSandbox } from '../policy/script-sandbox.ts';
import type { Member } from './table.ts';

/** What a decision reads from the request (G-POL signals that are not per member). */
export interface PolicyInput {
  /** The caller's virtual-key rate headroom in [0, 1] (G-GOV-17); undefined without one. */
  readonly rateHeadroom: number | undefined;
}

/** A native policy: synchronous, no I/O (G-POL-9). */
export interface NativePolicy {
  readonly kind: 'native';
  /** The name in `x-busbar-route-policy` and the `policy` metric label (G-POL-6, G-POL-7). */
  readonly name: NativePolicyName;
  /** The preferred order for one request, or undefined to abstain. */
  order(input: PolicyInput): readonly Member[] | undefined;
}

/** A webhook policy: the operator's service orders the candidates (G-POL-10…13); asked by lifecycle. */
export interface WebhookPolicy {
  readonly kind: 'webhook';
  readonly name: 'webhook';
  /** Where the hook is asked: a Unix socket, or an origin; the path POSTed to. */
  readonly endpoint: {
    readonly socketPath: string | undefined;
    readonly origin: string;
    readonly path: string;
  };
  readonly timeoutMs: number;
  readonly onError: PolicyOnError;
  readonly sendPrompt: boolean;
  /** G-POL-3: the members minus the configured exclusions, in member order. */
  readonly candidates: readonly Member[];
  /** Decisions in flight for this pool (G-POL-13). */
  inFlight: number;
}

/** A script policy: the operator's JavaScript orders the candidates in a sandbox (G-POL-14…18). */
export interface ScriptPolicy {
  readonly kind: 'script';
  readonly name: 'script';
  readonly source: string;
  readonly timeoutMs: number;
  readonly onError: PolicyOnError;
  readonly candidates: readonly Member[];
  /** Compiled when the gateway starts (gateway.ts); until then every decision fails. */
  sandbox: ScriptSandbox | undefined;
}

export type RoutePolicy = NativePolicy | WebhookPolicy | ScriptPolicy;

function endpointOf(target: WebhookTarget): WebhookPolicy['endpoint'] {
  if (target.kind === 'unix') return { socketPath: target.socketPath, origin: '', path: '/' };
  const url = new URL(target.url);
  return { socketPath: undefined, origin: url.origin, path: `${url.pathname}${url.search}` };
}

/** A pool's policy object from its configuration, or undefined when it could never order anything. */
export function routePolicy(config: RoutePolicyConfig, members: readonly Member[]): RoutePolicy | undefined {
  if (config.kind === 'native') return nativeRoutePolicy(config.name, members);
  const candidates = members.filter((m) => !m.excluded);
  if (candidates.length === 0) return undefined;
  if (config.kind === 'script') {
    return {
      kind: 'script',
      name: 'script',
      source: config.source,
      timeoutMs: config.timeoutMs,
      onError: config.onError,
      candidates,
      sandbox: undefined,
    };
  }
  return {
    kind: 'webhook',
    name: 'webhook',
    endpoint: endpointOf(config.target),
    timeoutMs: config.timeoutMs,
    onError: config.onError,
    sendPrompt: config.sendPrompt,
    candidates,
    inFlight: 0,
  };
}

/** Candidates in lane-index order, each with its signal value (undefined: no signal). */
function ranked(
  candidates: readonly Member[],
  signal: (m: Member) => number | undefined,
  descending: boolean,
): Member[] | undefined {
  const valued: { readonly member: Member; readonly value: number }[] = [];
  const without: Member[] = [];
  for (const member of candidates) {
    const value = signal(member);
    if (value === undefined) without.push(member);
    else valued.push({ member, value });
  }
  if (valued.length === 0) return undefined;
  // Array.prototype.sort is stable: equal values keep lane-index order.
  valued.sort(descending ? (a, b) => b.value - a.value : (a, b) => a.value - b.value);
  const order = valued.map((v) => v.member);
  for (const member of without) order.push(member);
  return order;
}

/**
 * The native policy `name` over a pool's members, or undefined when it could never order anything
 * (no candidates, or `cheapest` with no member priced): such a pool routes by weight at no cost.
 */
export function nativeRoutePolicy(
  name: NativePolicyName,
  members: readonly Member[],
): NativePolicy | undefined {
  // G-POL-3: the candidates are the members minus the configured exclusions.
  const candidates = members.filter((m) => !m.excluded).sort((a, b) => a.lane.index - b.lane.index);
  if (candidates.length === 0) return undefined;
  switch (name) {
    case 'cheapest': {
      // Prices come from configuration: the order is the same for every request.
      const order = ranked(candidates, (m) => m.costPerMtok, false);
      return order === undefined ? undefined : { kind: 'native', name, order: () => order };
    }
    case 'fastest':
      return {
        kind: 'native',
        name,
        order: () => ranked(candidates, (m) => m.lane.account.latencyMs(), false),
      };
    case 'least_busy':
      return { kind: 'native', name, order: () => ranked(candidates, (m) => m.lane.permits.free, true) };
    case 'usage': {
      // The headroom is the caller's, the same for every candidate: with it, lane-index order.
      return {
        kind: 'native',
        name,
        order: (input) => (input.rateHeadroom === undefined ? undefined : candidates),
      };
    }
  }
}
