//! Realistic call-centre history for demos, tests and benchmarks.
//!
//! Arrivals are a non-homogeneous Poisson process (intraday double peak, day-of-week and annual
//! seasonality, trend, holidays, over-dispersed day levels, occasional surges); the calls are
//! then served by a discrete-event simulation of skill queues and rostered agents with breaks,
//! late starts and not-ready periods, so waits, abandons and service levels agree with each
//! other the way they do in a real centre. Same configuration and seed, same output bytes.
//!
//! Writes through `wfm-analytics`' store; knows nothing of forecasting, scheduling or the web.

mod arrivals;
mod config;
mod output;
mod queue_log;
mod roster;
mod sim;
mod steady;

pub use config::{ConfigError, GeneratorConfig, Handling, QueuePlan, TenantPlan};
pub use output::{generate, GenerateError, GenerateReport};
pub use queue_log::write_queue_log;
pub use steady::{simulate_steady_queue, SteadyQueue};
