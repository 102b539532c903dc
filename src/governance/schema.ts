// The governance schema, versioned, for both stores: the reference's three tables (G-GOV-20) in
// one text that SQLite and PostgreSQL both accept, and what only the shared PostgreSQL store needs
// (budget reservations). Each step is idempotent (`IF NOT EXISTS`), so a database the reference
// created opens cleanly; each store records the steps it has run.

/** The reference's tables; `counter` is the integer type of counters and times. */
function referenceTables(counter: 'INTEGER' | 'BIGINT'): string {
  return `CREATE TABLE IF NOT EXISTS virtual_keys (
     id TEXT PRIMARY KEY,
     key_hash TEXT UNIQUE NOT NULL,
     name TEXT NOT NULL,
     allowed_pools TEXT NOT NULL DEFAULT '',
     max_budget_cents ${counter} NULL,
     budget_period TEXT NOT NULL DEFAULT 'total',
     rpm_limit ${counter} NULL,
     tpm_limit ${counter} NULL,
     enabled INTEGER NOT NULL DEFAULT 1,
     created_at ${counter} NOT NULL);
   CREATE TABLE IF NOT EXISTS aws_credentials (
     access_key_id TEXT PRIMARY KEY,
     key_id TEXT NOT NULL,
     secret_access_key TEXT NOT NULL);
   CREATE INDEX IF NOT EXISTS idx_aws_credentials_key_id ON aws_credentials(key_id);
   CREATE TABLE IF NOT EXISTS usage_counters (
     key_id TEXT NOT NULL,
     window_start ${counter} NOT NULL,
     spend_cents ${counter} NOT NULL DEFAULT 0,
     tokens ${counter} NOT NULL DEFAULT 0,
     requests ${counter} NOT NULL DEFAULT 0,
     PRIMARY KEY (key_id, window_start));`;
}

/** SQLite (`PRAGMA user_version` counts the steps run). */
export const SQLITE_MIGRATIONS: readonly string[] = [referenceTables('INTEGER')];

/**
 * PostgreSQL (`busbar_schema.version` counts them). Counters are 64-bit. Step 2: the names of
 * settlement batches already written, so a batch sent again after a lost answer is not charged
 * twice (reservations of requests in flight live in Redis, fleet-redis.ts).
 */
export const POSTGRES_MIGRATIONS: readonly string[] = [
  referenceTables('BIGINT'),
  `CREATE TABLE IF NOT EXISTS busbar_settled (
     batch TEXT PRIMARY KEY,
     at TIMESTAMPTZ NOT NULL DEFAULT now());`,
];
