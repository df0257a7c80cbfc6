//! The arrival model: how many calls each queue gets in each minute.

use crate::config::TenantPlan;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use rand::RngExt;
use rand_distr::{Distribution, Gamma, Poisson};
use rand_pcg::Pcg64Mcg;

/// Something that moved a day's volume, as a planner would record it in a calendar.
#[derive(Debug, Clone, PartialEq)]
pub struct CalendarEntry {
    pub date: NaiveDate,
    pub kind: &'static str,
    pub name: String,
    /// Multiplier on the volume that the day (or the surge hours) would have had.
    pub volume_factor: f64,
    /// Local hours the entry applies to; the whole day for holidays.
    pub from_hour: u32,
    pub to_hour: u32,
}

/// One day's level and events.
#[derive(Debug, Clone)]
pub struct DayPlan {
    pub date: NaiveDate,
    /// Expected calls this day, all queues together, before surges.
    pub expected_calls: f64,
    pub surge: Option<CalendarEntry>,
    pub holiday: Option<CalendarEntry>,
}

/// A call entering its queue.
#[derive(Debug, Clone, Copy)]
pub struct Arrival {
    pub at_ms: i64,
    pub queue: usize,
    pub priority: i32,
}

/// Fixed-date public holidays (month, day) with their names, the same every year.
const HOLIDAYS: &[(u32, u32, &str)] = &[
    (1, 1, "New Year"),
    (5, 1, "Labour Day"),
    (10, 10, "National Day"),
    (11, 11, "Independence Day"),
    (12, 25, "Christmas Day"),
    (12, 26, "Boxing Day"),
];
const HOLIDAY_FACTOR: f64 = 0.35;
const DAY_NOISE_SHAPE: f64 = 60.0;
const TREND_PER_YEAR: f64 = 0.06;
const SURGE_PROBABILITY: f64 = 0.03;

fn weekday_factor(day: Weekday) -> f64 {
    match day {
        Weekday::Mon => 1.18,
        Weekday::Tue => 1.06,
        Weekday::Wed => 1.0,
        Weekday::Thu => 0.98,
        Weekday::Fri => 0.93,
        Weekday::Sat => 0.52,
        Weekday::Sun => 0.38,
    }
}

/// Peaks in January and September (bills after holidays, back to school), trough in summer.
fn annual_factor(date: NaiveDate) -> f64 {
    let x = std::f64::consts::TAU * (date.ordinal0() as f64) / 365.25;
    1.0 + 0.08 * x.cos() + 0.04 * (2.0 * x).cos()
}

pub fn day_plans(plan: &TenantPlan, start: NaiveDate, days: u32, rng: &mut Pcg64Mcg) -> Vec<DayPlan> {
    let noise = Gamma::new(DAY_NOISE_SHAPE, 1.0 / DAY_NOISE_SHAPE).expect("valid gamma");
    (0..days)
        .map(|i| {
            let date = start + Duration::days(i as i64);
            let years = (date - NaiveDate::from_ymd_opt(2026, 1, 1).expect("valid")).num_days() as f64 / 365.25;
            let holiday = HOLIDAYS.iter().find(|(m, d, _)| date.month() == *m && date.day() == *d).map(|(_, _, name)| {
                CalendarEntry {
                    date,
                    kind: "holiday",
                    name: (*name).to_owned(),
                    volume_factor: HOLIDAY_FACTOR,
                    from_hour: 0,
                    to_hour: 24,
                }
            });
            let level = plan.weekday_calls
                * weekday_factor(date.weekday())
                * annual_factor(date)
                * (1.0 + TREND_PER_YEAR * years)
                * holiday.as_ref().map_or(1.0, |h| h.volume_factor)
                * noise.sample(rng);
            let surge = rng.random_bool(SURGE_PROBABILITY).then(|| {
                let campaign = rng.random_bool(0.5);
                let from_hour = rng.random_range(plan.open_hour + 1..plan.close_hour - 3);
                CalendarEntry {
                    date,
                    kind: if campaign { "campaign" } else { "outage" },
                    name: if campaign { "marketing campaign".into() } else { "service outage".into() },
                    volume_factor: rng.random_range(1.6..3.0),
                    from_hour,
                    to_hour: from_hour + rng.random_range(2..5),
                }
            });
            DayPlan { date, expected_calls: level, surge, holiday }
        })
        .collect()
}

/// Relative arrival rate at a local minute: a morning and an early-afternoon peak on a floor.
pub(crate) fn intraday_weight(minute: u32, weekend: bool) -> f64 {
    let h = minute as f64 / 60.0;
    let bump = |centre: f64, width: f64| (-(h - centre).powi(2) / (2.0 * width * width)).exp();
    if weekend { 0.25 + bump(12.0, 2.5) } else { 0.2 + bump(10.5, 1.6) + 0.8 * bump(14.5, 1.8) }
}

/// Every arrival of one day, in time order.
pub fn arrivals_for_day(plan: &TenantPlan, day: &DayPlan, rng: &mut Pcg64Mcg) -> Vec<Arrival> {
    let weekend = matches!(day.date.weekday(), Weekday::Sat | Weekday::Sun);
    let (open, close) = (plan.open_hour * 60, plan.close_hour * 60);
    let total_weight: f64 = (open..close).map(|m| intraday_weight(m, weekend)).sum();
    let mut out = Vec::with_capacity(day.expected_calls as usize + 16);
    for minute in open..close {
        let Some(start) = local_minute(plan, day.date, minute) else { continue };
        let surge = day.surge.as_ref().filter(|s| (s.from_hour * 60..s.to_hour * 60).contains(&minute)).map_or(1.0, |s| s.volume_factor);
        let rate = day.expected_calls * intraday_weight(minute, weekend) / total_weight * surge;
        for (queue, q) in plan.queues.iter().enumerate() {
            let mean = rate * q.share;
            if mean <= 0.0 {
                continue;
            }
            let count = Poisson::new(mean).expect("positive mean").sample(rng) as u64;
            for _ in 0..count {
                out.push(Arrival {
                    at_ms: start + rng.random_range(0..60_000),
                    queue,
                    priority: i32::from(rng.random_bool(0.05)),
                });
            }
        }
    }
    out.sort_by_key(|a| (a.at_ms, a.queue));
    out
}

/// The UTC instant of a local minute, or `None` inside a DST gap.
pub fn local_minute(plan: &TenantPlan, date: NaiveDate, minute: u32) -> Option<i64> {
    let time = NaiveTime::from_num_seconds_from_midnight_opt(minute * 60, 0)?;
    let local = plan.zone.tz().from_local_datetime(&date.and_time(time)).earliest()?;
    Some(local.with_timezone(&Utc).timestamp_millis())
}

pub fn instant(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).expect("simulated times are in range")
}
