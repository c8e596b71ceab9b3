#!/usr/bin/env python3
"""Crash soak: kill -9 Vigil at random moments under scrape + remote-write
load, restart it, and check that no acknowledged sample was lost.

Not part of CI (minutes to hours). Loopback only; every loop is bounded.

What "acknowledged" means:
  * remote write: a request answered 2xx. Every sample of it must survive.
  * scrape: a scrape has no client to answer, so a scraped sample counts as
    acknowledged once a query has returned it: Vigil makes a commit visible
    only after its WAL record was write()n, which survives kill -9 (the
    default 'periodic' fsync policy; power loss is another matter). The soak
    polls `soak_metric[..]` while the load runs; every (series, timestamp)
    pair seen by the last poll before the kill must be there after restart.

Usage:
  python3 bench/soak/crash_soak.py --vigil build/src/vigil --cycles 100
Prints one line per cycle and a summary: cycles, samples checked, lost,
restart times (median / p90 / max). Exit status 1 when anything was lost; the
data dir as each lossy cycle's kill left it is kept as failed-cycle-N-data.
"""
import argparse
import http.server
import json
import os
import random
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- remote write encoding (protobuf by hand, snappy as literal blocks) ---

def varint(n):
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field_bytes(num, data):
    return varint(num << 3 | 2) + varint(len(data)) + data


def encode_write_request(series):
    """series: list of (labels dict, [(ts_ms, value)])."""
    req = b""
    for labels, samples in series:
        ts = b""
        for name in sorted(labels):
            ts += field_bytes(1, field_bytes(1, name.encode()) + field_bytes(2, labels[name].encode()))
        for t, v in samples:
            ts += field_bytes(2, b"\x09" + struct.pack("<d", v) + b"\x10" + varint(t))
        req += field_bytes(1, ts)
    return req


def snappy_literal(raw):
    """A valid snappy block made of literals only (no compression needed)."""
    out = bytearray(varint(len(raw)))
    pos = 0
    while pos < len(raw):
        chunk = raw[pos:pos + 65536]
        n = len(chunk) - 1
        if n < 60:
            out.append(n << 2)
        elif n < 256:
            out += bytes([60 << 2, n])
        else:
            out += bytes([61 << 2]) + struct.pack("<H", n)
        out += chunk
        pos += len(chunk)
    return bytes(out)


# --- scrape target ---

class Target:
    def __init__(self, series):
        self.series = series
        self.hits = 0
        target = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                target.hits += 1
                body = "".join(f'soak_metric{{i="{i}"}} {target.hits}\n' for i in range(target.series))
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


# --- Vigil process and HTTP helpers ---

def http_get(port, path, timeout=5):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except Exception:
        return 0, b""


def remote_write(port, series, timeout=5):
    body = snappy_literal(encode_write_request(series))
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/write", data=body, method="POST",
        headers={"Content-Type": "application/x-protobuf", "Content-Encoding": "snappy",
                 "X-Prometheus-Remote-Write-Version": "0.1.0"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except Exception:
        return 0


def range_samples(port, selector, window_s, at_s):
    """{(labels json, ts_ms)} of selector[window] evaluated at `at_s`; None on error."""
    q = urllib.parse.urlencode({"query": f"{selector}[{window_s}s]", "time": f"{at_s:.3f}"})
    status, body = http_get(port, "/api/v1/query?" + q, timeout=30)
    if status != 200:
        return None
    out = set()
    for s in json.loads(body)["data"]["result"]:
        key = json.dumps(s["metric"], sort_keys=True)
        for t, _ in s["values"]:
            out.add((key, round(float(t) * 1000)))
    return out


class Vigil:
    def __init__(self, binary, data_dir, config, port, log):
        self.args = [binary, f"--config.file={config}", f"--storage.tsdb.path={data_dir}",
                     f"--web.listen-address=127.0.0.1:{port}", "--web.enable-remote-write-receiver"]
        self.port = port
        self.data_dir = data_dir
        self.log = log
        self.proc = None

    def start(self):
        """Starts and waits for /-/ready; returns the restart time in seconds."""
        t0 = time.monotonic()
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=self.log)
        while time.monotonic() - t0 < 120:
            if self.proc.poll() is not None:
                raise RuntimeError(f"vigil exited with {self.proc.returncode}; see {self.log.name}")
            if http_get(self.port, "/-/ready", timeout=1)[0] == 200:
                return time.monotonic() - t0
            time.sleep(0.02)
        raise RuntimeError("vigil not ready within 120 s")

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


class RemoteWriter(threading.Thread):
    """Sends batches of strictly increasing samples; records the 2xx ones."""

    def __init__(self, port, series):
        super().__init__(daemon=True)
        self.port, self.series = port, series
        self.acked = set()
        self.stop = threading.Event()
        self.last_t = int(time.time() * 1000)

    def run(self):
        while not self.stop.is_set():
            # Paced to the wall clock: timestamps never run ahead of it, so a query
            # evaluated "now" sees every acknowledged sample, and the next cycle's
            # sender does not start behind this one (out of order, rejected).
            ahead_s = (self.last_t + 20 - time.time() * 1000) / 1000
            if ahead_s > 0:
                time.sleep(ahead_s)
            batch = []
            for _ in range(20):
                self.last_t = max(self.last_t + 1, int(time.time() * 1000))
                batch.append(self.last_t)
            series = [({"__name__": "rw_soak", "k": str(k)}, [(t, float(t % 997)) for t in batch])
                      for k in range(self.series)]
            if remote_write(self.port, series) // 100 == 2:
                for k in range(self.series):
                    key = json.dumps({"__name__": "rw_soak", "k": str(k)}, sort_keys=True)
                    self.acked.update((key, t) for t in batch)
            time.sleep(0.01)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vigil", default="build/src/vigil")
    ap.add_argument("--cycles", type=int, default=100)
    ap.add_argument("--series", type=int, default=500, help="scraped series")
    ap.add_argument("--rw-series", type=int, default=10, help="remote-written series")
    ap.add_argument("--min-run-s", type=float, default=1.0)
    ap.add_argument("--max-run-s", type=float, default=6.0)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    rng = random.Random(args.seed)

    work = tempfile.mkdtemp(prefix="vigil-soak-")
    target = Target(args.series)
    config = os.path.join(work, "prometheus.yml")
    with open(config, "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n"
                "scrape_configs:\n  - job_name: soak\n    static_configs:\n"
                f"      - targets: ['127.0.0.1:{target.port}']\n")
    log = open(os.path.join(work, "vigil.log"), "ab")
    vigil = Vigil(args.vigil, os.path.join(work, "data"), config, free_port(), log)

    checked_total = lost_total = 0
    restarts = []
    failed_cycles = []
    vigil.start()
    for cycle in range(1, args.cycles + 1):
        writer = RemoteWriter(vigil.port, args.rw_series)
        writer.start()
        deadline = time.monotonic() + rng.uniform(args.min_run_s, args.max_run_s)
        cycle_start = time.time()
        seen, seen_at, seen_window = set(), None, 0
        while time.monotonic() < deadline:
            now = time.time()
            window = int(now - cycle_start) + 10  # this cycle's scrapes and a few before
            got = range_samples(vigil.port, "soak_metric", window, now)
            if got is not None:
                seen, seen_at, seen_window = got, now, window
            time.sleep(rng.uniform(0.05, 0.3))
        vigil.kill9()  # at a random moment of the load
        writer.stop.set()
        writer.join()
        # The data dir as the kill left it, so that a lossy restart can be replayed.
        pre_restart = os.path.join(work, "pre-restart")
        shutil.rmtree(pre_restart, ignore_errors=True)
        shutil.copytree(vigil.data_dir, pre_restart)
        restart_s = vigil.start()
        restarts.append(restart_s)

        lost_scraped = lost_rw = 0
        if seen_at is not None:
            after = range_samples(vigil.port, "soak_metric", seen_window, seen_at) or set()
            lost_scraped = len(seen - after)
        acked = writer.acked
        # Evaluated at or after the newest acknowledged timestamp, never before it.
        rw_at = max([time.time()] + [t / 1000 + 0.001 for _, t in acked])
        after_rw = range_samples(vigil.port, "rw_soak", int(rw_at - cycle_start) + 10, rw_at) or set()
        lost_rw = len(acked - after_rw)
        lost = lost_scraped + lost_rw
        checked = len(seen) + len(acked)
        checked_total += checked
        lost_total += lost
        if lost:
            failed_cycles.append(cycle)
            os.rename(pre_restart, os.path.join(work, f"failed-cycle-{cycle}-data"))
        print(f"cycle {cycle}: checked {checked} (scraped {len(seen)}, remote-written {len(acked)}), "
              f"lost {lost} (scraped {lost_scraped}, remote-written {lost_rw}), restart {restart_s:.2f}s", flush=True)

    vigil.kill9()
    target.server.shutdown()
    med = statistics.median(restarts) if restarts else 0
    p90 = sorted(restarts)[int(0.9 * (len(restarts) - 1))] if restarts else 0
    print(f"SUMMARY cycles={args.cycles} samples_checked={checked_total} lost={lost_total} "
          f"restart_median_s={med:.2f} restart_p90_s={p90:.2f} restart_max_s={max(restarts, default=0):.2f}"
          + (f" failed_cycles={failed_cycles}" if failed_cycles else ""))
    if args.keep or lost_total:
        print(f"work directory kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if lost_total else 0


if __name__ == "__main__":
    sys.exit(main())
