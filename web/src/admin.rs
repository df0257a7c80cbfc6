//! Administration over HTTP: tenants (platform administrators), a tenant's users and its audit
//! log (tenant administrators). The same library calls as `wfm admin`.

use crate::auth::Signed;
use crate::{body, internal, ApiError, AppState};
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::Deserialize;
use wfm_model::{AgentId, TenantId, TenantZone};
use wfm_ops::{Language, Login, Role, Tenant, TenantStatus, User};

/// `GET /api/v1/tenants`: the caller's tenants (every tenant for a platform administrator).
pub async fn tenants(State(state): State<AppState>, Extension(signed): Extension<Signed>) -> Result<Json<Vec<Tenant>>, ApiError> {
    let all = state.db.tenants().await?;
    let user = &signed.caller.user;
    Ok(Json(all.into_iter().filter(|t| user.role == Role::PlatformAdmin || user.tenant.as_ref() == Some(&t.id)).collect()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTenant {
    tenant: String,
    name: String,
    time_zone: String,
    #[serde(default)]
    language: Option<String>,
}

/// `POST /api/v1/tenants` with `{"tenant", "name", "time_zone", "language"}`.
pub async fn add_tenant(State(state): State<AppState>, Extension(signed): Extension<Signed>, request: Result<Json<NewTenant>, JsonRejection>) -> Result<(StatusCode, Json<Tenant>), ApiError> {
    let request = body(request)?;
    let id = TenantId::parse(&request.tenant).map_err(|e| ApiError::bad_request("tenant", e))?;
    let zone = TenantZone::parse(&request.time_zone).map_err(|e| ApiError::bad_request("time_zone", e))?;
    let language = Language::parse(request.language.as_deref().unwrap_or("en")).map_err(|e| ApiError::bad_request("language", e))?;
    let tenant = Tenant::new(id.clone(), &request.name, zone, language)?;
    let store = state.store.clone();
    // The store keeps each tenant's zone beside its data; it must agree with the database's.
    tokio::task::spawn_blocking(move || store.ensure_tenant(&id, zone)).await.map_err(internal)?.map_err(|e| ApiError::bad_request("time_zone", e))?;
    state.db.add_tenant(&tenant).await?;
    std::fs::create_dir_all(state.data.join("tenants").join(tenant.id.as_str())).map_err(internal)?;
    state.db.audit(&signed.audit(tenant.id.as_str(), "tenant.add", tenant.id.as_str(), &format!("{} ({})", tenant.name, zone.name()))).await?;
    Ok((StatusCode::CREATED, Json(tenant)))
}

/// Suspends or resumes a tenant; audited. For the API and the administrator's page.
pub async fn set_status(state: &AppState, signed: &Signed, tenant: &str, status: TenantStatus) -> Result<Tenant, ApiError> {
    let changed = state.db.set_tenant_status(tenant, status).await?;
    let action = if status == TenantStatus::Suspended { "tenant.suspend" } else { "tenant.resume" };
    state.db.audit(&signed.audit(tenant, action, tenant, "")).await?;
    Ok(changed)
}

pub async fn suspend_tenant(State(state): State<AppState>, Extension(signed): Extension<Signed>, Path(tenant): Path<String>) -> Result<Json<Tenant>, ApiError> {
    Ok(Json(set_status(&state, &signed, &tenant, TenantStatus::Suspended).await?))
}

pub async fn resume_tenant(State(state): State<AppState>, Extension(signed): Extension<Signed>, Path(tenant): Path<String>) -> Result<Json<Tenant>, ApiError> {
    Ok(Json(set_status(&state, &signed, &tenant, TenantStatus::Active).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    limit: Option<u32>,
}

/// `GET /api/v1/tenants/{tenant}/audit[?limit=N]`: newest first, 200 by default, 1000 at most.
pub async fn audit(State(state): State<AppState>, Path(tenant): Path<String>, query: Result<Query<AuditQuery>, QueryRejection>) -> Result<Json<serde_json::Value>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request("query", e.body_text()))?;
    let limit = query.limit.unwrap_or(200);
    if limit == 0 || limit > wfm_ops::audit::MAX_LISTED {
        return Err(ApiError::bad_request("limit", "1 to 1000"));
    }
    Ok(Json(serde_json::to_value(state.db.audit_log(&tenant, limit).await?).map_err(internal)?))
}

/// `GET /api/v1/tenants/{tenant}/users`.
pub async fn users(State(state): State<AppState>, Path(tenant): Path<String>) -> Result<Json<Vec<User>>, ApiError> {
    Ok(Json(state.db.users(Some(&tenant)).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    login: String,
    role: String,
    #[serde(default)]
    agent_id: Option<String>,
    /// Generated (and returned once) when absent.
    #[serde(default)]
    password: Option<String>,
}

/// `POST /api/v1/tenants/{tenant}/users` with `{"login", "role", "agent_id", "password"}`:
/// answers the user and, when none was given, the generated password (shown once).
pub async fn add_user(State(state): State<AppState>, Extension(signed): Extension<Signed>, Path(tenant): Path<String>, request: Result<Json<NewUser>, JsonRejection>) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let r = body(request)?;
    let (user, generated) = create_user(&state, &signed, &tenant, &r.login, &r.role, r.agent_id.as_deref(), r.password).await?;
    let mut answer = serde_json::to_value(&user).map_err(internal)?;
    if let Some(password) = generated {
        answer["password"] = serde_json::Value::String(password);
    }
    Ok((StatusCode::CREATED, Json(answer)))
}

/// Adds a user of `tenant` (any role but platform administrator); audited. Answers the user and
/// the password generated when none was given (to be shown once). For the API and the page.
pub async fn create_user(state: &AppState, signed: &Signed, tenant: &str, login: &str, role: &str, agent_id: Option<&str>, password: Option<String>) -> Result<(User, Option<String>), ApiError> {
    let role = Role::parse(role).map_err(|e| ApiError::bad_request("role", e))?;
    if role == Role::PlatformAdmin {
        return Err(ApiError::bad_request("role", "platform administrators belong to no tenant (wfm admin user add --role platform-admin)"));
    }
    let agent = agent_id.map(AgentId::parse).transpose().map_err(|e| ApiError::bad_request("agent_id", e))?;
    let tenant_id = TenantId::parse(tenant).map_err(|e| ApiError::bad_request("tenant", e))?;
    let user = User::new(Some(tenant_id), Login::parse(login)?, role, agent)?;
    let (password, generated) = match password {
        Some(p) => (p, false),
        None => (wfm_ops::secrets::random_password()?, true),
    };
    let hashing = password.clone();
    let digest = tokio::task::spawn_blocking(move || wfm_ops::users::hash_password(&hashing)).await.map_err(internal)??;
    state.db.add_user(&user, &digest).await?;
    state.db.audit(&signed.audit(tenant, "user.add", user.login.as_str(), role.as_str())).await?;
    Ok((user, generated.then_some(password)))
}

/// `DELETE /api/v1/tenants/{tenant}/users/{login}`: the user's sessions end, their tokens stop.
pub async fn remove_user(State(state): State<AppState>, Extension(signed): Extension<Signed>, Path((tenant, login)): Path<(String, String)>) -> Result<Json<serde_json::Value>, ApiError> {
    delete_user(&state, &signed, &tenant, &login).await?;
    Ok(Json(serde_json::json!({ "removed": login })))
}

/// Removes a user of `tenant` (not the caller themself); audited. For the API and the page.
pub async fn delete_user(state: &AppState, signed: &Signed, tenant: &str, login: &str) -> Result<(), ApiError> {
    if signed.caller.user.tenant.as_ref().is_some_and(|t| t.as_str() == tenant) && signed.caller.user.login.as_str() == login {
        return Err(ApiError::bad_request("login", "you cannot remove yourself"));
    }
    state.db.remove_user(Some(tenant), login).await?;
    state.db.audit(&signed.audit(tenant, "user.remove", login, "")).await?;
    Ok(())
}
