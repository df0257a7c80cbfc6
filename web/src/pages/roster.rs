//! The planner's roster page (`/roster`): the published versions (who, when, which days), one
//! version's week as a Gantt of agents × days, its report against the tenant's requirement
//! (the same [`wfm_planning::report`] as `wfm schedule` and `wfm check-roster`: coverage,
//! projected service level, hard-rule violations), its CSV, and for planners an upload that
//! publishes a roster file as the next version (the API's own `publish_roster`).

use super::PageContext;
use crate::adherence::publish_roster;
use crate::auth::Signed;
use crate::i18n::Words;
use crate::multipart;
use crate::requests::TenantFiles;
use crate::{internal, ApiError, AppState};
use askama::Template;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use wfm_model::{AgentId, TenantZone};
use wfm_scheduler::changes::{edit_day, DayEdit, Edit};
use wfm_scheduler::rules::ClockTime;
use wfm_ops::Permission;
use wfm_planning::report::{CoverageRow, Judged, Report, Requirement};
use wfm_scheduler::demand::Column;
use wfm_scheduler::roster::{Activity, Roster};

/// Versions listed, newest first.
const VERSIONS_SHOWN: usize = 20;
/// Violations and short intervals listed.
const LISTED: usize = 30;
/// The projected service level's threshold unless the query names one.
const DEFAULT_THRESHOLD_S: f64 = 20.0;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RosterQuery {
    tenant: Option<String>,
    version: Option<i64>,
    /// Any date of the week shown (`YYYY-MM-DD`).
    week: Option<String>,
    threshold_s: Option<f64>,
    /// A version just published.
    published: Option<i64>,
    /// A planner's edit to check: an agent's day as a shift `edit_start`–`edit_end`, or a day
    /// off when both are empty.
    edit_agent: Option<String>,
    edit_date: Option<String>,
    edit_start: Option<String>,
    edit_end: Option<String>,
}

struct VersionRow {
    version: i64,
    by: String,
    at: String,
    dates: String,
    activities: i64,
    chosen: bool,
}

/// An activity as a bar over a day of 1 440 minutes (local time).
struct Bar {
    x: i64,
    width: i64,
    kind: &'static str,
}

struct Cell {
    /// `08:00–16:30`, `leave`, `day off` or empty.
    text: String,
    /// Each activity with its times, for the tooltip.
    title: String,
    bars: Vec<Bar>,
}

struct AgentRow {
    agent: String,
    cells: Vec<Cell>,
}

pub(super) struct ReportView {
    /// Figures of the week: name, value.
    pub(super) figures: Vec<(String, String)>,
    /// Per day: date, required agent-hours, scheduled, under-staffed agent-intervals.
    pub(super) days: Vec<[String; 4]>,
    /// The intervals the skills leave shortest: start, required, scheduled, served, SL.
    pub(super) short: Vec<[String; 5]>,
    pub(super) violations: Vec<String>,
}

#[derive(Template)]
#[template(path = "roster.html")]
struct RosterPage<'a> {
    t: &'a Words,
    notice: Option<String>,
    versions: Vec<VersionRow>,
    may_publish: bool,
    csrf: String,
    /// The version shown, and its week.
    shown: Option<i64>,
    heading: String,
    week: String,
    previous_week: String,
    next_week: String,
    days: Vec<String>,
    agents: Vec<AgentRow>,
    /// Per day: agents on shift, paid hours.
    totals: Vec<(usize, String)>,
    threshold_s: f64,
    report: Result<ReportView, String>,
    /// The week's dates, for the edit form.
    week_dates: Vec<String>,
    edit: Option<EditView>,
}

/// An edit checked before it is published.
struct EditView {
    agent: String,
    date: String,
    start: String,
    end: String,
    /// The day as edited.
    day: String,
    valid: bool,
    problems: Vec<String>,
    /// Intervals newly short: local start, required, at work.
    short: Vec<String>,
    base_version: i64,
}

fn local(ms: i64, zone: TenantZone) -> String {
    DateTime::from_timestamp_millis(ms).map(|at| zone.local_time(at).format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()
}

fn monday_of(date: NaiveDate) -> NaiveDate {
    date - Duration::days(date.weekday().num_days_from_monday().into())
}

/// `GET /roster`.
pub async fn roster_page(State(state): State<AppState>, Extension(signed): Extension<Signed>, headers: HeaderMap, uri: Uri, query: Result<Query<RosterQuery>, QueryRejection>) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request("query", e.body_text()))?;
    let threshold_s = query.threshold_s.unwrap_or(DEFAULT_THRESHOLD_S);
    if !(threshold_s.is_finite() && threshold_s >= 0.0) {
        return Err(ApiError::bad_request("threshold_s", format!("{threshold_s} is not a number of seconds ≥ 0")));
    }
    let week = query.week.as_deref().map(|w| NaiveDate::parse_from_str(w, "%Y-%m-%d").map_err(|_| ApiError::bad_request("week", format!("{w:?} is not a date YYYY-MM-DD")))).transpose()?;
    let page = PageContext::new(&state, signed, &headers, &uri, query.tenant.as_deref()).await?;
    let t = &page.t;
    let tenant = page.tenant()?.id.as_str().to_owned();
    let zone = page.zone();
    let listed = state.db.roster_versions(&tenant).await?;
    let published = match query.version {
        Some(v) => Some(state.db.roster(&tenant, Some(v)).await?.ok_or_else(|| ApiError::status(StatusCode::NOT_FOUND, Some("version"), format!("no roster version {v}")))?),
        None => state.db.roster(&tenant, None).await?,
    };
    let shown = published.as_ref().map(|(v, _)| v.version);
    let versions = listed
        .iter()
        .take(VERSIONS_SHOWN)
        .map(|v| VersionRow { version: v.version, by: v.published_by.clone(), at: local(v.published_ms, zone), dates: format!("{} – {}", v.first_date, v.last_date), activities: v.activities, chosen: Some(v.version) == shown })
        .collect();
    let today = zone.local_date(Utc::now());
    let roster = published.as_ref().map(|(v, text)| Roster::read_csv(&format!("published roster version {}", v.version), text.as_bytes()).map_err(internal)).transpose()?;
    // This week, unless the version has nothing in it: then its first week.
    let monday = match (week, &roster) {
        (Some(date), _) => monday_of(date),
        (None, Some(r)) if !r.activities.iter().any(|a| monday_of(a.date) == monday_of(today)) => r.activities.iter().map(|a| monday_of(a.date)).min().unwrap_or(monday_of(today)),
        _ => monday_of(today),
    };
    let dates: Vec<NaiveDate> = (0..7).map(|d| monday + Duration::days(d)).collect();
    let (agents, totals) = roster.as_ref().map(|r| gantt(r, &dates, zone, t)).unwrap_or_default();
    let report = match &roster {
        None => Err(t.get("roster-none")),
        Some(r) => week_report(&state, &tenant, r, monday, threshold_s, zone, t),
    };
    let notice = query.published.map(|v| t.with("roster-published-notice", &[("version", &v.to_string())]));
    let edit = match (&query.edit_agent, &query.edit_date, &roster, shown) {
        (Some(agent), Some(date), Some(roster), Some(base_version)) if page.may(Permission::PublishRoster) => {
            let ask = EditAsk::parse(agent, date, query.edit_start.as_deref().unwrap_or_default(), query.edit_end.as_deref().unwrap_or_default())?;
            let edit = judge_edit(&state, &tenant, roster, &ask, zone)?;
            Some(edit_view(&ask, &edit, base_version, zone, t))
        }
        _ => None,
    };
    let body = RosterPage {
        t,
        notice,
        versions,
        may_publish: page.may(Permission::PublishRoster),
        csrf: page.csrf(),
        shown,
        heading: t.with("roster-week-of", &[("version", &shown.unwrap_or_default().to_string()), ("week", &monday.to_string())]),
        week: monday.to_string(),
        previous_week: (monday - Duration::days(7)).to_string(),
        next_week: (monday + Duration::days(7)).to_string(),
        days: dates.iter().map(|d| format!("{} {}", t.weekday(d.weekday()), d.format("%d.%m"))).collect(),
        agents,
        totals,
        threshold_s,
        report,
        week_dates: dates.iter().map(NaiveDate::to_string).collect(),
        edit,
    };
    page.render(&t.get("roster-title"), &body)
}

/// The week's rows: one per agent with any row that week; and per day, agents on shift and paid hours.
fn gantt(roster: &Roster, dates: &[NaiveDate], zone: TenantZone, t: &Words) -> (Vec<AgentRow>, Vec<(usize, String)>) {
    let mut by_agent: BTreeMap<&str, BTreeMap<NaiveDate, Vec<&Activity>>> = BTreeMap::new();
    for a in roster.activities.iter().filter(|a| dates.contains(&a.date)) {
        by_agent.entry(a.agent_id.as_str()).or_default().entry(a.date).or_default().push(a);
    }
    let minute_of = |at: DateTime<chrono::FixedOffset>, date: NaiveDate| {
        let local = zone.local_time(at.with_timezone(&Utc));
        (local.date() - date).num_days() * 1440 + i64::from(local.hour() * 60 + local.minute())
    };
    let clock = |minute: i64| {
        let (days, m) = (minute.div_euclid(1440), minute.rem_euclid(1440));
        let text = format!("{:02}:{:02}", m / 60, m % 60);
        if days == 0 { text } else { format!("{text} ({days:+})") }
    };
    let rows = by_agent
        .into_iter()
        .map(|(agent, days)| {
            let cells = dates
                .iter()
                .map(|date| {
                    let mut of_day = days.get(date).cloned().unwrap_or_default();
                    of_day.sort_by_key(|a| a.start);
                    let on_shift: Vec<&&Activity> = of_day.iter().filter(|a| a.kind.on_shift()).collect();
                    let span = |a: &Activity| (minute_of(a.start, *date), minute_of(a.end, *date));
                    let text = match (on_shift.first(), on_shift.iter().map(|a| span(a).1).max()) {
                        (Some(first), Some(end)) => format!("{}–{}", clock(span(first).0), clock(end)),
                        _ => of_day.iter().map(|a| t.get(&format!("activity-{}", a.kind.as_str()))).collect::<Vec<_>>().join(", "),
                    };
                    let title = on_shift.iter().map(|a| format!("{}–{} {}", clock(span(a).0), clock(span(a).1), t.get(&format!("activity-{}", a.kind.as_str())))).collect::<Vec<_>>().join("; ");
                    let bars = on_shift
                        .iter()
                        .filter_map(|a| {
                            let (from, to) = span(a);
                            let (from, to) = (from.clamp(0, 1440), to.clamp(0, 1440));
                            (to > from).then_some(Bar { x: from, width: to - from, kind: a.kind.as_str() })
                        })
                        .collect();
                    Cell { text, title, bars }
                })
                .collect();
            AgentRow { agent: agent.to_owned(), cells }
        })
        .collect();
    let shifts = roster.shifts();
    let totals = dates
        .iter()
        .map(|date| {
            let of_day: Vec<_> = shifts.iter().filter(|s| s.date == *date).collect();
            (of_day.len(), format!("{:.1}", of_day.iter().map(|s| s.paid_min()).sum::<i64>() as f64 / 60.0))
        })
        .collect();
    (rows, totals)
}

/// The version judged over the week from `monday` against the tenant's planning files, or why
/// it cannot be.
fn week_report(state: &AppState, tenant: &str, roster: &Roster, monday: NaiveDate, threshold_s: f64, zone: TenantZone, t: &Words) -> Result<ReportView, String> {
    let files = TenantFiles::load(state, tenant).map_err(|e| t.with("roster-no-report", &[("why", e.message())]))?;
    let (file, text) = files.requirements;
    let until = monday + Duration::days(7);
    let requirement = Requirement::parse(&file, text, Column::Agents, monday, until).map_err(|e| t.with("roster-no-report", &[("why", &e.to_string())]))?;
    let judged = Judged { roster, agents: &files.agents, rules: &files.rules, requests: &[], requirement: &requirement, threshold_s };
    let report = judged.report(None).map_err(|e| t.with("roster-no-report", &[("why", &e.to_string())]))?;
    Ok(view(&report, monday..until, requirement.demand.interval_min, zone, t))
}

pub(super) fn view(report: &Report, week: std::ops::Range<NaiveDate>, interval_min: u32, zone: TenantZone, t: &Words) -> ReportView {
    let local_start = |rfc3339: &str| DateTime::parse_from_rfc3339(rfc3339).ok().map(|at| zone.local_time(at.with_timezone(&Utc)));
    let hours = |intervals: u64| format!("{:.1}", intervals as f64 * f64::from(interval_min) / 60.0);
    let mut by_day: BTreeMap<NaiveDate, (u64, u64, f64)> = BTreeMap::new();
    for row in &report.coverage {
        let Some(at) = local_start(&row.interval_start) else { continue };
        let day = by_day.entry(at.date()).or_default();
        day.0 += u64::from(row.required);
        day.1 += u64::from(row.scheduled);
        day.2 += (f64::from(row.required) - row.served).max(0.0);
    }
    let days = by_day.into_iter().map(|(date, (required, scheduled, short))| [format!("{date} {}", t.weekday(date.weekday())), hours(required), hours(scheduled), figure(short)]).collect();
    let short_of = |r: &CoverageRow| f64::from(r.required) - r.served;
    let mut shortest: Vec<_> = report.coverage.iter().filter(|r| short_of(r) > 0.0).collect();
    shortest.sort_by(|a, b| short_of(b).total_cmp(&short_of(a)).then_with(|| a.interval_start.cmp(&b.interval_start)));
    let percent = |sl: Option<f64>| sl.map_or_else(|| "–".to_owned(), |sl| format!("{:.1} %", sl * 100.0));
    let short = shortest
        .iter()
        .take(LISTED)
        .map(|r| {
            let at = local_start(&r.interval_start).map(|at| at.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_else(|| r.interval_start.clone());
            [at, r.required.to_string(), r.scheduled.to_string(), figure(r.served), percent(r.projected_service_level)]
        })
        .collect();
    let in_week: Vec<_> = report.hard_rule_violations.iter().filter(|v| week.contains(&v.date)).collect();
    let agents_on: BTreeSet<&str> = in_week.iter().map(|v| v.agent.as_str()).collect();
    let figures = vec![
        (t.get("roster-sl"), percent(report.projected_service_level)),
        (t.get("roster-sl-best"), percent(report.best_reachable_service_level)),
        (t.get("roster-sacrificed"), t.with("roster-sacrificed-of", &[("count", &report.sacrificed_intervals.len().to_string()), ("calls", &format!("{:.0}", report.sacrificed_calls))])),
        (t.get("roster-required"), hours(report.required_agent_intervals)),
        (t.get("roster-under"), figure(report.skill_under_staffed_agent_intervals)),
        (t.get("roster-over"), figure(report.over_staffed_agent_intervals)),
        (t.get("roster-bound"), format!("{:.0}", report.lower_bound_under_staffed)),
        (t.get("roster-violation-count"), t.with("roster-violations-of", &[("count", &in_week.len().to_string()), ("agents", &agents_on.len().to_string())])),
    ];
    let violations = in_week.iter().take(LISTED).map(|v| format!("{} · {} · {}: {}", v.date, v.agent, v.rule, v.detail)).collect();
    ReportView { figures, days, short, violations }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvQuery {
    tenant: Option<String>,
    version: Option<i64>,
}

/// `GET /roster.csv?version=N`: a version as published (the newest without `version`).
pub async fn roster_csv(State(state): State<AppState>, Extension(signed): Extension<Signed>, headers: HeaderMap, uri: Uri, query: Result<Query<CsvQuery>, QueryRejection>) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request("query", e.body_text()))?;
    let page = PageContext::new(&state, signed, &headers, &uri, query.tenant.as_deref()).await?;
    let tenant = page.tenant()?.id.as_str().to_owned();
    let (version, text) = state.db.roster(&tenant, query.version).await?.ok_or_else(|| ApiError::status(StatusCode::NOT_FOUND, Some("version"), "no such roster version"))?;
    let disposition = format!("attachment; filename=\"roster-{tenant}-v{}.csv\"", version.version);
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, disposition)], text).into_response())
}

/// `POST /roster` (a multipart form: `csrf`, the file `roster`): publishes the file as the next
/// version; a file that is not a roster is refused naming its line and field, nothing published.
pub async fn roster_publish(State(state): State<AppState>, Extension(signed): Extension<Signed>, headers: HeaderMap, uri: Uri, body: Bytes) -> Result<Response, ApiError> {
    let fields = multipart::form(&headers, body, "roster").await?;
    let page = PageContext::new(&state, signed, &headers, &uri, None).await?;
    let tenant = page.tenant()?.id.as_str().to_owned();
    let (name, bytes) = multipart::file(&fields, "roster", "the roster CSV to publish (agent_id, date, activity, start, end)")?;
    let text = std::str::from_utf8(bytes).map_err(|e| ApiError::bad_request("roster", format!("{name}: not UTF-8 text ({e})")))?;
    let version = publish_roster(&state, &page.signed, &tenant, ("roster", name), text).await?;
    Ok(Redirect::to(&format!("/roster?published={0}&version={0}", version.version)).into_response())
}

/// An edit as asked: whose day, which, and the shift's span (none: a day off).
struct EditAsk {
    agent: AgentId,
    date: NaiveDate,
    span: Option<(ClockTime, ClockTime)>,
}

impl EditAsk {
    fn parse(agent: &str, date: &str, start: &str, end: &str) -> Result<Self, ApiError> {
        let agent = AgentId::parse(agent.trim()).map_err(|e| ApiError::bad_request("edit_agent", format!("`edit_agent`: {e}")))?;
        let date = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").map_err(|_| ApiError::bad_request("edit_date", format!("`edit_date`: {date:?} is not a date YYYY-MM-DD")))?;
        let clock = |field: &'static str, v: &str| ClockTime::parse(v.trim()).ok_or_else(|| ApiError::bad_request(field, format!("`{field}`: {v:?} is not a time HH:MM")));
        let span = match (start.trim(), end.trim()) {
            ("", "") => None,
            (start, "") => return Err(ApiError::bad_request("edit_end", format!("`edit_end`: required with a start ({start}); leave both empty for a day off"))),
            ("", _) => return Err(ApiError::bad_request("edit_start", "`edit_start`: required with an end; leave both empty for a day off")),
            (start, end) => Some((clock("edit_start", start)?, clock("edit_end", end)?)),
        };
        Ok(Self { agent, date, span })
    }
}

/// Agent-intervals, to the hundredth the report gives (fractional with skill efficiencies).
fn figure(agent_intervals: f64) -> String {
    wfm_scheduler::skills::to_hundredths(agent_intervals).to_string()
}

/// The offset of the tenant's clocks at noon of `date`: where a day's shift is written.
fn offset_on(zone: TenantZone, date: NaiveDate) -> chrono::FixedOffset {
    use chrono::{Offset, TimeZone};
    let noon = zone.day_start(date) + Duration::hours(12);
    zone.tz().offset_from_utc_datetime(&noon.naive_utc()).fix()
}

/// The edit judged against the tenant's agents and rules, and its requirement when there is one.
fn judge_edit(state: &AppState, tenant: &str, roster: &Roster, ask: &EditAsk, zone: TenantZone) -> Result<Edit, ApiError> {
    let (agents, rules) = TenantFiles::agents_and_rules(state, tenant)?;
    let path = TenantFiles::requirements_path(state, tenant);
    let demand = match std::fs::read_to_string(&path) {
        Ok(text) => Some(wfm_scheduler::demand::parse(&path.display().to_string(), text.as_bytes(), Column::Agents).map_err(|e| ApiError::status(StatusCode::CONFLICT, None, e))?),
        Err(_) => None,
    };
    let asked = DayEdit { agent: &ask.agent, date: ask.date, span: ask.span, offset: offset_on(zone, ask.date) };
    edit_day(roster, &agents, &rules, demand.as_ref(), &asked).map_err(|e| ApiError::bad_request("edit_agent", e))
}

fn edit_view(ask: &EditAsk, edit: &Edit, base_version: i64, zone: TenantZone, t: &Words) -> EditView {
    let clock = |at: DateTime<chrono::FixedOffset>| zone.local_time(at.with_timezone(&Utc)).format("%H:%M").to_string();
    let day = edit.day.iter().map(|a| if a.kind.on_shift() { format!("{}–{} {}", clock(a.start), clock(a.end), t.get(&format!("activity-{}", a.kind.as_str()))) } else { t.get(&format!("activity-{}", a.kind.as_str())) }).collect::<Vec<_>>().join("; ");
    let short = edit
        .shortfalls
        .iter()
        .map(|s| {
            let at = DateTime::parse_from_rfc3339(&s.interval_start).map(|at| zone.local_time(at.with_timezone(&Utc)).format("%Y-%m-%d %H:%M").to_string()).unwrap_or_else(|_| s.interval_start.clone());
            t.with("roster-edit-short", &[("at", &at), ("required", &s.required.to_string()), ("scheduled", &s.scheduled.to_string())])
        })
        .collect();
    let span_text = |i: usize| ask.span.map(|s| if i == 0 { s.0.to_string() } else { s.1.to_string() }).unwrap_or_default();
    EditView { agent: ask.agent.to_string(), date: ask.date.to_string(), start: span_text(0), end: span_text(1), day, valid: edit.verdict.valid, problems: edit.verdict.problems.clone(), short, base_version }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditForm {
    csrf: Option<String>,
    /// The version the edit was checked against.
    version: i64,
    agent: String,
    date: String,
    start: String,
    end: String,
}

/// `POST /roster/edit`: the edited day published as the next version, judged again on the
/// newest one; a 409 when the roster changed since the edit was checked.
pub async fn roster_edit(State(state): State<AppState>, Extension(signed): Extension<Signed>, headers: HeaderMap, uri: Uri, form: Result<axum::extract::Form<EditForm>, axum::extract::rejection::FormRejection>) -> Result<Response, ApiError> {
    let axum::extract::Form(form) = form.map_err(|e| ApiError::bad_request("body", e.body_text()))?;
    let _ = form.csrf;
    let page = PageContext::new(&state, signed, &headers, &uri, None).await?;
    let tenant = page.tenant()?.id.as_str().to_owned();
    let ask = EditAsk::parse(&form.agent, &form.date, &form.start, &form.end)?;
    let (newest, text) = state.db.roster(&tenant, None).await?.ok_or_else(|| ApiError::status(StatusCode::CONFLICT, None, "no published roster to edit"))?;
    if newest.version != form.version {
        return Err(ApiError::status(StatusCode::CONFLICT, Some("version"), format!("the roster changed since the edit was checked (now version {}): check it again", newest.version)));
    }
    let roster = Roster::read_csv(&format!("published roster version {}", newest.version), text.as_bytes()).map_err(internal)?;
    let edit = judge_edit(&state, &tenant, &roster, &ask, page.zone())?;
    let mut csv = Vec::new();
    edit.roster.write_csv(&mut csv).map_err(internal)?;
    let csv = String::from_utf8(csv).map_err(internal)?;
    let name = format!("the edit of {} on {}", ask.agent, ask.date);
    let version = publish_roster(&state, &page.signed, &tenant, ("edit", &name), &csv).await?;
    Ok(Redirect::to(&format!("/roster?published={0}&version={0}&week={1}", version.version, ask.date)).into_response())
}
