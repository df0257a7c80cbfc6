//! The supervisor's day: agents' states compared with the published roster.
//!
//! - [`rules`]: `adherence.toml`, the states in adherence with each roster activity and the
//!   thresholds, strictly parsed with built-in defaults.
//! - [`adherence`]: the figures of one agent on one local date — adherence, conformance,
//!   attendance, the counted exceptions. Sans-IO: periods and the plan in, figures out. The
//!   report, the HTTP rows and the live view all call [`adherence::evaluate`].
//! - [`history`]: that function over a range of dates read from the store, and the roll-ups
//!   per team and per week or month.
//! - [`published`]: what a published roster version records (its dates).
//! - [`live`], [`alarms`], [`kpis`]: the live board of agents' adherence, the two-level alarms
//!   and the live KPI settings, sans-IO (events and the time in, statuses and changes out).
//! - [`escalation`]: the surge ladder (`escalation.toml`), sans-IO; [`replay`] runs it over a
//!   past day from the store.
//! - [`incidents`]: `incidents.toml`, incidents with their escalation timers, the standard
//!   phrase, the decision matrix, agents moved and deferred cases, sans-IO.
//!
//! Depends on `wfm-model`, the store (`wfm-analytics`, reading agent states) and the roster
//! format (`wfm-scheduler::roster`); knows nothing of HTTP, SIP or the operational database.
//! The definitions are written out in docs/intraday.md; a change here changes them there.

pub mod adherence;
pub mod alarms;
pub mod escalation;
pub mod history;
pub mod incidents;
pub mod kpis;
pub mod live;
mod plans;
pub mod published;
pub mod replay;
pub mod rules;

pub use adherence::{evaluate, AgentDay, DayFigures, Exception, Period, Planned};
pub use history::{adherence_report, roll_up, AdherenceRow, ExceptionRow, GroupBy, HistoryError, HistoryQuery, Per, Report, RollupRow};
pub use rules::{AdherenceRules, RulesError};

/// A tenant's rules file: parsed when it exists, the built-in defaults when it does not; one
/// that cannot be read is an error made by `unreadable(file, message)`.
fn load_or_default<T: Default, E>(path: &std::path::Path, parse: impl FnOnce(&str, &str) -> Result<T, E>, unreadable: impl FnOnce(String, String) -> E) -> Result<T, E> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&path.display().to_string(), &text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(T::default()),
        Err(e) => Err(unreadable(path.display().to_string(), e.to_string())),
    }
}
