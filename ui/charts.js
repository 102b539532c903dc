// One uPlot line chart as a Preact component: colours read from CSS custom properties (rebuilt when the theme
// changes), width follows its container, and the data is redrawn at most once per `version` (one per tick).

import { axisNumber, decimal } from './format.js';
import { html, useLayoutEffect, useRef } from './vendor/preact-htm.js';
import uPlot from './vendor/uPlot.esm.js';

const HEIGHT = 150;

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** Time axis: the data's span, but at least the last minute (one point alone would span years). */
function recentMinute(_u, min, max) {
  const end = max ?? Date.now() / 1000;
  return [Math.min(min ?? end, end - 60), end];
}

/** Axis range from 0 to a little over the highest value, at least `floor`. */
function fromZero(floor) {
  return (_u, _min, max) => [0, max == null || !(max > 0) ? floor : Math.max(floor, max * 1.1)];
}

function options(width, series, unit, floor) {
  const axis = cssVar('--chart-axis');
  const grid = cssVar('--chart-grid');
  const axisStyle = {
    stroke: axis,
    grid: { stroke: grid, width: 1 },
    ticks: { stroke: grid, width: 1 },
  };
  const format = (v) => (v == null ? '—' : `${decimal(v)}${unit ? ` ${unit}` : ''}`);
  return {
    width,
    height: HEIGHT,
    cursor: { drag: { x: false, y: false, setScale: false } },
    scales: { x: { time: true, range: recentMinute }, y: { range: fromZero(floor) } },
    axes: [axisStyle, { ...axisStyle, size: 48, values: (_u, splits) => splits.map(axisNumber) }],
    series: [
      {},
      ...series.map((s) => ({
        label: s.label,
        stroke: cssVar(s.color),
        width: s.width ?? 1.5,
        points: { show: false },
        value: (_u, v) => format(v),
      })),
    ],
  };
}

/**
 * props: title, description (for screen readers), series [{label, color: '--css-var', width?}], data (uPlot
 * columns), version (changes once per tick), theme (rebuilds the chart), unit, floor (smallest y maximum).
 */
export function Chart({ title, description, series, data, version, theme, unit = '', floor = 1 }) {
  const holder = useRef(null);
  const plot = useRef(null);
  const drawn = useRef(-1);
  const dataRef = useRef(data);
  dataRef.current = data;
  const seriesKey = series.map((s) => `${s.label}:${s.color}`).join('|');

  // Layout effects: a theme switch recolours the charts in the same frame as the rest of the page.
  useLayoutEffect(() => {
    const el = holder.current;
    const u = new uPlot(options(el.clientWidth || 300, series, unit, floor), dataRef.current, el);
    plot.current = u;
    drawn.current = version;
    const resize = new ResizeObserver(() => {
      const width = el.clientWidth;
      if (width > 0 && width !== u.width) u.setSize({ width, height: HEIGHT });
    });
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [theme, seriesKey, unit, floor]);

  useLayoutEffect(() => {
    if (plot.current && drawn.current !== version) {
      plot.current.setData(dataRef.current);
      drawn.current = version;
    }
  }, [version]);

  return html`<figure class="chart">
    <figcaption class="chart-title">${title}</figcaption>
    <div class="chart-plot" ref=${holder} role="img" aria-label=${description ?? title}></div>
  </figure>`;
}
