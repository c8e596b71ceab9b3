// The servers the UI tests drive: the real vigil binary (which embeds the UI), or, as a
// reference check, Debian's Prometheus 2.42 behind a small proxy serving our built UI
// files under a route prefix (the API is the same, so the same UI tests must pass).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';

// One alert that fires at once and one recording rule, for servers with a rule engine.
const RULES_YAML = [
  'groups:',
  '  - name: inventory',
  '    rules:',
  '      - alert: InventoryServerErrors',
  '        expr: sum(inventory_requests_total{status="500"}) > 0',
  '        labels: {severity: page}',
  '        annotations: {summary: "the inventory app answers 500"}',
  '      - record: job:inventory_requests:sum',
  '        expr: sum by (job) (inventory_requests_total)',
  '',
].join('\n');

// A remote_write queue nobody listens to (port 1), with credentials in its URL: the
// Remote Write page must show it failing, with the password redacted. Vigil only.
const DEAD_REMOTE_WRITE_YAML = [
  'remote_write:',
  '  - url: http://ui:secret-pw@127.0.0.1:1/api/v1/write',
  '    name: dead-receiver',
  '    queue_config: {batch_send_deadline: 100ms, min_backoff: 100ms, max_backoff: 200ms}',
  '    metadata_config: {send: false}',
  '',
].join('\n');

function scrapeConfig(targetAddress, rulesPath, extraYaml = '') {
  return [
    'global:',
    '  scrape_interval: 1s',
    '  evaluation_interval: 1s',
    ...(rulesPath ? ['rule_files:', `  - ${rulesPath}`] : []),
    'scrape_configs:',
    '  - job_name: inventory',
    '    static_configs:',
    `      - targets: ['${targetAddress}']`,
    '        labels: {env: ui-test}',
    '',
  ].join('\n') + extraYaml;
}

export async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function httpGet(url) {
  try {
    const response = await fetch(url);
    return { status: response.status, body: await response.text() };
  } catch {
    return { status: 0, body: '' };
  }
}

async function waitFor(what, predicate, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
}

// Runs `binary args` with a temp dir holding the config; returns {baseUrl, stop}.
// withRules: also write RULES_YAML and reference it from the config.
async function startProcess(binary, makeArgs, targetAddress, withRules = false, extraYaml = '') {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-ui-'));
  const configPath = join(dir, 'prometheus.yml');
  const rulesPath = withRules ? join(dir, 'rules.yml') : null;
  if (rulesPath) writeFileSync(rulesPath, RULES_YAML);
  writeFileSync(configPath, scrapeConfig(targetAddress, rulesPath, extraYaml));
  const port = await freePort();
  const child = spawn(binary, makeArgs({ configPath, dataDir: join(dir, 'data'), port }), {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr = (stderr + chunk).slice(-4000); });
  let exited = false;
  child.on('exit', () => { exited = true; });
  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      await Promise.race([new Promise((r) => child.once('exit', r)), new Promise((r) => setTimeout(r, 5000))]);
      if (!exited) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  return { port, stop, stderr: () => stderr, exited: () => exited };
}

// Waits until the server is ready and has scraped the target at least twice.
async function waitScraped(baseUrl, proc) {
  await waitFor('readiness', async () => {
    if (proc.exited()) throw new Error(`server exited early:\n${proc.stderr()}`);
    return (await httpGet(`${baseUrl}/-/ready`)).status === 200;
  }, 30000);
  await waitFor('two scrapes of the target', async () => {
    if (proc.exited()) throw new Error(`server exited while queried:\n${proc.stderr()}`);
    const { body } = await httpGet(`${baseUrl}/api/v1/query?query=count_over_time(inventory_items_total[1m])`);
    try {
      const result = JSON.parse(body).data.result;
      return result.length > 0 && Number(result[0].value[1]) >= 2;
    } catch {
      return false;
    }
  }, 30000);
}

// routePrefix: '' or e.g. '/vigil' (passed as --web.route-prefix).
export async function startVigil(binary, targetAddress, routePrefix = '') {
  const proc = await startProcess(binary, ({ configPath, dataDir, port }) => [
    `--config.file=${configPath}`, `--storage.tsdb.path=${dataDir}`,
    `--web.listen-address=127.0.0.1:${port}`,
    ...(routePrefix ? [`--web.route-prefix=${routePrefix}`] : []),
  ], targetAddress, false, DEAD_REMOTE_WRITE_YAML);
  const baseUrl = `http://127.0.0.1:${proc.port}${routePrefix}`;
  try {
    await waitScraped(baseUrl, proc);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return { name: 'vigil', baseUrl, stop: proc.stop };
}

// True when the server answers a UI page with our index.html.
export async function servesUi(baseUrl) {
  const { status, body } = await httpGet(`${baseUrl}/graph`);
  return status === 200 && body.includes('assets/app-');
}

const CONTENT_TYPES = { '.html': 'text/html', '.js': 'application/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };
const PAGES = ['graph', 'targets', 'status', 'service-discovery', 'alerts', 'rules', 'flags', 'config', 'tsdb-status',
  'remote-write'];

// Serves distDir's files and pages under `prefix`, forwards everything else to apiPort.
export async function startUiProxy(distDir, prefix, apiPort, apiHandler) {
  const server = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    const rel = path.startsWith(prefix) ? path.slice(prefix.length) : null;
    const page = rel !== null && PAGES.includes(rel.slice(1));
    const file = page ? join(distDir, 'index.html') : rel !== null ? join(distDir, rel) : null;
    if (file && !rel.startsWith('/api/') && !rel.startsWith('/-/') && existsSync(file) && extname(file)) {
      res.writeHead(200, { 'Content-Type': CONTENT_TYPES[extname(file)] || 'application/octet-stream' });
      res.end(readFileSync(file));
      return;
    }
    if (apiHandler) {
      apiHandler(req, res, rel);
      return;
    }
    const upstream = request({ host: '127.0.0.1', port: apiPort, path: req.url, method: req.method, headers: req.headers },
      (up) => { res.writeHead(up.statusCode, up.headers); up.pipe(res); });
    upstream.on('error', () => res.writeHead(502).end('upstream down'));
    req.pipe(upstream);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: server.address().port, close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) };
}

export async function startPrometheusWithUi(binary, distDir, targetAddress) {
  const prefix = '/prom-ui';
  const proc = await startProcess(binary, ({ configPath, dataDir, port }) => [
    `--config.file=${configPath}`, `--storage.tsdb.path=${dataDir}`,
    `--web.listen-address=127.0.0.1:${port}`, `--web.external-url=http://127.0.0.1:${port}${prefix}`,
  ], targetAddress, true);
  const proxy = await startUiProxy(distDir, prefix, proc.port);
  const baseUrl = `http://127.0.0.1:${proxy.port}${prefix}`;
  const stop = async () => { await proxy.close(); await proc.stop(); };
  try {
    await waitScraped(baseUrl, proc);
  } catch (err) {
    await stop();
    throw err;
  }
  return { name: 'prometheus', baseUrl, stop };
}
