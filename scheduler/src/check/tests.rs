//! One test per rule: a valid week passes, and the same week broken in exactly one way reports
//! exactly that rule.

use super::*;
use crate::agents;
use crate::roster::{Activity, ActivityKind::*};
use chrono::{DateTime, FixedOffset, NaiveTime};
use wfm_model::AgentId;

use crate::rules::tests::EXAMPLE as RULES;

const AGENTS: &str = "agent_id,team,skills,team_leader,min_hours_week,max_hours_week\na1,t1,support:1.0,false,30,40\n";

/// Monday 2 March 2026.
fn monday() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 2).unwrap()
}

fn at(date: NaiveDate, minute: u32) -> DateTime<FixedOffset> {
    let t = date.and_time(NaiveTime::MIN) + Duration::minutes(i64::from(minute));
    t.and_local_timezone(FixedOffset::east_opt(3600).unwrap()).unwrap()
}

/// A shift of `segments` (kind, minutes) from `start` (minutes after midnight) on `date`.
fn shift(date: NaiveDate, start: u32, segments: &[(ActivityKind, u32)]) -> Vec<Activity> {
    let mut t = start;
    segments
        .iter()
        .map(|&(kind, minutes)| {
            let a = Activity { agent_id: AgentId::parse("a1").unwrap(), date, kind, start: at(date, t), end: at(date, t + minutes) };
            t += minutes;
            a
        })
        .collect()
}

/// 8 hours: 3 h work, 30 min meal, 2.5 h work, 15 min break, 1 h 45 work.
const EIGHT_HOURS: &[(ActivityKind, u32)] = &[(Work, 180), (Meal, 30), (Work, 150), (Break, 15), (Work, 105)];

/// Monday to Friday 09:00–17:00, weekend off, and the next Monday's date so the week is whole.
fn valid_week() -> Vec<Activity> {
    let mut out: Vec<Activity> = (0..5).flat_map(|d| shift(monday() + Duration::days(d), 540, EIGHT_HOURS)).collect();
    out.extend(shift(monday() + Duration::days(5), 0, &[(DayOff, 1440)]));
    out.extend(shift(monday() + Duration::days(6), 0, &[(DayOff, 1440)]));
    out
}

fn rules_of(violations: Vec<Violation>) -> Vec<&'static str> {
    let mut rules: Vec<_> = violations.into_iter().map(|v| v.rule).collect();
    rules.dedup();
    rules
}

fn run(activities: Vec<Activity>) -> Vec<&'static str> {
    run_with(RULES, activities)
}

fn run_with(rules: &str, activities: Vec<Activity>) -> Vec<&'static str> {
    let rules = Rules::parse("rules.toml", rules).unwrap();
    let agents = agents::parse("agents.csv", AGENTS.as_bytes(), "demo").unwrap();
    rules_of(check(&Roster { activities }, &agents, &rules))
}

fn replace_day(week: &mut Vec<Activity>, day: i64, with: Vec<Activity>) {
    let date = monday() + Duration::days(day);
    week.retain(|a| a.date != date);
    week.extend(with);
}

#[test]
fn a_valid_week_passes() {
    assert_eq!(run(valid_week()), Vec::<&str>::new());
}

#[test]
fn shift_lengths_steps_and_windows() {
    let mut w = valid_week();
    replace_day(&mut w, 0, shift(monday(), 540, &[(Work, 180), (Meal, 30), (Work, 150), (Break, 15), (Work, 75)]));
    assert_eq!(run(w), ["shifts.lengths_hours"]);
    let mut w = valid_week();
    replace_day(&mut w, 0, shift(monday(), 545, EIGHT_HOURS));
    assert_eq!(run(w), ["shifts.start_step_minutes"]);
    let mut w = valid_week();
    replace_day(&mut w, 0, shift(monday(), 330, EIGHT_HOURS));
    assert_eq!(run(w), ["shifts.window"]);
}

#[test]
fn meals_and_continuous_work() {
    let mut w = valid_week();
    replace_day(&mut w, 0, shift(monday(), 540, &[(Work, 180), (Break, 30), (Work, 150), (Break, 15), (Work, 105)]));
    assert_eq!(run(w), ["breaks.meal_minutes"]);
    let mut w = valid_week();
    replace_day(&mut w, 0, shift(monday(), 540, &[(Work, 120), (Training, 90), (Meal, 30), (Work, 135), (Break, 15), (Work, 90)]));
    assert_eq!(run(w), ["max_continuous_work_hours"], "training is work without a pause");
}

#[test]
fn rest_and_early_after_night() {
    // Tuesday 14:30–22:30 then Wednesday 09:00: 10.5 hours of rest.
    let mut w = valid_week();
    replace_day(&mut w, 1, shift(monday() + Duration::days(1), 870, EIGHT_HOURS));
    assert_eq!(run(w), ["min_rest_between_shifts_hours"]);
    // Tuesday 13:30–21:30, Wednesday 07:30: 10 hours of rest and an early after a night.
    let mut w = valid_week();
    replace_day(&mut w, 1, shift(monday() + Duration::days(1), 810, EIGHT_HOURS));
    replace_day(&mut w, 2, shift(monday() + Duration::days(2), 450, EIGHT_HOURS));
    assert_eq!(run(w), ["min_rest_between_shifts_hours", "no_early_after_night"]);
}

#[test]
fn weekly_hours_days_off_and_runs() {
    // Six shifts: 45 paid hours, one day off, six days in a row.
    let mut w = valid_week();
    replace_day(&mut w, 5, shift(monday() + Duration::days(5), 540, EIGHT_HOURS));
    assert_eq!(run(w), ["max_consecutive_work_days", "max_hours_per_week", "min_days_off_per_week"]);
    // Three shifts: 22.5 paid hours, under the agent's 30.
    let mut w = valid_week();
    for d in 0..2 {
        replace_day(&mut w, d, shift(monday() + Duration::days(d), 0, &[(DayOff, 1440)]));
    }
    assert_eq!(run(w.clone()), ["min_hours_week"]);
    // Leave counts towards the minimum, at most a working day's share of it per day (30 hours
    // over the 5 days a week may be worked: 6 hours), so a whole day of leave is not 24 hours.
    replace_day(&mut w, 0, shift(monday(), 0, &[(Leave, 1440)]));
    assert_eq!(run(w.clone()), ["min_hours_week"], "22.5 + 6 hours");
    replace_day(&mut w, 1, shift(monday() + Duration::days(1), 540, &[(Leave, 480)]));
    assert_eq!(run(w), Vec::<&str>::new());
}

#[test]
fn nights_and_the_days_off_after_them() {
    // Shifts may start from 06:00 for 24 hours; two dates off after a run of nights.
    let rules = RULES.replace("latest_end = \"23:00\"", "latest_end = \"06:00\"").replace("[rules]", "[rules]\ndays_off_after_night_sequence = 2");
    let night = |d: i64| shift(monday() + Duration::days(d), 1320, EIGHT_HOURS);
    let off_after_night = |d: i64| shift(monday() + Duration::days(d), 360, &[(DayOff, 1080)]);
    // Monday to Thursday nights (22:00–06:00), Friday and Saturday off, Sunday 09:00.
    let mut w: Vec<Activity> = (0..4).flat_map(night).collect();
    w.extend(off_after_night(4));
    w.extend(shift(monday() + Duration::days(5), 0, &[(DayOff, 1440)]));
    w.extend(shift(monday() + Duration::days(6), 540, EIGHT_HOURS));
    assert_eq!(run_with(&rules, w.clone()), Vec::<&str>::new());
    // Saturday's shift instead of Sunday's comes one day too soon.
    replace_day(&mut w, 5, shift(monday() + Duration::days(5), 540, EIGHT_HOURS));
    replace_day(&mut w, 6, shift(monday() + Duration::days(6), 0, &[(DayOff, 1440)]));
    assert_eq!(run_with(&rules, w.clone()), ["days_off_after_night_sequence"]);
    // A day off written from midnight overlaps the night before it.
    let mut w: Vec<Activity> = (0..4).flat_map(night).collect();
    w.extend(shift(monday() + Duration::days(4), 0, &[(DayOff, 1440)]));
    assert!(run_with(&rules, w).contains(&"overlap"));
    // The default window (06:00–23:00) does not hold a night.
    let mut w = valid_week();
    replace_day(&mut w, 0, night(0));
    assert_eq!(run(w), ["shifts.window", "min_rest_between_shifts_hours"], "then Tuesday 09:00 comes 3 hours after it");
}

#[test]
fn overlaps_leave_and_unknown_agents() {
    let mut w = valid_week();
    w.extend(shift(monday(), 600, &[(Leave, 60)]));
    assert_eq!(run(w), ["overlap", "leave"]);
    let mut w = valid_week();
    w[0].agent_id = AgentId::parse("ghost").unwrap();
    assert!(run(w).contains(&"unknown-agent"));
}

#[test]
fn roster_csv_round_trip() {
    let roster = Roster { activities: valid_week() };
    let mut bytes = Vec::new();
    roster.write_csv(&mut bytes).unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.starts_with("agent_id,date,activity,start,end\na1,2026-03-02,work,2026-03-02T09:00:00+01:00,2026-03-02T12:00:00+01:00\n"), "{text}");
    assert_eq!(Roster::read_csv("roster.csv", bytes.as_slice()).unwrap(), roster);
    let e = Roster::read_csv("roster.csv", "agent_id,date,activity,start,end\na1,2026-03-02,nap,2026-03-02T09:00:00+01:00,2026-03-02T10:00:00+01:00\n".as_bytes());
    assert!(e.unwrap_err().to_string().starts_with("roster.csv:2: `activity`"));
}
