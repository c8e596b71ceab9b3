// Small DOM building blocks shared by the pages: element creation, escaping, labels.

// h('div', {class: 'x', onclick: fn}, child, 'text', [more]) -> HTMLElement.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'class') {
      el.className = value;
    } else if (key in el && key !== 'list' && key !== 'type') {
      // DOM properties (value, checked, hidden...) reflect live state; `list` and `type`
      // are read-only or order-sensitive as properties, so they go through attributes.
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? '' : value);
    }
  }
  appendChildren(el, children);
  return el;
}

function appendChildren(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) appendChildren(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

// Escapes text for building large tables as HTML strings (much faster than DOM calls
// for tens of thousands of rows).
export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

// {__name__: "up", job: "x"} -> 'up{job="x"}' as Prometheus prints series.
export function formatSeries(metric) {
  const name = metric.__name__ || '';
  const pairs = Object.entries(metric)
    .filter(([key]) => key !== '__name__')
    .map(([key, value]) => `${key}=${JSON.stringify(value)}`);
  if (pairs.length === 0) return name || '{}';
  return `${name}{${pairs.join(', ')}}`;
}

// Renders a labels object as badge spans (HTML string).
export function labelBadgesHtml(labels) {
  return Object.entries(labels)
    .map(([k, v]) => `<span class="badge">${escapeHtml(k)}="${escapeHtml(v)}"</span>`)
    .join(' ');
}

// A message box: kind is 'error', 'warning' or 'info'.
export function alertBox(kind, text) {
  return h('div', { class: `alert alert-${kind}`, role: 'alert' }, text);
}

// Human-readable time since an RFC 3339 timestamp: "3.2s ago".
export function formatAgo(isoTime, now = Date.now()) {
  const t = Date.parse(isoTime);
  if (!Number.isFinite(t) || t <= 0) return 'never';
  return `${formatSeconds(Math.max(0, (now - t) / 1000))} ago`;
}

// 0.0123 -> "12.3ms", 75 -> "1m 15s".
export function formatSeconds(seconds) {
  if (seconds < 1) return `${(seconds * 1000).toFixed(seconds < 0.01 ? 3 : 1)}ms`;
  if (seconds < 60) return `${seconds.toFixed(3).replace(/\.?0+$/, '')}s`;
  const m = Math.floor(seconds / 60);
  const s = Math.floor(seconds % 60);
  if (m < 60) return `${m}m ${s}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}
