//! Agents' requests for the planned period: approved leave (hard: no work then), overtime
//! (more hours allowed that week, and wished for), days off and shift starts wished for (soft).
//!
//! CSV columns `agent_id, kind, date` and, as the kind needs, `from, to` (local HH:MM) or
//! `hours`: `leave` (the whole day, or `from`–`to`), `overtime` (`hours`), `day-off`,
//! `start` (`from`: the wished start time).

use crate::rules::ClockTime;
use crate::InputError;
use chrono::NaiveDate;
use std::io::Read;
use wfm_model::AgentId;

#[derive(Debug, Clone, PartialEq)]
pub enum RequestKind {
    /// Approved leave: the whole day when `span` is `None`.
    Leave { span: Option<(ClockTime, ClockTime)> },
    Overtime { hours: f64 },
    DayOff,
    Start { at: ClockTime },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub agent_id: AgentId,
    pub date: NaiveDate,
    pub kind: RequestKind,
}

const COLUMNS: [&str; 6] = ["agent_id", "kind", "date", "from", "to", "hours"];

pub fn parse(name: &str, input: impl Read) -> Result<Vec<Request>, InputError> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(input);
    let headers = reader.headers().map_err(|e| InputError::File { file: name.into(), message: e.to_string() })?.clone();
    let bad = |line: u64, field: &str, message: String| InputError::Field { file: name.into(), line, field: field.into(), message };
    for h in &headers {
        if !COLUMNS.contains(&h) {
            return Err(bad(1, h, format!("unknown column (known: {})", COLUMNS.join(", "))));
        }
    }
    for required in &COLUMNS[..3] {
        if !headers.iter().any(|h| h == *required) {
            return Err(bad(1, required, "missing column".into()));
        }
    }
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| InputError::File { file: name.into(), message: e.to_string() })?;
        let line = record.position().map_or(0, |p| p.line());
        let get = |field: &str| headers.iter().position(|h| h == field).map(|i| &record[i]).filter(|v| !v.is_empty());
        let need = |field: &str, kind: &str| get(field).ok_or_else(|| bad(line, field, format!("needed for {kind}")));
        let clock = |field: &str, v: &str| ClockTime::parse(v).ok_or_else(|| bad(line, field, format!("{v:?} is not a time HH:MM")));
        let agent_id = AgentId::parse(get("agent_id").unwrap_or_default()).map_err(|e| bad(line, "agent_id", e.to_string()))?;
        let date_text = get("date").unwrap_or_default();
        let date = NaiveDate::parse_from_str(date_text, "%Y-%m-%d").map_err(|_| bad(line, "date", format!("{date_text:?} is not a date")))?;
        let kind = match get("kind").unwrap_or_default() {
            "leave" => {
                let span = match (get("from"), get("to")) {
                    (None, None) => None,
                    (Some(f), Some(t)) => {
                        let (f, t) = (clock("from", f)?, clock("to", t)?);
                        if f >= t {
                            return Err(bad(line, "to", format!("{t} is not after {f}")));
                        }
                        Some((f, t))
                    }
                    _ => return Err(bad(line, "to", "give both from and to, or neither for a whole day".into())),
                };
                RequestKind::Leave { span }
            }
            "overtime" => {
                let v = need("hours", "overtime")?;
                let hours = v.parse::<f64>().ok().filter(|h| *h > 0.0 && *h <= 24.0).ok_or_else(|| bad(line, "hours", format!("{v:?} is not hours in (0, 24]")))?;
                RequestKind::Overtime { hours }
            }
            "day-off" => RequestKind::DayOff,
            "start" => RequestKind::Start { at: clock("from", need("from", "start")?)? },
            other => return Err(bad(line, "kind", format!("{other:?} is not one of leave, overtime, day-off, start"))),
        };
        out.push(Request { agent_id, date, kind });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_kind_and_names_bad_fields() {
        let csv = "agent_id,kind,date,from,to,hours\n\
                   a1,leave,2026-03-04,,,\n\
                   a1,leave,2026-03-05,09:00,13:00,\n\
                   a2,overtime,2026-03-06,,,4\n\
                   a3,day-off,2026-03-07,,,\n\
                   a3,start,2026-03-09,08:00,,\n";
        let r = parse("requests.csv", csv.as_bytes()).unwrap();
        assert_eq!(r.len(), 5);
        assert_eq!(r[0].kind, RequestKind::Leave { span: None });
        assert_eq!(r[2].kind, RequestKind::Overtime { hours: 4.0 });
        for (csv, expected) in [
            ("agent_id,kind,date\na1,holiday,2026-03-04\n", "requests.csv:2: `kind`"),
            ("agent_id,kind,date,hours\na1,overtime,2026-03-04,\n", "requests.csv:2: `hours`: needed for overtime"),
            ("agent_id,kind,date,from,to\na1,leave,2026-03-04,13:00,09:00\n", "requests.csv:2: `to`"),
            ("agent_id,kind,date,from\na1,leave,2026-03-04,13:00\n", "requests.csv:2: `to`"),
            ("agent_id,kind,day\n", "requests.csv:1: `day`: unknown column"),
        ] {
            let e = parse("requests.csv", csv.as_bytes()).unwrap_err().to_string();
            assert!(e.starts_with(expected), "{e}");
        }
    }
}
