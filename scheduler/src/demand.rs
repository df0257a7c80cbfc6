//! The requirement curve the roster must cover: agents per queue and interval, read from the
//! `requirements.csv` that `wfm staff` writes (or any file with its columns).

use crate::InputError;
use chrono::{DateTime, FixedOffset};
use std::collections::BTreeMap;
use std::io::Read;
use wfm_model::QueueName;

/// Agents required per queue on one grid of equal intervals.
#[derive(Debug, Clone, PartialEq)]
pub struct Demand {
    /// Interval starts, in time order, as written (local with offset).
    pub starts: Vec<DateTime<FixedOffset>>,
    pub interval_min: u32,
    /// Per queue, one count per interval (0 where the file has no row).
    pub queues: BTreeMap<QueueName, Vec<u32>>,
}

/// Longest requirement curve read: a roster covers weeks, not years.
pub const MAX_SPAN_DAYS: i64 = 400;

/// Which count to cover: the agents on the phones, or those plus shrinkage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Agents,
    AgentsWithShrinkage,
}

impl Column {
    fn name(self) -> &'static str {
        match self {
            Self::Agents => "agents",
            Self::AgentsWithShrinkage => "agents_with_shrinkage",
        }
    }
}

pub fn parse(name: &str, input: impl Read, column: Column) -> Result<Demand, InputError> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(input);
    let headers = reader.headers().map_err(|e| InputError::File { file: name.into(), message: e.to_string() })?.clone();
    let bad = |line: u64, field: &str, message: String| InputError::Field { file: name.into(), line, field: field.into(), message };
    let index = |field: &str| headers.iter().position(|h| h == field).ok_or_else(|| bad(1, field, "missing column".into()));
    let (queue_i, start_i, count_i) = (index("queue")?, index("interval_start")?, index(column.name())?);
    let mut rows: Vec<(QueueName, DateTime<FixedOffset>, u32, u64)> = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| InputError::File { file: name.into(), message: e.to_string() })?;
        let line = record.position().map_or(0, |p| p.line());
        let queue = QueueName::parse(&record[queue_i]).map_err(|e| bad(line, "queue", e.to_string()))?;
        let start = DateTime::parse_from_rfc3339(&record[start_i])
            .map_err(|_| bad(line, "interval_start", format!("{:?} is not an RFC 3339 time with offset", &record[start_i])))?;
        let count = record[count_i].parse::<u32>().map_err(|_| bad(line, column.name(), format!("{:?} is not a whole number of agents", &record[count_i])))?;
        rows.push((queue, start, count, line));
    }
    if rows.is_empty() {
        return Err(InputError::File { file: name.into(), message: "no requirement rows".into() });
    }
    let mut starts: Vec<DateTime<FixedOffset>> = rows.iter().map(|r| r.1).collect();
    starts.sort();
    starts.dedup();
    let step = starts.windows(2).map(|w| (w[1] - w[0]).num_minutes()).min().unwrap_or(15);
    if step <= 0 || 1440 % step != 0 {
        return Err(InputError::File { file: name.into(), message: format!("intervals {step} minutes apart do not divide a day") });
    }
    if let Some(w) = starts.windows(2).find(|w| (w[1] - w[0]).num_minutes() % step != 0) {
        return Err(InputError::File { file: name.into(), message: format!("{} is not on the {step}-minute grid that starts {}", w[1], starts[0]) });
    }
    // The full grid from first to last, so that a missing row means nobody is needed.
    let first = starts[0];
    let span_days = (*starts.last().expect("non-empty") - first).num_days();
    if span_days > MAX_SPAN_DAYS {
        return Err(InputError::File { file: name.into(), message: format!("{span_days} days from first to last interval; at most {MAX_SPAN_DAYS}") });
    }
    let count = ((*starts.last().expect("non-empty") - first).num_minutes() / step) as usize + 1;
    // Each interval keeps the offset the file gives it (summer time may start or end inside the
    // curve); an interval without a row takes the offset of the last row before it.
    let offsets: BTreeMap<DateTime<FixedOffset>, FixedOffset> = rows.iter().map(|r| (r.1, *r.1.offset())).collect();
    let starts: Vec<DateTime<FixedOffset>> = (0..count)
        .map(|i| {
            let t = first + chrono::Duration::minutes(step * i as i64);
            let offset = offsets.range(..=t).next_back().map_or(*first.offset(), |(_, o)| *o);
            t.with_timezone(&offset)
        })
        .collect();
    let mut queues: BTreeMap<QueueName, Vec<u32>> = BTreeMap::new();
    for (queue, start, agents, line) in rows {
        let slot = ((start - first).num_minutes() / step) as usize;
        let curve = queues.entry(queue).or_insert_with(|| vec![0; count]);
        if curve[slot] != 0 && agents != 0 {
            return Err(bad(line, "interval_start", format!("{start} appears twice for this queue")));
        }
        curve[slot] = agents;
    }
    Ok(Demand { starts, interval_min: step as u32, queues })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wfm_staff_output_onto_a_full_grid() {
        let csv = "queue,interval_start,calls,aht_s,agents,agents_with_shrinkage\n\
                   support,2026-03-02T09:00:00+01:00,10,180,4,6\n\
                   support,2026-03-02T09:30:00+01:00,12,180,5,8\n\
                   billing,2026-03-02T09:15:00+01:00,3,200,2,3\n";
        let d = parse("requirements.csv", csv.as_bytes(), Column::Agents).unwrap();
        assert_eq!(d.interval_min, 15);
        assert_eq!(d.starts.len(), 3);
        assert_eq!(d.queues[&QueueName::parse("support").unwrap()], vec![4, 0, 5]);
        assert_eq!(d.queues[&QueueName::parse("billing").unwrap()], vec![0, 2, 0]);
        let d = parse("requirements.csv", csv.as_bytes(), Column::AgentsWithShrinkage).unwrap();
        assert_eq!(d.queues[&QueueName::parse("support").unwrap()], vec![6, 0, 8]);
    }

    #[test]
    fn each_interval_keeps_its_own_offset_across_a_clock_change() {
        // Clocks go forward at 02:00 on 2026-03-29 in Paris: 01:45+01:00 is followed by 03:00+02:00.
        let csv = "queue,interval_start,agents\n\
                   support,2026-03-29T01:30:00+01:00,1\n\
                   support,2026-03-29T01:45:00+01:00,1\n\
                   support,2026-03-29T03:15:00+02:00,2\n";
        let d = parse("requirements.csv", csv.as_bytes(), Column::Agents).unwrap();
        let local: Vec<String> = d.starts.iter().map(|t| t.to_rfc3339()).collect();
        // The gap between the rows has no row: it keeps the offset before it.
        assert_eq!(local, ["2026-03-29T01:30:00+01:00", "2026-03-29T01:45:00+01:00", "2026-03-29T02:00:00+01:00", "2026-03-29T03:15:00+02:00"]);
    }

    #[test]
    fn bad_rows_name_line_and_field() {
        let e = parse("r.csv", "queue,interval_start,agents\nsupport,2026-03-02 09:00,4\n".as_bytes(), Column::Agents).unwrap_err().to_string();
        assert!(e.starts_with("r.csv:2: `interval_start`"), "{e}");
        let e = parse("r.csv", "queue,interval_start,agents\nsupport,2026-03-02T09:00:00+01:00,-4\n".as_bytes(), Column::Agents).unwrap_err().to_string();
        assert!(e.starts_with("r.csv:2: `agents`"), "{e}");
        let e = parse("r.csv", "queue,interval_start\n".as_bytes(), Column::Agents).unwrap_err().to_string();
        assert!(e.contains("`agents`: missing column"), "{e}");
        let dup = "queue,interval_start,agents\nsupport,2026-03-02T09:00:00+01:00,4\nsupport,2026-03-02T09:00:00+01:00,5\n";
        assert!(parse("r.csv", dup.as_bytes(), Column::Agents).unwrap_err().to_string().contains("appears twice"));
    }
}
