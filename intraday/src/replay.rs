//! `wfm escalation replay`: the surge ladder run over a past day's calls from the store, second
//! by second, by the same [`Ladder`] and [`Observation::new`] as `wfm serve` runs live, so a
//! centre can see what its `escalation.toml` would have done on a bad day.
//!
//! What the store cannot tell is left out: nobody confirms or arrives (everyone called in ends
//! overdue), and the level-1 agents' skills are taken as not held (every pair is listed as
//! added). Calls waiting at a second are those that entered a queue and had not left it yet;
//! the window holds, as live, the calls that entered in the last `window_s` and had finished.

use crate::escalation::{Ladder, LadderRules, Observation, Step};
use crate::kpis::KpiSettings;
use crate::HistoryError;
use chrono::{Duration, NaiveDate};
use std::collections::{BTreeMap, BTreeSet};
use wfm_analytics::stats::{window_stats, QueuedCall};
use wfm_analytics::Store;
use wfm_model::{CallRecord, LocalDateRange, TenantId, TenantZone};

/// A past day of a tenant's calls, read from the store (with the day before, whose calls are
/// still in the window at midnight).
pub struct ReplayDay {
    pub tenant: TenantId,
    pub zone: TenantZone,
    /// The local day, `[from_ms, to_ms)`.
    pub day: (i64, i64),
    pub records: Vec<CallRecord>,
}

impl ReplayDay {
    pub fn load(store: &Store, tenant: &TenantId, date: NaiveDate) -> Result<Self, HistoryError> {
        let zone = store.tenant_zone(tenant)?;
        let range = LocalDateRange::new(date - Duration::days(1), date + Duration::days(1)).expect("two days are a range");
        let records = store.read_calls(tenant, range)?;
        let day = (zone.day_start(date).timestamp_millis(), zone.day_start(date + Duration::days(1)).timestamp_millis());
        Ok(Self { tenant: tenant.clone(), zone, day, records })
    }

    /// The ladder's steps over the day.
    pub fn run(&self, rules: LadderRules, kpis: &KpiSettings) -> Vec<Step> {
        replay_calls(&self.tenant, self.zone, &self.records, self.day, rules, kpis)
    }

    /// Calls that entered `queue` (any queue: `None`) in `[from_ms, to_ms)`.
    pub fn offered(&self, queue: Option<&str>, (from_ms, to_ms): (i64, i64)) -> usize {
        self.records.iter().filter_map(QueuedCall::of).filter(|c| queue.is_none_or(|q| q == c.queue) && (from_ms..to_ms).contains(&c.queued_ms)).count()
    }
}

/// The ladder over `[from_ms, to_ms)` of these calls, one observation a second.
pub fn replay_calls(tenant: &TenantId, zone: TenantZone, records: &[CallRecord], (from_ms, to_ms): (i64, i64), rules: LadderRules, kpis: &KpiSettings) -> Vec<Step> {
    let mut calls: Vec<(QueuedCall, i64)> = records.iter().filter_map(|r| QueuedCall::of(r).map(|c| (c, r.ended_at.timestamp_millis()))).collect();
    calls.sort_by_key(|(c, _)| c.queued_ms);
    // Each call's stay in its queue, as +1 when it enters and −1 when it leaves, in time order.
    let mut stays: Vec<(i64, i64, &str)> = calls.iter().flat_map(|(c, _)| [(c.queued_ms, 1, c.queue), (c.queued_ms + c.wait_ms, -1, c.queue)]).collect();
    stays.sort();
    let mut waiting: BTreeMap<&str, i64> = calls.iter().map(|(c, _)| (c.queue, 0)).collect();
    let (mut next_stay, mut window_start, mut window_end) = (0, 0, 0);
    let window_ms = kpis.window_s * 1000;
    let mut ladder = Ladder::new(rules);
    let mut steps = Vec::new();
    for now in (from_ms..to_ms).step_by(1000) {
        while next_stay < stays.len() && stays[next_stay].0 <= now {
            *waiting.entry(stays[next_stay].2).or_default() += stays[next_stay].1;
            next_stay += 1;
        }
        while window_end < calls.len() && calls[window_end].0.queued_ms < now {
            window_end += 1;
        }
        while window_start < window_end && calls[window_start].0.queued_ms < now - window_ms {
            window_start += 1;
        }
        let finished: Vec<QueuedCall> = calls[window_start..window_end].iter().filter(|(_, ended)| *ended <= now).map(|(c, _)| *c).collect();
        let window = window_stats(tenant, zone, &finished, (now - window_ms, now), kpis.rule());
        let all: Vec<QueuedCall> = finished.iter().map(|c| QueuedCall { queue: "*", ..*c }).collect();
        let tenant_window = window_stats(tenant, zone, &all, (now - window_ms, now), kpis.rule()).pop();
        let now_waiting: Vec<(String, u64)> = waiting.iter().map(|(q, n)| ((*q).to_owned(), (*n).max(0) as u64)).collect();
        let observation = Observation::new(now, zone, &now_waiting, &window, tenant_window.as_ref(), ladder.rules(), BTreeSet::new());
        steps.extend(ladder.observe(&observation));
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use wfm_model::{Channel, Direction, ExitReason, QueueName};

    fn call(id: usize, queued_s: i64, wait_s: i64) -> CallRecord {
        let at = |s: i64| chrono::DateTime::from_timestamp(1_767_261_600 + s, 0).unwrap();
        CallRecord {
            call_id: format!("c{id}"),
            channel: Channel::Voice,
            direction: Direction::Inbound,
            caller_number: None,
            dialled_number: None,
            queue: Some(QueueName::parse("support").unwrap()),
            priority: 0,
            arrived_at: at(queued_s),
            queued_at: Some(at(queued_s)),
            answered_at: Some(at(queued_s + wait_s)),
            ended_at: at(queued_s + wait_s + 60),
            wait_ms: Some(wait_s * 1000),
            abandoned: false,
            exit_reason: ExitReason::Answered,
            agent_id: None,
            ring_ms: 0,
            talk_ms: 60_000,
            hold_ms: 0,
            wrap_ms: 0,
            transfer_target: None,
            disposition: None,
            ivr_path: None,
            sip_call_id: None,
            recording: None,
        }
    }

    #[test]
    fn a_surge_in_the_store_climbs_the_ladder_and_comes_down() {
        let rules = LadderRules::parse("escalation.toml", "[out_of_control]\ncalls_waiting_at_least = 3\nfor_s = 60\n[back_in_control]\nfor_s = 120\n[level2]\nafter_s = 300\npeople = [\"r\"]\n").unwrap();
        // Ten calls entering a minute apart from 10:00, each waiting ten minutes: from 10:02 three
        // and more wait; the last leaves the queue at 10:19.
        let records: Vec<CallRecord> = (0..10).map(|i| call(i, 60 * i as i64, 600)).collect();
        let tenant = TenantId::parse("acme").unwrap();
        let zone = TenantZone::parse("UTC").unwrap();
        let start = 1_767_261_600_000;
        let steps = replay_calls(&tenant, zone, &records, (start - 600_000, start + 3_600_000), rules, &KpiSettings::default());
        let seen: Vec<(i64, u8, &str)> = steps.iter().map(|s| ((s.at_ms - start) / 1000, s.level, s.event.as_str())).collect();
        assert_eq!(
            seen,
            [
                (120, 0, "out_of_control"),
                (180, 1, "level_up"),
                (180, 1, "told"),
                (480, 2, "level_up"),
                (480, 2, "called_in"),
                // Three wait until the 8th call (queued 07:00) leaves at 17:00.
                (1020, 2, "back_in_control"),
                (1140, 1, "level_down"),
                (1260, 0, "level_down"),
            ],
            "{steps:#?}"
        );
    }
}
