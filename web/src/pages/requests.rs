//! Requests on pages: the agent asks for a day of leave or a swap with a colleague
//! (`/my/requests`: the check shown before sending, their requests and what became of them, the
//! swaps colleagues ask them to accept) and approvers decide (`/requests`: each
//! request waiting for their role with its balance, shortfalls and who could cover). The same
//! functions as the API (`crate::requests`).

use super::PageContext;
use crate::auth::Signed;
use crate::i18n::Words;
use crate::requests::{self as library, parse_decision, span, waits_for, Change, Planning, Reason};
use wfm_scheduler::roster::Roster;
use crate::{ApiError, AppState};
use askama::Template;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use chrono::{DateTime, NaiveDate};
use serde::Deserialize;
use wfm_model::{AgentId, TenantZone};
use wfm_ops::requests::{ChangeRequest, Clash, RequestKind, RequestState, Step};

/// A request as a row of a table.
struct Row {
    id: String,
    agent: String,
    /// `leave`, or `swap with 1002`.
    what: String,
    date: String,
    state: String,
    pending: bool,
    /// Who decided what, or whom it waits for.
    progress: String,
    requested: String,
    note: String,
}

fn when(ms: i64, zone: TenantZone) -> String {
    DateTime::from_timestamp_millis(ms).map(|at| zone.local_time(at).format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()
}

fn row(r: &ChangeRequest, t: &Words, zone: TenantZone) -> Row {
    let mut progress: Vec<String> = r
        .decisions
        .iter()
        .map(|d| {
            if d.by == "auto" {
                return t.get(if d.approve { "request-auto-approved" } else { "request-auto-passed-on" });
            }
            let verdict = t.get(if d.approve { "request-approved-by" } else { "request-rejected-by" });
            let comment = if d.comment.is_empty() { String::new() } else { format!(": {}", d.comment) };
            format!("{verdict} {} ({}){comment}", d.by, when(d.at_ms, zone))
        })
        .collect();
    progress.extend(r.history.iter().cloned());
    match r.awaiting {
        Some(Step::Role(role)) => progress.push(t.with("request-awaiting", &[("role", &t.get(&format!("role-{role}")))])),
        Some(Step::Colleague) => progress.push(t.with("request-awaiting-colleague", &[("agent", r.with.as_deref().unwrap_or_default())])),
        Some(Step::Auto) | None => {}
    }
    if let Some(version) = r.applied_version {
        let cover = r.cover.as_deref().map_or_else(String::new, |c| format!(" · {}", t.with("request-covered-by", &[("agent", c)])));
        progress.push(format!("{}{cover}", t.with("request-applied", &[("version", &version.to_string())])));
    }
    Row {
        id: r.id.clone(),
        agent: r.agent_id.clone(),
        what: what(r, t),
        date: r.date.clone(),
        state: t.get(&format!("request-state-{}", r.state.as_str())),
        pending: r.state == RequestState::Pending,
        progress: progress.join(" · "),
        requested: when(r.requested_ms, zone),
        note: r.note.clone(),
    }
}

fn what(r: &ChangeRequest, t: &Words) -> String {
    match r.kind {
        RequestKind::Leave => t.get("request-kind-leave"),
        RequestKind::Swap => t.with("request-swap-with", &[("agent", r.with.as_deref().unwrap_or_default())]),
        RequestKind::Overtime => {
            let (from, to) = r.span.clone().unwrap_or_default();
            t.with("request-overtime-span", &[("from", &from), ("to", &to)])
        }
    }
}

/// A span of a coming day where the roster is short of agents: where overtime is needed.
struct Needed {
    date: String,
    from: String,
    to: String,
    label: String,
}

/// How far ahead the leave form lists the days still free.
const FREE_DAYS_AHEAD: i64 = 28;

/// The coming days' spans short of agents, at most `most`.
fn overtime_needed(planning: &Planning, zone: TenantZone, today: NaiveDate, most: usize) -> Vec<Needed> {
    let step = chrono::Duration::minutes(planning.interval_min().into());
    let mut spans: Vec<(DateTime<chrono::FixedOffset>, DateTime<chrono::FixedOffset>, u32)> = vec![];
    for s in wfm_scheduler::changes::understaffed(&planning.roster, planning.demand()) {
        let Ok(start) = DateTime::parse_from_rfc3339(&s.interval_start) else { continue };
        if zone.local_date(start.to_utc()) <= today {
            continue;
        }
        match spans.last_mut() {
            Some(last) if last.1 == start && zone.local_date(last.0.to_utc()) == zone.local_date(start.to_utc()) => {
                last.1 = start + step;
                last.2 = last.2.max(s.required - s.scheduled);
            }
            _ => spans.push((start, start + step, s.required - s.scheduled)),
        }
    }
    let clock = |t: DateTime<chrono::FixedOffset>| zone.local_time(t.to_utc()).format("%H:%M").to_string();
    spans
        .into_iter()
        .take(most)
        .map(|(from, to, missing)| {
            let date = zone.local_date(from.to_utc()).to_string();
            let label = format!("{date} {}–{} (−{missing})", clock(from), clock(to));
            // A span ending at midnight is asked as 24:00.
            let to_clock = if zone.local_date(to.to_utc()) > zone.local_date(from.to_utc()) { "24:00".to_owned() } else { clock(to) };
            Needed { date, from: clock(from), to: to_clock, label }
        })
        .collect()
}

/// What the check of a request would say, for the page.
struct Preview {
    date: String,
    kind: &'static str,
    with: String,
    /// Overtime's span and the shift offered for it.
    from: String,
    to: String,
    offer: Option<String>,
    /// The rules and skills a swap would break.
    problems: Vec<String>,
    passed: bool,
    verdict: String,
    balance: Option<String>,
    shortfalls: Vec<String>,
    /// Agent id and how it reads.
    candidates: Vec<(String, String)>,
    /// The day's projected service level before → after, and each interval it changes.
    impact: Option<(String, Vec<String>)>,
}

#[derive(Template)]
#[template(path = "my_requests.html")]
struct MyRequests<'a> {
    t: &'a Words,
    date: String,
    kind: String,
    with: String,
    from: String,
    to: String,
    needed: Vec<Needed>,
    /// Swaps colleagues ask this agent to accept.
    asked: Vec<Row>,
    preview: Option<Result<Preview, String>>,
    /// The request already made that this one cannot stand beside: it is not offered for sending.
    clash: Option<String>,
    /// The coming days a day of leave would leave no interval short (asked for leave only).
    free_days: Vec<String>,
    rows: Vec<Row>,
    notice: Option<String>,
    csrf: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MyRequestsQuery {
    date: Option<String>,
    kind: Option<String>,
    with: Option<String>,
    from: Option<String>,
    to: Option<String>,
    done: Option<String>,
}

fn caller_agent(page: &PageContext) -> Result<AgentId, ApiError> {
    page.signed.caller.user.agent_id.clone().ok_or_else(|| ApiError::bad_request("agent", page.t.get("schedule-no-agent")))
}

/// Consecutive intervals left short by as much, as one span: `08:00–12:00 — 0 / 1`.
fn short_spans(shortfalls: &[wfm_scheduler::changes::Shortfall], interval_min: u32, zone: TenantZone) -> Vec<String> {
    let step = chrono::Duration::minutes(interval_min.into());
    let mut spans: Vec<(DateTime<chrono::FixedOffset>, DateTime<chrono::FixedOffset>, u32, u32)> = vec![];
    for s in shortfalls {
        let Ok(start) = DateTime::parse_from_rfc3339(&s.interval_start) else { continue };
        match spans.last_mut() {
            Some(last) if last.1 == start && (last.2, last.3) == (s.scheduled, s.required) => last.1 = start + step,
            _ => spans.push((start, start + step, s.scheduled, s.required)),
        }
    }
    let clock = |t: DateTime<chrono::FixedOffset>| zone.local_time(t.to_utc()).format("%H:%M").to_string();
    spans.into_iter().map(|(from, to, scheduled, required)| format!("{}–{} — {scheduled} / {required}", clock(from), clock(to))).collect()
}

/// Why the request cannot be sent beside one already made, in the page's language.
fn clash_text(clash: &Clash, t: &Words) -> String {
    let kind = t.get(&format!("request-kind-{}", clash.kind.as_str()));
    let state = t.get(&format!("request-state-{}", clash.state.as_str()));
    let key = if clash.duplicate { "request-clash-duplicate" } else { "request-clash" };
    t.with(key, &[("id", &clash.id), ("kind", &kind), ("state", &state)])
}

fn verdict(passed: bool, reasons: &[Reason], t: &Words) -> String {
    if passed { t.get("request-check-passed") } else { format!("{}: {}", t.get("request-check-failed"), reasons.iter().map(|r| reason_words(r, t)).collect::<Vec<_>>().join("; ")) }
}

/// A reason in the page's language; the checker's rules keep its words (the rules' names).
fn reason_words(reason: &Reason, t: &Words) -> String {
    match reason {
        Reason::Rule(rule) => rule.clone(),
        Reason::ShortIntervals(n) => t.with("reason-short", &[("count", &n.to_string())]),
        Reason::LeaveTaken { taken, allowed } => t.with("reason-leave-taken", &[("taken", &taken.to_string()), ("allowed", &allowed.to_string())]),
        Reason::NoOvertimeShift { from, to } => t.with("reason-no-shift", &[("from", &from.to_string()), ("to", &to.to_string())]),
        Reason::OvertimeNotNeeded => t.get("reason-not-needed"),
    }
}

/// The change's service-level impact as the page shows it: the day, then each interval.
fn impact_text(planning: &Planning, after: Option<&Roster>, day: NaiveDate, t: &Words, zone: TenantZone) -> Result<Option<(String, Vec<String>)>, ApiError> {
    let Some(impact) = planning.impact(after, day)? else { return Ok(None) };
    let percent = |v: Option<f64>| v.map_or_else(|| "–".to_owned(), |v| format!("{:.1} %", v * 100.0));
    let day_text = t.with("request-sl-day", &[("threshold", &format!("{}", impact.threshold_s)), ("before", &percent(impact.day_before)), ("after", &percent(impact.day_after))]);
    let clock = |at: &str| DateTime::parse_from_rfc3339(at).map(|x| zone.local_time(x.to_utc()).format("%H:%M").to_string()).unwrap_or_default();
    let intervals = impact.intervals.iter().map(|i| format!("{} {} → {}", clock(&i.interval_start), percent(i.before), percent(i.after))).collect();
    Ok(Some((day_text, intervals)))
}

fn preview(planning: &Planning, agent: &AgentId, change: &Change, date: &str, t: &Words, zone: TenantZone) -> Result<Preview, ApiError> {
    let day = NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| ApiError::bad_request("date", format!("{date:?} is not a date YYYY-MM-DD")))?;
    let empty = Preview { date: day.to_string(), kind: "leave", with: String::new(), from: String::new(), to: String::new(), offer: None, problems: vec![], passed: false, verdict: String::new(), balance: None, shortfalls: vec![], candidates: vec![], impact: None };
    match change {
        Change::Swap(colleague) => {
            let check = planning.check_swap(agent, colleague, day)?;
            let shortfalls = short_spans(&check.shortfalls, planning.interval_min(), zone);
            let impact = impact_text(planning, Some(&check.swapped), day, t, zone)?;
            Ok(Preview { kind: "swap", with: colleague.to_string(), verdict: verdict(check.passed, &check.reasons, t), problems: check.verdict.problems, passed: check.passed, shortfalls, impact, ..empty })
        }
        Change::Overtime(from, to) => {
            let check = planning.check_overtime(agent, day, *from, *to)?;
            let clock = |at: &str| DateTime::parse_from_rfc3339(at).map(|x| zone.local_time(x.to_utc()).format("%H:%M").to_string()).unwrap_or_default();
            let offer = check.shift.as_ref().map(|(_, o)| t.with("request-offer", &[("from", &clock(&o.start)), ("to", &clock(&o.end)), ("short", &check.helps.to_string())]));
            let impact = impact_text(planning, planning.with_overtime(&check).as_ref(), day, t, zone)?;
            Ok(Preview { kind: "overtime", from: from.to_string(), to: to.to_string(), offer, verdict: verdict(check.passed, &check.reasons, t), passed: check.passed, impact, ..empty })
        }
        Change::Leave => {
            let (passed, check, reasons) = planning.check_leave(agent, day)?;
            let balance = check.allowance.as_ref().map(|a| t.with("request-balance", &[("taken", &a.taken_days.to_string()), ("allowed", &a.allowance_days.to_string())]));
            let shortfalls = short_spans(&check.shortfalls, planning.interval_min(), zone);
            let candidates = check.candidates.iter().map(|c| (c.agent.clone(), format!("{} ({:.1} h)", c.agent, c.paid_hours_that_week))).collect();
            let impact = impact_text(planning, planning.with_leave(agent, day).as_ref(), day, t, zone)?;
            Ok(Preview { verdict: verdict(passed, &reasons, t), passed, balance, shortfalls, candidates, impact, ..empty })
        }
    }
}

/// `GET /my/requests[?date=D]`: the agent's requests, and the check of leave on `date`.
pub async fn my_requests(State(state): State<AppState>, Extension(signed): Extension<Signed>, headers: HeaderMap, uri: Uri, query: Result<Query<MyRequestsQuery>, QueryRejection>) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request("query", e.body_text()))?;
    let page = PageContext::new(&state, signed, &headers, &uri, None).await?;
    let t = &page.t;
    let agent = caller_agent(&page)?;
    let tenant = page.tenant()?.id.as_str().to_owned();
    let zone = page.zone();
    let kind = query.kind.clone().unwrap_or_else(|| "leave".into());
    let (with, from, to) = match kind.as_str() {
        "swap" => (query.with.clone().unwrap_or_default(), String::new(), String::new()),
        "overtime" => (String::new(), query.from.clone().unwrap_or_default(), query.to.clone().unwrap_or_default()),
        _ => Default::default(),
    };
    let planning = Planning::load(&state, &tenant).await;
    let mut clash = None;
    let preview = match (query.date.as_deref().filter(|d| !d.is_empty()), &planning) {
        (None, _) => None,
        (Some(_), Err(e)) => Some(Err(e.message().to_owned())),
        (Some(_), Ok(_)) if kind == "swap" && with.is_empty() => Some(Err(t.get("request-with-needed"))),
        (Some(date), Ok(planning)) => {
            let change = RequestKind::parse(&kind).map_err(ApiError::from).and_then(|k| Change::parse(k, Some(with.as_str()), span(&Some(from.clone()), &Some(to.clone())).filter(|_| k == RequestKind::Overtime)));
            let preview = change.and_then(|c| Ok((preview(planning, &agent, &c, date, t, zone)?, c)));
            if let Ok((p, change)) = &preview {
                clash = library::clash_of(&state, &tenant, &agent, change, &p.date).await?.map(|c| clash_text(&c, t));
            }
            Some(preview.map(|(p, _)| p).map_err(|e| e.message().to_owned()))
        }
    };
    let today = zone.local_date(chrono::Utc::now());
    let needed = planning.as_ref().map(|p| overtime_needed(p, zone, today, 12)).unwrap_or_default();
    let free_days = match &planning {
        Ok(p) if kind == "leave" => p.free_for_leave(&agent, today, today + chrono::Duration::days(FREE_DAYS_AHEAD)).iter().map(NaiveDate::to_string).collect(),
        _ => vec![],
    };
    let asked = library::asked_of(&state, &tenant, &agent).await?.iter().map(|r| row(r, t, zone)).collect();
    let mine = state.db.requests(&tenant, Some(agent.as_str()), None, 100).await?;
    let notice = query.done.as_deref().and_then(|id| mine.iter().find(|r| r.id == id)).map(|r| t.with("request-sent", &[("date", &r.date), ("state", &t.get(&format!("request-state-{}", r.state.as_str())))]));
    let rows = mine.iter().map(|r| row(r, t, zone)).collect();
    let body = MyRequests { t, date: query.date.unwrap_or_default(), kind, with, from, to, needed, free_days, asked, preview, clash, rows, notice, csrf: page.csrf() };
    page.render(&t.get("requests-my-title"), &body)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MyRequestForm {
    csrf: Option<String>,
    /// `send`, `cancel`, or the colleague's `accept` or `decline`.
    action: String,
    kind: Option<String>,
    with: Option<String>,
    from: Option<String>,
    to: Option<String>,
    date: Option<String>,
    #[serde(default)]
    note: String,
    id: Option<String>,
}

/// `POST /my/requests`: sends a request for leave, or withdraws one; back to the list.
pub async fn my_requests_submit(State(state): State<AppState>, Extension(signed): Extension<Signed>, headers: HeaderMap, uri: Uri, form: Result<Form<MyRequestForm>, FormRejection>) -> Result<Response, ApiError> {
    let Form(form) = form.map_err(|e| ApiError::bad_request("body", e.body_text()))?;
    let _ = form.csrf;
    let page = PageContext::new(&state, signed, &headers, &uri, None).await?;
    let agent = caller_agent(&page)?;
    let tenant = page.tenant()?.id.as_str().to_owned();
    let request = match form.action.as_str() {
        "send" => {
            let date = form.date.as_deref().ok_or_else(|| ApiError::bad_request("date", "required: the day of leave"))?;
            let kind = RequestKind::parse(form.kind.as_deref().unwrap_or("leave"))?;
            let change = Change::parse(kind, form.with.as_deref(), span(&form.from, &form.to))?;
            library::submit(&state, &page.signed, &tenant, &agent, &change, date, &form.note).await?
        }
        action @ ("cancel" | "accept" | "decline") => {
            let id = form.id.as_deref().ok_or_else(|| ApiError::bad_request("id", "required: which request"))?;
            match action {
                "cancel" => library::cancel(&state, &page.signed, &tenant, &agent, id).await?,
                _ => library::answer(&state, &page.signed, &tenant, &agent, id, action == "accept").await?,
            }
        }
        other => return Err(ApiError::bad_request("action", format!("{other:?} is not send, cancel, accept or decline"))),
    };
    Ok(Redirect::to(&format!("/my/requests?done={}", request.id)).into_response())
}

/// A request waiting for the approver, with what the check finds today.
struct Waiting {
    row: Row,
    preview: Result<Preview, String>,
}

#[derive(Template)]
#[template(path = "requests.html")]
struct Approvals<'a> {
    t: &'a Words,
    waiting: Vec<Waiting>,
    recent: Vec<Row>,
    notice: Option<String>,
    csrf: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalsQuery {
    tenant: Option<String>,
    done: Option<String>,
}

/// `GET /requests`: the requests waiting for the caller's role, each with the check against the
/// newest roster (balance, the intervals it would leave short, who could cover), and the latest
/// decided ones.
pub async fn requests(State(state): State<AppState>, Extension(signed): Extension<Signed>, headers: HeaderMap, uri: Uri, query: Result<Query<ApprovalsQuery>, QueryRejection>) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request("query", e.body_text()))?;
    let page = PageContext::new(&state, signed, &headers, &uri, query.tenant.as_deref()).await?;
    let t = &page.t;
    let tenant = page.tenant()?.id.as_str().to_owned();
    let zone = page.zone();
    let role = page.signed.caller.user.role;
    let all = state.db.requests(&tenant, None, None, 200).await?;
    let planning = Planning::load(&state, &tenant).await;
    let mut waiting = vec![];
    for r in all.iter().filter(|r| waits_for(r, role)) {
        let preview = match (&planning, AgentId::parse(&r.agent_id)) {
            (Ok(planning), Ok(agent)) => Change::of(r).and_then(|change| preview(planning, &agent, &change, &r.date, t, zone)).map_err(|e| e.message().to_owned()),
            (Err(e), _) => Err(e.message().to_owned()),
            (_, Err(e)) => Err(e.to_string()),
        };
        waiting.push(Waiting { row: row(r, t, zone), preview });
    }
    let recent = all.iter().filter(|r| !waits_for(r, role)).take(50).map(|r| row(r, t, zone)).collect();
    let notice = query.done.as_deref().and_then(|id| all.iter().find(|r| r.id == id)).map(|r| t.with("request-decided", &[("agent", &r.agent_id), ("date", &r.date), ("state", &t.get(&format!("request-state-{}", r.state.as_str())))]));
    page.render(&t.get("requests-title"), &Approvals { t, waiting, recent, notice, csrf: page.csrf() })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionForm {
    csrf: Option<String>,
    decision: String,
    cover: Option<String>,
    #[serde(default)]
    comment: String,
}

/// `POST /requests/{id}`: approve (with a cover when chosen) or reject; back to the list.
pub async fn requests_decide(State(state): State<AppState>, Extension(signed): Extension<Signed>, headers: HeaderMap, uri: Uri, Path(id): Path<String>, form: Result<Form<DecisionForm>, FormRejection>) -> Result<Response, ApiError> {
    let Form(form) = form.map_err(|e| ApiError::bad_request("body", e.body_text()))?;
    let _ = form.csrf;
    let page = PageContext::new(&state, signed, &headers, &uri, None).await?;
    let tenant = page.tenant()?.id.as_str().to_owned();
    let approve = parse_decision(&form.decision)?;
    let request = library::decide_as_role(&state, &page.signed, &tenant, &id, approve, form.cover.as_deref(), &form.comment).await?;
    Ok(Redirect::to(&format!("/requests?done={}", request.id)).into_response())
}
