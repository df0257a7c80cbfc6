//! Rolling-origin backtest: every candidate forecasts from origins one, two, … weeks before the
//! real one, over the history that existed then, and is scored against what happened.

use super::history::DayMatrix;
use super::model::{predict, Method, Prepared};
use serde::Serialize;

/// Sums from which WAPE, MAPE and bias are computed.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Errors {
    pub interval_abs: f64,
    pub daily_abs: f64,
    pub actual: f64,
    pub forecast: f64,
    pub ape_sum: f64,
    pub ape_count: u64,
}

impl std::ops::AddAssign<&Errors> for Errors {
    fn add_assign(&mut self, o: &Errors) {
        self.interval_abs += o.interval_abs;
        self.daily_abs += o.daily_abs;
        self.actual += o.actual;
        self.forecast += o.forecast;
        self.ape_sum += o.ape_sum;
        self.ape_count += o.ape_count;
    }
}

impl Errors {
    pub fn add_day(&mut self, forecast: &[f64], actual: &[f64]) {
        let (mut f_day, mut a_day) = (0.0, 0.0);
        for (f, a) in forecast.iter().zip(actual) {
            self.interval_abs += (f - a).abs();
            if *a > 0.0 {
                self.ape_sum += (f - a).abs() / a;
                self.ape_count += 1;
            }
            f_day += f;
            a_day += a;
        }
        self.daily_abs += (f_day - a_day).abs();
        self.actual += a_day;
        self.forecast += f_day;
    }

    pub fn interval_wape(&self) -> Option<f64> {
        (self.actual > 0.0).then(|| self.interval_abs / self.actual)
    }

    pub fn summary(&self, queue: &str, method: String, role: &'static str, horizon: &'static str) -> Accuracy {
        Accuracy {
            queue: queue.to_owned(),
            method,
            role,
            horizon,
            interval_wape: self.interval_wape(),
            daily_wape: (self.actual > 0.0).then(|| self.daily_abs / self.actual),
            mape: (self.ape_count > 0).then(|| self.ape_sum / self.ape_count as f64),
            bias: (self.actual > 0.0).then(|| self.forecast / self.actual - 1.0),
            actual_calls: self.actual,
        }
    }
}

/// Accuracy of one method on one queue over one horizon bucket.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Accuracy {
    pub queue: String,
    pub method: String,
    /// `chosen` or `baseline`.
    pub role: &'static str,
    /// Days ahead, e.g. `1-7`, or `all`.
    pub horizon: &'static str,
    pub interval_wape: Option<f64>,
    pub daily_wape: Option<f64>,
    /// Mean absolute percentage error over intervals with calls.
    pub mape: Option<f64>,
    /// Forecast total / actual total − 1.
    pub bias: Option<f64>,
    pub actual_calls: f64,
}

pub const BUCKETS: [(&str, usize, usize); 4] = [("1-7", 0, 7), ("8-14", 7, 14), ("15-28", 14, 28), ("29+", 28, usize::MAX)];
/// At least this much history before a backtest origin: two of each weekday.
pub const MIN_TRAINING_DAYS: usize = 14;

/// Per candidate: errors per bucket, then over all.
pub struct Scores {
    pub per_bucket: Vec<[Errors; 4]>,
    pub origins: usize,
}

impl Scores {
    pub fn total(&self, candidate: usize) -> Errors {
        self.per_bucket[candidate].iter().fold(Errors::default(), |mut acc, e| {
            acc += e;
            acc
        })
    }
}

pub fn run(candidates: &[Method], p: &Prepared, weeks: usize, horizon_days: usize) -> Scores {
    let history_days = p.history.days();
    let mut per_bucket = vec![[Errors::default(); 4]; candidates.len()];
    let mut origins = 0;
    for k in 1..=weeks {
        let Some(origin) = history_days.checked_sub(7 * k).filter(|o| *o >= MIN_TRAINING_DAYS) else { break };
        origins += 1;
        let days = horizon_days.min(history_days - origin);
        for (c, method) in candidates.iter().enumerate() {
            let prediction = predict(method, p, origin, days);
            score(&prediction.calls, &p.history.calls, origin, &mut per_bucket[c]);
        }
    }
    Scores { per_bucket, origins }
}

fn score(forecast: &DayMatrix, actual: &DayMatrix, origin: usize, into: &mut [Errors; 4]) {
    for d in 0..forecast.days() {
        let bucket = BUCKETS.iter().position(|(_, from, to)| (*from..*to).contains(&d)).expect("buckets cover all days");
        into[bucket].add_day(forecast.day(d), actual.day(origin + d));
    }
}
