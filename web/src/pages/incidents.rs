//! The supervisor's outage page (`/incidents`): the surge ladder's level, who is called in and
//! the timeline of its newest escalation (for those who may see it); the latest incidents with
//! their timers, moved agents and deferred cases, the phrase agents say, and **Fixed** for an
//! open one. The same functions as the API (`crate::escalation`, `crate::incidents`).

use super::PageContext;
use crate::auth::Signed;
use crate::i18n::Words;
use crate::supervision::lock;
use crate::{escalation, incidents, ApiError, AppState};
use askama::Template;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use chrono::DateTime;
use serde::Deserialize;
use wfm_model::TenantZone;
use wfm_ops::{now_ms, Permission};

/// The incidents shown.
const SHOWN: u32 = 20;

fn when(ms: i64, zone: TenantZone) -> String {
    DateTime::from_timestamp_millis(ms).map(|at| zone.local_time(at).format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_default()
}

fn optional(ms: Option<i64>, zone: TenantZone) -> String {
    ms.map_or_else(|| "–".to_owned(), |ms| when(ms, zone))
}

/// The ladder as the page shows it.
struct Ladder {
    /// `Level 2, since …` or `In control`.
    state: String,
    called: Vec<[String; 6]>,
    steps: Vec<[String; 5]>,
}

struct IncidentView {
    id: String,
    open: bool,
    /// Kind, system, description.
    what: String,
    phrase: String,
    /// Began, reported by, fixed, duration.
    times: String,
    affected: String,
    timers: Vec<String>,
    moved: Vec<String>,
    cases: Vec<[String; 5]>,
}

#[derive(Template)]
#[template(path = "incidents.html")]
struct IncidentsPage<'a> {
    t: &'a Words,
    notice: Option<String>,
    ladder: Option<Ladder>,
    incidents: Vec<IncidentView>,
    may_fix: bool,
    csrf: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentsQuery {
    tenant: Option<String>,
    /// An incident just marked fixed.
    fixed: Option<String>,
}

async fn ladder(state: &AppState, tenant: &str, zone: TenantZone, t: &Words) -> Result<Ladder, ApiError> {
    let now = state.supervisors.get(tenant).map(|s| {
        let s = lock(&s);
        (s.ladder.level(), s.ladder.episode(), s.ladder.called_in().cloned().collect::<Vec<_>>())
    });
    let (level, since, called) = now.unwrap_or((0, None, vec![]));
    let state_text = match (level, since) {
        (0, _) => t.get("inc-in-control"),
        (level, Some(since)) => t.with("inc-level-since", &[("level", &level.to_string()), ("since", &when(since, zone))]),
        (level, None) => t.with("inc-level-since", &[("level", &level.to_string()), ("since", "–")]),
    };
    let called = called
        .iter()
        .map(|c| [c.login.clone(), c.level.to_string(), when(c.called_ms, zone), when(c.due_ms, zone), optional(c.confirmed_ms, zone), if c.overdue { t.get("inc-overdue") } else { optional(c.arrived_ms, zone) }])
        .collect();
    let steps = escalation::timeline(state, tenant, None).await?.into_iter().map(|s| [when(s.at_ms, zone), s.level.to_string(), s.event, s.detail, s.who.join(", ")]).collect();
    Ok(Ladder { state: state_text, called, steps })
}

/// `GET /incidents`.
pub async fn incidents_page(State(state): State<AppState>, Extension(signed): Extension<Signed>, headers: HeaderMap, uri: Uri, query: Result<Query<IncidentsQuery>, QueryRejection>) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request("query", e.body_text()))?;
    let page = PageContext::new(&state, signed, &headers, &uri, query.tenant.as_deref()).await?;
    let t = &page.t;
    let tenant = page.tenant()?.id.as_str().to_owned();
    let zone = page.zone();
    let ladder = if page.may(Permission::ViewEscalation) { Some(ladder(&state, &tenant, zone, t).await?) } else { None };
    let (latest, rules) = incidents::latest(&state, &tenant, SHOWN).await?;
    let now = now_ms();
    let mut views: Vec<IncidentView> = latest
        .iter()
        .map(|i| {
            let fixed = match (&i.fixed_by, i.fixed_ms) {
                (Some(by), Some(at)) => t.with("inc-fixed-by", &[("by", by), ("at", &when(at, zone))]),
                _ => t.get("inc-open"),
            };
            let minutes = ((i.fixed_ms.unwrap_or(now) - i.started_ms).max(0) / 60_000).to_string();
            IncidentView {
                id: i.id.clone(),
                open: i.fixed_ms.is_none(),
                what: format!("{} · {} · {}", i.kind.as_str(), i.system, i.description),
                phrase: rules.phrase(i.kind).to_owned(),
                times: t.with("inc-times", &[("began", &when(i.started_ms, zone)), ("by", &i.reported_by), ("fixed", &fixed), ("minutes", &minutes)]),
                affected: if i.affected.is_empty() { t.get("inc-everyone") } else { i.affected.join(", ") },
                timers: i.escalations.iter().map(|e| format!("{} → {}", when(e.at_ms, zone), e.tell.join(", "))).collect(),
                moved: i.moved.iter().map(|m| format!("{} {}–{}", m.agent, when(m.moved_ms, zone), optional(m.back_ms, zone))).collect(),
                cases: i
                    .cases
                    .iter()
                    .map(|c| {
                        let done = match (c.done_ms, &c.done_by) {
                            (Some(at), Some(by)) => format!("{} ({by})", when(at, zone)),
                            _ => "–".to_owned(),
                        };
                        let told = match (c.customer_told_ms, &c.customer_told_error) {
                            (Some(at), _) => when(at, zone),
                            (None, Some(error)) => error.clone(),
                            (None, None) => "–".to_owned(),
                        };
                        [format!("{} · {}", c.id, c.customer_number), c.request.clone(), c.assigned_to.clone().unwrap_or_else(|| "–".to_owned()), done, told]
                    })
                    .collect(),
            }
        })
        .collect();
    // Open incidents first; each group newest first, as kept.
    views.sort_by_key(|v| !v.open);
    let notice = query.fixed.map(|id| t.with("inc-fixed-notice", &[("id", &id)]));
    let body = IncidentsPage { t, notice, ladder, incidents: views, may_fix: page.may(Permission::ManageIncidents), csrf: page.csrf() };
    page.render(&t.get("incidents-title"), &body)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixedForm {
    csrf: Option<String>,
}

/// `POST /incidents/{id}/fixed`: closes the incident; its moved agents are made ready again.
pub async fn incident_fixed(State(state): State<AppState>, Extension(signed): Extension<Signed>, headers: HeaderMap, uri: Uri, Path(id): Path<String>, form: Result<Form<FixedForm>, FormRejection>) -> Result<Response, ApiError> {
    let Form(form) = form.map_err(|e| ApiError::bad_request("body", e.body_text()))?;
    let _ = form.csrf;
    let page = PageContext::new(&state, signed, &headers, &uri, None).await?;
    let tenant = page.tenant()?.id.as_str().to_owned();
    incidents::mark_fixed(&state, &page.signed, &tenant, &id).await?;
    Ok(Redirect::to(&format!("/incidents?fixed={}", super::encode(&id))).into_response())
}
