use super::*;

const FORECAST: &str = "queue,interval_start,interval_end,calls,aht_s,calls_lo80\n\
support,2026-03-02T09:00:00+01:00,2026-03-02T09:30:00+01:00,100,180,90\n\
support,2026-03-02T09:30:00+01:00,2026-03-02T10:00:00+01:00,0,0,0\n\
billing,2026-03-07T19:00:00+01:00,2026-03-07T19:30:00+01:00,100,180,80\n";

fn cli() -> GoalOverrides {
    GoalOverrides { sl_target: Some(0.8), threshold_s: Some(20.0), shrinkage: Some(0.3), ..GoalOverrides::default() }
}

fn run(targets: Option<&str>, smooth: usize) -> Result<Staffed, RequirementsError> {
    let rows = read_forecast("forecast.csv", FORECAST.as_bytes(), 900.0)?;
    let file = targets.map(|t| (Path::new("targets.toml"), toml::from_str::<TargetsFile>(t).unwrap()));
    let mut goals = Goals::new(cli(), file)?;
    staff("forecast.csv", &rows, &mut goals, smooth)
}

#[test]
fn textbook_rows_with_shrinkage() {
    let s = run(None, 0).unwrap();
    let r = &s.rows[0];
    assert_eq!((r.agents, r.agents_with_shrinkage), (14, 20));
    assert_eq!(r.interval_start, "2026-03-02T09:00:00+01:00");
    assert_eq!((s.rows[1].agents, s.rows[1].agents_with_shrinkage), (0, 0));
    assert_eq!(s.pooled.len(), 3);
    assert_eq!(s.pooled[0].per_queue_agents, 14);
}

#[test]
fn queue_and_window_overrides_apply_in_order() {
    let targets = r#"
        [default]
        threshold_s = 20
        [queues.billing]
        sl_target = 0.9
        [[windows]]
        queue = "billing"
        days = ["sat"]
        from = "18:00"
        to = "22:00"
        threshold_s = 60
    "#;
    let s = run(Some(targets), 0).unwrap();
    let billing = &s.rows[2];
    assert_eq!((billing.sl_target, billing.threshold_s), (Some(0.9), 60.0));
    let expected = required_agents(QueueModel::ErlangC, &Workload::new(100.0, 1800.0, 180.0).unwrap(), &StaffingTargets::new(Some(0.9), 60.0, None, None).unwrap()).unwrap();
    assert_eq!(billing.agents, expected.agents);
    assert_eq!(s.rows[0].sl_target, Some(0.8), "support keeps the command line's target");
}

#[test]
fn bad_targets_files_name_the_key() {
    assert!(toml::from_str::<TargetsFile>("[default]\nsl_targt = 0.8\n").unwrap_err().to_string().contains("sl_targt"));
    let e = run(Some("[queues.billing]\nsl_target = 1.5\n"), 0).err().unwrap().to_string();
    assert!(e.contains("queues.billing.sl_target"), "{e}");
    let e = run(Some("[[windows]]\nfrom = \"25:00\"\nto = \"10:00\"\n"), 0).err().unwrap().to_string();
    assert!(e.contains("windows[0].from"), "{e}");
    let e = run(Some("[default]\nmodel = \"erlang-a\"\n"), 0).err().unwrap().to_string();
    assert!(e.contains("patience_s"), "{e}");
}

#[test]
fn bad_forecast_rows_name_line_and_field() {
    let bad = "queue,interval_start,calls,aht_s\nsupport,2026-03-02 09:00,10,180\n";
    let e = read_forecast("f.csv", bad.as_bytes(), 900.0).unwrap_err().to_string();
    assert_eq!(e, "f.csv:2: `interval_start`: \"2026-03-02 09:00\" is not an RFC 3339 time with offset");
    let bad = "queue,interval_start,calls,aht_s\nsupport,2026-03-02T09:00:00Z,10,-180\n";
    assert!(read_forecast("f.csv", bad.as_bytes(), 900.0).unwrap_err().to_string().contains("f.csv:2: `aht_s`"));
    let missing = "queue,interval_start,calls\n";
    assert!(read_forecast("f.csv", missing.as_bytes(), 900.0).unwrap_err().to_string().contains("`aht_s`: missing column"));
    assert!(read_forecast("f.csv", "queue,interval_start,calls,aht_s\n".as_bytes(), 900.0).unwrap_err().to_string().contains("no forecast rows"));
}

#[test]
fn smoothing_averages_each_queue_and_reevaluates() {
    let s = run(None, 3).unwrap();
    // support: 14 and 0 → each becomes ⌈14/2⌉ = 7; the service level is re-evaluated at 7.
    assert_eq!((s.rows[0].agents, s.rows[1].agents), (7, 7));
    assert_eq!(s.rows[0].service_level, 0.0, "7 agents cannot carry 10 Erlangs");
    assert_eq!(s.rows[2].agents, 14, "billing is smoothed on its own");
}
