// Keys, issued AWS credentials and spend shared by every replica, in PostgreSQL: the durable truth
// of a fleet (docs/deployment.md). Spend is written a batch of finished requests at a time;
// admission never waits for PostgreSQL except to read a (key, window)'s spend once, when Redis
// has no mirror of it yet (fleet-redis.ts). Key changes are announced with NOTIFY so every replica
// reloads its directory at once.

import postgres from 'postgres';
import type { KeySnapshot } from './directory.ts';
import type { AwsCredential, VirtualKey } from './keys.ts';
import { POSTGRES_MIGRATIONS } from './schema.ts';
import { type KeyRow, keyFromRow, type WindowUsage } from './store.ts';

/** The channel every replica listens on; the payload is the changed key's id. */
const KEYS_CHANNEL = 'busbar_keys';
/** A configuration reload asked of every replica; the payload names the replica that asked. */
const RELOAD_CHANNEL = 'busbar_reload';

/** One finished request's charge, as settlement writes it. */
export interface Charge {
  readonly keyId: string;
  readonly window: number;
  readonly cents: number;
  readonly tokens: number;
  readonly requests: number;
}

/** A key's figures in its current window, for the per-key gauges. */
export interface FleetFigure {
  readonly id: string;
  readonly spendCents: number;
  readonly tokens: number;
  readonly capCents: number | null;
}

const KEY_COLUMNS = `id, key_hash, name, allowed_pools, max_budget_cents::float8 AS max_budget_cents,
  budget_period, rpm_limit::float8 AS rpm_limit, tpm_limit::float8 AS tpm_limit, enabled,
  created_at::float8 AS created_at`;

export class FleetStore {
  readonly #sql: postgres.Sql;

  private constructor(sql: postgres.Sql) {
    this.#sql = sql;
  }

  /**
   * Connects and brings the schema up to date (one replica at a time, under an advisory lock).
   * Throws with the server's message when it cannot; the URL is never part of a message.
   */
  static async open(url: string, connectTimeoutSecs: number): Promise<FleetStore> {
    const sql = postgres(url, {
      max: 10,
      connect_timeout: connectTimeoutSecs,
      idle_timeout: 0,
      onnotice: () => {},
      // Counters are read as float8 where JS needs numbers; everything else is text.
      fetch_types: false,
    });
    try {
      await sql.begin(async (tx) => {
        await tx`SELECT pg_advisory_xact_lock(hashtext('busbar_schema'))`;
        await tx`CREATE TABLE IF NOT EXISTS busbar_schema (version INTEGER NOT NULL)`;
        const rows = await tx<{ version: number }[]>`SELECT version FROM busbar_schema`;
        let version = rows[0]?.version ?? 0;
        if (rows.length === 0) await tx`INSERT INTO busbar_schema (version) VALUES (0)`;
        for (; version < POSTGRES_MIGRATIONS.length; version++) {
          await tx.unsafe(POSTGRES_MIGRATIONS[version]!);
          await tx`UPDATE busbar_schema SET version = ${version + 1}`;
        }
      });
    } catch (err) {
      await sql.end({ timeout: 1 }).catch(() => {});
      throw err;
    }
    return new FleetStore(sql);
  }

  /** Every key and issued AWS credential. */
  async load(warn: (message: string) => void): Promise<KeySnapshot> {
    const sql = this.#sql;
    const [rows, aws] = await Promise.all([
      sql.unsafe<KeyRow[]>(`SELECT ${KEY_COLUMNS} FROM virtual_keys ORDER BY created_at, id`),
      sql<{ access_key_id: string; key_id: string; secret_access_key: string }[]>`
        SELECT access_key_id, key_id, secret_access_key FROM aws_credentials`,
    ]);
    return {
      keys: rows.map((row) => keyFromRow({ ...row, enabled: Number(row.enabled) }, warn)),
      aws: aws.map((r) => ({
        accessKeyId: r.access_key_id,
        keyId: r.key_id,
        secretAccessKey: r.secret_access_key,
      })),
    };
  }

  /**
   * Calls `changed` on every key change any replica announces, and each time the listening
   * connection is (re)established, since a change may have been missed while it was down.
   */
  async listen(changed: () => void): Promise<void> {
    await this.#sql.listen(KEYS_CHANNEL, changed, changed);
  }

  /** Calls `asked` with the asking replica's name whenever any replica announces a reload. */
  async listenForReloads(asked: (from: string) => void): Promise<void> {
    await this.#sql.listen(RELOAD_CHANNEL, asked);
  }

  /** Asks every replica to reload its configuration files. */
  async announceReload(from: string): Promise<void> {
    await this.#sql.notify(RELOAD_CHANNEL, from);
  }

  /** Writes a new key and its AWS credential (if any) in one transaction, and announces it. */
  async insert(key: VirtualKey, aws: AwsCredential | undefined): Promise<void> {
    await this.#sql.begin(async (tx) => {
      await tx`INSERT INTO virtual_keys (id, key_hash, name, allowed_pools, max_budget_cents,
          budget_period, rpm_limit, tpm_limit, enabled, created_at)
        VALUES (${key.id}, ${key.hash}, ${key.name}, ${JSON.stringify(key.allowed_pools)},
          ${key.max_budget_cents}::int8, ${key.budget_period}, ${key.rpm_limit}::int8,
          ${key.tpm_limit}::int8, ${key.enabled ? 1 : 0}, ${key.created_at}::int8)`;
      if (aws !== undefined) {
        await tx`INSERT INTO aws_credentials (access_key_id, key_id, secret_access_key)
          VALUES (${aws.accessKeyId}, ${aws.keyId}, ${aws.secretAccessKey})`;
      }
      await tx`SELECT pg_notify(${KEYS_CHANNEL}, ${key.id})`;
    });
  }

  /**
   * Applies `merge` to the key as stored, under a row lock (no other replica's change can
   * interleave), and announces it. Undefined when the key does not exist.
   */
  async update(id: string, merge: (current: VirtualKey) => VirtualKey): Promise<VirtualKey | undefined> {
    return this.#sql.begin(async (tx) => {
      const rows = await tx.unsafe<KeyRow[]>(
        `SELECT ${KEY_COLUMNS} FROM virtual_keys WHERE id = $1 FOR UPDATE`,
        [id],
      );
      const row = rows[0];
      if (row === undefined) return undefined;
      const next = merge(keyFromRow({ ...row, enabled: Number(row.enabled) }, () => {}));
      await tx`UPDATE virtual_keys SET enabled = ${next.enabled ? 1 : 0}, rpm_limit = ${next.rpm_limit}::int8,
          tpm_limit = ${next.tpm_limit}::int8, max_budget_cents = ${next.max_budget_cents}::int8
        WHERE id = ${id}`;
      await tx`SELECT pg_notify(${KEYS_CHANNEL}, ${id})`;
      return next;
    });
  }

  /** Deletes a key with its usage and AWS credentials (G-GOV-23), and announces it. */
  async delete(id: string): Promise<boolean> {
    return this.#sql.begin(async (tx) => {
      const removed = await tx`DELETE FROM virtual_keys WHERE id = ${id}`;
      await tx`DELETE FROM usage_counters WHERE key_id = ${id}`;
      await tx`DELETE FROM aws_credentials WHERE key_id = ${id}`;
      await tx`SELECT pg_notify(${KEYS_CHANNEL}, ${id})`;
      return removed.count > 0;
    });
  }

  /**
   * Writes a batch of charges in one statement (as one JSON parameter: the client serialises one
   * string, not six arrays): each charge adds its cost, tokens and request count. `batch` names
   * the batch: a batch whose answer was lost and is sent again fails on it (23505) instead of
   * charging twice.
   */
  async settle(batch: string, charges: readonly Charge[]): Promise<void> {
    const sql = this.#sql;
    await sql`
      WITH once AS (INSERT INTO busbar_settled (batch) VALUES (${batch}) RETURNING 1),
      s AS (
        SELECT "keyId" AS key_id, "window" AS window_start, cents, tokens, requests
        FROM jsonb_to_recordset(${JSON.stringify(charges)}::text::jsonb)
          AS x("keyId" TEXT, "window" BIGINT, cents BIGINT, tokens BIGINT, requests BIGINT)
        WHERE EXISTS (SELECT 1 FROM once)),
      owed AS (
        SELECT key_id, window_start, sum(cents) AS cents, sum(tokens) AS tokens, sum(requests) AS requests
        FROM s GROUP BY key_id, window_start)
      INSERT INTO usage_counters AS u (key_id, window_start, spend_cents, tokens, requests)
      SELECT key_id, window_start, cents, tokens, requests FROM owed ORDER BY key_id, window_start
      ON CONFLICT (key_id, window_start) DO UPDATE SET
        spend_cents = u.spend_cents + EXCLUDED.spend_cents,
        tokens = u.tokens + EXCLUDED.tokens,
        requests = u.requests + EXCLUDED.requests`;
  }

  /** Forgets batch names older than an hour (a batch is re-sent within seconds, if ever). */
  async forgetOldBatches(): Promise<void> {
    await this.#sql`DELETE FROM busbar_settled WHERE at < now() - interval '1 hour'`;
  }

  async usage(keyId: string, window: number): Promise<WindowUsage> {
    const rows = await this.#sql<{ spend_cents: number; tokens: number; requests: number }[]>`
      SELECT greatest(spend_cents, 0)::float8 AS spend_cents, greatest(tokens, 0)::float8 AS tokens,
        greatest(requests, 0)::float8 AS requests
      FROM usage_counters WHERE key_id = ${keyId} AND window_start = ${window}::int8`;
    const row = rows[0];
    return { spend_cents: row?.spend_cents ?? 0, tokens: row?.tokens ?? 0, requests: row?.requests ?? 0 };
  }

  /** The first `limit` keys' spend and tokens in their current windows, in store order. */
  async figures(windows: { daily: number; monthly: number }, limit: number): Promise<FleetFigure[]> {
    const rows = await this.#sql<
      { id: string; spend: number | null; tokens: number | null; cap: number | null }[]
    >`
      SELECT k.id, u.spend_cents::float8 AS spend, u.tokens::float8 AS tokens, k.max_budget_cents::float8 AS cap
      FROM virtual_keys k LEFT JOIN usage_counters u ON u.key_id = k.id AND u.window_start =
        CASE k.budget_period WHEN 'daily' THEN ${windows.daily}::int8
          WHEN 'monthly' THEN ${windows.monthly}::int8 ELSE 0 END
      ORDER BY k.created_at, k.id LIMIT ${limit}`;
    return rows.map((r) => ({
      id: r.id,
      spendCents: Math.max(0, r.spend ?? 0),
      tokens: Math.max(0, r.tokens ?? 0),
      capCents: r.cap,
    }));
  }

  async close(): Promise<void> {
    await this.#sql.end({ timeout: 2 });
  }
}
