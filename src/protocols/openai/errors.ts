// OpenAI error envelope `{"error": {message, type, param, code}}`, shared by Chat Completions
// and Responses (both are OpenAI wire formats).

import type { UpstreamErrorFacts, WireError } from '../codec.ts';
import type { ErrorKind, GatewayErrorInfo, JsonValue } from '../ir.ts';
import { codeStr, field, isObject, str } from '../json-access.ts';

const TYPE_BY_KIND: Record<ErrorKind, string> = {
  invalid_request_error: 'invalid_request_error',
  authentication_error: 'authentication_error',
  permission_error: 'permission_error',
  not_found_error: 'not_found_error',
  request_too_large: 'invalid_request_error',
  rate_limit_error: 'rate_limit_error',
  insufficient_quota: 'insufficient_quota',
  api_error: 'api_error',
  overloaded: 'overloaded_error',
  timeout: 'timeout',
};

const CODE_BY_KIND: Partial<Record<ErrorKind, string>> = {
  authentication_error: 'invalid_api_key',
  insufficient_quota: 'insufficient_quota',
  request_too_large: 'request_too_large',
  not_found_error: 'model_not_found',
};

export function writeOpenAIError(err: GatewayErrorInfo): WireError {
  const body = JSON.stringify({
    error: {
      message: err.message,
      type: TYPE_BY_KIND[err.kind],
      param: null,
      code: err.code ?? CODE_BY_KIND[err.kind] ?? null,
    },
  });
  return { status: err.status, headers: { 'content-type': 'application/json' }, body };
}

export function openAIAuthFailure(): GatewayErrorInfo {
  return {
    kind: 'authentication_error',
    status: 401,
    message: 'Incorrect API key provided. You can find your API key in your account settings.',
  };
}

export function openAIModelNotFound(name: string): GatewayErrorInfo {
  return {
    kind: 'not_found_error',
    status: 404,
    message: `The model '${name}' does not exist or you do not have access to it.`,
  };
}

export function readOpenAIError(body: JsonValue | undefined): UpstreamErrorFacts {
  const error = field(body, 'error');
  const source = isObject(error) ? error : body;
  return {
    message: str(field(source, 'message')),
    code: codeStr(field(source, 'code')),
    type: str(field(source, 'type')),
  };
}
