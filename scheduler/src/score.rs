//! Soft rules and fairness of a roster, computed from the roster alone (like the checker), so
//! that rosters from any solver are compared on the same figures.

use crate::agents::Agent;
use crate::requests::{Request, RequestKind};
use crate::roster::{ActivityKind, Roster, Shift};
use crate::rules::Rules;
use chrono::{Datelike, NaiveDate, NaiveTime, Timelike, Weekday};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SoftPenalty {
    pub rule: &'static str,
    /// How far the roster is from the rule, in the rule's unit (shifts, hours, wishes).
    pub excess: f64,
    pub penalty: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentFairness {
    pub agent: String,
    pub shifts: u32,
    pub paid_hours: f64,
    /// Shifts starting before the early limit (08:00 unless the rules say otherwise).
    pub early: u32,
    /// Shifts ending after the night limit (21:00 unless the rules say otherwise).
    pub late: u32,
    pub weekend: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    pub penalties: Vec<SoftPenalty>,
    pub total_penalty: f64,
    pub fairness: Vec<AgentFairness>,
}

pub fn evaluate(roster: &Roster, agents: &[Agent], rules: &Rules, requests: &[Request]) -> Evaluation {
    let shifts = roster.shifts();
    let by_id: HashMap<&str, &Agent> = agents.iter().map(|a| (a.id.as_str(), a)).collect();
    let start_minute = |t: chrono::DateTime<chrono::FixedOffset>| t.hour() * 60 + t.minute();
    let mut penalties = Vec::new();

    if let Some(rule) = rules.soft.max_same_shift_per_week {
        let mut counts: HashMap<(&str, i32, u32, u32), u32> = HashMap::new();
        for s in &shifts {
            let week = s.date.iso_week();
            *counts.entry((s.agent_id.as_str(), week.year(), week.week(), start_minute(s.start()))).or_default() += 1;
        }
        let excess: f64 = counts.values().map(|&c| (f64::from(c) - rule.limit).max(0.0)).sum();
        penalties.push(SoftPenalty { rule: "max_same_shift_per_week", excess, penalty: excess * rule.weight });
    }
    if let Some(rule) = rules.soft.team_start_spread_hours {
        let mut starts: BTreeMap<(&str, NaiveDate), (u32, u32)> = BTreeMap::new();
        for s in &shifts {
            let team = by_id.get(s.agent_id.as_str()).map_or("", |a| a.team.as_str());
            let m = start_minute(s.start());
            let e = starts.entry((team, s.date)).or_insert((m, m));
            *e = (e.0.min(m), e.1.max(m));
        }
        let excess: f64 = starts.values().map(|(lo, hi)| (f64::from(hi - lo) / 60.0 - rule.limit).max(0.0)).sum();
        penalties.push(SoftPenalty { rule: "team_start_spread_hours", excess, penalty: excess * rule.weight });
    }
    if let Some(weight) = rules.soft.preferences_weight {
        let wished_off: HashSet<(&str, NaiveDate)> =
            requests.iter().filter(|r| r.kind == RequestKind::DayOff).map(|r| (r.agent_id.as_str(), r.date)).collect();
        let wished_start: HashMap<(&str, NaiveDate), u32> = requests
            .iter()
            .filter_map(|r| match r.kind {
                RequestKind::Start { at } => Some(((r.agent_id.as_str(), r.date), at.minutes())),
                _ => None,
            })
            .collect();
        let mut missed = 0.0;
        for s in &shifts {
            let id = s.agent_id.as_str();
            let agent = by_id.get(id);
            if wished_off.contains(&(id, s.date)) || agent.is_some_and(|a| a.preferred_days_off.contains(&s.date.weekday())) {
                missed += 1.0;
            }
            let start = start_minute(s.start());
            let wished = wished_start.get(&(id, s.date)).copied();
            let preferred = agent.map_or(&[][..], |a| a.preferred_starts.as_slice());
            if wished.is_some_and(|w| w != start) || (wished.is_none() && !preferred.is_empty() && !preferred.iter().any(|p| p.minutes() == start)) {
                missed += 1.0;
            }
        }
        penalties.push(SoftPenalty { rule: "preferences", excess: missed, penalty: missed * weight });
    }

    if let Some(weight) = rules.soft.leaders_with_team_weight {
        let uncovered = team_hours_without_leader(&shifts, &by_id);
        penalties.push(SoftPenalty { rule: "leaders_with_team", excess: uncovered, penalty: uncovered * weight });
    }
    if let Some(training) = rules.soft.training {
        let trained: HashSet<&str> = roster.activities.iter().filter(|a| a.kind == ActivityKind::Training && a.minutes() >= i64::from(training.minutes)).map(|a| a.agent_id.as_str()).collect();
        let untrained = agents.iter().filter(|a| !trained.contains(a.id.as_str())).count() as f64;
        penalties.push(SoftPenalty { rule: "training", excess: untrained, penalty: untrained * training.weight });
    }

    let mut fairness: BTreeMap<&str, AgentFairness> = agents
        .iter()
        .map(|a| (a.id.as_str(), AgentFairness { agent: a.id.to_string(), shifts: 0, paid_hours: 0.0, early: 0, late: 0, weekend: 0 }))
        .collect();
    for s in &shifts {
        let Some(f) = fairness.get_mut(s.agent_id.as_str()) else { continue };
        f.shifts += 1;
        f.paid_hours += s.paid_min() as f64 / 60.0;
        let end_min = (s.end().naive_local() - s.date.and_time(NaiveTime::MIN)).num_minutes();
        let kind = Unpopular::of(rules, s.date, start_minute(s.start()), end_min);
        f.early += u32::from(kind.early);
        f.late += u32::from(kind.late);
        f.weekend += u32::from(kind.weekend);
    }
    let fairness: Vec<AgentFairness> = fairness.into_values().collect();
    if let Some(weight) = rules.soft.fairness_weight {
        // Spread of each agent's share of unpopular shifts, in percentage points.
        let shares: Vec<f64> = fairness.iter().filter(|f| f.shifts > 0).map(|f| f64::from(f.early + f.late + f.weekend) / f64::from(f.shifts)).collect();
        let mean = shares.iter().sum::<f64>() / shares.len().max(1) as f64;
        let spread = (shares.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / shares.len().max(1) as f64).sqrt() * 100.0;
        penalties.push(SoftPenalty { rule: "fairness", excess: spread, penalty: spread * weight });
    }
    let total_penalty = penalties.iter().map(|p| p.penalty).sum();
    Evaluation { penalties, total_penalty, fairness }
}

/// What makes a shift unpopular, as the fairness figures count it: it starts early (before the
/// `no_early_after_night` early limit, 08:00 without the rule), ends late (after its night
/// limit, 21:00 without it, or after midnight), or falls on a weekend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unpopular {
    pub early: bool,
    pub late: bool,
    pub weekend: bool,
}

impl Unpopular {
    /// A shift of `date` from `start_min` to `end_min` minutes after its midnight.
    pub fn of(rules: &Rules, date: NaiveDate, start_min: u32, end_min: i64) -> Self {
        let early_limit = rules.hard.no_early_after_night.map_or(8 * 60, |r| r.early_start_before.minutes());
        let late_limit = rules.hard.no_early_after_night.map_or(21 * 60, |r| r.night_end_after.minutes());
        Self { early: start_min < early_limit, late: end_min > i64::from(late_limit), weekend: matches!(date.weekday(), Weekday::Sat | Weekday::Sun) }
    }

    pub fn count(self) -> u32 {
        u32::from(self.early) + u32::from(self.late) + u32::from(self.weekend)
    }
}

/// Hours team members are on shift while no leader of their team is, over all team-days.
fn team_hours_without_leader(shifts: &[Shift], by_id: &HashMap<&str, &Agent>) -> f64 {
    let mut leaders: HashMap<(&str, NaiveDate), Vec<(i64, i64)>> = HashMap::new();
    for s in shifts {
        if let Some(a) = by_id.get(s.agent_id.as_str()).filter(|a| a.team_leader) {
            leaders.entry((a.team.as_str(), s.date)).or_default().push((s.start().timestamp(), s.end().timestamp()));
        }
    }
    let mut seconds = 0i64;
    for s in shifts {
        let Some(a) = by_id.get(s.agent_id.as_str()).filter(|a| !a.team_leader) else { continue };
        let (from, to) = (s.start().timestamp(), s.end().timestamp());
        // The member's span minus the union of their leaders' spans.
        let mut spans: Vec<(i64, i64)> = leaders.get(&(a.team.as_str(), s.date)).cloned().unwrap_or_default();
        spans.sort_unstable();
        let mut covered = 0;
        let mut reach = from;
        for (f, t) in spans {
            let (f, t) = (f.max(reach), t.min(to));
            if f < t {
                covered += t - f;
                reach = t;
            }
        }
        seconds += (to - from) - covered;
    }
    seconds as f64 / 3600.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roster::Activity;
    use chrono::{DateTime, Duration, FixedOffset, NaiveTime};
    use wfm_model::AgentId;

    fn shift(agent: &str, date: NaiveDate, start_min: i64, length_min: i64) -> Activity {
        let at = |m: i64| -> DateTime<FixedOffset> {
            (date.and_time(NaiveTime::MIN) + Duration::minutes(m)).and_local_timezone(FixedOffset::east_opt(3600).unwrap()).unwrap()
        };
        Activity { agent_id: AgentId::parse(agent).unwrap(), date, kind: ActivityKind::Work, start: at(start_min), end: at(start_min + length_min) }
    }

    #[test]
    fn counts_each_soft_rule() {
        let rules = Rules::parse("rules.toml", &crate::rules::tests::EXAMPLE.replace("preferences = { weight = 2 }", "preferences = { weight = 2 }\nfairness = { weight = 1 }")).unwrap();
        let agents = crate::agents::parse(
            "agents.csv",
            "agent_id,team,skills,team_leader,min_hours_week,max_hours_week,preferred_days_off\na1,t1,support,false,0,40,fri\na2,t1,support,false,0,40,\n".as_bytes(),
            "demo",
        )
        .unwrap();
        let monday = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        // a1: five 09:00 starts (limit 3: excess 2), Friday worked against a wished day off.
        // a2: one 13:00 start on Monday (spread 4 h against 2: excess 2 hours) ending late.
        let mut activities: Vec<Activity> = (0..5).map(|d| shift("a1", monday + Duration::days(d), 540, 360)).collect();
        activities.push(shift("a2", monday, 780, 540));
        let e = evaluate(&Roster { activities }, &agents, &rules, &[]);
        let of = |rule: &str| e.penalties.iter().find(|p| p.rule == rule).unwrap().clone();
        assert_eq!(of("max_same_shift_per_week"), SoftPenalty { rule: "max_same_shift_per_week", excess: 2.0, penalty: 10.0 });
        assert_eq!(of("team_start_spread_hours"), SoftPenalty { rule: "team_start_spread_hours", excess: 2.0, penalty: 6.0 });
        assert_eq!(of("preferences").excess, 1.0);
        assert!(of("fairness").excess > 0.0, "a2 has all the late shifts");
        assert_eq!(e.fairness[1].late, 1);
        assert_eq!(e.fairness[0].shifts, 5);
        assert!((e.total_penalty - e.penalties.iter().map(|p| p.penalty).sum::<f64>()).abs() < 1e-12);
    }

    #[test]
    fn leaders_and_training_are_counted() {
        let text = crate::rules::tests::EXAMPLE.replace("preferences = { weight = 2 }", "leaders_with_team = { weight = 2 }\ntraining = { minutes = 60, weight = 10 }");
        let rules = Rules::parse("rules.toml", &text).unwrap();
        let agents = crate::agents::parse(
            "agents.csv",
            "agent_id,team,skills,team_leader,min_hours_week,max_hours_week\nlead,t1,support,true,0,40\nm1,t1,support,false,0,40\nm2,t2,support,false,0,40\n".as_bytes(),
            "demo",
        )
        .unwrap();
        let monday = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        // The leader works 09:00–15:00; m1 09:00–17:00 (2 h without), m2 has no leader (6 h).
        let mut activities = vec![shift("lead", monday, 540, 360), shift("m1", monday, 540, 480), shift("m2", monday, 600, 360)];
        let mut training = shift("m1", monday, 600, 60);
        training.kind = ActivityKind::Training;
        activities[1].end = training.start;
        activities.push(training);
        activities.push(shift("m1", monday, 660, 360));
        let e = evaluate(&Roster { activities }, &agents, &rules, &[]);
        let of = |rule: &str| e.penalties.iter().find(|p| p.rule == rule).unwrap().clone();
        assert_eq!(of("leaders_with_team"), SoftPenalty { rule: "leaders_with_team", excess: 8.0, penalty: 16.0 });
        assert_eq!(of("training"), SoftPenalty { rule: "training", excess: 2.0, penalty: 20.0 }, "only m1 is trained");
    }
}
