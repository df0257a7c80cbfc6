//! Published rosters and adherence over HTTP: the same library calls as `wfm roster publish` and
//! `wfm adherence`, judged against the tenant's newest published version and its
//! `DATA/tenants/T/adherence.toml`.

use crate::auth::Signed;
use crate::{internal, ApiError, AppState};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use std::collections::HashMap;
use wfm_analytics::StoreError;
use wfm_intraday::{adherence_report, roll_up, AdherenceRules, GroupBy, HistoryError, HistoryQuery, Per};
use wfm_model::{LocalDateRange, TenantId};
use wfm_ops::rosters::Publication;
use wfm_scheduler::roster::Roster;

/// `POST /api/v1/tenants/{tenant}/rosters` with a `roster.csv` as the body: the next version.
pub async fn publish(State(state): State<AppState>, Extension(signed): Extension<Signed>, Path(tenant): Path<String>, body: String) -> Result<Response, ApiError> {
    let roster = Roster::read_csv("body", body.as_bytes()).map_err(|e| ApiError::bad_request("body", e))?;
    let summary = wfm_intraday::published::summary(&roster).ok_or_else(|| ApiError::bad_request("body", "the roster has no activities"))?;
    let actor = signed.actor();
    let version = state
        .db
        .publish_roster(&Publication {
            tenant: &tenant,
            published_by: &actor,
            first_date: &summary.first_date.to_string(),
            last_date: &summary.last_date.to_string(),
            activities: summary.activities as i64,
            roster_csv: &body,
        })
        .await?;
    let detail = format!("version {} ({} to {}, {} activities)", version.version, version.first_date, version.last_date, version.activities);
    state.db.audit(&signed.audit(&tenant, "roster.publish", &format!("roster/{}", version.version), &detail)).await?;
    Ok((StatusCode::CREATED, Json(version)).into_response())
}

/// `GET /api/v1/tenants/{tenant}/rosters`: the versions, newest first.
pub async fn versions(State(state): State<AppState>, Path(tenant): Path<String>) -> Result<Response, ApiError> {
    Ok(Json(state.db.roster_versions(&tenant).await?).into_response())
}

/// `GET /api/v1/tenants/{tenant}/rosters/{version}` (a number or `latest`): the roster as published.
pub async fn roster_csv(State(state): State<AppState>, Path((tenant, version)): Path<(String, String)>) -> Result<Response, ApiError> {
    let wanted = match version.as_str() {
        "latest" => None,
        v => Some(v.parse::<i64>().map_err(|_| ApiError::bad_request("version", format!("{v:?} is not a version number or `latest`")))?),
    };
    let (_, text) = state.db.roster(&tenant, wanted).await?.ok_or_else(|| ApiError::status(StatusCode::NOT_FOUND, Some("version"), format!("no roster version {version}")))?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], text).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdherenceParams {
    from: Option<String>,
    to: Option<String>,
    /// `agent`, `team` or `tenant`: roll the rows up.
    by: Option<String>,
    /// `day`, `week` or `month`.
    per: Option<String>,
    /// `true`: the counted exceptions instead of the figures.
    exceptions: Option<bool>,
}

impl From<HistoryError> for ApiError {
    fn from(e: HistoryError) -> Self {
        match e {
            HistoryError::Store(StoreError::UnknownTenant(t)) => Self::unknown_tenant(t.as_str()),
            other => internal(other),
        }
    }
}

/// `GET /api/v1/tenants/{tenant}/adherence?from=D&to=D[&by=…&per=…][&exceptions=true]`: the rows
/// of `wfm adherence`.
pub async fn adherence(State(state): State<AppState>, Path(tenant): Path<String>, params: Result<Query<AdherenceParams>, QueryRejection>) -> Result<Response, ApiError> {
    let Query(p) = params.map_err(|e| ApiError::bad_request("query", e.body_text()))?;
    let tenant = TenantId::parse(&tenant).map_err(|e| ApiError::bad_request("tenant", e))?;
    let from = p.from.as_deref().ok_or_else(|| ApiError::bad_request("from", "required (YYYY-MM-DD)"))?;
    let to = p.to.as_deref().ok_or_else(|| ApiError::bad_request("to", "required (YYYY-MM-DD, exclusive)"))?;
    let range = LocalDateRange::parse(from, to).map_err(|e| ApiError::bad_request("from", e))?;
    let by = match p.by.as_deref() {
        None => None,
        Some("agent") => Some(GroupBy::Agent),
        Some("team") => Some(GroupBy::Team),
        Some("tenant") => Some(GroupBy::Tenant),
        Some(other) => return Err(ApiError::bad_request("by", format!("{other:?} is not agent, team or tenant"))),
    };
    let per = match p.per.as_deref() {
        None => None,
        Some("day") => Some(Per::Day),
        Some("week") => Some(Per::Week),
        Some("month") => Some(Per::Month),
        Some(other) => return Err(ApiError::bad_request("per", format!("{other:?} is not day, week or month"))),
    };
    let dir = state.data.join("tenants").join(tenant.as_str());
    let rules = AdherenceRules::load_or_default(&dir.join("adherence.toml")).map_err(internal)?;
    let (version, text) = state
        .db
        .roster(tenant.as_str(), None)
        .await?
        .ok_or_else(|| ApiError::status(StatusCode::CONFLICT, None, "no published roster: publish one first (POST /rosters or wfm roster publish)"))?;
    let roster = Roster::read_csv(&format!("published roster version {}", version.version), text.as_bytes()).map_err(internal)?;
    let teams: HashMap<_, _> = if by == Some(GroupBy::Team) {
        let path = dir.join("agents.csv");
        let file = std::fs::File::open(&path).map_err(|_| ApiError::bad_request("by", format!("by=team needs the teams in {}", path.display())))?;
        wfm_scheduler::agents::parse(&path.display().to_string(), file, tenant.as_str()).map_err(internal)?.into_iter().map(|a| (a.id, a.team)).collect()
    } else {
        HashMap::new()
    };
    let store = state.store.clone();
    let exceptions = p.exceptions.unwrap_or(false);
    let body = tokio::task::spawn_blocking(move || -> Result<serde_json::Value, ApiError> {
        let report = adherence_report(&store, &HistoryQuery { tenant: &tenant, range, roster: &roster, rules: &rules, excused: &[] })?;
        let value = if exceptions {
            serde_json::to_value(&report.exceptions)
        } else if by.is_some() || per.is_some() {
            serde_json::to_value(roll_up(&report.rows, by.unwrap_or(GroupBy::Agent), per.unwrap_or(Per::Day), &tenant, &teams))
        } else {
            serde_json::to_value(&report.rows)
        };
        value.map_err(internal)
    })
    .await
    .map_err(internal)??;
    Ok(Json(body).into_response())
}
