//! The report of a roster against its requirement (the JSON of `wfm schedule --report` and
//! `wfm check-roster --report`, and the planner's page), computed from the roster alone so that
//! any roster, from any solver or edited by hand, is judged exactly as the suite's own.

use chrono::{DateTime, FixedOffset, NaiveDate, Timelike};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use wfm_forecasting::requirements::RequirementsError;
use wfm_model::QueueName;
use wfm_scheduler::agents::Agent;
use wfm_scheduler::assign::Changes;
use wfm_scheduler::check::{check, Violation};
use wfm_scheduler::demand::{self, Column, Demand};
use wfm_scheduler::design::{all_shapes, design_within, Design, DesignError};
use wfm_scheduler::requests::Request;
use wfm_scheduler::roster::{ActivityKind, Roster};
use wfm_scheduler::rules::Rules;
use wfm_scheduler::score::{evaluate, AgentFairness, SoftPenalty};
use wfm_scheduler::skills::{allocate, to_hundredths, SkillTypes};
use wfm_scheduler::InputError;

#[derive(Debug, thiserror::Error)]
pub enum PlanningError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Requirements(#[from] RequirementsError),
    #[error(transparent)]
    Design(#[from] DesignError),
    #[error("{file}: no requirement between {from} and {until}")]
    NoRequirement { file: String, from: NaiveDate, until: NaiveDate },
    #[error(transparent)]
    Forecast(#[from] wfm_forecasting::forecast::ForecastError),
    #[error("tenant {tenant} has no history to forecast from ({skipped})")]
    NoHistory { tenant: String, skipped: String },
    #[error("`{field}`: {message}")]
    Invalid { field: &'static str, message: String },
    #[error("a planning file cannot be written: {0}")]
    Write(String),
}

#[derive(Serialize)]
pub struct QueueCoverage {
    pub queue: String,
    pub required: u32,
    /// The requirement the skill allocation serves on this queue (an agent at efficiency 0.8
    /// serves 0.8 of an agent), to the hundredth.
    pub served: f64,
    /// Erlang C on the queue's calls and the agents allocated to it (spare agents included).
    pub projected_service_level: Option<f64>,
}

#[derive(Serialize)]
pub struct CoverageRow {
    pub interval_start: String,
    pub required: u32,
    pub scheduled: u32,
    pub gap: i64,
    /// The requirement the agents' skills can serve, queues together, to the hundredth.
    pub served: f64,
    /// Over the queues, weighted by calls; absent without calls.
    pub projected_service_level: Option<f64>,
    pub queues: Vec<QueueCoverage>,
}

/// Figures of the solve itself, only `wfm schedule` has.
#[derive(Serialize)]
pub struct Solve {
    pub solve_seconds: f64,
    pub unfilled_shifts: usize,
    /// With --baseline.
    pub changes_from_baseline: Option<Changes>,
    /// What the search minimised: `agent_intervals` (short agent-intervals) or, when staff is
    /// short, `service_level` (calls answered within the threshold).
    pub objective: &'static str,
}

/// A queue in an interval whose projected service level is 0: no more agents at work than
/// its traffic, so its queue grows without bound (Erlang C) and no call is answered in time.
#[derive(Serialize)]
pub struct Sacrificed {
    pub interval_start: String,
    pub queue: String,
    pub required: u32,
    /// The agents' time the queue gets, to the hundredth (spare agents included).
    pub agents: f64,
    pub traffic_erlangs: f64,
    pub calls: f64,
}

/// What a roster achieves against a requirement, computed from the roster alone (so that
/// `wfm check-roster` judges any roster, from any solver, exactly as `wfm schedule` does).
#[derive(Serialize)]
pub struct Report {
    #[serde(flatten)]
    pub solve: Option<Solve>,
    pub agents: usize,
    pub shifts: usize,
    pub paid_hours: f64,
    pub required_agent_intervals: u64,
    /// Queues pooled, as if every agent had every skill: comparable with the lower bound.
    pub under_staffed_agent_intervals: u64,
    /// Per queue, agents allocated to the queues by their skills and efficiencies (a maximum
    /// flow), to the hundredth.
    pub skill_under_staffed_agent_intervals: f64,
    pub under_staffed_by_queue: BTreeMap<String, f64>,
    /// Agents at work beyond the requirement they serve (an agent at 0.8 on a queue is 0.2
    /// beyond it).
    pub over_staffed_agent_intervals: f64,
    /// The shift-design programme's under-staffing (queues pooled): no roster of these shift
    /// shapes, with these many agents and their weekly paid hours, does better.
    pub lower_bound_under_staffed: f64,
    /// Required agent-intervals no allowed shift reaches (the shift windows leave them out),
    /// and the times of day they fall in, e.g. `00:00–06:00`.
    pub out_of_reach_agent_intervals: u64,
    pub out_of_reach_times: Vec<String>,
    /// Required agent-intervals outside their queue's service hours (`[service_hours]` in
    /// `rules.toml`): nobody is rostered for them.
    pub outside_service_hours_agent_intervals: u64,
    /// Calls answered within the threshold over calls offered, all intervals and queues.
    pub projected_service_level: Option<f64>,
    /// No roster of these agents does better: their paid hours handed out an agent-interval
    /// at a time where the next answers the most calls in time (shift shapes, rules and skills
    /// aside). Absent without calls.
    pub best_reachable_service_level: Option<f64>,
    /// Queue-intervals with calls where the roster answers none in time, and their calls.
    pub sacrificed_intervals: Vec<Sacrificed>,
    pub sacrificed_calls: f64,
    pub hard_rule_violations: Vec<Violation>,
    pub soft_rule_penalties: Vec<SoftPenalty>,
    pub total_soft_penalty: f64,
    pub fairness: Vec<AgentFairness>,
    pub coverage: Vec<CoverageRow>,
}

/// The requirement of the days `from..until`, from a requirements file.
pub struct Requirement {
    pub demand: Demand,
    /// The file's text, for the calls and handle times of the projection.
    text: String,
    file: String,
}

impl Requirement {
    /// The requirement of `from..until` in `text`, the file `file` (named in errors).
    pub fn parse(file: &str, text: String, column: Column, from: NaiveDate, until: NaiveDate) -> Result<Self, PlanningError> {
        let full = demand::parse(file, text.as_bytes(), column)?;
        let keep: Vec<usize> = (0..full.starts.len()).filter(|&i| (from..until).contains(&full.starts[i].date_naive())).collect();
        if keep.is_empty() {
            return Err(PlanningError::NoRequirement { file: file.to_owned(), from, until });
        }
        let demand = Demand {
            starts: keep.iter().map(|&i| full.starts[i]).collect(),
            interval_min: full.interval_min,
            queues: full.queues.iter().map(|(q, c)| (q.clone(), keep.iter().map(|&i| c[i]).collect())).collect(),
        };
        Ok(Self { demand, text, file: file.to_owned() })
    }

    /// Agents required per interval, queues pooled.
    pub fn pooled(&self) -> Vec<u32> {
        (0..self.demand.starts.len()).map(|i| self.demand.queues.values().map(|c| c[i]).sum()).collect()
    }

    pub fn queues(&self) -> Vec<QueueName> {
        self.demand.queues.keys().cloned().collect()
    }

    /// Agents required per queue (in [`Self::queues`] order) and interval.
    pub fn curves(&self) -> Vec<Vec<u32>> {
        self.demand.queues.values().cloned().collect()
    }

    /// Per interval and queue (in [`Self::queues`] order), (calls, handle seconds in all) from
    /// the requirements file, when it has `calls` and `aht_s` (zeros otherwise: nothing to
    /// project).
    pub(crate) fn loads(&self) -> Result<Vec<Vec<(f64, f64)>>, PlanningError> {
        let (demand, queues) = (&self.demand, self.queues());
        let mut load = vec![vec![(0.0f64, 0.0f64); queues.len()]; demand.starts.len()];
        let header = self.text.lines().next().unwrap_or_default();
        if !["calls", "aht_s"].iter().all(|c| header.split(',').any(|h| h.trim() == *c)) {
            return Ok(load);
        }
        let interval_s = f64::from(demand.interval_min) * 60.0;
        let first = demand.starts[0];
        for r in wfm_forecasting::requirements::read_forecast(&self.file, self.text.as_bytes(), interval_s)? {
            let i = (r.start - first).num_minutes().div_euclid(i64::from(demand.interval_min));
            let (Some(q), Some(row)) = (queues.iter().position(|q| q.as_str() == r.queue), usize::try_from(i).ok().and_then(|i| load.get_mut(i))) else { continue };
            row[q].0 += r.calls;
            row[q].1 += r.calls * r.aht_s;
        }
        Ok(load)
    }
}


/// The shift-design programme on the requirement itself, pauses aside, within the agents' paid
/// hours: its under-staffing bound and what no allowed shift reaches.
fn bound(requirement: &Requirement, rules: &Rules, agents: &[Agent], requests: &[Request]) -> Result<Design, PlanningError> {
    let shapes = all_shapes(&rules.shifts);
    let budget = crate::service_level::weekly_budget(requirement, agents, rules, requests, &shapes);
    Ok(design_within(&requirement.demand, &requirement.pooled(), &shapes, agents.len() as u32, Some(budget))?)
}

fn outside_service_hours(demand: &Demand, rules: &Rules) -> u64 {
    let mut out = 0;
    for (queue, curve) in &demand.queues {
        let Some(hours) = rules.service_hours.get(queue) else { continue };
        for (t, &required) in demand.starts.iter().zip(curve) {
            if required > 0 && !hours.open_at(t.date_naive(), t.time().num_seconds_from_midnight() / 60) {
                out += u64::from(required);
            }
        }
    }
    out
}

/// The local times of day of `intervals` (indices on `demand`'s grid), as merged ranges.
fn times_of_day(demand: &Demand, intervals: &[usize]) -> Vec<String> {
    let step = demand.interval_min;
    let minutes: BTreeSet<u32> = intervals.iter().map(|&i| demand.starts[i].time().num_seconds_from_midnight() / 60).collect();
    let mut ranges: Vec<(u32, u32)> = Vec::new();
    for m in minutes {
        match ranges.last_mut() {
            Some((_, end)) if *end == m => *end = m + step,
            _ => ranges.push((m, m + step)),
        }
    }
    let clock = |m: u32| format!("{:02}:{:02}", m / 60 % 24, m % 60);
    ranges.into_iter().map(|(from, to)| format!("{}–{}", clock(from), if to == 1440 { "24:00".to_owned() } else { clock(to) })).collect()
}

/// A roster with everything it is judged against.
pub struct Judged<'a> {
    pub roster: &'a Roster,
    pub agents: &'a [Agent],
    pub rules: &'a Rules,
    pub requests: &'a [Request],
    pub requirement: &'a Requirement,
    /// The service level's threshold, seconds.
    pub threshold_s: f64,
}

impl Judged<'_> {
    /// The report; `solve` carries the figures only a solver has.
    pub fn report(&self, solve: Option<Solve>) -> Result<Report, PlanningError> {
        let demand = &self.requirement.demand;
        let required = self.requirement.pooled();
        let queues = self.requirement.queues();
        let skills = SkillTypes::new(self.agents, &queues);
        let by_type = on_duty_by_type(self.roster, self.agents, &skills, demand);
        let scheduled: Vec<u32> = by_type.iter().map(|t| t.iter().sum()).collect();
        let curves = self.requirement.curves();
        let loads = self.requirement.loads()?;
        let interval_s = f64::from(demand.interval_min) * 60.0;
        let (mut answered, mut offered) = (0.0, 0.0);
        let mut coverage = Vec::with_capacity(demand.starts.len());
        let (mut sacrificed, mut sacrificed_calls) = (Vec::new(), 0.0);
        let mut under_by_queue: BTreeMap<String, f64> = queues.iter().map(|q| (q.to_string(), 0.0)).collect();
        let (mut skill_under, mut over) = (0.0, 0.0);
        for (i, start) in demand.starts.iter().enumerate() {
            let need: Vec<u32> = curves.iter().map(|c| c[i]).collect();
            let allocation = allocate(&skills, &by_type[i], &need);
            skill_under += f64::from(need.iter().sum::<u32>()) - allocation.served;
            over += f64::from(scheduled[i]) - allocation.served;
            // Spare agents' time helps the queue of theirs with the most work per agent, an
            // agent at a time, each worth their efficiency there.
            let mut agents_on: Vec<f64> = allocation.per_queue.clone();
            for (t, spare) in allocation.spare(&by_type[i]).into_iter().enumerate() {
                let mut left = spare;
                while left > 1e-9 {
                    let share = left.min(1.0);
                    let busiest = skills.types[t].iter().copied().max_by(|&x, &y| (loads[i][x].1 / (agents_on[x] + 1.0)).total_cmp(&(loads[i][y].1 / (agents_on[y] + 1.0))));
                    let Some(q) = busiest else { break };
                    agents_on[q] += share * skills.efficiency[t][q];
                    left -= share;
                }
            }
            let (mut row_answered, mut row_offered) = (0.0, 0.0);
            let mut rows = Vec::with_capacity(queues.len());
            for (q, queue) in queues.iter().enumerate() {
                *under_by_queue.get_mut(queue.as_str()).expect("every queue has an entry") += f64::from(need[q]) - allocation.per_queue[q];
                let (calls, work_s) = loads[i][q];
                let sl = project(calls, work_s, agents_on[q], interval_s, self.threshold_s);
                if let Some(sl) = sl {
                    row_answered += sl * calls;
                    row_offered += calls;
                    if sl <= 0.0 {
                        sacrificed_calls += calls;
                        let traffic_erlangs = (work_s / interval_s * 100.0).round() / 100.0;
                        sacrificed.push(Sacrificed { interval_start: start.to_rfc3339(), queue: queue.to_string(), required: need[q], agents: to_hundredths(agents_on[q]), traffic_erlangs, calls });
                    }
                }
                rows.push(QueueCoverage { queue: queue.to_string(), required: need[q], served: to_hundredths(allocation.per_queue[q]), projected_service_level: sl });
            }
            answered += row_answered;
            offered += row_offered;
            coverage.push(CoverageRow {
                interval_start: start.to_rfc3339(),
                required: required[i],
                scheduled: scheduled[i],
                gap: i64::from(scheduled[i]) - i64::from(required[i]),
                served: to_hundredths(allocation.served),
                projected_service_level: (row_offered > 0.0).then(|| row_answered / row_offered),
                queues: rows,
            });
        }
        let soft = evaluate(self.roster, self.agents, self.rules, self.requests);
        let shifts = self.roster.shifts();
        let bound = bound(self.requirement, self.rules, self.agents, self.requests)?;
        Ok(Report {
            solve,
            agents: self.agents.len(),
            shifts: shifts.len(),
            paid_hours: shifts.iter().map(|s| s.paid_min() as f64 / 60.0).sum(),
            required_agent_intervals: required.iter().map(|&r| u64::from(r)).sum(),
            under_staffed_agent_intervals: required.iter().zip(&scheduled).map(|(r, s)| u64::from(r.saturating_sub(*s))).sum(),
            skill_under_staffed_agent_intervals: to_hundredths(skill_under),
            under_staffed_by_queue: under_by_queue.into_iter().map(|(q, n)| (q, to_hundredths(n))).collect(),
            over_staffed_agent_intervals: to_hundredths(over),
            lower_bound_under_staffed: bound.lower_bound_under,
            out_of_reach_agent_intervals: bound.out_of_reach.iter().map(|&i| u64::from(required[i])).sum(),
            out_of_reach_times: times_of_day(&self.requirement.demand, &bound.out_of_reach),
            outside_service_hours_agent_intervals: outside_service_hours(&self.requirement.demand, self.rules),
            projected_service_level: (offered > 0.0).then(|| answered / offered),
            best_reachable_service_level: crate::service_level::best_reachable_service_level(self.requirement, self.agents, self.rules, self.requests, self.threshold_s)?,
            sacrificed_intervals: sacrificed,
            sacrificed_calls,
            hard_rule_violations: check(self.roster, self.agents, self.rules),
            soft_rule_penalties: soft.penalties,
            total_soft_penalty: soft.total_penalty,
            fairness: soft.fairness,
            coverage,
        })
    }
}

/// Per interval and skill type, agents at work (not on a break, meal or training) for the
/// whole interval.
fn on_duty_by_type(roster: &Roster, agents: &[Agent], skills: &SkillTypes, demand: &Demand) -> Vec<Vec<u32>> {
    let type_of: HashMap<&str, usize> = agents.iter().zip(&skills.agent_type).map(|(a, &t)| (a.id.as_str(), t)).collect();
    let step = i64::from(demand.interval_min);
    let first: DateTime<FixedOffset> = demand.starts[0];
    let mut out = vec![vec![0u32; skills.types.len()]; demand.starts.len()];
    for a in roster.activities.iter().filter(|a| matches!(a.kind, ActivityKind::Work)) {
        // An agent missing from the agents file is the checker's to report; they serve nothing.
        let Some(&t) = type_of.get(a.agent_id.as_str()) else { continue };
        let from = (a.start - first).num_minutes().div_euclid(step);
        let to = (a.end - first).num_minutes().div_euclid(step);
        for i in from.max(0)..to.min(out.len() as i64) {
            out[i as usize][t] += 1;
        }
    }
    out
}

/// Erlang C service level of `calls` with `work_s` seconds of handling in all on `agents`;
/// none without calls, or where the load is beyond Erlang's range (the roster stands).
/// Erlang C's service level with `agents` (fractional with efficiencies: interpolated between
/// the whole numbers around it).
fn project(calls: f64, work_s: f64, agents: f64, interval_s: f64, threshold_s: f64) -> Option<f64> {
    use wfm_forecasting::erlang::{evaluate, QueueModel, Workload};
    if calls <= 0.0 {
        return None;
    }
    let workload = Workload::new(calls, interval_s, work_s / calls).ok()?;
    let at = |n: f64| evaluate(QueueModel::ErlangC, &workload, n as u32, threshold_s).ok().map(|s| s.service_level);
    let (below, fraction) = (agents.floor(), agents - agents.floor());
    if fraction < 1e-6 {
        return at(below);
    }
    Some(at(below)? * (1.0 - fraction) + at(below + 1.0)? * fraction)
}

