//! Round-the-clock centres: night shifts that cross midnight, on ordinary nights and on the two
//! nights a year the clocks change, judged by the independent checker.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, Timelike};
use std::collections::BTreeMap;
use std::time::Instant;
use wfm_model::QueueName;
use wfm_scheduler::activities::to_roster;
use wfm_scheduler::agents::{self, Agent};
use wfm_scheduler::assign::{assign, Problem};
use wfm_scheduler::changes::understaffed;
use wfm_scheduler::check::check;
use wfm_scheduler::demand::Demand;
use wfm_scheduler::design::{all_shapes, design};
use wfm_scheduler::roster::{ActivityKind, Roster};
use wfm_scheduler::rules::Rules;
use wfm_scheduler::skills::SkillTypes;

/// Days, evenings and nights: the night team works 22:00 to 06:00 the next morning.
const RULES: &str = r#"
[shifts]
lengths_hours = [8]
start_step_minutes = 60
earliest_start = "06:00"
latest_end = "22:00"
[shifts.teams.nights]
earliest_start = "22:00"
latest_end = "06:00"
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
days_off_after_night_sequence = 2
"#;

fn agents(day: usize, night: usize) -> Vec<Agent> {
    let mut csv = String::from("agent_id,team,skills,team_leader,min_hours_week,max_hours_week\n");
    for i in 0..day {
        csv += &format!("d{i},days,support,false,0,40\n");
    }
    for i in 0..night {
        csv += &format!("n{i},nights,support,false,0,40\n");
    }
    agents::parse("agents.csv", csv.as_bytes(), "demo").unwrap()
}

/// Quarter-hour intervals from `first` for `days` days, each written with the offset the
/// clocks show then: `change` is when they move from `before` to `after` (hours east of UTC).
fn grid(first: &str, days: i64, change: &str, before: i32, after: i32) -> Vec<DateTime<FixedOffset>> {
    let first = DateTime::parse_from_rfc3339(first).unwrap();
    let change = DateTime::parse_from_rfc3339(change).unwrap();
    let (before, after) = (FixedOffset::east_opt(before * 3600).unwrap(), FixedOffset::east_opt(after * 3600).unwrap());
    let end = first + Duration::days(days);
    (0..)
        .map(|i| first + Duration::minutes(15 * i))
        .take_while(|t| *t < end)
        .map(|t| if t >= change { t.with_timezone(&after) } else { t.with_timezone(&before) })
        .collect()
}

fn solve(starts: Vec<DateTime<FixedOffset>>, need: impl Fn(u32) -> u32, agents: &[Agent]) -> (Roster, Demand) {
    let rules = Rules::parse("rules.toml", RULES).unwrap();
    let required: Vec<u32> = starts.iter().map(|t| need(t.hour())).collect();
    let queue = QueueName::parse("support").unwrap();
    let demand = Demand { starts, interval_min: 15, queues: BTreeMap::from([(queue.clone(), required.clone())]) };
    let designed = design(&demand, &required, &all_shapes(&rules.shifts), agents.len() as u32).unwrap();
    let skills = SkillTypes::new(agents, &[queue]);
    let curves = [required];
    let problem = Problem { design: &designed, agents, rules: &rules, requests: &[], skills: &skills, curves: &curves, served_value: None, baseline: None, seed: 1, tries: Some(3000) };
    let assigned = assign(&problem, Instant::now() + std::time::Duration::from_secs(20), &mut |_| {});
    let roster = to_roster(&assigned, &designed, agents, &rules, &[]);
    let broken: Vec<_> = check(&roster, agents, &rules).into_iter().filter(|v| v.rule != "min_hours_week").collect();
    assert!(broken.is_empty(), "{broken:#?}");
    (roster, demand)
}

fn local(t: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(t).unwrap()
}

#[test]
fn someone_is_at_work_at_three_in_the_morning_every_night() {
    // One agent needed around the clock for two weeks in winter.
    let starts = grid("2026-01-05T00:00:00+01:00", 14, "2100-01-01T00:00:00+01:00", 1, 1);
    let (roster, demand) = solve(starts, |_| 1, &agents(4, 3));
    let nights: Vec<_> = roster.shifts().into_iter().filter(|s| s.end().date_naive() > s.date).collect();
    assert!(nights.len() >= 12, "{} night shifts", nights.len());
    for s in &nights {
        assert_eq!((s.start().hour(), s.end().hour(), s.clock_length_min()), (22, 6, 480), "{}–{}", s.start(), s.end());
        assert!(s.agent_id.as_str().starts_with('n'), "only the night team works nights");
    }
    // Someone is on shift at every 03:00 after the first night (the first morning has no night
    // before it), and the design's under-staffing is only that first morning's.
    for date in NaiveDate::from_ymd_opt(2026, 1, 6).unwrap().iter_days().take(13) {
        let three = local(&format!("{date}T03:00:00+01:00"));
        assert!(nights.iter().any(|s| s.start() <= three && three < s.end()), "nobody on shift at {three}");
    }
    let short: Vec<_> = understaffed(&roster, &demand).into_iter().filter(|s| local(&s.interval_start).hour() < 6).map(|s| s.interval_start).collect();
    assert!(short.len() <= 24 + 13 * 4, "{short:?}");
    // A day off after a night starts when the night ends.
    for off in roster.activities.iter().filter(|a| a.kind == ActivityKind::DayOff) {
        let overlapping = roster.activities.iter().any(|a| a.agent_id == off.agent_id && a.kind.on_shift() && a.start < off.end && off.start < a.end);
        assert!(!overlapping, "{off:?}");
    }
}

/// The night of the change as rostered: its start and end by the clocks and its real minutes.
fn change_night(roster: &Roster, date: NaiveDate) -> Vec<(u32, u32, i64, i64)> {
    roster.shifts().into_iter().filter(|s| s.date == date && s.end().date_naive() > date).map(|s| (s.start().hour(), s.end().hour(), s.length_min(), s.paid_min())).collect()
}

#[test]
fn nights_keep_their_clock_times_when_summer_time_starts_and_ends() {
    // Paris: clocks go forward at 02:00 on Sunday 2026-03-29 and back at 03:00 on 2026-10-25.
    let spring = grid("2026-03-23T00:00:00+01:00", 14, "2026-03-29T03:00:00+02:00", 1, 2);
    let (roster, _) = solve(spring, |h| u32::from(!(6..22).contains(&h)), &agents(0, 3));
    // Saturday 22:00 to Sunday 06:00 is seven hours in fact: 6 h 30 paid after the meal.
    assert_eq!(change_night(&roster, NaiveDate::from_ymd_opt(2026, 3, 28).unwrap()), vec![(22, 6, 420, 390)]);
    assert_eq!(change_night(&roster, NaiveDate::from_ymd_opt(2026, 3, 27).unwrap()), vec![(22, 6, 480, 450)]);

    let autumn = grid("2026-10-19T00:00:00+02:00", 14, "2026-10-25T03:00:00+01:00", 2, 1);
    let (roster, _) = solve(autumn, |h| u32::from(!(6..22).contains(&h)), &agents(0, 3));
    assert_eq!(change_night(&roster, NaiveDate::from_ymd_opt(2026, 10, 24).unwrap()), vec![(22, 6, 540, 510)]);
}
