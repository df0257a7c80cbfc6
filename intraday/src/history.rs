//! Adherence over a range of local dates, from the store: one row per agent and date, the
//! counted exceptions, and roll-ups per team or tenant and per week or month.
//!
//! A date is judged with the state periods that started on it, the day before (a period running
//! over midnight) and the day after (a night shift's morning), read one date at a time so memory
//! stays proportional to three days of one tenant.

use crate::adherence::{evaluate, state_name, DayFigures, Ms, Period};
use crate::plans::Plans;
use crate::rules::AdherenceRules;
use chrono::{Datelike, Duration, NaiveDate};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use wfm_analytics::{Store, StoreError};
use wfm_model::{AgentId, AgentState, AgentStateEvent, LocalDateRange, TenantId, TenantZone};
use wfm_scheduler::roster::{ActivityKind, Roster};

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A span a supervisor excused for an agent.
#[derive(Debug, Clone, PartialEq)]
pub struct Excusal {
    pub agent_id: AgentId,
    pub start_ms: Ms,
    pub end_ms: Ms,
}

pub struct HistoryQuery<'a> {
    pub tenant: &'a TenantId,
    pub range: LocalDateRange,
    pub roster: &'a Roster,
    pub rules: &'a AdherenceRules,
    pub excused: &'a [Excusal],
}

/// The figures of one agent on one local date.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdherenceRow {
    pub agent_id: AgentId,
    pub date: NaiveDate,
    #[serde(flatten)]
    pub figures: DayFigures,
}

/// One counted out-of-adherence piece, with local times.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExceptionRow {
    pub agent_id: AgentId,
    pub date: NaiveDate,
    pub start: String,
    pub end: String,
    pub duration_s: i64,
    /// A roster activity, or `outside_shift`.
    pub scheduled_activity: &'static str,
    /// A state as the rules write it (`not_ready:lunch`).
    pub actual_state: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    pub rows: Vec<AdherenceRow>,
    pub exceptions: Vec<ExceptionRow>,
}

/// Adherence of every agent with a roster row or logged-in time on each date of the range.
pub fn adherence_report(store: &Store, query: &HistoryQuery) -> Result<Report, HistoryError> {
    let zone = store.tenant_zone(query.tenant)?;
    let plans = Plans::new(query.roster);
    let mut excused: HashMap<&AgentId, Vec<(Ms, Ms)>> = HashMap::new();
    for e in query.excused {
        excused.entry(&e.agent_id).or_default().push((e.start_ms, e.end_ms));
    }
    let mut loaded: BTreeMap<NaiveDate, Vec<AgentStateEvent>> = BTreeMap::new();
    let mut report = Report::default();
    for date in query.range.days() {
        let (before, after) = (date - Duration::days(1), date + Duration::days(1));
        loaded.retain(|d, _| *d >= before);
        for d in [before, date, after] {
            if let std::collections::btree_map::Entry::Vacant(slot) = loaded.entry(d) {
                let day = LocalDateRange::new(d, d + Duration::days(1)).expect("one day is a range");
                slot.insert(store.read_states(query.tenant, day)?);
            }
        }
        let mut periods: HashMap<&AgentId, Vec<Period>> = HashMap::new();
        for s in loaded.values().flatten() {
            periods.entry(&s.agent_id).or_default().push(Period {
                start_ms: s.started_at.timestamp_millis(),
                end_ms: s.ended_at.timestamp_millis(),
                state: s.state,
                reason: s.reason.as_deref(),
            });
        }
        for list in periods.values_mut() {
            list.sort_by_key(|p| (p.start_ms, p.end_ms));
        }
        let day = (zone.day_start(date).timestamp_millis(), zone.day_start(after).timestamp_millis());
        // Who is judged: everyone the roster plans on D, and everyone logged in during D.
        let mut agents: BTreeSet<&AgentId> = plans.planned_on(date).collect();
        agents.extend(periods.iter().filter(|(_, list)| list.iter().any(|p| p.state != AgentState::LoggedOut && p.start_ms < day.1 && p.end_ms > day.0)).map(|(a, _)| *a));

        for agent in agents {
            let other_shifts = plans.neighbours(agent, date);
            let agent_day = plans.agent_day(
                agent,
                date,
                day,
                &other_shifts,
                periods.get(agent).map_or(&[][..], Vec::as_slice),
                excused.get(agent).map_or(&[][..], Vec::as_slice),
            );
            let (figures, exceptions) = evaluate(query.rules, &agent_day);
            report.exceptions.extend(exceptions.iter().map(|e| ExceptionRow {
                agent_id: agent.clone(),
                date,
                start: format_ms(zone, e.start_ms),
                end: format_ms(zone, e.end_ms),
                duration_s: (e.end_ms - e.start_ms) / 1000,
                scheduled_activity: e.scheduled.map_or("outside_shift", ActivityKind::as_str),
                actual_state: state_name(e.state, e.reason),
            }));
            report.rows.push(AdherenceRow { agent_id: agent.clone(), date, figures });
        }
    }
    Ok(report)
}

fn format_ms(zone: TenantZone, ms: Ms) -> String {
    zone.format_local(chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Agent,
    Team,
    Tenant,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Per {
    Day,
    /// ISO weeks, from Monday.
    Week,
    Month,
}

impl Per {
    fn start(self, date: NaiveDate) -> NaiveDate {
        match self {
            Per::Day => date,
            Per::Week => date - Duration::days(date.weekday().num_days_from_monday().into()),
            Per::Month => date.with_day(1).expect("every month has a first day"),
        }
    }
}

/// Sums of agent-days, with the ratios recomputed from the sums (not averaged).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RollupRow {
    /// The agent id, the team (`unassigned` for an agent the agents file does not name) or the tenant.
    pub group: String,
    /// The first date of the day, week or month.
    pub period: NaiveDate,
    pub agent_days: u32,
    pub scheduled_s: i64,
    pub exception_s: i64,
    pub outside_exception_s: i64,
    pub excused_s: i64,
    pub adherence: Option<f64>,
    pub conformance: Option<f64>,
    pub work_state_s: i64,
    pub scheduled_work_s: i64,
    pub absent_days: u32,
    pub late_days: u32,
    pub late_s: i64,
    pub early_leave_days: u32,
    pub early_leave_s: i64,
    pub overtime_s: i64,
    pub leave_days: u32,
}

/// Rows summed per group and period; `teams` maps agents to their team (for [`GroupBy::Team`]).
pub fn roll_up(rows: &[AdherenceRow], by: GroupBy, per: Per, tenant: &TenantId, teams: &HashMap<AgentId, String>) -> Vec<RollupRow> {
    let mut groups: BTreeMap<(String, NaiveDate), RollupRow> = BTreeMap::new();
    for row in rows {
        let group = match by {
            GroupBy::Agent => row.agent_id.to_string(),
            GroupBy::Team => teams.get(&row.agent_id).cloned().unwrap_or_else(|| "unassigned".to_owned()),
            GroupBy::Tenant => tenant.to_string(),
        };
        let period = per.start(row.date);
        let sum = groups.entry((group.clone(), period)).or_insert_with(|| RollupRow { group, period, ..RollupRow::default() });
        let f = &row.figures;
        sum.agent_days += 1;
        sum.scheduled_s += f.scheduled_s;
        sum.exception_s += f.exception_s;
        sum.outside_exception_s += f.outside_exception_s;
        sum.excused_s += f.excused_s;
        sum.work_state_s += f.work_state_s;
        sum.scheduled_work_s += f.scheduled_work_s;
        sum.absent_days += u32::from(f.absent);
        sum.late_days += u32::from(f.late_s > 0);
        sum.late_s += f.late_s;
        sum.early_leave_days += u32::from(f.early_leave_s > 0);
        sum.early_leave_s += f.early_leave_s;
        sum.overtime_s += f.overtime_s;
        sum.leave_days += u32::from(f.on_leave);
    }
    let mut out: Vec<RollupRow> = groups.into_values().collect();
    for r in &mut out {
        let base = r.scheduled_s + r.outside_exception_s;
        r.adherence = (base > 0).then(|| (1.0 - r.exception_s as f64 / base as f64).max(0.0));
        r.conformance = (r.scheduled_work_s > 0).then(|| r.work_state_s as f64 / r.scheduled_work_s as f64);
    }
    out
}

/// A ratio as the CSV files write it (as `wfm stats` does): empty when undefined.
fn ratio(value: Option<f64>) -> String {
    value.map_or(String::new(), |v| v.to_string())
}

impl AdherenceRow {
    pub const CSV_HEADER: [&'static str; 15] = [
        "agent_id",
        "date",
        "scheduled_s",
        "exception_s",
        "outside_exception_s",
        "excused_s",
        "adherence",
        "conformance",
        "work_state_s",
        "scheduled_work_s",
        "absent",
        "late_s",
        "early_leave_s",
        "overtime_s",
        "on_leave",
    ];

    /// The CSV cells, in the order of [`Self::CSV_HEADER`] (the JSON form flattens the figures,
    /// which the csv crate cannot).
    pub fn csv_record(&self) -> Vec<String> {
        let f = &self.figures;
        vec![
            self.agent_id.to_string(),
            self.date.to_string(),
            f.scheduled_s.to_string(),
            f.exception_s.to_string(),
            f.outside_exception_s.to_string(),
            f.excused_s.to_string(),
            ratio(f.adherence),
            ratio(f.conformance),
            f.work_state_s.to_string(),
            f.scheduled_work_s.to_string(),
            f.absent.to_string(),
            f.late_s.to_string(),
            f.early_leave_s.to_string(),
            f.overtime_s.to_string(),
            f.on_leave.to_string(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    const ROSTER: &str = "agent_id,date,activity,start,end
1001,2026-03-28,work,2026-03-28T22:00:00+01:00,2026-03-29T03:00:00+02:00
1001,2026-03-29,day-off,2026-03-29T00:00:00+01:00,2026-03-30T00:00:00+02:00
1002,2026-03-29,work,2026-03-29T09:00:00+02:00,2026-03-29T12:00:00+02:00
1002,2026-03-29,break,2026-03-29T12:00:00+02:00,2026-03-29T12:15:00+02:00
1002,2026-03-29,work,2026-03-29T12:15:00+02:00,2026-03-29T17:00:00+02:00
1003,2026-03-29,leave,2026-03-29T00:00:00+01:00,2026-03-30T00:00:00+02:00
";

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn state(agent: &str, state: AgentState, reason: Option<&str>, from: &str, to: &str) -> AgentStateEvent {
        AgentStateEvent {
            agent_id: AgentId::parse(agent).unwrap(),
            state,
            reason: reason.map(str::to_owned),
            started_at: at(from),
            ended_at: at(to),
            queues: Vec::new(),
        }
    }

    /// Warsaw, 2026-03-29 is the spring DST day (02:00 → 03:00): a night shift 22:00–03:00
    /// that night is 4 hours of real time.
    #[test]
    fn a_month_from_the_store_with_a_night_shift_over_dst_and_the_roll_ups() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create_or_open(dir.path()).unwrap();
        let tenant = TenantId::parse("acme").unwrap();
        store.ensure_tenant(&tenant, TenantZone::parse("Europe/Warsaw").unwrap()).unwrap();
        let states = [
            // The night shift, 5 minutes late, then to its end: its second part is in D+1's partition.
            state("1001", AgentState::Ready, None, "2026-03-28T22:05:00+01:00", "2026-03-29T00:30:00+01:00"),
            state("1001", AgentState::OnCall, None, "2026-03-29T00:30:00+01:00", "2026-03-29T03:00:00+02:00"),
            // 1002: on time, the break on time, left 30 minutes early.
            state("1002", AgentState::Ready, None, "2026-03-29T09:00:00+02:00", "2026-03-29T12:00:00+02:00"),
            state("1002", AgentState::NotReady, Some("break"), "2026-03-29T12:00:00+02:00", "2026-03-29T12:15:00+02:00"),
            state("1002", AgentState::Ready, None, "2026-03-29T12:15:00+02:00", "2026-03-29T16:30:00+02:00"),
            // 9000 is in no roster and worked an hour.
            state("9000", AgentState::Ready, None, "2026-03-29T10:00:00+02:00", "2026-03-29T11:00:00+02:00"),
        ];
        store.append(&tenant, &[], &states).unwrap();
        let roster = Roster::read_csv("roster.csv", ROSTER.as_bytes()).unwrap();
        let rules = AdherenceRules::default();
        let query = HistoryQuery {
            tenant: &tenant,
            range: LocalDateRange::parse("2026-03-28", "2026-03-30").unwrap(),
            roster: &roster,
            rules: &rules,
            excused: &[],
        };
        let report = adherence_report(&store, &query).unwrap();
        let row = |agent: &str, date: &str| {
            report.rows.iter().find(|r| r.agent_id.as_str() == agent && r.date.to_string() == date).unwrap_or_else(|| panic!("{agent} {date}"))
        };
        let night = &row("1001", "2026-03-28").figures;
        assert_eq!((night.scheduled_s, night.exception_s, night.late_s, night.overtime_s), (4 * 3600, 300, 300, 0));
        let off = &row("1001", "2026-03-29").figures;
        assert_eq!((off.scheduled_s, off.exception_s, off.adherence), (0, 0, None), "the night's morning belongs to the 28th");
        let day = &row("1002", "2026-03-29").figures;
        assert_eq!((day.scheduled_s, day.exception_s, day.early_leave_s, day.absent), (8 * 3600, 1800, 1800, false));
        assert_eq!(day.conformance, Some((7 * 3600 + 15 * 60) as f64 / ((7 * 3600 + 45 * 60) as f64)));
        assert!(row("1003", "2026-03-29").figures.on_leave);
        let stranger = &row("9000", "2026-03-29").figures;
        assert_eq!((stranger.exception_s, stranger.overtime_s, stranger.adherence), (3600, 3600, Some(0.0)));
        assert_eq!(report.rows.len(), 5, "{:?}", report.rows);
        let first = &report.exceptions[0];
        assert_eq!((first.agent_id.as_str(), first.start.as_str(), first.end.as_str()), ("1001", "2026-03-28T22:00:00+01:00", "2026-03-28T22:05:00+01:00"));
        assert_eq!((first.scheduled_activity, first.actual_state.as_str()), ("work", "logged_out"));

        let teams = HashMap::from([(AgentId::parse("1001").unwrap(), "nights".to_owned()), (AgentId::parse("1002").unwrap(), "days".to_owned())]);
        let by_team = roll_up(&report.rows, GroupBy::Team, Per::Month, &tenant, &teams);
        assert_eq!(by_team.iter().map(|r| (r.group.as_str(), r.agent_days)).collect::<Vec<_>>(), [("days", 1), ("nights", 2), ("unassigned", 2)]);
        let whole = roll_up(&report.rows, GroupBy::Tenant, Per::Week, &tenant, &teams);
        assert_eq!(whole.len(), 1, "the 28th is a Saturday, the 29th a Sunday: one ISO week");
        assert_eq!((whole[0].period.to_string().as_str(), whole[0].agent_days, whole[0].exception_s), ("2026-03-23", 5, 300 + 1800 + 3600));
        assert_eq!((whole[0].absent_days, whole[0].late_days, whole[0].early_leave_days, whole[0].leave_days), (0, 1, 1, 1));
    }
}
