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
use std::path::PathBuf;

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
