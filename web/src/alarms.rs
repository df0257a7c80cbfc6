//! Alarms over HTTP: the kept alarms with their raise, escalation, acknowledgement and clear
//! times, and acknowledging one (which stops its escalation).

use crate::auth::Signed;
use crate::supervision::{lock, now_ms, save_alarm};
use crate::{internal, ApiError, AppState};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use wfm_intraday::alarms::{Alarm, Change};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlarmsParams {
    /// `open` (the default) or `all`.
    state: Option<String>,
    limit: Option<u32>,
}

/// `GET /api/v1/tenants/{tenant}/alarms?state=open|all[&limit=N]`: newest first.
pub async fn alarms(State(state): State<AppState>, Path(tenant): Path<String>, params: Result<Query<AlarmsParams>, QueryRejection>) -> Result<Response, ApiError> {
    let Query(p) = params.map_err(|e| ApiError::bad_request("query", e.body_text()))?;
    let open_only = match p.state.as_deref() {
        None | Some("open") => true,
        Some("all") => false,
        Some(other) => return Err(ApiError::bad_request("state", format!("{other:?} is not open or all"))),
    };
    let records = state.db.alarms(&tenant, open_only, p.limit.unwrap_or(wfm_ops::alarms::MAX_LISTED)).await?;
    let alarms: Vec<Alarm> = records.iter().map(|r| serde_json::from_str(r)).collect::<Result<_, _>>().map_err(internal)?;
    Ok(Json(alarms).into_response())
}

/// `POST /api/v1/tenants/{tenant}/alarms/{id}/ack`: the caller takes the open alarm on; audited.
pub async fn acknowledge(State(state): State<AppState>, Extension(signed): Extension<Signed>, Path((tenant, id)): Path<(String, String)>) -> Result<Response, ApiError> {
    let not_open = || ApiError::status(StatusCode::NOT_FOUND, Some("id"), format!("no open alarm {id}"));
    let supervision = state.supervisors.get(&tenant).ok_or_else(not_open)?;
    let alarm = lock(&supervision).alarms.acknowledge(&id, &signed.actor(), now_ms()).ok_or_else(not_open)?;
    save_alarm(&state.db, &tenant, &alarm).await.map_err(|e| ApiError::status(StatusCode::SERVICE_UNAVAILABLE, None, format!("the acknowledgement is not kept: {e}")))?;
    state.db.audit(&signed.audit(&tenant, "alarm.ack", &format!("alarm/{id}"), &alarm.message)).await?;
    if let Some(live) = state.acd.as_ref().and_then(|acd| acd.live(&tenant)) {
        lock(&supervision).announce(&live, Change::Acknowledged, alarm.clone());
    }
    Ok(Json(alarm).into_response())
}
