//! Conversion between the schema's records and Polars frames, the only place that knows the
//! column names and Parquet types of `docs/events.md`.

use crate::StoreError;
use chrono::{DateTime, Utc};
use polars::prelude::*;
use std::path::Path;
use wfm_model::{AgentId, AgentState, AgentStateEvent, CallRecord, Channel, Direction, ExitReason, QueueName};

pub mod call_columns {
    pub const CALL_ID: &str = "call_id";
    pub const CHANNEL: &str = "channel";
    pub const DIRECTION: &str = "direction";
    pub const CALLER_NUMBER: &str = "caller_number";
    pub const DIALLED_NUMBER: &str = "dialled_number";
    pub const QUEUE: &str = "queue";
    pub const PRIORITY: &str = "priority";
    pub const ARRIVED_AT: &str = "arrived_at";
    pub const QUEUED_AT: &str = "queued_at";
    pub const ANSWERED_AT: &str = "answered_at";
    pub const ENDED_AT: &str = "ended_at";
    pub const WAIT_MS: &str = "wait_ms";
    pub const ABANDONED: &str = "abandoned";
    pub const EXIT_REASON: &str = "exit_reason";
    pub const AGENT_ID: &str = "agent_id";
    pub const RING_MS: &str = "ring_ms";
    pub const TALK_MS: &str = "talk_ms";
    pub const HOLD_MS: &str = "hold_ms";
    pub const WRAP_MS: &str = "wrap_ms";
    pub const TRANSFER_TARGET: &str = "transfer_target";
    pub const DISPOSITION: &str = "disposition";
    pub const IVR_PATH: &str = "ivr_path";
    /// Since schema version 2; files of version 1 lack it.
    pub const SIP_CALL_ID: &str = "sip_call_id";
    /// Since schema version 3.
    pub const RECORDING: &str = "recording";
}

pub mod state_columns {
    pub const AGENT_ID: &str = "agent_id";
    pub const STATE: &str = "state";
    pub const REASON: &str = "reason";
    pub const STARTED_AT: &str = "started_at";
    pub const ENDED_AT: &str = "ended_at";
    pub const QUEUES: &str = "queues";
}

fn text<'a>(name: &str, values: impl Iterator<Item = Option<&'a str>>) -> Column {
    StringChunked::from_iter_options(name.into(), values).into_column()
}

fn millis(name: &str, values: impl Iterator<Item = i64>) -> Column {
    Int64Chunked::from_iter_values(name.into(), values).into_column()
}

fn timestamps(name: &str, values: impl Iterator<Item = Option<DateTime<Utc>>>) -> Column {
    Int64Chunked::from_iter_options(name.into(), values.map(|t| t.map(|t| t.timestamp_millis())))
        .into_datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC))
        .into_column()
}

pub(crate) fn calls_to_frame(calls: &[&CallRecord]) -> DataFrame {
    use call_columns::*;
    let it = || calls.iter();
    let columns = vec![
        text(CALL_ID, it().map(|c| Some(c.call_id.as_str()))),
        text(CHANNEL, it().map(|c| Some(c.channel.as_str()))),
        text(DIRECTION, it().map(|c| Some(c.direction.as_str()))),
        text(CALLER_NUMBER, it().map(|c| c.caller_number.as_deref())),
        text(DIALLED_NUMBER, it().map(|c| c.dialled_number.as_deref())),
        text(QUEUE, it().map(|c| c.queue.as_ref().map(QueueName::as_str))),
        Int32Chunked::from_iter_values(PRIORITY.into(), it().map(|c| c.priority)).into_column(),
        timestamps(ARRIVED_AT, it().map(|c| Some(c.arrived_at))),
        timestamps(QUEUED_AT, it().map(|c| c.queued_at)),
        timestamps(ANSWERED_AT, it().map(|c| c.answered_at)),
        timestamps(ENDED_AT, it().map(|c| Some(c.ended_at))),
        Int64Chunked::from_iter_options(WAIT_MS.into(), it().map(|c| c.wait_ms)).into_column(),
        BooleanChunked::from_iter_values(ABANDONED.into(), it().map(|c| c.abandoned)).into_column(),
        text(EXIT_REASON, it().map(|c| Some(c.exit_reason.as_str()))),
        text(AGENT_ID, it().map(|c| c.agent_id.as_ref().map(AgentId::as_str))),
        millis(RING_MS, it().map(|c| c.ring_ms)),
        millis(TALK_MS, it().map(|c| c.talk_ms)),
        millis(HOLD_MS, it().map(|c| c.hold_ms)),
        millis(WRAP_MS, it().map(|c| c.wrap_ms)),
        text(TRANSFER_TARGET, it().map(|c| c.transfer_target.as_deref())),
        text(DISPOSITION, it().map(|c| c.disposition.as_deref())),
        text(IVR_PATH, it().map(|c| c.ivr_path.as_deref())),
        text(SIP_CALL_ID, it().map(|c| c.sip_call_id.as_deref())),
        text(RECORDING, it().map(|c| c.recording.as_deref())),
    ];
    DataFrame::new(calls.len(), columns).expect("columns of equal length")
}

pub(crate) fn states_to_frame(states: &[&AgentStateEvent]) -> DataFrame {
    use state_columns::*;
    let it = || states.iter();
    let queues: Vec<String> = it().map(|s| s.queues_joined()).collect();
    let columns = vec![
        text(AGENT_ID, it().map(|s| Some(s.agent_id.as_str()))),
        text(STATE, it().map(|s| Some(s.state.as_str()))),
        text(REASON, it().map(|s| s.reason.as_deref())),
        timestamps(STARTED_AT, it().map(|s| Some(s.started_at))),
        timestamps(ENDED_AT, it().map(|s| Some(s.ended_at))),
        text(QUEUES, queues.iter().map(|q| Some(q.as_str()))),
    ];
    DataFrame::new(states.len(), columns).expect("columns of equal length")
}

/// Typed access to one column of a frame read from `path`, failing with the file named.
pub struct ColumnReader<'a> {
    pub df: &'a DataFrame,
    pub path: &'a Path,
}

impl<'a> ColumnReader<'a> {
    fn corrupt(&self, column: &str, e: impl std::fmt::Display) -> StoreError {
        StoreError::Corrupt { path: self.path.to_owned(), message: format!("column `{column}`: {e}") }
    }

    pub fn text(&self, column: &str) -> Result<&'a StringChunked, StoreError> {
        let c = self.df.column(column).map_err(|e| self.corrupt(column, e))?;
        c.str().map_err(|e| self.corrupt(column, e))
    }

    /// A text column added in a later schema version: `None` in files older than it.
    pub fn optional_text(&self, column: &str) -> Result<Option<&'a StringChunked>, StoreError> {
        match self.df.column(column) {
            Ok(c) => c.str().map(Some).map_err(|e| self.corrupt(column, e)),
            Err(_) => Ok(None),
        }
    }

    pub fn int64(&self, column: &str) -> Result<&'a Int64Chunked, StoreError> {
        let c = self.df.column(column).map_err(|e| self.corrupt(column, e))?;
        c.i64().map_err(|e| self.corrupt(column, e))
    }

    pub fn int32(&self, column: &str) -> Result<&'a Int32Chunked, StoreError> {
        let c = self.df.column(column).map_err(|e| self.corrupt(column, e))?;
        c.i32().map_err(|e| self.corrupt(column, e))
    }

    pub fn boolean(&self, column: &str) -> Result<&'a BooleanChunked, StoreError> {
        let c = self.df.column(column).map_err(|e| self.corrupt(column, e))?;
        c.bool().map_err(|e| self.corrupt(column, e))
    }

    /// UTC milliseconds of a timestamp column.
    pub fn timestamp_ms(&self, column: &str) -> Result<&'a Int64Chunked, StoreError> {
        let c = self.df.column(column).map_err(|e| self.corrupt(column, e))?;
        match c.dtype() {
            DataType::Datetime(TimeUnit::Milliseconds, _) => {}
            other => return Err(self.corrupt(column, format!("expected a millisecond timestamp, found {other}"))),
        }
        Ok(c.datetime().map_err(|e| self.corrupt(column, e))?.physical())
    }

    fn record_error(&self, row: usize, e: impl std::fmt::Display) -> StoreError {
        self.corrupt("", format!("row {row}: {e}"))
    }
}

fn ts(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

pub(crate) fn calls_from_frame(df: &DataFrame, path: &Path) -> Result<Vec<CallRecord>, StoreError> {
    use call_columns::*;
    let r = ColumnReader { df, path };
    let (call_id, channel, direction) = (r.text(CALL_ID)?, r.text(CHANNEL)?, r.text(DIRECTION)?);
    let (caller, dialled, queue) = (r.text(CALLER_NUMBER)?, r.text(DIALLED_NUMBER)?, r.text(QUEUE)?);
    let priority = r.int32(PRIORITY)?;
    let (arrived, queued) = (r.timestamp_ms(ARRIVED_AT)?, r.timestamp_ms(QUEUED_AT)?);
    let (answered, ended) = (r.timestamp_ms(ANSWERED_AT)?, r.timestamp_ms(ENDED_AT)?);
    let (wait, abandoned, exit) = (r.int64(WAIT_MS)?, r.boolean(ABANDONED)?, r.text(EXIT_REASON)?);
    let agent = r.text(AGENT_ID)?;
    let (ring, talk, hold, wrap) = (r.int64(RING_MS)?, r.int64(TALK_MS)?, r.int64(HOLD_MS)?, r.int64(WRAP_MS)?);
    let (transfer, disposition, ivr) = (r.text(TRANSFER_TARGET)?, r.text(DISPOSITION)?, r.text(IVR_PATH)?);
    let (sip_call_id, recording) = (r.optional_text(SIP_CALL_ID)?, r.optional_text(RECORDING)?);
    let owned = |v: Option<&str>| v.map(str::to_owned);
    (0..df.height())
        .map(|i| {
            fn required<'v>(v: Option<&'v str>, field: &str, r: &ColumnReader, i: usize) -> Result<&'v str, StoreError> {
                v.ok_or_else(|| r.record_error(i, format!("`{field}` is null")))
            }
            let record = CallRecord {
                call_id: required(call_id.get(i), CALL_ID, &r, i)?.to_owned(),
                channel: Channel::parse(required(channel.get(i), CHANNEL, &r, i)?).map_err(|e| r.record_error(i, e))?,
                direction: Direction::parse(required(direction.get(i), DIRECTION, &r, i)?).map_err(|e| r.record_error(i, e))?,
                caller_number: owned(caller.get(i)),
                dialled_number: owned(dialled.get(i)),
                queue: queue.get(i).map(QueueName::parse).transpose().map_err(|e| r.record_error(i, e))?,
                priority: priority.get(i).unwrap_or(0),
                arrived_at: ts(arrived.get(i).ok_or_else(|| r.record_error(i, "`arrived_at` is null"))?),
                queued_at: queued.get(i).map(ts),
                answered_at: answered.get(i).map(ts),
                ended_at: ts(ended.get(i).ok_or_else(|| r.record_error(i, "`ended_at` is null"))?),
                wait_ms: wait.get(i),
                abandoned: abandoned.get(i).unwrap_or(false),
                exit_reason: ExitReason::parse(required(exit.get(i), EXIT_REASON, &r, i)?).map_err(|e| r.record_error(i, e))?,
                agent_id: agent.get(i).map(AgentId::parse).transpose().map_err(|e| r.record_error(i, e))?,
                ring_ms: ring.get(i).unwrap_or(0),
                talk_ms: talk.get(i).unwrap_or(0),
                hold_ms: hold.get(i).unwrap_or(0),
                wrap_ms: wrap.get(i).unwrap_or(0),
                transfer_target: owned(transfer.get(i)),
                disposition: owned(disposition.get(i)),
                ivr_path: owned(ivr.get(i)),
                sip_call_id: sip_call_id.and_then(|c| owned(c.get(i))),
                recording: recording.and_then(|c| owned(c.get(i))),
            };
            Ok(record)
        })
        .collect()
}

pub(crate) fn states_from_frame(df: &DataFrame, path: &Path) -> Result<Vec<AgentStateEvent>, StoreError> {
    use state_columns::*;
    let r = ColumnReader { df, path };
    let (agent, state, reason) = (r.text(AGENT_ID)?, r.text(STATE)?, r.text(REASON)?);
    let (started, ended, queues) = (r.timestamp_ms(STARTED_AT)?, r.timestamp_ms(ENDED_AT)?, r.text(QUEUES)?);
    (0..df.height())
        .map(|i| {
            let null = |field: &str| r.record_error(i, format!("`{field}` is null"));
            Ok(AgentStateEvent {
                agent_id: AgentId::parse(agent.get(i).ok_or_else(|| null(AGENT_ID))?).map_err(|e| r.record_error(i, e))?,
                state: AgentState::parse(state.get(i).ok_or_else(|| null(STATE))?).map_err(|e| r.record_error(i, e))?,
                reason: reason.get(i).map(str::to_owned),
                started_at: ts(started.get(i).ok_or_else(|| null(STARTED_AT))?),
                ended_at: ts(ended.get(i).ok_or_else(|| null(ENDED_AT))?),
                queues: parse_queue_list(queues.get(i).unwrap_or("")).map_err(|e| r.record_error(i, e))?,
            })
        })
        .collect()
}

fn parse_queue_list(text: &str) -> Result<Vec<QueueName>, wfm_model::IdentifierError> {
    text.split(';').filter(|q| !q.is_empty()).map(QueueName::parse).collect()
}
