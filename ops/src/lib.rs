//! The operational database: what the suite administers rather than analyses.
//!
//! - [`db`]: the connection (SQLite in the data directory by default, PostgreSQL by URL) and the
//!   versioned, idempotent migrations.
//! - [`tenants`]: tenants with their time zone, language, status (active or suspended) and quotas.
//! - [`users`] and [`roles`]: personal logins with argon2 password hashes, the six roles and
//!   the one table of what each role may do.
//! - [`sessions`]: browser sessions (with their CSRF token and idle expiry) and personal API
//!   tokens, both stored hashed; resolving either to the [`sessions::Caller`] it identifies.
//! - [`throttle`]: failed sign-ins slowed, then refused, per account and per source (sans-IO).
//! - [`audit`]: who did what, when, to what and from where.
//! - [`imports`]: the journal of data loads.
//! - [`rosters`]: published roster versions, who published each and when.
//! - [`requests`]: agents' requests to change their schedule and the approval chain deciding them.
//! - [`kept`], [`excusals`], [`escalations`]: the intraday records (alarms and incidents kept
//!   whole, excused time, the surge ladder's timelines).
//!
//! Depends on `wfm-model` (ids, zones) and sqlx; knows nothing of HTTP, SIP or the store.

pub mod audit;
pub mod db;
pub mod escalations;
pub mod excusals;
pub mod imports;
pub mod kept;
pub mod requests;
pub mod roles;
pub mod rosters;
pub mod secrets;
pub mod sessions;
pub mod tenants;
pub mod throttle;
pub mod users;

pub use db::{DbError, OpsDb};
pub use imports::ImportRun;
pub use roles::{Access, Permission, Role};
pub use tenants::{Language, Quotas, Tenant, TenantStatus};
pub use users::{Login, User};

/// Why an operation on the operational database did not happen.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    #[error(transparent)]
    Db(#[from] DbError),
    /// A value that is not acceptable, with the field (or flag) it came in.
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0} already exists")]
    Exists(String),
    #[error("no random numbers from the system: {0}")]
    Random(String),
    #[error("password hashing: {0}")]
    Hash(String),
}

impl OpsError {
    pub fn invalid(field: &'static str, message: impl ToString) -> Self {
        Self::Invalid { field, message: message.to_string() }
    }
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}
