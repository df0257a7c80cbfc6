//! The live ACD over HTTP: agents' states changed by agents and supervisors, the queues as a
//! wallboard shows them, and the event stream — each tenant's own ACD only.

use crate::auth::Signed;
use crate::{body, ApiError, AppState};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::Deserialize;
use std::sync::Arc;
use wfm_telephony::acd::{state_name, AcdError, AgentState};
use wfm_telephony::live::{Live, LiveError};

/// The longest not-ready reason code: it is stored with each state period.
const MAX_REASON: usize = 64;

fn tenant_live(state: &AppState, tenant: &str) -> Result<Arc<Live>, ApiError> {
    state.acd.as_ref().and_then(|acd| acd.live(tenant)).ok_or_else(|| ApiError::status(StatusCode::NOT_FOUND, Some("tenant"), format!("tenant {tenant} has no ACD running")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateRequest {
    state: String,
    reason: Option<String>,
}

fn describe(agent: &str, state: &AgentState) -> serde_json::Value {
    let reason = match state {
        AgentState::NotReady { reason } => Some(reason.clone()),
        _ => None,
    };
    serde_json::json!({ "agent": agent, "state": state_name(state), "reason": reason })
}

fn unknown_agent(agent: &str) -> ApiError {
    ApiError::status(StatusCode::NOT_FOUND, Some("agent"), format!("unknown agent {agent}"))
}

/// `GET /api/v1/tenants/{tenant}/agents/{agent}/state`.
pub async fn agent_state(State(state): State<AppState>, Path((tenant, agent)): Path<(String, String)>) -> Result<Json<serde_json::Value>, ApiError> {
    let now = tenant_live(&state, &tenant)?.state(&agent).ok_or_else(|| unknown_agent(&agent))?;
    Ok(Json(describe(&agent, &now)))
}

/// `POST /api/v1/tenants/{tenant}/agents/{agent}/state` with `{"state": "ready"}`,
/// `{"state": "not-ready", "reason": "lunch"}` or `{"state": "logged-out"}`; audited.
pub async fn set_agent_state(
    State(state): State<AppState>,
    Extension(signed): Extension<Signed>,
    Path((tenant, agent)): Path<(String, String)>,
    request: Result<Json<StateRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let request = body(request)?;
    let now = change_state(&state, &signed, &tenant, &agent, &request.state, request.reason.as_deref()).await?;
    Ok(Json(describe(&agent, &now)))
}

/// Puts `agent` in the state named `wanted` (`ready`, `not-ready` with a reason code,
/// `logged-out`) on the tenant's ACD, and audits it: for the API and the supervisor's page.
pub async fn change_state(state: &AppState, signed: &Signed, tenant: &str, agent: &str, wanted: &str, reason: Option<&str>) -> Result<AgentState, ApiError> {
    let live = tenant_live(state, tenant)?;
    let wanted = match (wanted, reason.map(str::trim)) {
        ("ready", None) => AgentState::Ready,
        ("logged-out", None) => AgentState::LoggedOut,
        ("not-ready", Some(reason)) if reason.len() > MAX_REASON => return Err(ApiError::bad_request("reason", format!("at most {MAX_REASON} characters"))),
        ("not-ready", Some(reason)) if !reason.is_empty() => AgentState::NotReady { reason: reason.to_owned() },
        ("not-ready", _) => return Err(ApiError::bad_request("reason", "not-ready needs a reason code")),
        ("ready" | "logged-out", Some(_)) => return Err(ApiError::bad_request("reason", "only not-ready takes a reason")),
        (other, _) => return Err(ApiError::bad_request("state", format!("{other:?} is not ready, not-ready or logged-out"))),
    };
    live.request_state(agent, wanted.clone()).map_err(|e| match e {
        LiveError::Acd(AcdError::UnknownAgent(_)) => unknown_agent(agent),
        LiveError::Acd(other) => ApiError::status(StatusCode::CONFLICT, Some("state"), other),
        // Not on disk, so not acknowledged: the client may try again.
        journal @ LiveError::Journal(_) => ApiError::status(StatusCode::SERVICE_UNAVAILABLE, None, journal),
    })?;
    let now = live.state(agent).ok_or_else(|| unknown_agent(agent))?;
    let detail = match &wanted {
        AgentState::NotReady { reason } => format!("{} {reason}", state_name(&wanted)),
        other => state_name(other).to_owned(),
    };
    state.db.audit(&signed.audit(tenant, "agent.state", agent, &detail)).await?;
    Ok(now)
}

/// `GET /api/v1/tenants/{tenant}/queues/live`: calls waiting, longest wait, agents per state.
pub async fn queues_live(State(state): State<AppState>, Path(tenant): Path<String>) -> Result<Json<serde_json::Value>, ApiError> {
    let live = tenant_live(&state, &tenant)?;
    Ok(Json(serde_json::json!({ "tenant": tenant, "queues": live.queues() })))
}

/// How often an open event stream checks that its credentials still hold (sign-out, a revoked
/// token, a suspended tenant end it within this).
const RECHECK: std::time::Duration = std::time::Duration::from_secs(5);

/// `GET /api/v1/tenants/{tenant}/events`: server-sent events, one JSON object per call event or
/// agent-state change (`type`: `agent-state`, `ring`, `stop-ringing`, `connect`, `announce`,
/// `overflow`, `abandoned`, `call-ended`, `alarm`), for the wallboard.
pub async fn events(
    State(state): State<AppState>,
    Extension(signed): Extension<Signed>,
    Path(tenant): Path<String>,
) -> Result<axum::response::sse::Sse<impl futures_util::Stream<Item = Result<axum::response::sse::Event, std::convert::Infallible>>>, ApiError> {
    use axum::response::sse::{Event, KeepAlive, Sse};
    use tokio::sync::broadcast::error::RecvError;
    let receiver = tenant_live(&state, &tenant)?.subscribe();
    let mut recheck = tokio::time::interval(RECHECK);
    recheck.tick().await;
    let stream = futures_util::stream::unfold((receiver, recheck, state, signed), |(mut receiver, mut recheck, state, signed)| async move {
        loop {
            let event = tokio::select! {
                received = receiver.recv() => match received {
                    Ok(json) => Event::default().data(json),
                    // A wallboard too slow for the backlog misses events, and is told so.
                    Err(RecvError::Lagged(missed)) => Event::default().event("lagged").data(missed.to_string()),
                    Err(RecvError::Closed) => return None,
                },
                _ = recheck.tick() => {
                    match state.db.still_valid(&signed.caller, state.auth.policy, wfm_ops::now_ms()).await {
                        Ok(true) => continue,
                        // Signed out, revoked, suspended, or the database cannot say: the stream ends.
                        _ => return None,
                    }
                }
            };
            return Some((Ok(event), (receiver, recheck, state, signed)));
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
