// Graph page: several query panels, each with a PromQL editor and Table / Graph tabs.
// All panel state lives in the URL (Prometheus's g<N>.* scheme) so a link reproduces it.
import { apiFetch } from '../api.js';
import { SeriesChart } from '../chart.js';
import { alertBox, escapeHtml, formatSeries, h } from '../dom.js';
import { createPromqlEditor, insertAtCursor } from '../editor.js';
import { openMetricsExplorer } from '../metrics_explorer.js';
import { defaultPanel, panelsFromSearch, searchFromPanels, TAB_GRAPH, TAB_TABLE } from '../graph_url.js';
import {
  defaultStepSeconds, formatDuration, formatTimeInput, nextRange, parseDuration, parseTimeInput,
} from '../time_input.js';

// Rows beyond this are not rendered in the table (the browser would stall); the user is told.
const MAX_TABLE_ROWS = 10000;

class Panel {
  constructor(state, { onStateChange, onRemove }) {
    this.state = state;
    this.onStateChange = onStateChange;
    this.abort = null;
    this.root = h('div', { class: 'panel card' });
    this.buildEditorRow(onRemove);
    this.buildTabs();
    this.chart = new SeriesChart(this.chartEl);
    this.showTab(state.tab);
  }

  buildEditorRow(onRemove) {
    const editorHost = h('div', { class: 'editor-host' });
    this.editor = createPromqlEditor(editorHost, {
      doc: this.state.expr,
      onExecute: () => this.execute(),
      onChange: (text) => { this.state.expr = text; },
    });
    this.root.append(h('div', { class: 'editor-row' },
      editorHost,
      h('button', {
        class: 'btn btn-light explorer-btn', title: 'Open metrics explorer',
        onclick: () => openMetricsExplorer((name) => insertAtCursor(this.editor, name)),
      }, 'Metrics'),
      h('button', { class: 'btn btn-primary execute-btn', onclick: () => this.execute() }, 'Execute'),
      h('button', { class: 'btn btn-light', title: 'Remove panel', onclick: () => onRemove(this) }, '\u00d7')));
    this.messageEl = h('div', { class: 'panel-messages' });
    this.root.append(this.messageEl);
  }

  buildTabs() {
    this.statusEl = h('div', { class: 'panel-status' });
    this.tabButtons = [
      h('button', { class: 'tab', onclick: () => this.switchTab(TAB_TABLE) }, 'Table'),
      h('button', { class: 'tab', onclick: () => this.switchTab(TAB_GRAPH) }, 'Graph'),
    ];
    this.root.append(h('div', { class: 'tabs' }, this.tabButtons, this.statusEl));

    this.momentInput = h('input', {
      class: 'form-control time-input', placeholder: 'Evaluation time (now)', value: this.state.moment_input,
      onchange: () => { this.state.moment_input = this.momentInput.value.trim(); this.execute(); },
    });
    this.tableEl = h('div', { class: 'table-result' });
    this.tablePane = h('div', { class: 'tab-pane' },
      h('div', { class: 'controls' }, h('label', {}, 'Evaluation time (UTC) '), this.momentInput), this.tableEl);

    this.rangeInput = h('input', {
      class: 'form-control range-input', value: this.state.range_input, title: 'Range, e.g. 1h or 30m',
      onchange: () => this.setRange(this.rangeInput.value),
    });
    this.endInput = h('input', {
      class: 'form-control time-input', placeholder: 'End time (now)', value: this.state.end_input,
      onchange: () => { this.state.end_input = this.endInput.value.trim(); this.execute(); },
    });
    this.stepInput = h('input', {
      class: 'form-control step-input', placeholder: 'Res. (s)', value: this.state.step_input,
      onchange: () => { this.state.step_input = this.stepInput.value.trim(); this.execute(); },
    });
    this.stackedInput = h('input', {
      type: 'checkbox', checked: this.state.stacked,
      onchange: () => { this.state.stacked = this.stackedInput.checked; this.execute(); },
    });
    const rangeButton = (text, dir) => h('button', { class: 'btn btn-light', onclick: () => this.stepRange(dir) }, text);
    const endButton = (text, dir, title) =>
      h('button', { class: 'btn btn-light', title, onclick: () => this.shiftEnd(dir) }, text);
    this.chartEl = h('div', { class: 'chart' });
    this.graphPane = h('div', { class: 'tab-pane' },
      h('div', { class: 'controls' },
        rangeButton('\u2212', -1), this.rangeInput, rangeButton('+', 1),
        h('label', {}, ' End (UTC) '), endButton('\u00ab', -1, 'Back by half the range'), this.endInput,
        endButton('\u00bb', 1, 'Forward by half the range'),
        h('label', {}, ' Res. '), this.stepInput,
        h('label', { class: 'check' }, this.stackedInput, ' stacked')),
      this.chartEl);
    this.root.append(this.tablePane, this.graphPane);
  }

  switchTab(tab) {
    this.showTab(tab);
    this.execute();
  }

  showTab(tab) {
    this.state.tab = tab;
    this.tabButtons[0].classList.toggle('active', tab === TAB_TABLE);
    this.tabButtons[1].classList.toggle('active', tab === TAB_GRAPH);
    this.tablePane.hidden = tab !== TAB_TABLE;
    this.graphPane.hidden = tab !== TAB_GRAPH;
  }

  setRange(text) {
    const ms = parseDuration(text);
    if (ms === null) {
      this.showMessages([alertBox('error', `Invalid range "${text}": use e.g. 1h, 30m, 2d`)]);
      return;
    }
    this.state.range_input = formatDuration(ms);
    this.rangeInput.value = this.state.range_input;
    this.execute();
  }

  stepRange(direction) {
    const current = parseDuration(this.state.range_input) ?? 3600e3;
    this.setRange(formatDuration(nextRange(current, direction)));
  }

  // Moves the end time by half the range (Prometheus's << and >> buttons).
  shiftEnd(direction) {
    const rangeMs = parseDuration(this.state.range_input) ?? 3600e3;
    const endMs = parseTimeInput(this.state.end_input) ?? Date.now();
    const shifted = endMs + (direction * rangeMs) / 2;
    this.state.end_input = shifted >= Date.now() ? '' : formatTimeInput(shifted);
    this.endInput.value = this.state.end_input;
    this.execute();
  }

  showMessages(nodes) {
    this.messageEl.replaceChildren(...nodes);
  }

  // Runs the expression for the visible tab and renders the result.
  async execute() {
    this.onStateChange();
    const expr = this.state.expr.trim();
    if (!expr) {
      this.showMessages([]);
      return;
    }
    if (this.abort) this.abort.abort();
    this.abort = new AbortController();
    const started = performance.now();
    this.statusEl.textContent = 'Loading\u2026';
    try {
      const summary = this.state.tab === TAB_GRAPH ? await this.runRange(expr) : await this.runInstant(expr);
      const ms = Math.round(performance.now() - started);
      this.statusEl.textContent = `Load time: ${ms}ms \u00b7 ${summary}`;
    } catch (err) {
      if (err.name === 'AbortError') return;
      this.statusEl.textContent = '';
      this.showMessages([alertBox('error', `Error executing query: ${err.message}`)]);
    }
  }

  async runInstant(expr) {
    const time = parseTimeInput(this.state.moment_input);
    const params = { query: expr };
    if (time !== null) params.time = time / 1000;
    const { data, warnings } = await apiFetch('query', params, { signal: this.abort.signal });
    this.showMessages(warnings.map((w) => alertBox('warning', w)));
    return renderInstantTable(this.tableEl, data);
  }

  async runRange(expr) {
    const rangeMs = parseDuration(this.state.range_input) ?? 3600e3;
    const endMs = parseTimeInput(this.state.end_input) ?? Date.now();
    const stepSec = Number(this.state.step_input) > 0 ? Number(this.state.step_input) : defaultStepSeconds(rangeMs);
    const endSec = Math.floor(endMs / 1000);
    const startSec = endSec - Math.floor(rangeMs / 1000);
    const { data, warnings } = await apiFetch('query_range',
      { query: expr, start: startSec, end: endSec, step: stepSec }, { signal: this.abort.signal });
    this.showMessages(warnings.map((w) => alertBox('warning', w)));
    if (data.resultType !== 'matrix') {
      throw new Error(`range query returned ${data.resultType}, expected matrix`);
    }
    if (data.result.length === 0) {
      this.chart.destroyPlot();
      this.chartEl.replaceChildren(alertBox('info', 'Empty query result'));
      return 'Result series: 0';
    }
    const drawStart = performance.now();
    this.chart.render(data.result, { startSec, endSec, stepSec, stacked: this.state.stacked });
    this.lastRenderMs = performance.now() - drawStart;
    return `Resolution: ${stepSec}s \u00b7 Result series: ${data.result.length}`;
  }
}

// Fills `container` with the instant query result; returns a status summary.
function renderInstantTable(container, data) {
  const rows = instantRows(data);
  if (rows.length === 0) {
    container.replaceChildren(alertBox('info', 'Empty query result'));
    return 'Result series: 0';
  }
  const shown = rows.slice(0, MAX_TABLE_ROWS);
  const body = shown.map(([series, value]) =>
    `<tr><td class="series">${escapeHtml(series)}</td><td class="value">${value}</td></tr>`).join('');
  container.innerHTML = `<table class="table data-table"><tbody>${body}</tbody></table>`;
  if (rows.length > shown.length) {
    container.prepend(alertBox('warning', `Showing ${shown.length} of ${rows.length} series`));
  }
  return `Result series: ${rows.length}`;
}

// [seriesText, valueHtml] pairs for every result type.
function instantRows(data) {
  switch (data.resultType) {
    case 'vector':
      return data.result.map((s) => [formatSeries(s.metric), escapeHtml(s.value[1])]);
    case 'matrix':
      return data.result.map((s) => [formatSeries(s.metric),
        s.values.map(([t, v]) => `${escapeHtml(v)} @${t}`).join('<br>')]);
    case 'scalar':
      return [['scalar', escapeHtml(data.result[1])]];
    case 'string':
      return [['string', escapeHtml(data.result[1])]];
    default:
      return [];
  }
}

// Mounts the Graph page into `root`.
export function renderGraphPage(root) {
  const panels = [];
  const list = h('div', { class: 'panels' });
  const syncUrl = () => {
    const search = searchFromPanels(panels.map((p) => p.state));
    history.replaceState(null, '', `${location.pathname}?${search}`);
  };
  const addPanel = (state) => {
    const panel = new Panel(state, {
      onStateChange: syncUrl,
      onRemove: (p) => {
        panels.splice(panels.indexOf(p), 1);
        p.chart.destroy();
        p.root.remove();
        if (panels.length === 0) addPanel(defaultPanel());
        syncUrl();
      },
    });
    panels.push(panel);
    list.append(panel.root);
    return panel;
  };
  root.append(list, h('button', {
    class: 'btn btn-primary add-panel', onclick: () => { addPanel(defaultPanel()).editor.focus(); syncUrl(); },
  }, 'Add Panel'));
  for (const state of panelsFromSearch(location.search)) addPanel(state).execute();
  panels[0].editor.focus();
  // Exposed for the UI tests and the scale measurement script.
  window.vigilGraphPanels = panels;
}
