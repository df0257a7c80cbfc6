//! The web application: server-rendered HTML pages over the same library calls as the API.
//!
//! A page is a route of [`crate::ROUTES`] like any other (the guard checks the caller, the role
//! and CSRF before it runs) whose handler renders an askama template (`web/templates/`) inside
//! one layout. Pages use no script and fetch nothing: the stylesheet is inlined, charts are SVG
//! rendered on the server. Errors on a page's path come back as pages ([`html_errors`]): a
//! missing or expired sign-in goes to the sign-in page, anything else says what to do.

mod admin;
mod chart;
mod dashboard;
mod incidents;
mod report;
mod plan;
mod requests;
mod roster;
mod wallboard;
mod schedule;
mod session;
mod supervise;

pub use admin::{admin, admin_add_user, admin_remove_user, admin_tenant_status};
pub use incidents::{incident_fixed, incidents_page};
pub use dashboard::{dashboard, dashboard_csv, dashboard_xlsx};
pub use report::{report, report_csv, report_xlsx};
pub use requests::{my_requests, my_requests_submit, requests, requests_decide};
pub use plan::{plan_file, plan_import, plan_page, plan_publish, plan_start};
pub use roster::{roster_csv, roster_edit, roster_page, roster_publish};
pub use wallboard::wallboard;
pub use schedule::my_schedule;
pub use session::{language, sign_in_form, sign_in_submit, sign_out};
pub use supervise::{supervise, supervise_ack, supervise_excuse, supervise_state};

use crate::auth::{cookie, Signed};
use crate::i18n::{self, Words};
use crate::{internal, ApiError, AppState};
use askama::Template;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Extension;
use wfm_model::TenantZone;
use wfm_ops::sessions::Credential;
use wfm_ops::tenants::{Language, Tenant};
use wfm_ops::{Access, Permission};

const CSS: &str = include_str!("../../assets/app.css");

/// The cookie that keeps the language a user chose with the switch.
const LANGUAGE_COOKIE: &str = "wfm_lang";

/// Whether a path is one of the pages (not the API, not the health check).
pub fn is_page(path: &str) -> bool {
    !path.starts_with("/api/") && path != "/healthz"
}

/// The navigation: each page, the words naming it and the permission it needs.
const NAV: [(&str, &str, &str, Permission); 12] = [
    ("/", "nav-home", "home-api", Permission::SignedIn),
    ("/my/schedule", "nav-schedule", "home-schedule", Permission::ViewOwnSchedule),
    ("/my/requests", "nav-my-requests", "home-my-requests", Permission::ViewOwnSchedule),
    ("/requests", "nav-requests", "home-requests", Permission::DecideRequest),
    ("/roster", "nav-roster", "home-roster", Permission::ViewRosters),
    ("/plan", "nav-plan", "home-plan", Permission::ViewImports),
    ("/wallboard", "nav-wallboard", "home-wallboard", Permission::ViewLiveQueues),
    ("/supervise", "nav-supervise", "home-supervise", Permission::ViewAdherence),
    ("/incidents", "nav-incidents", "home-incidents", Permission::ViewEscalation),
    ("/dashboard", "nav-dashboard", "home-dashboard", Permission::ViewQueueStats),
    ("/report", "nav-report", "home-report", Permission::ViewQueueStats),
    ("/admin", "nav-admin", "home-admin", Permission::ManageUsers),
];

/// The language of a request: the switch's cookie, else the tenant's, else the browser's.
fn language_of(headers: &HeaderMap, tenant: Option<&Tenant>) -> Language {
    cookie(headers, LANGUAGE_COOKIE)
        .and_then(|tag| Language::parse(tag).ok())
        .or(tenant.map(|t| t.language))
        .or_else(|| headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).and_then(i18n::from_accept_language))
        .unwrap_or(Language::English)
}

/// What a signed-in page knows of its request: who, which tenant, which words, which zone.
pub struct PageContext {
    pub signed: Signed,
    pub tenant: Option<Tenant>,
    pub t: Words,
    path: String,
}

impl PageContext {
    /// The caller's own tenant; a platform administrator names one with `?tenant=`. A member
    /// naming another tenant gets the same 404 as for a tenant that does not exist.
    pub async fn new(state: &AppState, signed: Signed, headers: &HeaderMap, uri: &Uri, requested: Option<&str>) -> Result<Self, ApiError> {
        let own = signed.caller.user.tenant.as_ref().map(|t| t.as_str().to_owned());
        let id = match (own, requested.filter(|t| !t.is_empty())) {
            (Some(own), Some(requested)) if own != requested => return Err(ApiError::unknown_tenant(requested)),
            (Some(own), _) => Some(own),
            (None, requested) => requested.map(str::to_owned),
        };
        let tenant = match id {
            Some(id) => Some(state.db.tenant(&id).await?.ok_or_else(|| ApiError::unknown_tenant(&id))?),
            None => None,
        };
        let t = Words::new(language_of(headers, tenant.as_ref()));
        let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
        Ok(Self { signed, tenant, t, path })
    }

    /// The page's tenant, or a 400 asking a platform administrator to choose one.
    pub fn tenant(&self) -> Result<&Tenant, ApiError> {
        self.tenant.as_ref().ok_or_else(|| ApiError::bad_request("tenant", self.t.get("choose-tenant")))
    }

    pub fn zone(&self) -> TenantZone {
        self.tenant.as_ref().map_or_else(TenantZone::utc, |t| t.zone)
    }

    /// The session's CSRF token, for the page's forms (none for a bearer token).
    fn csrf(&self) -> String {
        match &self.signed.caller.credential {
            Credential::Session { csrf_token, .. } => csrf_token.clone(),
            Credential::Token { .. } => String::new(),
        }
    }

    fn may(&self, permission: Permission) -> bool {
        self.signed.caller.user.role.access(permission) != Access::Denied
    }

    /// The page: `body` inside the layout, with this user's navigation.
    pub fn render(&self, title: &str, body: &impl Template) -> Result<Response, ApiError> {
        let user = &self.signed.caller.user;
        let nav = NAV
            .iter()
            .filter(|(_, _, _, permission)| self.may(*permission))
            .map(|(href, key, _, _)| NavItem { href, label: self.t.get(key), current: self.path.split('?').next() == Some(*href) })
            .collect();
        let csrf = self.csrf();
        let chrome = Chrome {
            user: Some(self.t.with("signed-in-as", &[("user", user.login.as_str()), ("role", &self.t.get(&format!("role-{}", user.role)))])),
            tenant_name: self.tenant.as_ref().map(|t| t.name.clone()),
            nav,
            csrf,
            ..Chrome::new(self.t, &self.path)
        };
        layout(&chrome, title, body)
    }
}

/// A page's navigation link.
struct NavItem {
    href: &'static str,
    label: String,
    current: bool,
}

/// What the layout shows around every page.
struct Chrome {
    lang: &'static str,
    app_name: String,
    tenant_name: Option<String>,
    user: Option<String>,
    nav: Vec<NavItem>,
    csrf: String,
    path: String,
    languages: Vec<(&'static str, String)>,
    language_label: String,
    change_label: String,
    sign_out_label: String,
}

impl Chrome {
    /// The layout of a page nobody is signed in to.
    fn new(t: Words, path: &str) -> Self {
        Self {
            lang: t.tag(),
            app_name: t.get("app-name"),
            tenant_name: None,
            user: None,
            nav: vec![],
            csrf: String::new(),
            path: path.to_owned(),
            languages: i18n::languages().map(|(language, name)| (language.as_str(), name)).collect(),
            language_label: t.get("language"),
            change_label: t.get("change"),
            sign_out_label: t.get("sign-out"),
        }
    }
}

#[derive(Template)]
#[template(path = "layout.html")]
struct Layout<'a> {
    chrome: &'a Chrome,
    title: &'a str,
    css: &'static str,
    body: String,
}

fn layout(chrome: &Chrome, title: &str, body: &impl Template) -> Result<Response, ApiError> {
    let body = body.render().map_err(internal)?;
    let page = Layout { chrome, title, css: CSS, body }.render().map_err(internal)?;
    Ok(Html(page).into_response())
}

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    intro: String,
    links: Vec<(&'static str, String, String)>,
    choose_tenant: Option<String>,
}

/// `GET /`: what the caller's role may do, as links.
pub async fn home(State(state): State<AppState>, Extension(signed): Extension<Signed>, headers: HeaderMap, uri: Uri, query: axum::extract::Query<TenantParam>) -> Result<Response, ApiError> {
    let page = PageContext::new(&state, signed, &headers, &uri, query.tenant.as_deref()).await?;
    let t = &page.t;
    let links = NAV.iter().skip(1).filter(|(_, _, _, p)| page.may(*p)).map(|(href, key, about, _)| (*href, t.get(key), t.get(about))).collect();
    let choose_tenant = page.tenant.is_none().then(|| t.get("choose-tenant"));
    let body = Home { intro: t.get("home-intro"), links, choose_tenant };
    page.render(&t.with("home-title", &[("user", page.signed.caller.user.login.as_str())]), &body)
}

/// The `?tenant=` of a page (platform administrators only).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantParam {
    tenant: Option<String>,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    message: String,
    home: String,
}

/// Turns the API's JSON errors on a page's path into pages: `401` goes to the sign-in page
/// (and back here after it), any other error is a page saying what happened and what to do.
/// A server error's detail is logged, never shown.
pub async fn html_errors(request: Request, next: Next) -> Response {
    let (path, headers) = (request.uri().path_and_query().map_or("/", |p| p.as_str()).to_owned(), request.headers().clone());
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !is_page(&path) || !(status.is_client_error() || status.is_server_error()) || !is_json {
        return response;
    }
    if status == StatusCode::UNAUTHORIZED {
        return Redirect::to(&format!("/signin?next={}", encode(&path))).into_response();
    }
    let retry_after = response.headers().get(header::RETRY_AFTER).cloned();
    let message = match axum::body::to_bytes(response.into_body(), 1 << 16).await {
        Ok(bytes) => serde_json::from_slice::<serde_json::Value>(&bytes).ok().and_then(|v| v["error"].as_str().map(str::to_owned)).unwrap_or_default(),
        Err(_) => String::new(),
    };
    let t = Words::new(language_of(&headers, None));
    let key = match status.as_u16() {
        400 | 403 | 404 | 409 | 429 => format!("error-{}", status.as_u16()),
        _ => {
            eprintln!("web: {path} answered {status}: {message}");
            "error-500".to_owned()
        }
    };
    let page = ErrorPage { message: t.with(&key, &[("message", message.trim_end_matches('.'))]), home: t.get("error-home") };
    let mut response = match layout(&Chrome::new(t, &path), &t.get("error-title"), &page) {
        Ok(page) => (status, page).into_response(),
        Err(_) => (status, t.get("error-500")).into_response(),
    };
    if let Some(seconds) = retry_after {
        response.headers_mut().insert(header::RETRY_AFTER, seconds);
    }
    response
}

/// A query-string value, percent-encoded.
fn encode(value: &str) -> String {
    serde_urlencoded::to_string([("v", value)]).map(|s| s[2..].to_owned()).unwrap_or_default()
}

/// Where a form may send the browser next: a path of this site only (not `//elsewhere`).
fn safe_next(next: Option<&str>) -> &str {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\')).unwrap_or("/")
}

/// A `Set-Cookie` header value.
fn set_cookie(value: &str) -> Result<HeaderValue, ApiError> {
    HeaderValue::from_str(value).map_err(internal)
}
