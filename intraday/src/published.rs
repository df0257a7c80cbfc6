//! What a published roster version records about the roster it stores.

use chrono::NaiveDate;
use wfm_scheduler::roster::Roster;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RosterSummary {
    pub first_date: NaiveDate,
    pub last_date: NaiveDate,
    pub activities: usize,
}

/// The dates a roster covers; `None` for a roster without rows (nothing to publish).
pub fn summary(roster: &Roster) -> Option<RosterSummary> {
    let dates = roster.activities.iter().map(|a| a.date);
    Some(RosterSummary { first_date: dates.clone().min()?, last_date: dates.max()?, activities: roster.activities.len() })
}
