//! Signing in and out of the pages, and the language switch.

use super::{encode, language_of, layout, safe_next, set_cookie, Chrome, LANGUAGE_COOKIE};
use crate::auth::{client_ip, sign_in, Signed, SignIn, CLEARED_SESSION_COOKIE};
use crate::i18n::Words;
use crate::{ApiError, AppState};
use askama::Template;
use axum::extract::connect_info::ConnectInfo;
use axum::extract::rejection::{ExtensionRejection, FormRejection, QueryRejection};
use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use serde::Deserialize;
use std::net::SocketAddr;
use wfm_ops::sessions::Credential;
use wfm_ops::tenants::Language;

#[derive(Template)]
#[template(path = "signin.html")]
struct SignInPage<'a> {
    t: &'a Words,
    error: Option<String>,
    next: &'a str,
    tenant: &'a str,
    login: &'a str,
}

fn sign_in_page(t: Words, status: StatusCode, form: SignInPage<'_>) -> Result<Response, ApiError> {
    let chrome = Chrome::new(t, &format!("/signin?next={}", encode(form.next)));
    Ok((status, layout(&chrome, &t.get("sign-in-title"), &form)?).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignInQuery {
    next: Option<String>,
}

/// `GET /signin`: the sign-in form (fields `tenant`, `login`, `password`; Enter submits).
pub async fn sign_in_form(headers: HeaderMap, query: Result<Query<SignInQuery>, QueryRejection>) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request("query", e.body_text()))?;
    let t = Words::new(language_of(&headers, None));
    sign_in_page(t, StatusCode::OK, SignInPage { t: &t, error: None, next: safe_next(query.next.as_deref()), tenant: "", login: "" })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignInForm {
    #[serde(default)]
    tenant: String,
    login: String,
    password: String,
    next: Option<String>,
}

/// `POST /signin`: the same sign-in as `POST /api/v1/login` (throttled, audited); on success
/// the session's cookie and a redirect to the page asked for, else the form again with why.
pub async fn sign_in_submit(State(state): State<AppState>, source: Result<ConnectInfo<SocketAddr>, ExtensionRejection>, headers: HeaderMap, form: Result<Form<SignInForm>, FormRejection>) -> Result<Response, ApiError> {
    let Form(form) = form.map_err(|e| ApiError::bad_request("body", e.body_text()))?;
    let next = safe_next(form.next.as_deref()).to_owned();
    let request = SignIn { tenant: Some(form.tenant.clone()), login: form.login.clone(), password: form.password };
    match sign_in(&state, client_ip(source.as_ref().ok()), request).await {
        Ok(opened) => {
            let mut response = Redirect::to(&next).into_response();
            response.headers_mut().insert(header::SET_COOKIE, opened.cookie);
            Ok(response)
        }
        Err(refused) => {
            let t = Words::new(language_of(&headers, None));
            let (status, retry_after) = (refused.status, refused.retry_after_s);
            let error = match status.as_u16() {
                401 => t.get("wrong-credentials"),
                429 => t.get("too-many-attempts"),
                403 => t.get("tenant-suspended"),
                400 => t.with("error-400", &[("message", &refused.message)]),
                _ => return Err(refused),
            };
            let mut response = sign_in_page(t, status, SignInPage { t: &t, error: Some(error), next: &next, tenant: &form.tenant, login: &form.login })?;
            if let Some(seconds) = retry_after {
                response.headers_mut().insert(header::RETRY_AFTER, seconds.into());
            }
            Ok(response)
        }
    }
}

/// `POST /signout` (a form with the session's `csrf`): ends the session, back to the sign-in.
pub async fn sign_out(State(state): State<AppState>, Extension(signed): Extension<Signed>) -> Result<Response, ApiError> {
    let Credential::Session { id_hash, .. } = &signed.caller.credential else {
        return Err(ApiError::bad_request("authorization", "a bearer token has no session to sign out of"));
    };
    state.db.end_session(id_hash).await?;
    state.db.audit(&signed.audit_own("logout", &signed.actor(), "")).await?;
    let mut response = Redirect::to("/signin").into_response();
    response.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_static(CLEARED_SESSION_COOKIE));
    Ok(response)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanguageQuery {
    lang: String,
    next: Option<String>,
}

/// `GET /language?lang=ru&next=/path`: the language switch. The choice is kept in a cookie of
/// this browser (it changes nothing on the server, so it needs no sign-in).
pub async fn language(query: Result<Query<LanguageQuery>, QueryRejection>) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request("query", e.body_text()))?;
    let language = Language::parse(&query.lang).map_err(|e| ApiError::bad_request("lang", e))?;
    let mut response = Redirect::to(safe_next(query.next.as_deref())).into_response();
    let cookie = format!("{LANGUAGE_COOKIE}={}; SameSite=Lax; Path=/; Max-Age=31536000", language.as_str());
    response.headers_mut().insert(header::SET_COOKIE, set_cookie(&cookie)?);
    Ok(response)
}
