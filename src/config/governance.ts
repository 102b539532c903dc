// `governance:` (§1.11, G-GOV-*): virtual keys, budgets and rate limits, with prices per model
// beyond the reference's two flat prices. Resolved once; the request path reads frozen numbers.

import path from 'node:path';
import type { RawGovernance } from './raw.ts';
import { redactSecrets } from './redact.ts';
import type { GovernanceConfig, ModelPrice } from './types.ts';

export const DEFAULT_DB_PATH = 'busbar-governance.db';

/** Prices per 1k tokens are kept in millionths of a cent, so fractional prices stay exact integers. */
export const MICROCENTS_PER_CENT = 1_000_000;

/** A price per 1k tokens in whole cents or with up to six decimals, as microcents. */
function microcents(cents: number): number {
  return Math.round(cents * MICROCENTS_PER_CENT);
}

export function governanceErrors(
  raw: RawGovernance | undefined,
  authMode: string,
  models: ReadonlySet<string>,
): string[] {
  if (raw === undefined || raw.enabled !== true) return [];
  const errors: string[] = [];
  if ((raw.adminToken ?? '').trim() === '') {
    errors.push('governance.admin_token is required (non-blank) when governance.enabled is true');
  }
  if (authMode === 'passthrough') {
    errors.push(
      'governance.enabled with auth.mode: passthrough is not supported: virtual keys replace the caller credential that passthrough forwards; use auth.mode: token or none',
    );
  }
  if (raw.budgetOnStoreError !== undefined && !['allow', 'deny'].includes(raw.budgetOnStoreError)) {
    errors.push(
      `governance.budget_on_store_error: unknown value '${raw.budgetOnStoreError}': valid values are allow, deny`,
    );
  }
  if ((raw.dbPath ?? DEFAULT_DB_PATH).trim() === '') errors.push('governance.db_path must not be empty');
  errors.push(...fleetErrors(raw));
  for (const [name, price] of raw.modelPrices ?? []) {
    const at = `governance.model_prices.${name}`;
    if (!models.has(name)) errors.push(`${at}: no model '${name}' is configured under models`);
    for (const [key, value] of Object.entries(price)) {
      if (value === undefined) continue;
      if (value < 0) errors.push(`${at}.${key} must be >= 0`);
      else if (Math.abs(value * MICROCENTS_PER_CENT - Math.round(value * MICROCENTS_PER_CENT)) > 1e-6) {
        errors.push(`${at}.${key}: at most six decimal places`);
      }
    }
  }
  return errors;
}

export const DEFAULT_RATE_PREFIX = 'busbar:';
export const DEFAULT_RESERVATION_TTL_SECS = 30;
const MIN_RESERVATION_TTL_SECS = 3;

/** A store URL's problem, or undefined; the URL itself is never echoed (it may hold a password). */
function storeUrlProblem(url: string, schemes: readonly string[]): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    return 'is not a valid URL';
  }
  if (!schemes.includes(parsed.protocol))
    return `must start with ${schemes.map((s) => `${s}//`).join(' or ')}`;
  if (parsed.hostname === '') return 'has no host';
  return undefined;
}

/** `store` / `rate_store`: both or neither, and never beside `db_path` (one source of truth). */
function fleetErrors(raw: RawGovernance): string[] {
  const errors: string[] = [];
  const { store, rateStore } = raw;
  if (store === undefined && rateStore === undefined) {
    if (raw.rateStorePrefix !== undefined || raw.reservationTtlSecs !== undefined) {
      errors.push(
        'governance.rate_store_prefix and governance.reservation_ttl_secs apply only with governance.store and governance.rate_store',
      );
    }
    return errors;
  }
  if (store === undefined) {
    errors.push(
      'governance.rate_store needs governance.store (postgres://…): a single node keeps exact rate windows in memory',
    );
  } else {
    const problem = storeUrlProblem(store, ['postgres:', 'postgresql:']);
    if (problem !== undefined) errors.push(`governance.store ${problem}`);
  }
  if (rateStore === undefined) {
    errors.push(
      'governance.store needs governance.rate_store (redis://…): replicas share their rate windows there, or each would admit its own RPM',
    );
  } else {
    const problem = storeUrlProblem(rateStore, ['redis:', 'rediss:']);
    if (problem !== undefined) errors.push(`governance.rate_store ${problem}`);
  }
  if (raw.dbPath !== undefined) {
    errors.push('governance.db_path and governance.store are exclusive: keys and spend live in one store');
  }
  const ttl = raw.reservationTtlSecs;
  if (ttl !== undefined && (ttl < MIN_RESERVATION_TTL_SECS || ttl > 3600)) {
    errors.push(`governance.reservation_ttl_secs must be between ${MIN_RESERVATION_TTL_SECS} and 3600`);
  }
  return errors;
}

/** The resolved block, or undefined when governance is off. Call after governanceErrors is clean. */
export function resolveGovernance(raw: RawGovernance | undefined, cwd: string): GovernanceConfig | undefined {
  if (raw === undefined || raw.enabled !== true) return undefined;
  const flatFee = Math.max(0, raw.pricePerRequestCents ?? 1);
  const perThousand = microcents(Math.max(0, raw.pricePer1kTokensCents ?? 0));
  const defaultPrice: ModelPrice = {
    perRequestCents: flatFee,
    inputPer1kMicrocents: perThousand,
    outputPer1kMicrocents: perThousand,
  };
  const prices = new Map<string, ModelPrice>();
  for (const [name, p] of raw.modelPrices ?? []) {
    prices.set(name, {
      perRequestCents: flatFee,
      inputPer1kMicrocents:
        p.input_per_1k_tokens_cents === undefined ? perThousand : microcents(p.input_per_1k_tokens_cents),
      outputPer1kMicrocents:
        p.output_per_1k_tokens_cents === undefined ? perThousand : microcents(p.output_per_1k_tokens_cents),
    });
  }
  return redactSecrets(
    {
      dbPath: path.resolve(cwd, raw.dbPath ?? DEFAULT_DB_PATH),
      fleet:
        raw.store === undefined || raw.rateStore === undefined
          ? undefined
          : redactSecrets(
              {
                store: raw.store.trim(),
                rateStore: raw.rateStore.trim(),
                ratePrefix: raw.rateStorePrefix ?? DEFAULT_RATE_PREFIX,
                reservationTtlMs: (raw.reservationTtlSecs ?? DEFAULT_RESERVATION_TTL_SECS) * 1000,
              },
              ['store', 'rateStore'],
            ),
      adminToken: raw.adminToken!.trim(),
      defaultPrice,
      prices,
      failOpen: (raw.budgetOnStoreError ?? 'allow') === 'allow',
    },
    ['adminToken'],
  );
}
