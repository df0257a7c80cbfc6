//! A period planned from the tenant's history in one go: forecast, staffing, roster — the steps
//! of `wfm forecast`, `wfm staff` and `wfm schedule` with their defaults (15-minute intervals,
//! Erlang C at the service-level goal, no calendar), the files between them kept as the CLI
//! writes them, so a planner can read what each step handed the next.

use crate::report::{PlanningError, Requirement};
use crate::schedule::{schedule, Inputs, Scheduled, DEFAULT_CHANGE_PENALTY};
use chrono::{Duration, NaiveDate};
use wfm_analytics::Store;
use wfm_forecasting::forecast::{forecast, ForecastRequest, QueueSummary, DEFAULT_BACKTEST_WEEKS};
use wfm_forecasting::requirements::{read_forecast, staff, GoalOverrides, Goals};
use wfm_model::TenantId;
use wfm_scheduler::agents::Agent;
use wfm_scheduler::assign::Progress;
use wfm_scheduler::demand::Column;
use wfm_scheduler::roster::Roster;
use wfm_scheduler::rules::Rules;

/// The interval of the forecast and the requirement, minutes.
pub const SLOT_MIN: u32 = 15;

/// What to plan.
pub struct Period {
    pub tenant: TenantId,
    /// The first day (a Monday keeps weekly rules on whole weeks).
    pub from: NaiveDate,
    /// 1 to 6.
    pub weeks: u32,
    /// Share of calls answered within `threshold_s` (0–1).
    pub sl_target: f64,
    pub threshold_s: f64,
    pub time_limit: std::time::Duration,
}

impl Period {
    /// `PlanningError::Invalid` naming the field out of range; callers check before they start.
    pub fn check(&self) -> Result<(), PlanningError> {
        let invalid = |field, message| Err(PlanningError::Invalid { field, message });
        if !(1..=6).contains(&self.weeks) {
            return invalid("weeks", format!("{} is not between 1 and 6", self.weeks));
        }
        if !(self.sl_target > 0.0 && self.sl_target < 1.0) {
            return invalid("sl_target", format!("{} % is not a share between 0 and 100 %", self.sl_target * 100.0));
        }
        if !(self.threshold_s.is_finite() && self.threshold_s >= 0.0) {
            return invalid("threshold_s", format!("{} is not a number of seconds ≥ 0", self.threshold_s));
        }
        Ok(())
    }
}

/// Where the plan is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Step {
    Forecast,
    Staff,
    /// A pass of the roster's local search.
    Schedule { pass: u32, short: f64, excess: f64 },
}

pub struct Planned {
    /// Per queue: history, the model chosen, its backtest error, the calls forecast.
    pub queues: Vec<QueueSummary>,
    /// `wfm forecast`'s and `wfm staff`'s files.
    pub forecast_csv: String,
    pub requirements_csv: String,
    pub scheduled: Scheduled,
    pub roster_csv: String,
}

fn csv_of<T: serde::Serialize>(rows: &[T]) -> Result<String, PlanningError> {
    let mut out = csv::Writer::from_writer(Vec::new());
    for row in rows {
        out.serialize(row).map_err(|e| PlanningError::Write(e.to_string()))?;
    }
    let bytes = out.into_inner().map_err(|e| PlanningError::Write(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| PlanningError::Write(e.to_string()))
}

/// Plans `period` for `agents` under `rules`; with a published `baseline`, as few of its
/// assignments change as the new requirement allows. `progress` hears each step.
pub fn plan(store: &Store, period: &Period, agents: &[Agent], rules: &Rules, baseline: Option<&Roster>, progress: &mut dyn FnMut(Step)) -> Result<Planned, PlanningError> {
    period.check()?;
    progress(Step::Forecast);
    let days = 7 * period.weeks;
    let request = ForecastRequest {
        tenant: period.tenant.clone(),
        from: period.from,
        horizon_days: days,
        queue: None,
        slot_minutes: SLOT_MIN,
        calendar: Vec::new(),
        backtest_weeks: DEFAULT_BACKTEST_WEEKS,
        learn: true,
    };
    let forecast = forecast(store, &request)?;
    if forecast.rows.is_empty() {
        return Err(PlanningError::NoHistory { tenant: period.tenant.to_string(), skipped: forecast.skipped.join("; ") });
    }
    let forecast_csv = csv_of(&forecast.rows)?;

    progress(Step::Staff);
    let rows = read_forecast("forecast.csv", forecast_csv.as_bytes(), f64::from(SLOT_MIN) * 60.0)?;
    let goal = GoalOverrides { sl_target: Some(period.sl_target), threshold_s: Some(period.threshold_s), ..GoalOverrides::default() };
    let staffed = staff("forecast.csv", &rows, &mut Goals::new(goal, None)?, 0)?;
    let requirements_csv = csv_of(&staffed.rows)?;

    let until = period.from + Duration::days(i64::from(days));
    let requirement = Requirement::parse("requirements.csv", requirements_csv.clone(), Column::Agents, period.from, until)?;
    let inputs = Inputs { requirement: &requirement, agents, rules, requests: &[], baseline: baseline.map(|b| (b, DEFAULT_CHANGE_PENALTY)), time_limit: period.time_limit, seed: 1, threshold_s: period.threshold_s, objective: None };
    let scheduled = schedule(&inputs, &mut |p: Progress| progress(Step::Schedule { pass: p.pass, short: p.short, excess: p.excess }))?;
    let mut roster_csv = Vec::new();
    scheduled.roster.write_csv(&mut roster_csv).map_err(|e| PlanningError::Write(e.to_string()))?;
    let roster_csv = String::from_utf8(roster_csv).map_err(|e| PlanningError::Write(e.to_string()))?;
    Ok(Planned { queues: forecast.queues, forecast_csv, requirements_csv, scheduled, roster_csv })
}

/// Days before a planned period whose requirement a merge keeps (requests are for coming days;
/// an older requirement would only grow the file).
const KEPT_DAYS_BEFORE: i64 = 28;

/// A requirements file with `new`'s rows for the days `from..until` and `old`'s for the other
/// days (from four weeks before `from`), so that planning a period keeps the requirement of the
/// others: requests of those days are still checked against it. Rows keep their order, old
/// ones first. `old` written with other columns is replaced whole.
pub fn merge_requirements(old: &str, new: &str, from: NaiveDate, until: NaiveDate) -> String {
    let (old_header, new_header) = (old.lines().next().unwrap_or_default(), new.lines().next().unwrap_or_default());
    let Some(column) = old_header.split(',').position(|c| c == "interval_start").filter(|_| old_header == new_header) else {
        return new.to_owned();
    };
    let kept_from = from - Duration::days(KEPT_DAYS_BEFORE);
    // Interval starts are local times with their offset: the date is their first ten bytes.
    let date_of = |line: &str| line.split(',').nth(column).and_then(|s| s.get(..10)).and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    let kept = old.lines().skip(1).filter(|l| date_of(l).is_some_and(|d| d >= kept_from && !(from..until).contains(&d)));
    let mut out = String::with_capacity(old.len() + new.len());
    for line in std::iter::once(new_header).chain(kept).chain(new.lines().skip(1).filter(|l| !l.is_empty())) {
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_merged_requirement_keeps_the_other_days_and_replaces_the_period() {
        let old = "queue,interval_start,agents\nsupport,2026-03-01T10:00:00+01:00,3\nsupport,2026-03-02T10:00:00+01:00,4\nsupport,2026-03-09T10:00:00+01:00,5\n";
        let new = "queue,interval_start,agents\nsupport,2026-03-02T10:00:00+01:00,7\n";
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
        let merged = merge_requirements(old, new, day(2), day(9));
        assert_eq!(merged, "queue,interval_start,agents\nsupport,2026-03-01T10:00:00+01:00,3\nsupport,2026-03-09T10:00:00+01:00,5\nsupport,2026-03-02T10:00:00+01:00,7\n");
        assert_eq!(merge_requirements("queue,interval_start,agents_other\nx,y,1\n", new, day(2), day(9)), new, "other columns: replaced whole");
        assert_eq!(merge_requirements("", new, day(2), day(9)), new);
        // Rows keep their order; days long before the period are dropped.
        let old = "queue,interval_start,agents\nbilling,2026-01-01T10:00:00+01:00,9\nbilling,2026-03-01T10:00:00+01:00,1\nsupport,2026-03-01T10:00:00+01:00,2\nbilling,2026-03-01T10:15:00+01:00,3\n";
        let kept = "queue,interval_start,agents\nbilling,2026-03-01T10:00:00+01:00,1\nsupport,2026-03-01T10:00:00+01:00,2\nbilling,2026-03-01T10:15:00+01:00,3\n";
        assert_eq!(merge_requirements(old, new, day(2), day(9)), format!("{kept}support,2026-03-02T10:00:00+01:00,7\n"));
    }
}
