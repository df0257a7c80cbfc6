//! `wfm schedule`: requirements, agents and rules in; a roster and its report out.

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Duration, FixedOffset};
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;
use wfm_model::parse_date;
use wfm_scheduler::assign::{assign, shift_plan, to_roster};
use wfm_scheduler::check::{check, Violation};
use wfm_scheduler::demand::{self, Column, Demand};
use wfm_scheduler::design::{design, shapes};
use wfm_scheduler::roster::{ActivityKind, Roster};
use wfm_scheduler::rules::Rules;
use wfm_scheduler::score::{evaluate, AgentFairness, SoftPenalty};
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
struct CoverageRow {
    interval_start: String,
    required: u32,
    scheduled: u32,
    gap: i64,
    /// Erlang C with the interval's calls of all queues and the scheduled agents pooled
    /// (optimistic where skills are split); absent without calls.
    projected_service_level: Option<f64>,
}

#[derive(Serialize)]
struct Report {
    solve_seconds: f64,
    agents: usize,
    shifts: usize,
    unfilled_shifts: usize,
    paid_hours: f64,
    required_agent_intervals: u64,
    under_staffed_agent_intervals: u64,
    over_staffed_agent_intervals: u64,
    /// The shift-design LP's under-staffing: no roster of these shifts does better.
    lower_bound_under_staffed: f64,
    /// Calls answered within the threshold over calls offered, all intervals (pooled Erlang C).
    projected_service_level: Option<f64>,
    hard_rule_violations: Vec<Violation>,
    soft_rule_penalties: Vec<SoftPenalty>,
    total_soft_penalty: f64,
    fairness: Vec<AgentFairness>,
    coverage: Vec<CoverageRow>,
}

fn read(path: &PathBuf) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))
}

pub fn schedule(a: ScheduleArgs) -> Result<()> {
    let started = Instant::now();
    let rules = Rules::parse(&a.rules.display().to_string(), &read(&a.rules)?)?;
    let agents = agents::parse(&a.agents.display().to_string(), read(&a.agents)?.as_bytes(), &a.tenant)?;
    let requests = match &a.requests {
        Some(p) => requests::parse(&p.display().to_string(), read(p)?.as_bytes())?,
        None => Vec::new(),
    };
    let column = if a.with_shrinkage { Column::AgentsWithShrinkage } else { Column::Agents };
    let requirements_text = read(&a.requirements)?;
    let full = demand::parse(&a.requirements.display().to_string(), requirements_text.as_bytes(), column)?;
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
    let keep: Vec<usize> = (0..full.starts.len()).filter(|&i| (from..until).contains(&full.starts[i].date_naive())).collect();
    if keep.is_empty() {
        bail!("{}: no requirement between {from} and {until}", a.requirements.display());
    }
    let demand = Demand {
        starts: keep.iter().map(|&i| full.starts[i]).collect(),
        interval_min: full.interval_min,
        queues: full.queues.iter().map(|(q, c)| (q.clone(), keep.iter().map(|&i| c[i]).collect())).collect(),
    };
    let required: Vec<u32> = (0..demand.starts.len()).map(|i| demand.queues.values().map(|c| c[i]).sum()).collect();
    let mut all_shapes = shapes(&rules.shifts.lengths_min, rules.shifts.start_step_min, rules.shifts.window);
    for w in rules.shifts.team_windows.values() {
        all_shapes.extend(shapes(&rules.shifts.lengths_min, rules.shifts.start_step_min, *w));
    }
    all_shapes.sort();
    all_shapes.dedup();
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
    let designed = design(&demand, &with_pauses, &all_shapes, agents.len() as u32)?;
    // The bound is the programme's on the requirement itself, pauses aside.
    let lower_bound_under = design(&demand, &required, &all_shapes, agents.len() as u32)?.lower_bound_under;
    let deadline = started + std::time::Duration::from_secs_f64(a.time_limit_s);
    let assigned = assign(&designed, &agents, &rules, &requests, &required, deadline, &mut |p| {
        eprintln!(
            "local search pass {}: {} shifts moved; {} agent-intervals short, {} beyond the requirement; {:.2} s{}",
            p.pass,
            p.moves,
            p.short,
            p.excess,
            started.elapsed().as_secs_f64(),
            if p.timed_out { " — time limit reached, keeping the best roster so far" } else { "" }
        )
    });
    let offset: FixedOffset = *demand.starts[0].offset();
    let roster = to_roster(&assigned, &designed, &agents, &rules, offset, demand.interval_min);
    let violations = check(&roster, &agents, &rules);
    let scheduled = on_duty(&roster, &demand);
    let solve_seconds = started.elapsed().as_secs_f64();
    let projected = projected_service_levels(&a, &requirements_text, &demand, &scheduled)?;
    let soft = evaluate(&roster, &agents, &rules, &requests);

    let file = std::fs::File::create(&a.out).with_context(|| format!("{}: cannot write", a.out.display()))?;
    roster.write_csv(std::io::BufWriter::new(file))?;
    let under: u64 = required.iter().zip(&scheduled).map(|(r, s)| u64::from(r.saturating_sub(*s))).sum();
    let over: u64 = required.iter().zip(&scheduled).map(|(r, s)| u64::from(s.saturating_sub(*r))).sum();
    let paid_hours: f64 = roster.shifts().iter().map(|s| s.paid_min() as f64 / 60.0).sum();
    eprintln!(
        "{} agents, {} shifts ({} unfilled), {paid_hours:.0} paid hours; under-staffed {under} of {} agent-intervals (shift-design bound {:.0}), over-staffed {over}; projected service level {}; {solve_seconds:.2} s",
        agents.len(),
        assigned.shifts.len(),
        assigned.unfilled.len(),
        required.iter().map(|&r| u64::from(r)).sum::<u64>(),
        lower_bound_under,
        projected.overall.map_or("-".to_owned(), |sl| format!("{:.1} % in {} s", sl * 100.0, a.threshold_s)),
    );
    if let Some(path) = &a.report {
        let report = Report {
            solve_seconds,
            agents: agents.len(),
            shifts: assigned.shifts.len(),
            unfilled_shifts: assigned.unfilled.len(),
            paid_hours,
            required_agent_intervals: required.iter().map(|&r| u64::from(r)).sum(),
            under_staffed_agent_intervals: under,
            over_staffed_agent_intervals: over,
            lower_bound_under_staffed: lower_bound_under,
            projected_service_level: projected.overall,
            hard_rule_violations: violations.clone(),
            soft_rule_penalties: soft.penalties,
            total_soft_penalty: soft.total_penalty,
            fairness: soft.fairness,
            coverage: demand
                .starts
                .iter()
                .zip(required.iter().zip(&scheduled))
                .zip(&projected.per_interval)
                .map(|((t, (&r, &s)), &sl)| CoverageRow {
                    interval_start: t.to_rfc3339(),
                    required: r,
                    scheduled: s,
                    gap: i64::from(s) - i64::from(r),
                    projected_service_level: sl,
                })
                .collect(),
        };
        std::fs::write(path, serde_json::to_string_pretty(&report)? + "\n").with_context(|| format!("{}: cannot write", path.display()))?;
    }
    if !violations.is_empty() {
        for v in violations.iter().take(20) {
            eprintln!("conflict: {} for agent {} on {}: {}", v.rule, v.agent, v.date, v.detail);
        }
        bail!("the roster breaks {} hard rules (listed above{}): the rules, agents and requests cannot all be met", violations.len(), if violations.len() > 20 { ", first 20" } else { "" });
    }
    Ok(())
}

/// Agents at work (not on a break or meal) for the whole of each interval.
fn on_duty(roster: &Roster, demand: &Demand) -> Vec<u32> {
    let step = Duration::minutes(i64::from(demand.interval_min));
    let first: DateTime<FixedOffset> = demand.starts[0];
    let mut out = vec![0u32; demand.starts.len()];
    for a in roster.activities.iter().filter(|a| matches!(a.kind, ActivityKind::Work)) {
        let from = (a.start - first).num_minutes().div_euclid(step.num_minutes());
        let to = (a.end - first).num_minutes().div_euclid(step.num_minutes());
        for i in from.max(0)..to.min(out.len() as i64) {
            out[i as usize] += 1;
        }
    }
    out
}

struct Projection {
    per_interval: Vec<Option<f64>>,
    overall: Option<f64>,
}

/// Erlang C on the scheduled staff, with the calls and handle times of the requirements file
/// (when it has them).
fn projected_service_levels(a: &ScheduleArgs, text: &str, demand: &Demand, scheduled: &[u32]) -> Result<Projection> {
    use wfm_forecasting::erlang::{evaluate, QueueModel, Workload};
    let name = a.requirements.display().to_string();
    let interval_s = f64::from(demand.interval_min) * 60.0;
    // A requirements file without calls and handle times (only agents) has nothing to project.
    let header = text.lines().next().unwrap_or_default();
    if !["calls", "aht_s"].iter().all(|c| header.split(',').any(|h| h.trim() == *c)) {
        return Ok(Projection { per_interval: vec![None; demand.starts.len()], overall: None });
    }
    let rows = wfm_forecasting::requirements::read_forecast(&name, text.as_bytes(), interval_s)?;
    let first = demand.starts[0];
    let mut load = vec![(0.0f64, 0.0f64); demand.starts.len()];
    for r in rows {
        let i = (r.start - first).num_minutes().div_euclid(i64::from(demand.interval_min));
        if let Some(slot) = usize::try_from(i).ok().and_then(|i| load.get_mut(i)) {
            slot.0 += r.calls;
            slot.1 += r.calls * r.aht_s;
        }
    }
    let (mut answered, mut offered) = (0.0, 0.0);
    let mut per_interval = Vec::with_capacity(load.len());
    for ((calls, work_s), &agents) in load.iter().zip(scheduled) {
        if *calls <= 0.0 {
            per_interval.push(None);
            continue;
        }
        // A load beyond Erlang's range has no projection; the roster stands.
        let sl = Workload::new(*calls, interval_s, work_s / calls)
            .ok()
            .and_then(|w| evaluate(QueueModel::ErlangC, &w, agents, a.threshold_s).ok())
            .map(|s| s.service_level);
        if let Some(sl) = sl {
            answered += sl * calls;
            offered += calls;
        }
        per_interval.push(sl);
    }
    Ok(Projection { per_interval, overall: (offered > 0.0).then(|| answered / offered) })
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
    fn load(&self) -> Result<(Roster, Vec<wfm_scheduler::agents::Agent>, Rules)> {
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

/// Prints, as JSON, the intervals that would fall short and the agents who could cover.
pub fn check_leave(a: CheckLeaveArgs) -> Result<()> {
    let (roster, agents, rules) = a.files.load()?;
    let demand = demand::parse(&a.requirements.display().to_string(), read(&a.requirements)?.as_bytes(), Column::Agents)?;
    let id = wfm_model::AgentId::parse(&a.agent)?;
    let verdict = wfm_scheduler::changes::check_leave(&roster, &agents, &rules, &demand, &id, parse_date(&a.date)?)?;
    println!("{}", serde_json::to_string_pretty(&verdict)?);
    Ok(())
}
