//! Records kept whole as JSON — alarms with their raise, escalation, acknowledgement and clear;
//! incidents with their timers, moved agents and deferred cases. The record is the intraday
//! crate's JSON (this crate does not know its shape); the columns beside it are what the
//! listings filter and order by: when it opened and, once it did, when it closed.

use crate::{OpsDb, OpsError};

/// At most this many records in one listing.
pub const MAX_LISTED: u32 = 1000;

/// What kind of record, and so which table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    /// `alarms`: opened when raised, closed when cleared.
    Alarm,
    /// `incidents`: opened when the failure began, closed when fixed.
    Incident,
}

impl Kept {
    fn table(self) -> &'static str {
        match self {
            Kept::Alarm => "alarms",
            Kept::Incident => "incidents",
        }
    }

    /// The columns of the opening and closing times.
    fn columns(self) -> (&'static str, &'static str) {
        match self {
            Kept::Alarm => ("raised_ms", "cleared_ms"),
            Kept::Incident => ("started_ms", "fixed_ms"),
        }
    }
}

impl OpsDb {
    /// Writes a record's newest version (the first write inserts it, later ones replace it).
    pub async fn save_kept(&self, kind: Kept, tenant: &str, id: &str, opened_ms: i64, closed_ms: Option<i64>, record: &str) -> Result<(), OpsError> {
        let (table, (opened, closed)) = (kind.table(), kind.columns());
        // The names are this module's constants, never input.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO {table} (tenant, id, {opened}, {closed}, record) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (tenant, id) DO UPDATE SET {closed} = excluded.{closed}, record = excluded.record"
        )))
        .bind(tenant)
        .bind(id)
        .bind(opened_ms)
        .bind(closed_ms)
        .bind(record)
        .execute(&self.pool)
        .await
        .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// A tenant's records, newest first: only the open ones, or all; at most `limit`.
    pub async fn kept(&self, kind: Kept, tenant: &str, open_only: bool, limit: u32) -> Result<Vec<String>, OpsError> {
        let (table, (opened, closed)) = (kind.table(), kind.columns());
        let open = if open_only { format!("AND {closed} IS NULL") } else { String::new() };
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT record FROM {table} WHERE tenant = $1 {open} ORDER BY {opened} DESC, id DESC LIMIT $2")))
            .bind(tenant)
            .bind(limit.min(MAX_LISTED) as i64)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.fail(e).into())
    }

    /// One record by its id.
    pub async fn kept_one(&self, kind: Kept, tenant: &str, id: &str) -> Result<Option<String>, OpsError> {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT record FROM {} WHERE tenant = $1 AND id = $2", kind.table())))
            .bind(tenant)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.fail(e).into())
    }
}

#[cfg(test)]
mod tests {
    use super::Kept;
    use crate::db::tests::{postgres, sqlite, unique};
    use crate::OpsDb;

    async fn a_record_is_replaced_by_its_close(db: &OpsDb, tenant: &str) {
        for kind in [Kept::Alarm, Kept::Incident] {
            db.save_kept(kind, tenant, "a1", 10, None, "{\"level\":1}").await.unwrap();
            db.save_kept(kind, tenant, "a2", 20, None, "{\"level\":2}").await.unwrap();
            db.save_kept(kind, &format!("{tenant}-other"), "a3", 30, None, "{}").await.unwrap();
            assert_eq!(db.kept(kind, tenant, true, 10).await.unwrap(), ["{\"level\":2}", "{\"level\":1}"]);
            db.save_kept(kind, tenant, "a1", 10, Some(15), "{\"cleared\":15}").await.unwrap();
            assert_eq!(db.kept(kind, tenant, true, 10).await.unwrap(), ["{\"level\":2}"]);
            assert_eq!(db.kept(kind, tenant, false, 10).await.unwrap(), ["{\"level\":2}", "{\"cleared\":15}"]);
            assert_eq!(db.kept_one(kind, tenant, "a1").await.unwrap().as_deref(), Some("{\"cleared\":15}"));
            assert_eq!(db.kept_one(kind, tenant, "a3").await.unwrap(), None, "another tenant's");
        }
    }

    #[tokio::test]
    async fn sqlite_kept() {
        let (db, _dir) = sqlite().await;
        a_record_is_replaced_by_its_close(&db, "acme").await;
    }

    #[tokio::test]
    async fn postgres_kept() {
        if let Some(db) = postgres().await {
            a_record_is_replaced_by_its_close(&db, &unique("pg")).await;
        }
    }
}
