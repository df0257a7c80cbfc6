#!/usr/bin/env python3
"""Benchmark of `wfm stats` against DuckDB and Polars on the same Parquet files, in one run.

For each size (millions of calls over 30 days, one tenant, 200 queues) it generates the store
once (kept under --work), then times:
  * `wfm stats` (15-minute intervals, all queues, the month) as a whole process: wall seconds and
    peak RSS from wait4(), median of --repeat runs;
  * the same aggregation in DuckDB and in Polars through benches/peers.py (query time only, each
    engine in its own process), whose counts are checked against wfm's JSON;
and, for the smallest size, `wfm import --format queue-log` throughput on the same history.

Usage: python benches/bench_stats.py --wfm target/release/wfm [--sizes 1,10,30] [--repeat 5]
       [--work benches/data]
Prints a Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DAYS = 30
START = "2026-01-05"
END = "2026-02-04"
QUEUES = 200
# Offered calls per weekday such that a 30-day month holds about `size` million calls
# (weekends, holidays and seasonality take the mean day to ~0.88 of a weekday).
WEEKDAY_SHARE = 0.88


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one command."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    if status != 0:
        raise SystemExit(f"{cmd} failed: {proc.stderr.read().decode()}")
    return wall, usage.ru_maxrss / 1024


def generate(wfm: str, out: Path, millions: float, queue_log: bool) -> str:
    if (out / "store" / "wfm-store.toml").exists():
        return (out / "generate.log").read_text()
    daily = millions * 1e6 / (DAYS * WEEKDAY_SHARE)
    cmd = [wfm, "generate", "--out", str(out), "--days", str(DAYS), "--seed", "1", "--tenants", "1",
           "--queues", str(QUEUES), "--daily-calls", f"{daily:.0f}", "--start", START]
    if queue_log:
        cmd.append("--queue-log")
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    log = proc.stderr.strip() + f" (wall {time.perf_counter() - t:.1f} s)\n"
    (out / "generate.log").write_text(log)
    return log


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--wfm", default=str(HERE.parent / "target/release/wfm"))
    ap.add_argument("--sizes", default="1,10,30")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--work", default=str(HERE / "data"))
    args = ap.parse_args()
    python = str(HERE / ".venv/bin/python") if (HERE / ".venv/bin/python").exists() else sys.executable
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    sizes = [float(s) for s in args.sizes.split(",")]
    for i, millions in enumerate(sizes):
        out = work / f"calls-{millions:g}M"
        log = generate(args.wfm, out, millions, queue_log=(i == 0))
        calls = int(re.search(r"generated (\d+) calls", log).group(1))
        print(f"# {millions:g}M: {log.strip()}", file=sys.stderr)
        store = out / "store"
        stats = [args.wfm, "stats", "--store", str(store), "--tenant", "demo", "--from", START, "--to", END,
                 "--interval", "15m", "--format", "csv", "--out", "/dev/null"]
        timed(stats)  # warm the page cache, as the peers' first run does
        runs = [timed(stats) for _ in range(args.repeat)]
        wfm_s = statistics.median(r[0] for r in runs)
        wfm_mb = max(r[1] for r in runs)
        check = out / "wfm-stats.json"
        subprocess.run(stats[:-4] + ["--format", "json", "--out", str(check)], check=True)
        peers = subprocess.run(
            [python, str(HERE / "peers.py"), "--store", str(store), "--tenant", "demo", "--tz", "Europe/Warsaw",
             "--from", START, "--to", END, "--engine", "both", "--repeat", str(args.repeat), "--show", "0",
             "--check-against", str(check)],
            capture_output=True, text=True)
        if peers.returncode != 0:
            print(peers.stdout, peers.stderr, file=sys.stderr)
            raise SystemExit("peers disagree with wfm stats")
        peer = {}
        for line in peers.stdout.splitlines():
            m = re.match(r"(duckdb|polars)\s+median_s=([\d.]+).*peak_rss_mb=([\d.]+)", line)
            if m:
                peer[m.group(1)] = (float(m.group(2)), float(m.group(3)))
        rows.append((millions, calls, wfm_s, wfm_mb, peer["duckdb"], peer["polars"]))
        print(f"# {millions:g}M done: wfm {wfm_s:.3f}s {wfm_mb:.0f}MB, duckdb {peer['duckdb']}, polars {peer['polars']}",
              file=sys.stderr)
    print("| calls | wfm stats s | wfm peak MB | DuckDB s | DuckDB peak MB | Polars s | Polars peak MB | wfm / faster peer |")
    print("|---|---|---|---|---|---|---|---|")
    for millions, calls, wfm_s, wfm_mb, duck, pol in rows:
        faster = min(duck[0], pol[0])
        print(f"| {calls:,} | {wfm_s:.3f} | {wfm_mb:.0f} | {duck[0]:.3f} | {duck[1]:.0f} | {pol[0]:.3f} | {pol[1]:.0f} | {wfm_s / faster:.2f} |")

    # queue_log import throughput on the smallest history.
    first = work / f"calls-{sizes[0]:g}M"
    log = first / "demo.queue_log"
    lines = sum(1 for _ in open(log, "rb"))
    times = []
    for _ in range(3):
        target = work / "import-bench"
        shutil.rmtree(target, ignore_errors=True)
        wall, rss = timed([args.wfm, "import", "--store", str(target), "--tenant", "demo", "--tz", "Europe/Warsaw",
                           "--format", "queue-log", str(log)])
        times.append((wall, rss))
    wall = statistics.median(t[0] for t in times)
    print(f"\nqueue_log import: {lines:,} lines in {wall:.2f} s = {lines / wall:,.0f} lines/s, "
          f"peak {max(t[1] for t in times):.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
