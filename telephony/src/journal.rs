//! The ACD's journal of agents' state periods. A period is written, and synced to disk, when it
//! closes — before the change that closed it is acknowledged — and the binary moves the
//! journal's periods into the analytics store in batches, then clears it. Moving is idempotent
//! (the store skips a period it holds), so a crash at any point loses nothing acknowledged and
//! duplicates nothing.

use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, Write};
use std::path::{Path, PathBuf};

/// One finished period of one agent's state, times in milliseconds since the Unix epoch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosedPeriod {
    pub agent: String,
    /// The schema's name: `logged_out`, `ready`, `not_ready`, `ringing`, `on_call`, `wrap_up`.
    pub state: String,
    pub reason: Option<String>,
    pub started_ms: i64,
    pub ended_ms: i64,
    pub queues: Vec<String>,
}

pub struct Journal {
    path: PathBuf,
    file: File,
}

impl Journal {
    pub fn open(path: &Path) -> std::io::Result<Self> {
        let file = OpenOptions::new().create(true).read(true).append(true).open(path)?;
        Ok(Self { path: path.to_owned(), file })
    }

    /// Appends `periods` and syncs them to disk.
    pub fn write(&mut self, periods: &[ClosedPeriod]) -> std::io::Result<()> {
        if periods.is_empty() {
            return Ok(());
        }
        let mut text = String::new();
        for p in periods {
            text.push_str(&serde_json::to_string(p).expect("a period serialises"));
            text.push('\n');
        }
        self.file.write_all(text.as_bytes())?;
        self.file.sync_data()
    }

    /// Every period written and not yet cleared. A last line cut short by a crash mid-write
    /// was never acknowledged, so it is left out.
    pub fn pending(&self) -> std::io::Result<Vec<ClosedPeriod>> {
        let reader = BufReader::new(File::open(&self.path)?);
        let mut out = Vec::new();
        for line in reader.lines() {
            if let Ok(period) = serde_json::from_str::<ClosedPeriod>(&line?) {
                out.push(period);
            }
        }
        Ok(out)
    }

    /// Empties the journal once its periods are in the store.
    pub fn clear(&mut self) -> std::io::Result<()> {
        self.file.set_len(0)?;
        self.file.rewind()?;
        self.file.sync_data()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn period(agent: &str, started_ms: i64) -> ClosedPeriod {
        ClosedPeriod { agent: agent.into(), state: "ready".into(), reason: None, started_ms, ended_ms: started_ms + 1000, queues: vec!["support".into()] }
    }

    #[test]
    fn written_periods_survive_reopening_until_cleared_and_a_torn_line_is_skipped() {
        let dir = std::env::temp_dir().join(format!("wfm-journal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("acd-journal.jsonl");
        let mut j = Journal::open(&path).unwrap();
        j.write(&[period("1001", 0), period("1002", 5)]).unwrap();
        drop(j);
        // A crash in the middle of a later write.
        std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"{\"agent\":\"10").unwrap();
        let mut j = Journal::open(&path).unwrap();
        assert_eq!(j.pending().unwrap(), [period("1001", 0), period("1002", 5)]);
        j.clear().unwrap();
        j.write(&[period("1003", 9)]).unwrap();
        assert_eq!(Journal::open(&path).unwrap().pending().unwrap(), [period("1003", 9)]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
