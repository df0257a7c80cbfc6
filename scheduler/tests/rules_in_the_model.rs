//! Each hard rule is in the model: a small instance where breaking the rule would cover more of
//! the requirement, solved twice — with the rule, and with the rule dropped from `rules.toml`
//! (or the agents file). The independent checker, judging both rosters by the full rules, finds
//! no violation of the rule in the first and at least one in the second, so each test fails if
//! the solver stops enforcing its rule.

use chrono::{DateTime, Duration, FixedOffset, Timelike};
use std::collections::BTreeMap;
use std::time::Instant;
use wfm_model::QueueName;
use wfm_scheduler::agents::{self, Agent};
use wfm_scheduler::activities::to_roster;
use wfm_scheduler::assign::{assign, Problem};
use wfm_scheduler::check::check;
use wfm_scheduler::demand::Demand;
use wfm_scheduler::design::{all_shapes, design};
use wfm_scheduler::rules::Rules;
use wfm_scheduler::skills::SkillTypes;

const RULES: &str = r#"
[shifts]
lengths_hours = [6, 8, 9]
start_step_minutes = 60
earliest_start = "06:00"
latest_end = "23:00"
[shifts.teams.evenings]
earliest_start = "14:00"
latest_end = "24:00"
[breaks]
meal_minutes = 30
meal_after_hours = 6
break_minutes = 15
[rules]
min_rest_between_shifts_hours = 11
max_hours_per_week = 40
max_consecutive_work_days = 5
min_days_off_per_week = 2
max_continuous_work_hours = 3
no_early_after_night = { early_start_before = "08:00", night_end_after = "21:00" }
"#;

const AGENTS: &str = "agent_id,team,skills,team_leader,min_hours_week,max_hours_week\n";

/// Rules text without the lines starting with any of `keys`.
fn without(text: &str, keys: &[&str]) -> String {
    text.lines().filter(|l| !keys.iter().any(|k| l.starts_with(k))).map(|l| format!("{l}\n")).collect()
}

/// Monday 2026-03-02: two weeks inside March.
const MARCH: &str = "2026-03-02T00:00:00+01:00";
/// Monday 2026-04-20: 11 days of April and 3 of May.
const APRIL_TO_MAY: &str = "2026-04-20T00:00:00+02:00";

/// Two weeks from the Monday `first`; `need(day, hour)` agents on the queue.
fn solve(rules_text: &str, agents_csv: &str, first: &str, need: impl Fn(usize, u32) -> u32) -> (wfm_scheduler::roster::Roster, Vec<Agent>) {
    let rules = Rules::parse("rules.toml", rules_text).unwrap();
    let agents = agents::parse("agents.csv", agents_csv.as_bytes(), "demo").unwrap();
    let first: DateTime<FixedOffset> = DateTime::parse_from_rfc3339(first).unwrap();
    let starts: Vec<DateTime<FixedOffset>> = (0..14 * 96).map(|i| first + Duration::minutes(15 * i)).collect();
    let required: Vec<u32> = starts.iter().enumerate().map(|(i, t)| need(i / 96, t.hour())).collect();
    let queue = QueueName::parse("support").unwrap();
    let demand = Demand { starts, interval_min: 15, queues: BTreeMap::from([(queue.clone(), required.clone())]) };
    let designed = design(&demand, &required, &all_shapes(&rules.shifts), agents.len() as u32).unwrap();
    let skills = SkillTypes::new(&agents, &[queue]);
    let curves = [required];
    let problem = Problem { design: &designed, agents: &agents, rules: &rules, requests: &[], skills: &skills, curves: &curves, served_value: None, baseline: None, seed: 1, tries: Some(3000) };
    let assigned = assign(&problem, Instant::now() + std::time::Duration::from_secs(20), &mut |_| {});
    (to_roster(&assigned, &designed, &agents, &rules, &[]), agents)
}

/// Solves with `kept` rules and with `dropped` ones (agents as given for each), and judges both
/// by `kept`.
fn enforced(rule: &str, kept: (&str, &str), dropped: (&str, &str), need: impl Fn(usize, u32) -> u32 + Copy) {
    enforced_from(MARCH, rule, kept, dropped, need)
}

fn enforced_from(first: &str, rule: &str, kept: (&str, &str), dropped: (&str, &str), need: impl Fn(usize, u32) -> u32 + Copy) {
    let full = Rules::parse("rules.toml", kept.0).unwrap();
    let count = |(text, agents_csv): (&str, &str)| {
        let (roster, _) = solve(text, agents_csv, first, need);
        let judged_by = agents::parse("agents.csv", kept.1.as_bytes(), "demo").unwrap();
        check(&roster, &judged_by, &full).iter().filter(|v| v.rule == rule).count()
    };
    assert_eq!(count(kept), 0, "{rule} broken by the solver");
    assert!(count(dropped) > 0, "{rule}: the instance does not tempt the solver to break it");
}

fn one_agent(max_hours: u32) -> String {
    format!("{AGENTS}a1,t1,support,false,0,{max_hours}\n")
}

#[test]
fn min_rest_between_shifts() {
    // Evenings 13:00–21:00, then mornings 07:00–15:00: 10 hours of rest.
    let agents = one_agent(48);
    let kept = without(RULES, &["no_early_after_night"]);
    let dropped = without(&kept, &["min_rest_between_shifts_hours"]);
    enforced("min_rest_between_shifts_hours", (&kept, &agents), (&dropped, &agents), |day, h| {
        u32::from(if day % 2 == 0 { (13..21).contains(&h) } else { (7..15).contains(&h) })
    });
}

#[test]
fn no_early_after_night() {
    // Nights to 22:00, then starts at 07:00 (rest is not checked here).
    let agents = one_agent(48);
    let kept = without(RULES, &["min_rest_between_shifts_hours"]);
    let dropped = without(&kept, &["no_early_after_night"]);
    enforced("no_early_after_night", (&kept, &agents), (&dropped, &agents), |day, h| {
        u32::from(if day % 2 == 0 { (14..22).contains(&h) } else { (7..15).contains(&h) })
    });
}

#[test]
fn max_hours_per_week() {
    // Nine hours needed every day; the agent's own contract would allow 48.
    let agents = one_agent(48);
    let dropped = without(RULES, &["max_hours_per_week"]);
    enforced("max_hours_per_week", (RULES, &agents), (&dropped, &agents), |_, h| u32::from((8..17).contains(&h)));
}

#[test]
fn max_consecutive_work_days() {
    // Six hours needed every day (36 paid hours over six days stay within the week's 40).
    let agents = one_agent(48);
    let kept = without(RULES, &["min_days_off_per_week"]);
    let dropped = without(&kept, &["max_consecutive_work_days"]);
    enforced("max_consecutive_work_days", (&kept, &agents), (&dropped, &agents), |_, h| u32::from((9..15).contains(&h)));
}

#[test]
fn min_days_off_per_week() {
    let agents = one_agent(48);
    let kept = without(RULES, &["max_consecutive_work_days"]);
    let dropped = without(&kept, &["min_days_off_per_week"]);
    enforced("min_days_off_per_week", (&kept, &agents), (&dropped, &agents), |_, h| u32::from((9..15).contains(&h)));
}

#[test]
fn max_continuous_work_hours() {
    let agents = one_agent(40);
    let dropped = without(RULES, &["max_continuous_work_hours"]);
    enforced("max_continuous_work_hours", (RULES, &agents), (&dropped, &agents), |day, h| u32::from(day % 7 < 5 && (9..17).contains(&h)));
}

#[test]
fn team_windows() {
    // The evening team may not work the morning the requirement asks for.
    let agents = format!("{AGENTS}a1,evenings,support,false,0,40\n");
    let dropped = without(RULES, &["[shifts.teams.evenings]", "earliest_start = \"14:00\"", "latest_end = \"24:00\""]);
    enforced("shifts.window", (RULES, &agents), (&dropped, &agents), |day, h| u32::from(day % 7 < 5 && (8..14).contains(&h)));
}

#[test]
fn contract_minimum_hours() {
    // Little is needed; the contract still asks for 30 hours a week.
    let kept = format!("{AGENTS}a1,t1,support,false,30,40\n");
    let dropped = format!("{AGENTS}a1,t1,support,false,0,40\n");
    enforced("min_hours_week", (RULES, &kept), (RULES, &dropped), |day, h| u32::from(day % 7 == 0 && (9..15).contains(&h)));
}

#[test]
fn days_off_after_night_sequence() {
    // Nights (22:00–06:00) wanted after Monday, Tuesday, Wednesday and Friday: after the run
    // of three, two days off leave Friday's night unworked.
    let kept = RULES.replace("[breaks]", "[shifts.teams.nights]\nearliest_start = \"22:00\"\nlatest_end = \"06:00\"\n[breaks]").replace("[rules]", "[rules]\ndays_off_after_night_sequence = 2");
    let dropped = without(&kept, &["days_off_after_night_sequence"]);
    let agents = format!("{AGENTS}a1,nights,support,false,0,48\n");
    let night_of = |day: usize| [0, 1, 2, 4].contains(&(day % 7));
    enforced("days_off_after_night_sequence", (&kept, &agents), (&dropped, &agents), move |day, h| {
        u32::from((h >= 22 && night_of(day)) || (h < 6 && day > 0 && night_of(day - 1)))
    });
}

/// The agents file's header with the monthly columns.
const MONTHLY: &str = "agent_id,team,skills,team_leader,min_hours_week,max_hours_week,max_hours_month,min_days_off_month\n";

#[test]
fn max_hours_month() {
    // Eight hours wanted every day; 100 hours a month allow 11/30 of it (36 h 40) in April's
    // part: four shifts, where the weekly rules alone would allow seven or eight.
    let kept = format!("{MONTHLY}a1,t1,support,false,0,48,100,\n");
    let dropped = format!("{MONTHLY}a1,t1,support,false,0,48,,\n");
    enforced_from(APRIL_TO_MAY, "max_hours_month", (RULES, &kept), (RULES, &dropped), |_, h| u32::from((9..17).contains(&h)));
}

#[test]
fn min_days_off_month() {
    // 12 days off a month ask 4 of April's 11 days (rounded down): at most 7 worked there.
    let kept = format!("{MONTHLY}a1,t1,support,false,0,48,,12\n");
    let dropped = format!("{MONTHLY}a1,t1,support,false,0,48,,\n");
    enforced_from(APRIL_TO_MAY, "min_days_off_month", (RULES, &kept), (RULES, &dropped), |_, h| u32::from((9..15).contains(&h)));
}

#[test]
fn max_consecutive_work_days_of_the_agent() {
    // The rules allow any run; the agent's contract allows three days in a row.
    let rules = without(RULES, &["max_consecutive_work_days", "min_days_off_per_week"]);
    let header = "agent_id,team,skills,team_leader,min_hours_week,max_hours_week,max_consecutive_work_days\n";
    let (kept, dropped) = (format!("{header}a1,t1,support,false,0,48,3\n"), format!("{header}a1,t1,support,false,0,48,\n"));
    enforced("max_consecutive_work_days", (&rules, &kept), (&rules, &dropped), |_, h| u32::from((9..15).contains(&h)));
}

#[test]
fn rest_after_work_days() {
    // Rule 8 as a pattern: a day off after three working days; six hours wanted every day.
    let kept = without(RULES, &["max_consecutive_work_days", "min_days_off_per_week"]).replace("[rules]", "[rules]\nrest_after_work_days = { work_days = 3, days_off = 1 }");
    let dropped = without(&kept, &["rest_after_work_days"]);
    let agents = one_agent(48);
    enforced("rest_after_work_days", (&kept, &agents), (&dropped, &agents), |_, h| u32::from((9..15).contains(&h)));
}

#[test]
fn service_hours() {
    // The agent's only queue is open on weekdays; six hours are wanted at weekends.
    let kept = format!("{RULES}[service_hours]\nsupport = \"mon-fri 08:00-20:00\"\n");
    let agents = one_agent(48);
    enforced("service_hours", (&kept, &agents), (RULES, &agents), |day, h| u32::from(day % 7 >= 5 && (9..15).contains(&h)));
}
