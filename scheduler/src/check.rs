//! The independent checker: every hard-rule violation of a roster, computed from the roster,
//! the agents and the rules alone. Solvers are tested against it, never against their own
//! bookkeeping.

use crate::agents::Agent;
use crate::months::month_shares;
use crate::roster::{ActivityKind, Roster, Shift};
use crate::rules::{is_night, night_rest_breaches, Rules};
use chrono::{Datelike, Duration, NaiveDate, Timelike};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// The rule's name as in `rules.toml` (or the agents file for contract rules).
    pub rule: &'static str,
    pub agent: String,
    pub date: NaiveDate,
    pub detail: String,
}

pub fn check(roster: &Roster, agents: &[Agent], rules: &Rules) -> Vec<Violation> {
    let by_id: HashMap<&str, &Agent> = agents.iter().map(|a| (a.id.as_str(), a)).collect();
    let mut out = Vec::new();
    let mut push = |rule, agent: &str, date, detail: String| out.push(Violation { rule, agent: agent.to_owned(), date, detail });

    let Some(horizon) = horizon(roster) else { return Vec::new() };
    let mut per_agent: BTreeMap<&str, Vec<&crate::roster::Activity>> = BTreeMap::new();
    for a in &roster.activities {
        per_agent.entry(a.agent_id.as_str()).or_default().push(a);
    }
    for (id, activities) in &mut per_agent {
        if !by_id.contains_key(id) {
            push("unknown-agent", id, activities[0].date, "not in the agents file".into());
        }
        activities.sort_by_key(|a| a.start);
        for pair in activities.windows(2) {
            if pair[1].start < pair[0].end {
                push("overlap", id, pair[1].date, format!("{} at {} overlaps {} until {}", pair[1].kind.as_str(), pair[1].start, pair[0].kind.as_str(), pair[0].end));
            }
        }
        let leaves: Vec<_> = activities.iter().filter(|a| a.kind == ActivityKind::Leave).collect();
        for a in activities.iter().filter(|a| a.kind.on_shift()) {
            if leaves.iter().any(|l| a.start < l.end && l.start < a.end) {
                push("leave", id, a.date, format!("{} at {} during approved leave", a.kind.as_str(), a.start));
            }
        }
    }

    let shifts = roster.shifts();
    for s in &shifts {
        let id = s.agent_id.as_str();
        let agent = by_id.get(id);
        check_shift(s, agent.map_or("", |a| a.team.as_str()), rules, &mut push);
        if let Some(a) = agent
            && !rules.open_for(a.skills.iter().map(|(q, _)| q), s.date, s.clock_start_min().max(0) as u32, s.clock_length_min().max(0) as u32) {
                let queues: Vec<String> = a.skills.iter().map(|(q, _)| q.to_string()).collect();
                push("service_hours", id, s.date, format!("{}–{} is outside the service hours of every queue of the agent ({})", s.start(), s.end(), queues.join(", ")));
            }
    }

    let dates: Vec<NaiveDate> = horizon.0.iter_days().take_while(|d| *d <= horizon.1).collect();
    let months = month_shares(horizon.0, horizon.1);
    let mut by_agent: BTreeMap<&str, Vec<&Shift>> = BTreeMap::new();
    for s in &shifts {
        by_agent.entry(s.agent_id.as_str()).or_default().push(s);
    }
    for (id, shifts) in &by_agent {
        let agent = by_id.get(id).copied();
        for pair in shifts.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            let rest = (b.start() - a.end()).num_minutes();
            if let Some(min) = rules.hard.min_rest_between_shifts_min
                && rest < i64::from(min) {
                    push("min_rest_between_shifts_hours", id, b.date, format!("{rest} minutes after the shift ending {}", a.end()));
                }
            if let Some(rule) = rules.hard.no_early_after_night {
                let night = a.clock_end_min() > i64::from(rule.night_end_after.minutes());
                let early = minute_of_day(b.start()) < rule.early_start_before.minutes();
                if a.date.succ_opt() == Some(b.date) && night && early {
                    push("no_early_after_night", id, b.date, format!("starts {} after a shift ending {}", b.start(), a.end()));
                }
            }
        }
        let worked: BTreeSet<NaiveDate> = shifts.iter().map(|s| s.date).collect();
        if let Some(min_off) = rules.hard.days_off_after_night_sequence {
            let nights: BTreeMap<NaiveDate, bool> = shifts.iter().map(|s| (s.date, is_night(s.clock_end_min()))).collect();
            let days: Vec<Option<bool>> = dates.iter().map(|d| nights.get(d).copied()).collect();
            for k in night_rest_breaches(&days, min_off) {
                push("days_off_after_night_sequence", id, dates[k], format!("a shift within {min_off} days after a run of night shifts"));
            }
        }
        if let Some(pattern) = rules.hard.rest_after_work_days {
            let days: Vec<bool> = dates.iter().map(|d| worked.contains(d)).collect();
            for k in pattern.breaches(&days) {
                push("rest_after_work_days", id, dates[k], format!("a shift within {} days off after {} working days in a row", pattern.days_off, pattern.work_days));
            }
        }
        let max_run = [rules.hard.max_consecutive_work_days, agent.and_then(|a| a.max_consecutive_work_days)].into_iter().flatten().min();
        if let Some(max) = max_run {
            let mut run = 0;
            for &day in &dates {
                run = if worked.contains(&day) { run + 1 } else { 0 };
                if run == max + 1 {
                    push("max_consecutive_work_days", id, day, format!("day {run} in a row"));
                }
            }
        }
        if let Some(a) = agent {
            for share in &months {
                let in_part = |d: NaiveDate| (0..i64::from(share.days_in_roster)).contains(&(d - share.first).num_days());
                if let Some(max) = a.max_hours_month {
                    let paid: i64 = shifts.iter().filter(|s| in_part(s.date)).map(|s| s.paid_min()).sum();
                    if paid > share.max_paid_min(max) {
                        push("max_hours_month", id, share.first, format!("{:.2} paid hours in {} days of the month, at most {:.2} ({max} × {}/{})", paid as f64 / 60.0, share.days_in_roster, share.max_paid_min(max) as f64 / 60.0, share.days_in_roster, share.days_in_month));
                    }
                }
                if let Some(min) = a.min_days_off_month {
                    let off = share.days_in_roster - worked.iter().filter(|d| in_part(**d)).count() as u32;
                    if off < share.min_days_off(min) {
                        push("min_days_off_month", id, share.first, format!("{off} days off in {} days of the month, at least {} ({min} × {}/{}, rounded down)", share.days_in_roster, share.min_days_off(min), share.days_in_roster, share.days_in_month));
                    }
                }
            }
        }
        for week in full_weeks(horizon) {
            let in_week = |d: NaiveDate| (0..7).contains(&(d - week).num_days());
            let paid: i64 = shifts.iter().filter(|s| in_week(s.date)).map(|s| s.paid_min()).sum();
            let min_hours = agent.map_or(0, |a| a.min_hours_week);
            let leave: i64 = per_agent[id].iter().filter(|a| a.kind == ActivityKind::Leave && in_week(a.date)).map(|a| rules.leave_credit_min(min_hours, a.minutes())).sum();
            let cap = [rules.hard.max_paid_min_per_week.map(i64::from), agent.map(|a| i64::from(a.max_hours_week) * 60)].into_iter().flatten().min();
            if let Some(cap) = cap
                && paid > cap {
                    push("max_hours_per_week", id, week, format!("{:.2} paid hours, at most {:.2}", paid as f64 / 60.0, cap as f64 / 60.0));
                }
            if let Some(a) = agent
                && paid + leave < i64::from(a.min_hours_week) * 60 {
                    push("min_hours_week", id, week, format!("{:.2} paid hours with leave, at least {}", (paid + leave) as f64 / 60.0, a.min_hours_week));
                }
            if let Some(min_off) = rules.hard.min_days_off_per_week {
                let off = 7 - worked.iter().filter(|d| in_week(**d)).count() as u32;
                if off < min_off {
                    push("min_days_off_per_week", id, week, format!("{off} days off, at least {min_off}"));
                }
            }
        }
    }
    out
}

fn check_shift(s: &Shift, team: &str, rules: &Rules, push: &mut impl FnMut(&'static str, &str, NaiveDate, String)) {
    let id = s.agent_id.as_str();
    // Lengths are the clocks' (a night is 8 hours on the night summer time starts); meals are
    // owed on the time really worked.
    let clock_length = s.clock_length_min();
    if !rules.shifts.lengths_min.iter().any(|&l| i64::from(l) == clock_length) {
        push("shifts.lengths_hours", id, s.date, format!("{clock_length} minutes long by the clocks"));
    }
    let length = s.length_min();
    if s.start().date_naive() != s.date {
        push("shifts.date", id, s.date, format!("starts {}, not on its date", s.start()));
    }
    if !minute_of_day(s.start()).is_multiple_of(rules.shifts.start_step_min) {
        push("shifts.start_step_minutes", id, s.date, format!("starts {}", s.start()));
    }
    let window = rules.shifts.window_for(team);
    if minute_of_day(s.start()) < window.earliest_start.minutes() || s.clock_end_min() > i64::from(window.end_min()) {
        push("shifts.window", id, s.date, format!("{}–{} is outside {}–{}", s.start(), s.end(), window.earliest_start, window.latest_end));
    }
    for pair in s.activities.windows(2) {
        if pair[1].start > pair[0].end {
            push("shifts.gap", id, s.date, format!("nothing planned {}–{}", pair[0].end, pair[1].start));
        }
    }
    let b = &rules.breaks;
    if length > i64::from(b.meal_after_min) && !s.activities.iter().any(|a| a.kind == ActivityKind::Meal && a.minutes() >= i64::from(b.meal_min)) {
        push("breaks.meal_minutes", id, s.date, format!("a {length}-minute shift without a {}-minute meal", b.meal_min));
    }
    if let Some(max) = rules.hard.max_continuous_work_min {
        let (mut run, mut since, mut reported) = (0, s.start(), false);
        for a in &s.activities {
            if !a.kind.continuous_work() {
                run = 0;
                continue;
            }
            if run == 0 {
                (since, reported) = (a.start, false);
            }
            run += a.minutes();
            if run > i64::from(max) && !reported {
                push("max_continuous_work_hours", id, s.date, format!("{run} minutes of work from {since}"));
                reported = true;
            }
        }
    }
}

fn minute_of_day(t: chrono::DateTime<chrono::FixedOffset>) -> u32 {
    t.hour() * 60 + t.minute()
}

/// First and last date of the roster.
fn horizon(roster: &Roster) -> Option<(NaiveDate, NaiveDate)> {
    let first = roster.activities.iter().map(|a| a.date).min()?;
    let last = roster.activities.iter().map(|a| a.date).max()?;
    Some((first, last))
}

/// The Mondays of the ISO weeks wholly inside the horizon: weekly rules judge whole weeks.
fn full_weeks((first, last): (NaiveDate, NaiveDate)) -> Vec<NaiveDate> {
    let offset = (7 - first.weekday().num_days_from_monday()) % 7;
    let mut out = Vec::new();
    let mut monday = first.checked_add_signed(Duration::days(i64::from(offset)));
    while let Some(m) = monday.filter(|m| m.checked_add_signed(Duration::days(6)).is_some_and(|sunday| sunday <= last)) {
        out.push(m);
        monday = m.checked_add_signed(Duration::days(7));
    }
    out
}

#[cfg(test)]
mod tests;
