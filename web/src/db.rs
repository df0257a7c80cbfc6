//! The operational database: SQLite in the data directory by default, PostgreSQL in
//! production (any `postgres://` URL). It holds what the suite administers rather than
//! analyses; today, the journal of every data load (imports and generated history).

use sqlx::any::{install_default_drivers, AnyPoolOptions};
use sqlx::{AnyPool, Row};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
#[error("operational database {url}: {source}")]
pub struct DbError {
    url: String,
    source: sqlx::Error,
}

/// One data load, as the journal keeps it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ImportRun {
    pub id: String,
    pub tenant: String,
    /// RFC 3339, UTC.
    pub started_at: String,
    /// `csv`, `queue-log` or `generated`.
    pub format: String,
    /// The files read, `;`-separated.
    pub files: String,
    pub calls_written: i64,
    pub calls_duplicate: i64,
    pub states_written: i64,
    pub states_duplicate: i64,
    pub skipped_lines: i64,
    pub seconds: f64,
}

const MIGRATIONS: &[&str] = &["CREATE TABLE IF NOT EXISTS import_runs (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        started_at TEXT NOT NULL,
        format TEXT NOT NULL,
        files TEXT NOT NULL,
        calls_written BIGINT NOT NULL,
        calls_duplicate BIGINT NOT NULL,
        states_written BIGINT NOT NULL,
        states_duplicate BIGINT NOT NULL,
        skipped_lines BIGINT NOT NULL,
        seconds DOUBLE PRECISION NOT NULL
    )"];

#[derive(Clone)]
pub struct OpsDb {
    pool: AnyPool,
    url: String,
}

impl OpsDb {
    /// The SQLite database of a data directory (created if missing).
    pub fn sqlite_url(data_dir: &Path) -> String {
        format!("sqlite://{}?mode=rwc", data_dir.join("wfm.sqlite").display())
    }

    /// Connects (`sqlite://…` or `postgres://…`) and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        install_default_drivers();
        let fail = |source| DbError { url: redact(url), source };
        let pool = AnyPoolOptions::new().max_connections(4).connect(url).await.map_err(fail)?;
        for statement in MIGRATIONS {
            sqlx::query(*statement).execute(&pool).await.map_err(fail)?;
        }
        Ok(Self { pool, url: redact(url) })
    }

    fn fail(&self, source: sqlx::Error) -> DbError {
        DbError { url: self.url.clone(), source }
    }

    pub async fn record_import(&self, run: &ImportRun) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO import_runs (id, tenant, started_at, format, files, calls_written, calls_duplicate,
             states_written, states_duplicate, skipped_lines, seconds) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&run.id)
        .bind(&run.tenant)
        .bind(&run.started_at)
        .bind(&run.format)
        .bind(&run.files)
        .bind(run.calls_written)
        .bind(run.calls_duplicate)
        .bind(run.states_written)
        .bind(run.states_duplicate)
        .bind(run.skipped_lines)
        .bind(run.seconds)
        .execute(&self.pool)
        .await
        .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// A tenant's data loads, newest first.
    pub async fn imports(&self, tenant: &str) -> Result<Vec<ImportRun>, DbError> {
        let rows = sqlx::query(
            "SELECT id, tenant, started_at, format, files, calls_written, calls_duplicate, states_written,
             states_duplicate, skipped_lines, seconds FROM import_runs WHERE tenant = $1 ORDER BY started_at DESC, id DESC",
        )
        .bind(tenant)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.fail(e))?;
        rows.iter()
            .map(|r| {
                Ok(ImportRun {
                    id: r.try_get(0)?,
                    tenant: r.try_get(1)?,
                    started_at: r.try_get(2)?,
                    format: r.try_get(3)?,
                    files: r.try_get(4)?,
                    calls_written: r.try_get(5)?,
                    calls_duplicate: r.try_get(6)?,
                    states_written: r.try_get(7)?,
                    states_duplicate: r.try_get(8)?,
                    skipped_lines: r.try_get(9)?,
                    seconds: r.try_get(10)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(|e| self.fail(e))
    }
}

/// The URL without a password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(tenant: &str, id: &str, started_at: &str) -> ImportRun {
        ImportRun {
            id: id.into(),
            tenant: tenant.into(),
            started_at: started_at.into(),
            format: "csv".into(),
            files: "a.csv;b.csv".into(),
            calls_written: 10,
            calls_duplicate: 2,
            states_written: 0,
            states_duplicate: 0,
            skipped_lines: 1,
            seconds: 0.25,
        }
    }

    async fn round_trip(db: &OpsDb, tenant: &str) {
        let first = run(tenant, &format!("{tenant}-1"), "2026-03-01T10:00:00Z");
        let second = run(tenant, &format!("{tenant}-2"), "2026-03-02T10:00:00Z");
        db.record_import(&first).await.unwrap();
        db.record_import(&second).await.unwrap();
        assert_eq!(db.imports(tenant).await.unwrap(), vec![second, first]);
        assert!(db.imports("nobody-else").await.unwrap().is_empty());
        assert!(db.record_import(&run(tenant, &format!("{tenant}-1"), "x")).await.is_err(), "ids are unique");
    }

    #[tokio::test]
    async fn sqlite_journal_round_trip_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let url = OpsDb::sqlite_url(dir.path());
        round_trip(&OpsDb::connect(&url).await.unwrap(), "acme").await;
        let reopened = OpsDb::connect(&url).await.unwrap();
        assert_eq!(reopened.imports("acme").await.unwrap().len(), 2, "migrations keep existing data");
    }

    /// The production path; `.ci/run` sets DATABASE_URL to the machine's PostgreSQL.
    #[tokio::test]
    async fn postgres_journal_round_trip() {
        let Ok(url) = std::env::var("DATABASE_URL") else {
            eprintln!("DATABASE_URL unset: PostgreSQL path not exercised");
            return;
        };
        let db = OpsDb::connect(&url).await.unwrap();
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        round_trip(&db, &format!("pg-{}-{nanos}", std::process::id())).await;
    }

    #[test]
    fn passwords_stay_out_of_messages() {
        assert_eq!(redact("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact("sqlite://x.sqlite?mode=rwc"), "sqlite://x.sqlite?mode=rwc");
    }
}
