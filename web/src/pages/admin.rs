//! The administrators' page (`/admin`): the tenant's users — added with a role, an agent id for
//! agents and a password given or generated (shown once), removed — and its latest audit
//! entries; for platform administrators also every tenant, to open, suspend or resume. The same
//! functions as the API (`crate::admin`).

use super::{encode, PageContext};
use crate::admin;
use crate::auth::Signed;
use crate::i18n::Words;
use crate::{ApiError, AppState};
use askama::Template;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use chrono::DateTime;
use serde::Deserialize;
use wfm_ops::roles::ROLES;
use wfm_ops::{Permission, Role, TenantStatus};

/// The audit entries shown.
const AUDIT_SHOWN: u32 = 50;

struct UserRow {
    login: String,
    role: String,
    agent: String,
    /// The signed-in administrator: not offered for removal.
    me: bool,
}

struct AuditRow {
    at: String,
    actor: String,
    action: String,
    target: String,
    detail: String,
}

struct TenantRow {
    id: String,
    name: String,
    zone: String,
    language: String,
    suspended: bool,
    status: String,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage<'a> {
    t: &'a Words,
    notice: Option<String>,
    /// A generated password, shown this once.
    password: Option<String>,
    /// The tenant whose users are shown; none for a platform administrator who chose none.
    tenant: Option<String>,
    users_title: String,
    users: Vec<UserRow>,
    roles: Vec<(&'static str, String)>,
    audit: Vec<AuditRow>,
    tenants: Vec<TenantRow>,
    csrf: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminQuery {
    tenant: Option<String>,
    /// What the last form did: `removed` (with `login`) or `status` (with `changed`).
    done: Option<String>,
    login: Option<String>,
    changed: Option<String>,
}

/// The page for `page`'s tenant, with a notice and a password to show once.
async fn render(state: &AppState, page: &PageContext, notice: Option<String>, password: Option<String>) -> Result<Response, ApiError> {
    let t = &page.t;
    let tenant = page.tenant.as_ref().map(|t| t.id.as_str().to_owned());
    let mut users = vec![];
    let mut audit = vec![];
    if let Some(tenant) = &tenant {
        let me = &page.signed.caller.user;
        users = state
            .db
            .users(Some(tenant))
            .await?
            .into_iter()
            .map(|u| UserRow {
                me: me.tenant == u.tenant && me.login == u.login,
                login: u.login.to_string(),
                role: t.get(&format!("role-{}", u.role)),
                agent: u.agent_id.map(|a| a.to_string()).unwrap_or_default(),
            })
            .collect();
        if page.may(Permission::ViewAudit) {
            let zone = page.zone();
            audit = state
                .db
                .audit_log(tenant, AUDIT_SHOWN)
                .await?
                .into_iter()
                .map(|e| AuditRow {
                    at: DateTime::from_timestamp_millis(e.at_ms).map(|at| zone.local_time(at).format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_default(),
                    actor: e.actor,
                    action: e.action,
                    target: e.target,
                    detail: e.detail,
                })
                .collect();
        }
    }
    let tenants = if page.may(Permission::ManageTenants) {
        state
            .db
            .tenants()
            .await?
            .into_iter()
            .map(|x| TenantRow {
                suspended: x.status == TenantStatus::Suspended,
                status: t.get(&format!("admin-status-{}", x.status.as_str())),
                id: x.id.to_string(),
                name: x.name,
                zone: x.zone.name().to_owned(),
                language: x.language.as_str().to_owned(),
            })
            .collect()
    } else {
        vec![]
    };
    let roles = ROLES.into_iter().filter(|r| *r != Role::PlatformAdmin).map(|r| (r.as_str(), t.get(&format!("role-{r}")))).collect();
    let users_title = t.with("admin-users", &[("tenant", tenant.as_deref().unwrap_or_default())]);
    let body = AdminPage { t, notice, password, tenant, users_title, users, roles, audit, tenants, csrf: page.csrf() };
    page.render(&t.get("admin-title"), &body)
}

/// `GET /admin[?tenant=T]`.
pub async fn admin(State(state): State<AppState>, Extension(signed): Extension<Signed>, headers: HeaderMap, uri: Uri, query: Result<Query<AdminQuery>, QueryRejection>) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request("query", e.body_text()))?;
    let page = PageContext::new(&state, signed, &headers, &uri, query.tenant.as_deref()).await?;
    let t = &page.t;
    let notice = match (query.done.as_deref(), query.login.as_deref(), query.changed.as_deref()) {
        (Some("removed"), Some(login), _) => Some(t.with("admin-removed", &[("login", login)])),
        (Some("status"), _, Some(changed)) => Some(t.with("admin-status-changed", &[("tenant", changed)])),
        _ => None,
    };
    render(&state, &page, notice, None).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserForm {
    csrf: Option<String>,
    /// A platform administrator's chosen tenant.
    tenant: Option<String>,
    login: String,
    role: String,
    #[serde(default)]
    agent_id: String,
    #[serde(default)]
    password: String,
}

/// An optional form field: empty is absent.
fn given(value: &str) -> Option<&str> {
    Some(value.trim()).filter(|v| !v.is_empty())
}

/// `POST /admin/users`: adds the user and shows the page with the generated password, once.
pub async fn admin_add_user(State(state): State<AppState>, Extension(signed): Extension<Signed>, headers: HeaderMap, uri: Uri, form: Result<Form<UserForm>, FormRejection>) -> Result<Response, ApiError> {
    let Form(form) = form.map_err(|e| ApiError::bad_request("body", e.body_text()))?;
    let _ = form.csrf;
    let page = PageContext::new(&state, signed, &headers, &uri, form.tenant.as_deref()).await?;
    let tenant = page.tenant()?.id.as_str().to_owned();
    let password = given(&form.password).map(str::to_owned);
    let (user, generated) = admin::create_user(&state, &page.signed, &tenant, form.login.trim(), &form.role, given(&form.agent_id), password).await?;
    let notice = page.t.with("admin-added", &[("login", user.login.as_str()), ("role", &page.t.get(&format!("role-{}", user.role)))]);
    render(&state, &page, Some(notice), generated).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantForm {
    csrf: Option<String>,
    tenant: Option<String>,
}

/// The page's address for a platform administrator's chosen tenant.
fn back_to(tenant: Option<&str>, done: &str) -> String {
    match tenant {
        Some(t) => format!("/admin?tenant={}&{done}", encode(t)),
        None => format!("/admin?{done}"),
    }
}

/// `POST /admin/users/{login}/remove`: the user's sessions end, their tokens stop.
pub async fn admin_remove_user(State(state): State<AppState>, Extension(signed): Extension<Signed>, headers: HeaderMap, uri: Uri, Path(login): Path<String>, form: Result<Form<TenantForm>, FormRejection>) -> Result<Response, ApiError> {
    let Form(form) = form.map_err(|e| ApiError::bad_request("body", e.body_text()))?;
    let _ = form.csrf;
    let page = PageContext::new(&state, signed, &headers, &uri, form.tenant.as_deref()).await?;
    let tenant = page.tenant()?.id.as_str().to_owned();
    admin::delete_user(&state, &page.signed, &tenant, &login).await?;
    Ok(Redirect::to(&back_to(form.tenant.as_deref(), &format!("done=removed&login={}", encode(&login)))).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusForm {
    csrf: Option<String>,
    /// `suspended` or `active`.
    status: String,
}

/// `POST /admin/tenants/{tenant}/status` (platform administrators): suspends or resumes it.
pub async fn admin_tenant_status(State(state): State<AppState>, Extension(signed): Extension<Signed>, Path(tenant): Path<String>, form: Result<Form<StatusForm>, FormRejection>) -> Result<Response, ApiError> {
    let Form(form) = form.map_err(|e| ApiError::bad_request("body", e.body_text()))?;
    let _ = form.csrf;
    let status = match form.status.as_str() {
        "suspended" => TenantStatus::Suspended,
        "active" => TenantStatus::Active,
        other => return Err(ApiError::bad_request("status", format!("{other:?} is not suspended or active"))),
    };
    admin::set_status(&state, &signed, &tenant, status).await?;
    Ok(Redirect::to(&format!("/admin?done=status&changed={}", encode(&tenant))).into_response())
}
