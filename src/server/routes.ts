// The route table (gateway.md §2.1): path + method → what the request is. The ingress protocol is
// fixed here by the route, never sniffed from the body (P-GEN-1).

import type { Protocol } from '../protocols/names.ts';

export type Route =
  | {
      readonly kind: 'inference';
      readonly protocol: Protocol;
      /** Target name from the path (path-model protocols); undefined → read the body's `model`. */
      readonly pathName: string | undefined;
      /** The path name may also be `{provider}/{model}` (the ad-hoc Messages route, G-RTE-7). */
      readonly adhoc: boolean;
      /** Stream intent fixed by the route (Gemini action, Bedrock converse-stream). */
      readonly routeStream: boolean | undefined;
      /** The stream framing the client asked for (the protocol's own name), undefined = default. */
      readonly framing: string | undefined;
    }
  | { readonly kind: 'healthz' | 'stats' | 'metrics' }
  | { readonly kind: 'admin'; readonly path: string }
  | { readonly kind: 'not_found'; readonly protocol: Protocol }
  | { readonly kind: 'method_not_allowed'; readonly protocol: Protocol };

const MESSAGES_SUFFIX = '/v1/messages';

/** The protocol a path belongs to, for error shapes on unmatched routes (G-RTE-2). */
export function protocolOfPath(path: string): Protocol {
  if (path.startsWith('/v1beta/') || path.startsWith('/v1/models/')) return 'gemini';
  if (path.startsWith('/model/')) return 'bedrock';
  if (path.startsWith('/v2/')) return 'cohere';
  if (path.startsWith('/v1/responses')) return 'responses';
  if (path.endsWith(MESSAGES_SUFFIX)) return 'anthropic';
  return 'openai';
}

function safeDecode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function inference(
  protocol: Protocol,
  pathName?: string,
  routeStream?: boolean,
  extra?: { adhoc?: boolean; framing?: string },
): Route {
  return {
    kind: 'inference',
    protocol,
    pathName,
    routeStream,
    adhoc: extra?.adhoc ?? false,
    framing: extra?.framing,
  };
}

function post(method: string, route: Route, protocol: Protocol): Route {
  return method === 'POST' ? route : { kind: 'method_not_allowed', protocol };
}

/** Matches `path` (no query) and `query` (raw, without `?`). */
export function matchRoute(method: string, path: string, query: string): Route {
  switch (path) {
    case '/v1/chat/completions':
      return post(method, inference('openai'), 'openai');
    case '/v1/responses':
      return post(method, inference('responses'), 'responses');
    case '/v2/chat':
      return post(method, inference('cohere'), 'cohere');
    case '/v1/messages':
      // Convenience: an Anthropic SDK pointed at the gateway root names the model in the body.
      return post(method, inference('anthropic'), 'anthropic');
    case '/healthz':
    case '/stats':
    case '/metrics':
      return method === 'GET'
        ? { kind: path.slice(1) as 'healthz' | 'stats' | 'metrics' }
        : { kind: 'method_not_allowed', protocol: 'openai' };
  }
  if (path === '/admin' || path.startsWith('/admin/')) return { kind: 'admin', path };

  const protocol = protocolOfPath(path);
  if (protocol === 'gemini') {
    const prefix = path.startsWith('/v1beta/models/')
      ? '/v1beta/models/'
      : path.startsWith('/v1/models/')
        ? '/v1/models/'
        : '';
    const rest = path.slice(prefix.length);
    const colon = rest.lastIndexOf(':');
    const model = prefix && colon > 0 ? safeDecode(rest.slice(0, colon)) : undefined;
    const action = rest.slice(colon + 1);
    if (model === undefined || (action !== 'generateContent' && action !== 'streamGenerateContent')) {
      return { kind: 'not_found', protocol };
    }
    const stream = action === 'streamGenerateContent';
    const sse = stream && /(?:^|&)alt=sse(?:&|$)/.test(query);
    return post(method, inference('gemini', model, stream, { framing: sse ? 'sse' : 'array' }), protocol);
  }
  if (protocol === 'bedrock') {
    const parts = path.split('/');
    // ['', 'model', '{modelId}', 'converse' | 'converse-stream']
    const action = parts[3];
    const model = parts.length === 4 && parts[2] ? safeDecode(parts[2]) : undefined;
    if (model === undefined || (action !== 'converse' && action !== 'converse-stream'))
      return { kind: 'not_found', protocol };
    return post(method, inference('bedrock', model, action === 'converse-stream'), protocol);
  }
  if (protocol === 'anthropic') {
    const name = safeDecode(path.slice(1, -MESSAGES_SUFFIX.length));
    if (!name) return { kind: 'not_found', protocol };
    return post(method, inference('anthropic', name, undefined, { adhoc: true }), protocol);
  }
  return { kind: 'not_found', protocol };
}
