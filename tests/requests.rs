//! Agents' requests for leave against a running `wfm serve`: the check before sending (balance,
//! the intervals left short, who could cover), the approval chain (automatic when the check
//! passes, else the supervisor), approval with a cover written as a new published roster
//! version, a request whose schedule changed going back to review, duplicates and impossible
//! dates refused, the wrong agent and the wrong role refused; swaps accepted by the colleague
//! first, then judged on both agents' rules and skills and the coverage; the same through the
//! pages and in a real browser; and the demo's own plan on first start.

mod common;

use chrono::{Duration, NaiveDate};
use common::plan::{at, planning_files, roster, today};
use common::{browser_cookie, csrf_in, ok, p, smtp_sink, Server, DEMO_PASSWORD};
use serde_json::{json, Value};
use std::path::Path;

fn call(server: &Server, method: &str, path: &str, token: &str, body: Value) -> (u16, Value) {
    let (status, text) = server.request(method, path, &[&format!("Authorization: Bearer {token}"), "Content-Type: application/json"], &body.to_string());
    (status, serde_json::from_str(&text).unwrap_or_else(|_| panic!("{method} {path}: {text}")))
}

fn latest_roster(server: &Server) -> String {
    server.get_authorized("/api/v1/tenants/demo/rosters/latest").1
}

#[test]
fn leave_is_checked_decided_by_the_chain_and_written_as_a_new_roster_version() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--demo-days", "0"]);
    let day = |n: i64| today() + Duration::days(n);
    let (busy, busy_again, quiet) = (day(1), day(3), day(2));
    planning_files(dir.path(), &[busy, busy_again], &[quiet]);
    let agent = server.token_of(Some("demo"), "1001");
    let mine = "/api/v1/tenants/demo/agents/1001/requests";

    // Before a roster is published there is nothing to check against.
    let (status, body) = call(&server, "POST", &format!("{mine}/check"), &agent, json!({"kind": "leave", "date": busy.to_string()}));
    assert_eq!(status, 409, "{body}");
    assert!(body["error"].as_str().unwrap().contains("no published roster"), "{body}");
    ok(&["roster", "publish", "--data", p(dir.path()), "--tenant", "demo", "--roster", p(&roster(dir.path(), "v1.csv", None))]);

    // The check alone: on a busy day the whole shift falls short, and 1002 (free, skilled) could cover.
    let (status, check) = call(&server, "POST", &format!("{mine}/check"), &agent, json!({"kind": "leave", "date": busy.to_string()}));
    assert_eq!(status, 200, "{check}");
    assert_eq!(check["passed"], false);
    assert_eq!(check["shortfalls"].as_array().unwrap().len(), 32, "8 hours of work lost, a quarter-hour each: {check}");
    assert_eq!(check["shortfalls"][0]["interval_start"], at(busy, 8, 0));
    assert_eq!(check["candidates"].as_array().unwrap().iter().map(|c| c["agent"].as_str().unwrap()).collect::<Vec<_>>(), ["1002"], "1003 lacks support");
    assert_eq!(check["allowance"], json!({"allowance_days": 4, "taken_days": 0, "within": true}));
    assert!(server.get_authorized("/api/v1/tenants/demo/requests").1 == "[]", "the check keeps nothing");

    // A quiet day passes the check: approved at once and published as version 2.
    let (status, quiet_leave) = call(&server, "POST", mine, &agent, json!({"kind": "leave", "date": quiet.to_string(), "note": "family"}));
    assert_eq!(status, 201, "{quiet_leave}");
    assert_eq!((quiet_leave["state"].as_str(), quiet_leave["applied_version"].as_i64()), (Some("approved"), Some(2)), "{quiet_leave}");
    assert_eq!(quiet_leave["decisions"][0]["by"], "auto");
    let text = latest_roster(&server);
    assert!(text.contains(&format!("1001,{quiet},leave,{},{}", at(quiet, 0, 0), at(quiet + Duration::days(1), 0, 0))), "{text}");
    assert!(!text.contains(&format!("1001,{quiet},work")), "{text}");

    // A busy day waits for a supervisor.
    let (status, pending) = call(&server, "POST", mine, &agent, json!({"kind": "leave", "date": busy.to_string()}));
    assert_eq!(status, 201, "{pending}");
    assert_eq!((pending["state"].as_str(), pending["awaiting"].as_str()), (Some("pending"), Some("supervisor")), "{pending}");
    let id = pending["id"].as_str().unwrap().to_owned();
    assert_eq!(pending["check"]["allowance"]["taken_days"], 1, "the quiet day's leave counts");

    // Duplicates, impossible dates and bad fields are refused with the field named.
    let (status, body) = call(&server, "POST", mine, &agent, json!({"kind": "leave", "date": busy.to_string()}));
    assert_eq!(status, 409, "{body}");
    assert!(body["error"].as_str().unwrap().contains("already pending"), "{body}");
    for (request, field) in [
        (json!({"kind": "leave", "date": day(-1).to_string()}), "date"),
        (json!({"kind": "leave", "date": day(40).to_string()}), "date"),
        (json!({"kind": "leave", "date": "next friday"}), "date"),
        (json!({"kind": "holiday", "date": busy.to_string()}), "kind"),
        (json!({"kind": "leave", "date": busy.to_string(), "extra": 1}), "body"),
    ] {
        let (status, body) = call(&server, "POST", mine, &agent, request.clone());
        assert_eq!((status, body["field"].as_str()), (400, Some(field)), "{request}: {body}");
    }

    // The wrong agent, the wrong role, no credentials.
    let other = server.token_of(Some("demo"), "1002");
    assert_eq!(call(&server, "POST", mine, &other, json!({"kind": "leave", "date": busy.to_string()})).0, 403);
    assert_eq!(call(&server, "GET", mine, &other, json!({})).0, 403);
    assert_eq!(call(&server, "POST", &format!("/api/v1/tenants/demo/requests/{id}/decision"), &agent, json!({"decision": "approve"})).0, 403);
    assert_eq!(server.status("POST", &format!("/api/v1/tenants/demo/requests/{id}/decision"), &["Content-Type: application/json"], r#"{"decision":"approve"}"#), 401);
    let manager = server.token_of(Some("demo"), "manager");
    let (status, body) = call(&server, "POST", &format!("/api/v1/tenants/demo/requests/{id}/decision"), &manager, json!({"decision": "approve"}));
    assert_eq!((status, body["field"].as_str()), (400, Some("decision")), "the chain waits for a supervisor: {body}");

    // The supervisor approves with a cover: 1003 cannot take it, 1002 can.
    let supervisor = server.token_of(Some("demo"), "supervisor");
    let decision = format!("/api/v1/tenants/demo/requests/{id}/decision");
    let (status, body) = call(&server, "POST", &decision, &supervisor, json!({"decision": "approve", "cover": "1003"}));
    assert_eq!((status, body["field"].as_str()), (400, Some("cover")), "{body}");
    let (status, approved) = call(&server, "POST", &decision, &supervisor, json!({"decision": "approve", "cover": "1002", "comment": "1002 covers"}));
    assert_eq!(status, 200, "{approved}");
    assert_eq!((approved["state"].as_str(), approved["applied_version"].as_i64(), approved["cover"].as_str()), (Some("approved"), Some(3), Some("1002")));
    let text = latest_roster(&server);
    assert!(text.contains(&format!("1001,{busy},leave,")) && text.contains(&format!("1002,{busy},work,{},{}", at(busy, 8, 0), at(busy, 12, 0))), "{text}");
    assert!(!text.contains(&format!("1002,{busy},day-off")), "{text}");
    let (status, body) = call(&server, "POST", &decision, &supervisor, json!({"decision": "reject"}));
    assert_eq!((status, body["field"].as_str()), (400, Some("id")), "decided once: {body}");

    // A request whose day changed in a newer roster goes back to review.
    let (_, third) = call(&server, "POST", mine, &agent, json!({"kind": "leave", "date": busy_again.to_string()}));
    assert_eq!(third["state"], "pending", "{third}");
    let third_id = third["id"].as_str().unwrap().to_owned();
    let moved = roster(dir.path(), "v4.csv", Some((busy_again, 9)));
    ok(&["roster", "publish", "--data", p(dir.path()), "--tenant", "demo", "--roster", p(&moved)]);
    let third_decision = format!("/api/v1/tenants/demo/requests/{third_id}/decision");
    let (status, body) = call(&server, "POST", &third_decision, &supervisor, json!({"decision": "approve"}));
    assert_eq!(status, 409, "{body}");
    assert!(body["error"].as_str().unwrap().contains("changed since the request"), "{body}");
    let (_, again) = call(&server, "GET", &format!("/api/v1/tenants/demo/requests/{third_id}"), &supervisor, json!({}));
    assert_eq!((again["state"].as_str(), again["roster_version"].as_i64(), again["history"].as_array().unwrap().len()), (Some("pending"), Some(4), 1), "{again}");
    let (status, rejected) = call(&server, "POST", &third_decision, &supervisor, json!({"decision": "reject", "comment": "quarter end"}));
    assert_eq!((status, rejected["state"].as_str()), (200, Some("rejected")), "{rejected}");

    // Listings: the agent's own, every one for the approvers, by state; all audited.
    let (_, listed) = call(&server, "GET", mine, &agent, json!({}));
    assert_eq!(listed["requests"].as_array().unwrap().len(), 3, "{listed}");
    let (_, approved_only) = call(&server, "GET", "/api/v1/tenants/demo/requests?state=approved", &supervisor, json!({}));
    assert_eq!(approved_only.as_array().unwrap().len(), 2);
    let (status, body) = call(&server, "GET", "/api/v1/tenants/demo/requests?state=maybe", &supervisor, json!({}));
    assert_eq!((status, body["field"].as_str()), (400, Some("state")));
    let audit = server.get_authorized("/api/v1/tenants/demo/audit").1;
    for action in ["request.leave", "request.approve", "request.review", "request.reject", "roster.publish"] {
        assert!(audit.contains(action), "{action} in {audit}");
    }
}

/// The session cookie of a browser signed in with the form.
#[test]
fn agents_ask_and_supervisors_decide_on_the_pages() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--demo-days", "0"]);
    let (busy, quiet) = (today() + Duration::days(1), today() + Duration::days(2));
    planning_files(dir.path(), &[busy], &[quiet]);
    ok(&["roster", "publish", "--data", p(dir.path()), "--tenant", "demo", "--roster", p(&roster(dir.path(), "v1.csv", None))]);
    let form = "Content-Type: application/x-www-form-urlencoded";

    let agent = browser_cookie(&server, "demo", "1001");
    let (status, home) = server.request("GET", "/", &[&agent], "");
    assert!(status == 200 && home.contains(r#"href="/my/requests""#) && !home.contains(r#"href="/requests""#), "{home}");
    let (status, page) = server.request("GET", &format!("/my/requests?date={busy}"), &[&agent], "");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Needs a decision") && page.contains("Leave taken: 0 of 4 days.") && page.contains("1002 (0.0 h)"), "{page}");
    assert!(page.contains("08:00–12:00 — 0 / 1, 12:30–16:30 — 0 / 1"), "the intervals left short, as spans in local time: {page}");
    assert!(page.contains("32 intervals would have fewer agents than required for the service-level target"), "{page}");
    // In the user's language, the check's reasons too.
    let (_, page_ru) = server.request("GET", &format!("/my/requests?date={busy}"), &[&format!("{agent}; wfm_lang=ru")], "");
    assert!(page_ru.contains("интервалов, где операторов станет меньше, чем нужно для цели уровня сервиса: 32"), "{page_ru}");
    let (_, page) = server.request("GET", &format!("/my/requests?date={}", today() + Duration::days(60)), &[&agent], "");
    assert!(page.contains("has no shift on"), "an impossible day says why on the page: {page}");

    let csrf = csrf_in(&page);
    let (status, head, _) = server.exchange("POST", "/my/requests", &[&agent, form], &format!("csrf={csrf}&action=send&date={busy}&note=wedding"));
    assert_eq!(status, 303, "{head}");
    let (_, page) = server.request("GET", common::header(&head, "location").unwrap(), &[&agent], "");
    assert!(page.contains(&format!("Your request for {busy} is pending.")) && page.contains("not approved automatically: the check found problems · waits for a supervisor"), "{page}");
    let (status, _, _) = server.exchange("POST", "/my/requests", &[&agent, form], &format!("action=send&date={quiet}"));
    assert_eq!(status, 403, "no CSRF token, no request");

    let supervisor = browser_cookie(&server, "demo", "supervisor");
    let (status, page) = server.request("GET", "/requests", &[&supervisor], "");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("1001 · ") && page.contains("wedding") && page.contains(r#"value="1002""#), "{page}");
    let id = page.split(r#"<article class="request" data-id=""#).nth(1).unwrap().split('"').next().unwrap().to_owned();
    let csrf = csrf_in(&page);
    let (status, head, _) = server.exchange("POST", &format!("/requests/{id}"), &[&supervisor, form], &format!("csrf={csrf}&cover=1002&comment=ok&decision=approve"));
    assert_eq!(status, 303, "{head}");
    let (_, page) = server.request("GET", common::header(&head, "location").unwrap(), &[&supervisor], "");
    assert!(page.contains(&format!("The request of 1001 for {busy} is approved.")) && page.contains("Nothing is waiting for your decision."), "{page}");
    assert!(latest_roster(&server).contains(&format!("1002,{busy},work,")));

    // The agent sees the decision; their schedule shows the leave.
    let (_, page) = server.request("GET", "/my/requests", &[&agent], "");
    assert!(page.contains("approved by demo/supervisor") && page.contains("covered by 1002"), "{page}");
    let (_, schedule) = server.request("GET", "/my/schedule", &[&agent], "");
    assert!(schedule.contains("<td>leave</td>"), "{schedule}");
    // An agent may not open the approvers' page.
    assert_eq!(server.request("GET", "/requests", &[&agent], "").0, 403);
}

#[test]
fn a_real_browser_asks_for_leave_and_the_supervisor_approves_it_with_a_cover() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--demo-days", "0"]);
    let busy = today() + Duration::days(1);
    planning_files(dir.path(), &[busy], &[]);
    ok(&["roster", "publish", "--data", p(dir.path()), "--tenant", "demo", "--roster", p(&roster(dir.path(), "v1.csv", None))]);
    let base = format!("http://{}", server.addr);
    let browser = common::browser::Driver::start();
    let sign_in = |login: &str| {
        browser.open(&format!("{base}/signin"));
        browser.type_into("#tenant", "demo");
        browser.type_into("#login", login);
        browser.type_into("#password", &format!("{DEMO_PASSWORD}\u{E007}"));
        browser.wait_for_url("/");
    };

    sign_in("1001");
    browser.click("nav a[href='/my/requests']");
    browser.wait_for_text("h1", "My requests");
    // The check form asks for the day; the page then shows the verdict before anything is sent.
    browser.open(&format!("{base}/my/requests?date={busy}"));
    assert!(browser.text("#verdict").starts_with("Needs a decision"), "{}", browser.text("#verdict"));
    browser.type_into("#note", "moving house");
    browser.click("#send");
    browser.wait_for_text("#notice", &format!("Your request for {busy} is pending."));
    browser.screenshot(&dir.path().join("my-requests.png"));
    browser.click("#sign-out");
    browser.wait_for_url("/signin");

    sign_in("supervisor");
    browser.click("nav a[href='/requests']");
    browser.wait_for_text("h1", "Requests to decide");
    browser.screenshot(&dir.path().join("requests.png"));
    browser.click("article.request input[value='1002']");
    browser.click("article.request button.approve");
    browser.wait_for_text("#notice", &format!("The request of 1001 for {busy} is approved."));
    assert!(latest_roster(&server).contains(&format!("1002,{busy},work,")), "the cover works the shift in the new version");
    assert_eq!(browser.console_errors(), Vec::<String>::new(), "the pages ran without console errors");
    if let Ok(keep) = std::env::var("WFM_SCREENSHOTS") {
        for name in ["my-requests.png", "requests.png"] {
            std::fs::copy(dir.path().join(name), Path::new(&keep).join(name)).unwrap();
        }
    }
}

#[test]
fn a_fresh_demo_publishes_a_plan_its_agents_read_and_ask_leave_against() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--demo-days", "14"]);
    // The plan (forecast, staff, schedule, publish) runs in the background after the history.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(240);
    let versions = loop {
        let (status, body) = server.get_authorized("/api/v1/tenants/demo/rosters");
        let versions: Value = serde_json::from_str(&body).unwrap();
        if status == 200 && !versions.as_array().unwrap().is_empty() {
            break versions;
        }
        assert!(std::time::Instant::now() < deadline, "the demo plan is published within 4 minutes: {body}");
        std::thread::sleep(std::time::Duration::from_millis(500));
    };
    let monday = today() - Duration::days(chrono::Datelike::weekday(&today()).num_days_from_monday().into());
    assert_eq!(versions[0]["first_date"], monday.to_string(), "{versions}");
    assert_eq!(versions[0]["last_date"], (monday + Duration::days(13)).to_string(), "two weeks: {versions}");
    assert_eq!(versions[0]["published_by"], "system:demo-plan", "{versions}");
    for file in ["agents.csv", "rules.toml", "requirements.csv"] {
        assert!(dir.path().join("tenants/demo").join(file).exists(), "{file} where requests are checked");
    }
    let agent = browser_cookie(&server, "demo", "1001");
    let (status, page) = server.request("GET", "/my/schedule?weeks=2", &[&agent], "");
    assert_eq!(status, 200);
    assert!(!page.contains(r#"id="notice""#) && page.contains(" work"), "1001 has shifts in the demo plan: {page}");
    // A working day of theirs in the coming days can be checked for leave.
    let roster = latest_roster(&server);
    let day = roster
        .lines()
        .filter(|l| l.starts_with("1001,") && l.contains(",work,"))
        .filter_map(|l| l.split(',').nth(1).and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()))
        .find(|d| *d > today())
        .expect("a working day after today");
    let (status, page) = server.request("GET", &format!("/my/requests?date={day}"), &[&agent], "");
    assert_eq!(status, 200);
    let preview = page.split(r#"<div id="preview">"#).nth(1).unwrap_or_else(|| panic!("the check is shown: {page}"));
    assert!(preview.contains(r#"id="verdict""#) && preview.contains(r#"id="send""#) && preview.contains("Could cover the shift"), "{preview}");
    assert!(preview.contains("Leave taken: 0 of "), "the generated agents have an allowance: {preview}");
    // The day's service level priced with Erlang C on the demo's requirement, before and after.
    assert!(preview.contains(r#"<p class="sl-impact">Projected service level of the day (answered within 20 s, Erlang C): "#), "{preview}");
    let token = server.token_of(Some("demo"), "1001");
    let (status, check) = call(&server, "POST", "/api/v1/tenants/demo/agents/1001/requests/check", &token, json!({"kind": "leave", "date": day.to_string()}));
    assert_eq!(status, 200, "{check}");
    let impact = &check["service_level"];
    let (before, after) = (impact["day_before"].as_f64().unwrap(), impact["day_after"].as_f64().unwrap());
    assert!((0.0..=1.0).contains(&after) && after <= before, "one agent fewer cannot raise it: {impact}");
    let intervals = impact["intervals"].as_array().unwrap();
    // Priced are the quarter-hours the agent works that day: the shift less its breaks.
    let worked_quarters: i64 = roster
        .lines()
        .filter(|l| l.starts_with(&format!("1001,{day},work,")))
        .map(|l| {
            let at = |i: usize| chrono::DateTime::parse_from_rfc3339(l.split(',').nth(i).unwrap()).unwrap();
            (at(4) - at(3)).num_minutes() / 15
        })
        .sum();
    assert!(worked_quarters >= 12, "a shift of at least three hours: {roster}");
    assert!(intervals.len() as i64 == worked_quarters && intervals.iter().all(|i| i["after"].as_f64() <= i["before"].as_f64()), "the shift's intervals: {impact}");
}

#[test]
fn a_swap_is_accepted_by_the_colleague_then_judged_on_both_schedules() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--demo-days", "0"]);
    let (busy, other_day) = (today() + Duration::days(1), today() + Duration::days(2));
    planning_files(dir.path(), &[busy, other_day], &[]);
    ok(&["roster", "publish", "--data", p(dir.path()), "--tenant", "demo", "--roster", p(&roster(dir.path(), "v1.csv", None))]);
    let (asker, colleague, unskilled) = (server.token_of(Some("demo"), "1001"), server.token_of(Some("demo"), "1002"), server.token_of(Some("demo"), "1003"));
    let supervisor = server.token_of(Some("demo"), "supervisor");
    let mine = "/api/v1/tenants/demo/agents/1001/requests";

    // The check: 1002 takes 1001's shift at the same hours, so the cover stays as it was.
    let (status, check) = call(&server, "POST", &format!("{mine}/check"), &asker, json!({"kind": "swap", "with": "1002", "date": busy.to_string()}));
    assert_eq!(status, 200, "{check}");
    assert_eq!((check["passed"].as_bool(), check["valid"].as_bool(), check["shortfalls"].as_array().map(Vec::len)), (Some(true), Some(true), Some(0)), "{check}");
    let (status, body) = call(&server, "POST", mine, &asker, json!({"kind": "swap", "date": busy.to_string()}));
    assert_eq!((status, body["field"].as_str()), (400, Some("with")), "{body}");
    let (status, body) = call(&server, "POST", mine, &asker, json!({"kind": "swap", "with": "1001", "date": busy.to_string()}));
    assert_eq!((status, body["field"].as_str()), (400, Some("with")), "not with oneself: {body}");

    // Sent: it waits for 1002, who sees it among the swaps asked of them.
    let (status, swap) = call(&server, "POST", mine, &asker, json!({"kind": "swap", "with": "1002", "date": busy.to_string(), "note": "dentist"}));
    assert_eq!((status, swap["awaiting"].as_str()), (201, Some("colleague")), "{swap}");
    let id = swap["id"].as_str().unwrap().to_owned();
    let (_, listed) = call(&server, "GET", "/api/v1/tenants/demo/agents/1002/requests", &colleague, json!({}));
    assert_eq!(listed["asked"][0]["id"], id.as_str(), "{listed}");
    let (status, body) = call(&server, "POST", &format!("/api/v1/tenants/demo/requests/{id}/decision"), &supervisor, json!({"decision": "approve"}));
    assert_eq!((status, body["field"].as_str()), (400, Some("decision")), "the colleague answers first: {body}");
    let (status, _) = call(&server, "POST", &format!("/api/v1/tenants/demo/agents/1003/requests/{id}/answer"), &unskilled, json!({"answer": "accept"}));
    assert_eq!(status, 404, "someone else is asked nothing");
    assert_eq!(call(&server, "POST", &format!("/api/v1/tenants/demo/agents/1002/requests/{id}/answer"), &asker, json!({"answer": "accept"})).0, 403, "nobody answers for the colleague");

    // Accepted: the check passes, so it is approved and 1002 works the shift in version 2.
    let (status, accepted) = call(&server, "POST", &format!("/api/v1/tenants/demo/agents/1002/requests/{id}/answer"), &colleague, json!({"answer": "accept"}));
    assert_eq!(status, 200, "{accepted}");
    assert_eq!((accepted["state"].as_str(), accepted["applied_version"].as_i64()), (Some("approved"), Some(2)), "{accepted}");
    let text = latest_roster(&server);
    assert!(text.contains(&format!("1002,{busy},work,{},{}", at(busy, 8, 0), at(busy, 12, 0))) && text.contains(&format!("1001,{busy},day-off")), "{text}");

    // With 1003, who lacks support: accepted, then the check fails and the supervisor decides.
    let (_, second) = call(&server, "POST", mine, &asker, json!({"kind": "swap", "with": "1003", "date": other_day.to_string()}));
    let second_id = second["id"].as_str().unwrap().to_owned();
    assert_eq!(second["check"]["problems"][0], "1003 lacks skill support of 1001's shift", "{second}");
    let (_, answered) = call(&server, "POST", &format!("/api/v1/tenants/demo/agents/1003/requests/{second_id}/answer"), &unskilled, json!({"answer": "accept"}));
    assert_eq!((answered["state"].as_str(), answered["awaiting"].as_str()), (Some("pending"), Some("supervisor")), "{answered}");
    let (status, body) = call(&server, "POST", &format!("/api/v1/tenants/demo/requests/{second_id}/decision"), &supervisor, json!({"decision": "approve", "cover": "1002"}));
    assert_eq!((status, body["field"].as_str()), (400, Some("cover")), "a swap has no cover: {body}");
    let (_, rejected) = call(&server, "POST", &format!("/api/v1/tenants/demo/requests/{second_id}/decision"), &supervisor, json!({"decision": "reject", "comment": "1003 is not trained for support"}));
    assert_eq!(rejected["state"], "rejected");
    let audit = server.get_authorized("/api/v1/tenants/demo/audit").1;
    for action in ["request.swap", "request.accept", "request.reject"] {
        assert!(audit.contains(action), "{action} in {audit}");
    }

    // On the pages: the colleague's page offers accept and decline.
    let (_, third) = call(&server, "POST", mine, &asker, json!({"kind": "swap", "with": "1002", "date": (today() + Duration::days(3)).to_string()}));
    let colleague_page = browser_cookie(&server, "demo", "1002");
    let (_, page) = server.request("GET", "/my/requests", &[&colleague_page], "");
    let asked = page.split(r#"<section id="asked">"#).nth(1).unwrap_or_else(|| panic!("{page}"));
    assert!(asked.contains(third["id"].as_str().unwrap()) && asked.contains(r#"value="decline""#), "{asked}");
    let csrf = csrf_in(&page);
    let (status, _, _) = server.exchange("POST", "/my/requests", &[&colleague_page, "Content-Type: application/x-www-form-urlencoded"], &format!("csrf={csrf}&action=decline&id={}", third["id"].as_str().unwrap()));
    assert_eq!(status, 303);
    let (_, declined) = call(&server, "GET", &format!("/api/v1/tenants/demo/requests/{}", third["id"].as_str().unwrap()), &supervisor, json!({}));
    assert_eq!(declined["state"], "rejected", "{declined}");
    let asker_page = browser_cookie(&server, "demo", "1001");
    let (_, page) = server.request("GET", &format!("/my/requests?date={}&kind=swap&with=1003", today() + Duration::days(4)), &[&asker_page], "");
    assert!(page.contains("1003 lacks skill support of 1001&#x27;s shift") || page.contains("1003 lacks skill support of 1001&#39;s shift"), "the check before sending: {page}");
}

#[test]
fn overtime_is_offered_where_agents_are_short_and_approved_when_it_helps() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--demo-days", "0"]);
    let (busy, quiet) = (today() + Duration::days(1), today() + Duration::days(2));
    planning_files(dir.path(), &[busy], &[quiet]);
    // Two agents needed 08:00–16:30 on the busy day; 1001 alone is rostered.
    let requirements = dir.path().join("tenants/demo/requirements.csv");
    let doubled = std::fs::read_to_string(&requirements).unwrap().lines().map(|l| if l.ends_with(",1") && l.contains(&busy.to_string()) { format!("{},2", &l[..l.len() - 2]) } else { l.to_owned() }).collect::<Vec<_>>().join("\n");
    std::fs::write(&requirements, doubled + "\n").unwrap();
    ok(&["roster", "publish", "--data", p(dir.path()), "--tenant", "demo", "--roster", p(&roster(dir.path(), "v1.csv", None))]);
    let free = server.token_of(Some("demo"), "1002");
    let busy_agent = server.token_of(Some("demo"), "1001");

    // The page shows where overtime is needed, with a link to the check.
    let page_cookie = browser_cookie(&server, "demo", "1002");
    let (_, page) = server.request("GET", "/my/requests", &[&page_cookie], "");
    let needed = page.split(r#"<section id="overtime-needed">"#).nth(1).unwrap_or_else(|| panic!("{page}"));
    assert!(needed.contains(&format!("{busy} 08:00–16:30 (−2)")) && needed.contains(&format!("date={busy}&amp;kind=overtime&amp;from=08:00&amp;to=16:30")), "{needed}");
    let (_, page) = server.request("GET", &format!("/my/requests?date={busy}&kind=overtime&from=08:00&to=16:30"), &[&page_cookie], "");
    assert!(page.contains("Shift offered: 08:00–16:30, covering 32 short intervals.") && page.contains(r#"id="send""#), "{page}");

    // Fields are checked.
    let theirs = "/api/v1/tenants/demo/agents/1002/requests";
    for (request, field) in [
        (json!({"kind": "overtime", "date": busy.to_string()}), "from"),
        (json!({"kind": "overtime", "date": busy.to_string(), "from": "9am", "to": "12:00"}), "from"),
        (json!({"kind": "overtime", "date": busy.to_string(), "from": "12:00", "to": "10:00"}), "to"),
        (json!({"kind": "leave", "date": busy.to_string(), "from": "08:00", "to": "12:00"}), "from"),
    ] {
        let (status, body) = call(&server, "POST", theirs, &free, request.clone());
        assert_eq!((status, body["field"].as_str()), (400, Some(field)), "{request}: {body}");
    }
    // Where it helps: approved at once and published with 1002's extra shift.
    let (status, approved) = call(&server, "POST", theirs, &free, json!({"kind": "overtime", "date": busy.to_string(), "from": "10:00", "to": "14:00"}));
    assert_eq!(status, 201, "{approved}");
    assert_eq!((approved["state"].as_str(), approved["applied_version"].as_i64()), (Some("approved"), Some(2)), "{approved}");
    assert_eq!((approved["check"]["offer"]["start"].as_str(), approved["check"]["offer"]["end"].as_str()), (Some(at(busy, 10, 0).as_str()), Some(at(busy, 18, 30).as_str())), "the one shift length the rules allow, from the span's start: {approved}");
    let text = latest_roster(&server);
    assert!(text.contains(&format!("1002,{busy},work,{}", at(busy, 10, 0))) && !text.contains(&format!("1002,{busy},day-off")), "{text}");
    // Leave beside the approved overtime cannot happen, and the same overtime again is a duplicate:
    // the check says so, the page offers nothing to send, and sending is refused.
    let (status, check) = call(&server, "POST", &format!("{theirs}/check"), &free, json!({"kind": "leave", "date": busy.to_string()}));
    let clash = check["clash"].as_str().unwrap_or_else(|| panic!("{status} {check}"));
    assert!(clash.contains(approved["id"].as_str().unwrap()) && clash.contains("cannot happen beside"), "{clash}");
    let (status, refused) = call(&server, "POST", theirs, &free, json!({"kind": "leave", "date": busy.to_string()}));
    assert_eq!(status, 409, "{refused}");
    let (status, again) = call(&server, "POST", theirs, &free, json!({"kind": "overtime", "date": busy.to_string(), "from": "12:00", "to": "16:00"}));
    assert!(status == 409 && again["error"].as_str().unwrap_or_default().contains("already approved"), "{status} {again}");
    let (_, page) = server.request("GET", &format!("/my/requests?date={busy}&kind=leave"), &[&page_cookie], "");
    assert!(page.contains(r#"id="clash""#) && page.contains("withdraw one of them first") && !page.contains(r#"id="send""#), "{page}");
    // Where nobody is short, or for an agent already at work: the supervisor decides.
    let (_, quiet_ask) = call(&server, "POST", theirs, &free, json!({"kind": "overtime", "date": quiet.to_string(), "from": "10:00", "to": "14:00"}));
    assert_eq!((quiet_ask["state"].as_str(), quiet_ask["check"]["reasons"][0].as_str()), (Some("pending"), Some("no interval of the shift is short of agents")), "{quiet_ask}");
    let (_, working) = call(&server, "POST", "/api/v1/tenants/demo/agents/1001/requests", &busy_agent, json!({"kind": "overtime", "date": busy.to_string(), "from": "17:00", "to": "20:00"}));
    assert!(working["check"]["reasons"][0].as_str().unwrap().starts_with("no shift covering 17:00–20:00 fits"), "{working}");
    let audit = server.get_authorized("/api/v1/tenants/demo/audit").1;
    assert!(audit.contains("request.overtime") && audit.contains("overtime of 1002"), "{audit}");

    // Asking for leave, 1001 sees the working days on which leave leaves nobody short: the quiet
    // day, not the busy one (short already, and shorter without them).
    let (_, page) = server.request("GET", "/my/requests?kind=leave", &[&browser_cookie(&server, "demo", "1001")], "");
    let free_days = page.split(r#"<p id="free-days">"#).nth(1).and_then(|s| s.split("</p>").next()).unwrap_or_else(|| panic!("{page}"));
    assert!(free_days.contains(&format!(r#"href="/my/requests?date={quiet}&amp;kind=leave""#)) && !free_days.contains(&busy.to_string()), "{free_days}");
    let (_, page) = server.request("GET", "/my/requests?kind=overtime", &[&page_cookie], "");
    assert!(!page.contains(r#"id="free-days""#), "only the leave form lists free days");
}

/// Decided requests are mailed to the agent, and a swap asked of a colleague to the colleague,
/// through the tenant's relay of `alarms.toml`.
#[test]
fn agents_are_told_by_e_mail_when_their_request_is_decided() {
    let dir = tempfile::tempdir().unwrap();
    let (smtp, mails) = smtp_sink();
    let tenant = dir.path().join("tenants").join("demo");
    std::fs::create_dir_all(&tenant).unwrap();
    std::fs::write(tenant.join("alarms.toml"), format!("[email]\nsmtp = \"{smtp}\"\nfrom = \"wfm@centre.example\"\nagents = {{ \"1001\" = \"anna@centre.example\", \"1002\" = \"bob@centre.example\" }}\n")).unwrap();
    let server = Server::start(dir.path(), &["--demo-days", "0"]);
    let quiet = today() + Duration::days(2);
    planning_files(dir.path(), &[], &[quiet]);
    ok(&["roster", "publish", "--data", p(dir.path()), "--tenant", "demo", "--roster", p(&roster(dir.path(), "v1.csv", None))]);
    let anna = server.token_of(Some("demo"), "1001");
    let mine = "/api/v1/tenants/demo/agents/1001/requests";

    // Leave where nobody is short: approved at once, and Anna is told.
    let (status, leave) = call(&server, "POST", mine, &anna, json!({"kind": "leave", "date": quiet.to_string(), "note": "dentist"}));
    assert_eq!((status, leave["state"].as_str()), (201, Some("approved")), "{leave}");
    let (to, text) = mails.recv_timeout(std::time::Duration::from_secs(10)).expect("the agent's e-mail");
    assert_eq!(to, ["anna@centre.example"]);
    assert!(text.contains(&format!("request of 1001 for {quiet}: leave, approved")) && text.contains("roster version 2") && text.contains(leave["id"].as_str().unwrap()), "{text}");

    // A swap asked of Bob: he is told he is asked.
    let day = today() + Duration::days(3);
    let (_, swap) = call(&server, "POST", mine, &anna, json!({"kind": "swap", "with": "1002", "date": day.to_string()}));
    assert_eq!(swap["awaiting"], "colleague", "{swap}");
    let (to, text) = mails.recv_timeout(std::time::Duration::from_secs(10)).expect("the colleague's e-mail");
    assert!(to == ["bob@centre.example"] && text.contains(&format!("1001 asks you for a shift swap on {day}")), "{to:?} {text}");
}
