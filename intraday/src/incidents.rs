//! Incidents and failures (seeds 000 and 002): what failed, since when, who reported it and whom
//! it affects; its own escalation timers; the standard phrase agents say; what affected agents
//! do (the decision matrix); agents moved to the incident's not-ready code and back; and the
//! deferred cases agents take for requests that need the failed system.
//!
//! Sans-IO: [`IncidentBook`] holds the open incidents, takes the time and hands back the
//! incidents whose escalation went a step further; the caller keeps every incident (the whole
//! record, cases included) in the operational database before announcing it, and carries out
//! the agents' moves and the SMS hook.

use crate::adherence::Ms;
use crate::alarms::{Webhook, WebhookShape};
use chrono::{Datelike, Duration, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use wfm_model::TenantZone;

/// What failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Crm,
    Billing,
    Acd,
    Network,
    Power,
    Pc,
}

pub const KINDS: [Kind; 6] = [Kind::Crm, Kind::Billing, Kind::Acd, Kind::Network, Kind::Power, Kind::Pc];

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Crm => "crm",
            Kind::Billing => "billing",
            Kind::Acd => "acd",
            Kind::Network => "network",
            Kind::Power => "power",
            Kind::Pc => "pc",
        }
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        KINDS.into_iter().find(|k| k.as_str() == text).ok_or_else(|| format!("{text:?} is not one of {}", KINDS.map(Kind::as_str).join(", ")))
    }

    /// The back-office systems of the decision matrix.
    fn is_back_office(self) -> bool {
        matches!(self, Kind::Crm | Kind::Billing)
    }

    /// What agents say to callers while it lasts (seed 002; seed 000 for the systems).
    fn default_phrase(self) -> &'static str {
        match self {
            Kind::Crm | Kind::Billing | Kind::Pc => "At the moment we have no access to the information you ask for. I suggest you call back later. Thank you for your understanding.",
            Kind::Acd | Kind::Network | Kind::Power => "Our system has a fault and our engineers are repairing it.",
        }
    }
}

/// When an incident not yet fixed goes further.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timer {
    pub kinds: Vec<Kind>,
    pub after: After,
    /// Who is told (logins or `role:NAME`).
    pub tell: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum After {
    Seconds(i64),
    /// Working days (Monday to Friday, the tenant's zone) after the start.
    WorkingDays(u32),
}

/// `incidents.toml`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentRules {
    pub timers: Vec<Timer>,
    /// The not-ready reason of agents moved to an incident (the dedicated AUX code).
    pub not_ready_reason: String,
    pub phrases: BTreeMap<Kind, String>,
    #[serde(skip)]
    pub sms: Option<Sms>,
}

/// How a customer whose deferred case is done is told (no SMS gateway is built in).
#[derive(Debug, Clone, PartialEq)]
pub enum Sms {
    /// POSTed `{"to", "message", "incident", "case"}`, signed as the alarms' webhook.
    Webhook(Webhook),
    /// Run with the number and the message as its two last arguments.
    Command(Vec<String>),
}

impl Default for IncidentRules {
    fn default() -> Self {
        let timer = |kinds: &[Kind], after, tell: &[&str]| Timer { kinds: kinds.to_vec(), after, tell: tell.iter().map(|t| (*t).to_owned()).collect() };
        let systems = [Kind::Crm, Kind::Billing, Kind::Acd, Kind::Network];
        Self {
            timers: vec![
                timer(&systems, After::Seconds(1800), &["role:senior-manager"]),
                timer(&systems, After::Seconds(3600), &["role:manager", "role:system-manager"]),
                timer(&[Kind::Power], After::Seconds(1800), &["role:centre-manager"]),
                timer(&[Kind::Pc], After::WorkingDays(3), &["role:manager"]),
            ],
            not_ready_reason: "incident".into(),
            phrases: BTreeMap::new(),
            sms: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct IncidentRulesError {
    pub file: String,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileShape {
    not_ready_reason: Option<String>,
    timer: Option<Vec<TimerShape>>,
    #[serde(default)]
    phrases: BTreeMap<String, String>,
    sms: Option<SmsShape>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TimerShape {
    kinds: Vec<String>,
    after_s: Option<i64>,
    after_working_days: Option<u32>,
    tell: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SmsShape {
    webhook: Option<WebhookShape>,
    command: Option<Vec<String>>,
}

impl IncidentRules {
    /// Parses `incidents.toml`; every key is optional (`[[timer]]` tables replace the built-in
    /// timers). Errors name the key.
    pub fn parse(file: &str, text: &str) -> Result<Self, IncidentRulesError> {
        let error = |message: String| IncidentRulesError { file: file.to_owned(), message };
        let shape: FileShape = toml::from_str(text).map_err(|e| error(e.to_string()))?;
        let mut rules = Self::default();
        if let Some(reason) = shape.not_ready_reason {
            if reason.is_empty() || !reason.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-') {
                return Err(error(format!("not_ready_reason: {reason:?} is not a not-ready code (lower-case letters, digits, _ and -)")));
            }
            rules.not_ready_reason = reason;
        }
        if let Some(timers) = shape.timer {
            rules.timers = Vec::new();
            for (i, t) in timers.into_iter().enumerate() {
                let at = |key: &str| format!("timer {}, {key}", i + 1);
                let kinds = t.kinds.iter().map(|k| Kind::parse(k).map_err(|e| error(format!("{}: {e}", at("kinds"))))).collect::<Result<Vec<_>, _>>()?;
                let after = match (t.after_s, t.after_working_days) {
                    (Some(s), None) if s > 0 => After::Seconds(s),
                    (None, Some(d)) if d > 0 => After::WorkingDays(d),
                    _ => return Err(error(format!("{}: give one of after_s or after_working_days, above 0", at("after_s")))),
                };
                if kinds.is_empty() || t.tell.is_empty() {
                    return Err(error(format!("{}: kinds and tell must not be empty", at("kinds"))));
                }
                rules.timers.push(Timer { kinds, after, tell: t.tell });
            }
        }
        for (kind, phrase) in shape.phrases {
            let kind = Kind::parse(&kind).map_err(|e| error(format!("phrases.{kind}: {e}")))?;
            rules.phrases.insert(kind, phrase);
        }
        rules.sms = match shape.sms {
            None => None,
            Some(SmsShape { webhook: Some(w), command: None }) => Some(Sms::Webhook(w.check("sms.webhook").map_err(error)?)),
            Some(SmsShape { webhook: None, command: Some(c) }) if !c.is_empty() && !c[0].is_empty() => Some(Sms::Command(c)),
            Some(_) => return Err(error("sms: give one of webhook (url, secret) or command (a program and its arguments)".into())),
        };
        Ok(rules)
    }

    pub fn load_or_default(path: &std::path::Path) -> Result<Self, IncidentRulesError> {
        crate::load_or_default(path, Self::parse, |file, message| IncidentRulesError { file, message })
    }

    pub fn phrase(&self, kind: Kind) -> &str {
        self.phrases.get(&kind).map_or(kind.default_phrase(), String::as_str)
    }
}

/// An incident as it is kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// The incident number.
    pub id: String,
    pub kind: Kind,
    /// Which system or workstation (free text: "ACRM", "PC-114").
    pub system: String,
    pub description: String,
    pub reported_by: String,
    /// When the failure began (as reported).
    pub started_ms: Ms,
    pub reported_ms: Ms,
    /// Agent ids affected; empty: every agent of the tenant.
    pub affected: Vec<String>,
    pub fixed_ms: Option<Ms>,
    pub fixed_by: Option<String>,
    /// The timers that fired, in order (their index in the rules and whom they told).
    pub escalations: Vec<Escalated>,
    pub moved: Vec<Moved>,
    pub cases: Vec<DeferredCase>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Escalated {
    pub at_ms: Ms,
    pub timer: usize,
    pub tell: Vec<String>,
}

/// An agent moved to the incident's not-ready code (and back when it is fixed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Moved {
    pub agent: String,
    pub moved_ms: Ms,
    pub back_ms: Option<Ms>,
}

/// A request that needs the failed system, taken down to be worked after recovery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeferredCase {
    pub id: u32,
    pub customer_number: String,
    pub request: String,
    pub recorded_by: String,
    pub recorded_ms: Ms,
    pub assigned_to: Option<String>,
    pub done_ms: Option<Ms>,
    pub done_by: Option<String>,
    /// What the customer is told when it is done.
    pub outcome: Option<String>,
    /// When the SMS hook took the message; the error if it did not.
    pub customer_told_ms: Option<Ms>,
    pub customer_told_error: Option<String>,
}

/// What an affected agent does (seed 000's matrix).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Keep answering from other sources, with the standard phrase; take deferred cases.
    KeepAnswering,
    /// Leave the queue for other duties.
    OtherDuties,
}

/// What an agent affected by failures of `down` does while `calls_waiting` wait, and why:
/// their PC (or account) down, both back-office systems down, or a failure of the ACD, the
/// network or the power → other duties; one back-office system down → keep answering while
/// calls wait, else other duties. `None` when nothing affects them.
pub fn decide(down: &[Kind], calls_waiting: u64) -> Option<(Decision, &'static str)> {
    use Decision::{KeepAnswering, OtherDuties};
    if down.is_empty() {
        return None;
    }
    if down.contains(&Kind::Pc) {
        return Some((OtherDuties, "the agent's PC or account is down"));
    }
    if down.iter().any(|k| !k.is_back_office()) {
        return Some((OtherDuties, "the ACD, the network or the power has failed: log calls by hand and note call-backs"));
    }
    if down.contains(&Kind::Crm) && down.contains(&Kind::Billing) {
        return Some((OtherDuties, "both back-office systems are down"));
    }
    Some(if calls_waiting > 0 { (KeepAnswering, "one system is down and calls are waiting: keep answering with the standard phrase") } else { (OtherDuties, "one system is down and no call is waiting") })
}

impl Incident {
    pub fn affects(&self, agent: &str) -> bool {
        self.affected.is_empty() || self.affected.iter().any(|a| a == agent)
    }

    /// When timer `timer` of `rules` fires for this incident.
    fn due_ms(&self, timer: &Timer, zone: TenantZone) -> Ms {
        match timer.after {
            After::Seconds(s) => self.started_ms + s * 1000,
            After::WorkingDays(days) => working_days_after(zone, self.started_ms, days),
        }
    }
}

/// `days` working days (Monday to Friday) after `from_ms`, at the same local time.
fn working_days_after(zone: TenantZone, from_ms: Ms, days: u32) -> Ms {
    let start = chrono::DateTime::from_timestamp_millis(from_ms).unwrap_or_default();
    let mut local = zone.local_time(start);
    let mut left = days;
    while left > 0 {
        local += Duration::days(1);
        if !matches!(local.weekday(), Weekday::Sat | Weekday::Sun) {
            left -= 1;
        }
    }
    let offset_ms = local.and_utc().timestamp_millis() - zone.local_time(start).and_utc().timestamp_millis();
    from_ms + offset_ms
}

/// The open incidents of one tenant.
#[derive(Debug, Clone)]
pub struct IncidentBook {
    rules: IncidentRules,
    zone: TenantZone,
    open: BTreeMap<String, Incident>,
}

impl IncidentBook {
    pub fn new(rules: IncidentRules, zone: TenantZone) -> Self {
        Self { rules, zone, open: BTreeMap::new() }
    }

    pub fn rules(&self) -> &IncidentRules {
        &self.rules
    }

    pub fn set_rules(&mut self, rules: IncidentRules) {
        self.rules = rules;
    }

    /// The kept open incidents (after a restart).
    pub fn restore(&mut self, incidents: impl IntoIterator<Item = Incident>) {
        for incident in incidents.into_iter().filter(|i| i.fixed_ms.is_none()) {
            self.open.insert(incident.id.clone(), incident);
        }
    }

    pub fn open(&self) -> impl Iterator<Item = &Incident> {
        self.open.values()
    }

    pub fn get(&self, id: &str) -> Option<&Incident> {
        self.open.get(id)
    }

    /// Opens an incident (its number unique among the open ones, checked by the caller against
    /// the kept ones).
    pub fn report(&mut self, incident: Incident) -> Incident {
        self.open.insert(incident.id.clone(), incident.clone());
        incident
    }

    /// Changes an open incident; `None` if it is not open.
    pub fn change(&mut self, id: &str, f: impl FnOnce(&mut Incident)) -> Option<Incident> {
        let incident = self.open.get_mut(id)?;
        f(incident);
        let changed = incident.clone();
        if changed.fixed_ms.is_some() {
            self.open.remove(id);
        }
        Some(changed)
    }

    /// The kinds down for `agent` now.
    pub fn down_for(&self, agent: &str) -> Vec<Kind> {
        let mut kinds: Vec<Kind> = self.open.values().filter(|i| i.affects(agent)).map(|i| i.kind).collect();
        kinds.sort();
        kinds.dedup();
        kinds
    }

    /// The time has come: the incidents whose timers fired (each timer once per incident).
    pub fn check(&mut self, now: Ms) -> Vec<Incident> {
        let mut changed = Vec::new();
        for incident in self.open.values_mut() {
            let mut fired = false;
            for (index, timer) in self.rules.timers.iter().enumerate() {
                let done = incident.escalations.iter().any(|e| e.timer == index);
                if !done && timer.kinds.contains(&incident.kind) && now >= incident.due_ms(timer, self.zone) {
                    incident.escalations.push(Escalated { at_ms: now, timer: index, tell: timer.tell.clone() });
                    fired = true;
                }
            }
            if fired {
                changed.push(incident.clone());
            }
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Ms = 60_000;

    fn incident(kind: Kind, started_ms: Ms) -> Incident {
        Incident {
            id: "INC-1".into(),
            kind,
            system: "ACRM".into(),
            description: "timeouts".into(),
            reported_by: "demo/supervisor".into(),
            started_ms,
            reported_ms: started_ms,
            affected: vec![],
            fixed_ms: None,
            fixed_by: None,
            escalations: vec![],
            moved: vec![],
            cases: vec![],
        }
    }

    #[test]
    fn the_decision_matrix_of_seed_000() {
        use Decision::*;
        assert_eq!(decide(&[], 5), None);
        assert_eq!(decide(&[Kind::Pc], 5).unwrap().0, OtherDuties);
        assert_eq!(decide(&[Kind::Crm, Kind::Billing], 5).unwrap().0, OtherDuties);
        assert_eq!(decide(&[Kind::Crm], 5).unwrap().0, KeepAnswering);
        assert_eq!(decide(&[Kind::Billing], 0).unwrap().0, OtherDuties);
        assert_eq!(decide(&[Kind::Acd], 5).unwrap().0, OtherDuties);
    }

    #[test]
    fn an_application_failure_goes_to_the_senior_manager_at_30_min_and_further_at_60() {
        let start = 1_772_438_400_000; // Monday 2026-03-02 08:00 UTC
        let mut book = IncidentBook::new(IncidentRules::default(), TenantZone::utc());
        book.report(incident(Kind::Crm, start));
        assert!(book.check(start + 29 * MIN).is_empty());
        let at30 = book.check(start + 30 * MIN);
        assert_eq!(at30[0].escalations.last().unwrap().tell, ["role:senior-manager"]);
        assert!(book.check(start + 31 * MIN).is_empty(), "each timer once");
        let at60 = book.check(start + 60 * MIN);
        assert_eq!(at60[0].escalations.last().unwrap().tell, ["role:manager", "role:system-manager"]);
        assert!(book.check(start + 600 * MIN).is_empty(), "no further timer");
        // Fixed: no longer open, and a restart restores only open incidents.
        let fixed = book.change("INC-1", |i| i.fixed_ms = Some(start + 70 * MIN)).unwrap();
        assert_eq!(book.open().count(), 0);
        let mut again = IncidentBook::new(IncidentRules::default(), TenantZone::utc());
        again.restore([fixed, incident(Kind::Power, start)]);
        assert_eq!(again.open().map(|i| i.kind).collect::<Vec<_>>(), [Kind::Power]);
        assert_eq!(again.check(start + 30 * MIN)[0].escalations[0].tell, ["role:centre-manager"]);
    }

    #[test]
    fn a_pc_not_fixed_in_three_working_days_goes_to_the_next_level() {
        let friday = 1_772_787_600_000; // Friday 2026-03-06 09:00 UTC
        let mut book = IncidentBook::new(IncidentRules::default(), TenantZone::utc());
        book.report(incident(Kind::Pc, friday));
        // Monday, Tuesday, Wednesday: due on Wednesday 2026-03-11 09:00.
        assert!(book.check(friday + 3 * 24 * 60 * MIN).is_empty(), "Monday is one working day on");
        assert!(book.check(friday + 5 * 24 * 60 * MIN - 1).is_empty());
        assert_eq!(book.check(friday + 5 * 24 * 60 * MIN).len(), 1);
    }

    #[test]
    fn the_file_replaces_timers_and_phrases_and_names_bad_keys() {
        let rules = IncidentRules::parse(
            "incidents.toml",
            "not_ready_reason = \"inc\"\n[[timer]]\nkinds = [\"acd\"]\nafter_s = 5\ntell = [\"boss\"]\n[phrases]\ncrm = \"Sorry.\"\n[sms]\ncommand = [\"/bin/true\"]\n",
        )
        .unwrap();
        assert_eq!((rules.timers.len(), rules.not_ready_reason.as_str(), rules.phrase(Kind::Crm)), (1, "inc", "Sorry."));
        assert!(rules.phrase(Kind::Acd).contains("engineers"));
        assert_eq!(rules.sms, Some(Sms::Command(vec!["/bin/true".into()])));
        let err = |t: &str| IncidentRules::parse("incidents.toml", t).unwrap_err().to_string();
        assert!(err("[[timer]]\nkinds = [\"fax\"]\nafter_s = 5\ntell = [\"x\"]\n").contains("timer 1, kinds"));
        assert!(err("[[timer]]\nkinds = [\"pc\"]\ntell = [\"x\"]\n").contains("after_s or after_working_days"));
        assert!(err("[phrases]\nfax = \"x\"\n").contains("phrases.fax"));
        assert!(err("[sms]\nwebhook = { url = \"http://h:1/\", secret = \"short\" }\n").contains("sms.webhook.secret"));
        assert!(err("not_ready_reason = \"Not Ready\"\n").contains("not_ready_reason"));
        assert!(err("colour = 1\n").contains("colour"));
    }
}
