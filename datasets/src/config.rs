use chrono::NaiveDate;
use wfm_model::{QueueName, TenantId, TenantZone};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("`{field}`: {message}")]
    Invalid { field: &'static str, message: String },
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct GeneratorConfig {
    pub start: NaiveDate,
    pub days: u32,
    pub seed: u64,
    pub tenants: Vec<TenantPlan>,
    /// Also write each tenant's history as an Asterisk queue_log, `OUT/<tenant>.queue_log`.
    pub write_queue_log: bool,
}

/// One simulated call centre.
#[derive(Debug, Clone)]
pub struct TenantPlan {
    pub tenant: TenantId,
    pub zone: TenantZone,
    pub queues: Vec<QueuePlan>,
    /// Mean offered calls on an ordinary weekday, all queues together.
    pub weekday_calls: f64,
    /// First and last hour of service (local), e.g. 7 and 22.
    pub open_hour: u32,
    pub close_hour: u32,
}

#[derive(Debug, Clone)]
pub struct QueuePlan {
    pub name: QueueName,
    /// Share of the tenant's volume.
    pub share: f64,
    /// Mean talk time in seconds (lognormal).
    pub mean_talk_s: f64,
    /// Mean caller patience in seconds (exponential).
    pub mean_patience_s: f64,
    /// Callers still waiting this long leave the queue (to voicemail): an overflow.
    pub max_wait_s: f64,
    pub handling: Handling,
}

/// How long an answered call keeps its agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handling {
    /// Ringing, lognormal talk scaled by the agent's efficiency, occasional holds, wrap-up.
    Realistic,
    /// Exponential talk with the queue's mean and nothing else: the textbook M/M/N+M queue,
    /// against which the Erlang formulas are checked.
    Exponential,
}

/// Default maximum wait before a call overflows to voicemail.
pub const DEFAULT_MAX_WAIT_S: f64 = 300.0;

const ZONES: &[&str] = &["Europe/Warsaw", "Asia/Taipei", "Europe/Moscow", "America/New_York", "Asia/Shanghai"];
const QUEUE_KINDS: &[(&str, f64, f64)] = &[
    // name, mean talk s, mean patience s
    ("support", 300.0, 150.0),
    ("billing", 240.0, 120.0),
    ("sales", 420.0, 90.0),
    ("outage", 150.0, 200.0),
    ("vip", 360.0, 240.0),
];

impl GeneratorConfig {
    /// `tenants` centres of `queues` queues each, about `daily_calls` offered calls per tenant on
    /// a weekday. Tenant `k` is called `demo` for k = 0 (the demo tenant), then `t01`, `t02`, ….
    pub fn standard(
        start: NaiveDate,
        days: u32,
        seed: u64,
        tenants: usize,
        queues: usize,
        daily_calls: f64,
    ) -> Result<Self, ConfigError> {
        let bad = |field, message: &str| Err(ConfigError::Invalid { field, message: message.to_owned() });
        if days == 0 || days > 3660 {
            return bad("days", "must be between 1 and 3660");
        }
        if tenants == 0 || tenants > 100 {
            return bad("tenants", "must be between 1 and 100");
        }
        if queues == 0 || queues > 1000 {
            return bad("queues", "must be between 1 and 1000");
        }
        if !(1.0..=5_000_000.0).contains(&daily_calls) {
            return bad("daily_calls", "must be between 1 and 5000000");
        }
        let plans = (0..tenants)
            .map(|k| {
                let name = if k == 0 { "demo".to_owned() } else { format!("t{k:02}") };
                let queues: Vec<QueuePlan> = (0..queues)
                    .map(|q| {
                        let (kind, talk, patience) = QUEUE_KINDS[q % QUEUE_KINDS.len()];
                        let name = if q < QUEUE_KINDS.len() { kind.to_owned() } else { format!("{kind}{}", q / QUEUE_KINDS.len() + 1) };
                        QueuePlan {
                            name: QueueName::parse(&name).expect("generated names are valid"),
                            // Earlier queues are busier: 1, 1/2, 1/3, … normalised below.
                            share: 1.0 / (q as f64 + 1.0),
                            mean_talk_s: talk,
                            mean_patience_s: patience,
                            max_wait_s: DEFAULT_MAX_WAIT_S,
                            handling: Handling::Realistic,
                        }
                    })
                    .collect();
                let total: f64 = queues.iter().map(|q| q.share).sum();
                TenantPlan {
                    tenant: TenantId::parse(&name).expect("generated names are valid"),
                    zone: TenantZone::parse(ZONES[k % ZONES.len()]).expect("known zones"),
                    queues: queues.into_iter().map(|q| QueuePlan { share: q.share / total, ..q }).collect(),
                    weekday_calls: daily_calls,
                    open_hour: 7,
                    close_hour: 22,
                }
            })
            .collect();
        Ok(Self { start, days, seed, tenants: plans, write_queue_log: false })
    }
}
