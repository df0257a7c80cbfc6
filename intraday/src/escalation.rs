//! The surge ladder (seed 002): `escalation.toml` and a state machine per tenant with levels
//! 0–4, stepped up while the centre is out of control and down once it is back in control.
//!
//! Sans-IO: observations (the live service level and calls waiting) and the time in, the steps
//! of the timeline out — who is told, whose skills change, who is overdue. The caller keeps the
//! timeline, carries out the skill changes and sends the messages; [`Ladder::restore`] rebuilds
//! the machine from a kept timeline, so a restart continues it. `wfm escalation replay` runs the
//! same machine over a past day.

use crate::adherence::Ms;
use chrono::Timelike;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use wfm_analytics::stats::QueueIntervalStats;
use wfm_model::TenantZone;

/// `escalation.toml`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LadderRules {
    /// Out of control: the service level below this (or not known yet) and calls waiting at
    /// least `calls_waiting_at_least`, for `out_for_s`.
    pub service_level_below: f64,
    pub calls_waiting_at_least: u64,
    pub out_for_s: i64,
    /// Back in control for this long: one level down.
    pub back_for_s: i64,
    pub level1: Level1,
    pub level2: CallIn,
    pub level3: CallIn,
    pub level4: Level4,
    /// Level 3 (the back office) is called only inside these local hours: `(from, to)` minutes.
    pub working_hours: (u32, u32),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Level1 {
    /// Supervisors and senior agents told to take calls (logins).
    pub tell: Vec<String>,
    /// ACD agents given the affected queues' skills at once (agent ids).
    pub agents: Vec<String>,
}

/// A list called in: each must confirm and is expected within `arrive_within_s`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallIn {
    /// After the previous level, still out of control, for this long.
    pub after_s: i64,
    pub people: Vec<String>,
    pub arrive_within_s: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Level4 {
    pub after_s: i64,
    /// The centre manager(s), told to revise the plan.
    pub tell: Vec<String>,
}

impl Default for LadderRules {
    fn default() -> Self {
        Self {
            service_level_below: 0.8,
            calls_waiting_at_least: 5,
            out_for_s: 120,
            back_for_s: 600,
            level1: Level1 { tell: vec!["role:supervisor".into()], agents: vec![] },
            level2: CallIn { after_s: 1800, people: vec![], arrive_within_s: 1800 },
            level3: CallIn { after_s: 1800, people: vec![], arrive_within_s: 900 },
            level4: Level4 { after_s: 1800, tell: vec!["role:manager".into()] },
            working_hours: (8 * 60, 18 * 60),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct LadderRulesError {
    pub file: String,
    pub message: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileShape {
    out_of_control: Option<OutShape>,
    back_in_control: Option<BackShape>,
    level1: Option<Level1Shape>,
    level2: Option<CallInShape>,
    level3: Option<Level3Shape>,
    level4: Option<Level4Shape>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OutShape {
    service_level_below: Option<f64>,
    calls_waiting_at_least: Option<u64>,
    for_s: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BackShape {
    for_s: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Level1Shape {
    #[serde(default)]
    tell: Vec<String>,
    #[serde(default)]
    agents: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CallInShape {
    after_s: Option<i64>,
    #[serde(default)]
    people: Vec<String>,
    arrive_within_s: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Level3Shape {
    after_s: Option<i64>,
    #[serde(default)]
    people: Vec<String>,
    arrive_within_s: Option<i64>,
    working_hours: Option<[String; 2]>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Level4Shape {
    after_s: Option<i64>,
    #[serde(default)]
    tell: Vec<String>,
}

fn minutes(key: &str, text: &str) -> Result<u32, String> {
    let (h, m) = text.split_once(':').ok_or_else(|| format!("{key}: {text:?} is not HH:MM"))?;
    match (h.parse::<u32>(), m.parse::<u32>()) {
        (Ok(h), Ok(m)) if h <= 24 && m < 60 && h * 60 + m <= 24 * 60 => Ok(h * 60 + m),
        _ => Err(format!("{key}: {text:?} is not HH:MM")),
    }
}

impl LadderRules {
    /// Parses `escalation.toml`; every key is optional. Errors name the table and key.
    pub fn parse(file: &str, text: &str) -> Result<Self, LadderRulesError> {
        let error = |message: String| LadderRulesError { file: file.to_owned(), message };
        let shape: FileShape = toml::from_str(text).map_err(|e| error(e.to_string()))?;
        let mut r = Self::default();
        if let Some(o) = shape.out_of_control {
            r.service_level_below = o.service_level_below.unwrap_or(r.service_level_below);
            r.calls_waiting_at_least = o.calls_waiting_at_least.unwrap_or(r.calls_waiting_at_least);
            r.out_for_s = o.for_s.unwrap_or(r.out_for_s);
        }
        if let Some(b) = shape.back_in_control {
            r.back_for_s = b.for_s;
        }
        if let Some(l) = shape.level1 {
            r.level1 = Level1 { tell: l.tell, agents: l.agents };
        }
        if let Some(l) = shape.level2 {
            r.level2 = CallIn { after_s: l.after_s.unwrap_or(r.level2.after_s), people: l.people, arrive_within_s: l.arrive_within_s.unwrap_or(r.level2.arrive_within_s) };
        }
        if let Some(l) = shape.level3 {
            r.level3 = CallIn { after_s: l.after_s.unwrap_or(r.level3.after_s), people: l.people, arrive_within_s: l.arrive_within_s.unwrap_or(r.level3.arrive_within_s) };
            if let Some([from, to]) = l.working_hours {
                r.working_hours = (minutes("level3.working_hours", &from).map_err(error)?, minutes("level3.working_hours", &to).map_err(error)?);
            }
        }
        if let Some(l) = shape.level4 {
            r.level4 = Level4 { after_s: l.after_s.unwrap_or(r.level4.after_s), tell: l.tell };
        }
        if !(0.0..=1.0).contains(&r.service_level_below) {
            return Err(error(format!("out_of_control.service_level_below: {} is not between 0 and 1", r.service_level_below)));
        }
        for (key, value) in [
            ("out_of_control.for_s", r.out_for_s),
            ("back_in_control.for_s", r.back_for_s),
            ("level2.after_s", r.level2.after_s),
            ("level2.arrive_within_s", r.level2.arrive_within_s),
            ("level3.after_s", r.level3.after_s),
            ("level3.arrive_within_s", r.level3.arrive_within_s),
            ("level4.after_s", r.level4.after_s),
        ] {
            if value < 0 {
                return Err(error(format!("{key}: must not be negative")));
            }
        }
        Ok(r)
    }

    pub fn load_or_default(path: &std::path::Path) -> Result<Self, LadderRulesError> {
        crate::load_or_default(path, Self::parse, |file, message| LadderRulesError { file, message })
    }

    /// How long after reaching `level` the next one comes while still out of control.
    fn next_after_s(&self, level: u8) -> Option<i64> {
        match level {
            1 => Some(self.level2.after_s),
            2 => Some(self.level3.after_s),
            3 => Some(self.level4.after_s),
            _ => None,
        }
    }
}

/// What the ladder reads each time it is given the time.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub at_ms: Ms,
    /// The tenant's live headline service level; `None` without calls in the window.
    pub service_level: Option<f64>,
    pub calls_waiting: u64,
    /// Queues to reinforce at level 1: those with calls waiting or below the target.
    pub affected_queues: Vec<String>,
    /// Minutes since local midnight (working hours).
    pub local_minutes: u32,
    /// `(agent, queue)` skills the level-1 agents hold already: not added, nor taken back.
    pub skilled: BTreeSet<(String, String)>,
}

impl Observation {
    /// What the ladder reads at `at_ms` from the calls waiting per queue and the figures of the
    /// live window (per queue and for the tenant): the same for `wfm serve` and the replay. A
    /// queue is affected when calls wait in it or its service level is below the ladder's.
    pub fn new(
        at_ms: Ms,
        zone: TenantZone,
        waiting: &[(String, u64)],
        window: &[QueueIntervalStats],
        tenant_window: Option<&QueueIntervalStats>,
        rules: &LadderRules,
        skilled: BTreeSet<(String, String)>,
    ) -> Self {
        let below = |queue: &str| window.iter().any(|w| *w.queue == *queue && w.sl_with_abandons.is_some_and(|sl| sl < rules.service_level_below));
        let affected_queues = waiting.iter().filter(|(queue, n)| *n > 0 || below(queue)).map(|(queue, _)| queue.clone()).collect();
        let local = zone.local_time(chrono::DateTime::from_timestamp_millis(at_ms).unwrap_or_default());
        Self {
            at_ms,
            service_level: tenant_window.and_then(|w| w.sl_with_abandons),
            calls_waiting: waiting.iter().map(|(_, n)| n).sum(),
            affected_queues,
            local_minutes: local.hour() * 60 + local.minute(),
            skilled,
        }
    }
}

/// One entry of the escalation's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// The escalation this step belongs to: when its first `out_of_control` was seen.
    pub episode_ms: Ms,
    /// Its place in that escalation's timeline, from 0.
    pub seq: u32,
    pub at_ms: Ms,
    /// The level after this step.
    pub level: u8,
    /// `out_of_control`, `level_up`, `level_down`, `back_in_control`, `told`, `called_in`,
    /// `skill_added`, `skill_restored`, `confirmed`, `arrived`, `overdue`, `skipped`.
    pub event: String,
    pub detail: String,
    /// Logins told or called in, agents whose skills changed, who confirmed or arrived.
    #[serde(default)]
    pub who: Vec<String>,
    /// `(agent, queue)` of skill changes.
    #[serde(default)]
    pub skills: Vec<(String, String)>,
}

/// Someone called in at level 2 or 3.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CalledIn {
    pub login: String,
    pub level: u8,
    pub called_ms: Ms,
    pub due_ms: Ms,
    pub confirmed_ms: Option<Ms>,
    pub arrived_ms: Option<Ms>,
    pub overdue: bool,
}

/// The ladder of one tenant.
#[derive(Debug, Clone)]
pub struct Ladder {
    rules: LadderRules,
    level: u8,
    /// Since when the out-of-control (or back-in-control) condition has held unbroken.
    out_since: Option<Ms>,
    back_since: Option<Ms>,
    /// When the present level was reached.
    level_since: Ms,
    /// Skills the ladder added, to restore when it is back at 0.
    added: BTreeSet<(String, String)>,
    called: BTreeMap<String, CalledIn>,
    /// The present escalation's start; `None` at level 0 and in control.
    episode: Option<Ms>,
    /// The present (or last) escalation's steps.
    timeline: Vec<Step>,
}

impl Ladder {
    pub fn new(rules: LadderRules) -> Self {
        Self { rules, level: 0, out_since: None, back_since: None, level_since: 0, added: BTreeSet::new(), called: BTreeMap::new(), episode: None, timeline: Vec::new() }
    }

    pub fn set_rules(&mut self, rules: LadderRules) {
        self.rules = rules;
    }

    pub fn rules(&self) -> &LadderRules {
        &self.rules
    }

    pub fn level(&self) -> u8 {
        self.level
    }

    pub fn timeline(&self) -> &[Step] {
        &self.timeline
    }

    pub fn called_in(&self) -> impl Iterator<Item = &CalledIn> {
        self.called.values()
    }

    /// `(agent, queue)` skills the ladder added and has not taken back (to add again to an ACD
    /// that restarted).
    pub fn added_skills(&self) -> impl Iterator<Item = &(String, String)> {
        self.added.iter()
    }

    /// The escalation under way, if any: since when.
    pub fn episode(&self) -> Option<Ms> {
        self.episode
    }

    /// The machine as the kept steps of its last escalation left it (a restart continues it).
    pub fn restore(rules: LadderRules, timeline: Vec<Step>) -> Self {
        let mut ladder = Self::new(rules);
        for step in &timeline {
            ladder.episode.get_or_insert(step.episode_ms);
            ladder.apply(step);
        }
        ladder.settle();
        ladder.timeline = timeline;
        ladder
    }

    /// At level 0 and in control the escalation is over: nobody called in is awaited any more.
    fn settle(&mut self) {
        if self.level == 0 && self.out_since.is_none() {
            self.episode = None;
            self.called.clear();
        }
    }

    /// What a step changes in the machine (shared by live steps and [`Ladder::restore`]).
    fn apply(&mut self, step: &Step) {
        match step.event.as_str() {
            "out_of_control" => self.out_since = Some(step.at_ms),
            "level_up" | "level_down" => {
                self.level = step.level;
                self.level_since = step.at_ms;
                if step.event == "level_down" {
                    self.back_since = Some(step.at_ms);
                }
            }
            "back_in_control" => {
                self.out_since = None;
                self.back_since = Some(step.at_ms);
            }
            "skill_added" => self.added.extend(step.skills.iter().cloned()),
            "skill_restored" => {
                for s in &step.skills {
                    self.added.remove(s);
                }
            }
            "called_in" => {
                let within = if step.level == 2 { self.rules.level2.arrive_within_s } else { self.rules.level3.arrive_within_s };
                for login in &step.who {
                    self.called.insert(login.clone(), CalledIn { login: login.clone(), level: step.level, called_ms: step.at_ms, due_ms: step.at_ms + within * 1000, confirmed_ms: None, arrived_ms: None, overdue: false });
                }
            }
            "confirmed" | "arrived" | "overdue" => {
                for login in &step.who {
                    if let Some(c) = self.called.get_mut(login) {
                        match step.event.as_str() {
                            "confirmed" => c.confirmed_ms = Some(step.at_ms),
                            "arrived" => c.arrived_ms = Some(step.at_ms),
                            _ => c.overdue = true,
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn push(&mut self, out: &mut Vec<Step>, at_ms: Ms, event: &str, detail: String, who: Vec<String>, skills: Vec<(String, String)>) {
        if self.episode.is_none() {
            // A new escalation: the timeline is of this one.
            self.episode = Some(at_ms);
            self.timeline.clear();
        }
        let episode_ms = self.episode.unwrap_or(at_ms);
        let step = Step { episode_ms, seq: self.timeline.len() as u32, at_ms, level: self.level, event: event.into(), detail, who, skills };
        self.apply(&step);
        self.timeline.push(step.clone());
        out.push(step);
    }

    fn out_of_control(&self, o: &Observation) -> bool {
        o.calls_waiting >= self.rules.calls_waiting_at_least && o.service_level.is_none_or(|sl| sl < self.rules.service_level_below)
    }

    /// The time has come with what the centre looks like now: the steps taken.
    pub fn observe(&mut self, o: &Observation) -> Vec<Step> {
        let mut out = Vec::new();
        let now = o.at_ms;
        let r = self.rules.clone();
        if self.out_of_control(o) {
            self.back_since = None;
            if self.out_since.is_none() {
                let detail = format!("service level {} and {} calls waiting", percent(o.service_level), o.calls_waiting);
                self.push(&mut out, now, "out_of_control", detail, vec![], vec![]);
            }
            let out_since = self.out_since.unwrap_or(now);
            if self.level == 0 && now - out_since >= r.out_for_s * 1000 {
                self.level_up(&mut out, o, 1);
            } else if let Some(after) = r.next_after_s(self.level)
                && now - self.level_since >= after * 1000
            {
                let next = self.level + 1;
                self.level_up(&mut out, o, next);
            }
        } else if self.out_since.is_some() || self.level > 0 {
            if self.out_since.is_some() {
                let detail = format!("service level {} and {} calls waiting", percent(o.service_level), o.calls_waiting);
                self.push(&mut out, now, "back_in_control", detail, vec![], vec![]);
            }
            let back_since = self.back_since.unwrap_or(now);
            if self.level > 0 && now - back_since >= r.back_for_s * 1000 {
                self.level -= 1;
                let detail = format!("back in control for {} s", (now - back_since) / 1000);
                self.push(&mut out, now, "level_down", detail, vec![], vec![]);
                if self.level == 0 && !self.added.is_empty() {
                    let skills: Vec<(String, String)> = self.added.iter().cloned().collect();
                    self.push(&mut out, now, "skill_restored", "the skills added at level 1 are taken back".into(), skills.iter().map(|s| s.0.clone()).collect(), skills);
                }
            }
        }
        // Called-in people past their time.
        let overdue: Vec<String> = self.called.values().filter(|c| !c.overdue && c.arrived_ms.is_none() && now >= c.due_ms).map(|c| c.login.clone()).collect();
        if !overdue.is_empty() {
            self.push(&mut out, now, "overdue", "called in and not arrived in time".into(), overdue, vec![]);
        }
        self.settle();
        out
    }

    fn level_up(&mut self, out: &mut Vec<Step>, o: &Observation, level: u8) {
        let now = o.at_ms;
        let r = self.rules.clone();
        if level == 3 && !(r.working_hours.0..r.working_hours.1).contains(&o.local_minutes) {
            self.level = 3;
            self.push(out, now, "skipped", "level 3: outside working hours, the back office is not called".into(), vec![], vec![]);
            self.level = 2;
            self.level_up(out, o, 4);
            return;
        }
        self.level = level;
        self.push(out, now, "level_up", format!("level {level}"), vec![], vec![]);
        match level {
            1 => {
                self.push(out, now, "told", "take calls".into(), r.level1.tell.clone(), vec![]);
                let skills: Vec<(String, String)> =
                    r.level1.agents.iter().flat_map(|a| o.affected_queues.iter().map(move |q| (a.clone(), q.clone()))).filter(|s| !self.added.contains(s) && !o.skilled.contains(s)).collect();
                if !skills.is_empty() {
                    self.push(out, now, "skill_added", format!("the affected queues: {}", o.affected_queues.join(", ")), r.level1.agents.clone(), skills);
                }
            }
            2 | 3 => {
                let list = if level == 2 { &r.level2 } else { &r.level3 };
                let what = if level == 2 { "the reserve" } else { "the back office" };
                self.push(out, now, "called_in", format!("{what}: confirm and come in within {} min", list.arrive_within_s / 60), list.people.clone(), vec![]);
            }
            _ => self.push(out, now, "told", "revise the plan".into(), r.level4.tell.clone(), vec![]),
        }
    }

    /// Someone called in confirms they are coming; `None` if they were not called.
    pub fn confirm(&mut self, login: &str, at_ms: Ms) -> Option<Step> {
        let c = self.called.get(login)?;
        if c.confirmed_ms.is_some() {
            return None;
        }
        let mut out = Vec::new();
        self.push(&mut out, at_ms, "confirmed", format!("{login} confirmed"), vec![login.to_owned()], vec![]);
        out.pop()
    }

    /// Someone called in logged in (their agent id is `login` or mapped to it by the caller).
    pub fn arrived(&mut self, login: &str, at_ms: Ms) -> Option<Step> {
        let c = self.called.get(login)?;
        if c.arrived_ms.is_some() {
            return None;
        }
        let late = at_ms > c.due_ms;
        let mut out = Vec::new();
        self.push(&mut out, at_ms, "arrived", format!("{login} arrived{}", if late { " late" } else { "" }), vec![login.to_owned()], vec![]);
        out.pop()
    }
}

fn percent(sl: Option<f64>) -> String {
    sl.map_or("not known yet".into(), |sl| format!("{:.1} %", sl * 100.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Ms = 1000;

    fn rules() -> LadderRules {
        LadderRules::parse(
            "escalation.toml",
            "[out_of_control]\ncalls_waiting_at_least = 3\nfor_s = 10\n[back_in_control]\nfor_s = 20\n\
             [level1]\ntell = [\"sup\"]\nagents = [\"2001\"]\n[level2]\nafter_s = 30\npeople = [\"res1\", \"res2\"]\narrive_within_s = 40\n\
             [level3]\nafter_s = 30\npeople = [\"bo1\"]\nworking_hours = [\"08:00\", \"18:00\"]\n[level4]\nafter_s = 30\ntell = [\"boss\"]\n",
        )
        .unwrap()
    }

    fn obs(t: i64, waiting: u64, sl: Option<f64>) -> Observation {
        Observation { at_ms: t * S, service_level: sl, calls_waiting: waiting, affected_queues: vec!["support".into(), "sales".into()], local_minutes: 10 * 60, skilled: [("2001".to_owned(), "sales".to_owned())].into() }
    }

    fn events(steps: &[Step]) -> Vec<(u8, &str)> {
        steps.iter().map(|s| (s.level, s.event.as_str())).collect()
    }

    #[test]
    fn up_the_ladder_and_down_with_skills_restored() {
        let mut l = Ladder::new(rules());
        assert_eq!(events(&l.observe(&obs(0, 5, Some(0.5)))), [(0, "out_of_control")]);
        assert!(l.observe(&obs(9, 5, Some(0.5))).is_empty());
        let up = l.observe(&obs(10, 5, Some(0.5)));
        assert_eq!(events(&up), [(1, "level_up"), (1, "told"), (1, "skill_added")]);
        assert_eq!(up[2].skills, [("2001".to_owned(), "support".to_owned())]);
        assert_eq!(events(&l.observe(&obs(40, 5, None))), [(2, "level_up"), (2, "called_in")], "no SL yet with calls waiting is out of control");
        assert!(l.confirm("res1", 45 * S).is_some());
        assert!(l.confirm("res1", 46 * S).is_none(), "once");
        assert!(l.confirm("stranger", 46 * S).is_none());
        assert!(l.arrived("res1", 60 * S).is_some());
        assert_eq!(events(&l.observe(&obs(70, 5, Some(0.5)))), [(3, "level_up"), (3, "called_in")]);
        let later = l.observe(&obs(80, 5, Some(0.5)));
        assert_eq!((events(&later), later[0].who.clone()), (vec![(3, "overdue")], vec!["res2".to_owned()]), "res2 never came");
        assert_eq!(events(&l.observe(&obs(100, 5, Some(0.5)))), [(4, "level_up"), (4, "told")]);
        // Back in control: one level down per 20 s; the skills come back at 0.
        assert_eq!(events(&l.observe(&obs(110, 0, Some(0.9)))), [(4, "back_in_control")]);
        assert_eq!(events(&l.observe(&obs(130, 0, Some(0.9)))), [(3, "level_down")]);
        assert!(l.observe(&obs(140, 0, Some(0.9))).iter().all(|s| s.event == "overdue"));
        l.observe(&obs(150, 0, Some(0.9)));
        l.observe(&obs(170, 0, Some(0.9)));
        let last = l.observe(&obs(190, 0, Some(0.9)));
        assert_eq!(events(&last), [(0, "level_down"), (0, "skill_restored")]);
        assert_eq!(last[1].skills, [("2001".to_owned(), "support".to_owned())]);
        assert_eq!((l.level(), l.episode(), l.called_in().count()), (0, None, 0), "over: nobody is awaited");
        assert!(l.timeline().iter().all(|s| s.episode_ms == 0), "one escalation, kept whole");
        let restored = Ladder::restore(rules(), l.timeline().to_vec());
        assert_eq!((restored.level(), restored.added.len(), restored.episode()), (0, 0, None));
        // The next escalation starts a timeline of its own.
        l.observe(&obs(300, 5, Some(0.5)));
        assert_eq!((l.timeline().len(), l.episode()), (1, Some(300 * S)));
    }

    #[test]
    fn a_restart_keeps_who_is_called_in() {
        let mut l = Ladder::new(rules());
        for t in [0, 10, 40] {
            l.observe(&obs(t, 5, Some(0.5)));
        }
        l.confirm("res1", 45 * S);
        let again = Ladder::restore(rules(), l.timeline().to_vec());
        let c: Vec<(&str, bool, i64)> = again.called_in().map(|c| (c.login.as_str(), c.confirmed_ms.is_some(), c.due_ms)).collect();
        assert_eq!(c, [("res1", true, 80 * S), ("res2", false, 80 * S)]);
        assert_eq!((again.level(), again.episode()), (2, Some(0)));
    }

    #[test]
    fn a_restart_continues_the_timeline_and_night_skips_the_back_office() {
        let mut l = Ladder::new(rules());
        l.observe(&obs(0, 5, Some(0.5)));
        l.observe(&obs(10, 5, Some(0.5)));
        let mut again = Ladder::restore(rules(), l.timeline().to_vec());
        assert_eq!(again.level(), 1);
        assert_eq!(events(&again.observe(&obs(40, 5, Some(0.5)))), [(2, "level_up"), (2, "called_in")], "30 s after level 1 as kept");
        let night = Observation { local_minutes: 23 * 60, ..obs(70, 5, Some(0.5)) };
        assert_eq!(events(&again.observe(&night)), [(3, "skipped"), (4, "level_up"), (4, "told")]);
        assert_eq!(again.level(), 4);
    }

    #[test]
    fn bad_files_name_the_key() {
        let err = |t: &str| LadderRules::parse("escalation.toml", t).unwrap_err().to_string();
        assert!(err("[level3]\nworking_hours = [\"8\", \"18:00\"]\n").contains("level3.working_hours"));
        assert!(err("[level2]\nafter_s = -1\n").contains("level2.after_s"));
        assert!(err("[level2]\nafterwards = 1\n").contains("afterwards"));
        assert!(err("[out_of_control]\nservice_level_below = 80\n").contains("service_level_below"));
        assert_eq!(LadderRules::parse("e", "").unwrap(), LadderRules::default());
    }
}
