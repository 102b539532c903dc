// Active health probing (G-HLT-1…6): one background loop per probing lane sends the protocol's
// one-token request with the lane's own key and feeds the outcome to every cell of the lane and
// to its ledger account (probes are not requests: they never pass the request finish).

import type { ModelConfig } from '../config/types.ts';
import type { LaneAccount } from '../ledger/ledger.ts';
import { line } from '../log.ts';
import { CODECS } from '../protocols/codecs.ts';
import type { JsonObject, JsonValue } from '../protocols/ir.ts';
import type { Protocol } from '../protocols/names.ts';
import { EMBED_CODECS, RERANK_CODECS } from '../protocols/operation-codecs.ts';
import type { Operation } from '../protocols/routes.ts';
import { callUpstream } from '../upstream/call.ts';
import type { UpstreamEndpoint } from '../upstream/endpoint.ts';
import type { OriginPools } from '../upstream/origins.ts';
import type { BreakerCell } from './breaker.ts';
import type { Clock } from './clock.ts';
import { classifyStatus, dispositionOf, parseRetryAfter } from './disposition.ts';

/** What a prober needs of a lane (routing's Lane has it all). */
export interface ProbedLane {
  readonly name: string;
  readonly model: ModelConfig;
  readonly upstream: UpstreamEndpoint;
  readonly clock: Clock;
  readonly account: LaneAccount;
  cells(): BreakerCell[];
  hardDown(reason: string): void;
}

/** Probe error bodies are read up to this size (G-SEC-20). */
const MAX_PROBE_ERROR_BODY = 64 * 1024;

type ProbeOutcome =
  | { kind: 'ok' }
  | { kind: 'transient'; retryAfter: number | undefined }
  | { kind: 'hard_down' }
  | { kind: 'ignored' };

/** P-PRB-1: a minimal request of the operation the lane serves (a chat probe to an embedding model fails). */
function probeBody(protocol: Protocol, operation: Operation, model: string): JsonObject {
  if (operation === 'embedding') return EMBED_CODECS[protocol]!.probeBody(model);
  if (operation === 'rerank') return RERANK_CODECS[protocol]!.probeBody(model);
  return CODECS[protocol].probeBody(model);
}

export class HealthProber {
  readonly #lane: ProbedLane;
  readonly #origins: OriginPools;
  readonly #timer: NodeJS.Timeout;
  #running = false;

  constructor(lane: ProbedLane, origins: OriginPools) {
    this.#lane = lane;
    this.#origins = origins;
    const health = lane.model.provider.health;
    // The first tick is one interval after startup; a tick that finds a probe running is skipped.
    this.#timer = setInterval(() => void this.tick(), Math.max(1, health.intervalSecs) * 1000);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #suppressedAnywhere(): boolean {
    const now = this.#lane.clock.nowSecs();
    return this.#lane.cells().some((c) => c.suppressed(now));
  }

  async tick(): Promise<void> {
    if (this.#running) return;
    if (this.#lane.model.provider.health.mode === 'dead' && !this.#suppressedAnywhere()) return;
    this.#running = true;
    try {
      const observed = new Map(this.#lane.cells().map((c) => [c, c.cooldownUntil]));
      const outcome = await this.#probe();
      this.#apply(outcome, observed);
    } finally {
      this.#running = false;
    }
  }

  async #probe(): Promise<ProbeOutcome> {
    const lane = this.#lane;
    const timeoutMs = Math.max(1, lane.model.provider.health.timeoutSecs) * 1000;
    const operation = lane.model.mode;
    const body = Buffer.from(
      JSON.stringify(probeBody(lane.upstream.protocol, operation, lane.model.upstreamModel)),
    );
    const res = callUpstream(this.#origins, lane.upstream, {
      body,
      operation,
      stream: false,
      framing: undefined,
      passthroughCredential: false,
      clientHeaders: undefined,
      timeoutMs,
    });
    // The exchange's ceiling ends the whole probe, error body included, by the timeout.
    try {
      if (!(await res.head)) return { kind: 'transient', retryAfter: undefined };
      const status = res.statusCode;
      if (status >= 200 && status < 300) {
        res.discard();
        return { kind: 'ok' };
      }
      const { bytes } = await res.readCapped(MAX_PROBE_ERROR_BODY);
      let parsed: JsonValue | undefined;
      try {
        parsed = JSON.parse(bytes.toString()) as JsonValue;
      } catch {
        parsed = undefined;
      }
      const facts = lane.upstream.edge.readError(status, parsed, res.headers as Record<string, string>);
      switch (dispositionOf(classifyStatus(status, facts, lane.model.provider.errorMap))) {
        case 'transient':
          return {
            kind: 'transient',
            retryAfter: parseRetryAfter(res.headers['retry-after'], this.#origins.limits.maxRetryAfterSecs),
          };
        case 'hard_down':
          return { kind: 'hard_down' };
        case 'client_fault':
        case 'context_length':
          return { kind: 'ignored' };
      }
    } catch {
      return { kind: 'transient', retryAfter: undefined };
    }
  }

  #apply(outcome: ProbeOutcome, observed: ReadonlyMap<object, number>): void {
    const lane = this.#lane;
    switch (outcome.kind) {
      case 'ok': {
        if (this.#suppressedAnywhere()) {
          for (const cell of lane.cells()) cell.recover(observed.get(cell) ?? 0);
          line('info', `lane ${lane.name} recovered via health probe`);
        }
        for (const cell of lane.cells()) cell.recordSuccess();
        lane.account.count('ok');
        return;
      }
      case 'transient':
        for (const cell of lane.cells()) cell.recordFailure(outcome.retryAfter);
        lane.account.count('err');
        return;
      case 'hard_down':
        lane.hardDown('health-probe hard-down (auth/billing)');
        return;
      case 'ignored':
        return;
    }
  }
}

/** One prober per lane whose provider asks for it and has a key (G-HLT-1). */
export function startHealthProbers(lanes: Iterable<ProbedLane>, origins: OriginPools): HealthProber[] {
  const probers: HealthProber[] = [];
  for (const lane of lanes) {
    const provider = lane.model.provider;
    if (provider.health.mode === 'none' || provider.apiKey === '') continue;
    probers.push(new HealthProber(lane, origins));
  }
  return probers;
}
