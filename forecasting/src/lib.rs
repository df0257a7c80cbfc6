//! Forecasting and staffing: how many calls, how long they take, and how many agents that needs.
//!
//! - [`erlang`]: Erlang C (M/M/N) and Erlang A (M/M/N+M) — evaluate a staffing level, or find
//!   the fewest agents meeting service-level, ASA and occupancy targets; shrinkage on top.
//! - [`forecast`]: per queue and interval, volume and handle time for a horizon, from the
//!   interval statistics of the analytics store, cleaned and adjusted by a calendar of holidays
//!   and events; the model is chosen per queue by a rolling-origin backtest, and each run is
//!   kept so that the next one learns from its errors.
//! - [`requirements`]: a forecast file in, required agents per queue and interval out.
//!
//! Reads history only through `wfm-analytics`' statistics; must not depend on telephony,
//! scheduling or the web layer.

pub mod erlang;
pub mod forecast;
pub mod requirements;
mod targets;

pub use targets::{Fraction, Shrinkage, StaffingTargets, TargetError};
