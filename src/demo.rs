//! The demo tenant's plan on first start: after its history is generated, a forecast of this
//! week and the next, the staff it needs, a roster for those two weeks and its publication, so
//! that a fresh `wfm serve` shows agents a schedule and lets them ask for leave. It is the
//! planner's own pipeline (`wfm_planning::pipeline::plan`, as on `/plan`), run in the
//! background: the server answers meanwhile, and a failure is reported, not fatal.

use anyhow::{Context, Result};
use chrono::{Datelike, Duration};
use std::path::Path;
use wfm_model::{TenantId, TenantZone};
use wfm_ops::OpsDb;
use wfm_planning::pipeline::{plan, Period};
use wfm_scheduler::roster::Roster;
use wfm_scheduler::rules::Rules;

/// Days of history the forecast needs at least (two weeks of weekly seasonality).
pub const MIN_HISTORY_DAYS: u32 = 14;

/// Who the demo's roster is published by.
const PUBLISHER: &str = "system:demo-plan";
/// The first start's roster search: the local optimum and a few seconds of annealing, so that
/// the suite is up quickly (a planner's own plan takes the time they give it).
const DEMO_PLAN_TIME: std::time::Duration = std::time::Duration::from_secs(3);

/// Starts the plan in a thread of its own.
pub fn spawn_plan(data: &Path, database: String, zone: TenantZone) {
    let data = data.to_owned();
    std::thread::spawn(move || {
        let began = std::time::Instant::now();
        match run(&data, &database, zone) {
            Ok(summary) => eprintln!("demo plan: {summary}; published ({:.0} s)", began.elapsed().as_secs_f64()),
            Err(e) => eprintln!("demo plan: not made: {e:#}"),
        }
    });
}

fn run(data: &Path, database: &str, zone: TenantZone) -> Result<String> {
    let tenant = TenantId::parse(crate::serve::DEMO)?;
    let dir = data.join("tenants").join(tenant.as_str());
    let plan_dir = dir.join("plan");
    std::fs::create_dir_all(&plan_dir).with_context(|| plan_dir.display().to_string())?;
    // The generator's files, where the requests' checks and the plans read them.
    for file in ["agents.csv", "rules.toml"] {
        let target = dir.join(file);
        if !target.exists() {
            std::fs::copy(data.join(file), &target).with_context(|| format!("{} to {}", data.join(file).display(), target.display()))?;
        }
    }
    let read = |path: &Path| std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()));
    let (agents_path, rules_path) = (dir.join("agents.csv"), dir.join("rules.toml"));
    let agents = wfm_scheduler::agents::parse(&agents_path.display().to_string(), read(&agents_path)?.as_bytes(), tenant.as_str())?;
    let rules = Rules::parse(&rules_path.display().to_string(), &read(&rules_path)?)?;
    let today = zone.local_date(chrono::Utc::now());
    let monday = today - Duration::days(today.weekday().num_days_from_monday().into());
    let period = Period { tenant: tenant.clone(), from: monday, weeks: 2, sl_target: 0.8, threshold_s: 20.0, time_limit: DEMO_PLAN_TIME };
    let store = wfm_analytics::Store::open(&data.join("store"))?;
    let planned = plan(&store, &period, &agents, &rules, None, &mut |_| {})?;
    for (path, text) in [(plan_dir.join("forecast.csv"), &planned.forecast_csv), (dir.join("requirements.csv"), &planned.requirements_csv), (plan_dir.join("roster.csv"), &planned.roster_csv)] {
        std::fs::write(&path, text).with_context(|| format!("{}: cannot write", path.display()))?;
    }
    let roster: &Roster = &planned.scheduled.roster;
    let version = crate::cli::block_on(async {
        let db = OpsDb::connect(database).await?;
        crate::intraday::publish(&db, &tenant, PUBLISHER, "plan/roster.csv", roster, &planned.roster_csv).await
    })??;
    let report = &planned.scheduled.report;
    let sl = report.projected_service_level.map_or("-".to_owned(), |sl| format!("{:.1} %", sl * 100.0));
    Ok(format!("{} agents, {} shifts, projected service level {sl} in 20 s, version {} ({} to {})", report.agents, report.shifts, version.version, version.first_date, version.last_date))
}
