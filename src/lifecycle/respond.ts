// Writing gateway-originated answers: native errors (G-GEN-4) and small JSON/text bodies.

import type { ServerResponse } from 'node:http';
import type { ProtocolEdge } from '../protocols/edge.ts';
import type { ErrorKind, GatewayErrorInfo } from '../protocols/ir.ts';

export function sendError(
  res: ServerResponse,
  edge: ProtocolEdge,
  err: GatewayErrorInfo,
  headers?: Readonly<Record<string, string>>,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const wire = edge.writeError(err);
  // Retry-After is plain HTTP, the same for every protocol (P-ERR).
  const retry = err.retryAfter === undefined ? {} : { 'retry-after': String(err.retryAfter) };
  res.writeHead(wire.status, {
    ...wire.headers,
    ...retry,
    ...headers,
    'content-length': Buffer.byteLength(wire.body),
  });
  res.end(wire.body);
}

export function errorInfo(
  kind: ErrorKind,
  status: number,
  message: string,
  retryAfter?: number,
): GatewayErrorInfo {
  return retryAfter === undefined ? { kind, status, message } : { kind, status, message, retryAfter };
}

export function sendBody(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
