#!/usr/bin/env python3
"""otlp_sdk: the real OpenTelemetry JS SDK pushes metrics to Vigil over OTLP/HTTP.

Once with the protobuf exporter, once with the JSON one (as service instance
pod-1 and pod-2); both must give the same series.

Vigil runs with --enable-feature=otlp-write-receiver; push_metrics.mjs (npm
@opentelemetry/sdk-metrics 1.18.1 with @opentelemetry/exporter-metrics-otlp-proto
and -otlp-http 0.45.1, pinned in sdk/package-lock.json, installed with `npm ci` into NPM_DIR the
first time and when the lock file changes) exports a gauge, a monotonic counter, an
up-down counter and a histogram on a resource with service.name/namespace/instance.id.
The series queried back must be those Prometheus 2.48's otlptranslator makes
(storage/remote/otlptranslator of v2.48.0; docs/feature_flags.md "OTLP Receiver"):
unit and _total suffixes, job "namespace/name", instance from service.instance.id,
point attributes as labels, resource attributes on target_info only.

    otlp_sdk_test.py VIGIL_BINARY NPM_DIR    exit 77: no node/npm, or npm unreachable
"""
import filecmp
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


def skip(why):
    print("SKIP otlp_sdk: " + why)
    sys.exit(77)


def install_sdk(npm_dir):
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            skip(f"{tool} is not installed (apt-get install nodejs npm)")
    os.makedirs(npm_dir, exist_ok=True)
    lock = os.path.join(HERE, "sdk", "package-lock.json")
    installed = os.path.join(npm_dir, "package-lock.json")
    if os.path.isdir(os.path.join(npm_dir, "node_modules")) and os.path.exists(installed) \
            and filecmp.cmp(lock, installed, shallow=False):
        return
    for name in ("package.json", "package-lock.json"):
        shutil.copy(os.path.join(HERE, "sdk", name), npm_dir)
    r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"],
                       cwd=npm_dir, capture_output=True, text=True, timeout=240)
    if r.returncode != 0:
        if os.path.exists(installed):
            os.remove(installed)  # install again next time
        skip("npm ci failed (registry unreachable?): " + r.stderr.strip()[-500:])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError:
        return 0, ""


def query(port, expr):
    status, body = get(port, "/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
    assert status == 200, (expr, status, body)
    return {json.dumps(r["metric"], sort_keys=True): r["value"][1] for r in json.loads(body)["data"]["result"]}


def series(instance, name, value, **labels):
    labels = {"__name__": name, "job": "shop/checkout", "instance": instance, **labels}
    return json.dumps(labels, sort_keys=True), value


def check_push(port, npm_dir, protocol, instance, log_path):
    """Pushes with the SDK's `protocol` exporter and checks the stored series."""
    push = subprocess.run(["node", os.path.join(HERE, "push_metrics.mjs"),
                           "--node-modules", os.path.join(npm_dir, "node_modules"),
                           "--url", f"http://127.0.0.1:{port}/api/v1/otlp/v1/metrics",
                           "--protocol", protocol, "--instance", instance],
                          capture_output=True, text=True, timeout=60)
    assert push.returncode == 0, push.stdout + push.stderr + open(log_path).read()
    got = query(port, f'{{job="shop/checkout",instance="{instance}"}}')
    want = dict([
        series(instance, "queue_depth", "7", queue="orders"),                     # gauge, unit {items}
        series(instance, "http_server_requests_total", "3", http_method="GET"),  # counter, unit 1
        series(instance, "http_server_requests_total", "5", http_method="POST"),
        series(instance, "queue_size", "3"),                                      # up-down counter
        series(instance, "http_server_duration_milliseconds_bucket", "1", http_route="/api", le="10"),
        series(instance, "http_server_duration_milliseconds_bucket", "2", http_route="/api", le="100"),
        series(instance, "http_server_duration_milliseconds_bucket", "3", http_route="/api", le="+Inf"),
        series(instance, "http_server_duration_milliseconds_count", "3", http_route="/api"),
        series(instance, "http_server_duration_milliseconds_sum", "555", http_route="/api"),
        series(instance, "target_info", "1", host_name="node-a", deployment_environment="test",
               telemetry_sdk_language="nodejs", telemetry_sdk_name="opentelemetry",
               telemetry_sdk_version="1.18.1"),
    ])
    if got != want:
        print(f"{protocol}: got:\n  " + "\n  ".join(f"{k} {v}" for k, v in sorted(got.items())))
        print(f"{protocol}: want:\n  " + "\n  ".join(f"{k} {v}" for k, v in sorted(want.items())))
        return False
    # Histogram series answer histogram_quantile as scraped ones would.
    q = query(port, f'histogram_quantile(0.5, http_server_duration_milliseconds_bucket{{instance="{instance}"}})')
    assert list(q.values()) == ["55"], q
    return True


def main():
    vigil, npm_dir = sys.argv[1], sys.argv[2]
    install_sdk(npm_dir)
    work = tempfile.mkdtemp(prefix="vigil-otlp-")
    port = free_port()
    config = os.path.join(work, "prometheus.yml")
    with open(config, "w") as f:
        f.write("global:\n  scrape_interval: 1m\n")
    log = open(os.path.join(work, "vigil.log"), "w")
    proc = subprocess.Popen([vigil, f"--config.file={config}", f"--storage.tsdb.path={work}/data",
                             f"--web.listen-address=127.0.0.1:{port}",
                             "--enable-feature=otlp-write-receiver"], stdout=log, stderr=log)
    try:
        deadline = time.time() + 20
        while get(port, "/-/ready")[0] != 200:
            assert time.time() < deadline and proc.poll() is None, open(log.name).read()
            time.sleep(0.1)
        for protocol, instance in (("proto", "pod-1"), ("json", "pod-2")):
            if not check_push(port, npm_dir, protocol, instance, log.name):
                return 1
        print("otlp_sdk: protobuf and JSON exports stored as Prometheus 2.48 translates them")
        return 0
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
