// Pure arithmetic over the live stream's points: the 15-minute window, the headline numbers and the columns
// the charts draw. No DOM here.
const MINUTE_MS = 60000;
// The error-rate chart averages over this much time: one error among three requests is not "33 %" news.
const ERROR_WINDOW_MS = 10000;

/** Drops, in place, the points older than the window (measured back from the newest point). */
export function trimWindow(points, windowS) {
  if (points.length === 0) return points;
  const oldest = points[points.length - 1].t - windowS * 1000;
  let drop = 0;
  while (drop < points.length && points[drop].t <= oldest) drop++;
  if (drop > 0) points.splice(0, drop);
  return points;
}

/** Events per second during one point's interval. */
export function perSecond(point, n) {
  if (!point || n == null) return null;
  return n / ((point.interval_ms || 1000) / 1000);
}

function tokensOf(point) {
  return (point.tokens_in ?? 0) + (point.tokens_out ?? 0);
}

/** Headline numbers: the last interval for rates and latency, the last 60 s for error rate and tokens/min. */
export function totals(points) {
  const last = points[points.length - 1];
  if (!last) {
    return { reqPerS: null, errorPct: null, p50: null, p99: null, tokensPerMin: null, spanS: 0 };
  }
  let requests = 0;
  let errors = 0;
  let tokens = 0;
  let spanMs = 0;
  for (let i = points.length - 1; i >= 0 && points[i].t > last.t - MINUTE_MS; i--) {
    requests += points[i].requests;
    errors += points[i].errors;
    tokens += tokensOf(points[i]);
    spanMs += points[i].interval_ms || 1000;
  }
  return {
    reqPerS: perSecond(last, last.requests),
    errorPct: requests > 0 ? (errors / requests) * 100 : null,
    p50: last.added_p50_ms ?? null,
    p99: last.added_p99_ms ?? null,
    tokensPerMin: spanMs > 0 ? (tokens / spanMs) * MINUTE_MS : null,
    spanS: Math.round(spanMs / 1000),
  };
}

/** Pool names to chart: the configured ones, then any that only appear in the points, each once. */
export function poolNames(state, points) {
  const names = (state?.pools ?? []).map((p) => p.name);
  const seen = new Set(names);
  for (const point of points) {
    for (const name of Object.keys(point.pools ?? {})) {
      if (!seen.has(name)) {
        seen.add(name);
        names.push(name);
      }
    }
  }
  return names;
}

/** A sliding sum over the last `spanMs` of points, advanced one point at a time (points oldest first). */
function rolling(points, spanMs, value) {
  let from = 0;
  let sum = 0;
  let ms = 0;
  return (i) => {
    sum += value(points[i]);
    ms += points[i].interval_ms || 1000;
    while (points[from].t <= points[i].t - spanMs) {
      sum -= value(points[from]);
      ms -= points[from].interval_ms || 1000;
      from++;
    }
    return { sum, ms };
  };
}

/**
 * uPlot columns (x in epoch seconds) for the four overview charts. Requests/s and latency are per interval;
 * error rate is over the last 10 s and tokens/min over the last 60 s. Error rate and latency are null where
 * there were no requests, so idle time shows as a gap rather than as 0.
 */
export function chartColumns(points, pools) {
  const n = points.length;
  const xs = new Array(n);
  const total = new Array(n);
  const perPool = pools.map(() => new Array(n));
  const errorPct = new Array(n);
  const p50 = new Array(n);
  const p99 = new Array(n);
  const tokensPerMin = new Array(n);
  const recentRequests = rolling(points, ERROR_WINDOW_MS, (p) => p.requests);
  const recentErrors = rolling(points, ERROR_WINDOW_MS, (p) => p.errors);
  const recentTokens = rolling(points, MINUTE_MS, tokensOf);
  for (let i = 0; i < n; i++) {
    const p = points[i];
    xs[i] = p.t / 1000;
    total[i] = perSecond(p, p.requests);
    pools.forEach((name, j) => {
      perPool[j][i] = perSecond(p, p.pools?.[name]?.requests ?? 0);
    });
    const requests = recentRequests(i).sum;
    const errors = recentErrors(i).sum;
    errorPct[i] = requests > 0 ? (errors / requests) * 100 : null;
    p50[i] = p.added_p50_ms ?? null;
    p99[i] = p.added_p99_ms ?? null;
    const tokens = recentTokens(i);
    tokensPerMin[i] = tokens.ms > 0 ? (tokens.sum / tokens.ms) * MINUTE_MS : null;
  }
  return {
    requests: [xs, total, ...perPool],
    errors: [xs, errorPct],
    latency: [xs, p50, p99],
    tokens: [xs, tokensPerMin],
  };
}
