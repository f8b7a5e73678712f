# SPDX-License-Identifier: MIT
"""`make bench` cannot rot: its smoke mode (about two seconds of load on a
private stack) runs to the end, writes its JSON with every row present, and
reports positive numbers and ratios for the rows that ran. The figures
themselves are not judged here; `make bench` is where they mean something."""

import json
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROWS = ("nginx", "bare_nodb", "live", "bare_db", "healthz", "me", "landing", "sim_resolve", "confirm",
        "aliyun_verify", "usage", "metering")
WITH_BASELINE = ("live", "healthz", "me", "landing", "confirm", "aliyun_verify")


def test_the_bench_smoke_runs_and_reports_every_row(tmp_path):
    env = dict(os.environ, BENCH_SMOKE="1", BENCH_OUT_DIR=str(tmp_path))
    for name in ("BENCH_DURATION", "BENCH_CONNECTIONS", "BENCH_THREADS", "BENCH_REQUESTS", "BENCH_KEEP"):
        env.pop(name, None)
    r = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tests", "bench", "bench.py")], env=env,
                       capture_output=True, text=True, timeout=90)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]

    with open(tmp_path / "smoke-latest.json") as f:
        result = json.load(f)
    assert result["fatal"] is None and result["settings"]["smoke"] is True
    rows = {row["key"]: row for row in result["rows"]}
    assert set(ROWS) <= set(rows)
    for key in ROWS:
        row = rows[key]
        assert row["status"] in ("ok", "not_available"), (key, row.get("reason"))
        if row["status"] == "not_available":
            assert row["reason"].strip(), key
            continue
        assert row["requests"] > 0 and row["rps"] > 0, key
        if key != "metering":       # a drain rate, not requests: no latency
            assert 0 < row["p50_ms"] <= row["p99_ms"], key
        if key in WITH_BASELINE:
            assert row["ratio"] > 0, key
    for key in ROWS:
        assert rows[key]["status"] == "ok", (key, rows[key].get("reason"))
    for key in ("landing", "confirm", "aliyun_verify", "usage", "metering"):
        assert rows[key]["succeeded"] > 0, key

    memory = result["memory"]
    assert memory["requests"] > 0 and len(memory["workers"]) == 2
    for worker in memory["workers"]:
        assert worker["rss_before_kib"] > 0 and worker["rss_after_kib"] > 0 and "growth_kib" in worker
    results = {t["result"] for t in result["targets"]}
    assert results <= {"PASS", "MISS", "n/a"} and len(result["targets"]) >= 7
    assert "targets:" in r.stdout
