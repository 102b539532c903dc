// Formatting shared by the views: numbers, money (cents → dollars), durations, and lane states in words.
const usd = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
const whole = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const compactFmt = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

export const DASH = '—';

export function dollars(cents) {
  return usd.format(cents / 100);
}

export function count(n) {
  return n == null ? DASH : whole.format(n);
}

/** Large numbers shortened (12.3K, 4.1M); small ones whole. */
export function compact(n) {
  if (n == null) return DASH;
  return Math.abs(n) < 100000 ? whole.format(n) : compactFmt.format(n);
}

/** A rate or a measurement with as many decimals as are meaningful at its size. */
export function decimal(n) {
  if (n == null || !Number.isFinite(n)) return DASH;
  if (n === 0) return '0';
  const abs = Math.abs(n);
  const digits = abs < 10 ? 2 : abs < 100 ? 1 : 0;
  return n.toLocaleString('en-US', { maximumFractionDigits: digits });
}

/** Axis tick labels: short enough for a 48 px axis (1.5, 250, 12K, 3.4M). */
export function axisNumber(n) {
  if (n == null) return '';
  return Math.abs(n) < 10000 ? decimal(n) : compactFmt.format(n);
}

export function percent(n) {
  return n == null || !Number.isFinite(n) ? DASH : `${decimal(n)} %`;
}

/** 12 s, 4 min 5 s, 2 h 10 min; rounded up so "recovers in 0 s" never shows. */
export function duration(ms) {
  const s = Math.max(1, Math.ceil(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) {
    const rest = s % 60;
    return rest ? `${Math.floor(s / 60)} min ${rest} s` : `${s / 60} min`;
  }
  const min = Math.floor((s % 3600) / 60);
  return min ? `${Math.floor(s / 3600)} h ${min} min` : `${Math.floor(s / 3600)} h`;
}

const REASONS = {
  at_capacity: 'at capacity',
  breaker_open: 'breaker open',
  dead: 'dead',
  budget_exhausted: 'budget exhausted',
  probe_in_flight: 'probe in flight',
};

export function reasonText(reason) {
  return REASONS[reason] ?? (reason ? reason.replaceAll('_', ' ') : '');
}

/** "breaker open · recovers in 12 s", "dead · does not recover by waiting", or '' for an available lane. */
export function unavailableText(lane) {
  const parts = [];
  const reason = reasonText(lane.reason);
  if (reason) parts.push(reason);
  if (lane.recovers_in_ms > 0) parts.push(`recovers in ${duration(lane.recovers_in_ms)}`);
  else if (lane.recovers_in_ms < 0) parts.push('does not recover by waiting');
  return parts.join(' · ');
}

const timeFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const clockFmt = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });

export function dateTime(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso ?? DASH) : timeFmt.format(d);
}

export function clock(date = new Date()) {
  return clockFmt.format(date);
}
