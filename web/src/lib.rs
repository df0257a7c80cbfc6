//! The HTTP application: a JSON API over the stages, served by `wfm serve`.
//!
//! Handlers parse requests into domain types at the edge and call the stage libraries; no
//! figure is computed here. Also owns the operational database (`db`) and the live ACD routes
//! (`live`). Depends on `wfm-analytics`, `wfm-telephony` and `wfm-model`; the stages never
//! depend on it.

mod db;
mod live;

pub use db::{DbError, ImportRun, OpsDb};

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use std::sync::Arc;
use wfm_analytics::stats::{agent_stats, call_stats, ServiceLevelRule, StatsError, StatsQuery};
use wfm_analytics::{Store, StoreError};
use wfm_model::{IntervalLength, LocalDateRange, QueueName, TenantId};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<Store>,
    pub db: OpsDb,
    /// The live ACD of the tenant `wfm serve` runs it for.
    pub acd: Option<Arc<wfm_telephony::live::Live>>,
    /// The bearer token the live API requires.
    pub api_token: Arc<str>,
    /// Where the ACD writes call recordings (`CALLID.wav`).
    pub recordings: Option<std::path::PathBuf>,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/v1/tenants", get(tenants))
        .route("/api/v1/tenants/{tenant}/stats", get(queue_stats))
        .route("/api/v1/tenants/{tenant}/agent-stats", get(agents_stats))
        .route("/api/v1/tenants/{tenant}/imports", get(imports))
        .route("/api/v1/tenants/{tenant}/agents/{agent}/state", axum::routing::post(live::set_agent_state))
        .route("/api/v1/tenants/{tenant}/queues/live", get(live::queues_live))
        .route("/api/v1/tenants/{tenant}/events", get(live::events))
        .route("/api/v1/tenants/{tenant}/recordings/{call}", get(live::recording))
        .with_state(state)
}

/// An error as the API reports it: a status, a message, and the request field at fault.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    field: Option<&'static str>,
    message: String,
}

impl ApiError {
    fn bad_request(field: &'static str, message: impl ToString) -> Self {
        Self { status: StatusCode::BAD_REQUEST, field: Some(field), message: message.to_string() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.message, "field": self.field });
        (self.status, Json(body)).into_response()
    }
}

impl From<StatsError> for ApiError {
    fn from(e: StatsError) -> Self {
        match e {
            StatsError::Store(StoreError::UnknownTenant(t)) => {
                Self { status: StatusCode::NOT_FOUND, field: Some("tenant"), message: format!("unknown tenant {t}") }
            }
            StatsError::InvalidOption { field, message } => Self::bad_request(field, message),
            other => Self { status: StatusCode::INTERNAL_SERVER_ERROR, field: None, message: other.to_string() },
        }
    }
}

async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

async fn tenants(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let store = state.store.clone();
    let list = tokio::task::spawn_blocking(move || -> Result<Vec<serde_json::Value>, StoreError> {
        store
            .tenants()?
            .into_iter()
            .map(|t| Ok(serde_json::json!({ "tenant": t, "time_zone": store.tenant_zone(&t)?.name() })))
            .collect()
    })
    .await
    .map_err(internal)?
    .map_err(|e| ApiError::from(StatsError::Store(e)))?;
    Ok(Json(serde_json::Value::Array(list)))
}

/// Query string of the statistics endpoints; the same options as `wfm stats`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatsParams {
    from: Option<String>,
    to: Option<String>,
    interval: Option<String>,
    queue: Option<String>,
    threshold_s: Option<f64>,
    short_abandon_s: Option<f64>,
}

fn parse_query(tenant: &str, p: &StatsParams) -> Result<StatsQuery, ApiError> {
    let tenant = TenantId::parse(tenant).map_err(|e| ApiError::bad_request("tenant", e))?;
    let from = p.from.as_deref().ok_or_else(|| ApiError::bad_request("from", "required (YYYY-MM-DD)"))?;
    let to = p.to.as_deref().ok_or_else(|| ApiError::bad_request("to", "required (YYYY-MM-DD, exclusive)"))?;
    let range = LocalDateRange::parse(from, to).map_err(|e| ApiError::bad_request("from", e))?;
    let interval: IntervalLength =
        p.interval.as_deref().unwrap_or("15m").parse().map_err(|e| ApiError::bad_request("interval", e))?;
    let queue = p.queue.as_deref().map(QueueName::parse).transpose().map_err(|e| ApiError::bad_request("queue", e))?;
    let rule = ServiceLevelRule::from_seconds(p.threshold_s.unwrap_or(20.0), p.short_abandon_s.unwrap_or(5.0))?;
    Ok(StatsQuery { tenant, range, interval, queue, rule })
}

fn internal(e: impl ToString) -> ApiError {
    ApiError { status: StatusCode::INTERNAL_SERVER_ERROR, field: None, message: e.to_string() }
}

async fn queue_stats(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    params: Result<Query<StatsParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    stats_response(state, &tenant, params, call_stats).await
}

async fn agents_stats(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    params: Result<Query<StatsParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    stats_response(state, &tenant, params, agent_stats).await
}

/// Parses the query, runs a statistics function off the async threads, answers with its rows.
async fn stats_response<T: serde::Serialize + Send + 'static>(
    state: AppState,
    tenant: &str,
    params: Result<Query<StatsParams>, QueryRejection>,
    compute: fn(&Store, &StatsQuery) -> Result<Vec<T>, StatsError>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::bad_request("query", e.body_text()))?;
    let query = parse_query(tenant, &params)?;
    let rows = tokio::task::spawn_blocking(move || compute(&state.store, &query)).await.map_err(internal)??;
    Ok(Json(rows).into_response())
}

/// The tenant's data loads (imports and generated history), newest first.
async fn imports(State(state): State<AppState>, Path(tenant): Path<String>) -> Result<Response, ApiError> {
    let tenant = TenantId::parse(&tenant).map_err(|e| ApiError::bad_request("tenant", e))?;
    let runs = state.db.imports(tenant.as_str()).await.map_err(internal)?;
    Ok(Json(runs).into_response())
}
