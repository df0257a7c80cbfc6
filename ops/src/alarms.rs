//! Alarms as they are kept: each with its raise, escalation, acknowledgement and clear. The
//! record is the intraday crate's JSON (this crate does not know its shape); the columns beside
//! it are what the listing filters and orders by.

use crate::{OpsDb, OpsError};

/// At most this many alarms in one listing.
pub const MAX_LISTED: u32 = 1000;

impl OpsDb {
    /// Writes an alarm's newest record (a raise inserts it, later changes replace it).
    pub async fn save_alarm(&self, tenant: &str, id: &str, raised_ms: i64, cleared_ms: Option<i64>, record: &str) -> Result<(), OpsError> {
        sqlx::query(
            "INSERT INTO alarms (tenant, id, raised_ms, cleared_ms, record) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (tenant, id) DO UPDATE SET cleared_ms = excluded.cleared_ms, record = excluded.record",
        )
        .bind(tenant)
        .bind(id)
        .bind(raised_ms)
        .bind(cleared_ms)
        .bind(record)
        .execute(&self.pool)
        .await
        .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// A tenant's alarms, newest first: only the open ones, or all; at most `limit`.
    pub async fn alarms(&self, tenant: &str, open_only: bool, limit: u32) -> Result<Vec<String>, OpsError> {
        let sql = if open_only {
            "SELECT record FROM alarms WHERE tenant = $1 AND cleared_ms IS NULL ORDER BY raised_ms DESC, id DESC LIMIT $2"
        } else {
            "SELECT record FROM alarms WHERE tenant = $1 ORDER BY raised_ms DESC, id DESC LIMIT $2"
        };
        sqlx::query_scalar(sql).bind(tenant).bind(limit.min(MAX_LISTED) as i64).fetch_all(&self.pool).await.map_err(|e| self.fail(e).into())
    }
}

#[cfg(test)]
mod tests {
    use crate::db::tests::{postgres, sqlite, unique};
    use crate::OpsDb;

    async fn a_raised_alarm_is_replaced_by_its_clear(db: &OpsDb, tenant: &str) {
        db.save_alarm(tenant, "a1", 10, None, "{\"level\":1}").await.unwrap();
        db.save_alarm(tenant, "a2", 20, None, "{\"level\":2}").await.unwrap();
        db.save_alarm(&format!("{tenant}-other"), "a3", 30, None, "{}").await.unwrap();
        assert_eq!(db.alarms(tenant, true, 10).await.unwrap(), ["{\"level\":2}", "{\"level\":1}"]);
        db.save_alarm(tenant, "a1", 10, Some(15), "{\"cleared\":15}").await.unwrap();
        assert_eq!(db.alarms(tenant, true, 10).await.unwrap(), ["{\"level\":2}"]);
        assert_eq!(db.alarms(tenant, false, 10).await.unwrap(), ["{\"level\":2}", "{\"cleared\":15}"]);
    }

    #[tokio::test]
    async fn sqlite_alarms() {
        let (db, _dir) = sqlite().await;
        a_raised_alarm_is_replaced_by_its_clear(&db, "acme").await;
    }

    #[tokio::test]
    async fn postgres_alarms() {
        if let Some(db) = postgres().await {
            a_raised_alarm_is_replaced_by_its_clear(&db, &unique("pg")).await;
        }
    }
}
