//! The statistics of the store over HTTP: the same functions, options and figures as `wfm stats`.

use crate::{internal, ApiError, AppState};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use wfm_analytics::stats::{agent_stats, call_stats, ServiceLevelRule, StatsError, StatsQuery};
use wfm_analytics::{Store, StoreError};
use wfm_model::{IntervalLength, LocalDateRange, QueueName, TenantId};

impl From<StatsError> for ApiError {
    fn from(e: StatsError) -> Self {
        match e {
            StatsError::Store(StoreError::UnknownTenant(t)) => {
                Self::unknown_tenant(t.as_str())
            }
            StatsError::InvalidOption { field, message } => Self::bad_request(field, message),
            other => internal(other),
        }
    }
}

/// Query string of the statistics endpoints; the same options as `wfm stats`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatsParams {
    pub(crate) from: Option<String>,
    pub(crate) to: Option<String>,
    pub(crate) interval: Option<String>,
    pub(crate) queue: Option<String>,
    pub(crate) threshold_s: Option<f64>,
    pub(crate) short_abandon_s: Option<f64>,
}

pub(crate) fn parse_query(tenant: &str, p: &StatsParams) -> Result<StatsQuery, ApiError> {
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

pub async fn queue_stats(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    params: Result<Query<StatsParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    stats_response(state, &tenant, params, call_stats).await
}

pub async fn agents_stats(
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
pub async fn imports(State(state): State<AppState>, Path(tenant): Path<String>) -> Result<Response, ApiError> {
    let tenant = TenantId::parse(&tenant).map_err(|e| ApiError::bad_request("tenant", e))?;
    let runs = state.db.imports(tenant.as_str()).await.map_err(internal)?;
    Ok(Json(runs).into_response())
}
