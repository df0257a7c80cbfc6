//! The supervisor's live day against a running `wfm serve`: a roster published for now, an
//! agent's live adherence, alarms raised at level 1 and escalated to level 2 on seconds-long
//! timers, acknowledged, cleared, kept across a restart in the middle of an escalation, on the
//! event stream; excused time and an agent's claim; incidents with their timers, moved agents
//! and deferred cases.

mod common;

use common::{browser_cookie, csrf_in, header, smtp_sink, Server, DEMO_PASSWORD};
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

const AGENT: &str = "1001";

fn bearer(token: &str) -> String {
    format!("Authorization: Bearer {token}")
}

/// A roster of one work activity from an hour ago to two hours ahead, for `AGENT`.
fn roster_for_now() -> String {
    let now = chrono::Utc::now();
    let (start, end) = (now - chrono::Duration::hours(1), now + chrono::Duration::hours(2));
    let date = wfm_model::TenantZone::parse("Europe/Warsaw").unwrap().local_date(start);
    format!("agent_id,date,activity,start,end\n{AGENT},{date},work,{},{}\n", start.to_rfc3339(), end.to_rfc3339())
}

fn json(server: &Server, auth: &str, path: &str) -> Value {
    let (status, body) = server.request("GET", path, &[auth], "");
    assert_eq!(status, 200, "GET {path}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// Polls `f` until it answers something, for at most `seconds`.
fn wait_for<T>(seconds: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        if let Some(t) = f() {
            return t;
        }
        assert!(Instant::now() < deadline, "{what} within {seconds} s");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn agent_live(server: &Server, auth: &str) -> Value {
    let board = json(server, auth, "/api/v1/tenants/demo/adherence/live");
    board["agents"].as_array().unwrap().iter().find(|a| a["agent_id"] == AGENT).cloned().expect("the agent is on the board")
}

fn alarm_of(server: &Server, auth: &str, rule: &str, state: &str) -> Option<Value> {
    let alarms = json(server, auth, &format!("/api/v1/tenants/demo/alarms?state={state}"));
    alarms.as_array().unwrap().iter().find(|a| a["rule"] == rule && a["subject"] == format!("agent:{AGENT}")).cloned()
}

/// The tenant's adherence and alarm events, read on a thread.
fn events(server: &Server) -> mpsc::Receiver<Value> {
    let mut stream = TcpStream::connect(&server.addr).unwrap();
    write!(stream, "GET /api/v1/tenants/demo/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n", server.token).unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { return };
            if let Some(json) = line.strip_prefix("data:").and_then(|d| serde_json::from_str::<Value>(d.trim()).ok())
                && (json["type"] == "alarm" || json["type"] == "adherence" || json["type"] == "incident")
                && tx.send(json).is_err()
            {
                return;
            }
        }
    });
    std::thread::sleep(Duration::from_millis(300));
    rx
}

const SECRET: &str = "a webhook secret of the test";

fn write_alarms(data: &Path, smtp: &str, webhook: &str) {
    let dir = data.join("tenants").join("demo");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("alarms.toml"),
        format!(
            "[[rule]]\nname = \"nr\"\nwhen = \"not_ready:*\"\nlonger_than_s = 1\nlevel2_after_s = 2\n\n\
             [[rule]]\nname = \"ooa\"\nwhen = \"out_of_adherence\"\nlonger_than_s = 1\nlevel2_after_s = 6\n\n\
             [email]\nsmtp = \"{smtp}\"\nfrom = \"wfm@centre.example\"\nsupervisors = [\"sup@centre.example\"]\n\
             managers = [\"boss@centre.example\"]\nagents = {{ \"{AGENT}\" = \"anna@centre.example\" }}\n\n\
             [webhook]\nurl = \"http://{webhook}/hooks/wfm\"\nsecret = \"{SECRET}\"\n"
        ),
    )
    .unwrap();
}

/// A local webhook receiver: each POST's path, signature header and body; answers 204.
fn webhook_sink() -> (String, mpsc::Receiver<(String, String, Vec<u8>)>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let (mut request_line, mut signature, mut length) = (String::new(), String::new(), 0);
            reader.read_line(&mut request_line).unwrap();
            loop {
                let mut header = String::new();
                reader.read_line(&mut header).unwrap();
                if header.trim().is_empty() {
                    break;
                }
                let (name, value) = header.split_once(':').unwrap();
                match name.to_ascii_lowercase().as_str() {
                    "content-length" => length = value.trim().parse().unwrap(),
                    "x-wfm-signature" => signature = value.trim().to_owned(),
                    _ => {}
                }
            }
            let mut body = vec![0; length];
            std::io::Read::read_exact(&mut reader, &mut body).unwrap();
            stream.write_all(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n").unwrap();
            let path = request_line.split_whitespace().nth(1).unwrap_or_default().to_owned();
            if tx.send((path, signature, body)).is_err() {
                return;
            }
        }
    });
    (addr, rx)
}

#[test]
fn alarms_escalate_are_acknowledged_and_outlive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (smtp, mails) = smtp_sink();
    let (webhook, hooks) = webhook_sink();
    write_alarms(&data, &smtp, &webhook);
    let mut server = Server::start(&data, &["--demo-days", "0"]);
    let planner = bearer(&server.token_of(Some("demo"), "planner"));
    let supervisor = bearer(&server.token_of(Some("demo"), "supervisor"));
    let stream = events(&server);

    let (status, body) = server.request("POST", "/api/v1/tenants/demo/rosters", &[&planner], &roster_for_now());
    assert_eq!(status, 201, "{body}");
    // The board takes the new version within seconds: the agent, logged out, is out of adherence.
    let status = wait_for(10, "the published roster on the board", || {
        let a = agent_live(&server, &supervisor);
        (a["scheduled_activity"] == "work").then_some(a)
    });
    assert_eq!((status["state"].as_str(), status["in_adherence"].as_bool()), (Some("logged_out"), Some(false)), "{status}");
    assert!(status["today"]["exception_s"].as_i64().unwrap() >= 3599, "an hour of the shift missed so far: {status}");

    // Out of adherence for a second: level 1 for the agent and the supervisors.
    let raised = wait_for(10, "the out-of-adherence alarm", || alarm_of(&server, &supervisor, "ooa", "open"));
    assert_eq!(raised["level"], 1, "{raised}");

    // Restarted in the middle of the escalation: the same alarm is still open and reaches level 2.
    drop(stream);
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let server = Server::start(&data, &["--demo-days", "0"]);
    let supervisor = bearer(&server.token_of(Some("demo"), "supervisor"));
    let manager = bearer(&server.token_of(Some("demo"), "manager"));
    let escalated = wait_for(15, "level 2 after the restart", || alarm_of(&server, &supervisor, "ooa", "open").filter(|a| a["level"] == 2));
    assert_eq!((escalated["id"].as_str(), escalated["raised_ms"].as_i64()), (raised["id"].as_str(), raised["raised_ms"].as_i64()), "the timeline continues");
    assert!(escalated["escalated_ms"].as_i64().unwrap() >= raised["raised_ms"].as_i64().unwrap() + 6000);
    let all = json(&server, &supervisor, "/api/v1/tenants/demo/alarms?state=all");
    assert_eq!(all.as_array().unwrap().iter().filter(|a| a["rule"] == "ooa").count(), 1, "not raised twice: {all}");

    // Not ready past a second: level 1, then level 2 for the manager, unless acknowledged.
    let stream = events(&server);
    let set = |state: &str| server.request("POST", &format!("/api/v1/tenants/demo/agents/{AGENT}/state"), &[&supervisor], state);
    assert_eq!(set(r#"{"state":"not-ready","reason":"lunch"}"#).0, 200);
    let nr = wait_for(10, "the not-ready alarm", || alarm_of(&server, &manager, "nr", "open"));
    let escalated = wait_for(10, "its level 2", || alarm_of(&server, &manager, "nr", "open").filter(|a| a["level"] == 2));
    assert_eq!(escalated["id"], nr["id"]);
    let ack_path = format!("/api/v1/tenants/demo/alarms/{}/ack", nr["id"].as_str().unwrap());
    let agent = bearer(&server.token_of_with(Some("demo"), AGENT, DEMO_PASSWORD));
    assert_eq!(server.request("POST", &ack_path, &[&agent], "").0, 403, "an agent does not acknowledge");
    let (status, body) = server.request("POST", &ack_path, &[&manager], "");
    assert_eq!(status, 200, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["acknowledged_by"], "demo/manager");
    assert_eq!(server.request("POST", "/api/v1/tenants/demo/alarms/no-such-alarm/ack", &[&manager], "").0, 404);

    // Ready again: the not-ready alarm clears; ready during work is in adherence, so `ooa` clears.
    assert_eq!(set(r#"{"state":"ready"}"#).0, 200);
    wait_for(10, "both alarms cleared", || (alarm_of(&server, &supervisor, "nr", "open").is_none() && alarm_of(&server, &supervisor, "ooa", "open").is_none()).then_some(()));
    let kept = alarm_of(&server, &supervisor, "nr", "all").unwrap();
    assert!(kept["cleared_ms"].as_i64().is_some() && kept["acknowledged_ms"].as_i64().is_some(), "{kept}");
    let now = agent_live(&server, &supervisor);
    assert_eq!((now["state"].as_str(), now["in_adherence"].as_bool()), (Some("ready"), Some(true)), "{now}");

    // The event stream carried the agent's adherence and each alarm change.
    let seen: Vec<Value> = std::iter::from_fn(|| stream.recv_timeout(Duration::from_secs(2)).ok()).collect();
    let changes: Vec<(String, String)> =
        seen.iter().filter(|e| e["type"] == "alarm" && e["alarm"] == "nr").map(|e| (e["change"].as_str().unwrap().to_owned(), e["level"].to_string())).collect();
    assert_eq!(changes, [("raised", "1"), ("escalated", "2"), ("acknowledged", "2"), ("cleared", "2")].map(|(c, l)| (c.to_owned(), l.to_owned())));
    let level2 = seen.iter().find(|e| e["alarm"] == "nr" && e["change"] == "escalated").unwrap();
    assert!(level2["recipients"].as_array().unwrap().iter().any(|r| r == "role:manager"), "{level2}");
    assert!(seen.iter().any(|e| e["type"] == "adherence" && e["agent_id"] == AGENT && e["state"] == "not_ready:lunch" && e["in_adherence"] == false));

    // Acknowledging is audited; the routes refuse no credentials and the wrong role.
    let (_, audit) = server.request("GET", "/api/v1/tenants/demo/audit", &[&server.bearer()], "");
    assert!(audit.contains("alarm.ack"), "{audit}");
    assert_eq!(server.get("/api/v1/tenants/demo/alarms").0, 401);
    let planner = bearer(&server.token_of(Some("demo"), "planner"));
    assert_eq!(server.request("GET", "/api/v1/tenants/demo/alarms", &[&planner], "").0, 403);
    let (status, body) = server.request("GET", "/api/v1/tenants/demo/alarms?state=closed", &[&supervisor], "");
    assert_eq!((status, serde_json::from_str::<Value>(&body).unwrap()["field"].as_str()), (400, Some("state")));

    // E-mail on each raise and escalation: level 1 to the agent and the supervisors, level 2 to
    // the managers too; received by the local SMTP sink.
    let mails: Vec<(Vec<String>, String)> = std::iter::from_fn(|| mails.recv_timeout(Duration::from_secs(2)).ok()).collect();
    let about_nr: Vec<&(Vec<String>, String)> = mails.iter().filter(|(_, text)| text.contains("rule: nr")).collect();
    assert_eq!(about_nr.len(), 2, "{mails:?}");
    assert_eq!(about_nr[0].0, ["anna@centre.example", "sup@centre.example"]);
    assert!(about_nr[0].1.contains("level 1 alarm") && about_nr[0].1.contains("not_ready:lunch"), "{}", about_nr[0].1);
    assert_eq!(about_nr[1].0, ["anna@centre.example", "sup@centre.example", "boss@centre.example"]);
    assert!(about_nr[1].1.contains("level 2 alarm"), "{}", about_nr[1].1);
    // Every change to the webhook, signed with the tenant's secret.
    let posts: Vec<(String, String, Vec<u8>)> = std::iter::from_fn(|| hooks.recv_timeout(Duration::from_secs(2)).ok()).collect();
    for (path, signature, body) in &posts {
        assert_eq!(path, "/hooks/wfm");
        assert_eq!(signature, &format!("sha256={}", wfm_web::delivery::signature(SECRET, body)));
    }
    let nr_changes: Vec<String> = posts
        .iter()
        .map(|(_, _, body)| serde_json::from_slice::<Value>(body).unwrap())
        .filter(|e| e["alarm"] == "nr")
        .map(|e| e["change"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(nr_changes, ["raised", "escalated", "acknowledged", "cleared"]);
}

#[test]
fn excused_time_and_claims() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data, &["--demo-days", "0"]);
    let planner = bearer(&server.token_of(Some("demo"), "planner"));
    let supervisor = bearer(&server.token_of(Some("demo"), "supervisor"));
    let agent = bearer(&server.token_of(Some("demo"), AGENT));
    assert_eq!(server.request("POST", "/api/v1/tenants/demo/rosters", &[&planner], &roster_for_now()).0, 201);
    let before = wait_for(10, "the roster on the board", || {
        let a = agent_live(&server, &supervisor);
        (a["scheduled_activity"] == "work").then_some(a)
    });
    assert_eq!(before["today"]["excused_s"], 0);

    // The supervisor excuses the last half hour: it is no longer counted.
    let now = chrono::Utc::now();
    let span = |minutes: i64| (now - chrono::Duration::minutes(minutes)).to_rfc3339();
    let body = serde_json::json!({ "agent": AGENT, "start": span(30), "end": now.to_rfc3339(), "reason": "CRM down" }).to_string();
    let excusals = "/api/v1/tenants/demo/adherence/excusals";
    let (status, reply) = server.request("POST", excusals, &[&supervisor], &body);
    assert_eq!(status, 201, "{reply}");
    assert_eq!(serde_json::from_str::<Value>(&reply).unwrap()["status"], "approved");
    let after = agent_live(&server, &supervisor);
    assert!((1795..=1805).contains(&after["today"]["excused_s"].as_i64().unwrap()), "{after}");
    assert!(after["today"]["exception_s"].as_i64().unwrap() <= before["today"]["exception_s"].as_i64().unwrap() - 1795 + 5, "{after}");

    // The agent sees their own live adherence, no one else's, and claims the half hour before.
    let own = format!("/api/v1/tenants/demo/agents/{AGENT}/adherence/live");
    assert_eq!(server.request("GET", &own, &[&agent], "").0, 200);
    assert_eq!(server.request("GET", "/api/v1/tenants/demo/agents/1002/adherence/live", &[&agent], "").0, 403);
    assert_eq!(server.request("GET", "/api/v1/tenants/demo/adherence/live", &[&agent], "").0, 403);
    assert_eq!(server.request("POST", excusals, &[&agent], &body).0, 403, "an agent does not excuse");
    let claim = serde_json::json!({ "start": span(60), "end": span(30), "reason": "coaching with the team lead" }).to_string();
    let (status, reply) = server.request("POST", &format!("/api/v1/tenants/demo/agents/{AGENT}/adherence/claims"), &[&agent], &claim);
    assert_eq!(status, 201, "{reply}");
    let claimed: Value = serde_json::from_str(&reply).unwrap();
    assert_eq!(claimed["status"], "pending");
    assert_eq!(server.request("POST", "/api/v1/tenants/demo/agents/1002/adherence/claims", &[&agent], &claim).0, 403);
    let bad = serde_json::json!({ "start": "yesterday", "end": span(30), "reason": "x" }).to_string();
    let (status, reply) = server.request("POST", &format!("/api/v1/tenants/demo/agents/{AGENT}/adherence/claims"), &[&agent], &bad);
    assert_eq!((status, serde_json::from_str::<Value>(&reply).unwrap()["field"].as_str()), (400, Some("start")));

    // Pending: not counted until approved; approved once only.
    assert!((1795..=1805).contains(&agent_live(&server, &supervisor)["today"]["excused_s"].as_i64().unwrap()));
    let approve = format!("{excusals}/{}/approve", claimed["id"].as_str().unwrap());
    let (status, reply) = server.request("POST", &approve, &[&supervisor], "");
    assert_eq!(status, 200, "{reply}");
    assert!((3595..=3605).contains(&agent_live(&server, &supervisor)["today"]["excused_s"].as_i64().unwrap()));
    let (status, reply) = server.request("POST", &approve, &[&supervisor], "");
    assert_eq!((status, serde_json::from_str::<Value>(&reply).unwrap()["field"].as_str()), (400, Some("id")), "{reply}");

    let today = wfm_model::TenantZone::parse("Europe/Warsaw").unwrap().local_date(now);
    // From yesterday: in the first hour after local midnight the claim is on the day before.
    let yesterday = today - chrono::Duration::days(1);
    let listed = json(&server, &supervisor, &format!("{excusals}?from={yesterday}&to={}", today + chrono::Duration::days(1)));
    assert_eq!(listed.as_array().unwrap().iter().map(|e| e["status"].as_str().unwrap()).collect::<Vec<_>>(), ["approved", "approved"]);
    let (_, audit) = server.request("GET", "/api/v1/tenants/demo/audit", &[&server.bearer()], "");
    assert!(audit.contains("adherence.excuse") && audit.contains("adherence.claim") && audit.contains("adherence.claim.approve"), "{audit}");

    // `wfm adherence` counts the same approved hour, read from the operational database.
    let tomorrow = today + chrono::Duration::days(1);
    let rows = common::ok(&["adherence", "--data", common::p(&data), "--tenant", "demo", "--from", &yesterday.to_string(), "--to", &tomorrow.to_string(), "--format", "json"]);
    let rows: Vec<Value> = serde_json::from_str(&rows).unwrap();
    let excused: i64 = rows.iter().filter(|r| r["agent_id"] == AGENT).map(|r| r["excused_s"].as_i64().unwrap_or(0)).sum();
    assert!((3595..=3605).contains(&excused), "{rows:?}");
}

/// The supervisor's page: the open alarm acknowledged, the out-of-adherence agent first in the
/// grid and forced ready from it, a span excused; agents and planners may not.
#[test]
fn supervisors_act_on_the_agents_page() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let tenant_files = data.join("tenants").join("demo");
    std::fs::create_dir_all(&tenant_files).unwrap();
    std::fs::write(tenant_files.join("alarms.toml"), "[[rule]]\nname = \"ooa\"\nwhen = \"out_of_adherence\"\nlonger_than_s = 1\nlevel2_after_s = 600\n").unwrap();
    let server = Server::start(&data, &["--demo-days", "0"]);
    let planner = bearer(&server.token_of(Some("demo"), "planner"));
    let supervisor = bearer(&server.token_of(Some("demo"), "supervisor"));
    assert_eq!(server.request("POST", "/api/v1/tenants/demo/rosters", &[&planner], &roster_for_now()).0, 201);
    let alarm = wait_for(10, "the out-of-adherence alarm", || alarm_of(&server, &supervisor, "ooa", "open"));
    let id = alarm["id"].as_str().unwrap();
    let form = "Content-Type: application/x-www-form-urlencoded";

    // The alarm with its form; the agent out of adherence at the top of the grid.
    let cookie = browser_cookie(&server, "demo", "supervisor");
    let (status, page) = server.request("GET", "/supervise", &[&cookie], "");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(&format!(r#"action="/supervise/alarms/{id}/ack""#)), "{page}");
    let grid = page.split(r#"<table id="agent-grid">"#).nth(1).unwrap_or_else(|| panic!("{page}"));
    let first = grid.split(r#"<tr id="agent-"#).nth(1).unwrap();
    assert!(first.starts_with(&format!(r#"{AGENT}" class="out""#)) && first.contains("out of adherence since") && first.contains("logged out"), "{first}");
    assert!(grid.contains(&format!(r#"action="/supervise/agents/{AGENT}/state""#)), "{grid}");

    // Acknowledged from the page: kept with who took it on, and offered no more.
    let csrf = csrf_in(&page);
    let (status, head, _) = server.exchange("POST", &format!("/supervise/alarms/{id}/ack"), &[&cookie, form], &format!("csrf={csrf}"));
    assert_eq!((status, header(&head, "location")), (303, Some("/supervise?done=ack")));
    let taken = alarm_of(&server, &supervisor, "ooa", "open").expect("acknowledged, still open");
    assert!(taken["acknowledged_by"].as_str().unwrap().contains("supervisor"), "{taken}");
    let (_, page) = server.request("GET", "/supervise?done=ack", &[&cookie], "");
    assert!(page.contains(r#"id="notice""#) && !page.contains(&format!(r#"action="/supervise/alarms/{id}/ack""#)), "{page}");

    // Forced ready: the ACD and the board have it, and the row moves down as in adherence.
    let state_path = format!("/supervise/agents/{AGENT}/state");
    let (status, head, _) = server.exchange("POST", &state_path, &[&cookie, form], &format!("csrf={csrf}&reason=&state=ready"));
    assert_eq!((status, header(&head, "location")), (303, Some(format!("/supervise?done=state&agent={AGENT}").as_str())));
    wait_for(5, "the agent in adherence", || (agent_live(&server, &supervisor)["in_adherence"] == true).then_some(()));
    let (_, page) = server.request("GET", "/supervise", &[&cookie], "");
    let row = page.split(&format!(r#"<tr id="agent-{AGENT}""#)).nth(1).unwrap();
    assert!(row.starts_with(r#" class="in""#) && row.contains("in adherence since"), "{row}");
    // Not ready needs its reason code; the error page says so.
    let (status, page) = server.request("POST", &state_path, &[&cookie, form], &format!("csrf={csrf}&reason=&state=not-ready"));
    assert!(status == 400 && page.contains("not-ready needs a reason code"), "{status} {page}");
    assert_eq!(server.request("POST", &state_path, &[&cookie, form], &format!("csrf={csrf}&reason=coaching&state=not-ready")).0, 303);
    assert_eq!(json(&server, &supervisor, &format!("/api/v1/tenants/demo/agents/{AGENT}/state"))["reason"], "coaching");

    // A span excused in the tenant's local time.
    let zone = wfm_model::TenantZone::parse("Europe/Warsaw").unwrap();
    let local = |minutes_ago: i64| zone.local_time(chrono::Utc::now() - chrono::Duration::minutes(minutes_ago)).format("%Y-%m-%dT%H:%M").to_string();
    let excuse = |start: &str| server.request("POST", "/supervise/excusals", &[&cookie, form], &format!("csrf={csrf}&agent={AGENT}&start={start}&end={}&reason=CRM+down", local(0)));
    let (status, page) = excuse("9am");
    assert!(status == 400 && page.contains("YYYY-MM-DDTHH:MM"), "{status} {page}");
    assert_eq!(excuse(&local(20)).0, 303);
    let today = zone.local_date(chrono::Utc::now());
    let listed = json(&server, &supervisor, &format!("/api/v1/tenants/demo/adherence/excusals?from={}&to={}", today - chrono::Duration::days(1), today + chrono::Duration::days(1)));
    let excused = &listed.as_array().unwrap()[0];
    assert_eq!((excused["status"].as_str(), excused["reason"].as_str(), excused["end_ms"].as_i64().unwrap() - excused["start_ms"].as_i64().unwrap()), (Some("approved"), Some("CRM down"), 20 * 60_000), "{listed}");
    let (_, audit) = server.request("GET", "/api/v1/tenants/demo/audit", &[&server.bearer()], "");
    assert!(["alarm.ack", "agent.state", "adherence.excuse"].iter().all(|a| audit.contains(a)), "{audit}");

    // In a real browser, by keyboard: a reason code and Enter put the agent not ready.
    let browser = common::browser::Driver::start();
    browser.open(&format!("http://{}/signin", server.addr));
    browser.type_into("#tenant", "demo");
    browser.type_into("#login", "supervisor");
    browser.type_into("#password", &format!("{DEMO_PASSWORD}\u{E007}"));
    browser.wait_for_url("/");
    browser.click("nav a[href='/supervise']");
    browser.wait_for_text("h1", "Agents and alarms");
    browser.type_into(&format!("#agent-{AGENT} input[name=reason]"), "meeting\u{E007}");
    browser.wait_for_text("#notice", &format!("Agent {AGENT}'s state was changed."));
    assert!(browser.text(&format!("#agent-{AGENT}")).contains("not ready (meeting)"), "{}", browser.text("#agent-grid"));
    browser.screenshot(&dir.path().join("supervise.png"));
    if let Ok(keep) = std::env::var("WFM_SCREENSHOTS") {
        std::fs::copy(dir.path().join("supervise.png"), Path::new(&keep).join("supervise.png")).unwrap();
    }
    assert_eq!(browser.console_errors(), Vec::<String>::new());

    // An agent may not see the page; a planner sees it without the forms and may not post them.
    let agent = browser_cookie(&server, "demo", AGENT);
    assert_eq!(server.request("GET", "/supervise", &[&agent], "").0, 403);
    let planner_page = browser_cookie(&server, "demo", "planner");
    let (status, page) = server.request("GET", "/supervise", &[&planner_page], "");
    assert!(status == 200 && page.contains(r#"id="agent-grid""#) && !page.contains("/supervise/agents/") && !page.contains("/supervise/excusals"), "{page}");
    let planner_csrf = csrf_in(&page);
    assert_eq!(server.request("POST", &state_path, &[&planner_page, form], &format!("csrf={planner_csrf}&state=ready")).0, 403);
}

/// A CRM failure reported for one agent: its timer goes to the senior manager (kept across a
/// restart, fired once), the agent is moved to the incident's not-ready code and back when it is
/// fixed, a deferred case taken during it is worked after recovery and the customer told by the
/// SMS hook (a command here).
#[test]
fn incidents_escalate_move_the_agent_and_defer_cases() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let tenant_files = data.join("tenants").join("demo");
    std::fs::create_dir_all(&tenant_files).unwrap();
    let sms_file = dir.path().join("sms.txt");
    std::fs::write(
        tenant_files.join("incidents.toml"),
        format!(
            "[[timer]]\nkinds = [\"crm\"]\nafter_s = 2\ntell = [\"role:senior-manager\"]\n[sms]\ncommand = [\"sh\", \"-c\", \"printf '%s|%s\\\\n' \\\"$1\\\" \\\"$2\\\" >> {}\", \"sms\"]\n",
            sms_file.display()
        ),
    )
    .unwrap();
    // The senior manager's address, for the timer's e-mail.
    let (smtp, mails) = smtp_sink();
    std::fs::write(
        tenant_files.join("alarms.toml"),
        format!("[email]\nsmtp = \"{smtp}\"\nfrom = \"wfm@centre.example\"\npeople = {{ \"role:senior-manager\" = \"senior@centre.example\" }}\n"),
    )
    .unwrap();
    let mut server = Server::start(&data, &["--demo-days", "0"]);
    let supervisor = bearer(&server.token_of(Some("demo"), "supervisor"));
    let agent = bearer(&server.token_of(Some("demo"), AGENT));
    let stream = events(&server);
    let post = |server: &Server, auth: &str, path: &str, body: &str| -> (u16, Value) {
        let (status, reply) = server.request("POST", &format!("/api/v1/tenants/demo/incidents{path}"), &[auth], body);
        (status, serde_json::from_str(&reply).unwrap_or(Value::Null))
    };
    let field = |(status, reply): (u16, Value)| (status, reply["field"].as_str().map(str::to_owned));

    let report = serde_json::json!({ "kind": "crm", "system": "ACRM", "description": "every search times out", "affected": [AGENT], "number": "INC-42" }).to_string();
    assert_eq!(post(&server, &agent, "", &report).0, 403, "agents do not open incidents");
    assert_eq!(server.request("POST", "/api/v1/tenants/demo/incidents", &[], &report).0, 401);
    assert_eq!(field(post(&server, &supervisor, "", &report.replace("crm", "fax"))), (400, Some("kind".into())));
    assert_eq!(field(post(&server, &supervisor, "", &report.replace(AGENT, "9999"))), (400, Some("affected".into())));
    let (status, opened) = post(&server, &supervisor, "", &report);
    assert_eq!(status, 201, "{opened}");
    assert_eq!((opened["open"].as_bool(), opened["reported_by"].as_str()), (Some(true), Some("demo/supervisor")));
    assert!(opened["phrase"].as_str().unwrap().contains("no access"), "{opened}");
    assert_eq!(field(post(&server, &supervisor, "", &report)), (409, Some("number".into())));

    // What the affected agent does: one system down and no call waiting, other duties.
    let seen = json(&server, &agent, "/api/v1/tenants/demo/incidents/INC-42");
    assert_eq!((seen["agents"][0]["agent"].as_str(), seen["agents"][0]["decision"].as_str()), (Some(AGENT), Some("other_duties")), "{seen}");
    // Not fixed in 2 s: the senior manager is told; a restart keeps the incident and its timer fired once.
    let escalated = wait_for(10, "the incident's timer", || {
        let i = json(&server, &supervisor, "/api/v1/tenants/demo/incidents/INC-42");
        (i["escalations"].as_array().unwrap().len() == 1).then_some(i)
    });
    assert_eq!(escalated["escalations"][0]["tell"], serde_json::json!(["role:senior-manager"]));
    let (to, text) = mails.recv_timeout(Duration::from_secs(10)).expect("the senior manager's e-mail");
    assert_eq!(to, ["senior@centre.example"]);
    assert!(text.contains("incident INC-42 (crm ACRM) not fixed") && text.contains("every search times out"), "{text}");
    drop(stream);
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let server = Server::start(&data, &["--demo-days", "0"]);
    let supervisor = bearer(&server.token_of(Some("demo"), "supervisor"));
    let agent = bearer(&server.token_of(Some("demo"), AGENT));
    let stream = events(&server);
    std::thread::sleep(Duration::from_millis(2500));
    let again = json(&server, &supervisor, "/api/v1/tenants/demo/incidents/INC-42");
    assert_eq!((again["open"].as_bool(), again["escalations"].as_array().map(Vec::len)), (Some(true), Some(1)), "{again}");

    // The agent affected alone is moved to the incident's not-ready code; another is not.
    let state = |server: &Server| json(server, &supervisor, &format!("/api/v1/tenants/demo/agents/{AGENT}/state"));
    assert_eq!(server.request("POST", &format!("/api/v1/tenants/demo/agents/{AGENT}/state"), &[&supervisor], r#"{"state":"ready"}"#).0, 200);
    let (status, moved) = post(&server, &supervisor, &format!("/INC-42/agents/{AGENT}/move"), "");
    assert_eq!(status, 200, "{moved}");
    assert!(state(&server).to_string().contains("incident"), "{}", state(&server));
    assert_eq!(field(post(&server, &supervisor, "/INC-42/agents/1002/move", "")), (409, Some("agent".into())));

    // A deferred case taken by the agent; worked only after recovery, by whom it is assigned to.
    let case = serde_json::json!({ "customer_number": "+48600100200", "request": "change the tariff to Flex 30" }).to_string();
    assert_eq!(field(post(&server, &agent, "/INC-42/cases", &case.replace("+48600100200", "call me"))), (400, Some("customer_number".into())));
    let (status, recorded) = post(&server, &agent, "/INC-42/cases", &case);
    assert_eq!((status, recorded["cases"][0]["id"].as_u64()), (200, Some(1)), "{recorded}");
    let done = r#"{"outcome":"Your tariff is now Flex 30."}"#;
    assert_eq!(post(&server, &supervisor, "/INC-42/cases/1/done", done).0, 409, "not before recovery");
    assert_eq!(field(post(&server, &supervisor, "/INC-42/cases/1/assign", r#"{"login":"nobody"}"#)), (400, Some("login".into())));
    assert_eq!(post(&server, &supervisor, "/INC-42/cases/1/assign", r#"{"login":"1002"}"#).0, 200);

    // Fixed: the moved agent is ready again; nothing more is recorded against it.
    // From the supervisor's page: the incident open with its moved agent and case, then Fixed.
    let cookie = browser_cookie(&server, "demo", "supervisor");
    let (status, page) = server.request("GET", "/incidents", &[&cookie], "");
    let article = page.split(r#"<article class="incident" id="incident-INC-42">"#).nth(1).and_then(|a| a.split("</article>").next()).unwrap_or_else(|| panic!("{status} {page}"));
    assert!(article.contains("every search times out") && article.contains(&format!("{AGENT} ")) && article.contains("+48600100200") && article.contains(r#"action="/incidents/INC-42/fixed""#), "{article}");
    assert!(page.contains(r#"<section id="ladder">"#), "{page}");
    let (status, agents_view) = server.request("GET", "/incidents", &[&browser_cookie(&server, "demo", AGENT)], "");
    assert!(status == 200 && agents_view.contains("INC-42") && !agents_view.contains("/fixed") && !agents_view.contains(r#"id="ladder""#), "agents read, and do not fix: {agents_view}");
    let (status, head, _) = server.exchange("POST", "/incidents/INC-42/fixed", &[&cookie, "Content-Type: application/x-www-form-urlencoded"], &format!("csrf={}", csrf_in(&page)));
    assert_eq!((status, header(&head, "location")), (303, Some("/incidents?fixed=INC-42")));
    let fixed = json(&server, &supervisor, "/api/v1/tenants/demo/incidents/INC-42");
    assert_eq!(fixed["open"].as_bool(), Some(false), "{fixed}");
    assert!(fixed["moved"][0]["back_ms"].as_i64().is_some() && fixed["duration_s"].as_i64().unwrap() >= 2, "{fixed}");
    assert!(state(&server).to_string().contains("\"ready\""), "{}", state(&server));
    assert_eq!(post(&server, &supervisor, "/INC-42/fixed", "").0, 409);
    assert_eq!(post(&server, &agent, "/INC-42/cases", &case).0, 409);
    assert_eq!(post(&server, &agent, "/INC-42/cases/1/done", done).0, 403, "assigned to 1002");
    let colleague = bearer(&server.token_of(Some("demo"), "1002"));
    let (status, worked) = post(&server, &colleague, "/INC-42/cases/1/done", done);
    assert_eq!(status, 200, "{worked}");
    let c = &worked["cases"][0];
    assert!(c["customer_told_ms"].as_i64().is_some() && c["done_by"] == "demo/1002", "{c}");
    assert_eq!(std::fs::read_to_string(&sms_file).unwrap(), "+48600100200|Your tariff is now Flex 30.\n");
    assert_eq!(post(&server, &colleague, "/INC-42/cases/1/done", done).0, 409, "done once");

    let open = json(&server, &agent, "/api/v1/tenants/demo/incidents");
    let all = json(&server, &agent, "/api/v1/tenants/demo/incidents?state=all");
    assert_eq!((open.as_array().map(Vec::len), all.as_array().map(Vec::len)), (Some(0), Some(1)));
    let changes: Vec<String> = std::iter::from_fn(|| stream.recv_timeout(Duration::from_secs(2)).ok())
        .filter(|e| e["type"] == "incident")
        .map(|e| e["change"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(changes, ["agent_moved", "case_recorded", "case_assigned", "fixed", "case_done"]);
    let (_, audit) = server.request("GET", "/api/v1/tenants/demo/audit", &[&server.bearer()], "");
    assert!(["incident.report", "incident.agent_moved", "incident.fixed", "incident.case_done"].iter().all(|a| audit.contains(a)), "{audit}");
}
