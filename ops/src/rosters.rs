//! Published rosters: each publication is a new version of the tenant's roster, kept with who
//! published it and when; the newest is the plan adherence is judged by. The roster's text is
//! stored as it was published (the caller has parsed and checked it: this crate does not know
//! the roster format).

use crate::{now_ms, OpsDb, OpsError};
use sqlx::Row;

/// A version's description, without its text.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RosterVersion {
    pub tenant: String,
    /// 1, 2, … per tenant.
    pub version: i64,
    pub published_by: String,
    pub published_ms: i64,
    /// The first and last dates the roster has rows for (`YYYY-MM-DD`).
    pub first_date: String,
    pub last_date: String,
    pub activities: i64,
}

/// What is published: the roster's text and what the caller read in it.
pub struct Publication<'a> {
    pub tenant: &'a str,
    pub published_by: &'a str,
    pub first_date: &'a str,
    pub last_date: &'a str,
    pub activities: i64,
    pub roster_csv: &'a str,
}

fn version_of(row: &sqlx::any::AnyRow) -> Result<RosterVersion, sqlx::Error> {
    Ok(RosterVersion {
        tenant: row.try_get(0)?,
        version: row.try_get(1)?,
        published_by: row.try_get(2)?,
        published_ms: row.try_get(3)?,
        first_date: row.try_get(4)?,
        last_date: row.try_get(5)?,
        activities: row.try_get(6)?,
    })
}

impl OpsDb {
    /// Stores a new version, numbered one past the newest. Two publications at once cannot get
    /// the same number: the second's insert fails on the key and is retried.
    pub async fn publish_roster(&self, p: &Publication<'_>) -> Result<RosterVersion, OpsError> {
        for _ in 0..5 {
            let newest: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM roster_versions WHERE tenant = $1")
                .bind(p.tenant)
                .fetch_one(&self.pool)
                .await
                .map_err(|e| self.fail(e))?;
            let published = RosterVersion {
                tenant: p.tenant.to_owned(),
                version: newest.unwrap_or(0) + 1,
                published_by: p.published_by.to_owned(),
                published_ms: now_ms(),
                first_date: p.first_date.to_owned(),
                last_date: p.last_date.to_owned(),
                activities: p.activities,
            };
            let inserted = sqlx::query("INSERT INTO roster_versions (tenant, version, published_by, published_ms, first_date, last_date, activities, roster_csv) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                .bind(&published.tenant)
                .bind(published.version)
                .bind(&published.published_by)
                .bind(published.published_ms)
                .bind(&published.first_date)
                .bind(&published.last_date)
                .bind(published.activities)
                .bind(p.roster_csv)
                .execute(&self.pool)
                .await;
            match inserted {
                Ok(_) => return Ok(published),
                Err(e) if Self::is_duplicate(&e) => continue,
                Err(e) => return Err(self.fail(e).into()),
            }
        }
        Err(OpsError::Exists(format!("roster version of {} (published concurrently; try again)", p.tenant)))
    }

    /// Publishes `p` and audits it (`roster.publish` by `p.published_by` from `source`, of
    /// `target` or else the version itself, `roster/N`): what the API, the pages and the CLI do.
    pub async fn publish_roster_audited(&self, p: &Publication<'_>, target: Option<&str>, source: &str) -> Result<RosterVersion, OpsError> {
        let version = self.publish_roster(p).await?;
        let detail = format!("version {} ({} to {}, {} activities)", version.version, version.first_date, version.last_date, version.activities);
        let target = target.map_or_else(|| format!("roster/{}", version.version), str::to_owned);
        self.audit(&crate::audit::AuditEntry::new(p.tenant, p.published_by, "roster.publish", &target, source, &detail)).await?;
        Ok(version)
    }

    /// The tenant's versions, newest first.
    pub async fn roster_versions(&self, tenant: &str) -> Result<Vec<RosterVersion>, OpsError> {
        let rows = sqlx::query("SELECT tenant, version, published_by, published_ms, first_date, last_date, activities FROM roster_versions WHERE tenant = $1 ORDER BY version DESC")
            .bind(tenant)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.fail(e))?;
        rows.iter().map(version_of).collect::<Result<_, _>>().map_err(|e| self.fail(e).into())
    }

    /// A version and its text; `None` for the newest. `Ok(None)` when there is no such version.
    pub async fn roster(&self, tenant: &str, version: Option<i64>) -> Result<Option<(RosterVersion, String)>, OpsError> {
        // The newest is the highest version: asking for i64::MAX below it finds it.
        let row = sqlx::query(
            "SELECT tenant, version, published_by, published_ms, first_date, last_date, activities, roster_csv FROM roster_versions WHERE tenant = $1 AND version <= $2 ORDER BY version DESC LIMIT 1",
        )
        .bind(tenant)
        .bind(version.unwrap_or(i64::MAX))
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.fail(e))?;
        let Some(row) = row.filter(|r| version.is_none() || r.try_get::<i64, _>(1).ok() == version) else { return Ok(None) };
        let version = version_of(&row).map_err(|e| self.fail(e))?;
        let text: String = row.try_get(7).map_err(|e| self.fail(e))?;
        Ok(Some((version, text)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::tests::{postgres, sqlite, unique};

    async fn versions_are_kept(db: &OpsDb, tenant: &str) {
        assert_eq!(db.roster(tenant, None).await.unwrap(), None, "nothing published yet");
        let publication = |by: &'static str, csv: &'static str| Publication {
            tenant,
            published_by: by,
            first_date: "2026-03-02",
            last_date: "2026-03-08",
            activities: 1,
            roster_csv: csv,
        };
        let first = db.publish_roster(&publication("acme/planner", "v1")).await.unwrap();
        let second = db.publish_roster(&publication("acme/lead", "v2")).await.unwrap();
        assert_eq!((first.version, second.version), (1, 2));
        let (newest, text) = db.roster(tenant, None).await.unwrap().unwrap();
        assert_eq!((newest.version, newest.published_by.as_str(), text.as_str()), (2, "acme/lead", "v2"));
        assert_eq!(db.roster(tenant, Some(1)).await.unwrap().unwrap().1, "v1", "earlier versions are kept");
        assert_eq!(db.roster(tenant, Some(3)).await.unwrap(), None);
        assert_eq!(db.roster_versions(tenant).await.unwrap(), vec![second, first]);
        assert!(db.roster_versions("someone-else").await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn sqlite_versions() {
        let (db, _dir) = sqlite().await;
        versions_are_kept(&db, "acme").await;
    }

    #[tokio::test]
    async fn postgres_versions() {
        if let Some(db) = postgres().await {
            versions_are_kept(&db, &unique("pg")).await;
        }
    }
}
