// Web UI tests in headless Chromium: load every page against a real server scraping a
// loopback target and check what a person would see. Saves a screenshot of each page.
//
//   node ui_pages_test.mjs --backend vigil --binary build/src/vigil --node-modules DIR --screenshots DIR
//        [--route-prefix /vigil]
//   node ui_pages_test.mjs --backend prometheus --binary /usr/bin/prometheus --dist DIR ...
//
// Exit codes: 0 all passed, 1 a test failed, 77 skipped (no Chromium, no binary, or a
// vigil binary that does not serve the UI yet).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { servesUi, startPrometheusWithUi, startVigil } from './harness/backends.mjs';
import { CHROMIUM, launchChromium } from './harness/browser.mjs';
import { startMetricsTarget } from './harness/metrics_target.mjs';

const SKIP = 77;

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i += 2) args[argv[i].replace(/^--/, '')] = argv[i + 1];
  return args;
}

// Thrown by a test that does not apply to this server (e.g. rules on a server without any).
class SkipTest extends Error {}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

// Types `text` into the panel's editor (replacing its content) and presses Enter.
async function typeQuery(page, text, { execute = true } = {}) {
  const editor = page.locator('.panel .cm-content').first();
  await editor.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await editor.pressSequentially(text, { delay: 5 });
  if (execute) {
    await page.keyboard.press('Escape');  // close autocompletion so Enter executes
    await page.keyboard.press('Enter');
  }
}

function defineTests(ctx) {
  const { baseUrl, targetAddress, shot } = ctx;
  const open = async (page, path) => {
    await page.goto(`${baseUrl}${path}`);
    await page.waitForSelector('main[data-loaded="true"]', { timeout: 15000 });
  };
  return [
    ['Server_SendsBundlesGzippedWithCacheHeaders', async () => {
      if (!ctx.embedsUi) throw new SkipTest('the files come from the test proxy, not the binary');
      const html = await (await fetch(`${baseUrl}/graph`)).text();
      const bundle = /src="(assets\/app-[^"]+\.js)"/.exec(html)[1];
      const response = await fetch(`${baseUrl}/${bundle}`, { headers: { 'Accept-Encoding': 'gzip' } });
      assert(response.status === 200, `bundle answered ${response.status}`);
      assert(response.headers.get('content-encoding') === 'gzip', 'bundle not gzip-encoded');
      assert(/immutable/.test(response.headers.get('cache-control')), 'bundle not cached as immutable');
      const etag = response.headers.get('etag');
      await response.arrayBuffer();
      const again = await fetch(`${baseUrl}/${bundle}`, { headers: { 'If-None-Match': etag } });
      assert(again.status === 304, `revalidation answered ${again.status}, expected 304`);
      const index = await fetch(`${baseUrl}/targets`);
      assert(index.headers.get('cache-control') === 'no-cache', 'index.html must be revalidated');
    }],
    ['TargetsPage_ListsScrapedTargetAsUp', async (page) => {
      await open(page, '/targets');
      const row = page.locator('.targets-table tbody tr', { hasText: targetAddress });
      await row.waitFor({ timeout: 10000 });
      assert((await row.locator('.state').innerText()) === 'UP', 'target state is not UP');
      assert((await page.locator('.pool-header', { hasText: 'inventory' }).count()) === 1, 'pool header missing');
      assert((await row.locator('.badge', { hasText: 'env="ui-test"' }).count()) === 1, 'target label missing');
      await shot(page, 'targets');
    }],
    ['TargetsPage_HealthAndTextFiltersHideTarget', async (page) => {
      await open(page, '/targets');
      await page.locator('.targets-table tbody tr').first().waitFor();
      await page.locator('input[name="health-up"]').uncheck();
      await page.locator('.alert-info', { hasText: 'No targets match' }).waitFor({ timeout: 5000 });
      await page.locator('input[name="health-up"]').check();
      await page.locator('.filter-input').fill('no-such-target');
      await page.locator('.alert-info', { hasText: 'No targets match' }).waitFor({ timeout: 5000 });
      await page.locator('.filter-input').fill('ui-test');
      await page.locator('.targets-table tbody tr', { hasText: targetAddress }).waitFor({ timeout: 5000 });
    }],
    ['GraphPage_TypedQueryShowsTableRow', async (page) => {
      await open(page, '/graph');
      await typeQuery(page, 'inventory_requests_total{status="500"}');
      const row = page.locator('.data-table tr', { hasText: 'inventory_requests_total' });
      await row.waitFor({ timeout: 10000 });
      assert((await page.locator('.data-table tr').count()) === 1, 'expected exactly one result row');
      assert(/status="500"/.test(await row.innerText()), 'row lacks the status label');
      await shot(page, 'graph-table');
    }],
    ['GraphPage_GraphTabPlotsSeries', async (page) => {
      await open(page, '/graph');
      await page.locator('.tab', { hasText: 'Graph' }).first().click();
      await page.locator('.range-input').fill('1m');  // the target has only been up for seconds
      await page.locator('.range-input').press('Enter');
      await typeQuery(page, 'rate(inventory_requests_total[5s])');
      await page.locator('.chart canvas').waitFor({ timeout: 10000 });
      await page.locator('.legend-item').first().waitFor();
      assert((await page.locator('.legend-item').count()) === 3, 'expected 3 plotted series in the legend');
      assert(/Result series: 3/.test(await page.locator('.panel-status').innerText()), 'status lacks series count');
      // uPlot paints on the next frame: wait until saturated (series-coloured, not grey
      // axis/grid) pixels appear on the canvas.
      const painted = await page.waitForFunction(() => {
        const canvas = document.querySelector('.chart canvas');
        const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let coloured = 0;
        for (let i = 0; i < pixels.length; i += 4) {
          const [r, g, b] = [pixels[i], pixels[i + 1], pixels[i + 2]];
          if (pixels[i + 3] > 0 && Math.max(r, g, b) - Math.min(r, g, b) > 60) coloured++;
        }
        return coloured > 50 ? coloured : false;
      }, null, { timeout: 10000 }).then((handle) => handle.jsonValue(), () => 0);
      assert(painted > 50, `no series line drawn on the canvas (${painted} coloured pixels)`);
      await shot(page, 'graph');
    }],
    ['GraphPage_BadQueryShowsServerError', async (page) => {
      await open(page, '/graph');
      await typeQuery(page, 'rate(inventory_requests_total)');
      const alert = page.locator('.panel .alert-error');
      await alert.waitFor({ timeout: 10000 });
      const text = await alert.innerText();
      // The server's own message, e.g. 'parse error: expected type range vector in call to
      // function "rate", got instant vector'.
      assert(/Error executing query: .*range vector/.test(text), `unexpected error text: ${text}`);
      await shot(page, 'graph-error');
    }],
    ['GraphPage_AutocompleteOffersMetricName', async (page) => {
      await open(page, '/graph');
      await typeQuery(page, 'inventory_it', { execute: false });
      const option = page.locator('.cm-tooltip-autocomplete li', { hasText: 'inventory_items_total' });
      await option.waitFor({ timeout: 10000 });
      await shot(page, 'graph-autocomplete');
      // CodeMirror ignores Enter on a completion list younger than its 75 ms interaction
      // delay (against accidental picks); a person never types that fast.
      await page.waitForTimeout(200);
      await page.keyboard.press('Enter');  // accepts the completion
      const text = await page.locator('.panel .cm-content').first().innerText();
      assert(text.trim() === 'inventory_items_total', `completion not applied: ${text}`);
    }],
    ['GraphPage_AutocompleteOffersFunctionsAndLabelValues', async (page) => {
      await open(page, '/graph');
      await typeQuery(page, 'histogram_q', { execute: false });
      await page.locator('.cm-tooltip-autocomplete li', { hasText: 'histogram_quantile' }).first().waitFor({ timeout: 10000 });
      await typeQuery(page, 'inventory_requests_total{method="', { execute: false });
      await page.locator('.cm-tooltip-autocomplete li', { hasText: 'POST' }).first().waitFor({ timeout: 10000 });
    }],
    ['GraphPage_MetricsExplorerInsertsPickedName', async (page) => {
      await open(page, '/graph');
      await page.locator('.explorer-btn').first().click();
      await page.locator('.explorer-filter').fill('inventory_it');
      const item = page.locator('.explorer-item', { hasText: 'inventory_items_total' });
      await item.waitFor({ timeout: 10000 });
      assert((await page.locator('.explorer-item').count()) === 1, 'filter did not narrow the list');
      await shot(page, 'graph-metrics-explorer');
      await item.click();
      assert((await page.locator('.modal').count()) === 0, 'explorer did not close');
      const text = await page.locator('.panel .cm-content').first().innerText();
      assert(text.trim() === 'inventory_items_total', `name not inserted: ${text}`);
    }],
    ['GraphPage_UrlReproducesPanels', async (page) => {
      const search = '?g0.expr=inventory_items_total&g0.tab=1&g1.expr=up&g1.tab=0&g1.range_input=5m';
      await open(page, `/graph${search}`);
      await page.locator('.panel').nth(1).locator('.chart canvas').waitFor({ timeout: 10000 });
      await page.locator('.panel').first().locator('.data-table tr', { hasText: 'inventory_items_total' }).waitFor();
      assert((await page.locator('.panel').count()) === 2, 'expected two panels');
      assert((await page.locator('.range-input').nth(1).inputValue()) === '5m', 'range not restored');
      await page.locator('.add-panel').click();
      await typeQuery(page.locator('.panel').nth(2).page(), 'up', { execute: false });
      const url = new URL(page.url());
      assert(url.searchParams.get('g1.range_input') === '5m', `URL lost g1.range_input: ${url.search}`);
      assert(url.searchParams.get('g0.expr') === 'inventory_items_total', `URL lost g0.expr: ${url.search}`);
    }],
    ['StatusPage_ShowsRuntimeAndBuildInfo', async (page) => {
      await open(page, '/status');
      await page.locator('.runtime-info').waitFor();
      await page.locator('.build-info').waitFor();
      assert(/Storage retention/.test(await page.locator('.runtime-info').innerText()), 'retention missing');
      await shot(page, 'status');
    }],
    ['FlagsPage_ListsFlags', async (page) => {
      await open(page, '/flags');
      await page.locator('.flags-table th', { hasText: 'storage.tsdb.retention.time' }).waitFor();
      await shot(page, 'flags');
    }],
    ['ConfigPage_ShowsLoadedYaml', async (page) => {
      await open(page, '/config');
      assert(/job_name: inventory/.test(await page.locator('.config-yaml').innerText()), 'config lacks the job');
      await shot(page, 'config');
    }],
    ['TsdbStatusPage_ShowsCardinality', async (page) => {
      await open(page, '/tsdb-status');
      await page.locator('.head-stats').waitFor();
      const tables = await page.locator('main').innerText();
      assert(/inventory_requests_total/.test(tables), 'top metrics lack inventory_requests_total');
      await shot(page, 'tsdb-status');
    }],
    ['RemoteWritePage_ShowsFailingQueueWithRedactedUrl', async (page) => {
      if (!ctx.embedsUi) throw new SkipTest('/api/v1/status/remote_write is Vigil only');
      await open(page, '/status');
      await page.locator('a[href="remote-write"]').first().click();
      await page.waitForSelector('main[data-loaded="true"]', { timeout: 15000 });
      const queue = page.locator('.remote-write-queue[data-queue="dead-receiver"]');
      await queue.locator('.alert-error').waitFor({ timeout: 10000 });
      const text = await queue.innerText();
      assert(/ui:xxxxx@127\.0\.0\.1:1/.test(text), `URL not shown redacted: ${text}`);
      assert(!/secret-pw/.test(text), 'password shown');
      assert(/Samples retried\s+[1-9]/.test(text), `no retries shown: ${text}`);
      await shot(page, 'remote-write');
    }],
    ['ServiceDiscoveryPage_ShowsDiscoveredAndTargetLabels', async (page) => {
      await open(page, '/service-discovery');
      const table = page.locator('.sd-table').first();
      await table.waitFor();
      assert(/__address__/.test(await table.innerText()), 'discovered labels missing');
      assert(/instance/.test(await table.innerText()), 'target labels missing');
      await shot(page, 'service-discovery');
    }],
    ['AlertsAndRulesPages_ShowEmptyStateWithoutRules', async (page) => {
      if (ctx.hasRules) throw new SkipTest('this server has rules configured');
      await open(page, '/alerts');
      await page.locator('.alert-info', { hasText: 'No alerting rules' }).waitFor();
      await shot(page, 'alerts');
      await open(page, '/rules');
      await page.locator('.alert-info', { hasText: 'No rules' }).waitFor();
    }],
    ['AlertsPage_ShowsFiringAlertWithLabels', async (page) => {
      if (!ctx.hasRules) throw new SkipTest('this server has no rules configured');
      await open(page, '/alerts');
      const rule = page.locator('.alert-rule', { hasText: 'InventoryServerErrors' });
      await rule.locator('.alerts-table .state-firing').waitFor({ timeout: 10000 });
      assert(/severity="page"/.test(await rule.locator('.alerts-table').innerText()), 'alert labels missing');
      await page.locator('input[name="state-firing"]').uncheck();
      await page.locator('.alert-info', { hasText: 'No alerts in the selected states' }).waitFor();
      await page.locator('input[name="state-firing"]').check();
      await shot(page, 'alerts');
    }],
    ['RulesPage_ListsRecordingAndAlertingRules', async (page) => {
      if (!ctx.hasRules) throw new SkipTest('this server has no rules configured');
      await open(page, '/rules');
      const text = await page.locator('.rules-table').innerText();
      assert(/record: job:inventory_requests:sum/.test(text), 'recording rule missing');
      assert(/alert: InventoryServerErrors/.test(text), 'alerting rule missing');
      await shot(page, 'rules');
    }],
  ];
}

// True when the server evaluates rule groups (the reference Prometheus gets a rule file).
async function hasRules(baseUrl) {
  try {
    const body = await (await fetch(`${baseUrl}/api/v1/rules`)).json();
    return (body.data.groups || []).length > 0;
  } catch {
    return false;
  }
}

async function startBackend(args, targetAddress) {
  if (args.backend === 'prometheus') return startPrometheusWithUi(args.binary, args.dist, targetAddress);
  return startVigil(args.binary, targetAddress, args['route-prefix'] || '');
}

async function runAll(args) {
  const target = await startMetricsTarget();
  const backend = await startBackend(args, target.address).catch(async (err) => { await target.close(); throw err; });
  const cleanup = [() => backend.stop(), () => target.close()];
  try {
    if (!(await servesUi(backend.baseUrl))) {
      console.log(`SKIP: ${args.binary} does not serve the web UI (GET /graph has no UI bundle); link web_ui into web`);
      return SKIP;
    }
    const browser = await launchChromium(args['node-modules']);
    cleanup.unshift(() => browser.close());
    const shotsDir = args.screenshots;
    if (shotsDir) mkdirSync(shotsDir, { recursive: true });
    const shot = async (page, name) => {
      if (shotsDir) await page.screenshot({ path: join(shotsDir, `${name}.png`), fullPage: false });
    };
    const ctx = {
      baseUrl: backend.baseUrl, targetAddress: target.address, shot,
      hasRules: await hasRules(backend.baseUrl), embedsUi: backend.name === 'vigil',
    };
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const [name, fn] of defineTests(ctx)) {
      const page = await browser.context.newPage();
      const pageErrors = [];
      page.on('pageerror', (err) => pageErrors.push(err.message));
      const started = Date.now();
      try {
        await fn(page);
        assert(pageErrors.length === 0, `JavaScript errors: ${pageErrors.join('; ')}`);
        passed++;
        console.log(`[ OK ] ${name} (${Date.now() - started} ms)`);
      } catch (err) {
        if (err instanceof SkipTest) {
          skipped++;
          console.log(`[SKIP] ${name}: ${err.message}`);
          continue;
        }
        failed++;
        console.log(`[FAIL] ${name}: ${err.message.split('\n')[0]}`);
      } finally {
        await page.close();
      }
    }
    console.log(`${backend.name} UI at ${backend.baseUrl}: ${passed} passed, ${failed} failed, ${skipped} skipped`);
    return failed === 0 ? 0 : 1;
  } finally {
    for (const fn of cleanup) await fn();
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (!existsSync(CHROMIUM)) {
    console.log(`SKIP: ${CHROMIUM} not found (apt-get install chromium)`);
    return SKIP;
  }
  if (!args.binary || !existsSync(args.binary)) {
    console.log(`SKIP: server binary ${args.binary} not found`);
    return SKIP;
  }
  return runAll(args);
}

main().then((code) => process.exit(code), (err) => {
  console.error(`ui tests failed to run: ${err.stack || err.message}`);
  process.exit(1);
});
