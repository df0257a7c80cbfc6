//! The shared vocabulary of the suite: identifiers, time intervals cut in a tenant's time zone,
//! and the two record types of the event schema (`docs/events.md`).
//!
//! Every stage crate (telephony, analytics, forecasting, scheduler, web) speaks these types, so
//! this crate must stay small and depend on no stage: no I/O, no storage, no async.

mod ids;
mod records;
mod time;

pub use ids::{AgentId, IdentifierError, QueueName, TenantId};
pub use records::{
    AgentState, AgentStateEvent, CallRecord, Channel, Direction, ExitReason, RecordError,
    UnknownName, MAX_TEXT_LEN,
};
pub use time::{parse_date, ClockTime, IntervalGrid, IntervalLength, LocalDateRange, TenantZone, TimeError};

/// Version of the event schema written by this build (`docs/events.md`). Version 2 added the
/// calls' `sip_call_id`, version 3 their `recording`; stores and files of older versions are
/// read as they are (those columns null).
pub const SCHEMA_VERSION: u32 = 3;
/// The oldest schema version this build reads.
pub const OLDEST_READABLE_SCHEMA_VERSION: u32 = 1;
