#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""make bench: mpbind's speed and memory, measured against this machine's own
limits in the same run.

Brings up a private stack (scripts/stack.py: MariaDB, mpbind-fcgi 2x4,
nginx, the simulator) in a temporary directory, plus the baselines: nginx's
own `return 200` and the bare reference worker (tests/bench/bare.c: libfcgi +
libmariadb, same process and thread counts) behind a second nginx configured
like mpbind's. wrk drives every row (tests/bench/wrk.lua), each bounded in
time; the table is printed and written as JSON to var/bench/.

It measures and reports; it never fixes numbers up. A row whose endpoint does
not exist yet says "not available yet" (found at run time by its 404).

Environment (also make variables: `make bench BENCH_DURATION=5`):
  BENCH_DURATION     seconds of load per row (default 10; smoke 0.2)
  BENCH_CONNECTIONS  wrk connections (default 32; the p99 target is defined at 32)
  BENCH_THREADS      wrk threads (default 2)
  BENCH_REQUESTS     mpbind GET requests between the two memory samples (default 200000)
  BENCH_SMOKE=1      a few seconds in all, to prove the bench still works (make test)
  BENCH_OUT_DIR      where the JSON goes (default var/bench)
  BENCH_KEEP=1       keep the temporary stack directory (logs) afterwards
Exit status: 0 when every row ran or was reported not available (missed
targets included: they are results), 1 when a row failed, 2 on bad settings.
"""

import concurrent.futures
import contextlib
import datetime
import hashlib
import io
import json
import math
import os
import re
import secrets
import shutil
import signal
import string
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, os.path.join(ROOT, "tests"))

from stack import Stack, binary, free_port, pid_alive, read_pid, wait_until  # noqa: E402
from api import Api, unique_email  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
WRK_LUA = os.path.join(HERE, "wrk.lua")
BARE_BIN = os.path.join(ROOT, "build", "rel", "bench-bare")
MPBIND_BIN = binary("mpbind-fcgi")
NOT_AVAILABLE = "not available yet"
CLK_TCK = os.sysconf("SC_CLK_TCK")
NCPU = os.cpu_count() or 1
BEIJING = datetime.timezone(datetime.timedelta(hours=8))

# The stack as production runs it (2 workers x 4 threads, one nginx worker),
# except: no access log, nginx's limit_req far above what the bench sends
# (every request comes from 127.0.0.1), cheap Argon2 for the one sign-up, and
# Alibaba instances that open at once.
BENCH_OPTIONS = {
    "rewrite_config": True,
    "workers": 2,
    "threads": 4,
    "nginx_workers": 1,
    "access_log": "off",
    "signin_rate": "100000r/s",
    "signin_burst": 100000,
    "landing_rate": "100000r/s",
    "landing_burst": 100000,
    "aliyun_activation_delay": 0,
    "meterd_interval": 1,
    "config": {"auth.pwhash_ops": "1", "auth.pwhash_mem_kib": "8192", "log_level": "info"},
}

# Targets of issue 8.
TARGET_LIVE_RATIO = 0.90
TARGET_ME_RATIO = 0.80
TARGET_P99_MS = 10.0
TARGET_P99_CONNECTIONS = 32
TARGET_RSS_MIB = 16.0
TARGET_GROWTH_MIB = 1.0
TARGET_GROWTH_REQUESTS = 200000


class BenchError(Exception):
    """A row or a preparation step failed: reported, and the exit status is 1."""


# ----- settings --------------------------------------------------------------

class Settings:
    def __init__(self, env):
        self.smoke = env.get("BENCH_SMOKE", "") == "1"
        self.duration = float(env.get("BENCH_DURATION") or (0.2 if self.smoke else 10))
        self.connections = int(env.get("BENCH_CONNECTIONS") or 32)
        self.threads = int(env.get("BENCH_THREADS") or 2)
        self.requests = int(env.get("BENCH_REQUESTS") or (2000 if self.smoke else TARGET_GROWTH_REQUESTS))
        self.out_dir = env.get("BENCH_OUT_DIR") or os.path.join(ROOT, "var", "bench")
        self.keep = env.get("BENCH_KEEP", "") == "1"
        self.warmup = 0.1 if self.smoke else 1.0
        # The GET rows run in slices alternating with their baselines.
        self.slices = max(1, min(5, int(self.duration // 2)))
        # Fresh AWS tokens for the landing row (each landing needs its own);
        # the landings' cookies become the confirm row's binding attempts.
        self.tokens = max(40, min(5000, int(250 * self.duration)))
        # Alibaba: instances x distinct timeStamps = distinct verify URLs (a
        # URL is refused when seen before); timeStamps within +-120 s of now,
        # well inside mpbind's default aliyun.verify_window of 300 s.
        self.aliyun_instances = 4 if self.smoke else 80
        self.aliyun_ages = 10 if self.smoke else 240
        # Usage: batches of USAGE_BATCH records over many orgs; metering: pending
        # ledger rows (bound subscriptions x recent hours) drained by meterd.
        self.usage_batches = 20 if self.smoke else max(100, min(2000, int(60 * self.duration)))
        self.metering_hours = 1 if self.smoke else 5
        # The simulator alone, at the concurrency mpbind's threads can give it.
        self.sim_duration = min(self.duration, 3.0)
        if self.duration <= 0 or self.connections < 1 or self.threads < 1 or self.requests < 0:
            raise ValueError("BENCH_DURATION, BENCH_CONNECTIONS, BENCH_THREADS must be positive")
        if self.connections < self.threads:
            raise ValueError("BENCH_CONNECTIONS must be at least BENCH_THREADS (wrk)")

    def public(self):
        return {"duration_s": self.duration, "connections": self.connections, "threads": self.threads,
                "memory_requests": self.requests, "smoke": self.smoke, "warmup_s": self.warmup,
                "get_row_slices": self.slices,
                "landing_tokens": self.tokens, "workers": BENCH_OPTIONS["workers"],
                "worker_threads": BENCH_OPTIONS["threads"], "nginx_workers": BENCH_OPTIONS["nginx_workers"]}


# ----- processes we measure ------------------------------------------------

def children_of(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except (OSError, TypeError, ValueError):
        return []


def cpu_ticks(pid):
    """utime + stime of pid (all its threads), in clock ticks; 0 if gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return 0


def machine_busy_ticks():
    """(busy, total) ticks of all CPUs since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    total = sum(v[:8])
    return total - idle, total


def proc_status(pid):
    """VmRSS and friends of pid in KiB, from /proc/<pid>/status."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem", "Threads"):
                    out[key] = int(rest.split()[0])
    except OSError:
        pass
    return out


class Bare:
    """The bare reference worker and its own nginx, beside the stack."""

    def __init__(self, stack):
        self.stack = stack
        self.dir = stack.path("bench")
        self.socket = os.path.join(self.dir, "bare.sock")
        self.prefix = os.path.join(self.dir, "nginx")
        self.port = free_port()
        self.proc = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def nginx_pid(self):
        return read_pid(os.path.join(self.prefix, "nginx.pid"))

    def up(self):
        for d, mode in ((self.dir, 0o711), (self.prefix, 0o711)):
            os.makedirs(d, exist_ok=True)
            os.chmod(d, mode)
        for d in ("conf", "logs", "tmp"):
            os.makedirs(os.path.join(self.prefix, d), exist_ok=True)
        env = dict(os.environ, BARE_DB_SOCKET=self.stack.path("db", "mysql.sock"), BARE_DB_USER="mpbind",
                   BARE_DB_PASSWORD=self.stack.state["secrets"]["db_app"], BARE_DB_NAME="mpbind")
        log = open(os.path.join(self.dir, "bare.log"), "ab")
        self.proc = subprocess.Popen(
            [BARE_BIN, "-s", self.socket, "-w", str(BENCH_OPTIONS["workers"]),
             "-t", str(BENCH_OPTIONS["threads"])],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        log.close()
        wait_until(lambda: os.path.exists(self.socket) and len(children_of(self.proc.pid)) ==
                   BENCH_OPTIONS["workers"], 10, "the bare worker")
        with open(os.path.join(HERE, "bare-nginx.conf.in")) as f:
            text = f.read()
        subst = {"@PREFIX@": self.prefix, "@NGINX_WORKERS@": str(BENCH_OPTIONS["nginx_workers"]),
                 "@SOCKET@": self.socket, "@PORT@": str(self.port),
                 "@SECURITY_HEADERS@": os.path.join(ROOT, "nginx", "security-headers.conf")}
        for k, v in subst.items():
            text = text.replace(k, v)
        conf = os.path.join(self.prefix, "conf", "nginx.conf")
        with open(conf, "w") as f:
            f.write(text)
        argv = ["/usr/sbin/nginx", "-p", self.prefix, "-e", os.path.join(self.prefix, "logs", "error.log"),
                "-c", conf]
        for extra in (["-t"], []):
            r = subprocess.run(argv + extra, capture_output=True, text=True)
            if r.returncode != 0:
                raise BenchError("bare nginx: " + r.stderr.strip())
        wait_until(lambda: http_status(self.url + "/bare/nodb") == 200, 10, "the bare worker through nginx")

    def down(self):
        pid = self.nginx_pid()
        if pid and pid_alive(pid):
            os.kill(pid, signal.SIGQUIT)
            try:
                wait_until(lambda: not pid_alive(pid), 10, "bare nginx to stop")
            except RuntimeError:
                os.kill(pid, signal.SIGKILL)
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def http_status(url, **kw):
    try:
        return requests.get(url, timeout=5, allow_redirects=False, **kw).status_code
    except requests.RequestException:
        return None


class Meter:
    """CPU time per component between two snapshots, and the machine's
    busy time, so each row can say who used the two cores (and whether
    something outside the bench did)."""

    def __init__(self, stack, bare):
        self.stack = stack
        self.bare = bare

    def groups(self):
        s = self.stack
        nginx = read_pid(s.path("nginx", "nginx.pid"))
        fcgi = read_pid(s.path("run", "mpbind-fcgi.pid"))
        bare_nginx = self.bare.nginx_pid()
        bare = self.bare.proc.pid if self.bare.proc else None
        return {
            "nginx": [p for p in [nginx] + children_of(nginx) if p],
            "mpbind": [p for p in [fcgi] + children_of(fcgi) if p],
            "mariadb": [p for p in [read_pid(s.path("db", "mariadbd.pid"))] if p],
            "simulator": [p for p in [read_pid(s.path("sim", "sim.pid"))] if p],
            "bare_nginx": [p for p in [bare_nginx] + children_of(bare_nginx) if p],
            "bare": [p for p in [bare] + children_of(bare) if p],
        }

    def snapshot(self):
        snap = {name: sum(cpu_ticks(p) for p in pids) for name, pids in self.groups().items()}
        own = os.times()
        snap["bench"] = int((own.user + own.system) * CLK_TCK)
        snap["_busy"], snap["_total"] = machine_busy_ticks()
        snap["_wall"] = time.monotonic()
        return snap

    @staticmethod
    def delta(before, after, wrk_seconds):
        out = {k: (after[k] - before[k]) / CLK_TCK for k in before if not k.startswith("_")}
        out["wrk"] = wrk_seconds
        wall = after["_wall"] - before["_wall"]
        busy = (after["_busy"] - before["_busy"]) / CLK_TCK
        ours = sum(out.values())
        # "other": what ran outside the bench's processes (other engineers'
        # tests, the kernel's own threads)
        return {"seconds": out, "wall_s": wall, "machine_busy_s": busy, "other_s": max(0.0, busy - ours)}


# ----- wrk -------------------------------------------------------------------

def request_line(method, path, headers=None, body=""):
    """One line of a wrk request file (see wrk.lua)."""
    hdr = "\x1f".join(f"{k}: {v}" for k, v in (headers or {}).items())
    for part in (method, path, hdr, body):
        if "\t" in part or "\n" in part:
            raise ValueError("request fields may not hold tabs or newlines")
    return f"{method}\t{path}\t{hdr}\t{body}"


class Runner:
    def __init__(self, settings, meter, workdir):
        self.settings = settings
        self.meter = meter
        self.workdir = workdir

    def wrk(self, name, base_url, lines, duration, mode="cycle", connections=None, threads=None,
            capture=False, responses=False):
        """Runs wrk for duration seconds (or, in mode "once", until every line is answered).
        Returns the measurement as a dict."""
        s = self.settings
        connections = connections or s.connections
        threads = min(threads or s.threads, connections)
        base = os.path.join(self.workdir, name)
        reqs = base + ".tsv"
        with open(reqs, "w") as f:
            f.write("\n".join(lines) + "\n")
        out = base + ".json"
        mark = base + ".done."
        cap = base + ".cookies." if capture else None
        for p in [out] + [mark + str(i) for i in range(threads)]:
            if os.path.exists(p):
                os.unlink(p)
        env = dict(os.environ, BENCH_REQS=reqs, BENCH_MODE=mode, BENCH_WRK_THREADS=str(threads),
                   BENCH_MARK=mark, BENCH_OUT=out, BENCH_RESPONSES="1" if responses else "0")
        if cap:
            env["BENCH_CAPTURE"] = cap
        argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{int(math.ceil(duration)) + 30}s",
                "--timeout", "10s", "--latency", "-s", WRK_LUA, base_url]
        before = self.meter.snapshot()
        start = time.monotonic()
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=self.workdir)
        collected = []
        reader = threading.Thread(target=lambda: collected.append(proc.stdout.read()), daemon=True)
        reader.start()
        stopped_by = "duration"
        while proc.poll() is None:
            time.sleep(0.01)
            elapsed = time.monotonic() - start
            if mode == "once" and all(os.path.exists(mark + str(i)) for i in range(threads)):
                stopped_by = "all lines answered"
                break
            if elapsed >= duration:
                break
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        usage = None
        try:
            _, status, usage = os.wait4(proc.pid, 0)   # wait4: wrk's own CPU time
            proc.returncode = os.waitstatus_to_exitcode(status)
        except ChildProcessError:
            pass    # wrk ended by itself and proc.poll() reaped it
        reader.join(5)
        after = self.meter.snapshot()
        text = (collected[0] if collected else b"").decode(errors="replace")
        try:
            with open(out) as f:
                data = json.load(f)
        except (OSError, ValueError):
            raise BenchError(f"{name}: wrk wrote no results (exit {proc.returncode}): {text.strip()[-400:]}")
        wrk_cpu = (usage.ru_utime + usage.ru_stime) if usage is not None else 0.0
        result = {
            "requests": int(data["requests"]),
            "seconds": data["duration_us"] / 1e6,
            "mean_us": data["latency_us"]["mean"],
            "quantiles": data["quantiles"],
            "errors": data["errors"],
            "statuses": {int(k): v for k, v in data.get("statuses", {}).items()},
            "connections": connections,
            "wrk_threads": threads,
            "stopped_by": stopped_by,
            "cpu": Meter.delta(before, after, wrk_cpu),
        }
        if cap:
            cookies = []
            for i in range(threads):
                try:
                    with open(cap + str(i)) as f:
                        cookies += [c for c in f.read().split("\n") if c]
                except OSError:
                    pass
            result["_cookies"] = cookies
        return result


# ----- merging runs of one row ---------------------------------------------------

def _cdf(points, x):
    """Percent of requests at or below x, from one run's [percent, us] points."""
    if x < points[0][1]:
        return 0.0
    for (p0, v0), (p1, v1) in zip(points, points[1:]):
        if v0 <= x < v1:
            return p0 + (p1 - p0) * (x - v0) / (v1 - v0)
    return 100.0


def merge_quantile(runs, q):
    """The q-th percentile (µs) of all requests of several runs, each
    (requests, points): the inverse of the request-weighted mixture of the
    runs' piecewise-linear distributions."""
    runs = [(n, pts) for n, pts in runs if n > 0 and pts]
    if not runs:
        return None
    total = sum(n for n, _ in runs)

    def mixture(x):
        return sum(n * _cdf(pts, x) for n, pts in runs) / total

    prev_x, prev_m = None, 0.0
    for x in sorted({v for _, pts in runs for _, v in pts}):
        m = mixture(x)
        if m >= q:
            if prev_x is None or m == prev_m:
                return x
            return prev_x + (x - prev_x) * (q - prev_m) / (m - prev_m)
        prev_x, prev_m = x, m
    return prev_x


def summarize(runs):
    """One row's figures from one or more wrk runs (slices) of it."""
    n = sum(r["requests"] for r in runs)
    secs = sum(r["seconds"] for r in runs)
    sketch = [(r["requests"], r["quantiles"]) for r in runs]

    def ms(q):
        v = merge_quantile(sketch, q)
        return round(v / 1000, 3) if v is not None else None

    out = {
        "requests": n,
        "seconds": round(secs, 3),
        "rps": round(n / secs, 1) if secs > 0 else 0.0,
        "mean_ms": round(sum(r["mean_us"] * r["requests"] for r in runs) / n / 1000, 3) if n else None,
        "p50_ms": ms(50), "p90_ms": ms(90), "p99_ms": ms(99), "p999_ms": ms(99.9), "max_ms": ms(100),
        "slices": len(runs),
        "connections": runs[0]["connections"],
        "wrk_threads": runs[0]["wrk_threads"],
        "stopped_by": "all lines answered" if any(r["stopped_by"] == "all lines answered" for r in runs)
                      else "duration",
    }
    out["errors"] = {k: sum(r["errors"][k] for r in runs) for k in runs[0]["errors"]}
    statuses = {}
    for r in runs:
        for k, v in r["statuses"].items():
            statuses[k] = statuses.get(k, 0) + v
    out["statuses"] = statuses
    cpu = {}
    for r in runs:
        for k, v in r["cpu"]["seconds"].items():
            cpu[k] = cpu.get(k, 0.0) + v
    wall = sum(r["cpu"]["wall_s"] for r in runs)
    other = sum(r["cpu"]["other_s"] for r in runs)
    out["cpu"] = {"seconds": {k: round(v, 3) for k, v in cpu.items()}, "wall_s": round(wall, 3),
                  "machine_busy_s": round(sum(r["cpu"]["machine_busy_s"] for r in runs), 3),
                  "other_s": round(other, 3),
                  "other_load_pct": round(100 * other / (wall * NCPU), 1) if wall > 0 else None}
    if n:
        out["cpu_us_per_request"] = {k: round(v * 1e6 / n, 1) for k, v in cpu.items() if v > 0}
    apps = [r["app"] for r in runs if r.get("app")]
    if apps:
        count = sum(a["requests"] for a in apps)
        out["app"] = {"route": apps[0]["route"], "requests": count,
                      "mean_ms": round(sum(a["mean_ms"] * a["requests"] for a in apps) / count, 3)}
    return out


# ----- metrics of mpbind --------------------------------------------------------

METRIC_RE = re.compile(r'^mpbind_request_duration_seconds_(sum|count)\{route="([^"]+)"\} (\S+)$')


def mpbind_metrics(stack):
    """{route: (sum_seconds, count)} from /metrics, or {} if unreadable."""
    try:
        text = requests.get(stack.url + "/metrics", timeout=5).text
    except requests.RequestException:
        return {}
    out = {}
    for line in text.splitlines():
        m = METRIC_RE.match(line)
        if m:
            s, c = out.get(m.group(2), (0.0, 0))
            if m.group(1) == "sum":
                s = float(m.group(3))
            else:
                c = int(float(m.group(3)))
            out[m.group(2)] = (s, c)
    return out


def app_time(before, after):
    """The route that served most requests between two metrics snapshots and
    its mean time inside mpbind (request start to reply), in ms."""
    best = None
    for route, (s, c) in after.items():
        s0, c0 = before.get(route, (0.0, 0))
        if c - c0 > 0 and (best is None or c - c0 > best[2]):
            best = (route, s - s0, c - c0)
    if best is None:
        return None
    return {"route": best[0], "requests": best[2], "mean_ms": round(1000 * best[1] / best[2], 3)}


# ----- the bench ---------------------------------------------------------------

class Bench:
    def __init__(self, settings, stack, bare, workdir):
        self.s = settings
        self.stack = stack
        self.bare = bare
        self.meter = Meter(stack, bare)
        self.runner = Runner(settings, self.meter, workdir)
        self.rows = {}
        self.memory = {}
        self.failed = []
        self.user = None

    # -- helpers --
    def row(self, key, label, kind, baseline=None, unit="requests/s", **extra):
        r = {"key": key, "label": label, "kind": kind, "baseline": baseline, "unit": unit,
             "status": "pending"}
        r.update(extra)
        self.rows[key] = r
        return r

    def slice(self, row, base_url, lines, duration, app_metrics=False, **kw):
        """One wrk run for row; app_metrics adds mpbind's own time per request."""
        m0 = mpbind_metrics(self.stack) if app_metrics else None
        res = self.runner.wrk(row["key"], base_url, lines, duration, **kw)
        if app_metrics:
            res["app"] = app_time(m0, mpbind_metrics(self.stack))
        return res

    def measure(self, row, base_url, lines, duration=None, app_metrics=False, **kw):
        """One row in one run; returns the row's figures (also stored in row)."""
        res = self.slice(row, base_url, lines, duration or self.s.duration, app_metrics, **kw)
        row.update(summarize([res]))
        row["status"] = "ok"
        if "_cookies" in res:
            row["_cookies"] = res["_cookies"]
        return row

    def not_available(self, row, reason):
        row["status"] = "not_available"
        row["reason"] = reason
        return row

    def fail(self, row, err):
        row["status"] = "error"
        row["reason"] = str(err)
        self.failed.append(row["key"])

    def expect(self, url, status, what, **kw):
        got = http_status(url, **kw)
        if got != status:
            raise BenchError(f"{what}: expected {status}, got {got}")

    def worker_rss(self):
        return {str(pid): proc_status(pid) for pid in self.stack.fcgi_workers()}

    # -- the run --
    def run(self):
        s, st = self.s, self.stack
        rows = {
            "nginx": self.row("nginx", "nginx return 200 (/nginx-ok)", "baseline"),
            "bare_nodb": self.row("bare_nodb", "bare worker, no DB (/bare/nodb)", "baseline"),
            "live": self.row("live", "GET /healthz/live (no DB)", "read", baseline="bare_nodb"),
            "bare_db": self.row("bare_db", "bare worker, one query (/bare/db)", "baseline"),
            "healthz": self.row("healthz", "GET /healthz (DB ping)", "read", baseline="bare_db"),
            "me": self.row("me", "GET /api/auth/me (session + read)", "read", baseline="bare_db"),
        }
        landing = self.row("landing", "POST /marketplace/aws-cn/landing", "write", baseline="bare_db")
        sim = self.row("sim_resolve", "  simulator ResolveCustomer alone (c=8)", "simulator")
        confirm = self.row("confirm", "POST /api/binding/confirm", "write", baseline="bare_db")
        verify = self.row("aliyun_verify", "GET /marketplace/aliyun/sso (verify)", "write", baseline="bare_db")
        usage = self.row("usage", "POST /internal/usage", "write", baseline="bare_db", unit="records/s")
        metering = self.row("metering", "metering send (meterd -> simulator)", "write",
                            baseline="sim_meter", unit="subscription-hours/s")
        sim_meter = self.row("sim_meter", "  simulator BatchMeterUsage alone (c=1)", "simulator",
                             unit="subscription-hours/s")

        self.memory["cold"] = self.worker_rss()
        self.prepare_user()
        me_headers = {"Cookie": f"mpb_session={self.user.s.cookies['mpb_session']}"}
        get_lines = {
            "nginx": [request_line("GET", "/nginx-ok")],
            "bare_nodb": [request_line("GET", "/bare/nodb")],
            "bare_db": [request_line("GET", f"/bare/db?id={self.user.user_id}")],
            "live": [request_line("GET", "/healthz/live")],
            "healthz": [request_line("GET", "/healthz")],
            "me": [request_line("GET", "/api/auth/me", me_headers)],
        }
        self.expect(self.bare.url + f"/bare/db?id={self.user.user_id}", 200, "bare /bare/db")
        self.expect(st.url + "/api/auth/me", 200, "/api/auth/me with the session", headers=me_headers)
        self.expect(st.url + "/healthz", 200, "/healthz")

        # Warm-up: connections, prepared statements, first-touch allocations.
        for key in ("nginx", "bare_nodb", "bare_db", "live", "healthz", "me"):
            base = self.bare.url if key.startswith("bare") else st.url
            self.runner.wrk("warmup-" + key, base, get_lines[key], s.warmup)

        # GET rows with their baselines, in alternating slices (A B B A ...)
        # so that load from outside the bench falls on both alike. The
        # memory window spans them.
        self.memory["before"] = self.worker_rss()
        served = 0
        mpbind_gets = ("live", "healthz", "me")
        for group in (("nginx",), ("bare_nodb", "live"), ("bare_db", "healthz", "me")):
            parts = {key: [] for key in group}
            for i in range(s.slices):
                for key in (group if i % 2 == 0 else tuple(reversed(group))):
                    if rows[key]["status"] == "error":
                        continue
                    base = self.bare.url if key.startswith("bare") else st.url
                    try:
                        res = self.slice(rows[key], base, get_lines[key], s.duration / s.slices,
                                         app_metrics=key in mpbind_gets)
                        bad = sum(res["errors"].values())
                        if bad:
                            raise BenchError(f"{key}: {bad} errors {res['errors']}")
                        parts[key].append(res)
                        if key in mpbind_gets:
                            served += res["requests"]
                    except BenchError as e:
                        self.fail(rows[key], e)
            for key in group:
                if rows[key]["status"] != "error" and parts[key]:
                    rows[key].update(summarize(parts[key]))
                    rows[key]["status"] = "ok"
        served += self.memory_topup(served, get_lines)
        self.memory["after"] = self.worker_rss()
        self.memory["requests"] = served

        for fn, row in ((self.run_landing, landing), (self.run_sim_resolve, sim), (self.run_confirm, confirm),
                        (self.run_aliyun, verify), (self.run_usage, usage), (self.run_metering, metering),
                        (self.run_sim_meter, sim_meter)):
            try:
                fn(row)
            except (BenchError, requests.RequestException, RuntimeError, OSError, KeyError, ValueError) as e:
                self.fail(row, e)
        self.memory["end"] = self.worker_rss()
        for row in self.rows.values():
            row.pop("_cookies", None)
        return self.rows

    def memory_topup(self, served, get_lines):
        """More GETs (the three mpbind rows in turn) until s.requests were served."""
        extra = 0
        lines = get_lines["live"] + get_lines["healthz"] + get_lines["me"]
        rates = [self.rows[k].get("rps", 0) for k in ("live", "healthz", "me")]
        rate = max(1000.0, sum(rates) / 3 if all(rates) else 1000.0)
        deadline = time.monotonic() + 120     # within the five minutes of a default run
        while served + extra < self.s.requests and time.monotonic() < deadline:
            need = self.s.requests - served - extra
            seconds = min(deadline - time.monotonic(), need / rate + 0.5)
            res = self.runner.wrk("memory-topup", self.stack.url, lines, max(0.2, seconds))
            extra += res["requests"]
            rate = max(500.0, res["requests"] / res["seconds"] if res["seconds"] else 0.0)
        self.memory["topup_requests"] = extra
        return extra

    def prepare_user(self):
        self.user = Api(self.stack.url)
        self.user.register(unique_email("bench"))

    # -- AWS landing and confirm --
    def sim_calls(self, path, bodies, parallel):
        """POSTs each body to the simulator's control API, parallel calls at
        a time; returns the JSON answers in order. The simulator's HTTP
        server leaves Nagle's algorithm on, so each answer waits ~40 ms for a
        delayed ACK: hence the parallel calls, and retries for the
        connections its small listen backlog resets."""
        url = self.stack.sim_url + path
        local = threading.local()

        def call(body):
            for attempt in range(6):
                sess = getattr(local, "s", None)
                if sess is None:
                    sess = local.s = requests.Session()
                try:
                    r = sess.post(url, json=body, timeout=60)
                    r.raise_for_status()
                    return r.json()
                except requests.ConnectionError:
                    local.s = None
                    if attempt == 5:
                        raise
                    time.sleep(0.05 * (attempt + 1))

        with concurrent.futures.ThreadPoolExecutor(parallel) as pool:
            return list(pool.map(call, bodies))

    def mint_tokens(self, n):
        return [a["token"] for a in self.sim_calls("/_sim/aws/aws-cn/tokens", [{}] * n, 32)]

    def run_landing(self, row):
        t0 = time.monotonic()
        tokens = self.mint_tokens(self.s.tokens)
        row["prepare_s"] = round(time.monotonic() - t0, 2)
        lines = [request_line("POST", "/marketplace/aws-cn/landing",
                              {"Content-Type": "application/x-www-form-urlencoded"},
                              urllib.parse.urlencode({"x-amzn-marketplace-token": t})) for t in tokens]
        res = self.measure(row, self.stack.url, lines, mode="once", capture=True, responses=True,
                           app_metrics=True)
        row["prepared"] = len(tokens)
        row["succeeded"] = sum(v for k, v in res["statuses"].items() if k == 303)
        self.landing_cookies = res.pop("_cookies", [])
        row["attempts_captured"] = len(self.landing_cookies)
        if row["succeeded"] == 0:
            raise BenchError(f"no landing succeeded: {res['statuses']}")

    def signed_resolve(self, token):
        """A ResolveCustomer request signed by botocore, as a wrk line (the
        simulator accepts the same signed request again for 15 minutes)."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        sec = self.stack.state["secrets"]
        body = json.dumps({"RegistrationToken": token})
        url = self.stack.sim_url + "/aws/aws-cn/metering/"
        req = AWSRequest("POST", url, data=body, headers={
            "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSMPMeteringService.ResolveCustomer"})
        SigV4Auth(Credentials(sec["aws_cn_key"], sec["aws_cn_secret"]), "aws-marketplace",
                  "cn-northwest-1").add_auth(req)
        prepared = req.prepare()
        headers = {k: v for k, v in prepared.headers.items() if k.lower() != "content-length"}
        headers["Host"] = urllib.parse.urlsplit(url).netloc
        r = requests.post(url, data=body, headers=headers, timeout=30)
        if r.status_code != 200 or "CustomerIdentifier" not in r.text:
            raise BenchError(f"signed ResolveCustomer: {r.status_code} {r.text[:200]}")
        return request_line("POST", "/aws/aws-cn/metering/", headers, body)

    def run_sim_resolve(self, row):
        """The simulator's ResolveCustomer alone, at mpbind's worker concurrency
        (2x4 threads = at most 8 calls at once), and its share of a landing."""
        token = self.mint_tokens(1)[0]
        line = self.signed_resolve(token)
        conc = BENCH_OPTIONS["workers"] * BENCH_OPTIONS["threads"]
        res = self.measure(row, self.stack.sim_url, [line], duration=self.s.sim_duration, connections=conc,
                           threads=1)
        landing = self.rows["landing"]
        share = {}
        if landing.get("status") == "ok":
            app = landing.get("app") or {}
            if app.get("mean_ms"):
                # time inside mpbind per landing (request start to reply, from
                # /metrics) against the simulator's own time per call at c=8
                share["sim_mean_ms_at_c8"] = res["mean_ms"]
                share["mpbind_mean_ms_per_landing"] = app["mean_ms"]
                share["latency_share_pct"] = round(min(100.0, 100 * res["mean_ms"] / app["mean_ms"]), 1)
            cpu = landing["cpu"]["seconds"]
            total = sum(cpu.values())
            if total > 0 and landing["requests"]:
                share["sim_cpu_ms_per_landing"] = round(1000 * cpu.get("simulator", 0) / landing["requests"], 3)
                share["mpbind_cpu_ms_per_landing"] = round(1000 * cpu.get("mpbind", 0) / landing["requests"], 3)
                share["cpu_share_pct"] = round(100 * cpu.get("simulator", 0) / total, 1)
            share["landing_rate_vs_sim_capacity"] = round(landing["rps"] / res["rps"], 3) if res["rps"] else None
            landing["simulator_share"] = share
        row["note"] = "the simulator replaying one signed ResolveCustomer; not mpbind"

    def create_orgs(self, n):
        """n orgs with the bench user as admin, written directly with the
        columns POST /api/orgs writes (thousands of API calls would take
        longer than the row they prepare)."""
        uid = int(self.user.user_id)
        ids = ["org-" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(22)) for _ in range(n)]
        for i in range(0, n, 1000):
            chunk = ids[i:i + 1000]
            orgs = ",".join(f"('{o}','bench {i + j}',{uid},NOW(6))" for j, o in enumerate(chunk))
            members = ",".join(f"('{o}',{uid},'admin',NOW(6))" for o in chunk)
            self.stack.sql(f"INSERT INTO orgs (id, name, created_by, created_at) VALUES {orgs};\n"
                           f"INSERT INTO memberships (org_id, user_id, role, joined_at) VALUES {members};")
        return ids

    def run_confirm(self, row):
        cookies = getattr(self, "landing_cookies", [])
        if not cookies:
            raise BenchError("no binding attempts: the landing row produced no mpb_bind cookies")
        t0 = time.monotonic()
        orgs = self.create_orgs(len(cookies))
        session = self.user.s.cookies["mpb_session"]
        lines = [request_line("POST", "/api/binding/confirm",
                              {"Cookie": f"mpb_session={session}; mpb_bind={c}", "X-CSRF-Token": self.user.csrf,
                               "Content-Type": "application/json"},
                              json.dumps({"org_id": o}, separators=(",", ":")))
                 for c, o in zip(cookies, orgs)]
        row["prepare_s"] = round(time.monotonic() - t0, 2)
        res = self.measure(row, self.stack.url, lines, mode="once", responses=True, app_metrics=True)
        row["prepared"] = len(lines)
        row["succeeded"] = res["statuses"].get(200, 0)
        bound = int(self.stack.sql("SELECT COUNT(*) FROM bindings WHERE ended_at IS NULL")[0][0])
        row["bindings_in_db"] = bound
        if row["succeeded"] == 0:
            raise BenchError(f"no confirm succeeded: {res['statuses']}")

    # -- Alibaba --
    def run_aliyun(self, row):
        st = self.stack
        probe = http_status(st.url + "/marketplace/aliyun/sso")
        row["probe"] = {"GET /marketplace/aliyun/sso": probe}
        if probe == 404:
            return self.not_available(row, NOT_AVAILABLE + ": GET /marketplace/aliyun/sso answers 404 "
                                      "(the Alibaba side is being built)")
        t0 = time.monotonic()
        instances = [a["instance"] for a in
                     self.sim_calls("/_sim/aliyun/instances", [{"wait": True}] * self.s.aliyun_instances, 16)]
        ready = [i for i in instances if i.get("instance_id") and i.get("auth_url")]
        if not ready:
            raise BenchError("no Alibaba instance got an instanceId and authUrl from createInstance: "
                             + json.dumps(instances[0].get("last_answer"))[:300])
        key = st.state["secrets"]["aliyun_isv_key"]
        now = time.time()
        # One URL from the simulator proves the local signing below matches it.
        ts = datetime.datetime.fromtimestamp(now, BEIJING).strftime("%Y-%m-%d %H:%M:%S")
        sim_url = self.sim_calls("/_sim/aliyun/sso-url", [{"instance": ready[0]["order_biz_id"],
                                                           "timestamp": ts}], 1)[0]["url"]
        if sim_url != verify_url(ready[0], ts, key):
            raise BenchError("local verify URL differs from the simulator's: " + sim_url)
        lines = []
        for age in range(-(self.s.aliyun_ages // 2), self.s.aliyun_ages - self.s.aliyun_ages // 2):
            ts = datetime.datetime.fromtimestamp(now - age, BEIJING).strftime("%Y-%m-%d %H:%M:%S")
            for inst in ready:
                url = urllib.parse.urlsplit(verify_url(inst, ts, key))
                lines.append(request_line("GET", url.path + "?" + url.query))
        row["prepare_s"] = round(time.monotonic() - t0, 2)
        res = self.measure(row, st.url, lines, mode="once", responses=True, app_metrics=True)
        row["prepared"] = len(lines)
        row["instances"] = len(ready)
        row["succeeded"] = sum(v for k, v in res["statuses"].items() if 300 <= k < 400)
        if row["succeeded"] == 0:
            raise BenchError(f"no verify redirect succeeded: {res['statuses']}")

    # -- metering (issue 7) --
    def run_usage(self, row):
        """POST /internal/usage: batches of USAGE_BATCH fresh records over many orgs, one past hour."""
        st = self.stack
        t0 = time.monotonic()
        orgs = self.create_orgs(200)
        hour = int(time.time()) // 3600 * 3600 - 3600
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {st.internal_token}"}
        lines = []
        for b in range(self.s.usage_batches):
            records = [{"id": f"bench-{b}-{i}-{secrets.token_hex(4)}", "org_id": orgs[(b * USAGE_BATCH + i) % 200],
                        "cloud": "aws", "region": "cn-northwest-1", "dimension": "compute", "quantity": "0.25",
                        "start": iso_utc(hour + i), "end": iso_utc(hour + i + 1)} for i in range(USAGE_BATCH)]
            lines.append(request_line("POST", "/internal/usage", headers,
                                      json.dumps({"records": records}, separators=(",", ":"))))
        row["prepare_s"] = round(time.monotonic() - t0, 2)
        # Few, slow requests: wrk's own clock stops before the last batches are
        # answered, so the rate is the records stored over the wall time.
        started = time.monotonic()
        self.measure(row, st.url, lines, duration=max(self.s.duration, 2.0), mode="once", responses=True,
                     app_metrics=True)
        count = "SELECT COUNT(*) FROM usage_records WHERE id LIKE 'bench-%'"
        stored, last = int(st.sql(count)[0][0]), -1
        while stored != last and stored < len(lines) * USAGE_BATCH:
            time.sleep(0.2)
            last, stored = stored, int(st.sql(count)[0][0])
        wall = time.monotonic() - started
        row["prepared"] = len(lines) * USAGE_BATCH
        row["batch"] = USAGE_BATCH
        row["succeeded"] = stored
        row["batches"] = row["requests"]
        row["requests"] = stored            # records, for the table
        row["seconds"] = round(wall, 3)
        row["rps"] = round(stored / wall, 1) if wall > 0 else 0.0
        # Its ratio is of requests (batches of USAGE_BATCH records) to the bare one-query rate.
        row["rate_for_ratio"] = round(row["batches"] / wall, 1) if wall > 0 else 0.0
        if row["succeeded"] == 0:
            raise BenchError(f"no usage record stored: {row.get('statuses')} {row.get('errors')}")

    def run_metering(self, row):
        """Pending ledger rows of every subscription the confirm row bound, for recent hours,
        drained by mpbind-meterd through the simulator's BatchMeterUsage."""
        st = self.stack
        subs = [r[0] for r in st.sql("SELECT b.subscription_id FROM bindings b JOIN subscriptions s "
                                     "ON s.id = b.subscription_id WHERE b.ended_at IS NULL AND s.marketplace = 'aws-cn'")]
        if not subs:
            raise BenchError("no bound AWS subscription to meter (the confirm row bound none)")
        if self.s.smoke:
            subs = subs[:100]
        hour = int(time.time()) // 3600 * 3600
        values = [f"({sub},'aws-cn','usage',FROM_UNIXTIME({hour - k * 3600}),{(int(sub) + k) % 97},0,0,'pending',"
                  f"NOW(6),NOW(6))" for sub in subs for k in range(1, self.s.metering_hours + 1)]
        for i in range(0, len(values), 2000):
            st.sql("INSERT INTO ledger (subscription_id, marketplace, dimension, hour, quantity, carry_in_pico, "
                   "carry_out_pico, state, next_attempt_at, built_at) VALUES " + ",".join(values[i:i + 2000]))
        total = len(values)
        t0 = time.monotonic()
        st.meterd_start("meterd-bench")
        try:
            deadline = t0 + (30 if self.s.smoke else 180)
            settled = 0
            while time.monotonic() < deadline:
                settled = int(st.sql("SELECT COUNT(*) FROM ledger WHERE state IN ('accepted', 'rejected')")[0][0])
                if settled >= total:
                    break
                time.sleep(0.1)
            secs = time.monotonic() - t0
        finally:
            st.meterd_stop("meterd-bench")
        accepted = int(st.sql("SELECT COUNT(*) FROM ledger WHERE state = 'accepted'")[0][0])
        # Each row's BatchMeterUsage call, from the row marked sent to its answer recorded.
        waits = sorted(int(r[0]) / 1000.0 for r in st.sql(
            "SELECT TIMESTAMPDIFF(MICROSECOND, sent_at, settled_at) FROM ledger "
            "WHERE state = 'accepted' AND sent_at IS NOT NULL AND settled_at IS NOT NULL"))
        row.update({"status": "ok", "prepared": total, "succeeded": accepted, "requests": total,
                    "seconds": round(secs, 3), "rps": round(settled / secs, 1) if secs else 0.0,
                    "p50_ms": percentile(waits, 50), "p99_ms": percentile(waits, 99),
                    "statuses": {}, "errors": {},
                    "note": "rate from meterd's start (includes its start-up) to the last row settled; "
                            "p50/p99 of each row's call, sent to recorded"})
        if accepted < total:
            raise BenchError(f"only {accepted} of {total} subscription-hours accepted in {secs:.1f} s")


    def run_sim_meter(self, row):
        """The simulator's BatchMeterUsage alone, replaying one signed call of 25
        records meterd had accepted (the same records again: AWS, and the
        simulator, answer an identical record with its first result), one call
        at a time as meterd sends them: the ceiling for the metering row."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        st = self.stack
        rows = st.sql("SELECT UNIX_TIMESTAMP(l.hour), l.dimension, l.quantity, s.customer_aws_account_id, "
                      "s.license_arn, s.customer_identifier, s.product_code FROM ledger l JOIN subscriptions s "
                      "ON s.id = l.subscription_id WHERE l.state = 'accepted' AND l.marketplace = 'aws-cn' "
                      "ORDER BY l.id LIMIT 25")
        if len(rows) < 25:
            raise BenchError(f"only {len(rows)} accepted rows to replay (the metering row did not run)")
        records = []
        for hour, dim, qty, account, license_arn, ident, _ in rows:
            rec = {"Timestamp": int(hour), "Dimension": dim, "Quantity": int(qty)}
            if account not in (None, "NULL") and license_arn not in (None, "NULL"):
                rec.update(CustomerAWSAccountId=account, LicenseArn=license_arn)
            else:
                rec["CustomerIdentifier"] = ident
            records.append(rec)
        body = json.dumps({"ProductCode": rows[0][6], "UsageRecords": records}, separators=(",", ":"))
        sec = st.state["secrets"]
        url = st.sim_url + "/aws/aws-cn/metering/"
        req = AWSRequest("POST", url, data=body, headers={
            "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSMPMeteringService.BatchMeterUsage"})
        SigV4Auth(Credentials(sec["aws_cn_key"], sec["aws_cn_secret"]), "aws-marketplace",
                  "cn-northwest-1").add_auth(req)
        headers = {k: v for k, v in req.prepare().headers.items() if k.lower() != "content-length"}
        headers["Host"] = urllib.parse.urlsplit(url).netloc
        r = requests.post(url, data=body, headers=headers, timeout=30)
        if r.status_code != 200 or r.json().get("Results", [{}])[0].get("Status") != "Success":
            raise BenchError(f"signed BatchMeterUsage: {r.status_code} {r.text[:300]}")
        self.measure(row, st.sim_url, [request_line("POST", "/aws/aws-cn/metering/", headers, body)],
                     duration=self.s.sim_duration, connections=1, threads=1)
        row["calls_per_s"] = row["rps"]
        row["rps"] = round(row["rps"] * len(records), 1)     # subscription-hours/s, as the metering row
        row["note"] = "the simulator replaying one signed 25-record call; not mpbind"


def percentile(values, pct):
    """The pct-th percentile of sorted values (nearest rank), None when empty."""
    if not values:
        return None
    return round(values[min(len(values) - 1, max(0, math.ceil(pct / 100 * len(values)) - 1))], 2)


def iso_utc(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


USAGE_BATCH = 100


def verify_url(instance, timestamp, key):
    """The 免登 URL the simulator builds (tests/sim/aliyun.py sso_url)."""
    params = {"action": "verify", "instanceId": instance["instance_id"] or instance["order_biz_id"],
              "timeStamp": timestamp}
    text = "&".join(f"{k}={v}" for k, v in sorted(params.items())) + "&key=" + key
    token = hashlib.md5(text.encode("utf-8")).hexdigest()
    query = urllib.parse.urlencode([("token", token)] + list(params.items()), quote_via=urllib.parse.quote)
    base = instance["auth_url"]
    return base + ("&" if "?" in base else "?") + query


# ----- results -----------------------------------------------------------------

def add_ratios(rows):
    for row in rows.values():
        base = rows.get(row.get("baseline") or "")
        if row["status"] == "ok" and base and base.get("status") == "ok" and base.get("rps"):
            row["ratio"] = round(row.get("rate_for_ratio", row["rps"]) / base["rps"], 3)
        nginx = rows.get("nginx")
        if row["status"] == "ok" and nginx and nginx.get("status") == "ok" and nginx.get("rps") \
                and row["kind"] != "simulator":
            row["ratio_to_nginx"] = round(row["rps"] / nginx["rps"], 3)


def memory_summary(memory):
    out = {"requests": memory.get("requests", 0), "topup_requests": memory.get("topup_requests", 0),
           "workers": []}
    for pid, after in memory.get("after", {}).items():
        before = memory.get("before", {}).get(pid, {})
        cold = memory.get("cold", {}).get(pid, {})
        end = memory.get("end", {}).get(pid, {})
        w = {"pid": int(pid)}
        for name, snap in (("cold", cold), ("before", before), ("after", after), ("end", end)):
            if snap:
                w[f"rss_{name}_kib"] = snap.get("VmRSS")
        w["detail_after"] = after
        if before.get("VmRSS") is not None and after.get("VmRSS") is not None:
            w["growth_kib"] = after["VmRSS"] - before["VmRSS"]
        if cold.get("VmRSS") is not None and after.get("VmRSS") is not None:
            w["growth_from_cold_kib"] = after["VmRSS"] - cold["VmRSS"]
        out["workers"].append(w)
    return out


def evaluate_targets(settings, rows, memory):
    targets = []

    def add(name, passed, value, reason=""):
        targets.append({"target": name, "result": passed, "value": value, "reason": reason})

    def ratio_target(name, key, limit, base_key):
        r = rows[key]
        if r.get("ratio") is None:
            return add(name, "n/a", None, f"{key} or {base_key} did not run")
        ok = r["ratio"] >= limit
        add(name, "PASS" if ok else "MISS", r["ratio"],
            "" if ok else f"{r['rps']:.0f} vs {rows[base_key]['rps']:.0f} requests/s")

    ratio_target("/healthz (no DB: /healthz/live) >= 90% of bare no-DB", "live", TARGET_LIVE_RATIO, "bare_nodb")
    ratio_target("authenticated GET >= 80% of bare one-query", "me", TARGET_ME_RATIO, "bare_db")
    for key in ("live", "healthz", "me"):
        r = rows[key]
        name = f"p99 <= {TARGET_P99_MS:g} ms at 32 connections: {r['label'].split(' (')[0]}"
        if r["status"] != "ok":
            add(name, "n/a", None, "row did not run")
        elif settings.connections != TARGET_P99_CONNECTIONS:
            add(name, "n/a", r["p99_ms"], f"measured at {settings.connections} connections")
        else:
            ok = r["p99_ms"] <= TARGET_P99_MS
            add(name, "PASS" if ok else "MISS", r["p99_ms"], "" if ok else f"p99 {r['p99_ms']:.2f} ms")
    workers = memory["workers"]
    if workers:
        rss = max(max(w.get("rss_end_kib") or 0, w.get("rss_after_kib") or 0) for w in workers) / 1024
        add(f"worker RSS <= {TARGET_RSS_MIB:g} MiB", "PASS" if rss <= TARGET_RSS_MIB else "MISS", round(rss, 2),
            "" if rss <= TARGET_RSS_MIB else f"largest worker {rss:.1f} MiB")
        growth = max(w.get("growth_kib", 0) for w in workers) / 1024
        name = f"RSS growth <= {TARGET_GROWTH_MIB:g} MiB over {TARGET_GROWTH_REQUESTS:,} requests"
        if memory["requests"] < TARGET_GROWTH_REQUESTS:
            add(name, "n/a", round(growth, 3), f"only {memory['requests']:,} requests in this run")
        else:
            ok = growth <= TARGET_GROWTH_MIB
            add(name, "PASS" if ok else "MISS", round(growth, 3), "" if ok else f"grew {growth:.2f} MiB")
    else:
        add(f"worker RSS <= {TARGET_RSS_MIB:g} MiB", "n/a", None, "no worker found")
    return targets


def fmt(x, spec):
    return format(x, spec) if isinstance(x, (int, float)) else "-"


def render_table(result):
    rows = result["rows"]
    lines = []
    head = f"{'row':<44} {'rate':>10} {'p50 ms':>8} {'p99 ms':>8}  {'vs baseline':<22} notes"
    lines += [head, "-" * len(head)]
    for r in rows:
        if r["status"] != "ok":
            lines.append(f"{r['label']:<44} {r.get('reason', r['status'])}")
            continue
        base = f"{r['ratio']:.2f} x {r['baseline']}" if r.get("ratio") is not None else ""
        notes = []
        unit = "" if r["unit"] == "requests/s" else " " + r["unit"]
        if "succeeded" in r:
            notes.append(f"{r['succeeded']:,} of {r['requests']:,} succeeded ({r['prepared']:,} prepared)")
        if r.get("stopped_by") == "all lines answered":
            notes.append("all used before the time was up")
        if r.get("app"):
            notes.append(f"in mpbind {r['app']['mean_ms']:.2f} ms")
        share = r.get("simulator_share")
        if share and "latency_share_pct" in share:
            notes.append(f"simulator {share['latency_share_pct']:.0f}% of its time")
        other = r.get("cpu", {}).get("other_load_pct")
        if other is not None and other >= 5:
            notes.append(f"other load {other:.0f}%")
        lines.append(f"{r['label']:<44} {r['rps']:>10,.0f} {fmt(r['p50_ms'], '8.2f')} {fmt(r['p99_ms'], '8.2f')}  "
                     f"{base:<22} {'; '.join(notes)}{unit}")
    lines.append("")
    lines.append("CPU per request (µs) of each part, from /proc (all CPUs; the machine has "
                 f"{NCPU}): worker | MariaDB | nginx | wrk")
    for r in rows:
        per = r.get("cpu_us_per_request")
        if r["status"] != "ok" or not per:
            continue
        worker = per.get("mpbind", 0) + per.get("bare", 0)
        nginx = per.get("nginx", 0) + per.get("bare_nginx", 0)
        extra = f" | simulator {per['simulator']:.0f}" if per.get("simulator", 0) >= 1 else ""
        lines.append(f"  {r['label']:<42} {worker:7.0f} | {per.get('mariadb', 0):7.0f} | {nginx:7.0f} | "
                     f"{per.get('wrk', 0):5.0f}{extra}")
    mem = result["memory"]
    lines.append("")
    lines.append(f"memory (VmRSS of each mpbind worker, KiB), {mem['requests']:,} GET requests between "
                 f"'before' and 'after':")
    for w in mem["workers"]:
        lines.append(f"  pid {w['pid']}: cold {w.get('rss_cold_kib', '-')}, before {w.get('rss_before_kib', '-')}, "
                     f"after {w.get('rss_after_kib', '-')} (growth {w.get('growth_kib', '-')}), "
                     f"after every row {w.get('rss_end_kib', '-')}")
    lines.append("")
    lines.append("targets:")
    for t in result["targets"]:
        value = t["value"] if t["value"] is not None else "-"
        lines.append(f"  {t['result']:<5} {t['target']} (value {value}){'  ' + t['reason'] if t['reason'] else ''}")
    load = result["load"]
    lines.append("")
    lines.append(f"load average before {load['before']}, after {load['after']}; {NCPU} CPUs; "
                 f"other processes used {load['other_cpu_pct_during_rows']}% of the machine during the rows")
    return "\n".join(lines)


def git_info():
    def run(*argv):
        r = subprocess.run(["git", "-C", ROOT, *argv], capture_output=True, text=True)
        return r.stdout.strip() if r.returncode == 0 else None
    status = run("status", "--porcelain")
    return {"commit": run("rev-parse", "HEAD"), "dirty_files": len(status.splitlines()) if status else 0}


def machine_info():
    model = None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = proc_meminfo_total()
    return {"cpus": NCPU, "cpu_model": model, "mem_total_kib": mem, "kernel": os.uname().release,
            "hostname": os.uname().nodename,
            "wrk": subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()[0]
            if shutil.which("wrk") else None}


def proc_meminfo_total():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def sanitized(pid_or_path):
    """True if a running process (pid) or a binary (path) uses ASan."""
    if isinstance(pid_or_path, int):
        try:
            with open(f"/proc/{pid_or_path}/maps") as f:
                return "libasan" in f.read()
        except OSError:
            return False
    r = subprocess.run(["ldd", pid_or_path], capture_output=True, text=True)
    return "libasan" in r.stdout


def ensure_binaries(settings):
    if not os.path.exists(MPBIND_BIN):
        raise BenchError("bin/mpbind-fcgi is missing: run `make bench` (or `make all`)")
    if not os.path.exists(binary("mpbindctl")):
        raise BenchError("bin/mpbindctl is missing: run `make bench` (or `make all`)")
    r = subprocess.run(["make", "--no-print-directory", "-C", ROOT, "build/rel/bench-bare"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise BenchError("building build/rel/bench-bare failed:\n" + r.stdout + r.stderr)
    if sanitized(MPBIND_BIN) and not settings.smoke:
        raise BenchError(MPBIND_BIN + " is a sanitizer build (MPBIND_BIN points at build/san); "
                         "`make bench` measures the release build in bin/")


def main():
    try:
        settings = Settings(os.environ)
    except ValueError as e:
        print(f"bench: {e}", file=sys.stderr)
        return 2
    started = datetime.datetime.now(datetime.timezone.utc)
    t_start = time.monotonic()
    load_before = [round(x, 2) for x in os.getloadavg()]
    busy0 = machine_busy_ticks()
    try:
        ensure_binaries(settings)
    except BenchError as e:
        print(f"bench: {e}", file=sys.stderr)
        return 1
    var = tempfile.mkdtemp(prefix="mpbind-bench-")
    workdir = os.path.join(var, "wrk")
    os.makedirs(workdir)
    stack = Stack(var, options=BENCH_OPTIONS)
    bare = Bare(stack)
    rows, memory, build = {}, {}, {}
    fatal = None
    bench = None
    print(f"bench: stack in {var}; {settings.duration:g} s per row, {settings.connections} connections, "
          f"{settings.threads} wrk threads{' (smoke)' if settings.smoke else ''}", flush=True)
    try:
        with contextlib.redirect_stdout(io.StringIO()):     # the migrations' "applied ..." lines
            stack.up(meterd=False)
        bare.up()
        workers = stack.fcgi_workers()
        build = {"mpbind_sanitizer": any(sanitized(p) for p in workers),
                 "mpbind_binary_mtime": datetime.datetime.fromtimestamp(
                     os.path.getmtime(MPBIND_BIN), datetime.timezone.utc).isoformat()}
        if build["mpbind_sanitizer"] and not settings.smoke:
            raise BenchError("the running mpbind-fcgi is a sanitizer build")
        bench = Bench(settings, stack, bare, workdir)
        rows = bench.run()
        memory = bench.memory
    except Exception as e:     # reported in the JSON; the stack still comes down
        fatal = f"{type(e).__name__}: {e}"
        if not isinstance(e, (BenchError, RuntimeError, requests.RequestException)):
            traceback.print_exc()
        if bench is not None:
            rows, memory = bench.rows, bench.memory
    finally:
        bare.down()
        stack.down()
        if settings.keep or fatal:
            print(f"bench: kept {var} (logs in {var}/log)", file=sys.stderr)
        else:
            shutil.rmtree(var, ignore_errors=True)
    busy1 = machine_busy_ticks()
    add_ratios(rows)
    mem = memory_summary(memory)
    row_list = list(rows.values())
    other = sum(r["cpu"]["other_s"] for r in row_list if r.get("cpu"))
    wall = sum(r["cpu"]["wall_s"] for r in row_list if r.get("cpu"))
    result = {
        "started": started.isoformat(timespec="seconds"),
        "elapsed_s": round(time.monotonic() - t_start, 1),
        "machine": machine_info(),
        "git": git_info(),
        "build": build,
        "settings": settings.public(),
        "load": {"before": load_before, "after": [round(x, 2) for x in os.getloadavg()],
                 "other_cpu_pct_during_rows": round(100 * other / (wall * NCPU), 1) if wall else None,
                 "machine_busy_pct_whole_run": round(100 * (busy1[0] - busy0[0]) / max(1, busy1[1] - busy0[1]), 1)},
        "rows": row_list,
        "memory": mem,
        "targets": evaluate_targets(settings, rows, mem) if rows else [],
        "fatal": fatal,
    }
    os.makedirs(settings.out_dir, exist_ok=True)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    prefix = "smoke" if settings.smoke else "bench"
    path = os.path.join(settings.out_dir, f"{prefix}-{stamp}.json")
    with open(path, "w") as f:
        json.dump(result, f, indent=2)
    shutil.copyfile(path, os.path.join(settings.out_dir, "smoke-latest.json" if settings.smoke else "latest.json"))
    if rows:
        print(render_table(result))
    print(f"\nbench: {result['elapsed_s']} s; results in {path}")
    if fatal:
        print(f"bench: failed: {fatal}", file=sys.stderr)
        return 1
    errors = [r["key"] for r in row_list if r["status"] == "error"]
    if errors:
        print(f"bench: rows failed: {', '.join(errors)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
