//! `wfm schedule`: requirements, agents and rules in; a roster and its report out. Also
//! `wfm check-roster` (any roster judged the same way), `wfm check-swap` and `wfm check-leave`.

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;
use wfm_model::{parse_date, QueueName};
use wfm_scheduler::agents::Agent;
use wfm_scheduler::assign::{assign, assignments_of, changes, shift_plan, to_roster, Baseline, Changes, Problem};
use wfm_scheduler::check::{check, Violation};
use wfm_scheduler::demand::{self, Column, Demand};
use wfm_scheduler::design::{design, shapes};
use wfm_scheduler::requests::Request;
use wfm_scheduler::roster::{ActivityKind, Roster};
use wfm_scheduler::rules::Rules;
use wfm_scheduler::score::{evaluate, AgentFairness, SoftPenalty};
use wfm_scheduler::skills::{allocate, SkillTypes};
use wfm_scheduler::{agents, requests};

#[derive(Debug, clap::Args)]
pub struct ScheduleArgs {
    /// Requirements CSV from `wfm staff`: queue, interval_start, agents.
    #[arg(long)]
    requirements: PathBuf,
    /// Agents CSV (docs/scheduling.md).
    #[arg(long)]
    agents: PathBuf,
    /// Rules TOML (docs/scheduling.md).
    #[arg(long)]
    rules: PathBuf,
    /// First day of the roster, YYYY-MM-DD (a Monday keeps weekly rules on whole weeks).
    #[arg(long)]
    from: String,
    #[arg(long, default_value_t = 4)]
    weeks: u32,
    /// Leave, overtime and wishes CSV (docs/scheduling.md).
    #[arg(long)]
    requests: Option<PathBuf>,
    /// A published roster to re-schedule from: as few of its assignments change as the new
    /// requirement, absences and rules allow.
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// With --baseline: a change is made only when it removes more than this many
    /// under-staffed agent-intervals.
    #[arg(long, default_value_t = 4)]
    change_penalty: u32,
    /// Only the agents of this tenant when the agents file has a tenant column.
    #[arg(long, default_value = "demo")]
    tenant: String,
    /// Cover `agents_with_shrinkage` instead of `agents`.
    #[arg(long)]
    with_shrinkage: bool,
    /// Stop improving after this many seconds (the roster found so far is kept).
    #[arg(long, default_value_t = 60.0)]
    time_limit_s: f64,
    /// Service-level threshold of the projected service level in the report, seconds.
    #[arg(long, default_value_t = 20.0)]
    threshold_s: f64,
    /// The roster CSV: agent_id, date, activity, start, end.
    #[arg(long)]
    out: PathBuf,
    /// Also write coverage, violations, penalties and solve figures as JSON.
    #[arg(long)]
    report: Option<PathBuf>,
}

#[derive(Serialize)]
struct QueueCoverage {
    queue: String,
    required: u32,
    /// Agents the skill allocation gives this queue, up to its requirement.
    served: u32,
    /// Erlang C on the queue's calls and the agents allocated to it (spare agents included).
    projected_service_level: Option<f64>,
}

#[derive(Serialize)]
struct CoverageRow {
    interval_start: String,
    required: u32,
    scheduled: u32,
    gap: i64,
    /// The requirement the agents' skills can serve, queues together.
    served: u32,
    /// Over the queues, weighted by calls; absent without calls.
    projected_service_level: Option<f64>,
    queues: Vec<QueueCoverage>,
}

/// Figures of the solve itself, only `wfm schedule` has.
#[derive(Serialize)]
struct Solve {
    solve_seconds: f64,
    unfilled_shifts: usize,
    /// With --baseline.
    changes_from_baseline: Option<Changes>,
}

/// What a roster achieves against a requirement, computed from the roster alone (so that
/// `wfm check-roster` judges any roster, from any solver, exactly as `wfm schedule` does).
#[derive(Serialize)]
struct Report {
    #[serde(flatten)]
    solve: Option<Solve>,
    agents: usize,
    shifts: usize,
    paid_hours: f64,
    required_agent_intervals: u64,
    /// Queues pooled, as if every agent had every skill: comparable with the lower bound.
    under_staffed_agent_intervals: u64,
    /// Per queue, agents allocated to the queues by their skills (a maximum flow).
    skill_under_staffed_agent_intervals: u64,
    under_staffed_by_queue: BTreeMap<String, u64>,
    /// Agents at work no requirement they are skilled for needs.
    over_staffed_agent_intervals: u64,
    /// The shift-design programme's under-staffing (queues pooled): no roster of these shift
    /// shapes, with these many agents, does better.
    lower_bound_under_staffed: f64,
    /// Calls answered within the threshold over calls offered, all intervals and queues.
    projected_service_level: Option<f64>,
    hard_rule_violations: Vec<Violation>,
    soft_rule_penalties: Vec<SoftPenalty>,
    total_soft_penalty: f64,
    fairness: Vec<AgentFairness>,
    coverage: Vec<CoverageRow>,
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))
}

fn name(path: &Path) -> String {
    path.display().to_string()
}

/// The requirement of the days `from..until`, from a requirements file.
struct Requirement {
    demand: Demand,
    /// The file's text, for the calls and handle times of the projection.
    text: String,
    file: String,
}

impl Requirement {
    fn read(path: &Path, column: Column, from: NaiveDate, until: NaiveDate) -> Result<Self> {
        let text = read(path)?;
        let full = demand::parse(&name(path), text.as_bytes(), column)?;
        let keep: Vec<usize> = (0..full.starts.len()).filter(|&i| (from..until).contains(&full.starts[i].date_naive())).collect();
        if keep.is_empty() {
            bail!("{}: no requirement between {from} and {until}", path.display());
        }
        let demand = Demand {
            starts: keep.iter().map(|&i| full.starts[i]).collect(),
            interval_min: full.interval_min,
            queues: full.queues.iter().map(|(q, c)| (q.clone(), keep.iter().map(|&i| c[i]).collect())).collect(),
        };
        Ok(Self { demand, text, file: name(path) })
    }

    fn pooled(&self) -> Vec<u32> {
        (0..self.demand.starts.len()).map(|i| self.demand.queues.values().map(|c| c[i]).sum()).collect()
    }

    fn queues(&self) -> Vec<QueueName> {
        self.demand.queues.keys().cloned().collect()
    }

    fn curves(&self) -> Vec<Vec<u32>> {
        self.demand.queues.values().cloned().collect()
    }
}

/// Every shift shape the rules allow, team windows included.
fn all_shapes(rules: &Rules) -> Vec<wfm_scheduler::design::Shape> {
    let mut all = shapes(&rules.shifts.lengths_min, rules.shifts.start_step_min, rules.shifts.window);
    for w in rules.shifts.team_windows.values() {
        all.extend(shapes(&rules.shifts.lengths_min, rules.shifts.start_step_min, *w));
    }
    all.sort();
    all.dedup();
    all
}

/// The shift-design programme's under-staffing on the requirement itself, pauses aside.
fn lower_bound(requirement: &Requirement, rules: &Rules, agents: usize) -> Result<f64> {
    Ok(design(&requirement.demand, &requirement.pooled(), &all_shapes(rules), agents as u32)?.lower_bound_under)
}

pub fn schedule(a: ScheduleArgs) -> Result<()> {
    let started = Instant::now();
    let rules = Rules::parse(&name(&a.rules), &read(&a.rules)?)?;
    let agents = agents::parse(&name(&a.agents), read(&a.agents)?.as_bytes(), &a.tenant)?;
    let requests = match &a.requests {
        Some(p) => requests::parse(&name(p), read(p)?.as_bytes())?,
        None => Vec::new(),
    };
    if !(1..=6).contains(&a.weeks) {
        bail!("--weeks: {} is not between 1 and 6", a.weeks);
    }
    if !(a.time_limit_s.is_finite() && a.time_limit_s > 0.0) {
        bail!("--time-limit-s: {} is not a number of seconds > 0", a.time_limit_s);
    }
    if !(a.threshold_s.is_finite() && a.threshold_s >= 0.0) {
        bail!("--threshold-s: {} is not a number of seconds ≥ 0", a.threshold_s);
    }
    let from = parse_date(&a.from)?;
    let until = from + Duration::days(7 * i64::from(a.weeks));
    let column = if a.with_shrinkage { Column::AgentsWithShrinkage } else { Column::Agents };
    let requirement = Requirement::read(&a.requirements, column, from, until)?;
    let baseline_roster = match &a.baseline {
        Some(p) => Some(Roster::read_csv(&name(p), read(p)?.as_bytes())?),
        None => None,
    };
    let demand = &requirement.demand;
    let required = requirement.pooled();
    let all_shapes = all_shapes(&rules);
    // Shifts are designed for the staff on duty plus those on a break or meal then.
    let pause_share = all_shapes
        .iter()
        .map(|shape| {
            let plan = shift_plan(shape, &rules, demand.interval_min);
            plan.iter().filter(|(k, _)| *k != ActivityKind::Work).map(|(_, m)| f64::from(*m)).sum::<f64>() / f64::from(shape.length_min)
        })
        .sum::<f64>()
        / all_shapes.len() as f64;
    let with_pauses: Vec<u32> = required.iter().map(|&r| (f64::from(r) * (1.0 + pause_share)).round() as u32).collect();
    let designed = design(demand, &with_pauses, &all_shapes, agents.len() as u32)?;
    let skills = SkillTypes::new(&agents, &requirement.queues());
    let curves = requirement.curves();
    let baseline_shifts = baseline_roster.as_ref().map(|r| assignments_of(r, &agents, &designed));
    let problem = Problem {
        design: &designed,
        agents: &agents,
        rules: &rules,
        requests: &requests,
        skills: &skills,
        curves: &curves,
        baseline: baseline_shifts.as_deref().map(|shifts| Baseline { shifts, change_penalty: a.change_penalty }),
    };
    let deadline = started + std::time::Duration::from_secs_f64(a.time_limit_s);
    let assigned = assign(&problem, deadline, &mut |p| {
        eprintln!(
            "local search pass {}: {} moves; {} agent-intervals short of the queues' requirements, {} beyond them; {:.2} s{}",
            p.pass,
            p.moves,
            p.short,
            p.excess,
            started.elapsed().as_secs_f64(),
            if p.timed_out { " — time limit reached, keeping the best roster so far" } else { "" }
        )
    });
    let roster = to_roster(&assigned, &designed, &agents, &rules, &requests);
    let file = std::fs::File::create(&a.out).with_context(|| format!("{}: cannot write", a.out.display()))?;
    roster.write_csv(std::io::BufWriter::new(file))?;
    let solve = Solve {
        solve_seconds: started.elapsed().as_secs_f64(),
        unfilled_shifts: assigned.unfilled.len(),
        changes_from_baseline: baseline_shifts.as_ref().map(|b| changes(b, &assigned.shifts)),
    };
    let judged = Judged { roster: &roster, agents: &agents, rules: &rules, requests: &requests, requirement: &requirement, threshold_s: a.threshold_s };
    let report = judged.report(Some(solve))?;
    if let Some(c) = report.solve.as_ref().and_then(|s| s.changes_from_baseline) {
        eprintln!("against the baseline: {} shifts kept, {} moved, {} removed, {} added", c.kept, c.moved, c.removed, c.added);
    }
    finish(&report, a.report.as_deref(), a.threshold_s)
}

/// A roster with everything it is judged against.
struct Judged<'a> {
    roster: &'a Roster,
    agents: &'a [Agent],
    rules: &'a Rules,
    requests: &'a [Request],
    requirement: &'a Requirement,
    threshold_s: f64,
}

impl Judged<'_> {
    fn report(&self, solve: Option<Solve>) -> Result<Report> {
        let demand = &self.requirement.demand;
        let required = self.requirement.pooled();
        let queues = self.requirement.queues();
        let skills = SkillTypes::new(self.agents, &queues);
        let by_type = on_duty_by_type(self.roster, self.agents, &skills, demand);
        let scheduled: Vec<u32> = by_type.iter().map(|t| t.iter().sum()).collect();
        let curves = self.requirement.curves();
        let loads = queue_loads(&self.requirement.text, &self.requirement.file, demand, &queues)?;
        let interval_s = f64::from(demand.interval_min) * 60.0;
        let (mut answered, mut offered) = (0.0, 0.0);
        let mut coverage = Vec::with_capacity(demand.starts.len());
        let mut under_by_queue: BTreeMap<String, u64> = queues.iter().map(|q| (q.to_string(), 0)).collect();
        let (mut skill_under, mut over) = (0u64, 0u64);
        for (i, start) in demand.starts.iter().enumerate() {
            let need: Vec<u32> = curves.iter().map(|c| c[i]).collect();
            let allocation = allocate(&skills, &by_type[i], &need);
            skill_under += u64::from(need.iter().sum::<u32>() - allocation.served);
            over += u64::from(scheduled[i] - allocation.served);
            // Spare agents help the queue of theirs with the most work per agent.
            let mut agents_on: Vec<f64> = allocation.per_queue.iter().map(|&n| f64::from(n)).collect();
            for (t, &spare) in allocation.spare.iter().enumerate() {
                for _ in 0..spare {
                    let busiest = skills.types[t].iter().copied().max_by(|&x, &y| (loads[i][x].1 / (agents_on[x] + 1.0)).total_cmp(&(loads[i][y].1 / (agents_on[y] + 1.0))));
                    if let Some(q) = busiest {
                        agents_on[q] += 1.0;
                    }
                }
            }
            let (mut row_answered, mut row_offered) = (0.0, 0.0);
            let mut rows = Vec::with_capacity(queues.len());
            for (q, queue) in queues.iter().enumerate() {
                *under_by_queue.get_mut(queue.as_str()).expect("every queue has an entry") += u64::from(need[q] - allocation.per_queue[q]);
                let (calls, work_s) = loads[i][q];
                let sl = project(calls, work_s, agents_on[q] as u32, interval_s, self.threshold_s);
                if let Some(sl) = sl {
                    row_answered += sl * calls;
                    row_offered += calls;
                }
                rows.push(QueueCoverage { queue: queue.to_string(), required: need[q], served: allocation.per_queue[q], projected_service_level: sl });
            }
            answered += row_answered;
            offered += row_offered;
            coverage.push(CoverageRow {
                interval_start: start.to_rfc3339(),
                required: required[i],
                scheduled: scheduled[i],
                gap: i64::from(scheduled[i]) - i64::from(required[i]),
                served: allocation.served,
                projected_service_level: (row_offered > 0.0).then(|| row_answered / row_offered),
                queues: rows,
            });
        }
        let soft = evaluate(self.roster, self.agents, self.rules, self.requests);
        let shifts = self.roster.shifts();
        Ok(Report {
            solve,
            agents: self.agents.len(),
            shifts: shifts.len(),
            paid_hours: shifts.iter().map(|s| s.paid_min() as f64 / 60.0).sum(),
            required_agent_intervals: required.iter().map(|&r| u64::from(r)).sum(),
            under_staffed_agent_intervals: required.iter().zip(&scheduled).map(|(r, s)| u64::from(r.saturating_sub(*s))).sum(),
            skill_under_staffed_agent_intervals: skill_under,
            under_staffed_by_queue: under_by_queue,
            over_staffed_agent_intervals: over,
            lower_bound_under_staffed: lower_bound(self.requirement, self.rules, self.agents.len())?,
            projected_service_level: (offered > 0.0).then(|| answered / offered),
            hard_rule_violations: check(self.roster, self.agents, self.rules),
            soft_rule_penalties: soft.penalties,
            total_soft_penalty: soft.total_penalty,
            fairness: soft.fairness,
            coverage,
        })
    }
}

/// Prints the summary, writes the report, and fails when the roster breaks hard rules.
fn finish(report: &Report, path: Option<&Path>, threshold_s: f64) -> Result<()> {
    eprintln!(
        "{} agents, {} shifts{}, {:.0} paid hours; under-staffed {} of {} agent-intervals per skill ({} with queues pooled; shift-design bound {:.0}), over-staffed {}; projected service level {}{}",
        report.agents,
        report.shifts,
        report.solve.as_ref().map_or(String::new(), |s| format!(" ({} unfilled)", s.unfilled_shifts)),
        report.paid_hours,
        report.skill_under_staffed_agent_intervals,
        report.required_agent_intervals,
        report.under_staffed_agent_intervals,
        report.lower_bound_under_staffed,
        report.over_staffed_agent_intervals,
        report.projected_service_level.map_or("-".to_owned(), |sl| format!("{:.1} % in {threshold_s} s", sl * 100.0)),
        report.solve.as_ref().map_or(String::new(), |s| format!("; {:.2} s", s.solve_seconds)),
    );
    if let Some(path) = path {
        std::fs::write(path, serde_json::to_string_pretty(report)? + "\n").with_context(|| format!("{}: cannot write", path.display()))?;
    }
    let violations = &report.hard_rule_violations;
    if !violations.is_empty() {
        for v in violations.iter().take(20) {
            eprintln!("conflict: {} for agent {} on {}: {}", v.rule, v.agent, v.date, v.detail);
        }
        bail!("the roster breaks {} hard rules (listed above{}): the rules, agents and requests cannot all be met", violations.len(), if violations.len() > 20 { ", first 20" } else { "" });
    }
    Ok(())
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

/// Per interval and queue, (calls, handle seconds in all) from the requirements file, when it
/// has `calls` and `aht_s` (zeros otherwise: nothing to project).
fn queue_loads(text: &str, file: &str, demand: &Demand, queues: &[QueueName]) -> Result<Vec<Vec<(f64, f64)>>> {
    let mut load = vec![vec![(0.0f64, 0.0f64); queues.len()]; demand.starts.len()];
    let header = text.lines().next().unwrap_or_default();
    if !["calls", "aht_s"].iter().all(|c| header.split(',').any(|h| h.trim() == *c)) {
        return Ok(load);
    }
    let interval_s = f64::from(demand.interval_min) * 60.0;
    let first = demand.starts[0];
    for r in wfm_forecasting::requirements::read_forecast(file, text.as_bytes(), interval_s)? {
        let i = (r.start - first).num_minutes().div_euclid(i64::from(demand.interval_min));
        let (Some(q), Some(row)) = (queues.iter().position(|q| q.as_str() == r.queue), usize::try_from(i).ok().and_then(|i| load.get_mut(i))) else { continue };
        row[q].0 += r.calls;
        row[q].1 += r.calls * r.aht_s;
    }
    Ok(load)
}

/// Erlang C service level of `calls` with `work_s` seconds of handling in all on `agents`;
/// none without calls, or where the load is beyond Erlang's range (the roster stands).
fn project(calls: f64, work_s: f64, agents: u32, interval_s: f64, threshold_s: f64) -> Option<f64> {
    use wfm_forecasting::erlang::{evaluate, QueueModel, Workload};
    if calls <= 0.0 {
        return None;
    }
    Workload::new(calls, interval_s, work_s / calls).ok().and_then(|w| evaluate(QueueModel::ErlangC, &w, agents, threshold_s).ok()).map(|s| s.service_level)
}

#[derive(Debug, clap::Args)]
pub struct CheckRosterArgs {
    #[command(flatten)]
    files: RosterFiles,
    /// Requirements CSV the roster is to cover (from `wfm staff`); the roster's own dates
    /// choose the days.
    #[arg(long)]
    requirements: PathBuf,
    /// Leave, overtime and wishes CSV, for the soft-rule penalties.
    #[arg(long)]
    requests: Option<PathBuf>,
    /// Judge coverage against `agents_with_shrinkage` instead of `agents`.
    #[arg(long)]
    with_shrinkage: bool,
    #[arg(long, default_value_t = 20.0)]
    threshold_s: f64,
    /// Write the same JSON report as `wfm schedule --report`.
    #[arg(long)]
    report: Option<PathBuf>,
}

/// Judges a roster (from `wfm schedule`, by hand or from another solver) as `wfm schedule`
/// judges its own; fails when it breaks a hard rule.
pub fn check_roster(a: CheckRosterArgs) -> Result<()> {
    let (roster, agents, rules) = a.files.load()?;
    let requests = match &a.requests {
        Some(p) => requests::parse(&name(p), read(p)?.as_bytes())?,
        None => Vec::new(),
    };
    if !(a.threshold_s.is_finite() && a.threshold_s >= 0.0) {
        bail!("--threshold-s: {} is not a number of seconds ≥ 0", a.threshold_s);
    }
    let (Some(from), Some(last)) = (roster.activities.iter().map(|x| x.date).min(), roster.activities.iter().map(|x| x.date).max()) else {
        bail!("{}: no activities", a.files.roster.display());
    };
    let column = if a.with_shrinkage { Column::AgentsWithShrinkage } else { Column::Agents };
    let requirement = Requirement::read(&a.requirements, column, from, last + Duration::days(1))?;
    let judged = Judged { roster: &roster, agents: &agents, rules: &rules, requests: &requests, requirement: &requirement, threshold_s: a.threshold_s };
    let report = judged.report(None)?;
    finish(&report, a.report.as_deref(), a.threshold_s)
}

/// The files every roster change is judged with.
#[derive(Debug, clap::Args)]
pub struct RosterFiles {
    /// The published roster CSV.
    #[arg(long)]
    roster: PathBuf,
    #[arg(long)]
    agents: PathBuf,
    #[arg(long)]
    rules: PathBuf,
    /// Only the agents of this tenant when the agents file has a tenant column.
    #[arg(long, default_value = "demo")]
    tenant: String,
}

impl RosterFiles {
    fn load(&self) -> Result<(Roster, Vec<Agent>, Rules)> {
        let roster = Roster::read_csv(&self.roster.display().to_string(), read(&self.roster)?.as_bytes())?;
        let agents = agents::parse(&self.agents.display().to_string(), read(&self.agents)?.as_bytes(), &self.tenant)?;
        let rules = Rules::parse(&self.rules.display().to_string(), &read(&self.rules)?)?;
        Ok((roster, agents, rules))
    }
}

#[derive(Debug, clap::Args)]
pub struct CheckSwapArgs {
    #[command(flatten)]
    files: RosterFiles,
    /// The day whose shifts (or days off) the two agents exchange, YYYY-MM-DD.
    #[arg(long)]
    date: String,
    #[arg(long)]
    agent: String,
    #[arg(long)]
    with: String,
    /// Write the roster with the swap applied, when it is valid.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Prints the verdict as JSON; fails when the swap breaks a rule.
pub fn check_swap(a: CheckSwapArgs) -> Result<()> {
    let (roster, agents, rules) = a.files.load()?;
    let (x, y) = (wfm_model::AgentId::parse(&a.agent)?, wfm_model::AgentId::parse(&a.with)?);
    let (swapped, verdict) = wfm_scheduler::changes::check_swap(&roster, &agents, &rules, &x, &y, parse_date(&a.date)?)?;
    println!("{}", serde_json::to_string_pretty(&verdict)?);
    if !verdict.valid {
        bail!("swap refused: {}", verdict.problems.join("; "));
    }
    if let Some(path) = &a.out {
        let file = std::fs::File::create(path).with_context(|| format!("{}: cannot write", path.display()))?;
        swapped.write_csv(std::io::BufWriter::new(file))?;
    }
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct CheckLeaveArgs {
    #[command(flatten)]
    files: RosterFiles,
    /// Requirements CSV the roster covers (from `wfm staff`).
    #[arg(long)]
    requirements: PathBuf,
    #[arg(long)]
    agent: String,
    #[arg(long)]
    date: String,
}

/// Prints, as JSON, the leave balance, the intervals that would fall short and the agents who
/// could cover; fails when the leave is beyond the agent's allowance.
pub fn check_leave(a: CheckLeaveArgs) -> Result<()> {
    let (roster, agents, rules) = a.files.load()?;
    let demand = demand::parse(&a.requirements.display().to_string(), read(&a.requirements)?.as_bytes(), Column::Agents)?;
    let id = wfm_model::AgentId::parse(&a.agent)?;
    let verdict = wfm_scheduler::changes::check_leave(&roster, &agents, &rules, &demand, &id, parse_date(&a.date)?)?;
    println!("{}", serde_json::to_string_pretty(&verdict)?);
    if let Some(allowance) = verdict.allowance.as_ref().filter(|x| !x.within) {
        bail!("leave refused: {} has taken {} of {} days of leave allowed", a.agent, allowance.taken_days, allowance.allowance_days);
    }
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct FillGapArgs {
    #[command(flatten)]
    files: RosterFiles,
    /// The day of the gap, YYYY-MM-DD.
    #[arg(long)]
    date: String,
    /// Local start of the gap, HH:MM.
    #[arg(long)]
    from: String,
    /// Local end of the gap, HH:MM.
    #[arg(long)]
    to: String,
    /// Only agents skilled for this queue.
    #[arg(long)]
    queue: Option<String>,
}

/// Prints, as JSON, who could work an extra shift covering a gap, fewest paid hours first.
pub fn fill_gap(a: FillGapArgs) -> Result<()> {
    use wfm_scheduler::rules::ClockTime;
    let (roster, agents, rules) = a.files.load()?;
    let date = parse_date(&a.date)?;
    let clock = |flag: &str, v: &str| ClockTime::parse(v).with_context(|| format!("{flag}: {v:?} is not a time HH:MM"));
    let (from, to) = (clock("--from", &a.from)?, clock("--to", &a.to)?);
    if to <= from {
        bail!("--to: {} is not after --from {}", a.to, a.from);
    }
    let queue = a.queue.as_deref().map(QueueName::parse).transpose()?;
    // The offset of the day from the roster itself (summer time may differ from other days).
    let offset = roster
        .activities
        .iter()
        .find(|x| x.date == date)
        .or(roster.activities.first())
        .map(|x| *x.start.offset())
        .with_context(|| format!("{}: no activities", a.files.roster.display()))?;
    let offers = wfm_scheduler::changes::fill_gap(&roster, &agents, &rules, date, (from, to), queue.as_ref(), offset);
    println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "candidates": offers }))?);
    Ok(())
}
