//! The two records of the event schema (`docs/events.md`) and their invariants.

use crate::{AgentId, QueueName};
use chrono::{DateTime, Utc};
use std::fmt;

/// A record that breaks the schema, with the offending field named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field `{field}`: {message}")]
pub struct RecordError {
    pub field: &'static str,
    pub message: String,
}

impl RecordError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self { field, message: message.into() }
    }
}

/// A string that names no variant of a closed vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {value:?} (expected one of: {expected})")]
pub struct UnknownName {
    pub kind: &'static str,
    pub value: String,
    pub expected: &'static str,
}

macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident, $kind:literal, { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            pub fn parse(value: &str) -> Result<Self, UnknownName> {
                match value {
                    $($text => Ok(Self::$variant),)+
                    _ => Err(UnknownName {
                        kind: $kind,
                        value: value.to_owned(),
                        expected: concat!($($text, " "),+),
                    }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

vocabulary!(
    /// The medium of a contact.
    Channel, "channel", { Voice => "voice", Callback => "callback", Web => "web", Email => "email", Sms => "sms" }
);
vocabulary!(
    Direction, "direction", { Inbound => "inbound", Outbound => "outbound", Internal => "internal" }
);
vocabulary!(
    /// How a call left the queue, or the system when it never queued.
    ExitReason, "exit reason", {
        Answered => "answered",
        Abandoned => "abandoned",
        Timeout => "timeout",
        Full => "full",
        Empty => "empty",
        Key => "key",
        Withdraw => "withdraw",
        Transfer => "transfer",
        NotQueued => "not_queued",
    }
);
vocabulary!(
    /// What an agent is doing.
    AgentState, "agent state", {
        LoggedOut => "logged_out",
        Ready => "ready",
        NotReady => "not_ready",
        Ringing => "ringing",
        OnCall => "on_call",
        WrapUp => "wrap_up",
    }
);

/// One call leg (see `docs/events.md` for every field's meaning).
#[derive(Debug, Clone, PartialEq)]
pub struct CallRecord {
    pub call_id: String,
    pub channel: Channel,
    pub direction: Direction,
    pub caller_number: Option<String>,
    pub dialled_number: Option<String>,
    pub queue: Option<QueueName>,
    pub priority: i32,
    pub arrived_at: DateTime<Utc>,
    pub queued_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: DateTime<Utc>,
    pub wait_ms: Option<i64>,
    pub abandoned: bool,
    pub exit_reason: ExitReason,
    pub agent_id: Option<AgentId>,
    pub ring_ms: i64,
    pub talk_ms: i64,
    pub hold_ms: i64,
    pub wrap_ms: i64,
    pub transfer_target: Option<String>,
    pub disposition: Option<String>,
    pub ivr_path: Option<String>,
    /// The SIP Call-ID the caller chose (schema version 2), kept to find the call in a trace;
    /// `call_id` is the suite's own, so a caller reusing a Call-ID cannot merge two calls.
    pub sip_call_id: Option<String>,
    /// Where the call's recording was written (schema version 3), when its queue records; the
    /// file may since have been deleted by the tenant's retention period.
    pub recording: Option<String>,
}

const MAX_CALL_ID_LEN: usize = 128;
/// The longest free text a record holds (numbers, reasons, paths), in bytes.
pub const MAX_TEXT_LEN: usize = 1024;

fn check_text(field: &'static str, value: &str, max: usize) -> Result<(), RecordError> {
    if value.len() > max {
        return Err(RecordError::new(field, format!("longer than {max} bytes")));
    }
    if value.chars().any(char::is_control) {
        return Err(RecordError::new(field, "contains a control character"));
    }
    Ok(())
}

fn not_before(
    field: &'static str,
    t: DateTime<Utc>,
    other_field: &str,
    other: DateTime<Utc>,
) -> Result<(), RecordError> {
    if t < other {
        return Err(RecordError::new(field, format!("{t} is before {other_field} {other}")));
    }
    Ok(())
}

impl CallRecord {
    pub fn is_answered(&self) -> bool {
        self.answered_at.is_some()
    }

    /// Checks every invariant of the schema; the first broken one is returned.
    pub fn validate(&self) -> Result<(), RecordError> {
        if self.call_id.is_empty() {
            return Err(RecordError::new("call_id", "empty"));
        }
        check_text("call_id", &self.call_id, MAX_CALL_ID_LEN)?;
        for (field, value) in [
            ("caller_number", &self.caller_number),
            ("dialled_number", &self.dialled_number),
            ("transfer_target", &self.transfer_target),
            ("disposition", &self.disposition),
            ("ivr_path", &self.ivr_path),
            ("sip_call_id", &self.sip_call_id),
            ("recording", &self.recording),
        ] {
            if let Some(v) = value {
                check_text(field, v, MAX_TEXT_LEN)?;
            }
        }
        for (field, ms) in [
            ("ring_ms", self.ring_ms),
            ("talk_ms", self.talk_ms),
            ("hold_ms", self.hold_ms),
            ("wrap_ms", self.wrap_ms),
        ] {
            if ms < 0 {
                return Err(RecordError::new(field, format!("negative duration {ms}")));
            }
        }
        match (&self.queue, self.queued_at) {
            (Some(_), None) => return Err(RecordError::new("queued_at", "missing although queue is set")),
            (None, Some(_)) => return Err(RecordError::new("queue", "missing although queued_at is set")),
            _ => {}
        }
        if let Some(q) = self.queued_at {
            not_before("queued_at", q, "arrived_at", self.arrived_at)?;
        }
        if let Some(a) = self.answered_at {
            let (name, floor) = match self.queued_at {
                Some(q) => ("queued_at", q),
                None => ("arrived_at", self.arrived_at),
            };
            not_before("answered_at", a, name, floor)?;
            not_before("ended_at", self.ended_at, "answered_at", a)?;
            if self.agent_id.is_none() {
                return Err(RecordError::new("agent_id", "missing on an answered call"));
            }
        }
        not_before("ended_at", self.ended_at, "arrived_at", self.arrived_at)?;
        if let Some(q) = self.queued_at {
            not_before("ended_at", self.ended_at, "queued_at", q)?;
        }
        if self.abandoned && (self.queue.is_none() || self.is_answered()) {
            return Err(RecordError::new("abandoned", "true on a call that was answered or never queued"));
        }
        let (answered, queued) = (self.is_answered(), self.queue.is_some());
        let reason_fits = match self.exit_reason {
            ExitReason::Answered => answered,
            ExitReason::Abandoned => self.abandoned,
            ExitReason::NotQueued => !queued && !answered,
            _ => queued && !answered && !self.abandoned,
        };
        let reason_required = (!answered || self.exit_reason == ExitReason::Answered)
            && (!self.abandoned || self.exit_reason == ExitReason::Abandoned);
        if !(reason_fits && reason_required) {
            return Err(RecordError::new(
                "exit_reason",
                format!("{} does not fit answered={answered} abandoned={} queued={queued}", self.exit_reason, self.abandoned),
            ));
        }
        match (self.queued_at, self.wait_ms) {
            (None, Some(_)) => return Err(RecordError::new("wait_ms", "set on a call that never queued")),
            (Some(_), None) => return Err(RecordError::new("wait_ms", "missing on a queued call")),
            (Some(q), Some(wait)) => {
                if wait < 0 {
                    return Err(RecordError::new("wait_ms", format!("negative duration {wait}")));
                }
                let limit = match self.answered_at {
                    Some(a) => {
                        let exact = (a - q).num_milliseconds();
                        if wait != exact {
                            return Err(RecordError::new("wait_ms", format!("{wait} differs from answered_at - queued_at = {exact}")));
                        }
                        exact
                    }
                    None => (self.ended_at - q).num_milliseconds(),
                };
                if wait > limit {
                    return Err(RecordError::new("wait_ms", format!("{wait} is longer than the call stayed ({limit} ms)")));
                }
            }
            (None, None) => {}
        }
        Ok(())
    }
}

/// One period an agent spent in one state.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentStateEvent {
    pub agent_id: AgentId,
    pub state: AgentState,
    pub reason: Option<String>,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub queues: Vec<QueueName>,
}

impl AgentStateEvent {
    pub fn validate(&self) -> Result<(), RecordError> {
        not_before("ended_at", self.ended_at, "started_at", self.started_at)?;
        match (&self.reason, self.state) {
            (Some(r), AgentState::NotReady) => check_text("reason", r, MAX_TEXT_LEN),
            (Some(_), other) => Err(RecordError::new("reason", format!("only not_ready periods have a reason, not {other}"))),
            (None, _) => Ok(()),
        }
    }

    pub fn duration_ms(&self) -> i64 {
        (self.ended_at - self.started_at).num_milliseconds()
    }

    /// The queues as stored: `;`-separated.
    pub fn queues_joined(&self) -> String {
        self.queues.iter().map(QueueName::as_str).collect::<Vec<_>>().join(";")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    pub(crate) fn answered_call() -> CallRecord {
        let t = |s: i64| Utc.timestamp_opt(1_770_000_000 + s, 0).unwrap();
        CallRecord {
            call_id: "c1".into(),
            channel: Channel::Voice,
            direction: Direction::Inbound,
            caller_number: Some("+48600100200".into()),
            dialled_number: Some("100".into()),
            queue: Some(QueueName::parse("support").unwrap()),
            priority: 0,
            arrived_at: t(0),
            queued_at: Some(t(10)),
            answered_at: Some(t(40)),
            ended_at: t(200),
            wait_ms: Some(30_000),
            abandoned: false,
            exit_reason: ExitReason::Answered,
            agent_id: Some(AgentId::parse("1001").unwrap()),
            ring_ms: 5_000,
            talk_ms: 150_000,
            hold_ms: 10_000,
            wrap_ms: 20_000,
            transfer_target: None,
            disposition: None,
            ivr_path: Some("main>1".into()),
            sip_call_id: None,
            recording: None,
        }
    }

    #[test]
    fn a_consistent_call_passes() {
        answered_call().validate().unwrap();
    }

    #[test]
    fn broken_invariants_name_their_field() {
        let mut c = answered_call();
        c.wait_ms = Some(29_000);
        assert_eq!(c.validate().unwrap_err().field, "wait_ms");
        let mut c = answered_call();
        c.abandoned = true;
        assert_eq!(c.validate().unwrap_err().field, "abandoned");
        let mut c = answered_call();
        c.agent_id = None;
        assert_eq!(c.validate().unwrap_err().field, "agent_id");
        let mut c = answered_call();
        c.exit_reason = ExitReason::Timeout;
        assert_eq!(c.validate().unwrap_err().field, "exit_reason");
        let mut c = answered_call();
        c.ended_at = c.arrived_at;
        assert_eq!(c.validate().unwrap_err().field, "ended_at");
        let mut c = answered_call();
        c.talk_ms = -1;
        assert_eq!(c.validate().unwrap_err().field, "talk_ms");
    }

    #[test]
    fn vocabularies_round_trip() {
        for s in AgentState::ALL {
            assert_eq!(AgentState::parse(s.as_str()).unwrap(), *s);
        }
        let err = ExitReason::parse("hangup").unwrap_err();
        assert!(err.to_string().contains("answered"));
    }
}
