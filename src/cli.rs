use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use clap::{Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::path::{Path, PathBuf};
use wfm_analytics::import::{self, BadLines};
use wfm_analytics::stats::{self, ServiceLevelRule, StatsQuery};
use wfm_analytics::Store;
use wfm_model::{IntervalLength, LocalDateRange, QueueName, TenantId, TenantZone};
use wfm_ops::imports::Written;
use wfm_ops::{ImportRun, OpsDb};

use crate::{intraday, planning, rostering};

#[derive(Debug, Parser)]
#[command(name = "wfm", version, about = "Workforce management and analytics for call centres")]
pub struct Args {
    /// Data directory: the Parquet store in DIR/store, the SQLite database DIR/wfm.sqlite.
    #[arg(long, global = true, default_value = "wfm-data")]
    data: PathBuf,
    /// Operational database: `sqlite://FILE` or `postgres://…` (default: DIR/wfm.sqlite).
    #[arg(long, global = true, env = "WFM_DATABASE_URL")]
    database: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the suite: HTTP API and the ACD of every tenant over the data directory. The default command.
    Serve(ServeArgs),
    /// Tenants and users: `wfm admin tenant add|suspend|resume|list|quota`, `wfm admin user add|list|password`.
    Admin(crate::admin::AdminArgs),
    /// Generate realistic history: store, agents.csv, calendar.csv and an example rules.toml.
    Generate(GenerateArgs),
    /// Import call records (canonical CSV or Asterisk queue_log) into the store.
    Import(ImportArgs),
    /// Interval statistics of queues (default) or agents, as CSV or JSON.
    #[command(long_about = STATS_HELP)]
    Stats(StatsArgs),
    /// Merge each partition's part files into one (appends also compact busy partitions).
    Compact(CompactArgs),
    /// Erlang C / Erlang A: the agents a workload needs, or what a number of agents achieves.
    Erlang(planning::ErlangArgs),
    /// Forecast calls and handle time per queue and interval from the store's history.
    Forecast(planning::ForecastArgs),
    /// Required agents per queue and interval from a forecast file.
    Staff(planning::StaffArgs),
    /// A roster: shifts, breaks and days off for named agents, under the rules.
    Schedule(rostering::ScheduleArgs),
    /// Judges a roster (any source) as `wfm schedule` judges its own: rules, coverage per skill.
    CheckRoster(rostering::CheckRosterArgs),
    /// Whether two agents may exchange their shifts of a day (JSON verdict; fails if not).
    CheckSwap(rostering::CheckSwapArgs),
    /// What a day of leave would leave uncovered, and who could take the shift (JSON).
    CheckLeave(rostering::CheckLeaveArgs),
    /// Who could work an extra shift covering a gap: free, skilled, within every rule (JSON).
    FillGap(rostering::FillGapArgs),
    /// Adherence and attendance per agent and date against the roster, from the store.
    #[command(long_about = intraday::ADHERENCE_HELP)]
    Adherence(intraday::AdherenceArgs),
    /// Published rosters: `wfm roster publish|list`.
    Roster(intraday::RosterArgs),
    /// The surge ladder: `wfm escalation replay` runs it over a past day's calls.
    Escalation(intraday::EscalationArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ServeArgs {
    /// Address of the HTTP server.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub(crate) http: String,
    /// Address of the SIP endpoint (UDP) agents' phones register with.
    #[arg(long, default_value = "127.0.0.1:5060")]
    pub(crate) sip: String,
    /// SIP password of every demo agent (1001–1010), instead of those kept in DATA/sip-accounts.toml.
    #[arg(long)]
    pub(crate) demo_agent_password: Option<String>,
    /// Days of demo history generated on first start, when the store is empty (0: none).
    #[arg(long, default_value_t = 28)]
    pub(crate) demo_days: u32,
    /// Calls at once; INVITEs beyond are refused with 503.
    #[arg(long, default_value_t = 2000)]
    pub(crate) max_calls: usize,
    /// The demo tenant's queues and agents (TOML, see docs/telephony.md) instead of the built-in ones.
    #[arg(long)]
    pub(crate) acd: Option<PathBuf>,
    /// The demo tenant's IVR flow (TOML, see docs/telephony.md) instead of the built-in one.
    #[arg(long)]
    pub(crate) ivr: Option<PathBuf>,
    /// A SIP gateway (IP:PORT) through which agents transfer callers to outside numbers.
    #[arg(long)]
    pub(crate) trunk: Option<std::net::SocketAddr>,
    /// The password of every demo user (admin, demo-admin, planner, supervisor, manager and the
    /// agents 1001–1010), when `wfm serve` creates them on a database without users; generated
    /// and printed otherwise.
    #[arg(long)]
    pub(crate) demo_password: Option<String>,
    /// The tenant that registrations and calls naming no tenant's domain or number go to.
    #[arg(long, default_value = "demo")]
    pub(crate) sip_default_tenant: String,
    /// A browser session ends after this many seconds without a request.
    #[arg(long, default_value_t = 1800)]
    pub(crate) session_idle_s: u64,
    /// Marks the session cookie `Secure` (when a TLS proxy is in front).
    #[arg(long)]
    pub(crate) secure_cookies: bool,
    /// New calls (INVITEs) per second one address may send; beyond, its INVITEs are dropped for
    /// 10 s (0: no limit). The trunk and --sip-trusted addresses are never limited.
    #[arg(long, default_value_t = 50)]
    pub(crate) sip_invite_rate: u32,
    /// An address whose new calls are never limited (a carrier's gateway, a proxy); repeatable.
    #[arg(long)]
    pub(crate) sip_trusted: Vec<std::net::IpAddr>,
    /// Record no call, whatever the queues say (load tests).
    #[arg(long)]
    pub(crate) no_recordings: bool,
}

#[derive(Debug, clap::Args)]
struct GenerateArgs {
    /// Output directory (store in OUT/store).
    #[arg(long)]
    out: PathBuf,
    #[arg(long, default_value_t = 28)]
    days: u32,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Number of centres; the first is `demo`, then t01, t02, ….
    #[arg(long, default_value_t = 1)]
    tenants: usize,
    /// Queues per tenant.
    #[arg(long, default_value_t = 2)]
    queues: usize,
    /// Mean calls offered to each tenant on an ordinary weekday.
    #[arg(long, default_value_t = 3000.0)]
    daily_calls: f64,
    /// First day (local), YYYY-MM-DD.
    #[arg(long, default_value = "2026-01-05")]
    start: String,
    /// Also write each tenant's history as an Asterisk queue_log (OUT/<tenant>.queue_log).
    #[arg(long)]
    queue_log: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ImportFormat {
    Csv,
    QueueLog,
}

impl From<ImportFormat> for import::Format {
    fn from(f: ImportFormat) -> Self {
        match f {
            ImportFormat::Csv => Self::Csv,
            ImportFormat::QueueLog => Self::QueueLog,
        }
    }
}

#[derive(Debug, clap::Args)]
struct ImportArgs {
    #[arg(long)]
    store: Option<PathBuf>,
    #[arg(long)]
    tenant: String,
    /// The tenant's IANA time zone (e.g. Europe/Warsaw); must match the zone it was first imported with.
    #[arg(long)]
    tz: String,
    #[arg(long, value_enum)]
    format: ImportFormat,
    /// Import the good lines and report each bad one, instead of stopping at the first.
    #[arg(long)]
    skip_bad: bool,
    /// queue_log: a CSV `interface,agent_id` naming the agent of each member interface that the
    /// default rule (`TECH/ID`, `Local/ID@context/…` → `ID`) does not get right.
    #[arg(long)]
    agent_map: Option<PathBuf>,
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum OutputFormat {
    Csv,
    Json,
}

#[derive(Debug, clap::Args)]
struct StatsArgs {
    #[arg(long)]
    store: Option<PathBuf>,
    #[arg(long)]
    tenant: String,
    /// First local date, YYYY-MM-DD.
    #[arg(long)]
    from: String,
    /// Local date after the last, YYYY-MM-DD (exclusive).
    #[arg(long)]
    to: String,
    #[arg(long)]
    queue: Option<String>,
    /// 15m, 30m, 60m, day, week (ISO, from Monday) or month.
    #[arg(long, default_value = "15m")]
    interval: String,
    /// Service-level threshold: a wait ≤ this many seconds is "within".
    #[arg(long, default_value_t = 20.0)]
    threshold_s: f64,
    /// An abandon with a wait ≤ this many seconds is a short abandon.
    #[arg(long, default_value_t = 5.0)]
    short_abandon_s: f64,
    #[arg(long, value_enum, default_value = "csv")]
    format: OutputFormat,
    /// Agent statistics instead of queue statistics.
    #[arg(long, conflicts_with = "queue_report")]
    agents: bool,
    /// The queue report instead: answer rate, 15 s and 60 s answer rates, abandoned within
    /// 15 s, average talk, average wait of answered and of abandoned calls (`--threshold-s` is
    /// not used).
    #[arg(long)]
    queue_report: bool,
    /// Write to this file instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct CompactArgs {
    #[arg(long)]
    store: Option<PathBuf>,
    #[arg(long)]
    tenant: Option<String>,
}

const STATS_HELP: &str = "\
Interval statistics, computed from the store by the same function the API uses.

A call belongs to the interval in which it entered the queue; intervals are cut in the tenant's
local time (a DST day has 92 or 100 quarter-hours); --to is exclusive. Every interval appears for
every queue that had a call in the range.

Queue columns: offered (entered the queue), answered, abandoned (hung up waiting),
short_abandoned (abandoned with wait <= --short-abandon-s), overflowed (left unanswered without
abandoning: timeout, full, empty, key, withdraw, transfer), answered_within_threshold and
abandoned_within_threshold (wait <= --threshold-s), service_level = answered within / offered,
sl_with_abandons = (answered within + abandoned within) / offered, sl_excluding_short_abandons =
answered within / (offered - short abandoned), abandon_rate = abandoned / offered,
lost_call_rate = (abandoned - short abandoned) / offered, asa_s = mean wait of answered,
avg_abandon_wait_s, max_wait_s, avg_talk_s, aht_s = mean talk + hold + wrap of answered.
Rates and means are empty (null) where their denominator is zero.

Agent columns (--agents): seconds of the interval logged in (any state but logged-out), ready,
not ready (in total and per reason code), ringing, on call and in wrap-up, split at interval
edges; calls_handled, talk_s, hold_s, wrap_s of calls answered in the interval;
occupancy = (ringing + on call + wrap-up) / (that + ready); first_logged_in and last_logged_in,
the login edges inside the interval that adherence compares with the roster.

Queue report columns (--queue-report; --threshold-s is not used): offered, answered,
answer_rate = answered / offered, answered_15s_rate and answered_60s_rate = answered with a
wait <= 15 s (60 s) / offered, abandoned_15s_rate = abandoned with a wait <= 15 s / offered,
avg_talk_s, avg_answered_wait_s (ASA), avg_abandoned_wait_s: the queue columns above, read at
thresholds of 15 s and 60 s.";

pub fn run(args: Args) -> Result<()> {
    let data = args.data;
    let database = args.database;
    // No subcommand means `wfm serve` with its defaults.
    let command = args.command.unwrap_or_else(|| Args::parse_from(["wfm", "serve"]).command.expect("serve parses"));
    match command {
        Command::Serve(a) => crate::serve::serve(&data, database, a),
        Command::Admin(a) => crate::admin::run(&data, database, a),
        Command::Generate(a) => generate(a),
        Command::Import(a) => import_files(&data, database, a),
        Command::Stats(a) => print_stats(&data, a),
        Command::Compact(a) => compact(&data, a),
        Command::Erlang(a) => planning::erlang(a),
        Command::Forecast(a) => {
            let store = store_path(&data, a.store.clone());
            planning::forecast(&store, a)
        }
        Command::Staff(a) => planning::staff(a),
        Command::Schedule(a) => rostering::schedule(a),
        Command::CheckRoster(a) => rostering::check_roster(a),
        Command::CheckSwap(a) => rostering::check_swap(a),
        Command::CheckLeave(a) => rostering::check_leave(a),
        Command::FillGap(a) => rostering::fill_gap(a),
        Command::Adherence(a) => intraday::adherence(&data, database, a),
        Command::Roster(a) => intraday::roster(&data, database, a),
        Command::Escalation(a) => intraday::escalation(&data, a),
    }
}

fn store_path(data: &Path, store: Option<PathBuf>) -> PathBuf {
    store.unwrap_or_else(|| data.join("store"))
}

fn generate(a: GenerateArgs) -> Result<()> {
    let start = NaiveDate::parse_from_str(&a.start, "%Y-%m-%d").with_context(|| format!("--start {:?}", a.start))?;
    let mut config = wfm_datasets::GeneratorConfig::standard(start, a.days, a.seed, a.tenants, a.queues, a.daily_calls)?;
    config.write_queue_log = a.queue_log;
    let began = std::time::Instant::now();
    let report = wfm_datasets::generate(&config, &a.out)?;
    eprintln!(
        "generated {} calls ({} answered, {} abandoned) and {} agent-state periods for {} tenants, {} agents, in {:.1} s into {}",
        report.calls,
        report.answered,
        report.abandoned,
        report.agent_state_periods,
        report.tenants,
        report.agents,
        began.elapsed().as_secs_f64(),
        a.out.display()
    );
    Ok(())
}

fn import_files(data: &Path, database: Option<String>, a: ImportArgs) -> Result<()> {
    // The journal lives beside the store of the data directory, or wherever --database says.
    let journal = database.or_else(|| a.store.is_none().then(|| OpsDb::sqlite_url(data)));
    let started_at = chrono::Utc::now();
    let tenant = TenantId::parse(&a.tenant)?;
    let zone = TenantZone::parse(&a.tz)?;
    let policy = if a.skip_bad { BadLines::Skip } else { BadLines::Stop };
    let mut texts = Vec::new();
    for path in &a.files {
        let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
        texts.push((path, bytes));
    }
    let members = match &a.agent_map {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?;
            import::MemberMap::parse_csv(path, &text)?
        }
        None => import::MemberMap::default(),
    };
    let began = std::time::Instant::now();
    let files: Vec<(&Path, &[u8])> = texts.iter().map(|(p, b)| (p.as_path(), b.as_slice())).collect();
    let import::Parsed { calls, states, skipped, notes } = import::parse(a.format.into(), &files, zone, &members, policy)?;
    for line in &skipped {
        eprintln!("skipped {line}");
    }
    let parsed = began.elapsed().as_secs_f64();
    let store = Store::create_or_open(&store_path(data, a.store))?;
    store.ensure_tenant(&tenant, zone)?;
    let report = store.append(&tenant, &calls, &states)?;
    let elapsed = began.elapsed().as_secs_f64();
    if let Some(url) = journal {
        let files: Vec<String> = a.files.iter().map(|f| f.display().to_string()).collect();
        let written = Written { calls: report.calls_written, calls_duplicate: report.calls_duplicate, states: report.states_written, states_duplicate: report.states_duplicate };
        let run = ImportRun::began(tenant.as_str(), started_at, import::Format::from(a.format).as_str(), files.join(";")).finished(written, skipped.len(), elapsed);
        let (id, name) = (tenant.clone(), tenant.to_string());
        block_on(async move {
            let db = OpsDb::connect(&url).await?;
            // A tenant first seen in an import gets its row, as `wfm admin tenant add` would make.
            db.ensure_tenant(&wfm_ops::Tenant::new(id, &name, zone, wfm_ops::Language::English)?).await?;
            db.record_import(&run).await?;
            anyhow::Ok(())
        })??;
    }
    if !notes.is_empty() {
        eprintln!("{notes}");
    }
    eprintln!(
        "imported {} calls ({} already present) and {} agent-state periods ({} already present) into {} files; {} bad lines skipped; {:.2} s ({:.2} s reading, {:.2} s writing)",
        report.calls_written,
        report.calls_duplicate,
        report.states_written,
        report.states_duplicate,
        report.files_written,
        skipped.len(),
        elapsed,
        parsed,
        elapsed - parsed
    );
    Ok(())
}

fn print_stats(data: &Path, a: StatsArgs) -> Result<()> {
    let store = Store::open(&store_path(data, a.store))?;
    let interval: IntervalLength = a.interval.parse()?;
    let query = StatsQuery {
        tenant: TenantId::parse(&a.tenant)?,
        range: LocalDateRange::parse(&a.from, &a.to)?,
        interval,
        queue: a.queue.as_deref().map(QueueName::parse).transpose()?,
        rule: ServiceLevelRule::from_seconds(a.threshold_s, a.short_abandon_s)?,
    };
    let sink: Box<dyn Write> = match &a.out {
        Some(path) => Box::new(std::fs::File::create(path).with_context(|| format!("{}: cannot write", path.display()))?),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut sink = std::io::BufWriter::with_capacity(1 << 20, sink);
    let written = match (a.agents, a.queue_report, a.format) {
        (true, _, OutputFormat::Csv) => {
            let rows = stats::agent_stats(&store, &query)?;
            stats::write_csv(&rows.iter().map(|r| r.csv_row()).collect::<Vec<_>>(), &mut sink)
        }
        (true, _, OutputFormat::Json) => write_json(&stats::agent_stats(&store, &query)?, &mut sink),
        (false, true, OutputFormat::Csv) => stats::write_csv(&stats::queue_report(&store, &query)?, &mut sink),
        (false, true, OutputFormat::Json) => write_json(&stats::queue_report(&store, &query)?, &mut sink),
        (false, false, OutputFormat::Csv) => stats::write_csv(&stats::call_stats(&store, &query)?, &mut sink),
        (false, false, OutputFormat::Json) => write_json(&stats::call_stats(&store, &query)?, &mut sink),
    };
    finish_output(written.and_then(|()| sink.flush()), a.out.as_deref())
}

/// The end of a report written to `out` (standard output when `None`).
pub(crate) fn finish_output(written: std::io::Result<()>, out: Option<&Path>) -> Result<()> {
    match written {
        // A closed pipe (`wfm stats … | head`) is not an error worth a message.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            bail!("{}: {e}", out.map_or("standard output".to_owned(), |p| p.display().to_string()))
        }
        _ => Ok(()),
    }
}

pub(crate) fn write_json<T: serde::Serialize>(rows: &[T], mut out: impl Write) -> std::io::Result<()> {
    serde_json::to_writer(&mut out, rows)?;
    out.write_all(b"\n")
}

fn compact(data: &Path, a: CompactArgs) -> Result<()> {
    let store = Store::open(&store_path(data, a.store))?;
    let tenant = a.tenant.as_deref().map(TenantId::parse).transpose()?;
    let n = store.compact(tenant.as_ref())?;
    eprintln!("compacted {n} partitions");
    Ok(())
}


pub(crate) fn block_on<T>(future: impl std::future::Future<Output = T>) -> Result<T> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(future))
}
