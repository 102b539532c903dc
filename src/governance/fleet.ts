// Governance shared by a fleet of replicas (docs/deployment.md): keys and spend in PostgreSQL,
// rate windows and budget reservations in Redis, every replica (and every worker process) its own
// client of both. What stays per replica is what a request's latency depends on: breakers,
// affinity, lane latency. An admission is one Redis script call (batched with every other
// admission meanwhile, fleet-redis.ts); PostgreSQL is read once per (key, window) to seed Redis's
// spend mirror, and written a batch of finished requests at a time behind the answers. A store
// that does not answer costs a request at most STORE_WAIT_MS (two batch stalls: queued behind
// one, then its own) and is then treated as budget_on_store_error says.

import { crypto } from '../builtins.ts';
import type { FleetStores } from '../config/types.ts';
import { log } from '../log.ts';
import type { KeyFigures } from '../observability/metrics.ts';
import { REPLICA } from '../replica.ts';
import type { AdminAnswer, AdmitAsk, Authority, Minted, NewKey, Settlement, Verdict } from './arbiter.ts';
import { KeyDirectory } from './directory.ts';
import { FleetRedis, type RedisCharge, reservationMember } from './fleet-redis.ts';
import { type Charge, FleetStore } from './fleet-store.ts';
import { type KeyMetadata, metadataOf, type VirtualKey } from './keys.ts';
import { accessPair, newKeyRecord, withChanges } from './mint.ts';
import type { KeyChanges, WindowUsage } from './store.ts';
import { StoreHealth, within } from './store-health.ts';
import { budgetWindowStart } from './windows.ts';

/** The longest a request waits for a store before its answer counts as a store failure. */
export const STORE_WAIT_MS = 2000;
/** Admin calls and startup may wait longer. */
const ADMIN_WAIT_MS = 5000;
/**
 * Settlements wait at most this long to be written together: each write wakes the stores, and on
 * a small machine every wake-up costs the gateway more than the statement itself. A `kill -9`
 * loses the charges of at most this last interval (a clean shutdown writes them).
 */
const SETTLE_BATCH_MS = 20;
const SETTLE_BATCH_MAX = 256;
/** Charges kept while a store is down; past it the oldest are dropped (and logged). */
const MAX_PENDING_CHARGES = 200_000;

const NOT_FOUND = { ok: false, status: 404 } as const;
const FAILED = { ok: false, status: 500 } as const;

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Where the stores are, without credentials: `host:port/database` and `host:port`. */
function describeStores(stores: FleetStores): string {
  const where = (url: string): string => {
    const u = new URL(url);
    return `${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  };
  return `governance shared by replicas: keys and spend in PostgreSQL at ${where(stores.store)}, rate windows and budget reservations in Redis at ${where(stores.rateStore)}`;
}

/** A reservation this replica holds, renewed until its request settles. */
interface Held {
  readonly keyId: string;
  readonly window: number;
  readonly member: string;
}

/**
 * Charges waiting to be written to one store, a batch at a time; a batch whose write failed keeps
 * its name, so sending it again cannot count twice.
 */
class ChargeQueue<C> {
  readonly #write: (name: string, charges: readonly C[]) => Promise<void>;
  readonly #health: StoreHealth;
  readonly #what: string;
  #pending: C[] = [];
  #retry: { name: string; charges: C[] } | undefined;
  #writing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    write: (name: string, charges: readonly C[]) => Promise<void>,
    health: StoreHealth,
    what: string,
  ) {
    this.#write = write;
    this.#health = health;
    this.#what = what;
  }

  get size(): number {
    return this.#pending.length + (this.#retry?.charges.length ?? 0);
  }

  push(charge: C): void {
    if (this.#pending.length >= MAX_PENDING_CHARGES) {
      this.#pending.shift();
      log.error(
        { kept: MAX_PENDING_CHARGES, store: this.#health.store },
        `${this.#what}: dropped the oldest unwritten charge`,
      );
    }
    this.#pending.push(charge);
    this.#later(this.#pending.length >= SETTLE_BATCH_MAX ? 0 : SETTLE_BATCH_MS);
  }

  #later(ms: number): void {
    if (this.#timer !== undefined) {
      if (ms > 0) return;
      clearTimeout(this.#timer);
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, ms);
    this.#timer.unref();
  }

  /** Writes everything pending (one batch at a time); resolves when done or a write failed. */
  flush(): Promise<void> {
    this.#writing ??= this.#drain().finally(() => {
      this.#writing = undefined;
    });
    return this.#writing;
  }

  async #drain(): Promise<void> {
    for (;;) {
      if (this.#retry === undefined) {
        if (this.#pending.length === 0) return;
        this.#retry = { name: crypto.randomUUID(), charges: this.#pending.splice(0, SETTLE_BATCH_MAX) };
      }
      const batch = this.#retry;
      try {
        await within(this.#write(batch.name, batch.charges), ADMIN_WAIT_MS, this.#what);
        this.#health.ok();
      } catch (err) {
        // PostgreSQL's 23505 on the batch name: an earlier send was written, only its answer lost.
        if ((err as { code?: unknown }).code !== '23505') {
          this.#health.failed(err);
          this.#later(500);
          return;
        }
      }
      this.#retry = undefined;
    }
  }

  stop(): void {
    clearTimeout(this.#timer);
  }
}

export class FleetAuthority implements Authority {
  readonly reserves = true;
  readonly directory = new KeyDirectory();
  readonly postgres = new StoreHealth(
    'postgres',
    'store (PostgreSQL)',
    'charges wait to be written and keys whose budget Redis has not seen yet are admitted per budget_on_store_error',
  );
  readonly redis = new StoreHealth(
    'redis',
    'rate store (Redis)',
    'keys with a budget or rate limits are admitted per budget_on_store_error',
  );
  readonly #store: FleetStore;
  readonly #redis: FleetRedis;
  readonly #failOpen: boolean;
  /** Reservations of this replica's requests in flight, by member. */
  readonly #held = new Map<string, Held>();
  /** Mirror seeds in flight, by `<window>:<key id>`. */
  readonly #seeding = new Map<string, Promise<void>>();
  readonly #idPrefix = `${crypto.randomBytes(6).toString('hex')}.`;
  #reservationCount = 0;
  readonly #durable: ChargeQueue<Charge>;
  readonly #mirrored: ChargeQueue<RedisCharge>;
  readonly #timers: NodeJS.Timeout[] = [];
  #reloading: Promise<void> | undefined;
  #reloadAgain = false;
  #figures: KeyFigures[] = [];
  #figuresTruncated = false;
  #figuresReading = false;

  private constructor(store: FleetStore, redis: FleetRedis, failOpen: boolean) {
    this.#store = store;
    this.#redis = redis;
    this.#failOpen = failOpen;
    this.#durable = new ChargeQueue(
      (name, charges) => store.settle(name, charges),
      this.postgres,
      'the store',
    );
    this.#mirrored = new ChargeQueue(
      (name, charges) => redis.settle(name, charges),
      this.redis,
      'the rate store',
    );
  }

  /**
   * Connects both stores and loads the keys. PostgreSQL must answer (the keys are there); Redis
   * may come later — until it does, keys with a budget or limits meet budget_on_store_error.
   */
  static async start(stores: FleetStores, failOpen: boolean, announce: boolean): Promise<FleetAuthority> {
    let store: FleetStore;
    try {
      store = await FleetStore.open(stores.store, ADMIN_WAIT_MS / 1000);
    } catch (err) {
      throw new Error(`cannot open the governance store (governance.store): ${errText(err)}`);
    }
    let self: FleetAuthority | undefined;
    const redis = new FleetRedis(
      stores.rateStore,
      stores.ratePrefix,
      STORE_WAIT_MS / 2,
      stores.reservationTtlMs,
      (err) => self?.redis.failed(err),
    );
    self = new FleetAuthority(store, redis, failOpen);
    try {
      self.directory.replace(await store.load((m) => log.warn({}, m)));
      await store.listen(() => void self.#reload());
    } catch (err) {
      self.close();
      throw new Error(`cannot read keys from the governance store: ${errText(err)}`);
    }
    await redis.ready(ADMIN_WAIT_MS).then(
      () => {},
      (err: unknown) => self.redis.failed(err),
    );
    self.#startUpkeep(stores.reservationTtlMs);
    if (announce) log.info({ replica: REPLICA }, describeStores(stores));
    return self;
  }

  /** Renews this replica's reservations a third of the expiry apart; forgets old batch names. */
  #startUpkeep(ttlMs: number): void {
    const renew = setInterval(
      () => {
        if (this.#held.size === 0) return;
        this.#redis.renew([...this.#held.values()]).then(
          () => this.redis.ok(),
          (err: unknown) => this.redis.failed(err),
        );
      },
      Math.max(1000, Math.floor(ttlMs / 3)),
    );
    const forget = setInterval(() => {
      this.#store.forgetOldBatches().catch(() => {});
    }, 600_000);
    renew.unref();
    forget.unref();
    this.#timers.push(renew, forget);
  }

  /**
   * Config reloads across the fleet (issue 16): `reload` runs when another replica announces one
   * (each replica validates its own files); `announce` tells the others after a reload here.
   */
  async shareReloads(reload: () => void): Promise<void> {
    await this.#store.listenForReloads((from) => {
      if (from !== REPLICA) reload();
    });
  }

  announceReload(): void {
    this.#store.announceReload(REPLICA).catch((err: unknown) => this.postgres.failed(err));
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
    const window = budgetWindowStart(key.budget_period, ask.nowMs);
    const cap = key.max_budget_cents;
    const limited = key.rpm_limit !== null || key.tpm_limit !== null;
    // Nothing to count and nothing to reserve: no store is asked.
    if (!limited && cap === null) return { kind: 'admitted', window, charged: true, headroom: null };
    if (cap !== null && ask.reserveCents > cap) return { kind: 'over_budget' };
    const member = reservationMember(this.#nextReservationId(), ask.reserveCents);
    const redisAsk = {
      keyId: key.id,
      limits: { rpm: key.rpm_limit, tpm: key.tpm_limit },
      cap,
      window,
      cents: ask.reserveCents,
      member,
    };
    try {
      let answer = await this.#redis.admit(redisAsk);
      if (answer.kind === 'unknown_budget') {
        // First use of this (key, window) since Redis last saw it: seed the mirror, ask again.
        await this.#seedMirror(key.id, window);
        answer = await this.#redis.admit(redisAsk);
      }
      this.redis.ok();
      switch (answer.kind) {
        case 'rate_limited':
          return { kind: 'rate_limited', retryAfterSecs: answer.retryAfterSecs };
        case 'over_budget':
          return { kind: 'over_budget' };
        case 'unknown_budget':
          throw new Error('the rate store lost the spend it was just given');
        case 'admitted': {
          const rateWindow = limited ? answer.rateWindow : undefined;
          if (cap === null)
            return { kind: 'admitted', window, charged: true, headroom: answer.headroom, rateWindow };
          this.#held.set(member, { keyId: key.id, window, member });
          return {
            kind: 'admitted',
            window,
            charged: true,
            headroom: answer.headroom,
            reservation: member,
            rateWindow,
          };
        }
        default: {
          const never: never = answer;
          throw new Error(`unknown answer ${JSON.stringify(never)}`);
        }
      }
    } catch (err) {
      this.redis.failed(err);
      // The script may have run though no answer came: releasing an unmade reservation changes
      // nothing, so release it either way.
      if (cap !== null)
        this.#mirrored.push({ keyId: key.id, window, member, cents: 0, tokens: 0, rateWindow: -1 });
      return this.#failOpen
        ? { kind: 'admitted', window, charged: true, headroom: null }
        : { kind: 'over_budget' };
    }
  }

  /**
   * A reservation name unique in the fleet: this process's random prefix and a counter (a CSPRNG
   * call per request measured 18 µs of CPU; the name needs uniqueness, not secrecy).
   */
  #nextReservationId(): string {
    return this.#idPrefix + (++this.#reservationCount).toString(36);
  }

  /**
   * Gives Redis the spend PostgreSQL has for (key, window), unless a replica already did. The
   * requests that find the mirror missing at once (a new key's first burst) share one read.
   */
  #seedMirror(keyId: string, window: number): Promise<void> {
    const id = `${window}:${keyId}`;
    let seeding = this.#seeding.get(id);
    if (seeding === undefined) {
      seeding = this.#readAndMirror(keyId, window).finally(() => this.#seeding.delete(id));
      this.#seeding.set(id, seeding);
    }
    return seeding;
  }

  async #readAndMirror(keyId: string, window: number): Promise<void> {
    await this.#durable.flush();
    let usage: WindowUsage;
    try {
      usage = await within(this.#store.usage(keyId, window), STORE_WAIT_MS, 'the store');
      this.postgres.ok();
    } catch (err) {
      this.postgres.failed(err);
      throw err;
    }
    await this.#redis.mirror(keyId, window, usage.spend_cents);
  }

  settle(s: Settlement): void {
    const key = this.directory.byId(s.keyId);
    const credit = s.tokens > 0 && s.rateWindow !== undefined && (key?.tpm_limit ?? null) !== null;
    // Redis: the reservation released and the mirror charged (capped keys), tokens for TPM.
    if (s.reservation !== undefined || credit || (key?.max_budget_cents ?? null) !== null) {
      if (s.reservation !== undefined) this.#held.delete(s.reservation);
      this.#mirrored.push({
        keyId: s.keyId,
        window: s.window,
        member: s.reservation ?? '',
        cents: s.costCents,
        tokens: credit ? s.tokens : 0,
        rateWindow: s.rateWindow ?? -1,
      });
    }
    // PostgreSQL: the durable spend.
    if (s.costCents > 0 || s.tokens > 0 || s.requests > 0) {
      this.#durable.push({
        keyId: s.keyId,
        window: s.window,
        cents: s.costCents,
        tokens: s.tokens,
        requests: s.requests,
      });
    }
  }

  /** Writes what is pending to both stores. */
  async flush(): Promise<void> {
    await Promise.all([this.#durable.flush(), this.#mirrored.flush()]);
  }

  async mint(input: NewKey): Promise<AdminAnswer<Minted>> {
    const made = newKeyRecord(input);
    if (made === undefined) return FAILED;
    const { key, secret, aws } = made;
    // The primary key refuses an id that exists (G-GOV-5: never overwrite another key).
    if (!(await this.#write(() => this.#store.insert(key, aws)))) return FAILED;
    log.info({ key: key.id, name: key.name }, 'virtual key minted');
    return { ok: true, value: { key: metadataOf(key), secret, aws: aws && accessPair(aws) } };
  }

  async list(): Promise<AdminAnswer<KeyMetadata[]>> {
    return { ok: true, value: this.directory.snapshot().keys.map(metadataOf) };
  }

  async update(id: string, changes: KeyChanges): Promise<AdminAnswer<KeyMetadata>> {
    let next: VirtualKey | undefined;
    const written = await this.#write(async () => {
      next = await this.#store.update(id, (current) => withChanges(current, changes));
    });
    if (!written) return FAILED;
    if (next === undefined) return NOT_FOUND;
    if (next.rpm_limit === null && next.tpm_limit === null) this.#forgetRates(id);
    if (changes.max_budget_cents !== undefined) {
      // Settlements of an uncapped key skip Redis: a new cap starts from PostgreSQL's spend.
      const window = budgetWindowStart(next.budget_period, Date.now());
      this.#redis.forgetMirror(id, window).catch((err: unknown) => this.redis.failed(err));
    }
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
          async (rows) => {
            this.#figuresTruncated = rows.length > limit;
            const kept = rows.slice(0, limit);
            // The RPM/TPM windows live in Redis: without it the figures go on, without rate use.
            const used = await this.#redis.rateUse(kept.map((r) => r.id)).catch((err: unknown) => {
              this.redis.failed(err);
              return undefined;
            });
            this.#figures = kept.map((r) => {
              const u = used?.get(r.id);
              return u === undefined ? r : { ...r, rpmUsed: u.requests, tpmUsed: u.tokens };
            });
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
    this.#redis.forgetRates(id).catch((err: unknown) => this.redis.failed(err));
  }

  /** Writes what is pending (bounded), then closes both stores. */
  async shutdown(): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer);
    await within(this.flush(), ADMIN_WAIT_MS, 'the stores').catch((err: unknown) =>
      log.error({ err: errText(err), pending: this.#durable.size }, 'charges not written at shutdown'),
    );
    this.close();
  }

  close(): void {
    for (const timer of this.#timers) clearInterval(timer);
    this.#durable.stop();
    this.#mirrored.stop();
    this.#redis.close();
    void this.#store.close().catch(() => {});
  }
}
