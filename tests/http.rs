//! `wfm serve` driven over HTTP.

mod common;

use common::{ok, p, Server};
use serde_json::Value;

#[test]
fn serve_answers_health_tenants_and_the_same_stats_as_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--demo-days", "2"]);
    let (status, body) = server.get("/healthz");
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#));

    let (status, body) = server.get_authorized("/api/v1/tenants");
    assert_eq!(status, 200);
    let tenants: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(tenants[0]["tenant"], "demo");
    assert_eq!(tenants[0]["time_zone"], "Europe/Warsaw");

    // The demo history covers the two days before today.
    let today = chrono::Utc::now().date_naive();
    let (from, to) = ((today - chrono::Duration::days(2)).to_string(), today.to_string());
    let (status, body) = server.get_authorized(&format!("/api/v1/tenants/demo/stats?from={from}&to={to}&interval=60m"));
    assert_eq!(status, 200, "{body}");
    let api: Value = serde_json::from_str(&body).unwrap();
    let cli: Value = serde_json::from_str(&ok(&[
        "stats", "--store", p(&dir.path().join("store")), "--tenant", "demo", "--from", &from, "--to", &to,
        "--interval", "60m", "--format", "json",
    ]))
    .unwrap();
    assert_eq!(api, cli, "the API and the CLI compute figures with the same function");
    assert!(api.as_array().unwrap().iter().any(|r| r["offered"].as_u64().unwrap() > 0));

    let (status, body) = server.get_authorized(&format!("/api/v1/tenants/demo/agent-stats?from={from}&to={to}&interval=day"));
    assert_eq!(status, 200, "{body}");
    assert!(serde_json::from_str::<Value>(&body).unwrap().as_array().unwrap().len() > 5);
}

#[test]
fn the_journal_lists_generated_and_imported_history() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--demo-days", "1"]);
    assert!(dir.path().join("wfm.sqlite").exists(), "the operational database lives in the data directory");
    let csv = dir.path().join("calls.csv");
    std::fs::write(
        &csv,
        "call_id,arrived_at,queued_at,answered_at,ended_at,queue,agent_id,talk_s\n\
         x1,2026-03-02 09:00:00,2026-03-02 09:00:10,2026-03-02 09:00:30,2026-03-02 09:05:00,support,1001,250\n",
    )
    .unwrap();
    ok(&["import", "--data", p(dir.path()), "--tenant", "demo", "--tz", "Europe/Warsaw", "--format", "csv", p(&csv)]);
    let (status, body) = server.get_authorized("/api/v1/tenants/demo/imports");
    assert_eq!(status, 200, "{body}");
    let runs: Value = serde_json::from_str(&body).unwrap();
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 2, "{body}");
    assert_eq!((runs[0]["format"].as_str(), runs[0]["calls_written"].as_u64()), (Some("csv"), Some(1)));
    assert!(runs[0]["files"].as_str().unwrap().ends_with("calls.csv"));
    assert_eq!(runs[1]["format"], "generated");
    assert!(runs[1]["calls_written"].as_u64().unwrap() > 100);
}

#[test]
fn bad_requests_name_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--demo-days", "1"]);
    let cases = [
        ("/api/v1/tenants/demo/stats?to=2026-01-02", 400, "from"),
        ("/api/v1/tenants/demo/stats?from=2026-01-01&to=2026-01-02&interval=7m", 400, "interval"),
        ("/api/v1/tenants/demo/stats?from=2026-01-01&to=2026-01-02&queue=a%2Fb", 400, "queue"),
        ("/api/v1/tenants/demo/stats?from=2026-01-01&to=2026-01-02&threshold_s=abc", 400, "query"),
        ("/api/v1/tenants/demo/stats?from=2026-01-01&to=2026-01-02&colour=red", 400, "query"),
        ("/api/v1/tenants/nobody/stats?from=2026-01-01&to=2026-01-02", 404, "tenant"),
    ];
    for (path, status, field) in cases {
        let (got, body) = server.get_authorized(path);
        assert_eq!(got, status, "{path}: {body}");
        let error: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{path}: JSON error body, got {body}"));
        assert_eq!(error["field"], field, "{path}: {body}");
        assert!(!error["error"].as_str().unwrap().is_empty());
    }
    let (status, _) = server.get("/healthz");
    assert_eq!(status, 200, "still serving after bad requests");
}
