// Scale check for the UI: 10 000 targets on the Targets page and 1 000 series in one
// graph. A synthetic API (this script) serves the data so the figures measure the
// browser side only; the built UI files are served exactly as the binary embeds them.
// Prints the timings and fails when one exceeds its budget.
//
//   node ui_scale_test.mjs --dist DIR --node-modules DIR
import { existsSync } from 'node:fs';
import { startUiProxy } from './harness/backends.mjs';
import { CHROMIUM, launchChromium } from './harness/browser.mjs';

const SKIP = 77;
const TARGETS = 10000;
const POOLS = 10;
const SERIES = 1000;
// Budgets (ms) on a 2-core CI machine, generous enough not to flake; figures are in README.
const BUDGET_MS = {
  targetsLoad: 5000, poolExpand: 5000, filter: 5000, expandAll: 5000, jumpToLastTarget: 5000,
  serviceDiscoveryLoad: 5000, graph: 8000, table: 5000,
};

function target(i) {
  const pool = `pool-${i % POOLS}`;
  const address = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:9100`;
  return {
    discoveredLabels: { __address__: address, __metrics_path__: '/metrics', __scheme__: 'http', job: pool },
    labels: { instance: address, job: pool, zone: `zone-${i % 3}` },
    scrapePool: pool, scrapeUrl: `http://${address}/metrics`, globalUrl: `http://${address}/metrics`,
    lastError: i % 97 === 0 ? 'Get "http://x/metrics": context deadline exceeded' : '',
    lastScrape: new Date().toISOString(), lastScrapeDuration: 0.0123,
    health: i % 97 === 0 ? 'down' : 'up', scrapeInterval: '15s', scrapeTimeout: '10s',
  };
}

function metric(i) {
  return { __name__: 'node_cpu_seconds_total', instance: `host-${i}:9100`, job: 'node', mode: 'idle' };
}

function apiBody(rel, params) {
  if (rel === '/api/v1/targets') {
    return { activeTargets: Array.from({ length: TARGETS }, (_, i) => target(i)), droppedTargets: [] };
  }
  if (rel === '/api/v1/query_range') {
    const [start, end, step] = ['start', 'end', 'step'].map((k) => Number(params.get(k)));
    return {
      resultType: 'matrix',
      result: Array.from({ length: SERIES }, (_, i) => {
        const values = [];
        for (let t = start; t <= end; t += step) values.push([t, String(i + Math.sin(t / 300 + i))]);
        return { metric: metric(i), values };
      }),
    };
  }
  if (rel === '/api/v1/query') {
    const now = Date.now() / 1000;
    return { resultType: 'vector', result: Array.from({ length: SERIES }, (_, i) => ({ metric: metric(i), value: [now, String(i)] })) };
  }
  if (rel === '/api/v1/metadata') return {};
  return [];  // labels, label values, series: nothing to complete
}

async function startSyntheticServer(distDir) {
  return startUiProxy(distDir, '', 0, (req, res, rel) => {
    const params = new URL(req.url, 'http://x').searchParams;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ status: 'success', data: apiBody(rel, params) }));
  });
}

async function timed(fn) {
  const started = performance.now();
  await fn();
  return Math.round(performance.now() - started);
}

async function measure(page, base) {
  const figures = {};
  figures.targetsLoad = await timed(async () => {
    await page.goto(`${base}/targets`);
    await page.waitForSelector('main[data-loaded="true"] .pool-header', { timeout: 30000 });
  });
  figures.poolExpand = await timed(async () => {
    await page.locator('.pool-header').first().click();
    await page.locator('.targets-table tbody tr', { hasText: '10.0.0.0:9100' }).waitFor({ timeout: 30000 });
  });
  figures.filter = await timed(async () => {
    await page.locator('.filter-input').fill('10.0.1.');  // targets 256..511, 26 in pool-0
    await page.locator('.pool-header', { hasText: 'pool-0 (26/26 up)' }).waitFor({ timeout: 30000 });
    await page.locator('.targets-table tbody tr', { hasText: '10.0.1.4:9100' }).waitFor({ timeout: 30000 });
  });
  figures.expandAll = await timed(async () => {
    await page.locator('.filter-input').fill('');
    await page.waitForFunction((n) => document.querySelectorAll('.pool-header').length === n, POOLS);
    await page.locator('button', { hasText: 'Expand all' }).click();
    await page.locator('.targets-table tbody tr', { hasText: '10.0.0.0:9100' }).waitFor({ timeout: 30000 });
  });
  figures.jumpToLastTarget = await timed(async () => {
    const last = `10.0.${(TARGETS - 1) >> 8}.${(TARGETS - 1) & 255}:9100`;
    for (let i = 0; i < 20; i++) {  // End key: rows near the bottom get built, heights settle
      await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
      await page.waitForTimeout(50);
      if (await page.locator('.targets-table tbody tr', { hasText: last }).count() > 0) break;
    }
    await page.locator('.targets-table tbody tr', { hasText: last }).waitFor({ timeout: 30000 });
  });
  figures.serviceDiscoveryLoad = await timed(async () => {
    await page.goto(`${base}/service-discovery`);
    await page.locator('.sd-table tbody tr td.labels').first().waitFor({ timeout: 30000 });
  });
  figures.graph = await timed(async () => {
    await page.goto(`${base}/graph?g0.expr=node_cpu_seconds_total&g0.tab=0&g0.range_input=1h`);
    await page.locator('.legend-item').nth(SERIES - 1).waitFor({ timeout: 30000 });
    await page.locator('.chart canvas').waitFor();
  });
  figures.graphRenderOnly = Math.round(await page.evaluate(() => window.vigilGraphPanels[0].lastRenderMs));
  figures.table = await timed(async () => {
    await page.locator('.tab', { hasText: 'Table' }).click();
    await page.locator('.data-table tr').nth(SERIES - 1).waitFor({ timeout: 30000 });
  });
  return figures;
}

async function main() {
  const args = {};
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) args[argv[i].replace(/^--/, '')] = argv[i + 1];
  if (!existsSync(CHROMIUM)) {
    console.log(`SKIP: ${CHROMIUM} not found (apt-get install chromium)`);
    return SKIP;
  }
  const server = await startSyntheticServer(args.dist);
  const browser = await launchChromium(args['node-modules']);
  try {
    const page = await browser.context.newPage();
    const figures = await measure(page, `http://127.0.0.1:${server.port}`);
    let failed = 0;
    for (const [name, ms] of Object.entries(figures)) {
      const budget = BUDGET_MS[name];
      const over = budget !== undefined && ms > budget;
      if (over) failed++;
      console.log(`${name}: ${ms} ms${budget ? ` (budget ${budget} ms)${over ? ' OVER BUDGET' : ''}` : ''}`);
    }
    console.log(`ui scale (${TARGETS} targets, ${SERIES} series): ${Object.keys(BUDGET_MS).length - failed} passed, ${failed} failed`);
    return failed === 0 ? 0 : 1;
  } finally {
    await browser.close();
    await server.close();
  }
}

main().then((code) => process.exit(code), (err) => {
  console.error(`ui scale test failed to run: ${err.stack || err.message}`);
  process.exit(1);
});
