//! The manager's service-level dashboard: the queue statistics of `wfm stats` (the same
//! function, options and figures) as a chart, its table, and CSV and XLSX exports of the rows.

use super::chart;
use super::PageContext;
use crate::auth::Signed;
use crate::i18n::Words;
use crate::stats::{parse_query, StatsParams};
use crate::{internal, ApiError, AppState};
use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use chrono::{Duration, Utc};
use serde::Deserialize;
use wfm_analytics::stats::{call_stats, period_stats, write_csv, QueueIntervalStats, StatsQuery};
use wfm_intraday::kpis::KpiSettings;

/// The dashboard's query: the options of `wfm stats`, each with a default, and the tenant
/// (platform administrators only).
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct DashboardQuery {
    pub(super) tenant: Option<String>,
    from: Option<String>,
    to: Option<String>,
    interval: Option<String>,
    queue: Option<String>,
    pub(super) threshold_s: Option<f64>,
}

/// The options filled in: the last seven days by the hour, the tenant's threshold.
pub(super) struct Options {
    pub(super) from: String,
    pub(super) to: String,
    pub(super) interval: String,
    pub(super) queue: String,
    threshold_s: f64,
    target: f64,
}

impl Options {
    /// The query string of the page's exports, with a platform administrator's tenant.
    pub(super) fn export_query(&self, tenant_param: Option<&str>, with_threshold: bool) -> Result<String, ApiError> {
        let mut export: Vec<(&str, String)> = vec![("from", self.from.clone()), ("to", self.to.clone()), ("interval", self.interval.clone())];
        if with_threshold {
            export.push(("threshold_s", self.threshold_s.to_string()));
        }
        if !self.queue.is_empty() {
            export.push(("queue", self.queue.clone()));
        }
        if let Some(tenant) = tenant_param {
            export.push(("tenant", tenant.to_owned()));
        }
        serde_urlencoded::to_string(&export).map_err(internal)
    }
}

/// The rows the query asks for, and the options they were computed with.
async fn rows(state: &AppState, page: &PageContext, q: &DashboardQuery) -> Result<(Options, std::sync::Arc<Vec<QueueIntervalStats>>), ApiError> {
    let (options, query) = query_of(state, page, q)?;
    let rows = state.stats_cache.queues.get_or_compute(&state.store, query, call_stats).await?;
    Ok((options, rows))
}

/// The options of the page's query, filled in, and the statistics query they make.
pub(super) fn query_of(state: &AppState, page: &PageContext, q: &DashboardQuery) -> Result<(Options, StatsQuery), ApiError> {
    let tenant = page.tenant()?;
    let kpis_file = state.data.join("tenants").join(tenant.id.as_str()).join("kpis.toml");
    let kpis = KpiSettings::load_or_default(&kpis_file).map_err(internal)?;
    let today = page.zone().local_date(Utc::now());
    let options = Options {
        from: q.from.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| (today - Duration::days(6)).to_string()),
        to: q.to.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| (today + Duration::days(1)).to_string()),
        interval: q.interval.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| "1h".to_owned()),
        queue: q.queue.clone().unwrap_or_default(),
        threshold_s: q.threshold_s.unwrap_or(kpis.threshold_s),
        target: kpis.service_level_target,
    };
    let params = StatsParams {
        from: Some(options.from.clone()),
        to: Some(options.to.clone()),
        interval: Some(options.interval.clone()),
        queue: Some(options.queue.clone()).filter(|s| !s.is_empty()),
        threshold_s: Some(options.threshold_s),
        short_abandon_s: Some(kpis.short_abandon_s),
    };
    Ok((options, parse_query(tenant.id.as_str(), &params)?))
}

/// The period shown against the one just before it, as long: per queue and figure, this
/// period, the previous one and the change. Each figure is the period's own (`period_stats`).
struct Comparison {
    about: String,
    rows: Vec<[String; 5]>,
}

async fn comparison(state: &AppState, page: &PageContext, q: &DashboardQuery, options: &Options) -> Result<Comparison, ApiError> {
    let date = |field: &'static str, s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| ApiError::bad_request(field, format!("{s:?} is not a date YYYY-MM-DD")));
    let (from, to) = (date("from", &options.from)?, date("to", &options.to)?);
    let previous_from = from - (to - from);
    let previous = DashboardQuery { from: Some(previous_from.to_string()), to: Some(from.to_string()), ..q.clone() };
    let ((_, this_query), (_, previous_query)) = (query_of(state, page, q)?, query_of(state, page, &previous)?);
    let this = state.stats_cache.periods.get_or_compute(&state.store, this_query, period_stats).await?;
    let before = state.stats_cache.periods.get_or_compute(&state.store, previous_query, period_stats).await?;
    let t = &page.t;
    let mut queues: Vec<&str> = this.iter().chain(before.iter()).map(|r| &*r.queue).collect();
    queues.sort_unstable();
    queues.dedup();
    let points = |a: Option<f64>, b: Option<f64>| a.zip(b).map_or_else(|| "–".to_owned(), |(a, b)| format!("{:+.1} pp", (a - b) * 100.0));
    let secs = |a: Option<f64>, b: Option<f64>| a.zip(b).map_or_else(|| "–".to_owned(), |(a, b)| format!("{:+.1} s", a - b));
    let mut rows = Vec::new();
    for queue in queues {
        let (now, then) = (this.iter().find(|r| &*r.queue == queue), before.iter().find(|r| &*r.queue == queue));
        let field = |f: fn(&QueueIntervalStats) -> Option<f64>| (now.and_then(f), then.and_then(f));
        let offered = (now.map_or(0, |r| r.offered), then.map_or(0, |r| r.offered));
        let change = if offered.1 > 0 { format!("{:+.1} %", (offered.0 as f64 / offered.1 as f64 - 1.0) * 100.0) } else { "–".to_owned() };
        rows.push([queue.to_owned(), t.get("col-offered"), offered.0.to_string(), offered.1.to_string(), change]);
        for (key, (a, b), as_share) in [
            ("col-sl", field(|r| r.service_level), true),
            ("col-abandon-rate", field(|r| r.abandon_rate), true),
            ("col-asa", field(|r| r.asa_s), false),
            ("col-aht", field(|r| r.aht_s), false),
        ] {
            let (shown_a, shown_b, change) = if as_share { (percent(a), percent(b), points(a, b)) } else { (seconds(a), seconds(b), secs(a, b)) };
            rows.push([queue.to_owned(), t.get(key), shown_a, shown_b, change]);
        }
    }
    let about = t.with("compare-about", &[("from", &options.from), ("to", &options.to), ("previous_from", &previous_from.to_string()), ("previous_to", &options.from)]);
    Ok(Comparison { about, rows })
}

/// A table row of the page: the CSV's figures, formatted.
struct Row {
    queue: String,
    interval: String,
    offered: u64,
    answered: u64,
    abandoned: u64,
    service_level: String,
    asa_s: String,
    abandon_rate: String,
    aht_s: String,
    max_wait_s: String,
}

pub(super) fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "–".to_owned(), |s| format!("{:.1} %", s * 100.0))
}

pub(super) fn seconds(s: Option<f64>) -> String {
    s.map_or_else(|| "–".to_owned(), |s| format!("{s:.1}"))
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage<'a> {
    t: &'a Words,
    tenant_param: Option<String>,
    from: String,
    to: String,
    interval: String,
    queue: String,
    queues: Vec<String>,
    threshold_s: f64,
    chart: String,
    rows: Vec<Row>,
    comparison: Comparison,
    export_query: String,
    same_as: String,
}

/// `GET /dashboard`.
pub async fn dashboard(State(state): State<AppState>, Extension(signed): Extension<Signed>, headers: HeaderMap, uri: Uri, query: Result<Query<DashboardQuery>, QueryRejection>) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request("query", e.body_text()))?;
    let page = PageContext::new(&state, signed, &headers, &uri, q.tenant.as_deref()).await?;
    let (options, rows) = rows(&state, &page, &q).await?;
    let comparison = comparison(&state, &page, &q, &options).await?;
    let t = &page.t;
    let mut queues: Vec<String> = rows.iter().map(|r| r.queue.to_string()).collect();
    queues.sort();
    queues.dedup();
    let target_percent = format!("{:.0}", options.target * 100.0);
    let target = Some((t.with("chart-target", &[("target", &target_percent)]), options.target));
    let chart = chart::per_queue(&rows, |r| (&*r.queue, &*r.interval_start), |r| r.service_level, &t.get("chart-title"), target).map_err(internal)?;
    let tenant_id = page.tenant()?.id.to_string();
    let tenant_param = page.signed.caller.user.tenant.is_none().then(|| tenant_id.clone());
    let export_query = options.export_query(tenant_param.as_deref(), true)?;
    let table = rows
        .iter()
        .map(|r| Row {
            queue: r.queue.to_string(),
            interval: r.interval_start.get(..16).unwrap_or(&r.interval_start).replace('T', " "),
            offered: r.offered,
            answered: r.answered,
            abandoned: r.abandoned,
            service_level: percent(r.service_level),
            asa_s: seconds(r.asa_s),
            abandon_rate: percent(r.abandon_rate),
            aht_s: seconds(r.aht_s),
            max_wait_s: seconds(r.max_wait_s),
        })
        .collect();
    let body = DashboardPage {
        t,
        tenant_param,
        from: options.from,
        to: options.to,
        interval: options.interval,
        queue: options.queue,
        queues,
        threshold_s: options.threshold_s,
        chart,
        rows: table,
        comparison,
        export_query,
        same_as: t.with("formula-same", &[("tenant", &tenant_id)]),
    };
    page.render(&t.get("dashboard-title"), &body)
}

/// The rows as `wfm stats` writes them (CSV), and a file name for them.
async fn csv_export(state: &AppState, signed: Signed, headers: &HeaderMap, uri: &Uri, query: Result<Query<DashboardQuery>, QueryRejection>) -> Result<(Vec<u8>, String), ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request("query", e.body_text()))?;
    let page = PageContext::new(state, signed, headers, uri, q.tenant.as_deref()).await?;
    let (options, rows) = rows(state, &page, &q).await?;
    let mut csv = Vec::new();
    write_csv(&rows, &mut csv).map_err(internal)?;
    Ok((csv, format!("service-level-{}-{}-{}", page.tenant()?.id, options.from, options.to)))
}

fn attachment(content_type: &'static str, name: &str, body: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, content_type.to_owned()), (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\""))], body).into_response()
}

/// A report's CSV as the download `NAME.csv`.
pub(super) fn csv_file(name: &str, csv: Vec<u8>) -> Response {
    attachment("text/csv; charset=utf-8", &format!("{name}.csv"), csv)
}

/// A report's CSV as the workbook `NAME.xlsx`: the same rows and columns, numbers as numbers.
pub(super) async fn xlsx_file(name: &str, csv: Vec<u8>) -> Result<Response, ApiError> {
    let xlsx = tokio::task::spawn_blocking(move || workbook_of_csv(&csv)).await.map_err(internal)?.map_err(internal)?;
    Ok(attachment("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", &format!("{name}.xlsx"), xlsx))
}

/// `GET /dashboard.csv`: the dashboard's rows, byte for byte what `wfm stats` prints.
pub async fn dashboard_csv(State(state): State<AppState>, Extension(signed): Extension<Signed>, headers: HeaderMap, uri: Uri, query: Result<Query<DashboardQuery>, QueryRejection>) -> Result<Response, ApiError> {
    let (csv, name) = csv_export(&state, signed, &headers, &uri, query).await?;
    Ok(csv_file(&name, csv))
}

/// `GET /dashboard.xlsx`: the same rows and columns as the CSV, numbers as numbers.
pub async fn dashboard_xlsx(State(state): State<AppState>, Extension(signed): Extension<Signed>, headers: HeaderMap, uri: Uri, query: Result<Query<DashboardQuery>, QueryRejection>) -> Result<Response, ApiError> {
    let (csv, name) = csv_export(&state, signed, &headers, &uri, query).await?;
    xlsx_file(&name, csv).await
}

/// A workbook of one sheet holding a CSV table: the header in bold and frozen, each cell that
/// reads as a number written as one.
fn workbook_of_csv(csv: &[u8]) -> Result<Vec<u8>, String> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    let bold = Format::new().set_bold();
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(csv);
    for (row, record) in reader.records().enumerate() {
        let record = record.map_err(|e| e.to_string())?;
        let row = u32::try_from(row).map_err(|e| e.to_string())?;
        for (col, cell) in record.iter().enumerate() {
            let col = u16::try_from(col).map_err(|e| e.to_string())?;
            match cell.parse::<f64>() {
                Ok(number) if row > 0 && number.is_finite() => sheet.write_number(row, col, number),
                _ if row == 0 => sheet.write_string_with_format(row, col, cell, &bold),
                _ => sheet.write_string(row, col, cell),
            }
            .map_err(|e| e.to_string())?;
        }
    }
    sheet.set_freeze_panes(1, 0).map_err(|e| e.to_string())?;
    workbook.save_to_buffer().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_workbook_holds_the_csv() {
        let xlsx = workbook_of_csv(b"queue,offered,service_level\nsales,12,0.75\nsupport,0,\n").unwrap();
        assert_eq!(&xlsx[..2], b"PK", "an XLSX file is a zip");
        assert!(xlsx.len() > 1000);
    }
}
