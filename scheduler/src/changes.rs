//! Changes to a published roster that agents ask for: a shift swap between two agents, a day
//! of leave, and who could fill the gap it leaves. Every verdict comes from the independent
//! checker on the changed roster, so a change is accepted only if it breaks no hard rule that
//! the roster did not already break.

use crate::agents::Agent;
use crate::check::{check, Violation};
use crate::demand::Demand;
use crate::roster::{Activity, ActivityKind, Roster};
use crate::activities::shift_plan;
use crate::design::Shape;
use crate::rules::{ClockTime, Rules, ShiftWindow};
use chrono::{Datelike, FixedOffset, NaiveDate};
use serde::Serialize;
use std::collections::HashSet;
use wfm_model::{AgentId, QueueName};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ChangeError {
    #[error("agent {0} is not in the agents file")]
    UnknownAgent(String),
    #[error("agent {agent} has no shift on {date} in the roster")]
    NoShift { agent: String, date: NaiveDate },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub valid: bool,
    /// Why not: the hard-rule violations the change would add, and skills it would leave uncovered.
    pub problems: Vec<String>,
}

fn agent<'a>(agents: &'a [Agent], id: &AgentId) -> Result<&'a Agent, ChangeError> {
    agents.iter().find(|a| &a.id == id).ok_or_else(|| ChangeError::UnknownAgent(id.to_string()))
}

/// Violations of `after` concerning `involved` that `before` did not have.
fn added_violations(before: &Roster, after: &Roster, agents: &[Agent], rules: &Rules, involved: &[&AgentId]) -> Vec<Violation> {
    let concerns = |v: &Violation| involved.iter().any(|a| a.as_str() == v.agent);
    let old: HashSet<(String, &'static str, NaiveDate)> = check(before, agents, rules).into_iter().filter(|v| concerns(v)).map(|v| (v.agent, v.rule, v.date)).collect();
    check(after, agents, rules).into_iter().filter(|v| concerns(v) && !old.contains(&(v.agent.clone(), v.rule, v.date))).collect()
}

fn on_date(a: &Activity, id: &AgentId, date: NaiveDate) -> bool {
    &a.agent_id == id && a.date == date
}

/// `a` and `b` exchange everything they have on `date` (shift or day off). Valid when neither
/// breaks a new hard rule and each has every skill the other's shift was planned with.
pub fn check_swap(roster: &Roster, agents: &[Agent], rules: &Rules, a: &AgentId, b: &AgentId, date: NaiveDate) -> Result<(Roster, Verdict), ChangeError> {
    let (agent_a, agent_b) = (agent(agents, a)?, agent(agents, b)?);
    let works = |id: &AgentId| roster.activities.iter().any(|x| on_date(x, id, date) && x.kind.on_shift());
    if !works(a) && !works(b) {
        return Err(ChangeError::NoShift { agent: format!("{a} nor {b}"), date });
    }
    let mut swapped = roster.clone();
    for x in &mut swapped.activities {
        if on_date(x, a, date) {
            x.agent_id = b.clone();
        } else if on_date(x, b, date) {
            x.agent_id = a.clone();
        }
    }
    swapped.tidy();
    let mut problems: Vec<String> = added_violations(roster, &swapped, agents, rules, &[a, b]).into_iter().map(|v| format!("{} for {} on {}: {}", v.rule, v.agent, v.date, v.detail)).collect();
    for (from, to) in [(agent_a, agent_b), (agent_b, agent_a)] {
        if works(&from.id) {
            for (queue, _) in &from.skills {
                if !to.skills.iter().any(|(q, _)| q == queue) {
                    problems.push(format!("{} lacks skill {queue} of {}'s shift", to.id, from.id));
                }
            }
        }
    }
    Ok((swapped, Verdict { valid: problems.is_empty(), problems }))
}

/// Intervals where the roster would fall short if `agent` took `date` off.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shortfall {
    pub interval_start: String,
    pub required: u32,
    pub scheduled: u32,
}

/// Someone who could take over the shift: free that day, skilled, within every rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    pub agent: String,
    /// Paid hours already in that week: fewer come first.
    pub paid_hours_that_week: f64,
}

/// The agent's leave balance against the roster.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Allowance {
    pub allowance_days: u32,
    /// Days the roster already gives the agent leave on (the requested day not counted).
    pub taken_days: u32,
    pub within: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeaveCheck {
    /// Absent when the agents file gives no `leave_allowance_days` for the agent.
    pub allowance: Option<Allowance>,
    pub shortfalls: Vec<Shortfall>,
    pub candidates: Vec<Candidate>,
}

/// Whether `agent` may take leave on `date` within their allowance, what it would cost the
/// coverage, and who could cover the shift.
pub fn check_leave(roster: &Roster, agents: &[Agent], rules: &Rules, demand: &Demand, id: &AgentId, date: NaiveDate) -> Result<LeaveCheck, ChangeError> {
    let leaving = agent(agents, id)?;
    let shift: Vec<Activity> = roster.activities.iter().filter(|x| on_date(x, id, date) && x.kind.on_shift()).cloned().collect();
    if shift.is_empty() {
        return Err(ChangeError::NoShift { agent: id.to_string(), date });
    }
    let without = Roster { activities: roster.activities.iter().filter(|x| !(on_date(x, id, date) && x.kind.on_shift())).cloned().collect() };
    let step = i64::from(demand.interval_min);
    let first = demand.starts[0];
    let at_work = at_work(&without, demand);
    let lost: HashSet<usize> = shift
        .iter()
        .filter(|x| x.kind == ActivityKind::Work)
        .flat_map(|x| (x.start - first).num_minutes().div_euclid(step)..(x.end - first).num_minutes().div_euclid(step))
        .filter_map(|i| usize::try_from(i).ok())
        .collect();
    let mut shortfalls: Vec<Shortfall> = lost
        .into_iter()
        .filter(|&i| i < at_work.len())
        .filter_map(|i| {
            let required: u32 = demand.queues.values().map(|c| c[i]).sum();
            (at_work[i] < required).then(|| Shortfall { interval_start: demand.starts[i].to_rfc3339(), required, scheduled: at_work[i] })
        })
        .collect();
    shortfalls.sort_by(|x, y| x.interval_start.cmp(&y.interval_start));

    let mut candidates: Vec<Candidate> = agents
        .iter()
        .filter(|o| o.id != *id && leaving.skills.iter().all(|(q, _)| o.skills.iter().any(|(s, _)| s == q)))
        .filter_map(|o| could_take(&without, agents, rules, o, date, &shift))
        .collect();
    candidates.sort_by(|x, y| x.paid_hours_that_week.total_cmp(&y.paid_hours_that_week).then(x.agent.cmp(&y.agent)));
    let allowance = leaving.leave_allowance_days.map(|allowance_days| {
        let taken: HashSet<NaiveDate> = roster.activities.iter().filter(|x| &x.agent_id == id && x.kind == ActivityKind::Leave && x.date != date).map(|x| x.date).collect();
        let taken_days = taken.len() as u32;
        Allowance { allowance_days, taken_days, within: taken_days < allowance_days }
    });
    Ok(LeaveCheck { allowance, shortfalls, candidates })
}

/// The roster once `id` has leave on `date`: their shift that day becomes a day of leave and,
/// when `cover` is given, that agent works the shift instead (their day off, if any, goes). The
/// caller checks first ([`check_leave`]: `cover` among its candidates).
pub fn apply_leave(roster: &Roster, id: &AgentId, date: NaiveDate, cover: Option<&AgentId>) -> Result<Roster, ChangeError> {
    let shift: Vec<Activity> = roster.activities.iter().filter(|x| on_date(x, id, date) && x.kind.on_shift()).cloned().collect();
    let first = shift.iter().min_by_key(|x| x.start).ok_or_else(|| ChangeError::NoShift { agent: id.to_string(), date })?;
    let offset = *first.start.offset();
    let midnight = |d: NaiveDate| d.and_time(chrono::NaiveTime::MIN).and_local_timezone(offset).single();
    let (start, end) = midnight(date).zip(midnight(date + chrono::Duration::days(1))).ok_or_else(|| ChangeError::NoShift { agent: id.to_string(), date })?;
    let mut changed = roster.clone();
    changed.activities.retain(|x| {
        let leaving = on_date(x, id, date) && x.kind != ActivityKind::Leave;
        let covers_day_off = cover.is_some_and(|c| on_date(x, c, date) && x.kind == ActivityKind::DayOff);
        !(leaving || covers_day_off)
    });
    changed.activities.push(Activity { agent_id: id.clone(), date, kind: ActivityKind::Leave, start, end });
    if let Some(cover) = cover {
        changed.activities.extend(shift.iter().map(|x| Activity { agent_id: cover.clone(), ..x.clone() }));
    }
    changed.activities.sort_by(|x, y| (x.agent_id.as_str(), x.start).cmp(&(y.agent_id.as_str(), y.start)));
    Ok(changed)
}

/// Agents at work in each interval of `demand`'s grid.
fn at_work(roster: &Roster, demand: &Demand) -> Vec<u32> {
    let step = i64::from(demand.interval_min);
    let first = demand.starts[0];
    let mut at_work = vec![0u32; demand.starts.len()];
    for x in roster.activities.iter().filter(|x| x.kind == ActivityKind::Work) {
        let (from, to) = ((x.start - first).num_minutes().div_euclid(step), (x.end - first).num_minutes().div_euclid(step));
        for i in from.max(0)..to.min(at_work.len() as i64) {
            at_work[i as usize] += 1;
        }
    }
    at_work
}

/// Intervals that `after` leaves with fewer agents at work than required and than `before` had:
/// what a change (a swap moving a shift in time) costs the coverage.
pub fn added_shortfalls(before: &Roster, after: &Roster, demand: &Demand) -> Vec<Shortfall> {
    let (was, now) = (at_work(before, demand), at_work(after, demand));
    (0..demand.starts.len())
        .filter_map(|i| {
            let required: u32 = demand.queues.values().map(|c| c[i]).sum();
            (now[i] < required && now[i] < was[i]).then(|| Shortfall { interval_start: demand.starts[i].to_rfc3339(), required, scheduled: now[i] })
        })
        .collect()
}

/// `other` as a taker of `shift` (activities of another agent on `date`) in `roster`: when they
/// are free that day and taking it breaks no rule for them.
fn could_take(roster: &Roster, agents: &[Agent], rules: &Rules, other: &Agent, date: NaiveDate, shift: &[Activity]) -> Option<Candidate> {
    let free = !roster.activities.iter().any(|x| on_date(x, &other.id, date) && (x.kind.on_shift() || x.kind == ActivityKind::Leave));
    if !free {
        return None;
    }
    let taken: Vec<Activity> = shift.iter().map(|x| Activity { agent_id: other.id.clone(), ..x.clone() }).collect();
    let covered = with_shift(roster, &taken);
    if !added_violations(roster, &covered, agents, rules, &[&other.id]).is_empty() {
        return None;
    }
    let week = date.iso_week();
    let paid: i64 = roster.shifts().iter().filter(|s| s.agent_id == &other.id && s.date.iso_week() == week).map(|s| s.paid_min()).sum();
    Some(Candidate { agent: other.id.to_string(), paid_hours_that_week: paid as f64 / 60.0 })
}

/// An extra shift that would cover a gap, and who could work it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GapOffer {
    #[serde(flatten)]
    pub candidate: Candidate,
    pub start: String,
    pub end: String,
}

/// Agents who could work an extra shift covering `gap` (from, to) on `date` (local times, offset
/// `offset`): free that day, skilled for `queue` (any skill when none), the shortest shift the
/// rules allow that covers the gap inside their team's window breaking no rule for them; fewest
/// paid hours that week first.
pub fn fill_gap(roster: &Roster, agents: &[Agent], rules: &Rules, date: NaiveDate, gap: (ClockTime, ClockTime), queue: Option<&QueueName>, offset: FixedOffset) -> Vec<GapOffer> {
    let mut offers: Vec<GapOffer> = agents
        .iter()
        .filter(|a| queue.is_none_or(|q| a.skills.iter().any(|(s, _)| s == q)))
        .filter_map(|a| extra_shift(roster, agents, rules, a, date, gap, offset).map(|(_, offer)| offer))
        .collect();
    offers.sort_by(|x, y| x.candidate.paid_hours_that_week.total_cmp(&y.candidate.paid_hours_that_week).then(x.candidate.agent.cmp(&y.candidate.agent)));
    offers
}

/// The extra shift `agent` could work covering `gap` on `date` (as [`fill_gap`] finds it), with
/// its activities; `None` when no allowed shift fits them.
pub fn extra_shift(roster: &Roster, agents: &[Agent], rules: &Rules, agent: &Agent, date: NaiveDate, gap: (ClockTime, ClockTime), offset: FixedOffset) -> Option<(Vec<Activity>, GapOffer)> {
    // A gap that ends at or before it starts ends the next morning.
    let end = if gap.1 > gap.0 { gap.1.minutes() } else { gap.1.minutes() + 1440 };
    let shape = covering_shape(rules, rules.shifts.window_for(&agent.team), gap.0.minutes(), end)?;
    let at = |minute: u32| (date.and_time(chrono::NaiveTime::MIN) + chrono::Duration::minutes(i64::from(minute))).and_local_timezone(offset).single();
    let mut t = shape.start_min;
    let mut shift = Vec::new();
    for (kind, minutes) in shift_plan(&shape, rules, rules.shifts.start_step_min.min(15)) {
        shift.push(Activity { agent_id: agent.id.clone(), date, kind, start: at(t)?, end: at(t + minutes)? });
        t += minutes;
    }
    let candidate = could_take(roster, agents, rules, agent, date, &shift)?;
    let offer = GapOffer { candidate, start: at(shape.start_min)?.to_rfc3339(), end: at(shape.start_min + shape.length_min)?.to_rfc3339() };
    Some((shift, offer))
}

/// The roster with `shift` (one agent's activities of one date) added, that agent's day off
/// that date removed.
pub fn with_shift(roster: &Roster, shift: &[Activity]) -> Roster {
    let mut changed = roster.clone();
    if let Some(first) = shift.first() {
        changed.activities.retain(|x| !(on_date(x, &first.agent_id, first.date) && x.kind == ActivityKind::DayOff));
    }
    changed.activities.extend(shift.iter().cloned());
    changed.tidy();
    changed
}

/// A planner's edit of one agent's day, judged.
#[derive(Debug, Clone)]
pub struct Edit {
    pub roster: Roster,
    /// The day as edited, in time order.
    pub day: Vec<Activity>,
    /// Hard rules the edit newly breaks for the agent.
    pub verdict: Verdict,
    /// Intervals the edit newly leaves below the requirement.
    pub shortfalls: Vec<Shortfall>,
}

/// One agent's day as a planner writes it: see [`edit_day`].
#[derive(Debug, Clone, Copy)]
pub struct DayEdit<'a> {
    pub agent: &'a AgentId,
    pub date: NaiveDate,
    /// The shift's start and end; none for a day off.
    pub span: Option<(ClockTime, ClockTime)>,
    /// The offset local times are written at.
    pub offset: FixedOffset,
}

/// The agent's `date` becomes a shift from `span`'s start to its end (clock times; an end not after
/// the start is the next morning), its breaks and meal placed as `wfm schedule` places them,
/// or a day off without a span; whatever the day had (shift, day off, leave) is replaced.
/// Local times are at `offset`. Judged as any change: the hard rules it newly breaks for the
/// agent (any length and time may be written; the rules say what is wrong with it) and, with a
/// requirement, the intervals it newly leaves short.
pub fn edit_day(roster: &Roster, agents: &[Agent], rules: &Rules, demand: Option<&Demand>, asked: &DayEdit) -> Result<Edit, ChangeError> {
    let DayEdit { agent: id, date, span, offset } = *asked;
    agent(agents, id)?;
    let at = |minute: u32| (date.and_time(chrono::NaiveTime::MIN) + chrono::Duration::minutes(i64::from(minute))).and_local_timezone(offset).single();
    let day: Vec<Activity> = match span {
        Some((from, to)) => {
            let (start_min, end_min) = (from.minutes(), if to.minutes() > from.minutes() { to.minutes() } else { to.minutes() + 1440 });
            let shape = Shape { start_min, length_min: end_min - start_min };
            let mut t = start_min;
            let mut day = Vec::new();
            for (kind, minutes) in shift_plan(&shape, rules, rules.shifts.start_step_min.min(15)) {
                let (Some(start), Some(end)) = (at(t), at(t + minutes)) else { continue };
                day.push(Activity { agent_id: id.clone(), date, kind, start, end });
                t += minutes;
            }
            day
        }
        None => at(0).zip(at(1440)).map(|(start, end)| Activity { agent_id: id.clone(), date, kind: ActivityKind::DayOff, start, end }).into_iter().collect(),
    };
    let mut edited = roster.clone();
    edited.activities.retain(|x| !on_date(x, id, date));
    edited.activities.extend(day.iter().cloned());
    edited.tidy();
    let problems: Vec<String> = added_violations(roster, &edited, agents, rules, &[id]).iter().map(|v| format!("{} on {}: {}", v.rule, v.date, v.detail)).collect();
    let shortfalls = demand.map(|d| added_shortfalls(roster, &edited, d)).unwrap_or_default();
    Ok(Edit { roster: edited, day, verdict: Verdict { valid: problems.is_empty(), problems }, shortfalls })
}

/// Every interval of `demand`'s grid with fewer agents at work than required: where overtime is needed.
pub fn understaffed(roster: &Roster, demand: &Demand) -> Vec<Shortfall> {
    let now = at_work(roster, demand);
    (0..demand.starts.len())
        .filter_map(|i| {
            let required: u32 = demand.queues.values().map(|c| c[i]).sum();
            (now[i] < required).then(|| Shortfall { interval_start: demand.starts[i].to_rfc3339(), required, scheduled: now[i] })
        })
        .collect()
}

/// The shortest allowed shift inside `window` that covers `from..to` (minutes after midnight),
/// starting on the step as late as it can.
fn covering_shape(rules: &Rules, window: ShiftWindow, from: u32, to: u32) -> Option<Shape> {
    let step = rules.shifts.start_step_min;
    let mut lengths = rules.shifts.lengths_min.clone();
    lengths.sort_unstable();
    lengths.into_iter().filter(|&l| l >= to.saturating_sub(from)).find_map(|length_min| {
        let latest = (from / step) * step;
        let earliest = to.saturating_sub(length_min).div_ceil(step) * step;
        let start_min = (earliest..=latest).rev().step_by(step as usize).find(|&s| window.holds(s, length_min))?;
        Some(Shape { start_min, length_min })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roster::ActivityKind::*;
    use chrono::{DateTime, Duration, FixedOffset, NaiveTime};
    use std::collections::BTreeMap;

    const AGENTS: &str = "agent_id,team,skills,team_leader,min_hours_week,max_hours_week\n\
                          a1,t1,support:1.0;billing:0.9,false,0,40\n\
                          a2,t1,support:1.0;billing:1.0,false,0,40\n\
                          a3,t1,support:1.0,false,0,40\n";

    fn monday() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 2).unwrap()
    }

    fn at(date: NaiveDate, minute: u32) -> DateTime<FixedOffset> {
        (date.and_time(NaiveTime::MIN) + Duration::minutes(i64::from(minute))).and_local_timezone(FixedOffset::east_opt(3600).unwrap()).unwrap()
    }

    fn eight_hours(agent: &str, date: NaiveDate, start: u32) -> Vec<Activity> {
        let mut t = start;
        [(Work, 180), (Meal, 30), (Work, 150), (Break, 15), (Work, 105)]
            .into_iter()
            .map(|(kind, m)| {
                let a = Activity { agent_id: AgentId::parse(agent).unwrap(), date, kind, start: at(date, t), end: at(date, t + m) };
                t += m;
                a
            })
            .collect()
    }

    fn setup() -> (Vec<Agent>, Rules) {
        (crate::agents::parse("agents.csv", AGENTS.as_bytes(), "demo").unwrap(), Rules::parse("rules.toml", crate::rules::tests::EXAMPLE).unwrap())
    }

    fn id(s: &str) -> AgentId {
        AgentId::parse(s).unwrap()
    }

    #[test]
    fn a_swap_is_valid_only_within_the_rules_and_skills() {
        let (agents, rules) = setup();
        let roster = Roster { activities: eight_hours("a1", monday(), 540) };
        let (swapped, verdict) = check_swap(&roster, &agents, &rules, &id("a1"), &id("a2"), monday()).unwrap();
        assert!(verdict.valid, "{verdict:?}");
        assert!(swapped.activities.iter().all(|a| a.agent_id.as_str() == "a2"));
        // a3 cannot take billing.
        let (_, verdict) = check_swap(&roster, &agents, &rules, &id("a1"), &id("a3"), monday()).unwrap();
        assert_eq!(verdict.problems, ["a3 lacks skill billing of a1's shift"]);
        // a2 worked until 22:30 the night before: 10.5 hours of rest.
        let mut busy = roster.clone();
        busy.activities.extend(eight_hours("a2", monday() - Duration::days(1), 870));
        let (_, verdict) = check_swap(&busy, &agents, &rules, &id("a1"), &id("a2"), monday()).unwrap();
        assert!(!verdict.valid && verdict.problems.iter().any(|p| p.starts_with("min_rest_between_shifts_hours for a2")), "{verdict:?}");
        assert!(matches!(check_swap(&roster, &agents, &rules, &id("a1"), &id("a2"), monday() + Duration::days(1)), Err(ChangeError::NoShift { .. })));
    }

    #[test]
    fn leave_shows_the_shortfall_and_who_can_cover() {
        let (agents, rules) = setup();
        let roster = Roster { activities: eight_hours("a1", monday(), 540) };
        let first = at(monday(), 0);
        let starts: Vec<DateTime<FixedOffset>> = (0..96).map(|i| first + Duration::minutes(15 * i)).collect();
        let curve: Vec<u32> = (0..96).map(|i| u32::from((36..68).contains(&i))).collect();
        let demand = Demand { starts, interval_min: 15, queues: BTreeMap::from([(wfm_model::QueueName::parse("support").unwrap(), curve)]) };
        let leave = check_leave(&roster, &agents, &rules, &demand, &id("a1"), monday()).unwrap();
        // 7 h 15 of work lost: 29 quarter-hours short.
        assert_eq!(leave.shortfalls.len(), 29);
        assert_eq!(leave.shortfalls[0].interval_start, "2026-03-02T09:00:00+01:00");
        let names: Vec<&str> = leave.candidates.iter().map(|c| c.agent.as_str()).collect();
        assert_eq!(names, ["a2"], "a3 lacks billing");
        assert_eq!(leave.allowance, None, "no allowance column");
    }

    #[test]
    fn a_gap_gets_the_free_skilled_agents_who_can_take_a_covering_shift() {
        let (agents, rules) = setup();
        // a1 works Monday; a2 worked until 22:30 on Sunday (10.5 hours of rest before 09:00).
        let mut roster = Roster { activities: eight_hours("a1", monday(), 540) };
        roster.activities.extend(eight_hours("a2", monday() - Duration::days(1), 870));
        let (from, to) = (ClockTime::parse("10:00").unwrap(), ClockTime::parse("14:00").unwrap());
        let offset = FixedOffset::east_opt(3600).unwrap();
        let offers = fill_gap(&roster, &agents, &rules, monday(), (from, to), None, offset);
        let names: Vec<&str> = offers.iter().map(|o| o.candidate.agent.as_str()).collect();
        assert_eq!(names, ["a2", "a3"], "a1 is at work; a2 can start at 10:00 after 11.5 hours of rest");
        assert_eq!((offers[0].start.as_str(), offers[0].end.as_str()), ("2026-03-02T10:00:00+01:00", "2026-03-02T16:00:00+01:00"), "the shortest shift, 6 hours");
        let billing = QueueName::parse("billing").unwrap();
        let names: Vec<String> = fill_gap(&roster, &agents, &rules, monday(), (from, to), Some(&billing), offset).into_iter().map(|o| o.candidate.agent).collect();
        assert_eq!(names, ["a2"], "a3 lacks billing");
        // A night gap (23:00 to 03:00) gets a night shift, where the rules allow one: the
        // next day's day off then begins when it ends.
        let round_the_clock = Rules::parse("rules.toml", &crate::rules::tests::EXAMPLE.replace("latest_end = \"23:00\"", "latest_end = \"06:00\"")).unwrap();
        let mut with_day_off = roster.clone();
        with_day_off.activities.push(Activity { agent_id: id("a3"), date: monday() + Duration::days(1), kind: DayOff, start: at(monday() + Duration::days(1), 0), end: at(monday() + Duration::days(1), 1440) });
        let night = (ClockTime::parse("23:00").unwrap(), ClockTime::parse("03:00").unwrap());
        let offers = fill_gap(&with_day_off, &agents, &round_the_clock, monday(), night, None, offset);
        let a3 = offers.iter().find(|o| o.candidate.agent == "a3").expect("a3 is free");
        assert_eq!((a3.start.as_str(), a3.end.as_str()), ("2026-03-02T23:00:00+01:00", "2026-03-03T05:00:00+01:00"));
        assert!(fill_gap(&with_day_off, &agents, &rules, monday(), night, None, offset).is_empty(), "the default window ends at 23:00");
        // A gap longer than any shift has no taker.
        assert!(fill_gap(&roster, &agents, &rules, monday(), (ClockTime::parse("06:00").unwrap(), ClockTime::parse("23:00").unwrap()), None, offset).is_empty());
    }

    #[test]
    fn leave_beyond_the_allowance_is_refused() {
        let (mut agents, rules) = setup();
        agents[0].leave_allowance_days = Some(2);
        let mut roster = Roster { activities: eight_hours("a1", monday(), 540) };
        let day_of_leave = |date: NaiveDate| Activity { agent_id: id("a1"), date, kind: Leave, start: at(date, 0), end: at(date, 1440) };
        let first = at(monday(), 0);
        let demand = Demand { starts: (0..96).map(|i| first + Duration::minutes(15 * i)).collect(), interval_min: 15, queues: BTreeMap::new() };
        roster.activities.push(day_of_leave(monday() + Duration::days(1)));
        let one_left = check_leave(&roster, &agents, &rules, &demand, &id("a1"), monday()).unwrap().allowance.unwrap();
        assert_eq!((one_left.taken_days, one_left.within), (1, true));
        roster.activities.push(day_of_leave(monday() + Duration::days(2)));
        let none_left = check_leave(&roster, &agents, &rules, &demand, &id("a1"), monday()).unwrap().allowance.unwrap();
        assert_eq!((none_left.taken_days, none_left.within), (2, false));
    }

    #[test]
    fn applied_leave_gives_the_day_as_leave_and_the_shift_to_the_cover() {
        let (agents, rules) = setup();
        let mut roster = Roster { activities: eight_hours("a1", monday(), 540) };
        roster.activities.push(Activity { agent_id: id("a2"), date: monday(), kind: DayOff, start: at(monday(), 0), end: at(monday(), 1440) });
        let changed = apply_leave(&roster, &id("a1"), monday(), Some(&id("a2"))).unwrap();
        let a1: Vec<_> = changed.activities.iter().filter(|x| x.agent_id == id("a1")).map(|x| (x.kind, x.start, x.end)).collect();
        assert_eq!(a1, [(Leave, at(monday(), 0), at(monday(), 1440))]);
        let a2: Vec<_> = changed.activities.iter().filter(|x| x.agent_id == id("a2")).map(|x| (x.kind, x.start)).collect();
        let planned: Vec<_> = eight_hours("a2", monday(), 540).into_iter().map(|x| (x.kind, x.start)).collect();
        assert_eq!(a2, planned, "a2 works a1's shift and no longer has the day off");
        assert!(crate::check::check(&changed, &agents, &rules).is_empty());
        let alone = apply_leave(&roster, &id("a1"), monday(), None).unwrap();
        assert_eq!(alone.activities.iter().filter(|x| x.kind == Work).count(), 0);
        assert!(matches!(apply_leave(&roster, &id("a3"), monday(), None), Err(ChangeError::NoShift { .. })));
    }

    #[test]
    fn a_swap_moving_a_shift_out_of_the_busy_hours_shows_the_intervals_it_leaves_short() {
        let first = at(monday(), 0);
        let curve: Vec<u32> = (0..96).map(|i| u32::from((36..44).contains(&i))).collect();
        let demand = Demand { starts: (0..96).map(|i| first + Duration::minutes(15 * i)).collect(), interval_min: 15, queues: BTreeMap::from([(QueueName::parse("support").unwrap(), curve)]) };
        let before = Roster { activities: eight_hours("a1", monday(), 540) };
        let mut after = Roster { activities: eight_hours("a1", monday(), 660) };
        after.activities.extend(eight_hours("a2", monday(), 360));
        // One agent needed 09:00–11:00: a1 now starts at 11:00, and a2 (from 06:00) has a meal at 09:00.
        let short: Vec<String> = added_shortfalls(&before, &after, &demand).into_iter().map(|s| s.interval_start).collect();
        assert_eq!(short, ["2026-03-02T09:00:00+01:00", "2026-03-02T09:15:00+01:00"], "a2's meal 09:00–09:30 is the only gap");
        assert!(added_shortfalls(&before, &before, &demand).is_empty());
    }

    #[test]
    fn an_extra_shift_is_added_over_the_day_off_and_closes_the_shortfall() {
        let (agents, rules) = setup();
        let mut roster = Roster { activities: vec![Activity { agent_id: id("a3"), date: monday(), kind: DayOff, start: at(monday(), 0), end: at(monday(), 1440) }] };
        roster.activities.extend(eight_hours("a1", monday(), 540));
        let first = at(monday(), 0);
        let curve: Vec<u32> = (0..96).map(|i| if (40..48).contains(&i) { 2 } else { 0 }).collect();
        let demand = Demand { starts: (0..96).map(|i| first + Duration::minutes(15 * i)).collect(), interval_min: 15, queues: BTreeMap::from([(QueueName::parse("support").unwrap(), curve)]) };
        assert_eq!(understaffed(&roster, &demand).len(), 8, "10:00–12:00 needs two, a1 alone");
        let gap = (ClockTime::parse("10:00").unwrap(), ClockTime::parse("12:00").unwrap());
        let (shift, offer) = extra_shift(&roster, &agents, &rules, &agents[2], monday(), gap, FixedOffset::east_opt(3600).unwrap()).unwrap();
        assert_eq!(offer.start, "2026-03-02T10:00:00+01:00");
        let changed = with_shift(&roster, &shift);
        assert!(understaffed(&changed, &demand).is_empty());
        assert!(!changed.activities.iter().any(|x| x.agent_id == id("a3") && x.kind == DayOff));
        assert!(crate::check::check(&changed, &agents, &rules).is_empty());
    }

    #[test]
    fn an_edited_day_is_planned_with_its_pauses_and_judged_by_the_rules() {
        let (agents, rules) = setup();
        let mut roster = Roster { activities: eight_hours("a1", monday(), 540) };
        roster.activities.extend(eight_hours("a1", monday() + Duration::days(1), 540));
        let offset = FixedOffset::east_opt(3600).unwrap();
        let span = |from: &str, to: &str| Some((ClockTime::parse(from).unwrap(), ClockTime::parse(to).unwrap()));
        // Monday moved to 07:00–15:00: pauses placed by the rules, nothing broken.
        let a1 = id("a1");
        let day = |span| DayEdit { agent: &a1, date: monday(), span, offset };
        let edit = edit_day(&roster, &agents, &rules, None, &day(span("07:00", "15:00"))).unwrap();
        assert!(edit.verdict.valid, "{:?}", edit.verdict);
        assert_eq!((edit.day[0].start, edit.day.last().unwrap().end), (at(monday(), 420), at(monday(), 900)));
        assert!(edit.day.iter().any(|x| x.kind == Meal), "{:?}", edit.day);
        assert_eq!(edit.roster.activities.iter().filter(|x| x.date == monday()).count(), edit.day.len(), "the old shift is gone");
        // Until 23:30 on Monday leaves too little rest before Tuesday's 09:00.
        let late = edit_day(&roster, &agents, &rules, None, &day(span("15:30", "23:30"))).unwrap();
        assert!(!late.verdict.valid && late.verdict.problems.iter().any(|p| p.starts_with("min_rest_between_shifts_hours")), "{:?}", late.verdict);
        // A day off, and the intervals it leaves short.
        let first = at(monday(), 0);
        let curve: Vec<u32> = (0..96).map(|i| u32::from((36..40).contains(&i))).collect();
        let demand = Demand { starts: (0..96).map(|i| first + Duration::minutes(15 * i)).collect(), interval_min: 15, queues: BTreeMap::from([(QueueName::parse("support").unwrap(), curve)]) };
        let off = edit_day(&roster, &agents, &rules, Some(&demand), &day(None)).unwrap();
        assert_eq!(off.day.iter().map(|x| (x.kind, x.start, x.end)).collect::<Vec<_>>(), [(DayOff, at(monday(), 0), at(monday(), 1440))]);
        assert_eq!(off.shortfalls.len(), 4, "09:00–10:00 now has nobody");
        let nobody = id("zz");
        assert!(matches!(edit_day(&roster, &agents, &rules, None, &DayEdit { agent: &nobody, ..day(None) }), Err(ChangeError::UnknownAgent(_))));
    }
}
