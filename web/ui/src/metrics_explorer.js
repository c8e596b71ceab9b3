// Metrics explorer: a searchable list of every metric name the server knows
// (/api/v1/label/__name__/values); picking one inserts it into the editor.
import { apiFetch } from './api.js';
import { alertBox, escapeHtml, h } from './dom.js';

// Rendering more names than this does not help a person; the filter narrows the list.
const MAX_SHOWN = 2000;

// Opens the explorer as a modal; onPick(name) receives the chosen metric name.
export async function openMetricsExplorer(onPick) {
  const list = h('div', { class: 'explorer-list' }, 'Loading\u2026');
  const filter = h('input', { class: 'form-control explorer-filter', type: 'search', placeholder: 'Filter metric names' });
  const close = () => { overlay.remove(); document.removeEventListener('keydown', onKey); };
  const onKey = (event) => { if (event.key === 'Escape') close(); };
  const overlay = h('div', { class: 'modal-overlay', onclick: (e) => { if (e.target === overlay) close(); } },
    h('div', { class: 'modal', role: 'dialog', 'aria-label': 'Metrics Explorer' },
      h('div', { class: 'modal-header' }, h('h2', {}, 'Metrics Explorer'),
        h('button', { class: 'btn btn-light', onclick: close, title: 'Close' }, '\u00d7')),
      filter, list));
  document.addEventListener('keydown', onKey);
  document.body.append(overlay);
  filter.focus();

  let names = [];
  const draw = () => {
    const needle = filter.value.trim().toLowerCase();
    const shown = names.filter((n) => n.toLowerCase().includes(needle));
    list.innerHTML = shown.slice(0, MAX_SHOWN)
      .map((n) => `<div class="explorer-item" data-name="${escapeHtml(n)}">${escapeHtml(n)}</div>`).join('') +
      (shown.length > MAX_SHOWN ? `<div class="explorer-more">${shown.length - MAX_SHOWN} more: refine the filter</div>` : '');
  };
  list.addEventListener('click', (event) => {
    const item = event.target.closest('.explorer-item');
    if (!item) return;
    close();
    onPick(item.dataset.name);
  });
  filter.addEventListener('input', draw);
  try {
    names = (await apiFetch('label/__name__/values')).data;
    draw();
  } catch (err) {
    list.replaceChildren(alertBox('error', `Error fetching metric names: ${err.message}`));
  }
}
