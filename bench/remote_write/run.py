#!/usr/bin/env python3
"""remote_write benchmarks (issue 19), against Debian's victoria-metrics.

  throughput: Vigil, then Prometheus 2.42, scrape the same synthetic targets
              and remote-write to a fresh VictoriaMetrics; prints samples/s
              sent and samples sent per CPU second of the server.
  outage:     Vigil remote-writes under load; VictoriaMetrics is stopped for
              --outage-s, Vigil is kill -9'd halfway and restarted; after
              recovery the sample counts of both stores are compared.

  python3 bench/remote_write/run.py throughput --vigil build/src/vigil
  python3 bench/remote_write/run.py outage --outage-s 300 --vigil build/src/vigil

Python 3 standard library only. Writes nothing; paste the printed lines into
BENCHMARKS.md.
"""

import argparse
import http.server
import json
import os
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Target:
    """`series` gauges on a loopback HTTP server, new values every scrape."""

    def __init__(self, series):
        self.series = series
        self.n = 0
        target = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                target.n += 1
                body = "".join(f'bench_gauge{{i="{i}"}} {target.n + i}\n'
                               for i in range(target.series)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def get(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as r:
        return r.read().decode()


def wait_http(port, path, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            get(port, path)
            return
        except Exception:
            time.sleep(0.2)
    raise RuntimeError(f"nothing answers on :{port}{path}")


def metric(port, name):
    total = 0.0
    for line in get(port, "/metrics").splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def instant(port, query, t):
    q = urllib.parse.urlencode({"query": query, "time": f"{t:.3f}", "nocache": "1"})
    result = json.loads(get(port, "/api/v1/query?" + q))["data"]["result"]
    return float(result[0]["value"][1]) if result else 0.0


class Proc:
    def __init__(self, argv, log):
        self.log = open(log, "ab")
        self.p = subprocess.Popen(argv, stdout=self.log, stderr=self.log)

    def stop(self, sig=signal.SIGTERM):
        if self.p.poll() is None:
            self.p.send_signal(sig)
            self.p.wait(60)


def start_vm(workdir, port):
    p = Proc(["victoria-metrics", f"-httpListenAddr=127.0.0.1:{port}",
              f"-storageDataPath={workdir}/vm", "-search.latencyOffset=0s",
              "-search.disableCache", "-loggerLevel=ERROR"], f"{workdir}/vm.log")
    wait_http(port, "/health")
    return p


def server_config(path, targets, interval_s, vm_port, shards):
    static = ", ".join(f"'127.0.0.1:{t.port}'" for t in targets)
    with open(path, "w") as f:
        f.write(f"global: {{scrape_interval: {interval_s}s}}\n"
                f"scrape_configs:\n  - job_name: bench\n"
                f"    static_configs: [{{targets: [{static}]}}]\n"
                f"remote_write:\n  - url: http://127.0.0.1:{vm_port}/api/v1/write\n"
                f"    queue_config: {{min_shards: {shards}, max_samples_per_send: 2000}}\n")


def start_server(kind, binary, workdir, config, port, data):
    args = [binary, f"--config.file={config}", f"--storage.tsdb.path={data}",
            f"--web.listen-address=127.0.0.1:{port}"]
    p = Proc(args, f"{workdir}/{kind}.log")
    wait_http(port, "/-/ready", 60)
    return p


def throughput(args):
    results = []
    for kind, binary in (("vigil", args.vigil), ("prometheus", args.prometheus)):
        workdir = tempfile.mkdtemp(prefix=f"rw-bench-{kind}-")
        targets = [Target(args.series) for _ in range(args.targets)]
        vm_port, port = free_port(), free_port()
        vm = start_vm(workdir, vm_port)
        server_config(f"{workdir}/cfg.yml", targets, args.interval_s, vm_port, args.shards)
        srv = start_server(kind, binary, workdir, f"{workdir}/cfg.yml", port, f"{workdir}/data")
        time.sleep(args.warmup_s)
        sent0, cpu0, t0 = (metric(port, "prometheus_remote_storage_samples_total"),
                           cpu_seconds(srv.p.pid), time.time())
        time.sleep(args.measure_s)
        sent1, cpu1, t1 = (metric(port, "prometheus_remote_storage_samples_total"),
                           cpu_seconds(srv.p.pid), time.time())
        srv.stop()
        vm.stop()
        for t in targets:
            t.server.shutdown()
        shutil.rmtree(workdir, ignore_errors=True)
        sent, cpu = sent1 - sent0, cpu1 - cpu0
        results.append((kind, sent / (t1 - t0), cpu, sent / cpu if cpu else 0))
    print(f"load: {args.targets} targets x {args.series} series every {args.interval_s}s, "
          f"{args.measure_s}s measured after {args.warmup_s}s warm-up")
    print("| server | samples/s sent | server CPU s | samples sent per CPU s |")
    print("|---|---:|---:|---:|")
    for kind, rate, cpu, per_cpu in results:
        print(f"| {kind} | {rate:.0f} | {cpu:.1f} | {per_cpu:.0f} |")


def outage(args):
    workdir = tempfile.mkdtemp(prefix="rw-outage-")
    targets = [Target(args.series) for _ in range(args.targets)]
    vm_port, port = free_port(), free_port()
    vm = start_vm(workdir, vm_port)
    cfg = f"{workdir}/cfg.yml"
    server_config(cfg, targets, args.interval_s, vm_port, args.shards)
    data = f"{workdir}/data"
    srv = start_server("vigil", args.vigil, workdir, cfg, port, data)
    begin = time.time()
    time.sleep(args.warmup_s)
    vm.stop()
    print(f"receiver stopped for {args.outage_s}s", flush=True)
    time.sleep(args.outage_s / 2)
    srv.stop(signal.SIGKILL)
    print("vigil killed (-9) and restarted", flush=True)
    srv = start_server("vigil", args.vigil, workdir, cfg, port, data)
    time.sleep(args.outage_s / 2)
    vm = start_vm(workdir, vm_port)
    recovered = time.time()
    end = recovered - 1
    query = f'sum(count_over_time(bench_gauge[{int(end - begin) + 60}s]))'
    local = instant(port, query, end)
    remote = 0.0
    while time.time() - recovered < args.catch_up_s:
        remote = instant(vm_port, query, end)
        if remote >= local:
            break
        time.sleep(2)
    print(f"outage {args.outage_s}s with kill -9: Vigil stored {local:.0f} samples, "
          f"VictoriaMetrics has {remote:.0f} ({remote - local:+.0f}) "
          f"{time.time() - recovered:.0f}s after the receiver came back; "
          f"backlog drops {metric(port, 'vigil_remote_storage_samples_backlog_dropped_total'):.0f}")
    srv.stop()
    vm.stop()
    shutil.rmtree(workdir, ignore_errors=True)
    return 0 if remote >= local else 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["throughput", "outage"])
    ap.add_argument("--vigil", default="build/src/vigil")
    ap.add_argument("--prometheus", default="/usr/bin/prometheus")
    ap.add_argument("--targets", type=int, default=2)
    ap.add_argument("--series", type=int, default=5000)
    ap.add_argument("--interval-s", type=int, default=1)
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--warmup-s", type=int, default=20)
    ap.add_argument("--measure-s", type=int, default=60)
    ap.add_argument("--outage-s", type=int, default=300)
    ap.add_argument("--catch-up-s", type=int, default=300)
    args = ap.parse_args()
    if not shutil.which("victoria-metrics"):
        sys.exit("victoria-metrics missing: apt-get install victoria-metrics")
    sys.exit(throughput(args) if args.mode == "throughput" else outage(args))


if __name__ == "__main__":
    main()
