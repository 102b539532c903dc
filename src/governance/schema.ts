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
 * PostgreSQL (`busbar_schema.version` counts them). Counters are 64-bit. Step 2: what in-flight
 * requests have reserved against each window, and the reservations themselves, each held by one
 * replica and expiring unless that replica keeps renewing it; and the names of settlement batches
 * already written, so a batch sent again after a lost answer is not charged twice.
 */
export const POSTGRES_MIGRATIONS: readonly string[] = [
  referenceTables('BIGINT'),
  `ALTER TABLE usage_counters ADD COLUMN IF NOT EXISTS reserved_cents BIGINT NOT NULL DEFAULT 0;
   CREATE TABLE IF NOT EXISTS busbar_reservations (
     id TEXT PRIMARY KEY,
     key_id TEXT NOT NULL,
     window_start BIGINT NOT NULL,
     cents BIGINT NOT NULL,
     replica TEXT NOT NULL,
     expires_at TIMESTAMPTZ NOT NULL);
   CREATE INDEX IF NOT EXISTS idx_busbar_reservations_replica ON busbar_reservations(replica);
   CREATE INDEX IF NOT EXISTS idx_busbar_reservations_expiry ON busbar_reservations(expires_at);
   CREATE TABLE IF NOT EXISTS busbar_settled (
     batch TEXT PRIMARY KEY,
     at TIMESTAMPTZ NOT NULL DEFAULT now());`,
  // Step 3: many reservations in one call (one round trip for every request admitted meanwhile),
  // each checked against the cap after the ones before it. Callers sort by key, so concurrent
  // calls lock counter rows in one order and cannot deadlock.
  `CREATE OR REPLACE FUNCTION busbar_reserve(asks JSONB, holder TEXT, ttl FLOAT8) RETURNS SETOF TEXT
   LANGUAGE plpgsql AS $$
   DECLARE a RECORD;
   BEGIN
     FOR a IN SELECT * FROM jsonb_to_recordset(asks)
         AS x(id TEXT, "keyId" TEXT, "window" BIGINT, cents BIGINT, cap BIGINT) LOOP
       INSERT INTO usage_counters AS u (key_id, window_start, reserved_cents)
       VALUES (a."keyId", a."window", a.cents)
       ON CONFLICT (key_id, window_start) DO UPDATE
         SET reserved_cents = u.reserved_cents + EXCLUDED.reserved_cents
         WHERE u.spend_cents + u.reserved_cents + EXCLUDED.reserved_cents <= a.cap;
       IF FOUND THEN
         INSERT INTO busbar_reservations (id, key_id, window_start, cents, replica, expires_at)
         VALUES (a.id, a."keyId", a."window", a.cents, holder, now() + make_interval(secs => ttl));
         RETURN NEXT a.id;
       END IF;
     END LOOP;
   END $$;`,
];
