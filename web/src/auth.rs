//! Who is calling, and may they: the guard every route passes, sign-in and sign-out, and
//! personal API tokens.
//!
//! Credentials: `Authorization: Bearer TOKEN` (a personal token, for scripts) or the session
//! cookie `wfm_session` set by `POST /api/v1/login` (HttpOnly, SameSite=Strict). A request
//! authenticated by the cookie that changes anything (any method but GET and HEAD) must carry
//! the session's CSRF token in `X-CSRF-Token`; one with a bearer token needs none, since a
//! browser never adds that header by itself.

use crate::{body, internal, ApiError, AppState, ROUTES};
use axum::extract::connect_info::ConnectInfo;
use axum::extract::{MatchedPath, Path, RawPathParams, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Mutex;
use wfm_ops::audit::AuditEntry;
use wfm_ops::sessions::{Caller, Credential, Refusal, SessionPolicy};
use wfm_model::TenantId;
use wfm_ops::throttle::{Lockout, Policy, Throttle, Verdict};
use wfm_ops::{now_ms, Access, Login, Role};

pub const SESSION_COOKIE: &str = "wfm_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The `Set-Cookie` value that ends the session cookie in the browser.
pub(crate) const CLEARED_SESSION_COOKIE: &str = "wfm_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0";

pub struct AuthState {
    pub policy: SessionPolicy,
    pub throttle: Mutex<Throttle>,
    /// Password checks at once, at most (each holds argon2's 19 MiB).
    hashing: tokio::sync::Semaphore,
    /// Adds `Secure` to the cookie (behind TLS).
    pub secure_cookies: bool,
}

/// Password checks run at once, at most.
const HASHING_AT_ONCE: usize = 4;

impl AuthState {
    pub fn new(policy: SessionPolicy, secure_cookies: bool) -> Self {
        Self { policy, throttle: Mutex::new(Throttle::new(Policy::default())), hashing: tokio::sync::Semaphore::new(HASHING_AT_ONCE), secure_cookies }
    }

    fn throttle(&self) -> std::sync::MutexGuard<'_, Throttle> {
        self.throttle.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The signed-in caller of a request, as the guard found them.
#[derive(Debug, Clone)]
pub struct Signed {
    pub caller: Caller,
    /// The client's address, for the audit log.
    pub source: String,
}

impl Signed {
    /// How the audit log names this user: `tenant/login`, or `login` for platform administrators.
    pub fn actor(&self) -> String {
        account(self.caller.user.tenant.as_ref().map(|t| t.as_str()), self.caller.user.login.as_str())
    }

    pub fn audit(&self, tenant: &str, action: &str, target: &str, detail: &str) -> AuditEntry {
        AuditEntry::new(tenant, &self.actor(), action, target, &self.source, detail)
    }

    /// An audit entry in the caller's own tenant's log ('' for platform administrators).
    pub(crate) fn audit_own(&self, action: &str, target: &str, detail: &str) -> AuditEntry {
        self.audit(self.caller.user.tenant.as_ref().map_or("", TenantId::as_str), action, target, detail)
    }
}

fn account(tenant: Option<&str>, login: &str) -> String {
    match tenant {
        Some(t) => format!("{t}/{login}"),
        None => login.to_owned(),
    }
}

/// The client's address (unspecified when the server runs without connection info, in tests).
pub(crate) fn client_ip(info: Option<&ConnectInfo<SocketAddr>>) -> IpAddr {
    info.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip())
}

fn unauthorised(message: &str) -> ApiError {
    ApiError::status(StatusCode::UNAUTHORIZED, Some("authorization"), message)
}

fn forbidden(field: Option<&'static str>, message: impl ToString) -> ApiError {
    ApiError::status(StatusCode::FORBIDDEN, field, message)
}

/// The value of the cookie `name`, if the request has one.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(name)?.strip_prefix('='))
}

/// Who sent the request: its bearer token, else its session cookie.
async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let refused = |refusal| match refusal {
        Refusal::Unknown => unauthorised("unknown or revoked credentials: sign in again"),
        Refusal::Expired => unauthorised("the session expired: sign in again"),
        Refusal::Suspended => forbidden(Some("tenant"), "the tenant is suspended"),
    };
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let token = value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")).map(str::trim).filter(|t| !t.is_empty());
        let token = token.ok_or_else(|| unauthorised("Authorization must be `Bearer TOKEN`"))?;
        return state.db.token(token).await?.map_err(refused);
    }
    if let Some(session) = cookie(headers, SESSION_COOKIE) {
        return state.db.session(session, state.auth.policy, now_ms()).await?.map_err(refused);
    }
    Err(unauthorised("sign in (POST /api/v1/login) or send Authorization: Bearer TOKEN"))
}

/// The guard of every route: finds the route's permission in [`ROUTES`], authenticates, checks
/// CSRF, the tenant and the role, then hands the handler a [`Signed`] caller.
pub async fn guard(State(state): State<AppState>, matched: Result<MatchedPath, axum::extract::rejection::MatchedPathRejection>, params: Result<RawPathParams, axum::extract::rejection::RawPathParamsRejection>, request: Request, next: Next) -> Response {
    let mut request = match with_form_csrf(request).await {
        Ok(request) => request,
        Err(e) => return e.into_response(),
    };
    let (method, headers, source) = (request.method().clone(), request.headers().clone(), client_ip(request.extensions().get::<ConnectInfo<SocketAddr>>()));
    match check(&state, matched, params, method, &headers, source).await {
        Ok(Some(signed)) => {
            request.extensions_mut().insert(signed);
            next.run(request).await
        }
        Ok(None) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

/// The largest form the pages post.
const FORM_LIMIT: usize = 1 << 20;

/// A browser's form cannot set a header: the pages' forms carry the session's CSRF token in
/// their field `csrf` (url-encoded forms and file uploads alike), which this moves into
/// `X-CSRF-Token`, keeping the body for the handler.
async fn with_form_csrf(request: Request) -> Result<Request, ApiError> {
    let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let is_form = content_type.starts_with("application/x-www-form-urlencoded");
    let is_upload = crate::multipart::is_multipart(&content_type);
    if request.method() == Method::GET || !(is_form || is_upload) || request.headers().contains_key(CSRF_HEADER) {
        return Ok(request);
    }
    let (mut parts, body) = request.into_parts();
    let (limit, what) = if is_upload { (crate::multipart::UPLOAD_LIMIT, "an upload is at most 64 MiB") } else { (FORM_LIMIT, "a form is at most 1 MiB") };
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| ApiError::status(StatusCode::PAYLOAD_TOO_LARGE, Some("body"), what))?;
    let token = if is_upload {
        let fields = crate::multipart::fields(&content_type, bytes.clone()).await?;
        fields.into_iter().find(|f| f.name == "csrf").map(|f| String::from_utf8_lossy(&f.bytes).into_owned())
    } else {
        let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).map_err(|e| ApiError::bad_request("body", e))?;
        fields.into_iter().find_map(|(name, value)| (name == "csrf").then_some(value))
    };
    if let Some(token) = token
        && let Ok(value) = HeaderValue::from_str(&token)
    {
        parts.headers.insert(CSRF_HEADER, value);
    }
    Ok(Request::from_parts(parts, axum::body::Body::from(bytes)))
}

async fn check(
    state: &AppState,
    matched: Result<MatchedPath, axum::extract::rejection::MatchedPathRejection>,
    params: Result<RawPathParams, axum::extract::rejection::RawPathParamsRejection>,
    method: Method,
    headers: &HeaderMap,
    source: IpAddr,
) -> Result<Option<Signed>, ApiError> {
    let method = if method == Method::HEAD { Method::GET } else { method };
    let path = matched.as_ref().map_or("", MatchedPath::as_str);
    // Routes come from the table, so this finds one; a miss is refused, never let through.
    let route = ROUTES.iter().find(|r| r.method == method && r.path == path).ok_or_else(|| forbidden(None, "no permission is defined for this route"))?;
    let Some(permission) = route.permission else { return Ok(None) };
    let caller = authenticate(state, headers).await?;
    if let Credential::Session { csrf_token, .. } = &caller.credential
        && method != Method::GET
    {
        let sent = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default();
        if !wfm_ops::secrets::constant_time_eq(sent, csrf_token) {
            return Err(forbidden(Some("X-CSRF-Token"), "a request that changes anything must send the session's csrf_token in X-CSRF-Token"));
        }
    }
    if route.path.contains('{') && params.is_err() {
        return Err(ApiError::bad_request("path", "the path's parameters are not valid UTF-8"));
    }
    let param = |name: &str| params.as_ref().ok().and_then(|p| p.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_owned()));
    let user = &caller.user;
    if let Some(tenant) = param("tenant") {
        // A member's tenant exists: the credential's lookup refused it otherwise. Only a
        // platform administrator's tenant in the path needs looking up.
        let found = match user.role {
            Role::PlatformAdmin => state.db.tenant(&tenant).await?.is_some(),
            _ => user.tenant.as_ref().is_some_and(|t| t.as_str() == tenant),
        };
        if !found {
            return Err(ApiError::unknown_tenant(&tenant));
        }
    }
    match user.role.access(permission) {
        Access::Tenant => {}
        Access::Denied => return Err(forbidden(None, format!("the role {} may not see or change {}", user.role, permission.describe()))),
        Access::Own => {
            let own = user.agent_id.as_ref().is_some_and(|a| param("agent").as_deref() == Some(a.as_str()));
            if !own {
                return Err(forbidden(Some("agent"), format!("an agent sees and changes only their own {}", permission.describe())));
            }
        }
    }
    Ok(Some(Signed { caller, source: source.to_string() }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    /// Empty or absent for platform administrators.
    #[serde(default)]
    pub tenant: Option<String>,
    pub login: String,
    pub password: String,
}

/// A session just opened: its user, its CSRF token and the cookie that carries it.
pub struct Opened {
    pub user: wfm_ops::users::User,
    pub csrf_token: String,
    pub cookie: HeaderValue,
}

/// `POST /api/v1/login`: signs in ([`sign_in`]) and answers with who signed in and the
/// session's CSRF token, the session in its cookie.
pub async fn login(State(state): State<AppState>, request_source: Result<ConnectInfo<SocketAddr>, axum::extract::rejection::ExtensionRejection>, sign_in_body: Result<Json<SignIn>, axum::extract::rejection::JsonRejection>) -> Result<Response, ApiError> {
    let opened = sign_in(&state, client_ip(request_source.as_ref().ok()), body(sign_in_body)?).await?;
    let user = &opened.user;
    let answer = serde_json::json!({
        "user": user.login, "role": user.role, "tenant": user.tenant, "agent_id": user.agent_id, "csrf_token": opened.csrf_token,
    });
    let mut response = Json(answer).into_response();
    response.headers_mut().insert(header::SET_COOKIE, opened.cookie);
    Ok(response)
}

/// Checks a password (throttled per account and source, audited) and opens a session: the one
/// sign-in of the API and the sign-in page.
pub async fn sign_in(state: &AppState, source: IpAddr, sign_in: SignIn) -> Result<Opened, ApiError> {
    // Parsed first: only well-formed names reach the throttle's tables or the database.
    let tenant = match sign_in.tenant.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => Some(TenantId::parse(t).map_err(|e| ApiError::bad_request("tenant", e))?),
        None => None,
    };
    let login = Login::parse(&sign_in.login).map_err(|e| ApiError::bad_request("login", e))?;
    let who = account(tenant.as_ref().map(TenantId::as_str), login.as_str());
    let (verdict, lockout) = state.auth.throttle().begin(&who, source, now_ms());
    let delay = match verdict {
        Verdict::Locked { retry_after } => {
            eprintln!("auth: sign-in of {who} from {source} refused: locked for {} s more", retry_after.as_secs());
            let mut e = ApiError::status(StatusCode::TOO_MANY_REQUESTS, None, "too many failed sign-ins: try again later");
            e.retry_after_s = Some(retry_after.as_secs().max(1));
            return Err(e);
        }
        Verdict::Allow { delay } => delay,
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    // Failed sign-ins are audited in the tenant named, when it exists (else the platform's log).
    let named = match &tenant {
        Some(t) => state.db.tenant(t.as_str()).await?,
        None => None,
    };
    let audit_tenant = named.as_ref().map_or(String::new(), |t| t.id.to_string());
    // Refused before the password is checked, so that the answer says nothing of the password.
    if named.as_ref().is_some_and(|t| !t.is_active()) {
        state.db.audit(&AuditEntry::new(&audit_tenant, &who, "login.refused", &who, &source.to_string(), "tenant suspended")).await?;
        return Err(forbidden(Some("tenant"), "the tenant is suspended"));
    }
    let found = state.db.user_with_digest(tenant.as_ref().map(TenantId::as_str), login.as_str()).await?;
    let (digest, password) = (found.as_ref().map_or(wfm_ops::users::decoy_digest().to_owned(), |(_, d)| d.clone()), sign_in.password);
    // Each check holds 19 MiB for ≈ 20 ms: a few at a time, whatever arrives at once.
    let matches = {
        let _slot = state.auth.hashing.acquire().await.map_err(internal)?;
        tokio::task::spawn_blocking(move || wfm_ops::users::verify_password(&password, &digest)).await.map_err(internal)?
    };
    let Some((user, _)) = found.filter(|_| matches) else {
        let locked = match lockout {
            Lockout::None => "",
            Lockout::Account => "account locked",
            Lockout::Source => "source address locked",
        };
        eprintln!("auth: failed sign-in of {who} from {source}{}", if locked.is_empty() { String::new() } else { format!("; {locked} for 15 minutes") });
        state.db.audit(&AuditEntry::new(&audit_tenant, &who, "login.failed", &who, &source.to_string(), locked)).await?;
        return Err(unauthorised("wrong tenant, login or password"));
    };
    state.auth.throttle().succeeded(&who, source);
    let session = state.db.create_session(&user).await?;
    state.db.audit(&AuditEntry::new(&audit_tenant, &who, "login", &who, &source.to_string(), "")).await?;
    let cookie = format!(
        "{SESSION_COOKIE}={}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{}",
        session.id,
        state.auth.policy.lifetime_ms / 1000,
        if state.auth.secure_cookies { "; Secure" } else { "" }
    );
    Ok(Opened { user, csrf_token: session.csrf_token, cookie: HeaderValue::from_str(&cookie).map_err(internal)? })
}

/// `POST /api/v1/logout`: ends the session and clears its cookie.
pub async fn logout(State(state): State<AppState>, Extension(signed): Extension<Signed>) -> Result<Response, ApiError> {
    let Credential::Session { id_hash, .. } = &signed.caller.credential else {
        return Err(ApiError::bad_request("authorization", "a bearer token has no session: revoke it with DELETE /api/v1/tokens/{id}"));
    };
    state.db.end_session(id_hash).await?;
    state.db.audit(&signed.audit_own("logout", &signed.actor(), "")).await?;
    let mut response = Json(serde_json::json!({ "signed_out": true })).into_response();
    response.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_static(CLEARED_SESSION_COOKIE));
    Ok(response)
}

/// `GET /api/v1/me`: who the credentials belong to.
pub async fn me(Extension(signed): Extension<Signed>) -> Json<serde_json::Value> {
    let user = &signed.caller.user;
    let csrf = match &signed.caller.credential {
        Credential::Session { csrf_token, .. } => Some(csrf_token.clone()),
        Credential::Token { .. } => None,
    };
    Json(serde_json::json!({ "user": user.login, "role": user.role, "tenant": user.tenant, "agent_id": user.agent_id, "csrf_token": csrf }))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    #[serde(default)]
    label: String,
}

/// `POST /api/v1/tokens` with `{"label": "..."}` (optional): a personal token, shown once.
pub async fn create_token(State(state): State<AppState>, Extension(signed): Extension<Signed>, request: Result<Json<NewToken>, axum::extract::rejection::JsonRejection>) -> Result<Json<serde_json::Value>, ApiError> {
    let label = match request {
        Ok(Json(t)) => t.label,
        // No body at all is a token without a label.
        Err(axum::extract::rejection::JsonRejection::MissingJsonContentType(_)) => String::new(),
        Err(e) => return Err(ApiError::bad_request("body", e.body_text())),
    };
    let (id, token) = state.db.create_token(&signed.caller.user, &label).await?;
    state.db.audit(&signed.audit_own("token.create", &id, &label)).await?;
    Ok(Json(serde_json::json!({ "id": id, "token": token, "label": label })))
}

/// `GET /api/v1/tokens`: the caller's tokens (ids and labels, never the tokens).
pub async fn list_tokens(State(state): State<AppState>, Extension(signed): Extension<Signed>) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(serde_json::to_value(state.db.tokens(&signed.caller.user).await?).map_err(internal)?))
}

/// `DELETE /api/v1/tokens/{id}`: revokes one of the caller's tokens.
pub async fn revoke_token(State(state): State<AppState>, Extension(signed): Extension<Signed>, Path(id): Path<String>) -> Result<Json<serde_json::Value>, ApiError> {
    if !state.db.revoke_token(&signed.caller.user, &id).await? {
        return Err(ApiError::status(StatusCode::NOT_FOUND, Some("token"), format!("you have no token {id} in use")));
    }
    state.db.audit(&signed.audit_own("token.revoke", &id, "")).await?;
    Ok(Json(serde_json::json!({ "revoked": id })))
}
