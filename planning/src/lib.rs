//! Planning across stages, for the CLI and the planner's pages alike, so that no figure is
//! computed twice:
//! - [`report`]: a roster judged against the requirement it is to cover — coverage per interval
//!   and queue, Erlang C's projected service level on the requirement's calls, hard-rule
//!   violations, soft penalties and fairness (`wfm schedule --report`, `wfm check-roster`);
//! - [`schedule`]: a roster made for a requirement and judged so (`wfm schedule`);
//! - [`service_level`]: the service level as the search's objective when staff is short, and
//!   the best one the staff could reach;
//! - [`pipeline`]: a period planned from the tenant's history — forecast, staffing, roster —
//!   as the planner's page runs it.
//!
//! Joins the scheduler (rosters, rules, skills, the checker) and forecasting (the forecast,
//! Erlang C, the requirements file's calls and handle times) through their public APIs, and
//! reads history only through forecasting's `forecast`; it must not depend on telephony, the
//! operational database or the web layer. It reads no file: the callers hand it texts.

pub mod pipeline;
pub mod report;
pub mod schedule;
pub mod service_level;
