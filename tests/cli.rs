//! The `wfm` binary driven over its command line, as a user or a script would.

mod common;

use common::{ok, p, run, wfm};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn generate(out: &Path, days: &str, extra: &[&str]) {
    let mut args = vec!["generate", "--out", p(out), "--days", days, "--seed", "11", "--daily-calls", "800"];
    args.extend_from_slice(extra);
    ok(&args);
}

fn stats_json(store: &Path, tenant: &str, from: &str, to: &str, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["stats", "--store", p(store), "--tenant", tenant, "--from", from, "--to", to, "--format", "json"];
    args.extend_from_slice(extra);
    serde_json::from_str(&ok(&args)).expect("stats prints JSON")
}

fn files_under(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().unwrap() != ".lock" {
                out.insert(path.strip_prefix(dir).unwrap().to_owned(), fs::read(&path).unwrap());
            }
        }
    }
    out
}

#[test]
fn same_seed_same_bytes() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    generate(a.path(), "3", &["--tenants", "2"]);
    generate(b.path(), "3", &["--tenants", "2"]);
    let (fa, fb) = (files_under(a.path()), files_under(b.path()));
    assert!(fa.keys().any(|k| k.to_string_lossy().contains("tenant=t01")), "second tenant written");
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (name, bytes) in &fa {
        assert!(bytes == &fb[name], "{} differs between runs", name.display());
    }
    for name in ["agents.csv", "calendar.csv", "rules.toml"] {
        assert!(fa.contains_key(Path::new(name)), "{name} written");
    }
}

#[test]
fn generated_history_gives_consistent_statistics() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), "7", &[]);
    let store = dir.path().join("store");
    // 2026-01-05 is a Monday; the demo tenant is in Europe/Warsaw, two queues.
    let rows = stats_json(&store, "demo", "2026-01-05", "2026-01-12", &[]);
    assert_eq!(rows.len(), 2 * 7 * 96);
    let mut offered = 0;
    for r in &rows {
        let n = |k: &str| r[k].as_u64().unwrap_or_else(|| panic!("{k} in {r}"));
        assert_eq!(n("answered") + n("abandoned") + n("overflowed"), n("offered"));
        assert!(r["interval_start"].as_str().unwrap().ends_with("+01:00"));
        offered += n("offered");
        if n("offered") == 0 {
            assert!(r["asa_s"].is_null() && r["service_level"].is_null());
        }
    }
    assert!(offered > 3000, "a week of a centre: {offered} calls");
    let days = stats_json(&store, "demo", "2026-01-05", "2026-01-12", &["--interval", "day", "--queue", "support"]);
    assert_eq!(days.len(), 7);
    let monday = days[0]["offered"].as_u64().unwrap();
    let sunday = days[6]["offered"].as_u64().unwrap();
    assert!(monday > 2 * sunday, "weekly seasonality: Monday {monday}, Sunday {sunday}");
    let sl = days[0]["service_level"].as_f64().unwrap();
    assert!((0.4..0.99).contains(&sl), "a plausible service level: {sl}");
    let agents = stats_json(&store, "demo", "2026-01-05", "2026-01-06", &["--agents", "--interval", "day"]);
    assert!(agents.len() > 10);
    let busy: Vec<&Value> = agents.iter().filter(|a| a["calls_handled"].as_u64().unwrap() > 0).collect();
    assert!(!busy.is_empty());
    for a in busy {
        let occupancy = a["occupancy"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&occupancy));
        assert!(a["logged_in_s"].as_f64().unwrap() >= a["on_call_s"].as_f64().unwrap());
    }
    let csv = ok(&["stats", "--store", p(&store), "--tenant", "demo", "--from", "2026-01-05", "--to", "2026-01-06"]);
    let header = csv.lines().next().unwrap();
    assert!(header.starts_with("tenant,queue,interval_start,interval_end,offered,answered,abandoned"), "{header}");
}

#[test]
fn stats_refuses_bad_options_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), "1", &[]);
    let store = dir.path().join("store");
    let cases: [(&[&str], &str); 5] = [
        (&["--tenant", "nobody", "--from", "2026-01-05", "--to", "2026-01-06"], "tenant nobody is not in the store"),
        (&["--tenant", "demo", "--from", "2026-01-06", "--to", "2026-01-05"], "must be after"),
        (&["--tenant", "demo", "--from", "5 Jan", "--to", "2026-01-06"], "invalid date"),
        (&["--tenant", "demo", "--from", "2026-01-05", "--to", "2026-01-06", "--interval", "7m"], "invalid interval"),
        (&["--tenant", "demo", "--from", "2026-01-05", "--to", "2026-01-06", "--threshold-s=-3"], "threshold_s"),
    ];
    for (args, message) in cases {
        let out = wfm().args(["stats", "--store", p(&store)]).args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && stderr.contains(message), "{args:?}: {stderr}");
    }
    let missing = run(&["stats", "--store", "/nonexistent/store", "--tenant", "demo", "--from", "2026-01-05", "--to", "2026-01-06"]);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("not a wfm store"));
}

const CSV_HEADER: &str = "call_id,arrived_at,queued_at,answered_at,ended_at,queue,agent_id,talk_s,abandoned,exit_reason";

#[test]
fn csv_import_is_all_or_nothing_and_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    // The committed example: an answered, an abandoned and an overflowed call.
    let good = Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/sample/calls-example.csv");
    let bad = dir.path().join("bad.csv");
    fs::write(
        &bad,
        format!(
            "{CSV_HEADER}\n\
             b1,2026-03-02 10:00:00,2026-03-02 10:00:10,2026-03-02 10:00:30,2026-03-02 10:05:00,support,1001,250,,\n\
             b2,2026-03-02 10:00:00,2026-03-02 10:00:10,2026-03-02 10:00:05,2026-03-02 10:05:00,support,1002,250,,\n"
        ),
    )
    .unwrap();
    let import = |file: &Path, extra: &[&str]| {
        wfm()
            .args(["import", "--store", p(&store), "--tenant", "acme", "--tz", "Europe/Warsaw", "--format", "csv"])
            .args(extra)
            .arg(file)
            .output()
            .unwrap()
    };
    let out = import(&good, &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let offered = |store: &Path| -> u64 {
        stats_json(store, "acme", "2026-03-02", "2026-03-03", &["--interval", "day"]).iter().map(|r| r["offered"].as_u64().unwrap()).sum()
    };
    assert_eq!(offered(&store), 3);

    let before = files_under(&store);
    let out = import(&bad, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("bad.csv:3: field `answered_at`"), "{stderr}");
    assert_eq!(before, files_under(&store), "a refused import changes nothing");

    let out = import(&bad, &["--skip-bad"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.contains("skipped") && stderr.contains("bad.csv:3"), "{stderr}");
    assert_eq!(offered(&store), 4);

    let out = import(&good, &[]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("imported 0 calls (3 already present)"));
    assert_eq!(offered(&store), 4, "importing the same file again adds nothing");

    let other_zone = wfm()
        .args(["import", "--store", p(&store), "--tenant", "acme", "--tz", "Asia/Taipei", "--format", "csv"])
        .arg(&good)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&other_zone.stderr).contains("registered in time zone Europe/Warsaw"));
}

#[test]
fn queue_log_round_trip_keeps_every_call() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), "3", &["--queue-log"]);
    let log = dir.path().join("demo.queue_log");
    let imported = dir.path().join("imported");
    let out = wfm()
        .args(["import", "--store", p(&imported), "--tenant", "demo", "--tz", "Europe/Warsaw", "--format", "queue-log"])
        .arg(&log)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("0 calls still open"), "{stderr}");
    let daily = |store: &Path| -> Vec<(String, String, u64, u64, u64, u64)> {
        stats_json(store, "demo", "2026-01-05", "2026-01-08", &["--interval", "day"])
            .iter()
            .map(|r| {
                let n = |k: &str| r[k].as_u64().unwrap();
                (r["queue"].to_string(), r["interval_start"].to_string(), n("offered"), n("answered"), n("abandoned"), n("overflowed"))
            })
            .collect()
    };
    assert_eq!(daily(&dir.path().join("store")), daily(&imported));
    let agents = stats_json(&imported, "demo", "2026-01-05", "2026-01-06", &["--agents", "--interval", "day"]);
    let with_lunch = agents.iter().filter(|a| a["not_ready_by_reason"].get("lunch").is_some()).count();
    assert!(with_lunch > 5, "pauses with reasons survive the round trip ({with_lunch} agents)");
}

#[test]
fn killing_an_import_leaves_the_store_whole() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let big = dir.path().join("big.csv");
    let rows = 60_000;
    let mut text = format!("{CSV_HEADER}\n");
    for i in 0..rows {
        let (day, minute) = (2 + i % 5, i % 600);
        let t = |s: u32| format!("2026-03-{day:02} {:02}:{:02}:{:02}", 8 + minute / 60, minute % 60, s);
        text.push_str(&format!("k{i},{},{},{},{},support,1001,30,,\n", t(0), t(5), t(20), t(50)));
    }
    fs::write(&big, text).unwrap();
    let count = || -> u64 {
        stats_json(&store, "acme", "2026-03-01", "2026-03-08", &["--interval", "week"]).iter().map(|r| r["offered"].as_u64().unwrap()).sum()
    };
    let header_only = dir.path().join("empty.csv");
    fs::write(&header_only, format!("{CSV_HEADER}\n")).unwrap();
    ok(&["import", "--store", p(&store), "--tenant", "acme", "--tz", "UTC", "--format", "csv", p(&header_only)]);
    for delay_ms in [20, 150, 400, 900, 1600] {
        let mut child = wfm()
            .args(["import", "--store", p(&store), "--tenant", "acme", "--tz", "UTC", "--format", "csv", p(&big)])
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        let n = count();
        assert!(n == 0 || n == rows as u64, "after a kill at {delay_ms} ms the store holds {n} calls");
    }
    ok(&["import", "--store", p(&store), "--tenant", "acme", "--tz", "UTC", "--format", "csv", p(&big)]);
    assert_eq!(count(), rows as u64);
}

#[test]
fn escalation_replay_runs_the_ladder_over_a_past_day() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), "1", &[]);
    let store = dir.path().join("store");
    let rules = dir.path().join("escalation.toml");
    fs::write(&rules, "[out_of_control]\ncalls_waiting_at_least = 3\nfor_s = 30\n[back_in_control]\nfor_s = 60\n[level2]\nafter_s = 120\npeople = [\"r1\"]\n").unwrap();
    let forecast = dir.path().join("forecast.csv");
    fs::write(&forecast, "queue,interval_start,calls,aht_s\nsupport,2026-01-05T09:00:00+01:00,40,180\nbilling,2026-01-05T09:00:00+01:00,20,180\n").unwrap();
    let replay = ["escalation", "replay", "--store", p(&store), "--tenant", "demo", "--date", "2026-01-05", "--rules", p(&rules)];
    let csv = ok(&[&replay[..], &["--forecast", p(&forecast)]].concat());
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("at,level,event,detail,who,skills,forecast_calls,offered_calls"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let up: Vec<&Vec<&str>> = rows.iter().filter(|r| r[2] == "level_up").collect();
    assert!(up.iter().any(|r| r[1] == "1") && up.iter().any(|r| r[1] == "2"), "the morning peak climbs to level 2: {csv}");
    let called = rows.iter().find(|r| r[2] == "called_in").unwrap();
    assert_eq!(called[4], "r1");
    // Level 2 comes 120 s after level 1 at the earliest.
    let at = |r: &Vec<&str>| chrono::NaiveDateTime::parse_from_str(r[0], "%Y-%m-%dT%H:%M:%S").unwrap();
    assert!(at(called) - at(up[0]) >= chrono::Duration::seconds(120));
    let in_nine = rows.iter().find(|r| r[0].starts_with("2026-01-05T09:0")).expect("a step between 09:00 and 09:10");
    assert_eq!(in_nine[6], "60.0", "both queues' forecast for 09:00–09:15");
    let offered: u64 = in_nine[7].parse().unwrap();
    assert!(offered > 0, "{in_nine:?}");
    // The same timeline as JSON, and the defaults when no rules are given.
    let json: Vec<Value> = serde_json::from_str(&ok(&[&replay[..], &["--format", "json"]].concat())).unwrap();
    assert_eq!(json.len(), rows.len());
    assert!(json.iter().all(|s| s["episode_ms"].as_i64().is_some() && s["at"].as_str().is_some()));
    ok(&["escalation", "replay", "--store", p(&store), "--tenant", "demo", "--date", "2026-01-05"]);
    let bad = dir.path().join("bad.toml");
    fs::write(&bad, "[level2]\nafter = 1\n").unwrap();
    for (args, message) in [
        (vec!["--tenant", "nobody", "--date", "2026-01-05"], "tenant nobody is not in the store"),
        (vec!["--tenant", "demo", "--date", "5.1.2026"], "--date \"5.1.2026\": not YYYY-MM-DD"),
        (vec!["--tenant", "demo", "--date", "2026-01-05", "--rules", "/nonexistent.toml"], "--rules /nonexistent.toml: no such file"),
        (vec!["--tenant", "demo", "--date", "2026-01-05", "--rules", p(&bad)], "unknown field `after`"),
    ] {
        let out = wfm().args(["escalation", "replay", "--store", p(&store)]).args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && stderr.contains(message), "{args:?}: {stderr}");
    }
}
