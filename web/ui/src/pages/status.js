// Status pages: runtime & build information, command-line flags, configuration and TSDB
// statistics (cardinality and retention).
import { apiFetch } from '../api.js';
import { alertBox, escapeHtml, h } from '../dom.js';

// A two-column table from [name, value] pairs; values are plain text.
function keyValueTable(title, pairs, className = '') {
  const rows = pairs.map(([k, v]) =>
    `<tr><th scope="row">${escapeHtml(k)}</th><td>${escapeHtml(v === undefined || v === null ? '' : v)}</td></tr>`);
  const section = h('section', { class: 'status-section' }, title ? h('h2', {}, title) : null);
  const table = h('table', { class: `table kv-table ${className}` });
  table.innerHTML = `<tbody>${rows.join('')}</tbody>`;
  section.append(table);
  return section;
}

const RUNTIME_NAMES = {
  startTime: 'Start time', CWD: 'Working directory', reloadConfigSuccess: 'Configuration reload',
  lastConfigTime: 'Last successful configuration reload', corruptionCount: 'WAL corruptions',
  goroutineCount: 'Goroutines', GOMAXPROCS: 'GOMAXPROCS', GOGC: 'GOGC', GODEBUG: 'GODEBUG',
  storageRetention: 'Storage retention',
};
const BUILD_NAMES = {
  version: 'Version', revision: 'Revision', branch: 'Branch', buildUser: 'BuildUser',
  buildDate: 'BuildDate', goVersion: 'GoVersion (compiler)',
};

// [label, text] rows; empty values (e.g. GODEBUG, which Vigil has no use for) are left out.
function describe(data, names) {
  return Object.entries(data).filter(([, v]) => v !== '' && v !== null).map(([k, v]) => {
    const text = typeof v === 'boolean' ? (k === 'reloadConfigSuccess' ? (v ? 'Successful' : 'Unsuccessful') : String(v)) : v;
    return [names[k] || k, text];
  });
}

async function withErrors(root, what, fn) {
  try {
    await fn();
  } catch (err) {
    root.append(alertBox('error', `Error fetching ${what}: ${err.message}`));
  }
}

export async function renderStatusPage(root) {
  root.append(h('h1', {}, 'Status'));
  await withErrors(root, 'runtime information', async () => {
    const { data } = await apiFetch('status/runtimeinfo');
    root.append(keyValueTable('Runtime Information', describe(data, RUNTIME_NAMES), 'runtime-info'));
  });
  await withErrors(root, 'build information', async () => {
    const { data } = await apiFetch('status/buildinfo');
    root.append(keyValueTable('Build Information', describe(data, BUILD_NAMES), 'build-info'));
  });
  root.append(h('p', {}, 'See also: ',
    h('a', { href: 'flags' }, 'Command-Line Flags'), ' \u00b7 ',
    h('a', { href: 'config' }, 'Configuration'), ' \u00b7 ',
    h('a', { href: 'tsdb-status' }, 'TSDB Status')));
}

export async function renderFlagsPage(root) {
  root.append(h('h1', {}, 'Command-Line Flags'));
  await withErrors(root, 'flags', async () => {
    const { data } = await apiFetch('status/flags');
    const filter = h('input', { class: 'form-control filter-input', type: 'search', placeholder: 'Filter by flag name or value' });
    const pairs = Object.entries(data).sort(([a], [b]) => a.localeCompare(b));
    const holder = h('div');
    const draw = () => {
      const needle = filter.value.trim().toLowerCase();
      holder.replaceChildren(keyValueTable('', pairs.filter(([k, v]) =>
        k.toLowerCase().includes(needle) || String(v).toLowerCase().includes(needle)), 'flags-table'));
    };
    filter.addEventListener('input', draw);
    root.append(h('div', { class: 'controls' }, filter), holder);
    draw();
  });
}

export async function renderConfigPage(root) {
  root.append(h('h1', {}, 'Configuration'));
  await withErrors(root, 'configuration', async () => {
    const { data } = await apiFetch('status/config');
    const copy = h('button', {
      class: 'btn btn-light',
      onclick: () => navigator.clipboard && navigator.clipboard.writeText(data.yaml),
    }, 'Copy to clipboard');
    root.append(h('div', { class: 'controls' }, copy), h('pre', { class: 'config-yaml' }, data.yaml));
  });
}

// Table of {name, value} cardinality entries.
function cardinalityTable(title, entries, valueHeader) {
  const section = h('section', { class: 'status-section' }, h('h2', {}, title));
  const table = h('table', { class: 'table kv-table cardinality-table' });
  const rows = (entries || []).map((e) => `<tr><td>${escapeHtml(e.name)}</td><td>${escapeHtml(e.value)}</td></tr>`);
  table.innerHTML = `<thead><tr><th>Name</th><th>${valueHeader}</th></tr></thead><tbody>${rows.join('')}</tbody>`;
  section.append(table);
  return section;
}

export async function renderTsdbStatusPage(root) {
  root.append(h('h1', {}, 'TSDB Status'));
  await withErrors(root, 'TSDB status', async () => {
    const { data } = await apiFetch('status/tsdb');
    const head = data.headStats || {};
    const time = (ms) => (ms && Math.abs(ms) < 8.64e15 ? new Date(ms).toISOString() : 'none');
    root.append(keyValueTable('Head Stats', [
      ['Number of Series', head.numSeries], ['Number of Chunks', head.chunkCount],
      ['Number of Label Pairs', head.numLabelPairs],
      ['Current Min Time', `${time(head.minTime)} (${head.minTime})`],
      ['Current Max Time', `${time(head.maxTime)} (${head.maxTime})`],
    ], 'head-stats'));
    root.append(
      cardinalityTable('Top 10 series count by metric names', data.seriesCountByMetricName, 'Count'),
      cardinalityTable('Top 10 label names with value count', data.labelValueCountByLabelName, 'Count'),
      cardinalityTable('Top 10 label names with high memory usage', data.memoryInBytesByLabelName, 'Bytes'),
      cardinalityTable('Top 10 series count by label value pairs', data.seriesCountByLabelValuePair, 'Count'));
  });
  await withErrors(root, 'retention', async () => {
    const { data } = await apiFetch('status/runtimeinfo');
    root.append(keyValueTable('Retention', [['Storage retention', data.storageRetention]], 'retention'));
  });
}
