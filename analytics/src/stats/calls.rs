//! Queue statistics per interval. A call belongs to the interval in which it entered the queue.

use super::{fold_files, mean_s, ratio, IntervalLabels, ServiceLevelRule, StatsError, StatsQuery};
use crate::frames::{call_columns as col, ColumnReader};
use crate::{read_parquet, Dataset, Store, StoreError};
use polars_arrow::array::Array;
use polars_arrow::bitmap::Bitmap;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use wfm_model::{IntervalGrid, TenantId, TenantZone};

/// One queue in one interval. Rates and means are `None` where their denominator is zero.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct QueueIntervalStats {
    pub tenant: Arc<str>,
    pub queue: Arc<str>,
    /// RFC 3339 with the tenant's local offset.
    pub interval_start: Arc<str>,
    pub interval_end: Arc<str>,
    /// Calls that entered the queue.
    pub offered: u64,
    pub answered: u64,
    /// Callers who hung up while waiting.
    pub abandoned: u64,
    /// Abandoned with a wait ≤ the short-abandon limit.
    pub short_abandoned: u64,
    /// Left the queue unanswered without abandoning (timeout, full, empty, key, withdraw, transfer).
    pub overflowed: u64,
    pub answered_within_threshold: u64,
    pub abandoned_within_threshold: u64,
    /// answered within threshold / offered.
    pub service_level: Option<f64>,
    /// (answered within + abandoned within threshold) / offered.
    pub sl_with_abandons: Option<f64>,
    /// answered within threshold / (offered − short abandoned).
    pub sl_excluding_short_abandons: Option<f64>,
    /// abandoned / offered.
    pub abandon_rate: Option<f64>,
    /// (abandoned − short abandoned) / offered.
    pub lost_call_rate: Option<f64>,
    /// Mean wait of answered calls (average speed of answer).
    pub asa_s: Option<f64>,
    pub avg_abandon_wait_s: Option<f64>,
    /// Longest wait of any offered call.
    pub max_wait_s: Option<f64>,
    pub avg_talk_s: Option<f64>,
    /// Mean talk + hold + wrap-up of answered calls.
    pub aht_s: Option<f64>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Acc {
    offered: u64,
    answered: u64,
    abandoned: u64,
    short_abandoned: u64,
    answered_within: u64,
    abandoned_within: u64,
    answered_wait_ms: i64,
    abandoned_wait_ms: i64,
    max_wait_ms: Option<i64>,
    talk_ms: i64,
    handle_ms: i64,
}

/// What the statistics read of one queue stay: the store's columns, or a call the ACD just
/// finished (the live window).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QueuedCall<'a> {
    pub queue: &'a str,
    pub queued_ms: i64,
    pub wait_ms: i64,
    pub answered: bool,
    pub abandoned: bool,
    pub talk_ms: i64,
    pub hold_ms: i64,
    pub wrap_ms: i64,
}

impl<'a> QueuedCall<'a> {
    /// A record's queue stay; `None` for a call that never queued.
    pub fn of(record: &'a wfm_model::CallRecord) -> Option<Self> {
        Some(Self {
            queue: record.queue.as_ref()?.as_str(),
            queued_ms: record.queued_at?.timestamp_millis(),
            wait_ms: record.wait_ms.unwrap_or(0),
            answered: record.answered_at.is_some(),
            abandoned: record.abandoned,
            talk_ms: record.talk_ms,
            hold_ms: record.hold_ms,
            wrap_ms: record.wrap_ms,
        })
    }
}

impl Acc {
    /// The one place a call is counted: every figure's definition follows from it and [`finish`].
    fn add(&mut self, c: &QueuedCall, rule: ServiceLevelRule) {
        self.offered += 1;
        self.max_wait_ms = self.max_wait_ms.max(Some(c.wait_ms));
        if c.answered {
            self.answered += 1;
            self.answered_wait_ms += c.wait_ms;
            self.answered_within += u64::from(c.wait_ms <= rule.threshold_ms);
            self.talk_ms += c.talk_ms;
            self.handle_ms += c.talk_ms + c.hold_ms + c.wrap_ms;
        } else if c.abandoned {
            self.abandoned += 1;
            self.abandoned_wait_ms += c.wait_ms;
            self.abandoned_within += u64::from(c.wait_ms <= rule.threshold_ms);
            self.short_abandoned += u64::from(c.wait_ms <= rule.short_abandon_ms);
        }
    }

    fn merge(&mut self, o: &Acc) {
        self.offered += o.offered;
        self.answered += o.answered;
        self.abandoned += o.abandoned;
        self.short_abandoned += o.short_abandoned;
        self.answered_within += o.answered_within;
        self.abandoned_within += o.abandoned_within;
        self.answered_wait_ms += o.answered_wait_ms;
        self.abandoned_wait_ms += o.abandoned_wait_ms;
        self.max_wait_ms = self.max_wait_ms.max(o.max_wait_ms);
        self.talk_ms += o.talk_ms;
        self.handle_ms += o.handle_ms;
    }
}

/// Accumulators of one worker: per queue, one per interval of the grid.
#[derive(Default)]
struct QueueAccs {
    index: HashMap<String, usize>,
    queues: Vec<(String, Vec<Acc>)>,
}

impl QueueAccs {
    fn slot(&mut self, queue: &str, intervals: usize) -> usize {
        if let Some(&i) = self.index.get(queue) {
            return i;
        }
        self.queues.push((queue.to_owned(), vec![Acc::default(); intervals]));
        self.index.insert(queue.to_owned(), self.queues.len() - 1);
        self.queues.len() - 1
    }
}

const COLUMNS: [&str; 8] = [
    col::QUEUE,
    col::QUEUED_AT,
    col::ANSWERED_AT,
    col::WAIT_MS,
    col::ABANDONED,
    col::TALK_MS,
    col::HOLD_MS,
    col::WRAP_MS,
];

/// Statistics per queue and interval over the query's dates; every interval appears for every
/// queue that had a call in the range, in queue then time order.
pub fn call_stats(store: &Store, query: &StatsQuery) -> Result<Vec<QueueIntervalStats>, StatsError> {
    let (grid, queues) = fold_queues(store, query)?;
    let labels = IntervalLabels::new(&grid);
    let tenant: Arc<str> = query.tenant.as_str().into();
    let mut rows = Vec::with_capacity(queues.len() * grid.len());
    for (queue, accs) in queues {
        let name: Arc<str> = queue.as_str().into();
        for (i, acc) in accs.iter().enumerate() {
            rows.push(finish(&tenant, &name, (&labels.starts[i], &labels.starts[i + 1]), acc));
        }
    }
    Ok(rows)
}

/// Per queue, the query's whole range as one row (`interval_start` its first instant,
/// `interval_end` its last): the period's figures, each from the period's counts and sums (a
/// service level is answered within the threshold over offered for the period, never an
/// average of the intervals' rates). The definitions are [`call_stats`]'s.
pub fn period_stats(store: &Store, query: &StatsQuery) -> Result<Vec<QueueIntervalStats>, StatsError> {
    let (grid, queues) = fold_queues(store, query)?;
    let labels = IntervalLabels::new(&grid);
    let (Some(first), Some(last)) = (labels.starts.first(), labels.starts.last()) else { return Ok(Vec::new()) };
    let tenant: Arc<str> = query.tenant.as_str().into();
    Ok(queues
        .into_iter()
        .map(|(queue, accs)| {
            let mut period = Acc::default();
            for acc in &accs {
                period.merge(acc);
            }
            finish(&tenant, &queue.as_str().into(), (first, last), &period)
        })
        .collect())
}

/// Volume and work of one queue in one interval: what forecasting reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IntervalVolume {
    pub offered: u64,
    pub answered: u64,
    /// Talk + hold + wrap-up of the answered calls.
    pub handle_ms: i64,
}

/// Per queue, the volume of every interval of `grid` (same definitions as [`call_stats`], in a
/// few bytes per interval instead of a row of strings).
pub struct QueueVolumes {
    pub grid: IntervalGrid,
    pub queues: Vec<(String, Vec<IntervalVolume>)>,
}

pub fn queue_volumes(store: &Store, query: &StatsQuery) -> Result<QueueVolumes, StatsError> {
    let (grid, queues) = fold_queues(store, query)?;
    let queues = queues
        .into_iter()
        .map(|(queue, accs)| {
            let volumes = accs.iter().map(|a| IntervalVolume { offered: a.offered, answered: a.answered, handle_ms: a.handle_ms }).collect();
            (queue, volumes)
        })
        .collect();
    Ok(QueueVolumes { grid, queues })
}

/// Each queue's accumulators, one per interval of the grid.
type PerQueue = Vec<(String, Vec<Acc>)>;

/// The accumulators of every queue with a call in the range, in queue order.
fn fold_queues(store: &Store, query: &StatsQuery) -> Result<(IntervalGrid, PerQueue), StatsError> {
    let zone = store.tenant_zone(&query.tenant)?;
    let grid = IntervalGrid::new(zone, query.range, query.interval);
    let files = store.files_for(Dataset::Calls, &query.tenant, query.range)?;
    let wanted = query.queue.as_ref().map(|q| q.as_str());
    let partials = fold_files(
        &files,
        QueueAccs::default,
        |accs, path| fold_file(accs, path, &grid, wanted, query.rule),
    )?;
    let mut merged: HashMap<String, Vec<Acc>> = HashMap::new();
    for part in partials {
        for (queue, accs) in part.queues {
            match merged.get_mut(&queue) {
                Some(into) => into.iter_mut().zip(&accs).for_each(|(a, b)| a.merge(b)),
                None => {
                    merged.insert(queue, accs);
                }
            }
        }
    }
    let mut queues: Vec<(String, Vec<Acc>)> = merged.into_iter().collect();
    queues.sort_by(|a, b| a.0.cmp(&b.0));
    Ok((grid, queues))
}

fn fold_file(
    accs: &mut QueueAccs,
    path: &PathBuf,
    grid: &IntervalGrid,
    wanted: Option<&str>,
    rule: ServiceLevelRule,
) -> Result<(), StoreError> {
    let mut df = read_parquet(path, Some(&COLUMNS))?;
    // One chunk boundary for all columns, so that chunks can be walked side by side.
    df.align_chunks();
    let r = ColumnReader { df: &df, path };
    let queue = r.text(col::QUEUE)?;
    let queued = r.timestamp_ms(col::QUEUED_AT)?;
    let answered = r.timestamp_ms(col::ANSWERED_AT)?;
    let wait = r.int64(col::WAIT_MS)?;
    let abandoned = r.boolean(col::ABANDONED)?;
    let (talk, hold, wrap) = (r.int64(col::TALK_MS)?, r.int64(col::HOLD_MS)?, r.int64(col::WRAP_MS)?);
    let (span_start, span_end) = grid.span_ms();
    let chunks = queue
        .downcast_iter()
        .zip(queued.downcast_iter())
        .zip(answered.downcast_iter())
        .zip(wait.downcast_iter())
        .zip(abandoned.downcast_iter())
        .zip(talk.downcast_iter().zip(hold.downcast_iter()).zip(wrap.downcast_iter()));
    for (((((queue, queued), answered), wait), abandoned), ((talk, hold), wrap)) in chunks {
        let valid = |bitmap: Option<&Bitmap>, i: usize| bitmap.is_none_or(|b| b.get_bit(i));
        let (queue_valid, queued_valid, answered_valid) = (queue.validity(), queued.validity(), answered.validity());
        let (queued_at, wait_ms) = (queued.values().as_slice(), wait.values().as_slice());
        let (talk_ms, hold_ms, wrap_ms) = (talk.values().as_slice(), hold.values().as_slice(), wrap.values().as_slice());
        // Files are sorted by queue, so the queue's accumulators are looked up once per run.
        let mut current: Option<(&str, usize)> = None;
        for i in 0..queue.len() {
            if !valid(queue_valid, i) || !valid(queued_valid, i) {
                continue;
            }
            let (q, t) = (queue.value(i), queued_at[i]);
            if t < span_start || t >= span_end || wanted.is_some_and(|w| w != q) {
                continue;
            }
            let slot = match current {
                Some((name, slot)) if name == q => slot,
                _ => current.insert((q, accs.slot(q, grid.len()))).1,
            };
            let acc = &mut accs.queues[slot].1[grid.index_of(t).expect("inside the span")];
            let call = QueuedCall {
                queue: q,
                queued_ms: t,
                wait_ms: if wait.is_valid(i) { wait_ms[i] } else { 0 },
                answered: valid(answered_valid, i),
                abandoned: abandoned.is_valid(i) && abandoned.value(i),
                talk_ms: talk_ms[i],
                hold_ms: hold_ms[i],
                wrap_ms: wrap_ms[i],
            };
            acc.add(&call, rule);
        }
    }
    Ok(())
}

/// The figures of calls that entered `queue`'s queue in `[from_ms, to_ms)` — a sliding window
/// of the live wallboard — by the same definitions as [`call_stats`]; one row per queue with a
/// call in the window, in queue order.
pub fn window_stats(tenant: &TenantId, zone: TenantZone, calls: &[QueuedCall], (from_ms, to_ms): (i64, i64), rule: ServiceLevelRule) -> Vec<QueueIntervalStats> {
    let mut accs: std::collections::BTreeMap<&str, Acc> = std::collections::BTreeMap::new();
    for c in calls.iter().filter(|c| (from_ms..to_ms).contains(&c.queued_ms)) {
        accs.entry(c.queue).or_default().add(c, rule);
    }
    let label = |ms: i64| -> Arc<str> { zone.format_local(chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()).into() };
    let (tenant, start, end): (Arc<str>, _, _) = (tenant.as_str().into(), label(from_ms), label(to_ms));
    accs.iter().map(|(queue, acc)| finish(&tenant, &(*queue).into(), (&start, &end), acc)).collect()
}

fn finish(tenant: &Arc<str>, queue: &Arc<str>, (start, end): (&Arc<str>, &Arc<str>), a: &Acc) -> QueueIntervalStats {
    QueueIntervalStats {
        tenant: tenant.clone(),
        queue: queue.clone(),
        interval_start: start.clone(),
        interval_end: end.clone(),
        offered: a.offered,
        answered: a.answered,
        abandoned: a.abandoned,
        short_abandoned: a.short_abandoned,
        overflowed: a.offered - a.answered - a.abandoned,
        answered_within_threshold: a.answered_within,
        abandoned_within_threshold: a.abandoned_within,
        service_level: ratio(a.answered_within, a.offered),
        sl_with_abandons: ratio(a.answered_within + a.abandoned_within, a.offered),
        sl_excluding_short_abandons: ratio(a.answered_within, a.offered - a.short_abandoned),
        abandon_rate: ratio(a.abandoned, a.offered),
        lost_call_rate: ratio(a.abandoned - a.short_abandoned, a.offered),
        asa_s: mean_s(a.answered_wait_ms, a.answered),
        avg_abandon_wait_s: mean_s(a.abandoned_wait_ms, a.abandoned),
        max_wait_s: a.max_wait_ms.map(|ms| ms as f64 / 1000.0),
        avg_talk_s: mean_s(a.talk_ms, a.answered),
        aht_s: mean_s(a.handle_ms, a.answered),
    }
}
