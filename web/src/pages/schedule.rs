//! The agent's own schedule: the newest published roster's activities of their agent id, from
//! Monday of this week for a few weeks, in the tenant's zone; and their adherence today, as the
//! live board judges it.

use super::PageContext;
use crate::auth::Signed;
use crate::i18n::Words;
use crate::supervision::lock;
use crate::{internal, ApiError, AppState};
use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use axum::Extension;
use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, Utc};
use serde::Deserialize;
use wfm_model::{AgentId, TenantZone};
use wfm_ops::now_ms;
use wfm_scheduler::roster::{Activity, Roster};

/// Weeks shown by default, and at most.
const DEFAULT_WEEKS: u32 = 3;
const MAX_WEEKS: u32 = 8;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleQuery {
    weeks: Option<u32>,
}

/// One date of the schedule.
struct Day {
    date: String,
    today: bool,
    /// `09:00–17:30`, empty without a shift.
    shift: String,
    /// `09:00–11:00 work`, …; or `leave`, `day off`.
    activities: Vec<String>,
}

/// The agent's state and figures now.
struct Adherence {
    now: String,
    in_adherence: bool,
    verdict: String,
    share: String,
    late_s: i64,
}

#[derive(Template)]
#[template(path = "schedule.html")]
struct SchedulePage<'a> {
    t: &'a Words,
    notice: Option<String>,
    version: Option<String>,
    weeks: u32,
    days: Vec<Day>,
    adherence: Result<Adherence, String>,
}

/// `GET /my/schedule?weeks=N`.
pub async fn my_schedule(State(state): State<AppState>, Extension(signed): Extension<Signed>, headers: HeaderMap, uri: Uri, query: Result<Query<ScheduleQuery>, QueryRejection>) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request("query", e.body_text()))?;
    let weeks = query.weeks.unwrap_or(DEFAULT_WEEKS);
    if !(1..=MAX_WEEKS).contains(&weeks) {
        return Err(ApiError::bad_request("weeks", format!("{weeks} is not between 1 and {MAX_WEEKS}")));
    }
    let page = PageContext::new(&state, signed, &headers, &uri, None).await?;
    let t = &page.t;
    let title = t.get("schedule-title");
    let Some(agent) = page.signed.caller.user.agent_id.clone() else {
        let body = SchedulePage { t, notice: Some(t.get("schedule-no-agent")), version: None, weeks, days: vec![], adherence: Err(String::new()) };
        return page.render(&title, &body);
    };
    let tenant = page.tenant()?;
    let zone = page.zone();
    let today = zone.local_date(Utc::now());
    let monday = today - Duration::days(today.weekday().num_days_from_monday().into());
    let dates: Vec<NaiveDate> = (0..7 * i64::from(weeks)).map(|d| monday + Duration::days(d)).collect();
    let (version, days) = match state.db.roster(tenant.id.as_str(), None).await? {
        None => (None, vec![]),
        Some((version, text)) => {
            let roster = Roster::read_csv(&format!("published roster version {}", version.version), text.as_bytes()).map_err(internal)?;
            let published = DateTime::from_timestamp_millis(version.published_ms).map(|at| zone.local_time(at).format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default();
            let about = t.with("schedule-version", &[("version", &version.version.to_string()), ("by", &version.published_by), ("at", &published)]);
            (Some(about), schedule_days(&roster, &agent, &dates, today, zone, t))
        }
    };
    let notice = days.iter().all(|d| d.activities.is_empty()).then(|| t.get("schedule-none"));
    let adherence = adherence_now(&state, tenant.id.as_str(), &agent, t);
    page.render(&title, &SchedulePage { t, notice, version, weeks, days, adherence })
}

/// The agent's rows of `dates`, one [`Day`] each.
fn schedule_days(roster: &Roster, agent: &AgentId, dates: &[NaiveDate], today: NaiveDate, zone: TenantZone, t: &Words) -> Vec<Day> {
    let mut mine: Vec<&Activity> = roster.activities.iter().filter(|a| &a.agent_id == agent).collect();
    mine.sort_by_key(|a| a.start);
    dates
        .iter()
        .map(|&date| {
            let of_day: Vec<&&Activity> = mine.iter().filter(|a| a.date == date).collect();
            let on_shift: Vec<&&Activity> = of_day.iter().copied().filter(|a| a.kind.on_shift()).collect();
            let shift = match (on_shift.first(), on_shift.iter().map(|a| a.end).max()) {
                (Some(first), Some(end)) => format!("{}–{}", clock(first.start, date, zone), clock(end, date, zone)),
                _ => String::new(),
            };
            let activities = of_day
                .iter()
                .map(|a| {
                    let kind = t.get(&format!("activity-{}", a.kind.as_str()));
                    if a.kind.on_shift() { format!("{}–{} {kind}", clock(a.start, date, zone), clock(a.end, date, zone)) } else { kind }
                })
                .collect();
            Day { date: format!("{} {}", date.format("%Y-%m-%d"), t.weekday(date.weekday())), today: date == today, shift, activities }
        })
        .collect()
}

/// `HH:MM` in the tenant's zone, with `(+1)` when that is after the row's date (a night shift).
fn clock(t: DateTime<FixedOffset>, date: NaiveDate, zone: TenantZone) -> String {
    let local = zone.local_time(t.with_timezone(&Utc));
    let days_later = (local.date() - date).num_days();
    match days_later {
        0 => local.format("%H:%M").to_string(),
        n => format!("{} ({n:+})", local.format("%H:%M")),
    }
}

/// The agent's live status, or why there is none.
fn adherence_now(state: &AppState, tenant: &str, agent: &AgentId, t: &Words) -> Result<Adherence, String> {
    let supervision = state.supervisors.get(tenant).ok_or_else(|| t.get("adherence-unavailable"))?;
    let status = lock(&supervision).board.agent_status(agent, now_ms()).ok_or_else(|| t.get("adherence-not-tracked"))?;
    let activity = t.get(&format!("activity-{}", status.scheduled_activity));
    Ok(Adherence {
        now: t.with("adherence-now", &[("activity", &activity), ("state", &t.state(&status.state))]),
        in_adherence: status.in_adherence,
        verdict: t.get(if status.in_adherence { "adherence-in" } else { "adherence-out" }),
        share: status.today.adherence.map_or_else(|| "–".to_owned(), |a| format!("{:.1} %", a * 100.0)),
        late_s: status.today.late_s,
    })
}
