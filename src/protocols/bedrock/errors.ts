// Bedrock error answers: `{"message": …}` with the exception name in `x-amzn-errortype`.

import { crypto } from '../../builtins.ts';
import type { UpstreamErrorFacts, WireError } from '../codec.ts';
import type { ErrorKind, GatewayErrorInfo, JsonValue } from '../ir.ts';
import { field, str } from '../json-access.ts';

const EXCEPTION_BY_KIND: Record<ErrorKind, string> = {
  invalid_request_error: 'ValidationException',
  authentication_error: 'AccessDeniedException',
  permission_error: 'AccessDeniedException',
  not_found_error: 'ResourceNotFoundException',
  request_too_large: 'ValidationException',
  rate_limit_error: 'ThrottlingException',
  insufficient_quota: 'ServiceQuotaExceededException',
  api_error: 'InternalServerException',
  overloaded: 'ServiceUnavailableException',
  timeout: 'ModelTimeoutException',
};

export function writeBedrockError(err: GatewayErrorInfo): WireError {
  const exception = EXCEPTION_BY_KIND[err.kind];
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-amzn-errortype': `${exception}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
    'x-amzn-requestid': crypto.randomUUID(),
  };
  // Budget exhaustion is a 400 ServiceQuotaExceededException on Bedrock (G-GOV-15).
  const status = err.kind === 'insufficient_quota' ? 400 : err.status;
  return { status, headers, body: JSON.stringify({ message: err.message }) };
}

export function bedrockAuthFailure(): GatewayErrorInfo {
  return {
    kind: 'authentication_error',
    status: 403,
    message: 'The security token included in the request is invalid.',
  };
}

export function bedrockModelNotFound(name: string): GatewayErrorInfo {
  return {
    kind: 'not_found_error',
    status: 404,
    message: `The model '${name}' does not exist or you do not have access to it.`,
  };
}

export function readBedrockError(
  body: JsonValue | undefined,
  headers: Readonly<Record<string, string>>,
): UpstreamErrorFacts {
  const raw = headers['x-amzn-errortype'] ?? str(field(body, '__type'));
  // `ThrottlingException:http://…` or `com.amazon…#ThrottlingException` → `ThrottlingException`.
  const type = raw?.split(':')[0]?.split('#').pop();
  return { message: str(field(body, 'message')) ?? str(field(body, 'Message')), code: undefined, type };
}
