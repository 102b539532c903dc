// The admin API's request bodies (G-ADM-5, G-ADM-7, G-ADM-9): a wrong type or a value outside the
// field's range is 422 (the body does not fit the schema); a value the schema admits but the rules
// refuse (an unknown period, a negative budget, a zero rate limit) is 400, as in the reference.
// Unknown fields are ignored.

import type { NewKey } from '../governance/arbiter.ts';
import { BUDGET_PERIODS, type BudgetPeriod } from '../governance/keys.ts';
import type { KeyChanges } from '../governance/store.ts';

export type Checked<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly status: 400 | 422; readonly error: string };

const MAX_RATE = 2 ** 32 - 1;

class Invalid extends Error {
  readonly status: 400 | 422;
  constructor(status: 400 | 422, message: string) {
    super(message);
    this.status = status;
  }
}

type Body = Readonly<Record<string, unknown>>;

function isObject(value: unknown): value is Body {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An integer cap: absent → undefined, null → null, else a safe integer (422 otherwise). */
function cap(
  body: Body,
  field: string,
  min: number,
  max: number,
  belowMin: string,
): number | null | undefined {
  const value = body[field];
  if (value === undefined || value === null) return value;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new Invalid(422, `${field} must be an integer or null`);
  }
  if (value > max || value < -Number.MAX_SAFE_INTEGER) throw new Invalid(422, `${field} is out of range`);
  if (value < min) throw new Invalid(400, belowMin);
  return value;
}

function rate(body: Body, field: string): number | null | undefined {
  const value = body[field];
  // A negative rate limit does not fit the unsigned field at all (422); zero fits but is refused.
  if (typeof value === 'number' && Number.isInteger(value) && value < 0) {
    throw new Invalid(422, `${field} must be an integer between 1 and ${MAX_RATE}`);
  }
  return cap(body, field, 1, MAX_RATE, `${field} must be >= 1 (omit the field for unlimited)`);
}

function budget(body: Body): number | null | undefined {
  const value = body.max_budget_cents;
  if (typeof value === 'number' && Number.isInteger(value) && value < 0) {
    throw new Invalid(400, 'max_budget_cents must be >= 0');
  }
  return cap(body, 'max_budget_cents', 0, Number.MAX_SAFE_INTEGER, 'max_budget_cents must be >= 0');
}

function check<T>(parse: () => T): Checked<T> {
  try {
    return { ok: true, value: parse() };
  } catch (err) {
    if (err instanceof Invalid) return { ok: false, status: err.status, error: err.message };
    throw err;
  }
}

/** `POST /admin/keys`. */
export function newKeyFrom(body: unknown): Checked<NewKey> {
  return check(() => {
    if (!isObject(body)) throw new Invalid(422, 'the body must be a JSON object');
    if (typeof body.name !== 'string') throw new Invalid(422, 'name is required and must be a string');
    const pools = body.allowed_pools ?? [];
    if (!Array.isArray(pools) || !pools.every((p) => typeof p === 'string')) {
      throw new Invalid(422, 'allowed_pools must be a list of strings');
    }
    const period = body.budget_period ?? 'total';
    if (typeof period !== 'string') throw new Invalid(422, 'budget_period must be a string');
    if (!(BUDGET_PERIODS as readonly string[]).includes(period)) {
      throw new Invalid(
        400,
        `invalid budget_period '${period}': must be one of [${BUDGET_PERIODS.map((p) => `"${p}"`).join(', ')}]`,
      );
    }
    const aws = body.issue_aws_credential ?? false;
    if (typeof aws !== 'boolean') throw new Invalid(422, 'issue_aws_credential must be a boolean');
    return {
      name: body.name,
      allowed_pools: pools as string[],
      max_budget_cents: budget(body) ?? null,
      budget_period: period as BudgetPeriod,
      rpm_limit: rate(body, 'rpm_limit') ?? null,
      tpm_limit: rate(body, 'tpm_limit') ?? null,
      issue_aws_credential: aws,
    };
  });
}

/** `PATCH /admin/keys/{id}`: absent = unchanged, null = unlimited, a value = set. */
export function keyChangesFrom(body: unknown): Checked<KeyChanges> {
  return check(() => {
    if (!isObject(body)) throw new Invalid(422, 'the body must be a JSON object');
    const enabled = body.enabled;
    if (enabled !== undefined && typeof enabled !== 'boolean')
      throw new Invalid(422, 'enabled must be a boolean');
    const changes: { -readonly [K in keyof KeyChanges]: KeyChanges[K] } = {};
    if (enabled !== undefined) changes.enabled = enabled;
    const rpm = rate(body, 'rpm_limit');
    if (rpm !== undefined) changes.rpm_limit = rpm;
    const tpm = rate(body, 'tpm_limit');
    if (tpm !== undefined) changes.tpm_limit = tpm;
    const max = budget(body);
    if (max !== undefined) changes.max_budget_cents = max;
    return changes;
  });
}

/** `PATCH /admin/lanes/{name}`: `{"drained": true}` drains the lane, `false` gives it its weights back. */
export function drainFrom(body: unknown): Checked<{ readonly drained: boolean }> {
  return check(() => {
    if (!isObject(body) || typeof body.drained !== 'boolean')
      throw new Invalid(422, 'the body must be {"drained": true} or {"drained": false}');
    return { drained: body.drained };
  });
}
