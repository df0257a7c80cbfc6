//! Data loads over HTTP: a queue_log or a calls CSV parsed by the importer `wfm import` uses
//! (`wfm_analytics::import::parse`: every line validated before anything is written), appended
//! to the store in one change, kept in the import journal and audited. The API's
//! `POST /api/v1/tenants/{tenant}/imports` and the planner's upload on `/plan` are this one call.

use crate::auth::Signed;
use crate::{internal, ApiError, AppState};
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use wfm_analytics::import::{self, BadLines, Format, MemberMap};
use wfm_model::TenantId;
use wfm_ops::imports::{ImportRun, Written};

/// What a load did.
#[derive(Debug, serde::Serialize)]
pub struct Loaded {
    #[serde(flatten)]
    pub run: ImportRun,
    /// Each line skipped, with its file, line, field and why (only when asked to skip).
    pub skipped: Vec<String>,
    /// queue_log: lines, calls still open at the end, events not mapped.
    pub notes: String,
}

/// Loads `bytes`, the file `file_name` of `format`, into the tenant's history. A bad line
/// refuses the whole file naming its line and field, unless `skip_bad`; nothing is written then.
pub async fn load(state: &AppState, signed: &Signed, tenant: &str, format: Format, file_name: &str, bytes: Bytes, skip_bad: bool) -> Result<Loaded, ApiError> {
    let started_at = chrono::Utc::now();
    let zone = state.db.tenant(tenant).await?.ok_or_else(|| ApiError::unknown_tenant(tenant))?.zone;
    let id = TenantId::parse(tenant).map_err(|e| ApiError::bad_request("tenant", e))?;
    let (store, name) = (state.store.clone(), std::path::PathBuf::from(file_name));
    let policy = if skip_bad { BadLines::Skip } else { BadLines::Stop };
    let began = std::time::Instant::now();
    // Parsing and writing a large file take seconds: not on the server's threads.
    let (parsed, report) = tokio::task::spawn_blocking(move || {
        let parsed = import::parse(format, &[(name.as_path(), &bytes)], zone, &MemberMap::default(), policy).map_err(|e| ApiError::bad_request("file", e))?;
        store.ensure_tenant(&id, zone).map_err(|e| ApiError::status(StatusCode::CONFLICT, Some("tenant"), e))?;
        let report = store.append(&id, &parsed.calls, &parsed.states).map_err(internal)?;
        Ok::<_, ApiError>((parsed, report))
    })
    .await
    .map_err(internal)??;
    let written = Written { calls: report.calls_written, calls_duplicate: report.calls_duplicate, states: report.states_written, states_duplicate: report.states_duplicate };
    let run = ImportRun::began(tenant, started_at, format.as_str(), file_name.to_owned()).finished(written, parsed.skipped.len(), began.elapsed().as_secs_f64());
    state.db.record_import(&run).await.map_err(internal)?;
    let detail = format!("{} ({}): {} calls ({} already present), {} agent-state periods, {} bad lines skipped", file_name, format.as_str(), run.calls_written, run.calls_duplicate, run.states_written, run.skipped_lines);
    state.db.audit(&signed.audit(tenant, "import", &format!("import/{}", run.id), &detail)).await?;
    Ok(Loaded { run, skipped: parsed.skipped.iter().map(ToString::to_string).collect(), notes: parsed.notes })
}

/// A format named in a request.
pub fn format_of(field: &'static str, name: &str) -> Result<Format, ApiError> {
    Format::parse(name).ok_or_else(|| ApiError::bad_request(field, format!("{name:?} is not queue-log or csv")))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadParams {
    format: String,
    /// The file's name, for the journal and the errors.
    name: Option<String>,
    skip_bad: Option<bool>,
}

/// `POST /api/v1/tenants/{tenant}/imports?format=queue-log|csv[&name=FILE][&skip_bad=true]`,
/// the file as the body: `201` with the journal's entry, the skipped lines and the notes.
pub async fn create(State(state): State<AppState>, Extension(signed): Extension<Signed>, Path(tenant): Path<String>, params: Result<Query<LoadParams>, QueryRejection>, body: Bytes) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::bad_request("query", e.body_text()))?;
    let format = format_of("format", &params.format)?;
    let name = params.name.unwrap_or_else(|| "body".to_owned());
    let loaded = load(&state, &signed, &tenant, format, &name, body, params.skip_bad.unwrap_or(false)).await?;
    Ok((StatusCode::CREATED, Json(loaded)).into_response())
}
