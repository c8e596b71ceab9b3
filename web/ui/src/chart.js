// Time-series chart for range query results, drawn with uPlot (canvas, fast with
// thousands of series). The legend is our own HTML list: uPlot's table legend
// re-renders on every cursor move, which is too slow with 1 000 series.
import uPlot from 'uplot';
import { escapeHtml, formatSeries } from './dom.js';

// Distinct colours: hues spread by the golden angle.
function seriesColor(index) {
  return `hsl(${(index * 137.508) % 360}, 65%, 45%)`;
}

// Aligns a query_range matrix on the shared step grid uPlot needs: x values plus one
// y array per series (null where the series has no sample).
export function alignMatrix(matrix, startSec, endSec, stepSec) {
  const count = Math.floor((endSec - startSec) / stepSec) + 1;
  const xs = new Float64Array(count);
  for (let i = 0; i < count; i++) xs[i] = startSec + i * stepSec;
  const ys = matrix.map((series) => {
    const y = new Array(count).fill(null);
    for (const [t, v] of series.values || []) {
      const i = Math.round((t - startSec) / stepSec);
      if (i >= 0 && i < count) y[i] = parseFloat(v);
    }
    return y;
  });
  return [Array.from(xs), ...ys];
}

// Adds each series onto the sum of the previous ones (stacked mode).
function stack(data) {
  const out = [data[0]];
  let running = data[0].map(() => 0);
  for (let s = 1; s < data.length; s++) {
    running = data[s].map((v, i) => (v === null ? running[i] : running[i] + v));
    out.push(data[s].map((v, i) => (v === null ? null : running[i])));
  }
  return out;
}

// A chart plus legend rendered into `container`; replaced as a whole on each query.
export class SeriesChart {
  constructor(container) {
    this.container = container;
    this.plot = null;
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(container);
  }

  // matrix: query_range result; range in seconds; stacked: bool.
  render(matrix, { startSec, endSec, stepSec, stacked }) {
    this.destroyPlot();
    this.container.textContent = '';
    const plotEl = document.createElement('div');
    plotEl.className = 'chart-plot';
    const hoverEl = document.createElement('div');
    hoverEl.className = 'chart-hover';
    const legendEl = document.createElement('div');
    legendEl.className = 'chart-legend';
    this.container.append(plotEl, hoverEl, legendEl);

    const aligned = alignMatrix(matrix, startSec, endSec, stepSec);
    const data = stacked ? stack(aligned) : aligned;
    const names = matrix.map((s) => formatSeries(s.metric));
    const series = [{}, ...names.map((name, i) => ({
      label: name,
      stroke: seriesColor(i),
      width: 1.5,
      fill: stacked ? seriesColor(i).replace('45%)', '45%, 0.25)').replace('hsl', 'hsla') : undefined,
      spanGaps: false,
    }))];
    const opts = {
      width: Math.max(300, this.container.clientWidth),
      height: 380,
      series,
      legend: { show: false },
      cursor: { focus: { prox: 30 }, drag: { x: true, y: false } },
      focus: { alpha: 0.3 },
      scales: { x: { time: true } },
      axes: [{}, { size: 70 }],
      hooks: {
        setCursor: [(u) => this.showHover(u, hoverEl, names, aligned)],
        setSeries: [(u, seriesIdx, change) => {
          if (change && change.focus) this.focused = seriesIdx;
          this.showHover(u, hoverEl, names, aligned);
        }],
      },
    };
    this.plot = new uPlot(opts, data, plotEl);
    this.focused = null;
    legendEl.innerHTML = names
      .map((name, i) => `<div class="legend-item" data-series="${i + 1}">` +
        `<span class="legend-swatch" style="background:${seriesColor(i)}"></span>${escapeHtml(name)}</div>`)
      .join('');
    legendEl.onclick = (event) => this.toggleFromLegend(event, names.length);
  }

  // Shows the series nearest to the cursor and its value under the chart.
  showHover(u, hoverEl, names, data) {
    const idx = u.cursor.idx;
    const focused = this.focused;
    if (idx === null || idx === undefined || !focused) {
      hoverEl.textContent = '\u00a0';
      return;
    }
    const value = data[focused][idx];
    const time = new Date(data[0][idx] * 1000).toISOString().replace('T', ' ').slice(0, 19);
    hoverEl.textContent = `${time}  ${names[focused - 1]}: ${value === null ? 'no value' : value}`;
  }

  // Click shows only that series; clicking it again shows all.
  toggleFromLegend(event, count) {
    const item = event.target.closest('.legend-item');
    if (!item || !this.plot) return;
    const index = Number(item.dataset.series);
    const soloAgain = this.soloSeries === index;
    this.soloSeries = soloAgain ? null : index;
    this.plot.batch(() => {
      for (let i = 1; i <= count; i++) {
        this.plot.setSeries(i, { show: soloAgain || i === index });
      }
    });
    for (const el of item.parentElement.children) {
      el.classList.toggle('legend-muted', !soloAgain && Number(el.dataset.series) !== index);
    }
  }

  resize() {
    if (this.plot) this.plot.setSize({ width: Math.max(300, this.container.clientWidth), height: 380 });
  }

  destroyPlot() {
    if (this.plot) this.plot.destroy();
    this.plot = null;
    this.soloSeries = null;
  }

  destroy() {
    this.destroyPlot();
    this.resizeObserver.disconnect();
  }
}
