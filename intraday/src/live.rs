//! The live view of adherence: for each agent now, the scheduled activity and the next one, the
//! actual state and since when, in or out of adherence and since when, and the day's figures so
//! far — the same [`evaluate`] as the report, judged up to now.
//!
//! Sans-IO, like the queue engine: the driver hands in state changes with their instants and
//! the time; the board hands back the agents whose status changed, and says when it next needs
//! the time although nothing happened ([`Board::poll_timeout`]: the next activity boundary or
//! midnight). "In adherence" here is the comparison of the scheduled activity with the state
//! now; the threshold applies to the day's figures, as in the report.

use crate::adherence::{evaluate, shift_span, state_name, DayFigures, Ms, Period};
use crate::plans::Plans;
use crate::rules::AdherenceRules;
use chrono::{Duration, NaiveDate};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use wfm_model::{AgentId, AgentState, AgentStateEvent, TenantZone};
use wfm_scheduler::roster::{ActivityKind, Roster};

/// A closed state period the board keeps (today's and yesterday's).
#[derive(Debug, Clone, PartialEq)]
struct Closed {
    start_ms: Ms,
    end_ms: Ms,
    state: AgentState,
    reason: Option<String>,
}

/// What was last reported of an agent, to tell a change.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Shown {
    scheduled: Option<ActivityKind>,
    scheduled_since: Ms,
    in_adherence: bool,
    adherence_since: Ms,
}

#[derive(Debug)]
struct Tracked {
    closed: Vec<Closed>,
    state: AgentState,
    reason: Option<String>,
    since: Ms,
    excused: Vec<(Ms, Ms)>,
    shown: Option<Shown>,
}

impl Tracked {
    fn logged_out_since(since: Ms) -> Self {
        Self { closed: Vec::new(), state: AgentState::LoggedOut, reason: None, since, excused: Vec::new(), shown: None }
    }
}

/// One agent now, as the supervisor's live view shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentStatus {
    pub agent_id: AgentId,
    /// The local date the agent is judged with (a night shift's date after midnight).
    pub date: NaiveDate,
    /// A roster activity, or `outside_shift`.
    pub scheduled_activity: &'static str,
    pub next_activity: Option<&'static str>,
    pub next_start: Option<String>,
    /// As the rules write it (`not_ready:lunch`).
    pub state: String,
    pub state_since: String,
    pub in_adherence: bool,
    pub in_adherence_since: String,
    /// The day's figures judged up to now.
    pub today: DayFigures,
}

/// What the alarms read of an agent now.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AgentNow<'a> {
    pub agent_id: &'a AgentId,
    pub state: AgentState,
    pub reason: Option<&'a str>,
    pub state_since_ms: Ms,
    /// Out of adherence with the scheduled activity since then.
    pub out_of_adherence_since_ms: Option<Ms>,
    /// Logged in while no activity is scheduled, since then.
    pub outside_shift_since_ms: Option<Ms>,
}

/// One tenant's agents against its newest published roster.
pub struct Board {
    rules: AdherenceRules,
    zone: TenantZone,
    plans: Plans,
    roster_version: Option<i64>,
    agents: BTreeMap<AgentId, Tracked>,
    /// Every activity start and end of yesterday, today and tomorrow.
    boundaries: BTreeSet<Ms>,
    /// The local date `boundaries` and the kept periods were cut for.
    today: NaiveDate,
    now: Ms,
}

fn at(ms: Ms) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

impl Board {
    pub fn new(rules: AdherenceRules, zone: TenantZone, now: Ms) -> Self {
        let today = zone.local_date(at(now));
        let mut board = Self { rules, zone, plans: Plans::default(), roster_version: None, agents: BTreeMap::new(), boundaries: BTreeSet::new(), today, now };
        board.new_day(now);
        board
    }

    pub fn zone(&self) -> TenantZone {
        self.zone
    }

    pub fn roster_version(&self) -> Option<i64> {
        self.roster_version
    }

    /// A newly published version: every agent is judged against it from now on.
    pub fn set_roster(&mut self, roster: &Roster, version: i64, now: Ms) -> Vec<AgentStatus> {
        self.plans = Plans::new(roster);
        self.roster_version = Some(version);
        self.new_day(now);
        self.handle_timeout(now)
    }

    /// Changed rules (`adherence.toml` edited).
    pub fn set_rules(&mut self, rules: AdherenceRules, now: Ms) -> Vec<AgentStatus> {
        self.rules = rules;
        self.handle_timeout(now)
    }

    /// An agent's state and since when, as the ACD holds it at start-up.
    pub fn seed_current(&mut self, agent: AgentId, state: AgentState, reason: Option<String>, since: Ms) {
        let tracked = self.agents.entry(agent).or_insert_with(|| Tracked::logged_out_since(since));
        (tracked.state, tracked.reason, tracked.since) = (state, reason, since);
    }

    /// Closed periods already in the store (the day so far, before a restart); those the board
    /// has are skipped.
    pub fn seed_periods(&mut self, periods: &[AgentStateEvent]) {
        for p in periods {
            let closed = Closed { start_ms: p.started_at.timestamp_millis(), end_ms: p.ended_at.timestamp_millis(), state: p.state, reason: p.reason.clone() };
            let tracked = self.agents.entry(p.agent_id.clone()).or_insert_with(|| Tracked::logged_out_since(closed.end_ms));
            if !tracked.closed.iter().any(|c| c.start_ms == closed.start_ms && c.state == closed.state) {
                tracked.closed.push(closed);
            }
        }
        for tracked in self.agents.values_mut() {
            tracked.closed.sort_by_key(|c| (c.start_ms, c.end_ms));
        }
    }

    /// An agent's state changed at `at_ms`: the open period closes there.
    pub fn state_changed(&mut self, agent: &AgentId, state: AgentState, reason: Option<String>, at_ms: Ms) -> AgentStatus {
        self.now = self.now.max(at_ms);
        let tracked = self.agents.entry(agent.clone()).or_insert_with(|| Tracked::logged_out_since(at_ms));
        if at_ms > tracked.since {
            let closed = Closed { start_ms: tracked.since, end_ms: at_ms, state: tracked.state, reason: tracked.reason.take() };
            if !tracked.closed.iter().rev().any(|c| c.start_ms == closed.start_ms && c.state == closed.state) {
                tracked.closed.push(closed);
            }
        }
        (tracked.state, tracked.reason, tracked.since) = (state, reason, at_ms.max(tracked.since));
        self.refresh(agent, at_ms);
        self.status(agent, self.now)
    }

    /// A supervisor excused `[start, end)` of an agent's time.
    pub fn excuse(&mut self, agent: &AgentId, start_ms: Ms, end_ms: Ms) {
        let now = self.now;
        let tracked = self.agents.entry(agent.clone()).or_insert_with(|| Tracked::logged_out_since(now));
        tracked.excused.push((start_ms, end_ms));
    }

    /// The next instant at which a status may change without a state change.
    pub fn poll_timeout(&self) -> Ms {
        let midnight = self.zone.day_start(self.today + Duration::days(1)).timestamp_millis();
        self.boundaries.range(self.now + 1..).next().copied().unwrap_or(midnight).min(midnight)
    }

    /// The time has come: the statuses that changed (an activity began or ended; a new day).
    pub fn handle_timeout(&mut self, now: Ms) -> Vec<AgentStatus> {
        self.now = self.now.max(now);
        if self.zone.local_date(at(self.now)) != self.today {
            self.new_day(self.now);
        }
        let mut agents: Vec<AgentId> = self.plans.planned_on(self.today).chain(self.plans.planned_on(self.today - Duration::days(1))).cloned().collect();
        agents.retain(|a| !self.agents.contains_key(a));
        for agent in agents {
            self.agents.insert(agent, Tracked::logged_out_since(self.now));
        }
        let ids: Vec<AgentId> = self.agents.keys().cloned().collect();
        let now = self.now;
        let changed: Vec<AgentId> = ids.into_iter().filter(|a| self.refresh(a, now)).collect();
        changed.iter().map(|a| self.status(a, now)).collect()
    }

    /// One agent now; `None` for an agent the board does not know.
    pub fn agent_status(&self, agent: &AgentId, now: Ms) -> Option<AgentStatus> {
        self.agents.contains_key(agent).then(|| self.status(agent, now.max(self.now)))
    }

    /// Every agent the board knows, now.
    pub fn statuses(&self, now: Ms) -> Vec<AgentStatus> {
        self.agents.keys().map(|a| self.status(a, now.max(self.now))).collect()
    }

    /// How many agents are in each state now (`logged_out` included), each agent once.
    pub fn agents_per_state(&self) -> BTreeMap<&'static str, usize> {
        let mut out = BTreeMap::new();
        for t in self.agents.values() {
            *out.entry(t.state.as_str()).or_default() += 1;
        }
        out
    }

    /// Every agent's state and adherence now, for the alarms.
    pub fn agents_now(&self) -> impl Iterator<Item = AgentNow<'_>> {
        self.agents.iter().map(|(agent, t)| {
            let shown = t.shown.unwrap_or(Shown { scheduled: None, scheduled_since: t.since, in_adherence: true, adherence_since: t.since });
            let logged_in = t.state != AgentState::LoggedOut;
            AgentNow {
                agent_id: agent,
                state: t.state,
                reason: t.reason.as_deref(),
                state_since_ms: t.since,
                out_of_adherence_since_ms: (!shown.in_adherence).then_some(shown.adherence_since),
                outside_shift_since_ms: (logged_in && shown.scheduled.is_none()).then(|| self.logged_in_since(t).max(shown.scheduled_since)),
            }
        })
    }

    /// When the agent's present login began.
    fn logged_in_since(&self, t: &Tracked) -> Ms {
        let mut since = t.since;
        for c in t.closed.iter().rev() {
            if c.state == AgentState::LoggedOut || c.end_ms < since {
                break;
            }
            since = c.start_ms;
        }
        since
    }

    /// Cuts the kept periods and the boundaries for the local date of `now`.
    fn new_day(&mut self, now: Ms) {
        self.today = self.zone.local_date(at(now));
        let yesterday = self.today - Duration::days(1);
        let keep_from = self.zone.day_start(yesterday).timestamp_millis();
        for tracked in self.agents.values_mut() {
            tracked.closed.retain(|c| c.end_ms > keep_from);
            tracked.excused.retain(|&(_, end)| end > keep_from);
        }
        self.boundaries.clear();
        for days in self.plans.by_agent.values() {
            for (_, plan) in days.range(yesterday..=self.today + Duration::days(1)) {
                self.boundaries.extend(plan.shift.iter().flat_map(|p| [p.start_ms, p.end_ms]));
            }
        }
    }

    /// The date `agent` is judged with at `now`: yesterday while in yesterday's shift.
    fn judged_date(&self, agent: &AgentId, now: Ms) -> NaiveDate {
        let today = self.zone.local_date(at(now));
        let yesterday = today - Duration::days(1);
        let in_yesterdays = self.plans.get(agent, yesterday).and_then(|p| shift_span(&p.shift)).is_some_and(|(s, e)| s <= now && now < e);
        if in_yesterdays {
            yesterday
        } else {
            today
        }
    }

    fn scheduled_at(&self, agent: &AgentId, date: NaiveDate, now: Ms) -> Option<ActivityKind> {
        self.plans.get(agent, date)?.shift.iter().find(|p| p.start_ms <= now && now < p.end_ms).map(|p| p.kind)
    }

    /// Updates what is shown of `agent`; whether it changed.
    fn refresh(&mut self, agent: &AgentId, now: Ms) -> bool {
        let date = self.judged_date(agent, now);
        let scheduled = self.scheduled_at(agent, date, now);
        let Some(t) = self.agents.get(agent) else { return false };
        let in_adherence = self.rules.in_adherence(scheduled, t.state, t.reason.as_deref());
        let next = match t.shown {
            Some(s) if s.scheduled == scheduled && s.in_adherence == in_adherence => return false,
            Some(s) => Shown {
                scheduled,
                scheduled_since: if s.scheduled == scheduled { s.scheduled_since } else { now },
                in_adherence,
                adherence_since: if s.in_adherence == in_adherence { s.adherence_since } else { now },
            },
            None => Shown { scheduled, scheduled_since: now, in_adherence, adherence_since: t.since.min(now) },
        };
        if let Some(t) = self.agents.get_mut(agent) {
            t.shown = Some(next);
        }
        true
    }

    fn status(&self, agent: &AgentId, now: Ms) -> AgentStatus {
        let fallback = Tracked::logged_out_since(now);
        let t = self.agents.get(agent).unwrap_or(&fallback);
        let date = self.judged_date(agent, now);
        let day = (self.zone.day_start(date).timestamp_millis(), self.zone.day_start(date + Duration::days(1)).timestamp_millis());
        let other_shifts = self.plans.neighbours(agent, date);
        let open = Period { start_ms: t.since, end_ms: now.max(t.since), state: t.state, reason: t.reason.as_deref() };
        let periods: Vec<Period> = t.closed.iter().map(|c| Period { start_ms: c.start_ms, end_ms: c.end_ms, state: c.state, reason: c.reason.as_deref() }).chain([open]).collect();
        let mut agent_day = self.plans.agent_day(agent, date, day, &other_shifts, &periods, &t.excused);
        agent_day.until_ms = Some(now);
        let (today, _) = evaluate(&self.rules, &agent_day);
        let scheduled = self.scheduled_at(agent, date, now);
        let next = [date, date + Duration::days(1)].into_iter().filter_map(|d| self.plans.get(agent, d)).flat_map(|p| &p.shift).find(|p| p.start_ms > now);
        let shown = t.shown.unwrap_or(Shown { scheduled, scheduled_since: now, in_adherence: self.rules.in_adherence(scheduled, t.state, t.reason.as_deref()), adherence_since: t.since });
        let local = |ms: Ms| self.zone.format_local(at(ms));
        AgentStatus {
            agent_id: agent.clone(),
            date,
            scheduled_activity: scheduled.map_or("outside_shift", ActivityKind::as_str),
            next_activity: next.map(|p| p.kind.as_str()),
            next_start: next.map(|p| local(p.start_ms)),
            state: state_name(t.state, t.reason.as_deref()),
            state_since: local(t.since),
            in_adherence: shown.in_adherence,
            in_adherence_since: local(shown.adherence_since),
            today,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Ms = 60_000;
    /// 2026-03-02 in UTC (a Monday), minutes after midnight.
    fn m(minutes: i64) -> Ms {
        1_772_409_600_000 + minutes * MIN
    }

    fn roster() -> Roster {
        let csv = "agent_id,date,activity,start,end\n\
                   1001,2026-03-02,work,2026-03-02T09:00:00Z,2026-03-02T10:00:00Z\n\
                   1001,2026-03-02,break,2026-03-02T10:00:00Z,2026-03-02T10:15:00Z\n\
                   1001,2026-03-02,work,2026-03-02T10:15:00Z,2026-03-02T12:00:00Z\n";
        Roster::read_csv("roster.csv", csv.as_bytes()).unwrap()
    }

    fn board(now: Ms) -> Board {
        let mut board = Board::new(AdherenceRules::default(), TenantZone::utc(), now);
        board.set_roster(&roster(), 1, now);
        board
    }

    fn id(a: &str) -> AgentId {
        AgentId::parse(a).unwrap()
    }

    #[test]
    fn a_late_login_then_the_break_taken_on_time() {
        let mut b = board(m(8 * 60));
        let agent = id("1001");
        // Before the shift, logged out: in adherence, the next activity is work at 09:00.
        let before = b.statuses(m(8 * 60)).remove(0);
        assert_eq!((before.scheduled_activity, before.in_adherence, before.next_activity), ("outside_shift", true, Some("work")));
        assert_eq!(before.next_start.as_deref(), Some("2026-03-02T09:00:00+00:00"));
        // 09:00 comes: still logged out, now out of adherence.
        assert_eq!(b.poll_timeout(), m(9 * 60));
        let changed = b.handle_timeout(m(9 * 60));
        assert_eq!(changed.len(), 1);
        assert_eq!((changed[0].scheduled_activity, changed[0].in_adherence), ("work", false));
        assert_eq!(changed[0].in_adherence_since, "2026-03-02T09:00:00+00:00");
        // Logged in at 09:10: in adherence since 09:10, 10 minutes counted so far.
        let s = b.state_changed(&agent, AgentState::Ready, None, m(9 * 60 + 10));
        assert!(s.in_adherence);
        assert_eq!((s.today.exception_s, s.today.scheduled_s), (600, 600));
        let s = b.statuses(m(9 * 60 + 11)).remove(0);
        assert_eq!((s.today.exception_s, s.today.late_s, s.today.work_state_s), (600, 600, 60), "late once a login is seen");
        // The break at 10:00 while still ready: out of adherence; on break at 10:01.
        assert_eq!(b.poll_timeout(), m(10 * 60));
        let changed = b.handle_timeout(m(10 * 60));
        assert_eq!((changed[0].scheduled_activity, changed[0].in_adherence), ("break", false));
        let s = b.state_changed(&agent, AgentState::NotReady, Some("break".into()), m(10 * 60 + 1));
        assert_eq!((s.in_adherence, s.state.as_str(), s.next_activity), (true, "not_ready:break", Some("work")));
        // One minute at the threshold counts; 70 minutes of the shift judged so far.
        assert_eq!((s.today.exception_s, s.today.scheduled_s), (600 + 60, 61 * 60));
        let now = b.agents_now().next().unwrap();
        assert_eq!((now.state, now.out_of_adherence_since_ms, now.outside_shift_since_ms), (AgentState::NotReady, None, None));
    }

    #[test]
    fn logged_in_outside_the_shift_and_excused_time() {
        let mut b = board(m(12 * 60 + 30));
        let agent = id("1001");
        b.state_changed(&agent, AgentState::Ready, None, m(12 * 60 + 30));
        let now = b.agents_now().next().unwrap();
        assert_eq!((now.outside_shift_since_ms, now.out_of_adherence_since_ms), (Some(m(12 * 60 + 30)), Some(m(12 * 60 + 30))));
        let s = b.statuses(m(12 * 60 + 40)).remove(0);
        assert_eq!((s.in_adherence, s.today.outside_exception_s), (false, 600));
        b.excuse(&agent, m(12 * 60 + 30), m(12 * 60 + 40));
        let s = b.statuses(m(12 * 60 + 40)).remove(0);
        assert_eq!((s.today.excused_s, s.today.outside_exception_s), (600, 0), "excused time is in adherence");
    }

    #[test]
    fn periods_seeded_from_the_store_are_not_counted_twice() {
        let mut b = board(m(9 * 60 + 30));
        let agent = id("1001");
        let stored = AgentStateEvent {
            agent_id: agent.clone(),
            state: AgentState::Ready,
            reason: None,
            started_at: at(m(9 * 60)),
            ended_at: at(m(9 * 60 + 20)),
            queues: vec![],
        };
        b.seed_current(agent.clone(), AgentState::WrapUp, None, m(9 * 60 + 20));
        b.seed_periods(std::slice::from_ref(&stored));
        b.seed_periods(&[stored]);
        let s = b.statuses(m(9 * 60 + 30)).remove(0);
        assert_eq!((s.today.work_state_s, s.today.exception_s, s.state.as_str()), (1800, 0, "wrap_up"));
    }

    #[test]
    fn a_new_day_keeps_yesterday_only_and_midnight_is_a_deadline() {
        let mut b = board(m(12 * 60 + 30));
        assert_eq!(b.poll_timeout(), m(24 * 60), "nothing left today but midnight");
        b.state_changed(&id("1001"), AgentState::Ready, None, m(13 * 60));
        b.handle_timeout(m(24 * 60 + 1));
        let s = b.statuses(m(24 * 60 + 1)).remove(0);
        assert_eq!(s.date.to_string(), "2026-03-03");
        assert_eq!(s.today.outside_exception_s, 60, "the minute after midnight only: yesterday's evening belongs to yesterday");
    }
}
