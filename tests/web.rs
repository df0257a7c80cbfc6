//! The web application against a running `wfm serve`: sign-in and sign-out with forms, the
//! pages of each role, the language switch, error pages, tenant isolation, the agent's
//! published schedule, the manager's dashboard and its exports (the same figures as
//! `wfm stats`); and the same pages driven in headless Chromium through WebDriver.

mod common;

use common::plan::{planning_files, roster, today};
use common::{browser_cookie, csrf_in, header, ok, p, Server, DEMO_PASSWORD};
use common::browser::{element_id, Driver};
use serde_json::json;
use std::path::Path;

const FORM: &str = "Content-Type: application/x-www-form-urlencoded";

/// Signs in through the page's form; answers the status, the response head and body.
fn sign_in_form(server: &Server, extra: &[&str], fields: &str) -> (u16, String, String) {
    let headers: Vec<&str> = [FORM].into_iter().chain(extra.iter().copied()).collect();
    server.exchange("POST", "/signin", &headers, fields)
}

fn page(server: &Server, cookie: &str, path: &str) -> (u16, String) {
    server.request("GET", path, &[cookie], "")
}

/// The text of the element with this id, up to its first child tag.
fn text_of(html: &str, id: &str) -> String {
    let start = html.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("#{id} in {html}"));
    let inner = &html[start..];
    let inner = &inner[inner.find('>').unwrap() + 1..];
    inner[..inner.find('<').unwrap_or(inner.len())].trim().to_owned()
}

#[test]
fn signing_in_and_out_with_the_form() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--demo-days", "0"]);
    // Any page sends a stranger to the sign-in, which knows where to come back to.
    let (status, head, _) = server.exchange("GET", "/dashboard?interval=day", &[], "");
    assert_eq!((status, header(&head, "location")), (303, Some("/signin?next=%2Fdashboard%3Finterval%3Dday")));
    let (status, body) = server.get("/signin?next=%2Fdashboard");
    assert_eq!(status, 200);
    assert!(body.contains(r#"<input type="hidden" name="next" value="/dashboard">"#), "{body}");
    assert!(body.contains("<title>Sign in to the workforce management suite"), "{body}");

    // A wrong password: the form again, saying so, with what was typed but the password.
    let (status, _, body) = sign_in_form(&server, &[], "tenant=demo&login=manager&password=wrong&next=%2Fdashboard");
    assert_eq!(status, 401);
    assert_eq!(text_of(&body, "error"), "Wrong tenant, login or password.");
    assert!(body.contains(r#"id="login" name="login" value="manager""#) && !body.contains("wrong"), "{body}");
    // A form without a field names it.
    let (status, _, body) = sign_in_form(&server, &[], "tenant=demo&login=manager");
    assert_eq!(status, 400);
    assert!(body.contains("password"), "{body}");
    // Only a path of this site is a place to go back to.
    let (status, head, _) = sign_in_form(&server, &[], &format!("tenant=demo&login=manager&password={DEMO_PASSWORD}&next=//evil.example/"));
    assert_eq!((status, header(&head, "location")), (303, Some("/")));

    let cookie = browser_cookie(&server, "demo", "manager");
    let (status, home) = page(&server, &cookie, "/");
    assert_eq!(status, 200);
    assert_eq!(text_of(&home, "user"), "manager (manager)");
    assert!(home.contains(r#"<a href="/dashboard">Service level</a>"#) && !home.contains(r#"href="/my/schedule""#), "{home}");
    let csrf = csrf_in(&home);

    // Signing out needs the form's token; afterwards the cookie opens nothing.
    let (status, _, _) = server.exchange("POST", "/signout", &[FORM, &cookie], "csrf=forged");
    assert_eq!(status, 403);
    let (status, head, _) = server.exchange("POST", "/signout", &[FORM, &cookie], &format!("csrf={csrf}"));
    assert_eq!((status, header(&head, "location")), (303, Some("/signin")));
    assert!(header(&head, "set-cookie").unwrap().contains("Max-Age=0"), "{head}");
    let (status, head, _) = server.exchange("GET", "/", &[&cookie], "");
    assert_eq!((status, header(&head, "location")), (303, Some("/signin?next=%2F")));
    // The audit log has both.
    let (_, audit) = server.get_authorized("/api/v1/tenants/demo/audit");
    assert!(audit.contains(r#""action":"login""#) && audit.contains(r#""action":"logout""#), "{audit}");
}

/// The administrators' page: a tenant administrator adds an agent user (the generated password
/// shown once, and good for signing in), is told which field is wrong, removes the user (whose
/// session ends) but not themself; a platform administrator suspends and resumes a tenant; other
/// roles and tenants are kept out.
#[test]
fn administrators_manage_users_and_tenants_on_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--demo-days", "0"]);
    ok(&["admin", "--data", p(dir.path()), "tenant", "add", "acme", "--name", "Acme", "--tz", "Asia/Shanghai", "--language", "zh-Hans"]);
    common::add_user(dir.path(), &["--tenant", "acme", "--login", "boss", "--role", "tenant-admin"], DEMO_PASSWORD);

    let admin = browser_cookie(&server, "demo", "demo-admin");
    let (status, body) = page(&server, &admin, "/admin");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#"id="user-supervisor""#) && body.contains(r#"action="/admin/users/supervisor/remove""#), "{body}");
    assert!(!body.contains(r#"action="/admin/users/demo-admin/remove""#) && !body.contains(r#"id="tenants""#), "no removing oneself, no tenants: {body}");
    assert!(body.contains(r#"<section id="audit">"#) && body.contains("<td>login</td>"), "the audit log has the sign-in: {body}");
    let csrf = csrf_in(&body);
    let post = |cookie: &str, path: &str, fields: &str| server.exchange("POST", path, &[cookie, FORM], &format!("csrf={csrf}&{fields}"));

    // Added with a generated password, shown once; it signs in.
    let (status, _, body) = post(&admin, "/admin/users", "tenant=demo&login=anna&role=agent&agent_id=1010&password=");
    assert_eq!(status, 200, "{body}");
    assert_eq!(text_of(&body, "notice"), "User anna is added as agent.");
    let password = body.split("<code>").nth(1).and_then(|r| r.split("</code>").next()).expect("the password").to_owned();
    let (status, head, _) = sign_in_form(&server, &[], &format!("tenant=demo&login=anna&password={password}&next=/my/schedule"));
    assert_eq!((status, header(&head, "location")), (303, Some("/my/schedule")));
    let anna = format!("Cookie: {}", header(&head, "set-cookie").unwrap().split(';').next().unwrap());
    assert_eq!(page(&server, &anna, "/my/schedule").0, 200);
    // Bad input is named; nothing is added.
    for (fields, says) in [
        ("login=bob&role=agent&agent_id=&password=", "agent"),
        ("login=bob&role=boss&agent_id=&password=", "is not a role"),
        ("login=bob&role=planner&agent_id=&password=short", "8 to 1024 bytes"),
        ("login=anna&role=planner&agent_id=&password=", "anna"),
    ] {
        let (status, _, body) = post(&admin, "/admin/users", fields);
        assert!((400..500).contains(&status) && body.contains(says), "{fields}: {status} {body}");
    }
    assert!(!page(&server, &admin, "/admin").1.contains(r#"id="user-bob""#));

    // Removed: her session ends. Oneself: refused.
    let (status, head, _) = post(&admin, "/admin/users/anna/remove", "tenant=demo");
    assert_eq!((status, header(&head, "location")), (303, Some("/admin?tenant=demo&done=removed&login=anna")));
    assert_eq!(page(&server, &anna, "/my/schedule").0, 303, "back to the sign-in");
    let (status, _, body) = post(&admin, "/admin/users/demo-admin/remove", "tenant=demo");
    assert!(status == 400 && body.contains("you cannot remove yourself"), "{status} {body}");

    // Other roles, other tenants.
    let supervisor = browser_cookie(&server, "demo", "supervisor");
    assert_eq!(page(&server, &supervisor, "/admin").0, 403);
    assert_eq!(post(&supervisor, "/admin/users", "login=x&role=planner").0, 403);
    assert_eq!(post(&admin, "/admin/tenants/demo/status", "status=suspended").0, 403, "a tenant administrator suspends nothing");
    assert_eq!(post(&admin, "/admin/tenants/acme/status", "status=suspended").0, 404, "nor sees another tenant");
    let boss = browser_cookie(&server, "acme", "boss");
    assert_eq!(page(&server, &boss, "/admin?tenant=demo").0, 404);
    let (_, body) = page(&server, &boss, "/admin");
    assert!(body.contains(r#"id="user-boss""#) && !body.contains(r#"id="user-supervisor""#), "{body}");
    let boss_csrf = csrf_in(&body);
    let (status, _, _) = server.exchange("POST", "/admin/users", &[&boss, FORM], &format!("csrf={boss_csrf}&tenant=demo&login=mole&role=planner"));
    assert_eq!(status, 404, "not into another tenant");

    // The platform administrator: every tenant; acme suspended (its users cannot sign in), resumed.
    let platform = browser_cookie(&server, "", "admin");
    let (_, body) = page(&server, &platform, "/admin");
    assert!(body.contains(r#"id="tenant-demo""#) && body.contains(r#"id="tenant-acme""#) && body.contains(r#"href="/admin?tenant=acme""#), "{body}");
    let platform_csrf = csrf_in(&body);
    let status_of = |status: &str| server.exchange("POST", "/admin/tenants/acme/status", &[&platform, FORM], &format!("csrf={platform_csrf}&status={status}"));
    let (status, head, _) = status_of("suspended");
    assert_eq!((status, header(&head, "location")), (303, Some("/admin?done=status&changed=acme")));
    let (_, body) = page(&server, &platform, "/admin?done=status&changed=acme");
    let row = body.split(r#"<tr id="tenant-acme">"#).nth(1).unwrap().split("</tr>").next().unwrap();
    assert!(row.contains("suspended") && row.contains(r#"value="active""#), "{row}");
    assert_ne!(sign_in_form(&server, &[], &format!("tenant=acme&login=boss&password={DEMO_PASSWORD}&next=/")).0, 303);
    assert_eq!(status_of("closed").0, 400);
    assert_eq!(status_of("active").0, 303);
    assert_eq!(sign_in_form(&server, &[], &format!("tenant=acme&login=boss&password={DEMO_PASSWORD}&next=/")).0, 303);
    let (_, users) = page(&server, &platform, "/admin?tenant=acme");
    assert!(users.contains(r#"id="user-boss""#), "{users}");
    let (_, audit) = server.get_authorized("/api/v1/tenants/demo/audit");
    assert!(audit.contains(r#""action":"user.add""#) && audit.contains(r#""action":"user.remove""#), "{audit}");
    let (_, audit) = server.get_authorized("/api/v1/tenants/acme/audit");
    assert!(audit.contains("tenant.suspend") && audit.contains("tenant.resume"), "{audit}");

    // In a real browser, by keyboard: a planner added with the form, Enter in the last field.
    let browser = Driver::start();
    browser.open(&format!("http://{}/signin", server.addr));
    browser.type_into("#tenant", "demo");
    browser.type_into("#login", "demo-admin");
    browser.type_into("#password", &format!("{DEMO_PASSWORD}\u{E007}"));
    browser.wait_for_url("/");
    browser.click("nav a[href='/admin']");
    browser.wait_for_text("h1", "Administration");
    browser.type_into("#new-login", "piotr");
    browser.type_into("#new-role", "planner");
    browser.type_into("#new-password", "a-long-password\u{E007}");
    browser.wait_for_text("#notice", "User piotr is added as planner.");
    assert!(browser.text("#user-piotr").contains("planner"), "{}", browser.text("#users"));
    browser.screenshot(&dir.path().join("admin.png"));
    if let Ok(keep) = std::env::var("WFM_SCREENSHOTS") {
        std::fs::copy(dir.path().join("admin.png"), Path::new(&keep).join("admin.png")).unwrap();
    }
    assert_eq!(browser.console_errors(), Vec::<String>::new());
}

#[test]
fn pages_speak_the_browsers_or_the_chosen_language() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--demo-days", "0"]);
    for (accept, button) in [("ru-RU,ru;q=0.9", "Войти"), ("pl", "Zaloguj się"), ("zh-TW", "登入"), ("zh-CN,en;q=0.5", "登录"), ("de-DE", "Sign in")] {
        let (_, _, body) = server.exchange("GET", "/signin", &[&format!("Accept-Language: {accept}")], "");
        assert!(body.contains(&format!(r#"<button type="submit">{button}</button>"#)), "{accept}: {body}");
    }
    // The switch keeps the choice in a cookie and goes back where the user was.
    let (status, head, _) = server.exchange("GET", "/language?lang=pl&next=%2Fmy%2Fschedule", &[], "");
    assert_eq!((status, header(&head, "location")), (303, Some("/my/schedule")));
    let language = format!("Cookie: {}", header(&head, "set-cookie").unwrap().split(';').next().unwrap());
    assert_eq!(language, "Cookie: wfm_lang=pl");
    let session = browser_cookie(&server, "demo", "1001");
    let cookies = format!("{}; wfm_lang=pl", session);
    let (status, body) = page(&server, &cookies, "/my/schedule");
    assert_eq!(status, 200);
    assert!(body.contains("<h1>Mój grafik</h1>") && body.contains(r#"<html lang="pl">"#), "{body}");
    // A wrong language is an error page that names the field, in the language asked for.
    let (status, _, body) = server.exchange("GET", "/language?lang=xx", &["Accept-Language: ru"], "");
    assert_eq!(status, 400);
    assert!(body.contains("lang") && body.contains("<html lang=\"ru\">"), "{body}");
}

#[test]
fn each_role_sees_its_pages_and_no_other_tenants() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--demo-days", "0"]);
    ok(&["admin", "--data", p(dir.path()), "tenant", "add", "acme", "--name", "Acme", "--tz", "Asia/Shanghai", "--language", "zh-Hans"]);
    common::add_user(dir.path(), &["--tenant", "acme", "--login", "ann", "--role", "manager"], DEMO_PASSWORD);

    let agent = browser_cookie(&server, "demo", "1001");
    let (_, home) = page(&server, &agent, "/");
    assert!(home.contains(r#"href="/my/schedule""#) && !home.contains(r#"href="/dashboard""#), "{home}");
    for path in ["/dashboard", "/dashboard.csv", "/dashboard.xlsx"] {
        let (status, body) = page(&server, &agent, path);
        assert_eq!(status, 403, "an agent opens {path}: {body}");
        assert!(body.starts_with("<!doctype html>") && text_of(&body, "error").starts_with("Your role may not open this page"), "{body}");
    }

    // A member of another tenant naming this one: the same 404 as for a tenant that does not exist.
    let ann = browser_cookie(&server, "acme", "ann");
    for tenant in ["demo", "ghost"] {
        let (status, body) = page(&server, &ann, &format!("/dashboard?tenant={tenant}"));
        assert_eq!(status, 404, "{body}");
        assert!(body.contains(&format!("unknown tenant {tenant}")), "{body}");
    }
    // Her own dashboard, in her tenant's language; no calls yet.
    let (status, body) = page(&server, &ann, "/dashboard");
    assert_eq!(status, 200);
    assert!(body.contains(r#"<html lang="zh-Hans">"#) && body.contains(r#"id="no-calls""#), "{body}");

    // The platform administrator chooses a tenant.
    let admin = browser_cookie(&server, "", "admin");
    let (status, body) = page(&server, &admin, "/dashboard");
    assert_eq!(status, 400);
    assert!(body.contains("?tenant=ID"), "{body}");
    let (status, _) = page(&server, &admin, "/dashboard?tenant=acme");
    assert_eq!(status, 200);
    // Unknown query fields and bad values are named.
    let (status, body) = page(&server, &admin, "/dashboard?tenant=acme&form=1");
    assert_eq!(status, 400);
    assert!(body.contains("form"), "{body}");
    let (status, body) = page(&server, &admin, "/dashboard?tenant=acme&interval=fortnight");
    assert_eq!(status, 400);
    assert!(body.contains("interval"), "{body}");
    // No page but those: a 404 page, not JSON.
    let (status, body) = page(&server, &admin, "/nowhere");
    assert_eq!(status, 404);
    assert!(body.starts_with("<!doctype html>"), "{body}");
}

#[test]
fn the_agent_reads_the_published_schedule() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--demo-days", "0"]);
    let agent = browser_cookie(&server, "demo", "1001");
    let (status, body) = page(&server, &agent, "/my/schedule");
    assert_eq!(status, 200);
    assert_eq!(text_of(&body, "notice"), "No published roster has a shift for you in these weeks.");

    let roster = roster(dir.path(), "roster.csv", None);
    ok(&["roster", "publish", "--data", p(dir.path()), "--tenant", "demo", "--roster", p(&roster)]);
    let (status, body) = page(&server, &agent, "/my/schedule?weeks=2");
    assert_eq!(status, 200);
    let today = wfm_model::TenantZone::parse("Europe/Warsaw").unwrap().local_date(chrono::Utc::now());
    let row = body.split("<tr class=\"today\">").nth(1).and_then(|r| r.split("</tr>").next()).expect("today's row is marked");
    assert!(row.contains(&today.to_string()) && row.contains("08:00–16:30"), "{row}");
    assert!(row.contains("08:00–12:00 work<br>12:00–12:30 meal<br>12:30–16:30 work"), "{row}");
    assert_eq!(body.matches("<tr").count() - 1, 14, "two weeks of rows and the header: {body}");
    assert!(body.contains("Roster version 1"), "{body}");
    // Only their own: another agent sees nothing of it.
    let other = browser_cookie(&server, "demo", "1004");
    let (_, body) = page(&server, &other, "/my/schedule");
    assert!(body.contains(r#"id="notice""#) && !body.contains("08:00–16:30"), "{body}");
    let (status, body) = page(&server, &agent, "/my/schedule?weeks=99");
    assert_eq!(status, 400);
    assert!(body.contains("weeks"), "{body}");
}

#[test]
fn the_managers_dashboard_has_the_figures_of_wfm_stats() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--demo-days", "3"]);
    let manager = browser_cookie(&server, "demo", "manager");
    let today = wfm_model::TenantZone::parse("Europe/Warsaw").unwrap().local_date(chrono::Utc::now());
    let (from, to) = ((today - chrono::Duration::days(3)).to_string(), (today + chrono::Duration::days(1)).to_string());
    let query = format!("from={from}&to={to}&interval=day&threshold_s=30&queue=support");
    let (status, body) = page(&server, &manager, &format!("/dashboard?{query}"));
    assert_eq!(status, 200);
    assert!(body.contains(r#"<figure class="chart" id="chart"><svg"#) && body.contains("currentColor"), "{body}");
    assert!(body.contains(r#"<option selected>day</option>"#) && body.contains(r#"value="30""#), "the form shows the options used");

    let (status, head, csv) = server.exchange("GET", &format!("/dashboard.csv?{query}"), &[&manager], "");
    assert_eq!(status, 200);
    assert!(header(&head, "content-type").unwrap().starts_with("text/csv"), "{head}");
    let cli = ok(&["stats", "--data", p(dir.path()), "--tenant", "demo", "--from", &from, "--to", &to, "--interval", "day", "--threshold-s", "30", "--queue", "support"]);
    assert_eq!(csv, cli, "the export is `wfm stats`'s output");
    assert!(csv.lines().count() >= 4, "three days of demo calls: {csv}");
    // Each day's service level is in the table, as a percentage of the same figure.
    for line in csv.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        let shown = fields[11].parse::<f64>().map_or_else(|_| "–".to_owned(), |share| format!("{:.1} %", share * 100.0));
        let row = format!("<td>support</td><td>{}", &fields[2][..10]);
        let row = body.split(&row).nth(1).unwrap_or_else(|| panic!("{row} in {body}"));
        assert!(row.split("</tr>").next().unwrap().contains(&format!("<td class=\"n\">{shown}</td>")), "{line} in {row}");
    }

    let (status, head, xlsx) = server.exchange("GET", &format!("/dashboard.xlsx?{query}"), &[&manager], "");
    assert_eq!(status, 200);
    assert!(header(&head, "content-disposition").unwrap().contains(".xlsx"), "{head}");
    assert!(xlsx.starts_with("PK") && xlsx.len() > 2000, "a zip: {} bytes", xlsx.len());

    // Against the previous period: each period's figures from its own totals, as `wfm stats` counts them.
    let (from, middle, to) = (today - chrono::Duration::days(4), today - chrono::Duration::days(2), today);
    let (_, body) = page(&server, &manager, &format!("/dashboard?from={middle}&to={to}&interval=1h&threshold_s=30&queue=support"));
    let table = body.split(r#"<section id="comparison">"#).nth(1).and_then(|c| c.split("</table>").next()).expect(&body);
    assert!(table.contains(&format!("{middle} to {to} (exclusive) against {from} to {middle}")), "{table}");
    let totals = |from: chrono::NaiveDate, to: chrono::NaiveDate| {
        let json = ok(&["stats", "--data", p(dir.path()), "--tenant", "demo", "--from", &from.to_string(), "--to", &to.to_string(), "--interval", "day", "--threshold-s", "30", "--queue", "support", "--format", "json"]);
        let rows: serde_json::Value = serde_json::from_str(&json).unwrap();
        let sum = |k: &str| rows.as_array().unwrap().iter().map(|r| r[k].as_u64().unwrap()).sum::<u64>();
        (sum("offered"), sum("answered_within_threshold") as f64 / sum("offered") as f64)
    };
    let ((offered_now, sl_now), (offered_before, sl_before)) = (totals(middle, to), totals(from, middle));
    assert!(offered_now > 0 && offered_before > 0, "calls in both periods");
    let row = |figure: &str| table.split(&format!("<td>support</td><td>{figure}</td>")).nth(1).and_then(|r| r.split("</tr>").next()).unwrap_or_else(|| panic!("{figure} in {table}")).to_owned();
    assert_eq!(row("Offered"), format!("<td class=\"n\">{offered_now}</td><td class=\"n\">{offered_before}</td><td class=\"n\">{:+.1} %</td>", (offered_now as f64 / offered_before as f64 - 1.0) * 100.0));
    assert!(row("Service level").starts_with(&format!("<td class=\"n\">{:.1} %</td><td class=\"n\">{:.1} %</td>", sl_now * 100.0, sl_before * 100.0)), "{}", row("Service level"));
}

/// The queue report of requirements §2: the page's table, the CSV equal to
/// `wfm stats --queue-report`, and its 15 s and 60 s rates equal to `wfm stats`'s service level
/// at those thresholds.
#[test]
fn the_queue_report_has_the_rows_of_wfm_stats() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--demo-days", "3"]);
    let manager = browser_cookie(&server, "demo", "manager");
    let today = wfm_model::TenantZone::parse("Europe/Warsaw").unwrap().local_date(chrono::Utc::now());
    let (from, to) = ((today - chrono::Duration::days(3)).to_string(), (today + chrono::Duration::days(1)).to_string());
    let query = format!("from={from}&to={to}&interval=day&queue=support");
    let (status, body) = page(&server, &manager, &format!("/report?{query}"));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#"<figure class="chart" id="chart"><svg"#) && body.contains("Answered within 15 s, share of offered calls"), "the report's chart: {body}");
    assert!(body.contains(r#"<table id="report">"#) && body.contains(r#"<footer id="formulas">"#), "{body}");

    let (status, _, csv) = server.exchange("GET", &format!("/report.csv?{query}"), &[&manager], "");
    assert_eq!(status, 200);
    let cli = ok(&["stats", "--data", p(dir.path()), "--tenant", "demo", "--from", &from, "--to", &to, "--interval", "day", "--queue", "support", "--queue-report"]);
    assert_eq!(csv, cli, "the export is `wfm stats --queue-report`'s output");
    assert_eq!(csv.lines().next(), Some("tenant,queue,interval_start,interval_end,offered,answered,answer_rate,answered_15s_rate,answered_60s_rate,abandoned_15s_rate,avg_talk_s,avg_answered_wait_s,avg_abandoned_wait_s"));
    assert!(csv.lines().count() >= 4, "three days of demo calls: {csv}");
    let service_level_at = |threshold: &str| -> Vec<String> {
        let rows = ok(&["stats", "--data", p(dir.path()), "--tenant", "demo", "--from", &from, "--to", &to, "--interval", "day", "--queue", "support", "--threshold-s", threshold]);
        rows.lines().skip(1).map(|l| l.split(',').nth(11).unwrap().to_owned()).collect()
    };
    let column = |n: usize| -> Vec<String> { csv.lines().skip(1).map(|l| l.split(',').nth(n).unwrap().to_owned()).collect() };
    assert_eq!((column(7), column(8)), (service_level_at("15"), service_level_at("60")));
    for line in csv.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        let shown = fields[7].parse::<f64>().map_or_else(|_| "–".to_owned(), |share| format!("{:.1} %", share * 100.0));
        let row = body.split(&format!("<td>support</td><td>{}", &fields[2][..10])).nth(1).unwrap_or_else(|| panic!("{line} in {body}"));
        assert!(row.split("</tr>").next().unwrap().contains(&format!("<td class=\"n\">{shown}</td>")), "{line} in {row}");
    }

    let (status, head, xlsx) = server.exchange("GET", &format!("/report.xlsx?{query}"), &[&manager], "");
    assert!(status == 200 && header(&head, "content-disposition").unwrap().contains("queue-report-demo"), "{head}");
    assert!(xlsx.starts_with("PK"), "a zip");
    // The thresholds are the report's; an agent sees none of it.
    let (status, body) = page(&server, &manager, &format!("/report?{query}&threshold_s=30"));
    assert!(status == 400 && body.contains("15 s and 60 s"), "{status} {body}");
    let agent = browser_cookie(&server, "demo", "1001");
    assert_eq!(page(&server, &agent, "/report").0, 403);
    assert_eq!(page(&server, &agent, &format!("/report.csv?{query}")).0, 403);
}

#[test]
fn a_real_browser_signs_in_switches_language_and_reads_the_dashboard() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--demo-days", "2"]);
    let roster = roster(dir.path(), "roster.csv", None);
    ok(&["roster", "publish", "--data", p(dir.path()), "--tenant", "demo", "--roster", p(&roster)]);
    let base = format!("http://{}", server.addr);
    let browser = Driver::start();

    // The manager asks for the dashboard, is sent to sign in, types and presses Enter.
    browser.open(&format!("{base}/dashboard"));
    browser.wait_for_url("/signin?next=%2Fdashboard");
    browser.type_into("#tenant", "demo");
    browser.type_into("#login", "manager");
    browser.type_into("#password", &format!("{DEMO_PASSWORD}\u{E007}"));
    browser.wait_for_url("/dashboard");
    browser.wait_for_text("h1", "Service level");
    assert_eq!(browser.text("#user"), "manager (manager)");
    // The chart is drawn: the browser lays the SVG out at a real size.
    let chart = browser.find("#chart svg");
    let rect = browser.session_call("GET", &format!("/element/{chart}/rect"), None);
    assert!(rect["width"].as_f64().unwrap() > 400.0 && rect["height"].as_f64().unwrap() > 150.0, "{rect}");
    browser.screenshot(&dir.path().join("dashboard.png"));

    // Another language from the header's switch, kept while moving between pages.
    let select = browser.find("#lang");
    let option = browser.session_call("POST", &format!("/element/{select}/element"), Some(json!({"using": "css selector", "value": "option[value=ru]"})));
    let option = element_id(&option).expect("the Russian option");
    browser.session_call("POST", &format!("/element/{option}/click"), Some(json!({})));
    browser.click("header form[action='/language'] button");
    browser.wait_for_text("h1", "Уровень обслуживания");

    // Signing out, then the agent signs in and reads the published roster.
    browser.click("#sign-out");
    browser.wait_for_url("/signin");
    browser.type_into("#tenant", "demo");
    browser.type_into("#login", "1001");
    browser.type_into("#password", &format!("{DEMO_PASSWORD}\u{E007}"));
    browser.wait_for_url("/");
    browser.click("nav a[href='/my/schedule']");
    browser.wait_for_url("/my/schedule");
    browser.wait_for_text("h1", "Мой график");
    assert!(browser.text("tr.today").contains("08:00–16:30"), "today's shift is shown");
    browser.screenshot(&dir.path().join("schedule.png"));
    assert_eq!(browser.console_errors(), Vec::<String>::new(), "the pages ran without console errors");
    if let Ok(keep) = std::env::var("WFM_SCREENSHOTS") {
        for name in ["dashboard.png", "schedule.png"] {
            std::fs::copy(dir.path().join(name), Path::new(&keep).join(name)).unwrap();
        }
    }
}

/// A `multipart/form-data` body as a browser's upload form sends it: the CSRF field, then the file.
/// A page's upload form: its text fields, then the file `file_field`; `(Content-Type header, body)`.
fn multipart_form(text_fields: &[(&str, &str)], file_field: &str, file_name: &str, contents: &str) -> (String, String) {
    let boundary = "----wfmTestBoundary7MA4YWxk";
    let mut body: String = text_fields.iter().map(|(name, value)| format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")).collect();
    body += &format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{file_field}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n{contents}\r\n--{boundary}--\r\n");
    (format!("Content-Type: multipart/form-data; boundary={boundary}"), body)
}

#[test]
fn the_planner_publishes_a_roster_file_and_reads_its_week_against_the_requirement() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--demo-days", "0"]);
    let planner = browser_cookie(&server, "demo", "planner");
    let (status, body) = page(&server, &planner, "/roster");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("No roster is published yet.") && body.contains(r#"id="roster-file""#), "{body}");
    let csrf = csrf_in(&body);
    let publish = |cookie: &str, csrf: &str, name: &str, text: &str| {
        let (content_type, body) = multipart_form(&[("csrf", csrf)], "roster", name, text);
        server.exchange("POST", "/roster", &[cookie, &content_type], &body)
    };

    // A wrong line is named with its field; nothing is published.
    let good = std::fs::read_to_string(roster(dir.path(), "week.csv", None)).unwrap();
    let mut lines: Vec<&str> = good.lines().collect();
    let broken = lines[1].replacen(",work,", ",lunch,", 1);
    lines[1] = &broken;
    let (status, _, body) = publish(&planner, &csrf, "week.csv", &(lines.join("\n") + "\n"));
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("week.csv:2") && body.contains("activity") && body.contains("lunch"), "the line and field are named: {body}");
    assert_eq!(server.get_authorized("/api/v1/tenants/demo/rosters").1, "[]", "nothing is published");

    // The file is published as version 1 and its week is shown agent by agent.
    let (status, head, _) = publish(&planner, &csrf, "week.csv", &good);
    assert_eq!((status, header(&head, "location")), (303, Some("/roster?published=1&version=1")), "{head}");
    let (status, body) = page(&server, &planner, "/roster?published=1&version=1");
    assert_eq!(status, 200);
    assert_eq!(text_of(&body, "notice"), "Version 1 is published: adherence and requests use it from now on.");
    let gantt = body.split(r#"id="gantt""#).nth(1).and_then(|g| g.split("</table>").next()).expect("the week's table");
    let row_1001 = gantt.split("<tr><td>1001</td>").nth(1).and_then(|r| r.split("</tr>").next()).expect("1001's row");
    assert!(row_1001.contains("08:00–16:30") && row_1001.contains(r#"<rect x="720" width="30" height="10" class="a-meal"/>"#), "the meal at 12:00 for 30 min: {row_1001}");
    assert!(gantt.contains("<tr><td>1002</td>") && gantt.contains("day off"), "agents off are listed: {gantt}");
    assert!(body.contains("roster.csv?version=1"), "{body}");
    assert!(text_of(&body, "no-report").contains("agents.csv"), "the missing planning file is named: {body}");
    let (status, csv) = page(&server, &planner, "/roster.csv?version=1");
    assert_eq!((status, csv.as_str()), (200, good.as_str()), "the CSV is the file published");

    // With the tenant's planning files, the week is judged as wfm check-roster judges it.
    let monday = today() - chrono::Duration::days(chrono::Datelike::weekday(&today()).num_days_from_monday().into());
    let week: Vec<_> = (0..7).map(|d| monday + chrono::Duration::days(d)).collect();
    planning_files(dir.path(), &week, &[]);
    let (_, body) = page(&server, &planner, &format!("/roster?version=1&week={}", week[3]));
    let figures = body.split(r#"id="figures""#).nth(1).and_then(|f| f.split("</table>").next()).expect(&body);
    assert!(figures.contains("Projected service level") && figures.contains("Hard-rule violations"), "{figures}");
    let coverage = body.split(r#"id="coverage""#).nth(1).and_then(|c| c.split("</table>").next()).expect(&body);
    // Support needs one agent 08:00–16:30 (34 quarters, 8.5 h); 1001 works it but for the meal.
    assert!(coverage.contains(&format!("<td>{monday} Mon</td><td class=\"n\">8.5</td><td class=\"n\">8.0</td><td class=\"n\">2</td>")), "{coverage}");
    assert!(body.contains(r#"id="short""#) && body.contains(&format!("{} 12:00", week[3])), "the meal's intervals are short: {body}");
    assert!(body.contains(r#"id="no-violations""#), "{body}");

    // An edited day is checked at once: its pauses placed by the rules, the rules it breaks,
    // the intervals it leaves short; then published as the next version.
    let day = week[3];
    let edit = |start: &str, end: &str| page(&server, &planner, &format!("/roster?version=1&week={day}&edit_agent=1001&edit_date={day}&edit_start={start}&edit_end={end}"));
    let (status, body) = edit("10:00", "18:30");
    assert_eq!(status, 200, "{body}");
    let preview = body.split(r#"<div id="edit">"#).nth(1).and_then(|e| e.split("</div>").next()).expect(&body);
    assert!(preview.contains(r#"id="edit-valid""#) && text_of(preview, "edit-day").starts_with("10:00–"), "{preview}");
    assert!(preview.contains(&format!("{day} 08:00: 0 at work of 1 required")) && preview.contains(&format!("{day} 09:45: 0 at work of 1 required")), "{preview}");
    let (_, body) = edit("14:00", "22:30");
    assert!(body.contains(r#"id="edit-problems""#) && body.contains("min_rest_between_shifts_hours"), "9.5 hours of rest before the next 08:00: {body}");
    let (status, body) = edit("25:00", "18:30");
    assert!(status == 400 && body.contains("edit_start"), "{body}");
    let publish_edit = |version: i64| server.exchange("POST", "/roster/edit", &[&planner, FORM], &format!("csrf={csrf}&version={version}&agent=1001&date={day}&start=10:00&end=18:30"));
    let (status, head, _) = publish_edit(1);
    assert_eq!((status, header(&head, "location")), (303, Some(format!("/roster?published=2&version=2&week={day}").as_str())), "{head}");
    let (_, v2) = page(&server, &planner, "/roster.csv?version=2");
    assert!(v2.lines().any(|l| l.starts_with(&format!("1001,{day},work,{}", common::plan::at(day, 10, 0)))), "{v2}");
    let other_days = |csv: &str| csv.lines().filter(|l| !l.contains(&format!(",{day},"))).map(str::to_owned).collect::<std::collections::BTreeSet<_>>();
    assert_eq!(other_days(&v2), other_days(&good), "other days unchanged");
    let (status, _, body) = publish_edit(1);
    assert!(status == 409 && body.contains("now version 2"), "an edit checked on an older version: {body}");

    // Other roles and tenants: supervisors read, only planners publish; agents see nothing.
    let supervisor = browser_cookie(&server, "demo", "supervisor");
    let (status, body) = page(&server, &supervisor, "/roster");
    assert!(status == 200 && body.contains(r#"id="gantt""#) && !body.contains(r#"id="roster-file""#), "{body}");
    assert_eq!(publish(&supervisor, &csrf_in(&body), "week.csv", &good).0, 403);
    let agent = browser_cookie(&server, "demo", "1001");
    assert_eq!(page(&server, &agent, "/roster").0, 403);
    assert_eq!(page(&server, &agent, "/roster.csv?version=1").0, 403);
    assert_eq!(publish(&planner, "not-the-token", "week.csv", &good).0, 403, "the CSRF token is checked in uploads too");
    let (status, head, _) = server.exchange("GET", "/roster", &[], "");
    assert_eq!((status, header(&head, "location")), (303, Some("/signin?next=%2Froster")));
    assert_eq!(page(&server, &planner, "/roster?tenant=other").0, 404);
    assert_eq!(page(&server, &planner, "/roster?version=9").0, 404);
    assert_eq!(page(&server, &planner, "/roster?week=someday").0, 400);
    let (_, body) = page(&server, &supervisor, &format!("/roster?version=2&edit_agent=1001&edit_date={day}&edit_start=10:00&edit_end=18:30"));
    assert!(!body.contains(r#"id="edit""#) && !body.contains(r#"id="edit-form""#), "supervisors do not edit: {body}");
    assert_eq!(server.exchange("POST", "/roster/edit", &[&supervisor, FORM], &format!("csrf={}&version=2&agent=1001&date={day}&start=&end=", csrf_in(&body))).0, 403);
    assert_eq!(server.get_authorized("/api/v1/tenants/demo/rosters").1.matches("\"version\"").count(), 2, "two versions in all");
}

#[test]
fn a_real_browser_publishes_a_roster_file_and_shows_its_week() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--demo-days", "0"]);
    let file = roster(dir.path(), "roster.csv", None);
    let monday = today() - chrono::Duration::days(chrono::Datelike::weekday(&today()).num_days_from_monday().into());
    planning_files(dir.path(), &(0..7).map(|d| monday + chrono::Duration::days(d)).collect::<Vec<_>>(), &[]);
    let base = format!("http://{}", server.addr);
    let browser = Driver::start();
    browser.open(&format!("{base}/roster"));
    browser.wait_for_url("/signin?next=%2Froster");
    browser.type_into("#tenant", "demo");
    browser.type_into("#login", "planner");
    browser.type_into("#password", &format!("{DEMO_PASSWORD}\u{E007}"));
    browser.wait_for_url("/roster");
    // The file chosen as a user would, sent with the keyboard: Enter on the focused button.
    browser.type_into("#roster-file", p(&file));
    browser.type_into("#roster-publish", "\u{E007}");
    browser.wait_for_url("/roster?published=1&version=1");
    browser.wait_for_text("#notice", "Version 1 is published: adherence and requests use it from now on.");
    assert!(browser.text("#gantt").contains("08:00–16:30"), "the week's shifts are drawn");
    let bar = browser.find("#gantt rect.a-work");
    let rect = browser.session_call("GET", &format!("/element/{bar}/rect"), None);
    assert!(rect["width"].as_f64().unwrap() > 10.0, "the bars are laid out: {rect}");
    assert!(browser.text("#figures").contains("Projected service level"));
    browser.screenshot(&dir.path().join("roster.png"));
    assert_eq!(browser.console_errors(), Vec::<String>::new(), "the page ran without console errors");
    if let Ok(keep) = std::env::var("WFM_SCREENSHOTS") {
        std::fs::copy(dir.path().join("roster.png"), Path::new(&keep).join("roster.png")).unwrap();
    }
}

#[test]
fn the_planner_forecasts_staffs_schedules_and_publishes_a_period_from_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--demo-days", "14"]);
    // The demo's own plan (this week and the next) is published first, in the background.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(240);
    while server.get_authorized("/api/v1/tenants/demo/rosters").1 == "[]" {
        assert!(std::time::Instant::now() < deadline, "the demo plan is published within 4 minutes");
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    let requirements = dir.path().join("tenants/demo/requirements.csv");
    let this_week = |text: &str| text.lines().filter(|l| l.contains(&format!(",{}T", today()))).map(str::to_owned).collect::<Vec<_>>();
    let today_rows = this_week(&std::fs::read_to_string(&requirements).unwrap());
    assert!(!today_rows.is_empty());

    let planner = browser_cookie(&server, "demo", "planner");
    let (status, body) = page(&server, &planner, "/plan");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#"id="plan-form""#) && body.contains(r#"id="reschedule""#) && !body.contains(r#"id="run""#), "{body}");
    let csrf = csrf_in(&body);
    let start = |cookie: &str, fields: &str| server.exchange("POST", "/plan", &[cookie, FORM], &format!("csrf={csrf}&{fields}"));
    let monday = today() + chrono::Duration::days(7 - i64::from(chrono::Datelike::weekday(&today()).num_days_from_monday()));
    let fields = |weeks: &str, time: &str| format!("from={monday}&weeks={weeks}&sl_target=80&threshold_s=20&time_limit_s={time}&reschedule=on");
    for (bad, field) in [(fields("9", "5"), "weeks"), (fields("1", "0"), "time_limit_s"), (fields("1", "5").replace("sl_target=80", "sl_target=eighty"), "sl_target"), (fields("1", "5").replace(&monday.to_string(), "next-monday"), "from")] {
        let (status, _, body) = start(&planner, &bad);
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body.contains(field), "{field} is named: {body}");
    }
    assert!(!page(&server, &planner, "/plan").1.contains(r#"id="run""#), "nothing was started");

    let (status, head, _) = start(&planner, &fields("1", "5"));
    assert_eq!((status, header(&head, "location")), (303, Some("/plan")), "{head}");
    // The forecast alone takes longer than the next request: the plan is still running.
    assert_eq!(start(&planner, &fields("1", "5")).0, 409, "one plan at a time");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(180);
    let done = loop {
        let (status, head, body) = server.exchange("GET", "/plan", &[&planner], "");
        assert_eq!(status, 200);
        if body.contains(r#"id="plan-publish""#) {
            break body;
        }
        assert!(!body.contains(r#"id="failed""#), "{body}");
        assert!(body.contains(r#"id="progress""#) && header(&head, "refresh") == Some("2"), "the page follows the run: {head}{body}");
        assert!(std::time::Instant::now() < deadline, "the plan finishes within 3 minutes: {body}");
        std::thread::sleep(std::time::Duration::from_millis(500));
    };
    let queues = done.split(r#"id="queues""#).nth(1).and_then(|q| q.split("</table>").next()).expect(&done);
    assert!(queues.contains("<td>support</td>") && queues.contains("<td>billing</td>"), "{queues}");
    let figures = done.split(r#"id="figures""#).nth(1).and_then(|f| f.split("</table>").next()).expect(&done);
    assert!(figures.contains("Projected service level") && figures.contains(" %"), "{figures}");
    let draft = std::fs::read_to_string(dir.path().join("tenants/demo/plan/roster.csv")).unwrap();
    assert!(draft.starts_with("agent_id,date,activity,start,end\n") && draft.contains(&format!(",{monday},work,")), "the draft's file: {draft:.200}");
    assert_eq!(page(&server, &planner, "/plan/roster.csv"), (200, draft.clone()), "the draft's roster to download");
    let (status, forecast) = page(&server, &planner, "/plan/forecast.csv");
    assert!(status == 200 && forecast.starts_with("queue,interval_start,interval_end,calls,aht_s"), "{forecast:.200}");
    assert_eq!(page(&server, &planner, "/plan/requirements.csv").1, std::fs::read_to_string(dir.path().join("tenants/demo/plan/requirements.csv")).unwrap());
    assert_eq!(page(&server, &planner, "/plan/other.csv").0, 404);

    let publish = |cookie: &str| server.exchange("POST", "/plan/publish", &[cookie, FORM], &format!("csrf={csrf}"));
    let (status, head, _) = publish(&planner);
    assert_eq!((status, header(&head, "location")), (303, Some("/roster?published=2&version=2")), "{head}");
    assert_eq!(publish(&planner).0, 409, "published once");
    let versions: serde_json::Value = serde_json::from_str(&server.get_authorized("/api/v1/tenants/demo/rosters").1).unwrap();
    assert_eq!((versions[0]["version"].as_i64(), versions[0]["first_date"].as_str()), (Some(2), Some(monday.to_string().as_str())), "{versions}");
    assert_eq!(versions[0]["last_date"], (monday + chrono::Duration::days(6)).to_string());
    assert_eq!(versions[0]["published_by"], "demo/planner");
    assert_eq!(server.get_authorized("/api/v1/tenants/demo/rosters/2").1, draft, "the draft is what is published");
    let merged = std::fs::read_to_string(&requirements).unwrap();
    assert_eq!(this_week(&merged), today_rows, "the requirement of other days is kept");
    assert_eq!(merged.lines().filter(|l| l.contains(&format!(",{monday}T"))).count(), std::fs::read_to_string(dir.path().join("tenants/demo/plan/requirements.csv")).unwrap().lines().filter(|l| l.contains(&format!(",{monday}T"))).count(), "the plan's requirement for its days");
    assert!(page(&server, &planner, "/plan").1.contains(r#"id="published""#));

    let supervisor = browser_cookie(&server, "demo", "supervisor");
    assert_eq!(page(&server, &supervisor, "/plan").0, 403);
    assert_eq!(server.exchange("POST", "/plan", &[&supervisor, FORM], &format!("csrf={}&{}", csrf_in(&page(&server, &supervisor, "/roster").1), fields("1", "5"))).0, 403);
    assert_eq!(page(&server, &browser_cookie(&server, "demo", "1001"), "/plan").0, 403);
    assert_eq!(server.exchange("POST", "/plan/publish", &[&planner, FORM], "csrf=wrong").0, 403);
}

/// Generated history as a queue_log: 21 days up to last Sunday, with the agents and rules the
/// generator writes put where the tenant's plans read them. Answers the log's path.
fn history_for_planning(dir: &Path) -> std::path::PathBuf {
    let monday = today() - chrono::Duration::days(chrono::Datelike::weekday(&today()).num_days_from_monday().into());
    let generated = dir.join("generated");
    let start = (monday - chrono::Duration::days(21)).to_string();
    ok(&["generate", "--out", p(&generated), "--days", "21", "--seed", "7", "--daily-calls", "800", "--start", &start, "--queue-log"]);
    let tenant = dir.join("tenants/demo");
    for file in ["agents.csv", "rules.toml"] {
        std::fs::copy(generated.join(file), tenant.join(file)).unwrap();
    }
    generated.join("demo.queue_log")
}

/// A multipart upload of `history` in `format`.
fn history_upload(csrf: &str, format: &str, file_name: &str, contents: &str, skip_bad: bool) -> (String, String) {
    let mut fields = vec![("csrf", csrf), ("format", format)];
    if skip_bad {
        fields.push(("skip_bad", "on"));
    }
    multipart_form(&fields, "history", file_name, contents)
}

#[test]
fn planners_load_call_history_on_the_page_and_by_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--demo-days", "0"]);
    let log = history_for_planning(dir.path());
    let text = std::fs::read_to_string(&log).unwrap();
    let planner = browser_cookie(&server, "demo", "planner");
    let (status, body) = page(&server, &planner, "/plan");
    assert!(status == 200 && body.contains(r#"id="history-file""#) && body.contains("No data load yet."), "{body}");
    let csrf = csrf_in(&body);
    let load = |contents: &str, skip_bad: bool| {
        let (content_type, body) = history_upload(&csrf, "queue-log", "demo.queue_log", contents, skip_bad);
        server.exchange("POST", "/plan/import", &[&planner, &content_type], &body)
    };
    let journal = || serde_json::from_str::<serde_json::Value>(&server.get_authorized("/api/v1/tenants/demo/imports").1).unwrap();

    // A bad line refuses the file, naming the line and field; nothing is written.
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines[2] = lines[2].replacen(|c: char| c.is_ascii_digit(), "x", 1);
    let broken = lines.join("\n") + "\n";
    let (status, _, body) = load(&broken, false);
    assert_eq!(status, 200, "{body}");
    let summary = text_of(&body, "import-summary");
    assert!(summary.starts_with("Nothing was loaded: demo.queue_log:3:"), "{summary}");
    assert_eq!(journal(), json!([]), "nothing is journaled");
    // Skipping bad lines loads the rest and lists the skipped one.
    let (_, _, body) = load(&broken, true);
    assert!(text_of(&body, "import-summary").contains("1 bad lines skipped"), "{body}");
    assert!(body.contains(r#"id="skipped""#) && body.contains("demo.queue_log:3:"), "{body}");
    let calls = journal()[0]["calls_written"].as_i64().unwrap();
    assert!(calls > 10_000, "three weeks of calls: {calls}");
    // The same file again: every call is already there.
    let (_, _, body) = load(&text, false);
    let summary = text_of(&body, "import-summary");
    assert!(summary.contains(&format!("({calls} already present)")) || summary.contains("already present"), "{summary}");
    assert_eq!(journal().as_array().unwrap().len(), 2);
    assert!(body.contains(r#"id="journal""#) && body.contains("<td>queue-log</td>"), "{body}");
    // The figures are those of wfm stats over the store.
    let (status, stats) = server.get_authorized(&format!("/api/v1/tenants/demo/stats?from={}&to={}&interval=day", today() - chrono::Duration::days(28), today()));
    assert_eq!(status, 200, "{stats}");
    let offered: u64 = serde_json::from_str::<serde_json::Value>(&stats).unwrap().as_array().unwrap().iter().map(|r| r["offered"].as_u64().unwrap()).sum();
    assert!(offered as i64 >= calls, "{offered} offered calls for {calls} loaded");

    // The API: the file as the body, a token's user; bad format named.
    let token = server.token_of(Some("demo"), "planner");
    let auth = format!("Authorization: Bearer {token}");
    let (status, answer) = server.request("POST", "/api/v1/tenants/demo/imports?format=csv&name=calls.csv", &[&auth], "call_id\n");
    assert_eq!(status, 400, "{answer}");
    assert!(answer.contains("calls.csv"), "{answer}");
    let (status, answer) = server.request("POST", "/api/v1/tenants/demo/imports?format=xml", &[&auth], "");
    assert!(status == 400 && answer.contains("\"field\":\"format\""), "{answer}");
    let (status, answer) = server.request("POST", "/api/v1/tenants/demo/imports?format=queue-log&name=again.queue_log", &[&auth], &text);
    assert_eq!(status, 201, "{answer}");
    let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
    assert_eq!((answer["calls_written"].as_i64(), answer["files"].as_str()), (Some(0), Some("again.queue_log")), "{answer}");

    // Other roles: supervisors and agents load nothing and see no page.
    let supervisor = browser_cookie(&server, "demo", "supervisor");
    assert_eq!(page(&server, &supervisor, "/plan").0, 403);
    let (content_type, upload) = history_upload(&csrf_in(&page(&server, &supervisor, "/").1), "queue-log", "demo.queue_log", text.lines().next().unwrap(), false);
    assert_eq!(server.exchange("POST", "/plan/import", &[&supervisor, &content_type], &upload).0, 403);
    let supervisor_token = server.token_of(Some("demo"), "supervisor");
    // (A short body: a refused request is answered before a long one is read.)
    let one_line = text.lines().next().unwrap();
    assert_eq!(server.status("POST", "/api/v1/tenants/demo/imports?format=queue-log", &[&format!("Authorization: Bearer {supervisor_token}")], one_line), 403);
    assert_eq!(server.status("POST", "/api/v1/tenants/demo/imports?format=queue-log", &[], one_line), 401);
    let (content_type, upload) = history_upload(&csrf, "queue-log", "demo.queue_log", text.lines().next().unwrap(), false);
    assert_eq!(server.exchange("POST", "/plan/import", &[&planner, &content_type.replace("boundary=", "boundary=x")], &upload).0, 400, "a broken form");
    assert_eq!(journal().as_array().unwrap().len(), 3, "three loads in all");
}

#[test]
fn a_real_browser_loads_history_plans_and_publishes_as_the_planner() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--demo-days", "0"]);
    let log = history_for_planning(dir.path());
    let base = format!("http://{}", server.addr);
    let browser = Driver::start();
    browser.open(&format!("{base}/plan"));
    browser.wait_for_url("/signin?next=%2Fplan");
    browser.type_into("#tenant", "demo");
    browser.type_into("#login", "planner");
    browser.type_into("#password", &format!("{DEMO_PASSWORD}\u{E007}"));
    browser.wait_for_url("/plan");
    browser.type_into("#history-file", p(&log));
    browser.type_into("#import", "\u{E007}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !browser.try_find("#import-summary").is_some_and(|_| browser.text("#import-summary").contains("calls loaded")) {
        assert!(std::time::Instant::now() < deadline, "the history is loaded");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    // One week, a short search; the first day is next Monday as the form offers.
    for (field, value) in [("#weeks", "1"), ("#time_limit_s", "3")] {
        let element = browser.find(field);
        browser.session_call("POST", &format!("/element/{element}/clear"), Some(json!({})));
        browser.type_into(field, value);
    }
    browser.click("#plan-start");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(180);
    let publish = loop {
        if let Some(id) = browser.try_find("#plan-publish") {
            break id;
        }
        assert!(std::time::Instant::now() < deadline, "the plan finishes (the page follows it by itself)");
        std::thread::sleep(std::time::Duration::from_millis(300));
    };
    assert!(browser.text("#queues").contains("support") && browser.text("#figures").contains("Projected service level"));
    browser.screenshot(&dir.path().join("plan.png"));
    browser.session_call("POST", &format!("/element/{publish}/click"), Some(json!({})));
    browser.wait_for_url("/roster?published=1&version=1");
    browser.wait_for_text("#notice", "Version 1 is published: adherence and requests use it from now on.");
    assert!(browser.text("#gantt").contains("–"), "the new week's shifts are shown");
    assert_eq!(browser.console_errors(), Vec::<String>::new(), "the pages ran without console errors");
    if let Ok(keep) = std::env::var("WFM_SCREENSHOTS") {
        std::fs::copy(dir.path().join("plan.png"), Path::new(&keep).join("plan.png")).unwrap();
    }
}
