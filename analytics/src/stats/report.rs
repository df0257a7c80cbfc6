//! The queue report of the requirements (§2, the Chinese specification's §10.2): per queue and
//! interval, offered and answered calls, the answer rate, the 15 s and 60 s answer rates, the
//! rate of calls abandoned within 15 s, the average talk, and the average wait of answered and
//! of abandoned calls. Every figure is one of [`call_stats`]'s, read at the two thresholds:
//! nothing here is defined a second time.

use super::{call_stats, QueueIntervalStats, ServiceLevelRule, StatsError, StatsQuery};
use crate::Store;
use serde::Serialize;
use std::sync::Arc;

/// The report's two answer thresholds, in milliseconds.
pub const SHORT_THRESHOLD_MS: i64 = 15_000;
pub const LONG_THRESHOLD_MS: i64 = 60_000;

/// One queue in one interval. Shares are of the calls offered; none when nothing was offered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueReportRow {
    pub tenant: Arc<str>,
    pub queue: Arc<str>,
    pub interval_start: Arc<str>,
    pub interval_end: Arc<str>,
    pub offered: u64,
    pub answered: u64,
    /// answered / offered.
    pub answer_rate: Option<f64>,
    /// answered with a wait ≤ 15 s / offered.
    pub answered_15s_rate: Option<f64>,
    /// answered with a wait ≤ 60 s / offered.
    pub answered_60s_rate: Option<f64>,
    /// abandoned with a wait ≤ 15 s / offered.
    pub abandoned_15s_rate: Option<f64>,
    pub avg_talk_s: Option<f64>,
    /// Mean wait of answered calls.
    pub avg_answered_wait_s: Option<f64>,
    pub avg_abandoned_wait_s: Option<f64>,
}

/// The report over the query's dates, queue and interval; its threshold is not used (the
/// report's are 15 s and 60 s), its short-abandon limit is.
pub fn queue_report(store: &Store, query: &StatsQuery) -> Result<Vec<QueueReportRow>, StatsError> {
    let at = |threshold_ms| StatsQuery { rule: ServiceLevelRule { threshold_ms, ..query.rule }, ..query.clone() };
    Ok(combine(&call_stats(store, &at(SHORT_THRESHOLD_MS))?, &call_stats(store, &at(LONG_THRESHOLD_MS))?))
}

/// The rows of the same query at 15 s and at 60 s, side by side (both list the same queues and
/// intervals in the same order; only their threshold differs).
fn combine(at_short: &[QueueIntervalStats], at_long: &[QueueIntervalStats]) -> Vec<QueueReportRow> {
    at_short
        .iter()
        .zip(at_long)
        .map(|(s, l)| {
            debug_assert!(s.queue == l.queue && s.interval_start == l.interval_start);
            let share = |n: u64| (s.offered > 0).then(|| n as f64 / s.offered as f64);
            QueueReportRow {
                tenant: s.tenant.clone(),
                queue: s.queue.clone(),
                interval_start: s.interval_start.clone(),
                interval_end: s.interval_end.clone(),
                offered: s.offered,
                answered: s.answered,
                answer_rate: share(s.answered),
                answered_15s_rate: s.service_level,
                answered_60s_rate: l.service_level,
                abandoned_15s_rate: share(s.abandoned_within_threshold),
                avg_talk_s: s.avg_talk_s,
                avg_answered_wait_s: s.asa_s,
                avg_abandoned_wait_s: s.avg_abandon_wait_s,
            }
        })
        .collect()
}
