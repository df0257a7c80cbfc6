//! Forecasting on a history with known seasonality, holidays and an event, written into a real
//! store: the forecast must recover what generated it.
//!
//! Truth: 500 calls on an average weekday scaled by a weekday factor (Mon 1.2 … Sun 0.3), spread
//! over 08:00–20:00 by a double-peaked profile, Poisson counts per quarter-hour (≈ 10 calls in
//! a busy slot), handle time 240 s. Sixteen weeks of history (with the October DST change), a
//! holiday at 0.35 and a campaign doubling three hours whose factor the calendar leaves empty.
//!
//! Bounds, from the noise rather than tuned to pass: the daily level of each weekday is
//! estimated from ~16 Poisson(≈500) days (≈1 % standard error) and each slot's share from 12
//! weeks (≈5 %), so against the truth we require a daily mean absolute error ≤ 3 %, an interval
//! WAPE ≤ 10 % and at most half the seasonal-naive forecast's interval WAPE (a single week's
//! Poisson counts, ≈ 25 % off the truth at 10 calls a slot).

use chrono::{Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use rand::SeedableRng;
use rand_distr::{Distribution, Poisson};
use rand_pcg::Pcg64Mcg;
use std::collections::HashMap;
use wfm_analytics::Store;
use wfm_forecasting::forecast::calendar::{CalendarEntry, EntryKind};
use wfm_forecasting::forecast::{forecast, ForecastError, ForecastRequest};
use wfm_model::{CallRecord, Channel, Direction, ExitReason, QueueName, TenantId, TenantZone};

const ZONE: &str = "Europe/Warsaw";
const HOLIDAY: (u32, u32) = (11, 11);
const CAMPAIGN: (u32, u32, u32, u32) = (10, 15, 10, 13);

fn weekday_factor(d: Weekday) -> f64 {
    [1.2, 1.1, 1.0, 1.0, 0.9, 0.5, 0.3][d.num_days_from_monday() as usize]
}

/// Expected calls in a quarter-hour slot of a day, before calendar effects.
fn truth(date: NaiveDate, slot: usize) -> f64 {
    let h = slot as f64 / 4.0;
    if !(8.0..20.0).contains(&h) {
        return 0.0;
    }
    let shape = |h: f64| 0.3 + (-(h - 11.0).powi(2) / 4.5).exp() + 0.7 * (-(h - 15.0).powi(2) / 4.5).exp();
    let total: f64 = (32..80).map(|s| shape(s as f64 / 4.0)).sum();
    500.0 * weekday_factor(date.weekday()) * shape(h) / total
}

fn calendar_factor(date: NaiveDate, slot: usize) -> f64 {
    if (date.month(), date.day()) == HOLIDAY || (date.month(), date.day()) == (12, 25) {
        return 0.35;
    }
    let (m, d, from, to) = CAMPAIGN;
    if (date.month(), date.day()) == (m, d) && (from * 4..to * 4).contains(&(slot as u32)) {
        return 2.0;
    }
    1.0
}

fn calendar() -> Vec<CalendarEntry> {
    let entry = |m, d, kind, name: &str, factor, from_hour, to_hour| CalendarEntry {
        date: NaiveDate::from_ymd_opt(if m >= 9 { 2025 } else { 2026 }, m, d).unwrap(),
        kind,
        name: name.into(),
        queue: None,
        volume_factor: factor,
        aht_factor: None,
        from_hour,
        to_hour,
    };
    vec![
        entry(HOLIDAY.0, HOLIDAY.1, EntryKind::Holiday, "Independence Day", Some(0.35), 0, 24),
        entry(CAMPAIGN.0, CAMPAIGN.1, EntryKind::Campaign, "autumn mailing", None, CAMPAIGN.2, CAMPAIGN.3),
        entry(12, 25, EntryKind::Holiday, "Christmas Day", Some(0.35), 0, 24),
    ]
}

const FIRST: (i32, u32, u32) = (2025, 9, 1);
const FROM: (i32, u32, u32) = (2025, 12, 22);

fn history_store(dir: &std::path::Path) -> Store {
    let store = Store::create_or_open(dir).unwrap();
    let tenant = TenantId::parse("acme").unwrap();
    let zone = TenantZone::parse(ZONE).unwrap();
    store.ensure_tenant(&tenant, zone).unwrap();
    let mut rng = Pcg64Mcg::seed_from_u64(42);
    let mut calls = Vec::new();
    let (first, until) = (NaiveDate::from_ymd_opt(FIRST.0, FIRST.1, FIRST.2).unwrap(), date(FROM));
    for day in first.iter_days().take_while(|d| *d < until) {
        for slot in 0..96 {
            let mean = truth(day, slot) * calendar_factor(day, slot);
            if mean <= 0.0 {
                continue;
            }
            let local = day.and_hms_opt(0, 0, 0).unwrap() + Duration::minutes(15 * slot as i64);
            let start = zone.tz().from_local_datetime(&local).earliest().unwrap().with_timezone(&Utc);
            for k in 0..Poisson::new(mean).unwrap().sample(&mut rng) as i64 {
                let queued = start + Duration::seconds(k % 890);
                calls.push(call(calls.len(), queued));
            }
        }
    }
    store.append(&tenant, &calls, &[]).unwrap();
    store
}

fn call(n: usize, queued: chrono::DateTime<Utc>) -> CallRecord {
    let answered = queued + Duration::seconds(5);
    CallRecord {
        call_id: format!("c{n}"),
        channel: Channel::Voice,
        direction: Direction::Inbound,
        caller_number: None,
        dialled_number: None,
        queue: Some(QueueName::parse("support").unwrap()),
        priority: 0,
        arrived_at: queued,
        queued_at: Some(queued),
        answered_at: Some(answered),
        ended_at: answered + Duration::seconds(200),
        wait_ms: Some(5_000),
        abandoned: false,
        exit_reason: ExitReason::Answered,
        agent_id: Some(wfm_model::AgentId::parse("1001").unwrap()),
        ring_ms: 0,
        talk_ms: 200_000,
        hold_ms: 0,
        wrap_ms: 40_000,
        transfer_target: None,
        disposition: None,
        ivr_path: None,
        sip_call_id: None,
        recording: None,
    }
}

fn date((y, m, d): (i32, u32, u32)) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn request(learn: bool) -> ForecastRequest {
    ForecastRequest {
        tenant: TenantId::parse("acme").unwrap(),
        from: date(FROM),
        horizon_days: 28,
        queue: None,
        slot_minutes: 15,
        calendar: calendar(),
        backtest_weeks: 4,
        learn,
    }
}

/// Forecast calls per (date, slot), local time.
fn by_slot(rows: &[wfm_forecasting::forecast::ForecastInterval]) -> HashMap<(NaiveDate, usize), (f64, f64)> {
    rows.iter()
        .map(|r| {
            let t = chrono::DateTime::parse_from_rfc3339(&r.interval_start).unwrap().naive_local();
            let slot = (t.time().signed_duration_since(chrono::NaiveTime::MIN).num_minutes() / 15) as usize;
            ((t.date(), slot), (r.calls, r.aht_s))
        })
        .collect()
}

#[test]
fn recovers_known_seasonality_holidays_and_events() {
    let dir = tempfile::tempdir().unwrap();
    let store = history_store(dir.path());
    let result = forecast(&store, &request(false)).unwrap();
    assert_eq!(result.rows.len(), 28 * 96);
    let fc = by_slot(&result.rows);
    let (mut daily_abs, mut slot_abs, mut truth_total, mut days) = (0.0, 0.0, 0.0, 0.0);
    for day in date(FROM).iter_days().take(28) {
        let (mut f_day, mut t_day) = (0.0, 0.0);
        for slot in 0..96 {
            let t = truth(day, slot) * calendar_factor(day, slot);
            let (f, aht) = fc[&(day, slot)];
            slot_abs += (f - t).abs();
            truth_total += t;
            f_day += f;
            t_day += t;
            if f > 0.5 {
                assert!((aht - 240.0).abs() < 240.0 * 0.03, "{day} slot {slot}: AHT {aht}");
            }
        }
        daily_abs += (f_day - t_day).abs() / t_day;
        days += 1.0;
        if (day.month(), day.day()) == (12, 25) {
            assert!((f_day / t_day - 1.0).abs() < 0.05, "Christmas: forecast {f_day:.0}, truth {t_day:.0}");
        }
    }
    let daily_mape = daily_abs / days;
    let interval_wape = slot_abs / truth_total;
    println!("daily MAPE vs truth {daily_mape:.4}, interval WAPE vs truth {interval_wape:.4}, model {}", result.queues[0].model);
    assert!(daily_mape <= 0.03, "daily mean absolute error {daily_mape}");
    assert!(interval_wape <= 0.10, "interval WAPE {interval_wape}");

    // The seasonal-naive forecast against the same truth.
    let history = wfm_forecasting::forecast::history::load(&store, &TenantId::parse("acme").unwrap(), None, date(FROM), 15).unwrap();
    let h = &history[0];
    let mut naive_abs = 0.0;
    for (k, day) in date(FROM).iter_days().take(28).enumerate() {
        let source = h.days() - 7 + k % 7;
        for slot in 0..96 {
            naive_abs += (h.calls.day(source)[slot] - truth(day, slot) * calendar_factor(day, slot)).abs();
        }
    }
    let naive_wape = naive_abs / truth_total;
    println!("seasonal naive interval WAPE vs truth {naive_wape:.4}");
    assert!(interval_wape <= naive_wape / 2.0, "wfm {interval_wape} vs naive {naive_wape}");

    let campaign = result.estimated.iter().find(|e| e.name == "autumn mailing").expect("estimated");
    assert!((campaign.volume_factor - 2.0).abs() < 0.3, "campaign factor {}", campaign.volume_factor);
    let chosen = result.accuracy.iter().find(|a| a.role == "chosen" && a.horizon == "all").unwrap();
    let baseline = result.accuracy.iter().find(|a| a.role == "baseline" && a.horizon == "all").unwrap();
    assert!(chosen.interval_wape.unwrap() < baseline.interval_wape.unwrap());
}

#[test]
fn learns_from_a_biased_earlier_run() {
    let dir = tempfile::tempdir().unwrap();
    let store = history_store(dir.path());
    // An earlier run for the last two weeks of history that forecast 20 % too many calls.
    let earlier = ForecastRequest { from: date(FROM) - Duration::days(14), horizon_days: 14, learn: false, ..request(false) };
    let mut csv = String::from("queue,interval_start,interval_end,calls,aht_s,calls_lo80,calls_hi80,model\n");
    for r in forecast(&store, &earlier).unwrap().rows {
        csv += &format!("{},{},{},{},{},0,0,{}\n", r.queue, r.interval_start, r.interval_end, r.calls * 1.2, r.aht_s, r.model);
    }
    let runs = dir.path().join("forecasts/acme/runs");
    std::fs::create_dir_all(&runs).unwrap();
    std::fs::write(runs.join("2025-12-08_1_15m.csv"), csv).unwrap();

    let result = forecast(&store, &request(true)).unwrap();
    let correction = &result.learned[0];
    assert!((correction.bias - 0.2).abs() < 0.05, "{correction:?}");
    let trust = correction.actual_calls / (correction.actual_calls + 2000.0);
    assert!((correction.factor - 1.0 / (1.0 + trust * correction.bias)).abs() < 1e-12, "{correction:?}");
    assert_eq!(result.queues[0].learned_factor, correction.factor);
    assert!(dir.path().join("forecasts/acme/accuracy.csv").exists());
    let saved = std::fs::read_dir(&runs).unwrap().count();
    assert_eq!(saved, 2, "this run is kept for the next one");
    // Stopped learning: no correction, nothing saved.
    let stopped = forecast(&store, &request(false)).unwrap();
    assert_eq!(stopped.queues[0].learned_factor, 1.0);
    assert_eq!(std::fs::read_dir(&runs).unwrap().count(), 2);
}

#[test]
fn days_without_data_before_the_start_are_bridged() {
    let dir = tempfile::tempdir().unwrap();
    let store = history_store(dir.path());
    let later = ForecastRequest { from: date(FROM) + Duration::days(2), horizon_days: 7, ..request(false) };
    let result = forecast(&store, &later).unwrap();
    assert_eq!(result.history_end, date(FROM));
    assert_eq!(result.rows.len(), 7 * 96);
    assert!(result.rows[0].interval_start.starts_with("2025-12-24T00:00:00"), "{}", result.rows[0].interval_start);
    let from_start = by_slot(&forecast(&store, &ForecastRequest { horizon_days: 9, ..request(false) }).unwrap().rows);
    let bridged = by_slot(&result.rows);
    // Wednesday 24 December at 11:00 is forecast alike whether or not two days were bridged.
    let key = (date(FROM) + Duration::days(2), 44);
    assert!((bridged[&key].0 - from_start[&key].0).abs() < 1e-9, "{:?} vs {:?}", bridged[&key], from_start[&key]);
}

#[test]
fn refuses_empty_history_and_bad_horizons() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create_or_open(dir.path()).unwrap();
    store.ensure_tenant(&TenantId::parse("acme").unwrap(), TenantZone::parse(ZONE).unwrap()).unwrap();
    let e = forecast(&store, &request(false)).err().unwrap();
    assert!(matches!(e, ForecastError::NoHistory { .. }), "{e}");
    assert_eq!(e.to_string(), "tenant acme has no calls in the store before 2025-12-22: nothing to forecast from");
    let e = forecast(&store, &ForecastRequest { horizon_days: 0, ..request(false) }).err().unwrap();
    assert!(e.to_string().starts_with("`horizon`"), "{e}");
}
