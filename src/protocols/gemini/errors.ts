// Gemini (Google API) error envelope `{"error": {code, message, status}}` with Google status names.

import type { UpstreamErrorFacts, WireError } from '../codec.ts';
import type { ErrorKind, GatewayErrorInfo, JsonValue } from '../ir.ts';
import { codeStr, field, str } from '../json-access.ts';

const STATUS_BY_KIND: Record<ErrorKind, string> = {
  invalid_request_error: 'INVALID_ARGUMENT',
  authentication_error: 'UNAUTHENTICATED',
  permission_error: 'PERMISSION_DENIED',
  not_found_error: 'NOT_FOUND',
  request_too_large: 'INVALID_ARGUMENT',
  rate_limit_error: 'RESOURCE_EXHAUSTED',
  insufficient_quota: 'RESOURCE_EXHAUSTED',
  api_error: 'INTERNAL',
  overloaded: 'UNAVAILABLE',
  timeout: 'DEADLINE_EXCEEDED',
};

export function writeGeminiError(err: GatewayErrorInfo): WireError {
  // Google reports an invalid API key as 400 INVALID_ARGUMENT, and so do we (G-SEC-3).
  const status =
    STATUS_BY_KIND[err.kind] === 'UNAUTHENTICATED' && err.status === 400
      ? 'INVALID_ARGUMENT'
      : STATUS_BY_KIND[err.kind];
  const body = JSON.stringify({ error: { code: err.status, message: err.message, status } });
  return { status: err.status, headers: { 'content-type': 'application/json; charset=UTF-8' }, body };
}

export function geminiAuthFailure(): GatewayErrorInfo {
  return {
    kind: 'authentication_error',
    status: 400,
    message: 'API key not valid. Please pass a valid API key.',
  };
}

export function geminiModelNotFound(name: string): GatewayErrorInfo {
  return {
    kind: 'not_found_error',
    status: 404,
    message: `models/${name} is not found for API version v1beta, or is not supported for generateContent.`,
  };
}

export function readGeminiError(body: JsonValue | undefined): UpstreamErrorFacts {
  const error = field(body, 'error');
  return {
    message: str(field(error, 'message')),
    code: codeStr(field(error, 'code')),
    type: str(field(error, 'status')),
  };
}
