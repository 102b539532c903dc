// RPM and TPM windows (G-GOV-10…13) and the budget windows (G-GOV-14).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tokenCost } from '../../src/governance/admission.ts';
import { RateWindows } from '../../src/governance/rate.ts';
import { budgetWindowStart } from '../../src/governance/windows.ts';

const MINUTE = 1_767_225_600_000; // an epoch minute boundary

test('RPM is exact per window and the refusal says when the window ends', () => {
  const rates = new RateWindows();
  const limits = { rpm: 3, tpm: null };
  const seen = Array.from({ length: 5 }, (_, i) => rates.admit('k', limits, MINUTE + 10_000 + i));
  assert.deepEqual(
    seen.map((s) => s.ok),
    [true, true, true, false, false],
  );
  assert.deepEqual(seen[3], { ok: false, retryAfterSecs: 50 });
  assert.deepEqual(rates.admit('k', limits, MINUTE + 59_999), { ok: false, retryAfterSecs: 1 });
  assert.equal(rates.admit('k', limits, MINUTE + 60_000).ok, true, 'a new window starts fresh');
});

test('TPM: credited after the answer, the first request of a window always admitted; no limits = not tracked', () => {
  const rates = new RateWindows();
  const limits = { rpm: null, tpm: 100 };
  assert.equal(rates.admit('k', limits, MINUTE).ok, true);
  rates.credit('k', 150, MINUTE, MINUTE + 1000);
  assert.equal(rates.admit('k', limits, MINUTE + 2000).ok, false);
  assert.equal(rates.admit('k', limits, MINUTE + 60_000).ok, true);
  rates.credit('other', 10, MINUTE, MINUTE);
  assert.equal(rates.admit('free', { rpm: null, tpm: null }, MINUTE).ok, true);
  assert.equal(rates.size, 1, 'credits create no entry and unlimited keys are not tracked');
});

test('stale entries are swept every 256 checks', () => {
  const rates = new RateWindows();
  for (let i = 0; i < 100; i++) rates.admit(`k${i}`, { rpm: 5, tpm: null }, MINUTE);
  for (let i = 0; i < 156; i++) rates.admit('live', { rpm: 1_000, tpm: null }, MINUTE + 60_000);
  assert.equal(rates.size, 1);
});

test('budget windows: all time, UTC midnight, the UTC first of the month', () => {
  const at = Date.UTC(2026, 11, 5, 23, 59, 59);
  assert.equal(budgetWindowStart('total', at), 0);
  assert.equal(budgetWindowStart('daily', at), Date.UTC(2026, 11, 5) / 1000);
  assert.equal(budgetWindowStart('monthly', at), Date.UTC(2026, 11, 1) / 1000);
});

test('token cost is floored in cents and exact for fractional and huge prices', () => {
  const price = { perRequestCents: 1, inputPer1kMicrocents: 500_000, outputPer1kMicrocents: 1_500_000 };
  assert.equal(tokenCost(price, 12_345, 6_789), 16);
  assert.equal(tokenCost(price, 1, 1), 0);
  const huge = { perRequestCents: 0, inputPer1kMicrocents: 1_000_000_000, outputPer1kMicrocents: 0 };
  // 1,000 cents per 1k tokens is a cent a token.
  assert.equal(tokenCost(huge, 2 ** 40, 0), 2 ** 40);
});
