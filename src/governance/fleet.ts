// Governance shared by a fleet of replicas (docs/deployment.md): keys and spend in PostgreSQL,
// rate windows in Redis, every replica (and every worker process) its own client of both. What
// stays per replica is what a request's latency depends on: breakers, affinity, lane latency.
// Budgets are exact across the fleet by reservation (fleet-store.ts); settlements are written a
// batch at a time behind the answer; a store that does not answer costs a request at most
// STORE_WAIT_MS (two batch stalls: queued behind one, then its own) and is then treated as
// budget_on_store_error says.

import { crypto } from '../builtins.ts';
import type { FleetStores } from '../config/types.ts';
import { log } from '../log.ts';
import type { KeyFigures } from '../observability/metrics.ts';
import { REPLICA } from '../replica.ts';
import type { AdminAnswer, AdmitAsk, Authority, Minted, NewKey, Settlement, Verdict } from './arbiter.ts';
import { Batcher } from './batcher.ts';
import { KeyDirectory } from './directory.ts';
import { FleetRates } from './fleet-rates.ts';
import { type Charge, FleetStore, type Reservation } from './fleet-store.ts';
import {
  type AwsCredential,
  hashSecret,
  type KeyMetadata,
  keyIdFor,
  metadataOf,
  newAwsKeyPair,
  newSecret,
  type VirtualKey,
} from './keys.ts';
import type { KeyChanges, WindowUsage } from './store.ts';
import { StoreHealth, within } from './store-health.ts';
import { budgetWindowStart } from './windows.ts';

/** The longest a request waits for a store before its answer counts as a store failure. */
export const STORE_WAIT_MS = 1000;
/** Admin calls and startup may wait longer. */
const ADMIN_WAIT_MS = 5000;
/**
 * Settlements wait at most this long to be written together: each write wakes PostgreSQL, and on
 * a small machine every wake-up costs the gateway more than the statement itself. A `kill -9`
 * loses the charges of at most this last interval (a clean shutdown writes them).
 */
const SETTLE_BATCH_MS = 20;
const SETTLE_BATCH_MAX = 500;
const RESERVE_BATCH_MAX = 256;
/** Settlements kept while PostgreSQL is down; past it the oldest are dropped (and logged). */
const MAX_PENDING_CHARGES = 200_000;

const NOT_FOUND = { ok: false, status: 404 } as const;
const FAILED = { ok: false, status: 500 } as const;

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class FleetAuthority implements Authority {
  readonly reserves = true;
  readonly directory = new KeyDirectory();
  readonly postgres = new StoreHealth(
    'postgres',
    'store (PostgreSQL)',
    'capped keys are admitted per budget_on_store_error and charges wait',
  );
  readonly redis = new StoreHealth(
    'redis',
    'rate store (Redis)',
    'rate-limited keys are admitted per budget_on_store_error',
  );
  readonly #store: FleetStore;
  readonly #rates: FleetRates;
  readonly #failOpen: boolean;
  readonly #ttlSecs: number;
  readonly #reservations: Batcher<Reservation, boolean>;
  #pending: Charge[] = [];
  /** A batch whose write failed keeps its name, so sending it again cannot charge twice. */
  #retry: { name: string; charges: Charge[] } | undefined;
  #writing = false;
  #flushTimer: NodeJS.Timeout | undefined;
  readonly #timers: NodeJS.Timeout[] = [];
  #reloading: Promise<void> | undefined;
  #reloadAgain = false;
  #figures: KeyFigures[] = [];
  #figuresTruncated = false;
  #figuresReading = false;

  private constructor(store: FleetStore, rates: FleetRates, stores: FleetStores, failOpen: boolean) {
    this.#store = store;
    this.#rates = rates;
    this.#failOpen = failOpen;
    this.#ttlSecs = stores.reservationTtlMs / 1000;
    this.#reservations = new Batcher(
      (asks) => this.#store.reserve(asks, REPLICA, this.#ttlSecs),
      RESERVE_BATCH_MAX,
      STORE_WAIT_MS / 2,
      'the store',
      // Made after their requests stopped waiting: released, not left to be renewed forever.
      (asks, made) =>
        asks.forEach((a, i) => {
          if (made[i])
            this.#charge({
              reservation: a.id,
              keyId: a.keyId,
              window: a.window,
              cents: 0,
              tokens: 0,
              requests: 0,
            });
        }),
    );
  }

  /**
   * Connects both stores and loads the keys. PostgreSQL must answer (the keys are there); Redis
   * may come later — until it does, rate-limited keys meet budget_on_store_error.
   */
  static async start(stores: FleetStores, failOpen: boolean): Promise<FleetAuthority> {
    let store: FleetStore;
    try {
      store = await FleetStore.open(stores.store, ADMIN_WAIT_MS / 1000);
    } catch (err) {
      throw new Error(`cannot open the governance store (governance.store): ${errText(err)}`);
    }
    let self: FleetAuthority | undefined;
    const rates = new FleetRates(stores.rateStore, stores.ratePrefix, STORE_WAIT_MS / 2, (err) =>
      self?.redis.failed(err),
    );
    self = new FleetAuthority(store, rates, stores, failOpen);
    try {
      self.directory.replace(await store.load((m) => log.warn({}, m)));
      await store.listen(() => void self.#reload());
    } catch (err) {
      self.close();
      throw new Error(`cannot read keys from the governance store: ${errText(err)}`);
    }
    await rates.ready(ADMIN_WAIT_MS).then(
      () => {},
      (err: unknown) => self.redis.failed(err),
    );
    self.#startUpkeep(stores.reservationTtlMs);
    return self;
  }

  /** Renews this replica's reservations and sweeps the dead ones' (each a third of the expiry). */
  #startUpkeep(ttlMs: number): void {
    const every = Math.max(1000, Math.floor(ttlMs / 3));
    const renew = setInterval(() => {
      this.#store.renew(REPLICA, this.#ttlSecs).then(
        () => this.postgres.ok(),
        (err: unknown) => this.postgres.failed(err),
      );
      this.#store.sweep().then(
        (freed) => {
          if (freed > 0)
            log.info({ windows: freed }, 'released the budget reservations of a replica that stopped');
        },
        // Two replicas sweeping at once may deadlock one of them; the next sweep does it.
        (err: unknown) => log.debug({ err: errText(err) }, 'reservation sweep failed'),
      );
    }, every);
    renew.unref();
    this.#timers.push(renew);
  }

  /** Reloads the directory; calls arriving meanwhile lead to one more reload after it. */
  #reload(): Promise<void> {
    if (this.#reloading !== undefined) {
      this.#reloadAgain = true;
      return this.#reloading;
    }
    this.#reloading = (async () => {
      do {
        this.#reloadAgain = false;
        try {
          this.directory.replace(await this.#store.load((m) => log.warn({}, m)));
          this.postgres.ok();
        } catch (err) {
          this.postgres.failed(err);
        }
      } while (this.#reloadAgain);
      this.#reloading = undefined;
    })();
    return this.#reloading;
  }

  async admit(ask: AdmitAsk): Promise<Verdict> {
    const key = this.directory.byId(ask.keyId);
    if (key === undefined || !key.enabled) return { kind: 'unknown_key' };
    let headroom: number | null = null;
    let rateWindow: number | undefined;
    if (key.rpm_limit !== null || key.tpm_limit !== null) {
      try {
        const rate = await this.#rates.admit(key.id, { rpm: key.rpm_limit, tpm: key.tpm_limit });
        this.redis.ok();
        if (!rate.ok) return { kind: 'rate_limited', retryAfterSecs: rate.retryAfterSecs };
        headroom = rate.headroom;
        rateWindow = rate.window;
      } catch (err) {
        this.redis.failed(err);
        if (!this.#failOpen) return { kind: 'over_budget' };
      }
    }
    const window = budgetWindowStart(key.budget_period, ask.nowMs);
    const cap = key.max_budget_cents;
    if (cap === null) return { kind: 'admitted', window, charged: true, headroom, rateWindow };
    if (ask.reserveCents > cap) return { kind: 'over_budget' };
    const reservation = crypto.randomUUID();
    const reserving = this.#reservations.submit({
      id: reservation,
      keyId: key.id,
      window,
      cents: ask.reserveCents,
      cap,
    });
    try {
      const reserved = await reserving;
      this.postgres.ok();
      return reserved
        ? { kind: 'admitted', window, charged: true, headroom, reservation, rateWindow }
        : { kind: 'over_budget' };
    } catch (err) {
      this.postgres.failed(err);
      // The statement may have run even though no answer came: releasing an unmade reservation
      // changes nothing, so release it either way.
      this.#charge({ reservation, keyId: key.id, window, cents: 0, tokens: 0, requests: 0 });
      return this.#failOpen
        ? { kind: 'admitted', window, charged: true, headroom, rateWindow }
        : { kind: 'over_budget' };
    }
  }

  settle(s: Settlement): void {
    // Tokens matter to a window only under a TPM limit (RPM-only keys skip the round trip).
    if (
      s.tokens > 0 &&
      s.rateWindow !== undefined &&
      (this.directory.byId(s.keyId)?.tpm_limit ?? null) !== null
    ) {
      this.#rates.credit(s.keyId, s.tokens, s.rateWindow).then(
        () => this.redis.ok(),
        (err: unknown) => this.redis.failed(err),
      );
    }
    this.#charge({
      reservation: s.reservation ?? null,
      keyId: s.keyId,
      window: s.window,
      cents: s.costCents,
      tokens: s.tokens,
      requests: s.requests,
    });
  }

  #charge(charge: Charge): void {
    if (this.#pending.length >= MAX_PENDING_CHARGES) {
      this.#pending.shift();
      log.error(
        { kept: MAX_PENDING_CHARGES },
        'governance store unreachable for too long: dropped the oldest unwritten charge',
      );
    }
    this.#pending.push(charge);
    if (this.#pending.length >= SETTLE_BATCH_MAX) this.#flushSoon(0);
    else this.#flushSoon(SETTLE_BATCH_MS);
  }

  #flushSoon(ms: number): void {
    if (this.#flushTimer !== undefined) {
      if (ms > 0) return;
      clearTimeout(this.#flushTimer);
    }
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined;
      void this.flush();
    }, ms);
    this.#flushTimer.unref();
  }

  /** Writes pending charges, one batch at a time; a failed batch is sent again, by its name. */
  async flush(): Promise<void> {
    if (this.#writing) return;
    this.#writing = true;
    try {
      for (;;) {
        if (this.#retry === undefined) {
          if (this.#pending.length === 0) return;
          this.#retry = { name: crypto.randomUUID(), charges: this.#pending.splice(0, SETTLE_BATCH_MAX) };
        }
        const batch = this.#retry;
        try {
          await within(this.#store.settle(batch.name, batch.charges), ADMIN_WAIT_MS, 'the store');
          this.postgres.ok();
        } catch (err) {
          // 23505 on the batch name: an earlier send of it was written and only its answer lost.
          if ((err as { code?: unknown }).code !== '23505') {
            this.postgres.failed(err);
            this.#writing = false;
            this.#flushSoon(500);
            return;
          }
        }
        this.#retry = undefined;
      }
    } finally {
      this.#writing = false;
    }
  }

  async mint(input: NewKey): Promise<AdminAnswer<Minted>> {
    let secret: string;
    let pair: { accessKeyId: string; secretAccessKey: string } | undefined;
    try {
      secret = newSecret();
      pair = input.issue_aws_credential ? newAwsKeyPair() : undefined;
    } catch (err) {
      log.error({ err: errText(err) }, 'cannot mint a key: the CSPRNG failed');
      return FAILED;
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
    const aws: AwsCredential | undefined = pair && { ...pair, keyId: id };
    // The primary key refuses an id that exists (G-GOV-5: never overwrite another key).
    if (!(await this.#write(() => this.#store.insert(key, aws)))) return FAILED;
    log.info({ key: id, name: key.name }, 'virtual key minted');
    return { ok: true, value: { key: metadataOf(key), secret, aws: pair } };
  }

  async list(): Promise<AdminAnswer<KeyMetadata[]>> {
    return { ok: true, value: this.directory.snapshot().keys.map(metadataOf) };
  }

  async update(id: string, changes: KeyChanges): Promise<AdminAnswer<KeyMetadata>> {
    let next: VirtualKey | undefined;
    const written = await this.#write(async () => {
      next = await this.#store.update(id, (current) => ({
        ...current,
        enabled: changes.enabled ?? current.enabled,
        rpm_limit: changes.rpm_limit === undefined ? current.rpm_limit : changes.rpm_limit,
        tpm_limit: changes.tpm_limit === undefined ? current.tpm_limit : changes.tpm_limit,
        max_budget_cents:
          changes.max_budget_cents === undefined ? current.max_budget_cents : changes.max_budget_cents,
      }));
    });
    if (!written) return FAILED;
    if (next === undefined) return NOT_FOUND;
    if (next.rpm_limit === null && next.tpm_limit === null) this.#forgetRates(id);
    log.info({ key: id }, 'virtual key updated');
    return { ok: true, value: metadataOf(next) };
  }

  async remove(id: string): Promise<AdminAnswer<string>> {
    let removed = false;
    const written = await this.#write(async () => {
      removed = await this.#store.delete(id);
    });
    if (!written) return FAILED;
    if (!removed) return NOT_FOUND;
    this.#forgetRates(id);
    log.info({ key: id }, 'virtual key deleted');
    return { ok: true, value: id };
  }

  async usage(id: string, nowMs: number): Promise<AdminAnswer<WindowUsage>> {
    const key = this.directory.byId(id);
    if (key === undefined) return NOT_FOUND;
    try {
      // This replica's own charges first, so its answer includes every request it has finished.
      await this.flush();
      const usage = await within(
        this.#store.usage(id, budgetWindowStart(key.budget_period, nowMs)),
        ADMIN_WAIT_MS,
        'the store',
      );
      return { ok: true, value: usage };
    } catch (err) {
      log.error({ err: errText(err), key: id }, 'governance store failed to read usage');
      return FAILED;
    }
  }

  /**
   * The per-key gauges (G-OBS-18…20): the figures the last read found; each scrape starts the next
   * read, so a scrape shows the store as of the one before (the interface is synchronous).
   */
  keyFigures(nowMs: number, limit: number): { figures: KeyFigures[]; truncated: boolean } {
    if (!this.#figuresReading) {
      this.#figuresReading = true;
      const windows = {
        daily: budgetWindowStart('daily', nowMs),
        monthly: budgetWindowStart('monthly', nowMs),
      };
      this.#store
        .figures(windows, limit + 1)
        .then(
          (rows) => {
            this.#figuresTruncated = rows.length > limit;
            this.#figures = rows.slice(0, limit);
          },
          (err: unknown) => this.postgres.failed(err),
        )
        .finally(() => {
          this.#figuresReading = false;
        });
    }
    return { figures: this.#figures, truncated: this.#figuresTruncated };
  }

  /** A store write, then this replica's directory reloaded (others reload on the notification). */
  async #write(work: () => Promise<void>): Promise<boolean> {
    try {
      await within(work(), ADMIN_WAIT_MS, 'the store');
    } catch (err) {
      log.error({ err: errText(err) }, 'governance store write failed');
      return false;
    }
    await this.#reload();
    return true;
  }

  #forgetRates(id: string): void {
    this.#rates.forget(id).catch((err: unknown) => this.redis.failed(err));
  }

  /** Writes what is pending (bounded), then closes both stores. */
  async shutdown(): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer);
    clearTimeout(this.#flushTimer);
    await within(this.flush(), ADMIN_WAIT_MS, 'the store').catch((err: unknown) =>
      log.error({ err: errText(err), pending: this.#pending.length }, 'charges not written at shutdown'),
    );
    this.close();
  }

  close(): void {
    for (const timer of this.#timers) clearInterval(timer);
    clearTimeout(this.#flushTimer);
    this.#rates.close();
    void this.#store.close().catch(() => {});
  }
}
