//! Shift design: how many shifts of each shape start on each day so that the staff on duty
//! covers the requirement curve, before anyone is named.
//!
//! A linear programme over (day, shape) counts with an under-staffing slack per interval:
//! minimise `UNDER_WEIGHT × under-staffed agent-intervals + paid agent-intervals`, subject to
//! coverage, to at most `max_shifts_per_day` shifts a day and, when given, to the paid minutes
//! the staff can work in each calendar week ([`WeeklyBudget`]: with too few agents, shifts are
//! designed for the hours there are rather than left unfilled at the end of each week). Its
//! optimum is the lower bound
//! the roster is measured against; the counts are then rounded down and topped up greedily
//! where the curve is short. (Coverage counts a shift as present for its whole length; breaks
//! are placed afterwards.)

use crate::demand::Demand;
use crate::rules::{is_night, ShiftRules, ShiftWindow};
use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime};
use std::collections::BTreeMap;
use good_lp::{constraint, microlp, variable, Expression, ProblemVariables, Solution, SolverModel, Variable};

/// A shift's shape: start (minutes after local midnight) and length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Shape {
    pub start_min: u32,
    pub length_min: u32,
}

impl Shape {
    /// A night shift, for the rules about runs of nights ([`crate::rules::is_night`]).
    pub fn is_night(&self) -> bool {
        is_night(i64::from(self.start_min + self.length_min))
    }
}

/// Every shape the rules allow inside `window`. A shape's start and length are the clocks'
/// (a 22:00–06:00 night is 480 minutes even when summer time makes it 420 in fact).
pub fn shapes(lengths_min: &[u32], start_step_min: u32, window: ShiftWindow) -> Vec<Shape> {
    let mut out = Vec::new();
    for &length_min in lengths_min {
        let mut start = window.earliest_start.minutes().div_ceil(start_step_min) * start_step_min;
        while start < 1440 && window.holds(start, length_min) {
            out.push(Shape { start_min: start, length_min });
            start += start_step_min;
        }
    }
    out.sort();
    out
}

/// Every shape the rules allow in any window, team windows included.
pub fn all_shapes(rules: &ShiftRules) -> Vec<Shape> {
    let mut all: Vec<Shape> = std::iter::once(&rules.window).chain(rules.team_windows.values()).flat_map(|w| shapes(&rules.lengths_min, rules.start_step_min, *w)).collect();
    all.sort();
    all.dedup();
    all
}

/// The paid minutes the staff can work in each calendar week (keyed by its Monday), and each
/// shape's paid minutes (in the order of the shapes designed for).
#[derive(Debug, Clone, PartialEq)]
pub struct WeeklyBudget {
    pub paid_min_by_week: BTreeMap<NaiveDate, f64>,
    pub shape_paid_min: Vec<f64>,
}

/// The Monday of `day`'s week.
fn monday_of(day: NaiveDate) -> NaiveDate {
    day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

/// Agent-intervals under-staffed cost this many paid agent-intervals.
pub const UNDER_WEIGHT: f64 = 20.0;

#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    pub days: Vec<NaiveDate>,
    pub shapes: Vec<Shape>,
    /// Agents required per interval (queues pooled), on `grid`.
    pub required: Vec<u32>,
    pub grid: LocalGrid,
    pub step_min: u32,
    /// `counts[day][shape]`.
    pub counts: Vec<Vec<u32>>,
    /// Agents on duty per interval of the demand grid.
    pub on_duty: Vec<u32>,
    pub under_staffed: u64,
    pub over_staffed: u64,
    /// The linear programme's under-staffing: no integer design does better.
    pub lower_bound_under: f64,
    /// Intervals with a requirement that no allowed shift reaches on any day, the day before
    /// the first included (the windows leave them out), in time order.
    pub out_of_reach: Vec<usize>,
    /// [`Design::utc_min`] of every grid step of each day's first two days, `per day` apart:
    /// the roster search asks for them at every move.
    utc_steps: Vec<i64>,
    budget: Option<WeeklyBudget>,
}

/// Grid steps of [`Design::utc_steps`] per day: a shift may end the next day.
fn steps_per_day(step_min: u32) -> usize {
    (2 * 1440 / step_min) as usize + 1
}

impl Design {
    /// The grid intervals a shift of `shape` on day `day` spans, clipped to the grid.
    pub fn cover(&self, day: usize, shape: &Shape) -> std::ops::Range<usize> {
        self.grid.cover(self.days[day], shape)
    }

    /// A local time of day `day`, `minute` minutes after its midnight, with its offset.
    pub fn at(&self, day: usize, minute: i64) -> DateTime<FixedOffset> {
        self.grid.instant(self.days[day].and_time(NaiveTime::MIN) + Duration::minutes(minute))
    }

    /// Minutes since the Unix epoch of a local time of day `day`: rest between shifts is real
    /// time.
    pub fn utc_min(&self, day: usize, minute: i64) -> i64 {
        let (step, per_day) = (i64::from(self.step_min), steps_per_day(self.step_min));
        match self.utc_steps.get(day * per_day + (minute / step) as usize) {
            Some(&cached) if minute >= 0 && minute % step == 0 && ((minute / step) as usize) < per_day => cached,
            _ => self.at(day, minute).timestamp().div_euclid(60),
        }
    }

    /// A shift of `shape` on day `day` as lived: its start, and the length it really lasts —
    /// an hour less or more than the clocks say on the nights summer time starts or ends.
    /// Pauses are planned, and paid time counted, on this length.
    pub fn as_lived(&self, day: usize, shape: &Shape) -> Shape {
        let start = i64::from(shape.start_min);
        let real = self.utc_min(day, start + i64::from(shape.length_min)) - self.utc_min(day, start);
        Shape { start_min: shape.start_min, length_min: real.max(0) as u32 }
    }

    /// Adds to `counts` the shift that removes the most under-staffing of `required` (given
    /// `on_duty`, updated) while one is worth its paid time and day `d` has `room[d]` left.
    /// Within the weekly budget, when the design has one.
    pub fn top_up(&self, counts: &mut [Vec<u32>], on_duty: &mut [u32], room: &[u32]) {
        let mut room = room.to_vec();
        let mut left: Option<BTreeMap<NaiveDate, f64>> = self.budget.as_ref().map(|b| {
            let mut left = b.paid_min_by_week.clone();
            for (d, day) in counts.iter().enumerate() {
                let used: f64 = day.iter().zip(&b.shape_paid_min).map(|(&n, &paid)| f64::from(n) * paid).sum();
                *left.entry(monday_of(self.days[d])).or_insert(f64::INFINITY) -= used;
            }
            left
        });
        loop {
            let mut best: Option<(usize, usize, i64)> = None;
            for d in (0..self.days.len()).filter(|&d| room[d] > 0) {
                for (s, shape) in self.shapes.iter().enumerate() {
                    if let (Some(left), Some(b)) = (&left, &self.budget)
                        && left.get(&monday_of(self.days[d])).is_some_and(|&l| l < b.shape_paid_min[s])
                    {
                        continue;
                    }
                    let range = self.cover(d, shape);
                    let gain = range.clone().filter(|&i| on_duty[i] < self.required[i]).count() as i64;
                    // Worth it when the covered shortage outweighs the paid time.
                    let value = gain * UNDER_WEIGHT as i64 - range.len() as i64;
                    if value > 0 && best.is_none_or(|(_, _, v)| value > v) {
                        best = Some((d, s, value));
                    }
                }
            }
            let Some((d, s, _)) = best else { return };
            counts[d][s] += 1;
            room[d] -= 1;
            if let (Some(left), Some(b)) = (&mut left, &self.budget) {
                *left.entry(monday_of(self.days[d])).or_insert(f64::INFINITY) -= b.shape_paid_min[s];
            }
            for i in self.cover(d, &self.shapes[s]) {
                on_duty[i] += 1;
            }
        }
    }
}

/// The requirement's intervals in local time: where a local time falls on the grid, and its
/// offset from UTC, so that shifts keep their wall-clock times across a change to or from
/// summer time inside the roster.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalGrid {
    starts: Vec<DateTime<FixedOffset>>,
    /// (local start, index) sorted; an hour repeated when clocks go back keeps its first pass.
    by_local: Vec<(NaiveDateTime, usize)>,
    step_min: i64,
}

impl LocalGrid {
    /// `starts`: consecutive intervals `step_min` apart, at least one.
    pub fn new(starts: &[DateTime<FixedOffset>], step_min: u32) -> Self {
        let mut by_local: Vec<(NaiveDateTime, usize)> = starts.iter().enumerate().map(|(i, t)| (t.naive_local(), i)).collect();
        by_local.sort();
        by_local.dedup_by_key(|(local, _)| *local);
        Self { starts: starts.to_vec(), by_local, step_min: i64::from(step_min) }
    }

    /// The interval a local time falls in (negative before the grid, past its length after).
    fn position(&self, t: NaiveDateTime) -> i64 {
        let (first, last) = (self.by_local[0], *self.by_local.last().expect("a grid has intervals"));
        if t < first.0 {
            return (t - first.0).num_minutes().div_euclid(self.step_min);
        }
        if t >= last.0 {
            return last.1 as i64 + (t - last.0).num_minutes() / self.step_min;
        }
        let k = self.by_local.partition_point(|(local, _)| *local <= t) - 1;
        let (local, index) = self.by_local[k];
        index as i64 + (t - local).num_minutes() / self.step_min
    }

    /// The grid intervals a shift of `shape` on `day` spans, clipped to the grid.
    pub fn cover(&self, day: NaiveDate, shape: &Shape) -> std::ops::Range<usize> {
        let start = day.and_time(NaiveTime::MIN) + Duration::minutes(i64::from(shape.start_min));
        let end = start + Duration::minutes(i64::from(shape.length_min));
        let len = self.starts.len() as i64;
        let (from, to) = (self.position(start).clamp(0, len) as usize, self.position(end).clamp(0, len) as usize);
        from.min(to)..to
    }

    /// An instant written with the offset in force then on the grid (the first interval's
    /// before it starts, the last's after it ends).
    pub fn with_local_offset(&self, t: DateTime<FixedOffset>) -> DateTime<FixedOffset> {
        let k = self.starts.partition_point(|s| *s <= t).saturating_sub(1);
        t.with_timezone(self.starts[k].offset())
    }

    /// The instant a local time names: an hour repeated when clocks go back is its first pass;
    /// a time the clocks skip when they go forward is the instant they skip to (so that times
    /// never run backwards). Outside the grid, the nearest interval's offset.
    pub fn instant(&self, t: NaiveDateTime) -> DateTime<FixedOffset> {
        let k = self.by_local.partition_point(|(local, _)| *local <= t).saturating_sub(1);
        let (local, index) = self.by_local[k];
        let guess = self.starts[index] + (t - local);
        match self.by_local.get(k + 1) {
            Some(&(_, next)) if t > local && guess > self.starts[next] => self.starts[next],
            _ => guess,
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DesignError {
    #[error("the shift-design programme failed: {0}")]
    Solver(String),
}

/// Designs shifts for `required` (agents per interval on `demand`'s grid, queues pooled).
pub fn design(demand: &Demand, required: &[u32], shapes: &[Shape], max_shifts_per_day: u32) -> Result<Design, DesignError> {
    design_within(demand, required, shapes, max_shifts_per_day, None)
}

/// [`design`] within the paid minutes the staff can work each week.
pub fn design_within(demand: &Demand, required: &[u32], shapes: &[Shape], max_shifts_per_day: u32, budget: Option<WeeklyBudget>) -> Result<Design, DesignError> {
    let first = demand.starts[0];
    let last = *demand.starts.last().expect("a demand has intervals");
    let days: Vec<NaiveDate> = first.date_naive().iter_days().take_while(|d| *d <= last.date_naive()).collect();
    let grid = LocalGrid::new(&demand.starts, demand.interval_min);
    let cover = |day: NaiveDate, shape: &Shape| grid.cover(day, shape);
    let mut vars = ProblemVariables::new();
    let x: Vec<Vec<Variable>> = days.iter().map(|_| shapes.iter().map(|_| vars.add(variable().min(0))).collect()).collect();
    let under: Vec<Variable> = required.iter().map(|_| vars.add(variable().min(0))).collect();
    let mut objective = Expression::from(0.0);
    let mut covering: Vec<Expression> = required.iter().map(|_| Expression::from(0.0)).collect();
    for (d, day) in days.iter().enumerate() {
        for (s, shape) in shapes.iter().enumerate() {
            let range = cover(*day, shape);
            objective += x[d][s] * (range.len() as f64);
            for i in range {
                covering[i] += x[d][s];
            }
        }
    }
    for u in &under {
        objective += *u * UNDER_WEIGHT;
    }
    let mut problem = vars.minimise(objective).using(microlp);
    for (i, expr) in covering.into_iter().enumerate() {
        problem = problem.with(constraint!(expr + under[i] >= f64::from(required[i])));
    }
    for row in &x {
        let total: Expression = row.iter().copied().sum();
        problem = problem.with(constraint!(total <= f64::from(max_shifts_per_day)));
    }
    if let Some(b) = &budget {
        let mut by_week: BTreeMap<NaiveDate, Expression> = BTreeMap::new();
        for (d, day) in days.iter().enumerate() {
            let paid: Expression = x[d].iter().zip(&b.shape_paid_min).map(|(&v, &paid)| v * paid).sum();
            *by_week.entry(monday_of(*day)).or_insert_with(|| Expression::from(0.0)) += paid;
        }
        for (monday, paid) in by_week {
            if let Some(&limit) = b.paid_min_by_week.get(&monday) {
                problem = problem.with(constraint!(paid <= limit));
            }
        }
    }
    let solution = problem.solve().map_err(|e| DesignError::Solver(e.to_string()))?;
    let lower_bound_under: f64 = under.iter().map(|u| solution.value(*u)).sum();

    // Round down, then add the shift that removes the most under-staffing while any does.
    let mut counts: Vec<Vec<u32>> = x.iter().map(|row| row.iter().map(|v| (solution.value(*v) + 1e-6).floor() as u32).collect()).collect();
    let mut on_duty = vec![0u32; required.len()];
    for (d, day) in days.iter().enumerate() {
        for (s, shape) in shapes.iter().enumerate() {
            for i in cover(*day, shape) {
                on_duty[i] += counts[d][s];
            }
        }
    }
    let mut out = Design {
        days,
        shapes: shapes.to_vec(),
        required: required.to_vec(),
        grid,
        step_min: demand.interval_min,
        counts: Vec::new(),
        on_duty: Vec::new(),
        under_staffed: 0,
        over_staffed: 0,
        lower_bound_under,
        out_of_reach: Vec::new(),
        utc_steps: Vec::new(),
        budget,
    };
    let step = i64::from(out.step_min);
    out.utc_steps = (0..out.days.len()).flat_map(|d| (0..steps_per_day(out.step_min) as i64).map(move |k| (d, k * step))).map(|(d, m)| out.at(d, m).timestamp().div_euclid(60)).collect();
    // A night of the day before the first reaches its first morning (the previous roster's).
    let mut reached = vec![false; required.len()];
    for day in out.days[0].pred_opt().into_iter().chain(out.days.iter().copied()) {
        for shape in shapes {
            reached[out.grid.cover(day, shape)].fill(true);
        }
    }
    out.out_of_reach = (0..required.len()).filter(|&i| required[i] > 0 && !reached[i]).collect();
    let room: Vec<u32> = counts.iter().map(|day| max_shifts_per_day.saturating_sub(day.iter().sum())).collect();
    out.top_up(&mut counts, &mut on_duty, &room);
    out.under_staffed = required.iter().zip(&on_duty).map(|(r, o)| u64::from(r.saturating_sub(*o))).sum();
    out.over_staffed = required.iter().zip(&on_duty).map(|(r, o)| u64::from(o.saturating_sub(*r))).sum();
    (out.counts, out.on_duty) = (counts, on_duty);
    Ok(out)
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::ClockTime;
    use chrono::{DateTime, FixedOffset};
    use std::collections::BTreeMap;

    fn demand(days: usize, curve: impl Fn(usize) -> u32) -> (Demand, Vec<u32>) {
        let first: DateTime<FixedOffset> = DateTime::parse_from_rfc3339("2026-03-02T00:00:00+01:00").unwrap();
        let n = days * 96;
        let starts = (0..n).map(|i| first + Duration::minutes(15 * i as i64)).collect();
        let required: Vec<u32> = (0..n).map(|i| curve(i % 96)).collect();
        (Demand { starts, interval_min: 15, queues: BTreeMap::new() }, required)
    }

    fn window(from: &str, to: &str) -> ShiftWindow {
        ShiftWindow { earliest_start: ClockTime::parse(from).unwrap(), latest_end: ClockTime::parse(to).unwrap() }
    }

    #[test]
    fn shapes_fit_the_window_on_the_step() {
        let s = shapes(&[480, 540], 30, window("06:00", "23:00"));
        assert_eq!(s.first(), Some(&Shape { start_min: 360, length_min: 480 }));
        assert!(s.iter().all(|s| s.start_min % 30 == 0 && s.start_min + s.length_min <= 1380));
        assert_eq!(s.iter().filter(|s| s.length_min == 480).count(), 19);
    }

    #[test]
    fn a_flat_block_is_covered_exactly() {
        // Three agents needed 09:00–17:00: three 8-hour shifts at 09:00, nothing else.
        let (d, required) = demand(1, |slot| if (36..68).contains(&slot) { 3 } else { 0 });
        let out = design(&d, &required, &shapes(&[480], 30, window("06:00", "23:00")), 10).unwrap();
        assert_eq!((out.under_staffed, out.over_staffed), (0, 0));
        assert!(out.lower_bound_under.abs() < 1e-6);
        let nine = out.shapes.iter().position(|s| s.start_min == 540).unwrap();
        assert_eq!(out.counts[0][nine], 3);
    }

    #[test]
    fn hours_no_window_reaches_are_named() {
        // Someone is needed 00:00–08:00, but shifts run 06:00–23:00.
        let (d, required) = demand(2, |slot| u32::from(slot < 32));
        let out = design(&d, &required, &shapes(&[480], 30, window("06:00", "23:00")), 10).unwrap();
        let slots: Vec<usize> = out.out_of_reach.iter().map(|i| i % 96).collect();
        assert_eq!(slots, [(0..24).collect::<Vec<_>>(), (0..24).collect()].concat());
        // A night window reaches them (the first morning from the night before the roster).
        let out = design(&d, &required, &shapes(&[480, 540], 30, window("22:00", "08:00")), 10).unwrap();
        assert_eq!(out.out_of_reach, Vec::<usize>::new());
        assert!(out.under_staffed >= 32, "nobody of this roster covers the first morning");
    }

    #[test]
    fn a_weekly_budget_caps_the_designed_hours() {
        // 5 needed 07:00–23:00 for a week, but the staff can work 100 paid hours in it.
        let (d, required) = demand(7, |slot| if (28..92).contains(&slot) { 5 } else { 0 });
        let shapes = shapes(&[480], 30, window("06:00", "23:00"));
        let monday = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        let budget = WeeklyBudget { paid_min_by_week: BTreeMap::from([(monday, 6000.0)]), shape_paid_min: vec![450.0; shapes.len()] };
        let out = design_within(&d, &required, &shapes, 10, Some(budget)).unwrap();
        let paid: u32 = out.counts.iter().flatten().sum::<u32>() * 450;
        assert!(paid <= 6000 && paid > 6000 - 450 * 2, "{paid} paid minutes designed");
        let free = design(&d, &required, &shapes, 10).unwrap();
        assert!(out.lower_bound_under > free.lower_bound_under + 500.0, "the bound knows the hours are short: {} against {}", out.lower_bound_under, free.lower_bound_under);
    }

    #[test]
    fn too_few_agents_leave_the_least_shortage() {
        // 5 needed all day 07:00–23:00 but only 4 shifts a day: the bound and the design agree.
        let (d, required) = demand(2, |slot| if (28..92).contains(&slot) { 5 } else { 0 });
        let out = design(&d, &required, &shapes(&[480], 30, window("06:00", "23:00")), 4).unwrap();
        assert!(out.counts.iter().all(|day| day.iter().sum::<u32>() <= 4));
        assert!(out.under_staffed as f64 >= out.lower_bound_under - 1e-6);
        assert!((out.under_staffed as f64) <= out.lower_bound_under * 1.05 + 1.0, "{} vs {}", out.under_staffed, out.lower_bound_under);
    }
}
