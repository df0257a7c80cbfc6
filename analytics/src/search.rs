//! Finding calls in the store by what a supervisor knows of them: when, which number, which way,
//! which agent and queue, and whether it was recorded (the recordings' search of the API).

use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use wfm_model::{AgentId, CallRecord, Direction, LocalDateRange, QueueName, TenantId};

/// What the calls sought have in common; `None` matches anything.
#[derive(Debug, Clone)]
pub struct CallSearch {
    pub tenant: TenantId,
    /// Tenant-local dates of arrival (the partitions read).
    pub range: LocalDateRange,
    /// Arrived at or after this instant.
    pub after: Option<DateTime<Utc>>,
    /// Arrived before this instant.
    pub before: Option<DateTime<Utc>>,
    /// Part of the calling or the dialled number.
    pub number: Option<String>,
    pub direction: Option<Direction>,
    pub agent: Option<AgentId>,
    pub queue: Option<QueueName>,
    /// Only calls with a recording.
    pub recorded: bool,
    /// At most this many calls, the earliest first.
    pub limit: usize,
}

/// The calls found, by arrival, and whether more matched than `limit`.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub calls: Vec<CallRecord>,
    pub truncated: bool,
}

impl CallSearch {
    fn matches(&self, call: &CallRecord) -> bool {
        let number_matches = |n: &Option<String>| self.number.as_ref().is_some_and(|wanted| n.as_deref().is_some_and(|n| n.contains(wanted.as_str())));
        (!self.recorded || call.recording.is_some())
            && self.after.is_none_or(|t| call.arrived_at >= t)
            && self.before.is_none_or(|t| call.arrived_at < t)
            && (self.number.is_none() || number_matches(&call.caller_number) || number_matches(&call.dialled_number))
            && self.direction.is_none_or(|d| call.direction == d)
            && self.agent.as_ref().is_none_or(|a| call.agent_id.as_ref() == Some(a))
            && self.queue.as_ref().is_none_or(|q| call.queue.as_ref() == Some(q))
    }
}

/// The calls of `search.tenant` that match every criterion of `search`.
pub fn find_calls(store: &Store, search: &CallSearch) -> Result<Found, StoreError> {
    let mut calls: Vec<CallRecord> = store.read_calls(&search.tenant, search.range)?.into_iter().filter(|c| search.matches(c)).collect();
    calls.sort_by(|a, b| a.arrived_at.cmp(&b.arrived_at).then_with(|| a.call_id.cmp(&b.call_id)));
    let truncated = calls.len() > search.limit;
    calls.truncate(search.limit);
    Ok(Found { calls, truncated })
}

#[cfg(test)]
mod tests {
    use super::*;
    use wfm_model::{Channel, ExitReason, TenantZone};

    fn call(id: &str, minute: i64, number: &str, agent: Option<&str>, recording: Option<&str>) -> CallRecord {
        let at = DateTime::parse_from_rfc3339("2027-01-05T09:00:00Z").unwrap().to_utc() + chrono::Duration::minutes(minute);
        let answered = agent.map(|_| at + chrono::Duration::seconds(5));
        CallRecord {
            call_id: id.into(),
            channel: Channel::Voice,
            direction: Direction::Inbound,
            caller_number: Some(number.into()),
            dialled_number: Some("200".into()),
            queue: Some(QueueName::parse("support").unwrap()),
            priority: 0,
            arrived_at: at,
            queued_at: Some(at),
            answered_at: answered,
            ended_at: at + chrono::Duration::seconds(60),
            wait_ms: Some(if agent.is_some() { 5_000 } else { 60_000 }),
            abandoned: agent.is_none(),
            exit_reason: if agent.is_some() { ExitReason::Answered } else { ExitReason::Abandoned },
            agent_id: agent.map(|a| AgentId::parse(a).unwrap()),
            ring_ms: 0,
            talk_ms: if agent.is_some() { 55_000 } else { 0 },
            hold_ms: 0,
            wrap_ms: 0,
            transfer_target: None,
            disposition: None,
            ivr_path: None,
            sip_call_id: None,
            recording: recording.map(str::to_owned),
        }
    }

    #[test]
    fn calls_are_found_by_time_number_agent_and_recording() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create_or_open(dir.path()).unwrap();
        let tenant = TenantId::parse("acme").unwrap();
        store.ensure_tenant(&tenant, TenantZone::utc()).unwrap();
        let calls = [
            call("c3", 30, "48221234567", Some("1001"), Some("/rec/c3.wav")),
            call("c1", 0, "48221234567", Some("1002"), Some("/rec/c1.wav")),
            call("c2", 10, "4861999", None, None),
            call("c4", 50, "4861999", Some("1001"), Some("/rec/c4.wav")),
        ];
        store.append(&tenant, &calls, &[]).unwrap();
        let all = CallSearch {
            tenant: tenant.clone(),
            range: LocalDateRange::parse("2027-01-05", "2027-01-06").unwrap(),
            after: None,
            before: None,
            number: None,
            direction: None,
            agent: None,
            queue: None,
            recorded: false,
            limit: 100,
        };
        let ids = |search: &CallSearch| find_calls(&store, search).unwrap().calls.into_iter().map(|c| c.call_id).collect::<Vec<_>>();
        assert_eq!(ids(&all), ["c1", "c2", "c3", "c4"], "by arrival");
        assert_eq!(ids(&CallSearch { recorded: true, ..all.clone() }), ["c1", "c3", "c4"]);
        assert_eq!(ids(&CallSearch { number: Some("2212".into()), ..all.clone() }), ["c1", "c3"]);
        assert_eq!(ids(&CallSearch { number: Some("200".into()), ..all.clone() }), ["c1", "c2", "c3", "c4"], "the dialled number too");
        assert_eq!(ids(&CallSearch { agent: Some(AgentId::parse("1001").unwrap()), ..all.clone() }), ["c3", "c4"]);
        let at = |m: i64| Some(DateTime::parse_from_rfc3339("2027-01-05T09:00:00Z").unwrap().to_utc() + chrono::Duration::minutes(m));
        assert_eq!(ids(&CallSearch { after: at(10), before: at(50), ..all.clone() }), ["c2", "c3"]);
        assert!(ids(&CallSearch { direction: Some(Direction::Outbound), ..all.clone() }).is_empty());
        assert!(ids(&CallSearch { queue: Some(QueueName::parse("billing").unwrap()), ..all.clone() }).is_empty());
        let first_two = find_calls(&store, &CallSearch { limit: 2, ..all }).unwrap();
        assert_eq!((first_two.calls.len(), first_two.truncated), (2, true));
    }
}
