//! Forecast against actual, kept and learned from. Every run's forecast is saved under
//! `STORE/forecasts/TENANT/runs/`; the next run scores each saved forecast on the days that have
//! since happened (written to `STORE/forecasts/TENANT/accuracy.csv`) and corrects each queue's
//! volume by the bias its recent forecasts showed.

use super::history::QueueHistory;
use super::ForecastError;
use chrono::{DateTime, NaiveDate, Timelike};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Runs whose errors steer the correction: the most recent ones.
const RECENT_RUNS: usize = 4;
/// Matured actual calls below which a queue's bias is not trusted.
const MIN_MATURED_CALLS: f64 = 200.0;
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
}

/// A queue's learned volume correction.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Correction {
    pub queue: String,
    pub runs: usize,
    pub bias: f64,
    pub factor: f64,
}

#[derive(serde::Deserialize)]
struct SavedRow {
    queue: String,
    interval_start: String,
    calls: f64,
    aht_s: f64,
    model: String,
}

impl Journal {
    pub fn new(store_root: &Path, tenant: &str) -> Self {
        Self { dir: store_root.join("forecasts").join(tenant) }
    }

    fn runs_dir(&self) -> PathBuf {
        self.dir.join("runs")
    }

    /// Scores the saved runs made for the same slot length on the history before `until`,
    /// rewrites `accuracy.csv`, and returns each queue's correction.
    pub fn learn(&self, histories: &[QueueHistory], slot_minutes: u32, until: NaiveDate) -> Result<(Vec<RunAccuracy>, Vec<Correction>), ForecastError> {
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
            let mut sums: BTreeMap<(String, String), [f64; 6]> = BTreeMap::new();
            for row in reader.deserialize::<SavedRow>() {
                let row = row.map_err(|e| ForecastError::File { file: path.display().to_string(), message: e.to_string() })?;
                let Some(h) = by_queue.get(row.queue.as_str()) else { continue };
                let Ok(start) = DateTime::parse_from_rfc3339(&row.interval_start) else { continue };
                let local = start.naive_local();
                if local.date() >= until || local.date() < h.first {
                    continue;
                }
                let d = (local.date() - h.first).num_days() as usize;
                let slot = ((local.time().hour() * 60 + local.time().minute()) / slot_minutes) as usize;
                let actual = h.calls.day(d)[slot];
                let answered = h.answered.day(d)[slot];
                let actual_aht = if answered > 0.0 { h.handle_s.day(d)[slot] / answered } else { 0.0 };
                let s = sums.entry((row.queue.clone(), row.model.clone())).or_default();
                s[0] += 1.0;
                s[1] += actual;
                s[2] += row.calls;
                s[3] += (row.calls - actual).abs();
                s[4] += answered * (row.aht_s - actual_aht).abs();
                s[5] += answered * actual_aht;
            }
            for ((queue, model), s) in sums {
                scored.push(RunAccuracy {
                    run: run.clone(),
                    queue,
                    model,
                    intervals: s[0] as u64,
                    actual_calls: s[1],
                    forecast_calls: s[2],
                    interval_wape: (s[1] > 0.0).then(|| s[3] / s[1]),
                    bias: (s[1] > 0.0).then(|| s[2] / s[1] - 1.0),
                    aht_wape: (s[5] > 0.0).then(|| s[4] / s[5]),
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

    /// Saves this run's forecast, named so that runs sort by forecast start then creation.
    pub fn save(&self, from: NaiveDate, slot_minutes: u32, created_ms: i64, csv: &[u8]) -> Result<PathBuf, ForecastError> {
        let dir = self.runs_dir();
        std::fs::create_dir_all(&dir).map_err(|e| ForecastError::File { file: dir.display().to_string(), message: e.to_string() })?;
        let path = dir.join(format!("{from}_{created_ms}_{slot_minutes}m.csv"));
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, csv)
            .and_then(|_| std::fs::rename(&tmp, &path))
            .map_err(|e| ForecastError::File { file: path.display().to_string(), message: e.to_string() })?;
        Ok(path)
    }
}

/// Per queue, over its most recent scored runs: a damped correction of the volume bias.
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
            let forecast: f64 = runs.iter().map(|r| r.forecast_calls).sum();
            if actual < MIN_MATURED_CALLS {
                return None;
            }
            let bias = forecast / actual - 1.0;
            (bias.abs() >= MIN_BIAS).then(|| Correction {
                queue: queue.to_owned(),
                runs: runs.len(),
                bias,
                // Half-way towards removing the bias: the next run's error shows what remains.
                factor: (1.0 / (1.0 + bias)).sqrt().clamp(0.8, 1.25),
            })
        })
        .collect()
}
