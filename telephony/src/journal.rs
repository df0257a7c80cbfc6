//! The ACD's journal of agents' state periods and finished calls. A period is written when it
//! closes and a call when it ends, and synced to disk before what caused them is acknowledged
//! (the API's answer, the SIP messages of that step); entries written close together share one
//! sync (group commit). The binary moves the journal's entries into the analytics store in
//! batches, then clears what it moved: the journal is locked only to read the batch and to clear
//! it, never while the store writes (the queue engine journals under its own lock and must not
//! wait for Parquet). Moving is idempotent
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

/// One call's passage through one queue (or, never queued, through the IVR), times in
/// milliseconds since the Unix epoch; the schema's call record (docs/events.md) once in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallSegment {
    pub call_id: String,
    pub caller_number: Option<String>,
    pub dialled_number: Option<String>,
    pub queue: Option<String>,
    pub priority: i32,
    pub arrived_ms: i64,
    pub queued_ms: Option<i64>,
    pub answered_ms: Option<i64>,
    pub ended_ms: i64,
    pub abandoned: bool,
    /// The schema's exit reason: `answered`, `abandoned`, `timeout`, `full`, `empty`, `not_queued`.
    pub exit_reason: String,
    pub agent: Option<String>,
    pub ring_ms: i64,
    pub talk_ms: i64,
    pub hold_ms: i64,
    /// The answering agent's wrap-up after the call. A call is journalled when it ends, with 0,
    /// and again, whole, when the wrap-up ends; the later entry is the record (absent in older
    /// journals).
    #[serde(default)]
    pub wrap_ms: i64,
    pub transfer_target: Option<String>,
    pub ivr_path: Option<String>,
    /// The WAV file of the call, when its queue records.
    pub recording: Option<String>,
    /// The caller's SIP Call-ID (`call_id` is the suite's own); absent in older journals.
    #[serde(default)]
    pub sip_call_id: Option<String>,
}

impl CallSegment {
    /// The call's record in the analytics schema, checked (`validate`); the error names the field.
    pub fn to_record(&self) -> Result<wfm_model::CallRecord, String> {
        use wfm_model::{AgentId, CallRecord, Channel, Direction, ExitReason, QueueName};
        let at = |ms: i64| chrono::DateTime::from_timestamp_millis(ms).ok_or_else(|| format!("time {ms} ms out of range"));
        let queued_at = self.queued_ms.map(at).transpose()?;
        let answered_at = self.answered_ms.map(at).transpose()?;
        let ended_at = at(self.ended_ms)?;
        let record = CallRecord {
            call_id: self.call_id.clone(),
            channel: Channel::Voice,
            direction: Direction::Inbound,
            caller_number: self.caller_number.clone(),
            dialled_number: self.dialled_number.clone(),
            queue: self.queue.as_deref().map(QueueName::parse).transpose().map_err(|e| format!("queue: {e}"))?,
            priority: self.priority,
            arrived_at: at(self.arrived_ms)?,
            queued_at,
            answered_at,
            ended_at,
            wait_ms: queued_at.map(|q| (answered_at.unwrap_or(ended_at) - q).num_milliseconds()),
            abandoned: self.abandoned,
            exit_reason: ExitReason::parse(&self.exit_reason).map_err(|e| format!("exit_reason: {e}"))?,
            agent_id: self.agent.as_deref().map(AgentId::parse).transpose().map_err(|e| format!("agent: {e}"))?,
            ring_ms: self.ring_ms,
            talk_ms: self.talk_ms,
            hold_ms: self.hold_ms,
            wrap_ms: self.wrap_ms,
            transfer_target: self.transfer_target.clone(),
            disposition: None,
            ivr_path: self.ivr_path.clone(),
            sip_call_id: self.sip_call_id.clone(),
            recording: self.recording.clone(),
        };
        record.validate().map_err(|e| e.to_string())?;
        Ok(record)
    }
}

/// A line of the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Entry {
    Period(ClosedPeriod),
    Call(Box<CallSegment>),
}

/// Entries read from the journal and the byte offset they end at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub entries: Vec<Entry>,
    pub through: u64,
}

pub struct Journal {
    path: PathBuf,
    file: File,
    /// Written since the last sync.
    unsynced: bool,
    /// Entries whose write failed (a full or failing disk): kept, written again before anything
    /// else, and until then every sync fails, so that nothing after them is acknowledged.
    unwritten: Vec<Entry>,
}

impl Journal {
    pub fn open(path: &Path) -> std::io::Result<Self> {
        let file = OpenOptions::new().create(true).read(true).append(true).open(path)?;
        Ok(Self { path: path.to_owned(), file, unsynced: false, unwritten: Vec::new() })
    }

    /// Appends `entries` and syncs them to disk.
    pub fn write(&mut self, entries: &[Entry]) -> std::io::Result<()> {
        self.append(entries)?;
        self.sync()
    }

    /// Appends `entries`; they are safe once [`Journal::sync`] returns. When the write fails,
    /// what it left of a line is cut off and the entries are kept to be written again.
    pub fn append(&mut self, entries: &[Entry]) -> std::io::Result<()> {
        if entries.is_empty() && self.unwritten.is_empty() {
            return Ok(());
        }
        let mut pending = std::mem::take(&mut self.unwritten);
        pending.extend_from_slice(entries);
        let text = lines(&pending);
        let length = self.file.metadata().map(|m| m.len());
        self.unsynced = true;
        let written = self.file.write_all(text.as_bytes());
        if written.is_err() {
            // A torn line would swallow the next good one: cut it off (when we can).
            if let Ok(length) = length {
                let _ = self.file.set_len(length);
            }
            self.unwritten = pending;
        }
        written
    }

    /// Syncs what was appended (nothing to do when nothing was); fails while entries whose
    /// write failed could not be written again.
    pub fn sync(&mut self) -> std::io::Result<()> {
        if !self.unwritten.is_empty() {
            self.append(&[])?;
        }
        if !std::mem::take(&mut self.unsynced) {
            return Ok(());
        }
        self.file.sync_data().inspect_err(|_| self.unsynced = true)
    }

    /// Every entry written and not yet cleared (what [`Journal::batch`] reads).
    #[cfg(test)]
    fn pending(&self) -> std::io::Result<Vec<Entry>> {
        Ok(self.batch()?.entries)
    }

    /// The entries written and not yet cleared, with where they end in the file, for
    /// [`Journal::clear_through`]. A last line cut short by a crash mid-write was never
    /// acknowledged, so it is left out.
    pub fn batch(&self) -> std::io::Result<Batch> {
        let mut reader = BufReader::new(File::open(&self.path)?);
        let (mut entries, mut through, mut line) = (Vec::new(), 0u64, Vec::new());
        loop {
            line.clear();
            // Bytes, not text: a line torn inside a character must not stop the reading.
            let n = reader.read_until(b'\n', &mut line)?;
            // A line without its newline is still being written (or was torn by a crash).
            if n == 0 || line.last() != Some(&b'\n') {
                break;
            }
            through += n as u64;
            if let Ok(entry) = serde_json::from_slice::<Entry>(&line[..n - 1]) {
                entries.push(entry);
            }
        }
        Ok(Batch { entries, through })
    }

    /// Empties the journal once its periods are in the store.
    pub fn clear(&mut self) -> std::io::Result<()> {
        self.file.set_len(0)?;
        self.file.rewind()?;
        self.file.sync_data()
    }

    /// Removes a batch once it is in the store, keeping what was written after it: the rest is
    /// written to a new file, synced, and renamed over the journal, so that a crash leaves
    /// either the old journal (moved again, idempotently) or the new one. `kept` are entries of
    /// the batch not to be moved yet: they go first in the new file.
    pub fn clear_through(&mut self, through: u64, kept: &[Entry]) -> std::io::Result<()> {
        let length = self.file.metadata()?.len();
        if through >= length && kept.is_empty() {
            return self.clear();
        }
        let mut rest = lines(kept).into_bytes();
        let mut old = File::open(&self.path)?;
        old.seek(std::io::SeekFrom::Start(through))?;
        std::io::Read::read_to_end(&mut old, &mut rest)?;
        let fresh = self.path.with_extension("jsonl.new");
        let _ = std::fs::remove_file(&fresh);
        let mut file = OpenOptions::new().create_new(true).read(true).append(true).open(&fresh)?;
        file.write_all(&rest)?;
        file.sync_all()?;
        std::fs::rename(&fresh, &self.path)?;
        // From the rename on, the new file is the journal: what comes next goes there, even if
        // the directory's sync below fails.
        self.file = file;
        if let Some(dir) = self.path.parent() {
            // The rename itself must be on disk before the store's copy is the only one.
            File::open(dir)?.sync_all()?;
        }
        Ok(())
    }
}

/// Entries as the journal's lines, one JSON object and a newline each.
fn lines(entries: &[Entry]) -> String {
    let mut text = String::new();
    for e in entries {
        text.push_str(&serde_json::to_string(e).expect("an entry serialises"));
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn period(agent: &str, started_ms: i64) -> Entry {
        Entry::Period(ClosedPeriod { agent: agent.into(), state: "ready".into(), reason: None, started_ms, ended_ms: started_ms + 1000, queues: vec!["support".into()] })
    }

    fn call(call_id: &str) -> Entry {
        Entry::Call(Box::new(CallSegment {
            call_id: call_id.into(),
            caller_number: Some("555".into()),
            dialled_number: Some("200".into()),
            queue: Some("support".into()),
            priority: 0,
            arrived_ms: 10,
            queued_ms: Some(10),
            answered_ms: None,
            ended_ms: 20,
            abandoned: true,
            exit_reason: "abandoned".into(),
            agent: None,
            ring_ms: 0,
            talk_ms: 0,
            hold_ms: 0,
            wrap_ms: 0,
            transfer_target: None,
            ivr_path: None,
            sip_call_id: None,
            recording: None,
        }))
    }

    #[test]
    fn written_periods_survive_reopening_until_cleared_and_a_torn_line_is_skipped() {
        let dir = std::env::temp_dir().join(format!("wfm-journal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("acd-journal.jsonl");
        let mut j = Journal::open(&path).unwrap();
        j.write(&[period("1001", 0), call("c1"), period("1002", 5)]).unwrap();
        drop(j);
        // A crash in the middle of a later write.
        std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"{\"agent\":\"10").unwrap();
        let mut j = Journal::open(&path).unwrap();
        assert_eq!(j.pending().unwrap(), [period("1001", 0), call("c1"), period("1002", 5)]);
        j.clear().unwrap();
        j.write(&[period("1003", 9)]).unwrap();
        assert_eq!(Journal::open(&path).unwrap().pending().unwrap(), [period("1003", 9)]);
        // A batch is cleared while later entries, written in the meantime, stay.
        let batch = j.batch().unwrap();
        j.write(&[period("1004", 11)]).unwrap();
        j.clear_through(batch.through, &[]).unwrap();
        assert_eq!(j.pending().unwrap(), [period("1004", 11)]);
        j.write(&[period("1005", 12)]).unwrap();
        assert_eq!(Journal::open(&path).unwrap().pending().unwrap(), [period("1004", 11), period("1005", 12)], "appends go to the new file");
        // An entry of the batch kept back goes before what came after the batch.
        let batch = j.batch().unwrap();
        j.write(&[period("1006", 13)]).unwrap();
        j.clear_through(batch.through, &[call("c2")]).unwrap();
        assert_eq!(Journal::open(&path).unwrap().pending().unwrap(), [call("c2"), period("1006", 13)]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_line_torn_inside_a_character_does_not_stop_the_reading() {
        let dir = std::env::temp_dir().join(format!("wfm-journal-torn-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("acd-journal.jsonl");
        let mut j = Journal::open(&path).unwrap();
        j.write(&[period("1001", 0)]).unwrap();
        // A line cut inside "ż", then a good one: the good one is still read.
        std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"{\"agent\":\"\xc5\n").unwrap();
        j.write(&[period("1002", 5)]).unwrap();
        assert_eq!(j.pending().unwrap(), [period("1001", 0), period("1002", 5)]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn entries_whose_write_failed_are_kept_and_every_sync_fails_until_they_are_written() {
        let mut j = Journal::open(Path::new("/dev/full")).unwrap();
        assert!(j.append(&[period("1001", 0)]).is_err());
        assert!(j.sync().is_err(), "nothing after them may be acknowledged");
        assert!(j.sync().is_err(), "still not, while the disk is full");
        assert_eq!(j.unwritten.len(), 1, "kept to be written again");
    }
}
