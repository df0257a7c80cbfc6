//! Call recordings over HTTP: found by time, number, direction, agent and queue in the store's
//! call records (`wfm_analytics::search`), and served by call id — each tenant's own only.

use crate::{internal, ApiError, AppState};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use wfm_analytics::search::{find_calls, CallSearch};
use wfm_analytics::stats::StatsError;
use wfm_model::{AgentId, Direction, QueueName, TenantId};

/// The most calls one search returns (`limit`'s default and ceiling).
const MOST_FOUND: usize = 1000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    from: Option<String>,
    to: Option<String>,
    after: Option<String>,
    before: Option<String>,
    number: Option<String>,
    direction: Option<String>,
    agent: Option<String>,
    queue: Option<String>,
    limit: Option<usize>,
}

fn instant(field: &'static str, value: Option<&str>) -> Result<Option<chrono::DateTime<chrono::Utc>>, ApiError> {
    value.map(|v| chrono::DateTime::parse_from_rfc3339(v).map(|t| t.to_utc()).map_err(|e| ApiError::bad_request(field, format!("{v:?}: {e} (expected RFC 3339, e.g. 2027-01-05T09:30:00+01:00)")))).transpose()
}

fn parse_search(tenant: &str, p: &SearchParams) -> Result<CallSearch, ApiError> {
    let tenant = TenantId::parse(tenant).map_err(|e| ApiError::bad_request("tenant", e))?;
    let range = crate::date_range(p.from.as_deref(), p.to.as_deref())?;
    let number = p.number.clone().filter(|n| !n.is_empty());
    if let Some(n) = &number
        && (n.len() > wfm_model::MAX_TEXT_LEN || n.chars().any(char::is_control))
    {
        return Err(ApiError::bad_request("number", "at most 1 024 bytes, no control characters"));
    }
    let limit = p.limit.unwrap_or(MOST_FOUND);
    if !(1..=MOST_FOUND).contains(&limit) {
        return Err(ApiError::bad_request("limit", format!("{limit}: between 1 and {MOST_FOUND}")));
    }
    Ok(CallSearch {
        tenant,
        range,
        after: instant("after", p.after.as_deref())?,
        before: instant("before", p.before.as_deref())?,
        number,
        direction: p.direction.as_deref().map(Direction::parse).transpose().map_err(|e| ApiError::bad_request("direction", e))?,
        agent: p.agent.as_deref().map(AgentId::parse).transpose().map_err(|e| ApiError::bad_request("agent", e))?,
        queue: p.queue.as_deref().map(QueueName::parse).transpose().map_err(|e| ApiError::bad_request("queue", e))?,
        recorded: true,
        limit,
    })
}

/// The folder the ACD writes a tenant's recordings to.
fn recordings_folder(state: &AppState, tenant: &str) -> std::path::PathBuf {
    state.data.join("tenants").join(tenant).join("recordings")
}

/// Where the ACD writes `call`'s recording in a tenant's recordings folder.
fn recording_file(folder: &std::path::Path, call: &str) -> std::path::PathBuf {
    folder.join(format!("{}.wav", wfm_telephony::calls::file_name(call)))
}

/// The recorded calls that match the query, the earliest first, each with where to listen to
/// it and whether the file is still there (the tenant's retention period deletes old ones).
pub async fn search(State(state): State<AppState>, Path(tenant): Path<String>, params: Result<Query<SearchParams>, QueryRejection>) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::bad_request("query", e.body_text()))?;
    let search = parse_search(&tenant, &params)?;
    let store = state.store.clone();
    let folder = recordings_folder(&state, &tenant);
    // The store's read and the files' checks are blocking I/O: off the async threads.
    let (found, available) = tokio::task::spawn_blocking(move || {
        find_calls(&store, &search).map(|found| {
            let available: Vec<bool> = found.calls.iter().map(|c| recording_file(&folder, &c.call_id).is_file()).collect();
            (found, available)
        })
    })
    .await
    .map_err(internal)?
    .map_err(StatsError::Store)?;
    let ms_to_s = |ms: i64| ms as f64 / 1000.0;
    let recordings: Vec<serde_json::Value> = found
        .calls
        .iter()
        .zip(available)
        .map(|(c, available)| {
            json!({
                "call_id": c.call_id,
                "sip_call_id": c.sip_call_id,
                "arrived_at": c.arrived_at.to_rfc3339(),
                "answered_at": c.answered_at.map(|t| t.to_rfc3339()),
                "ended_at": c.ended_at.to_rfc3339(),
                "direction": c.direction.as_str(),
                "caller_number": c.caller_number,
                "dialled_number": c.dialled_number,
                "queue": c.queue.as_ref().map(QueueName::as_str),
                "agent_id": c.agent_id.as_ref().map(AgentId::as_str),
                "talk_s": ms_to_s(c.talk_ms),
                "hold_s": ms_to_s(c.hold_ms),
                "wrap_s": ms_to_s(c.wrap_ms),
                "url": format!("/api/v1/tenants/{tenant}/recordings/{}", c.call_id),
                "available": available,
            })
        })
        .collect();
    Ok(Json(json!({ "recordings": recordings, "truncated": found.truncated })).into_response())
}

/// A call's recording by its call id (the `call_id` of its call record), as `audio/wav`.
pub async fn one(State(state): State<AppState>, Path((tenant, call)): Path<(String, String)>) -> Result<Response, ApiError> {
    let missing = || ApiError::status(StatusCode::NOT_FOUND, Some("call"), format!("no recording of call {call}"));
    let folder = recordings_folder(&state, &tenant);
    let bytes = tokio::fs::read(recording_file(&folder, &call)).await.map_err(|_| missing())?;
    Ok(([(axum::http::header::CONTENT_TYPE, "audio/wav")], bytes).into_response())
}
