// The operator dashboard at /ui (issue 17): the page's files, read once at startup from the
// package's ui/ folder and served from memory under a strict Content-Security-Policy, and its one
// data source, /ui/api/live (Server-Sent Events, admin token). The files hold no data: a caller
// without the token gets the page and can do nothing but sign in. Actions go through /admin.

import cluster from 'node:cluster';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AdminApi } from '../admin/api.ts';
import { fs } from '../builtins.ts';
import { discardBody } from '../lifecycle/body.ts';
import type { FinishListener } from '../lifecycle/finish.ts';
import { errorInfo, sendError } from '../lifecycle/respond.ts';
import type { KeySource, ProcessFacts } from '../observability/live.ts';
import type { LiveFeed } from '../observability/live-feed.ts';
import { GATEWAY_EDGE } from '../protocols/registry.ts';
import type { RoutingTable } from '../routing/table.ts';

const UI_DIR = new URL('../../ui/', import.meta.url);
const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  txt: 'text/plain; charset=utf-8',
};
/** The page loads only its own files and talks only to this origin; it cannot be framed. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const HEADERS = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-cache',
};

interface StaticFile {
  readonly type: string;
  readonly body: Buffer;
}

/** Every file under ui/ with a known type, by its path under /ui/. */
function readFiles(dir: URL, prefix = ''): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      for (const [p, f] of readFiles(new URL(`${entry.name}/`, dir), `${prefix}${entry.name}/`))
        files.set(p, f);
      continue;
    }
    const type = TYPES[entry.name.slice(entry.name.lastIndexOf('.') + 1)];
    if (entry.isFile() && type !== undefined)
      files.set(`${prefix}${entry.name}`, { type, body: fs.readFileSync(new URL(entry.name, dir)) });
  }
  return files;
}

export class Dashboard {
  readonly #files: Map<string, StaticFile>;
  readonly #admin: AdminApi;
  readonly #feed: LiveFeed;

  constructor(admin: AdminApi, feed: LiveFeed) {
    this.#files = readFiles(UI_DIR);
    if (!this.#files.has('index.html')) throw new Error('the dashboard files (ui/index.html) are missing');
    this.#admin = admin;
    this.#feed = feed;
  }

  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    void discardBody(req, 64 * 1024, 10_000);
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD')
      return sendError(
        res,
        GATEWAY_EDGE,
        errorInfo('invalid_request_error', 405, `Method ${method} is not allowed.`),
        {
          allow: 'GET, HEAD',
        },
      );
    if (path === '/ui') {
      res.writeHead(308, { location: '/ui/', ...HEADERS });
      res.end();
      return;
    }
    const rest = path.slice('/ui/'.length);
    // A HEAD would hold a subscriber slot with nothing to read.
    if (rest === 'api/live')
      return method === 'GET'
        ? this.#live(req, res)
        : sendError(
            res,
            GATEWAY_EDGE,
            errorInfo('invalid_request_error', 405, 'Method HEAD is not allowed.'),
            {
              allow: 'GET',
            },
          );
    const file = this.#files.get(rest === '' ? 'index.html' : rest);
    if (file === undefined)
      return sendError(res, GATEWAY_EDGE, errorInfo('not_found_error', 404, 'No such dashboard file.'));
    res.writeHead(200, { ...HEADERS, 'content-type': file.type, 'content-length': file.body.length });
    res.end(method === 'HEAD' ? undefined : file.body);
  }

  async #live(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!this.#admin.authorized(req)) return sendError(res, GATEWAY_EDGE, GATEWAY_EDGE.authFailure());
    if (!this.#feed.subscribe(res))
      return sendError(
        res,
        GATEWAY_EDGE,
        errorInfo('overloaded', 503, 'Too many dashboards are open on this process; close one and retry.'),
      );
  }
}

export interface DashboardParts {
  readonly dashboard: Dashboard;
  /** Counts each finished request into the live totals. */
  readonly listener: FinishListener;
  /** A reloaded config's table. */
  use(table: RoutingTable): void;
  close(): void;
}

/**
 * The page, its feed and the totals behind it. A lone process samples itself; a worker sends its
 * samples to the primary, which adds the keys (observability/live.ts).
 */
export async function startDashboard(
  table: RoutingTable,
  admin: AdminApi,
  keys: KeySource | undefined,
  facts: () => ProcessFacts,
): Promise<DashboardParts> {
  const [{ LiveTotals }, { LiveFeed }, live] = await Promise.all([
    import('../observability/live-totals.ts'),
    import('../observability/live-feed.ts'),
    import('../observability/live.ts'),
  ]);
  const totals = new LiveTotals(table);
  const feed = new LiveFeed();
  const stop = cluster.isWorker
    ? live.startWorkerLive(totals, feed, facts)
    : live.startLocalLive(totals, feed, keys, facts);
  return {
    dashboard: new Dashboard(admin, feed),
    listener: totals.record,
    use: (next) => totals.use(next),
    close: () => {
      stop();
      feed.close();
    },
  };
}
