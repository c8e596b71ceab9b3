// Targets page: every active target grouped by scrape pool, with state, labels, last
// scrape, scrape duration and error; filterable by health and by free text.
import { apiFetch } from '../api.js';
import { alertBox, escapeHtml, formatAgo, formatSeconds, h, labelBadgesHtml } from '../dom.js';
import { LazyRowFiller, lazyBodiesHtml } from '../lazy_rows.js';

const HEALTHS = ['up', 'down', 'unknown'];

// Pools with more targets than this start collapsed, so a 10 000-target page stays fast.
const COLLAPSE_ABOVE = 500;

function targetMatchesText(target, needle) {
  if (!needle) return true;
  if (target.scrapeUrl.toLowerCase().includes(needle)) return true;
  return Object.entries(target.labels).some(([k, v]) => `${k}="${v}"`.toLowerCase().includes(needle));
}

function targetRowHtml(t, now) {
  const health = t.health || 'unknown';
  const error = t.lastError ? `<span class="text-danger">${escapeHtml(t.lastError)}</span>` : '';
  return `<tr><td class="endpoint"><a href="${escapeHtml(t.scrapeUrl)}">${escapeHtml(t.scrapeUrl)}</a></td>` +
    `<td><span class="state state-${escapeHtml(health)}">${escapeHtml(health.toUpperCase())}</span></td>` +
    `<td class="labels">${labelBadgesHtml(t.labels)}</td>` +
    `<td>${escapeHtml(formatAgo(t.lastScrape, now))}</td>` +
    `<td>${escapeHtml(formatSeconds(t.lastScrapeDuration || 0))}</td>` +
    `<td class="error">${error}</td></tr>`;
}

// A pool's header and, unless collapsed, its table; rows are filled in lazily.
function poolHtml(poolIndex, pool, targets, collapsed) {
  const up = targets.filter((t) => t.health === 'up').length;
  const header = `<h3 class="pool-header" data-pool="${escapeHtml(pool)}">` +
    `<span class="toggle">${collapsed ? '\u25b6' : '\u25bc'}</span> ${escapeHtml(pool)} ` +
    `<span class="pool-count ${up === targets.length ? 'all-up' : 'some-down'}">(${up}/${targets.length} up)</span></h3>`;
  if (collapsed) return `<section class="pool">${header}</section>`;
  return `<section class="pool">${header}<table class="table targets-table"><thead><tr>` +
    '<th>Endpoint</th><th>State</th><th>Labels</th><th>Last Scrape</th><th>Scrape Duration</th><th>Error</th>' +
    `</tr></thead>${lazyBodiesHtml(poolIndex, targets.length, 6)}</table></section>`;
}

function groupByPool(targets) {
  const pools = new Map();
  for (const t of targets) {
    if (!pools.has(t.scrapePool)) pools.set(t.scrapePool, []);
    pools.get(t.scrapePool).push(t);
  }
  return pools;
}

// Mounts the Targets page into `root`.
export async function renderTargetsPage(root) {
  const view = { health: new Set(HEALTHS), text: '', collapsed: new Map() };
  const listEl = h('div', { class: 'pools' });
  const textInput = h('input', {
    class: 'form-control filter-input', placeholder: 'Filter by endpoint or labels', type: 'search',
    oninput: debounce(() => { view.text = textInput.value.trim().toLowerCase(); draw(); }, 150),
  });
  const healthBoxes = HEALTHS.map((health) => h('label', { class: 'check' },
    h('input', {
      type: 'checkbox', checked: true, name: `health-${health}`,
      onchange: (e) => { if (e.target.checked) view.health.add(health); else view.health.delete(health); draw(); },
    }), ` ${health === 'up' ? 'Up' : health === 'down' ? 'Down' : 'Unknown'}`));
  let pools = new Map();
  const setAllCollapsed = (collapsed) => {
    for (const pool of pools.keys()) view.collapsed.set(pool, collapsed);
    draw();
  };
  root.append(h('h1', {}, 'Targets'),
    h('div', { class: 'controls' }, textInput, ...healthBoxes,
      h('button', { class: 'btn btn-light', onclick: () => setAllCollapsed(true) }, 'Collapse all'),
      h('button', { class: 'btn btn-light', onclick: () => setAllCollapsed(false) }, 'Expand all')),
    listEl);

  // The targets of each drawn pool, indexed like the lazy row chunks' keys.
  let shownPools = [];
  const filler = new LazyRowFiller((key, start, end) => {
    const now = Date.now();
    return shownPools[key].slice(start, end).map((t) => targetRowHtml(t, now)).join('');
  });
  function draw() {
    const html = [];
    shownPools = [];
    for (const [pool, targets] of pools) {
      const shown = targets.filter((t) => view.health.has(t.health || 'unknown') && targetMatchesText(t, view.text));
      if (shown.length === 0) continue;
      const collapsed = view.collapsed.has(pool) ? view.collapsed.get(pool) : shown.length > COLLAPSE_ABOVE;
      html.push(poolHtml(shownPools.length, pool, shown, collapsed));
      shownPools.push(shown);
    }
    listEl.innerHTML = html.length ? html.join('') : '<div class="alert alert-info">No targets match.</div>';
    filler.observe(listEl);
  }
  listEl.addEventListener('click', (event) => {
    const header = event.target.closest('.pool-header');
    if (!header) return;
    const pool = header.dataset.pool;
    const wasCollapsed = !header.nextElementSibling;
    view.collapsed.set(pool, !wasCollapsed);
    draw();
  });

  try {
    const { data } = await apiFetch('targets', { state: 'active' });
    pools = groupByPool(data.activeTargets || []);
    draw();
  } catch (err) {
    listEl.replaceChildren(alertBox('error', `Error fetching targets: ${err.message}`));
  }
}

function debounce(fn, ms) {
  let timer = null;
  return () => { clearTimeout(timer); timer = setTimeout(fn, ms); };
}
