//! Personal logins: one user per person, with a role, and (for agents) the ACD agent id they
//! are. Passwords are hashed with Argon2id (the `argon2` crate's defaults, OWASP's minimum:
//! 19 MiB of memory, 2 passes, 1 lane) and never stored, logged or returned.

use crate::roles::Role;
use crate::{now_ms, OpsDb, OpsError};
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use sqlx::Row;
use std::fmt;
use wfm_model::{AgentId, TenantId};

/// A login name: 1–64 letters, digits and `_ - . @ +`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Login(String);

impl Login {
    pub fn parse(value: &str) -> Result<Self, OpsError> {
        if value.is_empty() || value.len() > 64 {
            return Err(OpsError::invalid("login", "1 to 64 characters"));
        }
        if !value.chars().all(|c| c.is_ascii_alphanumeric() || "_-.@+".contains(c)) {
            return Err(OpsError::invalid("login", format!("{value:?}: only letters, digits and _ - . @ +")));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct User {
    /// `None` for platform administrators, who belong to no tenant.
    pub tenant: Option<TenantId>,
    pub login: Login,
    pub role: Role,
    /// The ACD agent an `agent` user is.
    pub agent_id: Option<AgentId>,
}

impl User {
    /// A user whose role, tenant and agent id fit together.
    pub fn new(tenant: Option<TenantId>, login: Login, role: Role, agent_id: Option<AgentId>) -> Result<Self, OpsError> {
        match (role, &tenant, &agent_id) {
            (Role::PlatformAdmin, Some(_), _) => Err(OpsError::invalid("tenant", "a platform administrator belongs to no tenant")),
            (role, None, _) if role != Role::PlatformAdmin => Err(OpsError::invalid("tenant", format!("a {role} belongs to a tenant"))),
            (Role::Agent, _, None) => Err(OpsError::invalid("agent-id", "an agent user needs the ACD agent id it is")),
            (role, _, Some(_)) if role != Role::Agent => Err(OpsError::invalid("agent-id", "only agent users have an agent id")),
            _ => Ok(Self { tenant, login, role, agent_id }),
        }
    }

    /// The tenant column's value ('' for platform administrators).
    pub(crate) fn tenant_key(&self) -> &str {
        self.tenant.as_ref().map_or("", TenantId::as_str)
    }
}

/// A password hash in PHC form (`$argon2id$v=19$m=19456,t=2,p=1$…`).
#[derive(Clone)]
pub struct PasswordDigest(String);

/// Hashes a password (≈ 20 ms in a release build: run it off async threads).
pub fn hash_password(password: &str) -> Result<PasswordDigest, OpsError> {
    if password.len() < 8 || password.len() > 1024 {
        return Err(OpsError::invalid("password", "8 to 1024 bytes"));
    }
    let hash = Argon2::default().hash_password(password.as_bytes()).map_err(|e| OpsError::Hash(e.to_string()))?;
    Ok(PasswordDigest(hash.to_string()))
}

/// Whether `password` is the one `digest` was made from. A digest that does not parse matches
/// nothing.
pub fn verify_password(password: &str, digest: &str) -> bool {
    PasswordHash::new(digest).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Verified against when the login does not exist, so that a wrong login costs the same time as
/// a wrong password and does not tell which logins exist.
pub fn decoy_digest() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password, never matched").map(|d| d.0).unwrap_or_default())
}

/// A user from the first four columns of `row`: tenant, login, role, agent_id.
pub(crate) fn from_row_prefix(row: &sqlx::any::AnyRow) -> Result<User, OpsError> {
    let get = |e: sqlx::Error| OpsError::invalid("users", e);
    let tenant: String = row.try_get(0).map_err(get)?;
    let login: String = row.try_get(1).map_err(get)?;
    let role: String = row.try_get(2).map_err(get)?;
    let agent: Option<String> = row.try_get(3).map_err(get)?;
    let tenant = if tenant.is_empty() { None } else { Some(TenantId::parse(&tenant).map_err(|e| OpsError::invalid("tenant", e))?) };
    let agent_id = agent.as_deref().map(AgentId::parse).transpose().map_err(|e| OpsError::invalid("agent_id", e))?;
    User::new(tenant, Login::parse(&login)?, Role::parse(&role).map_err(|e| OpsError::invalid("role", e))?, agent_id)
}

impl OpsDb {
    pub async fn add_user(&self, user: &User, password: &PasswordDigest) -> Result<(), OpsError> {
        sqlx::query("INSERT INTO users (tenant, login, role, agent_id, password_hash, created_ms) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(user.tenant_key())
            .bind(user.login.as_str())
            .bind(user.role.as_str())
            .bind(user.agent_id.as_ref().map(|a| a.as_str().to_owned()))
            .bind(&password.0)
            .bind(now_ms())
            .execute(&self.pool)
            .await
            .map_err(|e| if OpsDb::is_duplicate(&e) { OpsError::Exists(format!("user {}", user.login)) } else { self.fail(e).into() })?;
        Ok(())
    }

    /// The users of a tenant (`None`: the platform administrators), by login.
    pub async fn users(&self, tenant: Option<&str>) -> Result<Vec<User>, OpsError> {
        let rows = sqlx::query("SELECT tenant, login, role, agent_id FROM users WHERE tenant = $1 ORDER BY login")
            .bind(tenant.unwrap_or(""))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.fail(e))?;
        rows.iter().map(from_row_prefix).collect()
    }

    /// Whether the database has any user at all (the demo creates its users when it has none).
    pub async fn has_users(&self) -> Result<bool, OpsError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&self.pool).await.map_err(|e| self.fail(e))?;
        Ok(n > 0)
    }

    /// The user and their password digest, to check a sign-in against.
    pub async fn user_with_digest(&self, tenant: Option<&str>, login: &str) -> Result<Option<(User, String)>, OpsError> {
        let row = sqlx::query("SELECT tenant, login, role, agent_id, password_hash FROM users WHERE tenant = $1 AND login = $2")
            .bind(tenant.unwrap_or(""))
            .bind(login)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.fail(e))?;
        row.map(|r| Ok((from_row_prefix(&r)?, r.try_get::<String, _>(4).map_err(|e| OpsError::invalid("users", e))?))).transpose()
    }

    /// Sets a user's password; their sessions end and their tokens are revoked (a password is
    /// changed when it may have leaked).
    pub async fn set_password(&self, tenant: Option<&str>, login: &str, password: &PasswordDigest) -> Result<(), OpsError> {
        let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE tenant = $2 AND login = $3")
            .bind(&password.0)
            .bind(tenant.unwrap_or(""))
            .bind(login)
            .execute(&self.pool)
            .await
            .map_err(|e| self.fail(e))?;
        if done.rows_affected() == 0 {
            return Err(OpsError::NotFound(format!("user {login}")));
        }
        self.end_credentials(tenant, login).await
    }

    /// Removes a user with their sessions and tokens.
    pub async fn remove_user(&self, tenant: Option<&str>, login: &str) -> Result<(), OpsError> {
        let done = sqlx::query("DELETE FROM users WHERE tenant = $1 AND login = $2").bind(tenant.unwrap_or("")).bind(login).execute(&self.pool).await.map_err(|e| self.fail(e))?;
        if done.rows_affected() == 0 {
            return Err(OpsError::NotFound(format!("user {login}")));
        }
        self.end_credentials(tenant, login).await
    }

    async fn end_credentials(&self, tenant: Option<&str>, login: &str) -> Result<(), OpsError> {
        for statement in ["DELETE FROM sessions WHERE tenant = $1 AND login = $2", "UPDATE api_tokens SET revoked_ms = $3 WHERE tenant = $1 AND login = $2 AND revoked_ms IS NULL"] {
            let query = sqlx::query(statement).bind(tenant.unwrap_or("")).bind(login);
            let query = if statement.contains("$3") { query.bind(now_ms()) } else { query };
            query.execute(&self.pool).await.map_err(|e| self.fail(e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::tests::on_both_databases;

    #[test]
    fn passwords_hash_and_verify() {
        let digest = hash_password("correct horse").unwrap();
        assert!(digest.0.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{}", digest.0);
        assert!(verify_password("correct horse", &digest.0));
        assert!(!verify_password("correct horsf", &digest.0));
        assert!(!verify_password("x", "not a digest"));
        assert_ne!(hash_password("correct horse").unwrap().0, digest.0, "salted");
        assert!(hash_password("short").is_err());
    }

    #[test]
    fn roles_fit_tenants_and_agents() {
        let t = || Some(TenantId::parse("acme").unwrap());
        let login = || Login::parse("ann").unwrap();
        assert!(User::new(None, login(), Role::PlatformAdmin, None).is_ok());
        assert!(User::new(t(), login(), Role::PlatformAdmin, None).is_err());
        assert!(User::new(None, login(), Role::Planner, None).is_err());
        assert!(User::new(t(), login(), Role::Agent, None).is_err());
        assert!(User::new(t(), login(), Role::Manager, Some(AgentId::parse("1001").unwrap())).is_err());
        assert!(Login::parse("a b").is_err() && Login::parse("").is_err());
    }

    async fn users(db: &OpsDb, tenant: &str) {
        let t = TenantId::parse(tenant).unwrap();
        let agent = User::new(Some(t.clone()), Login::parse("1001").unwrap(), Role::Agent, Some(AgentId::parse("1001").unwrap())).unwrap();
        let digest = hash_password("password one").unwrap();
        db.add_user(&agent, &digest).await.unwrap();
        assert!(matches!(db.add_user(&agent, &digest).await, Err(OpsError::Exists(_))));
        let (found, stored) = db.user_with_digest(Some(tenant), "1001").await.unwrap().unwrap();
        assert!(found == agent && verify_password("password one", &stored));
        assert!(db.user_with_digest(Some("other"), "1001").await.unwrap().is_none(), "logins are per tenant");
        let session = db.create_session(&agent).await.unwrap();
        let (_, token) = db.create_token(&agent, "").await.unwrap();
        db.set_password(Some(tenant), "1001", &hash_password("password two").unwrap()).await.unwrap();
        assert!(verify_password("password two", &db.user_with_digest(Some(tenant), "1001").await.unwrap().unwrap().1));
        let policy = crate::sessions::SessionPolicy::default();
        assert!(db.session(&session.id, policy, now_ms()).await.unwrap().is_err(), "a new password ends the sessions");
        assert!(db.token(&token).await.unwrap().is_err(), "and revokes the tokens");
        assert_eq!(db.users(Some(tenant)).await.unwrap(), vec![agent.clone()]);
        assert!(db.has_users().await.unwrap());
        let (_, token) = db.create_token(&agent, "").await.unwrap();
        db.remove_user(Some(tenant), "1001").await.unwrap();
        assert!(db.users(Some(tenant)).await.unwrap().is_empty() && db.token(&token).await.unwrap().is_err());
        assert!(matches!(db.remove_user(Some(tenant), "1001").await, Err(OpsError::NotFound(_))));
    }

    on_both_databases!(sqlite_users, postgres_users, users);
}
