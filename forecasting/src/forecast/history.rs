//! A queue's history on the local wall-clock grid: one row per day, one column per slot of the
//! day. Daylight-saving days keep the same columns: the two occurrences of a fall-back night's
//! repeated hour are averaged into its slots, and the skipped hour of a spring-forward night
//! stays empty.

use chrono::{Duration, NaiveDate, NaiveTime, Timelike};
use wfm_analytics::stats::{queue_volumes, ServiceLevelRule, StatsQuery};
use wfm_analytics::{Dataset, Store};
use wfm_model::{IntervalLength, LocalDateRange, QueueName, TenantId};

use super::ForecastError;

/// Days × slots values, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct DayMatrix {
    pub slots: usize,
    pub values: Vec<f64>,
}

impl DayMatrix {
    pub fn zeros(days: usize, slots: usize) -> Self {
        Self { slots, values: vec![0.0; days * slots] }
    }

    pub fn days(&self) -> usize {
        self.values.len() / self.slots
    }

    pub fn day(&self, d: usize) -> &[f64] {
        &self.values[d * self.slots..(d + 1) * self.slots]
    }

    pub fn day_mut(&mut self, d: usize) -> &mut [f64] {
        &mut self.values[d * self.slots..(d + 1) * self.slots]
    }

    pub fn total(&self, d: usize) -> f64 {
        self.day(d).iter().sum()
    }
}

/// Offered calls, answered calls and their handle time, per day and slot.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueHistory {
    pub queue: String,
    /// The date of row 0.
    pub first: NaiveDate,
    pub calls: DayMatrix,
    pub answered: DayMatrix,
    pub handle_s: DayMatrix,
}

impl QueueHistory {
    pub fn days(&self) -> usize {
        self.calls.days()
    }

    pub fn date(&self, d: usize) -> NaiveDate {
        self.first + Duration::days(d as i64)
    }
}

/// Longest history read: three years is enough for annual seasonality and its change.
pub const MAX_HISTORY_DAYS: i64 = 3 * 365;

/// Every queue's history before `until` (exclusive), from the tenant's first day with a call to
/// its last: trailing days without any call (data not loaded yet) are not taken for closed days.
pub fn load(
    store: &Store,
    tenant: &TenantId,
    queue: Option<&QueueName>,
    until: NaiveDate,
    slot_minutes: u32,
) -> Result<Vec<QueueHistory>, ForecastError> {
    let invalid = |e: wfm_model::TimeError| ForecastError::Invalid { field: "from", message: e.to_string() };
    let earliest = until
        .checked_sub_signed(Duration::days(MAX_HISTORY_DAYS))
        .ok_or_else(|| ForecastError::Invalid { field: "from", message: format!("{until} is out of range") })?;
    let longest = LocalDateRange::new(earliest, until).map_err(invalid)?;
    // Read from the first day with data to the last, not three years of empty intervals.
    let dates = store.dates_with_data(Dataset::Calls, tenant, longest)?;
    let (Some(&from), Some(&last)) = (dates.first(), dates.last()) else { return Ok(Vec::new()) };
    let until = last + Duration::days(1);
    let range = LocalDateRange::new(from, until).map_err(invalid)?;
    let query = StatsQuery {
        tenant: tenant.clone(),
        range,
        interval: IntervalLength::Minutes(slot_minutes),
        queue: queue.cloned(),
        rule: ServiceLevelRule::default(),
    };
    let volumes = queue_volumes(store, &query)?;
    let slots = (24 * 60 / slot_minutes) as usize;
    let days = (until - from).num_days() as usize;
    let grid = &volumes.grid;
    let tz = grid.zone().tz();
    // Where each interval lands on the wall-clock grid, computed once for all queues. The two
    // intervals of a fall-back night's repeated hour land on the same slot and are averaged.
    let cells: Vec<usize> = (0..grid.len())
        .map(|i| {
            let local = grid.start(i).with_timezone(&tz).naive_local();
            let d = (local.date() - from).num_days() as usize;
            d * slots + slot_of(local.time(), slot_minutes)
        })
        .collect();
    let mut occurrences = vec![0u8; days * slots];
    for &cell in &cells {
        occurrences[cell] += 1;
    }
    let mut out = Vec::with_capacity(volumes.queues.len());
    for (queue, intervals) in volumes.queues {
        let mut h = QueueHistory {
            queue,
            first: from,
            calls: DayMatrix::zeros(days, slots),
            answered: DayMatrix::zeros(days, slots),
            handle_s: DayMatrix::zeros(days, slots),
        };
        for (v, &cell) in intervals.iter().zip(&cells) {
            let share = 1.0 / f64::from(occurrences[cell]);
            h.calls.values[cell] += v.offered as f64 * share;
            h.answered.values[cell] += v.answered as f64 * share;
            h.handle_s.values[cell] += v.handle_ms as f64 / 1000.0 * share;
        }
        out.push(trim_leading_days(h));
    }
    Ok(out)
}

/// The slot of the day a local wall-clock time falls in.
pub fn slot_of(time: NaiveTime, slot_minutes: u32) -> usize {
    ((time.hour() * 60 + time.minute()) / slot_minutes) as usize
}

fn trim_leading_days(mut h: QueueHistory) -> QueueHistory {
    let first_busy = (0..h.days()).find(|&d| h.calls.total(d) > 0.0).unwrap_or(h.days());
    let cut = first_busy * h.calls.slots;
    for m in [&mut h.calls, &mut h.answered, &mut h.handle_s] {
        m.values.drain(..cut);
    }
    h.first += Duration::days(first_busy as i64);
    h
}
