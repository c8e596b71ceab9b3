// Status pages: runtime & build information, command-line flags, configuration, TSDB
// statistics (cardinality and retention) and the remote write queues (Vigil only).
import { apiFetch } from '../api.js';
import { alertBox, escapeHtml, formatAgo, formatSeconds, h } from '../dom.js';

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
    h('a', { href: 'tsdb-status' }, 'TSDB Status'), ' \u00b7 ',
    h('a', { href: 'remote-write' }, 'Remote Write')));
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

// "2026-01-02T03:04:05Z (3.2s ago)", or "never".
function timeAndAgo(iso) {
  return iso ? `${iso} (${formatAgo(iso)})` : 'never';
}

function remoteWriteRows(q) {
  const s = q.samples;
  const lag = q.lagSeconds === null ? 'nothing sent yet' : formatSeconds(q.lagSeconds);
  return [
    ['URL', q.url],
    ['Shards (current / desired / min / max)',
      `${q.shards.current} / ${q.shards.desired.toFixed(2)} / ${q.shards.min} / ${q.shards.max}`],
    ['Samples read from the WAL', s.in], ['Samples sent', s.sent], ['Samples failed', s.failed], ['Samples retried', s.retried],
    ['Samples dropped (relabeling)', s.dropped], ['Samples dropped (backlog)', s.backlogDropped],
    ['Samples pending', s.pending],
    ['Highest timestamp read from the WAL', q.highestTimestampRead || 'none'],
    ['Highest timestamp sent', q.highestTimestampSent || 'none'],
    ['Lag (read \u2212 sent)', lag],
    ['Last successful send', timeAndAgo(q.lastSuccessfulSendTime)],
    ['Last send error', q.lastSendError || 'none'],
    ['Last send error time', timeAndAgo(q.lastSendErrorTime)],
    ['Saved WAL position (segment:offset)', `${q.walPosition.segment}:${q.walPosition.offset}`],
  ];
}

// True when the last send attempt failed (no success since).
function failingNow(q) {
  if (!q.lastSendErrorTime) return false;
  return !q.lastSuccessfulSendTime || Date.parse(q.lastSendErrorTime) >= Date.parse(q.lastSuccessfulSendTime);
}

// Vigil's /api/v1/status/remote_write: one table per remote_write queue.
export async function renderRemoteWritePage(root) {
  root.append(h('h1', {}, 'Remote Write'));
  await withErrors(root, 'remote write status', async () => {
    const { data } = await apiFetch('status/remote_write');
    if (data.queues.length === 0) {
      root.append(alertBox('info', 'No remote_write queues are configured.'));
      return;
    }
    for (const q of data.queues) {
      const section = keyValueTable(q.name, remoteWriteRows(q), 'remote-write-table');
      section.classList.add('remote-write-queue');
      section.setAttribute('data-queue', q.name);
      if (failingNow(q)) {
        section.insertBefore(alertBox('error', `Sending fails: ${q.lastSendError}`), section.children[1]);
      }
      root.append(section);
    }
  });
}
