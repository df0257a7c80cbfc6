//! The store and the statistics, end to end through real Parquet files.

use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use std::fs;
use wfm_analytics::stats::{agent_stats, call_stats, period_stats, queue_report, window_stats, QueuedCall, ServiceLevelRule, StatsQuery};
use wfm_analytics::{Store, COMPACT_AFTER_PARTS};
use wfm_model::{
    AgentId, AgentState, AgentStateEvent, CallRecord, Channel, Direction, ExitReason, LocalDateRange,
    QueueName, TenantId, TenantZone,
};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// A queued call: `outcome` is "answered", "abandoned" or an overflow exit reason.
fn call(id: &str, queue: &str, queued: DateTime<Utc>, wait_ms: i64, outcome: &str) -> CallRecord {
    let left = queued + Duration::milliseconds(wait_ms);
    let answered = outcome == "answered";
    CallRecord {
        call_id: id.into(),
        channel: Channel::Voice,
        direction: Direction::Inbound,
        caller_number: None,
        dialled_number: None,
        queue: Some(QueueName::parse(queue).unwrap()),
        priority: 0,
        arrived_at: queued - Duration::seconds(5),
        queued_at: Some(queued),
        answered_at: answered.then_some(left),
        ended_at: left + Duration::seconds(if answered { 100 } else { 0 }),
        wait_ms: Some(wait_ms),
        abandoned: outcome == "abandoned",
        exit_reason: ExitReason::parse(outcome).unwrap(),
        agent_id: answered.then(|| AgentId::parse("1001").unwrap()),
        ring_ms: 0,
        talk_ms: if answered { 90_000 } else { 0 },
        hold_ms: if answered { 4_000 } else { 0 },
        wrap_ms: if answered { 6_000 } else { 0 },
        transfer_target: None,
        disposition: None,
        ivr_path: None,
        sip_call_id: None,
        recording: None,
    }
}

fn store_with(zone: &str) -> (tempfile::TempDir, Store, TenantId) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create_or_open(&dir.path().join("store")).unwrap();
    let tenant = TenantId::parse("acme").unwrap();
    store.ensure_tenant(&tenant, TenantZone::parse(zone).unwrap()).unwrap();
    (dir, store, tenant)
}

fn query(tenant: &TenantId, from: &str, to: &str, interval: &str) -> StatsQuery {
    StatsQuery {
        tenant: tenant.clone(),
        range: LocalDateRange::parse(from, to).unwrap(),
        interval: interval.parse().unwrap(),
        queue: None,
        rule: ServiceLevelRule::default(),
    }
}

#[test]
fn each_service_level_definition_gives_its_own_number() {
    let (_dir, store, tenant) = store_with("UTC");
    let t = at("2026-03-02T09:00:00Z");
    let calls = vec![
        call("a", "q", t, 10_000, "answered"),
        call("b", "q", t, 30_000, "answered"),
        call("c", "q", t, 3_000, "abandoned"),
        call("d", "q", t, 15_000, "abandoned"),
        call("e", "q", t, 40_000, "abandoned"),
        call("f", "q", t, 60_000, "timeout"),
    ];
    store.append(&tenant, &calls, &[]).unwrap();
    let rows = call_stats(&store, &query(&tenant, "2026-03-02", "2026-03-03", "day")).unwrap();
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!((r.offered, r.answered, r.abandoned, r.short_abandoned, r.overflowed), (6, 2, 3, 1, 1));
    assert_eq!((r.answered_within_threshold, r.abandoned_within_threshold), (1, 2));
    assert_eq!(r.service_level, Some(1.0 / 6.0));
    assert_eq!(r.sl_with_abandons, Some(3.0 / 6.0));
    assert_eq!(r.sl_excluding_short_abandons, Some(1.0 / 5.0));
    assert_eq!(r.abandon_rate, Some(3.0 / 6.0));
    assert_eq!(r.lost_call_rate, Some(2.0 / 6.0));
    assert_eq!(r.asa_s, Some(20.0));
    assert!((r.avg_abandon_wait_s.unwrap() - 58.0 / 3.0).abs() < 1e-9);
    assert_eq!(r.max_wait_s, Some(60.0));
    assert_eq!(r.avg_talk_s, Some(90.0));
    assert_eq!(r.aht_s, Some(100.0));
    assert_eq!(&*r.interval_start, "2026-03-02T00:00:00+00:00");

    // The live wallboard's window over the same calls: the same figures, by the same code.
    let queued: Vec<QueuedCall> = calls.iter().filter_map(QueuedCall::of).collect();
    let day = (t.timestamp_millis() - 9 * 3_600_000, t.timestamp_millis() + 15 * 3_600_000);
    let window = window_stats(&tenant, TenantZone::utc(), &queued, day, ServiceLevelRule::default());
    assert_eq!(window, rows, "one definition for wfm stats and the live window");
    let outside = window_stats(&tenant, TenantZone::utc(), &queued, (day.1, day.1 + 300_000), ServiceLevelRule::default());
    assert!(outside.is_empty(), "calls that queued before the window are not in it");
}

#[test]
fn the_queue_report_reads_answers_at_15_and_60_seconds() {
    let (_dir, store, tenant) = store_with("UTC");
    let t = at("2026-03-02T09:00:00Z");
    let calls = vec![
        call("a", "q", t, 10_000, "answered"),
        call("b", "q", t, 15_000, "answered"),
        call("c", "q", t, 45_000, "answered"),
        call("d", "q", t, 90_000, "answered"),
        call("e", "q", t, 3_000, "abandoned"),
        call("f", "q", t, 40_000, "abandoned"),
        call("g", "q", t, 60_000, "timeout"),
    ];
    store.append(&tenant, &calls, &[]).unwrap();
    // The query's own threshold does not matter; its short-abandon limit would.
    let mut q = query(&tenant, "2026-03-02", "2026-03-03", "day");
    q.rule.threshold_ms = 1_000;
    let rows = queue_report(&store, &q).unwrap();
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!((r.offered, r.answered), (7, 4));
    assert_eq!(r.answer_rate, Some(4.0 / 7.0));
    assert_eq!(r.answered_15s_rate, Some(2.0 / 7.0), "a wait of exactly 15 s is within");
    assert_eq!(r.answered_60s_rate, Some(3.0 / 7.0));
    assert_eq!(r.abandoned_15s_rate, Some(1.0 / 7.0));
    assert_eq!(r.avg_talk_s, Some(90.0));
    assert_eq!(r.avg_answered_wait_s, Some(40.0));
    assert_eq!(r.avg_abandoned_wait_s, Some(21.5));
    // Nothing offered: no shares.
    let empty = queue_report(&store, &query(&tenant, "2026-03-02", "2026-03-03", "60m")).unwrap();
    let quiet = empty.iter().find(|r| r.interval_start.starts_with("2026-03-02T03")).unwrap();
    assert_eq!((quiet.offered, quiet.answer_rate, quiet.answered_15s_rate), (0, None, None));
}

#[test]
fn a_call_belongs_to_the_interval_it_queued_in() {
    let (_dir, store, tenant) = store_with("Europe/Warsaw");
    // 09:59:59.999 local, answered at 10:00:30.
    let queued = at("2026-03-02T09:59:59.999+01:00");
    store.append(&tenant, &[call("edge", "q", queued, 30_001, "answered")], &[]).unwrap();
    let rows = call_stats(&store, &query(&tenant, "2026-03-02", "2026-03-03", "15m")).unwrap();
    assert_eq!(rows.len(), 96, "every quarter-hour of the day is listed");
    let hit: Vec<_> = rows.iter().filter(|r| r.offered > 0).collect();
    assert_eq!(hit.len(), 1);
    assert_eq!(&*hit[0].interval_start, "2026-03-02T09:45:00+01:00");
    let empty = &rows[0];
    assert_eq!((empty.offered, empty.service_level, empty.asa_s), (0, None, None));
}

#[test]
fn a_fall_back_day_has_100_quarter_hours_and_keeps_the_two_2_oclocks_apart() {
    let (_dir, store, tenant) = store_with("Europe/Warsaw");
    let summer = at("2026-10-25T02:05:00+02:00");
    let winter = at("2026-10-25T02:05:00+01:00");
    let calls = [call("s", "q", summer, 1_000, "answered"), call("w1", "q", winter, 1_000, "answered"), call("w2", "q", winter, 2_000, "answered")];
    store.append(&tenant, &calls, &[]).unwrap();
    let rows = call_stats(&store, &query(&tenant, "2026-10-25", "2026-10-26", "15m")).unwrap();
    assert_eq!(rows.len(), 100);
    let offered: Vec<(&str, u64)> = rows.iter().filter(|r| r.offered > 0).map(|r| (&*r.interval_start, r.offered)).collect();
    assert_eq!(offered, vec![("2026-10-25T02:00:00+02:00", 1), ("2026-10-25T02:00:00+01:00", 2)]);
    let spring = call_stats(&store, &query(&tenant, "2026-03-29", "2026-03-30", "15m")).unwrap();
    assert!(spring.is_empty(), "no queue had calls that day");
}

#[test]
fn queue_filter_and_tenant_isolation() {
    let (_dir, store, tenant) = store_with("UTC");
    let other = TenantId::parse("other").unwrap();
    store.ensure_tenant(&other, TenantZone::utc()).unwrap();
    let t = at("2026-03-02T09:00:00Z");
    store.append(&tenant, &[call("a", "sales", t, 1_000, "answered"), call("b", "support", t, 1_000, "answered")], &[]).unwrap();
    store.append(&other, &[call("a", "sales", t, 1_000, "answered")], &[]).unwrap();
    let mut q = query(&tenant, "2026-03-02", "2026-03-03", "day");
    q.queue = Some(QueueName::parse("sales").unwrap());
    let rows = call_stats(&store, &q).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!((&*rows[0].queue, rows[0].offered), ("sales", 1));
    let all = call_stats(&store, &query(&tenant, "2026-03-02", "2026-03-03", "day")).unwrap();
    assert_eq!(all.iter().map(|r| r.offered).sum::<u64>(), 2);
}

#[test]
fn appends_are_idempotent_by_call_id_and_compaction_keeps_everything() {
    let (_dir, store, tenant) = store_with("UTC");
    let t = at("2026-03-02T09:00:00Z");
    let batch: Vec<CallRecord> = (0..5).map(|i| call(&format!("c{i}"), "q", t, 1_000, "answered")).collect();
    let first = store.append(&tenant, &batch, &[]).unwrap();
    assert_eq!((first.calls_written, first.calls_duplicate), (5, 0));
    let again = store.append(&tenant, &batch, &[]).unwrap();
    assert_eq!((again.calls_written, again.calls_duplicate, again.files_written), (0, 5, 0));
    for i in 5..(5 + COMPACT_AFTER_PARTS + 2) {
        store.append(&tenant, &[call(&format!("c{i}"), "q", t, 1_000, "answered")], &[]).unwrap();
    }
    let day = LocalDateRange::parse("2026-03-02", "2026-03-03").unwrap();
    let parts = |store: &Store| store.files_for(wfm_analytics::Dataset::Calls, &tenant, day).unwrap().len();
    assert!(parts(&store) <= COMPACT_AFTER_PARTS, "busy partitions are compacted after appends");
    store.compact(None).unwrap();
    assert_eq!(parts(&store), 1);
    let mut ids: Vec<String> = store.read_calls(&tenant, day).unwrap().into_iter().map(|c| c.call_id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5 + COMPACT_AFTER_PARTS + 2);
}

#[test]
fn the_version_of_some_dates_changes_with_every_change_to_them_and_only_then() {
    let (_dir, store, tenant) = store_with("UTC");
    let day = LocalDateRange::parse("2026-03-02", "2026-03-03").unwrap();
    let later = LocalDateRange::parse("2026-03-10", "2026-03-11").unwrap();
    let t = at("2026-03-02T09:00:00Z");
    let empty = store.version_of(&tenant, day).unwrap();
    store.append(&tenant, &[call("c1", "q", t, 1_000, "answered")], &[]).unwrap();
    let one = store.version_of(&tenant, day).unwrap();
    assert_ne!(empty, one, "an append changes the version of its date");
    assert_eq!(store.version_of(&tenant, later).unwrap(), empty, "other dates keep theirs");
    store.append(&tenant, &[call("c1", "q", t, 1_000, "answered")], &[]).unwrap();
    assert_eq!(store.version_of(&tenant, day).unwrap(), one, "a duplicate writes nothing");
    store.append(&tenant, &[call("c2", "q", t, 1_000, "answered")], &[]).unwrap();
    let two = store.version_of(&tenant, day).unwrap();
    assert_ne!(two, one);
    store.compact(None).unwrap();
    assert_ne!(store.version_of(&tenant, day).unwrap(), two, "a compaction changes it too");
}

#[test]
fn invalid_records_are_refused_and_nothing_is_written() {
    let (_dir, store, tenant) = store_with("UTC");
    let t = at("2026-03-02T09:00:00Z");
    let mut bad = call("bad", "q", t, 1_000, "answered");
    bad.agent_id = None;
    let err = store.append(&tenant, &[call("good", "q", t, 1_000, "answered"), bad], &[]).unwrap_err();
    assert!(err.to_string().contains("agent_id"), "{err}");
    let day = LocalDateRange::parse("2026-03-02", "2026-03-03").unwrap();
    assert!(store.read_calls(&tenant, day).unwrap().is_empty());
    let unknown = TenantId::parse("nobody").unwrap();
    assert!(store.append(&unknown, &[call("x", "q", t, 1, "answered")], &[]).is_err());
    let zone_change = store.ensure_tenant(&tenant, TenantZone::parse("Europe/Warsaw").unwrap());
    assert!(zone_change.unwrap_err().to_string().contains("UTC"));
}

#[test]
fn an_uncommitted_change_is_discarded_and_a_committed_one_finished() {
    let (dir, store, tenant) = store_with("UTC");
    let t = at("2026-03-02T09:00:00Z");
    store.append(&tenant, &[call("kept", "q", t, 1_000, "answered")], &[]).unwrap();
    let day = LocalDateRange::parse("2026-03-02", "2026-03-03").unwrap();
    let file = store.files_for(wfm_analytics::Dataset::Calls, &tenant, day).unwrap().remove(0);
    let root = dir.path().join("store");

    // A crash before the manifest: a staged file and no COMMIT.
    let crashed = root.join("_txn/crashed");
    fs::create_dir_all(&crashed).unwrap();
    fs::copy(&file, crashed.join("0.parquet")).unwrap();
    // A crash after the manifest: COMMIT written, files not yet moved.
    let committed = root.join("_txn/committed");
    fs::create_dir_all(&committed).unwrap();
    let mut other = call("finished", "q", t, 1_000, "answered");
    other.arrived_at = t;
    let scratch = tempfile::tempdir().unwrap();
    let scratch_store = Store::create_or_open(scratch.path()).unwrap();
    scratch_store.ensure_tenant(&tenant, TenantZone::utc()).unwrap();
    scratch_store.append(&tenant, &[other], &[]).unwrap();
    let staged = scratch_store.files_for(wfm_analytics::Dataset::Calls, &tenant, day).unwrap().remove(0);
    fs::copy(staged, committed.join("0.parquet")).unwrap();
    fs::write(
        committed.join("COMMIT"),
        r#"{"adds":[["0.parquet","calls/tenant=acme/date=2026-03-02/part-000009.parquet"]],"removes":[]}"#,
    )
    .unwrap();

    // Readers never look at _txn; the next writer recovers both.
    assert_eq!(store.read_calls(&tenant, day).unwrap().len(), 1);
    store.ensure_tenant(&tenant, TenantZone::utc()).unwrap();
    assert!(!root.join("_txn/crashed").exists() && !root.join("_txn/committed").exists());
    let mut ids: Vec<String> = store.read_calls(&tenant, day).unwrap().into_iter().map(|c| c.call_id).collect();
    ids.sort();
    assert_eq!(ids, vec!["finished", "kept"]);
}

#[test]
fn agent_statistics_split_periods_at_interval_edges() {
    let (_dir, store, tenant) = store_with("UTC");
    let agent = AgentId::parse("1001").unwrap();
    let period = |state, reason: Option<&str>, from: &str, to: &str| AgentStateEvent {
        agent_id: agent.clone(),
        state,
        reason: reason.map(str::to_owned),
        started_at: at(from),
        ended_at: at(to),
        queues: vec![QueueName::parse("q").unwrap()],
    };
    let states = [
        period(AgentState::Ready, None, "2026-03-02T09:05:00Z", "2026-03-02T09:20:00Z"),
        period(AgentState::OnCall, None, "2026-03-02T09:20:00Z", "2026-03-02T09:25:00Z"),
        period(AgentState::WrapUp, None, "2026-03-02T09:25:00Z", "2026-03-02T09:26:00Z"),
        period(AgentState::NotReady, Some("lunch"), "2026-03-02T09:26:00Z", "2026-03-02T09:56:00Z"),
    ];
    let mut c = call("c", "q", at("2026-03-02T09:19:55Z"), 5_000, "answered");
    c.agent_id = Some(agent.clone());
    store.append(&tenant, &[c], &states).unwrap();
    let rows = agent_stats(&store, &query(&tenant, "2026-03-02", "2026-03-03", "15m")).unwrap();
    assert_eq!(rows.len(), 96);
    let r = |hhmm: &str| rows.iter().find(|r| *r.interval_start == *format!("2026-03-02T{hhmm}:00+00:00")).unwrap();
    assert_eq!((r("09:00").ready_s, r("09:00").logged_in_s), (600.0, 600.0));
    assert_eq!(r("09:00").first_logged_in.as_deref(), Some("2026-03-02T09:05:00+00:00"));
    let q = r("09:15");
    assert_eq!((q.ready_s, q.on_call_s, q.wrap_up_s, q.not_ready_s), (300.0, 300.0, 60.0, 240.0));
    assert_eq!(q.not_ready_by_reason.get("lunch"), Some(&240.0));
    assert_eq!(q.calls_handled, 1);
    assert_eq!(q.occupancy, Some(360.0 / 660.0));
    assert_eq!(r("09:45").not_ready_s, 660.0);
    assert_eq!(r("09:45").last_logged_in.as_deref(), Some("2026-03-02T09:56:00+00:00"));
    assert_eq!(r("09:45").occupancy, None);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn outcomes_add_up_and_rates_stay_in_range(
        calls in proptest::collection::vec((0i64..86_400, 0i64..900_000, 0usize..4, 0usize..2), 1..80),
        threshold in 0.0f64..120.0,
    ) {
        let (_dir, store, tenant) = store_with("Europe/Warsaw");
        let outcomes = ["answered", "abandoned", "timeout", "key"];
        let day = at("2026-03-02T00:00:00+01:00");
        let records: Vec<CallRecord> = calls
            .iter()
            .enumerate()
            .map(|(i, (s, wait, o, q))| call(&format!("c{i}"), ["a", "b"][*q], day + Duration::seconds(*s), *wait, outcomes[*o]))
            .collect();
        store.append(&tenant, &records, &[]).unwrap();
        let mut q = query(&tenant, "2026-03-02", "2026-03-03", "60m");
        q.rule = ServiceLevelRule::from_seconds(threshold, 5.0).unwrap();
        let rows = call_stats(&store, &q).unwrap();
        prop_assert_eq!(rows.iter().map(|r| r.offered).sum::<u64>(), records.len() as u64);
        for r in &rows {
            prop_assert_eq!(r.answered + r.abandoned + r.overflowed, r.offered);
            for rate in [r.service_level, r.sl_with_abandons, r.sl_excluding_short_abandons, r.abandon_rate, r.lost_call_rate].into_iter().flatten() {
                prop_assert!((0.0..=1.0).contains(&rate), "{rate}");
            }
            prop_assert!(r.answered_within_threshold <= r.answered && r.short_abandoned <= r.abandoned);
        }
        // A whole period's figures are its intervals' counts and sums, divided once.
        let periods = period_stats(&store, &q).unwrap();
        for p in &periods {
            let of_queue: Vec<_> = rows.iter().filter(|r| r.queue == p.queue).collect();
            let sum = |f: fn(&&wfm_analytics::stats::QueueIntervalStats) -> u64| of_queue.iter().map(f).sum::<u64>();
            prop_assert_eq!((p.offered, p.answered, p.answered_within_threshold), (sum(|r| r.offered), sum(|r| r.answered), sum(|r| r.answered_within_threshold)));
            prop_assert_eq!(p.service_level, (p.offered > 0).then(|| p.answered_within_threshold as f64 / p.offered as f64));
            let waited: f64 = of_queue.iter().filter_map(|r| r.asa_s.map(|a| a * r.answered as f64)).sum();
            if let Some(asa) = p.asa_s {
                prop_assert!((asa - waited / p.answered as f64).abs() < 1e-6, "{} against {}", asa, waited / p.answered as f64);
            }
            prop_assert_eq!(&*p.interval_start, &*of_queue[0].interval_start);
            prop_assert_eq!(&*p.interval_end, &*of_queue.last().unwrap().interval_end);
        }
        prop_assert_eq!(periods.len(), rows.iter().map(|r| &r.queue).collect::<std::collections::BTreeSet<_>>().len());
    }
}
