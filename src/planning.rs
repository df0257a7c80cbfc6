//! The planning commands: `wfm erlang`, `wfm forecast` and `wfm staff`.

use anyhow::{bail, Context, Result};
use clap::ValueEnum;
use std::io::Write;
use std::path::{Path, PathBuf};
use wfm_analytics::Store;
use wfm_forecasting::erlang::{self, Workload};
use wfm_forecasting::forecast::{self, calendar, ForecastRequest, DEFAULT_BACKTEST_WEEKS};
use wfm_forecasting::requirements::{self, GoalOverrides, Goals, ModelName};
use wfm_model::{parse_date, IntervalLength, QueueName, TenantId};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ModelArg {
    ErlangC,
    ErlangA,
}

impl From<ModelArg> for ModelName {
    fn from(m: ModelArg) -> Self {
        match m {
            ModelArg::ErlangC => ModelName::ErlangC,
            ModelArg::ErlangA => ModelName::ErlangA,
        }
    }
}

/// The service goal shared by `wfm erlang` and `wfm staff`.
#[derive(Debug, clap::Args)]
pub struct GoalArgs {
    /// Share of calls to answer within --threshold-s (0–1).
    #[arg(long)]
    sl_target: Option<f64>,
    /// Service-level threshold in seconds.
    #[arg(long, default_value_t = 20.0)]
    threshold_s: f64,
    /// Average speed of answer to meet, seconds.
    #[arg(long)]
    asa_target_s: Option<f64>,
    /// Highest share of time agents may spend on calls (0–1).
    #[arg(long)]
    max_occupancy: Option<f64>,
    /// Share of paid time not available for calls; agents_with_shrinkage = ⌈agents / (1 − shrinkage)⌉.
    #[arg(long, default_value_t = 0.0)]
    shrinkage: f64,
    /// Erlang C (callers wait forever) or Erlang A (callers abandon; needs --patience-s).
    #[arg(long, value_enum, default_value = "erlang-c")]
    model: ModelArg,
    /// Erlang A: callers' mean patience in seconds (exponential).
    #[arg(long)]
    patience_s: Option<f64>,
}

impl GoalArgs {
    fn overrides(&self) -> GoalOverrides {
        GoalOverrides {
            sl_target: self.sl_target,
            threshold_s: Some(self.threshold_s),
            asa_target_s: self.asa_target_s,
            max_occupancy: self.max_occupancy,
            shrinkage: Some(self.shrinkage),
            model: Some(self.model.into()),
            patience_s: self.patience_s,
        }
    }
}

#[derive(Debug, clap::Args)]
#[command(allow_negative_numbers = true)]
pub struct ErlangArgs {
    /// Calls offered in the interval.
    #[arg(long)]
    calls: f64,
    /// Length of the interval in seconds.
    #[arg(long)]
    interval_s: f64,
    /// Average handle time in seconds (talk + hold + wrap-up).
    #[arg(long)]
    aht_s: f64,
    #[command(flatten)]
    goal: GoalArgs,
    /// Evaluate this many agents instead of searching for the fewest.
    #[arg(long)]
    agents: Option<u32>,
    #[arg(long)]
    json: bool,
}

#[derive(serde::Serialize)]
struct ErlangOutput {
    #[serde(flatten)]
    staffing: erlang::Staffing,
    agents_with_shrinkage: u32,
    shrinkage: f64,
}

pub fn erlang(a: ErlangArgs) -> Result<()> {
    let goal = a.goal.overrides();
    let workload = Workload::new(a.calls, a.interval_s, a.aht_s)?;
    let parsed = match a.agents {
        // Evaluating needs no target; searching needs at least one.
        Some(_) => GoalOverrides { sl_target: goal.sl_target.or(Some(0.0)), ..goal }.goal()?,
        None => goal.goal()?,
    };
    let staffing = match a.agents {
        Some(n) => erlang::evaluate(parsed.model, &workload, n, parsed.targets.threshold_s)?,
        None => erlang::required_agents(parsed.model, &workload, &parsed.targets)?,
    };
    let out = ErlangOutput { staffing, agents_with_shrinkage: parsed.shrinkage.apply(staffing.agents), shrinkage: parsed.shrinkage.get() };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    let s = &out.staffing;
    let percent = |v: f64| format!("{:.2} %", v * 100.0);
    println!("model                   {}", s.model);
    println!("traffic                 {:.3} Erlangs", s.traffic_erlangs);
    println!("agents                  {}", s.agents);
    println!("agents with shrinkage   {} (shrinkage {})", out.agents_with_shrinkage, percent(out.shrinkage));
    println!("service level           {} answered within {} s", percent(s.service_level), s.threshold_s);
    println!("probability of waiting  {}", percent(s.probability_of_waiting));
    if let Some(p) = s.probability_of_abandoning {
        println!("probability of abandon  {}", percent(p));
    }
    match s.asa_s {
        Some(asa) => println!("ASA                     {asa:.2} s"),
        None => println!("ASA                     unbounded (agents ≤ traffic: the queue grows without end)"),
    }
    println!("occupancy               {}", percent(s.occupancy));
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct ForecastArgs {
    /// The Parquet store (default: DATA/store).
    #[arg(long)]
    pub store: Option<PathBuf>,
    #[arg(long)]
    tenant: String,
    /// First forecast day (local), YYYY-MM-DD; the history is everything before it.
    #[arg(long)]
    from: String,
    /// Days (28d) or weeks (4w).
    #[arg(long, default_value = "28d")]
    horizon: String,
    /// Only this queue (default: every queue with calls).
    #[arg(long)]
    queue: Option<String>,
    /// Holidays and events: CSV `date,kind,name[,tenant,queue,volume_factor,aht_factor,from_hour,to_hour]`.
    #[arg(long)]
    calendar: Option<PathBuf>,
    /// Rolling-origin backtest over this many weeks (e.g. 8w), printed per queue and horizon.
    /// Without it, eight weeks are still used to choose each queue's model.
    #[arg(long)]
    backtest: Option<String>,
    /// 15m, 30m or 60m.
    #[arg(long, default_value = "15m")]
    interval: String,
    /// Neither learn from earlier runs nor save this one.
    #[arg(long)]
    no_learn: bool,
    /// The forecast CSV: queue, interval_start, interval_end, calls, aht_s, calls_lo80, calls_hi80, model.
    #[arg(long)]
    out: PathBuf,
    /// Also write the choices, backtest accuracy and learning as JSON.
    #[arg(long)]
    report: Option<PathBuf>,
}

fn days_or_weeks(field: &str, s: &str) -> Result<u32> {
    let s = s.trim();
    let bad = || anyhow::anyhow!("--{field}: {s:?} is not a count of days (28d) or weeks (4w)");
    let (number, days_per_unit) = match (s.strip_suffix('d'), s.strip_suffix('w')) {
        (Some(n), _) => (n, 1),
        (_, Some(n)) => (n, 7),
        _ => return Err(bad()),
    };
    number.parse::<u32>().ok().and_then(|n| n.checked_mul(days_per_unit)).ok_or_else(bad)
}

pub fn forecast(store_dir: &Path, a: ForecastArgs) -> Result<()> {
    let store = Store::open(store_dir)?;
    let tenant = TenantId::parse(&a.tenant)?;
    let slot_minutes = match a.interval.parse::<IntervalLength>()? {
        IntervalLength::Minutes(m) => m,
        _ => bail!("--interval: forecasts are cut in 15m, 30m or 60m intervals"),
    };
    let calendar = match &a.calendar {
        Some(path) => {
            let file = std::fs::File::open(path).with_context(|| format!("{}: cannot read", path.display()))?;
            calendar::parse(&path.display().to_string(), file, tenant.as_str())?
        }
        None => Vec::new(),
    };
    let backtest_weeks = a.backtest.as_deref().map(|b| days_or_weeks("backtest", b).map(|d| d.div_ceil(7))).transpose()?;
    let request = ForecastRequest {
        tenant,
        from: parse_date(&a.from)?,
        horizon_days: days_or_weeks("horizon", &a.horizon)?,
        queue: a.queue.as_deref().map(QueueName::parse).transpose()?,
        slot_minutes,
        calendar,
        backtest_weeks: backtest_weeks.unwrap_or(DEFAULT_BACKTEST_WEEKS),
        learn: !a.no_learn,
    };
    let result = forecast::forecast(&store, &request)?;
    let mut out = csv::Writer::from_path(&a.out).with_context(|| format!("{}: cannot write", a.out.display()))?;
    for row in &result.rows {
        out.serialize(row)?;
    }
    out.flush()?;

    let mut err = std::io::stderr().lock();
    if result.history_end < request.from {
        let last = result.history_end.pred_opt().unwrap_or(result.history_end);
        writeln!(err, "the last day with calls is {last}: the days between it and {} are forecast too, but not written", request.from)?;
    }
    for s in &result.skipped {
        writeln!(err, "skipped: {s}")?;
    }
    for e in &result.estimated {
        writeln!(err, "calendar: {:?} {:?} estimated volume factor {:.2} from {} past occurrences", e.kind, e.name, e.volume_factor, e.occurrences)?;
    }
    for c in &result.learned {
        writeln!(err, "learned: queue {} was forecast {:+.1} % over its last {} runs; volume × {:.3}", c.queue, c.bias * 100.0, c.runs, c.factor)?;
    }
    let pct = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{:.1}%", v * 100.0));
    for q in &result.queues {
        writeln!(
            err,
            "queue {}: {} days of history, model {}; backtest interval WAPE {} (seasonal naive {}) over {} origins; {:.0} calls forecast",
            q.queue, q.history_days, q.model, pct(q.backtest_interval_wape), pct(q.baseline_interval_wape), q.backtest_origins, q.forecast_calls
        )?;
    }
    if backtest_weeks.is_some() && result.accuracy.is_empty() {
        writeln!(err, "backtest: too little history (each origin needs 14 days before it)")?;
    } else if backtest_weeks.is_some() {
        writeln!(err, "\n{:<12} {:<9} {:<7} {:>13} {:>10} {:>8} {:>8}  method", "queue", "role", "horizon", "interval WAPE", "daily WAPE", "MAPE", "bias")?;
        for r in &result.accuracy {
            writeln!(
                err,
                "{:<12} {:<9} {:<7} {:>13} {:>10} {:>8} {:>8}  {}",
                r.queue, r.role, r.horizon, pct(r.interval_wape), pct(r.daily_wape), pct(r.mape), pct(r.bias), r.method
            )?;
        }
    }
    if let Some(path) = &a.report {
        let report = serde_json::json!({
            "queues": result.queues,
            "accuracy": result.accuracy,
            "estimated_calendar_factors": result.estimated,
            "learned_corrections": result.learned,
            "past_runs": result.past_runs,
        });
        std::fs::write(path, serde_json::to_string_pretty(&report)? + "\n").with_context(|| format!("{}: cannot write", path.display()))?;
    }
    eprintln!("wrote {} intervals to {}", result.rows.len(), a.out.display());
    Ok(())
}

#[derive(Debug, clap::Args)]
#[command(allow_negative_numbers = true)]
pub struct StaffArgs {
    /// Forecast CSV: queue, interval_start, calls, aht_s (and interval_end).
    #[arg(long)]
    forecast: PathBuf,
    #[command(flatten)]
    goal: GoalArgs,
    /// Per-queue and per-time-window targets (TOML; see docs/forecasting.md).
    #[arg(long)]
    targets: Option<PathBuf>,
    /// Smooth each queue's curve by a centred moving average over this many intervals.
    #[arg(long, default_value_t = 0)]
    smooth: usize,
    /// Interval length when the forecast has no interval_end column.
    #[arg(long, default_value = "15m")]
    interval: String,
    /// The requirements CSV: one row per forecast row (columns in docs/forecasting.md).
    #[arg(long)]
    out: PathBuf,
}

pub fn staff(a: StaffArgs) -> Result<()> {
    let interval_s = match a.interval.parse::<IntervalLength>()? {
        IntervalLength::Minutes(m) => f64::from(m) * 60.0,
        _ => bail!("--interval: 15m, 30m or 60m"),
    };
    let file = std::fs::File::open(&a.forecast).with_context(|| format!("{}: cannot read", a.forecast.display()))?;
    let name = a.forecast.display().to_string();
    let rows = requirements::read_forecast(&name, std::io::BufReader::new(file), interval_s)?;
    let targets = a.targets.as_deref().map(|p| Goals::parse_file(p).map(|f| (p, f))).transpose()?;
    let mut goals = Goals::new(a.goal.overrides(), targets)?;
    let staffed = requirements::staff(&name, &rows, &mut goals, a.smooth)?;
    let mut out = csv::Writer::from_path(&a.out).with_context(|| format!("{}: cannot write", a.out.display()))?;
    for row in &staffed.rows {
        out.serialize(row)?;
    }
    out.flush()?;
    // Compared over the intervals that have a pooled figure.
    let comparable = staffed.pooled.iter().filter_map(|p| p.pooled_agents.map(|pooled| (p, pooled)));
    let (per_queue, pooled) = comparable.fold((0u64, 0u64), |(q, p), (c, pooled)| (q + u64::from(c.per_queue_agents), p + u64::from(pooled)));
    eprintln!("wrote {} rows to {}", staffed.rows.len(), a.out.display());
    if let Some(peak) = staffed.pooled.iter().max_by_key(|p| p.per_queue_agents) {
        let change = if per_queue > 0 { 100.0 * (pooled as f64 - per_queue as f64) / per_queue as f64 } else { 0.0 };
        eprintln!(
            "per-queue staffing: {per_queue} agent-intervals, peak {} at {}; one fully cross-skilled pool at the default targets would need {pooled} ({:.1} % {})",
            peak.per_queue_agents,
            peak.interval_start,
            change.abs(),
            if change <= 0.0 { "fewer" } else { "more" }
        );
    }
    Ok(())
}
