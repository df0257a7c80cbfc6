//! The service level as the roster's objective when staff is short (rule 16), and the best
//! service level the staff could reach.
//!
//! Each agent at work in an interval is worth the calls they answer within the threshold there:
//! the queue's calls times what its Erlang C service level gains with them (the scheduler's
//! [`ServedValue`] spreads the S-shaped curve over its least concave majorant). The bound hands
//! the staff's paid hours out, an agent-interval at a time, to wherever the next one answers
//! the most calls in time, ignoring shift shapes, rules and skills: no roster of this staff
//! reaches more.

use crate::report::Requirement;
use chrono::Datelike;
use std::collections::BTreeSet;
use wfm_forecasting::erlang::{service_level_curve, QueueModel, Workload};
use wfm_scheduler::agents::Agent;
use wfm_scheduler::design::{all_shapes, Shape, WeeklyBudget};
use wfm_scheduler::requests::{Request, RequestKind};
use wfm_scheduler::rules::Rules;
use wfm_scheduler::skills::{concave_steps, ServedValue};

/// What the roster search minimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Objective {
    /// Short agent-intervals, every one alike.
    AgentIntervals,
    /// Calls answered within the threshold: the service level reached.
    ServiceLevel,
}

impl Objective {
    /// The name in the report and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::AgentIntervals => "agent_intervals",
            Self::ServiceLevel => "service_level",
        }
    }
}

/// Per interval and queue, the calls answered within `threshold_s` with 0, 1, …, `up_to(q)`
/// agents on the queue; intervals and queues without calls answer nothing.
fn answered_curves(requirement: &Requirement, threshold_s: f64, up_to: impl Fn(usize, usize, f64) -> u32) -> Result<Vec<Vec<Vec<f64>>>, crate::report::PlanningError> {
    let loads = requirement.loads()?;
    let interval_s = f64::from(requirement.demand.interval_min) * 60.0;
    let mut out = Vec::with_capacity(loads.len());
    for (i, row) in loads.iter().enumerate() {
        let mut queues = Vec::with_capacity(row.len());
        for (q, &(calls, work_s)) in row.iter().enumerate() {
            let workload = (calls > 0.0).then(|| Workload::new(calls, interval_s, work_s / calls).ok()).flatten();
            let n = up_to(i, q, workload.map_or(0.0, |w| w.traffic_erlangs()));
            let answered = match workload {
                // Loads beyond Erlang's range are the report's to flag; they weigh like no calls.
                Some(w) => service_level_curve(QueueModel::ErlangC, &w, n, threshold_s).map_or_else(|_| vec![0.0; n as usize + 1], |sl| sl.iter().map(|s| s * calls).collect()),
                None => vec![0.0; n as usize + 1],
            };
            queues.push(answered);
        }
        out.push(queues);
    }
    Ok(out)
}

/// What serving each interval's requirement is worth when the objective is the service level:
/// none when the requirements file has no calls (then there is nothing to weigh by).
pub fn served_value(requirement: &Requirement, threshold_s: f64) -> Result<Option<ServedValue>, crate::report::PlanningError> {
    let curves = requirement.curves();
    let answered = answered_curves(requirement, threshold_s, |i, q, _| curves[q][i])?;
    let any_calls = answered.iter().flatten().any(|c| c.last().is_some_and(|&v| v > 0.0));
    Ok(any_calls.then(|| ServedValue::from_queue_curves(&answered)))
}

/// Whether the staff is short of the requirement: their paid hours (contracts and approved
/// overtime) are fewer than the agent-hours the requirement asks for, in some week.
pub fn staff_is_short(requirement: &Requirement, agents: &[Agent], rules: &Rules, requests: &[Request]) -> bool {
    let demand = &requirement.demand;
    let pooled = requirement.pooled();
    let week = |d: chrono::NaiveDate| (d.iso_week().year(), d.iso_week().week());
    let weeks: BTreeSet<(i32, u32)> = demand.starts.iter().map(|t| week(t.date_naive())).collect();
    weeks.into_iter().any(|w| {
        let required_min: f64 = demand.starts.iter().zip(&pooled).filter(|(t, _)| week(t.date_naive()) == w).map(|(_, &r)| f64::from(r) * f64::from(demand.interval_min)).sum();
        let days: BTreeSet<chrono::NaiveDate> = demand.starts.iter().map(|t| t.date_naive()).filter(|d| week(*d) == w).collect();
        paid_capacity_min(agents, rules, requests, &days) < required_min
    })
}

/// The paid minutes the agents can work in each calendar week of the requirement, for the
/// shift design: with too few agents it designs the shifts there are hours for.
pub fn weekly_budget(requirement: &Requirement, agents: &[Agent], rules: &Rules, requests: &[Request], shapes: &[Shape]) -> WeeklyBudget {
    let mut weeks: std::collections::BTreeMap<chrono::NaiveDate, BTreeSet<chrono::NaiveDate>> = std::collections::BTreeMap::new();
    for t in &requirement.demand.starts {
        let day = t.date_naive();
        weeks.entry(day - chrono::Duration::days(i64::from(day.weekday().num_days_from_monday()))).or_default().insert(day);
    }
    let meal = |length: u32| if length > rules.breaks.meal_after_min { rules.breaks.meal_min } else { 0 };
    WeeklyBudget {
        paid_min_by_week: weeks.into_iter().map(|(monday, days)| (monday, paid_capacity_min(agents, rules, requests, &days))).collect(),
        shape_paid_min: shapes.iter().map(|s| f64::from(s.length_min.saturating_sub(meal(s.length_min)))).collect(),
    }
}

/// The most paid minutes `agents` can work on `days` (each agent's weekly caps and approved
/// overtime, at most one longest shift a day).
fn paid_capacity_min(agents: &[Agent], rules: &Rules, requests: &[Request], days: &BTreeSet<chrono::NaiveDate>) -> f64 {
    let longest = all_shapes(&rules.shifts).iter().map(|s| s.length_min).max().unwrap_or(0);
    let weeks: BTreeSet<(i32, u32)> = days.iter().map(|d| (d.iso_week().year(), d.iso_week().week())).collect();
    agents
        .iter()
        .map(|a| {
            let own = f64::from(a.max_hours_week) * 60.0;
            let weekly = rules.hard.max_paid_min_per_week.map_or(own, |cap| own.min(f64::from(cap)));
            let overtime: f64 = requests.iter().filter(|r| r.agent_id == a.id && days.contains(&r.date)).map(|r| if let RequestKind::Overtime { hours } = r.kind { hours * 60.0 } else { 0.0 }).sum();
            (weekly * weeks.len() as f64 + overtime).min(f64::from(longest) * days.len() as f64)
        })
        .sum()
}

/// The service level no roster of `agents` exceeds on `requirement`: their paid hours handed
/// out an agent-interval at a time where the next answers the most calls within the threshold
/// (each queue's curve taken concave, so an over-estimate, never under). None without calls.
pub fn best_reachable_service_level(requirement: &Requirement, agents: &[Agent], rules: &Rules, requests: &[Request], threshold_s: f64) -> Result<Option<f64>, crate::report::PlanningError> {
    let curves = requirement.curves();
    // Beyond the requirement too: where agents are to spare they lift the service level further.
    let answered = answered_curves(requirement, threshold_s, |i, q, traffic| curves[q][i].max((traffic + 4.0 * traffic.sqrt() + 4.0).ceil() as u32))?;
    let offered: f64 = requirement.loads()?.iter().flatten().map(|&(calls, _)| calls).sum();
    if offered <= 0.0 {
        return Ok(None);
    }
    let days: BTreeSet<chrono::NaiveDate> = requirement.demand.starts.iter().map(|t| t.date_naive()).collect();
    let mut capacity = paid_capacity_min(agents, rules, requests, &days) / f64::from(requirement.demand.interval_min);
    let mut steps: Vec<f64> = answered.iter().flatten().flat_map(|c| concave_steps(c)).collect();
    steps.sort_by(|a, b| b.total_cmp(a));
    let mut answered_in_time = 0.0;
    for step in steps {
        if capacity <= 0.0 || step <= 0.0 {
            break;
        }
        answered_in_time += step * capacity.min(1.0);
        capacity -= 1.0;
    }
    Ok(Some((answered_in_time / offered).min(1.0)))
}
