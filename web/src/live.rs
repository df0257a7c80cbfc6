//! The live ACD over HTTP: agents' states changed by agents and supervisors, and the queues as
//! a wallboard shows them. Every request carries the bearer token `wfm serve` was given
//! (`WFM_API_TOKEN`) or printed.

use crate::{ApiError, AppState};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;
use wfm_telephony::acd::{state_name, AcdError, AgentState};

impl ApiError {
    fn status(status: StatusCode, field: Option<&'static str>, message: impl ToString) -> Self {
        Self { status, field, message: message.to_string() }
    }
}

/// Checks `Authorization: Bearer TOKEN` in constant time.
fn authorise(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let given = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).unwrap_or_default();
    if wfm_telephony::sip::digest::constant_time_eq(given.as_bytes(), state.api_token.as_bytes()) { Ok(()) } else { Err(ApiError::status(StatusCode::UNAUTHORIZED, Some("authorization"), "a bearer token is required (WFM_API_TOKEN)")) }
}

fn tenant_live<'a>(state: &'a AppState, tenant: &str) -> Result<&'a wfm_telephony::live::Live, ApiError> {
    state.acd.as_deref().filter(|l| l.tenant == tenant).ok_or_else(|| ApiError::status(StatusCode::NOT_FOUND, Some("tenant"), format!("no live ACD for tenant {tenant}")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateRequest {
    state: String,
    reason: Option<String>,
}

fn describe(state: &AgentState) -> serde_json::Value {
    let reason = match state {
        AgentState::NotReady { reason } => Some(reason.clone()),
        _ => None,
    };
    serde_json::json!({ "state": state_name(state), "reason": reason })
}

/// `POST /api/v1/tenants/{tenant}/agents/{agent}/state` with `{"state": "ready"}`,
/// `{"state": "not-ready", "reason": "lunch"}` or `{"state": "logged-out"}`.
pub async fn set_agent_state(
    State(state): State<AppState>,
    Path((tenant, agent)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Json<StateRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    authorise(&state, &headers)?;
    let live = tenant_live(&state, &tenant)?;
    let Json(request) = body.map_err(|e| ApiError::bad_request("body", e.body_text()))?;
    let wanted = match (request.state.as_str(), request.reason) {
        ("ready", None) => AgentState::Ready,
        ("logged-out", None) => AgentState::LoggedOut,
        ("not-ready", Some(reason)) if !reason.trim().is_empty() => AgentState::NotReady { reason: reason.trim().to_owned() },
        ("not-ready", _) => return Err(ApiError::bad_request("reason", "not-ready needs a reason code")),
        ("ready" | "logged-out", Some(_)) => return Err(ApiError::bad_request("reason", "only not-ready takes a reason")),
        (other, _) => return Err(ApiError::bad_request("state", format!("{other:?} is not ready, not-ready or logged-out"))),
    };
    live.request_state(&agent, wanted).map_err(|e| match e {
        AcdError::UnknownAgent(_) => ApiError::status(StatusCode::NOT_FOUND, Some("agent"), e),
        other => ApiError::status(StatusCode::CONFLICT, Some("state"), other),
    })?;
    let now = live.state(&agent).ok_or_else(|| ApiError::status(StatusCode::NOT_FOUND, Some("agent"), format!("unknown agent {agent}")))?;
    let mut body = describe(&now);
    body["agent"] = serde_json::Value::String(agent);
    Ok(Json(body))
}

/// `GET /api/v1/tenants/{tenant}/queues/live`: calls waiting, longest wait, agents per state.
pub async fn queues_live(State(state): State<AppState>, Path(tenant): Path<String>, headers: HeaderMap) -> Result<Json<serde_json::Value>, ApiError> {
    authorise(&state, &headers)?;
    let live = tenant_live(&state, &tenant)?;
    Ok(Json(serde_json::json!({ "tenant": tenant, "queues": live.queues() })))
}

/// `GET /api/v1/tenants/{tenant}/events`: server-sent events, one JSON object per call event or
/// agent-state change (`type`: `agent-state`, `ring`, `stop-ringing`, `connect`, `announce`,
/// `overflow`, `abandoned`), for the wallboard.
pub async fn events(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Result<axum::response::sse::Sse<impl futures_util::Stream<Item = Result<axum::response::sse::Event, std::convert::Infallible>>>, ApiError> {
    use axum::response::sse::{Event, KeepAlive, Sse};
    use tokio::sync::broadcast::error::RecvError;
    authorise(&state, &headers)?;
    let receiver = tenant_live(&state, &tenant)?.subscribe();
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        match receiver.recv().await {
            Ok(json) => Some((Ok(Event::default().data(json)), receiver)),
            // A wallboard too slow for the backlog misses events, and is told so.
            Err(RecvError::Lagged(missed)) => Some((Ok(Event::default().event("lagged").data(missed.to_string())), receiver)),
            Err(RecvError::Closed) => None,
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// A call's recording by its call id (the `call_id` of its call record), as `audio/wav`.
pub async fn recording(State(state): State<AppState>, Path((tenant, call)): Path<(String, String)>, headers: HeaderMap) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    authorise(&state, &headers)?;
    tenant_live(&state, &tenant)?;
    let missing = || ApiError::status(StatusCode::NOT_FOUND, Some("call"), format!("no recording of call {call}"));
    let folder = state.recordings.as_ref().ok_or_else(missing)?;
    let path = folder.join(format!("{}.wav", wfm_telephony::calls::file_name(&call)));
    let bytes = tokio::fs::read(&path).await.map_err(|_| missing())?;
    Ok(([(axum::http::header::CONTENT_TYPE, "audio/wav")], bytes).into_response())
}
