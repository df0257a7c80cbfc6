//! Tenants: one customer organisation each, with its time zone, language, status and quotas.

use crate::{now_ms, OpsDb, OpsError};
use sqlx::Row;
use wfm_model::{TenantId, TenantZone};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Language {
    #[serde(rename = "en")]
    English,
    #[serde(rename = "zh-Hans")]
    ChineseSimplified,
    #[serde(rename = "zh-Hant")]
    ChineseTraditional,
    #[serde(rename = "ru")]
    Russian,
    #[serde(rename = "pl")]
    Polish,
}

const LANGUAGES: [Language; 5] = [Language::English, Language::ChineseSimplified, Language::ChineseTraditional, Language::Russian, Language::Polish];

impl Language {
    pub fn as_str(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::ChineseSimplified => "zh-Hans",
            Language::ChineseTraditional => "zh-Hant",
            Language::Russian => "ru",
            Language::Polish => "pl",
        }
    }

    pub fn parse(value: &str) -> Result<Self, String> {
        LANGUAGES.into_iter().find(|l| l.as_str() == value).ok_or_else(|| format!("{value:?} is not one of en, zh-Hans, zh-Hant, ru, pl"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TenantStatus {
    Active,
    /// Calls refused, sign-ins refused, data kept.
    Suspended,
}

impl TenantStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TenantStatus::Active => "active",
            TenantStatus::Suspended => "suspended",
        }
    }

    fn parse(value: &str) -> Result<Self, String> {
        match value {
            "active" => Ok(Self::Active),
            "suspended" => Ok(Self::Suspended),
            other => Err(format!("unknown tenant status {other:?}")),
        }
    }
}

/// What a tenant may use at most; enforced where each bites (see docs/security.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Quotas {
    /// Agents' phones registered at once.
    pub max_agents: u32,
    /// Calls in progress at once; the next gets 503.
    pub max_concurrent_calls: u32,
    /// Dialled numbers (entries) of the tenant's IVR file.
    pub max_ivr_flows: u32,
    /// Bytes of recordings and voicemail; beyond, no more are written and an alarm is raised.
    pub max_recording_bytes: u64,
    /// Days recordings and voicemail are kept; older ones are deleted (0: kept for ever).
    pub recording_retention_days: u32,
}

impl Default for Quotas {
    fn default() -> Self {
        Self { max_agents: 1000, max_concurrent_calls: 2000, max_ivr_flows: 50, max_recording_bytes: 10 << 30, recording_retention_days: 0 }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Tenant {
    #[serde(rename = "tenant")]
    pub id: TenantId,
    pub name: String,
    #[serde(rename = "time_zone", serialize_with = "zone_name")]
    pub zone: TenantZone,
    pub language: Language,
    pub status: TenantStatus,
    pub quotas: Quotas,
}

fn zone_name<S: serde::Serializer>(zone: &TenantZone, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(zone.name())
}

impl Tenant {
    pub fn new(id: TenantId, name: &str, zone: TenantZone, language: Language) -> Result<Self, OpsError> {
        let name = name.trim();
        if name.is_empty() || name.len() > 200 {
            return Err(OpsError::invalid("name", "1 to 200 characters"));
        }
        Ok(Self { id, name: name.to_owned(), zone, language, status: TenantStatus::Active, quotas: Quotas::default() })
    }

    pub fn is_active(&self) -> bool {
        self.status == TenantStatus::Active
    }
}

const COLUMNS: &str = "id, name, time_zone, language, status, max_agents, max_concurrent_calls, max_ivr_flows, max_recording_bytes, recording_retention_days";

fn from_row(row: &sqlx::any::AnyRow) -> Result<Tenant, OpsError> {
    let get = |e: sqlx::Error| OpsError::invalid("tenants", e);
    let id: String = row.try_get(0).map_err(get)?;
    let stored = |field: &'static str, message: String| OpsError::invalid(field, format!("tenant {id} as stored: {message}"));
    let count = |i: usize, field: &'static str| -> Result<i64, OpsError> {
        let n: i64 = row.try_get(i).map_err(get)?;
        if n < 0 { Err(stored(field, "negative".into())) } else { Ok(n) }
    };
    Ok(Tenant {
        id: TenantId::parse(&id).map_err(|e| stored("id", e.to_string()))?,
        name: row.try_get(1).map_err(get)?,
        zone: TenantZone::parse(&row.try_get::<String, _>(2).map_err(get)?).map_err(|e| stored("time_zone", e.to_string()))?,
        language: Language::parse(&row.try_get::<String, _>(3).map_err(get)?).map_err(|e| stored("language", e))?,
        status: TenantStatus::parse(&row.try_get::<String, _>(4).map_err(get)?).map_err(|e| stored("status", e))?,
        quotas: Quotas {
            max_agents: count(5, "max_agents")?.min(u32::MAX as i64) as u32,
            max_concurrent_calls: count(6, "max_concurrent_calls")?.min(u32::MAX as i64) as u32,
            max_ivr_flows: count(7, "max_ivr_flows")?.min(u32::MAX as i64) as u32,
            max_recording_bytes: count(8, "max_recording_bytes")? as u64,
            recording_retention_days: count(9, "recording_retention_days")?.min(u32::MAX as i64) as u32,
        },
    })
}

impl OpsDb {
    /// Adds a tenant; an id in use is refused.
    pub async fn add_tenant(&self, tenant: &Tenant) -> Result<(), OpsError> {
        let q = &tenant.quotas;
        sqlx::query(sqlx::AssertSqlSafe(format!("INSERT INTO tenants ({COLUMNS}, created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")))
            .bind(tenant.id.as_str())
            .bind(&tenant.name)
            .bind(tenant.zone.name())
            .bind(tenant.language.as_str())
            .bind(tenant.status.as_str())
            .bind(q.max_agents as i64)
            .bind(q.max_concurrent_calls as i64)
            .bind(q.max_ivr_flows as i64)
            .bind(q.max_recording_bytes.min(i64::MAX as u64) as i64)
            .bind(q.recording_retention_days as i64)
            .bind(now_ms())
            .execute(&self.pool)
            .await
            .map_err(|e| if OpsDb::is_duplicate(&e) { OpsError::Exists(format!("tenant {}", tenant.id)) } else { self.fail(e).into() })?;
        Ok(())
    }

    /// Adds a tenant unless one of that id is there already (another process may have added
    /// it first): a data directory's tenants, or one first seen in an import.
    pub async fn ensure_tenant(&self, tenant: &Tenant) -> Result<(), OpsError> {
        match self.add_tenant(tenant).await {
            Ok(()) | Err(OpsError::Exists(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    pub async fn tenant(&self, id: &str) -> Result<Option<Tenant>, OpsError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM tenants WHERE id = $1"))).bind(id).fetch_optional(&self.pool).await.map_err(|e| self.fail(e))?;
        row.as_ref().map(from_row).transpose()
    }

    /// Every tenant, by id.
    pub async fn tenants(&self) -> Result<Vec<Tenant>, OpsError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM tenants ORDER BY id"))).fetch_all(&self.pool).await.map_err(|e| self.fail(e))?;
        rows.iter().map(from_row).collect()
    }

    /// Suspends or resumes; returns the tenant as it now is.
    pub async fn set_tenant_status(&self, id: &str, status: TenantStatus) -> Result<Tenant, OpsError> {
        let done = sqlx::query("UPDATE tenants SET status = $1 WHERE id = $2").bind(status.as_str()).bind(id).execute(&self.pool).await.map_err(|e| self.fail(e))?;
        if done.rows_affected() == 0 {
            return Err(OpsError::NotFound(format!("tenant {id}")));
        }
        self.tenant(id).await?.ok_or_else(|| OpsError::NotFound(format!("tenant {id}")))
    }

    pub async fn set_quotas(&self, id: &str, q: &Quotas) -> Result<(), OpsError> {
        let done = sqlx::query("UPDATE tenants SET max_agents = $1, max_concurrent_calls = $2, max_ivr_flows = $3, max_recording_bytes = $4, recording_retention_days = $5 WHERE id = $6")
            .bind(q.max_agents as i64)
            .bind(q.max_concurrent_calls as i64)
            .bind(q.max_ivr_flows as i64)
            .bind(q.max_recording_bytes.min(i64::MAX as u64) as i64)
            .bind(q.recording_retention_days as i64)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(|e| self.fail(e))?;
        if done.rows_affected() == 0 {
            return Err(OpsError::NotFound(format!("tenant {id}")));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::tests::on_both_databases;

    async fn lifecycle(db: &OpsDb, id: &str) {
        let tenant = Tenant::new(TenantId::parse(id).unwrap(), "Acme Calls", TenantZone::parse("Asia/Shanghai").unwrap(), Language::ChineseSimplified).unwrap();
        db.add_tenant(&tenant).await.unwrap();
        assert!(matches!(db.add_tenant(&tenant).await, Err(OpsError::Exists(_))));
        db.ensure_tenant(&tenant).await.unwrap();
        assert_eq!(db.tenant(id).await.unwrap().as_ref(), Some(&tenant));
        let suspended = db.set_tenant_status(id, TenantStatus::Suspended).await.unwrap();
        assert!(!suspended.is_active());
        assert!(db.set_tenant_status(id, TenantStatus::Active).await.unwrap().is_active());
        let quotas = Quotas { max_agents: 2, recording_retention_days: 90, ..Quotas::default() };
        db.set_quotas(id, &quotas).await.unwrap();
        assert_eq!(db.tenant(id).await.unwrap().unwrap().quotas, quotas);
        assert!(matches!(db.set_tenant_status("no-such", TenantStatus::Active).await, Err(OpsError::NotFound(_))));
        assert!(db.tenants().await.unwrap().iter().any(|t| t.id.as_str() == id));
    }

    on_both_databases!(sqlite_tenants, postgres_tenants, lifecycle);

    #[test]
    fn languages_and_names() {
        assert_eq!(Language::parse("zh-Hant"), Ok(Language::ChineseTraditional));
        assert!(Language::parse("de").is_err());
        assert!(Tenant::new(TenantId::parse("x").unwrap(), "  ", TenantZone::utc(), Language::English).is_err());
    }
}
