//! The audit log: who did what, when, in which tenant, to what, from where. Written for
//! sign-ins (and failed ones), sign-outs, tokens, every state change made through the API,
//! configuration, user and tenant administration and quota alarms; read by the tenant's
//! administrators.

use crate::secrets::random_hex;
use crate::{now_ms, OpsDb, OpsError};
use sqlx::Row;

/// One entry. `tenant` is '' for what concerns the platform only (a platform administrator's
/// own sign-in).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    pub at_ms: i64,
    pub tenant: String,
    /// The user (`tenant/login`, or `login` for platform administrators), `cli:USER` for the
    /// command line, `system` for `wfm serve` itself.
    pub actor: String,
    /// e.g. `login`, `login.failed`, `agent.state`, `user.add`, `tenant.suspend`.
    pub action: String,
    pub target: String,
    /// The client's address, or `cli`.
    pub source: String,
    /// Free text (a reason, the new state), never a secret.
    pub detail: String,
}

impl AuditEntry {
    pub fn new(tenant: &str, actor: &str, action: &str, target: &str, source: &str, detail: &str) -> Self {
        Self { at_ms: now_ms(), tenant: tenant.into(), actor: actor.into(), action: action.into(), target: target.into(), source: source.into(), detail: detail.into() }
    }
}

/// Entries returned at most by one listing.
pub const MAX_LISTED: u32 = 1000;

impl OpsDb {
    pub async fn audit(&self, entry: &AuditEntry) -> Result<(), OpsError> {
        sqlx::query("INSERT INTO audit (id, at_ms, tenant, actor, action, target, source, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(random_hex::<12>()?)
            .bind(entry.at_ms)
            .bind(&entry.tenant)
            .bind(&entry.actor)
            .bind(&entry.action)
            .bind(&entry.target)
            .bind(&entry.source)
            .bind(&entry.detail)
            .execute(&self.pool)
            .await
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// A tenant's entries, newest first, at most `limit` (≤ [`MAX_LISTED`]).
    pub async fn audit_log(&self, tenant: &str, limit: u32) -> Result<Vec<AuditEntry>, OpsError> {
        let rows = sqlx::query("SELECT at_ms, tenant, actor, action, target, source, detail FROM audit WHERE tenant = $1 ORDER BY at_ms DESC, id DESC LIMIT $2")
            .bind(tenant)
            .bind(limit.min(MAX_LISTED) as i64)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.fail(e))?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    at_ms: r.try_get(0)?,
                    tenant: r.try_get(1)?,
                    actor: r.try_get(2)?,
                    action: r.try_get(3)?,
                    target: r.try_get(4)?,
                    source: r.try_get(5)?,
                    detail: r.try_get(6)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(|e| OpsError::invalid("audit", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::tests::on_both_databases;

    async fn log(db: &OpsDb, tenant: &str) {
        let mut first = AuditEntry::new(tenant, "acme/sue", "agent.state", "1001", "127.0.0.1", "ready");
        first.at_ms -= 10;
        db.audit(&first).await.unwrap();
        let second = AuditEntry::new(tenant, "acme/sue", "logout", "acme/sue", "127.0.0.1", "");
        db.audit(&second).await.unwrap();
        db.audit(&AuditEntry::new("elsewhere", "x", "login", "x", "::1", "")).await.unwrap();
        assert_eq!(db.audit_log(tenant, 10).await.unwrap(), vec![second.clone(), first]);
        assert_eq!(db.audit_log(tenant, 1).await.unwrap(), vec![second]);
    }

    on_both_databases!(sqlite_audit, postgres_audit, log);
}
