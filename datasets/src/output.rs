//! Runs the simulation of every tenant and writes the store, `agents.csv`, `calendar.csv` and
//! an example `rules.toml`.

use crate::arrivals::{arrivals_for_day, day_plans, CalendarEntry};
use crate::config::GeneratorConfig;
use crate::roster::{hire, shifts_for_day, Agent};
use crate::queue_log::write_queue_log;
use crate::sim::TenantSim;
use std::io::Write;
use chrono::Duration;
use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;
use std::fs;
use std::path::Path;
use std::sync::Mutex;
use wfm_analytics::{Store, StoreError};

/// What was generated.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GenerateReport {
    pub tenants: usize,
    pub agents: usize,
    pub calls: u64,
    pub answered: u64,
    pub abandoned: u64,
    pub agent_state_periods: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
}

/// One random stream per tenant and purpose, so tenants can be simulated in any order.
fn stream(seed: u64, tenant: usize, purpose: u64) -> Pcg64Mcg {
    Pcg64Mcg::seed_from_u64(seed ^ (tenant as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ purpose.wrapping_mul(0xD1B5_4A32_D192_ED03))
}

struct TenantOutput {
    agents: Vec<Agent>,
    calendar: Vec<CalendarEntry>,
    report: GenerateReport,
}

/// Generates the configured history into `out` (`out/store`, `out/agents.csv`,
/// `out/calendar.csv`, `out/rules.toml`).
pub fn generate(config: &GeneratorConfig, out: &Path) -> Result<GenerateReport, GenerateError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| GenerateError::Io { path, source }
    };
    fs::create_dir_all(out).map_err(io(out))?;
    let store = Store::create_or_open(&out.join("store"))?;
    let next = Mutex::new(0usize);
    let results = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(config.tenants.len());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let index = {
                    let mut n = next.lock().expect("no panics while locked");
                    *n += 1;
                    *n - 1
                };
                if index >= config.tenants.len() {
                    break;
                }
                let result = simulate_tenant(config, index, &store, out);
                results.lock().expect("no panics while locked").push((index, result));
            });
        }
    });
    let mut results = results.into_inner().expect("workers done");
    results.sort_by_key(|(i, _)| *i);
    let mut total = GenerateReport::default();
    let mut agents_csv = csv::Writer::from_writer(Vec::new());
    agents_csv
        .write_record(["tenant", "agent_id", "name", "team", "skills", "team_leader", "min_hours_week", "max_hours_week", "leave_allowance_days"])
        .expect("in memory");
    let mut calendar_csv = csv::Writer::from_writer(Vec::new());
    calendar_csv.write_record(["tenant", "date", "kind", "name", "volume_factor", "from_hour", "to_hour"]).expect("in memory");
    for (index, result) in results {
        let output = result?;
        let plan = &config.tenants[index];
        for a in &output.agents {
            let skills: Vec<String> =
                a.skills.iter().map(|(q, e)| format!("{}:{:.2}", plan.queues[*q].name, crate::roster::throughput(*e))).collect();
            agents_csv
                .write_record([
                    plan.tenant.as_str(),
                    a.id.as_str(),
                    &format!("Agent {}", a.id),
                    &a.team,
                    &skills.join(";"),
                    if a.team_leader { "true" } else { "false" },
                    &a.min_hours_week.to_string(),
                    &a.max_hours_week.to_string(),
                    // Days of leave in a roster's period (a fortnight's share of a year's, less for part-timers).
                    if a.max_hours_week >= 30 { "2" } else { "1" },
                ])
                .expect("in memory");
        }
        for c in &output.calendar {
            calendar_csv
                .write_record([
                    plan.tenant.as_str(),
                    &c.date.to_string(),
                    c.kind,
                    &c.name,
                    &format!("{:.3}", c.volume_factor),
                    &c.from_hour.to_string(),
                    &c.to_hour.to_string(),
                ])
                .expect("in memory");
        }
        total.tenants += 1;
        total.agents += output.report.agents;
        total.calls += output.report.calls;
        total.answered += output.report.answered;
        total.abandoned += output.report.abandoned;
        total.agent_state_periods += output.report.agent_state_periods;
    }
    for (name, bytes) in [
        ("agents.csv", agents_csv.into_inner().expect("in memory")),
        ("calendar.csv", calendar_csv.into_inner().expect("in memory")),
        ("rules.toml", RULES_EXAMPLE.as_bytes().to_vec()),
    ] {
        let path = out.join(name);
        fs::write(&path, bytes).map_err(io(&path))?;
    }
    Ok(total)
}

fn simulate_tenant(config: &GeneratorConfig, index: usize, store: &Store, out: &Path) -> Result<TenantOutput, GenerateError> {
    let plan = &config.tenants[index];
    let mut queue_log = match config.write_queue_log {
        true => {
            let path = out.join(format!("{}.queue_log", plan.tenant));
            let file = fs::File::create(&path).map_err(|source| GenerateError::Io { path: path.display().to_string(), source })?;
            Some((path, std::io::BufWriter::new(file)))
        }
        false => None,
    };
    store.ensure_tenant(&plan.tenant, plan.zone)?;
    let mut volume_rng = stream(config.seed, index, 1);
    let mut roster_rng = stream(config.seed, index, 2);
    let agents = hire(plan, &mut roster_rng);
    let days = day_plans(plan, config.start, config.days, &mut volume_rng);
    let mut sim = TenantSim::new(plan, &agents, stream(config.seed, index, 3));
    let mut days_worked = vec![0u8; agents.len()];
    let mut report = GenerateReport { agents: agents.len(), ..Default::default() };
    let mut calendar = Vec::new();
    for day in &days {
        calendar.extend(day.holiday.iter().chain(day.surge.iter()).cloned());
        let shifts = shifts_for_day(plan, day, &agents, &mut days_worked, &mut roster_rng);
        let arrivals = arrivals_for_day(plan, day, &mut volume_rng);
        sim.schedule_day(&arrivals, &shifts);
        sim.run_until(plan.zone.day_start(day.date + Duration::days(1)).timestamp_millis());
        report.calls += sim.finished_calls.len() as u64;
        report.answered += sim.finished_calls.iter().filter(|c| c.answered_at.is_some()).count() as u64;
        report.abandoned += sim.finished_calls.iter().filter(|c| c.abandoned).count() as u64;
        report.agent_state_periods += sim.finished_states.len() as u64;
        store.append(&plan.tenant, &sim.finished_calls, &sim.finished_states)?;
        if let Some((path, writer)) = &mut queue_log {
            write_queue_log(&sim.finished_calls, &sim.finished_states, writer)
                .map_err(|source| GenerateError::Io { path: path.display().to_string(), source })?;
        }
        sim.finished_calls.clear();
        sim.finished_states.clear();
    }
    if let Some((path, mut writer)) = queue_log {
        writer.flush().map_err(|source| GenerateError::Io { path: path.display().to_string(), source })?;
    }
    Ok(TenantOutput { agents, calendar, report })
}

/// The rules file the scheduler reads (`wfm schedule --rules`), in its documented shape.
const RULES_EXAMPLE: &str = r#"# Scheduling rules for the generated centre (see `wfm schedule --help`).
[shifts]
lengths_hours = [6, 8, 9]        # paid + unpaid length of a shift
start_step_minutes = 30
earliest_start = "07:00"
latest_end = "22:00"

[breaks]
meal_minutes = 30                # unpaid; for shifts longer than meal_after_hours
meal_after_hours = 6
break_minutes = 15               # paid

[rules]                          # hard rules
min_rest_between_shifts_hours = 11
max_hours_per_week = 40          # paid hours; the agent's own max_hours_week applies if lower
max_consecutive_work_days = 5
min_days_off_per_week = 2
max_continuous_work_hours = 3    # work without a break or meal
no_early_after_night = { early_start_before = "08:00", night_end_after = "21:00" }

[soft]                           # weights
max_same_shift_per_week = { limit = 3, weight = 5 }
team_start_spread_hours = { limit = 2, weight = 3 }
preferences = { weight = 2 }
fairness = { weight = 1 }        # fair share of early, late and weekend shifts
leaders_with_team = { weight = 1 }   # per team-member hour with no leader of the team on shift
training = { minutes = 60, weight = 5 }   # one session per agent, where staff is spare
"#;
