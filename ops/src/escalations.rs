//! The surge ladder's timelines as they are kept: every step of every escalation, in order,
//! written before it is announced. The record is the intraday crate's JSON (this crate does not
//! know its shape); the columns beside it are what the listings filter and order by.

use crate::{OpsDb, OpsError};
use sqlx::Row;

/// At most this many escalations in one listing.
pub const MAX_LISTED: u32 = 200;

/// One escalation in a listing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EscalationSummary {
    pub episode_ms: i64,
    pub steps: i64,
    pub last_step_ms: i64,
    pub highest_level: i64,
}

impl OpsDb {
    /// Keeps step number `seq` of the escalation that began at `episode_ms`; writing the same
    /// step again (a retry) changes nothing.
    pub async fn add_escalation_step(&self, tenant: &str, episode_ms: i64, seq: i64, at_ms: i64, level: u8, record: &str) -> Result<(), OpsError> {
        sqlx::query(
            "INSERT INTO escalation_steps (tenant, episode_ms, seq, at_ms, level, record) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (tenant, episode_ms, seq) DO NOTHING",
        )
        .bind(tenant)
        .bind(episode_ms)
        .bind(seq)
        .bind(at_ms)
        .bind(i64::from(level))
        .bind(record)
        .execute(&self.pool)
        .await
        .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// The steps of one escalation in order; of the newest when `episode_ms` is `None`.
    pub async fn escalation_steps(&self, tenant: &str, episode_ms: Option<i64>) -> Result<Vec<String>, OpsError> {
        let episode = match episode_ms {
            Some(e) => Some(e),
            None => sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(episode_ms) FROM escalation_steps WHERE tenant = $1")
                .bind(tenant)
                .fetch_one(&self.pool)
                .await
                .map_err(|e| self.fail(e))?,
        };
        let Some(episode) = episode else { return Ok(Vec::new()) };
        sqlx::query_scalar("SELECT record FROM escalation_steps WHERE tenant = $1 AND episode_ms = $2 ORDER BY seq")
            .bind(tenant)
            .bind(episode)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.fail(e).into())
    }

    /// A tenant's escalations, newest first, at most `limit`.
    pub async fn escalations(&self, tenant: &str, limit: u32) -> Result<Vec<EscalationSummary>, OpsError> {
        let rows = sqlx::query(
            "SELECT episode_ms, COUNT(*) AS steps, MAX(at_ms) AS last_step_ms, MAX(level) AS highest_level FROM escalation_steps
             WHERE tenant = $1 GROUP BY episode_ms ORDER BY episode_ms DESC LIMIT $2",
        )
        .bind(tenant)
        .bind(limit.min(MAX_LISTED) as i64)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.fail(e))?;
        rows.iter()
            .map(|r| {
                Ok(EscalationSummary { episode_ms: r.try_get("episode_ms")?, steps: r.try_get("steps")?, last_step_ms: r.try_get("last_step_ms")?, highest_level: r.try_get("highest_level")? })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(|e| self.fail(e).into())
    }
}

#[cfg(test)]
mod tests {
    use crate::db::tests::{postgres, sqlite, unique};
    use crate::OpsDb;

    async fn steps_are_kept_in_order_per_escalation(db: &OpsDb, tenant: &str) {
        assert!(db.escalation_steps(tenant, None).await.unwrap().is_empty());
        db.add_escalation_step(tenant, 100, 0, 100, 0, "a").await.unwrap();
        db.add_escalation_step(tenant, 100, 1, 160, 1, "b").await.unwrap();
        db.add_escalation_step(tenant, 100, 1, 160, 1, "b again").await.unwrap();
        db.add_escalation_step(tenant, 500, 0, 500, 0, "c").await.unwrap();
        db.add_escalation_step(&format!("{tenant}-other"), 900, 0, 900, 0, "x").await.unwrap();
        assert_eq!(db.escalation_steps(tenant, None).await.unwrap(), ["c"]);
        assert_eq!(db.escalation_steps(tenant, Some(100)).await.unwrap(), ["a", "b"], "a retried write changes nothing");
        let listed: Vec<(i64, i64, i64, i64)> = db.escalations(tenant, 10).await.unwrap().iter().map(|e| (e.episode_ms, e.steps, e.last_step_ms, e.highest_level)).collect();
        assert_eq!(listed, [(500, 1, 500, 0), (100, 2, 160, 1)]);
    }

    #[tokio::test]
    async fn sqlite_escalations() {
        let (db, _dir) = sqlite().await;
        steps_are_kept_in_order_per_escalation(&db, "acme").await;
    }

    #[tokio::test]
    async fn postgres_escalations() {
        if let Some(db) = postgres().await {
            steps_are_kept_in_order_per_escalation(&db, &unique("pg")).await;
        }
    }
}
