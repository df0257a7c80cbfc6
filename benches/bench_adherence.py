#!/usr/bin/env python3
"""Benchmark of `wfm adherence` over a month of agent states, against DuckDB on the same files.

For each size (agents, 28 days, one tenant in Europe/Warsaw) it writes, once, under --work:
a queue_log of every agent's day (login possibly late, three pauses taken around their planned
times, logout possibly early, some absences) imported with `wfm import --format queue-log`, and
the roster those days were planned from (8-hour shifts, 5 days a week, break / meal / break).
Then it times:
  * `wfm adherence` (every agent and date of the month, CSV) as a whole process: wall seconds and
    peak RSS, median of --repeat runs;
  * DuckDB joining the same Parquet states with the same roster CSV and summing, per agent and
    date, the seconds in and out of adherence inside each activity (no runs, no threshold, no
    time outside the shift, no attendance: less than wfm computes), query time only;
and checks both agree on the month's total seconds in work states.

Usage: python benches/bench_adherence.py --wfm target/release/wfm [--sizes 1000,3000,10000]
       [--repeat 3] [--work benches/data]
Prints a Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import subprocess
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from bench_common import ensure_modules, timed

START = date(2026, 2, 2)
DAYS = 28
ZONE = timezone(timedelta(hours=1))  # Europe/Warsaw in February: no DST change in the month.
WORK_STATES = ("ready", "ringing", "on_call", "wrap_up")


def write_inputs(out: Path, agents: int) -> None:
    rng = random.Random(agents)
    out.mkdir(parents=True, exist_ok=True)
    log, roster = [], []
    for a in range(agents):
        agent = f"{10000 + a}"
        start_slot = rng.randrange(13)  # 07:00 … 13:00 in half hours
        for d in range(DAYS):
            if (a + d) % 7 in (5, 6):
                continue
            day = START + timedelta(days=d)
            begin = datetime(day.year, day.month, day.day, 7, 0, tzinfo=ZONE) + timedelta(minutes=30 * start_slot)
            end = begin + timedelta(hours=8)
            plan = [("work", 0, 120), ("break", 120, 135), ("work", 135, 240), ("meal", 240, 270),
                    ("work", 270, 360), ("break", 360, 375), ("work", 375, 480)]
            for kind, s, e in plan:
                roster.append((agent, day.isoformat(), kind, (begin + timedelta(minutes=s)).isoformat(),
                               (begin + timedelta(minutes=e)).isoformat()))
            if rng.random() < 0.02:
                continue  # absent
            t0 = int(begin.timestamp())
            login = t0 + (rng.randrange(60, 1800) if rng.random() < 0.08 else rng.randrange(-120, 60))
            logout = int(end.timestamp()) - (rng.randrange(1200, 3600) if rng.random() < 0.03 else rng.randrange(-300, 60))
            line = lambda t, event, data="": log.append((t, f"{t}|NONE|support|SIP/{agent}|{event}|{data}"))
            line(login, "ADDMEMBER")
            for at_min, length_min, reason in ((120, 15, "break"), (240, 30, "lunch"), (360, 15, "break")):
                at = t0 + at_min * 60 + rng.randrange(-600, 600)
                line(at, "PAUSE", reason)
                line(at + length_min * 60 + rng.randrange(-60, 300), "UNPAUSE")
            line(logout, "REMOVEMEMBER")
    log.sort(key=lambda x: x[0])
    (out / "queue_log").write_text("\n".join(text for _, text in log) + "\n")
    with open(out / "roster.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["agent_id", "date", "activity", "start", "end"])
        w.writerows(roster)


DUCKDB_QUERY = """
WITH s AS (
  SELECT agent_id, state, reason, epoch_ms(started_at) AS st, epoch_ms(ended_at) AS en
  FROM read_parquet('{store}/agent_states/tenant=bench/*/*.parquet')),
r AS (
  SELECT agent_id::VARCHAR AS agent_id, "date", activity,
         epoch_ms("start"::TIMESTAMPTZ) AS rs, epoch_ms("end"::TIMESTAMPTZ) AS re
  FROM read_csv('{roster}', header = true, all_varchar = true)),
j AS (
  SELECT r.agent_id, r."date", least(s.en, r.re) - greatest(s.st, r.rs) AS ms,
         CASE r.activity
           WHEN 'work' THEN s.state IN ('ready', 'ringing', 'on_call', 'wrap_up')
           WHEN 'break' THEN s.state = 'not_ready' AND s.reason = 'break'
           WHEN 'meal' THEN (s.state = 'not_ready' AND s.reason IN ('lunch', 'meal')) OR s.state = 'logged_out'
           ELSE false END AS ok
  FROM r JOIN s ON s.agent_id = r.agent_id AND s.st < r.re AND s.en > r.rs)
SELECT agent_id, "date", sum(ms) FILTER (WHERE ok) AS in_ms, sum(ms) FILTER (WHERE NOT ok) AS out_ms
FROM j GROUP BY ALL
"""


def main() -> None:
    ensure_modules(["duckdb"])
    import duckdb

    ap = argparse.ArgumentParser()
    ap.add_argument("--wfm", required=True)
    ap.add_argument("--sizes", default="1000,3000,10000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--work", default=str(Path(__file__).resolve().parent / "data"))
    a = ap.parse_args()
    to = (START + timedelta(days=DAYS)).isoformat()
    print("| agents | state periods | wfm adherence s | peak MB | DuckDB join s | wfm / DuckDB |")
    print("|---:|---:|---:|---:|---:|---:|")
    for size in [int(s) for s in a.sizes.split(",")]:
        out = Path(a.work) / f"adherence-{size}"
        store = out / "store"
        if not (store / "wfm-store.toml").exists():
            write_inputs(out, size)
            subprocess.run([a.wfm, "import", "--store", str(store), "--tenant", "bench", "--tz", "Europe/Warsaw",
                            "--format", "queue-log", str(out / "queue_log")], check=True, capture_output=True)
        report = out / "adherence.csv"
        cmd = [a.wfm, "adherence", "--store", str(store), "--tenant", "bench", "--roster", str(out / "roster.csv"),
               "--from", START.isoformat(), "--to", to, "--out", str(report)]
        runs = [timed(cmd) for _ in range(a.repeat)]
        wall = statistics.median(r[0] for r in runs)
        rss = max(r[1] for r in runs)
        with open(report) as f:
            rows = list(csv.DictReader(f))
        wfm_work_s = sum(int(r["work_state_s"]) for r in rows)

        con = duckdb.connect()
        periods, work_ms = con.execute(
            f"SELECT count(*), sum(epoch_ms(ended_at) - epoch_ms(started_at)) FILTER (WHERE state IN {WORK_STATES}) "
            f"FROM read_parquet('{store}/agent_states/tenant=bench/*/*.parquet')").fetchone()
        times = []
        for _ in range(a.repeat):
            t = time.perf_counter()
            con.execute(DUCKDB_QUERY.format(store=store, roster=out / "roster.csv")).fetchall()
            times.append(time.perf_counter() - t)
        duck = statistics.median(times)
        # Every logged-in second is inside some date's window: the totals must agree to the second
        # (wfm rounds each agent-date down to whole seconds).
        assert abs(wfm_work_s - work_ms / 1000) <= len(rows), (wfm_work_s, work_ms / 1000)
        print(f"| {size} | {periods} | {wall:.2f} | {rss:.0f} | {duck:.2f} | {wall / duck:.2f} |")


if __name__ == "__main__":
    main()
