//! Live KPIs and wallboard data per queue and tenant: the ACD's queues now and, over the
//! sliding window of `kpis.toml`, the figures of `wfm stats` by its own code, each named.

use crate::supervision::{lock, now_ms};
use crate::{ApiError, AppState};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use wfm_model::TenantId;

/// The figure the headline service level and the `service_level_below` alarm read.
pub const HEADLINE: &str = "sl_with_abandons";

/// `GET /api/v1/tenants/{tenant}/kpis/live`.
pub async fn live(State(state): State<AppState>, Path(tenant): Path<String>) -> Result<Response, ApiError> {
    let tenant_id = TenantId::parse(&tenant).map_err(|e| ApiError::bad_request("tenant", e))?;
    let no_acd = || ApiError::status(StatusCode::NOT_FOUND, None, format!("tenant {tenant} has no ACD running (or it is starting): no live KPIs"));
    let live = state.acd.as_ref().and_then(|acd| acd.live(&tenant)).ok_or_else(no_acd)?;
    let supervision = state.supervisors.get(&tenant).ok_or_else(no_acd)?;
    let queues = live.queues();
    let now = now_ms();
    let s = lock(&supervision);
    let window = s.window(&tenant_id, now);
    let target = s.kpis.service_level_target;
    let headline = |row: Option<&wfm_analytics::stats::QueueIntervalStats>| {
        let sl = row.and_then(|r| r.sl_with_abandons);
        json!({ "service_level": sl, "meets_target": sl.map(|sl| sl >= target), "lost_call_rate": row.and_then(|r| r.lost_call_rate) })
    };
    let per_queue: Vec<serde_json::Value> = queues
        .iter()
        .map(|q| {
            let row = window.iter().find(|w| *w.queue == *q.queue);
            let mut body = json!({
                "queue": q.queue,
                "calls_waiting": q.calls_waiting,
                "longest_wait_s": q.longest_wait_s,
                "expected_wait_s": q.expected_wait_s,
                "agents": q.agents,
                "calls_in_progress": q.agents.get("on-call").copied().unwrap_or(0),
                "window": row,
            });
            body.as_object_mut().expect("an object").extend(headline(row).as_object().expect("an object").clone());
            body
        })
        .collect();
    let agents = s.board.agents_per_state();
    let count = |state: &str| agents.get(state).copied().unwrap_or(0);
    let all = s.window_of_tenant(&tenant_id, now);
    let mut totals = json!({
        "calls_waiting": queues.iter().map(|q| q.calls_waiting).sum::<usize>(),
        "longest_wait_s": queues.iter().map(|q| q.longest_wait_s).max().unwrap_or(0),
        "agents": agents,
        "logged_in": agents.values().sum::<usize>() - count("logged_out"),
        "ready": count("ready"),
        "calls_in_progress": count("on_call"),
        "window": all,
    });
    totals.as_object_mut().expect("an object").extend(headline(all.as_ref()).as_object().expect("an object").clone());
    let window_start = chrono::DateTime::from_timestamp_millis(now - s.kpis.window_s * 1000).unwrap_or_default();
    let body = json!({
        "tenant": tenant,
        "at": s.board.zone().format_local(chrono::DateTime::from_timestamp_millis(now).unwrap_or_default()),
        "window_start": s.board.zone().format_local(window_start),
        "settings": s.kpis,
        "definitions": {
            "service_level": format!("{HEADLINE}: (answered within threshold_s + abandoned within threshold_s) / entered the queue in the window"),
            "lost_call_rate": "(abandoned − abandoned within short_abandon_s) / entered",
            "window": "calls that entered a queue in the window and have left it (answered, abandoned or overflowed); the figures of wfm stats, by its code",
        },
        "queues": per_queue,
        "tenant_totals": totals,
    });
    Ok(Json(body).into_response())
}
