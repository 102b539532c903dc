// Assertions on the gateway's native error envelopes (protocols.md §6), one shape per ingress protocol.

import assert from 'node:assert/strict';
import type { Protocol } from '../../src/protocols/names.ts';

/** A gateway error kind (gateway.md G-GEN-4) as the tests name it. */
export type ErrorKind =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'api_error';

const ANTHROPIC_TYPE: Record<ErrorKind, string> = {
  invalid_request_error: 'invalid_request_error',
  authentication_error: 'authentication_error',
  permission_error: 'permission_error',
  not_found_error: 'not_found_error',
  request_too_large: 'request_too_large',
  rate_limit_error: 'rate_limit_error',
  api_error: 'api_error',
};

const GOOGLE_STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  413: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
};

const BEDROCK_TYPE: Record<ErrorKind, string> = {
  invalid_request_error: 'ValidationException',
  authentication_error: 'AccessDeniedException',
  permission_error: 'AccessDeniedException',
  not_found_error: 'ResourceNotFoundException',
  request_too_large: 'ValidationException',
  rate_limit_error: 'ThrottlingException',
  api_error: 'InternalServerException',
};

export interface ErrorResponse {
  status: number;
  headers: Headers | Record<string, string | undefined>;
  body: string;
}

function header(headers: ErrorResponse['headers'], name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  return headers[name];
}

/**
 * Asserts `res` is `protocol`'s native error envelope for `kind` and returns the message it carries.
 * Gemini's status name is checked against the HTTP status (Google names follow the code).
 */
export function assertNativeError(protocol: Protocol, res: ErrorResponse, kind: ErrorKind): string {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(res.body) as Record<string, unknown>;
  } catch {
    assert.fail(`${protocol} error body is not JSON (status ${res.status}): ${res.body.slice(0, 200)}`);
  }
  const ctype = header(res.headers, 'content-type') ?? '';
  assert.match(ctype, /json/, `${protocol} error content-type: ${ctype}`);
  switch (protocol) {
    case 'openai':
    case 'responses': {
      const err = body.error as Record<string, unknown> | undefined;
      assert.ok(err && typeof err === 'object', `openai envelope: ${res.body}`);
      assert.equal(typeof err.message, 'string');
      assert.equal(err.param, null);
      assert.ok('code' in err, 'openai envelope has a code field');
      if (kind === 'request_too_large') assert.equal(typeof err.type, 'string');
      else assert.equal(err.type, kind);
      if (kind === 'authentication_error') assert.equal(err.code, 'invalid_api_key');
      return err.message as string;
    }
    case 'anthropic': {
      assert.equal(body.type, 'error', res.body);
      const err = body.error as Record<string, unknown>;
      assert.equal(err.type, ANTHROPIC_TYPE[kind]);
      assert.equal(typeof err.message, 'string');
      return err.message as string;
    }
    case 'gemini': {
      const err = body.error as Record<string, unknown>;
      assert.ok(err && typeof err === 'object', `gemini envelope: ${res.body}`);
      assert.equal(err.code, res.status);
      assert.equal(err.status, GOOGLE_STATUS[res.status] ?? err.status);
      assert.equal(typeof err.message, 'string');
      return err.message as string;
    }
    case 'cohere':
      assert.equal(typeof body.message, 'string', res.body);
      return body.message as string;
    case 'bedrock': {
      assert.equal(typeof body.message, 'string', res.body);
      const type = header(res.headers, 'x-amzn-errortype') ?? '';
      assert.equal(type.split(':')[0], BEDROCK_TYPE[kind], `x-amzn-errortype ${type}`);
      assert.ok(header(res.headers, 'x-amzn-requestid'), 'x-amzn-requestid present');
      return body.message as string;
    }
    default: {
      const never: never = protocol;
      throw new Error(`unknown protocol ${String(never)}`);
    }
  }
}

/** Bad-credential status per ingress protocol (G-SEC-3). */
export function badCredentialStatus(protocol: Protocol): number {
  if (protocol === 'bedrock') return 403;
  if (protocol === 'gemini') return 400;
  return 401;
}

/** Kind used for the bad-credential envelope: Gemini answers INVALID_ARGUMENT, Bedrock AccessDenied. */
export function badCredentialKind(protocol: Protocol): ErrorKind {
  if (protocol === 'gemini') return 'invalid_request_error';
  if (protocol === 'bedrock') return 'permission_error';
  return 'authentication_error';
}
