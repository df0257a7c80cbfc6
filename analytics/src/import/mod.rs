//! Importers: foreign call records mapped onto the event schema.
//!
//! An import parses and validates every line before anything is written, then appends all
//! records in one atomic change; a bad line stops it with the file, line and field named,
//! unless the caller asked to skip bad lines, in which case each is reported.

pub mod csv;
pub mod members;
pub mod queue_log;

pub use members::MemberMap;

use std::fmt;
use std::path::{Path, PathBuf};
use wfm_model::{AgentStateEvent, CallRecord, TenantZone};

/// The foreign formats read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One call per row (docs/import.md).
    Csv,
    /// Asterisk's `queue_log`.
    QueueLog,
}

impl Format {
    /// As the import journal names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::QueueLog => "queue-log",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Csv, Self::QueueLog].into_iter().find(|f| f.as_str() == s)
    }
}

/// A set of files of one format, parsed and validated; nothing is written yet.
#[derive(Debug, Default)]
pub struct Parsed {
    pub calls: Vec<CallRecord>,
    pub states: Vec<AgentStateEvent>,
    pub skipped: Vec<LineError>,
    /// queue_log: its lines, calls still open at the end, call events without their
    /// ENTERQUEUE, events not mapped; empty for CSV.
    pub notes: String,
}

/// Parses `files` (name and bytes, in order) of `format`; queue_log's agents are named by
/// `members`. A bad line stops it, unless `policy` skips (and reports) bad lines.
pub fn parse(format: Format, files: &[(&Path, &[u8])], zone: TenantZone, members: &MemberMap, policy: BadLines) -> Result<Parsed, LineError> {
    match format {
        Format::Csv => {
            let mut parsed = Parsed::default();
            for (path, bytes) in files {
                let batch = csv::parse_calls(path, *bytes, zone, policy)?;
                parsed.calls.extend(batch.calls);
                parsed.skipped.extend(batch.skipped);
            }
            Ok(parsed)
        }
        Format::QueueLog => {
            let texts: Vec<String> = files.iter().map(|(_, bytes)| String::from_utf8_lossy(bytes).into_owned()).collect();
            let sources: Vec<queue_log::Source> = files.iter().zip(&texts).map(|((path, _), text)| queue_log::Source { path, text }).collect();
            let batch = queue_log::parse(&sources, zone, members, policy)?;
            let unknown: Vec<String> = batch.unknown_events.iter().map(|(e, n)| format!("{e}×{n}")).collect();
            let notes = format!(
                "{} lines; {} calls still open at the end (not imported); {} call events without their ENTERQUEUE; unknown events skipped: {}",
                batch.lines,
                batch.open_calls,
                batch.orphan_events,
                if unknown.is_empty() { "none".to_owned() } else { unknown.join(", ") }
            );
            Ok(Parsed { calls: batch.calls, states: batch.states, skipped: batch.skipped, notes })
        }
    }
}

/// A line an importer could not map, with where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LineError {
    pub file: PathBuf,
    pub line: u64,
    pub field: String,
    pub message: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.file.display(), self.line)?;
        if !self.field.is_empty() {
            write!(f, "field `{}`: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

/// Whether a bad line stops the import or is reported and skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadLines {
    Stop,
    Skip,
}

/// Collects line errors according to the policy.
#[derive(Debug)]
pub(crate) struct LineErrors {
    policy: BadLines,
    pub(crate) skipped: Vec<LineError>,
}

impl LineErrors {
    pub(crate) fn new(policy: BadLines) -> Self {
        Self { policy, skipped: Vec::new() }
    }

    /// Records a bad line: `Err` when it must stop the import.
    pub(crate) fn report(&mut self, error: LineError) -> Result<(), LineError> {
        match self.policy {
            BadLines::Stop => Err(error),
            BadLines::Skip => {
                self.skipped.push(error);
                Ok(())
            }
        }
    }
}
