#!/usr/bin/env python3
"""Accuracy and speed of `wfm forecast` against simple and statsforecast peers, on one store.

Data: `wfm stats --store DIR --tenant T --from CUTOFF-TRAIN --to CUTOFF+HORIZON --interval 15m
--format csv` (one row per queue and 15-minute interval; `offered` is the volume, `aht_s` the mean
handle time of the answered calls). Everything is keyed by local wall-clock time: the first 19
characters of interval_start (its offset dropped), so day of week and time of day are the local
ones; the two 02:xx quarter-hours of a fall-back night are merged (volumes added, AHT weighted by
answered calls) and the missing ones of a spring-forward night simply do not exist. Days before the
cutoff are history, the --horizon-days days from the cutoff are the actuals the methods are scored
on (the scored intervals are the actuals' intervals plus any extra ones a method forecasts).

Methods, each giving 15-minute volumes per queue for the horizon from history before the cutoff:
  * wfm: `wfm forecast --store DIR --tenant T --from CUTOFF --horizon Nd --out fc.csv`, timed as a
    whole process (it picks its own history from the store); intervals missing from fc.csv are 0;
  * naive: the last full week before the cutoff, repeated (by local weekday and time of day);
  * ets: statsforecast AutoETS(season_length=7) on daily totals of the --train-days before the
    cutoff, spread over the day by the mean intraday profile per weekday of the last 8 weeks
    (ratio of sums: calls at weekday x time / calls of that weekday);
  * mstl: statsforecast MSTL(season_length=[96, 672]) on the 15-minute series of the last
    --mstl-weeks weeks, negatives clipped to 0;
  * ets+mstl: the ets daily totals spread by the mstl forecast's own intraday shape (no extra fit;
    its time is the sum of both).
statsforecast runs with n_jobs=--n-jobs; a tiny untimed warm-up fit comes first so that one-off
compilation is not charged to the first model (its time is printed).

Scores, per queue and over all queues: daily WAPE = sum|F-A| / sum A over queue-days; interval
WAPE, the same over 15-minute intervals; bias = sum F / sum A - 1. AHT WAPE = sum w|F-A| / sum w A
over intervals with answered calls, w = actual answered calls, for wfm's aht_s and for the naive AHT
(answered-weighted mean per queue x weekday x time of day over the last 4 weeks, falling back to the
queue's mean).

Without the binary: --history-csv FILE (a `wfm stats` CSV covering history and horizon) replaces
the stats call, --wfm-forecast FILE (a fc.csv) replaces the forecast call (without it wfm is left
out). --write-synthetic FILE writes such a stats CSV with --synthetic-queues queues (Poisson
volumes, Europe/Warsaw offsets, so DST nights are in it) and exits.

Usage: python benches/bench_forecast.py --store DIR [--wfm target/release/wfm] [--tenant demo]
       --cutoff YYYY-MM-DD [--horizon-days 28] [--train-days 365] [--mstl-weeks 8] [--workdir DIR]
       [--methods wfm,naive,ets,mstl,ets+mstl] [--show-queues 20]
Prints Markdown tables for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import ensure_modules, timed, work_dir  # noqa: E402

ALL_METHODS = ["wfm", "naive", "ets", "mstl", "ets+mstl"]
PROFILE_WEEKS = 8
AHT_WEEKS = 4


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------

def local_key(s):
    """pandas Series of RFC 3339 strings -> naive local wall-clock datetimes."""
    import pandas as pd

    return pd.to_datetime(s.str.slice(0, 19), format="%Y-%m-%dT%H:%M:%S")


def load_stats(path: Path):
    """queue, local, calls, answered, aht_s (one row per queue x local quarter-hour)."""
    import numpy as np
    import pandas as pd

    df = pd.read_csv(path, usecols=["queue", "interval_start", "offered", "answered", "aht_s"],
                     dtype={"queue": str, "interval_start": str})
    df["local"] = local_key(df["interval_start"])
    df["answered"] = df["answered"].fillna(0).astype(float)
    df["aht_s"] = pd.to_numeric(df["aht_s"], errors="coerce")
    df["aht_w"] = np.where(df["answered"] > 0, df["aht_s"].fillna(0) * df["answered"], 0.0)
    g = df.groupby(["queue", "local"], as_index=False).agg(
        calls=("offered", "sum"), answered=("answered", "sum"), aht_w=("aht_w", "sum"))
    g["calls"] = g["calls"].astype(float)
    g["aht_s"] = np.where(g["answered"] > 0, g["aht_w"] / g["answered"].where(g["answered"] > 0, 1), np.nan)
    return g.drop(columns="aht_w")


def load_forecast(path: Path):
    """queue, local, calls, aht_s of a `wfm forecast` CSV (fall-back duplicates merged)."""
    import numpy as np
    import pandas as pd

    df = pd.read_csv(path, dtype={"queue": str, "interval_start": str})
    missing = {"queue", "interval_start", "calls"} - set(df.columns)
    if missing:
        raise SystemExit(f"{path}: missing columns {sorted(missing)} (has {list(df.columns)})")
    if "aht_s" not in df.columns:
        df["aht_s"] = np.nan
    df["local"] = local_key(df["interval_start"])
    df["calls"] = df["calls"].astype(float)
    df["aht_s"] = pd.to_numeric(df["aht_s"], errors="coerce")
    df["aht_w"] = df["aht_s"] * df["calls"].clip(lower=1e-12)
    g = df.groupby(["queue", "local"], as_index=False).agg(
        calls=("calls", "sum"), aht_w=("aht_w", "sum"), w=("calls", lambda c: c.clip(lower=1e-12).sum()))
    g["aht_s"] = g["aht_w"] / g["w"]
    return g[["queue", "local", "calls", "aht_s"]]


def add_calendar(df):
    df["date"] = df["local"].dt.normalize()
    df["wd"] = df["local"].dt.dayofweek
    df["tod"] = df["local"].dt.hour * 4 + df["local"].dt.minute // 15
    return df


# --------------------------------------------------------------------------------------------
# Peers
# --------------------------------------------------------------------------------------------

def on_keys(keys, fc, col="calls"):
    """Forecast values on the scored keys (queue, local); missing -> 0."""
    out = keys[["queue", "local"]].merge(fc[["queue", "local", col]], on=["queue", "local"], how="left")
    out[col] = out[col].fillna(0.0)
    return out


def peer_naive(hist, keys, cutoff):
    last = hist[hist["date"] >= cutoff - dt.timedelta(days=7)]
    m = last.groupby(["queue", "wd", "tod"], as_index=False)["calls"].sum()
    out = keys[["queue", "local", "wd", "tod"]].merge(m, on=["queue", "wd", "tod"], how="left")
    out["calls"] = out["calls"].fillna(0.0)
    return out[["queue", "local", "calls"]]


def naive_aht(hist, keys, cutoff):
    import numpy as np

    last = hist[(hist["date"] >= cutoff - dt.timedelta(days=7 * AHT_WEEKS)) & (hist["answered"] > 0)].copy()
    last["w"] = last["aht_s"] * last["answered"]
    m = last.groupby(["queue", "wd", "tod"], as_index=False)[["w", "answered"]].sum()
    m["aht_fc"] = m["w"] / m["answered"]
    q = last.groupby("queue")[["w", "answered"]].sum()
    qmean = (q["w"] / q["answered"]).rename("aht_q")
    out = keys[["queue", "local", "wd", "tod"]].merge(m[["queue", "wd", "tod", "aht_fc"]],
                                                     on=["queue", "wd", "tod"], how="left")
    out = out.merge(qmean, left_on="queue", right_index=True, how="left")
    out["aht_s"] = out["aht_fc"].fillna(out["aht_q"]).fillna(np.nan)
    return out[["queue", "local", "aht_s"]]


def intraday_profile(hist, cutoff):
    """share[queue, wd, tod] over the last PROFILE_WEEKS weeks, with fallbacks for empty weekdays."""
    import pandas as pd

    last = hist[hist["date"] >= cutoff - dt.timedelta(days=7 * PROFILE_WEEKS)]
    queues = hist["queue"].unique()
    grid = pd.MultiIndex.from_product([queues, range(7), range(96)], names=["queue", "wd", "tod"]).to_frame(index=False)
    by_wd = last.groupby(["queue", "wd", "tod"], as_index=False)["calls"].sum()
    grid = grid.merge(by_wd, on=["queue", "wd", "tod"], how="left").fillna({"calls": 0.0})
    grid["wd_total"] = grid.groupby(["queue", "wd"])["calls"].transform("sum")
    all_wd = last.groupby(["queue", "tod"], as_index=False)["calls"].sum().rename(columns={"calls": "any_calls"})
    grid = grid.merge(all_wd, on=["queue", "tod"], how="left").fillna({"any_calls": 0.0})
    grid["any_total"] = grid.groupby(["queue", "wd"])["any_calls"].transform("sum")
    grid["share"] = 1 / 96
    use_any = grid["any_total"] > 0
    grid.loc[use_any, "share"] = grid.loc[use_any, "any_calls"] / grid.loc[use_any, "any_total"]
    use_wd = grid["wd_total"] > 0
    grid.loc[use_wd, "share"] = grid.loc[use_wd, "calls"] / grid.loc[use_wd, "wd_total"]
    return grid[["queue", "wd", "tod", "share"]]


def sf_forecast(model, fallback, freq, df, h, n_jobs):
    from statsforecast import StatsForecast

    sf = StatsForecast(models=[model], freq=freq, n_jobs=n_jobs, fallback_model=fallback)
    out = sf.forecast(df=df, h=h)
    if "unique_id" not in out.columns:
        out = out.reset_index()
    col = [c for c in out.columns if c not in ("unique_id", "ds")][0]
    return out.rename(columns={"unique_id": "queue", col: "y"})[["queue", "ds", "y"]]


def peer_ets_daily(hist, cutoff, horizon, n_jobs):
    from statsforecast.models import AutoETS, SeasonalNaive

    daily = hist.groupby(["queue", "date"], as_index=False)["calls"].sum()
    df = daily.rename(columns={"queue": "unique_id", "date": "ds", "calls": "y"})
    fc = sf_forecast(AutoETS(season_length=7), SeasonalNaive(season_length=7), "D", df, horizon, n_jobs)
    fc["y"] = fc["y"].clip(lower=0)
    return fc.rename(columns={"ds": "date", "y": "day_total"})


def spread(daily_fc, keys, profile):
    out = keys[["queue", "local", "date", "wd", "tod"]].merge(daily_fc, on=["queue", "date"], how="left")
    out = out.merge(profile, on=["queue", "wd", "tod"], how="left")
    out["calls"] = out["day_total"].fillna(0.0) * out["share"].fillna(0.0)
    return out[["queue", "local", "calls"]]


def peer_mstl(hist, cutoff, horizon, weeks, n_jobs):
    import pandas as pd
    from statsforecast.models import MSTL, SeasonalNaive

    start = pd.Timestamp(cutoff - dt.timedelta(days=7 * weeks))
    end = pd.Timestamp(cutoff)
    grid_t = pd.date_range(start, end, freq="15min", inclusive="left")
    queues = hist["queue"].unique()
    grid = pd.MultiIndex.from_product([queues, grid_t], names=["queue", "local"]).to_frame(index=False)
    tr = grid.merge(hist[hist["local"] >= start][["queue", "local", "calls"]], on=["queue", "local"], how="left")
    tr["calls"] = tr["calls"].fillna(0.0)
    df = tr.rename(columns={"queue": "unique_id", "local": "ds", "calls": "y"})
    fc = sf_forecast(MSTL(season_length=[96, 672]), SeasonalNaive(season_length=672), "15min", df,
                     horizon * 96, n_jobs)
    fc["y"] = fc["y"].clip(lower=0)
    return fc.rename(columns={"ds": "local", "y": "calls"})


def ets_with_mstl_profile(ets_daily, mstl_fc, keys, profile):
    m = mstl_fc.copy()
    m["date"] = m["local"].dt.normalize()
    m["day"] = m.groupby(["queue", "date"])["calls"].transform("sum")
    m = m[m["day"] > 0]
    m["mshare"] = m["calls"] / m["day"]
    out = keys[["queue", "local", "date", "wd", "tod"]].merge(ets_daily, on=["queue", "date"], how="left")
    out = out.merge(m[["queue", "local", "mshare"]], on=["queue", "local"], how="left")
    out = out.merge(profile, on=["queue", "wd", "tod"], how="left")
    has_m = out.groupby(["queue", "date"])["mshare"].transform(lambda s: s.notna().any())
    share = out["mshare"].fillna(0.0).where(has_m, out["share"].fillna(0.0))
    out["calls"] = out["day_total"].fillna(0.0) * share
    return out[["queue", "local", "calls"]]


def warm_up(n_jobs) -> float:
    import numpy as np
    import pandas as pd

    t = time.perf_counter()
    ds = pd.date_range("2026-01-05", periods=96 * 7 * 3, freq="15min")
    y = 5 + np.sin(np.arange(len(ds)) * 2 * np.pi / 96) + 0.1 * np.cos(np.arange(len(ds)) * 0.37)
    df = pd.DataFrame({"unique_id": "w", "ds": ds, "y": y})
    from statsforecast.models import MSTL, AutoETS

    sf_forecast(MSTL(season_length=[96, 672]), None, "15min", df, 96, n_jobs)
    d = df.assign(ds=df["ds"].dt.normalize()).groupby(["unique_id", "ds"], as_index=False)["y"].sum()
    sf_forecast(AutoETS(season_length=7), None, "D", d, 7, n_jobs)
    return time.perf_counter() - t


# --------------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------------

def score(fc, act):
    """Per-queue and overall daily WAPE, interval WAPE and bias of fc (queue, local, calls)."""
    import numpy as np
    import pandas as pd

    m = act[["queue", "local", "calls"]].merge(fc[["queue", "local", "calls"]], on=["queue", "local"],
                                               how="outer", suffixes=("_a", "_f")).fillna({"calls_a": 0.0, "calls_f": 0.0})
    m["date"] = m["local"].dt.normalize()
    m["ae"] = (m["calls_f"] - m["calls_a"]).abs()
    d = m.groupby(["queue", "date"], as_index=False)[["calls_a", "calls_f"]].sum()
    d["ae"] = (d["calls_f"] - d["calls_a"]).abs()

    def agg(iv, dd):
        a = iv["calls_a"].sum()
        f = iv["calls_f"].sum()
        nan = float("nan")
        return {"actual": a, "forecast": f, "daily_wape": dd["ae"].sum() / a if a else nan,
                "interval_wape": iv["ae"].sum() / a if a else nan, "bias": f / a - 1 if a else nan}

    per_queue = {q: agg(g, d[d["queue"] == q]) for q, g in m.groupby("queue")}
    overall = agg(m, d)
    return per_queue, overall


def aht_wape(fc_aht, act):
    """Answered-weighted AHT WAPE; fc_aht (queue, local, aht_s), missing filled by the forecast's
    own queue mean. Returns (overall, per queue dict, number filled)."""
    import numpy as np

    a = act[(act["answered"] > 0) & act["aht_s"].notna()][["queue", "local", "answered", "aht_s"]]
    m = a.merge(fc_aht.rename(columns={"aht_s": "aht_f"}), on=["queue", "local"], how="left")
    qmean = fc_aht.groupby("queue")["aht_s"].mean()
    filled = int(m["aht_f"].isna().sum())
    m["aht_f"] = m["aht_f"].fillna(m["queue"].map(qmean))
    m = m[m["aht_f"].notna()]
    m["num"] = m["answered"] * (m["aht_f"] - m["aht_s"]).abs()
    m["den"] = m["answered"] * m["aht_s"]
    per = m.groupby("queue")[["num", "den"]].sum()
    per_q = (per["num"] / per["den"]).to_dict()
    tot = m["den"].sum()
    return (m["num"].sum() / tot if tot else np.nan), per_q, filled


# --------------------------------------------------------------------------------------------
# Synthetic history (for testing without the binary)
# --------------------------------------------------------------------------------------------

STATS_HEADER = ("tenant,queue,interval_start,interval_end,offered,answered,abandoned,short_abandoned,overflowed,"
                "answered_within_threshold,abandoned_within_threshold,service_level,sl_with_abandons,"
                "sl_excluding_short_abandons,abandon_rate,lost_call_rate,asa_s,avg_abandon_wait_s,max_wait_s,"
                "avg_talk_s,aht_s")


def write_synthetic(path: Path, tenant: str, d_from: dt.date, d_to: dt.date, n_queues: int, seed: int = 1):
    """A `wfm stats` CSV over local dates [d_from, d_to) in Europe/Warsaw with weekly and yearly
    seasonality, a slow trend, weekday-specific intraday shapes, Poisson volumes and noisy AHT."""
    from zoneinfo import ZoneInfo

    import numpy as np

    rng = np.random.default_rng(seed)
    zone = ZoneInfo("Europe/Warsaw")
    utc = dt.timezone.utc
    t0 = dt.datetime.combine(d_from, dt.time(0), zone).astimezone(utc)
    t1 = dt.datetime.combine(d_to, dt.time(0), zone).astimezone(utc)
    n = int((t1 - t0).total_seconds() // 900)
    starts = [t0 + dt.timedelta(minutes=15 * k) for k in range(n)]
    locs = [s.astimezone(zone) for s in starts]
    ends = [(s + dt.timedelta(minutes=15)).astimezone(zone) for s in starts]
    fmt = [(a.isoformat(timespec="seconds"), b.isoformat(timespec="seconds")) for a, b in zip(locs, ends)]
    wd = np.array([l.weekday() for l in locs])
    hour = np.array([l.hour + l.minute / 60 for l in locs])
    doy = np.array([l.timetuple().tm_yday for l in locs])
    days = np.array([(l.date() - d_from).days for l in locs])
    week_f = np.array([1.0, 0.95, 0.92, 0.93, 0.9, 0.45, 0.25])[wd]
    with open(path, "w") as f:
        f.write(STATS_HEADER + "\n")
        for qi in range(n_queues):
            q = f"q{qi + 1:02d}"
            daily = 300 * (3 ** qi)  # weekday calls
            peak_h = 10.5 + qi
            shape = np.exp(-0.5 * ((hour - peak_h) / 2.2) ** 2) + 0.6 * np.exp(-0.5 * ((hour - 15) / 1.8) ** 2)
            shape = np.where((hour >= 7) & (hour < 21), shape, 0.02 * shape)
            shape = np.where(wd >= 5, np.exp(-0.5 * ((hour - 12) / 3) ** 2) * ((hour >= 8) & (hour < 20)), shape)
            h = np.arange(96) / 4
            ref = (np.exp(-0.5 * ((h - peak_h) / 2.2) ** 2) + 0.6 * np.exp(-0.5 * ((h - 15) / 1.8) ** 2))
            ref = np.where((h >= 7) & (h < 21), ref, 0.02 * ref).sum()  # a weekday's shape sum
            season = 1 + 0.15 * np.cos(2 * np.pi * (doy - 20) / 365.25)
            trend = 1 + 0.0004 * days
            lam = daily * week_f * season * trend * shape / ref
            offered = rng.poisson(np.maximum(lam, 0))
            answered = rng.binomial(offered, 0.93)
            abandoned = offered - answered
            aht = 240 + 20 * qi + 25 * np.sin(2 * np.pi * hour / 24) + rng.normal(0, 12, n)
            for k in range(n):
                o, a, ab = int(offered[k]), int(answered[k]), int(abandoned[k])
                if a:
                    sl = 0.8
                    row = (f"{tenant},{q},{fmt[k][0]},{fmt[k][1]},{o},{a},{ab},0,0,{int(a * sl)},0,"
                           f"{sl:.4f},{sl:.4f},{sl:.4f},{ab / o:.4f},{ab / o:.4f},15.0,,60.0,"
                           f"{aht[k] - 30:.3f},{aht[k]:.3f}")
                else:
                    ar = f"{ab / o:.4f}" if o else ""
                    row = f"{tenant},{q},{fmt[k][0]},{fmt[k][1]},{o},0,{ab},0,0,0,0,,,,{ar},{ar},,,,,"
                f.write(row + "\n")


# --------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--wfm", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "release/wfm"))
    ap.add_argument("--store", help="wfm store directory (not needed with --history-csv)")
    ap.add_argument("--tenant", default="demo")
    ap.add_argument("--cutoff", required=True, help="first forecast day, YYYY-MM-DD (local)")
    ap.add_argument("--horizon-days", type=int, default=28)
    ap.add_argument("--train-days", type=int, default=365, help="history given to the peers")
    ap.add_argument("--mstl-weeks", type=int, default=8, help="weeks of 15-min history MSTL is fitted on")
    ap.add_argument("--n-jobs", type=int, default=1, help="statsforecast n_jobs")
    ap.add_argument("--methods", default=",".join(ALL_METHODS))
    ap.add_argument("--workdir", help="where stats/forecast CSVs go (default: a temp dir, removed)")
    ap.add_argument("--history-csv", help="use this `wfm stats` CSV instead of running wfm stats")
    ap.add_argument("--wfm-forecast", help="use this fc.csv instead of running wfm forecast")
    ap.add_argument("--calendar", help="also run wfm with this calendar.csv (as `wfm+calendar`)")
    ap.add_argument("--show-queues", type=int, default=20, help="per-queue rows shown (-1: all)")
    ap.add_argument("--write-synthetic", metavar="FILE", help="write a synthetic stats CSV and exit")
    ap.add_argument("--synthetic-queues", type=int, default=3)
    args = ap.parse_args()
    ensure_modules(["numpy", "pandas", "statsforecast"])
    import numpy as np
    import pandas as pd

    try:
        cutoff = dt.date.fromisoformat(args.cutoff)
    except ValueError:
        raise SystemExit(f"invalid --cutoff {args.cutoff!r} (expected YYYY-MM-DD)")
    d_from = cutoff - dt.timedelta(days=args.train_days)
    d_to = cutoff + dt.timedelta(days=args.horizon_days)
    if args.write_synthetic:
        t = time.perf_counter()
        write_synthetic(Path(args.write_synthetic), args.tenant, d_from, d_to, args.synthetic_queues)
        print(f"wrote {args.write_synthetic} ({d_from} .. {d_to}, {args.synthetic_queues} queues) "
              f"in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        return 0
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    bad = set(methods) - set(ALL_METHODS)
    if bad:
        raise SystemExit(f"unknown methods {sorted(bad)} (known: {ALL_METHODS})")
    if "ets+mstl" in methods:
        methods = [m for m in methods if m not in ("ets", "mstl", "ets+mstl")] + ["ets", "mstl", "ets+mstl"]
    have_binary = os.access(args.wfm, os.X_OK)
    if "wfm" in methods and not args.wfm_forecast and not have_binary:
        if args.history_csv:
            print(f"# {args.wfm} not found and no --wfm-forecast: leaving wfm out", file=sys.stderr)
            methods.remove("wfm")
        else:
            raise SystemExit(f"{args.wfm}: no wfm binary (build it, or use --history-csv/--wfm-forecast)")
    if not args.history_csv and not args.store:
        raise SystemExit("--store is required unless --history-csv is given")

    work, tmp = work_dir(args.workdir, "bench-forecast-")
    timings: dict[str, float] = {}
    notes: dict[str, str] = {}
    fcs = {}
    try:
        if args.history_csv:
            stats_csv = Path(args.history_csv)
        else:
            stats_csv = work / "stats.csv"
            s, _ = timed([args.wfm, "stats", "--store", args.store, "--tenant", args.tenant, "--from",
                          d_from.isoformat(), "--to", d_to.isoformat(), "--interval", "15m", "--format", "csv",
                          "--out", str(stats_csv)])
            print(f"# wfm stats {d_from}..{d_to}: {s:.2f} s", file=sys.stderr)
        t = time.perf_counter()
        data = add_calendar(load_stats(stats_csv))
        print(f"# loaded {len(data):,} interval rows, {data['queue'].nunique()} queues in "
              f"{time.perf_counter() - t:.1f} s", file=sys.stderr)
        c_ts, f_ts, e_ts = pd.Timestamp(cutoff), pd.Timestamp(d_from), pd.Timestamp(d_to)
        hist = data[(data["date"] >= f_ts) & (data["date"] < c_ts)].copy()
        act = data[(data["date"] >= c_ts) & (data["date"] < e_ts)].copy()
        if hist.empty or act.empty:
            raise SystemExit(f"need history before and actuals from {cutoff}: got {len(hist)} history and "
                             f"{len(act)} actual rows")
        hist_days = hist["date"].nunique()
        act_days = act["date"].nunique()
        if act_days < args.horizon_days:
            print(f"# warning: actuals cover only {act_days} of {args.horizon_days} days", file=sys.stderr)
        keys = act[["queue", "local", "date", "wd", "tod"]]

        if "wfm" in methods:
            # wfm without the calendar (the peers' footing) and, with --calendar, with it.
            variants = [("wfm", [])]
            if args.calendar:
                variants.append(("wfm+calendar", ["--calendar", args.calendar]))
            for name, extra in variants:
                if args.wfm_forecast:
                    fc_path = Path(args.wfm_forecast)
                    notes[name] = f"from {fc_path.name} (not timed)"
                else:
                    fc_path = work / f"fc-{name}.csv"
                    cmd = [args.wfm, "forecast", "--store", args.store, "--tenant", args.tenant, "--from",
                           cutoff.isoformat(), "--horizon", f"{args.horizon_days}d", "--no-learn",
                           "--out", str(fc_path)] + extra
                    timings[name], mb = timed(cmd)
                    notes[name] = f"whole process, peak {mb:.0f} MB; own choice of history"
                wfm_fc = load_forecast(fc_path)
                wfm_fc = wfm_fc[(wfm_fc["local"] >= c_ts) & (wfm_fc["local"] < e_ts)]
                fcs[name] = wfm_fc[["queue", "local", "calls"]]
        ets_daily = mstl_fc = profile = None
        if any(m in methods for m in ("naive", "ets", "mstl")):
            warm = warm_up(args.n_jobs) if any(m in methods for m in ("ets", "mstl")) else 0.0
        if "naive" in methods:
            t = time.perf_counter()
            fcs["naive"] = peer_naive(hist, keys, c_ts)
            timings["naive"] = time.perf_counter() - t
            notes["naive"] = "last full week repeated"
        if "ets" in methods:
            t = time.perf_counter()
            ets_daily = peer_ets_daily(hist, cutoff, args.horizon_days, args.n_jobs)
            profile = intraday_profile(hist, c_ts)
            fcs["ets"] = spread(ets_daily, keys, profile)
            timings["ets"] = time.perf_counter() - t
            notes["ets"] = f"AutoETS(7) on {hist_days} daily totals + {PROFILE_WEEKS}-week weekday profile"
        if "mstl" in methods:
            t = time.perf_counter()
            mstl_fc = peer_mstl(hist, cutoff, args.horizon_days, args.mstl_weeks, args.n_jobs)
            fcs["mstl"] = on_keys(keys, mstl_fc)
            timings["mstl"] = time.perf_counter() - t
            notes["mstl"] = f"MSTL([96, 672]) on the last {args.mstl_weeks} weeks of 15-min data"
        if "ets+mstl" in methods:
            t = time.perf_counter()
            fcs["ets+mstl"] = ets_with_mstl_profile(ets_daily, mstl_fc, keys, profile)
            timings["ets+mstl"] = time.perf_counter() - t + timings["ets"] + timings["mstl"]
            notes["ets+mstl"] = "ets daily totals, mstl intraday shape"
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)

    results = {m: score(fc, act) for m, fc in fcs.items()}
    aht = {}
    if "wfm" in methods:
        aht["wfm"] = aht_wape(wfm_fc[["queue", "local", "aht_s"]].dropna(), act)
    aht["naive"] = aht_wape(naive_aht(hist, keys, c_ts), act)

    import statsforecast

    print(f"python {platform.python_version()}, statsforecast {statsforecast.__version__}, pandas {pd.__version__}, "
          f"n_jobs {args.n_jobs}; tenant {args.tenant}, cutoff {cutoff}, horizon {args.horizon_days} days "
          f"({act_days} with actuals), peers' history {hist_days} days, {data['queue'].nunique()} queues, "
          f"{act['calls'].sum():,.0f} actual calls")
    if any(m in methods for m in ("ets", "mstl")):
        print(f"statsforecast warm-up (untimed): {warm:.1f} s")
    print()
    print("| method | seconds | daily WAPE | interval WAPE | bias | AHT WAPE | notes |")
    print("|---|---|---|---|---|---|---|")
    for m in fcs:
        _, o = results[m]
        sec = f"{timings[m]:.2f}" if m in timings else "-"
        a = f"{aht[m][0]:.3f}" if m in aht else "-"
        print(f"| {m} | {sec} | {o['daily_wape']:.3f} | {o['interval_wape']:.3f} | {o['bias']:+.3f} | {a} | "
              f"{notes.get(m, '')} |")
    if "wfm" in aht and aht["wfm"][2]:
        print(f"\n(wfm AHT: {aht['wfm'][2]} answered intervals without a forecast AHT took the queue's mean)")

    queues = sorted(act.groupby("queue")["calls"].sum().items(), key=lambda kv: -kv[1])
    shown = queues if args.show_queues < 0 else queues[: args.show_queues]
    print(f"\nPer queue (daily WAPE / interval WAPE / bias){'' if len(shown) == len(queues) else f', top {len(shown)} of {len(queues)} by volume'}:\n")
    print("| queue | actual calls | " + " | ".join(fcs) + f" | AHT WAPE {' / '.join(aht)} |")
    print("|---|---|" + "---|" * len(fcs) + "---|")
    for q, vol in shown:
        cells = []
        for m in fcs:
            r = results[m][0].get(q)
            cells.append("-" if r is None else f"{r['daily_wape']:.3f} / {r['interval_wape']:.3f} / {r['bias']:+.3f}")
        a = " / ".join(f"{aht[m][1].get(q, np.nan):.3f}" for m in ("wfm", "naive") if m in aht)
        print(f"| {q} | {vol:,.0f} | " + " | ".join(cells) + f" | {a} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
