// Graph page state <-> URL query string, in Prometheus's scheme so links are shareable
// between the two UIs: ?g0.expr=up&g0.tab=0&g0.range_input=1h&g0.end_input=...&
// g0.step_input=15&g0.stacked=0&g0.moment_input=...  (tab 0 = graph, 1 = table).

export const TAB_GRAPH = 0;
export const TAB_TABLE = 1;

export function defaultPanel() {
  return { expr: '', tab: TAB_TABLE, range_input: '1h', end_input: '', step_input: '', stacked: false, moment_input: '' };
}

// Parses location.search into a list of panel states (one empty panel when none).
export function panelsFromSearch(search) {
  const params = new URLSearchParams(search);
  const byIndex = new Map();
  for (const [key, value] of params) {
    const match = /^g(\d+)\.(\w+)$/.exec(key);
    if (!match) continue;
    const index = Number(match[1]);
    if (!byIndex.has(index)) byIndex.set(index, defaultPanel());
    const panel = byIndex.get(index);
    const field = match[2];
    if (field === 'tab') panel.tab = Number(value) === TAB_GRAPH ? TAB_GRAPH : TAB_TABLE;
    else if (field === 'stacked') panel.stacked = value === '1';
    else if (field in panel) panel[field] = value;
  }
  const panels = [...byIndex.keys()].sort((a, b) => a - b).map((i) => byIndex.get(i));
  return panels.length > 0 ? panels : [defaultPanel()];
}

// Serialises panel states back to a query string (without the leading '?').
export function searchFromPanels(panels) {
  const params = new URLSearchParams();
  panels.forEach((p, i) => {
    params.set(`g${i}.expr`, p.expr);
    params.set(`g${i}.tab`, String(p.tab));
    if (p.tab === TAB_GRAPH) {
      params.set(`g${i}.stacked`, p.stacked ? '1' : '0');
      params.set(`g${i}.range_input`, p.range_input);
      if (p.end_input) params.set(`g${i}.end_input`, p.end_input);
      if (p.step_input) params.set(`g${i}.step_input`, p.step_input);
    } else if (p.moment_input) {
      params.set(`g${i}.moment_input`, p.moment_input);
    }
  });
  return params.toString();
}
