// Asking a webhook routing policy (G-POL-10…13): the request projection and the candidates' signals
// go to the operator's service as JSON, over the shared upstream pools (an http(s) URL or a Unix
// socket), with no credentials and no redirects; the reply is read up to 64 KiB, all within the
// policy's timeout. Beyond the reference, the reply may reject the request with its own status
// and message. Every failure comes back as an error verdict for the pool's `on_error`.

import type { WebhookPolicy } from '../routing/policy.ts';
import type { Member } from '../routing/table.ts';
import { UpstreamExchange } from '../upstream/exchange.ts';
import type { RequestContext } from './context.ts';
import { ABSTAIN, candidateSignals, normalise, type PolicyVerdict } from './policy-verdict.ts';
import { projectRequest } from './projection.ts';

/** G-POL-11: the reply cap. */
const MAX_REPLY_BYTES = 64 * 1024;
/** G-POL-13: decisions in flight per pool; one more is an error at once, never queued. */
const MAX_IN_FLIGHT = 64;
/** A reject's message is the operator's text for the client; longer is malformed. */
const MAX_REJECT_MESSAGE = 1024;

/** G-POL-11 and the reject extension: the verdict a reply body says, with indices mapped to members. */
export function readReply(body: Buffer, candidates: readonly Member[]): PolicyVerdict {
  let reply: unknown;
  try {
    reply = JSON.parse(body.toString());
  } catch {
    return { kind: 'error', reason: 'the reply is not JSON' };
  }
  if (typeof reply !== 'object' || reply === null || Array.isArray(reply))
    return { kind: 'error', reason: 'the reply is not a JSON object' };
  const r = reply as Record<string, unknown>;
  if (r.abstain === true) return ABSTAIN;
  if (r.reject !== undefined && r.reject !== null) {
    const reject = r.reject as Record<string, unknown>;
    const status = reject?.status;
    const message = reject?.message;
    if (
      typeof status !== 'number' ||
      !Number.isInteger(status) ||
      status < 400 ||
      status > 599 ||
      typeof message !== 'string' ||
      message.length > MAX_REJECT_MESSAGE
    ) {
      return {
        kind: 'error',
        reason: 'reject needs an integer status 400–599 and a message of at most 1024 characters',
      };
    }
    return { kind: 'reject', status, message };
  }
  const order = r.order;
  if (order === undefined || order === null || (Array.isArray(order) && order.length === 0)) return ABSTAIN;
  if (!Array.isArray(order) || !order.every((i) => typeof i === 'number' && Number.isInteger(i) && i >= 0))
    return { kind: 'error', reason: 'order must be an array of non-negative integers' };
  return normalise(order as number[], candidates);
}

/** A transport failure: the policy's deadline, or `reason`. */
function failed(exchange: UpstreamExchange, reason: string): PolicyVerdict {
  return exchange.timedOut
    ? { kind: 'error', reason: 'timed out', timedOut: true }
    : { kind: 'error', reason };
}

/** One decision: never throws; every failure is an error verdict. */
export async function askWebhook(
  ctx: RequestContext,
  pool: string,
  policy: WebhookPolicy,
): Promise<PolicyVerdict> {
  if (policy.inFlight >= MAX_IN_FLIGHT) return { kind: 'error', reason: 'too many decisions in flight' };
  policy.inFlight++;
  try {
    return await ask(ctx, pool, policy);
  } catch (err) {
    return { kind: 'error', reason: err instanceof Error ? err.message : String(err) };
  } finally {
    policy.inFlight--;
  }
}

async function ask(ctx: RequestContext, poolName: string, policy: WebhookPolicy): Promise<PolicyVerdict> {
  const { projection, prompt } = await projectRequest(ctx, poolName, policy.sendPrompt);
  const body = JSON.stringify({
    request: {
      pool: projection.pool,
      ingress_protocol: projection.ingress_protocol,
      message_count: projection.message_count,
      has_tools: projection.has_tools,
      total_chars: projection.total_chars,
      max_tokens: projection.max_tokens,
      stream: projection.stream,
      ...(prompt === undefined ? {} : { prompt }),
    },
    candidates: policy.candidates.map((m) => candidateSignals(m, ctx.rateHeadroom)),
    context: { pool: poolName, budget_remaining: null },
  });
  const { socketPath, origin, path } = policy.endpoint;
  const pool = socketPath === undefined ? ctx.origins.get(origin) : ctx.origins.forSocket(socketPath);
  const exchange = new UpstreamExchange();
  // G-POL-4: one wall-clock limit around the whole call, the reply included.
  exchange.expireAfter(policy.timeoutMs);
  const onAbort = (): void => exchange.abort();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    pool.dispatch(
      {
        path,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      },
      exchange,
    );
    if (!(await exchange.head)) return failed(exchange, 'the hook could not be reached');
    const status = exchange.statusCode;
    const { bytes, end } = await exchange.readCapped(MAX_REPLY_BYTES);
    if (end === 'oversize') return { kind: 'error', reason: 'the reply passed 64 KiB' };
    if (end === 'failed') return failed(exchange, 'the reply was cut');
    if (status < 200 || status >= 300) return { kind: 'error', reason: `the hook answered HTTP ${status}` };
    return readReply(bytes, policy.candidates);
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    exchange.abort();
  }
}
