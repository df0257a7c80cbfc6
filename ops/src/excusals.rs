//! Excused adherence time: a supervisor excuses a span of an agent's day with a reason, or an
//! agent claims one for a supervisor to approve or reject. Approved spans count as in adherence
//! (the intraday crate reads them); every decision is kept with who made it.

use crate::secrets::random_hex;
use crate::{now_ms, OpsDb, OpsError};
use sqlx::Row;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExcusalStatus {
    /// Claimed by the agent, not yet decided.
    Pending,
    Approved,
    Rejected,
}

impl ExcusalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
        }
    }

    fn parse(text: &str) -> Result<Self, OpsError> {
        match text {
            "pending" => Ok(Self::Pending),
            "approved" => Ok(Self::Approved),
            "rejected" => Ok(Self::Rejected),
            other => Err(OpsError::Invalid { field: "status", message: format!("{other:?} is not pending, approved or rejected") }),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Excusal {
    pub id: String,
    pub agent_id: String,
    pub start_ms: i64,
    pub end_ms: i64,
    pub reason: String,
    pub status: ExcusalStatus,
    pub requested_by: String,
    pub requested_ms: i64,
    pub decided_by: Option<String>,
    pub decided_ms: Option<i64>,
}

/// The longest reason kept.
pub const MAX_REASON: usize = 200;

fn excusal_of(row: &sqlx::any::AnyRow) -> Result<Excusal, OpsError> {
    let get = |e: sqlx::Error| OpsError::Invalid { field: "excusal", message: e.to_string() };
    Ok(Excusal {
        id: row.try_get(0).map_err(get)?,
        agent_id: row.try_get(1).map_err(get)?,
        start_ms: row.try_get(2).map_err(get)?,
        end_ms: row.try_get(3).map_err(get)?,
        reason: row.try_get(4).map_err(get)?,
        status: ExcusalStatus::parse(&row.try_get::<String, _>(5).map_err(get)?)?,
        requested_by: row.try_get(6).map_err(get)?,
        requested_ms: row.try_get(7).map_err(get)?,
        decided_by: row.try_get(8).map_err(get)?,
        decided_ms: row.try_get(9).map_err(get)?,
    })
}

macro_rules! columns {
    () => {
        "id, agent_id, start_ms, end_ms, reason, status, requested_by, requested_ms, decided_by, decided_ms"
    };
}

impl OpsDb {
    /// Records an excusal: approved at once when `approved` (a supervisor's), else pending (an
    /// agent's claim).
    pub async fn add_excusal(&self, tenant: &str, agent_id: &str, span: (i64, i64), reason: &str, by: &str, approved: bool) -> Result<Excusal, OpsError> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > MAX_REASON {
            return Err(OpsError::Invalid { field: "reason", message: format!("a reason of 1 to {MAX_REASON} characters is required") });
        }
        if span.1 <= span.0 {
            return Err(OpsError::Invalid { field: "end", message: "the end must be after the start".into() });
        }
        let now = now_ms();
        let status = if approved { ExcusalStatus::Approved } else { ExcusalStatus::Pending };
        let decided = approved.then(|| (by.to_owned(), now));
        let excusal = Excusal {
            id: random_hex::<8>()?,
            agent_id: agent_id.to_owned(),
            start_ms: span.0,
            end_ms: span.1,
            reason: reason.to_owned(),
            status,
            requested_by: by.to_owned(),
            requested_ms: now,
            decided_by: decided.as_ref().map(|d| d.0.clone()),
            decided_ms: decided.map(|d| d.1),
        };
        sqlx::query(concat!("INSERT INTO excusals (tenant, ", columns!(), ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"))
            .bind(tenant)
            .bind(&excusal.id)
            .bind(&excusal.agent_id)
            .bind(excusal.start_ms)
            .bind(excusal.end_ms)
            .bind(&excusal.reason)
            .bind(excusal.status.as_str())
            .bind(&excusal.requested_by)
            .bind(excusal.requested_ms)
            .bind(&excusal.decided_by)
            .bind(excusal.decided_ms)
            .execute(&self.pool)
            .await
            .map_err(|e| self.fail(e))?;
        Ok(excusal)
    }

    /// Approves or rejects a pending claim; a decided one is not decided again.
    pub async fn decide_excusal(&self, tenant: &str, id: &str, approve: bool, by: &str) -> Result<Excusal, OpsError> {
        let status = if approve { ExcusalStatus::Approved } else { ExcusalStatus::Rejected };
        let updated = sqlx::query("UPDATE excusals SET status = $1, decided_by = $2, decided_ms = $3 WHERE tenant = $4 AND id = $5 AND status = 'pending'")
            .bind(status.as_str())
            .bind(by)
            .bind(now_ms())
            .bind(tenant)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(|e| self.fail(e))?;
        let found = self.excusal(tenant, id).await?.ok_or_else(|| OpsError::NotFound(format!("excusal {id}")))?;
        if updated.rows_affected() == 0 {
            return Err(OpsError::Invalid { field: "id", message: format!("excusal {id} is already {}", found.status.as_str()) });
        }
        Ok(found)
    }

    pub async fn excusal(&self, tenant: &str, id: &str) -> Result<Option<Excusal>, OpsError> {
        let row = sqlx::query(concat!("SELECT ", columns!(), " FROM excusals WHERE tenant = $1 AND id = $2")).bind(tenant).bind(id).fetch_optional(&self.pool).await.map_err(|e| self.fail(e))?;
        row.as_ref().map(excusal_of).transpose()
    }

    /// The excusals overlapping `[from_ms, to_ms)`, in time order; of one agent when given.
    pub async fn excusals(&self, tenant: &str, from_ms: i64, to_ms: i64, agent_id: Option<&str>) -> Result<Vec<Excusal>, OpsError> {
        let query = match agent_id {
            Some(agent) => sqlx::query(concat!("SELECT ", columns!(), " FROM excusals WHERE tenant = $1 AND start_ms < $2 AND end_ms > $3 AND agent_id = $4 ORDER BY start_ms, id")).bind(tenant).bind(to_ms).bind(from_ms).bind(agent),
            None => sqlx::query(concat!("SELECT ", columns!(), " FROM excusals WHERE tenant = $1 AND start_ms < $2 AND end_ms > $3 ORDER BY start_ms, id")).bind(tenant).bind(to_ms).bind(from_ms),
        };
        let rows = query.fetch_all(&self.pool).await.map_err(|e| self.fail(e))?;
        rows.iter().map(excusal_of).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::tests::{postgres, sqlite, unique};

    async fn claims_are_decided_once(db: &OpsDb, tenant: &str) {
        let excused = db.add_excusal(tenant, "1001", (1000, 2000), "system down", "acme/sup", true).await.unwrap();
        assert_eq!((excused.status, excused.decided_by.as_deref()), (ExcusalStatus::Approved, Some("acme/sup")));
        let claim = db.add_excusal(tenant, "1002", (1500, 2500), "coaching", "acme/1002", false).await.unwrap();
        assert_eq!(claim.status, ExcusalStatus::Pending);
        assert_eq!(db.excusals(tenant, 0, 10_000, None).await.unwrap().len(), 2);
        assert_eq!(db.excusals(tenant, 0, 10_000, Some("1002")).await.unwrap(), vec![claim.clone()]);
        assert!(db.excusals(tenant, 2500, 3000, None).await.unwrap().is_empty(), "the end is exclusive");
        let decided = db.decide_excusal(tenant, &claim.id, false, "acme/sup").await.unwrap();
        assert_eq!(decided.status, ExcusalStatus::Rejected);
        assert!(matches!(db.decide_excusal(tenant, &claim.id, true, "acme/sup").await, Err(OpsError::Invalid { field: "id", .. })));
        assert!(matches!(db.decide_excusal(tenant, "nope", true, "acme/sup").await, Err(OpsError::NotFound(_))));
        assert!(matches!(db.add_excusal(tenant, "1001", (5, 5), "x", "a", true).await, Err(OpsError::Invalid { field: "end", .. })));
        assert!(matches!(db.add_excusal(tenant, "1001", (5, 6), " ", "a", true).await, Err(OpsError::Invalid { field: "reason", .. })));
    }

    #[tokio::test]
    async fn sqlite_excusals() {
        let (db, _dir) = sqlite().await;
        claims_are_decided_once(&db, "acme").await;
    }

    #[tokio::test]
    async fn postgres_excusals() {
        if let Some(db) = postgres().await {
            claims_are_decided_once(&db, &unique("pg")).await;
        }
    }
}
