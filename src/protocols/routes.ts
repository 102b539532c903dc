// What a protocol declares about its ingress paths (gateway.md §2.1): the exact paths it serves, the
// path family it owns for error shapes, and how a path of that family names a model and a stream.

import type { Protocol } from './names.ts';

/**
 * What an inference route asks of a model: a chat turn, embeddings, or a rerank. A model serves one
 * of them (its `mode`), and a pool's members all serve the same one.
 */
export const OPERATIONS = ['chat', 'embedding', 'rerank'] as const;
export type Operation = (typeof OPERATIONS)[number];

/** An inference request as its route fixes it; the ingress protocol is never sniffed from the body. */
export interface InferenceRoute {
  readonly kind: 'inference';
  readonly protocol: Protocol;
  readonly operation: Operation;
  /** Target name from the path (path-model protocols); undefined → read the body's `model`. */
  readonly pathName: string | undefined;
  /** The path name may also be `{provider}/{model}` (the ad-hoc Messages route, G-RTE-7). */
  readonly adhoc: boolean;
  /** Stream intent fixed by the route (Gemini action, Bedrock converse-stream). */
  readonly routeStream: boolean | undefined;
  /** The stream framing the client asked for, one of the edge's `streamFramings`; undefined = default. */
  readonly framing: string | undefined;
}

/**
 * A protocol's ingress paths. Inference is POST only; a path the protocol owns but cannot parse is
 * answered "not found", and a parsed one with another method "method not allowed", in its shape.
 */
export interface ProtocolRoutes {
  /** Chat paths served as they are, the model named in the body. Matched before any family. */
  readonly exact: readonly string[];
  /** Paths of other operations served as they are, the model named in the body. */
  readonly operations?: readonly (readonly [string, Operation])[];
  /** Paths starting with one of these belong to this protocol (the longest prefix wins). */
  readonly prefixes: readonly string[];
  /** Paths ending with this belong to this protocol, when no protocol's prefix claimed them. */
  readonly suffix?: string;
  /** The route a path of the family names (`query` raw, without `?`); undefined → not found. */
  readonly parse?: (path: string, query: string) => InferenceRoute | undefined;
  /** Paths of this protocol's other API versions that are not served: `[path, what to use instead]`. */
  readonly unserved?: readonly (readonly [string, string])[];
  /** `GET` of this path lists the names a caller may request, in this protocol's shape. */
  readonly listing?: ModelListing;
  /** What `busbar --help` lists: `[path pattern, what it is]`. */
  readonly endpoints: readonly (readonly [string, string])[];
  /** A first request against `model`, for the embedded default's banner. */
  example(model: string, prompt: string): RouteExample;
}

/** A protocol's model list endpoint (chat front-ends discover models this way). */
export interface ModelListing {
  readonly path: string;
  /** The JSON body listing `names` (pool and model names, in config order). */
  render(names: readonly string[]): string;
}

export interface RouteExample {
  readonly title: string;
  readonly path: string;
  readonly body: unknown;
  readonly headers: readonly string[];
  /** How to ask for a stream on this route. */
  readonly streaming: string;
}

/** A percent-decoded path segment; undefined when the encoding is malformed (→ not found). */
export function decodeSegment(segment: string): string | undefined {
  // Model names rarely hold escapes; without a '%' decoding is the identity and cannot fail.
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    // URIError is the only failure and means "no such path": nothing to log.
    return undefined;
  }
}
