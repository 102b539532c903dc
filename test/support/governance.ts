// Governance in e2e tests: a governed deployment of the six-provider fixture and small admin calls.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const ADMIN_TOKEN = 'adm-test-token-7f3a';

/** A fresh database path in its own temp directory. */
export function tempDbPath(): string {
  return path.join(mkdtempSync(path.join(tmpdir(), 'busbar-gov-')), 'gov.db');
}

/** The `governance:` block (appended to sixProvidersConfig). */
export function governanceYaml(dbPath: string, more = ''): string {
  return [
    'governance:',
    '  enabled: true',
    `  admin_token: ${ADMIN_TOKEN}`,
    `  db_path: ${dbPath}`,
    ...more
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => `  ${l}`),
  ].join('\n');
}

export interface AdminReply {
  status: number;
  body: Record<string, unknown>;
}

/** One admin call with the admin token as Bearer. */
export async function admin(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<AdminReply> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

/** Mints a key and returns its id and secret (the test fails loudly if minting does not answer 201). */
export async function mintKey(
  baseUrl: string,
  fields: Record<string, unknown> = {},
): Promise<{ id: string; secret: string; body: Record<string, unknown> }> {
  const r = await admin(baseUrl, 'POST', '/admin/keys', { name: 'test', ...fields });
  if (r.status !== 201) throw new Error(`mint answered ${r.status}: ${JSON.stringify(r.body)}`);
  return { id: String(r.body.id), secret: String(r.body.secret), body: r.body };
}
