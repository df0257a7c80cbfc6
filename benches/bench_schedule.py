#!/usr/bin/env python3
"""`wfm schedule` against an OR-tools CP-SAT roster model and pyworkforce's shift design.

Instances (cached under benches/data/sched-N/, N the requested size): one centre, 3 queues,
`wfm generate --queues 3 --days 84 --start 2026-01-05 --seed 1 --daily-calls C` with C chosen
so that the generator's own staffing (the rows of its agents.csv) comes close to N agents (it is
found by probing `wfm generate --days 1`: the staff size depends on the calls, not the days),
then `wfm forecast --from 2026-03-02 --horizon 28d --no-learn` and `wfm staff --sl-target 0.8
--threshold-s 20`. The roster covers the 4 weeks from Monday 2026-03-02, 15-minute intervals,
with the generator's rules.toml and agents.csv. The actual agent count is what the table shows.

Tools, each a whole process timed by /usr/bin/time (wall seconds, peak RSS), same limit T:
  * wfm: `wfm schedule ... --time-limit-s T` (LP shift design, greedy assignment, local search).
  * cp-sat: a roster model in OR-tools CP-SAT (this script, run as a child process), solver
    limit = T minus the time already spent building the model (`--cpsat-budget total`, the
    default: the same wall clock as wfm) or T for the solve alone (`--cpsat-budget solve`),
    num_workers = --workers (2: the machine this was written on has 2 cores).
      - x[agent, day, shape] booleans over the shapes wfm uses (rules.toml lengths, starts every
        start_step_minutes from earliest_start, ending by latest_end; a team's own window from
        [shifts.teams.X]); at most one shift an agent-day.
      - hard rules from rules.toml [rules] and the agents file: min rest between shifts, in real
        time as the checker measures it (shape pairs on days d and d+k that are too close are
        excluded with one constraint per end time; exact for k = 1, conservative for k >= 2,
        which only a rest of more than about a day needs);
        no_early_after_night; max consecutive work days (rule and agent, the lower); per ISO week
        wholly inside the roster (as the checker judges): paid minutes <= min(max_hours_per_week,
        agent max_hours_week), min_days_off_per_week, and paid minutes >= agent min_hours_week as
        a HARD bound. Only an agent whose minimum cannot be reached even in principle (above the
        weekly cap, or above the best number of days the day rules allow times the longest paid
        shift) gets a soft minimum instead: 100 objective units per quarter-hour short. Paid =
        length minus the meal when length > meal_after_hours. Not modelled (wfm's checker does
        not judge them either): max_hours_month, min_days_off_month, requests.
      - coverage per queue: agents grouped by skill set ("types", efficiency ignored: one agent
        on a queue counts as one, as in wfm's per-skill coverage); n[type, day, shape] counts the
        type's shifts; per interval, the type's agents at work are allocated to the queues it
        serves (integer alloc[type, queue, interval], at most the queue's requirement). A shift
        counts as at work in the intervals of its work runs under the fixed break plan below
        (the plan is known per shape, so the model's coverage is exactly the written roster's).
      - objective: 20 x under-staffed agent-intervals per queue + 1 x agent-intervals at work
        beyond what is allocated to a requirement: the weights wfm's search uses. (In a solution
        that is not optimal the allocation need not be the best one, so the model's objective can
        be above what the roster scores; the table shows the roster's own figures.)
      - breaks are not decided: each shift is cut by a port of wfm's `shift_plan`
        (scheduler/src/assign.rs): the fewest paid breaks keeping every work run within
        max_continuous_work_hours, runs rounded down to the 15-minute grid, the last run the
        remainder, the meal (shifts longer than meal_after_hours) the middle pause. wfm moves
        its pauses afterwards to where staff is in surplus; CP-SAT keeps them where they are.
      - written as roster.csv in wfm's format: local times with the offset in force, read off
        the requirements file's intervals as wfm does (so a change to summer time inside the
        period keeps shifts at their wall-clock times); day-off rows for days without a shift.
  * pyworkforce (MinAbsDifference and MinRequiredResources, pyworkforce.scheduling): how many
    shifts of each shape start each day for the pooled requirement (its model takes days x
    periods and a coverage vector per shape: one model for all 28 days), same shapes, same T,
    num_workers = --workers. Design only: no named agents, no labour rules, no breaks; its
    under/over-staffing is computed here from the design. MinRequiredResources demands full
    coverage, so its requirement is clipped to what the shapes can reach and to the agent
    count (otherwise it is infeasible).

Judging: `wfm check-roster --roster R --agents A --rules T --requirements REQ --report out.json`
(the period is the roster's own dates) judges wfm's and CP-SAT's rosters with the same code: the
independent checker, pooled and per-skill coverage, the projected service level. The script stops
if the binary has no check-roster. Over-staffed = agent-intervals at work that no requirement the
agent is skilled for needs (wfm's definition). pyworkforce's designs have no roster to judge: their
pooled under/over-staffing is counted here from the design (over = the pooled excess), with no
service level and no per-skill figure.

Usage: python benches/bench_schedule.py [--wfm PATH] [--sizes 50,200,500] [--time-limit-s 60]
       [--work DIR] [--workers 2] [--skip-cpsat] [--skip-pyworkforce] [--cpsat-budget total|solve]
       [--cpsat-params 'SatParameters text'] [--data benches/data]
Prints Markdown tables for BENCHMARKS.md; writes WORK/results.json. Instances are cached by size
only: delete benches/data/sched-N after the generator changes.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import datetime as dt
import functools
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import time
import tomllib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import cpu_model, ensure_modules, timed, work_dir  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
GEN_START = "2026-01-05"
GEN_DAYS = 84
ROSTER_FROM = "2026-03-02"
WEEKS = 4
QUEUES = 3
SEED = 1
SL_TARGET = 0.8
THRESHOLD_S = 20.0
UNDER_WEIGHT = 20  # scheduler/src/design.rs UNDER_WEIGHT; an agent-interval beyond the need weighs 1
SOFT_MIN_HOURS_WEIGHT = 100  # per quarter-hour short, only for agents whose minimum is unreachable
CALLS_PER_AGENT_GUESS = 26.0  # first probe of the calibration (4 queues, 3000 calls -> 116 agents)


# --------------------------------------------------------------------------------------------
# Inputs: rules.toml, agents.csv, requirements.csv (the same reading as the Rust side)
# --------------------------------------------------------------------------------------------

def clock(s: str) -> int:
    h, m = s.strip().split(":")
    return int(h) * 60 + int(m)


@dataclass
class Rules:
    lengths: list[int]
    start_step: int
    window: tuple[int, int]
    team_windows: dict[str, tuple[int, int]]
    meal: int
    meal_after: int
    brk: int
    rest: int | None
    max_week: int | None  # paid minutes
    max_consec: int | None
    min_off: int | None
    max_cont: int | None
    early_after_night: tuple[int, int] | None  # (early_start_before, night_end_after)

    def window_for(self, team: str) -> tuple[int, int]:
        return self.team_windows.get(team, self.window)


def load_rules(path: Path) -> Rules:
    with open(path, "rb") as f:
        t = tomllib.load(f)
    s, b, r = t["shifts"], t["breaks"], t.get("rules", {})
    minutes = lambda h: None if h is None else round(h * 60)  # noqa: E731
    nean = r.get("no_early_after_night")
    return Rules(
        lengths=[round(h * 60) for h in s["lengths_hours"]],
        start_step=s["start_step_minutes"],
        window=(clock(s["earliest_start"]), clock(s["latest_end"])),
        team_windows={k: (clock(w["earliest_start"]), clock(w["latest_end"])) for k, w in s.get("teams", {}).items()},
        meal=b["meal_minutes"], meal_after=round(b["meal_after_hours"] * 60), brk=b["break_minutes"],
        rest=minutes(r.get("min_rest_between_shifts_hours")), max_week=minutes(r.get("max_hours_per_week")),
        max_consec=r.get("max_consecutive_work_days"), min_off=r.get("min_days_off_per_week"),
        max_cont=minutes(r.get("max_continuous_work_hours")),
        early_after_night=(clock(nean["early_start_before"]), clock(nean["night_end_after"])) if nean else None,
    )


@dataclass
class Agent:
    id: str
    team: str
    skills: frozenset[str]
    min_hours: int
    max_hours: int
    max_consec: int | None


def load_agents(path: Path, tenant: str = "demo") -> list[Agent]:
    out = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            row = {k: (v or "").strip() for k, v in row.items()}
            if row.get("tenant") and row["tenant"] != tenant:
                continue
            skills = frozenset(s.split(":")[0].strip() for s in row["skills"].split(";") if s.strip())
            out.append(Agent(row["agent_id"], row["team"], skills, int(row["min_hours_week"]),
                             int(row["max_hours_week"]),
                             int(row["max_consecutive_work_days"]) if row.get("max_consecutive_work_days") else None))
    return out


@dataclass
class Problem:
    rules: Rules
    agents: list[Agent]
    days: list[dt.date]
    step: int  # minutes per interval
    starts: list[dt.datetime]  # the period's intervals, each with its own UTC offset (as in the file)
    queues: list[str]
    req: dict[str, list[int]]  # per queue, agents required per interval
    by_local: list[tuple[dt.datetime, int]] = field(default_factory=list)  # (naive local start, index)
    shapes: list[tuple[int, int]] = field(default_factory=list)  # (start, length) minutes
    types: list[tuple[int, ...]] = field(default_factory=list)  # queue indices per skill set
    agent_type: list[int] = field(default_factory=list)

    @property
    def per_day(self) -> int:
        return 1440 // self.step

    @property
    def n(self) -> int:
        return len(self.starts)

    @property
    def pooled(self) -> list[int]:
        return [sum(c[i] for c in self.req.values()) for i in range(self.n)]

    def local(self, d: int, minute: int) -> dt.datetime:
        return dt.datetime.combine(self.days[d], dt.time(0)) + dt.timedelta(minutes=minute)

    def position(self, t: dt.datetime) -> int:
        """The interval a naive local time falls in, as scheduler/src/design.rs `LocalGrid`
        finds it (negative before the grid, past its end after; a repeated hour keeps its
        first pass), so that shifts keep their wall-clock times across a clock change."""
        (first, _), (last, last_i) = self.by_local[0], self.by_local[-1]
        if t < first:
            return int((t - first).total_seconds() // 60) // self.step
        if t >= last:
            return last_i + int((t - last).total_seconds() // 60) // self.step
        k = bisect.bisect_right(self.by_local, (t, self.n)) - 1
        local, index = self.by_local[k]
        return index + int((t - local).total_seconds() // 60) // self.step

    def cover(self, d: int, start_min: int, end_min: int) -> range:
        """Grid intervals between two local times of day d, clipped to the grid."""
        lo = min(max(self.position(self.local(d, start_min)), 0), self.n)
        hi = min(max(self.position(self.local(d, end_min)), 0), self.n)
        return range(min(lo, hi), hi)

    def at(self, d: int, minute: int) -> dt.datetime:
        """A local time of day d with the offset in force then (the nearest interval's)."""
        t = self.local(d, minute)
        i = min(max(self.position(t), 0), self.n - 1)
        return t.replace(tzinfo=self.starts[i].tzinfo)


def load_problem(req_path: Path, agents_path: Path, rules_path: Path, d_from: dt.date, weeks: int) -> Problem:
    """The requirement as wfm reads it (scheduler/src/demand.rs): one grid of equal intervals
    from the file's first row, each interval with the offset of the last row at or before it,
    the period's intervals those whose local date is in it."""
    rules = load_rules(rules_path)
    agents = load_agents(agents_path)
    rows = []
    with open(req_path, newline="") as f:
        for r in csv.DictReader(f):
            rows.append((r["queue"].strip(), dt.datetime.fromisoformat(r["interval_start"].strip()), int(r["agents"])))
    if not rows:
        raise SystemExit(f"{req_path}: no requirement rows")
    instants = sorted({r[1] for r in rows})
    step = int(min((b - a).total_seconds() for a, b in zip(instants, instants[1:])) // 60) if len(instants) > 1 else 15
    first, last = instants[0], instants[-1]
    offsets = {t: t.tzinfo for t in instants}
    grid, k = [], 0
    for i in range(int((last - first).total_seconds() // 60) // step + 1):
        t = first + dt.timedelta(minutes=step * i)
        while k + 1 < len(instants) and instants[k + 1] <= t:
            k += 1
        grid.append(t.astimezone(offsets[instants[k]]))
    days = [d_from + dt.timedelta(days=j) for j in range(7 * weeks)]
    keep = [i for i, t in enumerate(grid) if days[0] <= t.date() <= days[-1]]
    if not keep:
        raise SystemExit(f"{req_path}: no requirement between {days[0]} and {days[-1]}")
    k0 = keep[0]
    starts = grid[k0:keep[-1] + 1]
    n = len(starts)
    queues = sorted({r[0] for r in rows})
    p = Problem(rules, agents, days, step, starts, queues, {q: [0] * n for q in queues})
    for q, t, a in rows:
        i = int((t - first).total_seconds() // 60) // step - k0
        if 0 <= i < n:
            p.req[q][i] += a
    seen = {}
    for i, t in enumerate(starts):
        seen.setdefault(t.replace(tzinfo=None), i)
    p.by_local = sorted(seen.items())
    # The shapes wfm designs with: every window's, merged.
    shapes = set()
    for w in [rules.window, *rules.team_windows.values()]:
        shapes.update(shapes_in(rules.lengths, rules.start_step, w))
    p.shapes = sorted(shapes)
    index: dict[tuple[int, ...], int] = {}
    for a in agents:
        key = tuple(sorted(p.queues.index(q) for q in a.skills if q in p.queues))
        p.agent_type.append(index.setdefault(key, len(index)))
    p.types = sorted(index, key=index.get)
    return p


# --------------------------------------------------------------------------------------------
# Shift shapes and the break plan (ports of scheduler/src/design.rs `shapes` and assign.rs
# `shift_plan`, `paid_minutes`)
# --------------------------------------------------------------------------------------------

def shapes_in(lengths: list[int], step: int, window: tuple[int, int]) -> list[tuple[int, int]]:
    out = []
    for length in lengths:
        start = -(-window[0] // step) * step
        while start + length <= window[1]:
            out.append((start, length))
            start += step
    return out


def shift_plan(length: int, r: Rules, grid: int) -> list[tuple[str, int]]:
    """Work runs and pauses of a shift, in order: a port of scheduler/src/assign.rs `shift_plan`,
    kept because the CP-SAT model has no break decisions of its own. Its rosters must carry the
    break plan wfm's would have, and its coverage must count the same work runs."""
    meal = length > r.meal_after and r.meal < length
    limit = r.max_cont if r.max_cont is not None else 2**32
    breaks = 0
    while True:
        pauses = int(meal) + breaks
        work = max(0, length - ((r.meal if meal else 0) + breaks * r.brk))
        runs = pauses + 1
        run = (work // runs) // grid * grid
        last = work - run * (runs - 1)
        fits = last <= limit and run <= limit
        room_for_another = (breaks + 1) * r.brk + (r.meal if meal else 0) + (runs + 1) * grid <= length
        if fits or breaks >= 8 or r.brk == 0 or not room_for_another:
            out: list[list] = []
            meal_after = max(runs // 2, 1)
            for i in range(runs):
                minutes = last if i + 1 == runs else run
                if out and out[-1][0] == "work":
                    out[-1][1] += minutes
                elif minutes > 0:
                    out.append(["work", minutes])
                if i + 1 < runs:
                    kind, m = ("meal", r.meal) if meal and i + 1 == meal_after else ("break", r.brk)
                    if m > 0:
                        out.append([kind, m])
            return [(k, m) for k, m in out]
        breaks += 1


def paid_minutes(length: int, r: Rules, grid: int) -> int:
    """What the checker counts as paid: everything but the meal (from the plan, so the two agree)."""
    return sum(m for k, m in shift_plan(length, r, grid) if k != "meal")


def work_runs(shape: tuple[int, int], r: Rules, grid: int) -> list[tuple[int, int]]:
    """(from, to) minutes after midnight of the shape's work runs under the fixed plan."""
    out, t = [], shape[0]
    for kind, m in shift_plan(shape[1], r, grid):
        if kind == "work":
            out.append((t, t + m))
        t += m
    return out


# --------------------------------------------------------------------------------------------
# Rosters: writing (CP-SAT)
# --------------------------------------------------------------------------------------------

def write_roster(path: Path, p: Problem, shifts: dict[tuple[int, int], tuple[int, int]]) -> None:
    """roster.csv as wfm writes it: fixed break plan, local times with the offset in force,
    day-off rows for days without a shift."""
    rows = []
    fmt = lambda t: t.isoformat(timespec="seconds")  # noqa: E731
    for a, agent in enumerate(p.agents):
        for d, day in enumerate(p.days):
            shape = shifts.get((a, d))
            if shape is None:
                rows.append((agent.id, p.at(d, 0), day, "day-off", p.at(d, 0), p.at(d, 1440)))
                continue
            t = shape[0]
            for kind, m in shift_plan(shape[1], p.rules, p.step):
                rows.append((agent.id, p.at(d, t), day, kind, p.at(d, t), p.at(d, t + m)))
                t += m
    rows.sort(key=lambda r: (r[0], r[1]))
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["agent_id", "date", "activity", "start", "end"])
        for agent_id, _, day, kind, s, e in rows:
            w.writerow([agent_id, day.isoformat(), kind, fmt(s), fmt(e)])


# --------------------------------------------------------------------------------------------
# CP-SAT roster model (child process)
# --------------------------------------------------------------------------------------------

def week_ranges(p: Problem) -> list[range]:
    """Day indices of the ISO weeks wholly inside the roster: the checker judges only those."""
    first = (7 - p.days[0].weekday()) % 7
    return [range(s, s + 7) for s in range(first, len(p.days) - 6, 7)]


def solve_cpsat(p: Problem, deadline: float, workers: int, budget: str, limit_s: float, params: str,
                log) -> tuple[dict, dict]:
    from ortools.sat.python import cp_model

    t0 = time.perf_counter()
    r = p.rules
    m = cp_model.CpModel()
    S = len(p.shapes)
    plan_paid = [paid_minutes(length, r, p.step) for _, length in p.shapes]
    runs = [work_runs(s, r, p.step) for s in p.shapes]
    # Grid intervals each shape is at work in, per day (a clock change moves them on the grid).
    at_work = [[[i for lo, hi in runs[s] for i in p.cover(d, lo, hi)] for s in range(S)] for d in range(len(p.days))]
    allowed = []
    for a in p.agents:
        lo, hi = r.window_for(a.team)
        allowed.append([s for s, (st, ln) in enumerate(p.shapes) if st >= lo and st + ln <= hi])
    A, D = len(p.agents), len(p.days)
    x: dict[tuple[int, int, int], object] = {}
    work = {}
    for a in range(A):
        for d in range(D):
            vs = []
            for s in allowed[a]:
                v = m.new_bool_var("")
                x[a, d, s] = v
                vs.append(v)
            w = m.new_bool_var("")
            work[a, d] = w
            m.add(cp_model.LinearExpr.sum(vs) == w)  # at most one shift a day
    n_constraints = A * D

    # The checker measures rest in real time (a clock change shortens or lengthens a night).
    @functools.lru_cache(maxsize=None)
    def instant(d: int, minute: int) -> float:
        return p.at(d, minute).timestamp() / 60

    # Pairs of shifts on days d and d+k closer than the rest: for each end time e, no shift
    # ending at e or later on d together with one starting less than the rest after e on d+k.
    # Exact for k = 1; for k >= 2 (a rest over a day) it also forbids pairs with a shift between.
    @functools.lru_cache(maxsize=None)
    def rest_cuts(window: tuple[int, int], d: int, k: int) -> list[tuple[list[int], list[int]]]:
        shapes_w = [s for s, (st, ln) in enumerate(p.shapes) if st >= window[0] and st + ln <= window[1]]
        cuts, seen = [], set()
        for e in sorted({sum(p.shapes[s]) for s in shapes_w}):
            early = tuple(s for s in shapes_w if instant(d + k, p.shapes[s][0]) - instant(d, e) < r.rest)
            if not early or early in seen:
                continue  # the smallest e with this early set dominates the others
            seen.add(early)
            cuts.append(([s for s in shapes_w if sum(p.shapes[s]) >= e], list(early)))
        return cuts

    night = early = None
    if r.early_after_night:
        early_before, night_after = r.early_after_night
        night = {s for s, (st, ln) in enumerate(p.shapes) if st + ln > night_after or st + ln >= 1440}
        early = {s for s, (st, _) in enumerate(p.shapes) if st < early_before}
    weeks = week_ranges(p)
    soft_agents = []
    shortfalls = []
    for a, agent in enumerate(p.agents):
        if r.rest is not None and allowed[a]:
            window = r.window_for(agent.team)
            gap = min(p.shapes[s][0] for s in allowed[a]) - max(sum(p.shapes[s]) for s in allowed[a])
            for d in range(D):
                # 60 minutes of slack for a clock change between the two days.
                for k in range(1, D - d):
                    if k * 1440 + gap - 60 >= r.rest:
                        break
                    for late_s, early_s in rest_cuts(window, d, k):
                        m.add(sum(x[a, d, s] for s in late_s) + sum(x[a, d + k, s] for s in early_s) <= 1)
                        n_constraints += 1
        if night is not None:
            ns = [s for s in allowed[a] if s in night]
            es = [s for s in allowed[a] if s in early]
            if ns and es:
                for d in range(D - 1):
                    m.add(sum(x[a, d, s] for s in ns) + sum(x[a, d + 1, s] for s in es) <= 1)
                    n_constraints += 1
        run = min([v for v in (r.max_consec, agent.max_consec) if v is not None], default=None)
        if run is not None and run < D:
            for d in range(D - run):
                m.add(sum(work[a, j] for j in range(d, d + run + 1)) <= run)
                n_constraints += 1
        cap = min([v for v in (r.max_week, agent.max_hours * 60) if v is not None])
        days_max = 7 - (r.min_off or 0)
        if run is not None and run < 7:
            days_max = min(days_max, 7 - 7 // (run + 1))
        reachable = min(cap, days_max * max((plan_paid[s] for s in allowed[a]), default=0))
        minimum = agent.min_hours * 60
        soft = minimum > reachable
        if soft:
            soft_agents.append(agent.id)
        for wk in weeks:
            paid = cp_model.LinearExpr.weighted_sum([x[a, d, s] for d in wk for s in allowed[a]],
                                                    [plan_paid[s] for d in wk for s in allowed[a]])
            if soft:
                short = m.new_int_var(0, minimum, "")
                m.add(paid <= cap)
                m.add(paid + short >= minimum)
                shortfalls.append(short)
                n_constraints += 2
            else:
                m.add_linear_constraint(paid, minimum, cap)
                n_constraints += 1
            if r.min_off is not None:
                m.add(sum(work[a, d] for d in wk) <= 7 - r.min_off)
                n_constraints += 1

    # Shifts per type, day and shape; coverage works on these (a handful of types, not agents).
    T = len(p.types)
    members: dict[tuple[int, int], list[int]] = defaultdict(list)
    for a in range(A):
        for s in allowed[a]:
            members[p.agent_type[a], s].append(a)
    cnt = {}
    for (k, s), agents_ks in members.items():
        for d in range(D):
            v = m.new_int_var(0, len(agents_ks), "")
            m.add(cp_model.LinearExpr.sum([x[a, d, s] for a in agents_ks]) == v)
            cnt[k, d, s] = v
            n_constraints += 1
    covers: dict[int, list[tuple[int, int]]] = defaultdict(list)  # interval -> (day, shape)
    for d in range(D):
        for s in range(S):
            for i in at_work[d][s]:
                covers[i].append((d, s))
    type_size = Counter(p.agent_type)
    allocs = []
    for i in range(p.n):
        need = [p.req[q][i] for q in p.queues]
        if not any(need):
            continue
        by_queue = defaultdict(list)
        for k in range(T):
            qs = [q for q in p.types[k] if need[q] > 0]
            if not qs:
                continue
            duty = [cnt[k, d, s] for d, s in covers[i] if (k, d, s) in cnt]
            if not duty:
                continue
            vs = [m.new_int_var(0, min(need[q], type_size[k]), "") for q in qs]
            m.add(cp_model.LinearExpr.sum(vs) <= cp_model.LinearExpr.sum(duty))
            n_constraints += 1
            for q, v in zip(qs, vs):
                by_queue[q].append(v)
            allocs.extend(vs)
        for q, vs in by_queue.items():
            m.add(cp_model.LinearExpr.sum(vs) <= need[q])
            n_constraints += 1
    # 20 x (required - allocated) + (at work - allocated): the constant 20 x required aside.
    at_work_terms = [(v, len(at_work[d][s])) for (k, d, s), v in cnt.items()]
    objective = (cp_model.LinearExpr.weighted_sum([v for v, _ in at_work_terms], [c for _, c in at_work_terms])
                 - (UNDER_WEIGHT + 1) * cp_model.LinearExpr.sum(allocs))
    if shortfalls:
        # Shortfalls are in minutes; the weight is per quarter-hour (rounded up to whole units).
        objective += cp_model.LinearExpr.sum(shortfalls) * -(-SOFT_MIN_HOURS_WEIGHT // p.step)
    m.minimize(objective)
    constant = UNDER_WEIGHT * sum(p.pooled)
    build_s = time.perf_counter() - t0
    n_vars = len(x) + len(work) + len(cnt) + len(allocs) + len(shortfalls)
    log(f"cp-sat model: {n_vars:,} variables ({len(x):,} shift booleans), {n_constraints:,} constraints, "
        f"built in {build_s:.1f} s")

    class Progress(cp_model.CpSolverSolutionCallback):
        def __init__(self):
            super().__init__()
            self.solutions = []

        def on_solution_callback(self):
            self.solutions.append((time.perf_counter() - t_solve, self.objective_value + constant))

    # Writing the roster afterwards takes a moment per variable read back: keep it inside T.
    reserve = 0.5 + 3e-6 * len(x)
    solve_limit = limit_s if budget == "solve" else max(1.0, deadline - time.time() - reserve)
    solver = cp_model.CpSolver()
    if params and not solver.parameters.merge_text_format(params):
        raise SystemExit(f"--cpsat-params: {params!r} is not SatParameters text format")
    solver.parameters.num_workers = workers
    solver.parameters.max_time_in_seconds = solve_limit
    progress = Progress()
    t_solve = time.perf_counter()
    status = solver.solve(m, progress)
    solve_s = time.perf_counter() - t_solve
    name = solver.status_name(status)
    result = {"status": name, "build_seconds": build_s, "solve_seconds": solve_s, "solve_limit_s": solve_limit,
              "variables": n_vars, "shift_booleans": len(x), "constraints": n_constraints, "workers": workers,
              "solutions": len(progress.solutions),
              "first_solution_s": progress.solutions[0][0] if progress.solutions else None,
              "soft_min_hours_agents": soft_agents}
    shifts = {}
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        result["objective"] = solver.objective_value + constant
        result["best_bound"] = solver.best_objective_bound + constant
        for (a, d), w in work.items():
            if solver.boolean_value(w):
                shifts[a, d] = next(p.shapes[s] for s in allowed[a] if solver.boolean_value(x[a, d, s]))
    log(f"cp-sat: {name} after {solve_s:.1f} s of {solve_limit:.1f}"
        + (f", objective {result['objective']:.0f}, bound {result['best_bound']:.0f}" if shifts else ""))
    return result, shifts


# --------------------------------------------------------------------------------------------
# pyworkforce shift design (child process)
# --------------------------------------------------------------------------------------------

def solve_pyworkforce(p: Problem, kind: str, limit_s: float, workers: int, log) -> dict:
    from pyworkforce.scheduling import MinAbsDifference, MinRequiredResources

    A = len(p.agents)
    per = p.per_day
    coverage = {}
    for st, ln in p.shapes:
        v = [0] * per
        for o in range(st // p.step, (st + ln) // p.step):
            v[o] = 1
        coverage[f"{st // 60:02d}:{st % 60:02d}+{ln}m"] = v
    # Its grid is days x local periods; a local time a clock change skips needs nobody.
    pooled = p.pooled
    index = dict(p.by_local)
    required = [[pooled[index[p.local(d, o * p.step)]] if p.local(d, o * p.step) in index else 0
                 for o in range(per)] for d in range(len(p.days))]
    notes = []
    if kind == "min":
        # Full coverage is a hard constraint there: what no shape reaches, or more than the whole
        # staff, would make it infeasible.
        reach = [any(v[o] for v in coverage.values()) for o in range(per)]
        clipped = [[min(r, A) if reach[o] else 0 for o, r in enumerate(row)] for row in required]
        dropped = sum(map(sum, required)) - sum(map(sum, clipped))
        if dropped:
            notes.append(f"requirement clipped by {dropped} agent-intervals to be coverable")
        required = clipped
        model = MinRequiredResources(num_days=len(p.days), periods=per, shifts_coverage=coverage,
                                     required_resources=required, max_period_concurrency=A,
                                     max_shift_concurrency=A, max_search_time=float(limit_s),
                                     num_search_workers=workers)
    else:
        model = MinAbsDifference(num_days=len(p.days), periods=per, shifts_coverage=coverage,
                                 required_resources=required, max_period_concurrency=A,
                                 max_shift_concurrency=A, max_search_time=float(limit_s),
                                 num_search_workers=workers)
    # pyworkforce 0.5.1 sets `solver.num_search_workers`, which is no solver parameter: set it here.
    model.solver.parameters.num_workers = workers
    t = time.perf_counter()
    sol = model.solve()
    log(f"pyworkforce {kind}: {sol['status']} in {time.perf_counter() - t:.1f} s, cost {sol['cost']}")
    names = list(coverage)
    design = [(r["day"], names.index(r["shift"]), r["resources"]) for r in sol["resources_shifts"]
              if r["day"] >= 0 and r["resources"] > 0]
    return {"status": sol["status"], "cost": sol["cost"], "design": design, "notes": notes,
            "solve_seconds": time.perf_counter() - t, "workers": workers}


def evaluate_design(p: Problem, design: list[tuple[int, int, int]]) -> dict:
    """Pooled coverage of a shift design, each shift present for its whole length (no breaks), in
    the names of wfm's report. A design has no roster for `wfm check-roster` to judge: this is the
    design's own coverage, and it has no skills, so over-staffing is the pooled excess."""
    duty = [0] * p.n
    paid = 0.0
    per_day = Counter()
    for d, s, count in design:
        st, ln = p.shapes[s]
        for i in p.cover(d, st, st + ln):
            duty[i] += count
        paid += count * paid_minutes(ln, p.rules, p.step) / 60
        per_day[d] += count
    req = p.pooled
    return {
        "required_agent_intervals": sum(req),
        "under_staffed_agent_intervals": sum(max(0, r - s) for r, s in zip(req, duty)),
        "over_staffed_agent_intervals": sum(max(0, s - r) for r, s in zip(req, duty)),
        "paid_hours": paid,
        "shifts": sum(c for _, _, c in design),
        "max_shifts_a_day": max(per_day.values(), default=0),
    }


def child_main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="bench_schedule.py _child")
    ap.add_argument("tool", choices=["cpsat", "pwf-abs", "pwf-min"])
    ap.add_argument("--instance", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--time-limit-s", type=float, required=True)
    ap.add_argument("--deadline", type=float, required=True, help="epoch seconds: launch + limit")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--budget", default="total")
    ap.add_argument("--params", default="")
    a = ap.parse_args(argv)
    inst, out = Path(a.instance), Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    log = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731
    p = load_problem(inst / "requirements.csv", inst / "agents.csv", inst / "rules.toml",
                     dt.date.fromisoformat(ROSTER_FROM), WEEKS)
    if a.tool == "cpsat":
        result, shifts = solve_cpsat(p, a.deadline, a.workers, a.budget, a.time_limit_s, a.params, log)
        if shifts:
            write_roster(out / "roster.csv", p, shifts)
            result["shifts"] = len(shifts)
    else:
        result = solve_pyworkforce(p, a.tool.split("-")[1], a.time_limit_s, a.workers, log)
    (out / "result.json").write_text(json.dumps(result, indent=1) + "\n")
    return 0


# --------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------

def run_measured(cmd: list[str]) -> tuple[float, float | None, int, str]:
    """Wall seconds, peak RSS (MB), exit code and stderr of one command; unlike `timed`, a failing
    command is a result here (wfm fails on hard-rule conflicts, a solver may run out of memory)."""
    t = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True)
    wall = time.perf_counter() - t
    lines = proc.stderr.strip().splitlines()
    try:
        rss = int(lines[-1]) / 1024
        lines = lines[:-1]
    except (IndexError, ValueError):
        rss = None
    return wall, rss, proc.returncode, "\n".join(lines)


def count_agents(path: Path, tenant: str = "demo") -> int:
    return len(load_agents(path, tenant))


def calibrate(wfm: str, target: int, scratch: Path, log) -> tuple[int, int]:
    """Daily calls for which `wfm generate` hires about `target` agents. Its staff is sized from
    the calls alone, so one generated day is enough to count it."""
    tried: dict[int, int] = {}
    calls = round(target * CALLS_PER_AGENT_GUESS)
    for _ in range(10):
        if calls in tried:
            break
        out = scratch / f"probe-{calls}"
        timed([wfm, "generate", "--out", str(out), "--days", "1", "--seed", str(SEED), "--queues", str(QUEUES),
               "--daily-calls", str(calls), "--start", GEN_START])
        tried[calls] = count_agents(out / "agents.csv")
        shutil.rmtree(out, ignore_errors=True)
        log(f"  probe --daily-calls {calls}: {tried[calls]} agents")
        if abs(tried[calls] - target) <= max(1, target // 100):
            break
        # The staff grows about linearly with the calls past a fixed margin of 2 agents.
        calls = max(1, round(calls * (target - 2) / max(tried[calls] - 2, 1)))
    best = min(tried, key=lambda c: (abs(tried[c] - target), c))
    return best, tried[best]


def ensure_instance(wfm: str, size: int, data: Path, log) -> dict:
    """benches/data/sched-N: generated history, forecast, requirements (built once, then reused)."""
    root = data / f"sched-{size}"
    meta_path = root / "instance.json"
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if all((root / f).exists() for f in ("requirements.csv", "agents.csv", "rules.toml")):
            return meta
    root.mkdir(parents=True, exist_ok=True)
    log(f"# sched-{size}: calibrating --daily-calls")
    calls, agents = calibrate(wfm, size, root, log)
    gen = root / "gen"
    shutil.rmtree(gen, ignore_errors=True)
    horizon = f"{7 * WEEKS}d"
    cmds = [
        [wfm, "generate", "--out", str(gen), "--days", str(GEN_DAYS), "--seed", str(SEED), "--queues", str(QUEUES),
         "--daily-calls", str(calls), "--start", GEN_START],
        [wfm, "forecast", "--store", str(gen / "store"), "--tenant", "demo", "--from", ROSTER_FROM,
         "--horizon", horizon, "--no-learn", "--out", str(root / "fc.csv")],
        [wfm, "staff", "--forecast", str(root / "fc.csv"), "--sl-target", str(SL_TARGET),
         "--threshold-s", f"{THRESHOLD_S:g}", "--out", str(root / "requirements.csv")],
    ]
    seconds = []
    for c in cmds:
        s, _ = timed(c)
        seconds.append(s)
        log(f"  {c[1]}: {s:.1f} s")
    shutil.copy(gen / "agents.csv", root / "agents.csv")
    shutil.copy(gen / "rules.toml", root / "rules.toml")
    shutil.rmtree(gen / "store", ignore_errors=True)  # large, and the forecast is cached
    meta = {"size": size, "daily_calls": calls, "agents": count_agents(root / "agents.csv"), "from": ROSTER_FROM,
            "weeks": WEEKS, "commands": [shlex.join(c) for c in cmds], "seconds": seconds}
    meta_path.write_text(json.dumps(meta, indent=1) + "\n")
    return meta


def fmt_int(v) -> str:
    return "-" if v is None else f"{v:,.0f}".replace(",", " ")


def pct(v, total) -> str:
    return "" if v is None or not total else f" ({100 * v / total:.2f} %)"


def mb(v) -> str:
    return "-" if v is None else f"{v:.0f} MB"


def violations_cell(v) -> str:
    if v is None:
        return "not checked"
    if isinstance(v, str):
        return v
    if not v:
        return "0"
    by_rule = Counter(x.get("rule", "?") for x in v)
    return f"{len(v)} (" + ", ".join(f"{r} {n}" for r, n in by_rule.most_common(3)) + ")"


def run_wfm(args, inst: Path, out: Path, base: dict, commands: list[str], log) -> dict:
    """`wfm schedule`, timed as a whole process; its report gives the LP bound."""
    out.mkdir(parents=True, exist_ok=True)
    cmd = [args.wfm, "schedule", "--requirements", str(inst / "requirements.csv"), "--agents",
           str(inst / "agents.csv"), "--rules", str(inst / "rules.toml"), "--from", ROSTER_FROM, "--weeks",
           str(WEEKS), "--time-limit-s", f"{args.time_limit_s:g}", "--out", str(out / "roster.csv"), "--report",
           str(out / "report.json")]
    commands.append(shlex.join(cmd))
    wall, rss, rc, err = run_measured(cmd)
    log(f"  wfm schedule: {wall:.2f} s, exit {rc}")
    row = {**base, "tool": "wfm", "seconds": wall, "rss_mb": rss, "exit": rc, "notes": [], "violations": "no roster"}
    # It fails on hard-rule conflicts but still writes the roster and the report.
    if (out / "report.json").exists():
        rep = json.loads((out / "report.json").read_text())
        row["bound"] = rep.get("lower_bound_under_staffed")
        if rep.get("unfilled_shifts"):
            row["notes"].append(f"{rep['unfilled_shifts']} designed shifts unfilled")
    else:
        row["notes"].append(f"no report: {err.strip()[-200:]}")
    if (out / "roster.csv").exists():
        row["roster"] = str(out / "roster.csv")
    return row


def child_cmd(tool: str, args, inst: Path, out: Path) -> list[str]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "_child", tool, "--instance", str(inst), "--out", str(out),
           "--time-limit-s", f"{args.time_limit_s:g}", "--workers", str(args.workers)]
    if tool == "cpsat":
        cmd += ["--budget", args.cpsat_budget] + (["--params", args.cpsat_params] if args.cpsat_params else [])
    return cmd + ["--deadline"]


def run_cpsat(args, inst: Path, out: Path, base: dict, commands: list[str], log) -> dict:
    cmd = child_cmd("cpsat", args, inst, out)
    commands.append(shlex.join(cmd) + " <launch + time limit, epoch seconds>")
    wall, rss, rc, err = run_measured(cmd + [f"{time.time() + args.time_limit_s:.3f}"])
    log(f"  cp-sat: {wall:.2f} s, exit {rc}, peak {rss or 0:.0f} MB")
    row = {**base, "tool": "cp-sat", "seconds": wall, "rss_mb": rss, "exit": rc, "notes": [],
           "violations": "no roster"}
    res = json.loads((out / "result.json").read_text()) if (out / "result.json").exists() else None
    row["cpsat"] = res
    if res is None:
        # Killed (out of memory) or crashed before writing anything: that is the result.
        row["notes"].append(f"no result (exit {rc}): {err.strip()[-300:]}")
        return row
    row["notes"].append(f"{res['status']}; model {res['variables']:,} variables, built in {res['build_seconds']:.1f} s,"
                        f" solver limit {res['solve_limit_s']:.0f} s")
    if res.get("first_solution_s") is not None:
        row["notes"].append(f"first solution after {res['first_solution_s']:.1f} s of solving, "
                            f"{res['solutions']} in all")
    if res.get("soft_min_hours_agents"):
        row["notes"].append(f"{len(res['soft_min_hours_agents'])} agents' unreachable minimum hours made soft")
    if (out / "roster.csv").exists():
        row["roster"] = str(out / "roster.csv")
    return row


def run_pyworkforce(args, p: Problem, inst: Path, out: Path, base: dict, commands: list[str], log) -> list[dict]:
    rows = []
    for kind, label in (("pwf-abs", "pyworkforce MinAbsDifference"), ("pwf-min", "pyworkforce MinRequiredResources")):
        d = out / kind
        cmd = child_cmd(kind, args, inst, d)
        commands.append(shlex.join(cmd) + " <launch + time limit, epoch seconds>")
        wall, rss, rc, err = run_measured(cmd + [f"{time.time() + args.time_limit_s:.3f}"])
        log(f"  {label}: {wall:.2f} s, exit {rc}")
        row = {**base, "tool": label, "seconds": wall, "rss_mb": rss, "exit": rc,
               "violations": "n/a: design only, no named agents, no labour rules", "notes": []}
        res = json.loads((d / "result.json").read_text()) if (d / "result.json").exists() else None
        if res is None:
            row["notes"].append(f"no result (exit {rc}): {err.strip()[-300:]}")
        else:
            row["notes"].append(f"{res['status']}; no breaks")
            row["notes"].extend(res["notes"])
            if res["design"]:
                cov = row["design_coverage"] = evaluate_design(p, [tuple(x) for x in res["design"]])
                row["judged"] = "design (pooled)"
                if cov["max_shifts_a_day"] > len(p.agents):
                    row["notes"].append(f"{cov['max_shifts_a_day']} shifts on one day, more than the agents")
        rows.append(row)
    return rows


def judge(row: dict, args, inst: Path, commands: list[str]) -> None:
    """`wfm check-roster` on the row's roster: one judge (wfm's independent checker, per-skill
    coverage, projected service level) for wfm's and CP-SAT's rosters alike."""
    roster = Path(row["roster"])
    out = roster.parent / "check.json"
    out.unlink(missing_ok=True)  # a report left by an earlier run in the same --work is no verdict
    # The period is the roster's own dates: every roster here has a row (day-off included) for
    # each of its days.
    cmd = [args.wfm, "check-roster", "--roster", str(roster), "--agents", str(inst / "agents.csv"), "--rules",
           str(inst / "rules.toml"), "--requirements", str(inst / "requirements.csv"), "--report", str(out)]
    commands.append(shlex.join(cmd))
    proc = subprocess.run(cmd, capture_output=True, text=True)
    # It fails on hard-rule violations but still writes the report: the report is the verdict.
    if not out.exists():
        row["violations"] = "not judged"
        row["notes"].append(f"check-roster failed (exit {proc.returncode}): {proc.stderr.strip()[-300:]}")
        return
    rep = json.loads(out.read_text())
    row["check"] = {k: v for k, v in rep.items() if k not in ("coverage", "fairness")}
    row["violations"] = rep.get("hard_rule_violations")
    if rep.get("lower_bound_under_staffed") is not None:
        row["bound"] = rep["lower_bound_under_staffed"]
    row["judged"] = "check-roster"


def print_report(rows: list[dict], instances: list[dict], commands: list[str], args) -> None:
    import ortools
    import pyworkforce

    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    print(f"Machine: {cpu_model()}, {os.cpu_count()} logical CPUs, {mem_gb:.0f} GB RAM; python "
          f"{platform.python_version()}, ortools {ortools.__version__}, pyworkforce {pyworkforce.__version__}. "
          f"Time limit {args.time_limit_s:g} s for every tool; CP-SAT (this script's model and pyworkforce's) with "
          f"num_workers={args.workers} (the machine has {os.cpu_count()} cores); CP-SAT budget: {args.cpsat_budget}"
          + (f"; CP-SAT parameters: {args.cpsat_params}" if args.cpsat_params else "") + ".")
    print("Judged by: check-roster = `wfm check-roster` (wfm's independent checker and coverage code: per-skill "
          "allocation by maximum flow, over-staffed = agents at work that no requirement they are skilled for "
          "needs, service level per queue); design (pooled) = this script's count of a pyworkforce design's own "
          "coverage (shifts without breaks on the queues pooled, over-staffed = the pooled excess).\n")
    print("| agents | tool | required agent-intervals | seconds | peak RSS | under-staffed (pooled) | "
          "under-staffed (per skill) | over-staffed | paid hours | gap to LP bound | projected SL | "
          "hard-rule violations | judged by | notes |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    bounds = {}
    for row in rows:
        bound = next((r["bound"] for r in rows if r["size"] == row["size"] and r.get("bound") is not None), None)
        bounds[row["agents"]] = bound
        src = row.get("check") or row.get("design_coverage") or {}
        req = row["required"]
        under = src.get("under_staffed_agent_intervals")
        skill = src.get("skill_under_staffed_agent_intervals")
        gap = None if under is None or bound is None else under - bound
        sl = src.get("projected_service_level")
        sl_cell = "–" if "design_coverage" in row else "-" if sl is None else f"{100 * sl:.1f} %"
        print(f"| {row['agents']} | {row['tool']} | {fmt_int(req)} | {row['seconds']:.2f} | {mb(row.get('rss_mb'))} | "
              f"{fmt_int(under)}{pct(under, req)} | {fmt_int(skill)}{pct(skill, req)} | "
              f"{fmt_int(src.get('over_staffed_agent_intervals'))} | {fmt_int(src.get('paid_hours'))} | "
              f"{'-' if gap is None else f'{gap:+,.0f}'.replace(',', ' ')} | "
              f"{sl_cell} | {violations_cell(row.get('violations'))} | "
              f"{row.get('judged', '-')} | {'; '.join(row['notes'])} |")
    print("\nLP bound = under-staffing of wfm's shift-design relaxation on the pooled requirement (no roster of "
          "these shapes with at most one shift per agent a day does better, pooled or per skill): "
          + ", ".join(f"{a} agents: {'-' if b is None else f'{b:.0f}'}" for a, b in bounds.items()))
    print("\nProjected SL \"–\": pyworkforce's rows are designs only (shifts per shape and day, no named agents, "
          "no breaks): there is no roster for `wfm check-roster` to judge, so no service level and no per-skill "
          "coverage.")
    print("\nInstances: " + "; ".join(f"sched-{m['size']}: --daily-calls {m['daily_calls']} -> {m['agents']} agents"
                                      for m in instances))
    print("\nCommands:\n```sh")
    for c in commands:
        print(c)
    print("```")


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        ensure_modules(["ortools", "pyworkforce"])
        return child_main(sys.argv[2:])
    candidates = [Path(os.environ["CARGO_TARGET_DIR"]) / "release/wfm" if os.environ.get("CARGO_TARGET_DIR") else None,
                  REPO / "target/release/wfm", REPO.parent / "target/release/wfm"]
    default_wfm = next((str(c) for c in candidates if c is not None and c.exists()), str(REPO / "target/release/wfm"))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--wfm", default=default_wfm)
    ap.add_argument("--sizes", default="50,200,500", help="agents per instance (about: the generator decides)")
    ap.add_argument("--time-limit-s", type=float, default=60.0)
    ap.add_argument("--workers", type=int, default=2, help="CP-SAT workers (cp-sat and pyworkforce)")
    ap.add_argument("--cpsat-budget", choices=["total", "solve"], default="total",
                    help="total: model building counts against the limit (same wall clock as wfm); "
                         "solve: the solver alone gets the whole limit")
    ap.add_argument("--cpsat-params", default="",
                    help="extra CP-SAT parameters in protobuf text format, e.g. 'cp_model_probing_level:0' "
                         "(default: the solver's own, with num_workers and the time limit)")
    ap.add_argument("--work", help="rosters, reports and results.json (default: a temp dir, removed)")
    ap.add_argument("--data", default=str(REPO / "benches/data"), help="instance cache (sched-N below it)")
    ap.add_argument("--skip-cpsat", action="store_true")
    ap.add_argument("--skip-pyworkforce", action="store_true")
    args = ap.parse_args()
    ensure_modules(["ortools", "pyworkforce"])
    if not os.access(args.wfm, os.X_OK):
        raise SystemExit(f"{args.wfm}: no wfm binary (cargo build --release --bin wfm)")
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    log = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731
    # Every roster is judged by `wfm check-roster`; without it there is nothing to compare with.
    if subprocess.run([args.wfm, "check-roster", "--help"], capture_output=True).returncode != 0:
        raise SystemExit(f"{args.wfm}: this wfm has no `check-roster` command, which judges every roster here; "
                         "rebuild it (cargo build --release --bin wfm)")
    work, tmp = work_dir(args.work, "bench-schedule-")
    rows, commands, instances = [], [], []
    try:
        for size in sizes:
            meta = ensure_instance(args.wfm, size, Path(args.data), log)
            inst = Path(args.data) / f"sched-{size}"
            instances.append(meta)
            commands.extend(meta["commands"])
            p = load_problem(inst / "requirements.csv", inst / "agents.csv", inst / "rules.toml",
                             dt.date.fromisoformat(ROSTER_FROM), WEEKS)
            log(f"# sched-{size}: {len(p.agents)} agents, {len(p.types)} skill types, {len(p.shapes)} shapes, "
                f"{sum(p.pooled):,} required agent-intervals")
            out = work / f"sched-{size}"
            base = {"size": size, "agents": len(p.agents), "required": sum(p.pooled)}
            these = [run_wfm(args, inst, out / "wfm", base, commands, log)]
            if not args.skip_cpsat:
                these.append(run_cpsat(args, inst, out / "cpsat", base, commands, log))
            if not args.skip_pyworkforce:
                these.extend(run_pyworkforce(args, p, inst, out, base, commands, log))
            for row in these:
                if "roster" in row:
                    judge(row, args, inst, commands)
            rows.extend(these)
    finally:
        if work.exists():
            (work / "results.json").write_text(json.dumps({"rows": rows, "instances": instances}, indent=1,
                                                          default=str) + "\n")
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    print_report(rows, instances, commands, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
