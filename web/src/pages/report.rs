//! The manager's queue report (`/report`, requirements §2): per queue and interval, the answer
//! rate, the 15 s and 60 s answer rates, abandoned within 15 s, average talk and the average
//! waits of answered and abandoned calls, from `wfm stats --queue-report`'s function
//! (`wfm_analytics::stats::queue_report`); its CSV and XLSX exports hold the same rows.

use super::dashboard::{csv_file, percent, query_of, seconds, xlsx_file, DashboardQuery, Options};
use super::PageContext;
use crate::auth::Signed;
use crate::i18n::Words;
use crate::{internal, ApiError, AppState};
use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use axum::Extension;
use std::sync::Arc;
use wfm_analytics::stats::{queue_report, write_csv, QueueReportRow};

struct Row {
    queue: String,
    interval: String,
    offered: u64,
    answered: u64,
    answer_rate: String,
    answered_15s: String,
    answered_60s: String,
    abandoned_15s: String,
    talk_s: String,
    answered_wait_s: String,
    abandoned_wait_s: String,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage<'a> {
    t: &'a Words,
    tenant_param: Option<String>,
    from: String,
    to: String,
    interval: String,
    queue: String,
    /// Answered within 15 s per queue and interval (SVG).
    chart: String,
    rows: Vec<Row>,
    export_query: String,
    same_as: String,
}

/// The page's options and rows.
async fn report_rows(state: &AppState, page: &PageContext, q: &DashboardQuery) -> Result<(Options, Arc<Vec<QueueReportRow>>), ApiError> {
    if q.threshold_s.is_some() {
        return Err(ApiError::bad_request("threshold_s", "the queue report's thresholds are 15 s and 60 s; the dashboard takes one of your choice"));
    }
    let (options, query) = query_of(state, page, q)?;
    let rows = state.stats_cache.reports.get_or_compute(&state.store, query, queue_report).await?;
    Ok((options, rows))
}

/// `GET /report`.
pub async fn report(State(state): State<AppState>, Extension(signed): Extension<Signed>, headers: HeaderMap, uri: Uri, query: Result<Query<DashboardQuery>, QueryRejection>) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request("query", e.body_text()))?;
    let page = PageContext::new(&state, signed, &headers, &uri, q.tenant.as_deref()).await?;
    let (options, rows) = report_rows(&state, &page, &q).await?;
    let t = &page.t;
    let tenant_id = page.tenant()?.id.to_string();
    let tenant_param = page.signed.caller.user.tenant.is_none().then(|| tenant_id.clone());
    let export_query = options.export_query(tenant_param.as_deref(), false)?;
    let chart = super::chart::per_queue(&rows, |r| (&*r.queue, &*r.interval_start), |r| r.answered_15s_rate, &t.get("report-chart-title"), None).map_err(internal)?;
    let rows = rows
        .iter()
        .map(|r| Row {
            queue: r.queue.to_string(),
            interval: r.interval_start.get(..16).unwrap_or(&r.interval_start).replace('T', " "),
            offered: r.offered,
            answered: r.answered,
            answer_rate: percent(r.answer_rate),
            answered_15s: percent(r.answered_15s_rate),
            answered_60s: percent(r.answered_60s_rate),
            abandoned_15s: percent(r.abandoned_15s_rate),
            talk_s: seconds(r.avg_talk_s),
            answered_wait_s: seconds(r.avg_answered_wait_s),
            abandoned_wait_s: seconds(r.avg_abandoned_wait_s),
        })
        .collect();
    let same_as = t.with("report-same", &[("tenant", &tenant_id)]);
    let body = ReportPage { t, tenant_param, from: options.from, to: options.to, interval: options.interval, queue: options.queue, chart, rows, export_query, same_as };
    page.render(&t.get("report-title"), &body)
}

/// The report's rows as `wfm stats --queue-report` writes them, and a file name.
async fn csv_export(state: &AppState, signed: Signed, headers: &HeaderMap, uri: &Uri, query: Result<Query<DashboardQuery>, QueryRejection>) -> Result<(Vec<u8>, String), ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request("query", e.body_text()))?;
    let page = PageContext::new(state, signed, headers, uri, q.tenant.as_deref()).await?;
    let (options, rows) = report_rows(state, &page, &q).await?;
    let mut csv = Vec::new();
    write_csv(&rows, &mut csv).map_err(internal)?;
    Ok((csv, format!("queue-report-{}-{}-{}", page.tenant()?.id, options.from, options.to)))
}

/// `GET /report.csv`.
pub async fn report_csv(State(state): State<AppState>, Extension(signed): Extension<Signed>, headers: HeaderMap, uri: Uri, query: Result<Query<DashboardQuery>, QueryRejection>) -> Result<Response, ApiError> {
    let (csv, name) = csv_export(&state, signed, &headers, &uri, query).await?;
    Ok(csv_file(&name, csv))
}

/// `GET /report.xlsx`: the CSV's rows and columns, numbers as numbers.
pub async fn report_xlsx(State(state): State<AppState>, Extension(signed): Extension<Signed>, headers: HeaderMap, uri: Uri, query: Result<Query<DashboardQuery>, QueryRejection>) -> Result<Response, ApiError> {
    let (csv, name) = csv_export(&state, signed, &headers, &uri, query).await?;
    xlsx_file(&name, csv).await
}
