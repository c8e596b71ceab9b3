// Lazy table bodies for very long tables (10 000 targets): rows are emitted as chunks of
// placeholder <tbody> elements of the estimated height, and a chunk's real rows are built
// only when it scrolls near the viewport. Building and laying out every row up front
// takes seconds in the browser; this keeps any list interactive in a fraction of that.

const CHUNK_ROWS = 200;
const ESTIMATED_ROW_PX = 34;

// Placeholder <tbody> chunks for `rowCount` rows of the group `key` (HTML string).
export function lazyBodiesHtml(key, rowCount, columns) {
  const out = [];
  for (let start = 0; start < rowCount; start += CHUNK_ROWS) {
    const count = Math.min(CHUNK_ROWS, rowCount - start);
    out.push(`<tbody class="lazy-rows" data-key="${key}" data-start="${start}" data-count="${count}">` +
      `<tr><td colspan="${columns}" style="height:${count * ESTIMATED_ROW_PX}px"></td></tr></tbody>`);
  }
  return out.join('');
}

// Fills the placeholder chunks inside `container` as they approach the viewport.
// rowsHtml(key, start, end) returns the HTML of those rows.
export class LazyRowFiller {
  constructor(rowsHtml) {
    this.rowsHtml = rowsHtml;
    this.observer = new IntersectionObserver((entries) => this.fill(entries), { rootMargin: '1000px 0px' });
  }

  // Call after (re)rendering `container`'s HTML.
  observe(container) {
    this.observer.disconnect();
    container.querySelectorAll('tbody.lazy-rows').forEach((body) => this.observer.observe(body));
  }

  fill(entries) {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      const body = entry.target;
      this.observer.unobserve(body);
      const start = Number(body.dataset.start);
      body.innerHTML = this.rowsHtml(body.dataset.key, start, start + Number(body.dataset.count));
      body.classList.remove('lazy-rows');
    }
  }
}
