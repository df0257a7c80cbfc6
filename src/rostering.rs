//! `wfm schedule`: requirements, agents and rules in; a roster and its report out. Also
//! `wfm check-roster` (any roster judged the same way), `wfm check-swap` and `wfm check-leave`.

use anyhow::{bail, Context, Result};
use chrono::Duration;
use std::path::{Path, PathBuf};
use std::time::Instant;
use wfm_model::{parse_date, QueueName};
use wfm_planning::report::{Judged, Report, Requirement};
use wfm_planning::schedule::{Inputs, Scheduled};
use wfm_planning::service_level::Objective;
use wfm_scheduler::agents::Agent;
use wfm_scheduler::demand::{self, Column};
use wfm_scheduler::roster::Roster;
use wfm_scheduler::rules::Rules;
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
    #[arg(long, default_value_t = wfm_planning::schedule::DEFAULT_CHANGE_PENALTY)]
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
    /// Seed of the search's random moves after its first local optimum: the same seed follows
    /// the same moves (where the time limit stops them depends on the machine).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Service-level threshold of the projected service level in the report, seconds.
    #[arg(long, default_value_t = 20.0)]
    threshold_s: f64,
    /// What the search minimises: `agent-intervals` (short agent-intervals, every one alike),
    /// `service-level` (calls answered within --threshold-s, from the requirements file's calls
    /// and handle times) or `auto` (the service level when the agents' paid hours fall short of
    /// the requirement in some week).
    #[arg(long, default_value = "auto", value_parser = ["auto", "agent-intervals", "service-level"])]
    objective: String,
    /// The roster CSV: agent_id, date, activity, start, end.
    #[arg(long)]
    out: PathBuf,
    /// Also write coverage, violations, penalties and solve figures as JSON.
    #[arg(long)]
    report: Option<PathBuf>,
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))
}

fn name(path: &Path) -> String {
    path.display().to_string()
}

fn read_requirement(path: &Path, column: Column, from: chrono::NaiveDate, until: chrono::NaiveDate) -> Result<Requirement> {
    Ok(Requirement::parse(&name(path), read(path)?, column, from, until)?)
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
    let requirement = read_requirement(&a.requirements, column, from, until)?;
    let baseline_roster = match &a.baseline {
        Some(p) => Some(Roster::read_csv(&name(p), read(p)?.as_bytes())?),
        None => None,
    };
    let inputs = Inputs {
        requirement: &requirement,
        agents: &agents,
        rules: &rules,
        requests: &requests,
        baseline: baseline_roster.as_ref().map(|r| (r, a.change_penalty)),
        time_limit: std::time::Duration::from_secs_f64(a.time_limit_s),
        seed: a.seed,
        threshold_s: a.threshold_s,
        objective: match a.objective.as_str() {
            "agent-intervals" => Some(Objective::AgentIntervals),
            "service-level" => Some(Objective::ServiceLevel),
            _ => None,
        },
    };
    let Scheduled { roster, report } = wfm_planning::schedule::schedule(&inputs, &mut |p| {
        if p.annealing {
            return eprintln!(
                "annealing: {} moves accepted; {} agent-intervals short of the queues' requirements, {} beyond them; {:.2} s{}",
                p.moves,
                p.short,
                p.excess,
                started.elapsed().as_secs_f64(),
                if p.timed_out { " — done: the best roster met" } else { "" }
            );
        }
        eprintln!(
            "local search pass {}: {} moves; {} agent-intervals short of the queues' requirements, {} beyond them; {:.2} s{}",
            p.pass,
            p.moves,
            p.short,
            p.excess,
            started.elapsed().as_secs_f64(),
            if p.timed_out { " — time limit reached, keeping the best roster so far" } else { "" }
        )
    })?;
    let file = std::fs::File::create(&a.out).with_context(|| format!("{}: cannot write", a.out.display()))?;
    roster.write_csv(std::io::BufWriter::new(file))?;
    if let Some(c) = report.solve.as_ref().and_then(|s| s.changes_from_baseline) {
        eprintln!("against the baseline: {} shifts kept, {} moved, {} removed, {} added", c.kept, c.moved, c.removed, c.added);
    }
    finish(&report, a.report.as_deref(), a.threshold_s)
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
    if report.out_of_reach_agent_intervals > 0 {
        eprintln!(
            "warning: {} required agent-intervals are out of reach of every allowed shift (at {}): widen the shift windows in rules.toml (a window may cross midnight, e.g. earliest_start = \"22:00\", latest_end = \"06:00\")",
            report.out_of_reach_agent_intervals,
            report.out_of_reach_times.join(", ")
        );
    }
    if let (Some(best), Some(reached)) = (report.best_reachable_service_level, report.projected_service_level) {
        eprintln!(
            "service level: {:.1} % projected, at most {:.1} % reachable with these agents' paid hours{}{}",
            reached * 100.0,
            best * 100.0,
            report.solve.as_ref().map_or(String::new(), |s| format!(" (the search minimised {})", s.objective.replace('_', " "))),
            if report.sacrificed_intervals.is_empty() {
                String::new()
            } else {
                format!("; {} queue-intervals sacrificed (no call answered in time: {:.0} calls)", report.sacrificed_intervals.len(), report.sacrificed_calls)
            }
        );
    }
    if report.outside_service_hours_agent_intervals > 0 {
        eprintln!("warning: {} required agent-intervals fall outside their queues' service hours ([service_hours] in rules.toml): nobody is rostered for them", report.outside_service_hours_agent_intervals);
    }
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
    let requirement = read_requirement(&a.requirements, column, from, last + Duration::days(1))?;
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
    /// Local end of the gap, HH:MM (at or before --from: the next morning).
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
    // A `--to` at or before `--from` is the next morning: a night gap.
    let (from, to) = (clock("--from", &a.from)?, clock("--to", &a.to)?);
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
