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
    UnknownName,
};
pub use time::{parse_date, ClockTime, IntervalGrid, IntervalLength, LocalDateRange, TenantZone, TimeError};

/// Version of the event schema written by this build (`docs/events.md`).
pub const SCHEMA_VERSION: u32 = 1;
