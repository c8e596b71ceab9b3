#!/usr/bin/env python3
"""Restart after kill -9 with N series and H hours of head data: Vigil vs Prometheus 2.42
(issue 20, "Restart").

For each server in turn: start it on a fresh data dir, load the same N series x H hours
of time-ordered samples through its remote write receiver (restart_load, built from
bench/restart/), check that it took all of them (series and sample counts over the
window, per metric name), and for Prometheus that the data is still in its head (no
block directory, no compaction); then kill -9 and restart it --reps times, measuring the
seconds until /-/ready answers 200 and until a query over the whole window counts every
series again. Prints the medians and the Vigil/Prometheus ratios.

  python3 bench/restart/run.py --series 10000          # smoke: ~2 min
  python3 bench/restart/run.py                         # 1 M series, 2 h: ~1 h on 2 cores

Python 3 standard library only.
"""

import argparse
import importlib.util
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Process statistics, ports and logging are the side-by-side harness's.
_spec = importlib.util.spec_from_file_location(
    "bench_harness", os.path.join(REPO, "bench", "harness", "run.py"))
harness = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(harness)
log = harness.log

STEP_MS = 15000
CONFIG = "global:\n  scrape_interval: 15s\n"


class Server:
    """A Vigil or Prometheus process on one data dir, restarted in place."""

    def __init__(self, kind, binary, workdir):
        self.kind, self.binary = kind, binary
        self.data_dir = os.path.join(workdir, f"{kind}-data")
        self.config = os.path.join(workdir, "prometheus.yml")
        self.log_path = os.path.join(workdir, f"{kind}.log")
        self.port = harness.free_port_range(1)
        self.proc = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        args = [self.binary, f"--config.file={self.config}",
                f"--storage.tsdb.path={self.data_dir}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--storage.tsdb.retention.time=30d", "--web.enable-remote-write-receiver"]
        with open(self.log_path, "ab") as logf:
            self.proc = subprocess.Popen(args, stdout=logf, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        return self

    def wait_ready(self, timeout):
        """Seconds from now until /-/ready answers 200."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited with {self.proc.returncode}, "
                                   f"see {self.log_path}")
            try:
                if harness.http_get(self.url + "/-/ready", timeout=2)[0] == 200:
                    return time.monotonic() - t0
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.02)
        raise RuntimeError(f"{self.kind} not ready after {timeout}s")

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def api(self, path, params, timeout=600):
        url = f"{self.url}{path}?{urllib.parse.urlencode(params)}"
        try:
            body = harness.http_get(url, timeout=timeout)[1]
        except urllib.error.HTTPError as e:
            body = e.read()
        return json.loads(body)

    def metric(self, name):
        """Sum of the samples of `name` on /metrics (0 when absent)."""
        text = harness.http_get(self.url + "/metrics")[1].decode()
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                total += float(line.rsplit(" ", 1)[1])
        return total


def window_counts(server, end_ms, hours, with_samples=True):
    """(series, samples) with a sample in (end - hours, end], per metric name: a
    function over a range drops the name, so one query over every name would
    collide. samples is None unless with_samples. Raises on a query error."""
    names = server.api("/api/v1/label/__name__/values",
                       {"match[]": '{job="restart"}'})["data"]
    window = f"{int(hours * 3600)}s"
    totals = {"count": 0, "sum": 0}
    for name in names:
        sel = f'{{__name__="{name}",job="restart"}}[{window}]'
        for agg in ("count", "sum") if with_samples else ("count",):
            query = f"{agg}(count_over_time({sel})) or vector(0)"
            r = server.api("/api/v1/query", {"query": query, "time": end_ms / 1000})
            if r.get("status") != "success":
                raise RuntimeError(f"{server.kind}: {query}: {r.get('error')}")
            totals[agg] += int(float(r["data"]["result"][0]["value"][1]))
    return totals["count"], totals["sum"] if with_samples else None


def wait_all_series(server, end_ms, hours, series, timeout):
    """Seconds from now until a count over the window sees every series."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        try:
            if window_counts(server, end_ms, hours, with_samples=False)[0] >= series:
                return time.monotonic() - t0
        except (RuntimeError, KeyError, IndexError, urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{server.kind}: not every series answered after {timeout}s")


def block_dirs(server):
    """Prometheus block directories (ULIDs) in the data dir."""
    if not os.path.isdir(server.data_dir):
        return []
    return [d for d in os.listdir(server.data_dir)
            if len(d) == 26 and os.path.isdir(os.path.join(server.data_dir, d))]


def load(server, args, end_ms):
    """Starts `server` on a fresh data dir and loads the data; returns its figures."""
    shutil.rmtree(server.data_dir, ignore_errors=True)
    server.start().wait_ready(120)
    cpu0 = harness.cpu_seconds(server.proc.pid)
    cmd = [args.load, f"--url={server.url}/api/v1/write", f"--series={args.series}",
           f"--hours={args.hours}", f"--end-ms={end_ms}", f"--step-ms={STEP_MS}",
           f"--threads={args.load_threads}"]
    log(f"{server.kind}: loading: {' '.join(cmd)}")
    t0 = time.monotonic()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()
    fig = {"load_s": time.monotonic() - t0,
           "load_cpu_s": harness.cpu_seconds(server.proc.pid) - cpu0}
    log(f"{server.kind}: {out}")
    fields = dict(kv.split("=") for kv in out.split())
    fig["sent_samples"] = int(fields["samples"])
    series, samples = window_counts(server, end_ms, args.hours)
    fig["series"], fig["samples"] = series, samples
    log(f"{server.kind}: took {series} series, {samples} samples "
        f"(sent {args.series}, {fig['sent_samples']})")
    if series != args.series or samples != fig["sent_samples"]:
        raise RuntimeError(f"{server.kind} did not take all the data")
    if server.kind == "prometheus":
        fig["head_series"] = server.metric("prometheus_tsdb_head_series")
        fig["head_chunks"] = server.metric("prometheus_tsdb_head_chunks")
        compactions = server.metric("prometheus_tsdb_compactions_total")
        blocks = block_dirs(server)
        log(f"prometheus: head series {fig['head_series']:.0f}, head chunks "
            f"{fig['head_chunks']:.0f}, compactions {compactions:.0f}, blocks {blocks}")
        if compactions or blocks or fig["head_series"] < args.series:
            raise RuntimeError("prometheus compacted its head before the kill")
    fig["rss"] = harness.rss_bytes(server.proc.pid)
    time.sleep(2)  # a periodic WAL sync; kill -9 loses nothing written() anyway
    fig["data_dir"] = harness.dir_bytes(server.data_dir)
    return fig


def restarts(server, args, end_ms):
    """kill -9, then --reps restarts; lists of seconds to ready and to all series."""
    ready, queried, cpu, rss = [], [], [], []
    for rep in range(args.reps):
        server.kill9()
        server.start()
        t_ready = server.wait_ready(args.timeout)
        cpu.append(harness.cpu_seconds(server.proc.pid))
        rss.append(harness.rss_bytes(server.proc.pid))
        t_query = t_ready + wait_all_series(server, end_ms, args.hours, args.series,
                                            args.timeout)
        log(f"{server.kind}: restart {rep + 1}: ready after {t_ready:.2f}s "
            f"({cpu[-1]:.1f} CPU s), every series queried after {t_query:.2f}s")
        ready.append(t_ready)
        queried.append(t_query)
    server.kill9()
    return {"ready_s": statistics.median(ready), "query_s": statistics.median(queried),
            "ready_cpu_s": statistics.median(cpu), "ready_rss": statistics.median(rss),
            "ready_all": ready, "query_all": queried}


def version(binary):
    out = subprocess.run([binary, "--version"], capture_output=True, text=True)
    return (out.stdout or out.stderr).splitlines()[0] if (out.stdout or out.stderr) else "?"


def report(args, figs, end_ms):
    v, p = figs.get("vigil"), figs.get("prometheus")
    rows = [("seconds to /-/ready after kill -9 (median)", "ready_s", "{:.2f}"),
             ("seconds until a query over the window counts every series (median)",
              "query_s", "{:.2f}"),
             ("CPU seconds of the process at ready (median)", "ready_cpu_s", "{:.1f}"),
             ("RSS at ready, MiB (median)", "ready_rss", "{:.0f}"),
             ("data dir before the kill, MiB", "data_dir", "{:.0f}"),
             ("load: seconds", "load_s", "{:.0f}"),
             ("load: server CPU seconds", "load_cpu_s", "{:.0f}")]
    lines = [f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
             f"- machine: {os.cpu_count()} CPUs, {platform.platform()}",
             f"- command: `python3 bench/restart/run.py {' '.join(sys.argv[1:])}`",
             f"- data: {args.series} series (kube model, job=\"restart\"), {args.hours} h at "
             f"{STEP_MS // 1000} s, ending {end_ms}: "
             f"{(v or p)['sent_samples']} samples per server",
             f"- Vigil: `{args.vigil}`; Prometheus: `{args.prometheus}` ({version(args.prometheus)})",
             "",
             "| figure | Vigil | Prometheus | Vigil/Prometheus |",
             "|---|---:|---:|---:|"]
    for label, key, fmt in rows:
        scale = 1 / 2**20 if key in ("ready_rss", "data_dir") else 1
        a = v[key] * scale if v else None
        b = p[key] * scale if p else None
        ratio = f"{a / b:.2f}" if a is not None and b else ""
        lines.append(f"| {label} | {fmt.format(a) if a is not None else ''} | "
                     f"{fmt.format(b) if b is not None else ''} | {ratio} |")
    print("\n".join(lines))
    for kind, f in figs.items():
        print(f"{kind}: ready {['%.2f' % x for x in f['ready_all']]} "
              f"query {['%.2f' % x for x in f['query_all']]}")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--series", type=int, default=1000000)
    ap.add_argument("--hours", type=float, default=2)
    ap.add_argument("--reps", type=int, default=3, help="restarts per server")
    ap.add_argument("--vigil", default=os.path.join(REPO, "build", "src", "vigil"))
    ap.add_argument("--prometheus", default="/usr/bin/prometheus")
    ap.add_argument("--load", default=os.path.join(REPO, "build", "bench", "restart",
                                                    "restart_load"))
    ap.add_argument("--load-threads", type=int, default=2)
    ap.add_argument("--servers", default="vigil,prometheus")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--end-ms", type=int, help="newest timestamp (default: now); pass the "
                    "one a --save run printed to give a later run the same data")
    ap.add_argument("--save", help="write the figures measured to this JSON file")
    ap.add_argument("--merge", help="figures of servers not run here, from an earlier --save "
                    "(same --series, --hours and --end-ms)")
    ap.add_argument("--workdir", help="keep data dirs and logs here (default: a temp dir, "
                    "removed at the end)")
    args = ap.parse_args()
    workdir = args.workdir or tempfile.mkdtemp(prefix="vigil-restart-")
    os.makedirs(workdir, exist_ok=True)
    with open(os.path.join(workdir, "prometheus.yml"), "w") as f:
        f.write(CONFIG)
    end_ms = args.end_ms or int(time.time() * 1000) // STEP_MS * STEP_MS  # same data for both
    figs = {}
    if args.merge:
        with open(args.merge) as f:
            earlier = json.load(f)
        if earlier["series"] != args.series or earlier["hours"] != args.hours:
            sys.exit(f"{args.merge} was measured at another --series/--hours")
        end_ms = earlier["end_ms"]
        figs.update(earlier["figures"])
    binaries = {"vigil": args.vigil, "prometheus": args.prometheus}
    try:
        for kind in args.servers.split(","):
            if kind in figs:
                continue  # merged from an earlier run
            server = Server(kind, binaries[kind], workdir)
            try:
                figs[kind] = load(server, args, end_ms)
                figs[kind].update(restarts(server, args, end_ms))
            finally:
                server.kill9()
                if not args.workdir:
                    shutil.rmtree(server.data_dir, ignore_errors=True)
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    if args.save:
        with open(args.save, "w") as f:
            json.dump({"series": args.series, "hours": args.hours, "end_ms": end_ms,
                       "figures": figs}, f, indent=1)
    report(args, figs, end_ms)


if __name__ == "__main__":
    main()
