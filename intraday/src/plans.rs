//! The published roster as adherence reads it: each agent's on-shift activities and leave per
//! local date, and the day an agent is judged with (a night shift's morning belongs to the date
//! it began).

use crate::adherence::{shift_span, AgentDay, Ms, Period, Planned};
use chrono::{Duration, NaiveDate};
use std::collections::BTreeMap;
use wfm_model::AgentId;
use wfm_scheduler::roster::{ActivityKind, Roster};

/// One agent's plan of one date.
#[derive(Debug, Default)]
pub(crate) struct DayPlan {
    pub(crate) shift: Vec<Planned>,
    pub(crate) on_leave: bool,
}

/// The roster by agent and date.
#[derive(Debug, Default)]
pub(crate) struct Plans {
    pub(crate) by_agent: BTreeMap<AgentId, BTreeMap<NaiveDate, DayPlan>>,
}

impl Plans {
    pub(crate) fn new(roster: &Roster) -> Self {
        let mut by_agent: BTreeMap<AgentId, BTreeMap<NaiveDate, DayPlan>> = BTreeMap::new();
        for a in &roster.activities {
            let plan = by_agent.entry(a.agent_id.clone()).or_default().entry(a.date).or_default();
            match a.kind {
                ActivityKind::Leave => plan.on_leave = true,
                ActivityKind::DayOff => {}
                kind => plan.shift.push(Planned { kind, start_ms: a.start.timestamp_millis(), end_ms: a.end.timestamp_millis() }),
            }
        }
        for plan in by_agent.values_mut().flat_map(|days| days.values_mut()) {
            plan.shift.sort_by_key(|p| (p.start_ms, p.end_ms));
        }
        Self { by_agent }
    }

    pub(crate) fn get(&self, agent: &AgentId, date: NaiveDate) -> Option<&DayPlan> {
        self.by_agent.get(agent)?.get(&date)
    }

    /// The agents the roster plans on `date`.
    pub(crate) fn planned_on(&self, date: NaiveDate) -> impl Iterator<Item = &AgentId> {
        self.by_agent.iter().filter(move |(_, days)| days.contains_key(&date)).map(|(agent, _)| agent)
    }

    /// The spans of the shifts of the dates either side of `date` (they may overlap its window).
    pub(crate) fn neighbours(&self, agent: &AgentId, date: NaiveDate) -> Vec<(Ms, Ms)> {
        [date - Duration::days(1), date + Duration::days(1)].into_iter().filter_map(|d| self.get(agent, d).and_then(|p| shift_span(&p.shift))).collect()
    }

    /// What [`crate::evaluate`] needs of `agent` on `date`, but for the periods and excusals.
    pub(crate) fn agent_day<'a>(&'a self, agent: &AgentId, date: NaiveDate, day: (Ms, Ms), other_shifts: &'a [(Ms, Ms)], periods: &'a [Period<'a>], excused: &'a [(Ms, Ms)]) -> AgentDay<'a> {
        let plan = self.get(agent, date);
        AgentDay { day, shift: plan.map_or(&[][..], |p| &p.shift), on_leave: plan.is_some_and(|p| p.on_leave), other_shifts, periods, excused, until_ms: None }
    }
}
