// A loopback scrape target serving a small Prometheus text exposition that looks like
// the mission's inventory app, with counters that move between scrapes.
import { createServer } from 'node:http';

export async function startMetricsTarget() {
  let scrapes = 0;
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end('not found\n');
      return;
    }
    scrapes++;
    const body = [
      '# HELP inventory_items_total Number of items in the inventory.',
      '# TYPE inventory_items_total gauge',
      `inventory_items_total ${40 + (scrapes % 5)}`,
      '# HELP inventory_requests_total Requests handled.',
      '# TYPE inventory_requests_total counter',
      `inventory_requests_total{method="GET",endpoint="/api/items",status="200"} ${scrapes * 7}`,
      `inventory_requests_total{method="POST",endpoint="/api/items",status="201"} ${scrapes * 2}`,
      `inventory_requests_total{method="GET",endpoint="/api/items",status="500"} ${scrapes}`,
      '',
    ].join('\n');
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end(body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return { address: `127.0.0.1:${port}`, close: () => new Promise((r) => server.close(r)) };
}
