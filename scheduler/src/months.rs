//! The calendar months a roster's dates touch, and the agents' monthly contract limits
//! (`max_hours_month`, `min_days_off_month`) pro rata to the part of each month inside the
//! roster: a roster of 10 of March's 31 days allows 10/31 of the month's hours.

use chrono::{Datelike, NaiveDate};

/// One calendar month's part of a roster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthShare {
    /// Its first date inside the roster.
    pub first: NaiveDate,
    pub days_in_roster: u32,
    pub days_in_month: u32,
}

impl MonthShare {
    /// Paid minutes `max_hours_month` allows in this part, rounded down.
    pub fn max_paid_min(&self, max_hours_month: u32) -> i64 {
        i64::from(max_hours_month) * 60 * i64::from(self.days_in_roster) / i64::from(self.days_in_month)
    }

    /// Days off `min_days_off_month` asks for in this part, rounded down (a part too short for
    /// a whole day asks none).
    pub fn min_days_off(&self, min_days_off_month: u32) -> u32 {
        min_days_off_month * self.days_in_roster / self.days_in_month
    }

    /// Dates of the part on which the agent may work at most.
    pub fn max_days_worked(&self, min_days_off_month: u32) -> u32 {
        self.days_in_roster.saturating_sub(self.min_days_off(min_days_off_month))
    }
}

/// The months of `first..=last`, in order.
pub fn month_shares(first: NaiveDate, last: NaiveDate) -> Vec<MonthShare> {
    let mut out: Vec<MonthShare> = Vec::new();
    for date in first.iter_days().take_while(|d| *d <= last) {
        match out.last_mut() {
            Some(m) if m.first.month() == date.month() && m.first.year() == date.year() => m.days_in_roster += 1,
            _ => out.push(MonthShare { first: date, days_in_roster: 1, days_in_month: days_in_month(date) }),
        }
    }
    out
}

fn days_in_month(date: NaiveDate) -> u32 {
    let first = date.with_day(1).expect("every month has a first day");
    let next = first.checked_add_months(chrono::Months::new(1)).expect("a month after any roster date");
    (next - first).num_days() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_roster_across_two_months_takes_each_pro_rata() {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        let shares = month_shares(d(3, 23), d(4, 5));
        assert_eq!(shares, vec![MonthShare { first: d(3, 23), days_in_roster: 9, days_in_month: 31 }, MonthShare { first: d(4, 1), days_in_roster: 5, days_in_month: 30 }]);
        // 160 hours a month: 9/31 of it is 46 h 27 min; 8 days off: 2 in March's part, 1 in April's.
        assert_eq!(shares[0].max_paid_min(160), 2787);
        assert_eq!((shares[0].min_days_off(8), shares[1].min_days_off(8)), (2, 1));
        assert_eq!(shares[1].max_days_worked(8), 4);
        assert_eq!(month_shares(d(2, 1), d(2, 28))[0].days_in_month, 28);
    }
}
