#!/usr/bin/env python3
"""Benchmark of `wfm staff` (Erlang C staffing) against pyworkforce's ErlangC, on one workload.

Workload (deterministic, no randomness): 10 queues q01..q10 with peak traffic
[1, 3, 10, 30, 100, 300, 1000, 2000, 3500, 5000] Erlangs and AHT round(180 + 13.3*i) s
(180..300 s); each day has 96 quarter-hours and the traffic of a quarter-hour is
1 + (peak - 1) * shape(start of the quarter-hour), where shape is 0 before 06:00 and from 22:00 on
and sin^2(pi * (h - 6) / 16) in between (1 at 14:00), so traffic spans 1..5000 Erlangs.
calls = round(traffic * 900 / aht, 3). A size of W weeks is W*7 days from Monday 2026-03-02
(fixed +01:00 offset) x 96 intervals x 10 queues rows of forecast.csv
(`queue,interval_start,interval_end,calls,aht_s`).

Timed, median of --repeat runs:
  * pyworkforce: `ErlangC(transactions=calls, aht=aht_s/60, asa=20/60, interval=15, shrinkage=0.3)
    .required_positions(service_level=0.8, max_occupancy=0.85)` for every row, in this process,
    object creation included (CSV not read: the rows are built in memory);
  * wfm: the whole process `wfm staff --forecast forecast.csv --sl-target 0.8 --threshold-s 20
    --max-occupancy 0.85 --shrinkage 0.3 --out requirements.csv` (reads and writes CSV); one
    untimed warm-up run first.
wfm's `agents` is compared with pyworkforce's raw_positions and `agents_with_shrinkage` with its
positions; mismatching rows are counted per likely cause, and the first --show (10) distinct ones
(every day repeats the same traffic) are printed with the traffic, both counts, pyworkforce's
service level at both raw counts and that guess at the cause. Known pyworkforce 0.5.1 quirk:
positions = ceil(raw / (1 - shrinkage)) in floats, so with shrinkage 0.3 some multiples of 7
(raw = 21, 42, 84, 161, 350, ...: 21 / 0.7 = 30.000000000000004) give one position more than the
exact ceil(raw * 10 / 7).

Usage: python benches/bench_erlang.py [--wfm target/release/wfm] [--weeks 1,4] [--repeat 3]
       [--workdir DIR] [--peer-only]
Prints Markdown tables for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import cpu_model, ensure_modules, timed, work_dir  # noqa: E402


PEAKS = [1, 3, 10, 30, 100, 300, 1000, 2000, 3500, 5000]
QUEUES = [f"q{i + 1:02d}" for i in range(len(PEAKS))]
AHTS = [round(180 + 13.3 * i) for i in range(len(PEAKS))]
START = dt.datetime(2026, 3, 2, tzinfo=dt.timezone(dt.timedelta(hours=1)))  # a Monday
INTERVAL_S = 900
SL_TARGET = 0.8
THRESHOLD_S = 20
MAX_OCC = 0.85
SHRINKAGE = 0.3


def shape(minute_of_day: int) -> float:
    h = minute_of_day / 60
    if h < 6 or h >= 22:
        return 0.0
    return math.sin(math.pi * (h - 6) / 16) ** 2


def fmt_ts(t: dt.datetime) -> str:
    return t.isoformat(timespec="seconds")


def workload(weeks: int) -> list[dict]:
    """Rows in file order: queue, then time."""
    rows = []
    n = weeks * 7 * 96
    for q, peak, aht in zip(QUEUES, PEAKS, AHTS):
        for k in range(n):
            start = START + dt.timedelta(seconds=k * INTERVAL_S)
            traffic = 1 + (peak - 1) * shape((k % 96) * 15)
            calls = round(traffic * INTERVAL_S / aht, 3)
            rows.append({"queue": q, "interval_start": fmt_ts(start),
                         "interval_end": fmt_ts(start + dt.timedelta(seconds=INTERVAL_S)),
                         "calls": calls, "aht_s": aht})
    return rows


def write_forecast(rows: list[dict], path: Path) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["queue", "interval_start", "interval_end", "calls", "aht_s"])
        for r in rows:
            w.writerow([r["queue"], r["interval_start"], r["interval_end"], f"{r['calls']:.3f}", r["aht_s"]])


def run_pyworkforce(rows: list[dict]) -> tuple[float, list[tuple[int, int]]]:
    from pyworkforce.queuing import ErlangC

    out = []
    t = time.perf_counter()
    for r in rows:
        e = ErlangC(transactions=r["calls"], aht=r["aht_s"] / 60, asa=THRESHOLD_S / 60, interval=15,
                    shrinkage=SHRINKAGE)
        res = e.required_positions(service_level=SL_TARGET, max_occupancy=MAX_OCC)
        out.append((res["raw_positions"], res["positions"]))
    return time.perf_counter() - t, out


def instant(s: str) -> int:
    t = dt.datetime.fromisoformat(s)
    if t.tzinfo is None:
        raise SystemExit(f"timestamp without offset in wfm output: {s!r}")
    return int(t.timestamp())


def read_wfm(path: Path) -> dict[tuple[str, int], tuple[float, float]]:
    out = {}
    with open(path, newline="") as f:
        rd = csv.DictReader(f)
        missing = {"queue", "interval_start", "agents", "agents_with_shrinkage"} - set(rd.fieldnames or [])
        if missing:
            raise SystemExit(f"{path}: missing columns {sorted(missing)} (has {rd.fieldnames})")
        for r in rd:
            out[(r["queue"], instant(r["interval_start"]))] = (float(r["agents"]), float(r["agents_with_shrinkage"]))
    return out


def guess_cause(e, py_raw: int, py_pos: int, w_raw: float, w_pos: float) -> str:
    """A best guess at why the counts differ, from pyworkforce's own functions."""
    a = e.intensity
    exact_pos = math.ceil(Fraction(py_raw) / (1 - Fraction(str(SHRINKAGE))))
    if py_raw == w_raw and py_pos != w_pos:
        if py_pos != exact_pos and w_pos == exact_pos:
            return f"pyworkforce float ceil(raw/(1-s)): {py_raw}/(1-{SHRINKAGE})={py_raw / (1 - SHRINKAGE)!r}"
        return f"shrinkage rounding (exact ceil = {exact_pos})"
    if py_raw != w_raw:
        occ_bound = a / MAX_OCC
        if abs(occ_bound - round(occ_bound)) < 1e-6:
            return f"occupancy bound A/{MAX_OCC}={occ_bound!r} ~ integer"
        start = round(a + 1)
        if py_raw == start and py_raw - 1 > a and e.service_level(py_raw - 1) >= SL_TARGET:
            return "pyworkforce search starts at round(A+1), above the minimum"
        for n in (py_raw, int(w_raw)):
            if n > 0:
                sl = e.service_level(n)
                if abs(sl - SL_TARGET) < 1e-9:
                    return f"SL at {n} = {sl!r}, on the target within 1e-9"
        if math.ceil(occ_bound) in (py_raw, w_raw):
            return "occupancy bound binds on one side"
        return "?"
    return "?"


def compare(rows, py, wfm_rows, show: int):
    """Mismatch counts, the first `show` distinct mismatches (every day repeats the same traffic, so
    a row equal to an earlier one up to its date is not shown again) and a count per likely cause."""
    from pyworkforce.queuing import ErlangC

    raw_mm = pos_mm = 0
    shown, seen, causes = [], set(), {}
    for r, (p_raw, p_pos) in zip(rows, py):
        key = (r["queue"], instant(r["interval_start"]))
        got = wfm_rows.get(key)
        if got is None:
            raw_mm += 1
            pos_mm += 1
            causes["row missing in wfm output"] = causes.get("row missing in wfm output", 0) + 1
            if len(shown) < show:
                shown.append([r["queue"], r["interval_start"], "-", f"{r['calls']:.3f}", str(r["aht_s"]),
                              str(p_raw), "missing", str(p_pos), "missing", "-", "-", "row missing in wfm output"])
            continue
        w_raw, w_pos = got
        bad_raw, bad_pos = w_raw != p_raw, w_pos != p_pos
        if not (bad_raw or bad_pos):
            continue
        raw_mm += bad_raw
        pos_mm += bad_pos
        e = ErlangC(transactions=r["calls"], aht=r["aht_s"] / 60, asa=THRESHOLD_S / 60, interval=15,
                    shrinkage=SHRINKAGE)
        cause = guess_cause(e, p_raw, p_pos, w_raw, w_pos)
        kind = cause.split(":")[0]
        causes[kind] = causes.get(kind, 0) + 1
        sig = (r["queue"], r["calls"], r["aht_s"], p_raw, p_pos, w_raw, w_pos)
        if sig in seen or len(shown) >= show:
            continue
        seen.add(sig)

        def sl(n):
            return f"{e.service_level(int(n)):.6f}" if n == int(n) and n > e.intensity else "-"

        shown.append([r["queue"], r["interval_start"], f"{e.intensity:.4f}", f"{r['calls']:.3f}",
                      str(r["aht_s"]), str(p_raw), f"{w_raw:g}", str(p_pos), f"{w_pos:g}",
                      sl(p_raw), sl(w_raw), cause])
    if len(wfm_rows) != len(rows):
        print(f"# note: wfm wrote {len(wfm_rows)} rows for {len(rows)} input rows", file=sys.stderr)
    return raw_mm, pos_mm, shown, causes


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--wfm", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "release/wfm"))
    ap.add_argument("--weeks", default="1,4", help="comma-separated sizes in weeks")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workdir", help="where forecast.csv and requirements.csv go (default: a temp dir, removed)")
    ap.add_argument("--peer-only", action="store_true", help="run only pyworkforce (no wfm binary needed)")
    ap.add_argument("--show", type=int, default=10, help="mismatches printed per size")
    args = ap.parse_args()
    ensure_modules(["pyworkforce.queuing"])
    from importlib.metadata import version

    if not args.peer_only and not os.access(args.wfm, os.X_OK):
        raise SystemExit(f"{args.wfm}: no wfm binary (build it, or pass --peer-only)")
    work, tmp = work_dir(args.workdir, "bench-erlang-")
    results = []
    mismatch_tables = []
    try:
        for weeks in [int(w) for w in args.weeks.split(",")]:
            rows = workload(weeks)
            d = work / f"weeks-{weeks}"
            d.mkdir(exist_ok=True)
            fc = d / "forecast.csv"
            write_forecast(rows, fc)
            py_times, py = [], None
            for _ in range(max(1, args.repeat)):
                s, py = run_pyworkforce(rows)
                py_times.append(s)
            py_s = statistics.median(py_times)
            with open(d / "pyworkforce.csv", "w", newline="") as f:
                w = csv.writer(f)
                w.writerow(["queue", "interval_start", "raw_positions", "positions"])
                w.writerows([r["queue"], r["interval_start"], a, b] for r, (a, b) in zip(rows, py))
            print(f"# {weeks} week(s), {len(rows)} rows: pyworkforce runs {[round(t, 3) for t in py_times]}",
                  file=sys.stderr)
            res = {"weeks": weeks, "rows": len(rows), "py_s": py_s, "py_runs": py_times}
            if not args.peer_only:
                out = d / "requirements.csv"
                cmd = [args.wfm, "staff", "--forecast", str(fc), "--sl-target", str(SL_TARGET),
                       "--threshold-s", str(THRESHOLD_S), "--max-occupancy", str(MAX_OCC),
                       "--shrinkage", str(SHRINKAGE), "--out", str(out)]
                timed(cmd)  # warm-up (page cache, binary)
                runs = [timed(cmd) for _ in range(max(1, args.repeat))]
                res["wfm_s"] = statistics.median(r[0] for r in runs)
                res["wfm_mb"] = max(r[1] for r in runs)
                raw_mm, pos_mm, shown, causes = compare(rows, py, read_wfm(out), args.show)
                res["raw_mm"], res["pos_mm"] = raw_mm, pos_mm
                mismatch_tables.append((weeks, raw_mm, pos_mm, shown, causes))
                print(f"# wfm runs {[round(r[0], 3) for r in runs]}; mismatches raw {raw_mm}, shrinkage {pos_mm}",
                      file=sys.stderr)
            results.append(res)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)

    print(f"python {platform.python_version()}, pyworkforce {version('pyworkforce')}, CPU {cpu_model()}, "
          f"median of {args.repeat} run(s)\n")
    if args.peer_only:
        print("| weeks | intervals (rows) | pyworkforce s | pyworkforce rows/s |")
        print("|---|---|---|---|")
        for r in results:
            print(f"| {r['weeks']} | {r['rows']:,} | {r['py_s']:.3f} | {r['rows'] / r['py_s']:,.0f} |")
        return 0
    print("| weeks | intervals (rows) | pyworkforce s | wfm staff s | wfm peak MB | pyworkforce / wfm | "
          "mismatches (agents) | mismatches (with shrinkage) |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['weeks']} | {r['rows']:,} | {r['py_s']:.3f} | {r['wfm_s']:.3f} | {r['wfm_mb']:.0f} | "
              f"{r['py_s'] / r['wfm_s']:.1f} | {r['raw_mm']} | {r['pos_mm']} |")
    for weeks, raw_mm, pos_mm, shown, causes in mismatch_tables:
        if not shown:
            continue
        print(f"\nMismatching rows at {weeks} week(s) by likely cause: "
              + "; ".join(f"{k}: {v}" for k, v in sorted(causes.items(), key=lambda kv: -kv[1])))
        print(f"\nFirst {len(shown)} distinct mismatches at {weeks} week(s) ({raw_mm} agents, {pos_mm} with "
              "shrinkage); SL = pyworkforce service_level(n) at each side's raw count:\n")
        print("| queue | interval_start | traffic E | calls | aht_s | pyw raw | wfm agents | pyw positions | "
              "wfm with shrinkage | SL(pyw raw) | SL(wfm agents) | likely cause |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for line in shown:
            print("| " + " | ".join(line) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
