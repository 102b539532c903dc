// One upstream attempt for one lane: build the upstream request from the client's original body
// (spliced on a same-protocol hop, translated otherwise), send it, and classify what came back.
// Nothing reaches the client here, so the caller can still fail over.

import type { IncomingHttpHeaders } from 'node:http';
import { upstreamCredential } from '../auth/principal.ts';
import type { ErrorClass } from '../config/types.ts';
import { log } from '../log.ts';
import type { UpstreamErrorFacts } from '../protocols/codec.ts';
import { InvalidRequest } from '../protocols/expect.ts';
import type { JsonValue } from '../protocols/ir.ts';
import { EMBED_CODECS } from '../protocols/operation-codecs.ts';
import {
  classifyStatus,
  type Disposition,
  dispositionOf,
  parseRetryAfter,
} from '../reliability/disposition.ts';
import type { Lane } from '../routing/lane.ts';
import { callUpstream } from '../upstream/call.ts';
import type { UpstreamExchange } from '../upstream/exchange.ts';
import type { RequestContext } from './context.ts';
import { applyEdits, type Edit, insertion, spanString } from './json-scan.ts';
import { translateRestoring } from './reasoning-replay.ts';

const UNREADABLE = 'The request body is not a valid request for this API.';

export interface UpstreamError {
  readonly kind: 'http_error';
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly bytes: Buffer;
  /** The body passed the error-body cap (limits: max_error_body_bytes) and `bytes` holds only its start. */
  readonly truncated: boolean;
  readonly facts: UpstreamErrorFacts;
  readonly cls: ErrorClass;
  readonly disposition: Disposition;
  readonly retryAfter: number | undefined;
}

export type AttemptResult =
  | {
      readonly kind: 'ok';
      readonly upstream: UpstreamExchange;
      readonly latencyMs: number;
      /** The client's bytes went upstream, so the answer's bytes go back as they are. */
      readonly relayed: boolean;
    }
  | UpstreamError
  /** No usable answer: connect failure, reset, timeout (G-FO-6). */
  | { readonly kind: 'transport'; readonly reason: 'timeout' | 'connect' }
  /** The client went away. */
  | { readonly kind: 'aborted' }
  /** The client's body could not be read into the IR for a cross-protocol hop; `message` says why. */
  | { readonly kind: 'unreadable_request'; readonly message: string };

/**
 * The client's bytes with the lane's model named where the upstream protocol expects it (P-FWD-1),
 * and a stream opted in to its usage where the protocol reports it only on request (the client's
 * answer then drops the usage event it did not ask for: deliver.ts).
 */
function sameProtocolBody(ctx: RequestContext, lane: Lane): Buffer {
  if (ctx.route.operation === 'embedding') {
    const retargeted = retargetEmbedding(ctx, lane);
    if (retargeted !== undefined) return retargeted;
  }
  const edge = lane.upstream.edge;
  const body = ctx.body;
  const edits: Edit[] = [];
  // Members the body lacks, each with its comma, put first in the object.
  let inserted = '';
  if (edge.bodyNamesModel) {
    const span = ctx.scan.model;
    if (span === undefined) inserted += `"model":${lane.upstreamModelJson},`;
    else {
      // The body's model is the name routing read already, unless the path named it.
      const named = ctx.route.pathName === undefined ? ctx.name : spanString(body, span);
      if (named !== lane.model.upstreamModel)
        edits.push({ start: span.start, end: span.end, text: lane.upstreamModelJson });
    }
  }
  const hidden = edge.hiddenStreamUsage;
  ctx.hiddenStreamUsage = false;
  if (hidden !== undefined && ctx.stream && ctx.route.operation === 'chat') {
    const span = ctx.scan[hidden.field as 'stream_options'];
    if (span === undefined) {
      ctx.hiddenStreamUsage = true;
      inserted += `${hidden.absentMember},`;
    } else {
      const optedIn = hidden.optIn(parseJson(body.subarray(span.start, span.end)) ?? null);
      if (optedIn !== undefined) {
        ctx.hiddenStreamUsage = true;
        edits.push({ start: span.start, end: span.end, text: JSON.stringify(optedIn) });
      }
    }
  }
  if (inserted !== '') edits.unshift(insertion(body, inserted));
  return applyEdits(body, edits);
}

/** An embeddings body that names its model inside (Gemini batch items), renamed for `lane`. */
function retargetEmbedding(ctx: RequestContext, lane: Lane): Buffer | undefined {
  const retarget = EMBED_CODECS[lane.upstream.protocol]?.retarget;
  if (retarget === undefined) return undefined;
  const parsed = parseJson(ctx.body);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const renamed = retarget(parsed, lane.model.upstreamModel);
  return renamed === undefined ? undefined : Buffer.from(JSON.stringify(renamed));
}

/** (ingress, upstream, field) triples already logged: a closed set, so this stays small. */
const loggedLosses = new Set<string>();

/** Marks the hop's losses for the metrics, and says so once per kind at debug (issue 20). */
function noteLosses(ctx: RequestContext, lane: Lane, lost: readonly string[]): void {
  const hop = ctx.hops.at(-1);
  if (hop !== undefined) hop.lost = lost;
  for (const field of lost) {
    const key = `${ctx.ingress}>${lane.upstream.protocol}:${field}`;
    if (loggedLosses.has(key)) continue;
    loggedLosses.add(key);
    log.debug(
      { from: ctx.ingress, to: lane.upstream.protocol, field },
      'a request field has no place in the upstream protocol and was dropped',
    );
  }
}

/** The upstream body on a cross-protocol hop, or why the client's body cannot be read. */
async function translatedBody(ctx: RequestContext, lane: Lane): Promise<Buffer | { refused: string }> {
  try {
    const translation = await translateRestoring(ctx, {
      ingress: ctx.ingress,
      upstream: lane.upstream.protocol,
      body: ctx.body,
      name: ctx.name,
      stream: ctx.stream,
      model: lane.model.upstreamModel,
      defaultMaxTokens: lane.model.defaultMaxTokens ?? ctx.origins.limits.defaultMaxTokens,
      operation: ctx.route.operation,
    });
    ctx.includeUsage = translation.includeUsage;
    ctx.embedReply = translation.embedReply;
    ctx.emulatedStop = translation.emulatedStop;
    if (translation.lost !== undefined) noteLosses(ctx, lane, translation.lost);
    return translation.body;
  } catch (err) {
    log.debug(
      { lane: lane.name, err: err instanceof Error ? err.message : String(err) },
      'request not translatable',
    );
    return { refused: err instanceof InvalidRequest ? err.message : UNREADABLE };
  }
}

function parseJson(bytes: Buffer): JsonValue | undefined {
  try {
    return JSON.parse(bytes.toString()) as JsonValue;
  } catch {
    return undefined;
  }
}

/**
 * Whether this hop forwards the client's bytes: the same protocol, and for embeddings the same body
 * family where a protocol has several (Bedrock's Titan and Cohere bodies).
 */
function forwardsBytes(ctx: RequestContext, lane: Lane): boolean {
  if (lane.upstream.protocol !== ctx.ingress) return false;
  if (ctx.route.operation !== 'embedding') return true;
  const codec = EMBED_CODECS[ctx.ingress];
  if (codec?.dialectOf === undefined || codec.dialectFor === undefined) return true;
  if (ctx.embedDialect === undefined) {
    const parsed = parseJson(ctx.body);
    const isObject = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed);
    ctx.embedDialect = isObject ? codec.dialectOf(parsed) : '';
  }
  return ctx.embedDialect === codec.dialectFor(lane.model.upstreamModel);
}

/** `attemptTimeoutMs`: the hop's connect plus response head must arrive within it (attempt_timeout_ms). */
export async function attemptUpstream(
  ctx: RequestContext,
  lane: Lane,
  attemptTimeoutMs?: number,
): Promise<AttemptResult> {
  const same = forwardsBytes(ctx, lane);
  // Set again by this hop's translation, if it has one.
  ctx.emulatedStop = undefined;
  const body = same ? sameProtocolBody(ctx, lane) : await translatedBody(ctx, lane);
  if (!Buffer.isBuffer(body)) return { kind: 'unreadable_request', message: body.refused };
  const sentAt = performance.now();
  const upstream = callUpstream(ctx.origins, lane.upstream, {
    body,
    operation: ctx.route.operation,
    stream: ctx.stream,
    // A forwarded stream keeps the client's framing; a translated one uses the upstream's choice.
    framing: same ? ctx.framing : lane.upstream.edge.translatedStreamFraming,
    passthroughCredential: upstreamCredential(ctx.principal!),
    clientHeaders: same ? ctx.req.headers : undefined,
    timeoutMs: ctx.deadline - ctx.clock.nowMs(),
    attemptTimeoutMs,
  });
  // The client leaving aborts the exchange (RequestContext.onClose).
  ctx.watchUpstream(upstream);
  if (!(await upstream.head)) {
    if (ctx.signal.aborted) return { kind: 'aborted' };
    return { kind: 'transport', reason: upstream.timedOut ? 'timeout' : 'connect' };
  }
  const status = upstream.statusCode;
  if (status >= 200 && status < 300)
    return { kind: 'ok', upstream, latencyMs: performance.now() - sentAt, relayed: same };
  // Upstream error bodies are read up to a cap (G-BRK-1, G-SEC-20).
  const { bytes, end } = await upstream.readCapped(ctx.origins.limits.maxErrorBodyBytes);
  const headers = upstream.headers;
  const facts = lane.upstream.edge.readError(status, parseJson(bytes), headers as Record<string, string>);
  const cls = classifyStatus(status, facts, lane.model.provider.errorMap);
  return {
    kind: 'http_error',
    status,
    headers,
    bytes,
    truncated: end === 'oversize',
    facts,
    cls,
    disposition: dispositionOf(cls),
    retryAfter: parseRetryAfter(headers['retry-after'], ctx.origins.limits.maxRetryAfterSecs),
  };
}
