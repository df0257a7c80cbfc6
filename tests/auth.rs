//! Tenants, users and roles through the real binary: every route of the router refuses a request
//! without credentials and one for another tenant; each role is allowed and refused as the
//! table says; CSRF, sign-out, session expiry, throttled sign-ins, the audit log; `wfm admin`
//! changes taking effect in a running `wfm serve`; both databases; a data directory of the
//! previous release upgraded.

mod common;

use common::{add_user, ok, p, Server, DEMO_PASSWORD};
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};
use wfm_ops::{Access, Role};

/// A route's path with its parameters filled in.
fn path_of(route: &wfm_web::Route, tenant: &str, agent: &str) -> String {
    route.path.replace("{tenant}", tenant).replace("{agent}", agent).replace("{call}", "no-such-call").replace("{token}", "no-such-token").replace("{login}", "no-such-login").replace("{version}", "1").replace("{id}", "no-such-id").replace("{case}", "1").replace("{file}", "roster.csv")
}

fn admin(data: &Path, args: &[&str]) -> String {
    let mut all = vec!["admin", "--data", p(data)];
    all.extend_from_slice(args);
    ok(&all)
}

fn bearer(token: &str) -> String {
    format!("Authorization: Bearer {token}")
}

/// A second tenant and its supervisor, added with `wfm admin` while the server runs.
fn acme_supervisor(server: &Server, data: &Path) -> String {
    admin(data, &["tenant", "add", "acme", "--name", "Acme", "--tz", "Asia/Shanghai", "--language", "zh-Hans"]);
    add_user(data, &["--tenant", "acme", "--login", "ann", "--role", "supervisor"], "ann's password");
    let (status, body, _) = server.login(Some("acme"), "ann", "ann's password");
    assert_eq!(status, 200, "a user added while the server runs signs in at once: {body}");
    server.token_of_with(Some("acme"), "ann", "ann's password")
}

#[test]
fn every_route_refuses_no_credentials_and_other_tenants() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--demo-days", "0"]);
    let acme = acme_supervisor(&server, dir.path());
    let mut guarded = 0;
    for route in wfm_web::ROUTES {
        let method = route.method.as_str();
        let path = path_of(route, "demo", "1001");
        if route.permission.is_none() {
            assert!(["/healthz", "/api/v1/login", "/signin", "/language"].contains(&route.path), "{method} {path} is open: only /healthz, the sign-in and the language switch may be");
            continue;
        }
        guarded += 1;
        for credentials in [&[][..], &["Authorization: Bearer wfm_forged"], &["Cookie: wfm_session=forged"]] {
            let (status, head, body) = server.exchange(method, &path, credentials, "{}");
            if route.is_page() {
                // A browser is sent to the sign-in, and back here afterwards.
                assert_eq!(status, 303, "{method} {path} with {credentials:?}: {body}");
                assert!(head.contains(&format!("location: /signin?next={}", path.replace('/', "%2F"))), "{method} {path}: {head}");
            } else {
                assert_eq!(status, 401, "{method} {path} with {credentials:?}: {body}");
            }
        }
        if route.path.contains("{tenant}") {
            // A tenant the caller does not belong to, and one that does not exist: the same 404.
            for (tenant, token) in [("demo", &acme), ("ghost", &acme), ("ghost", &server.token)] {
                let path = path_of(route, tenant, "1001");
                let (status, body) = server.request(method, &path, &[&bearer(token)], "{}");
                assert_eq!(status, 404, "{method} {path} for a user of another tenant: {body}");
                if route.is_page() {
                    assert!(body.starts_with("<!doctype html>") && body.contains(&format!("unknown tenant {tenant}")), "{method} {path}: {body}");
                } else {
                    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["error"], format!("unknown tenant {tenant}"), "no hint that it exists");
                }
            }
        }
    }
    assert!(guarded >= 20, "the walk covered {guarded} routes");
    // Only the caller's tenants are listed.
    let (_, body) = server.request("GET", "/api/v1/tenants", &[&bearer(&acme)], "");
    let listed: Vec<Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(listed.iter().map(|t| t["tenant"].as_str().unwrap()).collect::<Vec<_>>(), vec!["acme"]);
    assert_eq!(listed[0]["time_zone"], "Asia/Shanghai");
    let (_, body) = server.get_authorized("/api/v1/tenants");
    assert_eq!(serde_json::from_str::<Vec<Value>>(&body).unwrap().len(), 2, "the platform administrator sees every tenant");
}

#[test]
fn each_role_is_allowed_and_refused_as_the_table_says() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--demo-days", "0"]);
    let users = [(Role::PlatformAdmin, None, "admin"), (Role::TenantAdmin, Some("demo"), "demo-admin"), (Role::Planner, Some("demo"), "planner"), (Role::Supervisor, Some("demo"), "supervisor"), (Role::Manager, Some("demo"), "manager"), (Role::Agent, Some("demo"), "1001")];
    for (role, tenant, login) in users {
        let token = server.token_of(tenant, login);
        let auth = bearer(&token);
        for route in wfm_web::ROUTES {
            let Some(permission) = route.permission else { continue };
            let method = route.method.as_str();
            // Suspending the demo tenant here would change the rest of the walk: tested apart.
            let changes_tenants = permission == wfm_ops::Permission::ManageTenants && route.path.contains("{tenant}");
            let agents: &[&str] = if route.path.contains("{agent}") { &["1001", "1002"] } else { &["1001"] };
            for agent in agents {
                let path = path_of(route, "demo", agent);
                let allowed = match role.access(permission) {
                    Access::Tenant => true,
                    Access::Own => *agent == "1001",
                    Access::Denied => false,
                };
                if !allowed {
                    let (status, body) = server.request(method, &path, &[&auth], "{}");
                    assert_eq!(status, 403, "{role} {method} {path}: {body}");
                } else if !changes_tenants {
                    let status = if route.path.ends_with("/events") {
                        server.status(method, &path, &[&auth], "")
                    } else {
                        let (status, body) = server.request(method, &path, &[&auth], "{}");
                        assert!(!(status == 404 && body.contains(r#""field":"tenant""#)), "{role} {method} {path}: {body}");
                        status
                    };
                    assert!(status != 401 && status != 403, "{role} may {method} {path}, got {status}");
                }
            }
        }
    }
    // An agent changes their own state, and no one else's.
    let agent = bearer(&server.token_of(Some("demo"), "1001"));
    let (status, body) = server.request("POST", "/api/v1/tenants/demo/agents/1001/state", &[&agent], r#"{"state": "not-ready", "reason": "break"}"#);
    assert_eq!(status, 200, "{body}");
    let (status, _) = server.request("POST", "/api/v1/tenants/demo/agents/1002/state", &[&agent], r#"{"state": "ready"}"#);
    assert_eq!(status, 403);
    // A tenant administrator adds a user, who signs in; the audit log says who did both.
    let tenant_admin = bearer(&server.token_of(Some("demo"), "demo-admin"));
    let (status, body) = server.request("POST", "/api/v1/tenants/demo/users", &[&tenant_admin], r#"{"login": "pat", "role": "planner"}"#);
    assert_eq!(status, 201, "{body}");
    let password = serde_json::from_str::<Value>(&body).unwrap()["password"].as_str().expect("a generated password, shown once").to_owned();
    assert_eq!(server.login(Some("demo"), "pat", &password).0, 200);
    let pat = bearer(&server.token_of_with(Some("demo"), "pat", &password));
    assert_eq!(server.request("GET", "/api/v1/tenants/demo/stats?from=2026-01-01&to=2026-01-02", &[&pat], "").0, 200);
    let (status, body) = server.request("DELETE", "/api/v1/tenants/demo/users/pat", &[&tenant_admin], "");
    assert_eq!(status, 200, "{body}");
    assert_eq!(server.request("GET", "/api/v1/tenants/demo/stats?from=2026-01-01&to=2026-01-02", &[&pat], "").0, 401, "a removed user's token stops working");
    assert_eq!(server.login(Some("demo"), "pat", &password).0, 401);
    let (status, body) = server.request("POST", "/api/v1/tenants/demo/users", &[&tenant_admin], r#"{"login": "boss", "role": "platform-admin", "password": "long enough"}"#);
    assert_eq!((status, serde_json::from_str::<Value>(&body).unwrap()["field"].as_str()), (400, Some("role")), "a tenant administrator makes no platform administrator: {body}");
    let (_, body) = server.request("GET", "/api/v1/tenants/demo/audit", &[&tenant_admin], "");
    let audit: Vec<Value> = serde_json::from_str(&body).unwrap();
    let has = |action: &str, actor: &str, target: &str| audit.iter().any(|e| e["action"] == action && e["actor"] == actor && e["target"] == target && e["source"] == "127.0.0.1");
    assert!(has("agent.state", "demo/1001", "1001"), "{body}");
    assert!(has("user.add", "demo/demo-admin", "pat"), "{body}");
    assert!(has("user.remove", "demo/demo-admin", "pat"), "{body}");
    assert!(has("login", "demo/pat", "demo/pat"), "{body}");
    assert!(has("token.create", "demo/supervisor", audit.iter().find(|e| e["action"] == "token.create" && e["actor"] == "demo/supervisor").unwrap()["target"].as_str().unwrap()));
}

#[test]
fn sessions_need_csrf_end_at_sign_out_and_expire_when_idle() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--demo-days", "0", "--session-idle-s", "2"]);
    let session = server.session(Some("demo"), "supervisor");
    let (status, body) = server.request("GET", "/api/v1/tenants/demo/queues/live", &[&session.cookie], "");
    assert_eq!(status, 200, "a GET needs no CSRF token: {body}");
    let change = "/api/v1/tenants/demo/agents/1003/state";
    let (status, body) = server.request("POST", change, &[&session.cookie], r#"{"state": "ready"}"#);
    assert_eq!((status, serde_json::from_str::<Value>(&body).unwrap()["field"].as_str()), (403, Some("X-CSRF-Token")), "{body}");
    let (status, body) = server.request("POST", change, &[&session.cookie, "X-CSRF-Token: 0000"], r#"{"state": "ready"}"#);
    assert_eq!(status, 403, "a wrong CSRF token: {body}");
    let headers = session.headers();
    let with_csrf: Vec<&str> = headers.iter().map(String::as_str).collect();
    let (status, body) = server.request("POST", change, &with_csrf, r#"{"state": "ready"}"#);
    assert_eq!(status, 200, "{body}");
    let (status, head, _) = server.exchange("POST", "/api/v1/logout", &with_csrf, "");
    assert_eq!(status, 200);
    assert!(head.contains("wfm_session=;") && head.contains("Max-Age=0"), "the cookie is cleared: {head}");
    assert_eq!(server.request("GET", "/api/v1/tenants/demo/queues/live", &[&session.cookie], "").0, 401, "signed out");

    let idle = server.session(Some("demo"), "supervisor");
    assert_eq!(server.request("GET", "/api/v1/me", &[&idle.cookie], "").0, 200);
    std::thread::sleep(Duration::from_millis(2500));
    let (status, body) = server.request("GET", "/api/v1/me", &[&idle.cookie], "");
    assert_eq!(status, 401, "idle past --session-idle-s: {body}");
    assert!(body.contains("expired"), "{body}");
    // The cookie is HttpOnly and SameSite.
    let (_, head, _) = server.exchange("POST", "/api/v1/login", &[], &format!(r#"{{"tenant":"demo","login":"manager","password":"{DEMO_PASSWORD}"}}"#));
    let cookie = head.lines().find(|l| l.to_ascii_lowercase().starts_with("set-cookie")).unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
}

#[test]
fn failed_sign_ins_are_slowed_then_refused_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--demo-days", "0"]);
    let began = Instant::now();
    for n in 1..=10 {
        let (status, body, _) = server.login(Some("demo"), "planner", "guess");
        assert_eq!(status, 401, "guess {n}: {body}");
    }
    // The 5th to the 10th guess waited 1, 2, 3, 4, 5 and 5 s.
    assert!(began.elapsed() >= Duration::from_secs(19), "ten guesses took only {:?}", began.elapsed());
    let (status, body, _) = server.login(Some("demo"), "planner", DEMO_PASSWORD);
    assert_eq!(status, 429, "locked, even with the right password: {body}");
    let (status, _, _) = server.login(Some("demo"), "manager", DEMO_PASSWORD);
    assert_eq!(status, 200, "other accounts still sign in");
    let (status, _, _) = server.login(Some("demo"), "no-such-login", "guess");
    assert_eq!(status, 401, "an unknown login is answered like a wrong password");
    let (_, body) = server.get_authorized("/api/v1/tenants/demo/audit?limit=100");
    let audit: Vec<Value> = serde_json::from_str(&body).unwrap();
    let failed = audit.iter().filter(|e| e["action"] == "login.failed" && e["target"] == "demo/planner").count();
    assert_eq!(failed, 10, "{body}");
    assert!(audit.iter().any(|e| e["action"] == "login.failed" && e["detail"] == "account locked"), "{body}");
}

#[test]
fn suspension_from_the_command_line_takes_effect_at_once_and_keeps_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--demo-days", "1"]);
    let manager = bearer(&server.token_of(Some("demo"), "manager"));
    let today = chrono::Utc::now().date_naive();
    let stats = format!("/api/v1/tenants/demo/stats?from={}&to={today}&interval=day", today - chrono::Duration::days(1));
    let (status, before) = server.request("GET", &stats, &[&manager], "");
    assert_eq!(status, 200, "{before}");
    admin(dir.path(), &["tenant", "suspend", "demo"]);
    let (status, body, _) = server.login(Some("demo"), "supervisor", DEMO_PASSWORD);
    assert_eq!((status, body["field"].as_str()), (403, Some("tenant")), "{body}");
    let (status, _) = server.request("GET", &stats, &[&manager], "");
    assert_eq!(status, 403, "tokens of a suspended tenant are refused");
    let (status, kept) = server.get_authorized(&stats);
    assert_eq!((status, &kept), (200, &before), "the platform administrator still sees the data, unchanged");
    let listed = admin(dir.path(), &["tenant", "list"]);
    assert!(listed.lines().any(|l| l.starts_with("demo") && l.contains("suspended")), "{listed}");
    admin(dir.path(), &["tenant", "resume", "demo"]);
    assert_eq!(server.login(Some("demo"), "supervisor", DEMO_PASSWORD).0, 200);
    let (status, after) = server.request("GET", &stats, &[&manager], "");
    assert_eq!((status, after), (200, before));
    let (_, body) = server.get_authorized("/api/v1/tenants/demo/audit");
    let actions: Vec<String> = serde_json::from_str::<Vec<Value>>(&body).unwrap().iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect();
    for wanted in ["tenant.suspend", "tenant.resume", "login.refused"] {
        assert!(actions.contains(&wanted.to_owned()), "{wanted} in {actions:?}");
    }
    // The platform's administrators manage tenants over HTTP too.
    let (status, body) = server.request("POST", "/api/v1/tenants", &[&server.bearer()], r#"{"tenant": "north", "name": "North", "time_zone": "Europe/Moscow", "language": "ru"}"#);
    assert_eq!(status, 201, "{body}");
    let (status, body) = server.request("POST", "/api/v1/tenants", &[&server.bearer()], r#"{"tenant": "south", "name": "South", "time_zone": "Mars/Base"}"#);
    assert_eq!((status, serde_json::from_str::<Value>(&body).unwrap()["field"].as_str()), (400, Some("time_zone")), "{body}");
}

#[test]
fn the_postgresql_database_serves_the_same() {
    let Some(base) = std::env::var("DATABASE_URL").ok() else {
        assert!(std::env::var_os("CI").is_none(), "CI must set DATABASE_URL (.ci/run does)");
        eprintln!("DATABASE_URL unset: PostgreSQL path not exercised");
        return;
    };
    // A database of its own, so runs and tests do not meet.
    let name = format!("wfm_test_{}_{}", std::process::id(), chrono::Utc::now().timestamp_micros());
    let psql = |sql: &str| {
        let out = std::process::Command::new("psql").args([base.as_str(), "-v", "ON_ERROR_STOP=1", "-c", sql]).output().expect("psql runs");
        assert!(out.status.success(), "{sql}: {}", String::from_utf8_lossy(&out.stderr));
    };
    psql(&format!("CREATE DATABASE {name}"));
    let url = match base.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{name}"),
        None => panic!("DATABASE_URL {base} names no database"),
    };
    {
        let dir = tempfile::tempdir().unwrap();
        let server = Server::start(dir.path(), &["--demo-days", "1", "--database", &url]);
        assert!(!dir.path().join("wfm.sqlite").exists(), "no SQLite beside PostgreSQL");
        let supervisor = server.session(Some("demo"), "supervisor");
        let (status, body) = server.request("GET", "/api/v1/tenants/demo/queues/live", &[&supervisor.cookie], "");
        assert_eq!(status, 200, "{body}");
        let mut command = vec!["admin", "--database", url.as_str(), "tenant", "add", "acme", "--name", "Acme", "--tz", "UTC", "--data", p(dir.path())];
        ok(&command);
        command.truncate(3);
        command.extend(["tenant", "list"]);
        assert!(ok(&command).contains("acme"));
        let (_, body) = server.get_authorized("/api/v1/tenants");
        assert!(body.contains("\"acme\""), "the server sees the tenant added beside it: {body}");
        let (_, body) = server.get_authorized("/api/v1/tenants/demo/imports");
        assert!(body.contains("generated"), "{body}");
    }
    psql(&format!("DROP DATABASE {name} WITH (FORCE)"));
}

/// `tests/fixtures/previous-release-data.tar.gz`: the data directory `wfm serve` of the release
/// before tenants and users left (commit 08296ed): demo history, its SIP accounts, two state
/// periods of agent 1001 still in the ACD's journal (killed with SIGKILL before they were moved),
/// and a CSV import for tenant `acme`; the operational database had only `import_runs`.
#[test]
fn a_data_directory_of_the_previous_release_is_upgraded_with_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/previous-release-data.tar.gz");
    assert!(std::process::Command::new("tar").args(["xzf", fixture, "-C", p(dir.path())]).status().unwrap().success());
    let data = dir.path().join("data");
    let accounts = std::fs::read_to_string(data.join("sip-accounts.toml")).unwrap();
    let server = Server::start(&data, &[]);
    let demo = data.join("tenants").join("demo");
    assert_eq!(std::fs::read_to_string(demo.join("sip-accounts.toml")).unwrap(), accounts, "the agents' SIP passwords are kept");
    assert!(!data.join("sip-accounts.toml").exists() && !data.join("acd-journal.jsonl").exists(), "moved into tenants/demo/");
    // The journalled periods reached the store.
    let out = ok(&["stats", "--agents", "--store", p(&data.join("store")), "--tenant", "demo", "--from", "2026-12-04", "--to", "2026-12-05", "--interval", "day", "--format", "json"]);
    let rows: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert!(rows.iter().any(|r| r["agent_id"] == "1001" && r["ready_s"].as_f64().unwrap() > 0.0), "{out}");
    // Both tenants of the store have their rows, with the zones they were imported with.
    let (_, body) = server.get_authorized("/api/v1/tenants");
    let tenants: Vec<Value> = serde_json::from_str(&body).unwrap();
    let zone = |id: &str| tenants.iter().find(|t| t["tenant"] == id).map(|t| t["time_zone"].as_str().unwrap().to_owned());
    assert_eq!((zone("demo").as_deref(), zone("acme").as_deref()), (Some("Europe/Warsaw"), Some("Asia/Shanghai")), "{body}");
    // The journal of data loads is kept.
    let (_, body) = server.get_authorized("/api/v1/tenants/demo/imports");
    assert!(body.contains("\"generated\""), "{body}");
    let (_, body) = server.get_authorized("/api/v1/tenants/acme/imports");
    assert!(body.contains("\"csv\""), "{body}");
    // And the demo's users now exist.
    assert_eq!(server.login(Some("demo"), "planner", DEMO_PASSWORD).0, 200);
}

#[test]
fn recordings_past_the_tenants_retention_are_deleted_and_the_deletion_audited() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--demo-days", "0"]);
    let recordings = dir.path().join("tenants/demo/recordings");
    let (old, fresh) = (recordings.join("old-call.wav"), recordings.join("fresh-call.wav"));
    std::fs::write(&old, b"RIFF").unwrap();
    std::fs::write(&fresh, b"RIFF").unwrap();
    let forty_days_ago = std::time::SystemTime::now() - Duration::from_secs(40 * 86_400);
    std::fs::File::options().write(true).open(&old).unwrap().set_modified(forty_days_ago).unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    assert!(old.exists(), "kept while the tenant keeps recordings for ever (the default)");
    admin(dir.path(), &["tenant", "quota", "demo", "--recording-retention-days", "30"]);
    let deadline = Instant::now() + Duration::from_secs(6);
    while old.exists() {
        assert!(Instant::now() < deadline, "a recording older than 30 days is still there");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(fresh.exists(), "a recent one is kept");
    let (_, body) = server.get_authorized("/api/v1/tenants/demo/audit");
    let audit: Vec<Value> = serde_json::from_str(&body).unwrap();
    let deletion = audit.iter().find(|e| e["action"] == "recording.delete").unwrap_or_else(|| panic!("no deletion audited: {body}"));
    assert!(deletion["detail"].as_str().unwrap().contains("recordings/old-call.wav"), "{deletion}");
    assert!(audit.iter().any(|e| e["action"] == "tenant.quota"));
}
