#!/usr/bin/env python3
"""Side-by-side benchmark of Vigil against Prometheus 2.42 (issue 10).

Starts bench_target (synthetic scrape targets), then two servers with the same
configuration scraping the same targets on loopback: side A is Vigil (or a second
Prometheus with --fairness), side B is Debian's Prometheus. Runs five scenarios,
prints a table of A/B ratios against the performance targets and writes it into
BENCHMARKS.md.

  python3 bench/harness/run.py --scale small            # < 15 min on 2 cores
  python3 bench/harness/run.py --scale small --fairness # Prometheus on both sides
  python3 bench/harness/run.py --baseline-vigil OLD/vigil # this build vs an older one

Python 3 standard library only.
"""

import argparse
import datetime
import http.client
import json
import math
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# Scenario sizes. "small" must finish in under 15 minutes on 2 shared cores, so its
# churn period is 10x shorter than the 10 minutes (60 s instead of 600 s).
SCALES = {
    "small": dict(targets=20, series_per_target=5000, interval_s=15,
                  warmup_s=45, steady_s=180, churn_fraction=0.1, churn_period_s=60,
                  churn_s=180, dataset_targets=1, dataset_series=300,
                  dataset_hours=24, dataset_step_s=15, query_min_reps=10, query_max_reps=80,
                  query_budget_s=12, query_sessions=4, restart_reps=5),
    "large": dict(targets=100, series_per_target=10000, interval_s=5,
                  warmup_s=60, steady_s=300, churn_fraction=0.1, churn_period_s=600,
                  churn_s=1200, dataset_targets=4, dataset_series=1000,
                  dataset_hours=24, dataset_step_s=15, query_min_reps=5, query_max_reps=40,
                  query_budget_s=20, query_sessions=3, restart_reps=3),
}

ALL_SCENARIOS = ["steady", "churn", "disk", "query", "restart"]

# Ratio targets: A/B must be at or below these (performance promise in MISSION.md).
TARGETS = {"cpu": 0.5, "rss": 0.5, "disk": 0.7, "query": 0.7, "restart": 0.5}

# The seed dashboard's eight panels, as Grafana sends them (range queries).
DASHBOARD_QUERIES = [
    ("items (stat)", "inventory_items_total"),
    ("request rate by endpoint", "sum by (endpoint) (rate(inventory_requests_total[5m]))"),
    ("4xx/5xx error ratio",
     'sum(rate(inventory_requests_total{status=~"4..|5.."}[5m])) / '
     "sum(rate(inventory_requests_total[5m]))"),
    ("latency p50",
     "histogram_quantile(0.5, sum by (le) (rate(inventory_request_duration_seconds_bucket[5m])))"),
    ("latency p95",
     "histogram_quantile(0.95, sum by (le) (rate(inventory_request_duration_seconds_bucket[5m])))"),
    ("cache hits", "rate(inventory_cache_hits_total[5m])"),
    ("cache misses", "rate(inventory_cache_misses_total[5m])"),
    ("CPU usage", '100 - avg(rate(node_cpu_seconds_total{mode="idle"}[5m])) * 100'),
    ("memory used", "node_memory_MemTotal_bytes - node_memory_MemAvailable_bytes"),
    ("memory total", "node_memory_MemTotal_bytes"),
    ("db errors (stat)", "inventory_db_errors_total"),
]

# Heavier queries, each run over 1h, 24h and 7d ranges.
HEAVY_QUERIES = [
    ("cpu by mode", "sum by (mode) (rate(node_cpu_seconds_total[5m]))"),
    ("top network pods",
     "topk(5, sum by (pod) (rate(node_network_receive_bytes_total[5m])))"),
    ("rpc p99", "histogram_quantile(0.99, sum by (le) (rate(bench_rpc_duration_seconds_bucket[5m])))"),
    ("series per metric", 'count by (__name__) ({job="bench"})'),
    ("disk written 1h", "sum(increase(node_disk_written_bytes_total[1h]))"),
    ("fs avail avg 1h", "sum(avg_over_time(node_filesystem_avail_bytes[1h]))"),
]
# (label, range seconds, step seconds): Grafana-like ~250-350 points per panel.
RANGES = [("1h", 3600, 15), ("24h", 86400, 300), ("7d", 7 * 86400, 1800)]


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ---------------------------------------------------------------- process stats

def cpu_seconds(pid):
    """utime + stime of `pid` in seconds (fields 14 and 15 of /proc/pid/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def dir_bytes(path):
    """Apparent size of every file under `path` (what `du --apparent-size` says)."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except FileNotFoundError:
                pass  # compaction removed it while we walked
    return total


def free_port_range(count):
    """A base port such that base..base+count-1 are all free on 127.0.0.1."""
    for _ in range(200):
        base = random.randrange(20000, 29000 - count)
        socks = []
        try:
            for p in range(base, base + count):
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("127.0.0.1", p))
                socks.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free loopback port range")


def http_get(url, timeout=30):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read()


# ---------------------------------------------------------------------- servers

class Server:
    """One Prometheus-compatible server process (Vigil or Prometheus)."""

    def __init__(self, name, kind, binary, workdir, config):
        self.name, self.kind, self.binary = name, kind, binary
        self.workdir = workdir
        self.data_dir = os.path.join(workdir, f"data-{name}")
        self.config = config
        self.port = free_port_range(1)
        self.proc = None
        self.conn = None  # keep-alive connection for query()
        self.log_path = os.path.join(workdir, f"{name}.log")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def label(self):
        return f"{self.name} ({self.kind})"

    def start(self):
        os.makedirs(self.data_dir, exist_ok=True)
        args = [self.binary, f"--config.file={self.config}",
                f"--storage.tsdb.path={self.data_dir}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--storage.tsdb.retention.time=30d"]
        logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, stdout=logf, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        logf.close()
        return self

    def wait_ready(self, timeout=300):
        """Seconds from now until /-/ready answers 200; raises on exit or timeout."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.label} exited with {self.proc.returncode}, "
                                   f"see {self.log_path}")
            try:
                if http_get(self.url + "/-/ready", timeout=2)[0] == 200:
                    return time.monotonic() - t0
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)
        raise RuntimeError(f"{self.label} not ready after {timeout}s")

    def kill9(self):
        self.close_connection()
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self):
        self.close_connection()
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.kill9()

    def cpu(self):
        return cpu_seconds(self.proc.pid)

    def rss(self):
        return rss_bytes(self.proc.pid)

    def query(self, path, params, timeout=120):
        """(seconds, parsed JSON or None, error string or None) for one API call.
        Queries reuse one keep-alive connection per server, as Grafana does, so the
        figure is the server's time plus one loopback round trip rather than a TCP
        handshake and Python's URL opener on every call."""
        target = f"{path}?{urllib.parse.urlencode(params)}"
        for attempt in range(2):  # a kept-alive connection the server closed: reconnect once
            t0 = time.perf_counter()
            try:
                conn = self.connection(timeout)
                conn.request("GET", target)
                resp = conn.getresponse()
                body = resp.read()
                elapsed = time.perf_counter() - t0
            except (http.client.HTTPException, OSError) as e:
                self.close_connection()
                if attempt == 0:
                    continue
                return time.perf_counter() - t0, None, str(e)
            if resp.status != 200:
                return elapsed, None, f"HTTP {resp.status}: {body[:200]!r}"
            try:
                return elapsed, json.loads(body), None
            except ValueError as e:
                return elapsed, None, str(e)
        return 0.0, None, "unreachable"

    def connection(self, timeout):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        return self.conn

    def close_connection(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def scalar(self, expr, at):
        """Value of an instant query at unix time `at`, or None if the server cannot
        answer."""
        _, doc, err = self.query("/api/v1/query", {"query": expr, "time": f"{at:.3f}"})
        if err or not doc or doc.get("status") != "success":
            return None
        result = doc["data"]["result"]
        if not result:
            return None
        return float(result[0]["value"][1])


class Sampler:
    """Samples CPU, RSS and data-dir size of running servers every `period` s."""

    def __init__(self, servers, period=2.0):
        self.servers, self.period = servers, period
        self.samples = {s.name: [] for s in servers}  # (t, cpu, rss, disk)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self):
        while not self._stop.is_set():
            for s in self.servers:
                try:
                    self.samples[s.name].append(
                        (time.monotonic(), s.cpu(), s.rss(), dir_bytes(s.data_dir)))
                except (FileNotFoundError, ProcessLookupError):
                    pass
            self._stop.wait(self.period)

    def between(self, name, t0, t1):
        return [x for x in self.samples[name] if t0 <= x[0] <= t1]


# -------------------------------------------------------------------- the bench

class Bench:
    def __init__(self, args):
        self.args = args
        self.scale = dict(SCALES[args.scale])
        for key in ("steady_s", "churn_s", "warmup_s", "interval_s"):
            if getattr(args, key, None):
                self.scale[key] = getattr(args, key)
        self.workdir = tempfile.mkdtemp(prefix="vigil-bench-", dir=args.workdir)
        self.rows = []       # (scenario, figure, a, b, ratio, target, unit)
        self.notes = []
        self.target_proc = None
        self.servers = []
        self.profiles = []  # (title, perf report lines)
        self.query_detail = None
        self.a_kind = "prometheus" if args.fairness else "vigil"
        self.a_binary = args.prometheus if args.fairness else args.vigil
        # --baseline-vigil: side B is another Vigil build (before/after a change).
        self.b_kind = "vigil" if args.baseline_vigil else "prometheus"
        self.b_binary = args.baseline_vigil or args.prometheus

    # ------------------------------------------------------------ infrastructure

    def start_target(self):
        sc = self.scale
        self.target_base = free_port_range(sc["targets"] + 1)
        self.control = self.target_base + sc["targets"]
        args = [self.args.target, f"--targets={sc['targets']}",
                f"--series-per-target={sc['series_per_target']}",
                f"--base-port={self.target_base}", f"--control-port={self.control}",
                f"--step-ms={sc['interval_s'] * 1000}",
                f"--churn-fraction={sc['churn_fraction']}",
                f"--churn-period-ms={sc['churn_period_s'] * 1000}"]
        logf = open(os.path.join(self.workdir, "target.log"), "ab")
        self.target_proc = subprocess.Popen(args, stdout=logf, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        logf.close()
        for _ in range(100):
            try:
                http_get(f"http://127.0.0.1:{self.control}/stats", timeout=1)
                return
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        raise RuntimeError("bench_target did not start")

    def write_config(self, name, with_targets):
        sc = self.scale
        path = os.path.join(self.workdir, name)
        targets = ", ".join(f"'127.0.0.1:{self.target_base + t}'"
                            for t in range(sc["targets"])) if with_targets else ""
        with open(path, "w") as f:
            f.write(f"global:\n  scrape_interval: {sc['interval_s']}s\n"
                    f"  scrape_timeout: {min(10, sc['interval_s'])}s\n"
                    f"  evaluation_interval: {sc['interval_s']}s\n"
                    "scrape_configs:\n  - job_name: bench\n    static_configs:\n"
                    f"      - targets: [{targets}]\n")
        return path

    def new_pair(self, config, suffix=""):
        a = Server("A" + suffix, self.a_kind, self.a_binary, self.workdir, config)
        b = Server("B" + suffix, self.b_kind, self.b_binary, self.workdir, config)
        self.servers += [a, b]
        return a, b

    def add(self, scenario, figure, a, b, target_key, unit, fmt="{:.3g}"):
        ratio = a / b if (a is not None and b) else None
        self.rows.append(dict(scenario=scenario, figure=figure, a=a, b=b, ratio=ratio,
                              target=TARGETS.get(target_key), unit=unit, fmt=fmt))
        shown = lambda v: "n/a" if v is None else fmt.format(v)
        log(f"  {scenario} / {figure}: A={shown(a)} B={shown(b)} "
            f"ratio={'n/a' if ratio is None else f'{ratio:.2f}'}")

    def unavailable(self, scenario, figure, why, target_key):
        self.rows.append(dict(scenario=scenario, figure=figure, a=None, b=None, ratio=None,
                              target=TARGETS.get(target_key), unit="", fmt="{}", why=why))
        log(f"  {scenario} / {figure}: not available: {why}")

    # ---------------------------------------------------------------- scenarios

    def samples_in_window(self, server, window_s, end_wall):
        """Samples the server ingested in the window, from its own scrape_samples_scraped."""
        return server.scalar(f"sum(sum_over_time(scrape_samples_scraped[{int(window_s)}s]))",
                             end_wall)

    def profile_start(self, server, window_s, label):
        """perf record of `server` (with --profile) for `window_s` seconds, or until
        profile_finish when window_s is None, so a missed target comes with where
        the time goes."""
        if not self.args.profile:
            return None
        out = os.path.join(self.workdir, f"perf-{label}-{server.name}.data")
        cmd = ["perf", "record", "-F", "199", "-g", "-p", str(server.proc.pid), "-o", out]
        if window_s is not None:
            cmd += ["--", "sleep", str(window_s)]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return proc, out, server, label

    def profile_finish(self, handle):
        if not handle:
            return
        proc, out, server, label = handle
        if proc.poll() is None and "sleep" not in proc.args:
            proc.send_signal(signal.SIGINT)  # perf writes its data file on SIGINT
        proc.wait()
        report = subprocess.run(["perf", "report", "-i", out, "--no-children", "--stdio",
                                 "--sort", "dso,symbol", "--percent-limit", "1.5", "-g", "none"],
                                capture_output=True, text=True).stdout
        top = [" ".join(line.split()).rstrip(" -") for line in report.splitlines()
               if line.strip() and not line.startswith("#")]
        self.profiles.append((f"{label}: {server.label}", top[:25]))

    def ingestion_window(self, servers, sampler, window_s, label):
        sc = self.scale
        t0 = time.monotonic()
        cpu0 = {s.name: s.cpu() for s in servers}
        profile = self.profile_start(servers[0], window_s, label)
        time.sleep(window_s)
        cpu1 = {s.name: s.cpu() for s in servers}
        self.profile_finish(profile)
        t1 = time.monotonic()
        end_wall = time.time()
        expected = (sc["targets"] * sc["series_per_target"] * window_s / sc["interval_s"])
        result = {}
        for s in servers:
            counted = self.samples_in_window(s, window_s, end_wall)
            samples = counted if counted else expected
            if not counted:
                self.notes.append(f"{label}: {s.label} could not answer "
                                  "sum_over_time(scrape_samples_scraped); samples estimated "
                                  "as series x window / interval.")
            if counted and counted < 0.9 * expected:
                self.notes.append(f"{label}: {s.label} ingested only {counted / expected:.0%} "
                                  "of the offered samples (scrapes failed or were skipped: "
                                  "the machine could not keep up); per-sample figures are "
                                  "over what it did ingest.")
            window = sampler.between(s.name, t0 + (t1 - t0) / 2, t1)
            rss = statistics.mean(x[2] for x in window) if window else s.rss()
            disk = window[-1][3] if window else dir_bytes(s.data_dir)
            result[s.name] = dict(cpu=cpu1[s.name] - cpu0[s.name], samples=samples,
                                  rss=rss, disk=disk)
            log(f"  {s.label}: cpu {result[s.name]['cpu']:.1f}s, samples {samples:.0f} "
                f"(expected {expected:.0f}), rss {rss / 2**20:.0f} MiB, "
                f"data dir {disk / 2**20:.0f} MiB")
        return result

    def scenario_steady_and_churn(self, a, b):
        sc = self.scale
        series = sc["targets"] * sc["series_per_target"]
        with Sampler([a, b]) as sampler:
            log(f"(a) steady: {series} series, {sc['interval_s']}s interval, "
                f"warm-up {sc['warmup_s']}s, window {sc['steady_s']}s")
            time.sleep(sc["warmup_s"])
            r = self.ingestion_window([a, b], sampler, sc["steady_s"], "steady")
            self.add_ingestion_figures("(a) steady", r, a, b, series)
            self.add("(a) steady", "data dir bytes per sample (WAL/head, uncompacted)",
                     r[a.name]["disk"] / r[a.name]["samples"],
                     r[b.name]["disk"] / r[b.name]["samples"], None, "B", "{:.2f}")
            if "churn" in self.args.scenarios:
                log(f"(b) churn: {sc['churn_fraction']:.0%} of series replaced every "
                    f"{sc['churn_period_s']}s, window {sc['churn_s']}s")
                http_get(f"http://127.0.0.1:{self.control}/churn/start")
                r = self.ingestion_window([a, b], sampler, sc["churn_s"], "churn")
                self.add_ingestion_figures("(b) churn", r, a, b, series)

    def add_ingestion_figures(self, scenario, r, a, b, series):
        """CPU per million samples and RSS per active series of one ingestion window."""
        per_m = {n: v["cpu"] / v["samples"] * 1e6 for n, v in r.items()}
        self.add(scenario, "CPU s per 1M samples", per_m[a.name], per_m[b.name], "cpu", "s")
        self.add(scenario, "RSS bytes per active series", r[a.name]["rss"] / series,
                 r[b.name]["rss"] / series, "rss", "B", "{:.0f}")

    def scenario_restart(self, a, b):
        sc = self.scale
        log("(e) restart: kill -9 both, then restart one at a time to /-/ready")
        a.kill9()
        b.kill9()
        times = {a.name: [], b.name: []}
        for rep in range(sc["restart_reps"]):
            order = (a, b) if rep % 2 == 0 else (b, a)
            for s in order:
                s.start()
                t = s.wait_ready(timeout=600)
                times[s.name].append(t)
                log(f"  {s.label}: ready after {t:.2f}s")
                s.kill9()
        self.add("(e) restart", "seconds to ready after kill -9 (median)",
                 statistics.median(times[a.name]), statistics.median(times[b.name]),
                 "restart", "s", "{:.2f}")

    def import_dataset(self, server, dataset):
        """Backfills `dataset` into the server's data dir; (seconds, error)."""
        if server.kind == "prometheus":
            cmd = [self.args.promtool, "tsdb", "create-blocks-from", "openmetrics",
                   dataset, server.data_dir]
        else:
            cmd = [server.binary, "tsdb", "create-blocks-from", "openmetrics",
                   dataset, server.data_dir]
        os.makedirs(server.data_dir, exist_ok=True)
        t0 = time.monotonic()
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            return None, (p.stderr or p.stdout).strip().splitlines()[-1:] or ["failed"]
        return time.monotonic() - t0, None

    def make_dataset(self):
        sc = self.scale
        path = os.path.join(self.workdir, "dataset.om")
        end_ms = (int(time.time()) - 600) // sc["dataset_step_s"] * sc["dataset_step_s"] * 1000
        start_ms = end_ms - sc["dataset_hours"] * 3600 * 1000
        out = subprocess.run([self.args.target, f"--targets={sc['dataset_targets']}",
                              f"--series-per-target={sc['dataset_series']}",
                              f"--step-ms={sc['dataset_step_s'] * 1000}",
                              f"--openmetrics-out={path}", f"--start-ms={start_ms}",
                              f"--end-ms={end_ms}"], capture_output=True, text=True, check=True)
        return path, int(out.stdout.strip()), end_ms / 1000

    def wait_compacted(self, servers, min_wait=75, max_wait=240):
        """Waits until every data dir stopped shrinking/growing for 20 s."""
        t0 = time.monotonic()
        last = {s.name: (-1, t0) for s in servers}
        while time.monotonic() - t0 < max_wait:
            time.sleep(5)
            now = time.monotonic()
            stable = True
            for s in servers:
                size = dir_bytes(s.data_dir)
                if size != last[s.name][0]:
                    last[s.name] = (size, now)
                if now - last[s.name][1] < 20:
                    stable = False
            if stable and now - t0 >= min_wait:
                return
        self.notes.append("disk: data dirs still changing after "
                          f"{max_wait}s; sizes are the last observed")

    def scenario_disk(self, empty_config):
        """(c): import the same 24h OpenMetrics data into both; returns the servers
        (running, holding the dataset) for the query scenario, or None."""
        sc = self.scale
        log(f"(c) disk: {sc['dataset_hours']}h dataset, {sc['dataset_targets']} targets x "
            f"{sc['dataset_series']} series at {sc['dataset_step_s']}s")
        dataset, samples, end_s = self.make_dataset()
        log(f"  dataset: {samples} samples, {os.path.getsize(dataset) / 2**20:.0f} MiB")
        a, b = self.new_pair(empty_config, suffix="-dataset")
        imported = {}
        for s in (a, b):
            secs, err = self.import_dataset(s, dataset)
            imported[s.name] = secs
            if err:
                log(f"  {s.label}: import failed: {err}")
            else:
                log(f"  {s.label}: imported in {secs:.1f}s, {dir_bytes(s.data_dir)} bytes")
        os.remove(dataset)
        if imported[b.name] is None:
            self.unavailable("(c) disk", "bytes per sample after compaction",
                             "promtool import failed", "disk")
            return None
        if imported[a.name] is None:
            self.unavailable("(c) disk", "bytes per sample after compaction",
                             f"not yet available for Vigil (`vigil tsdb create-blocks-from "
                             f"openmetrics` failed or is absent)", "disk")
            b.start().wait_ready()
            self.wait_compacted([b])
            log(f"  {b.label}: {dir_bytes(b.data_dir) / samples:.3f} bytes/sample")
            self.notes.append(f"disk: Prometheus alone held the {sc['dataset_hours']}h "
                              f"dataset in {dir_bytes(b.data_dir) / samples:.3f} bytes/sample.")
            b.stop()
            return None
        for s in (a, b):
            s.start()
        for s in (a, b):
            s.wait_ready()
        self.wait_compacted([a, b])
        per = {s.name: dir_bytes(s.data_dir) / samples for s in (a, b)}
        self.add("(c) disk", "bytes per sample after compaction", per[a.name], per[b.name],
                 "disk", "B", "{:.3f}")
        self.add("(c) disk", "import seconds (backfill)", imported[a.name], imported[b.name],
                 None, "s", "{:.1f}")
        return a, b, end_s

    def time_queries(self, a, b, queries, end_s, label_suffix, range_s, step_s):
        """Times every query on both servers; returns ({label: {name: [secs]}},
        mismatch notes). Rounds go over the whole query set, the server order
        alternates, so a burst of noise from other jobs on the machine hits both
        sides alike; rounds repeat until `query_min_reps` are done and the
        session's time budget is spent (at most `query_max_reps`), so cheap
        queries get enough samples for a stable p90."""
        sc = self.scale
        params = {label: {"query": expr, "start": f"{end_s - range_s:.3f}",
                          "end": f"{end_s:.3f}", "step": str(step_s)}
                  for label, expr in queries}
        timings = {f"{label} [{label_suffix}]": {a.name: [], b.name: []} for label, _ in queries}
        mismatches = []
        for label, expr in queries:  # warm-up, and the answers to compare
            answers = []
            for s in (a, b):
                _, doc, err = s.query("/api/v1/query_range", params[label])
                answers.append(err or len(doc["data"]["result"]))
            if answers[0] != answers[1]:
                mismatches.append(f"`{expr}` over {label_suffix}: A gave {answers[0]}, "
                                  f"B gave {answers[1]} series")
        t0 = time.monotonic()
        rep = 0
        while rep < sc["query_max_reps"] and (
                rep < sc["query_min_reps"] or time.monotonic() - t0 < sc["query_budget_s"]):
            for qi, (label, _) in enumerate(queries):
                for s in ((a, b) if (rep + qi) % 2 == 0 else (b, a)):
                    secs, _, err = s.query("/api/v1/query_range", params[label])
                    if err is None:
                        timings[f"{label} [{label_suffix}]"][s.name].append(secs)
            rep += 1
        return timings, mismatches

    def scenario_queries(self, a, b, end_s, data_note):
        """Times the query groups in `query_sessions` sessions; both servers are
        restarted between sessions, so a speed difference that sticks to one process
        (its heap, where the scheduler put its threads) averages out instead of
        deciding the ratio."""
        log(f"(d) query latency ({data_note or 'imported dataset'})")
        groups = [("(d) dashboard 1h", DASHBOARD_QUERIES, "1h", 3600, 15)] + [
            (f"(d) heavy {label}", HEAVY_QUERIES, label, range_s, step_s)
            for label, range_s, step_s in RANGES]
        merged = {name: {} for name, *_ in groups}
        mismatches = []
        for session in range(self.scale["query_sessions"]):
            if session > 0:
                a.stop(), b.stop()
                self.start_pair(a, b)
                time.sleep(5)
            profile = self.profile_start(a, None, "queries") if session == 0 else None
            for name, queries, label, range_s, step_s in groups:
                timings, found = self.time_queries(a, b, queries, end_s, label, range_s, step_s)
                if session == 0:
                    mismatches.extend(found)
                for query, per in timings.items():
                    acc = merged[name].setdefault(query, {a.name: [], b.name: []})
                    for server, secs in per.items():
                        acc[server].extend(secs)
            self.profile_finish(profile)
        for name, *_ in groups:
            self.summarize_queries(name, merged[name], a, b)
        self.query_detail = ({q: v for group in merged.values() for q, v in group.items()},
                             a.name, b.name)
        for m in mismatches:
            self.notes.append(f"query answers differ: {m}")
        if data_note:
            self.notes.append(f"query latency measured on {data_note}.")

    def summarize_queries(self, scenario, timings, a, b):
        """Geometric mean over queries of the per-query median and p90."""
        ok = {k: v for k, v in timings.items() if v[a.name] and v[b.name]}
        if len(ok) < len(timings):
            failed = sorted(set(timings) - set(ok))
            self.notes.append(f"{scenario}: {len(failed)} queries failed on a side and are "
                              f"left out: {', '.join(failed)}")
        if not ok:
            self.unavailable(scenario, "latency", "no query succeeded on both sides", "query")
            return
        for stat_name, fn in (("median", statistics.median), ("p90", p90)):
            ga = geomean([fn(v[a.name]) for v in ok.values()]) * 1000
            gb = geomean([fn(v[b.name]) for v in ok.values()]) * 1000
            self.add(scenario, f"{stat_name} latency ms (geomean of {len(ok)} queries)",
                     ga, gb, "query", "ms", "{:.1f}")

    # ----------------------------------------------------------------- the run

    def attempt(self, scenario, fn, *args):
        """Runs one scenario; a failure (server crash, timeout, bad answer) becomes a
        table row saying so instead of ending the whole run."""
        try:
            return fn(*args)
        except Exception as e:  # noqa: BLE001 - any failure is reported, not hidden
            log(f"  {scenario} failed: {e!r}")
            self.unavailable(scenario, "(scenario failed)", f"failed: {e}", None)
            for s in self.servers:
                s.kill9()
            return None

    def start_pair(self, a, b):
        a.start(), b.start()
        a.wait_ready(), b.wait_ready()
        return True

    def live_phase(self, config):
        """(a), (b) and (e) on one pair of servers scraping the targets."""
        a, b = self.new_pair(config)
        if not self.attempt("(a) steady", self.start_pair, a, b):
            return
        if "steady" in self.args.scenarios:
            self.attempt("(a) steady", self.scenario_steady_and_churn, a, b)
        if "restart" in self.args.scenarios and a.proc.poll() is None:
            self.attempt("(e) restart", self.scenario_restart, a, b)
        a.stop(), b.stop()

    def dataset_phase(self, empty_config):
        """(c) and, when both sides imported the dataset, (d) on that dataset.
        Returns True when the queries still need to run (on live data)."""
        pair = self.attempt("(c) disk", self.scenario_disk, empty_config)
        if pair and "query" in self.args.scenarios:
            self.attempt("(d) query", self.scenario_queries, pair[0], pair[1], pair[2], "")
        if pair:
            pair[0].stop(), pair[1].stop()
        return "query" in self.args.scenarios and not pair

    def live_query_phase(self, config):
        # A could not import the dataset: time the queries on the scraped data of
        # the live phase instead (restarting from its data dirs).
        a, b = self.new_pair(config)
        if self.attempt("(d) query", self.start_pair, a, b):
            time.sleep(2 * self.scale["interval_s"])
            self.attempt("(d) query", self.scenario_queries, a, b, time.time(),
                         "the live scraped data (A could not import the dataset; ranges "
                         "beyond the run's few minutes hold no data)")
        a.stop(), b.stop()

    def run(self):
        log(f"workdir {self.workdir}; A = {self.a_kind} ({self.a_binary}), "
            f"B = {self.b_kind} ({self.b_binary})")
        scenarios = set(self.args.scenarios)
        try:
            self.start_target()
            config = self.write_config("prometheus.yml", with_targets=True)
            empty_config = self.write_config("empty.yml", with_targets=False)
            # Phases run one after the other so they never compete for the CPU.
            if scenarios & {"steady", "churn", "restart"}:
                self.live_phase(config)
            needs_live_queries = False
            if scenarios & {"disk", "query"}:
                needs_live_queries = self.dataset_phase(empty_config)
            if needs_live_queries:
                self.live_query_phase(config)
        finally:
            self.cleanup()
        return self.report()

    def cleanup(self):
        for s in self.servers:
            s.kill9()
        if self.target_proc and self.target_proc.poll() is None:
            self.target_proc.terminate()
            self.target_proc.wait()
        if not self.args.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)

    # --------------------------------------------------------------- reporting

    def report(self):
        lines = []
        title = ("Prometheus vs Prometheus (fairness check)" if self.args.fairness
                 else "Vigil vs an earlier Vigil build" if self.args.baseline_vigil
                 else "Vigil vs Prometheus 2.42")
        sc = self.scale
        lines.append(f"### {title}, scale `{self.args.scale}`\n")
        lines.append(f"- date: {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC")
        lines.append(f"- machine: {machine()}")
        lines.append(f"- command: `{command_line()}`")
        b_version = ("" if self.args.baseline_vigil
                     else f", {prometheus_version(self.args.prometheus)}")
        lines.append(f"- A = {self.a_kind} (`{self.a_binary}`), B = {self.b_kind} "
                     f"(`{self.b_binary}`{b_version})")
        lines.append(f"- load: {sc['targets']} targets x {sc['series_per_target']} series = "
                     f"{sc['targets'] * sc['series_per_target']} active series every "
                     f"{sc['interval_s']}s; churn {sc['churn_fraction']:.0%} every "
                     f"{sc['churn_period_s']}s; dataset {sc['dataset_targets']}x"
                     f"{sc['dataset_series']} series x {sc['dataset_hours']}h at "
                     f"{sc['dataset_step_s']}s\n")
        lines.append("| scenario | figure | A | B | A/B | target | verdict |")
        lines.append("|---|---|---:|---:|---:|---:|---|")
        for r in self.rows:
            shown = lambda v: "n/a" if v is None else r["fmt"].format(v)
            target = "" if r["target"] is None else f"≤ {r['target']}"
            if self.args.fairness and r["target"] is None:
                verdict, target = "(info)", ""
            elif self.args.fairness:
                verdict = ("" if r["ratio"] is None else
                           ("fair (within ±10%)" if abs(r["ratio"] - 1) <= 0.10
                            else "OUTSIDE ±10%"))
                target = "1.0 ± 0.1"
            elif self.args.baseline_vigil:
                # Two Vigil builds: the targets are against Prometheus, so none
                # applies; a ratio within ±10% of 1.0 is "the same" on this machine.
                target = ""
                verdict = ("(info)" if r["ratio"] is None else
                           "same (within ±10%)" if abs(r["ratio"] - 1) <= 0.10 else
                           "faster/smaller" if r["ratio"] < 1 else "SLOWER/LARGER")
            elif r.get("why"):
                verdict = r["why"]
            elif r["ratio"] is None or r["target"] is None:
                verdict = "(info)"
            else:
                verdict = "meets" if r["ratio"] <= r["target"] else "MISSES"
            ratio = "n/a" if r["ratio"] is None else f"{r['ratio']:.2f}"
            lines.append(f"| {r['scenario']} | {r['figure']} | {shown(r['a'])} | "
                         f"{shown(r['b'])} | {ratio} | {target} | {verdict} |")
        if self.args.fairness:
            # Only the figures with a performance target count; informational rows
            # (uncompacted data dir, import time) are shown but not judged.
            rated = [r for r in self.rows if r["ratio"] is not None and r["target"]]
            fair = [r for r in rated if abs(r["ratio"] - 1) <= 0.10]
            lines.append(f"\nFairness check: {len(fair)}/{len(rated)} ratios within ±10% of 1.0"
                         f" -> {'PASS' if rated and len(fair) == len(rated) else 'FAIL'}.")
        if self.notes:
            lines.append("\nNotes:")
            lines.extend(f"- {n}" for n in dict.fromkeys(self.notes))
        if self.query_detail:
            timings, an, bn = self.query_detail
            lines.append("\n<details><summary>per-query latency (ms, median / p90)</summary>\n")
            lines.append("| query | A median | A p90 | B median | B p90 |")
            lines.append("|---|---:|---:|---:|---:|")
            for q, v in timings.items():
                cell = lambda xs, f: f"{f(xs) * 1000:.1f}" if xs else "failed"
                lines.append(f"| {q} | {cell(v[an], statistics.median)} | {cell(v[an], p90)} | "
                             f"{cell(v[bn], statistics.median)} | {cell(v[bn], p90)} |")
            lines.append("\n</details>")
        for title, top in self.profiles:
            lines.append(f"\n<details><summary>perf profile of {title} (self time, dso and "
                         "symbol)</summary>\n\n```")
            lines.extend(top)
            lines.append("```\n\n</details>")
        return "\n".join(lines) + "\n"


def p90(xs):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, math.ceil(0.9 * len(xs)) - 1)]


def geomean(xs):
    return math.exp(statistics.mean(math.log(max(x, 1e-9)) for x in xs))


def machine():
    model = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    return (f"{os.cpu_count()} CPUs ({model}), {mem_kb / 2**20:.1f} GiB RAM, "
            f"{platform.system()} {platform.release()}; shared with other jobs")


def command_line():
    return "python3 bench/harness/run.py " + " ".join(sys.argv[1:])


def prometheus_version(binary):
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
        return out.split("\n")[0].replace("prometheus, ", "")
    except OSError:
        return "unknown version"


# ------------------------------------------------------------------ BENCHMARKS.md

def write_benchmarks(path, key, section):
    """Replaces (or appends) the block between this run's markers in BENCHMARKS.md,
    leaving every other section (storage, PromQL micro-benchmarks) untouched."""
    begin, end = f"<!-- BEGIN harness:{key} -->", f"<!-- END harness:{key} -->"
    block = f"{begin}\n{section}{end}\n"
    text = open(path).read() if os.path.exists(path) else (
        "# Vigil benchmarks\n\nFigures are ratios measured in one run with both servers side "
        "by side on the same shared machine; see bench/README.md.\n\n"
        "## Side-by-side: Vigil vs Prometheus 2.42\n\n")
    heading = "## Side-by-side: Vigil vs Prometheus 2.42\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        tail = rest.split(end, 1)[1].lstrip("\n")
        text = head + block + ("\n" + tail if tail else "")
    elif "<!-- END harness:" in text:  # next to the other harness blocks
        cut = text.index("-->", text.rindex("<!-- END harness:")) + len("-->\n")
        text = text[:cut] + "\n" + block + text[cut:]
    elif heading in text:
        cut = text.index(heading) + len(heading)
        text = text[:cut] + "\n" + block + text[cut:]
    else:
        text = text.rstrip("\n") + "\n\n" + heading + "\n" + block
    with open(path, "w") as f:
        f.write(text)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", choices=sorted(SCALES), default="small")
    p.add_argument("--fairness", action="store_true",
                   help="Prometheus on both sides; checks every ratio is within ±10%% of 1.0")
    p.add_argument("--vigil", default=os.path.join(REPO, "build-bench/src/vigil"))
    p.add_argument("--prometheus", default="/usr/bin/prometheus")
    p.add_argument("--baseline-vigil", default=None,
                   help="side B is this Vigil binary instead of Prometheus (a before/after "
                        "comparison of two builds; ratios are A/B as usual)")
    p.add_argument("--promtool", default="/usr/bin/promtool")
    p.add_argument("--target", default=os.path.join(REPO, "build-bench/bench/target/bench_target"))
    p.add_argument("--scenarios", default=",".join(ALL_SCENARIOS),
                   help="comma-separated subset of steady,churn,disk,query,restart")
    p.add_argument("--steady-s", type=int, help="override the steady window (seconds)")
    p.add_argument("--churn-s", type=int, help="override the churn window (seconds)")
    p.add_argument("--warmup-s", type=int, help="override the warm-up (seconds)")
    p.add_argument("--interval-s", type=int,
                   help="override the scrape interval (seconds); the BENCHMARKS.md block "
                        "gets its own key")
    p.add_argument("--output", default=os.path.join(REPO, "BENCHMARKS.md"))
    p.add_argument("--no-write", action="store_true", help="print only, leave BENCHMARKS.md")
    p.add_argument("--profile", action="store_true",
                   help="perf record side A during the steady and churn windows")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    p.add_argument("--workdir", default=None, help="parent of the temporary work directory")
    args = p.parse_args()
    args.scenarios = [s for s in args.scenarios.split(",") if s]
    unknown = set(args.scenarios) - set(ALL_SCENARIOS)
    if unknown:
        p.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    for path in ([args.prometheus, args.promtool, args.target] +
                 ([] if args.fairness else [args.vigil]) +
                 ([args.baseline_vigil] if args.baseline_vigil else [])):
        if not os.access(path, os.X_OK):
            p.error(f"{path} is not an executable (build bench_target / vigil first, "
                    "or pass --fairness to put Prometheus on both sides)")
    return args


def main():
    args = parse_args()
    bench = Bench(args)
    text = bench.run()
    print("\n" + text)
    if not args.no_write:
        partial = args.scenarios != ALL_SCENARIOS
        key = (f"{args.scale}{f'-{args.interval_s}s' if args.interval_s else ''}"
               f"{'-fairness' if args.fairness else ''}"
               f"{'-baseline' if args.baseline_vigil else ''}"
               f"{'-' + '+'.join(args.scenarios) if partial else ''}")
        write_benchmarks(args.output, key, text)
        log(f"wrote {args.output} (section {key})")


if __name__ == "__main__":
    main()
