//! `wfm forecast`: calls and handle time per queue and interval for a horizon.
//!
//! Per queue: load the history before the first forecast day ([`history`]); clean it of the
//! calendar's holidays and events, estimating the factors the calendar leaves empty
//! ([`calendar`]); score every candidate method from several weekly origins ([`backtest`]) and
//! keep the best on interval WAPE; forecast with it, apply the calendar of the horizon and the
//! correction learned from earlier runs ([`learning`]); map the local slots onto the horizon's
//! real intervals (daylight-saving days have more or fewer).

pub mod backtest;
pub mod calendar;
pub mod history;
pub mod learning;
pub mod model;

use backtest::{Accuracy, BUCKETS};
use calendar::{CalendarEntry, EntryKind};
use chrono::{Duration, NaiveDate};
use history::{DayMatrix, QueueHistory};
use model::{predict, Method, Prepared};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use wfm_analytics::stats::StatsError;
use wfm_analytics::{Store, StoreError};
use wfm_model::{IntervalGrid, IntervalLength, LocalDateRange, QueueName, TenantId};

#[derive(Debug, thiserror::Error)]
pub enum ForecastError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Stats(#[from] StatsError),
    #[error("`{field}`: {message}")]
    Invalid { field: &'static str, message: String },
    #[error("{file}:{line}: `{field}`: {message}")]
    Input { file: String, line: u64, field: String, message: String },
    #[error("{file}: {message}")]
    File { file: String, message: String },
    #[error("tenant {tenant} has no calls{queue} in the store before {before}: nothing to forecast from")]
    NoHistory { tenant: TenantId, queue: String, before: NaiveDate },
    #[error("queue {queue} has no answered call before {before}: its handle time cannot be forecast")]
    NoHandleTime { queue: String, before: NaiveDate },
}

/// Fewest days of history a queue needs.
pub const MIN_HISTORY_DAYS: usize = 7;
/// Longest horizon: a year.
pub const MAX_HORIZON_DAYS: u32 = 366;

/// Weekly backtest origins unless the caller asks for others.
pub const DEFAULT_BACKTEST_WEEKS: u32 = 8;

#[derive(Debug, Clone)]
pub struct ForecastRequest {
    pub tenant: TenantId,
    /// First forecast day (local); history is everything before it.
    pub from: NaiveDate,
    pub horizon_days: u32,
    pub queue: Option<QueueName>,
    /// 15, 30 or 60.
    pub slot_minutes: u32,
    pub calendar: Vec<CalendarEntry>,
    /// Weekly backtest origins used to choose the method per queue.
    pub backtest_weeks: u32,
    /// Score earlier runs, correct by their bias, and save this run.
    pub learn: bool,
}

/// One queue in one interval of the horizon.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForecastInterval {
    pub queue: String,
    pub interval_start: String,
    pub interval_end: String,
    pub calls: f64,
    pub aht_s: f64,
    /// 80 % prediction interval of the calls.
    pub calls_lo80: f64,
    pub calls_hi80: f64,
    pub model: String,
}

/// What was decided for a queue, and why.
#[derive(Debug, Clone, Serialize)]
pub struct QueueSummary {
    pub queue: String,
    pub history_days: usize,
    pub model: String,
    pub backtest_origins: usize,
    pub backtest_interval_wape: Option<f64>,
    pub baseline_interval_wape: Option<f64>,
    /// Learned from earlier runs: multiplier on volume.
    pub learned_factor: f64,
    pub forecast_calls: f64,
}

/// A calendar factor estimated from history, because the calendar left it empty.
#[derive(Debug, Clone, Serialize)]
pub struct EstimatedFactor {
    pub kind: EntryKind,
    pub name: String,
    pub volume_factor: f64,
    pub occurrences: usize,
}

pub struct Forecast {
    pub rows: Vec<ForecastInterval>,
    pub queues: Vec<QueueSummary>,
    pub accuracy: Vec<Accuracy>,
    pub estimated: Vec<EstimatedFactor>,
    pub learned: Vec<learning::Correction>,
    pub past_runs: Vec<learning::RunAccuracy>,
    /// Queues left out, with the reason.
    pub skipped: Vec<String>,
    /// The day after the last day with calls; days from it to the first forecast day are
    /// forecast but not output.
    pub history_end: NaiveDate,
}

pub fn forecast(store: &Store, request: &ForecastRequest) -> Result<Forecast, ForecastError> {
    if request.horizon_days == 0 || request.horizon_days > MAX_HORIZON_DAYS {
        return Err(ForecastError::Invalid { field: "horizon", message: format!("{} days is not between 1 and {MAX_HORIZON_DAYS}", request.horizon_days) });
    }
    if ![15, 30, 60].contains(&request.slot_minutes) {
        return Err(ForecastError::Invalid { field: "interval", message: "must be 15m, 30m or 60m".into() });
    }
    let zone = store.tenant_zone(&request.tenant)?;
    let loaded = history::load(store, &request.tenant, request.queue.as_ref(), request.from, request.slot_minutes)?;
    let mut skipped = Vec::new();
    let histories: Vec<QueueHistory> = loaded
        .into_iter()
        .filter(|h| {
            let enough = h.days() >= MIN_HISTORY_DAYS;
            if !enough && h.days() > 0 {
                skipped.push(format!("queue {}: {} days of history before {}; at least {MIN_HISTORY_DAYS} are needed", h.queue, h.days(), request.from));
            }
            enough
        })
        .collect();
    if histories.is_empty() {
        if let Some(reason) = skipped.first() {
            return Err(ForecastError::Invalid { field: "from", message: reason.clone() });
        }
        let queue = request.queue.as_ref().map_or(String::new(), |q| format!(" in queue {q}"));
        return Err(ForecastError::NoHistory { tenant: request.tenant.clone(), queue, before: request.from });
    }
    let journal = learning::Journal::new(store.root(), request.tenant.as_str());
    let (past_runs, learned) = if request.learn { journal.learn(&histories, request.slot_minutes)? } else { (Vec::new(), Vec::new()) };

    // Days between the end of the data and the first forecast day are forecast, not output.
    let history_end = histories[0].date(histories[0].days());
    let gap = (request.from - history_end).num_days().max(0) as usize;
    let horizon = request.horizon_days as usize;
    // The backtest may only use factors estimated before its first origin, as a planner could.
    let backtest_start = history_end - Duration::days(7 * i64::from(request.backtest_weeks));
    let (backtest_factors, _) = estimate_factors(&histories, request, backtest_start);
    let (factors, estimated) = estimate_factors(&histories, request, request.from);
    let candidates = Method::candidates();
    let mut out = Forecast { rows: Vec::new(), queues: Vec::new(), accuracy: Vec::new(), estimated, learned: learned.clone(), past_runs, skipped, history_end };
    let grid = IntervalGrid::new(
        zone,
        LocalDateRange::new(request.from, request.from + Duration::days(horizon as i64)).map_err(|e| ForecastError::Invalid { field: "horizon", message: e.to_string() })?,
        IntervalLength::Minutes(request.slot_minutes),
    );
    for h in &histories {
        // Scored on the same lead times as the forecast: from the end of the history.
        let scores = backtest::run(&candidates, &prepare(h, request, &backtest_factors, gap + horizon), request.backtest_weeks as usize, gap + horizon);
        let chosen = if scores.origins == 0 {
            // Too little history to compare: the regression over all of it.
            candidates.iter().position(|m| *m == Method::FALLBACK).expect("the fallback is a candidate")
        } else {
            (0..candidates.len())
                .min_by(|&a, &b| {
                    let wape = |c| scores.total(c).interval_wape().unwrap_or(f64::INFINITY);
                    wape(a).total_cmp(&wape(b))
                })
                .expect("candidates are not empty")
        };
        let method = candidates[chosen];
        if scores.origins > 0 {
            for (role, c) in [("chosen", chosen), ("baseline", 0)] {
                for (b, (name, _, _)) in BUCKETS.iter().enumerate() {
                    if scores.per_bucket[c][b].actual > 0.0 {
                        out.accuracy.push(scores.per_bucket[c][b].summary(&h.queue, candidates[c].name(), role, name));
                    }
                }
                out.accuracy.push(scores.total(c).summary(&h.queue, candidates[c].name(), role, "all"));
            }
        }
        let learned_factor = learned.iter().find(|c| c.queue == h.queue).map_or(1.0, |c| c.factor);
        let prediction = predict(&method, &prepare(h, request, &factors, gap + horizon), h.days(), gap + horizon);
        let rows = to_intervals(&grid, request, gap, &h.queue, &method.name(), &prediction, learned_factor)?;
        let total: f64 = rows.iter().map(|r| r.calls).sum();
        out.queues.push(QueueSummary {
            queue: h.queue.clone(),
            history_days: h.days(),
            model: method.name(),
            backtest_origins: scores.origins,
            backtest_interval_wape: (scores.origins > 0).then(|| scores.total(chosen).interval_wape()).flatten(),
            baseline_interval_wape: (scores.origins > 0).then(|| scores.total(0).interval_wape()).flatten(),
            learned_factor,
            forecast_calls: total,
        });
        out.rows.extend(rows);
    }
    if request.learn {
        journal.save(request.from, request.slot_minutes, chrono::Utc::now().timestamp_millis(), &out.rows, &out.queues)?;
    }
    Ok(out)
}

/// Calendar factors per (kind, name), known or estimated.
type FactorTable = HashMap<(EntryKind, String), f64>;

/// Estimates the factors the calendar leaves empty: the calls in the entry's hours over what a
/// forecast made the day before would have expected, pooled over all its occurrences before
/// `before`.
fn estimate_factors(histories: &[QueueHistory], request: &ForecastRequest, before: NaiveDate) -> (FactorTable, Vec<EstimatedFactor>) {
    #[derive(Default)]
    struct Observed {
        actual: f64,
        expected: f64,
        occurrences: usize,
    }
    let mut sums: BTreeMap<(EntryKind, String), Observed> = BTreeMap::new();
    let reference = Method::DailyRegression { half_life_days: 91, trend: false, profile_weeks: 12, profile_blend: 0.5 };
    // The reference sees only the calendar's known factors, so an entry is not cleaned away
    // before it is measured.
    let known = ForecastRequest { calendar: request.calendar.iter().filter(|e| e.volume_factor.is_some()).cloned().collect(), ..request.clone() };
    let unknown: Vec<&CalendarEntry> = request.calendar.iter().filter(|e| e.volume_factor.is_none() && e.date < before).collect();
    for h in histories {
        let mut p = None;
        for entry in unknown.iter().filter(|e| e.applies_to(&h.queue) && e.date >= h.first) {
            let day = (entry.date - h.first).num_days() as usize;
            if day < MIN_HISTORY_DAYS {
                continue;
            }
            let p = p.get_or_insert_with(|| prepare(h, &known, &FactorTable::new(), 1));
            let expected = predict(&reference, p, day, 1);
            let slots = (0..h.calls.slots).filter(|&s| entry.covers_slot(s, request.slot_minutes));
            let (actual, wanted) = slots.fold((0.0, 0.0), |(a, e), s| (a + h.calls.day(day)[s], e + expected.calls.day(0)[s]));
            let sum = sums.entry((entry.kind, entry.name.clone())).or_default();
            sum.actual += actual;
            sum.expected += wanted;
            sum.occurrences += 1;
        }
    }
    let mut table = FactorTable::new();
    let mut report = Vec::new();
    for ((kind, name), Observed { actual, expected, occurrences }) in sums {
        if expected > 0.0 {
            let factor = (actual / expected).clamp(0.0, 100.0);
            table.insert((kind, name.clone()), factor);
            report.push(EstimatedFactor { kind, name, volume_factor: factor, occurrences });
        }
    }
    (table, report)
}

/// The factor of an entry: given, else estimated for its name, else the mean estimate of its
/// kind, else none.
fn factor_of(entry: &CalendarEntry, estimated: &FactorTable) -> f64 {
    if let Some(f) = entry.volume_factor {
        return f;
    }
    if let Some(f) = estimated.get(&(entry.kind, entry.name.clone())) {
        return *f;
    }
    let same_kind: Vec<f64> = estimated.iter().filter(|((k, _), _)| *k == entry.kind).map(|(_, f)| *f).collect();
    if same_kind.is_empty() { 1.0 } else { same_kind.iter().sum::<f64>() / same_kind.len() as f64 }
}

fn prepare<'a>(h: &'a QueueHistory, request: &ForecastRequest, estimated: &FactorTable, horizon: usize) -> Prepared<'a> {
    let slots = h.calls.slots;
    let days = h.days() + horizon;
    let mut volume = DayMatrix { slots, values: vec![1.0; days * slots] };
    let mut aht = DayMatrix { slots, values: vec![1.0; days * slots] };
    for entry in request.calendar.iter().filter(|e| e.applies_to(&h.queue) && e.date >= h.first) {
        let day = (entry.date - h.first).num_days() as usize;
        if day >= days {
            continue;
        }
        let f = factor_of(entry, estimated);
        for s in (0..slots).filter(|&s| entry.covers_slot(s, request.slot_minutes)) {
            volume.day_mut(day)[s] *= f;
            aht.day_mut(day)[s] *= entry.aht_factor.unwrap_or(1.0);
        }
    }
    let clean = |m: &DayMatrix, factors: &DayMatrix| DayMatrix {
        slots,
        values: m.values.iter().zip(&factors.values).map(|(v, f)| if *f > 0.0 { v / f } else { 0.0 }).collect(),
    };
    Prepared {
        history: h,
        clean_calls: clean(&h.calls, &volume),
        clean_handle_s: clean(&h.handle_s, &aht),
        volume_factor: volume,
        aht_factor: aht,
    }
}

/// Maps the predicted local slots onto the horizon's real intervals. A slot that occurs twice
/// (the repeated hour of a fall-back night) gives both intervals its volume, as the history
/// averaged them; a skipped one has none.
fn to_intervals(
    grid: &IntervalGrid,
    request: &ForecastRequest,
    // Predicted days before the first forecast day.
    offset: usize,
    queue: &str,
    model: &str,
    prediction: &model::Prediction,
    learned_factor: f64,
) -> Result<Vec<ForecastInterval>, ForecastError> {
    let zone = grid.zone();
    let locate = |i: usize| {
        let local = grid.start(i).with_timezone(&zone.tz()).naive_local();
        (offset + (local.date() - request.from).num_days() as usize, history::slot_of(local.time(), request.slot_minutes))
    };
    let sigma = prediction.daily_sigma;
    (0..grid.len())
        .map(|i| {
            let (day, slot) = locate(i);
            let calls = prediction.calls.day(day)[slot] * learned_factor;
            let aht_s = if calls > 0.0 { prediction.aht_s.day(day)[slot] } else { 0.0 };
            if calls > 0.0 && (aht_s.is_nan() || aht_s <= 0.0) {
                return Err(ForecastError::NoHandleTime { queue: queue.to_owned(), before: request.from });
            }
            // Poisson noise within the interval plus the uncertainty of the day's level.
            let spread = 1.2816 * (calls + (calls * sigma).powi(2)).sqrt();
            Ok(ForecastInterval {
                queue: queue.to_owned(),
                interval_start: zone.format_local(grid.start(i)),
                interval_end: zone.format_local(grid.end(i)),
                calls: round3(calls),
                aht_s: round3(aht_s),
                calls_lo80: round3((calls - spread).max(0.0)),
                calls_hi80: round3(calls + spread),
                model: model.to_owned(),
            })
        })
        .collect()
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}
