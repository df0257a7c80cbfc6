//! `wfm adherence`, `wfm roster publish|list` and `wfm escalation replay`: the intraday crate's
//! report and surge ladder over the store, and the published roster versions of the operational
//! database.

use crate::cli::{block_on, OutputFormat};
use anyhow::{bail, Context, Result};
use clap::{Subcommand, ValueEnum};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use wfm_analytics::Store;
use wfm_intraday::escalation::LadderRules;
use wfm_intraday::kpis::KpiSettings;
use wfm_intraday::replay::ReplayDay;
use wfm_intraday::{adherence_report, roll_up, AdherenceRow, AdherenceRules, GroupBy, HistoryQuery, Per};
use wfm_model::{LocalDateRange, TenantId};
use wfm_ops::rosters::Publication;
use wfm_ops::OpsDb;
use wfm_scheduler::roster::Roster;

pub const ADHERENCE_HELP: &str = "\
Adherence and attendance per agent and local date (--to exclusive), against a roster file or the
newest published roster version; the definitions are in docs/intraday.md.

Columns: scheduled_s (the shift: first on-shift activity's start to the last one's end),
exception_s (out-of-adherence runs of at least exception_threshold_s, in the shift and, unless
working_outside_shift = \"ignore\", logged in outside it), outside_exception_s (its part outside
the shift), excused_s, adherence = max(0, 1 - exception_s / (scheduled_s + outside_exception_s)),
conformance = work_state_s / scheduled_work_s, absent, late_s, early_leave_s, overtime_s,
on_leave. --exceptions lists the counted runs instead; --by and --per roll the rows up (ratios
recomputed from the sums).";

#[derive(Debug, clap::Args)]
pub struct AdherenceArgs {
    #[arg(long)]
    store: Option<PathBuf>,
    #[arg(long)]
    tenant: String,
    /// A roster file; without it, the tenant's newest published version.
    #[arg(long)]
    roster: Option<PathBuf>,
    /// First local date, YYYY-MM-DD.
    #[arg(long)]
    from: String,
    /// Local date after the last, YYYY-MM-DD (exclusive).
    #[arg(long)]
    to: String,
    /// The rules (default: DATA/tenants/T/adherence.toml, else the built-in defaults).
    #[arg(long)]
    rules: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "csv")]
    format: OutputFormat,
    /// List each counted out-of-adherence run instead of the figures.
    #[arg(long)]
    exceptions: bool,
    /// Roll up per agent, team (needs --agents) or the whole tenant.
    #[arg(long, value_enum)]
    by: Option<ByArg>,
    /// Roll up per day, ISO week or month.
    #[arg(long, value_enum)]
    per: Option<PerArg>,
    /// agents.csv, for the teams of --by team.
    #[arg(long)]
    agents: Option<PathBuf>,
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ByArg {
    Agent,
    Team,
    Tenant,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum PerArg {
    Day,
    Week,
    Month,
}

#[derive(Debug, clap::Args)]
pub struct RosterArgs {
    #[command(subcommand)]
    command: RosterCommand,
}

#[derive(Debug, Subcommand)]
enum RosterCommand {
    /// Store a roster as the tenant's next version: the plan adherence is judged by from now on.
    Publish {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        roster: PathBuf,
    },
    /// The tenant's published versions, newest first (JSON).
    List {
        #[arg(long)]
        tenant: String,
    },
}

fn database_url(data: &Path, database: Option<String>) -> Result<String> {
    let url = database.unwrap_or_else(|| OpsDb::sqlite_url(data));
    if url.starts_with("sqlite:") {
        std::fs::create_dir_all(data).with_context(|| format!("--data {}: cannot create", data.display()))?;
    }
    Ok(url)
}

fn read_roster(path: &Path) -> Result<(Roster, String)> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let roster = Roster::read_csv(&path.display().to_string(), text.as_bytes())?;
    Ok((roster, text))
}

/// Publishes `roster` (`text`, read from `file`) as the tenant's next version, audited as `actor`'s.
pub async fn publish(db: &OpsDb, tenant: &TenantId, actor: &str, file: &str, roster: &Roster, text: &str) -> Result<wfm_ops::rosters::RosterVersion> {
    let Some(summary) = wfm_intraday::published::summary(roster) else {
        bail!("{file}: no activities to publish");
    };
    let publication = Publication {
        tenant: tenant.as_str(),
        published_by: actor,
        first_date: &summary.first_date.to_string(),
        last_date: &summary.last_date.to_string(),
        activities: summary.activities as i64,
        roster_csv: text,
    };
    let version = db.publish_roster_audited(&publication, Some(file), "cli").await?;
    Ok(version)
}

pub fn roster(data: &Path, database: Option<String>, a: RosterArgs) -> Result<()> {
    let url = database_url(data, database)?;
    block_on(async move {
        let db = OpsDb::connect(&url).await?;
        match a.command {
            RosterCommand::Publish { tenant, roster } => {
                let tenant = TenantId::parse(&tenant).context("--tenant")?;
                if db.tenant(tenant.as_str()).await?.is_none() {
                    bail!("--tenant: unknown tenant {tenant} (wfm admin tenant list)");
                }
                let (parsed, text) = read_roster(&roster)?;
                let version = publish(&db, &tenant, &crate::admin::actor(), &roster.display().to_string(), &parsed, &text).await?;
                println!("{}", serde_json::to_string(&version)?);
            }
            RosterCommand::List { tenant } => println!("{}", serde_json::to_string(&db.roster_versions(&tenant).await?)?),
        }
        Ok(())
    })?
}

pub fn adherence(data: &Path, database: Option<String>, a: AdherenceArgs) -> Result<()> {
    let tenant = TenantId::parse(&a.tenant).context("--tenant")?;
    let range = LocalDateRange::parse(&a.from, &a.to)?;
    let store = Store::open(&a.store.clone().unwrap_or_else(|| data.join("store")))?;
    let rules_path = a.rules.clone().unwrap_or_else(|| crate::serve::tenant_dir(data, tenant.as_str()).join("adherence.toml"));
    if a.rules.is_some() && !rules_path.exists() {
        bail!("--rules {}: no such file", rules_path.display());
    }
    let rules = AdherenceRules::load_or_default(&rules_path)?;
    let roster = match &a.roster {
        Some(path) => read_roster(path)?.0,
        None => {
            let url = database_url(data, database.clone())?;
            let id = tenant.to_string();
            let newest = block_on(async move { OpsDb::connect(&url).await?.roster(&id, None).await.map_err(anyhow::Error::from) })??;
            let Some((version, text)) = newest else { bail!("--roster: none given and tenant {tenant} has no published roster (wfm roster publish)") };
            Roster::read_csv(&format!("published roster version {}", version.version), text.as_bytes())?
        }
    };
    let teams: HashMap<_, _> = match &a.agents {
        Some(path) => {
            let file = std::fs::File::open(path).with_context(|| format!("{}: cannot read", path.display()))?;
            wfm_scheduler::agents::parse(&path.display().to_string(), file, tenant.as_str())?.into_iter().map(|agent| (agent.id, agent.team)).collect()
        }
        None if matches!(a.by, Some(ByArg::Team)) => bail!("--by team: give the teams with --agents agents.csv"),
        None => HashMap::new(),
    };
    // Approved excusals count as in adherence, as in the API, when there is an operational
    // database to read them from (a report on files alone counts none).
    let excused = match (&database, data.join("wfm.sqlite").exists()) {
        (None, false) => Vec::new(),
        _ => {
            let url = database_url(data, database.clone())?;
            let (id, span) = (tenant.to_string(), wfm_web::supervision::excusal_span(store.tenant_zone(&tenant)?, range));
            block_on(async move { wfm_web::supervision::approved_excusals(&OpsDb::connect(&url).await?, &id, span.0, span.1).await.map_err(anyhow::Error::from) })??
        }
    };
    let report = adherence_report(&store, &HistoryQuery { tenant: &tenant, range, roster: &roster, rules: &rules, excused: &excused })?;

    let sink: Box<dyn Write> = match &a.out {
        Some(path) => Box::new(std::fs::File::create(path).with_context(|| format!("{}: cannot write", path.display()))?),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut sink = std::io::BufWriter::new(sink);
    let rollup = (a.by.is_some() || a.per.is_some()).then(|| {
        let by = match a.by.unwrap_or(ByArg::Agent) {
            ByArg::Agent => GroupBy::Agent,
            ByArg::Team => GroupBy::Team,
            ByArg::Tenant => GroupBy::Tenant,
        };
        let per = match a.per.unwrap_or(PerArg::Day) {
            PerArg::Day => Per::Day,
            PerArg::Week => Per::Week,
            PerArg::Month => Per::Month,
        };
        roll_up(&report.rows, by, per, &tenant, &teams)
    });
    let written = match (a.exceptions, rollup, a.format) {
        (true, _, OutputFormat::Csv) => wfm_analytics::stats::write_csv(&report.exceptions, &mut sink),
        (true, _, OutputFormat::Json) => crate::cli::write_json(&report.exceptions, &mut sink),
        (false, Some(rows), OutputFormat::Csv) => wfm_analytics::stats::write_csv(&rows, &mut sink),
        (false, Some(rows), OutputFormat::Json) => crate::cli::write_json(&rows, &mut sink),
        (false, None, OutputFormat::Csv) => write_rows_csv(&report.rows, &mut sink),
        (false, None, OutputFormat::Json) => crate::cli::write_json(&report.rows, &mut sink),
    };
    crate::cli::finish_output(written.and_then(|()| sink.flush()), a.out.as_deref())
}

fn write_rows_csv(rows: &[AdherenceRow], out: impl Write) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(AdherenceRow::CSV_HEADER)?;
    for row in rows {
        w.write_record(row.csv_record())?;
    }
    w.flush()
}

#[derive(Debug, clap::Args)]
pub struct EscalationArgs {
    #[command(subcommand)]
    command: EscalationCommand,
}

#[derive(Debug, Subcommand)]
enum EscalationCommand {
    /// The timeline the surge ladder would have produced over a past local day's calls (CSV:
    /// at, level, event, detail, who, skills; nobody confirms or arrives in a replay).
    Replay {
        #[arg(long)]
        store: Option<PathBuf>,
        #[arg(long)]
        tenant: String,
        /// The local date, YYYY-MM-DD.
        #[arg(long)]
        date: String,
        /// The ladder (default: DATA/tenants/T/escalation.toml, else the built-in defaults).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// The live KPI settings (default: DATA/tenants/T/kpis.toml, else the built-in defaults).
        #[arg(long)]
        kpis: Option<PathBuf>,
        /// A forecast (`wfm forecast` output): each step shows the calls forecast for its
        /// interval over all queues beside the calls that came.
        #[arg(long)]
        forecast: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "csv")]
        format: OutputFormat,
    },
}

/// A tenant file given by flag (which must exist) or the tenant's own (which may not).
fn tenant_file(data: &Path, tenant: &TenantId, flag: &Option<PathBuf>, name: &str, option: &str) -> Result<PathBuf> {
    let path = flag.clone().unwrap_or_else(|| crate::serve::tenant_dir(data, tenant.as_str()).join(name));
    if flag.is_some() && !path.exists() {
        bail!("--{option} {}: no such file", path.display());
    }
    Ok(path)
}

pub fn escalation(data: &Path, a: EscalationArgs) -> Result<()> {
    let EscalationCommand::Replay { store, tenant, date, rules, kpis, forecast, format } = a.command;
    let tenant = TenantId::parse(&tenant).context("--tenant")?;
    let date = chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d").with_context(|| format!("--date {date:?}: not YYYY-MM-DD"))?;
    let rules = LadderRules::load_or_default(&tenant_file(data, &tenant, &rules, "escalation.toml", "rules")?)?;
    let kpis = KpiSettings::load_or_default(&tenant_file(data, &tenant, &kpis, "kpis.toml", "kpis")?)?;
    let forecast = match &forecast {
        Some(path) => {
            let file = std::fs::File::open(path).with_context(|| format!("--forecast {}: cannot read", path.display()))?;
            Some(wfm_forecasting::requirements::read_forecast(&path.display().to_string(), file, 900.0)?)
        }
        None => None,
    };
    let store = Store::open(&store.unwrap_or_else(|| data.join("store")))?;
    let day = ReplayDay::load(&store, &tenant, date)?;
    let steps = day.run(rules, &kpis);
    // The forecast intervals each step falls in, all queues together: (forecast, offered).
    let beside = |at_ms: i64| {
        forecast.as_ref().map(|rows| {
            let of_step: Vec<_> = rows.iter().filter(|r| (r.start.timestamp_millis()..r.start.timestamp_millis() + (r.interval_s * 1000.0) as i64).contains(&at_ms)).collect();
            let span = of_step.first().map_or((at_ms, at_ms), |r| (r.start.timestamp_millis(), r.start.timestamp_millis() + (r.interval_s * 1000.0) as i64));
            (of_step.iter().map(|r| r.calls).sum::<f64>(), day.offered(None, span))
        })
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match format {
        OutputFormat::Json => {
            let rows: Vec<serde_json::Value> = steps
                .iter()
                .map(|s| {
                    let mut row = serde_json::to_value(s).unwrap_or_default();
                    row["at"] = day.zone.local_time(chrono::DateTime::from_timestamp_millis(s.at_ms).unwrap_or_default()).to_string().into();
                    if let Some((forecast, offered)) = beside(s.at_ms) {
                        row["forecast_calls"] = forecast.into();
                        row["offered_calls"] = offered.into();
                    }
                    row
                })
                .collect();
            crate::cli::write_json(&rows, &mut out)?;
        }
        OutputFormat::Csv => {
            let mut w = csv::Writer::from_writer(&mut out);
            let mut header = vec!["at", "level", "event", "detail", "who", "skills"];
            if forecast.is_some() {
                header.extend(["forecast_calls", "offered_calls"]);
            }
            w.write_record(&header)?;
            for s in &steps {
                let at = day.zone.local_time(chrono::DateTime::from_timestamp_millis(s.at_ms).unwrap_or_default()).format("%Y-%m-%dT%H:%M:%S").to_string();
                let skills: Vec<String> = s.skills.iter().map(|(agent, queue)| format!("{agent}:{queue}")).collect();
                let mut record = vec![at, s.level.to_string(), s.event.clone(), s.detail.clone(), s.who.join(";"), skills.join(";")];
                if let Some((forecast, offered)) = beside(s.at_ms) {
                    record.extend([format!("{forecast:.1}"), offered.to_string()]);
                }
                w.write_record(&record)?;
            }
            w.flush()?;
        }
    }
    out.flush()?;
    Ok(())
}
