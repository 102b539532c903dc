// The inference request lifecycle as explicit, ordered stages over one RequestContext:
//   authenticate → shed → read → guard → resolve → admit → order members + attempt hops + deliver → finish.
// Each stage either passes the context on or ends the request with an outcome code; whatever the
// path, Finish.emit runs exactly once. A later feature adds an admission stage or a finish
// listener; it does not edit this file's flow. With no admission stages configured, the loop over
// them costs nothing.

import { isUtf8 } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Authenticator } from '../auth/principal.ts';
import { log } from '../log.ts';
import { EDGES } from '../protocols/registry.ts';
import type { Operation } from '../protocols/routes.ts';
import type { Resolution, RoutingTable } from '../routing/table.ts';
import type { OriginPools } from '../upstream/origins.ts';
import {
  type BodyBudget,
  type BodyPace,
  declaredTooLarge,
  discardBody,
  lingeringClose,
  readBody,
} from './body.ts';
import { type IngressRoute, RequestContext } from './context.ts';
import { Failover } from './failover.ts';
import type { Finish, OutcomeCode } from './finish.ts';
import { scanJson, spanIsTrue, spanString } from './json-scan.ts';
import { errorInfo, sendError } from './respond.ts';

const TOO_LARGE = 'request body exceeds the maximum allowed size';
const BAD_JSON = 'We could not parse the JSON body of your request.';
const BAD_UTF8 = 'The request body is not valid UTF-8.';
const TOO_SLOW = 'The request body arrived too slowly.';
const BUSY = 'The service is temporarily overloaded. Please retry shortly.';
/** How much of an oversized body (at least; twice the cap when larger) is read and dropped before the 413. */
const OVERSIZE_DRAIN_BYTES = 64 * 1024 * 1024;
/** After refusing a credential, at most this much of the body is read before the connection closes. */
const REFUSED_DRAIN_BYTES = 1024 * 1024;
/** Either drain ends here: a body that trickles cannot hold the socket. */
const DRAIN_MS = 10_000;

/**
 * A stage between resolution and the first upstream attempt (governance admission, policies).
 * It returns undefined to let the request on, or ends it: writes the client's answer itself and
 * returns the outcome code.
 */
export interface AdmissionStage {
  admit(ctx: RequestContext): OutcomeCode | undefined | Promise<OutcomeCode | undefined>;
}

export interface PipelineParts {
  readonly table: RoutingTable;
  readonly authenticator: Authenticator;
  readonly finish: Finish;
  readonly origins: OriginPools;
  /** Stages that run before the name is resolved (governance: G-GOV-8 guards precede resolution). */
  readonly guards?: readonly AdmissionStage[];
  readonly admission?: readonly AdmissionStage[];
  /** How fast request bodies must arrive (limits:). */
  readonly pace: BodyPace;
  /** The bytes of request bodies held at once (limits: max_buffered_body_bytes). */
  readonly bodies: BodyBudget;
  /** Called as each request starts, before anything is answered (observability's response headers). */
  readonly begin?: readonly ((ctx: RequestContext) => void)[];
  /** Requests in progress at once (limits:), shared by the pipelines of every reload. */
  readonly inbound?: InboundSlots;
}

/**
 * Requests between their authentication and their finish (limits: max_inbound_concurrent); past
 * `max` (0 = no cap) new ones are shed at once. One count for the process: the pipeline of a
 * reloaded config shares it with the requests the previous one still serves. A caller without a
 * credential never holds one, so it cannot shed the others by holding sockets.
 */
export class InboundSlots {
  readonly max: number;
  inFlight = 0;

  constructor(max: number) {
    this.max = max;
  }
}

export class InferencePipeline {
  readonly #table: RoutingTable;
  readonly #authenticator: Authenticator;
  readonly #finish: Finish;
  readonly #origins: OriginPools;
  readonly #guards: readonly AdmissionStage[];
  readonly #admission: readonly AdmissionStage[];
  readonly #failover: Failover;
  readonly #pace: BodyPace;
  readonly #bodies: BodyBudget;
  readonly #begin: readonly ((ctx: RequestContext) => void)[];
  readonly #inbound: InboundSlots;

  constructor(parts: PipelineParts) {
    this.#table = parts.table;
    this.#authenticator = parts.authenticator;
    this.#finish = parts.finish;
    this.#origins = parts.origins;
    this.#guards = parts.guards ?? [];
    this.#admission = parts.admission ?? [];
    this.#failover = new Failover(parts.table);
    this.#pace = parts.pace;
    this.#bodies = parts.bodies;
    this.#begin = parts.begin ?? [];
    this.#inbound = parts.inbound ?? new InboundSlots(0);
  }

  /** The process's count of requests in progress (shown in /stats). */
  get inbound(): InboundSlots {
    return this.#inbound;
  }

  /** Serves one inference request to its end. Never rejects: a defect becomes a native 500. */
  async serve(req: IncomingMessage, res: ServerResponse, route: IngressRoute, query: string): Promise<void> {
    const ctx = new RequestContext({
      req,
      res,
      route,
      query,
      edge: EDGES[route.protocol],
      origins: this.#origins,
      clock: this.#table.clock,
    });
    res.once('close', ctx.onClose);
    for (const begin of this.#begin) begin(ctx);
    let outcome: OutcomeCode;
    const slot = { held: false };
    try {
      outcome = await this.#run(ctx, slot);
    } catch (err) {
      // Caught at the request boundary: the client gets a native 500 (or, mid-answer, a closed
      // connection), the permit goes back, and finish still runs.
      log.error(
        { err: err instanceof Error ? err.message : String(err), path: pathOnly(req.url) },
        'request failed',
      );
      sendError(
        res,
        ctx.edge,
        errorInfo('api_error', 500, 'The server had an error while processing your request.'),
      );
      ctx.releasePermit();
      outcome = 'internal_error';
    }
    if (slot.held) this.#inbound.inFlight--;
    this.#finish.emit(ctx, outcome);
    this.#bodies.give(ctx.body.length);
  }

  /** `slot.held` is set once the request counts against `max_inbound_concurrent`. */
  async #run(ctx: RequestContext, slot: { held: boolean }): Promise<OutcomeCode> {
    const { req, res, edge, route } = ctx;
    if (declaredTooLarge(req, this.#pace.maxBytes)) return refuseTooLarge(ctx, this.#pace.maxBytes);

    // authenticate: the caller becomes a principal, or is refused.
    // `?key=` counts only on routes whose protocol carries keys there (Gemini's).
    const principal = this.#authenticator.authenticate(req.headers, edge.keyInQuery ? ctx.query : '', req);
    if (principal === undefined) {
      sendError(res, edge, edge.authFailure());
      // Nothing of an unauthenticated body is kept, and only a little of it is read.
      void discardBody(req, REFUSED_DRAIN_BYTES, DRAIN_MS);
      return 'unauthorized';
    }
    ctx.principal = principal;

    // shed: past max_inbound_concurrent at once, before the body is read (never a queue).
    const inbound = this.#inbound;
    if (inbound.max > 0 && inbound.inFlight >= inbound.max) return shedLoad(ctx);
    slot.held = true;
    inbound.inFlight++;

    // read: the body under its cap, one validating scan for the fields routing needs.
    const body = await readBody(req, this.#pace, this.#bodies);
    if (body === 'aborted') return 'client_gone';
    if (body === 'no_memory') {
      sendError(res, edge, errorInfo('overloaded', 503, BUSY, 1));
      void discardBody(req, REFUSED_DRAIN_BYTES, DRAIN_MS);
      return 'body_budget';
    }
    if (body === 'too_large') return refuseTooLarge(ctx, this.#pace.maxBytes);
    if (body === 'too_slow') {
      sendError(res, edge, errorInfo('timeout', 408, TOO_SLOW));
      lingeringClose(req);
      return 'body_too_slow';
    }
    // Held (and counted in the body budget) until the request finishes.
    ctx.body = body;
    // A signature over the body (SigV4) is checked now that the body is here.
    if (principal.kind === 'signed') {
      const confirmed = principal.confirm(body);
      if (confirmed === undefined) {
        sendError(res, edge, edge.authFailure());
        return 'unauthorized';
      }
      ctx.principal = confirmed;
    }
    // JSON text is UTF-8 (RFC 8259 §8.1): anything else is refused, never passed on or repaired.
    if (!isUtf8(body)) {
      sendError(res, edge, errorInfo('invalid_request_error', 400, BAD_UTF8));
      return 'bad_request';
    }
    const unreadable = readRoutingFields(ctx);
    if (unreadable !== undefined) return unreadable;

    // guard: stages that decide on the requested name alone (a restricted key asking for an
    // unknown name gets 403, not 404).
    for (const stage of this.#guards) {
      const verdict = stage.admit(ctx);
      // A stage that decides at once costs no microtask.
      const refused = verdict instanceof Promise ? await verdict : verdict;
      if (refused !== undefined) return refused;
    }

    // resolve: the name to a pool or a model's direct route.
    const resolution = this.#resolve(ctx);
    if (resolution.kind === 'not_found') {
      sendError(res, edge, edge.modelNotFound(ctx.name));
      return 'unknown_model';
    }
    if (resolution.kind === 'provider_mismatch') {
      log.info({ path: pathOnly(req.url) }, 'ad-hoc route names a model configured on another provider');
      sendError(res, edge, { ...edge.modelNotFound(ctx.name), kind: 'invalid_request_error', status: 400 });
      return 'unknown_model';
    }
    const target = resolution.target;
    if (target.mode !== route.operation) {
      sendError(
        res,
        edge,
        errorInfo('invalid_request_error', 400, wrongMode(ctx.name, target.mode, route.operation)),
      );
      return 'bad_request';
    }
    ctx.target = target;
    ctx.deadline = ctx.clock.nowMs() + target.deadlineMs;

    // admit: stages that may refuse before any upstream is tried.
    for (const stage of this.#admission) {
      const verdict = stage.admit(ctx);
      const refused = verdict instanceof Promise ? await verdict : verdict;
      if (refused !== undefined) return refused;
    }

    // order members, attempt hops, deliver.
    return this.#failover.serve(ctx, target);
  }

  #resolve(ctx: RequestContext): Resolution {
    const direct = this.#table.resolve(ctx.name);
    const { route } = ctx;
    // `/{provider}/{model}/v1/messages` when the whole name is not itself a pool or model.
    if (direct.kind === 'not_found' && route.adhoc && route.pathName !== undefined) {
      const slash = ctx.name.indexOf('/');
      if (slash > 0) return this.#table.resolveAdhoc(ctx.name.slice(0, slash), ctx.name.slice(slash + 1));
    }
    return direct;
  }
}

const OPERATION_NOUNS: Readonly<Record<Operation, string>> = {
  chat: 'chat',
  embedding: 'embeddings',
  rerank: 'rerank',
};

/** A name that serves another operation than the route's (a chat call to an embedding model). */
function wrongMode(name: string, serves: Operation, asked: Operation): string {
  return `'${name}' serves ${OPERATION_NOUNS[serves]} requests, not ${OPERATION_NOUNS[asked]}; send it to its ${OPERATION_NOUNS[serves]} endpoint.`;
}

/**
 * Over `max_inbound_concurrent`: the protocol's native 503 at once, never a queue; the body is
 * drained a little so the client can read the answer.
 */
function shedLoad(ctx: RequestContext): OutcomeCode {
  sendError(ctx.res, ctx.edge, errorInfo('overloaded', 503, BUSY, 1));
  void discardBody(ctx.req, REFUSED_DRAIN_BYTES, DRAIN_MS);
  return 'shed';
}

/** A URL for the log: never the query, which may carry a credential (`?key=`, G-SEC-50). */
function pathOnly(url: string | undefined): string {
  const q = url?.indexOf('?') ?? -1;
  return q < 0 ? (url ?? '') : url!.slice(0, q);
}

/** The scan, the requested name and the stream intent; an outcome when the body cannot route. */
function readRoutingFields(ctx: RequestContext): OutcomeCode | undefined {
  const { body, res, edge, route } = ctx;
  const scan = scanJson(body);
  if (typeof scan === 'string') {
    sendError(res, edge, errorInfo('invalid_request_error', 400, BAD_JSON));
    return 'bad_request';
  }
  if (!scan.isObject && edge.modelIn === 'path') {
    sendError(res, edge, errorInfo('invalid_request_error', 400, 'Request body must be a JSON object.'));
    return 'bad_request';
  }
  const name = route.pathName ?? (scan.isObject ? spanString(body, scan.model) : undefined);
  if (!name) {
    sendError(res, edge, errorInfo('invalid_request_error', 400, "Missing required parameter: 'model'."));
    return 'bad_request';
  }
  ctx.scan = scan;
  ctx.name = name;
  ctx.stream = route.routeStream ?? spanIsTrue(body, scan.stream);
  return undefined;
}

/**
 * The 413 goes out once the client has finished sending (up to a bound): answering while it still
 * sends, on a connection that then closes, loses the answer under the client (EPIPE).
 */
async function refuseTooLarge(ctx: RequestContext, maxBytes: number): Promise<OutcomeCode> {
  const answer = (): void => {
    if (!ctx.res.headersSent) sendError(ctx.res, ctx.edge, errorInfo('request_too_large', 413, TOO_LARGE));
  };
  const drain = Math.max(OVERSIZE_DRAIN_BYTES, 2 * maxBytes);
  if ((await discardBody(ctx.req, drain, DRAIN_MS, answer)) === 'ended') answer();
  return 'body_too_large';
}
