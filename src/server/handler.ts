// The request walk, top to bottom: route → auth → body → target → lane permit → dispatch
// (in-process demo, same-protocol forward, or translation). Nothing walks back up.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { extractCredential, TokenSet } from '../auth/credentials.ts';
import { crypto } from '../builtins.ts';
import type { GatewayConfig } from '../config/types.ts';
import { log } from '../log.ts';
import type { ProtocolEdge } from '../protocols/edge.ts';
import { EDGES } from '../protocols/registry.ts';
import type { Resolution, Targets } from '../routing/targets.ts';
import { declaredTooLarge, readBody } from './body.ts';
import { scanJson, spanIsTrue, spanString } from './json-scan.ts';
import { errorInfo, sendBody, sendError } from './respond.ts';
import { matchRoute, type Route } from './routes.ts';
import type { Runtime } from './runtime.ts';
import { statsBody } from './stats.ts';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const TOO_LARGE = 'request body exceeds the maximum allowed size';
const BAD_JSON = 'We could not parse the JSON body of your request.';

type InferenceRoute = Extract<Route, { kind: 'inference' }>;

export class RequestHandler {
  readonly #config: GatewayConfig;
  readonly #targets: Targets;
  readonly #tokens: TokenSet;
  readonly #loading: Promise<Runtime>;
  #runtime: Runtime | undefined;

  constructor(config: GatewayConfig, targets: Targets, runtime: Promise<Runtime>) {
    this.#config = config;
    this.#targets = targets;
    this.#tokens = new TokenSet(config.auth.clientTokens);
    this.#loading = runtime;
    runtime.then(
      (loaded) => {
        this.#runtime = loaded;
      },
      () => {},
    );
  }

  /** The node:http request listener. Never throws; an internal failure is a native 500. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? '' : url.slice(q + 1);
    const route = matchRoute(req.method ?? 'GET', path, query);
    const incomingId = req.headers['x-request-id'];
    res.setHeader(
      'x-request-id',
      typeof incomingId === 'string' && REQUEST_ID.test(incomingId) ? incomingId : crypto.randomUUID(),
    );
    this.#dispatch(req, res, route, query).catch((err: unknown) => {
      log.error({ err: err instanceof Error ? err.message : String(err), path }, 'request failed');
      const edge =
        EDGES[route.kind === 'inference' || route.kind === 'not_found' ? route.protocol : 'openai'];
      sendError(
        res,
        edge,
        errorInfo('api_error', 500, 'The server had an error while processing your request.'),
      );
    });
  };

  async #dispatch(req: IncomingMessage, res: ServerResponse, route: Route, query: string): Promise<void> {
    switch (route.kind) {
      case 'healthz': {
        const usable = [...this.#targets.lanes.values()].some((l) => l.usable());
        sendBody(res, usable ? 200 : 503, 'text/plain; charset=utf-8', usable ? 'ok' : 'no usable lanes');
        return;
      }
      case 'stats':
      case 'metrics':
        if (!this.#authorized(req, query)) return sendError(res, EDGES.openai, EDGES.openai.authFailure());
        if (route.kind === 'metrics')
          return sendError(res, EDGES.openai, errorInfo('not_found_error', 404, 'Not found.'));
        return sendBody(res, 200, 'application/json', statsBody(this.#targets));
      case 'admin':
        // No admin token is configured without governance: every admin call is refused (G-ADM-3).
        return sendError(res, EDGES.openai, EDGES.openai.authFailure());
      case 'not_found':
        return sendError(
          res,
          EDGES[route.protocol],
          errorInfo('not_found_error', 404, `Unknown request URL: POST ${req.url?.split('?')[0]}.`),
        );
      case 'method_not_allowed':
        return sendError(
          res,
          EDGES[route.protocol],
          errorInfo('invalid_request_error', 405, `Method ${req.method} is not allowed for this URL.`),
        );
      case 'inference':
        return this.#inference(req, res, route, query);
      default: {
        const never: never = route;
        throw new Error(`unhandled route ${JSON.stringify(never)}`);
      }
    }
  }

  #authorized(req: IncomingMessage, query: string): boolean {
    return this.#config.auth.mode !== 'token' || this.#tokens.check(extractCredential(req.headers, query));
  }

  async #inference(
    req: IncomingMessage,
    res: ServerResponse,
    route: InferenceRoute,
    query: string,
  ): Promise<void> {
    const edge = EDGES[route.protocol];
    if (declaredTooLarge(req)) return refuseTooLarge(req, res, edge);
    if (!this.#authorized(req, query)) {
      req.resume();
      return sendError(res, edge, edge.authFailure());
    }
    const body = await readBody(req);
    if (body === 'aborted') return;
    if (body === 'too_large') return refuseTooLarge(req, res, edge);

    const scan = scanJson(body);
    if (typeof scan === 'string')
      return sendError(res, edge, errorInfo('invalid_request_error', 400, BAD_JSON));
    if (!scan.isObject && edge.modelIn === 'path') {
      return sendError(
        res,
        edge,
        errorInfo('invalid_request_error', 400, 'Request body must be a JSON object.'),
      );
    }
    const name = route.pathName ?? (scan.isObject ? spanString(body, scan.model) : undefined);
    if (!name)
      return sendError(
        res,
        edge,
        errorInfo('invalid_request_error', 400, "Missing required parameter: 'model'."),
      );
    const stream = route.routeStream ?? spanIsTrue(body, scan.stream);

    const resolution = this.#resolve(route, name);
    if (resolution.kind === 'not_found') return sendError(res, edge, edge.modelNotFound(name));
    if (resolution.kind === 'provider_mismatch') {
      log.info({ path: req.url }, 'ad-hoc route names a model configured on another provider');
      return sendError(res, edge, {
        ...edge.modelNotFound(name),
        kind: 'invalid_request_error',
        status: 400,
      });
    }
    const target = resolution.target;
    const runtime = this.#runtime ?? (await this.#loading);
    const ctx = new runtime.Context({
      req,
      res,
      ingress: route.protocol,
      edge,
      body,
      scan,
      name,
      stream,
      sse: route.sse,
      passthroughCredential:
        this.#config.auth.mode === 'passthrough' ? extractCredential(req.headers, query) : false,
      origins: this.#targets.origins,
    });
    res.once('close', ctx.onClose);
    ctx.deadline = Date.now() + target.deadlineMs;
    return runtime.failover.serve(ctx, target);
  }

  #resolve(route: InferenceRoute, name: string): Resolution {
    const direct = this.#targets.resolve(name);
    // `/{provider}/{model}/v1/messages` when the whole name is not itself a pool or model.
    if (direct.kind === 'not_found' && route.adhoc && route.pathName !== undefined) {
      const slash = name.indexOf('/');
      if (slash > 0) return this.#targets.resolveAdhoc(name.slice(0, slash), name.slice(slash + 1));
    }
    return direct;
  }
}

/** How much of an oversized body is read and discarded so the client sees the 413. */
const DRAIN_LIMIT = 64 * 1024 * 1024;

function refuseTooLarge(req: IncomingMessage, res: ServerResponse, edge: ProtocolEdge): void {
  sendError(res, edge, errorInfo('request_too_large', 413, TOO_LARGE));
  // Closing now would reset a client that is still sending before it reads the answer: discard
  // the rest instead, up to a bound, then drop the connection.
  let drained = 0;
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > DRAIN_LIMIT) req.socket.destroy();
  });
  req.resume();
}
