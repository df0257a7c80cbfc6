//! The demo tenant's plan on first start: after its history is generated, a forecast of this
//! week and the next, the staff it needs, a roster for those two weeks and its publication, so
//! that a fresh `wfm serve` shows agents a schedule and lets them ask for leave. Each step is
//! the CLI's own command (`wfm forecast`, `wfm staff`, `wfm schedule`, `wfm roster publish`),
//! run in the background: the server answers meanwhile, and a failing step is reported, not fatal.

use anyhow::{Context, Result};
use chrono::{Datelike, Duration};
use clap::Parser;
use std::path::{Path, PathBuf};
use wfm_model::TenantZone;

/// Days of history the forecast needs at least (two weeks of weekly seasonality).
pub const MIN_HISTORY_DAYS: u32 = 14;

/// Starts the plan in a thread of its own.
pub fn spawn_plan(data: &Path, database: Option<String>, zone: TenantZone) {
    let data = data.to_owned();
    std::thread::spawn(move || {
        let began = std::time::Instant::now();
        match plan(&data, database, zone) {
            Ok(()) => eprintln!("demo plan: roster for this week and the next published ({:.0} s)", began.elapsed().as_secs_f64()),
            Err(e) => eprintln!("demo plan: not made: {e:#}"),
        }
    });
}

fn plan(data: &Path, database: Option<String>, zone: TenantZone) -> Result<()> {
    let tenant = data.join("tenants").join(crate::serve::DEMO);
    let plan = tenant.join("plan");
    std::fs::create_dir_all(&plan).with_context(|| plan.display().to_string())?;
    // The generator's files, where the requests' checks read them.
    for file in ["agents.csv", "rules.toml"] {
        let target = tenant.join(file);
        if !target.exists() {
            std::fs::copy(data.join(file), &target).with_context(|| format!("{} to {}", data.join(file).display(), target.display()))?;
        }
    }
    let today = zone.local_date(chrono::Utc::now());
    let monday = (today - Duration::days(today.weekday().num_days_from_monday().into())).to_string();
    let path = |p: PathBuf| p.display().to_string();
    let (forecast, requirements, roster) = (path(plan.join("forecast.csv")), path(tenant.join("requirements.csv")), path(plan.join("roster.csv")));
    let (agents, rules, report) = (path(tenant.join("agents.csv")), path(tenant.join("rules.toml")), path(plan.join("report.json")));
    let mut global = vec!["--data".to_owned(), path(data.to_owned())];
    if let Some(url) = database {
        global.extend(["--database".to_owned(), url]);
    }
    let steps: [&[&str]; 4] = [
        &["forecast", "--tenant", crate::serve::DEMO, "--from", &monday, "--horizon", "14d", "--out", &forecast],
        &["staff", "--forecast", &forecast, "--sl-target", "0.8", "--threshold-s", "20", "--out", &requirements],
        &["schedule", "--requirements", &requirements, "--agents", &agents, "--rules", &rules, "--from", &monday, "--weeks", "2", "--time-limit-s", "20", "--out", &roster, "--report", &report],
        &["roster", "publish", "--tenant", crate::serve::DEMO, "--roster", &roster],
    ];
    for step in steps {
        let line = std::iter::once("wfm").chain(global.iter().map(String::as_str)).chain(step.iter().copied());
        let args = crate::cli::Args::try_parse_from(line).with_context(|| format!("wfm {}", step.join(" ")))?;
        crate::cli::run(args).with_context(|| format!("wfm {}", step[0]))?;
    }
    Ok(())
}
