//! The HTTP application served by `wfm serve`: a JSON API over the stages, and the web
//! application's pages ([`pages`]) over the same calls.
//!
//! Handlers parse requests into domain types at the edge and call the stage libraries; no
//! figure is computed here. Every route is a row of [`ROUTES`], which names the permission it
//! needs; the router is built from that table and one guard ([`auth::guard`]) checks every
//! request against it — credentials (`401`), the tenant in the path (`404` for a tenant the
//! caller does not belong to), the role (`403`), CSRF for cookie sessions — before any handler
//! runs. A route cannot be added without a permission. Depends on `wfm-ops` (users, tenants,
//! audit), `wfm-analytics`, `wfm-telephony` and `wfm-model`; the stages never depend on it.

mod adherence;
mod admin;
mod alarms;
mod escalation;
mod imports;
mod incidents;
pub mod delivery;
mod kpis;
pub mod auth;
mod i18n;
mod pages;
mod live;
mod multipart;
mod plans;
mod recordings;
mod requests;
mod stats;
pub mod supervision;

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, MethodRouter};
use axum::{Json, Router};
use std::path::PathBuf;
use std::sync::Arc;
use wfm_analytics::Store;
use wfm_ops::{OpsDb, OpsError, Permission};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<Store>,
    pub db: OpsDb,
    /// The ACD of every tenant `wfm serve` runs one for.
    pub acd: Option<Arc<wfm_telephony::transport::Endpoint>>,
    /// The data directory: each tenant's files are in `DATA/tenants/TENANT/`.
    pub data: PathBuf,
    pub auth: Arc<auth::AuthState>,
    /// Each tenant's live adherence board and alarms.
    pub supervisors: Arc<supervision::Supervisors>,
    /// Statistics computed in the last second (`stats::StatsCache`).
    pub stats_cache: Arc<stats::StatsCache>,
    /// Each tenant's latest plan run from the planner's page.
    pub plans: Arc<plans::Plans>,
}

/// One route: method, path, what it needs, and its handler.
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    /// `None`: open to anyone (only `/healthz` and the sign-in).
    pub permission: Option<Permission>,
    handler: fn() -> MethodRouter<AppState>,
}

macro_rules! route {
    ($method:ident $path:literal, $permission:expr, $verb:ident($handler:path)) => {
        Route { method: Method::$method, path: $path, permission: $permission, handler: || $verb($handler) }
    };
}

use Permission as P;

/// Every route of the API. Tests walk this list: each route refuses a request without
/// credentials and one for another tenant.
pub const ROUTES: &[Route] = &[
    route!(GET "/healthz", None, get(healthz)),
    route!(GET "/signin", None, get(pages::sign_in_form)),
    route!(POST "/signin", None, post(pages::sign_in_submit)),
    route!(GET "/language", None, get(pages::language)),
    route!(POST "/signout", Some(P::SignedIn), post(pages::sign_out)),
    route!(GET "/", Some(P::SignedIn), get(pages::home)),
    route!(GET "/my/schedule", Some(P::ViewOwnSchedule), get(pages::my_schedule)),
    route!(GET "/my/requests", Some(P::ViewOwnSchedule), get(pages::my_requests)),
    route!(POST "/my/requests", Some(P::ViewOwnSchedule), post(pages::my_requests_submit)),
    route!(GET "/requests", Some(P::DecideRequest), get(pages::requests)),
    route!(POST "/requests/{id}", Some(P::DecideRequest), post(pages::requests_decide)),
    route!(GET "/roster", Some(P::ViewRosters), get(pages::roster_page)),
    route!(GET "/roster.csv", Some(P::ViewRosters), get(pages::roster_csv)),
    route!(POST "/roster/edit", Some(P::PublishRoster), post(pages::roster_edit)),
    Route {
        method: Method::POST,
        path: "/roster",
        permission: Some(P::PublishRoster),
        handler: || post(pages::roster_publish).layer(axum::extract::DefaultBodyLimit::max(multipart::UPLOAD_LIMIT)),
    },
    route!(GET "/plan", Some(P::ViewImports), get(pages::plan_page)),
    route!(POST "/plan", Some(P::PublishRoster), post(pages::plan_start)),
    route!(POST "/plan/publish", Some(P::PublishRoster), post(pages::plan_publish)),
    route!(GET "/plan/{file}", Some(P::PublishRoster), get(pages::plan_file)),
    Route {
        method: Method::POST,
        path: "/plan/import",
        permission: Some(P::ImportData),
        handler: || post(pages::plan_import).layer(axum::extract::DefaultBodyLimit::max(multipart::UPLOAD_LIMIT)),
    },
    route!(GET "/wallboard", Some(P::ViewLiveQueues), get(pages::wallboard)),
    route!(GET "/supervise", Some(P::ViewAdherence), get(pages::supervise)),
    route!(POST "/supervise/agents/{agent}/state", Some(P::SetAgentState), post(pages::supervise_state)),
    route!(POST "/supervise/alarms/{id}/ack", Some(P::AckAlarm), post(pages::supervise_ack)),
    route!(POST "/supervise/excusals", Some(P::ExcuseAdherence), post(pages::supervise_excuse)),
    route!(GET "/incidents", Some(P::ViewIncidents), get(pages::incidents_page)),
    route!(POST "/incidents/{id}/fixed", Some(P::ManageIncidents), post(pages::incident_fixed)),
    route!(GET "/dashboard", Some(P::ViewQueueStats), get(pages::dashboard)),
    route!(GET "/dashboard.csv", Some(P::ViewQueueStats), get(pages::dashboard_csv)),
    route!(GET "/dashboard.xlsx", Some(P::ViewQueueStats), get(pages::dashboard_xlsx)),
    route!(GET "/report", Some(P::ViewQueueStats), get(pages::report)),
    route!(GET "/report.csv", Some(P::ViewQueueStats), get(pages::report_csv)),
    route!(GET "/report.xlsx", Some(P::ViewQueueStats), get(pages::report_xlsx)),
    route!(GET "/admin", Some(P::ManageUsers), get(pages::admin)),
    route!(POST "/admin/users", Some(P::ManageUsers), post(pages::admin_add_user)),
    route!(POST "/admin/users/{login}/remove", Some(P::ManageUsers), post(pages::admin_remove_user)),
    route!(POST "/admin/tenants/{tenant}/status", Some(P::ManageTenants), post(pages::admin_tenant_status)),
    route!(POST "/api/v1/login", None, post(auth::login)),
    route!(POST "/api/v1/logout", Some(P::SignedIn), post(auth::logout)),
    route!(GET "/api/v1/me", Some(P::SignedIn), get(auth::me)),
    route!(GET "/api/v1/tokens", Some(P::SignedIn), get(auth::list_tokens)),
    route!(POST "/api/v1/tokens", Some(P::SignedIn), post(auth::create_token)),
    route!(DELETE "/api/v1/tokens/{token}", Some(P::SignedIn), delete(auth::revoke_token)),
    route!(GET "/api/v1/tenants", Some(P::SignedIn), get(admin::tenants)),
    route!(POST "/api/v1/tenants", Some(P::ManageTenants), post(admin::add_tenant)),
    route!(POST "/api/v1/tenants/{tenant}/suspend", Some(P::ManageTenants), post(admin::suspend_tenant)),
    route!(POST "/api/v1/tenants/{tenant}/resume", Some(P::ManageTenants), post(admin::resume_tenant)),
    route!(GET "/api/v1/tenants/{tenant}/stats", Some(P::ViewQueueStats), get(stats::queue_stats)),
    route!(GET "/api/v1/tenants/{tenant}/agent-stats", Some(P::ViewAgentStats), get(stats::agents_stats)),
    route!(GET "/api/v1/tenants/{tenant}/imports", Some(P::ViewImports), get(stats::imports)),
    Route {
        method: Method::POST,
        path: "/api/v1/tenants/{tenant}/imports",
        permission: Some(P::ImportData),
        handler: || post(imports::create).layer(axum::extract::DefaultBodyLimit::max(multipart::UPLOAD_LIMIT)),
    },
    Route {
        method: Method::POST,
        path: "/api/v1/tenants/{tenant}/rosters",
        permission: Some(P::PublishRoster),
        // A six-week roster of 2 000 agents is about 6 MB of CSV.
        handler: || post(adherence::publish).layer(axum::extract::DefaultBodyLimit::max(64 << 20)),
    },
    route!(GET "/api/v1/tenants/{tenant}/rosters", Some(P::ViewRosters), get(adherence::versions)),
    route!(GET "/api/v1/tenants/{tenant}/rosters/{version}", Some(P::ViewRosters), get(adherence::roster_csv)),
    route!(GET "/api/v1/tenants/{tenant}/adherence", Some(P::ViewAdherence), get(adherence::adherence)),
    route!(GET "/api/v1/tenants/{tenant}/adherence/live", Some(P::ViewAdherence), get(adherence::live)),
    route!(GET "/api/v1/tenants/{tenant}/agents/{agent}/adherence/live", Some(P::ViewAgentAdherence), get(adherence::agent_live)),
    route!(POST "/api/v1/tenants/{tenant}/agents/{agent}/adherence/claims", Some(P::ClaimExcusal), post(adherence::claim)),
    route!(GET "/api/v1/tenants/{tenant}/adherence/excusals", Some(P::ViewAdherence), get(adherence::excusals)),
    route!(POST "/api/v1/tenants/{tenant}/adherence/excusals", Some(P::ExcuseAdherence), post(adherence::excuse)),
    route!(POST "/api/v1/tenants/{tenant}/adherence/excusals/{id}/approve", Some(P::ExcuseAdherence), post(adherence::approve)),
    route!(POST "/api/v1/tenants/{tenant}/adherence/excusals/{id}/reject", Some(P::ExcuseAdherence), post(adherence::reject)),
    route!(POST "/api/v1/tenants/{tenant}/agents/{agent}/requests", Some(P::RequestChange), post(requests::create)),
    route!(POST "/api/v1/tenants/{tenant}/agents/{agent}/requests/check", Some(P::RequestChange), post(requests::check)),
    route!(POST "/api/v1/tenants/{tenant}/agents/{agent}/requests/{id}/cancel", Some(P::RequestChange), post(requests::withdraw)),
    route!(POST "/api/v1/tenants/{tenant}/agents/{agent}/requests/{id}/answer", Some(P::RequestChange), post(requests::answer_swap)),
    route!(GET "/api/v1/tenants/{tenant}/agents/{agent}/requests", Some(P::ViewRequests), get(requests::of_agent)),
    route!(GET "/api/v1/tenants/{tenant}/requests", Some(P::DecideRequest), get(requests::list)),
    route!(GET "/api/v1/tenants/{tenant}/requests/{id}", Some(P::DecideRequest), get(requests::one)),
    route!(POST "/api/v1/tenants/{tenant}/requests/{id}/decision", Some(P::DecideRequest), post(requests::decision)),
    route!(GET "/api/v1/tenants/{tenant}/alarms", Some(P::ViewAlarms), get(alarms::alarms)),
    route!(POST "/api/v1/tenants/{tenant}/alarms/{id}/ack", Some(P::AckAlarm), post(alarms::acknowledge)),
    route!(GET "/api/v1/tenants/{tenant}/escalation", Some(P::ViewEscalation), get(escalation::escalation)),
    route!(POST "/api/v1/tenants/{tenant}/escalation/confirm", Some(P::ConfirmCallIn), post(escalation::confirm)),
    route!(GET "/api/v1/tenants/{tenant}/incidents", Some(P::ViewIncidents), get(incidents::list)),
    route!(POST "/api/v1/tenants/{tenant}/incidents", Some(P::ManageIncidents), post(incidents::report)),
    route!(GET "/api/v1/tenants/{tenant}/incidents/{id}", Some(P::ViewIncidents), get(incidents::one)),
    route!(POST "/api/v1/tenants/{tenant}/incidents/{id}/fixed", Some(P::ManageIncidents), post(incidents::fixed)),
    route!(POST "/api/v1/tenants/{tenant}/incidents/{id}/agents/{agent}/move", Some(P::ManageIncidents), post(incidents::move_agent)),
    route!(POST "/api/v1/tenants/{tenant}/incidents/{id}/agents/{agent}/back", Some(P::ManageIncidents), post(incidents::agent_back)),
    route!(POST "/api/v1/tenants/{tenant}/incidents/{id}/cases", Some(P::RecordCase), post(incidents::record_case)),
    route!(POST "/api/v1/tenants/{tenant}/incidents/{id}/cases/{case}/assign", Some(P::ManageIncidents), post(incidents::assign_case)),
    route!(POST "/api/v1/tenants/{tenant}/incidents/{id}/cases/{case}/done", Some(P::WorkCase), post(incidents::case_done)),
    route!(GET "/api/v1/tenants/{tenant}/agents/{agent}/state", Some(P::ViewAgentState), get(live::agent_state)),
    route!(POST "/api/v1/tenants/{tenant}/agents/{agent}/state", Some(P::SetAgentState), post(live::set_agent_state)),
    route!(GET "/api/v1/tenants/{tenant}/queues/live", Some(P::ViewLiveQueues), get(live::queues_live)),
    route!(GET "/api/v1/tenants/{tenant}/kpis/live", Some(P::ViewLiveQueues), get(kpis::live)),
    route!(GET "/api/v1/tenants/{tenant}/events", Some(P::ViewEvents), get(live::events)),
    route!(GET "/api/v1/tenants/{tenant}/recordings", Some(P::ListenRecordings), get(recordings::search)),
    route!(GET "/api/v1/tenants/{tenant}/recordings/{call}", Some(P::ListenRecordings), get(recordings::one)),
    route!(GET "/api/v1/tenants/{tenant}/audit", Some(P::ViewAudit), get(admin::audit)),
    route!(GET "/api/v1/tenants/{tenant}/users", Some(P::ManageUsers), get(admin::users)),
    route!(POST "/api/v1/tenants/{tenant}/users", Some(P::ManageUsers), post(admin::add_user)),
    route!(DELETE "/api/v1/tenants/{tenant}/users/{login}", Some(P::ManageUsers), delete(admin::remove_user)),
];

impl Route {
    /// A page of the web application (HTML), not the API.
    pub fn is_page(&self) -> bool {
        pages::is_page(self.path)
    }
}

pub fn router(state: AppState) -> Router {
    let routes = ROUTES.iter().fold(Router::new(), |router, route| router.route(route.path, (route.handler)()));
    routes
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), auth::guard))
        .fallback(not_found)
        .layer(axum::middleware::from_fn(pages::html_errors))
        .with_state(state)
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::status(StatusCode::NOT_FOUND, None, format!("no page or route {}", uri.path()))
}

/// An error as the API reports it: a status, a message, and the request field at fault.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    field: Option<&'static str>,
    message: String,
    retry_after_s: Option<u64>,
}

impl ApiError {
    fn status(status: StatusCode, field: Option<&'static str>, message: impl ToString) -> Self {
        Self { status, field, message: message.to_string(), retry_after_s: None }
    }

    /// What went wrong, as the JSON's `error` says it.
    fn message(&self) -> &str {
        &self.message
    }

    fn bad_request(field: &'static str, message: impl ToString) -> Self {
        Self::status(StatusCode::BAD_REQUEST, Some(field), message)
    }

    /// The same answer for a tenant that does not exist and one the caller does not belong to.
    fn unknown_tenant(tenant: &str) -> Self {
        Self::status(StatusCode::NOT_FOUND, Some("tenant"), format!("unknown tenant {tenant}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.message, "field": self.field });
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after_s {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(axum::http::header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<OpsError> for ApiError {
    fn from(e: OpsError) -> Self {
        match e {
            OpsError::Invalid { field, message } => Self::bad_request(field, message),
            OpsError::NotFound(what) => Self::status(StatusCode::NOT_FOUND, None, format!("{what} not found")),
            OpsError::Exists(what) => Self::status(StatusCode::CONFLICT, None, format!("{what} already exists")),
            other => internal(other),
        }
    }
}

/// `from` and `to` (exclusive) of a query.
fn date_range(from: Option<&str>, to: Option<&str>) -> Result<wfm_model::LocalDateRange, ApiError> {
    let from = from.ok_or_else(|| ApiError::bad_request("from", "required (YYYY-MM-DD)"))?;
    let to = to.ok_or_else(|| ApiError::bad_request("to", "required (YYYY-MM-DD, exclusive)"))?;
    wfm_model::LocalDateRange::parse(from, to).map_err(|e| ApiError::bad_request("from", e))
}

fn internal(e: impl ToString) -> ApiError {
    ApiError::status(StatusCode::INTERNAL_SERVER_ERROR, None, e)
}

async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// A JSON body, or a 400 naming what is wrong with it.
fn body<T>(body: Result<Json<T>, axum::extract::rejection::JsonRejection>) -> Result<T, ApiError> {
    body.map(|Json(t)| t).map_err(|e| ApiError::bad_request("body", e.body_text()))
}

/// The query of a listing of kept records: `state=open|all` (open by default), `limit=N`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeptParams {
    state: Option<String>,
    limit: Option<u32>,
}

/// A tenant's kept records of `kind` as the query asks, newest first.
async fn kept_records(
    state: &AppState,
    tenant: &str,
    kind: wfm_ops::kept::Kept,
    params: Result<axum::extract::Query<KeptParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Vec<String>, ApiError> {
    let axum::extract::Query(p) = params.map_err(|e| ApiError::bad_request("query", e.body_text()))?;
    let open_only = match p.state.as_deref() {
        None | Some("open") => true,
        Some("all") => false,
        Some(other) => return Err(ApiError::bad_request("state", format!("{other:?} is not open or all"))),
    };
    Ok(state.db.kept(kind, tenant, open_only, p.limit.unwrap_or(wfm_ops::kept::MAX_LISTED)).await?)
}
