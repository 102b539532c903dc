// Cohere v2 error body `{"message": …}` (plus `id` when known); the status carries the kind.

import type { UpstreamErrorFacts, WireError } from '../codec.ts';
import type { GatewayErrorInfo, JsonValue } from '../ir.ts';
import { field, str } from '../json-access.ts';

export function writeCohereError(err: GatewayErrorInfo): WireError {
  return {
    status: err.status,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ message: err.message }),
  };
}

export function cohereAuthFailure(): GatewayErrorInfo {
  return { kind: 'authentication_error', status: 401, message: 'invalid api token' };
}

export function cohereModelNotFound(name: string): GatewayErrorInfo {
  return {
    kind: 'not_found_error',
    status: 404,
    message: `The model '${name}' does not exist or you do not have access to it.`,
  };
}

export function readCohereError(body: JsonValue | undefined): UpstreamErrorFacts {
  return { message: str(field(body, 'message')), code: undefined, type: undefined };
}
