//! Alarms in two levels (requirements §5): `alarms.toml`, rules on agents' states and on queues,
//! checked against what the live board and the ACD show now.
//!
//! Sans-IO: the time and observations in, raised, escalated, acknowledged and cleared alarms
//! out; the caller keeps them in the operational database and delivers them. Level 1 is for the
//! agent and the supervisors; an alarm neither cleared nor acknowledged within the rule's
//! `level2_after_s` goes to level 2, the managers. There is one open alarm per rule and
//! subject, so a flapping state does not send a storm: a cleared alarm is raised again only
//! after its condition has held for the rule's time again.

use crate::adherence::Ms;
use crate::live::AgentNow;
use crate::rules::StatePattern;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// What an alarm watches.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// An agent in a state (as `adherence.toml` writes them: `wrap_up`, `not_ready:*`).
    State(StatePattern),
    /// An agent out of adherence with the scheduled activity.
    OutOfAdherence,
    /// An agent logged in while nothing is scheduled.
    OutsideShift,
    /// A queue with at least this many calls waiting.
    CallsWaiting(u64),
    /// A queue whose longest waiting call has waited at least this many seconds.
    LongestWait(u64),
    /// A queue whose live service level (`kpis.toml`'s window and definition) is below this.
    ServiceLevelBelow(f64),
}

impl Condition {
    fn is_about_queues(&self) -> bool {
        matches!(self, Self::CallsWaiting(_) | Self::LongestWait(_) | Self::ServiceLevelBelow(_))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AlarmRule {
    /// Lower-case letters, digits and `-`.
    pub name: String,
    pub when: Condition,
    /// How long the condition must hold before the alarm is raised.
    pub longer_than_s: i64,
    /// Not cleared or acknowledged within this after it was raised: level 2 (0: never).
    pub level2_after_s: i64,
}

/// A tenant's alarm rules: those of its `alarms.toml`, else the built-in ones; and where
/// alarms are sent besides the event stream.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmRules {
    pub rules: Vec<AlarmRule>,
    pub delivery: Delivery,
}

/// Where alarms go besides the event stream (`[email]` and `[webhook]` of `alarms.toml`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Delivery {
    pub email: Option<Email>,
    pub webhook: Option<Webhook>,
}

/// E-mail on each raise and escalation, by SMTP.
#[derive(Debug, Clone, PartialEq)]
pub struct Email {
    /// `host:port` of the SMTP relay (plain SMTP: a relay on the site's network).
    pub smtp_host: String,
    pub smtp_port: u16,
    pub from: String,
    /// Told at level 1 and 2.
    pub supervisors: Vec<String>,
    /// Told at level 2.
    pub managers: Vec<String>,
    /// Agents' own addresses, by agent id: told of alarms about them.
    pub agents: BTreeMap<String, String>,
    /// Addresses of the people the surge ladder and incidents tell, by the name their lists use
    /// (a login or `role:NAME`).
    pub people: BTreeMap<String, String>,
}

impl Email {
    /// Who is written to about `alarm` at its level.
    pub fn addresses(&self, alarm: &Alarm) -> Vec<String> {
        let agent = alarm.subject.strip_prefix("agent:").and_then(|a| self.agents.get(a));
        let managers = if alarm.level >= 2 { &self.managers[..] } else { &[] };
        let mut to: Vec<String> = agent.into_iter().chain(&self.supervisors).chain(managers).cloned().collect();
        to.dedup();
        to
    }

    /// The addresses of a ladder's or incident's list: each name's in `people`, and
    /// `role:supervisor` and `role:manager` the supervisors' and managers', `agent:ID` the
    /// agent's in `agents`. Names without one are
    /// told on the event stream only.
    pub fn addresses_of(&self, who: &[String]) -> Vec<String> {
        let mut to: Vec<String> = Vec::new();
        for name in who {
            let listed = match name.as_str() {
                "role:supervisor" => &self.supervisors[..],
                "role:manager" => &self.managers[..],
                _ => &[],
            };
            let agent = name.strip_prefix("agent:").and_then(|a| self.agents.get(a));
            for address in self.people.get(name).into_iter().chain(listed).chain(agent) {
                if !to.contains(address) {
                    to.push(address.clone());
                }
            }
        }
        to
    }
}

/// Every alarm change POSTed as JSON, signed: `X-WFM-Signature: sha256=HEX`, the HMAC-SHA256 of
/// the body with the secret.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    /// `http://host:port/path`.
    pub url: String,
    pub secret: String,
}

#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct AlarmRulesError {
    pub file: String,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileShape {
    #[serde(default)]
    rule: Vec<RuleShape>,
    email: Option<EmailShape>,
    webhook: Option<WebhookShape>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmailShape {
    smtp: String,
    from: String,
    #[serde(default)]
    supervisors: Vec<String>,
    #[serde(default)]
    managers: Vec<String>,
    #[serde(default)]
    agents: BTreeMap<String, String>,
    #[serde(default)]
    people: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebhookShape {
    url: String,
    secret: String,
}

/// An address as it may go into an SMTP envelope: one `@`, no spaces or line breaks.
fn check_address(key: &str, address: &str) -> Result<(), String> {
    let ok = address.len() <= 254 && address.matches('@').count() == 1 && !address.starts_with('@') && !address.ends_with('@') && !address.chars().any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>');
    if ok {
        Ok(())
    } else {
        Err(format!("{key}: {address:?} is not an e-mail address"))
    }
}

impl EmailShape {
    fn check(self) -> Result<Email, String> {
        let (host, port) = self.smtp.rsplit_once(':').ok_or_else(|| format!("email.smtp: {:?} is not host:port", self.smtp))?;
        let port: u16 = port.parse().map_err(|_| format!("email.smtp: {port:?} is not a port"))?;
        if host.is_empty() {
            return Err(format!("email.smtp: {:?} has no host", self.smtp));
        }
        check_address("email.from", &self.from)?;
        for a in &self.supervisors {
            check_address("email.supervisors", a)?;
        }
        for a in &self.managers {
            check_address("email.managers", a)?;
        }
        for (agent, a) in &self.agents {
            check_address(&format!("email.agents.{agent}"), a)?;
        }
        for (name, a) in &self.people {
            check_address(&format!("email.people.{name}"), a)?;
        }
        Ok(Email { smtp_host: host.to_owned(), smtp_port: port, from: self.from, supervisors: self.supervisors, managers: self.managers, agents: self.agents, people: self.people })
    }
}

impl WebhookShape {
    /// The webhook of table `key` (`webhook`, `sms.webhook`), checked.
    pub(crate) fn check(self, key: &str) -> Result<Webhook, String> {
        if self.url.starts_with("https://") {
            return Err(format!("{key}.url: https is not supported; give an http:// endpoint on the site's network (or a relay)"));
        }
        let rest = self.url.strip_prefix("http://").ok_or_else(|| format!("{key}.url: {:?} does not start with http://", self.url))?;
        let host_port = rest.split('/').next().unwrap_or_default();
        if !host_port.rsplit_once(':').is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok()) {
            return Err(format!("{key}.url: {:?} needs host:port", self.url));
        }
        if self.secret.len() < 16 {
            return Err(format!("{key}.secret: at least 16 characters"));
        }
        Ok(Webhook { url: self.url, secret: self.secret })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleShape {
    name: String,
    when: String,
    #[serde(default)]
    longer_than_s: i64,
    at_least: Option<u64>,
    below: Option<f64>,
    #[serde(default)]
    level2_after_s: i64,
}

impl Default for AlarmRules {
    fn default() -> Self {
        let rule = |name: &str, when: Condition, longer_than_s, level2_after_s| AlarmRule { name: name.into(), when, longer_than_s, level2_after_s };
        let state = |s: &str| Condition::State(StatePattern::parse(s).expect("built-in state names"));
        Self {
            rules: vec![
                rule("not-ready-too-long", state("not_ready:*"), 900, 600),
                rule("wrap-up-too-long", state("wrap_up"), 300, 600),
                rule("ringing-unanswered", state("ringing"), 30, 300),
                rule("out-of-adherence", Condition::OutOfAdherence, 600, 900),
                rule("logged-in-outside-shift", Condition::OutsideShift, 900, 0),
                rule("calls-waiting", Condition::CallsWaiting(10), 30, 300),
                rule("longest-wait", Condition::LongestWait(120), 0, 300),
            ],
            delivery: Delivery::default(),
        }
    }
}

impl AlarmRules {
    /// Parses an `alarms.toml`; its rules, if it has any, replace the built-in ones. Errors name
    /// the rule and key.
    pub fn parse(file: &str, text: &str) -> Result<Self, AlarmRulesError> {
        let error = |message: String| AlarmRulesError { file: file.to_owned(), message };
        let mut shape: FileShape = toml::from_str(text).map_err(|e| error(e.to_string()))?;
        let mut rules: Vec<AlarmRule> = Vec::new();
        for (i, r) in std::mem::take(&mut shape.rule).into_iter().enumerate() {
            let at = |key: &str| format!("rule {} ({:?}), {key}", i + 1, r.name);
            if r.name.is_empty() || !r.name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
                return Err(error(format!("{}: lower-case letters, digits and `-` only", at("name"))));
            }
            if rules.iter().any(|other| other.name == r.name) {
                return Err(error(format!("{}: a second rule of that name", at("name"))));
            }
            if r.below.is_some() != (r.when == "service_level_below") {
                return Err(error(format!("{}: service_level_below, and only it, takes below (0–1)", at("below"))));
            }
            if let Some(b) = r.below
                && !(0.0..=1.0).contains(&b)
            {
                return Err(error(format!("{}: {b} is not between 0 and 1", at("below"))));
            }
            let when = match (r.when.as_str(), r.at_least) {
                ("service_level_below", None) => Condition::ServiceLevelBelow(r.below.unwrap_or_default()),
                ("calls_waiting", Some(n)) if n > 0 => Condition::CallsWaiting(n),
                ("longest_wait_s", Some(n)) if n > 0 => Condition::LongestWait(n),
                ("calls_waiting" | "longest_wait_s", _) => return Err(error(format!("{}: {} needs at_least ≥ 1", at("at_least"), r.when))),
                (_, Some(_)) => return Err(error(format!("{}: only calls_waiting and longest_wait_s take at_least", at("at_least")))),
                ("out_of_adherence", None) => Condition::OutOfAdherence,
                ("outside_shift", None) => Condition::OutsideShift,
                (state, None) => Condition::State(StatePattern::parse(state).map_err(|e| {
                    error(format!("{}: {e}, or out_of_adherence, outside_shift, calls_waiting, longest_wait_s, service_level_below", at("when")))
                })?),
            };
            for (key, value) in [("longer_than_s", r.longer_than_s), ("level2_after_s", r.level2_after_s)] {
                if value < 0 {
                    return Err(error(format!("{}: must not be negative", at(key))));
                }
            }
            rules.push(AlarmRule { name: r.name, when, longer_than_s: r.longer_than_s, level2_after_s: r.level2_after_s });
        }
        if rules.is_empty() {
            rules = Self::default().rules;
        }
        let delivery = Delivery {
            email: shape.email.map(EmailShape::check).transpose().map_err(error)?,
            webhook: shape.webhook.map(|w| w.check("webhook")).transpose().map_err(error)?,
        };
        Ok(Self { rules, delivery })
    }

    /// `path`'s rules, or the built-in ones when there is no such file.
    pub fn load_or_default(path: &std::path::Path) -> Result<Self, AlarmRulesError> {
        crate::load_or_default(path, Self::parse, |file, message| AlarmRulesError { file, message })
    }
}

/// What the alarms read of a queue now.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QueueNow<'a> {
    pub queue: &'a str,
    pub calls_waiting: u64,
    pub longest_wait_s: u64,
    /// The live window's headline service level; `None` without calls in the window.
    pub service_level: Option<f64>,
}

/// One alarm, open or closed, as it is kept and listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alarm {
    /// Unique: the raise time, the rule and the subject.
    pub id: String,
    pub rule: String,
    /// `agent:ID` or `queue:NAME`.
    pub subject: String,
    /// 1 or 2.
    pub level: u8,
    pub message: String,
    pub raised_ms: Ms,
    pub escalated_ms: Option<Ms>,
    pub acknowledged_ms: Option<Ms>,
    pub acknowledged_by: Option<String>,
    pub cleared_ms: Option<Ms>,
}

impl Alarm {
    /// Who is told: level 1 the agent it is about and the supervisors, level 2 the managers too.
    pub fn recipients(&self) -> Vec<String> {
        let mut to: Vec<String> = self.subject.strip_prefix("agent:").map(|a| format!("agent:{a}")).into_iter().collect();
        to.push("role:supervisor".into());
        if self.level >= 2 {
            to.push("role:manager".into());
        }
        to
    }
}

/// What happened to an alarm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Raised,
    Escalated,
    Acknowledged,
    Cleared,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Raised => "raised",
            Self::Escalated => "escalated",
            Self::Acknowledged => "acknowledged",
            Self::Cleared => "cleared",
        }
    }
}

/// A tenant's open alarms and the rules they follow.
pub struct AlarmBook {
    rules: AlarmRules,
    /// By rule and subject.
    open: BTreeMap<(String, String), Alarm>,
    /// Since when each queue condition has held.
    holding: HashMap<(String, String), Ms>,
}

impl AlarmBook {
    pub fn new(rules: AlarmRules) -> Self {
        Self { rules, open: BTreeMap::new(), holding: HashMap::new() }
    }

    pub fn set_rules(&mut self, rules: AlarmRules) {
        self.rules = rules;
    }

    pub fn delivery(&self) -> &Delivery {
        &self.rules.delivery
    }

    /// Alarms kept open in the database (a restart carries on with them).
    pub fn restore(&mut self, alarms: impl IntoIterator<Item = Alarm>) {
        for alarm in alarms.into_iter().filter(|a| a.cleared_ms.is_none()) {
            self.open.insert((alarm.rule.clone(), alarm.subject.clone()), alarm);
        }
    }

    pub fn open(&self) -> impl Iterator<Item = &Alarm> {
        self.open.values()
    }

    /// Checks every rule against every subject at `now`.
    pub fn check<'a>(&mut self, now: Ms, agents: impl Iterator<Item = AgentNow<'a>>, queues: &[QueueNow]) -> Vec<(Change, Alarm)> {
        // Since when each (rule, subject) has held, for the conditions that hold now.
        let mut holds: BTreeMap<(String, String), (Ms, String)> = BTreeMap::new();
        for agent in agents {
            for rule in self.rules.rules.iter().filter(|r| !r.when.is_about_queues()) {
                let since = match &rule.when {
                    Condition::State(pattern) => pattern.matches(agent.state, agent.reason).then_some(agent.state_since_ms),
                    Condition::OutOfAdherence => agent.out_of_adherence_since_ms,
                    Condition::OutsideShift => agent.outside_shift_since_ms,
                    Condition::CallsWaiting(_) | Condition::LongestWait(_) | Condition::ServiceLevelBelow(_) => None,
                };
                if let Some(since) = since {
                    let state = crate::adherence::state_name(agent.state, agent.reason);
                    let what = match &rule.when {
                        Condition::OutOfAdherence => format!("out of adherence ({state})"),
                        Condition::OutsideShift => format!("logged in outside the shift ({state})"),
                        _ => state,
                    };
                    holds.insert((rule.name.clone(), format!("agent:{}", agent.agent_id)), (since, format!("agent {} {what}", agent.agent_id)));
                }
            }
        }
        for queue in queues {
            for rule in self.rules.rules.iter().filter(|r| r.when.is_about_queues()) {
                let key = (rule.name.clone(), format!("queue:{}", queue.queue));
                let message = match rule.when {
                    Condition::CallsWaiting(n) if queue.calls_waiting >= n => format!("queue {}: {} calls waiting", queue.queue, queue.calls_waiting),
                    Condition::LongestWait(n) if queue.longest_wait_s >= n => format!("queue {}: a call waiting {} s", queue.queue, queue.longest_wait_s),
                    Condition::ServiceLevelBelow(target) if queue.service_level.is_some_and(|sl| sl < target) => {
                        format!("queue {}: service level {:.1} % below {:.1} %", queue.queue, queue.service_level.unwrap_or_default() * 100.0, target * 100.0)
                    }
                    _ => {
                        self.holding.remove(&key);
                        continue;
                    }
                };
                let since = *self.holding.entry(key.clone()).or_insert(now);
                holds.insert(key, (since, message));
            }
        }

        let mut changes = Vec::new();
        let rules: HashMap<&str, &AlarmRule> = self.rules.rules.iter().map(|r| (r.name.as_str(), r)).collect();
        // Clear what no longer holds (or whose rule is gone); escalate what waited too long.
        let keys: Vec<(String, String)> = self.open.keys().cloned().collect();
        for key in keys {
            let rule = rules.get(key.0.as_str());
            if rule.is_none() || !holds.contains_key(&key) {
                if let Some(mut alarm) = self.open.remove(&key) {
                    alarm.cleared_ms = Some(now);
                    changes.push((Change::Cleared, alarm));
                }
                continue;
            }
            let (Some(rule), Some(alarm)) = (rule, self.open.get_mut(&key)) else { continue };
            if alarm.level == 1 && alarm.acknowledged_ms.is_none() && rule.level2_after_s > 0 && now - alarm.raised_ms >= rule.level2_after_s * 1000 {
                alarm.level = 2;
                alarm.escalated_ms = Some(now);
                changes.push((Change::Escalated, alarm.clone()));
            }
        }
        for (key, (since, message)) in holds {
            let Some(rule) = rules.get(key.0.as_str()) else { continue };
            if self.open.contains_key(&key) || now - since < rule.longer_than_s * 1000 {
                continue;
            }
            let alarm = Alarm {
                id: format!("{now}-{}-{}", key.0, key.1),
                rule: key.0.clone(),
                subject: key.1.clone(),
                level: 1,
                message,
                raised_ms: now,
                escalated_ms: None,
                acknowledged_ms: None,
                acknowledged_by: None,
                cleared_ms: None,
            };
            changes.push((Change::Raised, alarm.clone()));
            self.open.insert(key, alarm);
        }
        changes
    }

    /// Someone took the alarm on: it stays open until its condition clears, and is not
    /// escalated further. `None` when no open alarm has that id.
    pub fn acknowledge(&mut self, id: &str, by: &str, now: Ms) -> Option<Alarm> {
        let alarm = self.open.values_mut().find(|a| a.id == id)?;
        if alarm.acknowledged_ms.is_none() {
            alarm.acknowledged_ms = Some(now);
            alarm.acknowledged_by = Some(by.to_owned());
        }
        Some(alarm.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wfm_model::{AgentId, AgentState};

    const S: Ms = 1000;

    fn agent<'a>(id: &'a AgentId, state: AgentState, reason: Option<&'static str>, since: Ms) -> AgentNow<'a> {
        AgentNow { agent_id: id, state, reason, state_since_ms: since, out_of_adherence_since_ms: None, outside_shift_since_ms: None }
    }

    #[test]
    fn not_ready_too_long_goes_to_level_two_and_clears() {
        let rules = AlarmRules::parse("alarms.toml", "[[rule]]\nname = \"nr\"\nwhen = \"not_ready:*\"\nlonger_than_s = 60\nlevel2_after_s = 30\n").unwrap();
        let mut book = AlarmBook::new(rules);
        let id = AgentId::parse("1001").unwrap();
        let lunch = || [agent(&id, AgentState::NotReady, Some("lunch"), 0)].into_iter();
        assert!(book.check(59 * S, lunch(), &[]).is_empty(), "under the rule's time");
        let raised = book.check(60 * S, lunch(), &[]);
        assert_eq!(raised.len(), 1);
        assert_eq!((raised[0].0, raised[0].1.level, raised[0].1.subject.as_str()), (Change::Raised, 1, "agent:1001"));
        assert_eq!(raised[0].1.recipients(), ["agent:1001", "role:supervisor"]);
        assert!(book.check(61 * S, lunch(), &[]).is_empty(), "one open alarm per rule and subject");
        let escalated = book.check(90 * S, lunch(), &[]);
        assert_eq!((escalated[0].0, escalated[0].1.level), (Change::Escalated, 2));
        assert!(escalated[0].1.recipients().contains(&"role:manager".to_owned()));
        let cleared = book.check(91 * S, [agent(&id, AgentState::Ready, None, 91 * S)].into_iter(), &[]);
        assert_eq!((cleared[0].0, cleared[0].1.cleared_ms), (Change::Cleared, Some(91 * S)));
        // Flapping back to not-ready does not re-raise at once.
        assert!(book.check(92 * S, [agent(&id, AgentState::NotReady, Some("lunch"), 92 * S)].into_iter(), &[]).is_empty());
    }

    #[test]
    fn an_acknowledged_alarm_is_not_escalated() {
        let mut book = AlarmBook::new(AlarmRules::default());
        let id = AgentId::parse("1001").unwrap();
        let ringing = || [agent(&id, AgentState::Ringing, None, 0)].into_iter();
        let raised = book.check(30 * S, ringing(), &[]);
        assert_eq!(raised[0].1.rule, "ringing-unanswered");
        let acked = book.acknowledge(&raised[0].1.id, "sup", 31 * S).unwrap();
        assert_eq!(acked.acknowledged_by.as_deref(), Some("sup"));
        assert!(book.check(10_000 * S, ringing(), &[]).is_empty());
        assert!(book.acknowledge("no-such-alarm", "sup", 0).is_none());
    }

    #[test]
    fn queue_conditions_must_hold_for_the_rule_time() {
        let mut book = AlarmBook::new(AlarmRules::default());
        let waiting = |n| [QueueNow { queue: "sales", calls_waiting: n, longest_wait_s: 10, service_level: None }];
        assert!(book.check(0, std::iter::empty(), &waiting(12)).is_empty());
        assert!(book.check(10 * S, std::iter::empty(), &waiting(3)).is_empty(), "the run broke");
        assert!(book.check(20 * S, std::iter::empty(), &waiting(12)).is_empty());
        let raised = book.check(50 * S, std::iter::empty(), &waiting(12));
        assert_eq!((raised[0].1.rule.as_str(), raised[0].1.message.as_str()), ("calls-waiting", "queue sales: 12 calls waiting"));
        let mut restarted = AlarmBook::new(AlarmRules::default());
        restarted.restore(book.open().cloned());
        assert!(restarted.check(51 * S, std::iter::empty(), &waiting(12)).is_empty(), "a restart carries on with the open alarm");
        assert_eq!(restarted.check(60 * S, std::iter::empty(), &waiting(0))[0].0, Change::Cleared);
    }

    #[test]
    fn bad_files_name_the_rule_and_key() {
        let err = |text: &str| AlarmRules::parse("alarms.toml", text).unwrap_err().to_string();
        assert!(err("[[rule]]\nname = \"x\"\nwhen = \"dancing\"\n").contains("rule 1 (\"x\"), when"));
        assert!(err("[[rule]]\nname = \"x\"\nwhen = \"calls_waiting\"\n").contains("at_least"));
        assert!(err("[[rule]]\nname = \"X Y\"\nwhen = \"ready\"\n").contains("name"));
        assert!(err("[[rule]]\nname = \"x\"\nwhen = \"ready\"\nlonger = 5\n").contains("unknown field"));
        assert!(err("[[rule]]\nname = \"x\"\nwhen = \"ready\"\n[[rule]]\nname = \"x\"\nwhen = \"wrap_up\"\n").contains("second rule"));
        assert!(err("[email]\nsmtp = \"relay\"\nfrom = \"a@b\"\n").contains("email.smtp"));
        assert!(err("[email]\nsmtp = \"relay:25\"\nfrom = \"a@b\"\nmanagers = [\"x\\r\\nRCPT TO:<e@f>\"]\n").contains("email.managers"));
        assert!(err("[webhook]\nurl = \"https://x:1/\"\nsecret = \"0123456789abcdef\"\n").contains("https"));
        assert!(err("[webhook]\nurl = \"http://x:1/\"\nsecret = \"short\"\n").contains("webhook.secret"));
        assert!(err("[[rule]]\nname = \"x\"\nwhen = \"service_level_below\"\n").contains("below"));
        assert!(err("[[rule]]\nname = \"x\"\nwhen = \"service_level_below\"\nbelow = 80\n").contains("between 0 and 1"));
        let sl = AlarmRules::parse("a", "[[rule]]\nname = \"sl\"\nwhen = \"service_level_below\"\nbelow = 0.8\nlonger_than_s = 60\n").unwrap();
        let mut book = AlarmBook::new(sl);
        let q = |sl| [QueueNow { queue: "sales", calls_waiting: 0, longest_wait_s: 0, service_level: sl }];
        assert!(book.check(0, std::iter::empty(), &q(Some(0.5))).is_empty());
        assert_eq!(book.check(60_000, std::iter::empty(), &q(Some(0.5)))[0].1.message, "queue sales: service level 50.0 % below 80.0 %");
        assert_eq!(book.check(61_000, std::iter::empty(), &q(None))[0].0, Change::Cleared, "no calls in the window: nothing to judge");
    }

    #[test]
    fn e_mail_goes_to_the_agent_and_supervisors_then_managers() {
        let text = "[email]\nsmtp = \"127.0.0.1:2525\"\nfrom = \"wfm@centre.example\"\nsupervisors = [\"sup@centre.example\"]\nmanagers = [\"boss@centre.example\"]\nagents = { \"1001\" = \"anna@centre.example\" }\n";
        let rules = AlarmRules::parse("alarms.toml", text).unwrap();
        assert_eq!(rules.rules, AlarmRules::default().rules, "no [[rule]]: the built-in ones");
        let email = rules.delivery.email.unwrap();
        let mut alarm = Alarm { id: "1".into(), rule: "r".into(), subject: "agent:1001".into(), level: 1, message: String::new(), raised_ms: 0, escalated_ms: None, acknowledged_ms: None, acknowledged_by: None, cleared_ms: None };
        assert_eq!(email.addresses(&alarm), ["anna@centre.example", "sup@centre.example"]);
        alarm.level = 2;
        assert_eq!(email.addresses(&alarm), ["anna@centre.example", "sup@centre.example", "boss@centre.example"]);
    }

    #[test]
    fn notices_go_to_the_people_of_a_list() {
        let text = "[email]\nsmtp = \"h:25\"\nfrom = \"wfm@c.example\"\nsupervisors = [\"sup@c.example\"]\npeople = { \"res1\" = \"r1@c.example\", \"role:supervisor\" = \"desk@c.example\" }\n";
        let email = AlarmRules::parse("alarms.toml", text).unwrap().delivery.email.unwrap();
        let who = ["role:supervisor", "res1", "nobody", "res1"].map(String::from);
        assert_eq!(email.addresses_of(&who), ["desk@c.example", "sup@c.example", "r1@c.example"], "each once; names without an address are left out");
        let bad = AlarmRules::parse("alarms.toml", &text.replace("r1@c.example", "r1 at c")).unwrap_err().to_string();
        assert!(bad.contains("email.people.res1"), "{bad}");
    }
}
