//! The canonical CSV of call records: one row per call leg, the store's columns with
//! timestamps as text and durations in seconds (see `docs/import.md`).

use super::{BadLines, LineError, LineErrors};
use chrono::{DateTime, NaiveDateTime, SubsecRound, TimeZone, Utc};
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use wfm_model::{AgentId, CallRecord, Channel, Direction, ExitReason, QueueName, TenantZone};

/// Every column the CSV may have; the first three are required.
pub const COLUMNS: &[&str] = &[
    "call_id", "arrived_at", "ended_at", "channel", "direction", "caller_number", "dialled_number", "queue",
    "priority", "queued_at", "answered_at", "wait_s", "abandoned", "exit_reason", "agent_id", "ring_s", "talk_s",
    "hold_s", "wrap_s", "transfer_target", "disposition", "ivr_path", "sip_call_id", "recording",
];
const REQUIRED: usize = 3;

/// What a CSV file held.
#[derive(Debug, Default)]
pub struct CsvBatch {
    pub calls: Vec<CallRecord>,
    pub skipped: Vec<LineError>,
}

/// Parses a whole CSV file. Timestamps with an offset (RFC 3339) are taken as they are;
/// timestamps without one are local time in `zone`.
pub fn parse_calls(path: &Path, input: impl Read, zone: TenantZone, policy: BadLines) -> Result<CsvBatch, LineError> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(input);
    let fail = |line: u64, field: &str, message: String| LineError {
        file: path.to_owned(),
        line,
        field: field.to_owned(),
        message,
    };
    let headers = reader.headers().map_err(|e| fail(1, "", format!("cannot read the header: {e}")))?.clone();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, name) in headers.iter().enumerate() {
        let name = name.trim();
        let Some(known) = COLUMNS.iter().find(|c| **c == name) else {
            return Err(fail(1, name, format!("unknown column (expected some of: {})", COLUMNS.join(", "))));
        };
        if index.insert(known, i).is_some() {
            return Err(fail(1, name, "column appears twice".into()));
        }
    }
    if let Some(missing) = COLUMNS[..REQUIRED].iter().find(|c| !index.contains_key(**c)) {
        return Err(fail(1, missing, "required column missing".into()));
    }
    let mut errors = LineErrors::new(policy);
    let mut batch = CsvBatch::default();
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line() + 1;
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(line, |p| p.line());
                let row = Row { record: &record, index: &index, zone };
                match row.call() {
                    Ok(call) => batch.calls.push(call),
                    Err((field, message)) => errors.report(fail(line, field, message))?,
                }
            }
            Err(e) => {
                let line = e.position().map_or(line, |p| p.line());
                errors.report(fail(line, "", e.to_string()))?;
                // A malformed row may leave the reader mid-record; stop rather than misread.
                if !matches!(e.kind(), csv::ErrorKind::UnequalLengths { .. } | csv::ErrorKind::Utf8 { .. }) {
                    break;
                }
            }
        }
    }
    batch.skipped = errors.skipped;
    Ok(batch)
}

type FieldResult<T> = Result<T, (&'static str, String)>;

struct Row<'a> {
    record: &'a csv::StringRecord,
    index: &'a HashMap<&'static str, usize>,
    zone: TenantZone,
}

impl Row<'_> {
    fn text(&self, field: &'static str) -> Option<&str> {
        let v = self.record.get(*self.index.get(field)?)?.trim();
        (!v.is_empty()).then_some(v)
    }

    fn owned(&self, field: &'static str) -> Option<String> {
        self.text(field).map(str::to_owned)
    }

    fn required(&self, field: &'static str) -> FieldResult<&str> {
        self.text(field).ok_or((field, "required but empty".into()))
    }

    fn time(&self, field: &'static str) -> FieldResult<Option<DateTime<Utc>>> {
        self.text(field).map(|v| parse_timestamp(v, self.zone).map_err(|m| (field, m))).transpose()
    }

    fn seconds_ms(&self, field: &'static str) -> FieldResult<Option<i64>> {
        let Some(v) = self.text(field) else { return Ok(None) };
        let s: f64 = v.parse().map_err(|_| (field, format!("{v:?} is not a number of seconds")))?;
        if !s.is_finite() || !(0.0..=30.0 * 86_400.0).contains(&s) {
            return Err((field, format!("{v} is not a duration between 0 and 30 days")));
        }
        Ok(Some((s * 1000.0).round() as i64))
    }

    fn call(&self) -> FieldResult<CallRecord> {
        let call_id = self.required("call_id")?.to_owned();
        let arrived_at = self.time("arrived_at")?.ok_or(("arrived_at", "required but empty".to_owned()))?;
        let ended_at = self.time("ended_at")?.ok_or(("ended_at", "required but empty".to_owned()))?;
        let queue = self.text("queue").map(QueueName::parse).transpose().map_err(|e| ("queue", e.to_string()))?;
        let queued_at = self.time("queued_at")?;
        let answered_at = self.time("answered_at")?;
        let abandoned = match self.text("abandoned").map(str::to_ascii_lowercase).as_deref() {
            None | Some("false" | "0" | "no" | "n") => false,
            Some("true" | "1" | "yes" | "y") => true,
            Some(other) => return Err(("abandoned", format!("{other:?} is not true/false"))),
        };
        let exit_reason = match self.text("exit_reason") {
            Some(v) => ExitReason::parse(v).map_err(|e| ("exit_reason", e.to_string()))?,
            None if answered_at.is_some() => ExitReason::Answered,
            None if abandoned => ExitReason::Abandoned,
            None if queue.is_none() => ExitReason::NotQueued,
            None => return Err(("exit_reason", "required for a queued call neither answered nor abandoned".into())),
        };
        let wait_ms = match (self.seconds_ms("wait_s")?, queued_at) {
            (Some(w), _) => Some(w),
            (None, None) => None,
            (None, Some(q)) => Some((answered_at.unwrap_or(ended_at) - q).num_milliseconds()),
        };
        let duration = |field| self.seconds_ms(field).map(|v| v.unwrap_or(0));
        let call = CallRecord {
            call_id,
            channel: self.text("channel").map_or(Ok(Channel::Voice), Channel::parse).map_err(|e| ("channel", e.to_string()))?,
            direction: self
                .text("direction")
                .map_or(Ok(Direction::Inbound), Direction::parse)
                .map_err(|e| ("direction", e.to_string()))?,
            caller_number: self.owned("caller_number"),
            dialled_number: self.owned("dialled_number"),
            queue,
            priority: self
                .text("priority")
                .map_or(Ok(0), |v| v.parse::<i32>())
                .map_err(|_| ("priority", "not a whole number".to_owned()))?,
            arrived_at,
            queued_at,
            answered_at,
            ended_at,
            wait_ms,
            abandoned,
            exit_reason,
            agent_id: self.text("agent_id").map(AgentId::parse).transpose().map_err(|e| ("agent_id", e.to_string()))?,
            ring_ms: duration("ring_s")?,
            talk_ms: duration("talk_s")?,
            hold_ms: duration("hold_s")?,
            wrap_ms: duration("wrap_s")?,
            transfer_target: self.owned("transfer_target"),
            disposition: self.owned("disposition"),
            ivr_path: self.owned("ivr_path"),
            sip_call_id: self.owned("sip_call_id"),
            recording: self.owned("recording"),
        };
        call.validate().map_err(|e| (field_name(e.field), e.message))?;
        Ok(call)
    }
}

/// Schema fields named by their CSV column where the two differ.
fn field_name(schema_field: &'static str) -> &'static str {
    match schema_field {
        "wait_ms" => "wait_s",
        "ring_ms" => "ring_s",
        "talk_ms" => "talk_s",
        "hold_ms" => "hold_s",
        "wrap_ms" => "wrap_s",
        other => other,
    }
}

/// RFC 3339 (`2026-03-01T09:00:05+01:00`, `…Z`) or local wall-clock time in `zone`
/// (`2026-03-01 09:00:05`, optional fraction); kept to the millisecond.
pub fn parse_timestamp(text: &str, zone: TenantZone) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc).trunc_subsecs(3));
    }
    let naive = ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .ok_or_else(|| format!("{text:?} is not a timestamp (RFC 3339, or YYYY-MM-DD HH:MM:SS local time)"))?;
    match zone.tz().from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) => Ok(t.with_timezone(&Utc).trunc_subsecs(3)),
        chrono::LocalResult::Ambiguous(_, _) => {
            Err(format!("{text} happens twice in {zone} (DST change); give the offset, e.g. {text}+01:00"))
        }
        chrono::LocalResult::None => Err(format!("{text} does not exist in {zone} (skipped by a DST change)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(text: &str, policy: BadLines) -> Result<CsvBatch, LineError> {
        parse_calls(Path::new("calls.csv"), text.as_bytes(), TenantZone::parse("Europe/Warsaw").unwrap(), policy)
    }

    const HEADER: &str = "call_id,arrived_at,queued_at,answered_at,ended_at,queue,agent_id,talk_s,abandoned,exit_reason";

    #[test]
    fn reads_answered_abandoned_and_overflowed_calls() {
        let text = format!(
            "{HEADER}\n\
             a,2026-03-02 09:00:00,2026-03-02 09:00:10,2026-03-02 09:00:30,2026-03-02 09:05:00,support,1001,250,,\n\
             b,2026-03-02T08:00:00Z,2026-03-02T08:00:05Z,,2026-03-02T08:01:00Z,support,,,true,\n\
             c,2026-03-02 09:00:00,2026-03-02 09:00:01,,2026-03-02 09:03:00,billing,,,,timeout\n"
        );
        let batch = parse(&text, BadLines::Stop).unwrap();
        assert_eq!(batch.calls.len(), 3);
        let a = &batch.calls[0];
        assert_eq!(a.wait_ms, Some(20_000));
        assert_eq!(a.talk_ms, 250_000);
        assert_eq!(a.arrived_at.to_rfc3339(), "2026-03-02T08:00:00+00:00");
        assert_eq!(batch.calls[1].exit_reason, ExitReason::Abandoned);
        assert_eq!(batch.calls[1].wait_ms, Some(55_000));
        assert_eq!(batch.calls[2].exit_reason, ExitReason::Timeout);
    }

    #[test]
    fn a_bad_field_names_file_line_and_field() {
        let text = format!(
            "{HEADER}\n\
             a,2026-03-02 09:00:00,2026-03-02 09:00:10,2026-03-02 09:00:30,2026-03-02 09:05:00,support,1001,250,,\n\
             b,2026-03-02 09:00:00,2026-03-02 09:00:10,,2026-03-02 09:05:00,support,,-5,,timeout\n"
        );
        let err = parse(&text, BadLines::Stop).unwrap_err();
        assert_eq!((err.line, err.field.as_str()), (3, "talk_s"));
        assert!(err.to_string().starts_with("calls.csv:3: field `talk_s`"), "{err}");
        let batch = parse(&text, BadLines::Skip).unwrap();
        assert_eq!(batch.calls.len(), 1);
        assert_eq!(batch.skipped.len(), 1);
    }

    #[test]
    fn header_problems_are_refused() {
        assert_eq!(parse("call_id,arrived_at,ended_at,colour\n", BadLines::Skip).unwrap_err().field, "colour");
        assert_eq!(parse("call_id,arrived_at\n", BadLines::Skip).unwrap_err().field, "ended_at");
    }

    #[test]
    fn dst_ambiguity_is_an_error_not_a_guess() {
        let zone = TenantZone::parse("Europe/Warsaw").unwrap();
        assert!(parse_timestamp("2026-10-25 02:30:00", zone).unwrap_err().contains("twice"));
        assert!(parse_timestamp("2026-03-29 02:30:00", zone).unwrap_err().contains("does not exist"));
        assert!(parse_timestamp("2026-10-25T02:30:00+01:00", zone).is_ok());
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_input(text in "\\PC{0,400}") {
            let _ = parse(&format!("{HEADER}\n{text}"), BadLines::Skip);
            let _ = parse(&text, BadLines::Stop);
        }

        #[test]
        fn accepted_rows_are_valid_records(wait in 0u32..600, talk in 0u32..3600, answered in any::<bool>()) {
            let q = "2026-03-02T08:00:00Z";
            let t = |s: u32| (chrono::DateTime::parse_from_rfc3339(q).unwrap() + chrono::Duration::seconds(s as i64)).to_rfc3339();
            let row = if answered {
                format!("x,{q},{q},{},{},support,1001,{talk},,", t(wait), t(wait + talk))
            } else {
                format!("x,{q},{q},,{},support,,,true,", t(wait))
            };
            let batch = parse(&format!("{HEADER}\n{row}\n"), BadLines::Stop).unwrap();
            prop_assert!(batch.calls[0].validate().is_ok());
            prop_assert_eq!(batch.calls[0].wait_ms, Some(wait as i64 * 1000));
        }
    }
}
