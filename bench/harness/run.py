#!/usr/bin/env python3
"""Side-by-side benchmark of Vigil against Prometheus 2.42 and VictoriaMetrics 1.79
(issues 10 and 20).

Starts bench_target (synthetic scrape targets), then the servers with the same
configuration scraping the same targets on loopback: side A is Vigil (or a second
Prometheus with --fairness), side B is Debian's Prometheus, side C (unless --no-vm)
Debian's VictoriaMetrics. Runs five scenarios, prints a table of A/B ratios against the
performance targets (and A/C ratios for information), writes it into BENCHMARKS.md and
draws the sampled CPU, RSS and data-dir timeline as SVG charts under docs/bench/.

  python3 bench/harness/run.py --scale small            # < 15 min on 2 cores
  python3 bench/harness/run.py --scale small --fairness # Prometheus on both sides
  python3 bench/harness/run.py --baseline-vigil OLD/vigil # this build vs an older one
  python3 bench/harness/run.py --load kube              # 10 x 10 000 series at 5 s

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

# The kube load at `small`: fewer targets with more series each, every 5 s (issue 20);
# `large` keeps 100 x 10 000 at 5 s for both loads.
LOAD_SCALES = {
    ("kube", "small"): dict(targets=10, series_per_target=10000, interval_s=5),
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

# Heavier queries, each run over 1h, 24h and 7d ranges, per load profile.
HEAVY_INVENTORY = [
    ("cpu by mode", "sum by (mode) (rate(node_cpu_seconds_total[5m]))"),
    ("top network pods",
     "topk(5, sum by (pod) (rate(node_network_receive_bytes_total[5m])))"),
    ("rpc p99", "histogram_quantile(0.99, sum by (le) (rate(bench_rpc_duration_seconds_bucket[5m])))"),
    ("series per metric", 'count by (__name__) ({job="bench"})'),
    ("disk written 1h", "sum(increase(node_disk_written_bytes_total[1h]))"),
    ("fs avail avg 1h", "sum(avg_over_time(node_filesystem_avail_bytes[1h]))"),
]
# The kube load has no bench_rpc histogram and no pod label on node_*: its HTTP
# histogram and kube-state-metrics families take their place.
HEAVY_KUBE = [
    ("cpu by mode", "sum by (mode) (rate(node_cpu_seconds_total[5m]))"),
    ("top request pods",
     "topk(5, sum by (pod) (rate(http_requests_total[5m])))"),
    ("http p99", "histogram_quantile(0.99, sum by (le, handler) "
                 "(rate(http_request_duration_seconds_bucket[5m])))"),
    ("series per metric", 'count by (__name__) ({job="bench"})'),
    ("restarts 1h", "sum by (namespace) (increase(kube_pod_container_status_restarts_total[1h]))"),
    ("pods running", 'sum by (namespace) (kube_pod_status_phase{phase="Running"})'),
]
HEAVY_QUERIES = {"inventory": HEAVY_INVENTORY, "kube": HEAVY_KUBE}
# Load profiles bench_target serves (--model); the default is the first.
LOADS = {
    "inventory": "the inventory app, a host's node_* families and units of 25 node-like "
                 "series with a pod label",
    "kube": "node-exporter, kube-state-metrics and HTTP classic-histogram families, 2-4 "
            "labels each plus job/instance, in units of 50 series per pod",
}
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
    """One Prometheus-compatible server process (Vigil, Prometheus or VictoriaMetrics)."""

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

    @property
    def role(self):
        """A, B or C: the side this server plays, whatever the phase's suffix."""
        return self.name.split("-")[0]

    @property
    def ready_path(self):
        # VictoriaMetrics opens its storage before it listens; /health is its probe.
        return "/health" if self.kind == "victoriametrics" else "/-/ready"

    def start(self):
        os.makedirs(self.data_dir, exist_ok=True)
        if self.kind == "victoriametrics":
            # Same prometheus.yml as the others. strictParse=false: skip Prometheus-only
            # fields; latencyOffset=0s: answer the newest samples as the others do;
            # disableCache: no response cache, so repeated query timings are real work;
            # maxUniqueTimeseries: the default 300 000 would refuse queries over the 1 M
            # series that Prometheus and Vigil answer.
            args = [self.binary, f"-promscrape.config={self.config}",
                    "-promscrape.config.strictParse=false", "-search.latencyOffset=0s",
                    f"-storageDataPath={self.data_dir}",
                    f"-httpListenAddr=127.0.0.1:{self.port}", "-retentionPeriod=30d",
                    "-search.disableCache", "-search.maxUniqueTimeseries=100000000",
                    "-loggerLevel=WARN"]
        else:
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
        """Seconds from now until the ready probe answers 200; raises on exit or timeout."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.label} exited with {self.proc.returncode}, "
                                   f"see {self.log_path}")
            try:
                if http_get(self.url + self.ready_path, timeout=2)[0] == 200:
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

    def force_flush(self):
        """VictoriaMetrics keeps recent rows in memory; write them to parts so the data
        dir holds everything it ingested (a no-op for the others)."""
        if self.kind == "victoriametrics" and self.proc and self.proc.poll() is None:
            try:
                http_get(self.url + "/internal/force_flush", timeout=60)
            except (urllib.error.URLError, OSError) as e:
                log(f"  {self.label}: force_flush failed: {e}")

    def rows_stored(self):
        """VictoriaMetrics's own count of rows written to its storage
        (vm_rows_added_to_storage_total on /metrics), or None for the others or when it
        does not answer."""
        if self.kind != "victoriametrics":
            return None
        try:
            _, body = http_get(self.url + "/metrics", timeout=30)
        except (urllib.error.URLError, OSError):
            return None
        for line in body.decode(errors="replace").splitlines():
            if line.startswith("vm_rows_added_to_storage_total "):
                return float(line.split()[1])
        return None

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
        answer (within a minute: an overloaded server's count is estimated instead of
        holding up the others)."""
        _, doc, err = self.query("/api/v1/query", {"query": expr, "time": f"{at:.3f}"},
                                 timeout=60)
        if err or not doc or doc.get("status") != "success":
            return None
        result = doc["data"]["result"]
        if not result:
            return None
        return float(result[0]["value"][1])


class Sampler:
    """Samples CPU, RSS and data-dir size of running servers every `period` s; on exit
    the samples join `timeline` (a Timeline) for the charts, if one is given."""

    def __init__(self, servers, period=2.0, timeline=None):
        self.servers, self.period = servers, period
        self.samples = {s.name: [] for s in servers}  # (t, cpu, rss, disk, pid)
        self.timeline = timeline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        if self.timeline is not None:
            for s in self.servers:
                self.timeline.add_samples(s, self.samples[s.name])

    def _run(self):
        while not self._stop.is_set():
            for s in self.servers:
                try:
                    if s.proc is None or s.proc.poll() is not None:
                        continue
                    self.samples[s.name].append((time.monotonic(), s.cpu(), s.rss(),
                                                 dir_bytes(s.data_dir), s.proc.pid))
                except (FileNotFoundError, ProcessLookupError):
                    pass
            self._stop.wait(self.period)

    def between(self, name, t0, t1):
        return [x for x in self.samples[name] if t0 <= x[0] <= t1]


# ------------------------------------------------------------------- the charts

class Timeline:
    """What the Samplers saw over the whole run, per side (A, B, C), for the charts:
    time since the run started, CPU cores in use (CPU seconds per second between two
    samples of the same process), RSS and data-dir bytes; plus phase marks."""

    def __init__(self):
        self.t0 = time.monotonic()
        self.points = {}  # role -> [(t, cores or None, rss, disk, pid)]
        self.kinds = {}   # role -> server kind
        self.marks = []   # (t, label)

    def mark(self, label):
        self.marks.append((time.monotonic() - self.t0, label))

    def add_samples(self, server, samples):
        points = self.points.setdefault(server.role, [])
        self.kinds[server.role] = server.kind
        prev = None
        for t, cpu, rss, disk, pid in samples:
            cores = None
            if prev is not None and prev[4] == pid and t > prev[0]:
                cores = (cpu - prev[1]) / (t - prev[0])
            points.append((t - self.t0, cores, rss, disk, pid))
            prev = (t, cpu, rss, disk, pid)

    def write_charts(self, directory, key, rel_to):
        """Writes <key>-cpu.svg, -rss.svg and -disk.svg; returns (title, relative link)."""
        if not self.points:
            return []
        os.makedirs(directory, exist_ok=True)
        legend = [f"{role}: {self.kinds[role]}" for role in sorted(self.points)]
        charts = [("cpu", "CPU use", "CPU cores (CPU s per s)", 1, 1.0),
                  ("rss", "Resident memory (RSS)", "RSS (MiB)", 2, 2.0**20),
                  ("disk", "Data directory size", "data dir (MiB, apparent)", 3, 2.0**20)]
        links = []
        for suffix, title, y_label, column, divisor in charts:
            lines = []
            for role in sorted(self.points):
                pts, last_pid = [], None
                for point in self.points[role]:
                    if last_pid is not None and point[4] != last_pid:
                        pts.append((point[0], None))  # a new process: break the line
                    last_pid = point[4]
                    value = point[column]
                    pts.append((point[0], None if value is None else value / divisor))
                lines.append(pts)
            svg = svg_line_chart(f"{title}, run {key}", y_label, list(zip(legend, lines)),
                                 self.marks)
            path = os.path.join(directory, f"{key}-{suffix}.svg")
            with open(path, "w") as f:
                f.write(svg)
            links.append((f"{title} ({key})", os.path.relpath(path, rel_to)))
        return links


CHART_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]


def nice_step(span, ticks=5):
    """A 1/2/5 x 10^n step that cuts `span` into about `ticks` intervals."""
    raw = max(span, 1e-12) / ticks
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * power:
            return m * power
    return 10 * power


def svg_escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def svg_line_chart(title, y_label, series, marks, width=860, height=340):
    """A self-contained SVG line chart: `series` is [(name, [(x seconds, y or None)])],
    one polyline per name, broken where y is None or samples are > 10 s apart (the
    phases in between ran servers alone); `marks` are (x, label) phase starts."""
    left, right, top, bottom = 72, 20, 56, 48
    pw, ph = width - left - right, height - top - bottom
    xs = [x for _, pts in series for x, y in pts if y is not None]
    ys = [y for _, pts in series for x, y in pts if y is not None]
    x_max = max(xs + [m[0] for m in marks] + [1])
    y_step = nice_step(max(ys + [0]) or 1)
    y_max = y_step * max(1, math.ceil(max(ys + [0]) / y_step))
    minutes = x_max > 600
    x_div = 60 if minutes else 1
    x_step = nice_step(x_max / x_div, 8) * x_div
    sx = lambda x: left + pw * x / x_max
    sy = lambda y: top + ph * (1 - y / y_max)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{left}" y="20" font-size="14" font-weight="bold">'
           f'{svg_escape(title)}</text>']
    for i in range(int(round(y_max / y_step)) + 1):  # horizontal grid and y ticks
        y = i * y_step
        out.append(f'<line x1="{left}" y1="{sy(y):.1f}" x2="{left + pw}" y2="{sy(y):.1f}" '
                   'stroke="#e0e0e0"/>')
        out.append(f'<text x="{left - 6}" y="{sy(y) + 4:.1f}" text-anchor="end">{y:g}</text>')
    x = 0.0
    while x <= x_max + 1e-9:  # x ticks
        out.append(f'<line x1="{sx(x):.1f}" y1="{top + ph}" x2="{sx(x):.1f}" '
                   f'y2="{top + ph + 5}" stroke="black"/>')
        out.append(f'<text x="{sx(x):.1f}" y="{top + ph + 18}" text-anchor="middle">'
                   f'{x / x_div:g}</text>')
        x += x_step
    out.append(f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" '
               'stroke="black"/>')
    out.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" stroke="black"/>')
    out.append(f'<text x="{left + pw / 2}" y="{height - 8}" text-anchor="middle">time since '
               f'the run started ({"min" if minutes else "s"})</text>')
    out.append(f'<text transform="translate(16 {top + ph / 2}) rotate(-90)" '
               f'text-anchor="middle">{svg_escape(y_label)}</text>')
    for x, label in marks:  # phase starts
        out.append(f'<line x1="{sx(x):.1f}" y1="{top}" x2="{sx(x):.1f}" y2="{top + ph}" '
                   'stroke="#888" stroke-dasharray="4 3"/>')
        out.append(f'<text x="{sx(x) + 3:.1f}" y="{top + 12}" fill="#555" font-size="11">'
                   f'{svg_escape(label)}</text>')
    for i, (name, pts) in enumerate(series):
        color = CHART_COLORS[i % len(CHART_COLORS)]
        run, last_x = [], None
        for x, y in pts + [(None, None)]:
            broken = y is None or (last_x is not None and x - last_x > 10)
            if broken and len(run) > 1:
                out.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.5" '
                           f'points="{" ".join(run)}"/>')
            if broken:
                run = []
            if y is not None:
                run.append(f"{sx(x):.1f},{sy(y):.1f}")
            last_x = x
        lx = left + pw - 170 * (len(series) - i)  # legend, top right
        out.append(f'<line x1="{lx}" y1="38" x2="{lx + 20}" y2="38" stroke="{color}" '
                   'stroke-width="3"/>')
        out.append(f'<text x="{lx + 25}" y="42">{svg_escape(name)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def block_key(args):
    """The key of this run's block in BENCHMARKS.md (and of its chart files)."""
    partial = args.scenarios != ALL_SCENARIOS
    return (f"{args.scale}{'-kube' if args.load == 'kube' else ''}"
            f"{f'-{args.interval_s}s' if args.interval_s else ''}"
            f"{'-fairness' if args.fairness else ''}"
            f"{'-baseline' if args.baseline_vigil else ''}"
            f"{'-' + '+'.join(args.scenarios) if partial else ''}")


# -------------------------------------------------------------------- the bench

class Bench:
    def __init__(self, args):
        self.args = args
        self.scale = dict(SCALES[args.scale])
        self.scale.update(LOAD_SCALES.get((args.load, args.scale), {}))
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
        self.chart_links = []  # (title, relative path) embedded in the block
        self.a_kind = "prometheus" if args.fairness else "vigil"
        self.a_binary = args.prometheus if args.fairness else args.vigil
        # --baseline-vigil: side B is another Vigil build (before/after a change).
        self.b_kind = "vigil" if args.baseline_vigil else "prometheus"
        self.b_binary = args.baseline_vigil or args.prometheus
        # Side C, VictoriaMetrics: a second reference next to Prometheus (not in the
        # fairness check or a build-vs-build comparison, and skipped when absent).
        self.c_kind, self.c_binary = None, None
        if not (args.no_vm or args.fairness or args.baseline_vigil):
            if os.access(args.victoria_metrics, os.X_OK):
                self.c_kind, self.c_binary = "victoriametrics", args.victoria_metrics
            else:
                log(f"{args.victoria_metrics} is not an executable: running without "
                    "VictoriaMetrics (side C); install the victoria-metrics package")
        self.query_errors = {}  # (server label, query) -> first error
        self.timeline = Timeline()

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
                f"--churn-period-ms={sc['churn_period_s'] * 1000}"] + self.model_flag()
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

    def model_flag(self):
        return [] if self.args.load == "inventory" else [f"--model={self.args.load}"]

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

    def new_group(self, config, suffix=""):
        """Side A, side B and (when VictoriaMetrics runs) side C, not started."""
        group = [Server("A" + suffix, self.a_kind, self.a_binary, self.workdir, config),
                 Server("B" + suffix, self.b_kind, self.b_binary, self.workdir, config)]
        if self.c_kind:
            group.append(Server("C" + suffix, self.c_kind, self.c_binary, self.workdir,
                                config))
        self.servers += group
        return group

    def add(self, scenario, figure, values, target_key, unit, fmt="{:.3g}", ratio_c=None):
        """One table row; `values` are A, B and optionally C (None = not available).
        `ratio_c` overrides A/C when it is over a different set than A/B (queries)."""
        a, b = values[0], values[1]
        c = values[2] if len(values) > 2 else None
        ratio = a / b if (a is not None and b) else None
        if ratio_c is None:
            ratio_c = a / c if (a is not None and c) else None
        self.rows.append(dict(scenario=scenario, figure=figure, a=a, b=b, c=c, ratio=ratio,
                              ratio_c=ratio_c, target=TARGETS.get(target_key), unit=unit,
                              fmt=fmt))
        shown = lambda v: "n/a" if v is None else fmt.format(v)
        show_ratio = lambda r: "n/a" if r is None else f"{r:.2f}"
        log(f"  {scenario} / {figure}: A={shown(a)} B={shown(b)} ratio={show_ratio(ratio)}"
            + (f" C={shown(c)} A/C={show_ratio(ratio_c)}" if self.c_kind else ""))

    def unavailable(self, scenario, figure, why, target_key):
        self.rows.append(dict(scenario=scenario, figure=figure, a=None, b=None, c=None,
                              ratio=None, ratio_c=None, target=TARGETS.get(target_key),
                              unit="", fmt="{}", why=why))
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
        rows0 = {s.name: s.rows_stored() for s in servers}
        profile = self.profile_start(servers[0], window_s, label)
        time.sleep(window_s)
        cpu1 = {s.name: s.cpu() for s in servers}
        rows1 = {s.name: s.rows_stored() for s in servers}
        self.profile_finish(profile)
        t1 = time.monotonic()
        end_wall = time.time()
        expected = (sc["targets"] * sc["series_per_target"] * window_s / sc["interval_s"])
        result = {}
        for s in servers:
            counted = self.samples_in_window(s, window_s, end_wall)
            if not counted and rows0[s.name] is not None and rows1[s.name] is not None:
                counted = rows1[s.name] - rows0[s.name]
                self.notes.append(f"{label}: {s.label} could not answer "
                                  "sum_over_time(scrape_samples_scraped) in time; its samples "
                                  "are its vm_rows_added_to_storage_total over the window.")
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
            if s.kind == "victoriametrics":  # count the rows it still holds in memory
                s.force_flush()
                disk = dir_bytes(s.data_dir)
            result[s.name] = dict(cpu=cpu1[s.name] - cpu0[s.name], samples=samples,
                                  rss=rss, disk=disk)
            log(f"  {s.label}: cpu {result[s.name]['cpu']:.1f}s, samples {samples:.0f} "
                f"(expected {expected:.0f}), rss {rss / 2**20:.0f} MiB, "
                f"data dir {disk / 2**20:.0f} MiB")
        return result

    def scenario_steady_and_churn(self, group):
        sc = self.scale
        series = sc["targets"] * sc["series_per_target"]
        with Sampler(group, timeline=self.timeline) as sampler:
            log(f"(a) steady: {series} series, {sc['interval_s']}s interval, "
                f"warm-up {sc['warmup_s']}s, window {sc['steady_s']}s")
            self.timeline.mark("warm-up")
            time.sleep(sc["warmup_s"])
            self.timeline.mark("steady")
            r = self.ingestion_window(group, sampler, sc["steady_s"], "steady")
            self.add_ingestion_figures("(a) steady", r, group, series)
            self.add("(a) steady", "data dir bytes per sample (WAL/head, uncompacted)",
                     [r[s.name]["disk"] / r[s.name]["samples"] for s in group], None, "B",
                     "{:.2f}")
            if "churn" in self.args.scenarios:
                log(f"(b) churn: {sc['churn_fraction']:.0%} of series replaced every "
                    f"{sc['churn_period_s']}s, window {sc['churn_s']}s")
                http_get(f"http://127.0.0.1:{self.control}/churn/start")
                self.timeline.mark("churn")
                r = self.ingestion_window(group, sampler, sc["churn_s"], "churn")
                self.add_ingestion_figures("(b) churn", r, group, series)

    def add_ingestion_figures(self, scenario, r, group, series):
        """CPU per million samples and RSS per active series of one ingestion window."""
        self.add(scenario, "CPU s per 1M samples",
                 [r[s.name]["cpu"] / r[s.name]["samples"] * 1e6 for s in group], "cpu", "s")
        self.add(scenario, "RSS bytes per active series",
                 [r[s.name]["rss"] / series for s in group], "rss", "B", "{:.0f}")

    def scenario_restart(self, group):
        sc = self.scale
        series = sc["targets"] * sc["series_per_target"]
        log(f"(e) restart: kill -9 all with {series} active series, then restart one at a "
            "time until ready")
        for s in group:
            s.kill9()
        times = {s.name: [] for s in group}
        # A replay of 1 M series takes minutes on 2 shared cores: the timeout grows
        # with the series count so a slow side is measured, not failed.
        timeout = max(600, series // 1000)
        self.timeline.mark("restarts")
        with Sampler(group, timeline=self.timeline):  # samples only the one running
            for rep in range(sc["restart_reps"]):
                shift = rep % len(group)
                for s in group[shift:] + group[:shift]:  # who goes first rotates
                    s.start()
                    t = s.wait_ready(timeout=timeout)
                    times[s.name].append(t)
                    log(f"  {s.label}: ready after {t:.2f}s")
                    s.kill9()
        self.add("(e) restart", f"seconds to ready after kill -9, {series} series (median)",
                 [statistics.median(times[s.name]) for s in group], "restart", "s", "{:.2f}")

    def import_dataset(self, server, dataset):
        """Backfills `dataset` into the server's data dir; (seconds, error)."""
        if server.kind == "victoriametrics":
            return self.import_into_victoriametrics(server, dataset)
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

    def import_into_victoriametrics(self, server, dataset):
        """VictoriaMetrics has no offline backfill: it is started and fed the dataset over
        /api/v1/import/prometheus (the text format, timestamps in milliseconds), converted
        from the OpenMetrics file on the fly; the seconds include the conversion."""
        try:
            server.start().wait_ready()
            t0 = time.monotonic()
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)
            chunk = []
            size = 0

            def post():
                body = "".join(chunk).encode()
                conn.request("POST", "/api/v1/import/prometheus", body=body)
                resp = conn.getresponse()
                answer = resp.read()
                if resp.status // 100 != 2:
                    raise RuntimeError(f"HTTP {resp.status}: {answer[:200]!r}")

            with open(dataset) as f:
                for line in f:
                    if line.startswith("#"):
                        continue
                    head, ts = line.rsplit(" ", 1)
                    sec, _, frac = ts.strip().partition(".")
                    chunk.append(f"{head} {int(sec) * 1000 + int((frac + '000')[:3])}\n")
                    size += len(line)
                    if size > 8 << 20:
                        post()
                        chunk, size = [], 0
            if chunk:
                post()
            conn.close()
            server.force_flush()
            return time.monotonic() - t0, None
        except (RuntimeError, OSError, http.client.HTTPException, ValueError) as e:
            server.kill9()
            return None, [str(e)]

    def make_dataset(self):
        sc = self.scale
        path = os.path.join(self.workdir, "dataset.om")
        end_ms = (int(time.time()) - 600) // sc["dataset_step_s"] * sc["dataset_step_s"] * 1000
        start_ms = end_ms - sc["dataset_hours"] * 3600 * 1000
        out = subprocess.run([self.args.target, f"--targets={sc['dataset_targets']}",
                              f"--series-per-target={sc['dataset_series']}",
                              f"--step-ms={sc['dataset_step_s'] * 1000}",
                              f"--openmetrics-out={path}", f"--start-ms={start_ms}",
                              f"--end-ms={end_ms}"] + self.model_flag(),
                             capture_output=True, text=True, check=True)
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
                s.force_flush()
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
        """(c): import the same 24h OpenMetrics data into every server; returns the
        servers (running, holding the dataset; C left out if its import failed) and the
        dataset's end for the query scenario, or None."""
        sc = self.scale
        log(f"(c) disk: {sc['dataset_hours']}h dataset, {sc['dataset_targets']} targets x "
            f"{sc['dataset_series']} series at {sc['dataset_step_s']}s")
        dataset, samples, end_s = self.make_dataset()
        log(f"  dataset: {samples} samples, {os.path.getsize(dataset) / 2**20:.0f} MiB")
        group = self.new_group(empty_config, suffix="-dataset")
        a, b = group[0], group[1]
        imported = {}
        for s in group:
            secs, err = self.import_dataset(s, dataset)
            imported[s.name] = secs
            if err:
                log(f"  {s.label}: import failed: {err}")
                if s.role == "C":
                    self.notes.append(f"disk: VictoriaMetrics's import over "
                                      f"/api/v1/import/prometheus failed ({err[0]}); its "
                                      "disk and query figures are n/a.")
            else:
                log(f"  {s.label}: imported in {secs:.1f}s, {dir_bytes(s.data_dir)} bytes")
        os.remove(dataset)
        if len(group) > 2 and imported[group[2].name] is None:
            group = group[:2]
        if imported[a.name] is None or imported[b.name] is None:
            for s in group[2:]:
                s.stop()
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
        self.timeline.mark("disk: after import")
        with Sampler(group, timeline=self.timeline):
            self.wait_compacted(group)
        for s in group:
            s.force_flush()
        per = [dir_bytes(s.data_dir) / samples for s in group]
        self.add("(c) disk", "bytes per sample after compaction", per, "disk", "B", "{:.3f}")
        self.add("(c) disk", "import seconds (backfill; C: over HTTP)",
                 [imported[s.name] for s in group], None, "s", "{:.1f}")
        return group, end_s

    def time_queries(self, group, queries, end_s, label_suffix, range_s, step_s):
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
        timings = {f"{label} [{label_suffix}]": {s.name: [] for s in group}
                   for label, _ in queries}
        mismatches = []
        for label, expr in queries:  # warm-up, and the answers to compare
            answers = []
            for s in group:
                _, doc, err = s.query("/api/v1/query_range", params[label])
                if err is None and doc.get("status") != "success":
                    err = f"status {doc.get('status')}: {doc.get('error')}"
                if err:
                    self.query_errors.setdefault((s.label, expr), err[:160])
                answers.append("error" if err else len(doc["data"]["result"]))
            if len(set(answers)) > 1:
                mismatches.append(f"`{expr}` over {label_suffix}: " + ", ".join(
                    f"{s.role} gave {n}" for s, n in zip(group, answers)) + " series")
        t0 = time.monotonic()
        rep = 0
        while rep < sc["query_max_reps"] and (
                rep < sc["query_min_reps"] or time.monotonic() - t0 < sc["query_budget_s"]):
            for qi, (label, _) in enumerate(queries):
                shift = (rep + qi) % len(group)  # who goes first rotates
                for s in group[shift:] + group[:shift]:
                    secs, _, err = s.query("/api/v1/query_range", params[label])
                    if err is None:
                        timings[f"{label} [{label_suffix}]"][s.name].append(secs)
            rep += 1
        return timings, mismatches

    def scenario_queries(self, group, end_s, data_note):
        """Times the query groups in `query_sessions` sessions; both servers are
        restarted between sessions, so a speed difference that sticks to one process
        (its heap, where the scheduler put its threads) averages out instead of
        deciding the ratio."""
        log(f"(d) query latency ({data_note or 'imported dataset'})")
        groups = [("(d) dashboard 1h", DASHBOARD_QUERIES, "1h", 3600, 15)] + [
            (f"(d) heavy {label}", HEAVY_QUERIES[self.args.load], label, range_s, step_s)
            for label, range_s, step_s in RANGES]
        merged = {name: {} for name, *_ in groups}
        mismatches = []
        for session in range(self.scale["query_sessions"]):
            if session > 0:
                for s in group:
                    s.stop()
                self.start_group(group)
                time.sleep(5)
            profile = self.profile_start(group[0], None, "queries") if session == 0 else None
            for name, queries, label, range_s, step_s in groups:
                timings, found = self.time_queries(group, queries, end_s, label, range_s,
                                                   step_s)
                if session == 0:
                    mismatches.extend(found)
                for query, per in timings.items():
                    acc = merged[name].setdefault(query, {s.name: [] for s in group})
                    for server, secs in per.items():
                        acc[server].extend(secs)
            self.profile_finish(profile)
        for name, *_ in groups:
            self.summarize_queries(name, merged[name], group)
        self.query_detail = ({q: v for g in merged.values() for q, v in g.items()},
                             [s.name for s in group])
        for m in mismatches:
            self.notes.append(f"query answers differ: {m}")
        for (server, expr), err in self.query_errors.items():
            self.notes.append(f"query failed on {server}: `{expr}`: {err}")
        if data_note:
            self.notes.append(f"query latency measured on {data_note}.")

    def summarize_queries(self, scenario, timings, group):
        """Geometric mean over queries of the per-query median and p90. A and B over the
        queries both answered; C and A/C over the queries A and C answered (a query C
        cannot run is n/a for C, not a failure of the row)."""
        a, b = group[0], group[1]
        c = group[2] if len(group) > 2 else None
        ok = {k: v for k, v in timings.items() if v[a.name] and v[b.name]}
        ok_c = {k: v for k, v in timings.items() if c and v[a.name] and v[c.name]}
        if len(ok) < len(timings):
            failed = sorted(set(timings) - set(ok))
            self.notes.append(f"{scenario}: {len(failed)} queries failed on A or B and are "
                              f"left out: {', '.join(failed)}")
        if c and len(ok_c) < len(timings):
            failed = sorted(set(timings) - set(ok_c))
            self.notes.append(f"{scenario}: C (VictoriaMetrics) is over {len(ok_c)} queries; "
                              f"n/a for {', '.join(failed)}")
        if not ok:
            self.unavailable(scenario, "latency", "no query succeeded on both sides", "query")
            return
        for stat_name, fn in (("median", statistics.median), ("p90", p90)):
            ga = geomean([fn(v[a.name]) for v in ok.values()]) * 1000
            gb = geomean([fn(v[b.name]) for v in ok.values()]) * 1000
            values, ratio_c = [ga, gb], None
            if ok_c:
                gc = geomean([fn(v[c.name]) for v in ok_c.values()]) * 1000
                ratio_c = geomean([fn(v[a.name]) for v in ok_c.values()]) * 1000 / gc
                values.append(gc)
            self.add(scenario, f"{stat_name} latency ms (geomean of {len(ok)} queries)",
                     values, "query", "ms", "{:.1f}", ratio_c=ratio_c)

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

    def start_group(self, group):
        for s in group:
            s.start()
        for s in group:
            s.wait_ready()
        return True

    def live_phase(self, config):
        """(a), (b) and (e) on one group of servers scraping the targets."""
        group = self.new_group(config)
        if not self.attempt("(a) steady", self.start_group, group):
            return
        if "steady" in self.args.scenarios:
            self.attempt("(a) steady", self.scenario_steady_and_churn, group)
        elif "restart" in self.args.scenarios:
            # Restart alone: scrape for the warm-up first, so the heads hold the series.
            log(f"warm-up {self.scale['warmup_s']}s before the restarts")
            with Sampler(group, timeline=self.timeline):
                self.timeline.mark("warm-up")
                time.sleep(self.scale["warmup_s"])
        if "restart" in self.args.scenarios and all(s.proc.poll() is None for s in group):
            self.attempt("(e) restart", self.scenario_restart, group)
        for s in group:
            s.stop()

    def dataset_phase(self, empty_config):
        """(c) and, when A and B imported the dataset, (d) on that dataset.
        Returns True when the queries still need to run (on live data)."""
        result = self.attempt("(c) disk", self.scenario_disk, empty_config)
        if result and "query" in self.args.scenarios:
            self.attempt("(d) query", self.scenario_queries, result[0], result[1], "")
        if result:
            for s in result[0]:
                s.stop()
        return "query" in self.args.scenarios and not result

    def live_query_phase(self, config):
        # A could not import the dataset: time the queries on the scraped data of
        # the live phase instead (restarting from its data dirs).
        group = self.new_group(config)
        if self.attempt("(d) query", self.start_group, group):
            time.sleep(2 * self.scale["interval_s"])
            self.attempt("(d) query", self.scenario_queries, group, time.time(),
                         "the live scraped data (A could not import the dataset; ranges "
                         "beyond the run's few minutes hold no data)")
        for s in group:
            s.stop()

    def run(self):
        log(f"workdir {self.workdir}; A = {self.a_kind} ({self.a_binary}), "
            f"B = {self.b_kind} ({self.b_binary})"
            + (f", C = {self.c_kind} ({self.c_binary})" if self.c_kind else ""))
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
        if not self.args.no_write or self.args.keep:
            # With --no-write --keep the charts stay in the kept work directory.
            out_dir = (self.workdir if self.args.no_write
                       else os.path.dirname(os.path.abspath(self.args.output)))
            self.chart_links = self.timeline.write_charts(
                os.path.join(out_dir, "docs", "bench"), block_key(self.args), out_dir)
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
                     f"(`{self.b_binary}`{b_version})"
                     + (f", C = {self.c_kind} (`{self.c_binary}`, "
                        f"{victoria_metrics_version(self.c_binary)})" if self.c_kind else ""))
        lines.append(f"- load: `{self.args.load}` ({LOADS[self.args.load]}), "
                     f"{sc['targets']} targets x {sc['series_per_target']} series = "
                     f"{sc['targets'] * sc['series_per_target']} active series every "
                     f"{sc['interval_s']}s; churn {sc['churn_fraction']:.0%} every "
                     f"{sc['churn_period_s']}s; dataset {sc['dataset_targets']}x"
                     f"{sc['dataset_series']} series x {sc['dataset_hours']}h at "
                     f"{sc['dataset_step_s']}s\n")
        with_c = self.c_kind is not None
        lines.append("| scenario | figure | A | B | " + ("C | " if with_c else "") +
                     "A/B | target | verdict |" + (" A/C |" if with_c else ""))
        lines.append("|---|---|---:|---:|" + ("---:|" if with_c else "") + "---:|---:|---|" +
                     ("---:|" if with_c else ""))
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
            c_cell = f"{shown(r['c'])} | " if with_c else ""
            ratio_c = ("" if not with_c else " n/a |" if r["ratio_c"] is None
                       else f" {r['ratio_c']:.2f} |")
            lines.append(f"| {r['scenario']} | {r['figure']} | {shown(r['a'])} | "
                         f"{shown(r['b'])} | {c_cell}{ratio} | {target} | {verdict} |{ratio_c}")
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
            timings, names = self.query_detail
            roles = [n.split("-")[0] for n in names]
            lines.append("\n<details><summary>per-query latency (ms, median / p90)</summary>\n")
            lines.append("| query | " + " | ".join(f"{r} median | {r} p90" for r in roles) + " |")
            lines.append("|---|" + "---:|---:|" * len(roles))
            for q, v in timings.items():
                cell = lambda xs, f: f"{f(xs) * 1000:.1f}" if xs else "n/a (failed)"
                lines.append(f"| {q} | " + " | ".join(
                    f"{cell(v[n], statistics.median)} | {cell(v[n], p90)}" for n in names) + " |")
            lines.append("\n</details>")
        if self.chart_links:
            lines.append("\nTimeline of the run (sampled every 2 s: the live phase, the "
                         "restarts, one server at a time, and the disk phase's wait for "
                         "compaction; gaps are imports and queries):\n")
            lines.extend(f"![{title}]({link})" for title, link in self.chart_links)
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


def victoria_metrics_version(binary):
    """Debian's build prints no -version; the package knows it."""
    try:
        out = subprocess.run([binary, "-version"], capture_output=True, text=True)
        text = (out.stdout or out.stderr).strip().split("\n")[0]
        if not text:
            text = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "victoria-metrics"],
                                  capture_output=True, text=True).stdout.strip()
        return f"version {text}" if text else "version unknown"
    except OSError:
        return "version unknown"


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
    p.add_argument("--victoria-metrics", default="/usr/bin/victoria-metrics",
                   help="side C; skipped with a message when not executable")
    p.add_argument("--no-vm", action="store_true", help="run without VictoriaMetrics (side C)")
    p.add_argument("--load", choices=list(LOADS), default="inventory",
                   help="load profile: the series shape bench_target serves; 'kube' also "
                        "changes the small scale to 10 targets x 10 000 series every 5 s")
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
        key = block_key(args)
        write_benchmarks(args.output, key, text)
        log(f"wrote {args.output} (section {key})")


if __name__ == "__main__":
    main()
