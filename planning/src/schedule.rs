//! A roster made for a requirement: shift design, assignment and the local search, breaks, then
//! the report it is judged by. `wfm schedule` and the planner's page run this one function.

use crate::report::{Judged, PlanningError, Report, Requirement, Solve};
use crate::service_level::{served_value, staff_is_short, weekly_budget, Objective};
use std::time::{Duration, Instant};
use wfm_scheduler::agents::Agent;
use wfm_scheduler::activities::{shift_plan, to_roster};
use wfm_scheduler::assign::{assign, assignments_of, changes, Baseline, Problem, Progress};
use wfm_scheduler::design::{all_shapes, design_within};
use wfm_scheduler::requests::Request;
use wfm_scheduler::roster::{ActivityKind, Roster};
use wfm_scheduler::rules::Rules;
use wfm_scheduler::skills::SkillTypes;

/// Under-staffed agent-intervals a change to a baseline's assignment must remove.
pub const DEFAULT_CHANGE_PENALTY: u32 = 4;

/// What a roster is made from.
pub struct Inputs<'a> {
    pub requirement: &'a Requirement,
    pub agents: &'a [Agent],
    pub rules: &'a Rules,
    pub requests: &'a [Request],
    /// A published roster to re-schedule from, and the agent-intervals a change must gain.
    pub baseline: Option<(&'a Roster, u32)>,
    /// The search stops improving then; the best roster so far is kept.
    pub time_limit: Duration,
    /// The seed of the search's random moves.
    pub seed: u64,
    /// The projected service level's threshold, seconds.
    pub threshold_s: f64,
    /// What the search minimises; `None`: the service level when staff is short
    /// ([`staff_is_short`]) and the requirements file has calls, short agent-intervals otherwise.
    pub objective: Option<Objective>,
}

pub struct Scheduled {
    pub roster: Roster,
    pub report: Report,
}

/// Makes the roster; `progress` hears each pass of the local search.
pub fn schedule(inputs: &Inputs, progress: &mut dyn FnMut(Progress)) -> Result<Scheduled, PlanningError> {
    let started = Instant::now();
    let Inputs { requirement, agents, rules, requests, baseline, time_limit, seed, threshold_s, objective } = *inputs;
    let demand = &requirement.demand;
    let skills = SkillTypes::new(agents, &requirement.queues());
    let curves = requirement.curves();
    let all_shapes = all_shapes(&rules.shifts);
    // Shifts are designed for the staff on duty plus those on a break or meal then.
    let pause_share = all_shapes
        .iter()
        .map(|shape| {
            let plan = shift_plan(shape, rules, demand.interval_min);
            plan.iter().filter(|(k, _)| *k != ActivityKind::Work).map(|(_, m)| f64::from(*m)).sum::<f64>() / f64::from(shape.length_min)
        })
        .sum::<f64>()
        / all_shapes.len() as f64;
    // And for more heads where agents count for less than one on a queue (skill efficiency).
    let with_pauses: Vec<u32> = skills.heads_required(&curves).iter().map(|&r| (r * (1.0 + pause_share)).round() as u32).collect();
    let value = match objective {
        Some(Objective::AgentIntervals) => None,
        Some(Objective::ServiceLevel) => Some(served_value(requirement, threshold_s)?.ok_or(PlanningError::Invalid {
            field: "objective",
            message: "the service level needs the requirements file's `calls` and `aht_s` columns (as `wfm staff` writes them)".into(),
        })?),
        None if staff_is_short(requirement, agents, rules, requests) => served_value(requirement, threshold_s)?,
        None => None,
    };
    // Shifts are designed within the agents' weekly paid hours when short agent-intervals are
    // the objective: measured (BENCHMARKS.md), it leaves 77 % fewer shifts unfilled and 14 %
    // fewer agent-intervals short, but spreads the shortage so evenly that more queue-intervals
    // fall below their traffic, so the service level is better served without the cap.
    let budget = value.is_none().then(|| weekly_budget(requirement, agents, rules, requests, &all_shapes));
    let designed = design_within(demand, &with_pauses, &all_shapes, agents.len() as u32, budget)?;
    let baseline_shifts = baseline.map(|(roster, _)| assignments_of(roster, agents, &designed));
    let problem = Problem {
        design: &designed,
        agents,
        rules,
        requests,
        skills: &skills,
        curves: &curves,
        served_value: value.as_ref(),
        baseline: baseline_shifts.as_deref().zip(baseline).map(|(shifts, (_, change_penalty))| Baseline { shifts, change_penalty }),
        seed,
        tries: None,
    };
    let assigned = assign(&problem, started + time_limit, progress);
    let roster = to_roster(&assigned, &designed, agents, rules, requests);
    let solve = Solve {
        solve_seconds: started.elapsed().as_secs_f64(),
        unfilled_shifts: assigned.unfilled.len(),
        changes_from_baseline: baseline_shifts.as_ref().map(|b| changes(b, &assigned.shifts)),
        objective: if value.is_some() { Objective::ServiceLevel } else { Objective::AgentIntervals }.name(),
    };
    let report = Judged { roster: &roster, agents, rules, requests, requirement, threshold_s }.report(Some(solve))?;
    Ok(Scheduled { roster, report })
}
