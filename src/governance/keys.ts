// Virtual keys (G-GOV-4…7, G-GOV-28): what a key is, how its secrets are made and hashed.
// Secrets come only from the OS CSPRNG; only their SHA-256 is kept, except an AWS secret access
// key, which SigV4 needs in the clear to compute its HMAC.

import { crypto } from '../builtins.ts';

export type BudgetPeriod = 'total' | 'daily' | 'monthly';
export const BUDGET_PERIODS: readonly BudgetPeriod[] = ['total', 'daily', 'monthly'];

/** A key as stored and served by the admin API (never its secret or hash). */
export interface KeyMetadata {
  readonly id: string;
  readonly name: string;
  /** Pool or model names the key may request; empty = all. */
  readonly allowed_pools: readonly string[];
  readonly max_budget_cents: number | null;
  readonly budget_period: BudgetPeriod;
  readonly rpm_limit: number | null;
  readonly tpm_limit: number | null;
  readonly enabled: boolean;
  /** Epoch seconds. */
  readonly created_at: number;
}

/** A key with what authentication needs. */
export interface VirtualKey extends KeyMetadata {
  /** Lowercase hex SHA-256 of the secret. */
  readonly hash: string;
}

/** An issued AWS key pair bound to a virtual key (G-GOV-28). */
export interface AwsCredential {
  readonly accessKeyId: string;
  readonly keyId: string;
  readonly secretAccessKey: string;
}

export const SECRET_PREFIX = 'sk-bb-';

/** Lowercase hex SHA-256 of a presented secret. */
export function hashSecret(secret: string): string {
  // The one-shot form: this runs on every governed request, and it is a third of createHash's cost.
  return crypto.hash('sha256', secret, 'hex');
}

/** `vk_` + the first 16 hex characters of the secret's hash (G-GOV-5). */
export function keyIdFor(hash: string): string {
  return `vk_${hash.slice(0, 16)}`;
}

/** A new secret: `sk-bb-` + 32 hex characters from 16 CSPRNG bytes. Throws if the CSPRNG fails. */
export function newSecret(): string {
  return SECRET_PREFIX + crypto.randomBytes(16).toString('hex');
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** `AKIA` + 16 base32 characters, and a 40-character secret from 30 CSPRNG bytes (6 bits each). */
export function newAwsKeyPair(): { accessKeyId: string; secretAccessKey: string } {
  const idBytes = crypto.randomBytes(16);
  let accessKeyId = 'AKIA';
  for (const b of idBytes) accessKeyId += BASE32[b & 31];
  const secretBytes = crypto.randomBytes(30);
  let secretAccessKey = '';
  for (let i = 0; i < 30; i += 3) {
    const n = (secretBytes[i]! << 16) | (secretBytes[i + 1]! << 8) | secretBytes[i + 2]!;
    secretAccessKey +=
      BASE64[(n >> 18) & 63]! + BASE64[(n >> 12) & 63]! + BASE64[(n >> 6) & 63]! + BASE64[n & 63]!;
  }
  return { accessKeyId, secretAccessKey };
}

/** The admin API's view of a key: every field but the hash. */
export function metadataOf(key: VirtualKey): KeyMetadata {
  return {
    id: key.id,
    name: key.name,
    allowed_pools: key.allowed_pools,
    max_budget_cents: key.max_budget_cents,
    budget_period: key.budget_period,
    rpm_limit: key.rpm_limit,
    tpm_limit: key.tpm_limit,
    enabled: key.enabled,
    created_at: key.created_at,
  };
}
