//! A roster: one row per activity, `agent_id, date, activity, start, end`, times local with
//! their offset. A shift is an agent's work, break, meal and training rows of one date (the date
//! the shift starts).

use crate::InputError;
use chrono::{DateTime, FixedOffset, NaiveDate};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use wfm_model::AgentId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ActivityKind {
    Work,
    Break,
    Meal,
    Training,
    Leave,
    DayOff,
}

impl ActivityKind {
    pub const ALL: [ActivityKind; 6] = [Self::Work, Self::Break, Self::Meal, Self::Training, Self::Leave, Self::DayOff];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Work => "work",
            Self::Break => "break",
            Self::Meal => "meal",
            Self::Training => "training",
            Self::Leave => "leave",
            Self::DayOff => "day-off",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Part of a shift.
    pub fn on_shift(self) -> bool {
        matches!(self, Self::Work | Self::Break | Self::Meal | Self::Training)
    }

    /// Counts as working time without taking calls' time away: breaks are paid, meals are not.
    pub fn paid(self) -> bool {
        matches!(self, Self::Work | Self::Break | Self::Training)
    }

    /// Time at work without a pause.
    pub fn continuous_work(self) -> bool {
        matches!(self, Self::Work | Self::Training)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    pub agent_id: AgentId,
    pub date: NaiveDate,
    pub kind: ActivityKind,
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
}

impl Activity {
    pub fn minutes(&self) -> i64 {
        (self.end - self.start).num_minutes()
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Roster {
    pub activities: Vec<Activity>,
}

/// One agent's shift on one date, its activities in time order.
#[derive(Debug, Clone)]
pub struct Shift<'a> {
    pub agent_id: &'a AgentId,
    pub date: NaiveDate,
    pub activities: Vec<&'a Activity>,
}

impl Shift<'_> {
    pub fn start(&self) -> DateTime<FixedOffset> {
        self.activities[0].start
    }

    pub fn end(&self) -> DateTime<FixedOffset> {
        self.activities.iter().map(|a| a.end).max().expect("a shift has activities")
    }

    /// How long the shift really lasts.
    pub fn length_min(&self) -> i64 {
        (self.end() - self.start()).num_minutes()
    }

    /// Where the shift starts by the clocks, in minutes after the midnight of its date.
    pub fn clock_start_min(&self) -> i64 {
        (self.start().naive_local() - self.date.and_time(chrono::NaiveTime::MIN)).num_minutes()
    }

    /// Where the shift ends by the clocks, in minutes after the midnight of its date (past 1440
    /// for a shift that crosses midnight).
    pub fn clock_end_min(&self) -> i64 {
        (self.end().naive_local() - self.date.and_time(chrono::NaiveTime::MIN)).num_minutes()
    }

    /// How long the shift lasts by the clocks: a 22:00–06:00 night is 480 minutes even on the
    /// night summer time starts (420 in fact) or ends (540). The rules' lengths are the clocks'.
    pub fn clock_length_min(&self) -> i64 {
        (self.end().naive_local() - self.start().naive_local()).num_minutes()
    }

    pub fn paid_min(&self) -> i64 {
        self.activities.iter().filter(|a| a.kind.paid()).map(|a| a.minutes()).sum()
    }
}

impl Roster {
    /// Shifts by agent, then start.
    pub fn shifts(&self) -> Vec<Shift<'_>> {
        let mut by_key: BTreeMap<(&AgentId, NaiveDate), Vec<&Activity>> = BTreeMap::new();
        for a in self.activities.iter().filter(|a| a.kind.on_shift()) {
            by_key.entry((&a.agent_id, a.date)).or_default().push(a);
        }
        by_key
            .into_iter()
            .map(|((agent_id, date), mut activities)| {
                activities.sort_by_key(|a| a.start);
                Shift { agent_id, date, activities }
            })
            .collect()
    }

    /// Puts activities in (agent, start) order, days off beginning when the night before them
    /// ends: a day-off row overlapping the agent's shift of the date before is cut to start at
    /// that shift's end (dropped if nothing is left).
    pub fn tidy(&mut self) {
        let ends: BTreeMap<(AgentId, NaiveDate), DateTime<FixedOffset>> = self.shifts().iter().map(|s| ((s.agent_id.clone(), s.date), s.end())).collect();
        self.activities.retain_mut(|a| {
            if a.kind == ActivityKind::DayOff
                && let Some(&end) = a.date.pred_opt().and_then(|before| ends.get(&(a.agent_id.clone(), before)))
                && end > a.start {
                    a.start = end;
                }
            a.start < a.end
        });
        self.activities.sort_by(|x, y| (x.agent_id.as_str(), x.start).cmp(&(y.agent_id.as_str(), y.start)));
    }

    pub fn read_csv(name: &str, input: impl Read) -> Result<Self, InputError> {
        let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(input);
        let headers = reader.headers().map_err(|e| InputError::File { file: name.into(), message: e.to_string() })?.clone();
        let bad = |line: u64, field: &str, message: String| InputError::Field { file: name.into(), line, field: field.into(), message };
        let columns = ["agent_id", "date", "activity", "start", "end"];
        let index: Vec<usize> = columns
            .iter()
            .map(|c| headers.iter().position(|h| h == *c).ok_or_else(|| bad(1, c, "missing column".into())))
            .collect::<Result<_, _>>()?;
        let mut activities = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| InputError::File { file: name.into(), message: e.to_string() })?;
            let line = record.position().map_or(0, |p| p.line());
            let field = |k: usize| &record[index[k]];
            let time = |k: usize| {
                DateTime::parse_from_rfc3339(field(k)).map_err(|_| bad(line, columns[k], format!("{:?} is not an RFC 3339 time with offset", field(k))))
            };
            let activity = Activity {
                agent_id: AgentId::parse(field(0)).map_err(|e| bad(line, "agent_id", e.to_string()))?,
                date: NaiveDate::parse_from_str(field(1), "%Y-%m-%d").map_err(|_| bad(line, "date", format!("{:?} is not a date", field(1))))?,
                kind: ActivityKind::parse(field(2)).ok_or_else(|| {
                    bad(line, "activity", format!("{:?} is not one of {}", field(2), ActivityKind::ALL.map(|k| k.as_str()).join(", ")))
                })?,
                start: time(3)?,
                end: time(4)?,
            };
            if activity.end <= activity.start {
                return Err(bad(line, "end", "not after start".into()));
            }
            activities.push(activity);
        }
        Ok(Self { activities })
    }

    pub fn write_csv(&self, out: impl Write) -> std::io::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(["agent_id", "date", "activity", "start", "end"])?;
        for a in &self.activities {
            let time = |t: DateTime<FixedOffset>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
            w.write_record([a.agent_id.as_str(), &a.date.to_string(), a.kind.as_str(), &time(a.start), &time(a.end)])?;
        }
        w.flush()
    }
}
