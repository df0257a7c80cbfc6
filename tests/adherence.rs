//! Adherence end to end: agents' states imported from an Asterisk queue_log (member interfaces
//! mapped to agent ids), a roster published, `wfm adherence` and the HTTP rows agreeing, with
//! the figures worked out by hand; the routes refuse no credentials, the wrong tenant and the
//! wrong role.

mod common;

use common::{add_user, ok, p, run, Server};
use serde_json::Value;
use std::fs;
use std::path::Path;

/// 2026-03-02 09:00 in Warsaw (UTC+1).
const NINE: i64 = 1_772_438_400;

fn queue_log() -> String {
    let line = |offset_s: i64, agent: &str, event: &str, data: &str| format!("{}|NONE|support|{agent}|{event}|{data}\n", NINE + offset_s);
    [
        // 2001: logged in 10 minutes late, worked 10 minutes past the shift's end.
        line(600, "SIP/2001", "ADDMEMBER", ""),
        line(4200, "SIP/2001", "REMOVEMEMBER", ""),
        // 2002: on time, a 5-minute break taken during work.
        line(0, "PJSIP/2002", "ADDMEMBER", ""),
        line(1800, "PJSIP/2002", "PAUSE", "break"),
        line(2100, "PJSIP/2002", "UNPAUSE", ""),
        line(3600, "PJSIP/2002", "REMOVEMEMBER", ""),
        // 2003, named `SIP/anna-desk` on the PBX: left after half an hour.
        line(0, "SIP/anna-desk", "ADDMEMBER", ""),
        line(1800, "SIP/anna-desk", "REMOVEMEMBER", ""),
    ]
    .concat()
}

fn roster(agents: &[&str]) -> String {
    let mut csv = "agent_id,date,activity,start,end\n".to_owned();
    for agent in agents {
        csv.push_str(&format!("{agent},2026-03-02,work,2026-03-02T09:00:00+01:00,2026-03-02T10:00:00+01:00\n"));
    }
    csv
}

/// Imports the day into `data`'s store as tenant `acme`.
fn import_day(data: &Path) {
    fs::create_dir_all(data).unwrap();
    fs::write(data.join("queue_log"), queue_log()).unwrap();
    fs::write(data.join("members.csv"), "interface,agent_id\nSIP/anna-desk,2003\n").unwrap();
    let (log, map) = (data.join("queue_log"), data.join("members.csv"));
    ok(&["import", "--data", p(data), "--tenant", "acme", "--tz", "Europe/Warsaw", "--format", "queue-log", "--agent-map", p(&map), p(&log)]);
}

fn by_agent(rows: &[Value]) -> std::collections::BTreeMap<String, Value> {
    rows.iter().map(|r| (r["agent_id"].as_str().unwrap().to_owned(), r.clone())).collect()
}

#[test]
fn the_report_has_the_figures_worked_out_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    import_day(&data);
    let roster_file = dir.path().join("roster.csv");
    fs::write(&roster_file, roster(&["2001", "2002", "2003", "2004"])).unwrap();
    let args = |extra: &[&str]| {
        let mut all = vec!["adherence", "--data", p(&data), "--tenant", "acme", "--roster", p(&roster_file), "--from", "2026-03-02", "--to", "2026-03-03"];
        all.extend_from_slice(extra);
        all.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    let run_args = |extra: &[&str]| ok(&args(extra).iter().map(String::as_str).collect::<Vec<_>>());
    let rows: Vec<Value> = serde_json::from_str(&run_args(&["--format", "json"])).unwrap();
    let rows = by_agent(&rows);
    assert_eq!(rows.keys().collect::<Vec<_>>(), ["2001", "2002", "2003", "2004"], "interfaces became agent ids");
    let figures = |agent: &str, keys: &[&str]| keys.iter().map(|k| rows[agent][*k].clone()).collect::<Vec<_>>();
    let keys = ["scheduled_s", "exception_s", "outside_exception_s", "late_s", "early_leave_s", "overtime_s", "absent"];
    assert_eq!(figures("2001", &keys), serde_json::json!([3600, 1200, 600, 600, 0, 600, false]).as_array().unwrap().clone());
    assert!((rows["2001"]["adherence"].as_f64().unwrap() - (1.0 - 1200.0 / 4200.0)).abs() < 1e-9, "the published 71.4 % case");
    assert_eq!(figures("2002", &keys), serde_json::json!([3600, 300, 0, 0, 0, 0, false]).as_array().unwrap().clone());
    assert_eq!(rows["2002"]["conformance"].as_f64().unwrap(), 3300.0 / 3600.0);
    assert_eq!(figures("2003", &keys), serde_json::json!([3600, 1800, 0, 0, 1800, 0, false]).as_array().unwrap().clone());
    assert_eq!(figures("2004", &["exception_s", "absent", "adherence"]), serde_json::json!([3600, true, 0.0]).as_array().unwrap().clone());

    let csv = run_args(&[]);
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().starts_with("agent_id,date,scheduled_s,exception_s,outside_exception_s,excused_s,adherence,conformance"));
    assert!(lines.next().unwrap().starts_with("2001,2026-03-02,3600,1200,600,0,0.714285"), "{csv}");

    let exceptions: Vec<Value> = serde_json::from_str(&run_args(&["--exceptions", "--format", "json"])).unwrap();
    let of_2002: Vec<&Value> = exceptions.iter().filter(|e| e["agent_id"] == "2002").collect();
    assert_eq!(of_2002.len(), 1);
    assert_eq!((of_2002[0]["start"].as_str(), of_2002[0]["end"].as_str()), (Some("2026-03-02T09:30:00+01:00"), Some("2026-03-02T09:35:00+01:00")));
    assert_eq!((of_2002[0]["scheduled_activity"].as_str(), of_2002[0]["actual_state"].as_str()), (Some("work"), Some("not_ready:break")));

    let whole: Vec<Value> = serde_json::from_str(&run_args(&["--by", "tenant", "--format", "json"])).unwrap();
    assert_eq!((whole[0]["agent_days"].as_u64(), whole[0]["exception_s"].as_i64(), whole[0]["absent_days"].as_u64()), (Some(4), Some(1200 + 300 + 1800 + 3600), Some(1)));

    // A threshold above 5 minutes hides 2002's break; an unknown key is named.
    let rules = dir.path().join("adherence.toml");
    fs::write(&rules, "exception_threshold_s = 301\n").unwrap();
    let strict: Vec<Value> = serde_json::from_str(&run_args(&["--rules", p(&rules), "--format", "json"])).unwrap();
    assert_eq!(by_agent(&strict)["2002"]["exception_s"], 0);
    fs::write(&rules, "exception_treshold_s = 30\n").unwrap();
    let out = run(&args(&["--rules", p(&rules)]).iter().map(String::as_str).collect::<Vec<_>>());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("adherence.toml") && err.contains("exception_treshold_s"), "{err}");
    // A bad roster line is named with its file, line and field.
    fs::write(&roster_file, "agent_id,date,activity,start,end\n2001,2026-03-02,lunch,2026-03-02T09:00:00+01:00,2026-03-02T10:00:00+01:00\n").unwrap();
    let out = run(&args(&[]).iter().map(String::as_str).collect::<Vec<_>>());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("roster.csv:2") && err.contains("activity"), "{err}");
}

#[test]
fn published_versions_are_what_the_api_judges_by() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    import_day(&data);
    let first = dir.path().join("roster.csv");
    fs::write(&first, roster(&["2001", "2002"])).unwrap();
    let out = run(&["adherence", "--data", p(&data), "--tenant", "acme", "--from", "2026-03-02", "--to", "2026-03-03"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no published roster"), "nothing published yet");
    let published: Value = serde_json::from_str(&ok(&["roster", "publish", "--data", p(&data), "--tenant", "acme", "--roster", p(&first)])).unwrap();
    assert_eq!((published["version"].as_i64(), published["first_date"].as_str(), published["activities"].as_i64()), (Some(1), Some("2026-03-02"), Some(2)));
    let cli: Value = serde_json::from_str(&ok(&["adherence", "--data", p(&data), "--tenant", "acme", "--from", "2026-03-02", "--to", "2026-03-03", "--format", "json"])).unwrap();

    // The first start makes the demo's users (and the platform administrator); then acme's.
    let server = Server::start(&data, &["--demo-days", "0"]);
    for (login, role) in [("sup", "supervisor"), ("plan", "planner")] {
        add_user(&data, &["--tenant", "acme", "--login", login, "--role", role], "a long password");
    }
    add_user(&data, &["--tenant", "acme", "--login", "2001", "--role", "agent", "--agent-id", "2001"], "a long password");
    let token = |login: &str| format!("Authorization: Bearer {}", server.token_of_with(Some("acme"), login, "a long password"));
    let (sup, plan, agent) = (token("sup"), token("plan"), token("2001"));
    let path = "/api/v1/tenants/acme/adherence?from=2026-03-02&to=2026-03-03";
    let (status, body) = server.request("GET", path, &[&sup], "");
    assert_eq!(status, 200, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), cli, "the API's rows are the CLI's");

    // Refused: no credentials, another tenant's supervisor, an agent, a supervisor publishing.
    assert_eq!(server.get(path).0, 401);
    let demo_supervisor = format!("Authorization: Bearer {}", server.token_of(Some("demo"), "supervisor"));
    assert_eq!(server.request("GET", path, &[&demo_supervisor], "").0, 404);
    assert_eq!(server.request("GET", path, &[&agent], "").0, 403);
    assert_eq!(server.request("POST", "/api/v1/tenants/acme/rosters", &[&sup], &roster(&["2001"])).0, 403);
    let (status, body) = server.request("GET", "/api/v1/tenants/acme/adherence?from=2026-03-02", &[&sup], "");
    assert_eq!((status, serde_json::from_str::<Value>(&body).unwrap()["field"].as_str()), (400, Some("to")));

    // A planner publishes version 2 with 2003 added; adherence is judged by it from then on.
    let (status, body) = server.request("POST", "/api/v1/tenants/acme/rosters", &[&plan], "agent_id,date,activity\n1,2,3\n");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("start") && body.contains("missing column"), "{body}");
    let (status, body) = server.request("POST", "/api/v1/tenants/acme/rosters", &[&plan], &roster(&["2001", "2002", "2003"]));
    assert_eq!(status, 201, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["published_by"], "acme/plan");
    let (_, body) = server.request("GET", path, &[&sup], "");
    let rows = by_agent(&serde_json::from_str::<Vec<Value>>(&body).unwrap());
    assert_eq!(rows["2003"]["early_leave_s"], 1800, "2003 is on the new version");
    let (_, body) = server.request("GET", "/api/v1/tenants/acme/rosters", &[&sup], "");
    let versions: Vec<Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(versions.iter().map(|v| v["version"].as_i64().unwrap()).collect::<Vec<_>>(), [2, 1], "earlier versions are kept");
    let (status, body) = server.request("GET", "/api/v1/tenants/acme/rosters/1", &[&sup], "");
    assert_eq!((status, body.as_str()), (200, roster(&["2001", "2002"]).as_str()));
    let (_, body) = server.request("GET", "/api/v1/tenants/acme/audit", &[&server.bearer()], "");
    assert!(body.contains("roster.publish"), "publishing is audited: {body}");
}
