//! The analytics hub: the Parquet event store, importers of foreign call records, and the
//! interval statistics every dashboard, forecast and report is computed from.
//!
//! Owns the on-disk layout of `docs/events.md` and the definitions of every statistic. Depends
//! only on `wfm-model` (and Polars for Parquet); it must not depend on telephony, forecasting,
//! scheduling or the web layer, which all read through it.

pub mod frames;
pub mod import;
pub mod search;
pub mod stats;
mod store;
mod txn;

pub use store::{read_parquet, AppendReport, Dataset, Store, StoreVersion, COMPACT_AFTER_PARTS};

use std::path::{Path, PathBuf};
use wfm_model::{RecordError, TenantId, TenantZone};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}: not a wfm store (no wfm-store.toml); create one with `wfm import` or `wfm generate`")]
    NotAStore(PathBuf),
    #[error("{path}: store schema version {found}, this build reads version {supported}")]
    SchemaVersion { path: PathBuf, found: u32, supported: u32 },
    #[error("tenant {0} is not in the store (import its calls with --tz first)")]
    UnknownTenant(TenantId),
    #[error("tenant {tenant} is registered in time zone {existing}, not {requested}")]
    ZoneConflict { tenant: TenantId, existing: TenantZone, requested: TenantZone },
    #[error("record {index} ({key}): {error}")]
    InvalidRecord { index: usize, key: String, error: RecordError },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: parquet: {message}")]
    Parquet { path: PathBuf, message: String },
    #[error("{path}: corrupt: {message}")]
    Corrupt { path: PathBuf, message: String },
}

impl StoreError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io { path: path.to_owned(), source }
    }
}
