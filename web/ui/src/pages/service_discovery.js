// Service discovery page: per scrape pool, each discovered target's labels before
// relabeling next to the labels it kept (or "Dropped").
import { apiFetch } from '../api.js';
import { alertBox, escapeHtml, h, labelBadgesHtml } from '../dom.js';
import { LazyRowFiller, lazyBodiesHtml } from '../lazy_rows.js';

// Groups active and dropped targets by pool. Dropped targets carry no pool name in the
// 2.42 API, so like Prometheus we use their discovered "job" label.
function groupByPool(active, dropped) {
  const pools = new Map();
  const add = (pool, entry) => {
    if (!pools.has(pool)) pools.set(pool, { active: 0, entries: [] });
    pools.get(pool).entries.push(entry);
    if (entry.labels) pools.get(pool).active++;
  };
  for (const t of active) add(t.scrapePool, { discovered: t.discoveredLabels, labels: t.labels });
  for (const t of dropped) add(t.scrapePool || t.discoveredLabels.job || '', { discovered: t.discoveredLabels, labels: null });
  return pools;
}

function entryRowHtml(entry) {
  return `<tr><td class="labels">${labelBadgesHtml(entry.discovered)}</td>` +
    `<td class="labels">${entry.labels ? labelBadgesHtml(entry.labels) : '<span class="dropped">Dropped</span>'}</td></tr>`;
}

export async function renderServiceDiscoveryPage(root) {
  root.append(h('h1', {}, 'Service Discovery'));
  try {
    const { data } = await apiFetch('targets');
    const pools = groupByPool(data.activeTargets || [], data.droppedTargets || []);
    if (pools.size === 0) {
      root.append(alertBox('info', 'No targets have been discovered.'));
      return;
    }
    const summary = [...pools].map(([pool, p]) =>
      `<li><a href="#pool-${encodeURIComponent(pool)}">${escapeHtml(pool)}</a> (${p.active} / ${p.entries.length} active targets)</li>`);
    const poolEntries = [...pools].map(([, p]) => p.entries);
    const sections = [...pools].map(([pool, p], index) =>
      `<section class="pool" id="pool-${encodeURIComponent(pool)}"><h3>${escapeHtml(pool)}</h3>` +
      '<table class="table sd-table"><thead><tr><th>Discovered Labels</th><th>Target Labels</th></tr></thead>' +
      `${lazyBodiesHtml(index, p.entries.length, 2)}</table></section>`);
    const body = h('div');
    body.innerHTML = `<ul class="pool-list">${summary.join('')}</ul>${sections.join('')}`;
    root.append(body);
    new LazyRowFiller((key, start, end) => poolEntries[key].slice(start, end).map(entryRowHtml).join(''))
      .observe(body);
  } catch (err) {
    root.append(alertBox('error', `Error fetching service discovery: ${err.message}`));
  }
}
