//! Black-box tests of the planning chain: `wfm erlang`, `wfm forecast`, `wfm staff`, and the
//! rostering commands on their output.

mod common;

use common::{ok, p, run};
use serde_json::Value;

#[test]
fn erlang_textbook_case_as_json_and_text() {
    let out = ok(&["erlang", "--calls", "100", "--interval-s", "1800", "--aht-s", "180", "--sl-target", "0.8", "--threshold-s", "20", "--shrinkage", "0.3", "--json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    for key in ["traffic_erlangs", "agents", "agents_with_shrinkage", "service_level", "probability_of_waiting", "asa_s", "occupancy"] {
        assert!(v.get(key).is_some(), "missing {key} in {v}");
    }
    assert_eq!(v["agents"], 14);
    assert_eq!(v["agents_with_shrinkage"], 20);
    assert!((v["service_level"].as_f64().unwrap() - 0.888).abs() < 0.001);
    let text = ok(&["erlang", "--calls", "100", "--interval-s", "1800", "--aht-s", "180", "--sl-target", "0.8", "--agents", "13"]);
    assert!(text.contains("agents                  13"), "{text}");
    let a: Value = serde_json::from_str(&ok(&[
        "erlang", "--model", "erlang-a", "--patience-s", "60", "--calls", "100", "--interval-s", "1800", "--aht-s", "180", "--sl-target", "0.8", "--json",
    ]))
    .unwrap();
    assert!(a["probability_of_abandoning"].as_f64().unwrap() > 0.0);
    assert!(a["agents"].as_u64().unwrap() < 14, "abandonment lets fewer agents meet the target: {a}");
}

#[test]
fn erlang_refuses_bad_input_by_name() {
    for (args, expected) in [
        (vec!["--aht-s", "-180", "--sl-target", "0.8"], "`aht_s`"),
        (vec!["--aht-s", "180", "--sl-target", "1.2"], "`sl_target`"),
        (vec!["--aht-s", "180", "--sl-target", "0.8", "--shrinkage", "1"], "`shrinkage`"),
        (vec!["--aht-s", "180", "--sl-target", "0.8", "--model", "erlang-a"], "`patience_s`"),
        (vec!["--aht-s", "180"], "at least one target"),
    ] {
        let mut all = vec!["erlang", "--calls", "100", "--interval-s", "1800"];
        all.extend(args);
        let out = run(&all);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(expected), "{all:?}: {err}");
    }
}

#[test]
fn generate_forecast_staff_chain() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("gen");
    ok(&["generate", "--out", p(&data), "--days", "56", "--start", "2026-01-05", "--queues", "2"]);
    let store = data.join("store");
    let fc = dir.path().join("forecast.csv");
    let out = run(&[
        "forecast", "--store", p(&store), "--tenant", "demo", "--from", "2026-03-02", "--horizon", "14d",
        "--calendar", p(&data.join("calendar.csv")), "--backtest", "3w", "--out", p(&fc),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("interval WAPE") && err.contains("baseline"), "the backtest is printed: {err}");
    let text = std::fs::read_to_string(&fc).unwrap();
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with("queue,interval_start,interval_end,calls,aht_s,calls_lo80,calls_hi80,model"));
    assert_eq!(lines.count(), 2 * 14 * 96, "one row per queue and quarter-hour");

    let req = dir.path().join("requirements.csv");
    let targets = dir.path().join("targets.toml");
    std::fs::write(&targets, "[queues.billing]\nsl_target = 0.9\n").unwrap();
    let out = run(&[
        "staff", "--forecast", p(&fc), "--sl-target", "0.8", "--threshold-s", "20", "--shrinkage", "0.3", "--max-occupancy", "0.85",
        "--targets", p(&targets), "--out", p(&req),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("fully cross-skilled pool"));
    let mut reader = csv::Reader::from_path(&req).unwrap();
    let headers = reader.headers().unwrap().clone();
    for column in ["queue", "interval_start", "calls", "aht_s", "agents", "agents_with_shrinkage"] {
        assert!(headers.iter().any(|h| h == column), "missing {column}");
    }
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let mut busy = 0;
    for row in reader.records() {
        let row = row.unwrap();
        chrono::DateTime::parse_from_rfc3339(&row[col("interval_start")]).expect("RFC 3339 with offset");
        let calls: f64 = row[col("calls")].parse().unwrap();
        let agents: u32 = row[col("agents")].parse().unwrap();
        let with: u32 = row[col("agents_with_shrinkage")].parse().unwrap();
        assert!(with >= agents && (calls == 0.0) == (agents == 0), "{row:?}");
        if calls > 0.0 {
            busy += 1;
            let target: f64 = row[col("sl_target")].parse().unwrap();
            assert_eq!(target, if &row[col("queue")] == "billing" { 0.9 } else { 0.8 });
            assert!(row[col("service_level")].parse::<f64>().unwrap() >= target);
            assert!(row[col("occupancy")].parse::<f64>().unwrap() <= 0.85 + 1e-9);
        }
    }
    assert!(busy > 500, "the forecast has busy intervals: {busy}");

    // And a roster for the first two weeks, which the checker passes.
    let roster = dir.path().join("roster.csv");
    let report = dir.path().join("report.json");
    let out = run(&[
        "schedule", "--requirements", p(&req), "--agents", p(&data.join("agents.csv")), "--rules", p(&data.join("rules.toml")),
        "--from", "2026-03-02", "--weeks", "2", "--out", p(&roster), "--report", p(&report), "--time-limit-s", "5",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(report["hard_rule_violations"].as_array().unwrap().len(), 0, "{}", report["hard_rule_violations"]);
    assert_eq!(report["coverage"].as_array().unwrap().len(), 14 * 96);
    assert!(report["under_staffed_agent_intervals"].as_f64().unwrap() >= report["lower_bound_under_staffed"].as_f64().unwrap());
    assert!(report["soft_rule_penalties"].as_array().unwrap().iter().any(|p| p["rule"] == "max_same_shift_per_week"));
    assert!(report["fairness"].as_array().unwrap().iter().any(|f| f["shifts"].as_u64().unwrap() > 0));
    let sl = report["projected_service_level"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&sl), "{sl}");
    let text = std::fs::read_to_string(&roster).unwrap();
    assert!(text.starts_with("agent_id,date,activity,start,end\n"));
    for activity in ["work", "break", "meal", "day-off"] {
        assert!(text.contains(&format!(",{activity},")), "no {activity} in the roster");
    }

    // Leave and swaps on that roster: JSON verdicts, the exit status following the verdict.
    let worker = text.lines().find(|l| l.contains(",2026-03-02,work,")).unwrap().split(',').next().unwrap().to_owned();
    let resting = text.lines().find(|l| l.contains(",2026-03-02,day-off,")).unwrap().split(',').next().unwrap().to_owned();
    let (agents_csv, rules_toml) = (data.join("agents.csv"), data.join("rules.toml"));
    let files = ["--roster", p(&roster), "--agents", p(&agents_csv), "--rules", p(&rules_toml)];
    let leave: Value = serde_json::from_str(&ok(&[&["check-leave"][..], &files, &["--requirements", p(&req), "--agent", &worker, "--date", "2026-03-02"]].concat())).unwrap();
    assert!(leave["shortfalls"].is_array() && leave["candidates"].is_array(), "{leave}");
    let out = run(&[&["check-swap"][..], &files, &["--agent", &worker, "--with", &resting, "--date", "2026-03-02"]].concat());
    let verdict: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(verdict["valid"].as_bool().unwrap(), out.status.success(), "{verdict}");

    let gap: Value = serde_json::from_str(&ok(&[&["fill-gap"][..], &files, &["--date", "2026-03-03", "--from", "10:00", "--to", "14:00", "--queue", "support"]].concat())).unwrap();
    let offers = gap["candidates"].as_array().unwrap();
    assert!(!offers.is_empty() && offers.iter().all(|o| o["start"].as_str().unwrap() <= "2026-03-03T10:00:00+01:00"), "{gap}");

    // `wfm check-roster` judges the roster exactly as `wfm schedule` reported it.
    let judged = dir.path().join("judged.json");
    ok(&[&["check-roster"][..], &files, &["--requirements", p(&req), "--report", p(&judged)]].concat());
    let judged: Value = serde_json::from_str(&std::fs::read_to_string(&judged).unwrap()).unwrap();
    for key in ["shifts", "paid_hours", "under_staffed_agent_intervals", "skill_under_staffed_agent_intervals", "over_staffed_agent_intervals", "projected_service_level", "total_soft_penalty", "coverage"] {
        assert_eq!(judged[key], report[key], "{key}");
    }
    assert!(report["skill_under_staffed_agent_intervals"].as_f64().unwrap() >= report["under_staffed_agent_intervals"].as_f64().unwrap(), "skills can only make it harder");
    assert!(text.contains(",training,"), "the generated rules ask for training");

    // Re-scheduling after the worker's leave on the first day: the published roster mostly stands.
    let requests = dir.path().join("requests.csv");
    std::fs::write(&requests, format!("agent_id,kind,date\n{worker},leave,2026-03-02\n")).unwrap();
    let (again, again_report) = (dir.path().join("again.csv"), dir.path().join("again.json"));
    let out = run(&[
        "schedule", "--requirements", p(&req), "--agents", p(&agents_csv), "--rules", p(&rules_toml), "--from", "2026-03-02", "--weeks", "2",
        "--requests", p(&requests), "--baseline", p(&roster), "--out", p(&again), "--report", p(&again_report), "--time-limit-s", "5",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("against the baseline:"), "{err}");
    let again_report: Value = serde_json::from_str(&std::fs::read_to_string(&again_report).unwrap()).unwrap();
    let changes = &again_report["changes_from_baseline"];
    let count = |k: &str| changes[k].as_u64().unwrap();
    assert!(count("removed") >= 1, "the worker's shift is gone: {changes}");
    assert!(count("kept") * 10 >= report["shifts"].as_u64().unwrap() * 9, "at least 90 % kept: {changes}");
    let again_text = std::fs::read_to_string(&again).unwrap();
    assert!(again_text.contains(&format!("{worker},2026-03-02,leave,")), "the leave is in the roster");
    assert!(!again_text.contains(&format!("{worker},2026-03-02,work,")));
}

/// `req.csv` in `dir`: each queue's agents every hour 09:00–17:00 on the given days of March 2026.
fn office_hours_requirements(dir: &std::path::Path, days: std::ops::Range<u32>, queues: &[(&str, u32)]) -> std::path::PathBuf {
    let mut csv = String::from("queue,interval_start,agents\n");
    for day in days {
        for hour in 9..17 {
            for (queue, agents) in queues {
                csv += &format!("{queue},2026-03-{day:02}T{hour:02}:00:00+01:00,{agents}\n");
            }
        }
    }
    let req = dir.join("req.csv");
    std::fs::write(&req, csv).unwrap();
    req
}

#[test]
fn schedule_names_the_conflict_when_the_rules_cannot_all_be_met() {
    let dir = tempfile::tempdir().unwrap();
    let req = office_hours_requirements(dir.path(), 2..9, &[("support", 1)]);
    let agents = dir.path().join("agents.csv");
    // A 40-hour minimum under a 30-hour weekly maximum cannot be met.
    std::fs::write(&agents, "agent_id,team,skills,team_leader,min_hours_week,max_hours_week\na1,t1,support:1.0,false,40,40\n").unwrap();
    let rules = dir.path().join("rules.toml");
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/datasets/sample/rules.toml")).unwrap();
    std::fs::write(&rules, text.replace("max_hours_per_week = 40", "max_hours_per_week = 30")).unwrap();
    let roster = dir.path().join("roster.csv");
    let out = run(&[
        "schedule", "--requirements", p(&req), "--agents", p(&agents), "--rules", p(&rules), "--from", "2026-03-02", "--weeks", "1", "--out", p(&roster), "--time-limit-s", "3",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("conflict: min_hours_week for agent a1 on 2026-03-02"), "{err}");
    assert!(std::fs::read_to_string(&roster).unwrap().lines().count() > 1, "the best roster found is still written");
}

#[test]
fn schedule_counts_an_agent_at_half_efficiency_as_half_an_agent() {
    // Billing needs two agents 09:00–17:00 on weekdays and support one; the billing agents count
    // for half an agent each, so four must be at work — an efficiency-blind plan would roster two.
    let dir = tempfile::tempdir().unwrap();
    let req = office_hours_requirements(dir.path(), 2..7, &[("billing", 2), ("support", 1)]);
    let agents = dir.path().join("agents.csv");
    let mut csv = String::from("agent_id,team,skills,team_leader,min_hours_week,max_hours_week\ns1,t1,support:1.0,false,0,40\n");
    for i in 1..=5 {
        csv += &format!("b{i},t1,billing:0.5,false,0,40\n");
    }
    std::fs::write(&agents, csv).unwrap();
    let rules = dir.path().join("rules.toml");
    std::fs::write(&rules, "[shifts]\nlengths_hours = [8]\nstart_step_minutes = 60\nearliest_start = \"06:00\"\nlatest_end = \"23:00\"\n[breaks]\nmeal_minutes = 30\nmeal_after_hours = 9\nbreak_minutes = 0\n[rules]\nmax_hours_per_week = 40\n").unwrap();
    let (roster, report) = (dir.path().join("roster.csv"), dir.path().join("report.json"));
    let out = run(&[
        "schedule", "--requirements", p(&req), "--agents", p(&agents), "--rules", p(&rules), "--from", "2026-03-02", "--weeks", "1", "--out", p(&roster), "--report", p(&report), "--time-limit-s", "3",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(report["skill_under_staffed_agent_intervals"].as_f64().unwrap(), 0.0, "{}", report["under_staffed_by_queue"]);
    let mut seen = 0;
    for row in report["coverage"].as_array().unwrap().iter().filter(|r| r["required"].as_u64().unwrap() > 0) {
        let billing = row["queues"].as_array().unwrap().iter().find(|q| q["queue"] == "billing").unwrap();
        assert_eq!(billing["served"].as_f64().unwrap(), 2.0, "{row}");
        assert_eq!(row["scheduled"].as_u64().unwrap(), 5, "four half agents and a whole one: {row}");
        seen += 1;
    }
    assert_eq!(seen, 5 * 8, "hourly intervals");
    // A half agent is half over-staffed: 4 × 0.5 per required hour.
    assert_eq!(report["over_staffed_agent_intervals"].as_f64().unwrap(), 2.0 * 40.0);
}

#[test]
fn with_too_few_agents_the_service_level_objective_answers_more_calls_in_time() {
    // A lunch peak of 80 calls a quarter and a trickle of 4 around it; six agents on 4-hour
    // shifts cover a quarter of the requirement. Every short agent-interval alike, the roster
    // leaves the peak below its traffic (no call answered in time); weighed by the calls each
    // agent answers in time, the agents go to the peak and the trickle is sacrificed.
    let dir = tempfile::tempdir().unwrap();
    let mut forecast = String::from("queue,interval_start,calls,aht_s\n");
    for h in 8..20 {
        forecast += &format!("support,2026-03-02T{h:02}:00:00+01:00,{},180\n", if (11..15).contains(&h) { 80 } else { 4 });
    }
    let (fc, req) = (dir.path().join("fc.csv"), dir.path().join("req.csv"));
    std::fs::write(&fc, forecast).unwrap();
    let out = run(&["staff", "--forecast", p(&fc), "--sl-target", "0.8", "--threshold-s", "20", "--out", p(&req)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let agents = dir.path().join("agents.csv");
    let csv: String = (1..=6).map(|i| format!("a{i},t1,support:1.0,false,0,40\n")).collect();
    std::fs::write(&agents, format!("agent_id,team,skills,team_leader,min_hours_week,max_hours_week\n{csv}")).unwrap();
    let rules = dir.path().join("rules.toml");
    std::fs::write(&rules, "[shifts]\nlengths_hours = [4]\nstart_step_minutes = 60\nearliest_start = \"08:00\"\nlatest_end = \"20:00\"\n[breaks]\nmeal_minutes = 30\nmeal_after_hours = 9\nbreak_minutes = 0\n[rules]\nmax_hours_per_week = 40\n").unwrap();
    let schedule = |objective: &str| -> Value {
        let (roster, report) = (dir.path().join(format!("roster-{objective}.csv")), dir.path().join(format!("report-{objective}.json")));
        let out = run(&[
            "schedule", "--requirements", p(&req), "--agents", p(&agents), "--rules", p(&rules), "--from", "2026-03-02", "--weeks", "1", "--out", p(&roster), "--report", p(&report), "--time-limit-s", "2", "--objective", objective,
        ]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap()
    };
    let (flat, weighed, auto) = (schedule("agent-intervals"), schedule("service-level"), schedule("auto"));
    let sl = |r: &Value| r["projected_service_level"].as_f64().unwrap();
    assert_eq!(flat["skill_under_staffed_agent_intervals"], weighed["skill_under_staffed_agent_intervals"], "as many agent-intervals short either way");
    assert!(sl(&weighed) > sl(&flat) + 0.3, "{} against {}", sl(&weighed), sl(&flat));
    assert_eq!((flat["objective"].as_str(), weighed["objective"].as_str(), auto["objective"].as_str()), (Some("agent_intervals"), Some("service_level"), Some("service_level")), "auto sees the staff is short");
    let best = weighed["best_reachable_service_level"].as_f64().unwrap();
    assert!(best >= sl(&weighed) && best >= sl(&flat) && best < 0.75, "the bound {best} holds and is near what is reached");
    let sacrificed = weighed["sacrificed_intervals"].as_array().unwrap();
    assert!(!sacrificed.is_empty() && sacrificed.iter().all(|s| s["calls"].as_f64() == Some(4.0)), "only the trickle is sacrificed: {sacrificed:?}");
    let sacrificed_calls: f64 = sacrificed.iter().map(|s| s["calls"].as_f64().unwrap()).sum();
    assert_eq!(weighed["sacrificed_calls"].as_f64(), Some(sacrificed_calls));
    // Without calls in the requirements there is no service level to weigh by.
    let bare = dir.path().join("bare.csv");
    let text = std::fs::read_to_string(&req).unwrap();
    let bare_text: String = text.lines().map(|l| { let f: Vec<&str> = l.split(',').collect(); format!("{},{},{}\n", f[0], f[1], f[5]) }).collect();
    std::fs::write(&bare, bare_text).unwrap();
    let out = run(&["schedule", "--requirements", p(&bare), "--agents", p(&agents), "--rules", p(&rules), "--from", "2026-03-02", "--weeks", "1", "--out", p(&dir.path().join("r.csv")), "--time-limit-s", "1", "--objective", "service-level"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("`objective`") && err.contains("calls"), "{err}");
}

#[test]
fn forecast_and_staff_refuse_bad_input_with_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("gen");
    ok(&["generate", "--out", p(&data), "--days", "14", "--start", "2026-01-05"]);
    let store = data.join("store");
    let fc = dir.path().join("fc.csv");
    let cal = dir.path().join("cal.csv");
    std::fs::write(&cal, "date,kind,name,volume_factor\n2026-01-20,holiday,x,abc\n").unwrap();
    let out = run(&["forecast", "--store", p(&store), "--tenant", "demo", "--from", "2026-01-19", "--calendar", p(&cal), "--out", p(&fc)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("cal.csv:2: `volume_factor`"), "{err}");
    let out = run(&["forecast", "--store", p(&store), "--tenant", "demo", "--from", "2025-01-01", "--out", p(&fc)]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no calls in the store before 2025-01-01"));
    let out = run(&["forecast", "--store", p(&store), "--tenant", "demo", "--from", "2026-01-19", "--horizon", "3x", "--out", p(&fc)]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--horizon"));

    std::fs::write(&fc, "queue,interval_start,calls,aht_s\nsupport,2026-01-19T09:00:00+01:00,12,-3\n").unwrap();
    let out = run(&["staff", "--forecast", p(&fc), "--sl-target", "0.8", "--out", p(&dir.path().join("r.csv"))]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("fc.csv:2: `aht_s`"), "{err}");
    let targets = dir.path().join("t.toml");
    std::fs::write(&targets, "[default]\nsl_goal = 0.8\n").unwrap();
    std::fs::write(&fc, "queue,interval_start,calls,aht_s\nsupport,2026-01-19T09:00:00+01:00,12,180\n").unwrap();
    let out = run(&["staff", "--forecast", p(&fc), "--sl-target", "0.8", "--targets", p(&targets), "--out", p(&dir.path().join("r.csv"))]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("t.toml") && err.contains("sl_goal"), "{err}");
}
