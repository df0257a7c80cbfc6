//! Forecast against actual, kept and learned from. Every run's forecast is saved under
//! `STORE/forecasts/TENANT/runs/`, with the correction it applied; the next run scores each
//! saved forecast on the days that have since happened (written to
//! `STORE/forecasts/TENANT/accuracy.csv`) and corrects each queue's volume by the bias the
//! model showed before correction in its recent runs, trusted in proportion to the calls it was
//! measured on.

use super::history::QueueHistory;
use super::{ForecastInterval, QueueSummary};
use super::ForecastError;
use super::history::slot_of;
use chrono::{DateTime, NaiveDate};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Runs whose errors steer the correction: the most recent ones.
const RECENT_RUNS: usize = 4;
/// Matured actual calls below which a queue's bias is not trusted at all.
const MIN_MATURED_CALLS: f64 = 200.0;
/// A bias measured on this many calls is trusted half; on many more, nearly fully.
const HALF_TRUST_CALLS: f64 = 2000.0;
/// Smaller biases are noise.
const MIN_BIAS: f64 = 0.03;

pub struct Journal {
    dir: PathBuf,
}

/// One saved run scored on one queue over its matured days.
#[derive(Debug, Clone, Serialize)]
pub struct RunAccuracy {
    pub run: String,
    pub queue: String,
    pub model: String,
    pub intervals: u64,
    pub actual_calls: f64,
    pub forecast_calls: f64,
    pub interval_wape: Option<f64>,
    pub bias: Option<f64>,
    pub aht_wape: Option<f64>,
    /// The learned correction this run applied.
    pub learned_factor: f64,
}

/// A queue's learned volume correction.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Correction {
    pub queue: String,
    pub runs: usize,
    /// Calls the bias was measured on.
    pub actual_calls: f64,
    /// Of the model before any correction: forecast / actual − 1.
    pub bias: f64,
    pub factor: f64,
}

/// A row of a saved run.
#[derive(serde::Serialize, serde::Deserialize)]
struct SavedRow {
    queue: String,
    interval_start: String,
    calls: f64,
    aht_s: f64,
    model: String,
    #[serde(default = "no_correction")]
    learned_factor: f64,
}

fn no_correction() -> f64 {
    1.0
}

/// Sums of one saved run on one queue over its matured intervals.
#[derive(Default)]
struct Matured {
    intervals: u64,
    actual: f64,
    forecast: f64,
    abs_error: f64,
    answered: f64,
    aht_abs_error: f64,
    actual_handle_s: f64,
    learned_factor: f64,
}

impl Journal {
    pub fn new(store_root: &Path, tenant: &str) -> Self {
        Self { dir: store_root.join("forecasts").join(tenant) }
    }

    fn runs_dir(&self) -> PathBuf {
        self.dir.join("runs")
    }

    /// Scores the saved runs made for the same slot length on the histories, rewrites
    /// `accuracy.csv`, and returns each queue's correction.
    pub fn learn(&self, histories: &[QueueHistory], slot_minutes: u32) -> Result<(Vec<RunAccuracy>, Vec<Correction>), ForecastError> {
        let io = |path: &Path, e: std::io::Error| ForecastError::File { file: path.display().to_string(), message: e.to_string() };
        let dir = self.runs_dir();
        let mut runs: Vec<PathBuf> = match std::fs::read_dir(&dir) {
            Ok(entries) => entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(&format!("_{slot_minutes}m.csv"))))
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io(&dir, e)),
        };
        runs.sort();
        let by_queue: BTreeMap<&str, &QueueHistory> = histories.iter().map(|h| (h.queue.as_str(), h)).collect();
        let mut scored = Vec::new();
        for path in &runs {
            let run = path.file_stem().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
            let mut reader = csv::Reader::from_path(path).map_err(|e| ForecastError::File { file: path.display().to_string(), message: e.to_string() })?;
            let mut sums: BTreeMap<(String, String), Matured> = BTreeMap::new();
            for row in reader.deserialize::<SavedRow>() {
                let row = row.map_err(|e| ForecastError::File { file: path.display().to_string(), message: e.to_string() })?;
                let Some(h) = by_queue.get(row.queue.as_str()) else { continue };
                let Ok(start) = DateTime::parse_from_rfc3339(&row.interval_start) else { continue };
                let local = start.naive_local();
                let Some(d) = usize::try_from((local.date() - h.first).num_days()).ok().filter(|d| *d < h.days()) else { continue };
                let slot = slot_of(local.time(), slot_minutes);
                let actual = h.calls.day(d)[slot];
                let answered = h.answered.day(d)[slot];
                let actual_aht = if answered > 0.0 { h.handle_s.day(d)[slot] / answered } else { 0.0 };
                let m = sums.entry((row.queue.clone(), row.model.clone())).or_default();
                m.intervals += 1;
                m.actual += actual;
                m.forecast += row.calls;
                m.abs_error += (row.calls - actual).abs();
                m.answered += answered;
                m.aht_abs_error += answered * (row.aht_s - actual_aht).abs();
                m.actual_handle_s += answered * actual_aht;
                m.learned_factor = row.learned_factor;
            }
            for ((queue, model), m) in sums {
                scored.push(RunAccuracy {
                    run: run.clone(),
                    queue,
                    model,
                    intervals: m.intervals,
                    actual_calls: m.actual,
                    forecast_calls: m.forecast,
                    interval_wape: (m.actual > 0.0).then(|| m.abs_error / m.actual),
                    bias: (m.actual > 0.0).then(|| m.forecast / m.actual - 1.0),
                    aht_wape: (m.actual_handle_s > 0.0).then(|| m.aht_abs_error / m.actual_handle_s),
                    learned_factor: m.learned_factor,
                });
            }
        }
        if !scored.is_empty() {
            std::fs::create_dir_all(&self.dir).map_err(|e| io(&self.dir, e))?;
            let path = self.dir.join("accuracy.csv");
            let mut w = csv::Writer::from_path(&path).map_err(|e| ForecastError::File { file: path.display().to_string(), message: e.to_string() })?;
            for r in &scored {
                w.serialize(r).map_err(|e| ForecastError::File { file: path.display().to_string(), message: e.to_string() })?;
            }
            w.flush().map_err(|e| io(&path, e))?;
        }
        Ok((scored.clone(), corrections(&scored)))
    }

    /// Saves this run's forecast and the correction each queue got, named so that runs sort by
    /// forecast start, then creation.
    pub fn save(&self, from: NaiveDate, slot_minutes: u32, created_ms: i64, rows: &[ForecastInterval], queues: &[QueueSummary]) -> Result<PathBuf, ForecastError> {
        let dir = self.runs_dir();
        let path = dir.join(format!("{from}_{created_ms}_{slot_minutes}m.csv"));
        let fail = |message: String| ForecastError::File { file: path.display().to_string(), message };
        let factors: BTreeMap<&str, f64> = queues.iter().map(|q| (q.queue.as_str(), q.learned_factor)).collect();
        let mut csv = csv::Writer::from_writer(Vec::new());
        for r in rows {
            csv.serialize(SavedRow {
                queue: r.queue.clone(),
                interval_start: r.interval_start.clone(),
                calls: r.calls,
                aht_s: r.aht_s,
                model: r.model.clone(),
                learned_factor: factors.get(r.queue.as_str()).copied().unwrap_or(1.0),
            })
            .map_err(|e| fail(e.to_string()))?;
        }
        let bytes = csv.into_inner().map_err(|e| fail(e.to_string()))?;
        std::fs::create_dir_all(&dir).map_err(|e| fail(e.to_string()))?;
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, bytes).and_then(|_| std::fs::rename(&tmp, &path)).map_err(|e| fail(e.to_string()))?;
        Ok(path)
    }
}

/// Per queue, over its most recent scored runs: the bias of the model before correction (each
/// run's forecast divided by the factor it applied), corrected in proportion to the trust its
/// volume earns.
fn corrections(scored: &[RunAccuracy]) -> Vec<Correction> {
    let mut by_queue: BTreeMap<&str, Vec<&RunAccuracy>> = BTreeMap::new();
    for r in scored {
        by_queue.entry(&r.queue).or_default().push(r);
    }
    by_queue
        .into_iter()
        .filter_map(|(queue, mut runs)| {
            runs.sort_by(|a, b| b.run.cmp(&a.run));
            runs.truncate(RECENT_RUNS);
            let actual: f64 = runs.iter().map(|r| r.actual_calls).sum();
            let uncorrected: f64 = runs.iter().map(|r| r.forecast_calls / r.learned_factor).sum();
            if actual < MIN_MATURED_CALLS {
                return None;
            }
            let bias = uncorrected / actual - 1.0;
            let trust = actual / (actual + HALF_TRUST_CALLS);
            (bias.abs() >= MIN_BIAS).then(|| Correction {
                queue: queue.to_owned(),
                runs: runs.len(),
                actual_calls: actual,
                bias,
                factor: (1.0 / (1.0 + trust * bias)).clamp(0.8, 1.25),
            })
        })
        .collect()
}
