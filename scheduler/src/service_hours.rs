//! A queue's service hours (rule 4): when it is open, written `"24x7"` or as days and times,
//! `"mon-fri 08:00-20:00; sat 09:00-13:00"`. Agents work only while one of their queues is open.

use chrono::{Datelike, Duration, NaiveDate};
use std::fmt;
use wfm_model::ClockTime;

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Open spans per weekday (Monday first), minutes after midnight, sorted and merged.
#[derive(Clone, PartialEq)]
pub struct ServiceHours {
    text: String,
    open: [Vec<(u32, u32)>; 7],
}

impl fmt::Debug for ServiceHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServiceHours({:?})", self.text)
    }
}

impl fmt::Display for ServiceHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl ServiceHours {
    pub fn always() -> Self {
        Self { text: "24x7".into(), open: std::array::from_fn(|_| vec![(0, 1440)]) }
    }

    /// Parses `24x7` or `;`-separated `DAYS HH:MM-HH:MM`, DAYS being `mon`, `mon-fri` or a
    /// `,`-list of those; an end of `24:00` is midnight. The error says what is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("24x7") {
            return Ok(Self::always());
        }
        let day = |s: &str| DAYS.iter().position(|d| d.eq_ignore_ascii_case(s.trim())).ok_or_else(|| format!("{s:?} is not a day ({})", DAYS.join(", ")));
        let mut open: [Vec<(u32, u32)>; 7] = Default::default();
        for entry in text.split(';').map(str::trim).filter(|e| !e.is_empty()) {
            let (days, times) = entry.split_once(' ').ok_or_else(|| format!("{entry:?} is not `DAYS HH:MM-HH:MM`"))?;
            let (from, to) = times.trim().split_once('-').ok_or_else(|| format!("{times:?} is not `HH:MM-HH:MM`"))?;
            let clock = |s: &str| ClockTime::parse(s.trim()).map(ClockTime::minutes).ok_or_else(|| format!("{s:?} is not a time HH:MM"));
            let (from, to) = (clock(from)?, clock(to)?);
            if to <= from {
                return Err(format!("{times:?} does not end after it starts (write a night as two entries)"));
            }
            for part in days.split(',') {
                let (first, last) = match part.split_once('-') {
                    Some((a, b)) => (day(a)?, day(b)?),
                    None => (day(part)?, day(part)?),
                };
                let mut d = first;
                loop {
                    open[d].push((from, to));
                    if d == last {
                        break;
                    }
                    d = (d + 1) % 7;
                }
            }
        }
        if open.iter().all(Vec::is_empty) {
            return Err("no opening hours given".into());
        }
        for spans in &mut open {
            spans.sort_unstable();
            let mut merged: Vec<(u32, u32)> = Vec::new();
            for &(f, t) in spans.iter() {
                match merged.last_mut() {
                    Some((_, end)) if f <= *end => *end = (*end).max(t),
                    _ => merged.push((f, t)),
                }
            }
            *spans = merged;
        }
        Ok(Self { text: text.to_owned(), open })
    }

    /// Whether the queue is open the whole time from `start_min` after the midnight of `date`
    /// for `length_min` minutes (by the clocks; past midnight counts on the next day).
    pub fn holds(&self, date: NaiveDate, start_min: u32, length_min: u32) -> bool {
        let (mut from, end) = (start_min, start_min + length_min);
        let mut day = date;
        let mut base = 0;
        while from < end {
            let (a, b) = (from - base, (end - base).min(1440));
            let spans = &self.open[day.weekday().num_days_from_monday() as usize];
            if !spans.iter().any(|&(f, t)| f <= a && b <= t) {
                return false;
            }
            (from, base, day) = (base + 1440, base + 1440, day + Duration::days(1));
        }
        true
    }

    /// Whether the queue is open at `minute` after the midnight of `date`.
    pub fn open_at(&self, date: NaiveDate, minute: u32) -> bool {
        self.open[date.weekday().num_days_from_monday() as usize].iter().any(|&(f, t)| f <= minute && minute < t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_times_are_read_and_judged() {
        let h = ServiceHours::parse("mon-fri 08:00-20:00; sat 09:00-13:00").unwrap();
        let monday = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        assert!(h.holds(monday, 480, 480) && !h.holds(monday, 420, 480));
        assert!(h.holds(monday + Duration::days(5), 540, 240) && !h.holds(monday + Duration::days(6), 600, 60));
        assert!(h.open_at(monday, 480) && !h.open_at(monday, 1200));
        // A night across midnight needs both days open.
        let nights = ServiceHours::parse("mon-sun 00:00-24:00").unwrap();
        assert!(nights.holds(monday, 1320, 480));
        let weekdays = ServiceHours::parse("mon-fri 00:00-24:00").unwrap();
        assert!(weekdays.holds(monday + Duration::days(3), 1320, 480) && !weekdays.holds(monday + Duration::days(4), 1320, 480));
        assert!(ServiceHours::parse("24x7").unwrap().holds(monday, 0, 1440));
        assert!(ServiceHours::parse("fri-mon 10:00-12:00").unwrap().open_at(monday, 660), "a range may wrap the week");
        for bad in ["", "mon", "funday 08:00-12:00", "mon 12:00-08:00", "mon 8am-12:00"] {
            assert!(ServiceHours::parse(bad).is_err(), "{bad}");
        }
    }
}
