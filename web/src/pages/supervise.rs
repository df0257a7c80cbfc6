//! The supervisor's actions on a page (`/supervise`): the open alarms to acknowledge, the agent
//! grid as the live board judges it (out of adherence first, the longest out at the top) with a
//! form per agent to force ready, not ready or logged out, and excusing a span of an agent's
//! time. The same functions as the API (`crate::alarms`, `crate::live`, `crate::adherence`).

use super::PageContext;
use crate::auth::Signed;
use crate::i18n::Words;
use crate::supervision::lock;
use crate::{adherence, alarms, live, ApiError, AppState};
use askama::Template;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::Deserialize;
use wfm_intraday::live::AgentStatus;
use wfm_model::{AgentId, TenantZone};
use wfm_ops::{now_ms, Permission};

/// The `datetime-local` inputs' format.
const LOCAL_MINUTE: &str = "%Y-%m-%dT%H:%M";

/// An open alarm as a row.
struct AlarmRow {
    id: String,
    level: u8,
    raised: String,
    message: String,
    /// Who took it on and when; empty while nobody has.
    taken: String,
}

/// An agent as a row of the grid.
struct AgentRow {
    id: String,
    state: String,
    in_state: String,
    scheduled: String,
    in_adherence: bool,
    /// `out of adherence since 09:12`.
    adherence_now: String,
    today: String,
}

#[derive(Template)]
#[template(path = "supervise.html")]
struct SupervisePage<'a> {
    t: &'a Words,
    notice: Option<String>,
    about: String,
    alarms: Vec<AlarmRow>,
    agents: Vec<AgentRow>,
    /// Why there is no grid (no ACD for this tenant), instead of it.
    unavailable: Option<String>,
    may_ack: bool,
    may_force: bool,
    may_excuse: bool,
    excuse_start: String,
    excuse_end: String,
    csrf: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuperviseQuery {
    tenant: Option<String>,
    /// What the last form did: `state`, `ack` or `excuse`.
    done: Option<String>,
    agent: Option<String>,
}

fn hms(ms: i64, zone: TenantZone) -> String {
    DateTime::from_timestamp_millis(ms).map(|at| zone.local_time(at).format("%H:%M:%S").to_string()).unwrap_or_default()
}

/// `1:05:09`, `4:09`: a duration of seconds as a wall clock shows it.
fn duration(seconds: i64) -> String {
    let s = seconds.max(0);
    match s / 3600 {
        0 => format!("{}:{:02}", s / 60, s % 60),
        h => format!("{h}:{:02}:{:02}", s / 60 % 60, s % 60),
    }
}

fn since_ms(text: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(text).ok().map(|t| t.timestamp_millis())
}

fn agent_row(s: &AgentStatus, now: i64, zone: TenantZone, t: &Words) -> AgentRow {
    let since = |text: &str| since_ms(text).map_or_else(String::new, |ms| hms(ms, zone));
    let mut scheduled = t.get(&format!("activity-{}", s.scheduled_activity));
    if let (Some(next), Some(start)) = (s.next_activity, s.next_start.as_deref()) {
        let at = since_ms(start).map_or_else(String::new, |ms| hms(ms, zone)[..5].to_owned());
        scheduled = t.with("sv-next", &[("now", &scheduled), ("next", &t.get(&format!("activity-{next}"))), ("at", &at)]);
    }
    AgentRow {
        id: s.agent_id.to_string(),
        state: t.state(&s.state),
        in_state: since_ms(&s.state_since).map_or_else(String::new, |ms| duration((now - ms) / 1000)),
        scheduled,
        in_adherence: s.in_adherence,
        adherence_now: t.with(if s.in_adherence { "sv-in-since" } else { "sv-out-since" }, &[("at", &since(&s.in_adherence_since))]),
        today: s.today.adherence.map_or_else(|| "–".to_owned(), |a| format!("{:.1} %", a * 100.0)),
    }
}

/// Out of adherence first, the longest out at the top; then by agent.
fn grid_order(statuses: &mut [AgentStatus]) {
    statuses.sort_by_key(|s| (s.in_adherence, if s.in_adherence { 0 } else { since_ms(&s.in_adherence_since).unwrap_or(0) }, s.agent_id.clone()));
}

/// `GET /supervise`.
pub async fn supervise(State(state): State<AppState>, Extension(signed): Extension<Signed>, headers: HeaderMap, uri: Uri, query: Result<Query<SuperviseQuery>, QueryRejection>) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request("query", e.body_text()))?;
    let page = PageContext::new(&state, signed, &headers, &uri, query.tenant.as_deref()).await?;
    let t = &page.t;
    let tenant = page.tenant()?.id.as_str().to_owned();
    let zone = page.zone();
    let now = now_ms();
    let alarms = alarms::open_alarms(&state, &tenant)
        .await?
        .into_iter()
        .map(|a| AlarmRow {
            taken: match (&a.acknowledged_by, a.acknowledged_ms) {
                (Some(by), Some(at)) => format!("{by} {}", hms(at, zone)),
                _ => String::new(),
            },
            raised: hms(a.raised_ms, zone),
            id: a.id,
            level: a.level,
            message: a.message,
        })
        .collect();
    let (version, agents, unavailable) = match state.supervisors.get(&tenant) {
        None => (None, vec![], Some(t.get("adherence-unavailable"))),
        Some(supervision) => {
            let (version, mut statuses) = {
                let s = lock(&supervision);
                (s.board.roster_version(), s.board.statuses(now))
            };
            grid_order(&mut statuses);
            (version, statuses.iter().map(|s| agent_row(s, now, zone, t)).collect(), None)
        }
    };
    let about = match version {
        Some(v) => t.with("sv-about", &[("version", &v.to_string()), ("at", &hms(now, zone))]),
        None => t.with("sv-about-no-roster", &[("at", &hms(now, zone))]),
    };
    let notice = match (query.done.as_deref(), query.agent.as_deref()) {
        (Some("state"), Some(agent)) => Some(t.with("sv-done-state", &[("agent", agent)])),
        (Some("ack"), _) => Some(t.get("sv-done-ack")),
        (Some("excuse"), Some(agent)) => Some(t.with("sv-done-excuse", &[("agent", agent)])),
        _ => None,
    };
    let local = |ms: i64| DateTime::from_timestamp_millis(ms).map(|at| zone.local_time(at).format(LOCAL_MINUTE).to_string()).unwrap_or_default();
    let body = SupervisePage {
        t,
        notice,
        about,
        alarms,
        agents,
        unavailable,
        may_ack: page.may(Permission::AckAlarm),
        may_force: page.may(Permission::SetAgentState),
        may_excuse: page.may(Permission::ExcuseAdherence),
        excuse_start: local(now - 30 * 60_000),
        excuse_end: local(now),
        csrf: page.csrf(),
    };
    page.render(&t.get("supervise-title"), &body)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateForm {
    csrf: Option<String>,
    /// `ready`, `not-ready` or `logged-out`.
    state: String,
    reason: Option<String>,
}

/// `POST /supervise/agents/{agent}/state`: forces the agent's state; back to the grid.
pub async fn supervise_state(State(state): State<AppState>, Extension(signed): Extension<Signed>, headers: HeaderMap, uri: Uri, Path(agent): Path<String>, form: Result<Form<StateForm>, FormRejection>) -> Result<Response, ApiError> {
    let Form(form) = form.map_err(|e| ApiError::bad_request("body", e.body_text()))?;
    let _ = form.csrf;
    let page = PageContext::new(&state, signed, &headers, &uri, None).await?;
    let tenant = page.tenant()?.id.as_str().to_owned();
    // One form carries the reason field for every button: only not-ready reads it.
    let reason = (form.state == "not-ready").then(|| form.reason.as_deref().unwrap_or_default());
    live::change_state(&state, &page.signed, &tenant, &agent, &form.state, reason).await?;
    Ok(Redirect::to(&format!("/supervise?done=state&agent={agent}")).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AckForm {
    csrf: Option<String>,
}

/// `POST /supervise/alarms/{id}/ack`: the caller takes the alarm on; back to the grid.
pub async fn supervise_ack(State(state): State<AppState>, Extension(signed): Extension<Signed>, headers: HeaderMap, uri: Uri, Path(id): Path<String>, form: Result<Form<AckForm>, FormRejection>) -> Result<Response, ApiError> {
    let Form(form) = form.map_err(|e| ApiError::bad_request("body", e.body_text()))?;
    let _ = form.csrf;
    let page = PageContext::new(&state, signed, &headers, &uri, None).await?;
    let tenant = page.tenant()?.id.as_str().to_owned();
    alarms::take_on(&state, &page.signed, &tenant, &id).await?;
    Ok(Redirect::to("/supervise?done=ack").into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExcuseForm {
    csrf: Option<String>,
    agent: String,
    /// Local date and time, `YYYY-MM-DDTHH:MM` (a `datetime-local` input).
    start: String,
    end: String,
    reason: String,
}

/// A `datetime-local` value in the tenant's zone, as an instant (ms). A local time skipped by a
/// clock change is refused; one repeated is read as its first occurrence.
fn local_instant(field: &'static str, text: &str, zone: TenantZone) -> Result<i64, ApiError> {
    let wrong = || ApiError::bad_request(field, format!("{text:?} is not a local date and time YYYY-MM-DDTHH:MM"));
    let local = NaiveDateTime::parse_from_str(text.trim(), LOCAL_MINUTE).map_err(|_| wrong())?;
    let at = zone.tz().from_local_datetime(&local).earliest().ok_or_else(|| ApiError::bad_request(field, format!("{text} does not exist in {zone} (the clocks changed)")))?;
    Ok(at.with_timezone(&Utc).timestamp_millis())
}

/// `POST /supervise/excusals`: excuses a span of the agent's time at once; back to the grid.
pub async fn supervise_excuse(State(state): State<AppState>, Extension(signed): Extension<Signed>, headers: HeaderMap, uri: Uri, form: Result<Form<ExcuseForm>, FormRejection>) -> Result<Response, ApiError> {
    let Form(form) = form.map_err(|e| ApiError::bad_request("body", e.body_text()))?;
    let _ = form.csrf;
    let page = PageContext::new(&state, signed, &headers, &uri, None).await?;
    let tenant = page.tenant()?.id.as_str().to_owned();
    let zone = page.zone();
    let agent = AgentId::parse(&form.agent).map_err(|e| ApiError::bad_request("agent", e))?;
    let span = (local_instant("start", &form.start, zone)?, local_instant("end", &form.end, zone)?);
    adherence::excuse_span(&state, &page.signed, &tenant, &agent, span, (&form.start, &form.end), &form.reason).await?;
    Ok(Redirect::to(&format!("/supervise?done=excuse&agent={agent}")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_a_clock() {
        assert_eq!(duration(0), "0:00");
        assert_eq!(duration(249), "4:09");
        assert_eq!(duration(3909), "1:05:09");
        assert_eq!(duration(-5), "0:00");
    }

    #[test]
    fn local_times_are_read_in_the_tenant_zone() {
        let warsaw = TenantZone::parse("Europe/Warsaw").unwrap();
        assert_eq!(local_instant("start", "2026-03-02T09:00", warsaw).unwrap(), DateTime::parse_from_rfc3339("2026-03-02T08:00:00Z").unwrap().timestamp_millis());
        assert_eq!(local_instant("start", "2026-03-29T02:30", warsaw).unwrap_err().field, Some("start"), "skipped by the spring change");
        assert_eq!(local_instant("end", "9:00", warsaw).unwrap_err().field, Some("end"));
    }
}
