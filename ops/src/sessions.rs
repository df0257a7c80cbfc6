//! Browser sessions and personal API tokens: how a request proves who sent it.
//!
//! Both are 256-bit random secrets stored only as their SHA-256 ([`crate::secrets`]). A session
//! also has a CSRF token (sent back by the page in `X-CSRF-Token` on state-changing requests),
//! ends at sign-out, after [`SessionPolicy::idle_ms`] without a request or after
//! [`SessionPolicy::lifetime_ms`] in all. A token lives until its user revokes it. Either is
//! refused while its user's tenant is suspended, and stops working when the user is removed.

use crate::secrets::{random_hex, sha256_hex};
use crate::users::User;
use crate::{now_ms, OpsDb, OpsError};
use sqlx::Row;

#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    pub idle_ms: i64,
    pub lifetime_ms: i64,
}

impl Default for SessionPolicy {
    /// 30 minutes idle, 12 hours in all.
    fn default() -> Self {
        Self { idle_ms: 30 * 60_000, lifetime_ms: 12 * 3_600_000 }
    }
}

/// Who a request comes from, and with what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user: User,
    pub credential: Credential,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    Session { id_hash: String, csrf_token: String },
    Token { id: String },
}

/// Why a credential was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Never issued, revoked, or its user is gone.
    Unknown,
    /// A session past its idle time or lifetime (it is deleted).
    Expired,
    /// The user's tenant is suspended.
    Suspended,
}

/// A session just opened: the cookie's value (shown once) and its CSRF token.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: String,
    pub csrf_token: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TokenInfo {
    pub id: String,
    pub label: String,
    pub created_ms: i64,
    pub revoked_ms: Option<i64>,
}

/// A request's last-seen time is written at most this often (not on every request), and at
/// least twice per idle time.
const TOUCH_EVERY_MS: i64 = 30_000;

/// A user of a tenant whose row is gone is refused like one of a suspended tenant.
const CALLER: &str = "u.tenant, u.login, u.role, u.agent_id, COALESCE(t.status, 'missing')";

fn caller_from(row: &sqlx::any::AnyRow, credential: Credential) -> Result<Result<Caller, Refusal>, OpsError> {
    let user = crate::users::from_row_prefix(row)?;
    let status: String = row.try_get(4).map_err(|e| OpsError::invalid("tenants", e))?;
    if user.tenant.is_some() && status != "active" {
        // A suspended tenant, or one whose row is gone.
        return Ok(Err(Refusal::Suspended));
    }
    Ok(Ok(Caller { user, credential }))
}

impl OpsDb {
    pub async fn create_session(&self, user: &User) -> Result<NewSession, OpsError> {
        let session = NewSession { id: random_hex::<32>()?, csrf_token: random_hex::<32>()? };
        let now = now_ms();
        sqlx::query("INSERT INTO sessions (id_hash, tenant, login, csrf_token, created_ms, last_seen_ms) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(sha256_hex(&session.id))
            .bind(user.tenant_key())
            .bind(user.login.as_str())
            .bind(&session.csrf_token)
            .bind(now)
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(|e| self.fail(e))?;
        Ok(session)
    }

    /// The caller a session cookie identifies at `now`; an expired session is deleted.
    pub async fn session(&self, id: &str, policy: SessionPolicy, now: i64) -> Result<Result<Caller, Refusal>, OpsError> {
        let id_hash = sha256_hex(id);
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {CALLER}, s.csrf_token, s.created_ms, s.last_seen_ms FROM sessions s
             JOIN users u ON u.tenant = s.tenant AND u.login = s.login LEFT JOIN tenants t ON t.id = s.tenant WHERE s.id_hash = $1"
        )))
        .bind(&id_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.fail(e))?;
        let Some(row) = row else { return Ok(Err(Refusal::Unknown)) };
        let get = |i: usize| row.try_get::<i64, _>(i).map_err(|e| OpsError::invalid("sessions", e));
        let (created, last_seen) = (get(6)?, get(7)?);
        if now - last_seen > policy.idle_ms || now - created > policy.lifetime_ms {
            self.end_session(&id_hash).await?;
            return Ok(Err(Refusal::Expired));
        }
        if now - last_seen > TOUCH_EVERY_MS.min(policy.idle_ms / 2) {
            sqlx::query("UPDATE sessions SET last_seen_ms = $1 WHERE id_hash = $2").bind(now).bind(&id_hash).execute(&self.pool).await.map_err(|e| self.fail(e))?;
        }
        let csrf_token: String = row.try_get(5).map_err(|e| OpsError::invalid("sessions", e))?;
        caller_from(&row, Credential::Session { id_hash, csrf_token })
    }

    /// Whether a credential accepted earlier is still good at `now`, for long-lived streams
    /// that re-check it: the session not ended nor past its lifetime (an open stream is activity,
    /// so it counts as a request for the idle time), the token not revoked, the user still there
    /// with the same role, the tenant active.
    pub async fn still_valid(&self, caller: &Caller, policy: SessionPolicy, now: i64) -> Result<bool, OpsError> {
        let row = match &caller.credential {
            Credential::Session { id_hash, .. } => sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {CALLER}, s.created_ms FROM sessions s
                 JOIN users u ON u.tenant = s.tenant AND u.login = s.login LEFT JOIN tenants t ON t.id = s.tenant WHERE s.id_hash = $1"
            )))
            .bind(id_hash),
            Credential::Token { id } => sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {CALLER}, k.created_ms FROM api_tokens k
                 JOIN users u ON u.tenant = k.tenant AND u.login = k.login LEFT JOIN tenants t ON t.id = k.tenant
                 WHERE k.id = $1 AND k.revoked_ms IS NULL"
            )))
            .bind(id),
        }
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.fail(e))?;
        let Some(row) = row else { return Ok(false) };
        if let Credential::Session { id_hash, .. } = &caller.credential {
            let created: i64 = row.try_get(5).map_err(|e| OpsError::invalid("sessions", e))?;
            if now - created > policy.lifetime_ms {
                return Ok(false);
            }
            sqlx::query("UPDATE sessions SET last_seen_ms = $1 WHERE id_hash = $2").bind(now).bind(id_hash).execute(&self.pool).await.map_err(|e| self.fail(e))?;
        }
        Ok(caller_from(&row, caller.credential.clone())?.is_ok_and(|found| found.user == caller.user))
    }

    /// Ends a session (sign-out), by the hash its [`Credential`] carries.
    pub async fn end_session(&self, id_hash: &str) -> Result<(), OpsError> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(id_hash).execute(&self.pool).await.map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// Deletes sessions idle or older than the policy allows; returns how many.
    pub async fn purge_sessions(&self, policy: SessionPolicy, now: i64) -> Result<u64, OpsError> {
        let done = sqlx::query("DELETE FROM sessions WHERE last_seen_ms < $1 OR created_ms < $2")
            .bind(now - policy.idle_ms)
            .bind(now - policy.lifetime_ms)
            .execute(&self.pool)
            .await
            .map_err(|e| self.fail(e))?;
        Ok(done.rows_affected())
    }

    /// A new personal API token of `user`: its id and the token itself, which is shown once.
    pub async fn create_token(&self, user: &User, label: &str) -> Result<(String, String), OpsError> {
        let label = label.trim();
        if label.len() > 200 {
            return Err(OpsError::invalid("label", "at most 200 characters"));
        }
        let id = random_hex::<8>()?;
        let token = format!("wfm_{}", random_hex::<32>()?);
        sqlx::query("INSERT INTO api_tokens (id, token_hash, tenant, login, label, created_ms) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&id)
            .bind(sha256_hex(&token))
            .bind(user.tenant_key())
            .bind(user.login.as_str())
            .bind(label)
            .bind(now_ms())
            .execute(&self.pool)
            .await
            .map_err(|e| self.fail(e))?;
        Ok((id, token))
    }

    /// The caller a bearer token identifies.
    pub async fn token(&self, token: &str) -> Result<Result<Caller, Refusal>, OpsError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {CALLER}, k.id FROM api_tokens k
             JOIN users u ON u.tenant = k.tenant AND u.login = k.login LEFT JOIN tenants t ON t.id = k.tenant
             WHERE k.token_hash = $1 AND k.revoked_ms IS NULL"
        )))
        .bind(sha256_hex(token))
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.fail(e))?;
        let Some(row) = row else { return Ok(Err(Refusal::Unknown)) };
        let id: String = row.try_get(5).map_err(|e| OpsError::invalid("api_tokens", e))?;
        caller_from(&row, Credential::Token { id })
    }

    /// A user's tokens, newest first (never the tokens themselves).
    pub async fn tokens(&self, user: &User) -> Result<Vec<TokenInfo>, OpsError> {
        let rows = sqlx::query("SELECT id, label, created_ms, revoked_ms FROM api_tokens WHERE tenant = $1 AND login = $2 ORDER BY created_ms DESC, id")
            .bind(user.tenant_key())
            .bind(user.login.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.fail(e))?;
        rows.iter()
            .map(|r| Ok(TokenInfo { id: r.try_get(0)?, label: r.try_get(1)?, created_ms: r.try_get(2)?, revoked_ms: r.try_get(3)? }))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(|e| OpsError::invalid("api_tokens", e))
    }

    /// Revokes one of `user`'s tokens; `false` when they have none with that id.
    pub async fn revoke_token(&self, user: &User, id: &str) -> Result<bool, OpsError> {
        let done = sqlx::query("UPDATE api_tokens SET revoked_ms = $1 WHERE id = $2 AND tenant = $3 AND login = $4 AND revoked_ms IS NULL")
            .bind(now_ms())
            .bind(id)
            .bind(user.tenant_key())
            .bind(user.login.as_str())
            .execute(&self.pool)
            .await
            .map_err(|e| self.fail(e))?;
        Ok(done.rows_affected() > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::tests::on_both_databases;
    use crate::roles::Role;
    use crate::tenants::{Language, Tenant, TenantStatus};
    use crate::users::{hash_password, Login};
    use wfm_model::{TenantId, TenantZone};

    async fn sessions_and_tokens(db: &OpsDb, tenant: &str) {
        let t = TenantId::parse(tenant).unwrap();
        db.add_tenant(&Tenant::new(t.clone(), "T", TenantZone::utc(), Language::English).unwrap()).await.unwrap();
        let user = User::new(Some(t), Login::parse("sue").unwrap(), Role::Supervisor, None).unwrap();
        db.add_user(&user, &hash_password("password one").unwrap()).await.unwrap();
        let policy = SessionPolicy { idle_ms: 1_000, lifetime_ms: 10_000 };

        let session = db.create_session(&user).await.unwrap();
        let now = now_ms();
        let caller = db.session(&session.id, policy, now).await.unwrap().unwrap();
        assert_eq!(caller.user, user);
        assert!(matches!(&caller.credential, Credential::Session { csrf_token, .. } if *csrf_token == session.csrf_token));
        assert_eq!(db.session("forged", policy, now).await.unwrap(), Err(Refusal::Unknown));
        assert_eq!(db.session(&session.id, policy, now + 1_001).await.unwrap(), Err(Refusal::Expired), "idle too long");
        assert_eq!(db.session(&session.id, policy, now).await.unwrap(), Err(Refusal::Unknown), "an expired session is gone");

        let (id, token) = db.create_token(&user, "nightly export").await.unwrap();
        assert_eq!(db.token(&token).await.unwrap().unwrap().user, user);
        db.set_tenant_status(tenant, TenantStatus::Suspended).await.unwrap();
        assert_eq!(db.token(&token).await.unwrap(), Err(Refusal::Suspended));
        db.set_tenant_status(tenant, TenantStatus::Active).await.unwrap();
        assert_eq!(db.tokens(&user).await.unwrap()[0].id, id);
        assert!(db.revoke_token(&user, &id).await.unwrap());
        assert!(!db.revoke_token(&user, &id).await.unwrap());
        assert_eq!(db.token(&token).await.unwrap(), Err(Refusal::Unknown));

        let streaming = db.create_session(&user).await.unwrap();
        let caller = db.session(&streaming.id, policy, now_ms()).await.unwrap().unwrap();
        assert!(db.still_valid(&caller, policy, now_ms()).await.unwrap());
        db.set_tenant_status(tenant, TenantStatus::Suspended).await.unwrap();
        assert!(!db.still_valid(&caller, policy, now_ms()).await.unwrap(), "a stream of a suspended tenant ends");
        db.set_tenant_status(tenant, TenantStatus::Active).await.unwrap();
        assert!(!db.still_valid(&caller, policy, now_ms() + 10_001).await.unwrap(), "past its lifetime");

        let signed_out = db.create_session(&user).await.unwrap();
        let Ok(Caller { credential: Credential::Session { id_hash, .. }, .. }) = db.session(&signed_out.id, policy, now_ms()).await.unwrap() else { panic!() };
        db.end_session(&id_hash).await.unwrap();
        assert_eq!(db.session(&signed_out.id, policy, now_ms()).await.unwrap(), Err(Refusal::Unknown));
    }

    on_both_databases!(sqlite_sessions_and_tokens, postgres_sessions_and_tokens, sessions_and_tokens);
}
