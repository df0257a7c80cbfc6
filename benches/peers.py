#!/usr/bin/env python3
"""Peer benchmark for `wfm stats`: the same 15-minute queue statistics computed by DuckDB and Polars.

Reads the hive-style store described in docs/events.md
(`<store>/calls/tenant=<T>/date=<YYYY-MM-DD>/part-*.parquet`), computes per (queue, local
quarter-hour) counts and averages with each engine, times them, and optionally cross-checks the
result against the JSON printed by `wfm stats --format json`.

Semantics (the same as the Rust side):
  * read only partitions of tenant T whose date is in [from - 1 day, to] (inclusive);
  * keep rows with queue not null and queued_at in [from 00:00 local, to 00:00 local), where a
    local midnight that does not exist (DST jump at midnight) is replaced by the first local minute
    that does, and an ambiguous one by its earliest instant;
  * interval = local wall-clock time of queued_at (in ZONE) truncated to 15 minutes; the two
    02:00-02:15 of a fall-back night are different intervals (they differ in UTC offset);
  * offered = count, answered = count(answered_at not null), abandoned = count(abandoned),
    short_abandoned = count(abandoned and wait_ms <= short*1000),
    overflowed = offered - answered - abandoned,
    answered_within_threshold = count(answered and wait_ms <= threshold*1000),
    abandoned_within_threshold = count(abandoned and wait_ms <= threshold*1000),
    asa_s = mean(wait_ms of answered)/1000, avg_talk_s = mean(talk_ms of answered)/1000,
    aht_s = mean(talk_ms+hold_ms+wrap_ms of answered)/1000, max_wait_s = max(wait_ms)/1000,
    avg_abandon_wait_s = mean(wait_ms of abandoned)/1000 (null when there is nothing to average).
  Only non-empty (queue, interval) groups are produced (the Rust side also emits empty ones).

How the local time is computed: both engines convert queued_at to ZONE with their own time-zone
database (DuckDB: the ICU extension, statically linked into the PyPI wheel, so nothing is
downloaded at run time; Polars: chrono-tz compiled in), take the local wall-clock milliseconds,
truncate them to 900 000 ms and subtract the UTC offset again to get the interval start as a UTC
instant. All of that is integer arithmetic inside the engine. The [from, to) bounds are computed
once in Python with zoneinfo (system tzdata) and passed to both engines as UTC instants.

Each engine runs in a subprocess of this script, so the peak RSS printed is that engine's alone
(it includes the Python interpreter and the engine's import; `base_rss_mb` is the RSS right after
the import, before any query).

Usage:
  python benches/peers.py --store DIR --tenant T --tz ZONE --from YYYY-MM-DD --to YYYY-MM-DD \
      [--threshold-s 20] [--short-abandon-s 5] [--engine duckdb|polars|both] [--repeat N] \
      [--threads N] [--show N] [--json-out FILE] [--check-against FILE]
Exit status: 0 ok, 1 the engines disagree or --check-against found a mismatch, 2 usage/error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

QUARTER_MS = 15 * 60 * 1000

COUNT_FIELDS = [
    "offered",
    "answered",
    "abandoned",
    "short_abandoned",
    "overflowed",
    "answered_within_threshold",
    "abandoned_within_threshold",
]
FLOAT_FIELDS = ["asa_s", "avg_talk_s", "aht_s", "max_wait_s", "avg_abandon_wait_s"]
ENGINES = ("duckdb", "polars")


# --------------------------------------------------------------------------------------------
# Shared helpers (no engine imported)
# --------------------------------------------------------------------------------------------

def parse_date(s: str) -> dt.date:
    try:
        return dt.date.fromisoformat(s)
    except ValueError:
        raise SystemExit(f"invalid date {s!r} (expected YYYY-MM-DD)")


def day_start_utc(date: dt.date, zone_name: str) -> dt.datetime:
    """First instant of a local date, as the Rust `TenantZone::day_start`: earliest for an
    ambiguous local midnight, the first existing local minute when midnight does not exist."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(zone_name)
    local = dt.datetime.combine(date, dt.time(0, 0))
    for _ in range(24 * 60):
        cand = local.replace(tzinfo=zone, fold=0)  # fold=0: the earlier of two ambiguous instants
        # A non-existent local time does not survive the round trip through UTC.
        back = cand.astimezone(dt.timezone.utc).astimezone(zone).replace(tzinfo=None)
        if back == local:
            return cand.astimezone(dt.timezone.utc)
        local += dt.timedelta(minutes=1)
    raise SystemExit(f"no valid local minute on {date} in {zone_name}")


def list_files(store: Path, tenant: str, d_from: dt.date, d_to: dt.date) -> list[str]:
    """Files of the partitions tenant=T, date in [from - 1 day, to], below calls/ only."""
    base = store / "calls" / f"tenant={tenant}"
    files: list[str] = []
    d = d_from - dt.timedelta(days=1)
    while d <= d_to:
        part = base / f"date={d.isoformat()}"
        if part.is_dir():
            files.extend(str(p) for p in sorted(part.glob("part-*.parquet")) if p.is_file())
        d += dt.timedelta(days=1)
    return files


def format_local(start_ms: int, offset_ms: int) -> str:
    """RFC 3339 with the local offset, like the Rust `format_local` (`+00:00`, never `Z`)."""
    local = dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=start_ms + offset_ms)
    sign = "+" if offset_ms >= 0 else "-"
    off_s = abs(offset_ms) // 1000
    hh, rem = divmod(off_s, 3600)
    mm, ss = divmod(rem, 60)
    off = f"{sign}{hh:02d}:{mm:02d}" + (f":{ss:02d}" if ss else "")
    return local.strftime("%Y-%m-%dT%H:%M:%S") + off


def canonical(raw_rows) -> list[dict]:
    """Engine tuples (queue, start_ms, offset_ms, counts..., floats...) -> list of dicts."""
    out = []
    for r in raw_rows:
        queue, start_ms, offset_ms = r[0], int(r[1]), int(r[2])
        row = {"queue": queue, "interval_start": format_local(start_ms, offset_ms), "_start_ms": start_ms}
        vals = r[3:]
        for name, v in zip(COUNT_FIELDS, vals[: len(COUNT_FIELDS)]):
            row[name] = int(v)
        for name, v in zip(FLOAT_FIELDS, vals[len(COUNT_FIELDS):]):
            row[name] = None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
        out.append(row)
    return out


def floats_equal(a, b, rel=1e-9, abs_=1e-9) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=abs_)


# --------------------------------------------------------------------------------------------
# Engines (run in a worker subprocess)
# --------------------------------------------------------------------------------------------

DUCKDB_SQL = """
WITH c AS (
    SELECT
        queue,
        epoch_ms(queued_at) AS q_ms,
        epoch_ms(timezone($tz, queued_at)) - epoch_ms(queued_at) AS off_ms,
        answered_at IS NOT NULL AS ans,
        abandoned AS abn,
        wait_ms, talk_ms, hold_ms, wrap_ms
    FROM read_parquet($files, hive_partitioning = false)
    WHERE queue IS NOT NULL AND queued_at >= $lo AND queued_at < $hi
), k AS (
    SELECT *, (q_ms + off_ms) - ((q_ms + off_ms) % {quarter}) - off_ms AS start_ms FROM c
)
SELECT
    queue,
    start_ms,
    min(off_ms) AS off_ms,
    count(*) AS offered,
    count(*) FILTER (WHERE ans) AS answered,
    count(*) FILTER (WHERE abn) AS abandoned,
    count(*) FILTER (WHERE abn AND wait_ms <= $short_ms) AS short_abandoned,
    count(*) - count(*) FILTER (WHERE ans) - count(*) FILTER (WHERE abn) AS overflowed,
    count(*) FILTER (WHERE ans AND wait_ms <= $thr_ms) AS answered_within_threshold,
    count(*) FILTER (WHERE abn AND wait_ms <= $thr_ms) AS abandoned_within_threshold,
    avg(wait_ms) FILTER (WHERE ans) / 1000.0 AS asa_s,
    avg(talk_ms) FILTER (WHERE ans) / 1000.0 AS avg_talk_s,
    avg(talk_ms + hold_ms + wrap_ms) FILTER (WHERE ans) / 1000.0 AS aht_s,
    max(wait_ms) / 1000.0 AS max_wait_s,
    avg(wait_ms) FILTER (WHERE abn) / 1000.0 AS avg_abandon_wait_s
FROM k
GROUP BY queue, start_ms
ORDER BY queue, start_ms
""".replace("{quarter}", str(QUARTER_MS))


def run_duckdb(cfg: dict, threads: int | None):
    import duckdb

    files = list_files(Path(cfg["store"]), cfg["tenant"], cfg["from"], cfg["to"])
    if not files:
        return []
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")  # only affects display; all conversions name the zone
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    rows = con.execute(
        DUCKDB_SQL,
        {
            "tz": cfg["tz"],
            "files": files,
            "lo": cfg["lo"],
            "hi": cfg["hi"],
            "short_ms": cfg["short_ms"],
            "thr_ms": cfg["thr_ms"],
        },
    ).fetchall()
    con.close()
    return rows


def run_polars(cfg: dict, threads: int | None):
    import polars as pl

    files = list_files(Path(cfg["store"]), cfg["tenant"], cfg["from"], cfg["to"])
    if not files:
        return []
    qa = pl.col("queued_at")
    q_ms = qa.dt.epoch("ms")
    local_ms = qa.dt.convert_time_zone(cfg["tz"]).dt.replace_time_zone(None).dt.epoch("ms")
    ans = pl.col("answered_at").is_not_null()
    abn = pl.col("abandoned")
    wait = pl.col("wait_ms")
    df = (
        pl.scan_parquet(files, hive_partitioning=False)
        .select("queue", "queued_at", "answered_at", "abandoned", "wait_ms", "talk_ms", "hold_ms", "wrap_ms")
        .filter(pl.col("queue").is_not_null() & (qa >= cfg["lo"]) & (qa < cfg["hi"]))
        .with_columns(off_ms=local_ms - q_ms, q_ms=q_ms)
        .with_columns(
            start_ms=(pl.col("q_ms") + pl.col("off_ms"))
            - ((pl.col("q_ms") + pl.col("off_ms")) % QUARTER_MS)
            - pl.col("off_ms"),
            ans=ans,
        )
        .group_by("queue", "start_ms")
        .agg(
            pl.col("off_ms").min().alias("off_ms"),
            pl.len().alias("offered"),
            pl.col("ans").sum().alias("answered"),
            abn.sum().alias("abandoned"),
            (abn & (wait <= cfg["short_ms"])).sum().alias("short_abandoned"),
            (pl.len() - pl.col("ans").sum() - abn.sum()).alias("overflowed"),
            (pl.col("ans") & (wait <= cfg["thr_ms"])).sum().alias("answered_within_threshold"),
            (abn & (wait <= cfg["thr_ms"])).sum().alias("abandoned_within_threshold"),
            (wait.filter(pl.col("ans")).mean() / 1000.0).alias("asa_s"),
            (pl.col("talk_ms").filter(pl.col("ans")).mean() / 1000.0).alias("avg_talk_s"),
            ((pl.col("talk_ms") + pl.col("hold_ms") + pl.col("wrap_ms")).filter(pl.col("ans")).mean() / 1000.0).alias("aht_s"),
            (wait.max() / 1000.0).alias("max_wait_s"),
            (wait.filter(abn).mean() / 1000.0).alias("avg_abandon_wait_s"),
        )
        .sort("queue", "start_ms")
        .collect()
    )
    return df.select(
        "queue", "start_ms", "off_ms", *COUNT_FIELDS, *FLOAT_FIELDS
    ).rows()


def engine_version(engine: str) -> str:
    if engine == "duckdb":
        import duckdb

        return duckdb.__version__
    import polars

    return polars.__version__


def worker(args, cfg: dict) -> int:
    import resource

    engine = args.worker
    t0 = time.perf_counter()
    version = engine_version(engine)  # the import
    import_s = time.perf_counter() - t0
    base_rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    fn = run_duckdb if engine == "duckdb" else run_polars
    times, raw = [], []
    for _ in range(max(1, args.repeat)):
        t = time.perf_counter()
        raw = fn(cfg, args.threads)
        times.append(time.perf_counter() - t)
    peak_rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rows = canonical(raw)
    with open(args.worker_result, "w") as f:
        json.dump(
            {
                "engine": engine,
                "version": version,
                "import_s": import_s,
                "runs": times,
                "base_rss_mb": base_rss_kb / 1024,
                "peak_rss_mb": peak_rss_kb / 1024,
                "rows": rows,
            },
            f,
        )
    return 0


# --------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------

def run_engine_subprocess(engine: str, argv: list[str], threads: int | None) -> dict:
    fd, path = tempfile.mkstemp(prefix=f"peers-{engine}-", suffix=".json")
    os.close(fd)
    env = dict(os.environ)
    if threads:
        env["POLARS_MAX_THREADS"] = str(threads)
    try:
        cmd = [sys.executable, os.path.abspath(__file__), *argv, "--worker", engine, "--worker-result", path]
        proc = subprocess.run(cmd, env=env)
        if proc.returncode != 0:
            raise SystemExit(f"{engine} worker failed with exit status {proc.returncode}")
        with open(path) as f:
            return json.load(f)
    finally:
        os.unlink(path)


def print_table(rows: list[dict], limit: int) -> None:
    cols = ["queue", "interval_start", *COUNT_FIELDS, *FLOAT_FIELDS]
    short = {
        "short_abandoned": "short_ab",
        "answered_within_threshold": "ans_in_sl",
        "abandoned_within_threshold": "ab_in_sl",
        "avg_abandon_wait_s": "avg_ab_wait_s",
    }
    shown = rows if limit < 0 else rows[:limit]

    def fmt(v):
        if v is None:
            return "-"
        if isinstance(v, float):
            return f"{v:.3f}"
        return str(v)

    table = [[short.get(c, c) for c in cols]] + [[fmt(r[c]) for c in cols] for r in shown]
    widths = [max(len(line[i]) for line in table) for i in range(len(cols))]
    for line in table:
        print("  " + "  ".join(cell.rjust(w) if i > 1 else cell.ljust(w) for i, (cell, w) in enumerate(zip(line, widths))))
    if len(shown) < len(rows):
        print(f"  ... {len(rows) - len(shown)} more rows (--show -1 prints all)")


def compare_engines(a: dict, b: dict) -> list[str]:
    problems = []
    ka = {(r["queue"], r["_start_ms"]): r for r in a["rows"]}
    kb = {(r["queue"], r["_start_ms"]): r for r in b["rows"]}
    for k in sorted(set(ka) - set(kb)):
        problems.append(f"only in {a['engine']}: {ka[k]['queue']} {ka[k]['interval_start']}")
    for k in sorted(set(kb) - set(ka)):
        problems.append(f"only in {b['engine']}: {kb[k]['queue']} {kb[k]['interval_start']}")
    for k in sorted(set(ka) & set(kb)):
        ra, rb = ka[k], kb[k]
        if ra["interval_start"] != rb["interval_start"]:
            problems.append(f"{k[0]}: interval_start {ra['interval_start']} vs {rb['interval_start']}")
        for f in COUNT_FIELDS:
            if ra[f] != rb[f]:
                problems.append(f"{ra['queue']} {ra['interval_start']}: {f} {a['engine']}={ra[f]} {b['engine']}={rb[f]}")
        for f in FLOAT_FIELDS:
            if not floats_equal(ra[f], rb[f]):
                problems.append(f"{ra['queue']} {ra['interval_start']}: {f} {a['engine']}={ra[f]} {b['engine']}={rb[f]}")
    return problems


def instant_key(s: str) -> tuple[int, str]:
    """(UTC epoch ms, offset string) of an RFC 3339 timestamp."""
    t = dt.datetime.fromisoformat(s)
    if t.tzinfo is None:
        raise ValueError(f"interval_start {s!r} has no UTC offset")
    off = t.utcoffset()
    ms = int(round(t.timestamp() * 1000))
    return ms, str(off)


def check_against(peer: dict, path: str, tenant: str) -> list[str]:
    with open(path) as f:
        theirs = json.load(f)
    if not isinstance(theirs, list):
        raise SystemExit(f"{path}: expected a JSON array of interval rows")
    problems = []
    ours = {(r["queue"], r["_start_ms"]): r for r in peer["rows"]}
    seen = set()
    empty = 0
    for i, r in enumerate(theirs):
        if "tenant" in r and r["tenant"] != tenant:
            continue
        try:
            start_ms, off = instant_key(r["interval_start"])
            counts = {f: int(r[f]) for f in COUNT_FIELDS}
        except (KeyError, ValueError, TypeError) as e:
            problems.append(f"{path}[{i}]: unreadable row ({e}): {r}")
            continue
        if counts["offered"] == 0:
            empty += 1
            if any(counts.values()):
                problems.append(f"{r['queue']} {r['interval_start']}: wfm says offered=0 but {counts}")
            continue
        k = (r["queue"], start_ms)
        if k in seen:
            problems.append(f"{r['queue']} {r['interval_start']}: row appears twice in {path}")
        seen.add(k)
        mine = ours.get(k)
        if mine is None:
            problems.append(f"{r['queue']} {r['interval_start']}: only in wfm ({counts})")
            continue
        if instant_key(mine["interval_start"])[1] != off:
            problems.append(
                f"{r['queue']} {r['interval_start']}: offset differs, {peer['engine']} prints {mine['interval_start']}"
            )
        for f in COUNT_FIELDS:
            if mine[f] != counts[f]:
                problems.append(
                    f"{r['queue']} {r['interval_start']}: {f} wfm={counts[f]} {peer['engine']}={mine[f]}"
                )
    for k in sorted(set(ours) - seen):
        r = ours[k]
        problems.append(
            f"{r['queue']} {r['interval_start']}: only in {peer['engine']} "
            f"(offered={r['offered']}, missing or empty in wfm)"
        )
    print(
        f"check-against {path}: {len(seen)} non-empty wfm rows, {empty} empty skipped, "
        f"{len(ours)} {peer['engine']} rows"
    )
    return problems


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--store", required=True)
    p.add_argument("--tenant", required=True)
    p.add_argument("--tz", required=True, help="IANA zone of the tenant, e.g. Europe/Warsaw")
    p.add_argument("--from", dest="date_from", required=True, help="first local date (inclusive)")
    p.add_argument("--to", dest="date_to", required=True, help="end local date (exclusive)")
    p.add_argument("--threshold-s", type=float, default=20.0)
    p.add_argument("--short-abandon-s", type=float, default=5.0)
    p.add_argument("--engine", choices=["duckdb", "polars", "both"], default="both")
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--threads", type=int, default=None, help="cap engine threads (default: engine default)")
    p.add_argument("--show", type=int, default=10, help="rows of each result table to print (-1: all, 0: none)")
    p.add_argument("--json-out", help="write the duckdb result rows (polars when only it runs) as JSON")
    p.add_argument("--check-against", help="JSON array printed by `wfm stats --format json` to compare counts with")
    p.add_argument("--worker", choices=ENGINES, help=argparse.SUPPRESS)
    p.add_argument("--worker-result", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    d_from, d_to = parse_date(args.date_from), parse_date(args.date_to)
    if d_to <= d_from:
        raise SystemExit(f"empty date range: --to {d_to} must be after --from {d_from}")
    try:
        lo, hi = day_start_utc(d_from, args.tz), day_start_utc(d_to, args.tz)
    except Exception as e:  # zoneinfo.ZoneInfoNotFoundError and friends
        raise SystemExit(f"unknown time zone {args.tz!r}: {e}")
    cfg = {
        "store": args.store,
        "tenant": args.tenant,
        "tz": args.tz,
        "from": d_from,
        "to": d_to,
        "lo": lo,
        "hi": hi,
        "thr_ms": int(round(args.threshold_s * 1000)),
        "short_ms": int(round(args.short_abandon_s * 1000)),
    }

    if args.worker:
        return worker(args, cfg)

    if not (Path(args.store) / "calls").is_dir():
        raise SystemExit(f"{args.store}: no calls/ directory (not a wfm store?)")
    n_files = len(list_files(Path(args.store), args.tenant, d_from, d_to))
    print(
        f"store={args.store} tenant={args.tenant} tz={args.tz} range=[{d_from}, {d_to}) "
        f"utc=[{lo.isoformat()}, {hi.isoformat()}) files={n_files} "
        f"threshold_s={args.threshold_s:g} short_abandon_s={args.short_abandon_s:g} repeat={args.repeat}"
    )

    engines = list(ENGINES) if args.engine == "both" else [args.engine]
    # Re-pass the user's arguments to the worker, minus the driver-only ones.
    worker_argv = [
        "--store", args.store, "--tenant", args.tenant, "--tz", args.tz,
        "--from", args.date_from, "--to", args.date_to,
        "--threshold-s", repr(args.threshold_s), "--short-abandon-s", repr(args.short_abandon_s),
        "--repeat", str(args.repeat),
    ]
    if args.threads:
        worker_argv += ["--threads", str(args.threads)]

    results = {}
    for eng in engines:
        res = run_engine_subprocess(eng, worker_argv, args.threads)
        results[eng] = res
        runs = ", ".join(f"{t:.3f}" for t in res["runs"])
        print(
            f"{eng:<7} median_s={statistics.median(res['runs']):.3f} runs=[{runs}] "
            f"peak_rss_mb={res['peak_rss_mb']:.1f} base_rss_mb={res['base_rss_mb']:.1f} "
            f"import_s={res['import_s']:.3f} rows={len(res['rows'])} version={res['version']}"
        )
    if args.show:
        for eng in engines:
            print(f"\n{eng} result (sorted by queue, interval):")
            print_table(results[eng]["rows"], args.show)
        print()

    status = 0
    if len(engines) == 2:
        problems = compare_engines(results["duckdb"], results["polars"])
        if problems:
            print(f"ENGINES DISAGREE: {len(problems)} differences")
            for line in problems[:50]:
                print("  " + line)
            status = 1
        else:
            print(f"engines agree: {len(results['duckdb']['rows'])} rows, counts equal, floats within 1e-9")

    primary = results.get("duckdb") or results[engines[0]]
    if args.json_out:
        out = [
            {k: r[k] for k in ["queue", "interval_start", *COUNT_FIELDS, *FLOAT_FIELDS]}
            for r in primary["rows"]
        ]
        with open(args.json_out, "w") as f:
            json.dump(out, f, indent=1)
            f.write("\n")
        print(f"wrote {len(out)} {primary['engine']} rows to {args.json_out}")

    if args.check_against:
        problems = check_against(primary, args.check_against, args.tenant)
        if problems:
            print(f"MISMATCH against {args.check_against}: {len(problems)} problems")
            for line in problems[:100]:
                print("  " + line)
            if len(problems) > 100:
                print(f"  ... {len(problems) - 100} more")
            status = 1
        else:
            print(f"wfm stats agrees with {primary['engine']} on every non-empty (queue, interval)")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
