//! The supervisor's wallboard: the queues now (calls waiting, longest and expected wait, agents
//! per state), service level over the live window and today, and the agent grid with adherence.
//! The page is a frame; its script reads the API the figures come from (`/kpis/live`,
//! `/adherence/live`, `/stats`) each second and at once on every event of `/events`.

use super::PageContext;
use crate::auth::Signed;
use crate::{internal, ApiError, AppState};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use axum::Extension;
use chrono::{Duration, Utc};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WallboardQuery {
    tenant: Option<String>,
    /// `1`: the wall-screen mode (large type, no navigation).
    wall: Option<u8>,
}

#[derive(Template)]
#[template(path = "wallboard.html")]
struct WallboardPage<'a> {
    t: &'a crate::i18n::Words,
    tenant: &'a str,
    today: String,
    tomorrow: String,
    wall: bool,
    wall_link: String,
    /// The words the script writes, as JSON.
    words: String,
}

/// The messages the script shows, in the page's language.
const SCRIPT_WORDS: [&str; 13] = ["wb-updated", "wb-stale", "wb-total", "wb-in", "wb-out", "wb-none", "activity-work", "activity-break", "activity-meal", "activity-training", "activity-leave", "activity-day-off", "activity-outside_shift"];
const STATES: [&str; 5] = ["ready", "ringing", "on_call", "wrap_up", "logged_out"];

/// `GET /wallboard` (`?wall=1` for a wall screen).
pub async fn wallboard(State(state): State<AppState>, Extension(signed): Extension<Signed>, headers: HeaderMap, uri: Uri, query: Result<Query<WallboardQuery>, axum::extract::rejection::QueryRejection>) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request("query", e.body_text()))?;
    let page = PageContext::new(&state, signed, &headers, &uri, q.tenant.as_deref()).await?;
    let tenant = page.tenant()?;
    let t = &page.t;
    let today = page.zone().local_date(Utc::now());
    let mut words: serde_json::Map<String, serde_json::Value> = SCRIPT_WORDS.iter().map(|key| ((*key).to_owned(), t.get(key).into())).collect();
    for state in STATES {
        words.insert(format!("state-{state}"), t.state(state).into());
    }
    words.insert("state-not_ready".into(), t.state("not_ready:{reason}").into());
    // A `</script>` inside the JSON would end the script element.
    let words = serde_json::to_string(&words).map_err(internal)?.replace('<', "\\u003c");
    let wall = q.wall == Some(1);
    let tenant_param = q.tenant.as_ref().map(|t| format!("tenant={t}&")).unwrap_or_default();
    let body = WallboardPage {
        t,
        tenant: tenant.id.as_str(),
        today: today.to_string(),
        tomorrow: (today + Duration::days(1)).to_string(),
        wall,
        wall_link: if wall { format!("/wallboard?{}", tenant_param.trim_end_matches('&')) } else { format!("/wallboard?{tenant_param}wall=1") },
        words,
    };
    page.render(&t.get("wallboard-title"), &body)
}
