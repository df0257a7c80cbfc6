//! Alarms over HTTP: the kept alarms with their raise, escalation, acknowledgement and clear
//! times, and acknowledging one (which stops its escalation).

use crate::auth::Signed;
use crate::supervision::{lock, now_ms, save_alarm};
use crate::{internal, kept_records, ApiError, AppState, KeptParams};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use wfm_intraday::alarms::{Alarm, Change};
use wfm_ops::kept::Kept;

/// `GET /api/v1/tenants/{tenant}/alarms?state=open|all[&limit=N]`: newest first.
pub async fn alarms(State(state): State<AppState>, Path(tenant): Path<String>, params: Result<Query<KeptParams>, QueryRejection>) -> Result<Response, ApiError> {
    let records = kept_records(&state, &tenant, Kept::Alarm, params).await?;
    let alarms: Vec<Alarm> = records.iter().map(|r| serde_json::from_str(r)).collect::<Result<_, _>>().map_err(internal)?;
    Ok(Json(alarms).into_response())
}

/// `POST /api/v1/tenants/{tenant}/alarms/{id}/ack`: the caller takes the open alarm on; audited.
pub async fn acknowledge(State(state): State<AppState>, Extension(signed): Extension<Signed>, Path((tenant, id)): Path<(String, String)>) -> Result<Response, ApiError> {
    Ok(Json(take_on(&state, &signed, &tenant, &id).await?).into_response())
}

/// Acknowledges the open alarm `id` (which stops its escalation), keeps it, audits it and
/// announces it: for the API and the supervisor's page.
pub async fn take_on(state: &AppState, signed: &Signed, tenant: &str, id: &str) -> Result<Alarm, ApiError> {
    let not_open = || ApiError::status(StatusCode::NOT_FOUND, Some("id"), format!("no open alarm {id}"));
    let supervision = state.supervisors.get(tenant).ok_or_else(not_open)?;
    let alarm = lock(&supervision).alarms.acknowledge(id, &signed.actor(), now_ms()).ok_or_else(not_open)?;
    save_alarm(&state.db, tenant, &alarm).await.map_err(|e| ApiError::status(StatusCode::SERVICE_UNAVAILABLE, None, format!("the acknowledgement is not kept: {e}")))?;
    state.db.audit(&signed.audit(tenant, "alarm.ack", &format!("alarm/{id}"), &alarm.message)).await?;
    if let Some(live) = state.acd.as_ref().and_then(|acd| acd.live(tenant)) {
        lock(&supervision).announce(&live, Change::Acknowledged, alarm.clone());
    }
    Ok(alarm)
}

/// The tenant's open alarms (raised, not cleared), newest first.
pub async fn open_alarms(state: &AppState, tenant: &str) -> Result<Vec<Alarm>, ApiError> {
    let records = state.db.kept(Kept::Alarm, tenant, true, wfm_ops::kept::MAX_LISTED).await?;
    records.iter().map(|r| serde_json::from_str(r)).collect::<Result<_, _>>().map_err(internal)
}
