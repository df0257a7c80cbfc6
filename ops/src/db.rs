//! The connection and the schema. SQLite in the data directory by default, PostgreSQL in
//! production (any `postgres://` URL): the same portable SQL on both.
//!
//! Migrations are numbered and recorded in `schema_migrations`; each runs once, in a
//! transaction (on PostgreSQL under an advisory lock), and every statement is idempotent
//! (`IF NOT EXISTS`), so two processes starting at once on a fresh database (a `wfm admin` beside `wfm serve`) both end with the same schema, and
//! a data directory of an earlier release (which had `import_runs` and no version table) is
//! brought up to date with its rows kept.

use sqlx::any::{install_default_drivers, AnyPoolOptions};
use sqlx::AnyPool;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
#[error("operational database {url}: {source}")]
pub struct DbError {
    url: String,
    source: sqlx::Error,
}

/// The schema, in order; a migration's statements run in one transaction.
const MIGRATIONS: &[(i64, &[&str])] = &[
    (
        1,
        &["CREATE TABLE IF NOT EXISTS import_runs (
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
        )"],
    ),
    (
        2,
        &[
            "CREATE TABLE IF NOT EXISTS tenants (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                time_zone TEXT NOT NULL,
                language TEXT NOT NULL,
                status TEXT NOT NULL,
                max_agents BIGINT NOT NULL,
                max_concurrent_calls BIGINT NOT NULL,
                max_ivr_flows BIGINT NOT NULL,
                max_recording_bytes BIGINT NOT NULL,
                created_ms BIGINT NOT NULL
            )",
            // Platform administrators belong to no tenant: their `tenant` is ''.
            "CREATE TABLE IF NOT EXISTS users (
                tenant TEXT NOT NULL,
                login TEXT NOT NULL,
                role TEXT NOT NULL,
                agent_id TEXT,
                password_hash TEXT NOT NULL,
                created_ms BIGINT NOT NULL,
                PRIMARY KEY (tenant, login)
            )",
            "CREATE TABLE IF NOT EXISTS sessions (
                id_hash TEXT PRIMARY KEY,
                tenant TEXT NOT NULL,
                login TEXT NOT NULL,
                csrf_token TEXT NOT NULL,
                created_ms BIGINT NOT NULL,
                last_seen_ms BIGINT NOT NULL
            )",
            "CREATE TABLE IF NOT EXISTS api_tokens (
                id TEXT PRIMARY KEY,
                token_hash TEXT NOT NULL UNIQUE,
                tenant TEXT NOT NULL,
                login TEXT NOT NULL,
                label TEXT NOT NULL,
                created_ms BIGINT NOT NULL,
                revoked_ms BIGINT
            )",
            "CREATE TABLE IF NOT EXISTS audit (
                id TEXT PRIMARY KEY,
                at_ms BIGINT NOT NULL,
                tenant TEXT NOT NULL,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                target TEXT NOT NULL,
                source TEXT NOT NULL,
                detail TEXT NOT NULL
            )",
            "CREATE INDEX IF NOT EXISTS audit_by_tenant ON audit (tenant, at_ms)",
        ],
    ),
    // Recordings and voicemail older than this many days are deleted (0: kept).
    (3, &["ALTER TABLE tenants ADD COLUMN recording_retention_days BIGINT NOT NULL DEFAULT 0"]),
    // Published rosters: every version kept, the newest is the plan adherence is judged by.
    (
        4,
        &["CREATE TABLE IF NOT EXISTS roster_versions (
            tenant TEXT NOT NULL,
            version BIGINT NOT NULL,
            published_by TEXT NOT NULL,
            published_ms BIGINT NOT NULL,
            first_date TEXT NOT NULL,
            last_date TEXT NOT NULL,
            activities BIGINT NOT NULL,
            roster_csv TEXT NOT NULL,
            PRIMARY KEY (tenant, version)
        )"],
    ),
    // Alarms with their raise, escalation, acknowledgement and clear (the record is the intraday
    // crate's JSON); excused adherence time and agents' claims.
    (
        5,
        &[
            "CREATE TABLE IF NOT EXISTS alarms (
                tenant TEXT NOT NULL,
                id TEXT NOT NULL,
                raised_ms BIGINT NOT NULL,
                cleared_ms BIGINT,
                record TEXT NOT NULL,
                PRIMARY KEY (tenant, id)
            )",
            "CREATE INDEX IF NOT EXISTS alarms_by_time ON alarms (tenant, raised_ms)",
            "CREATE TABLE IF NOT EXISTS excusals (
                tenant TEXT NOT NULL,
                id TEXT NOT NULL,
                agent_id TEXT NOT NULL,
                start_ms BIGINT NOT NULL,
                end_ms BIGINT NOT NULL,
                reason TEXT NOT NULL,
                status TEXT NOT NULL,
                requested_by TEXT NOT NULL,
                requested_ms BIGINT NOT NULL,
                decided_by TEXT,
                decided_ms BIGINT,
                PRIMARY KEY (tenant, id)
            )",
        ],
    ),
    // The surge ladder's timelines: each step of each escalation, in order (the record is the
    // intraday crate's JSON).
    (
        6,
        &["CREATE TABLE IF NOT EXISTS escalation_steps (
            tenant TEXT NOT NULL,
            episode_ms BIGINT NOT NULL,
            seq BIGINT NOT NULL,
            at_ms BIGINT NOT NULL,
            level BIGINT NOT NULL,
            record TEXT NOT NULL,
            PRIMARY KEY (tenant, episode_ms, seq)
        )"],
    ),
    // Incidents with their timers, moved agents and deferred cases (the intraday crate's JSON).
    (
        7,
        &[
            "CREATE TABLE IF NOT EXISTS incidents (
                tenant TEXT NOT NULL,
                id TEXT NOT NULL,
                started_ms BIGINT NOT NULL,
                fixed_ms BIGINT,
                record TEXT NOT NULL,
                PRIMARY KEY (tenant, id)
            )",
            "CREATE INDEX IF NOT EXISTS incidents_by_time ON incidents (tenant, started_ms)",
        ],
    ),
    // Agents' requests to change their schedule, kept whole (the `requests` module's JSON).
    (
        8,
        &[
            "CREATE TABLE IF NOT EXISTS change_requests (
                tenant TEXT NOT NULL,
                id TEXT NOT NULL,
                agent_id TEXT NOT NULL,
                state TEXT NOT NULL,
                requested_ms BIGINT NOT NULL,
                revision BIGINT NOT NULL,
                record TEXT NOT NULL,
                PRIMARY KEY (tenant, id)
            )",
            "CREATE INDEX IF NOT EXISTS change_requests_by_time ON change_requests (tenant, requested_ms)",
        ],
    ),
];

#[derive(Clone)]
pub struct OpsDb {
    pub(crate) pool: AnyPool,
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
        let db = Self { pool, url: redact(url) };
        db.migrate().await?;
        Ok(db)
    }

    /// A transaction that, on PostgreSQL, holds the migrations' advisory lock: two processes
    /// creating the same table at once would otherwise collide in PostgreSQL's catalogue (SQLite
    /// serialises writers by itself).
    async fn migration_transaction(&self) -> Result<sqlx::Transaction<'_, sqlx::Any>, DbError> {
        let mut tx = self.pool.begin().await.map_err(|e| self.fail(e))?;
        if self.url.starts_with("postgres") {
            sqlx::query("SELECT 1 FROM (SELECT pg_advisory_xact_lock(7765726) AS locked) AS held").execute(&mut *tx).await.map_err(|e| self.fail(e))?;
        }
        Ok(tx)
    }

    async fn migrate(&self) -> Result<(), DbError> {
        let mut tx = self.migration_transaction().await?;
        sqlx::query("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_ms BIGINT NOT NULL)")
            .execute(&mut *tx)
            .await
            .map_err(|e| self.fail(e))?;
        tx.commit().await.map_err(|e| self.fail(e))?;
        for (version, statements) in MIGRATIONS {
            let applied: Option<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                .bind(version)
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| self.fail(e))?;
            if applied.is_some() {
                continue;
            }
            let mut tx = self.migration_transaction().await?;
            // The version row first: writing it takes SQLite's write lock, so a second process
            // migrating at once waits here, then finds the row and leaves the migration to the
            // first (an ALTER TABLE would not be idempotent).
            let claimed = sqlx::query("INSERT INTO schema_migrations (version, applied_ms) VALUES ($1, $2) ON CONFLICT (version) DO NOTHING")
                .bind(version)
                .bind(crate::now_ms())
                .execute(&mut *tx)
                .await
                .map_err(|e| self.fail(e))?;
            if claimed.rows_affected() == 0 {
                continue;
            }
            for statement in *statements {
                sqlx::query(*statement).execute(&mut *tx).await.map_err(|e| self.fail(e))?;
            }
            tx.commit().await.map_err(|e| self.fail(e))?;
        }
        Ok(())
    }

    /// The versions applied, in order.
    #[cfg(test)]
    async fn schema_versions(&self) -> Result<Vec<i64>, DbError> {
        sqlx::query_scalar("SELECT version FROM schema_migrations ORDER BY version").fetch_all(&self.pool).await.map_err(|e| self.fail(e))
    }

    pub(crate) fn fail(&self, source: sqlx::Error) -> DbError {
        DbError { url: self.url.clone(), source }
    }

    /// Whether `e` is a unique-key violation (a second row with the same key).
    pub(crate) fn is_duplicate(e: &sqlx::Error) -> bool {
        e.as_database_error().is_some_and(|d| d.is_unique_violation())
    }
}

/// The URL without a password, for messages.
pub(crate) fn redact(url: &str) -> String {
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
pub(crate) mod tests {
    use super::*;

    /// A fresh SQLite database in a temporary directory (kept alive by the returned guard).
    pub async fn sqlite() -> (OpsDb, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        (OpsDb::connect(&OpsDb::sqlite_url(dir.path())).await.unwrap(), dir)
    }

    /// The production path. `.ci/run` sets DATABASE_URL; under CI its absence is a failure, not
    /// a skip.
    pub async fn postgres() -> Option<OpsDb> {
        match std::env::var("DATABASE_URL") {
            Ok(url) => Some(OpsDb::connect(&url).await.unwrap()),
            Err(_) if std::env::var_os("CI").is_some() => panic!("CI must set DATABASE_URL (.ci/run does)"),
            Err(_) => {
                eprintln!("DATABASE_URL unset: PostgreSQL path not exercised");
                None
            }
        }
    }

    /// Two tests of one async check `$check(&OpsDb, tenant)`: on SQLite with tenant `acme`, and
    /// on PostgreSQL (`DATABASE_URL`) with a tenant no other run uses.
    macro_rules! on_both_databases {
        ($sqlite:ident, $postgres:ident, $check:path) => {
            #[tokio::test]
            async fn $sqlite() {
                $check(&crate::db::tests::sqlite().await.0, "acme").await;
            }

            #[tokio::test]
            async fn $postgres() {
                if let Some(db) = crate::db::tests::postgres().await {
                    $check(&db, &crate::db::tests::unique("t")).await;
                }
            }
        };
    }
    pub(crate) use on_both_databases;

    /// A name no other test run uses, for rows in a shared PostgreSQL.
    pub fn unique(prefix: &str) -> String {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        format!("{prefix}-{}-{}", std::process::id(), nanos % 1_000_000_000_000)
    }

    #[tokio::test]
    async fn migrations_run_once_and_upgrade_an_old_database() {
        let dir = tempfile::tempdir().unwrap();
        let url = OpsDb::sqlite_url(dir.path());
        // A database as the previous release left it: import_runs, a row, no version table.
        {
            install_default_drivers();
            let pool = AnyPoolOptions::new().connect(&url).await.unwrap();
            sqlx::query(MIGRATIONS[0].1[0]).execute(&pool).await.unwrap();
            sqlx::query("INSERT INTO import_runs VALUES ('old', 'demo', '2026-01-01T00:00:00Z', 'csv', 'a.csv', 1, 0, 0, 0, 0, 0.5)").execute(&pool).await.unwrap();
        }
        let db = OpsDb::connect(&url).await.unwrap();
        assert_eq!(db.schema_versions().await.unwrap(), vec![1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(db.imports("demo").await.unwrap()[0].id, "old", "the earlier release's rows are kept");
        let again = OpsDb::connect(&url).await.unwrap();
        assert_eq!(again.schema_versions().await.unwrap(), vec![1, 2, 3, 4, 5, 6, 7, 8], "idempotent");
        // Two processes migrating one fresh database at once both end with the same schema.
        let fresh = tempfile::tempdir().unwrap();
        let url = OpsDb::sqlite_url(fresh.path());
        let (a, b) = tokio::join!(OpsDb::connect(&url), OpsDb::connect(&url));
        assert_eq!(a.unwrap().schema_versions().await.unwrap(), b.unwrap().schema_versions().await.unwrap());
    }

    #[test]
    fn passwords_stay_out_of_messages() {
        assert_eq!(redact("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact("sqlite://x.sqlite?mode=rwc"), "sqlite://x.sqlite?mode=rwc");
    }
}
