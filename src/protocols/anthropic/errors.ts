// Anthropic error envelope `{"type": "error", "error": {type, message}}`.

import type { UpstreamErrorFacts, WireError } from '../codec.ts';
import type { ErrorKind, GatewayErrorInfo, JsonValue } from '../ir.ts';
import { field, isObject, str } from '../json-access.ts';

const TYPE_BY_KIND: Record<ErrorKind, string> = {
  invalid_request_error: 'invalid_request_error',
  authentication_error: 'authentication_error',
  permission_error: 'permission_error',
  not_found_error: 'not_found_error',
  request_too_large: 'request_too_large',
  rate_limit_error: 'rate_limit_error',
  insufficient_quota: 'rate_limit_error',
  api_error: 'api_error',
  overloaded: 'overloaded_error',
  timeout: 'timeout_error',
};

export function writeAnthropicError(err: GatewayErrorInfo): WireError {
  const body = JSON.stringify({
    type: 'error',
    error: { type: TYPE_BY_KIND[err.kind], message: err.message },
  });
  return { status: err.status, headers: { 'content-type': 'application/json' }, body };
}

export function anthropicAuthFailure(): GatewayErrorInfo {
  return { kind: 'authentication_error', status: 401, message: 'invalid x-api-key' };
}

export function anthropicModelNotFound(name: string): GatewayErrorInfo {
  return {
    kind: 'not_found_error',
    status: 404,
    message: `The model '${name}' does not exist or you do not have access to it.`,
  };
}

export function readAnthropicError(body: JsonValue | undefined): UpstreamErrorFacts {
  const error = field(body, 'error');
  const source = isObject(error) ? error : body;
  return { message: str(field(source, 'message')), code: undefined, type: str(field(source, 'type')) };
}
