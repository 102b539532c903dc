// The one authority over a node's governance state: admission charges, rate windows, settlements
// and key changes. It runs in exactly one process (the only process, or the primary of
// `workers: N`), so budgets and RPM/TPM windows are exact for the whole node; workers reach it
// through the `Authority` interface (arbiter-ipc.ts), the lone process calls it directly.

import { log } from '../log.ts';
import type { KeyFigures } from '../observability/metrics.ts';
import { KeyDirectory, type KeySnapshot } from './directory.ts';
import { type BudgetPeriod, type KeyMetadata, metadataOf } from './keys.ts';
import { accessPair, newKeyRecord, withChanges } from './mint.ts';
import { RateWindows } from './rate.ts';
import { SpendBook } from './spend.ts';
import type { GovernanceStore, KeyChanges, WindowUsage } from './store.ts';
import { budgetWindowStart } from './windows.ts';

export interface AdmitAsk {
  readonly keyId: string;
  /** The flat fee of the model the request names (or the default price). */
  readonly fee: number;
  /**
   * The request's worst-case cost in cents, for an authority that reserves budgets (`reserves`);
   * computed only for a capped key, else 0.
   */
  readonly reserveCents: number;
  readonly nowMs: number;
}

export type Verdict =
  /** `charged`: whether a fee and request count were recorded (false when the store failed open). */
  | {
      readonly kind: 'admitted';
      readonly window: number;
      readonly charged: boolean;
      /** The key's rate headroom after this request (G-GOV-17); null without limits. */
      readonly headroom: number | null;
      /** The budget reservation settlement releases (a reserving authority, a capped key). */
      readonly reservation?: string | undefined;
      /** The shared rate window the request was counted in, for its TPM credit. */
      readonly rateWindow?: number | undefined;
    }
  | { readonly kind: 'rate_limited'; readonly retryAfterSecs: number }
  | { readonly kind: 'over_budget' }
  /** Deleted or disabled since the worker authenticated it. */
  | { readonly kind: 'unknown_key' };

/** What a finished request owes or gets back. */
export interface Settlement {
  readonly keyId: string;
  readonly window: number;
  /** The flat fee to give back with its request count (the answer was not 2xx). */
  readonly refundFee: number | undefined;
  readonly tokens: number;
  readonly tokenCostCents: number;
  /** Everything the request owes: the flat fee if it succeeded (and was charged) plus its tokens. */
  readonly costCents: number;
  /** 1 for a request billed as a success, else 0. */
  readonly requests: number;
  readonly reservation: string | undefined;
  readonly rateWindow: number | undefined;
  readonly admittedAtMs: number;
  readonly nowMs: number;
}

export interface NewKey {
  readonly name: string;
  readonly allowed_pools: readonly string[];
  readonly max_budget_cents: number | null;
  readonly budget_period: BudgetPeriod;
  readonly rpm_limit: number | null;
  readonly tpm_limit: number | null;
  readonly issue_aws_credential: boolean;
}

export interface Minted {
  readonly key: KeyMetadata;
  readonly secret: string;
  readonly aws: { readonly accessKeyId: string; readonly secretAccessKey: string } | undefined;
}

export type AdminAnswer<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly status: 404 | 500 };

/** The arbiter as the request path and the admin API see it, wherever it runs. */
export interface Authority {
  /**
   * True when admission reserves each request's worst case against the budget (the shared
   * store), so the guard computes `reserveCents`; false where the flat fee is charged at once.
   */
  readonly reserves: boolean;
  admit(ask: AdmitAsk): Verdict | Promise<Verdict>;
  /** Fire and forget: errors are logged by the arbiter. */
  settle(settlement: Settlement): void;
  mint(input: NewKey): Promise<AdminAnswer<Minted>>;
  list(): Promise<AdminAnswer<KeyMetadata[]>>;
  update(id: string, changes: KeyChanges): Promise<AdminAnswer<KeyMetadata>>;
  remove(id: string): Promise<AdminAnswer<string>>;
  usage(id: string, nowMs: number): Promise<AdminAnswer<WindowUsage>>;
}

const NOT_FOUND = { ok: false, status: 404 } as const;
const FAILED = { ok: false, status: 500 } as const;

export class Arbiter implements Authority {
  readonly reserves = false;
  readonly #store: GovernanceStore;
  readonly #keys: KeyDirectory;
  readonly #rates = new RateWindows();
  readonly #spend: SpendBook;
  readonly #failOpen: boolean;
  /** Called with the new key set after every change (workers' directories). */
  readonly #published: ((snapshot: KeySnapshot) => void | Promise<void>)[] = [];

  constructor(store: GovernanceStore, failOpen: boolean) {
    this.#store = store;
    this.#spend = new SpendBook(store);
    this.#failOpen = failOpen;
    this.#keys = new KeyDirectory(store.load((m) => log.warn({}, m)));
  }

  /** The arbiter's own directory (the lone process authenticates against it directly). */
  get directory(): KeyDirectory {
    return this.#keys;
  }

  /** `publish` runs after each change; the admin call answers once every returned promise settles. */
  onChange(publish: (snapshot: KeySnapshot) => void | Promise<void>): void {
    this.#published.push(publish);
  }

  admit(ask: AdmitAsk): Verdict {
    const key = this.#keys.byId(ask.keyId);
    if (key === undefined || !key.enabled) return { kind: 'unknown_key' };
    const rate = this.#rates.admit(key.id, { rpm: key.rpm_limit, tpm: key.tpm_limit }, ask.nowMs);
    if (!rate.ok) return { kind: 'rate_limited', retryAfterSecs: rate.retryAfterSecs };
    const window = budgetWindowStart(key.budget_period, ask.nowMs);
    try {
      return this.#spend.charge(key.id, window, ask.fee, key.max_budget_cents)
        ? { kind: 'admitted', window, charged: true, headroom: rate.headroom }
        : { kind: 'over_budget' };
    } catch (err) {
      // G-GOV-16: the operator chose whether a store failure admits (uncharged) or refuses.
      log.warn({ err: errText(err), key: key.id }, 'governance store failed during the admission charge');
      return this.#failOpen
        ? { kind: 'admitted', window, charged: false, headroom: rate.headroom }
        : { kind: 'over_budget' };
    }
  }

  settle(s: Settlement): void {
    if (s.refundFee === undefined && s.tokens === 0) return;
    try {
      if (s.refundFee !== undefined) this.#spend.refund(s.keyId, s.window, s.refundFee);
      if (s.tokens > 0) {
        this.#spend.addTokens(s.keyId, s.window, s.tokenCostCents, s.tokens);
        this.#rates.credit(s.keyId, s.tokens, s.admittedAtMs, s.nowMs);
      }
    } catch (err) {
      log.warn({ err: errText(err), key: s.keyId }, 'governance store failed to settle a request');
    }
  }

  async mint(input: NewKey): Promise<AdminAnswer<Minted>> {
    const made = newKeyRecord(input);
    if (made === undefined) return FAILED;
    const { key, secret, aws } = made;
    if (this.#keys.byId(key.id) !== undefined) {
      log.error({ key: key.id }, 'minted key id collides with an existing key; refusing to overwrite it');
      return FAILED;
    }
    if (!this.#write(() => this.#store.insert(key, aws))) return FAILED;
    await this.#publish();
    log.info({ key: key.id, name: key.name }, 'virtual key minted');
    return { ok: true, value: { key: metadataOf(key), secret, aws: aws && accessPair(aws) } };
  }

  async list(): Promise<AdminAnswer<KeyMetadata[]>> {
    return { ok: true, value: this.#keys.snapshot().keys.map(metadataOf) };
  }

  async update(id: string, changes: KeyChanges): Promise<AdminAnswer<KeyMetadata>> {
    // Read and write in one synchronous turn: no concurrent delete can interleave (G-ADM-12).
    const current = this.#keys.byId(id);
    if (current === undefined) return NOT_FOUND;
    const next = withChanges(current, changes);
    if (!this.#write(() => this.#store.update(next))) return FAILED;
    if (next.rpm_limit === null && next.tpm_limit === null) this.#rates.forget(id);
    await this.#publish();
    log.info({ key: id }, 'virtual key updated');
    return { ok: true, value: metadataOf(next) };
  }

  async remove(id: string): Promise<AdminAnswer<string>> {
    if (this.#keys.byId(id) === undefined) return NOT_FOUND;
    let removed = false;
    if (!this.#write(() => (removed = this.#store.delete(id)))) return FAILED;
    if (!removed) return NOT_FOUND;
    this.#rates.forget(id);
    this.#spend.forget(id);
    await this.#publish();
    log.info({ key: id }, 'virtual key deleted');
    return { ok: true, value: id };
  }

  async usage(id: string, nowMs: number): Promise<AdminAnswer<WindowUsage>> {
    const key = this.#keys.byId(id);
    if (key === undefined) return NOT_FOUND;
    try {
      return { ok: true, value: this.#spend.usage(id, budgetWindowStart(key.budget_period, nowMs)) };
    } catch (err) {
      log.error({ err: errText(err), key: id }, 'governance store failed to read usage');
      return FAILED;
    }
  }

  /**
   * Each key's spend and tokens in its current window, for the per-key gauges (G-OBS-18…20): the
   * first `limit` keys in store order. A key whose window is not in memory yet is read from the
   * store once (a map hit afterwards). A store failure leaves that key out.
   */
  keyFigures(nowMs: number, limit: number): { figures: KeyFigures[]; truncated: boolean } {
    const figures: KeyFigures[] = [];
    let truncated = false;
    for (const key of this.#keys.all()) {
      if (figures.length === limit) {
        truncated = true;
        break;
      }
      try {
        const used = this.#spend.usage(key.id, budgetWindowStart(key.budget_period, nowMs));
        const rate = this.#rates.peek(key.id, nowMs);
        figures.push({
          id: key.id,
          spendCents: used.spend_cents,
          tokens: used.tokens,
          capCents: key.max_budget_cents,
          requests: used.requests,
          rpmUsed: rate.requests,
          tpmUsed: rate.tokens,
        });
      } catch (err) {
        log.warn({ err: errText(err), key: key.id }, 'governance store failed to read usage for metrics');
      }
    }
    return { figures, truncated };
  }

  /** Writes pending spend and then everything else at once (shutdown). */
  flush(): void {
    this.#spend.flush();
  }

  /** A store write, then the directory rebuilt from the store; false when the store failed. */
  #write(work: () => void): boolean {
    try {
      this.#spend.flush();
      work();
      this.#keys.replace(this.#store.load((m) => log.warn({}, m)));
      return true;
    } catch (err) {
      log.error({ err: errText(err) }, 'governance store write failed');
      return false;
    }
  }

  async #publish(): Promise<void> {
    const snapshot = this.#keys.snapshot();
    await Promise.all(this.#published.map((publish) => publish(snapshot)));
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
