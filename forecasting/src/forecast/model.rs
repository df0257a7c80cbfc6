//! The forecasting methods. Each predicts, from the history before an origin day, the calls and
//! handle time of every slot of the following days.
//!
//! - Seasonal naive: each slot as it was on the same weekday of the last week before the origin.
//!   The baseline every other method must beat.
//! - Daily regression × intraday profile: log daily volume regressed on trend, day of week and
//!   (with a year of history and long memory) annual Fourier terms, weighted towards recent days and refitted
//!   without outlier days; the day's volume is spread over its slots by the weekday's recent
//!   profile, blended with the profile of its group (Monday–Friday, or the weekend) to damp noise.
//!   Handle time per weekday and slot is a recent answered-weighted mean, shrunk towards the
//!   weekday's mean where calls are few.
//!
//! The regression reads the history cleaned of calendar effects and applies the calendar of the
//! predicted days; seasonal naive copies the raw history, as a baseline should.

use super::history::{DayMatrix, QueueHistory};
use chrono::{Datelike, Weekday};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Method {
    SeasonalNaive,
    DailyRegression { half_life_days: u32, trend: bool, profile_weeks: u32, profile_blend: f64 },
}

/// Half-life meaning "all days weigh the same".
const NO_DECAY: u32 = 0;

impl Method {
    /// Used when the history is too short for a backtest: the regression over all of it.
    pub const FALLBACK: Method = Method::DailyRegression { half_life_days: NO_DECAY, trend: false, profile_weeks: 12, profile_blend: 0.5 };

    /// Every method the backtest chooses from.
    pub fn candidates() -> Vec<Method> {
        let mut out = vec![Method::SeasonalNaive];
        for half_life_days in [28, 91, 365, NO_DECAY] {
            // A trend fitted on a few weeks is mostly noise, and extrapolating it costs more
            // than it gains: trends only over a quarter or more.
            for trend in if half_life_days == 28 { vec![false] } else { vec![false, true] } {
                for profile_weeks in [4, 12] {
                    for profile_blend in [0.0, 0.5] {
                        out.push(Method::DailyRegression { half_life_days, trend, profile_weeks, profile_blend });
                    }
                }
            }
        }
        out
    }

    pub fn name(&self) -> String {
        match self {
            Method::SeasonalNaive => "seasonal-naive".into(),
            Method::DailyRegression { half_life_days, trend, profile_weeks, profile_blend } => {
                let decay = if *half_life_days == NO_DECAY { "all".to_owned() } else { format!("{half_life_days}d") };
                let trend = if *trend { "+trend" } else { "" };
                format!("regression[weights={decay}{trend} profile={profile_weeks}w blend={profile_blend}]")
            }
        }
    }
}

/// One queue's inputs: raw and cleaned history, and the calendar factors of every day from the
/// first day of history to the end of the horizon.
pub struct Prepared<'a> {
    pub history: &'a QueueHistory,
    pub clean_calls: DayMatrix,
    pub clean_handle_s: DayMatrix,
    pub volume_factor: DayMatrix,
    pub aht_factor: DayMatrix,
}

pub struct Prediction {
    pub calls: DayMatrix,
    pub aht_s: DayMatrix,
    /// Spread of daily volume around the model, in log terms (for prediction intervals).
    pub daily_sigma: f64,
}

pub fn predict(method: &Method, p: &Prepared, origin: usize, days: usize) -> Prediction {
    let aht_s = handle_time(p, origin, days);
    let (mut calls, daily_sigma) = match *method {
        Method::SeasonalNaive => seasonal_naive(p, origin, days),
        Method::DailyRegression { half_life_days, trend, profile_weeks, profile_blend } => {
            let fit = DailyFit::new(p, origin, half_life_days, trend);
            let profiles: Vec<Vec<f64>> = (0..7u8)
                .map(|w| profile(p, origin, Weekday::try_from(w).expect("0..7"), profile_weeks, profile_blend))
                .collect();
            let mut calls = DayMatrix::zeros(days, p.clean_calls.slots);
            for d in 0..days {
                let day = origin + d;
                let level = fit.level(p.history.date(day), day, origin);
                let profile = &profiles[weekday(p, day).num_days_from_monday() as usize];
                for (out, share) in calls.day_mut(d).iter_mut().zip(profile) {
                    *out = level * share;
                }
            }
            (calls, fit.sigma)
        }
    };
    if *method != Method::SeasonalNaive {
        for d in 0..days {
            let factors = p.volume_factor.day(origin + d);
            calls.day_mut(d).iter_mut().zip(factors).for_each(|(c, f)| *c *= f);
        }
    }
    Prediction { calls, aht_s, daily_sigma }
}

fn weekday(p: &Prepared, day: usize) -> Weekday {
    p.history.date(day).weekday()
}

/// A day with hours the calendar says had no calls at all (factor 0): its volume cannot be
/// cleaned back, so it neither levels nor shapes the model.
fn closed_by_calendar(p: &Prepared, day: usize) -> bool {
    p.volume_factor.day(day).contains(&0.0)
}

/// The same weekday of the last week before the origin, raw (calendar effects included).
fn seasonal_naive(p: &Prepared, origin: usize, days: usize) -> (DayMatrix, f64) {
    let h = &p.history.calls;
    let mut calls = DayMatrix::zeros(days, h.slots);
    for d in 0..days {
        let weeks_back = d / 7 + 1;
        if let Some(source) = (origin + d).checked_sub(7 * weeks_back) {
            calls.day_mut(d).copy_from_slice(h.day(source));
        }
    }
    // Week-on-week change of daily totals over the last eight weeks.
    let logs: Vec<f64> = (origin.saturating_sub(56)..origin)
        .filter_map(|d| {
            let (now, before) = (h.total(d), h.total(d.checked_sub(7)?));
            (now > 0.0 && before > 0.0).then(|| (now / before).ln())
        })
        .collect();
    (calls, std_dev(&logs))
}

fn std_dev(values: &[f64]) -> f64 {
    if values.len() < 2 {
        return 0.0;
    }
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (values.len() - 1) as f64).sqrt()
}

fn weekday_group(day: Weekday) -> u8 {
    match day {
        Weekday::Sat | Weekday::Sun => 1,
        _ => 0,
    }
}

/// Share of the day's calls in each slot for a weekday, from the last `weeks` weeks.
fn profile(p: &Prepared, origin: usize, day: Weekday, weeks: u32, blend: f64) -> Vec<f64> {
    let slots = p.clean_calls.slots;
    let first = origin.saturating_sub(7 * weeks as usize);
    let mut own = vec![0.0; slots];
    let mut group = vec![0.0; slots];
    for d in first..origin {
        let date_day = weekday(p, d);
        if weekday_group(date_day) != weekday_group(day) || closed_by_calendar(p, d) {
            continue;
        }
        let values = p.clean_calls.day(d);
        for (s, v) in values.iter().enumerate() {
            group[s] += v;
            if date_day == day {
                own[s] += v;
            }
        }
    }
    let normalise = |v: &mut Vec<f64>| {
        let total: f64 = v.iter().sum();
        if total > 0.0 {
            v.iter_mut().for_each(|x| *x /= total);
        }
        total > 0.0
    };
    let (has_own, has_group) = (normalise(&mut own), normalise(&mut group));
    match (has_own, has_group) {
        (true, true) => own.iter().zip(&group).map(|(o, g)| (1.0 - blend) * o + blend * g).collect(),
        (true, false) => own,
        (false, true) => group,
        (false, false) => vec![1.0 / slots as f64; slots],
    }
}

/// Handle time per slot of each predicted day: answered-weighted mean of the same weekday and
/// slot over the last eight weeks, shrunk towards that weekday's mean by `PRIOR_CALLS` calls.
fn handle_time(p: &Prepared, origin: usize, days: usize) -> DayMatrix {
    const WEEKS: usize = 8;
    const PRIOR_CALLS: f64 = 30.0;
    let slots = p.clean_calls.slots;
    let h = p.history;
    let first = origin.saturating_sub(7 * WEEKS);
    let mut by_day: Vec<(Vec<f64>, Vec<f64>)> = vec![(vec![0.0; slots], vec![0.0; slots]); 7];
    for d in first..origin {
        let (handle, answered) = &mut by_day[weekday(p, d).num_days_from_monday() as usize];
        for s in 0..slots {
            handle[s] += p.clean_handle_s.day(d)[s];
            answered[s] += h.answered.day(d)[s];
        }
    }
    // A weekday with no answered call lately falls back on the whole history's mean.
    let (all_handle, all_answered) = (0..origin).fold((0.0, 0.0), |(t, a), d| (t + p.clean_handle_s.total(d), a + h.answered.total(d)));
    let overall = if all_answered > 0.0 { all_handle / all_answered } else { 0.0 };
    let mut out = DayMatrix::zeros(days, slots);
    for d in 0..days {
        let (handle, answered) = &by_day[weekday(p, origin + d).num_days_from_monday() as usize];
        let day_answered: f64 = answered.iter().sum();
        let day_mean = if day_answered > 0.0 { handle.iter().sum::<f64>() / day_answered } else { overall };
        let factors = p.aht_factor.day(origin + d);
        for (s, out) in out.day_mut(d).iter_mut().enumerate() {
            *out = (handle[s] + PRIOR_CALLS * day_mean) / (answered[s] + PRIOR_CALLS) * factors[s];
        }
    }
    out
}

/// Daily damping of the trend beyond the origin: the extrapolated trend adds up to at most
/// φ/(1 − φ) = 19 days' worth.
const TREND_DAMPING: f64 = 0.95;

/// Log daily volume = features · coefficients, by weighted least squares.
struct DailyFit {
    coefficients: Vec<f64>,
    annual: bool,
    trend: bool,
    /// exp(residual) averaged: turns the fitted log mean back into a mean (smearing).
    smear: f64,
    sigma: f64,
    /// Weekdays with no calls on most of their recent days: predicted as closed.
    closed: [bool; 7],
}

impl DailyFit {
    const ANNUAL_HARMONICS: usize = 2;

    fn new(p: &Prepared, origin: usize, half_life_days: u32, trend: bool) -> Self {
        let totals: Vec<f64> = (0..origin).map(|d| p.clean_calls.total(d)).collect();
        let mut closed = [false; 7];
        for (w, c) in closed.iter_mut().enumerate() {
            let recent: Vec<f64> = (origin.saturating_sub(56)..origin).filter(|&d| weekday(p, d).num_days_from_monday() as usize == w).map(|d| totals[d]).collect();
            *c = !recent.is_empty() && recent.iter().filter(|t| **t <= 0.0).count() * 2 > recent.len();
        }
        let used: Vec<usize> = (0..origin)
            .filter(|&d| totals[d] > 0.0 && !closed[weekday(p, d).num_days_from_monday() as usize] && !closed_by_calendar(p, d))
            .collect();
        // The annual shape needs every month to weigh alike: with recency weights it would be
        // learnt mostly from the last season and confused with the level.
        let long_memory = half_life_days == NO_DECAY || half_life_days >= 365;
        let annual = long_memory && used.first().is_some_and(|&first| origin - first >= 395);
        let mut fit = Self { coefficients: Vec::new(), annual, trend: trend && used.len() >= 56, smear: 1.0, sigma: 0.0, closed };
        if used.is_empty() {
            return fit;
        }
        let weight = |d: usize| if half_life_days == NO_DECAY { 1.0 } else { 0.5f64.powf((origin - d) as f64 / half_life_days as f64) };
        let rows: Vec<(Vec<f64>, f64, f64)> = used.iter().map(|&d| (fit.features(p.history.date(d), d, origin), totals[d].ln(), weight(d))).collect();
        let mut keep = vec![true; rows.len()];
        for pass in 0..2 {
            fit.coefficients = weighted_least_squares(&rows, &keep);
            let residuals: Vec<f64> = rows.iter().map(|(x, y, _)| y - dot(x, &fit.coefficients)).collect();
            if pass == 0 {
                // Days far off the model (unrecorded outages, campaigns) do not shape it.
                let mut abs: Vec<f64> = residuals.iter().map(|r| r.abs()).collect();
                abs.sort_by(f64::total_cmp);
                let mad = abs[abs.len() / 2] * 1.4826;
                if mad > 0.0 {
                    keep = residuals.iter().map(|r| r.abs() <= 4.0 * mad).collect();
                }
                continue;
            }
            let (mut sum_w, mut smear, mut squares) = (0.0, 0.0, 0.0);
            for ((r, (_, _, w)), k) in residuals.iter().zip(&rows).zip(&keep) {
                if *k {
                    sum_w += w;
                    smear += w * r.exp();
                    squares += w * r * r;
                }
            }
            if sum_w > 0.0 {
                fit.smear = smear / sum_w;
                fit.sigma = (squares / sum_w).sqrt();
            }
        }
        fit
    }

    fn features(&self, date: chrono::NaiveDate, day: usize, origin: usize) -> Vec<f64> {
        let mut x = Vec::with_capacity(14);
        x.push(1.0);
        if self.trend {
            // Linear over the history; damped ahead (Gardner's φ), so that a season's rise is
            // not extrapolated for months.
            let days = if day < origin { day as f64 - origin as f64 } else { TREND_DAMPING * (1.0 - TREND_DAMPING.powi((day - origin) as i32)) / (1.0 - TREND_DAMPING) };
            x.push(days / 365.25);
        }
        let w = date.weekday().num_days_from_monday() as usize;
        x.extend((1..7).map(|k| if w == k { 1.0 } else { 0.0 }));
        if self.annual {
            let angle = std::f64::consts::TAU * date.ordinal0() as f64 / 365.25;
            for k in 1..=Self::ANNUAL_HARMONICS {
                x.push((k as f64 * angle).cos());
                x.push((k as f64 * angle).sin());
            }
        }
        x
    }

    fn level(&self, date: chrono::NaiveDate, day: usize, origin: usize) -> f64 {
        if self.coefficients.is_empty() || self.closed[date.weekday().num_days_from_monday() as usize] {
            return 0.0;
        }
        dot(&self.features(date, day, origin), &self.coefficients).exp() * self.smear
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Solves the normal equations with a touch of ridge, so that a weekday never seen (or an
/// annual term with little data) gives a zero coefficient instead of a singular system.
fn weighted_least_squares(rows: &[(Vec<f64>, f64, f64)], keep: &[bool]) -> Vec<f64> {
    let n = rows[0].0.len();
    let mut a = vec![vec![0.0; n + 1]; n];
    for ((x, y, w), k) in rows.iter().zip(keep) {
        if !k {
            continue;
        }
        for i in 0..n {
            for j in 0..n {
                a[i][j] += w * x[i] * x[j];
            }
            a[i][n] += w * x[i] * y;
        }
    }
    for (i, row) in a.iter_mut().enumerate().skip(1) {
        row[i] += 1e-6;
    }
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs())).expect("non-empty");
        a.swap(col, pivot);
        if a[col][col].abs() < 1e-300 {
            continue;
        }
        let pivot_row = a[col].clone();
        for (row, values) in a.iter_mut().enumerate() {
            if row != col {
                let f = values[col] / pivot_row[col];
                if f != 0.0 {
                    for (x, p) in values[col..=n].iter_mut().zip(&pivot_row[col..=n]) {
                        *x -= f * p;
                    }
                }
            }
        }
    }
    (0..n).map(|i| if a[i][i].abs() < 1e-300 { 0.0 } else { a[i][n] / a[i][i] }).collect()
}
