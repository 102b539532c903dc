// The node:http request listener: the route table decides what a request is; the gateway's own
// endpoints (/healthz, /stats, /admin) are answered here, inference requests go to the pipeline.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AdminApi } from '../admin/api.ts';
import type { Authenticator } from '../auth/principal.ts';
import { discardBody } from '../lifecycle/body.ts';
import type { InferencePipeline } from '../lifecycle/pipeline.ts';
import { errorInfo, sendBody, sendError } from '../lifecycle/respond.ts';
import { log } from '../log.ts';
import { CONTENT_TYPE } from '../observability/exposition.ts';
import { EDGES, GATEWAY_EDGE } from '../protocols/registry.ts';
import type { RoutingTable } from '../routing/table.ts';
import type { Dashboard } from './dashboard.ts';
import { DEFAULT_NOT_FOUND, matchRoute, type Route } from './routes.ts';
import { statsBody } from './stats.ts';

export class RequestHandler {
  #table: RoutingTable;
  readonly #authenticator: Authenticator;
  readonly #loading: Promise<InferencePipeline>;
  readonly #admin: AdminApi | undefined;
  /** The Prometheus exposition; undefined when the node's view could not be gathered in time. */
  readonly #scrape: () => Promise<string | undefined>;
  #pipeline: InferencePipeline | undefined;
  /** /ui, when `dashboard.enabled`; else /ui is an unknown route. */
  #dashboard: Dashboard | undefined;

  constructor(
    table: RoutingTable,
    authenticator: Authenticator,
    pipeline: Promise<InferencePipeline>,
    admin: AdminApi | undefined,
    scrape: () => Promise<string | undefined>,
  ) {
    this.#table = table;
    this.#scrape = scrape;
    this.#authenticator = authenticator;
    this.#admin = admin;
    this.#loading = pipeline;
    pipeline.then(
      (loaded) => {
        this.#pipeline = loaded;
      },
      () => {},
    );
  }

  /** Serves /ui. */
  useDashboard(dashboard: Dashboard): void {
    this.#dashboard = dashboard;
  }

  /**
   * A reloaded config's table and pipeline, for every request from now on; requests already in a
   * pipeline finish in it.
   */
  use(table: RoutingTable, pipeline: InferencePipeline): void {
    this.#table = table;
    this.#pipeline = pipeline;
  }

  /** The node:http request listener. Never throws; an internal failure is a native 500. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? '' : url.slice(q + 1);
    const route = matchRoute(req.method ?? 'GET', path, query);
    this.#dispatch(req, res, route, path, query).catch((err: unknown) => {
      log.error({ err: err instanceof Error ? err.message : String(err), path }, 'request failed');
      const edge =
        route.kind === 'inference' || route.kind === 'not_found' ? EDGES[route.protocol] : GATEWAY_EDGE;
      sendError(
        res,
        edge,
        errorInfo('api_error', 500, 'The server had an error while processing your request.'),
      );
    });
  };

  async #dispatch(
    req: IncomingMessage,
    res: ServerResponse,
    route: Route,
    path: string,
    query: string,
  ): Promise<void> {
    switch (route.kind) {
      case 'healthz': {
        const usable = [...this.#table.lanes.values()].some((l) => l.usable());
        sendBody(res, usable ? 200 : 503, 'text/plain; charset=utf-8', usable ? 'ok' : 'no usable lanes');
        return;
      }
      case 'stats':
      case 'metrics':
        if (this.#authenticator.authenticate(req.headers, '') === undefined)
          return sendError(res, GATEWAY_EDGE, GATEWAY_EDGE.authFailure());
        if (route.kind === 'stats')
          return sendBody(res, 200, 'application/json', statsBody(this.#table, this.#pipeline?.inbound));
        {
          const text = await this.#scrape();
          if (text === undefined)
            return sendError(
              res,
              GATEWAY_EDGE,
              errorInfo('overloaded', 503, 'The metrics of every worker could not be gathered in time.'),
            );
          return sendBody(res, 200, CONTENT_TYPE, text);
        }
      case 'admin':
        // Without governance there is no admin token: every admin call is refused (G-ADM-3).
        if (this.#admin === undefined) {
          void discardBody(req, 1024 * 1024, 10_000);
          return sendError(res, GATEWAY_EDGE, GATEWAY_EDGE.authFailure());
        }
        return this.#admin.handle(req, res, route.path);
      case 'dashboard':
        if (this.#dashboard !== undefined) return this.#dashboard.handle(req, res, route.path);
        return this.#dispatch(req, res, DEFAULT_NOT_FOUND, path, query);
      case 'not_found':
        return sendError(res, EDGES[route.protocol], {
          ...errorInfo(
            'not_found_error',
            404,
            route.hint ?? `Invalid URL (${req.method} ${path}): the gateway serves no such route.`,
          ),
          code: 'unknown_url',
        });
      case 'method_not_allowed':
        return sendError(
          res,
          EDGES[route.protocol],
          errorInfo('invalid_request_error', 405, `Method ${req.method} is not allowed for this URL.`),
          { allow: route.allow },
        );
      case 'models': {
        // The names the caller may request; a key restricted to some names sees only those.
        const edge = EDGES[route.protocol];
        const principal = this.#authenticator.authenticate(req.headers, edge.keyInQuery ? query : '');
        if (principal === undefined) return sendError(res, edge, edge.authFailure());
        const allowed = principal.kind === 'virtual_key' ? principal.key.allowed_pools : [];
        const names =
          allowed.length === 0 ? this.#table.names : this.#table.names.filter((n) => allowed.includes(n));
        return sendBody(res, 200, 'application/json', route.listing.render(names));
      }
      case 'inference': {
        const pipeline = this.#pipeline ?? (await this.#loading);
        return pipeline.serve(req, res, route, query);
      }
      default: {
        const never: never = route;
        throw new Error(`unhandled route ${JSON.stringify(never)}`);
      }
    }
  }
}
