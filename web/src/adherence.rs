//! Published rosters and adherence over HTTP: the same library calls as `wfm roster publish` and
//! `wfm adherence`, judged against the tenant's newest published version and its
//! `DATA/tenants/T/adherence.toml`; the live view of every agent now, and excused time (a
//! supervisor's excusal, an agent's claim and its decision).

use crate::auth::Signed;
use crate::supervision::{adherence_event, lock, now_ms, Supervision};
use crate::{body, internal, ApiError, AppState};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use std::collections::HashMap;
use wfm_analytics::StoreError;
use wfm_intraday::{adherence_report, roll_up, AdherenceRules, GroupBy, HistoryError, HistoryQuery, Per};
use wfm_model::{AgentId, TenantId};
use wfm_ops::excusals::Excusal;
use wfm_ops::rosters::{Publication, RosterVersion};
use wfm_scheduler::roster::Roster;

/// `POST /api/v1/tenants/{tenant}/rosters` with a `roster.csv` as the body: the next version.
pub async fn publish(State(state): State<AppState>, Extension(signed): Extension<Signed>, Path(tenant): Path<String>, body: String) -> Result<Response, ApiError> {
    let version = publish_roster(&state, &signed, &tenant, ("body", "body"), &body).await?;
    Ok((StatusCode::CREATED, Json(version)).into_response())
}

/// Publishes `text`, a roster CSV sent in the request's `field` (`file` names it in errors), as
/// the tenant's next version; audited. The API's and the planner's page's one way in.
pub async fn publish_roster(state: &AppState, signed: &Signed, tenant: &str, (field, file): (&'static str, &str), text: &str) -> Result<RosterVersion, ApiError> {
    let roster = Roster::read_csv(file, text.as_bytes()).map_err(|e| ApiError::bad_request(field, e))?;
    let summary = wfm_intraday::published::summary(&roster).ok_or_else(|| ApiError::bad_request(field, format!("{file}: the roster has no activities")))?;
    let actor = signed.actor();
    let publication = Publication {
        tenant,
        published_by: &actor,
        first_date: &summary.first_date.to_string(),
        last_date: &summary.last_date.to_string(),
        activities: summary.activities as i64,
        roster_csv: text,
    };
    let version = state.db.publish_roster_audited(&publication, None, &signed.source).await?;
    Ok(version)
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
    let range = crate::date_range(p.from.as_deref(), p.to.as_deref())?;
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
    let zone = state.store.tenant_zone(&tenant).map_err(HistoryError::Store)?;
    let (from, to) = crate::supervision::excusal_span(zone, range);
    let excused = crate::supervision::approved_excusals(&state.db, tenant.as_str(), from, to).await?;
    let store = state.store.clone();
    let exceptions = p.exceptions.unwrap_or(false);
    let body = tokio::task::spawn_blocking(move || -> Result<serde_json::Value, ApiError> {
        let report = adherence_report(&store, &HistoryQuery { tenant: &tenant, range, roster: &roster, rules: &rules, excused: &excused })?;
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

fn supervision(state: &AppState, tenant: &str) -> Result<std::sync::Arc<std::sync::Mutex<Supervision>>, ApiError> {
    state.supervisors.get(tenant).ok_or_else(|| ApiError::status(StatusCode::NOT_FOUND, None, format!("tenant {tenant} has no ACD running (or it is starting): no live adherence")))
}

fn agent_id(field: &'static str, text: &str) -> Result<AgentId, ApiError> {
    AgentId::parse(text).map_err(|e| ApiError::bad_request(field, e))
}

/// `GET /api/v1/tenants/{tenant}/adherence/live`: every agent now.
pub async fn live(State(state): State<AppState>, Path(tenant): Path<String>) -> Result<Response, ApiError> {
    let supervision = supervision(&state, &tenant)?;
    let s = lock(&supervision);
    let body = serde_json::json!({ "tenant": tenant, "roster_version": s.board.roster_version(), "agents": s.board.statuses(now_ms()) });
    Ok(Json(body).into_response())
}

/// `GET /api/v1/tenants/{tenant}/agents/{agent}/adherence/live`: one agent now (an agent: their own).
pub async fn agent_live(State(state): State<AppState>, Path((tenant, agent)): Path<(String, String)>) -> Result<Response, ApiError> {
    let agent = agent_id("agent", &agent)?;
    let supervision = supervision(&state, &tenant)?;
    let status = lock(&supervision).board.agent_status(&agent, now_ms());
    let status = status.ok_or_else(|| ApiError::status(StatusCode::NOT_FOUND, Some("agent"), format!("agent {agent} is neither in the ACD nor in the roster")))?;
    Ok(Json(status).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExcusalRequest {
    /// Only when a supervisor excuses (an agent's claim names the agent in the path).
    agent: Option<String>,
    start: String,
    end: String,
    reason: String,
}

fn instant(field: &'static str, text: &str) -> Result<i64, ApiError> {
    chrono::DateTime::parse_from_rfc3339(text).map(|t| t.timestamp_millis()).map_err(|_| ApiError::bad_request(field, format!("{text:?} is not a time with its offset (2026-03-02T09:00:00+01:00)")))
}

/// Tells the board an approved excusal and the event stream the agent's new figures.
fn apply_excusal(state: &AppState, tenant: &str, excusal: &Excusal) {
    let (Some(supervision), Ok(agent)) = (state.supervisors.get(tenant), AgentId::parse(&excusal.agent_id)) else { return };
    let status = {
        let mut s = lock(&supervision);
        s.board.excuse(&agent, excusal.start_ms, excusal.end_ms);
        s.board.agent_status(&agent, now_ms())
    };
    if let (Some(status), Some(live)) = (status, state.acd.as_ref().and_then(|acd| acd.live(tenant))) {
        live.publish(adherence_event(&status));
    }
}

/// `POST /api/v1/tenants/{tenant}/adherence/excusals` with `{"agent", "start", "end", "reason"}`:
/// a supervisor excuses a span at once; audited.
pub async fn excuse(
    State(state): State<AppState>,
    Extension(signed): Extension<Signed>,
    Path(tenant): Path<String>,
    request: Result<Json<ExcusalRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let r = body(request)?;
    let agent = agent_id("agent", r.agent.as_deref().ok_or_else(|| ApiError::bad_request("agent", "required: whose time is excused"))?)?;
    let span = (instant("start", &r.start)?, instant("end", &r.end)?);
    let excusal = excuse_span(&state, &signed, &tenant, &agent, span, (&r.start, &r.end), &r.reason).await?;
    Ok((StatusCode::CREATED, Json(excusal)).into_response())
}

/// A supervisor's excusal of `agent`'s `span` (ms; `written` as the caller wrote it, for the
/// audit log), approved at once, audited and told to the live board: for the API and the page.
pub async fn excuse_span(state: &AppState, signed: &Signed, tenant: &str, agent: &AgentId, span: (i64, i64), written: (&str, &str), reason: &str) -> Result<Excusal, ApiError> {
    let excusal = state.db.add_excusal(tenant, agent.as_str(), span, reason, &signed.actor(), true).await?;
    state.db.audit(&signed.audit(tenant, "adherence.excuse", &format!("excusal/{}", excusal.id), &format!("agent {agent} {} to {}: {}", written.0, written.1, excusal.reason))).await?;
    apply_excusal(state, tenant, &excusal);
    Ok(excusal)
}

/// `POST /api/v1/tenants/{tenant}/agents/{agent}/adherence/claims` with `{"start", "end",
/// "reason"}`: an agent asks for a span to be excused; a supervisor decides.
pub async fn claim(
    State(state): State<AppState>,
    Extension(signed): Extension<Signed>,
    Path((tenant, agent)): Path<(String, String)>,
    request: Result<Json<ExcusalRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let r = body(request)?;
    let agent = agent_id("agent", &agent)?;
    if r.agent.as_deref().is_some_and(|a| a != agent.as_str()) {
        return Err(ApiError::bad_request("agent", "a claim is for the agent of the path"));
    }
    let span = (instant("start", &r.start)?, instant("end", &r.end)?);
    let excusal = state.db.add_excusal(&tenant, agent.as_str(), span, &r.reason, &signed.actor(), false).await?;
    state.db.audit(&signed.audit(&tenant, "adherence.claim", &format!("excusal/{}", excusal.id), &format!("agent {agent} {} to {}: {}", r.start, r.end, excusal.reason))).await?;
    Ok((StatusCode::CREATED, Json(excusal)).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExcusalsParams {
    from: Option<String>,
    to: Option<String>,
    agent: Option<String>,
}

/// `GET /api/v1/tenants/{tenant}/adherence/excusals?from=D&to=D[&agent=ID]`: excusals and
/// claims overlapping the dates, each with its status.
pub async fn excusals(State(state): State<AppState>, Path(tenant): Path<String>, params: Result<Query<ExcusalsParams>, QueryRejection>) -> Result<Response, ApiError> {
    let Query(p) = params.map_err(|e| ApiError::bad_request("query", e.body_text()))?;
    let tenant = TenantId::parse(&tenant).map_err(|e| ApiError::bad_request("tenant", e))?;
    let range = crate::date_range(p.from.as_deref(), p.to.as_deref())?;
    let zone = state.store.tenant_zone(&tenant).map_err(HistoryError::Store)?;
    let agent = p.agent.as_deref().map(|a| agent_id("agent", a)).transpose()?;
    let (from, to) = (zone.day_start(range.from).timestamp_millis(), zone.day_start(range.to).timestamp_millis());
    Ok(Json(state.db.excusals(tenant.as_str(), from, to, agent.as_ref().map(AgentId::as_str)).await?).into_response())
}

/// `POST /api/v1/tenants/{tenant}/adherence/excusals/{id}/approve` (or `/reject`): a
/// supervisor decides an agent's claim; audited.
pub async fn approve(state: State<AppState>, signed: Extension<Signed>, path: Path<(String, String)>) -> Result<Response, ApiError> {
    decide(state, signed, path, true).await
}

pub async fn reject(state: State<AppState>, signed: Extension<Signed>, path: Path<(String, String)>) -> Result<Response, ApiError> {
    decide(state, signed, path, false).await
}

async fn decide(State(state): State<AppState>, Extension(signed): Extension<Signed>, Path((tenant, id)): Path<(String, String)>, approve: bool) -> Result<Response, ApiError> {
    let excusal = state.db.decide_excusal(&tenant, &id, approve, &signed.actor()).await?;
    let action = if approve { "adherence.claim.approve" } else { "adherence.claim.reject" };
    state.db.audit(&signed.audit(&tenant, action, &format!("excusal/{id}"), &format!("agent {}: {}", excusal.agent_id, excusal.reason))).await?;
    if approve {
        apply_excusal(&state, &tenant, &excusal);
    }
    Ok(Json(excusal).into_response())
}
