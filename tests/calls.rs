//! Black-box tests of calls through `wfm serve`: sipp as callers (RTP audio, then the RFC 4733
//! digit "1") and as agents' phones (registering with digest, then answering, refusing to
//! answer, holding or transferring), the real binary in between; what happened is read back
//! from the wallboard's event stream, the live API and `wfm stats`.

mod common;

use common::acd::*;
use common::{p, Server};
use serde_json::Value;
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[test]
fn a_call_through_the_ivr_menu_is_answered_recorded_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_acd(dir.path(), &ACD.replacen("wrap_up_s = 0", "wrap_up_s = 30", 1), &[]);
    let events = Events::open(&server);
    let phone = Phone::new(dir.path(), &server, "1001", "agent_answer", 1, &["-d", "1500"], true);
    // The digit "1" (RFC 4733) chooses support in the menu; the agent hangs up after 1.5 s.
    call(dir.path(), &server, "caller", "100", &[]);
    phone.done();
    let record = events.next_call();
    assert_eq!(record["queue"], "support");
    assert_eq!(record["exit_reason"], "answered");
    assert_eq!(record["agent"], "1001");
    assert_eq!(record["ivr_path"], "main [main=1]", "the IVR path and digits travel with the call");
    assert_eq!(record["dialled_number"], "100");
    let talk = record["talk_ms"].as_i64().unwrap();
    assert!((1200..4000).contains(&talk), "talked {talk} ms");
    let recording = PathBuf::from(record["recording"].as_str().expect("support records"));
    let wav = std::fs::read(&recording).unwrap();
    assert!(wav.starts_with(b"RIFF") && wav.len() > 44 + 2 * 2 * 8000, "{} bytes: more than a second of stereo", wav.len());
    // Found by call id over the API too.
    let call_id = record["call_id"].as_str().unwrap();
    let (status, body) = server.get_authorized(&format!("/api/v1/tenants/demo/recordings/{call_id}"));
    assert_eq!((status, body.len() > 8000), (200, true), "the recording by call id");
    assert_eq!(server.get_authorized("/api/v1/tenants/demo/recordings/nope").0, 404);
    // The agent is in wrap-up (30 s here): the call reaches the store with it once the agent
    // is ready again.
    std::thread::sleep(Duration::from_millis(700));
    set_state(&server, "1001", r#"{"state":"ready"}"#);
    let rows = stats_when(dir.path(), 1);
    let support = row(&rows, "support");
    assert_eq!((support["offered"].as_u64(), support["answered"].as_u64()), (Some(1), Some(1)));
    assert!(support["avg_talk_s"].as_f64().unwrap() > 1.0);
    let aht = support["aht_s"].as_f64().unwrap();
    assert!(aht >= support["avg_talk_s"].as_f64().unwrap() + 0.7, "the handle time has the wrap-up: {support}");
    let (_, kpis) = server.get_authorized("/api/v1/tenants/demo/kpis/live");
    let kpis: Value = serde_json::from_str(&kpis).unwrap();
    let live = kpis["queues"].as_array().unwrap().iter().find(|q| q["queue"] == "support").unwrap()["window"].clone();
    assert_eq!((live["answered"].as_u64(), live["aht_s"].as_f64()), (Some(1), Some(aht)), "the live KPIs took the wrap-up too");

    // The recording is found in the store by time, number, agent and queue.
    let today = chrono::Utc::now().date_naive();
    let range = format!("from={}&to={}", today - chrono::Duration::days(1), today + chrono::Duration::days(2));
    let search = |query: &str| -> Value {
        let (status, body) = server.get_authorized(&format!("/api/v1/tenants/demo/recordings?{range}{query}"));
        assert_eq!(status, 200, "{query}: {body}");
        serde_json::from_str(&body).unwrap()
    };
    let found = search("&agent=1001&queue=support&direction=inbound&number=caller");
    let hit = &found["recordings"][0];
    assert_eq!((hit["call_id"].as_str(), hit["available"].as_bool(), found["truncated"].as_bool()), (Some(call_id), Some(true), Some(false)), "{found}");
    assert_eq!(hit["url"], format!("/api/v1/tenants/demo/recordings/{call_id}"));
    let wrap = hit["wrap_s"].as_f64().unwrap();
    assert!((0.7..10.0).contains(&wrap), "the agent's wrap-up, {wrap} s, in the record");
    assert_eq!(search("&agent=1002")["recordings"], serde_json::json!([]));
    assert_eq!(search("&direction=outbound")["recordings"], serde_json::json!([]));
    let after = (chrono::Utc::now() + chrono::Duration::minutes(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(search(&format!("&after={after}"))["recordings"], serde_json::json!([]));
    let long_agent = format!("&agent={}", "a".repeat(65));
    for (query, field) in [("&direction=sideways", "direction"), ("&after=yesterday", "after"), ("&limit=0", "limit"), (long_agent.as_str(), "agent")] {
        let (status, body) = server.get_authorized(&format!("/api/v1/tenants/demo/recordings?{range}{query}"));
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["field"], field, "{query}: {body}");
    }
}

#[test]
fn a_caller_who_hangs_up_in_the_queue_is_an_abandoned_call_with_its_wait() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let events = Events::open(&server);
    // Logged in (registered) but not ready: the call waits.
    let _phone = Phone::new(dir.path(), &server, "1001", "agent_answer", 1, &[], false);
    call(dir.path(), &server, "caller_hangs_up", "200", &["-d", "2000"]);
    let record = events.next_call();
    assert_eq!((record["exit_reason"].as_str(), record["abandoned"].as_bool()), (Some("abandoned"), Some(true)));
    let rows = stats_when(dir.path(), 1);
    let support = row(&rows, "support");
    assert_eq!(support["abandoned"].as_u64(), Some(1));
    let waited = support["avg_abandon_wait_s"].as_f64().unwrap();
    assert!((1.5..5.0).contains(&waited), "waited {waited} s");
}

#[test]
fn a_caller_reusing_or_stretching_a_call_id_still_gets_a_record_for_each_call() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let events = Events::open(&server);
    let _phone = Phone::new(dir.path(), &server, "1001", "agent_answer", 1, &[], false);
    // Each call's records are keyed by the suite's own id: the same Call-ID twice (a phone
    // restarting its counter) and one longer than the store's call ids are three calls.
    let long = format!("{}@caller", "l".repeat(300));
    for call_id in ["reused-call-id@caller", "reused-call-id@caller", long.as_str()] {
        call(dir.path(), &server, "caller_hangs_up", "200", &["-d", "300", "-cid_str", call_id]);
    }
    let records = [events.next_call(), events.next_call(), events.next_call()];
    let ids: std::collections::HashSet<&str> = records.iter().map(|r| r["call_id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 3, "{records:?}");
    let sip: Vec<&str> = records.iter().map(|r| r["sip_call_id"].as_str().unwrap()).collect();
    assert_eq!(sip, ["reused-call-id@caller", "reused-call-id@caller", long.as_str()]);
    let rows = stats_when(dir.path(), 3);
    assert_eq!(row(&rows, "support")["abandoned"].as_u64(), Some(3), "every call counted");
}

#[test]
fn the_live_kpis_have_wfm_stats_figures_for_the_same_calls() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let events = Events::open(&server);
    // One call answered, then one caller who hangs up while the agent is not ready.
    let phone = Phone::new(dir.path(), &server, "1001", "agent_answer", 1, &["-d", "1000"], true);
    call(dir.path(), &server, "caller", "100", &[]);
    phone.done();
    events.next_call();
    set_state(&server, "1001", r#"{"state":"not-ready","reason":"lunch"}"#);
    call(dir.path(), &server, "caller_hangs_up", "200", &["-d", "2000"]);
    events.next_call();
    let rows = stats_when(dir.path(), 2);
    let stats = row(&rows, "support");
    let (status, body) = server.get_authorized("/api/v1/tenants/demo/kpis/live");
    assert_eq!(status, 200, "{body}");
    let kpis: Value = serde_json::from_str(&body).unwrap();
    let support = kpis["queues"].as_array().unwrap().iter().find(|q| q["queue"] == "support").expect("support on the wallboard").clone();
    let window = &support["window"];
    for figure in ["offered", "answered", "abandoned", "short_abandoned", "overflowed", "answered_within_threshold", "abandoned_within_threshold", "service_level", "sl_with_abandons", "sl_excluding_short_abandons", "abandon_rate", "lost_call_rate", "asa_s", "avg_abandon_wait_s", "max_wait_s", "avg_talk_s", "aht_s"] {
        assert_eq!(window[figure], stats[figure], "{figure}: the live window and wfm stats on the same two calls");
    }
    assert_eq!((window["offered"].as_u64(), window["answered"].as_u64(), window["abandoned"].as_u64()), (Some(2), Some(1), Some(1)));
    assert_eq!(support["service_level"], window["sl_with_abandons"], "the headline is the one named in definitions");
    assert_eq!(support["meets_target"], true, "both calls within 20 s");
    assert_eq!(support["calls_waiting"], 0);
    assert!(support["expected_wait_s"].as_u64().is_some() && support["agents"]["not-ready"].as_u64() >= Some(1), "{support}");
    let totals = &kpis["tenant_totals"];
    assert_eq!((totals["window"]["offered"].as_u64(), totals["agents"]["not_ready"].as_u64()), (Some(2), Some(1)), "{totals}");
    assert!(kpis["definitions"]["service_level"].as_str().unwrap().starts_with("sl_with_abandons"));
    assert_eq!(kpis["settings"]["window_s"], 300);
    assert_eq!(server.get("/api/v1/tenants/demo/kpis/live").0, 401);
}

/// The surge ladder on seconds-long timers; 1002 is the reserve, 1003 (billing only) is given
/// the support skill at level 1.
const LADDER: &str = r#"
[out_of_control]
calls_waiting_at_least = 2
for_s = 2
[back_in_control]
for_s = 3
[level1]
tell = ["supervisor"]
agents = ["1003"]
[level2]
after_s = 3
people = ["1002"]
arrive_within_s = 60
[level3]
after_s = 600
[level4]
after_s = 600
"#;

#[test]
fn a_burst_of_callers_on_too_few_agents_raises_the_surge_ladder_and_it_steps_down_once_served() {
    let dir = tempfile::tempdir().unwrap();
    let tenant_files = dir.path().join("tenants").join(DEMO);
    std::fs::create_dir_all(&tenant_files).unwrap();
    std::fs::write(tenant_files.join("escalation.toml"), LADDER).unwrap();
    // Every caller here waits longer than a second: the live service level is 0.
    std::fs::write(tenant_files.join("kpis.toml"), "threshold_s = 1\n").unwrap();
    let acd = ACD.replace("1001 = { support = 1, billing = 1 }\n1002 = { support = 1, billing = 1 }", "1001 = { support = 1 }\n1002 = { support = 1 }\n1003 = { billing = 1 }");
    assert_ne!(acd, ACD);
    let server = start_acd(dir.path(), &acd, &[]);
    let supervisor = format!("Authorization: Bearer {}", server.token_of(Some(DEMO), "supervisor"));
    let escalation = || {
        let (status, body) = server.request("GET", "/api/v1/tenants/demo/escalation", &[&supervisor], "");
        assert_eq!(status, 200, "{body}");
        serde_json::from_str::<Value>(&body).unwrap()
    };
    let wait_for = |seconds: u64, what: &str, done: &dyn Fn(&Value) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        loop {
            let now = escalation();
            if done(&now) {
                return now;
            }
            assert!(Instant::now() < deadline, "{what} within {seconds} s: {now:#}");
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    let events = |e: &Value| -> Vec<String> { e["timeline"].as_array().unwrap().iter().map(|s| format!("{}:{}", s["level"], s["event"].as_str().unwrap())).collect() };
    assert_eq!((escalation()["level"].as_u64(), escalation()["timeline"].as_array().map(Vec::len)), (Some(0), Some(0)));

    // 1001 on lunch (logged in, so callers wait); 1003 ready, but for billing only.
    set_state(&server, "1001", r#"{"state":"not-ready","reason":"lunch"}"#);
    let _billing = Phone::new(dir.path(), &server, "1003", "agent_answer", 20, &["-d", "2500"], true);
    let mut callers = sipp(dir.path(), "caller", &["-p", &free_port(), "-mp", &media_port(), "-m", "8", "-l", "8", "-r", "20", "-s", "200"]).arg(&server.sip).spawn().unwrap();

    // Out of control for 2 s: level 1 tells the supervisor and gives 1003 the support skill;
    // 3 s on, level 2 calls the reserve in.
    // The level and the call-in are two steps of the timeline: wait for both.
    let level2 = wait_for(30, "level 2", &|e| e["level"] == 2 && events(e).contains(&"2:called_in".to_owned()));
    assert_eq!(events(&level2), ["0:out_of_control", "1:level_up", "1:told", "1:skill_added", "2:level_up", "2:called_in"]);
    let timeline = level2["timeline"].as_array().unwrap();
    assert_eq!(timeline[3]["skills"], serde_json::json!([["1003", "support"]]));
    assert_eq!((timeline[2]["who"].clone(), timeline[5]["who"].clone()), (serde_json::json!(["supervisor"]), serde_json::json!(["1002"])));
    assert!(timeline[4]["at_ms"].as_i64().unwrap() - timeline[1]["at_ms"].as_i64().unwrap() >= 3000, "{timeline:?}");
    assert_eq!(level2["called_in"][0]["login"], "1002");

    // The reserve confirms (only who is called in may), then arrives by logging in.
    let confirm = |who: &str| server.request("POST", "/api/v1/tenants/demo/escalation/confirm", &[&format!("Authorization: Bearer {}", server.token_of(Some(DEMO), who))], "");
    assert_eq!(confirm("1003").0, 404, "1003 is not called in");
    let (status, body) = confirm("1002");
    assert_eq!(status, 200, "{body}");
    assert_eq!(confirm("1002").0, 404, "confirmed once");
    assert_eq!(server.request("POST", "/api/v1/tenants/demo/escalation/confirm", &[], "").0, 401);
    let planner = format!("Authorization: Bearer {}", server.token_of(Some(DEMO), "planner"));
    assert_eq!(server.request("GET", "/api/v1/tenants/demo/escalation", &[&planner], "").0, 403);
    let _reserve = Phone::new(dir.path(), &server, "1002", "agent_answer", 20, &["-d", "2500"], true);
    let arrived = wait_for(10, "the reserve's arrival", &|e| events(e).contains(&"2:arrived".to_owned()));
    let reserve = &arrived["called_in"][0];
    assert!(reserve["confirmed_ms"].as_i64().is_some() && reserve["arrived_ms"].as_i64().is_some() && reserve["overdue"] == false, "{reserve}");

    // Served: back in control, one level down per 3 s, the skill taken back at 0.
    let done = wait_for(60, "the ladder back at 0", &|e| e["level"] == 0 && events(e).last().is_some_and(|l| l == "0:skill_restored"));
    let tail: Vec<String> = events(&done).into_iter().skip_while(|e| e != "2:back_in_control").collect();
    assert_eq!(tail, ["2:back_in_control", "1:level_down", "0:level_down", "0:skill_restored"], "{done:#}");
    assert_eq!(done["under_way_since_ms"], Value::Null);
    assert!(callers.wait().unwrap().success(), "every caller was answered");
    let listed = &done["escalations"][0];
    assert_eq!((listed["highest_level"].as_i64(), listed["steps"].as_u64()), (Some(2), done["timeline"].as_array().map(|t| t.len() as u64)));
    let (_, audit) = server.request("GET", "/api/v1/tenants/demo/audit", &[&server.bearer()], "");
    assert!(audit.contains("escalation.confirm"), "{audit}");
}

#[test]
fn a_call_past_the_maximum_wait_overflows_and_is_told_busy() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let events = Events::open(&server);
    let _phone = Phone::new(dir.path(), &server, "1002", "agent_answer", 1, &[], false);
    // Billing overflows after 2 s to "busy": a prompt, then the ACD hangs up.
    let began = Instant::now();
    call(dir.path(), &server, "caller", "300", &[]);
    assert!(began.elapsed() >= Duration::from_secs(2));
    let record = events.next_call();
    assert_eq!((record["queue"].as_str(), record["exit_reason"].as_str()), (Some("billing"), Some("timeout")));
    let billing = row(&stats_when(dir.path(), 1), "billing").clone();
    assert_eq!((billing["offered"].as_u64(), billing["overflowed"].as_u64()), (Some(1), Some(1)));
}

#[test]
fn an_agent_who_does_not_answer_is_set_not_ready_and_the_next_agent_takes_the_call() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let events = Events::open(&server);
    // 1001 is ready first, so idle longest: rung first, for the 3 s ring timeout.
    let silent = Phone::new(dir.path(), &server, "1001", "agent_no_answer", 1, &[], true);
    std::thread::sleep(Duration::from_millis(50));
    let answering = Phone::new(dir.path(), &server, "1002", "agent_answer", 1, &["-d", "1000"], true);
    call(dir.path(), &server, "caller", "200", &[]);
    silent.done();
    answering.done();
    let record = events.next_call();
    assert_eq!(record["agent"], "1002");
    assert!(record["ring_ms"].as_i64().unwrap() >= 3000, "rang 1001 for 3 s first: {record}");
    let (_, live) = server.get_authorized("/api/v1/tenants/demo/queues/live");
    let live: Value = serde_json::from_str(&live).unwrap();
    let support = live["queues"].as_array().unwrap().iter().find(|q| q["queue"] == "support").unwrap();
    assert_eq!(support["agents"]["not-ready"], 1, "1001 is not ready (no answer): {live}");
}

#[test]
fn an_agent_holds_and_resumes_and_the_hold_time_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let events = Events::open(&server);
    let phone = Phone::new(dir.path(), &server, "1001", "agent_hold", 1, &["-d", "1000"], true);
    call(dir.path(), &server, "caller", "200", &[]);
    phone.done();
    let record = events.next_call();
    let hold = record["hold_ms"].as_i64().unwrap();
    assert!((800..3000).contains(&hold), "held {hold} ms: {record}");
    assert_eq!(record["exit_reason"], "answered");
}

#[test]
fn a_blind_transfer_sends_the_caller_to_another_agent() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let events = Events::open(&server);
    let first = Phone::new(dir.path(), &server, "1001", "agent_transfer", 1, &["-d", "1000", "-key", "transfer_to", "1002"], true);
    let second = Phone::new(dir.path(), &server, "1002", "agent_answer", 1, &["-d", "1000"], false);
    // 1002 becomes ready only now, so that the first ring goes to 1001.
    set_state(&server, "1002", r#"{"state": "ready"}"#);
    call(dir.path(), &server, "caller", "200", &[]);
    first.done();
    second.done();
    let transferred = events.next_call();
    assert_eq!((transferred["agent"].as_str(), transferred["transfer_target"].as_str()), (Some("1001"), Some("1002")));
    let answered = events.next_call();
    assert_eq!((answered["agent"].as_str(), answered["exit_reason"].as_str()), (Some("1002"), Some("answered")));
    assert!(answered["call_id"].as_str().unwrap().ends_with("~2"), "the second leg of the call: {answered}");
    let rows = stats_when(dir.path(), 2);
    assert_eq!(row(&rows, "support")["answered"].as_u64(), Some(2), "{rows:?}");
}

#[test]
fn feature_codes_from_the_agents_phone_change_its_state() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let _phone = Phone::new(dir.path(), &server, "1001", "agent_answer", 1, &[], false);
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let local = socket.local_addr().unwrap();
    let sdp = "v=0\r\no=p 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n";
    let invite = |branch: &str, authorization: &str| {
        format!(
            "INVITE sip:*1@{sip} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch={branch}\r\nFrom: <sip:1001@127.0.0.1>;tag=p\r\nTo: <sip:*1@{sip}>\r\n\
             Call-ID: feature-1\r\nCSeq: 1 INVITE\r\nContact: <sip:1001@{local}>\r\nMax-Forwards: 70\r\n{authorization}Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
            sdp.len(),
            sip = server.sip
        )
    };
    let mut buffer = [0u8; 4096];
    let receive = |buffer: &mut [u8]| {
        let (n, _) = socket.recv_from(buffer).expect("an answer within 5 s");
        String::from_utf8_lossy(&buffer[..n]).into_owned()
    };
    // The phone's address is not enough: the ACD asks for the password, as for a REGISTER.
    socket.send_to(invite("z9hG4bK-f0", "").as_bytes(), &server.sip).unwrap();
    let challenge = receive(&mut buffer);
    assert!(challenge.starts_with("SIP/2.0 401"), "{challenge}");
    let nonce = challenge.split("nonce=\"").nth(1).and_then(|rest| rest.split('"').next()).expect("a nonce").to_owned();
    let uri = format!("sip:*1@{}", server.sip);
    let response = wfm_telephony::sip::digest::response("1001", "demo", PASSWORD, "INVITE", &uri, &nonce, Some(("auth", "00000001", "x")));
    let authorization = format!("Authorization: Digest username=\"1001\", realm=\"demo\", nonce=\"{nonce}\", uri=\"{uri}\", response=\"{response}\", qop=auth, nc=00000001, cnonce=\"x\"\r\n");
    socket.send_to(invite("z9hG4bK-f1", &authorization).as_bytes(), &server.sip).unwrap();
    let ok = receive(&mut buffer);
    assert!(ok.starts_with("SIP/2.0 200 OK"), "{ok}");
    let to = ok.lines().find(|l| l.starts_with("To:")).unwrap().to_owned();
    let ack = format!("ACK sip:*1@{sip} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-f2\r\nFrom: <sip:1001@127.0.0.1>;tag=p\r\n{to}\r\nCall-ID: feature-1\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n", sip = server.sip);
    socket.send_to(ack.as_bytes(), &server.sip).unwrap();
    // After the confirmation tone the ACD hangs up.
    let bye = receive(&mut buffer);
    assert!(bye.starts_with("BYE "), "{bye}");
    let (_, live) = server.get_authorized("/api/v1/tenants/demo/queues/live");
    let live: Value = serde_json::from_str(&live).unwrap();
    assert_eq!(live["queues"][0]["agents"]["ready"], 1, "1001 is ready: {live}");
}

#[test]
fn a_transfer_to_an_outside_number_goes_out_through_the_trunk() {
    let dir = tempfile::tempdir().unwrap();
    let trunk = free_port();
    let far_end = Phone { uas: Phone::at(dir.path(), &trunk, "5551234", "agent_answer", 1, &["-d", "1000"]), name: "the outside number".into() };
    let server = start_with(dir.path(), &["--trunk", &format!("127.0.0.1:{trunk}")]);
    let events = Events::open(&server);
    let agent = Phone::new(dir.path(), &server, "1001", "agent_transfer", 1, &["-d", "1000", "-key", "transfer_to", "5551234"], true);
    call(dir.path(), &server, "caller", "200", &[]);
    agent.done();
    far_end.done();
    let transferred = events.next_call();
    assert_eq!((transferred["agent"].as_str(), transferred["transfer_target"].as_str()), (Some("1001"), Some("5551234")));
}

/// A tenant beside the demo with its files in `DATA/tenants/ID/`: the queues and agents above,
/// `ivr`, and SIP password [`PASSWORD`] for agents 1001 and 1002.
fn add_tenant(dir: &Path, id: &str, zone: &str, ivr: &str) {
    common::ok(&["admin", "--data", p(dir), "tenant", "add", id, "--name", id, "--tz", zone]);
    let files = dir.join("tenants").join(id);
    std::fs::write(files.join("acd.toml"), ACD).unwrap();
    std::fs::write(files.join("ivr.toml"), ivr).unwrap();
    std::fs::write(files.join("sip-accounts.toml"), format!("[agents]\n1001 = \"{PASSWORD}\"\n1002 = \"{PASSWORD}\"\n")).unwrap();
}

#[test]
fn one_endpoint_serves_two_tenants_each_with_its_numbers_agents_zone_and_store() {
    use chrono::Timelike;
    let dir = tempfile::tempdir().unwrap();
    // Acme's hours hold the present hour on its clock (UTC+14) and not on Warsaw's (13 h behind):
    // open, its number reaches support; closed, billing.
    let hour = wfm_model::TenantZone::parse("Pacific/Kiritimati").unwrap().local_time(chrono::Utc::now()).hour();
    let ivr = format!(
        "[hours]\ndays = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\", \"sat\", \"sun\"]\nfrom = \"{:02}:00\"\nto = \"{:02}:00\"\n\n\
         [[numbers]]\nnumber = \"500\"\nopen = \"queue:support\"\nclosed = \"queue:billing\"\n",
        hour.saturating_sub(1),
        (hour + 2).min(24)
    );
    add_tenant(dir.path(), "acme", "Pacific/Kiritimati", &ivr);
    // A tenant whose file claims the demo's numbers is refused; the others are served.
    add_tenant(dir.path(), "clash", "UTC", IVR);
    let server = start(dir.path());
    let (acme_events, demo_events) = (Events::open_in(&server, "acme"), Events::open(&server));
    // Agent 1001 in each tenant: one id, two phones, two accounts.
    let acme_phone = Phone::of(dir.path(), &server, "acme", "1001", "agent_answer", 1, &["-d", "1000"], true);
    let demo_phone = Phone::new(dir.path(), &server, "1001", "agent_answer", 1, &["-d", "1000"], true);
    call(dir.path(), &server, "caller", "500", &[]);
    acme_phone.done();
    call(dir.path(), &server, "caller", "200", &[]);
    demo_phone.done();
    let acme_call = acme_events.next_call();
    assert_eq!((acme_call["dialled_number"].as_str(), acme_call["queue"].as_str(), acme_call["agent"].as_str()), (Some("500"), Some("support"), Some("1001")), "open on acme's own clock: {acme_call}");
    let demo_call = demo_events.next_call();
    assert_eq!((demo_call["dialled_number"].as_str(), demo_call["exit_reason"].as_str()), (Some("200"), Some("answered")));
    let recording = acme_call["recording"].as_str().unwrap();
    assert!(recording.contains("tenants/acme/recordings"), "each tenant's recordings in its own folder: {recording}");
    // Each call is in its own tenant's store, and only there.
    let total = |rows: &[Value]| rows.iter().map(|r| r["offered"].as_u64().unwrap()).sum::<u64>();
    let acme_rows = stats_in(dir.path(), "acme", 1);
    assert_eq!((total(&acme_rows), row(&acme_rows, "support")["answered"].as_u64()), (1, Some(1)), "{acme_rows:?}");
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(total(&stats_in(dir.path(), DEMO, 1)), 1);
    assert_eq!(total(&stats_in(dir.path(), "acme", 1)), 1);
    let (status, body) = server.get_authorized("/api/v1/tenants/clash/queues/live");
    assert_eq!(status, 404, "no ACD for a tenant whose numbers clash: {body}");
    assert_eq!(server.get_authorized("/api/v1/tenants/acme/queues/live").0, 200);
}

/// Sends one SIP request from a socket of its own; answers the final response's status line.
fn final_response(server: &Server, request: impl Fn(std::net::SocketAddr) -> String) -> String {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    socket.send_to(request(socket.local_addr().unwrap()).as_bytes(), &server.sip).unwrap();
    let mut buffer = [0u8; 4096];
    loop {
        let (n, _) = socket.recv_from(&mut buffer).expect("an answer within 5 s");
        let text = String::from_utf8_lossy(&buffer[..n]).into_owned();
        let status_line = text.lines().next().unwrap_or_default().to_owned();
        if !status_line.starts_with("SIP/2.0 1") {
            return status_line;
        }
    }
}

fn raw_register(server: &Server, user: &str) -> String {
    final_response(server, |local| {
        format!(
            "REGISTER sip:{sip} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-r{user}{}\r\nFrom: <sip:{user}@127.0.0.1>;tag=r\r\nTo: <sip:{user}@127.0.0.1>\r\n\
             Call-ID: reg-{user}-{local}\r\nCSeq: 1 REGISTER\r\nContact: <sip:{user}@{local}>\r\nMax-Forwards: 70\r\nExpires: 60\r\nContent-Length: 0\r\n\r\n",
            local.port(),
            sip = server.sip
        )
    })
}

fn raw_invite(server: &Server, number: &str) -> String {
    final_response(server, |local| {
        let sdp = "v=0\r\no=p 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n";
        format!(
            "INVITE sip:{number}@{sip} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-i{}\r\nFrom: <sip:caller@127.0.0.1>;tag=c\r\nTo: <sip:{number}@{sip}>\r\n\
             Call-ID: raw-{local}\r\nCSeq: 1 INVITE\r\nContact: <sip:caller@{local}>\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
            local.port(),
            sdp.len(),
            sip = server.sip
        )
    })
}

/// What the tenants table says reaches a running ACD within the watcher's second (and the
/// recordings' measure, every other second).
fn let_the_watcher_see() {
    std::thread::sleep(Duration::from_millis(2500));
}

#[test]
fn quotas_bite_where_they_should_and_a_suspended_tenant_refuses_calls_and_phones() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let events = Events::open(&server);
    common::ok(&["admin", "--data", p(dir.path()), "tenant", "quota", DEMO, "--max-agents", "1", "--max-calls", "1", "--max-recording-mb", "0"]);
    let_the_watcher_see();
    let phone = Phone::new(dir.path(), &server, "1001", "agent_answer", 1, &["-d", "2000"], true);
    assert_eq!(raw_register(&server, "1002"), "SIP/2.0 403 Forbidden (agent quota reached)", "one phone too many");
    // One call in progress; the next gets 503 for this tenant.
    let caller = sipp(dir.path(), "caller", &["-p", &free_port(), "-mp", &media_port(), "-m", "1", "-s", "200"]).arg(&server.sip).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(800));
    assert!(raw_invite(&server, "200").starts_with("SIP/2.0 503"), "over the tenant's call quota");
    assert!(caller.wait_with_output().unwrap().status.success());
    phone.done();
    let record = events.next_call();
    assert_eq!(record["exit_reason"], "answered");
    assert!(record["recording"].is_null(), "no room for recordings: not recorded ({record})");
    let (_, audit) = server.get_authorized("/api/v1/tenants/demo/audit");
    assert!(audit.contains("quota.recordings.full"), "the alarm is audited: {audit}");

    common::ok(&["admin", "--data", p(dir.path()), "tenant", "suspend", DEMO]);
    let_the_watcher_see();
    assert_eq!(raw_invite(&server, "200"), "SIP/2.0 403 Forbidden (tenant suspended)");
    assert_eq!(raw_register(&server, "1002"), "SIP/2.0 403 Forbidden (tenant suspended)");
    common::ok(&["admin", "--data", p(dir.path()), "tenant", "resume", DEMO]);
    common::ok(&["admin", "--data", p(dir.path()), "tenant", "quota", DEMO, "--max-agents", "10"]);
    let_the_watcher_see();
    assert_eq!(raw_register(&server, "1002"), "SIP/2.0 401 Unauthorized", "served again: challenged for its password");
}

#[test]
fn an_agents_phone_that_sends_from_another_address_than_its_sdp_is_heard() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let events = Events::open(&server);
    // A phone behind NAT: its SDP names an address it does not send from (its packets come
    // from 127.0.0.1, where its SIP comes from too).
    let behind_nat = dir.path().join("agent_answer_behind_nat.xml");
    let text = std::fs::read_to_string(scenario("agent_answer")).unwrap();
    assert!(text.contains("c=IN IP[media_ip_type] [media_ip]"));
    std::fs::write(&behind_nat, text.replace("c=IN IP[media_ip_type] [media_ip]", "c=IN IP4 192.0.2.99")).unwrap();
    let phone = Phone::new(dir.path(), &server, "1001", p(&behind_nat), 1, &["-d", "3000"], true);
    // The caller's digit comes after its audio (sipp stops the audio to play it).
    call(dir.path(), &server, "caller", "200", &["-set", "dtmf_ms", "9000"]);
    phone.done();
    let record = events.next_call();
    assert_eq!(record["exit_reason"], "answered");
    // The recording is completed once the call's media task has ended.
    std::thread::sleep(Duration::from_millis(500));
    let wav = std::fs::read(record["recording"].as_str().expect("support records")).unwrap();
    let (caller, agent) = (channel_rms(&wav, 0), channel_rms(&wav, 1));
    assert!(agent > 100.0, "the agent's channel carries the agent's audio (symmetric RTP): rms {agent:.0}");
    assert!(caller > 100.0, "and the caller's channel the caller's: rms {caller:.0}");
}

#[test]
fn the_wallboard_in_a_browser_shows_a_waiting_call_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let browser = common::browser::Driver::start();
    browser.open(&format!("http://{}/signin?next=%2Fwallboard", server.addr));
    browser.type_into("#tenant", "demo");
    browser.type_into("#login", "supervisor");
    browser.type_into("#password", &format!("{}\u{E007}", common::DEMO_PASSWORD));
    browser.wait_for_url("/wallboard");
    browser.wait_for_text("#queue-support td.waiting", "0");
    // Logged in (registered) but not ready: the call waits in the queue until the caller gives up.
    let _phone = Phone::new(dir.path(), &server, "1001", "agent_answer", 1, &[], false);
    let caller = sipp(dir.path(), "caller_hangs_up", &["-p", &free_port(), "-mp", &media_port(), "-m", "1", "-s", "200", "-set", "dtmf_ms", "300", "-d", "6000"]).arg(&server.sip).spawn().unwrap();
    let waiting = || {
        let (_, body) = server.get_authorized("/api/v1/tenants/demo/queues/live");
        body.contains(r#""queue":"support","calls_waiting":1"#)
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while !waiting() {
        assert!(Instant::now() < deadline, "the call reaches the queue");
        std::thread::sleep(Duration::from_millis(20));
    }
    let queued = Instant::now();
    browser.wait_for_text("#queue-support td.waiting", "1");
    let shown = queued.elapsed();
    assert!(shown < Duration::from_secs(1), "the wallboard showed the waiting call after {shown:?}");
    assert_eq!(browser.text("#queue-total td.waiting"), "1");
    assert!(browser.text("#age").contains("s ago"), "the data's age is shown");
    assert!(browser.text("#agent-1001").contains("not ready"), "the agent grid: {}", browser.text("#agents"));
    if let Ok(keep) = std::env::var("WFM_SCREENSHOTS") {
        browser.screenshot(&Path::new(&keep).join("wallboard.png"));
    }
    assert_eq!(browser.console_errors(), Vec::<String>::new());
    let out = caller.wait_with_output().unwrap();
    assert!(out.status.success(), "the caller: {}", String::from_utf8_lossy(&out.stderr));
    browser.wait_for_text("#queue-support td.waiting", "0");
}
