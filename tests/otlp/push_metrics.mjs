// Pushes one export of metrics to an OTLP/HTTP protobuf endpoint with the real
// OpenTelemetry JS SDK (versions pinned in sdk/package-lock.json):
//   node push_metrics.mjs --node-modules DIR --url http://127.0.0.1:PORT/api/v1/otlp/v1/metrics
//                         --protocol proto|json --instance ID
// A gauge, a monotonic counter, an up-down counter and a histogram, on a resource
// with service.name/namespace/instance.id and two more attributes.
import { createRequire } from 'node:module';
import path from 'node:path';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []));
const require = createRequire(path.join(args['node-modules'], 'noop.js'));
const { MeterProvider, PeriodicExportingMetricReader, View, ExplicitBucketHistogramAggregation } =
  require('@opentelemetry/sdk-metrics');
const { OTLPMetricExporter } = require(args.protocol === 'json'
  ? '@opentelemetry/exporter-metrics-otlp-http'
  : '@opentelemetry/exporter-metrics-otlp-proto');
const { Resource } = require('@opentelemetry/resources');

const resource = new Resource({
  'service.name': 'checkout',
  'service.namespace': 'shop',
  'service.instance.id': args.instance,
  'host.name': 'node-a',
  'deployment.environment': 'test',
});
const provider = new MeterProvider({
  resource,
  views: [new View({
    instrumentName: 'http.server.duration',
    aggregation: new ExplicitBucketHistogramAggregation([10, 100]),
  })],
});
const exporter = new OTLPMetricExporter({ url: args.url });
provider.addMetricReader(new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60000 }));

const meter = provider.getMeter('vigil-otlp-test', '1.0.0');
meter.createObservableGauge('queue.depth', { unit: '{items}' })
  .addCallback((result) => result.observe(7, { queue: 'orders' }));
const requests = meter.createCounter('http.server.requests', { unit: '1' });
requests.add(2, { 'http.method': 'GET' });
requests.add(1, { 'http.method': 'GET' });
requests.add(5, { 'http.method': 'POST' });
const inflight = meter.createUpDownCounter('queue.size');
inflight.add(4);
inflight.add(-1);
const duration = meter.createHistogram('http.server.duration', { unit: 'ms' });
for (const ms of [5, 50, 500]) duration.record(ms, { 'http.route': '/api' });

try {
  await provider.forceFlush();
  await provider.shutdown();
} catch (err) {
  console.error('export failed:', err);
  process.exit(1);
}
console.log('pushed');
