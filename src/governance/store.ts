// The governance database (G-GOV-20…23): keys, issued AWS credentials and spend per budget window,
// in one SQLite file through node:sqlite, with the reference's schema so a database can move
// between the two. Every statement is prepared once and parameterised. The file is opened
// exclusively: the arbiter that owns it keeps spend in memory (spend.ts), so a second process
// writing the same file would make both wrong — it is refused instead.

import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { AwsCredential, BudgetPeriod, VirtualKey } from './keys.ts';
import { BUDGET_PERIODS } from './keys.ts';
import { SQLITE_MIGRATIONS } from './schema.ts';

/** Spend in one budget window. */
export interface WindowUsage {
  readonly spend_cents: number;
  readonly tokens: number;
  readonly requests: number;
}

/** One (key, window) counter as written by the spend book. */
export interface UsageRow {
  readonly keyId: string;
  readonly window: number;
  readonly spend: number;
  readonly tokens: number;
  readonly requests: number;
}

/** The fields PATCH may change; undefined = unchanged, null = unlimited. */
export interface KeyChanges {
  readonly enabled?: boolean;
  readonly rpm_limit?: number | null;
  readonly tpm_limit?: number | null;
  readonly max_budget_cents?: number | null;
}

/** A `virtual_keys` row as both stores read it. */
export interface KeyRow {
  id: string;
  key_hash: string;
  name: string;
  allowed_pools: string;
  max_budget_cents: number | null;
  budget_period: string;
  rpm_limit: number | null;
  tpm_limit: number | null;
  enabled: number;
  created_at: number;
}

/** `allowed_pools` is a JSON array; older rows may hold a comma-separated list (G-GOV-21). */
function readAllowedPools(text: string): string[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (Array.isArray(parsed)) return parsed.filter((p): p is string => typeof p === 'string');
    } catch {
      // not JSON after all: read as the legacy form
    }
  }
  return trimmed === ''
    ? []
    : trimmed
        .split(',')
        .map((p) => p.trim())
        .filter((p) => p !== '');
}

export function keyFromRow(row: KeyRow, warn: (message: string) => void): VirtualKey {
  let period = row.budget_period as BudgetPeriod;
  if (!BUDGET_PERIODS.includes(period)) {
    warn(`key ${row.id} has an unknown budget period '${row.budget_period}'; enforcing it as total`);
    period = 'total';
  }
  return {
    id: row.id,
    hash: row.key_hash,
    name: row.name,
    allowed_pools: readAllowedPools(row.allowed_pools),
    max_budget_cents: row.max_budget_cents,
    budget_period: period,
    rpm_limit: row.rpm_limit,
    tpm_limit: row.tpm_limit,
    enabled: row.enabled !== 0,
    created_at: row.created_at,
  };
}

export class GovernanceStore {
  readonly #db: DatabaseSync;
  readonly #writeUsage: StatementSync;
  readonly #usage: StatementSync;
  readonly #insertKey: StatementSync;
  readonly #insertAws: StatementSync;
  readonly #updateKey: StatementSync;
  readonly #deleteKey: StatementSync;
  readonly #deleteUsage: StatementSync;
  readonly #deleteAws: StatementSync;

  /** Opens (creating if needed) and migrates the database; throws with SQLite's message on failure. */
  constructor(path: string) {
    this.#db = new DatabaseSync(path);
    if (path !== ':memory:') {
      // Exclusive: taken by the first write below and held until close (another busbar on the same
      // file fails to start). WAL with NORMAL sync keeps every committed write through a process
      // crash, fsyncing only at checkpoints.
      try {
        this.#db.exec(
          'PRAGMA busy_timeout = 0; PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; BEGIN IMMEDIATE; COMMIT;',
        );
      } catch (err) {
        this.#db.close();
        const why = err instanceof Error ? err.message : String(err);
        throw new Error(
          /locked|busy/i.test(why)
            ? 'the file is in use by another process (one busbar node owns a governance database)'
            : why,
        );
      }
      this.#db.exec('PRAGMA busy_timeout = 5000;');
    }
    this.#migrate();
    const db = this.#db;
    this.#writeUsage = db.prepare(
      `INSERT INTO usage_counters (key_id, window_start, spend_cents, tokens, requests)
         VALUES (:key, :window, :spend, :tokens, :requests)
       ON CONFLICT (key_id, window_start) DO UPDATE
         SET spend_cents = :spend, tokens = :tokens, requests = :requests`,
    );
    this.#usage = db.prepare(
      `SELECT max(spend_cents, 0) AS spend_cents, max(tokens, 0) AS tokens, max(requests, 0) AS requests
       FROM usage_counters WHERE key_id = :key AND window_start = :window`,
    );
    this.#insertKey = db.prepare(
      `INSERT INTO virtual_keys (id, key_hash, name, allowed_pools, max_budget_cents, budget_period,
         rpm_limit, tpm_limit, enabled, created_at)
       VALUES (:id, :hash, :name, :pools, :budget, :period, :rpm, :tpm, :enabled, :created)`,
    );
    this.#insertAws = db.prepare(
      'INSERT INTO aws_credentials (access_key_id, key_id, secret_access_key) VALUES (:akid, :key, :secret)',
    );
    this.#updateKey = db.prepare(
      `UPDATE virtual_keys SET enabled = :enabled, rpm_limit = :rpm, tpm_limit = :tpm,
         max_budget_cents = :budget WHERE id = :id`,
    );
    this.#deleteKey = db.prepare('DELETE FROM virtual_keys WHERE id = :id');
    this.#deleteUsage = db.prepare('DELETE FROM usage_counters WHERE key_id = :id');
    this.#deleteAws = db.prepare('DELETE FROM aws_credentials WHERE key_id = :id');
  }

  #migrate(): void {
    const row = this.#db.prepare('PRAGMA user_version').get() as { user_version: number };
    for (let v = row.user_version; v < SQLITE_MIGRATIONS.length; v++) {
      this.#transaction(() => {
        this.#db.exec(SQLITE_MIGRATIONS[v]!);
        this.#db.exec(`PRAGMA user_version = ${v + 1}`);
      });
    }
  }

  #transaction<T>(work: () => T): T {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const result = work();
      this.#db.exec('COMMIT');
      return result;
    } catch (err) {
      this.#db.exec('ROLLBACK');
      throw err;
    }
  }

  /** Every key and issued AWS credential (startup and after each admin change). */
  load(warn: (message: string) => void): { keys: VirtualKey[]; aws: AwsCredential[] } {
    const keys = (
      this.#db.prepare('SELECT * FROM virtual_keys ORDER BY created_at, id').all() as unknown as KeyRow[]
    ).map((row) => keyFromRow(row, warn));
    const aws = (
      this.#db
        .prepare('SELECT access_key_id, key_id, secret_access_key FROM aws_credentials')
        .all() as unknown as {
        access_key_id: string;
        key_id: string;
        secret_access_key: string;
      }[]
    ).map((r) => ({ accessKeyId: r.access_key_id, keyId: r.key_id, secretAccessKey: r.secret_access_key }));
    return { keys, aws };
  }

  /** Writes the spend book's changed counters, as they are now, in one transaction. */
  writeUsage(rows: readonly UsageRow[]): void {
    this.#transaction(() => {
      for (const r of rows) {
        this.#writeUsage.run({
          key: r.keyId,
          window: r.window,
          spend: r.spend,
          tokens: r.tokens,
          requests: r.requests,
        });
      }
    });
  }

  usage(keyId: string, window: number): WindowUsage {
    const row = this.#usage.get({ key: keyId, window }) as WindowUsage | undefined;
    return { spend_cents: row?.spend_cents ?? 0, tokens: row?.tokens ?? 0, requests: row?.requests ?? 0 };
  }

  /** Writes a new key and its AWS credential (if any) in one transaction. */
  insert(key: VirtualKey, aws: AwsCredential | undefined): void {
    this.#transaction(() => {
      this.#insertKey.run({
        id: key.id,
        hash: key.hash,
        name: key.name,
        pools: JSON.stringify(key.allowed_pools),
        budget: key.max_budget_cents,
        period: key.budget_period,
        rpm: key.rpm_limit,
        tpm: key.tpm_limit,
        enabled: key.enabled ? 1 : 0,
        created: key.created_at,
      });
      if (aws !== undefined) {
        this.#insertAws.run({ akid: aws.accessKeyId, key: aws.keyId, secret: aws.secretAccessKey });
      }
    });
  }

  /** Writes a key's mutable fields as given (the caller merged the changes). */
  update(key: VirtualKey): void {
    this.#updateKey.run({
      id: key.id,
      enabled: key.enabled ? 1 : 0,
      rpm: key.rpm_limit,
      tpm: key.tpm_limit,
      budget: key.max_budget_cents,
    });
  }

  /** Deletes a key with its usage and AWS credentials in one transaction (G-GOV-23). */
  delete(keyId: string): boolean {
    return this.#transaction(() => {
      const removed = Number(this.#deleteKey.run({ id: keyId }).changes) > 0;
      this.#deleteUsage.run({ id: keyId });
      this.#deleteAws.run({ id: keyId });
      return removed;
    });
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}
