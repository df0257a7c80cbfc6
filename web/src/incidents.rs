//! Incidents over HTTP: reported, listed, escalated by their timers (`supervision` checks them
//! every second), fixed; agents affected alone moved to the incident's not-ready code and back;
//! deferred cases recorded during the incident and worked after recovery, the customer told by
//! the tenant's SMS hook. Every change is kept before it is announced, and audited.

use crate::auth::Signed;
use crate::supervision::{lock, now_ms, record_incident, Supervision};
use crate::{body, internal, kept_records, ApiError, AppState, KeptParams};
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::json;
use std::sync::{Arc, Mutex};
use wfm_intraday::incidents::{decide, DeferredCase, Incident, IncidentRules, Kind, Moved};
use wfm_model::AgentId;
use wfm_ops::kept::Kept;
use wfm_ops::Role;
use wfm_telephony::acd::{AcdError, AgentState};
use wfm_telephony::live::{Live, LiveError};

/// The longest description, request or outcome.
const MAX_TEXT: usize = 1000;

fn supervised(state: &AppState, tenant: &str) -> Result<(Arc<Mutex<Supervision>>, Arc<Live>), ApiError> {
    let none = || ApiError::status(StatusCode::NOT_FOUND, Some("tenant"), format!("tenant {tenant} has no ACD running: incidents are kept by its supervision"));
    let live = state.acd.as_ref().and_then(|acd| acd.live(tenant)).ok_or_else(none)?;
    Ok((state.supervisors.get(tenant).ok_or_else(none)?, live))
}

fn text(field: &'static str, value: &str, max: usize) -> Result<String, ApiError> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(ApiError::bad_request(field, format!("1 to {max} characters, no control characters")));
    }
    Ok(value.to_owned())
}

fn conflict(field: Option<&'static str>, message: impl ToString) -> ApiError {
    ApiError::status(StatusCode::CONFLICT, field, message)
}

/// An incident as the routes answer it: the record, whether it is open, how long it has lasted
/// and the standard phrase.
fn view(incident: &Incident, rules: &IncidentRules, now: i64) -> serde_json::Value {
    let mut body = serde_json::to_value(incident).unwrap_or_default();
    body["open"] = incident.fixed_ms.is_none().into();
    body["duration_s"] = ((incident.fixed_ms.unwrap_or(now) - incident.started_ms).max(0) / 1000).into();
    body["phrase"] = rules.phrase(incident.kind).into();
    body
}

fn rules_of(state: &AppState, tenant: &str) -> IncidentRules {
    state.supervisors.get(tenant).map(|s| lock(&s).incidents.rules().clone()).unwrap_or_default()
}

/// `GET /api/v1/tenants/{tenant}/incidents?state=open|all[&limit=N]`: newest first.
pub async fn list(State(state): State<AppState>, Path(tenant): Path<String>, params: Result<Query<KeptParams>, QueryRejection>) -> Result<Response, ApiError> {
    let incidents = parsed(&kept_records(&state, &tenant, Kept::Incident, params).await?)?;
    let (rules, now) = (rules_of(&state, &tenant), now_ms());
    Ok(Json(incidents.iter().map(|i| view(i, &rules, now)).collect::<Vec<_>>()).into_response())
}

fn parsed(records: &[String]) -> Result<Vec<Incident>, ApiError> {
    records.iter().map(|r| serde_json::from_str(r)).collect::<Result<_, _>>().map_err(internal)
}

/// The tenant's latest incidents, open and fixed, newest first; and the phrase agents say for
/// each kind: for the supervisor's page.
pub async fn latest(state: &AppState, tenant: &str, limit: u32) -> Result<(Vec<Incident>, IncidentRules), ApiError> {
    Ok((parsed(&state.db.kept(Kept::Incident, tenant, false, limit).await?)?, rules_of(state, tenant)))
}

/// An incident: the open one from the supervision, else as kept.
async fn find(state: &AppState, tenant: &str, id: &str) -> Result<Incident, ApiError> {
    if let Some(open) = state.supervisors.get(tenant).and_then(|s| lock(&s).incidents.get(id).cloned()) {
        return Ok(open);
    }
    let record = state.db.kept_one(Kept::Incident, tenant, id).await?.ok_or_else(|| ApiError::status(StatusCode::NOT_FOUND, Some("id"), format!("no incident {id}")))?;
    serde_json::from_str(&record).map_err(internal)
}

/// `GET /api/v1/tenants/{tenant}/incidents/{id}`: the incident and, while it is open, what each
/// affected agent does now (the decision matrix over every open incident affecting them and the
/// calls waiting in their queues).
pub async fn one(State(state): State<AppState>, Path((tenant, id)): Path<(String, String)>) -> Result<Response, ApiError> {
    let incident = find(&state, &tenant, &id).await?;
    let mut body = view(&incident, &rules_of(&state, &tenant), now_ms());
    if let (None, Ok((supervision, live))) = (incident.fixed_ms, supervised(&state, &tenant)) {
        let queues = live.queues();
        let agents: Vec<String> = if incident.affected.is_empty() { live.current_states().into_iter().map(|s| s.agent).collect() } else { incident.affected.clone() };
        let s = lock(&supervision);
        let decisions: Vec<serde_json::Value> = agents
            .iter()
            .map(|agent| {
                let mine = live.agent_queues(agent);
                let waiting: u64 = queues.iter().filter(|q| mine.contains(&q.queue)).map(|q| q.calls_waiting as u64).sum();
                let down = s.incidents.down_for(agent);
                let decision = decide(&down, waiting);
                json!({ "agent": agent, "down": down, "calls_waiting": waiting, "decision": decision.map(|d| d.0), "why": decision.map(|d| d.1) })
            })
            .collect();
        body["agents"] = decisions.into();
    }
    Ok(Json(body).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportRequest {
    kind: String,
    system: String,
    description: String,
    /// Agent ids; none: every agent.
    #[serde(default)]
    affected: Vec<String>,
    /// When the failure began (RFC 3339); now by default.
    started_at: Option<String>,
    /// The incident number; made from the time by default.
    number: Option<String>,
}

/// `POST /api/v1/tenants/{tenant}/incidents`: opens an incident (201); its timers run from when
/// the failure began.
pub async fn report(State(state): State<AppState>, Extension(signed): Extension<Signed>, Path(tenant): Path<String>, request: Result<Json<ReportRequest>, JsonRejection>) -> Result<Response, ApiError> {
    let r = body(request)?;
    let (supervision, live) = supervised(&state, &tenant)?;
    let kind = Kind::parse(&r.kind).map_err(|e| ApiError::bad_request("kind", e))?;
    let (system, description) = (text("system", &r.system, 200)?, text("description", &r.description, MAX_TEXT)?);
    let mut affected = Vec::new();
    for agent in &r.affected {
        let id = AgentId::parse(agent).map_err(|e| ApiError::bad_request("affected", e))?;
        if live.state(id.as_str()).is_none() {
            return Err(ApiError::bad_request("affected", format!("{id} is not an agent of the tenant's ACD")));
        }
        affected.push(id.to_string());
    }
    let now = now_ms();
    let started_ms = match &r.started_at {
        None => now,
        Some(at) => {
            let at = chrono::DateTime::parse_from_rfc3339(at).map_err(|e| ApiError::bad_request("started_at", format!("{at:?}: {e} (RFC 3339)")))?.timestamp_millis();
            if at > now + 60_000 {
                return Err(ApiError::bad_request("started_at", "in the future"));
            }
            at
        }
    };
    let number = match r.number {
        Some(n) if !n.is_empty() && n.len() <= 40 && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') => n,
        Some(n) => return Err(ApiError::bad_request("number", format!("{n:?}: 1 to 40 letters, digits, - and _"))),
        None => {
            let local = lock(&supervision).board.zone().local_time(chrono::DateTime::from_timestamp_millis(now).unwrap_or_default());
            format!("INC-{}", local.format("%Y%m%d-%H%M%S"))
        }
    };
    if state.db.kept_one(Kept::Incident, &tenant, &number).await?.is_some() {
        return Err(conflict(Some("number"), format!("incident {number} exists already")));
    }
    let incident = Incident {
        id: number,
        kind,
        system,
        description,
        reported_by: signed.actor(),
        started_ms,
        reported_ms: now,
        affected,
        fixed_ms: None,
        fixed_by: None,
        escalations: Vec::new(),
        moved: Vec::new(),
        cases: Vec::new(),
    };
    lock(&supervision).incidents.report(incident.clone());
    let kept = record_incident(&state.db, &tenant, &live, &supervision, "reported", incident.clone()).await;
    state.db.audit(&signed.audit(&tenant, "incident.report", &format!("incident/{}", incident.id), &format!("{} {}", kind.as_str(), incident.system))).await?;
    answer(&state, &tenant, if kept { StatusCode::CREATED } else { StatusCode::ACCEPTED }, &incident)
}

fn answer(state: &AppState, tenant: &str, status: StatusCode, incident: &Incident) -> Result<Response, ApiError> {
    Ok((status, Json(view(incident, &rules_of(state, tenant), now_ms()))).into_response())
}

/// Changes an incident by `f` (which may refuse), keeps and announces it as `change`, audits it.
async fn change(
    state: &AppState,
    signed: &Signed,
    tenant: &str,
    id: &str,
    change: &str,
    f: impl FnOnce(&mut Incident) -> Result<String, ApiError>,
) -> Result<Response, ApiError> {
    let (kept, incident) = change_kept(state, signed, tenant, id, change, f).await?;
    answer(state, tenant, if kept { StatusCode::OK } else { StatusCode::ACCEPTED }, &incident)
}

/// [`change`]'s work: the changed incident, and whether it is written yet (else it is on the
/// next retry, before it is announced).
async fn change_kept(
    state: &AppState,
    signed: &Signed,
    tenant: &str,
    id: &str,
    change: &str,
    f: impl FnOnce(&mut Incident) -> Result<String, ApiError>,
) -> Result<(bool, Incident), ApiError> {
    let (supervision, live) = supervised(state, tenant)?;
    let mut incident = find(state, tenant, id).await?;
    let detail = f(&mut incident)?;
    // An open incident's new record replaces the supervision's (a fixed one leaves it).
    let updated = incident.clone();
    lock(&supervision).incidents.change(id, move |i| *i = updated);
    let kept = record_incident(&state.db, tenant, &live, &supervision, change, incident.clone()).await;
    state.db.audit(&signed.audit(tenant, &format!("incident.{change}"), &format!("incident/{id}"), &detail)).await?;
    Ok((kept, incident))
}

fn must_be_open(incident: &Incident) -> Result<(), ApiError> {
    match incident.fixed_ms {
        None => Ok(()),
        Some(_) => Err(conflict(None, format!("incident {} is fixed", incident.id))),
    }
}

/// Sets an agent's state for an incident; errors as the agent-state route's.
fn set_state(live: &Live, agent: &str, wanted: AgentState) -> Result<(), ApiError> {
    live.request_state(agent, wanted).map(drop).map_err(|e| match e {
        LiveError::Acd(AcdError::UnknownAgent(_)) => ApiError::status(StatusCode::NOT_FOUND, Some("agent"), format!("unknown agent {agent}")),
        LiveError::Acd(other) => conflict(Some("agent"), other),
        journal @ LiveError::Journal(_) => ApiError::status(StatusCode::SERVICE_UNAVAILABLE, None, journal),
    })
}

/// `POST /api/v1/tenants/{tenant}/incidents/{id}/fixed`: closes it; agents still moved to it
/// who are in its not-ready code are made ready again.
pub async fn fixed(State(state): State<AppState>, Extension(signed): Extension<Signed>, Path((tenant, id)): Path<(String, String)>) -> Result<Response, ApiError> {
    let (kept, incident) = mark_fixed(&state, &signed, &tenant, &id).await?;
    answer(&state, &tenant, if kept { StatusCode::OK } else { StatusCode::ACCEPTED }, &incident)
}

/// Closes the open incident `id`, making its moved agents ready again: for the API and the
/// supervisor's page. The incident, and whether it is written yet.
pub async fn mark_fixed(state: &AppState, signed: &Signed, tenant: &str, id: &str) -> Result<(bool, Incident), ApiError> {
    let (_, live) = supervised(state, tenant)?;
    let incident = find(state, tenant, id).await?;
    must_be_open(&incident)?;
    let reason = rules_of(state, tenant).not_ready_reason;
    let mut back = Vec::new();
    for m in incident.moved.iter().filter(|m| m.back_ms.is_none()) {
        let still_moved = live.state(&m.agent) == Some(AgentState::NotReady { reason: reason.clone() });
        if still_moved && set_state(&live, &m.agent, AgentState::Ready).is_ok() {
            back.push(m.agent.clone());
        }
    }
    let (by, now) = (signed.actor(), now_ms());
    change_kept(state, signed, tenant, id, "fixed", |i| {
        i.fixed_ms = Some(now);
        i.fixed_by = Some(by);
        for m in i.moved.iter_mut().filter(|m| m.back_ms.is_none()) {
            m.back_ms = Some(now);
        }
        Ok(format!("fixed after {} s; made ready: {}", (now - i.started_ms) / 1000, back.join(", ")))
    })
    .await
}

/// `POST /api/v1/tenants/{tenant}/incidents/{id}/agents/{agent}/move`: an affected agent to the
/// incident's not-ready code.
pub async fn move_agent(State(state): State<AppState>, Extension(signed): Extension<Signed>, Path((tenant, id, agent)): Path<(String, String, String)>) -> Result<Response, ApiError> {
    let (_, live) = supervised(&state, &tenant)?;
    let incident = find(&state, &tenant, &id).await?;
    must_be_open(&incident)?;
    if !incident.affects(&agent) {
        return Err(conflict(Some("agent"), format!("{agent} is not affected by incident {id}")));
    }
    if incident.moved.iter().any(|m| m.agent == agent && m.back_ms.is_none()) {
        return Err(conflict(Some("agent"), format!("{agent} is moved to incident {id} already")));
    }
    let reason = rules_of(&state, &tenant).not_ready_reason;
    set_state(&live, &agent, AgentState::NotReady { reason: reason.clone() })?;
    let now = now_ms();
    change(&state, &signed, &tenant, &id, "agent_moved", |i| {
        i.moved.push(Moved { agent: agent.clone(), moved_ms: now, back_ms: None });
        Ok(format!("{agent} to not-ready {reason}"))
    })
    .await
}

/// `POST /api/v1/tenants/{tenant}/incidents/{id}/agents/{agent}/back`: a moved agent ready again.
pub async fn agent_back(State(state): State<AppState>, Extension(signed): Extension<Signed>, Path((tenant, id, agent)): Path<(String, String, String)>) -> Result<Response, ApiError> {
    let (_, live) = supervised(&state, &tenant)?;
    let incident = find(&state, &tenant, &id).await?;
    if !incident.moved.iter().any(|m| m.agent == agent && m.back_ms.is_none()) {
        return Err(conflict(Some("agent"), format!("{agent} is not moved to incident {id}")));
    }
    set_state(&live, &agent, AgentState::Ready)?;
    let now = now_ms();
    change(&state, &signed, &tenant, &id, "agent_back", |i| {
        for m in i.moved.iter_mut().filter(|m| m.agent == agent && m.back_ms.is_none()) {
            m.back_ms = Some(now);
        }
        Ok(format!("{agent} ready"))
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseRequest {
    customer_number: String,
    request: String,
}

/// `POST /api/v1/tenants/{tenant}/incidents/{id}/cases`: a request that needs the failed system,
/// recorded by the caller while the incident is open.
pub async fn record_case(State(state): State<AppState>, Extension(signed): Extension<Signed>, Path((tenant, id)): Path<(String, String)>, request: Result<Json<CaseRequest>, JsonRejection>) -> Result<Response, ApiError> {
    let r = body(request)?;
    let number = r.customer_number.trim();
    let digits = number.strip_prefix('+').unwrap_or(number);
    if !(3..=20).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::bad_request("customer_number", format!("{number:?}: 3 to 20 digits, + first if international")));
    }
    let (number, request) = (number.to_owned(), text("request", &r.request, MAX_TEXT)?);
    let (by, now) = (signed.actor(), now_ms());
    change(&state, &signed, &tenant, &id, "case_recorded", |i| {
        must_be_open(i).map_err(|_| conflict(None, format!("incident {} is fixed: work the request as usual", i.id)))?;
        let case = i.cases.len() as u32 + 1;
        i.cases.push(DeferredCase {
            id: case,
            customer_number: number,
            request,
            recorded_by: by,
            recorded_ms: now,
            assigned_to: None,
            done_ms: None,
            done_by: None,
            outcome: None,
            customer_told_ms: None,
            customer_told_error: None,
        });
        Ok(format!("case {case}"))
    })
    .await
}

fn case_of<'a>(incident: &'a mut Incident, case: &str) -> Result<&'a mut DeferredCase, ApiError> {
    let n: u32 = case.parse().map_err(|_| ApiError::bad_request("case", format!("{case:?} is not a case number")))?;
    let id = incident.id.clone();
    let case = incident.cases.iter_mut().find(|c| c.id == n).ok_or_else(|| ApiError::status(StatusCode::NOT_FOUND, Some("case"), format!("incident {id} has no case {n}")))?;
    if case.done_ms.is_some() {
        return Err(conflict(Some("case"), format!("case {n} is done")));
    }
    Ok(case)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    login: String,
}

/// `POST /api/v1/tenants/{tenant}/incidents/{id}/cases/{case}/assign`: who works it.
pub async fn assign_case(
    State(state): State<AppState>,
    Extension(signed): Extension<Signed>,
    Path((tenant, id, case)): Path<(String, String, String)>,
    request: Result<Json<AssignRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let login = body(request)?.login;
    if !state.db.users(Some(&tenant)).await?.iter().any(|u| u.login.as_str() == login) {
        return Err(ApiError::bad_request("login", format!("{login:?} is not a user of tenant {tenant}")));
    }
    change(&state, &signed, &tenant, &id, "case_assigned", |i| {
        let c = case_of(i, &case)?;
        c.assigned_to = Some(login.clone());
        Ok(format!("case {} to {login}", c.id))
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoneRequest {
    /// What the customer is told.
    outcome: String,
}

/// `POST /api/v1/tenants/{tenant}/incidents/{id}/cases/{case}/done`: worked after recovery (by
/// whom it is assigned to, or a supervisor or manager); the customer is told the outcome by the
/// SMS hook, whose answer is kept with the case.
pub async fn case_done(
    State(state): State<AppState>,
    Extension(signed): Extension<Signed>,
    Path((tenant, id, case)): Path<(String, String, String)>,
    request: Result<Json<DoneRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let outcome = text("outcome", &body(request)?.outcome, MAX_TEXT)?;
    let mut incident = find(&state, &tenant, &id).await?;
    if incident.fixed_ms.is_none() {
        return Err(conflict(None, format!("incident {id} is not fixed yet: deferred cases are worked after recovery")));
    }
    let c = case_of(&mut incident, &case)?;
    let login = signed.caller.user.login.to_string();
    if signed.caller.user.role == Role::Agent && c.assigned_to.as_deref() != Some(login.as_str()) {
        return Err(ApiError::status(StatusCode::FORBIDDEN, Some("case"), format!("case {} is not assigned to {login}", c.id)));
    }
    let (case_id, to) = (c.id, c.customer_number.clone());
    let told = match rules_of(&state, &tenant).sms {
        Some(sms) => crate::delivery::send_sms(&sms, &tenant, &id, case_id, &to, &outcome).await,
        None => Err("no [sms] hook in incidents.toml: tell the customer yourself".to_owned()),
    };
    let (by, now) = (signed.actor(), now_ms());
    change(&state, &signed, &tenant, &id, "case_done", |i| {
        let c = case_of(i, &case)?;
        c.done_ms = Some(now);
        c.done_by = Some(by);
        c.outcome = Some(outcome);
        match &told {
            Ok(()) => c.customer_told_ms = Some(now),
            Err(e) => c.customer_told_error = Some(e.clone()),
        }
        Ok(format!("case {case_id}; customer {}", if told.is_ok() { "told" } else { "not told" }))
    })
    .await
}
