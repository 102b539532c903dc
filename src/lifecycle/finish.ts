// The one place a request's end is recorded. Every way an inference request ends — delivered,
// exhausted, refused before any upstream, the client leaving, a failure in transit — reaches
// `Finish.emit` exactly once with a closed outcome code; counters, /stats and (later) metrics,
// spend, traces and the request log subscribe here and nowhere else.

import { log } from '../log.ts';
import type { RequestContext } from './context.ts';

/** Stable outcome codes: metric labels, span status and log fields. Message text is for people. */
export type OutcomeCode =
  /** The answer reached the client whole. */
  | 'delivered'
  /** An upstream error answer was passed to the client (the caller's fault, or a degraded hop). */
  | 'upstream_error'
  /** No member could answer: every one failed, was cooling down or had no permit (503). */
  | 'exhausted'
  /** The request's deadline passed before an answer (503). */
  | 'deadline'
  /** The upstream refused the gateway's own key (the lane went hard-down). */
  | 'upstream_auth'
  /** The caller's credential was refused. */
  | 'unauthorized'
  /** The caller's virtual key may not use the requested name (governance ACL, 403). */
  | 'forbidden'
  /** The caller's virtual key passed its RPM or TPM limit (429). */
  | 'rate_limited'
  /** The caller's virtual key has no budget left for the request (429; Bedrock 400). */
  | 'over_budget'
  /** The requested name is no configured pool or model. */
  | 'unknown_model'
  /** The body was not JSON, not an object, or named no model. */
  | 'bad_request'
  /** The body could not be read as a request of its protocol (translation impossible). */
  | 'unreadable_request'
  /** The body passed the size cap. */
  | 'body_too_large'
  /** The body arrived slower than `limits:` allows; the connection was closed. */
  | 'body_too_slow'
  /** The body did not fit the budget of buffered request bodies (503 with Retry-After). */
  | 'body_budget'
  /** More requests were in progress than `limits: max_inbound_concurrent` allows (503 with Retry-After). */
  | 'shed'
  /** The upstream failed after the first byte reached the client. */
  | 'upstream_interrupted'
  /** A translated answer passed the gateway's size cap. */
  | 'response_too_large'
  /** A routing policy refused the request: the hook's own reject, or on_error: reject (G-POL-5). */
  | 'policy_rejected'
  /** The client went away before the answer was complete. */
  | 'client_gone'
  /** A defect inside the gateway; the client got a native 500. */
  | 'internal_error';

export type FinishListener = (ctx: RequestContext, outcome: OutcomeCode) => void;

export class Finish {
  readonly #listeners: FinishListener[] = [];

  subscribe(listener: FinishListener): void {
    this.#listeners.push(listener);
  }

  /** Reports the end of `ctx` to every listener; a second call for the same request is ignored. */
  emit(ctx: RequestContext, outcome: OutcomeCode): void {
    if (ctx.outcome !== undefined) return;
    ctx.outcome = outcome;
    ctx.endedAt = performance.now();
    for (const listener of this.#listeners) {
      try {
        listener(ctx, outcome);
      } catch (err) {
        // A listener's defect must not stop the others or the request path.
        log.error(
          { err: err instanceof Error ? err.message : String(err), outcome },
          'finish listener failed',
        );
      }
    }
  }
}
