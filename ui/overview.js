// The overview section: headline numbers for the whole node now, and the four 15-minute charts.

import { Chart } from './charts.js';
import { compact, DASH, decimal, percent } from './format.js';
import { chartColumns, poolNames, totals } from './metrics.js';
import { html, useMemo } from './vendor/preact-htm.js';

const POOL_COLORS = ['--series-1', '--series-2', '--series-3', '--series-4', '--series-5', '--series-6'];
const ERROR_SERIES = [{ label: 'errors', color: '--series-error', width: 2 }];
const LATENCY_SERIES = [
  { label: 'p50', color: '--series-1', width: 2 },
  { label: 'p99', color: '--series-4', width: 2 },
];
const TOKEN_SERIES = [{ label: 'tokens/min', color: '--series-2', width: 2 }];

function Stat({ label, value, unit, note }) {
  return html`<div class="stat">
    <dt>${label}</dt>
    <dd>
      <span class="stat-value">${value}</span>
      ${unit && value !== DASH ? html`<span class="stat-unit">${unit}</span>` : null}
      <span class="stat-note">${note}</span>
    </dd>
  </div>`;
}

export function Overview({ points, state, version, theme }) {
  const now = totals(points);
  const pools = poolNames(state, points);
  const poolsKey = pools.join('\u0000');
  // One pass over the window per tick, shared by the four charts.
  const columns = useMemo(() => chartColumns(points, pools), [version, poolsKey]);
  const requestSeries = useMemo(
    () => [
      { label: 'all pools', color: '--series-total', width: 2 },
      ...pools.map((name, i) => ({ label: name, color: POOL_COLORS[i % POOL_COLORS.length] })),
    ],
    [poolsKey],
  );
  const spanNote = now.spanS >= 60 ? 'last 60 s' : `last ${now.spanS} s`;

  return html`<section class="panel" aria-labelledby="overview-title">
    <h2 id="overview-title">Overview</h2>
    <dl class="stats">
      <${Stat} label="Requests" value=${decimal(now.reqPerS)} unit="/s" note="last interval" />
      <${Stat} label="Error rate" value=${percent(now.errorPct)} note=${spanNote} />
      <${Stat} label="Added latency p50" value=${decimal(now.p50)} unit="ms" note="last interval" />
      <${Stat} label="Added latency p99" value=${decimal(now.p99)} unit="ms" note="last interval" />
      <${Stat} label="Tokens" value=${compact(now.tokensPerMin)} unit="/min" note=${spanNote} />
    </dl>
    <div class="charts" data-testid="charts">
      <${Chart}
        title="Requests per second"
        description="Line chart of requests per second over the last 15 minutes, all pools and each pool."
        series=${requestSeries}
        data=${columns.requests}
        version=${version}
        theme=${theme}
        unit="/s"
      />
      <${Chart}
        title="Error rate (%, 10 s rolling)"
        description="Line chart of the share of requests answered with an error in the previous 10 s."
        series=${ERROR_SERIES}
        data=${columns.errors}
        version=${version}
        theme=${theme}
        unit="%"
        floor=${5}
      />
      <${Chart}
        title="Gateway-added latency (ms)"
        description="Line chart of the latency the gateway adds, p50 and p99 in milliseconds."
        series=${LATENCY_SERIES}
        data=${columns.latency}
        version=${version}
        theme=${theme}
        unit="ms"
      />
      <${Chart}
        title="Tokens per minute (60 s rolling)"
        description="Line chart of input plus output tokens per minute over the last 15 minutes."
        series=${TOKEN_SERIES}
        data=${columns.tokens}
        version=${version}
        theme=${theme}
      />
    </div>
  </section>`;
}
