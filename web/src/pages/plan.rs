//! The planner's plan page (`/plan`): a period forecast from the tenant's history, staffed at a
//! service-level goal and scheduled (optionally against the published roster), run in the
//! background with its progress shown (the page refreshes itself while it runs); then the
//! forecast per queue and the draft's report, and **Publish**, which makes the draft the next
//! roster version. The same pipeline as the CLI's `wfm forecast`, `wfm staff`, `wfm schedule`.

use super::roster::{view, ReportView};
use super::PageContext;
use crate::auth::Signed;
use crate::i18n::Words;
use crate::plans::{self, RunState};
use crate::{imports, multipart};
use crate::{ApiError, AppState};
use askama::Template;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query, State};
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use chrono::{Datelike, Duration, NaiveDate, Utc};
use serde::Deserialize;
use wfm_model::TenantId;
use wfm_ops::{now_ms, Permission};
use wfm_planning::pipeline::{Period, Step, SLOT_MIN};

/// The search's time unless the form says otherwise, and at most, seconds.
const DEFAULT_TIME_LIMIT_S: u32 = 20;
const MAX_TIME_LIMIT_S: u32 = 300;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanQuery {
    tenant: Option<String>,
}

/// The latest run as the page shows it.
struct RunView {
    about: String,
    running: Option<String>,
    failed: Option<String>,
    /// Per queue: queue, days of history, model, backtest WAPE, calls forecast.
    queues: Vec<[String; 5]>,
    report: Option<ReportView>,
    published: Option<i64>,
}

/// A data load just made, or why it was refused.
struct ImportView {
    ok: bool,
    summary: String,
    notes: String,
    skipped: Vec<String>,
}

#[derive(Template)]
#[template(path = "plan.html")]
struct PlanPage<'a> {
    t: &'a Words,
    csrf: String,
    import: Option<ImportView>,
    may_import: bool,
    may_plan: bool,
    /// The latest loads: when, format, file, calls written, duplicates, states, skipped lines.
    journal: Vec<[String; 7]>,
    next_monday: String,
    time_limit_s: u32,
    max_time_limit_s: u32,
    has_published: bool,
    run: Option<RunView>,
}

fn step_text(step: Step, seconds: i64, t: &Words) -> String {
    match step {
        Step::Forecast => t.with("plan-forecasting", &[("s", &seconds.to_string())]),
        Step::Staff => t.with("plan-staffing", &[("s", &seconds.to_string())]),
        Step::Schedule { pass, short, excess } => t.with("plan-scheduling", &[("pass", &pass.to_string()), ("short", &short.to_string()), ("excess", &excess.to_string()), ("s", &seconds.to_string())]),
    }
}

/// Loads listed in the journal.
const JOURNAL_SHOWN: usize = 10;

/// `GET /plan`.
pub async fn plan_page(State(state): State<AppState>, Extension(signed): Extension<Signed>, headers: HeaderMap, uri: Uri, query: Result<Query<PlanQuery>, QueryRejection>) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request("query", e.body_text()))?;
    let page = PageContext::new(&state, signed, &headers, &uri, query.tenant.as_deref()).await?;
    render(&state, &page, None).await
}

async fn render(state: &AppState, page: &PageContext, import: Option<ImportView>) -> Result<Response, ApiError> {
    let t = &page.t;
    let tenant = page.tenant()?.id.as_str().to_owned();
    let zone = page.zone();
    let today = zone.local_date(Utc::now());
    let next_monday = today + Duration::days(7 - i64::from(today.weekday().num_days_from_monday()));
    let has_published = !state.db.roster_versions(&tenant).await?.is_empty();
    let journal = state
        .db
        .imports(&tenant)
        .await
        .map_err(crate::internal)?
        .iter()
        .take(JOURNAL_SHOWN)
        .map(|r| {
            let at = chrono::DateTime::parse_from_rfc3339(&r.started_at).map(|at| zone.local_time(at.with_timezone(&Utc)).format("%Y-%m-%d %H:%M").to_string()).unwrap_or_else(|_| r.started_at.clone());
            [at, r.format.clone(), r.files.clone(), r.calls_written.to_string(), r.calls_duplicate.to_string(), r.states_written.to_string(), r.skipped_lines.to_string()]
        })
        .collect();
    let run = state.plans.lock().get(&tenant).map(|run| {
        let seconds = (run.finished_ms.unwrap_or_else(now_ms) - run.started_ms) / 1000;
        let until = run.from + Duration::days(7 * i64::from(run.weeks));
        let about = t.with("plan-about", &[("from", &run.from.to_string()), ("weeks", &run.weeks.to_string()), ("by", &run.by)]);
        let mut view_of = RunView { about, running: None, failed: None, queues: vec![], report: None, published: None };
        match &run.state {
            RunState::Running(step) => view_of.running = Some(step_text(*step, seconds, t)),
            RunState::Failed(why) => view_of.failed = Some(t.with("plan-failed", &[("why", why)])),
            RunState::Done { planned, published } => {
                let percent = |v: Option<f64>| v.map_or_else(|| "–".to_owned(), |v| format!("{:.1} %", v * 100.0));
                view_of.queues = planned.queues.iter().map(|q| [q.queue.clone(), q.history_days.to_string(), q.model.clone(), percent(q.backtest_interval_wape), format!("{:.0}", q.forecast_calls)]).collect();
                view_of.report = Some(view(&planned.scheduled.report, run.from..until, SLOT_MIN, zone, t));
                view_of.published = *published;
                view_of.about = format!("{} {}", view_of.about, t.with("plan-took", &[("s", &seconds.to_string())]));
            }
        }
        view_of
    });
    let refresh = run.as_ref().is_some_and(|r| r.running.is_some());
    let body = PlanPage { t, csrf: page.csrf(), import, may_import: page.may(Permission::ImportData), may_plan: page.may(Permission::PublishRoster), journal, next_monday: next_monday.to_string(), time_limit_s: DEFAULT_TIME_LIMIT_S, max_time_limit_s: MAX_TIME_LIMIT_S, has_published, run };
    let mut response = page.render(&t.get("plan-title"), &body)?;
    if refresh {
        // The page reads the progress again while the plan runs; no script needed.
        response.headers_mut().insert(HeaderName::from_static("refresh"), HeaderValue::from_static("2"));
    }
    Ok(response)
}

/// `POST /plan/import` (a multipart form: `csrf`, `format`, the file `history`, `skip_bad`):
/// loads the file into the tenant's history and shows the page with what it did; a refused file
/// is shown with its line and field, nothing written.
pub async fn plan_import(State(state): State<AppState>, Extension(signed): Extension<Signed>, headers: HeaderMap, uri: Uri, body: Bytes) -> Result<Response, ApiError> {
    let fields = multipart::form(&headers, body, "history").await?;
    let page = PageContext::new(&state, signed, &headers, &uri, None).await?;
    let t = &page.t;
    let tenant = page.tenant()?.id.as_str().to_owned();
    let text_of = |name: &str| fields.iter().find(|f| f.name == name).map(|f| String::from_utf8_lossy(&f.bytes).into_owned());
    let format = imports::format_of("format", &text_of("format").unwrap_or_default())?;
    let skip_bad = text_of("skip_bad").is_some();
    let (name, bytes) = multipart::file(&fields, "history", "a queue_log or a calls CSV")?;
    let view = match imports::load(&state, &page.signed, &tenant, format, name, bytes.clone(), skip_bad).await {
        Ok(loaded) => ImportView {
            ok: true,
            summary: t.with(
                "plan-imported",
                &[("file", name), ("calls", &loaded.run.calls_written.to_string()), ("duplicates", &loaded.run.calls_duplicate.to_string()), ("states", &loaded.run.states_written.to_string()), ("skipped", &loaded.run.skipped_lines.to_string())],
            ),
            notes: loaded.notes,
            skipped: loaded.skipped,
        },
        Err(e) if e.status == axum::http::StatusCode::BAD_REQUEST => ImportView { ok: false, summary: t.with("plan-import-refused", &[("why", e.message())]), notes: String::new(), skipped: vec![] },
        Err(e) => return Err(e),
    };
    render(&state, &page, Some(view)).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanForm {
    csrf: Option<String>,
    from: String,
    weeks: String,
    /// Percent of calls answered within the threshold.
    sl_target: String,
    threshold_s: String,
    time_limit_s: String,
    /// `on` when checked.
    reschedule: Option<String>,
}

fn number<T: std::str::FromStr>(field: &'static str, value: &str, what: &str) -> Result<T, ApiError> {
    value.trim().parse().map_err(|_| ApiError::bad_request(field, format!("`{field}`: {value:?} is not {what}")))
}

/// `POST /plan`: starts the plan.
pub async fn plan_start(State(state): State<AppState>, Extension(signed): Extension<Signed>, headers: HeaderMap, uri: Uri, form: Result<Form<PlanForm>, FormRejection>) -> Result<Response, ApiError> {
    let Form(form) = form.map_err(|e| ApiError::bad_request("body", e.body_text()))?;
    let _ = form.csrf;
    let page = PageContext::new(&state, signed, &headers, &uri, None).await?;
    let tenant = TenantId::parse(page.tenant()?.id.as_str()).map_err(|e| ApiError::bad_request("tenant", e))?;
    let from = NaiveDate::parse_from_str(form.from.trim(), "%Y-%m-%d").map_err(|_| ApiError::bad_request("from", format!("`from`: {:?} is not a date YYYY-MM-DD", form.from)))?;
    let weeks: u32 = number("weeks", &form.weeks, "a number of weeks")?;
    let sl_percent: f64 = number("sl_target", &form.sl_target, "a percentage")?;
    let threshold_s: f64 = number("threshold_s", &form.threshold_s, "a number of seconds")?;
    let time_limit_s: u32 = number("time_limit_s", &form.time_limit_s, "a whole number of seconds")?;
    if !(1..=MAX_TIME_LIMIT_S).contains(&time_limit_s) {
        return Err(ApiError::bad_request("time_limit_s", format!("`time_limit_s`: {time_limit_s} is not between 1 and {MAX_TIME_LIMIT_S}")));
    }
    let period = Period { tenant, from, weeks, sl_target: sl_percent / 100.0, threshold_s, time_limit: std::time::Duration::from_secs(time_limit_s.into()) };
    plans::start(&state, &page.signed, period, form.reschedule.is_some()).await?;
    Ok(Redirect::to("/plan").into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishForm {
    csrf: Option<String>,
}

/// `POST /plan/publish`: the draft becomes the next roster version.
pub async fn plan_publish(State(state): State<AppState>, Extension(signed): Extension<Signed>, headers: HeaderMap, uri: Uri, form: Result<Form<PublishForm>, FormRejection>) -> Result<Response, ApiError> {
    let Form(form) = form.map_err(|e| ApiError::bad_request("body", e.body_text()))?;
    let _ = form.csrf;
    let page = PageContext::new(&state, signed, &headers, &uri, None).await?;
    let tenant = page.tenant()?.id.as_str().to_owned();
    let version = plans::publish(&state, &page.signed, &tenant).await?;
    Ok(Redirect::to(&format!("/roster?published={version}&version={version}")).into_response())
}

/// `GET /plan/{file}` (`forecast.csv`, `requirements.csv` or `roster.csv`): the latest finished
/// plan's file, as the next step read it.
pub async fn plan_file(State(state): State<AppState>, Extension(signed): Extension<Signed>, headers: HeaderMap, uri: Uri, axum::extract::Path(file): axum::extract::Path<String>) -> Result<Response, ApiError> {
    let page = PageContext::new(&state, signed, &headers, &uri, None).await?;
    let tenant = page.tenant()?.id.as_str().to_owned();
    let text = {
        let runs = state.plans.lock();
        let Some(RunState::Done { planned, .. }) = runs.get(&tenant).map(|r| &r.state) else {
            return Err(ApiError::status(axum::http::StatusCode::NOT_FOUND, None, "no finished plan: make one first"));
        };
        match file.as_str() {
            "forecast.csv" => planned.forecast_csv.clone(),
            "requirements.csv" => planned.requirements_csv.clone(),
            "roster.csv" => planned.roster_csv.clone(),
            other => return Err(ApiError::status(axum::http::StatusCode::NOT_FOUND, Some("file"), format!("{other:?} is not forecast.csv, requirements.csv or roster.csv"))),
        }
    };
    Ok(super::dashboard::csv_file(&format!("plan-{tenant}-{}", file.trim_end_matches(".csv")), text.into_bytes()))
}
