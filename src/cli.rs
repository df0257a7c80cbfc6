use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use clap::{Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use wfm_analytics::import::{self, BadLines};
use wfm_analytics::stats::{self, ServiceLevelRule, StatsQuery};
use wfm_analytics::{Store, StoreError};
use wfm_model::{IntervalLength, LocalDateRange, QueueName, TenantId, TenantZone};
use wfm_web::{ImportRun, OpsDb};

use crate::{planning, rostering};

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
    /// Run the suite: HTTP API (and later SIP) over the data directory. The default command.
    Serve(ServeArgs),
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
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Address of the HTTP server.
    #[arg(long, default_value = "127.0.0.1:8080")]
    http: String,
    /// Address of the SIP endpoint (UDP) agents' phones register with.
    #[arg(long, default_value = "127.0.0.1:5060")]
    sip: String,
    /// SIP password of every demo agent (1001–1010), instead of those kept in DATA/sip-accounts.toml.
    #[arg(long)]
    demo_agent_password: Option<String>,
    /// Days of demo history generated on first start, when the store is empty (0: none).
    #[arg(long, default_value_t = 28)]
    demo_days: u32,
    /// Calls at once; INVITEs beyond are refused with 503.
    #[arg(long, default_value_t = 2000)]
    max_calls: usize,
    /// The demo tenant's queues and agents (TOML, see docs/telephony.md) instead of the built-in ones.
    #[arg(long)]
    acd: Option<PathBuf>,
    /// The demo tenant's IVR flow (TOML, see docs/telephony.md) instead of the built-in one.
    #[arg(long)]
    ivr: Option<PathBuf>,
    /// A SIP gateway (IP:PORT) through which agents transfer callers to outside numbers.
    #[arg(long)]
    trunk: Option<std::net::SocketAddr>,
    /// Record no call, whatever the queues say (load tests).
    #[arg(long)]
    no_recordings: bool,
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
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum OutputFormat {
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
    #[arg(long)]
    agents: bool,
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
the login edges inside the interval that adherence compares with the roster.";

pub fn run(args: Args) -> Result<()> {
    let data = args.data;
    let database = args.database;
    // No subcommand means `wfm serve` with its defaults.
    let command = args.command.unwrap_or_else(|| Args::parse_from(["wfm", "serve"]).command.expect("serve parses"));
    match command {
        Command::Serve(a) => serve(&data, database, a),
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
    let began = std::time::Instant::now();
    let (calls, states, skipped, notes) = match a.format {
        ImportFormat::Csv => {
            let mut calls = Vec::new();
            let mut skipped = Vec::new();
            for (path, bytes) in &texts {
                let batch = import::csv::parse_calls(path, bytes.as_slice(), zone, policy)?;
                calls.extend(batch.calls);
                skipped.extend(batch.skipped);
            }
            (calls, Vec::new(), skipped, String::new())
        }
        ImportFormat::QueueLog => {
            let decoded: Vec<(&PathBuf, String)> =
                texts.iter().map(|(p, b)| (*p, String::from_utf8_lossy(b).into_owned())).collect();
            let sources: Vec<import::queue_log::Source> =
                decoded.iter().map(|(p, t)| import::queue_log::Source { path: p, text: t }).collect();
            let batch = import::queue_log::parse(&sources, zone, policy)?;
            let unknown: Vec<String> = batch.unknown_events.iter().map(|(e, n)| format!("{e}×{n}")).collect();
            let notes = format!(
                "{} lines; {} calls still open at the end (not imported); {} call events without their ENTERQUEUE; unknown events skipped: {}\n",
                batch.lines,
                batch.open_calls,
                batch.orphan_events,
                if unknown.is_empty() { "none".to_owned() } else { unknown.join(", ") }
            );
            (batch.calls, batch.states, batch.skipped, notes)
        }
    };
    for line in &skipped {
        eprintln!("skipped {line}");
    }
    let parsed = began.elapsed().as_secs_f64();
    let store = Store::create_or_open(&store_path(data, a.store))?;
    store.ensure_tenant(&tenant, zone)?;
    let report = store.append(&tenant, &calls, &states)?;
    let elapsed = began.elapsed().as_secs_f64();
    if let Some(url) = journal {
        let format = match a.format {
            ImportFormat::Csv => "csv",
            ImportFormat::QueueLog => "queue-log",
        };
        let files: Vec<String> = a.files.iter().map(|f| f.display().to_string()).collect();
        let run = import_run(&tenant, started_at, format, files.join(";"), &report, skipped.len(), elapsed);
        block_on(async { OpsDb::connect(&url).await?.record_import(&run).await })??;
    }
    eprint!("{notes}");
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
    let written = match (a.agents, a.format) {
        (false, OutputFormat::Csv) => stats::write_csv(&stats::call_stats(&store, &query)?, &mut sink),
        (false, OutputFormat::Json) => write_json(&stats::call_stats(&store, &query)?, &mut sink),
        (true, OutputFormat::Csv) => {
            let rows = stats::agent_stats(&store, &query)?;
            stats::write_csv(&rows.iter().map(|r| r.csv_row()).collect::<Vec<_>>(), &mut sink)
        }
        (true, OutputFormat::Json) => write_json(&stats::agent_stats(&store, &query)?, &mut sink),
    };
    match written.and_then(|()| sink.flush()) {
        // A closed pipe (`wfm stats … | head`) is not an error worth a message.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            bail!("{}: {e}", a.out.as_ref().map_or("standard output".to_owned(), |p| p.display().to_string()))
        }
        _ => Ok(()),
    }
}

fn write_json<T: serde::Serialize>(rows: &[T], mut out: impl Write) -> std::io::Result<()> {
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

fn serve(data: &Path, database: Option<String>, a: ServeArgs) -> Result<()> {
    let store = Store::create_or_open(&data.join("store"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let url = database.unwrap_or_else(|| OpsDb::sqlite_url(data));
    let db = runtime.block_on(OpsDb::connect(&url))?;
    if a.demo_days > 0 && store.tenants()?.is_empty() {
        let started_at = chrono::Utc::now();
        let start = started_at.date_naive() - chrono::Duration::days(a.demo_days as i64);
        eprintln!("empty store: generating {} days of demo history for tenant `demo` …", a.demo_days);
        let began = std::time::Instant::now();
        let config = wfm_datasets::GeneratorConfig::standard(start, a.demo_days, 42, 1, 2, 3000.0)?;
        let report = wfm_datasets::generate(&config, data)?;
        eprintln!("  {} calls, {} agents", report.calls, report.agents);
        let appended = wfm_analytics::AppendReport {
            calls_written: report.calls as usize,
            states_written: report.agent_state_periods as usize,
            ..Default::default()
        };
        let tenant = TenantId::parse("demo")?;
        let what = format!("wfm generate --days {} --seed 42", a.demo_days);
        let run = import_run(&tenant, started_at, "generated", what, &appended, 0, began.elapsed().as_secs_f64());
        runtime.block_on(db.record_import(&run))?;
    }
    let engine = match &a.acd {
        Some(path) => {
            let (name, text) = read_config("--acd", path)?;
            wfm_telephony::acd::config::parse(&name, &text)?
        }
        None => wfm_telephony::acd::demo(),
    };
    let accounts = wfm_telephony::accounts::load_or_create(data, a.demo_agent_password.as_deref(), &engine.agent_ids())?;
    let prompts = wfm_telephony::media::audio::Prompts::with_folder(&data.join("prompts"))?;
    runtime.block_on(async move {
        let sip = Arc::new(tokio::net::UdpSocket::bind(&a.sip).await.with_context(|| format!("--sip {}", a.sip))?);
        let sip_addr = sip.local_addr()?;
        if sip_addr.ip().is_unspecified() {
            // The address goes into Contact headers and SDP: phones must be able to reach it.
            bail!("--sip {}: give the address phones reach (e.g. 192.168.1.10:5060), not a wildcard", a.sip);
        }
        if !accounts.created.is_empty() {
            println!("SIP accounts created in {}:", data.join(wfm_telephony::accounts::FILE).display());
            for user in &accounts.created {
                println!("  {user}  {}", accounts.passwords[user]);
            }
        }
        let registrar = wfm_telephony::sip::registrar::Registrar::new("wfm", accounts.by_user(), wfm_telephony::accounts::random_bytes()?);
        let journal = wfm_telephony::journal::Journal::open(&data.join("acd-journal.jsonl")).context("the ACD's state journal")?;
        let zone = TenantZone::parse("Europe/Warsaw")?;
        let calls_config = calls_config(data, &engine, &prompts, sip_addr, zone, &a)?;
        let live = Arc::new(wfm_telephony::live::Live::new("demo", engine, journal));
        let (media_events, mut media_events_rx) = tokio::sync::mpsc::unbounded_channel();
        let media = wfm_telephony::media::MediaHub::new(sip_addr.ip(), prompts, media_events);
        let calls = wfm_telephony::calls::Calls::new(
            calls_config,
            Box::new(media.clone()),
            wfm_telephony::accounts::random_bytes()?,
            std::time::Instant::now(),
            chrono::Utc::now().timestamp_millis(),
        );
        let core = wfm_telephony::sip::core::SipCore::new(registrar, concat!("wfm/", env!("CARGO_PKG_VERSION"))).with_calls(calls);
        // Records journalled before a crash go into the store first; then every second.
        let demo = TenantId::parse("demo")?;
        if let Err(StoreError::UnknownTenant(_)) = store.tenant_zone(&demo) {
            store.ensure_tenant(&demo, zone)?;
        }
        let store = Arc::new(store);
        journal_to_store(&live, &store, &demo)?;
        let (recording, recording_store) = (live.clone(), store.clone());
        tokio::spawn(async move {
            let mut every_second = tokio::time::interval(std::time::Duration::from_secs(1));
            loop {
                every_second.tick().await;
                let (live, store, tenant) = (recording.clone(), recording_store.clone(), demo.clone());
                match tokio::task::spawn_blocking(move || journal_to_store(&live, &store, &tenant)).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => eprintln!("acd: records not yet in the store (kept in the journal): {e:#}"),
                    Err(e) => eprintln!("acd: the store writer failed: {e}"),
                }
            }
        });
        // TCP on the same address as UDP (the port the system chose, when asked for 0).
        let sip_tcp = tokio::net::TcpListener::bind(sip_addr).await.with_context(|| format!("--sip {sip_addr} (TCP)"))?;
        let endpoint = wfm_telephony::transport::Endpoint::new(core, Box::new(sip_events(live.clone())), sip, Some(live.clone()), Some(media.clone()));
        let udp_endpoint = endpoint.clone();
        tokio::spawn(async move {
            if let Err(e) = wfm_telephony::transport::serve_udp(udp_endpoint).await {
                eprintln!("sip: the UDP socket failed: {e}");
            }
        });
        let tcp_endpoint = endpoint.clone();
        tokio::spawn(async move {
            if let Err(e) = wfm_telephony::transport::serve_tcp(sip_tcp, tcp_endpoint).await {
                eprintln!("sip: the TCP listener failed: {e}");
            }
        });
        let (acting, mut actions) = (endpoint.clone(), live.actions());
        tokio::spawn(async move {
            let mut batch = Vec::new();
            while actions.recv_many(&mut batch, 64).await > 0 {
                acting.on_actions(&batch, sip_addr);
                batch.clear();
            }
        });
        let hearing = endpoint.clone();
        tokio::spawn(async move {
            while let Some(event) = media_events_rx.recv().await {
                hearing.on_media(&event, sip_addr);
            }
        });
        let (ticking, ticking_endpoint) = (live.clone(), endpoint);
        tokio::spawn(async move {
            let mut clock = tokio::time::interval(std::time::Duration::from_millis(50));
            let mut last = media.counters();
            for n in 0u64.. {
                clock.tick().await;
                ticking_endpoint.tick_calls(sip_addr);
                if n % 20 == 0 {
                    ticking.tick();
                    ticking.sync();
                    ticking_endpoint.tick(sip_addr);
                }
                if n % 200 == 0 {
                    let now = media.counters();
                    if now != last {
                        eprintln!("media: {} calls, {} packets/s relayed, {} packets/s of prompts", now.calls, (now.relayed - last.relayed) / 10, (now.played - last.played) / 10);
                    }
                    last = now;
                }
            }
        });
        println!("wfm SIP on udp:{sip_addr} and tcp:{sip_addr}");
        let api_token: Arc<str> = match std::env::var("WFM_API_TOKEN") {
            Ok(token) if !token.is_empty() => token.into(),
            _ => {
                let token = wfm_telephony::accounts::random_hex::<16>()?;
                println!("wfm API token (set WFM_API_TOKEN to choose one): {token}");
                token.into()
            }
        };
        let listener = tokio::net::TcpListener::bind(&a.http).await.with_context(|| format!("--http {}", a.http))?;
        let addr = listener.local_addr()?;
        println!("wfm serving http://{addr} (data in {})", data.display());
        let recordings = Some(data.join("recordings"));
        let app = wfm_web::router(wfm_web::AppState { store, db, acd: Some(live), api_token, recordings });
        axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await?;
        Ok(())
    })
}

/// A tenant's configuration file given as `flag`: its name for error messages, and its text.
fn read_config(flag: &str, path: &Path) -> Result<(String, String)> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{flag} {}", path.display()))?;
    Ok((path.display().to_string(), text))
}

/// The call controller's view of the demo tenant: its IVR, queues, agents and where
/// recordings and voicemail go.
fn calls_config(
    data: &Path,
    engine: &wfm_telephony::acd::Engine,
    prompts: &wfm_telephony::media::audio::Prompts,
    local: std::net::SocketAddr,
    zone: TenantZone,
    a: &ServeArgs,
) -> Result<wfm_telephony::calls::Config> {
    let recordings = data.join("recordings");
    let voicemail = data.join("voicemail");
    for dir in [&recordings, &voicemail] {
        std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    }
    let queues = engine.queue_configs();
    let flow = match &a.ivr {
        Some(path) => {
            let (name, text) = read_config("--ivr", path)?;
            wfm_telephony::ivr::Flow::parse(&name, &text)?
        }
        None => wfm_telephony::ivr::Flow::demo(),
    };
    let flow_file = a.ivr.as_ref().map_or("the demo IVR".to_owned(), |p| p.display().to_string());
    let (needed_prompts, needed_queues) = flow.needs();
    if let Some(prompt) = needed_prompts.iter().find(|p| !prompts.contains(p)) {
        bail!("{flow_file}: prompt {prompt} is neither shipped nor in {}", data.join("prompts").display());
    }
    if let Some(queue) = needed_queues.iter().find(|q| !queues.iter().any(|c| c.id == **q)) {
        bail!("{flow_file}: queue {queue} is not one of the tenant's queues");
    }
    Ok(wfm_telephony::calls::Config {
        local,
        media_ip: local.ip(),
        max_calls: a.max_calls,
        flow,
        zone,
        agent_queues: engine.agent_ids().into_iter().map(|agent| (agent.clone(), engine.agent_queues(&agent))).collect(),
        queues: queues.iter().map(|q| q.id.clone()).collect(),
        recorded_queues: queues.iter().filter(|q| q.record && !a.no_recordings).map(|q| q.id.clone()).collect(),
        recordings,
        voicemail,
        voicemail_limit: std::time::Duration::from_secs(120),
        trunk: a.trunk,
    })
}

/// Moves the ACD's journalled state periods and calls into the store (idempotent: a record
/// already there is skipped), then clears the journal; returns how many were moved.
fn journal_to_store(live: &wfm_telephony::live::Live, store: &Store, tenant: &TenantId) -> Result<usize> {
    use wfm_telephony::journal::Entry;
    let mut journal = live.journal.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let pending = journal.pending().context("reading the ACD's journal")?;
    if pending.is_empty() {
        return Ok(0);
    }
    let (mut periods, mut calls) = (Vec::new(), Vec::new());
    for entry in &pending {
        // One bad record must not hold back the others (nor grow the journal forever).
        match entry {
            Entry::Period(p) => match state_event(p) {
                Ok(event) => periods.push(event),
                Err(e) => eprintln!("acd: a journalled period of {} is invalid and dropped: {e:#}", p.agent),
            },
            Entry::Call(c) => match call_record(c) {
                Ok(record) => calls.push(record),
                Err(e) => eprintln!("acd: the journalled call {} is invalid and dropped: {e:#}", c.call_id),
            },
        }
    }
    store.append(tenant, &calls, &periods)?;
    journal.clear().context("clearing the ACD's journal")?;
    Ok(calls.len() + periods.len())
}

fn at_ms(ms: i64) -> Result<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::from_timestamp_millis(ms).with_context(|| format!("time {ms} ms out of range"))
}

fn state_event(p: &wfm_telephony::journal::ClosedPeriod) -> Result<wfm_model::AgentStateEvent> {
    let event = wfm_model::AgentStateEvent {
        agent_id: wfm_model::AgentId::parse(&p.agent)?,
        state: wfm_model::AgentState::parse(&p.state)?,
        reason: p.reason.clone(),
        started_at: at_ms(p.started_ms)?,
        ended_at: at_ms(p.ended_ms)?,
        queues: p.queues.iter().map(|q| QueueName::parse(q)).collect::<Result<_, _>>()?,
    };
    event.validate()?;
    Ok(event)
}

fn call_record(c: &wfm_telephony::journal::CallSegment) -> Result<wfm_model::CallRecord> {
    let queued_at = c.queued_ms.map(at_ms).transpose()?;
    let answered_at = c.answered_ms.map(at_ms).transpose()?;
    let ended_at = at_ms(c.ended_ms)?;
    let record = wfm_model::CallRecord {
        call_id: c.call_id.clone(),
        channel: wfm_model::Channel::Voice,
        direction: wfm_model::Direction::Inbound,
        caller_number: c.caller_number.clone(),
        dialled_number: c.dialled_number.clone(),
        queue: c.queue.as_deref().map(QueueName::parse).transpose()?,
        priority: c.priority,
        arrived_at: at_ms(c.arrived_ms)?,
        queued_at,
        answered_at,
        ended_at,
        wait_ms: queued_at.map(|q| (answered_at.unwrap_or(ended_at) - q).num_milliseconds()),
        abandoned: c.abandoned,
        exit_reason: wfm_model::ExitReason::parse(&c.exit_reason)?,
        agent_id: c.agent.as_deref().map(wfm_model::AgentId::parse).transpose()?,
        ring_ms: c.ring_ms,
        talk_ms: c.talk_ms,
        hold_ms: c.hold_ms,
        wrap_ms: 0,
        transfer_target: c.transfer_target.clone(),
        disposition: None,
        ivr_path: c.ivr_path.clone(),
    };
    record.validate()?;
    Ok(record)
}

/// What the SIP endpoint reports: registrations log agents' phones in and out of the ACD and
/// are logged; malformed datagrams are logged the first ten times, then every thousandth, so
/// that a flood cannot flood the log too.
fn sip_events(live: Arc<wfm_telephony::live::Live>) -> impl FnMut(&wfm_telephony::sip::core::Event, std::net::SocketAddr) + Send {
    use wfm_telephony::sip::core::Event;
    use wfm_telephony::sip::registrar::Registration;
    let mut malformed = 0u64;
    move |event, from| match event {
        Event::Registration(Registration::Registered { user, expires_s }) => {
            eprintln!("sip: {user} registered from {from} for {expires_s} s");
            live.phone_registered(user);
        }
        Event::Registration(Registration::Unregistered { user }) => {
            eprintln!("sip: {user} unregistered");
            live.phone_unregistered(user);
        }
        Event::Registration(Registration::Refused { user }) => eprintln!("sip: registration of {user} from {from} refused"),
        Event::Malformed(e) => {
            malformed += 1;
            if malformed <= 10 || malformed.is_multiple_of(1000) {
                eprintln!("sip: malformed datagram from {from} dropped ({malformed} so far): {e}");
            }
        }
        _ => {}
    }
}

fn import_run(
    tenant: &TenantId,
    started_at: chrono::DateTime<chrono::Utc>,
    format: &str,
    files: String,
    report: &wfm_analytics::AppendReport,
    skipped_lines: usize,
    seconds: f64,
) -> ImportRun {
    ImportRun {
        id: format!("{}-{}", started_at.format("%Y%m%dT%H%M%S%.6fZ"), std::process::id()),
        tenant: tenant.to_string(),
        started_at: started_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        format: format.to_owned(),
        files,
        calls_written: report.calls_written as i64,
        calls_duplicate: report.calls_duplicate as i64,
        states_written: report.states_written as i64,
        states_duplicate: report.states_duplicate as i64,
        skipped_lines: skipped_lines as i64,
        seconds,
    }
}

fn block_on<T>(future: impl std::future::Future<Output = T>) -> Result<T> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(future))
}

async fn shutdown_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
