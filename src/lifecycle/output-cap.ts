// The most output tokens a request allows, from the fields the body scan located (json-scan.ts):
// a budget reservation covers this many. Every protocol's field is read whatever the ingress
// protocol, and the largest wins: a field the upstream ignores can only make the reservation
// larger, never smaller than what the upstream may produce.

import type { ScanResult, Span } from './json-scan.ts';

const TOP_LEVEL = ['max_tokens', 'max_completion_tokens', 'max_output_tokens'] as const;
const NESTED = [
  ['generationConfig', 'maxOutputTokens'],
  ['inferenceConfig', 'maxTokens'],
] as const;

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

function parseSpan(body: Uint8Array, span: Span): unknown {
  try {
    return JSON.parse(
      Buffer.from(body.buffer, body.byteOffset + span.start, span.end - span.start).toString(),
    );
  } catch {
    return undefined;
  }
}

/** The request's own output cap, or undefined when it sets none. */
export function requestedOutputCap(body: Uint8Array, scan: ScanResult): number | undefined {
  let cap: number | undefined;
  const take = (n: number | undefined): void => {
    if (n !== undefined) cap = Math.max(cap ?? 0, n);
  };
  for (const field of TOP_LEVEL) {
    const span = scan[field];
    if (span !== undefined) take(count(parseSpan(body, span)));
  }
  for (const [outer, inner] of NESTED) {
    const span = scan[outer];
    if (span === undefined || body[span.start] !== 0x7b) continue;
    const object = parseSpan(body, span);
    if (typeof object === 'object' && object !== null)
      take(count((object as Record<string, unknown>)[inner]));
  }
  return cap;
}
