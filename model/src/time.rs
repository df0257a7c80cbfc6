//! Time in a tenant's zone: local dates, and interval grids cut in local wall-clock time.
//!
//! Intervals are computed once per query as a sorted list of UTC boundaries; classifying an
//! instant is then integer arithmetic, which is what makes per-record statistics cheap.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Offset, TimeZone, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error("unknown time zone {0:?} (expected an IANA name such as Europe/Warsaw)")]
    UnknownZone(String),
    #[error("invalid date {0:?} (expected YYYY-MM-DD)")]
    InvalidDate(String),
    #[error("empty date range: --to {to} must be after --from {from}")]
    EmptyRange { from: NaiveDate, to: NaiveDate },
    #[error("date range {from}..{to} is longer than {max_days} days")]
    RangeTooLong { from: NaiveDate, to: NaiveDate, max_days: i64 },
    #[error("invalid interval {0:?} (expected 15m, 30m, 60m, day, week or month)")]
    InvalidInterval(String),
}

/// A tenant's IANA time zone, in which its dates and intervals are cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TenantZone(Tz);

impl TenantZone {
    pub fn parse(name: &str) -> Result<Self, TimeError> {
        Tz::from_str(name.trim())
            .map(Self)
            .map_err(|_| TimeError::UnknownZone(name.to_owned()))
    }

    pub fn utc() -> Self {
        Self(Tz::UTC)
    }

    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    pub fn tz(&self) -> Tz {
        self.0
    }

    /// The first instant of a local date. Where midnight does not exist (a DST jump at
    /// midnight) the day starts at the first local minute that does; a date the zone skipped
    /// altogether (Pacific/Apia's 2011-12-30, when Samoa moved across the date line) starts — and
    /// ends — where the next date starts: a day of no length.
    pub fn day_start(&self, date: NaiveDate) -> DateTime<Utc> {
        let mut local = date.and_time(NaiveTime::MIN);
        // Gaps are at most a day; step forward until the local time exists.
        for _ in 0..(2 * 24 * 60) {
            if let Some(t) = self.0.from_local_datetime(&local).earliest() {
                return t.with_timezone(&Utc);
            }
            local += Duration::minutes(1);
        }
        // No zone skips two days; should one, its midnight read as UTC is still an instant.
        date.and_time(NaiveTime::MIN).and_utc()
    }

    /// The wall-clock time at `t` in this zone.
    pub fn local_time(&self, t: DateTime<Utc>) -> chrono::NaiveDateTime {
        t.with_timezone(&self.0).naive_local()
    }

    pub fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.0).date_naive()
    }

    /// RFC 3339 with the local offset, e.g. `2026-03-29T01:45:00+01:00`.
    pub fn format_local(&self, t: DateTime<Utc>) -> String {
        let local = t.with_timezone(&self.0);
        let offset = local.offset().fix();
        local
            .with_timezone(&offset)
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
    }

    fn minutes_since_local_midnight(&self, t: DateTime<Utc>) -> u32 {
        let local = t.with_timezone(&self.0);
        local.hour() * 60 + local.minute()
    }
}

impl fmt::Display for TenantZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A half-open range of local dates `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalDateRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl LocalDateRange {
    /// Longest range a query may span: ten years of days keeps grids small.
    pub const MAX_DAYS: i64 = 3660;

    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Self, TimeError> {
        if to <= from {
            return Err(TimeError::EmptyRange { from, to });
        }
        if (to - from).num_days() > Self::MAX_DAYS {
            return Err(TimeError::RangeTooLong { from, to, max_days: Self::MAX_DAYS });
        }
        Ok(Self { from, to })
    }

    pub fn parse(from: &str, to: &str) -> Result<Self, TimeError> {
        Self::new(parse_date(from)?, parse_date(to)?)
    }

    pub fn days(&self) -> impl Iterator<Item = NaiveDate> + use<> {
        let (from, to) = (self.from, self.to);
        from.iter_days().take_while(move |d| *d < to)
    }
}

pub fn parse_date(s: &str) -> Result<NaiveDate, TimeError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| TimeError::InvalidDate(s.to_owned()))
}

/// How long one reporting interval is, in local wall-clock terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntervalLength {
    /// A divisor of a day in whole minutes: 15, 30 or 60.
    Minutes(u32),
    Day,
    /// ISO weeks, starting on Monday.
    Week,
    Month,
}

impl FromStr for IntervalLength {
    type Err = TimeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "15m" => Ok(Self::Minutes(15)),
            "30m" => Ok(Self::Minutes(30)),
            "60m" | "1h" => Ok(Self::Minutes(60)),
            "day" | "1d" => Ok(Self::Day),
            "week" => Ok(Self::Week),
            "month" => Ok(Self::Month),
            _ => Err(TimeError::InvalidInterval(s.to_owned())),
        }
    }
}

impl fmt::Display for IntervalLength {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Minutes(m) => write!(f, "{m}m"),
            Self::Day => f.write_str("day"),
            Self::Week => f.write_str("week"),
            Self::Month => f.write_str("month"),
        }
    }
}

/// The intervals covering a local date range, as UTC boundaries in milliseconds.
///
/// Interval `i` is `[boundaries[i], boundaries[i + 1])`. Weeks and months are clipped to the
/// range, so the first and last may be partial.
#[derive(Debug, Clone)]
pub struct IntervalGrid {
    zone: TenantZone,
    boundaries_ms: Vec<i64>,
    /// Mean interval length, used to guess an index before correcting it by a step or two.
    mean_step_ms: i64,
}

impl IntervalGrid {
    pub fn new(zone: TenantZone, range: LocalDateRange, length: IntervalLength) -> Self {
        let mut boundaries = Vec::new();
        for day in range.days() {
            let start = zone.day_start(day);
            let is_boundary = match length {
                IntervalLength::Minutes(_) | IntervalLength::Day => true,
                IntervalLength::Week => day == range.from || day.weekday() == Weekday::Mon,
                IntervalLength::Month => day == range.from || day.day() == 1,
            };
            if !is_boundary {
                continue;
            }
            boundaries.push(start);
            if let IntervalLength::Minutes(minutes) = length {
                let end = zone.day_start(day.succ_opt().expect("date in range"));
                push_sub_day_boundaries(zone, start, end, minutes, &mut boundaries);
            }
        }
        boundaries.push(zone.day_start(range.to));
        let boundaries_ms: Vec<i64> = boundaries.iter().map(|t| t.timestamp_millis()).collect();
        let count = (boundaries_ms.len() - 1) as i64;
        let mean_step_ms = ((boundaries_ms[boundaries_ms.len() - 1] - boundaries_ms[0]) / count).max(1);
        Self { zone, boundaries_ms, mean_step_ms }
    }

    pub fn zone(&self) -> TenantZone {
        self.zone
    }

    pub fn len(&self) -> usize {
        self.boundaries_ms.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn start_ms(&self, index: usize) -> i64 {
        self.boundaries_ms[index]
    }

    pub fn end_ms(&self, index: usize) -> i64 {
        self.boundaries_ms[index + 1]
    }

    pub fn start(&self, index: usize) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.start_ms(index)).expect("grid boundary in range")
    }

    pub fn end(&self, index: usize) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.end_ms(index)).expect("grid boundary in range")
    }

    /// The whole grid as `[start, end)` in UTC milliseconds.
    pub fn span_ms(&self) -> (i64, i64) {
        (self.boundaries_ms[0], self.boundaries_ms[self.len()])
    }

    /// The interval holding the instant, or `None` outside the grid.
    #[inline]
    pub fn index_of(&self, t_ms: i64) -> Option<usize> {
        let b = &self.boundaries_ms;
        let last = b.len() - 1;
        if t_ms < b[0] || t_ms >= b[last] {
            return None;
        }
        let mut i = (((t_ms - b[0]) / self.mean_step_ms) as usize).min(last - 1);
        while b[i] > t_ms {
            i -= 1;
        }
        while b[i + 1] <= t_ms {
            i += 1;
        }
        Some(i)
    }

    /// Calls `f(index, overlap_ms)` for every interval that `[from_ms, to_ms)` overlaps.
    pub fn for_each_overlap(&self, from_ms: i64, to_ms: i64, mut f: impl FnMut(usize, i64)) {
        let (grid_start, grid_end) = self.span_ms();
        let (from, to) = (from_ms.max(grid_start), to_ms.min(grid_end));
        if from >= to {
            return;
        }
        let mut i = self.index_of(from).expect("clipped into grid");
        while i < self.len() && self.start_ms(i) < to {
            let overlap = to.min(self.end_ms(i)) - from.max(self.start_ms(i));
            f(i, overlap);
            i += 1;
        }
    }
}

/// Boundaries after `start` and before `end` where the local time is a multiple of `minutes`
/// since local midnight. Stepping in UTC and re-aligning handles DST shifts of any size.
fn push_sub_day_boundaries(
    zone: TenantZone,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    minutes: u32,
    out: &mut Vec<DateTime<Utc>>,
) {
    let step = Duration::minutes(minutes as i64);
    let aligned = |t: DateTime<Utc>| zone.minutes_since_local_midnight(t).is_multiple_of(minutes);
    let mut t = start;
    loop {
        let mut next = t + step;
        if !aligned(next) {
            // The offset changed within the step: take the first aligned minute after `t`.
            next = t + Duration::minutes(1);
            while !aligned(next) && next < end {
                next += Duration::minutes(1);
            }
        }
        if next >= end {
            return;
        }
        out.push(next);
        t = next;
    }
}

/// A wall-clock time of day in minutes, 00:00 to 24:00 (24:00 ends a day): shift windows,
/// working hours of an IVR, wished start times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ClockTime(u32);

impl ClockTime {
    pub fn parse(s: &str) -> Option<Self> {
        let (h, m) = s.trim().split_once(':')?;
        let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
        (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(Self(h * 60 + m))
    }

    pub fn from_minutes(minutes: u32) -> Self {
        Self(minutes)
    }

    pub fn minutes(self) -> u32 {
        self.0
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}


#[cfg(test)]
mod tests {
    use super::*;

    fn grid(zone: &str, from: &str, to: &str, length: &str) -> IntervalGrid {
        IntervalGrid::new(
            TenantZone::parse(zone).unwrap(),
            LocalDateRange::parse(from, to).unwrap(),
            length.parse().unwrap(),
        )
    }

    #[test]
    fn ordinary_day_has_96_quarter_hours() {
        assert_eq!(grid("Europe/Warsaw", "2026-03-10", "2026-03-11", "15m").len(), 96);
    }

    #[test]
    fn dst_days_have_92_and_100_quarter_hours() {
        assert_eq!(grid("Europe/Warsaw", "2026-03-29", "2026-03-30", "15m").len(), 92);
        let fall = grid("Europe/Warsaw", "2026-10-25", "2026-10-26", "15m");
        assert_eq!(fall.len(), 100);
        let z = fall.zone();
        // 02:00 happens twice, once in summer time and once in winter time.
        assert_eq!(z.format_local(fall.start(8)), "2026-10-25T02:00:00+02:00");
        assert_eq!(z.format_local(fall.start(12)), "2026-10-25T02:00:00+01:00");
        assert_eq!(grid("America/New_York", "2026-03-08", "2026-03-09", "60m").len(), 23);
    }

    #[test]
    fn a_date_the_zone_skipped_is_a_day_of_no_length() {
        // Samoa went from 2011-12-29 straight to 2011-12-31.
        let days = grid("Pacific/Apia", "2011-12-29", "2012-01-01", "day");
        assert_eq!(days.len(), 3);
        assert_eq!(days.start(1), days.start(2), "the 30th did not happen");
        assert_eq!(days.end(0), days.start(2));
        let quarters = grid("Pacific/Apia", "2011-12-29", "2012-01-01", "15m");
        assert_eq!(quarters.len(), 96 + 1 + 96, "the 30th is one empty interval");
        assert_eq!(quarters.index_of(quarters.start(97).timestamp_millis()), Some(97), "the 31st's first quarter, not the empty day");
        assert_eq!(quarters.index_of(quarters.start(96).timestamp_millis() - 1), Some(95));
    }

    #[test]
    fn half_hour_offsets_and_shifts() {
        // Lord Howe shifts by 30 minutes: hours are still cut on local full hours.
        let g = grid("Australia/Lord_Howe", "2026-04-05", "2026-04-06", "60m");
        let z = g.zone();
        for i in 0..g.len() {
            assert!(z.format_local(g.start(i)).contains(":00:00"), "{}", z.format_local(g.start(i)));
        }
        assert_eq!(grid("Asia/Kolkata", "2026-01-01", "2026-01-02", "30m").len(), 48);
    }

    #[test]
    fn weeks_and_months_are_calendar_aligned_and_clipped() {
        // 2026-03-04 is a Wednesday.
        let w = grid("UTC", "2026-03-04", "2026-03-20", "week");
        assert_eq!(w.len(), 3);
        assert_eq!(w.start(1).date_naive().to_string(), "2026-03-09");
        let m = grid("Europe/Warsaw", "2026-01-15", "2026-04-01", "month");
        assert_eq!(m.len(), 3);
        assert_eq!(m.zone().format_local(m.start(2)), "2026-03-01T00:00:00+01:00");
    }

    #[test]
    fn index_of_edges() {
        let g = grid("Europe/Warsaw", "2026-10-24", "2026-10-27", "15m");
        let (start, end) = g.span_ms();
        assert_eq!(g.index_of(start - 1), None);
        assert_eq!(g.index_of(start), Some(0));
        assert_eq!(g.index_of(end - 1), Some(g.len() - 1));
        assert_eq!(g.index_of(end), None);
        for i in 0..g.len() {
            assert_eq!(g.index_of(g.start_ms(i)), Some(i));
            assert_eq!(g.index_of(g.end_ms(i) - 1), Some(i));
        }
        let d = grid("Europe/Warsaw", "2026-10-01", "2026-11-30", "day");
        for i in 0..d.len() {
            assert_eq!(d.index_of(d.start_ms(i)), Some(i));
            assert_eq!(d.index_of(d.end_ms(i) - 1), Some(i));
        }
    }

    #[test]
    fn overlaps_split_a_period_across_intervals() {
        let g = grid("UTC", "2026-01-01", "2026-01-02", "15m");
        let mut seen = Vec::new();
        let t0 = g.start_ms(4) + 10 * 60_000; // 01:10
        g.for_each_overlap(t0, t0 + 20 * 60_000, |i, ms| seen.push((i, ms)));
        assert_eq!(seen, vec![(4, 5 * 60_000), (5, 15 * 60_000)]);
    }

    #[test]
    fn bad_inputs_are_named() {
        assert!(matches!(TenantZone::parse("Mars/Base"), Err(TimeError::UnknownZone(_))));
        assert!(matches!(LocalDateRange::parse("2026-01-02", "2026-01-02"), Err(TimeError::EmptyRange { .. })));
        assert!(matches!("7m".parse::<IntervalLength>(), Err(TimeError::InvalidInterval(_))));
    }
}
