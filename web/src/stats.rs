//! The statistics of the store over HTTP: the same functions, options and figures as `wfm stats`.

use crate::{internal, ApiError, AppState};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wfm_analytics::stats::{agent_stats, call_stats, AgentIntervalStats, QueueIntervalStats, QueueReportRow, ServiceLevelRule, StatsError, StatsQuery};
use wfm_analytics::{Store, StoreError, StoreVersion};
use wfm_model::{IntervalLength, QueueName, TenantId};

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
    let range = crate::date_range(p.from.as_deref(), p.to.as_deref())?;
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
    stats_response(state, &tenant, params, |c| &c.queues, call_stats).await
}

pub async fn agents_stats(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    params: Result<Query<StatsParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    stats_response(state, &tenant, params, |c| &c.agents, agent_stats).await
}

/// Parses the query, runs a statistics function off the async threads, answers with its rows.
async fn stats_response<T: serde::Serialize + Send + Sync + 'static>(
    state: AppState,
    tenant: &str,
    params: Result<Query<StatsParams>, QueryRejection>,
    cache: fn(&StatsCache) -> &Recent<T>,
    compute: fn(&Store, &StatsQuery) -> Result<Vec<T>, StatsError>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::bad_request("query", e.body_text()))?;
    let query = parse_query(tenant, &params)?;
    let rows = cache(&state.stats_cache).get_or_compute(&state.store, query, compute).await?;
    Ok(Json(&*rows).into_response())
}

/// How long a computed answer nobody asks for again is kept.
const KEEP_UNUSED_FOR: Duration = Duration::from_secs(60);
/// At most this many answers are kept per kind of statistics; the least recently used goes.
const MOST_KEPT: usize = 64;

/// Statistics already computed, by query and by what the store held for the query's dates
/// ([`Store::version_of`]): a dashboard that many people (or one wallboard) ask for many times
/// a second is computed once per change to its data, never answered from data that changed,
/// and requests that arrive while it is computed wait for that computation.
#[derive(Default)]
pub struct StatsCache {
    pub(crate) queues: Recent<QueueIntervalStats>,
    agents: Recent<AgentIntervalStats>,
    /// The queue report (`stats::queue_report`).
    pub(crate) reports: Recent<QueueReportRow>,
    /// Whole periods per queue (`stats::period_stats`): the dashboard's comparison.
    pub(crate) periods: Recent<QueueIntervalStats>,
}

type Slot<T> = Arc<tokio::sync::OnceCell<Arc<Vec<T>>>>;

/// A query's text and the version of the store's data for its dates.
type Key = (String, StoreVersion);

pub struct Recent<T> {
    /// Each answer with when it was last asked for.
    slots: Mutex<HashMap<Key, (Instant, Slot<T>)>>,
}

impl<T> Default for Recent<T> {
    fn default() -> Self {
        Self { slots: Mutex::new(HashMap::new()) }
    }
}

impl<T: Send + Sync + 'static> Recent<T> {
    /// The rows of `query`, computed once per version of the data they come from. Errors are not kept.
    pub(crate) async fn get_or_compute(&self, store: &Arc<Store>, query: StatsQuery, compute: fn(&Store, &StatsQuery) -> Result<Vec<T>, StatsError>) -> Result<Arc<Vec<T>>, ApiError> {
        let (version, query) = {
            let store = store.clone();
            tokio::task::spawn_blocking(move || store.version_of(&query.tenant, query.range).map(|v| (v, query)).map_err(StatsError::Store)).await.map_err(internal)??
        };
        let slot = self.slot((format!("{query:?}"), version));
        let store = store.clone();
        let rows = slot
            .get_or_try_init(|| async move {
                let rows = tokio::task::spawn_blocking(move || compute(&store, &query)).await.map_err(internal)??;
                Ok::<_, ApiError>(Arc::new(rows))
            })
            .await?;
        Ok(rows.clone())
    }

    fn slot(&self, key: (String, StoreVersion)) -> Slot<T> {
        let mut slots = self.slots.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = Instant::now();
        slots.retain(|_, (used, _)| now.duration_since(*used) < KEEP_UNUSED_FOR);
        if !slots.contains_key(&key)
            && slots.len() >= MOST_KEPT
            && let Some(oldest) = slots.iter().min_by_key(|(_, (used, _))| *used).map(|(k, _)| k.clone())
        {
            slots.remove(&oldest);
        }
        let entry = slots.entry(key).or_insert_with(|| (now, Slot::default()));
        entry.0 = now;
        entry.1.clone()
    }
}

/// The tenant's data loads (imports and generated history), newest first.
pub async fn imports(State(state): State<AppState>, Path(tenant): Path<String>) -> Result<Response, ApiError> {
    let tenant = TenantId::parse(&tenant).map_err(|e| ApiError::bad_request("tenant", e))?;
    let runs = state.db.imports(tenant.as_str()).await.map_err(internal)?;
    Ok(Json(runs).into_response())
}
