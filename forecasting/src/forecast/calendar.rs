//! A tenant's calendar of holidays, special days and events (campaigns, outages, media), each
//! with its effect on volume and handle time. Past entries clean the history; future ones
//! adjust the forecast. An entry whose factor is left empty has it estimated from history.

use chrono::NaiveDate;
use std::io::Read;

use super::ForecastError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    Holiday,
    Special,
    Campaign,
    Outage,
    Media,
    Event,
}

impl EntryKind {
    const ALL: [(&'static str, EntryKind); 6] = [
        ("holiday", Self::Holiday),
        ("special", Self::Special),
        ("campaign", Self::Campaign),
        ("outage", Self::Outage),
        ("media", Self::Media),
        ("event", Self::Event),
    ];

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().find(|(name, _)| *name == s).map(|(_, k)| *k)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CalendarEntry {
    pub date: NaiveDate,
    pub kind: EntryKind,
    pub name: String,
    /// Every queue when `None`.
    pub queue: Option<String>,
    /// Multiplier on the volume the hours would have had; estimated from history when `None`.
    pub volume_factor: Option<f64>,
    pub aht_factor: Option<f64>,
    /// Local hours `[from_hour, to_hour)`; the whole day by default.
    pub from_hour: u32,
    pub to_hour: u32,
}

impl CalendarEntry {
    pub fn applies_to(&self, queue: &str) -> bool {
        self.queue.as_deref().is_none_or(|q| q == queue)
    }

    pub fn covers_slot(&self, slot: usize, slot_minutes: u32) -> bool {
        let minute = slot as u32 * slot_minutes;
        self.from_hour * 60 <= minute && minute < self.to_hour * 60
    }
}

const COLUMNS: [&str; 9] = ["tenant", "date", "kind", "name", "queue", "volume_factor", "aht_factor", "from_hour", "to_hour"];

/// Reads a calendar CSV (`docs/forecasting.md`), keeping the rows of `tenant` (and rows without
/// a tenant column or with it empty).
pub fn parse(name: &str, input: impl Read, tenant: &str) -> Result<Vec<CalendarEntry>, ForecastError> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(input);
    let headers = reader.headers().map_err(|e| ForecastError::File { file: name.into(), message: e.to_string() })?.clone();
    let bad = |line: u64, field: &str, message: String| ForecastError::Input { file: name.into(), line, field: field.into(), message };
    for h in &headers {
        if !COLUMNS.contains(&h) {
            return Err(bad(1, h, format!("unknown column (known: {})", COLUMNS.join(", "))));
        }
    }
    for required in ["date", "kind", "name"] {
        if !headers.iter().any(|h| h == required) {
            return Err(bad(1, required, "missing column".into()));
        }
    }
    let mut entries = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| ForecastError::File { file: name.into(), message: e.to_string() })?;
        let line = record.position().map_or(0, |p| p.line());
        let get = |field: &str| headers.iter().position(|h| h == field).map(|i| &record[i]).filter(|v| !v.is_empty());
        if get("tenant").is_some_and(|t| t != tenant) {
            continue;
        }
        let date = get("date").unwrap_or_default();
        let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| bad(line, "date", format!("{date:?} is not a date YYYY-MM-DD")))?;
        let kind = get("kind").unwrap_or_default();
        let kind = EntryKind::parse(kind).ok_or_else(|| {
            bad(line, "kind", format!("{kind:?} is not one of {}", EntryKind::ALL.map(|(n, _)| n).join(", ")))
        })?;
        // A volume factor may be 0 (closed); handle time cannot vanish.
        let factor = |field: &str, zero_allowed: bool| {
            let range = if zero_allowed { "from 0 to 100" } else { "above 0, up to 100" };
            get(field)
                .map(|v| {
                    v.parse::<f64>()
                        .ok()
                        .filter(|f| *f <= 100.0 && (*f > 0.0 || (zero_allowed && *f == 0.0)))
                        .ok_or_else(|| bad(line, field, format!("{v:?} is not a factor {range}")))
                })
                .transpose()
        };
        let hour = |field: &str, default: u32| {
            get(field)
                .map(|v| v.parse::<u32>().ok().filter(|h| *h <= 24).ok_or_else(|| bad(line, field, format!("{v:?} is not an hour 0–24"))))
                .transpose()
                .map(|h| h.unwrap_or(default))
        };
        let (from_hour, to_hour) = (hour("from_hour", 0)?, hour("to_hour", 24)?);
        if from_hour >= to_hour {
            return Err(bad(line, "to_hour", format!("{to_hour} is not after from_hour {from_hour}")));
        }
        entries.push(CalendarEntry {
            date,
            kind,
            name: get("name").ok_or_else(|| bad(line, "name", "empty".into()))?.to_owned(),
            queue: get("queue").map(str::to_owned),
            volume_factor: factor("volume_factor", true)?,
            aht_factor: factor("aht_factor", false)?,
            from_hour,
            to_hour,
        });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_generators_calendar_and_names_bad_fields() {
        let csv = "tenant,date,kind,name,volume_factor,from_hour,to_hour\n\
                   demo,2026-12-25,holiday,Christmas Day,0.35,0,24\n\
                   t01,2026-12-25,holiday,Christmas Day,0.35,0,24\n\
                   demo,2026-03-04,campaign,marketing campaign,,10,13\n";
        let entries = parse("cal.csv", csv.as_bytes(), "demo").unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1].volume_factor, None);
        assert!(entries[1].covers_slot(40, 15) && !entries[1].covers_slot(52, 15));
        let e = parse("cal.csv", "date,kind,name\n2026-01-01,party,x\n".as_bytes(), "demo").unwrap_err().to_string();
        assert!(e.starts_with("cal.csv:2: `kind`: \"party\" is not one of holiday"), "{e}");
        let e = parse("cal.csv", "date,kind,name,colour\n".as_bytes(), "demo").unwrap_err().to_string();
        assert!(e.contains("`colour`: unknown column"), "{e}");
        let e = parse("cal.csv", "date,kind,name,volume_factor\n2026-01-01,holiday,x,-2\n".as_bytes(), "demo").unwrap_err().to_string();
        assert!(e.contains("cal.csv:2: `volume_factor`"), "{e}");
        let e = parse("cal.csv", "date,kind,name,aht_factor\n2026-01-01,holiday,x,0\n".as_bytes(), "demo").unwrap_err().to_string();
        assert!(e.contains("cal.csv:2: `aht_factor`"), "{e}");
        assert!(parse("cal.csv", "date,kind,name,volume_factor\n2026-01-01,holiday,x,0\n".as_bytes(), "demo").is_ok());
    }
}
