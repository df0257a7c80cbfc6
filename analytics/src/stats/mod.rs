//! Interval statistics: the one definition of every figure the suite reports.
//!
//! Both queries read only the columns they need from the partitions of the requested dates,
//! spread the files over the machine's cores, and fold rows into per-interval accumulators;
//! nothing proportional to the number of calls is ever held in memory.

mod agents;
mod calls;
mod report;
mod table;

pub use agents::{agent_stats, AgentIntervalStats};
pub use calls::{call_stats, period_stats, queue_volumes, window_stats, IntervalVolume, QueueIntervalStats, QueueVolumes, QueuedCall};
pub use report::{queue_report, QueueReportRow};
pub use table::write_csv;

use crate::StoreError;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::sync::Arc;
use wfm_model::{IntervalGrid, IntervalLength, LocalDateRange, QueueName, TenantId};

/// How waits are judged against the service-level target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceLevelRule {
    /// A call is answered (or abandoned) "within" the threshold when its wait is ≤ this.
    pub threshold_ms: i64,
    /// An abandoned call with a wait ≤ this is a short abandon (a caller who changed their mind).
    pub short_abandon_ms: i64,
}

impl ServiceLevelRule {
    pub fn from_seconds(threshold_s: f64, short_abandon_s: f64) -> Result<Self, StatsError> {
        let ms = |s: f64, field| {
            if s.is_finite() && (0.0..=86_400.0).contains(&s) {
                Ok((s * 1000.0).round() as i64)
            } else {
                Err(StatsError::InvalidOption { field, message: format!("{s} is not between 0 and 86400 seconds") })
            }
        };
        Ok(Self { threshold_ms: ms(threshold_s, "threshold_s")?, short_abandon_ms: ms(short_abandon_s, "short_abandon_s")? })
    }
}

impl Default for ServiceLevelRule {
    fn default() -> Self {
        Self { threshold_ms: 20_000, short_abandon_ms: 5_000 }
    }
}

/// What to compute statistics over.
#[derive(Debug, Clone)]
pub struct StatsQuery {
    pub tenant: TenantId,
    pub range: LocalDateRange,
    pub interval: IntervalLength,
    pub queue: Option<QueueName>,
    pub rule: ServiceLevelRule,
}

#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("`{field}`: {message}")]
    InvalidOption { field: &'static str, message: String },
}

/// Runs `fold` over every file on all cores, each worker with its own accumulator, and returns
/// the workers' accumulators for merging.
fn fold_files<F: Sync, A: Send>(
    files: &[F],
    new_acc: impl Fn() -> A + Sync,
    fold: impl Fn(&mut A, &F) -> Result<(), StoreError> + Sync,
) -> Result<Vec<A>, StoreError> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(files.len()).max(1);
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                let mut acc = new_acc();
                let outcome = loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = files.get(i) else { break Ok(()) };
                    if let Err(e) = fold(&mut acc, path) {
                        break Err(e);
                    }
                };
                results.lock().expect("no worker panics while holding the lock").push(outcome.map(|()| acc));
            });
        }
    });
    results.into_inner().expect("workers done").into_iter().collect()
}

/// Every boundary of a grid formatted once (RFC 3339, local offset), shared by all rows.
struct IntervalLabels {
    starts: Vec<Arc<str>>,
}

impl IntervalLabels {
    fn new(grid: &IntervalGrid) -> Self {
        let zone = grid.zone();
        let mut starts: Vec<Arc<str>> = (0..grid.len()).map(|i| zone.format_local(grid.start(i)).into()).collect();
        if !grid.is_empty() {
            starts.push(zone.format_local(grid.end(grid.len() - 1)).into());
        }
        Self { starts }
    }
}

fn ratio(numerator: u64, denominator: u64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

fn mean_s(sum_ms: i64, count: u64) -> Option<f64> {
    (count > 0).then(|| sum_ms as f64 / count as f64 / 1000.0)
}
