//! The journal of data loads: who/what/when/how many, for imports and generated history.

use crate::{DbError, OpsDb};
use sqlx::Row;

/// What one data load wrote: records new to the store and those it already had.
#[derive(Debug, Clone, Copy, Default)]
pub struct Written {
    pub calls: usize,
    pub calls_duplicate: usize,
    pub states: usize,
    pub states_duplicate: usize,
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

impl ImportRun {
    /// A load of `format` from `files` that began at `started_at`; [`Self::finished`] adds what it wrote.
    pub fn began(tenant: &str, started_at: chrono::DateTime<chrono::Utc>, format: &str, files: String) -> Self {
        Self {
            id: format!("{}-{}", started_at.format("%Y%m%dT%H%M%S%.6fZ"), std::process::id()),
            tenant: tenant.to_owned(),
            started_at: started_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            format: format.to_owned(),
            files,
            calls_written: 0,
            calls_duplicate: 0,
            states_written: 0,
            states_duplicate: 0,
            skipped_lines: 0,
            seconds: 0.0,
        }
    }

    pub fn finished(self, written: Written, skipped_lines: usize, seconds: f64) -> Self {
        Self {
            calls_written: written.calls as i64,
            calls_duplicate: written.calls_duplicate as i64,
            states_written: written.states as i64,
            states_duplicate: written.states_duplicate as i64,
            skipped_lines: skipped_lines as i64,
            seconds,
            ..self
        }
    }
}

impl OpsDb {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::tests::{postgres, sqlite, unique};

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
        let (db, dir) = sqlite().await;
        round_trip(&db, "acme").await;
        let reopened = OpsDb::connect(&OpsDb::sqlite_url(dir.path())).await.unwrap();
        assert_eq!(reopened.imports("acme").await.unwrap().len(), 2, "migrations keep existing data");
    }

    #[tokio::test]
    async fn postgres_journal_round_trip() {
        if let Some(db) = postgres().await {
            round_trip(&db, &unique("pg")).await;
        }
    }
}
