//! Black-box tests of the SIP endpoint of `wfm serve`, with sipp as the agents' phones and raw
//! UDP as a hostile peer.

mod common;

use common::{p, Server};
use serde_json::Value;
use std::net::UdpSocket;
use std::process::Command;
use std::time::Duration;

/// A REGISTER without credentials (answered 401), then with them (`[authentication]` uses
/// sipp's -au/-ap), expecting `final_status`.
fn register_scenario(final_status: u16) -> String {
    let register = |cseq: u32, auth: &str| {
        format!(
            "<send retrans=\"500\"><![CDATA[\n\
             REGISTER sip:[remote_ip]:[remote_port] SIP/2.0\n\
             Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n\
             From: <sip:[service]@[remote_ip]>;tag=[pid]SIPpTag[call_number]\n\
             To: <sip:[service]@[remote_ip]>\n\
             Call-ID: [call_id]\n\
             CSeq: {cseq} REGISTER\n\
             Contact: <sip:[service]@[local_ip]:[local_port]>\n\
             {auth}\
             Max-Forwards: 70\n\
             Expires: 120\n\
             Content-Length: 0\n\n\
             ]]></send>\n"
        )
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\" ?>\n<scenario name=\"register\">\n{}<recv response=\"401\" auth=\"true\"/>\n{}<recv response=\"{final_status}\"/>\n</scenario>\n",
        register(1, ""),
        register(2, "[authentication]\n"),
    )
}

/// sipp as `user`'s phone over `transport` (`u1`: UDP, `t1`: TCP).
fn sipp(dir: &std::path::Path, scenario: &str, server: &str, user: &str, password: &str, transport: &str) -> std::process::Output {
    sipp_from(dir, scenario, server, user, password, transport, "127.0.0.1")
}

/// The same from another local address (`127.0.0.2`: another machine, as far as the ACD knows).
fn sipp_from(dir: &std::path::Path, scenario: &str, server: &str, user: &str, password: &str, transport: &str, local: &str) -> std::process::Output {
    let file = dir.join(format!("scenario-{user}-{password}.xml"));
    std::fs::write(&file, scenario).unwrap();
    // sipp needs a port of its own: one the system just handed out and took back.
    let port = UdpSocket::bind((local, 0)).unwrap().local_addr().unwrap().port().to_string();
    Command::new("sipp")
        .args(["-sf", p(&file), "-m", "1", "-s", user, "-au", user, "-ap", password, "-i", local, "-p", &port, "-t", transport])
        .args(["-timeout", "15", "-timeout_error", "-nostdin", "-trace_err", "-error_file", p(&dir.join(format!("errors-{user}.log")))])
        .arg(server)
        .current_dir(dir)
        .output()
        .expect("sipp runs (Debian package sip-tester)")
}

#[test]
fn agents_register_with_digest_and_wrong_passwords_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--demo-days", "0", "--demo-agent-password", "s3cret"]);
    let ok = sipp(dir.path(), &register_scenario(200), &server.sip, "1001", "s3cret", "u1");
    assert!(ok.status.success(), "sipp: {}\n{}", String::from_utf8_lossy(&ok.stdout), String::from_utf8_lossy(&ok.stderr));
    let refused = sipp(dir.path(), &register_scenario(403), &server.sip, "1002", "wrong", "u1");
    assert!(refused.status.success(), "sipp: {}", String::from_utf8_lossy(&refused.stderr));

    // The registered agent is logged in, not ready; the HTTP API makes them ready.
    let auth = server.bearer();
    let live = || -> Value {
        let (status, body) = server.request("GET", "/api/v1/tenants/demo/queues/live", &[&auth], "");
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    };
    let support = |v: &Value, state: &str| v["queues"].as_array().unwrap().iter().find(|q| q["queue"] == "support").unwrap()["agents"][state].as_u64().unwrap_or(0);
    let before = live();
    assert_eq!((support(&before, "not-ready"), support(&before, "logged-out")), (1, 9), "{before}");
    // Over TCP too, on the same port.
    let tcp = sipp(dir.path(), &register_scenario(200), &server.sip, "1010", "s3cret", "t1");
    assert!(tcp.status.success(), "sipp over TCP: {}", String::from_utf8_lossy(&tcp.stderr));
    assert_eq!(support(&live(), "not-ready"), 2);
    let set = |agent: &str, body: &str| server.request("POST", &format!("/api/v1/tenants/demo/agents/{agent}/state"), &[&auth], body);
    let (status, body) = set("1001", r#"{"state": "ready"}"#);
    assert_eq!(status, 200, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["state"], "ready");
    assert_eq!(support(&live(), "ready"), 1);
    let (status, body) = set("1001", r#"{"state": "not-ready", "reason": "lunch"}"#);
    assert_eq!((status, serde_json::from_str::<Value>(&body).unwrap()["reason"].as_str()), (200, Some("lunch")));
    // Refusals name the request field.
    let field = |(status, body): (u16, String)| (status, serde_json::from_str::<Value>(&body).unwrap()["field"].as_str().map(str::to_owned));
    assert_eq!(field(set("1001", r#"{"state": "not-ready"}"#)), (400, Some("reason".into())));
    assert_eq!(field(set("1001", r#"{"state": "asleep"}"#)), (400, Some("state".into())));
    assert_eq!(field(set("1001", r#"{"stat": "ready"}"#)), (400, Some("body".into())));
    assert_eq!(field(set("9999", r#"{"state": "ready"}"#)), (404, Some("agent".into())));
    assert_eq!(field(server.request("POST", "/api/v1/tenants/demo/agents/1001/state", &[], r#"{"state": "ready"}"#)).0, 401);
    assert_eq!(field(server.request("GET", "/api/v1/tenants/other/queues/live", &[&auth], "")), (404, Some("tenant".into())));
    // The wallboard's event stream carries each change.
    let mut stream = std::net::TcpStream::connect(&server.addr).unwrap();
    std::io::Write::write_all(&mut stream, format!("GET /api/v1/tenants/demo/events HTTP/1.1\r\nHost: x\r\n{auth}\r\n\r\n").as_bytes()).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut seen = String::new();
    let mut buffer = [0u8; 4096];
    while !seen.contains("\r\n\r\n") {
        let n = std::io::Read::read(&mut stream, &mut buffer).unwrap();
        seen.push_str(&String::from_utf8_lossy(&buffer[..n]));
    }
    assert!(seen.starts_with("HTTP/1.1 200") && seen.contains("text/event-stream"), "{seen}");
    assert_eq!(set("1005", r#"{"state": "ready"}"#).0, 200);
    while !seen.contains(r#""agent":"1005""#) {
        let n = std::io::Read::read(&mut stream, &mut buffer).expect("the event arrives within 5 s");
        seen.push_str(&String::from_utf8_lossy(&buffer[..n]));
    }
    let line = seen.lines().find(|l| l.contains(r#""agent":"1005""#)).unwrap();
    let event: Value = serde_json::from_str(line.trim_start_matches(|c: char| c != '{')).unwrap();
    assert_eq!((event["type"].as_str(), event["state"].as_str(), event["tenant"].as_str()), (Some("agent-state"), Some("ready"), Some("demo")));

    // At most three on break at once in the demo tenant.
    for agent in ["1002", "1003"] {
        assert_eq!(set(agent, r#"{"state": "not-ready", "reason": "break"}"#).0, 200);
    }
    assert_eq!(field(set("1004", r#"{"state": "not-ready", "reason": "break"}"#)), (409, Some("state".into())));
}

/// Sends `bytes` and returns the answer, if one comes within a second.
fn exchange(socket: &UdpSocket, server: &str, bytes: &[u8]) -> Option<String> {
    socket.send_to(bytes, server).unwrap();
    let mut buffer = vec![0u8; 70_000];
    socket.recv_from(&mut buffer).ok().map(|(n, _)| String::from_utf8_lossy(&buffer[..n]).into_owned())
}

fn request(method: &str, branch: &str) -> String {
    format!(
        "{method} sip:100@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK{branch}\r\nFrom: <sip:x@127.0.0.1>;tag=1\r\n\
         To: <sip:100@127.0.0.1>\r\nCall-ID: {branch}\r\nCSeq: 1 {method}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    )
}

#[test]
fn hostile_datagrams_are_dropped_and_the_endpoint_keeps_answering() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--demo-days", "0", "--demo-agent-password", "s3cret"]);
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(Duration::from_millis(1000))).unwrap();
    let garbage: [&[u8]; 5] = [
        b"",
        b"\x00\xff\xfe garbage",
        &[b'A'; 60_000],
        b"INVITE sip:100@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP x\r\n\r\n",
        b"REGISTER sip:x SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bKq\r\nFrom: <sip:1@a>\r\nTo: <sip:1@a>\r\nCall-ID: q\r\nCSeq: 1 REGISTER\r\nContent-Length: 900\r\n\r\nshort",
    ];
    for bytes in garbage {
        assert_eq!(exchange(&socket, &server.sip, bytes), None, "dropped: {:?}", String::from_utf8_lossy(&bytes[..bytes.len().min(40)]));
    }
    let answer = |method: &str, branch: &str| exchange(&socket, &server.sip, request(method, branch).as_bytes()).expect("an answer");
    assert!(answer("OPTIONS", "o1").starts_with("SIP/2.0 200 OK\r\n"));
    let flood: String = request("OPTIONS", "o2").replace("Max-Forwards: 70\r\n", &"X-Flood: 1\r\n".repeat(200));
    assert_eq!(exchange(&socket, &server.sip, flood.as_bytes()), None, "too many headers");
    assert!(answer("PUBLISH", "p1").starts_with("SIP/2.0 501 Not Implemented\r\n"));
    assert!(answer("BYE", "b1").starts_with("SIP/2.0 481 "));
    // Over TCP: a stream that cannot be framed is closed; requests (pipelined, with keep-alive
    // CRLFs between them) are answered in order on their connection.
    use std::io::{Read, Write};
    let mut bad = std::net::TcpStream::connect(&server.sip).unwrap();
    bad.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    bad.write_all(b"OPTIONS sip:x SIP/2.0\r\nContent-Length: lots\r\n\r\n").unwrap();
    assert_eq!(bad.read(&mut [0u8; 64]).unwrap_or(0), 0, "closed");
    let mut good = std::net::TcpStream::connect(&server.sip).unwrap();
    good.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let two = format!("{}\r\n\r\n{}", request("OPTIONS", "t1").replace("UDP", "TCP"), request("PUBLISH", "t2").replace("UDP", "TCP"));
    good.write_all(two.as_bytes()).unwrap();
    let mut answers = String::new();
    while answers.matches("SIP/2.0 ").count() < 2 {
        let mut chunk = [0u8; 4096];
        let n = good.read(&mut chunk).expect("answers within 5 s");
        assert!(n > 0, "closed early: {answers}");
        answers.push_str(&String::from_utf8_lossy(&chunk[..n]));
    }
    assert!(answers.starts_with("SIP/2.0 200 OK\r\n") && answers.contains("SIP/2.0 501 Not Implemented\r\n"), "{answers}");

    // A retransmission gets the very same answer (same To tag).
    assert_eq!(answer("OPTIONS", "o3"), answer("OPTIONS", "o3"));
    assert_eq!(server.get("/healthz").0, 200, "the HTTP side is alive too");
}

/// `wfm stats --agents` for one agent over the days around today, one row per day.
fn agent_days(data: &std::path::Path, agent: &str) -> Vec<Value> {
    let today = chrono::Utc::now().date_naive();
    let (from, to) = ((today - chrono::Duration::days(1)).to_string(), (today + chrono::Duration::days(2)).to_string());
    let out = common::ok(&["stats", "--store", p(&data.join("store")), "--tenant", "demo", "--from", &from, "--to", &to, "--agents", "--interval", "day", "--format", "json"]);
    let rows: Vec<Value> = serde_json::from_str(&out).unwrap();
    rows.into_iter().filter(|r| r["agent_id"] == agent).collect()
}

fn reasons(rows: &[Value]) -> Vec<String> {
    rows.iter().flat_map(|r| r["not_ready_by_reason"].as_object().unwrap().keys().cloned().collect::<Vec<_>>()).collect()
}

#[test]
fn state_changes_reach_the_store_within_seconds_and_survive_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let set = |server: &Server, agent: &str, body: &str| {
        let (status, text) = server.request("POST", &format!("/api/v1/tenants/demo/agents/{agent}/state"), &[&server.bearer()], body);
        assert_eq!(status, 200, "{text}");
    };
    {
        let server = Server::start(dir.path(), &["--demo-days", "0", "--demo-agent-password", "pw"]);
        set(&server, "1007", r#"{"state": "ready"}"#);
        set(&server, "1007", r#"{"state": "not-ready", "reason": "lunch"}"#);
        // A lunch of some length: two requests can fall in one millisecond, and a period of
        // no length has no time to count.
        std::thread::sleep(Duration::from_millis(50));
        set(&server, "1007", r#"{"state": "ready"}"#);
        // Dropped: killed at once (SIGKILL), before the periods need have reached the store.
    }
    // On restart the journal goes into the store before the server answers.
    let server = Server::start(dir.path(), &["--demo-days", "0", "--demo-agent-password", "pw"]);
    assert!(reasons(&agent_days(dir.path(), "1007")).contains(&"lunch".to_owned()), "the acknowledged lunch survived the crash");
    // And while running, a change is in the store within seconds.
    set(&server, "1008", r#"{"state": "not-ready", "reason": "coaching"}"#);
    std::thread::sleep(Duration::from_millis(50));
    set(&server, "1008", r#"{"state": "ready"}"#);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !reasons(&agent_days(dir.path(), "1008")).contains(&"coaching".to_owned()) {
        assert!(std::time::Instant::now() < deadline, "coaching not in the store after 10 s");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn password_guessing_with_svcrack_finds_nothing_and_the_agents_phone_still_registers() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--demo-days", "0", "--demo-agent-password", "1500"]);
    let (host, port) = server.sip.split_once(':').unwrap();
    // SIPVicious (Debian package sipvicious) tries 1 to 2000; the previous release answered every
    // guess and gave the password away in 17 s.
    let out = Command::new("svcrack").args(["-u1001", "-r1-2000", "-p", port, host, "--maximumtime", "8"]).output().expect("svcrack runs (Debian package sipvicious)");
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!said.contains("1500"), "svcrack found the password: {said}");
    assert!(said.contains("found nothing"), "{said}");
    // The guesses came from 127.0.0.1; the agent's phone at another address is not locked out.
    let ok = sipp_from(dir.path(), &register_scenario(200), &server.sip, "1001", "1500", "u1", "127.0.0.2");
    assert!(ok.status.success(), "sipp: {}\n{}", String::from_utf8_lossy(&ok.stdout), String::from_utf8_lossy(&ok.stderr));
}

#[test]
fn an_invite_flood_from_one_address_is_dropped_while_others_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--demo-days", "0", "--demo-agent-password", "s3cret"]);
    let flooder = UdpSocket::bind("127.0.0.1:0").unwrap();
    // 5 000 new calls in about a second, from one address.
    let began = std::time::Instant::now();
    for n in 0..5000u32 {
        flooder.send_to(request("INVITE", &format!("flood{n}")).as_bytes(), &server.sip).unwrap();
        if n % 50 == 49 {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    assert!(began.elapsed() < Duration::from_secs(3), "the flood took {:?}", began.elapsed());
    // Meanwhile another address is served at once.
    let other = UdpSocket::bind("127.0.0.2:0").unwrap();
    other.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let answer = exchange(&other, &server.sip, request("INVITE", "legitimate-1").as_bytes()).expect("another address is answered");
    assert!(answer.starts_with("SIP/2.0 "), "{answer}");
    // The flooder had answers for a second's worth of calls (--sip-invite-rate 50), no more.
    flooder.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
    let mut answered = std::collections::HashSet::new();
    let mut buffer = vec![0u8; 70_000];
    while let Ok((n, _)) = flooder.recv_from(&mut buffer) {
        let text = String::from_utf8_lossy(&buffer[..n]);
        if let Some(call) = text.lines().find_map(|l| l.strip_prefix("Call-ID: ")) {
            answered.insert(call.trim().to_owned());
        }
    }
    assert!(!answered.is_empty() && answered.len() <= 60, "{} of 5000 flooding calls answered", answered.len());
}
