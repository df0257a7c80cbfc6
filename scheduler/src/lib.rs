//! Scheduling: who works which shift, with breaks, over the coming weeks.
//!
//! - [`rules`]: `rules.toml` — shift shapes, breaks and meals, hard rules and weighted soft
//!   rules — parsed strictly (unknown keys are errors) into checked values.
//! - [`agents`]: the agents file — skills with efficiency, team, contract hours and preferences.
//! - [`demand`]: the requirement curve to cover, agents per queue and interval, from the file
//!   `wfm staff` writes.
//! - [`design`]: shift design — how many shifts of each shape each day — by a linear
//!   programme (good_lp, pure-Rust microlp) whose optimum is the under-staffing lower bound.
//! - [`months`]: the calendar months a roster touches and the monthly contract limits pro rata.
//! - [`service_hours`]: when each queue is open (`24x7`, `mon-fri 08:00-20:00`).
//! - [`requests`]: approved leave, overtime, wished days off and start times.
//! - [`roster`]: a roster as activities (work, break, meal, training, leave, day off) in local
//!   time, read from and written to `roster.csv`.
//! - [`score`]: soft-rule penalties and fairness figures of a roster, from the roster alone.
//! - [`skills`]: per-skill coverage — agents on duty allocated to the queues they can serve by
//!   a maximum flow, and what one more agent of a skill set would add.
//! - [`assign`]: naming agents for the designed shifts under every hard rule, and the local
//!   search that improves the roster (re-scheduling against a baseline included).
//! - [`activities`]: the assigned shifts as a roster's rows — breaks, meals, training, leave
//!   and days off.
//! - [`changes`]: shift swaps and leave checked against the rules and the coverage, and who
//!   could fill a gap.
//! - [`check`]: the independent checker: every hard-rule violation of a roster, computed from
//!   the roster alone, never from a solver's bookkeeping.
//!
//! Depends on `wfm-model` only; it must not
//! depend on the store, forecasting's internals, telephony or the web layer — requirements
//! come in as a file.

pub mod activities;
pub mod agents;
pub mod assign;
pub mod changes;
pub mod check;
pub mod demand;
pub mod design;
pub mod months;
pub mod requests;
pub mod roster;
pub mod rules;
pub mod score;
pub mod service_hours;
pub mod skills;

/// A parse error naming the file, line and field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InputError {
    #[error("{file}:{line}: `{field}`: {message}")]
    Field { file: String, line: u64, field: String, message: String },
    #[error("{file}: {message}")]
    File { file: String, message: String },
}
