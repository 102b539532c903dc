// Virtual keys as both authorities make and change them: a new key (G-GOV-4, G-GOV-5, G-GOV-28) with
// its secret and any AWS key pair from the OS CSPRNG, only the secret's hash kept, the id derived
// from the hash; and a key with an admin PATCH applied.

import { log } from '../log.ts';
import type { NewKey } from './arbiter.ts';
import {
  type AwsCredential,
  hashSecret,
  keyIdFor,
  newAwsKeyPair,
  newSecret,
  type VirtualKey,
} from './keys.ts';
import type { KeyChanges } from './store.ts';

export interface NewKeyRecord {
  readonly key: VirtualKey;
  /** Shown once, never stored. */
  readonly secret: string;
  readonly aws: AwsCredential | undefined;
}

/** The key to store for `input`; undefined (logged) when the CSPRNG fails: never a weaker fallback. */
export function newKeyRecord(input: NewKey): NewKeyRecord | undefined {
  let secret: string;
  let pair: { accessKeyId: string; secretAccessKey: string } | undefined;
  try {
    secret = newSecret();
    pair = input.issue_aws_credential ? newAwsKeyPair() : undefined;
  } catch (err) {
    log.error(
      { err: err instanceof Error ? err.message : String(err) },
      'cannot mint a key: the CSPRNG failed',
    );
    return undefined;
  }
  const hash = hashSecret(secret);
  const id = keyIdFor(hash);
  const key: VirtualKey = {
    id,
    hash,
    name: input.name,
    allowed_pools: [...input.allowed_pools],
    max_budget_cents: input.max_budget_cents,
    budget_period: input.budget_period,
    rpm_limit: input.rpm_limit,
    tpm_limit: input.tpm_limit,
    enabled: true,
    created_at: Math.floor(Date.now() / 1000),
  };
  return { key, secret, aws: pair && { ...pair, keyId: id } };
}

/** The pair as the mint answer shows it once (no key id). */
export function accessPair(aws: AwsCredential): { accessKeyId: string; secretAccessKey: string } {
  return { accessKeyId: aws.accessKeyId, secretAccessKey: aws.secretAccessKey };
}

/** `current` with a PATCH's changes: undefined leaves a field, null makes a limit unlimited. */
export function withChanges(current: VirtualKey, changes: KeyChanges): VirtualKey {
  return {
    ...current,
    enabled: changes.enabled ?? current.enabled,
    rpm_limit: changes.rpm_limit === undefined ? current.rpm_limit : changes.rpm_limit,
    tpm_limit: changes.tpm_limit === undefined ? current.tpm_limit : changes.tpm_limit,
    max_budget_cents:
      changes.max_budget_cents === undefined ? current.max_budget_cents : changes.max_budget_cents,
  };
}
