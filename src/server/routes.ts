// The route table (gateway.md §2.1): path + method → what the request is. The gateway's own paths
// are listed here; every protocol declares its own (protocols/<name>/routes.ts) and the table is
// built from the registry once, at load. The ingress protocol is fixed by the route, never sniffed
// from the body (P-GEN-1).

import { PROTOCOLS, type Protocol } from '../protocols/names.ts';
import { DEFAULT_PROTOCOL, ROUTES } from '../protocols/registry.ts';
import type { InferenceRoute, ModelListing, Operation, ProtocolRoutes } from '../protocols/routes.ts';

export type Route =
  | InferenceRoute
  | { readonly kind: 'healthz' | 'stats' | 'metrics' }
  | { readonly kind: 'admin'; readonly path: string }
  | { readonly kind: 'dashboard'; readonly path: string }
  | { readonly kind: 'models'; readonly protocol: Protocol; readonly listing: ModelListing }
  | { readonly kind: 'not_found'; readonly protocol: Protocol; readonly hint?: string }
  | { readonly kind: 'method_not_allowed'; readonly protocol: Protocol; readonly allow: string };

/** A path served as it is: the route for its one method, the refusal for any other. */
interface ExactPath {
  readonly path: string;
  readonly method: string;
  readonly route: Route;
  readonly refusal: Route;
}

/** A prefix or suffix one protocol owns, with that protocol's answers prepared. */
interface Family {
  readonly text: string;
  readonly parse: ProtocolRoutes['parse'];
  readonly notFound: Route;
  readonly refusal: Route;
}

const notFound = (protocol: Protocol): Route => Object.freeze({ kind: 'not_found', protocol });
const refusal = (protocol: Protocol, allow = 'POST'): Route =>
  Object.freeze({ kind: 'method_not_allowed', protocol, allow });

export const DEFAULT_NOT_FOUND = notFound(DEFAULT_PROTOCOL);
const DEFAULT_GET_ONLY = refusal(DEFAULT_PROTOCOL, 'GET');

/** Scanned, not hashed: a Map would hash every request's fresh path string over its whole length. */
const EXACT: ExactPath[] = [];
/** Checked longest first, then SUFFIXES longest first: a protocol's prefix beats another's suffix. */
const PREFIXES: Family[] = [];
const SUFFIXES: Family[] = [];

function addExact(entry: ExactPath): void {
  if (EXACT.some((e) => e.path === entry.path))
    throw new Error(`route table: ${entry.path} is declared twice`);
  EXACT.push(entry);
}

function addFamily(families: Family[], family: Family): void {
  if (families.some((f) => f.text === family.text))
    throw new Error(`route table: ${family.text} is claimed twice`);
  families.push(family);
}

for (const protocol of PROTOCOLS) {
  const routes = ROUTES[protocol];
  const answers = { notFound: notFound(protocol), refusal: refusal(protocol), parse: routes.parse };
  const bodyModel = (operation: Operation): Route =>
    Object.freeze({
      kind: 'inference',
      protocol,
      operation,
      pathName: undefined,
      adhoc: false,
      // Only chat streams: an embedding or rerank body's `stream` means nothing.
      routeStream: operation === 'chat' ? undefined : false,
      framing: undefined,
    });
  const route = bodyModel('chat');
  for (const path of routes.exact) addExact({ path, method: 'POST', route, refusal: answers.refusal });
  for (const [path, operation] of routes.operations ?? [])
    addExact({ path, method: 'POST', route: bodyModel(operation), refusal: answers.refusal });
  for (const [path, hint] of routes.unserved ?? []) {
    const unserved = Object.freeze({ kind: 'not_found', protocol, hint });
    addExact({ path, method: 'POST', route: unserved, refusal: unserved });
  }
  if (routes.listing !== undefined) {
    const listing = Object.freeze({ kind: 'models', protocol, listing: routes.listing });
    addExact({ path: routes.listing.path, method: 'GET', route: listing, refusal: refusal(protocol, 'GET') });
  }
  for (const text of routes.prefixes) addFamily(PREFIXES, { text, ...answers });
  if (routes.suffix !== undefined) addFamily(SUFFIXES, { text: routes.suffix, ...answers });
}
for (const kind of ['healthz', 'stats', 'metrics'] as const) {
  addExact({ path: `/${kind}`, method: 'GET', route: Object.freeze({ kind }), refusal: DEFAULT_GET_ONLY });
}
PREFIXES.sort((a, b) => b.text.length - a.text.length);
SUFFIXES.sort((a, b) => b.text.length - a.text.length);

function exactPath(path: string): ExactPath | undefined {
  for (const exact of EXACT) if (exact.path === path) return exact;
  return undefined;
}

function familyOf(path: string): Family | undefined {
  for (const family of PREFIXES) if (path.startsWith(family.text)) return family;
  for (const family of SUFFIXES) if (path.endsWith(family.text)) return family;
  return undefined;
}

/** Matches `path` (no query) and `query` (raw, without `?`). */
export function matchRoute(method: string, path: string, query: string): Route {
  const exact = exactPath(path);
  if (exact !== undefined) return method === exact.method ? exact.route : exact.refusal;
  if (path === '/admin' || path.startsWith('/admin/')) return { kind: 'admin', path };
  if (path === '/ui' || path.startsWith('/ui/')) return { kind: 'dashboard', path };
  const family = familyOf(path);
  if (family === undefined) return DEFAULT_NOT_FOUND;
  const route = family.parse?.(path, query);
  if (route === undefined) return family.notFound;
  return method === 'POST' ? route : family.refusal;
}
