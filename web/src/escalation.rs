//! The surge ladder over HTTP: its level now, who is called in, and the timeline of the present
//! (or of any kept) escalation; a called-in person confirming they are coming.

use crate::auth::Signed;
use crate::supervision::{lock, now_ms, record_steps};
use crate::{ApiError, AppState};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::json;
use wfm_intraday::escalation::Step;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationParams {
    /// An earlier escalation, by its start (`episode_ms` of the listing); the newest by default.
    episode: Option<i64>,
}

/// `GET /api/v1/tenants/{tenant}/escalation[?episode=MS]`: the level now (when the tenant's
/// ACD runs), the called-in people of the escalation under way, a timeline as kept, and the
/// tenant's escalations newest first.
pub async fn escalation(State(state): State<AppState>, Path(tenant): Path<String>, params: Result<Query<EscalationParams>, QueryRejection>) -> Result<Response, ApiError> {
    let Query(p) = params.map_err(|e| ApiError::bad_request("query", e.body_text()))?;
    let timeline = timeline(&state, &tenant, p.episode).await?;
    if let (Some(episode), true) = (p.episode, timeline.is_empty()) {
        return Err(ApiError::status(StatusCode::NOT_FOUND, Some("episode"), format!("no escalation began at {episode}")));
    }
    let escalations = state.db.escalations(&tenant, wfm_ops::escalations::MAX_LISTED).await?;
    let now = state.supervisors.get(&tenant).map(|s| {
        let s = lock(&s);
        let called: Vec<_> = s.ladder.called_in().cloned().collect();
        json!({ "level": s.ladder.level(), "under_way_since_ms": s.ladder.episode(), "called_in": called, "rules": s.ladder.rules() })
    });
    let mut body = json!({ "tenant": tenant, "supervised": now.is_some(), "timeline": timeline, "escalations": escalations });
    if let Some(now) = now {
        body.as_object_mut().expect("an object").extend(now.as_object().expect("an object").clone());
    }
    Ok(Json(body).into_response())
}

/// The kept steps of the escalation that began at `episode` (the newest when `None`), in order.
pub async fn timeline(state: &AppState, tenant: &str, episode: Option<i64>) -> Result<Vec<Step>, ApiError> {
    let records = state.db.escalation_steps(tenant, episode).await?;
    records.iter().map(|r| serde_json::from_str(r)).collect::<Result<_, _>>().map_err(crate::internal)
}

/// `POST /api/v1/tenants/{tenant}/escalation/confirm`: the caller, called in by the ladder,
/// confirms they are coming (by their login); audited. 202 when the step is not written yet
/// (it is written on the next retry, before it is announced).
pub async fn confirm(State(state): State<AppState>, Extension(signed): Extension<Signed>, Path(tenant): Path<String>) -> Result<Response, ApiError> {
    let login = signed.caller.user.login.to_string();
    let not_called = || ApiError::status(StatusCode::NOT_FOUND, None, format!("{login} is not called in by an escalation under way (or has confirmed already)"));
    let supervision = state.supervisors.get(&tenant).ok_or_else(not_called)?;
    let live = state.acd.as_ref().and_then(|acd| acd.live(&tenant)).ok_or_else(not_called)?;
    let step = lock(&supervision).ladder.confirm(&login, now_ms()).ok_or_else(not_called)?;
    let kept = record_steps(&state.db, &tenant, &live, &supervision, vec![step.clone()]).await;
    state.db.audit(&signed.audit(&tenant, "escalation.confirm", &format!("escalation/{}", step.episode_ms), &step.detail)).await?;
    let status = if kept { StatusCode::OK } else { StatusCode::ACCEPTED };
    Ok((status, Json(step)).into_response())
}
