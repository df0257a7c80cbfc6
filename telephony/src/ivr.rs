//! The IVR, sans-IO: a tenant's flow (TOML) chosen by the dialled number and the time of day,
//! walked by a caller's digits and timeouts. The caller's path and digits travel with the call.
//!
//! ```toml
//! [hours]                      # working hours, local time
//! days = ["mon", "tue", "wed", "thu", "fri"]
//! from = "08:00"
//! to = "20:00"
//!
//! [[numbers]]                  # a dialled number: where calls start, open and closed
//! number = "100"
//! open = "main"
//! closed = "after-hours"
//! # force = "closed"           # optional: ignore the clock
//!
//! [nodes.main]                 # a menu: one digit chooses
//! kind = "menu"
//! prompt = "main-menu.wav"
//! timeout_s = 5
//! retries = 2                  # after a wrong digit or silence; then on_fail
//! options = { "1" = "queue:support", "2" = "queue:billing" }
//! on_fail = "queue:support"
//!
//! [nodes.account]              # collect digits: `*` starts again, `#` or silence ends
//! kind = "collect"
//! prompt = "account.wav"
//! max_digits = 8
//! timeout_s = 5
//! next = "queue:billing"
//!
//! [nodes.after-hours]          # play a prompt, then go on
//! kind = "play"
//! prompt = "closed.wav"
//! next = "voicemail"
//! ```
//! A target is `queue:NAME`, `voicemail`, `hangup`, or the name of another node.

use chrono::{Datelike, NaiveDateTime, Timelike, Weekday};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;
use wfm_model::ClockTime;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IvrError {
    #[error("{file}: {message}")]
    File { file: String, message: String },
    #[error("{file}: `{key}`: {message}")]
    Key { file: String, key: String, message: String },
    #[error("no IVR entry for dialled number {0}")]
    UnknownNumber(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Queue(String),
    Voicemail,
    Hangup,
    Node(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Play { prompt: String, next: Target },
    Menu { prompt: String, timeout: Duration, retries: u32, options: BTreeMap<char, Target>, on_fail: Target },
    Collect { prompt: String, max_digits: usize, timeout: Duration, next: Target },
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    open: Target,
    closed: Target,
    force: Option<bool>,
    /// Callers of this number wait before those of lower priority (0 by default).
    priority: u8,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Hours {
    days: Vec<Weekday>,
    from_min: u32,
    to_min: u32,
}

/// A tenant's checked flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    hours: Hours,
    numbers: BTreeMap<String, Entry>,
    nodes: BTreeMap<String, Node>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileShape {
    hours: HoursFile,
    numbers: Vec<EntryFile>,
    #[serde(default)]
    nodes: BTreeMap<String, NodeFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HoursFile {
    days: Vec<String>,
    from: String,
    to: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryFile {
    number: String,
    open: String,
    closed: String,
    force: Option<String>,
    #[serde(default)]
    priority: u8,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeFile {
    kind: String,
    prompt: String,
    next: Option<String>,
    timeout_s: Option<u32>,
    retries: Option<u32>,
    options: Option<BTreeMap<String, String>>,
    on_fail: Option<String>,
    max_digits: Option<usize>,
}

impl Flow {
    /// Parses and checks a flow; `file` names it in errors, which also name the key.
    pub fn parse(file: &str, text: &str) -> Result<Self, IvrError> {
        let shape: FileShape = toml::from_str(text).map_err(|e| IvrError::File { file: file.into(), message: e.to_string() })?;
        let bad = |key: &str, message: String| IvrError::Key { file: file.into(), key: key.into(), message };
        let days = shape
            .hours
            .days
            .iter()
            .map(|d| d.parse::<Weekday>().map_err(|_| bad("hours.days", format!("{d:?} is not a day (mon … sun)"))))
            .collect::<Result<_, _>>()?;
        let from_min = ClockTime::parse(&shape.hours.from).map(ClockTime::minutes).ok_or_else(|| bad("hours.from", format!("{:?} is not a time HH:MM", shape.hours.from)))?;
        let to_min = ClockTime::parse(&shape.hours.to).map(ClockTime::minutes).ok_or_else(|| bad("hours.to", format!("{:?} is not a time HH:MM", shape.hours.to)))?;
        let target = |key: &str, s: &str| -> Result<Target, IvrError> {
            Ok(match s {
                "voicemail" => Target::Voicemail,
                "hangup" => Target::Hangup,
                _ => match s.strip_prefix("queue:") {
                    Some(q) if !q.is_empty() => Target::Queue(q.to_owned()),
                    Some(_) => return Err(bad(key, "a queue target needs a queue name".into())),
                    None if shape.nodes.contains_key(s) => Target::Node(s.to_owned()),
                    None => return Err(bad(key, format!("{s:?} is neither queue:NAME, voicemail, hangup nor a node"))),
                },
            })
        };
        let mut nodes = BTreeMap::new();
        for (name, n) in &shape.nodes {
            let key = |field: &str| format!("nodes.{name}.{field}");
            let required = |field: &str, v: Option<&String>| v.cloned().ok_or_else(|| bad(&key(field), "missing".into()));
            let timeout = Duration::from_secs(u64::from(n.timeout_s.unwrap_or(5).clamp(1, 60)));
            let node = match n.kind.as_str() {
                "play" => Node::Play { prompt: n.prompt.clone(), next: target(&key("next"), &required("next", n.next.as_ref())?)? },
                "menu" => {
                    let mut options = BTreeMap::new();
                    for (digit, to) in n.options.as_ref().ok_or_else(|| bad(&key("options"), "missing".into()))? {
                        let mut chars = digit.chars();
                        let (Some(d), None) = (chars.next(), chars.next()) else { return Err(bad(&key("options"), format!("{digit:?} is not one key"))) };
                        if !(d.is_ascii_digit() || d == '*' || d == '#') {
                            return Err(bad(&key("options"), format!("{digit:?} is not a key of the phone")));
                        }
                        options.insert(d, target(&key("options"), to)?);
                    }
                    Node::Menu {
                        prompt: n.prompt.clone(),
                        timeout,
                        retries: n.retries.unwrap_or(2).min(10),
                        options,
                        on_fail: target(&key("on_fail"), &required("on_fail", n.on_fail.as_ref())?)?,
                    }
                }
                "collect" => Node::Collect {
                    prompt: n.prompt.clone(),
                    max_digits: n.max_digits.unwrap_or(20).clamp(1, 64),
                    timeout,
                    next: target(&key("next"), &required("next", n.next.as_ref())?)?,
                },
                other => return Err(bad(&key("kind"), format!("{other:?} is not play, menu or collect"))),
            };
            nodes.insert(name.clone(), node);
        }
        let mut numbers = BTreeMap::new();
        for (i, e) in shape.numbers.iter().enumerate() {
            let key = |field: &str| format!("numbers[{i}].{field}");
            let force = match e.force.as_deref() {
                None => None,
                Some("open") => Some(true),
                Some("closed") => Some(false),
                Some(other) => return Err(bad(&key("force"), format!("{other:?} is not open or closed"))),
            };
            let entry = Entry { open: target(&key("open"), &e.open)?, closed: target(&key("closed"), &e.closed)?, force, priority: e.priority };
            if numbers.insert(e.number.clone(), entry).is_some() {
                return Err(bad(&key("number"), format!("{} appears twice", e.number)));
            }
        }
        Ok(Self { hours: Hours { days, from_min, to_min }, numbers, nodes })
    }

    /// The demo tenant's flow: `100` a two-option menu (1 support, 2 billing), `200` straight
    /// to support; after hours, a prompt and voicemail.
    pub fn demo() -> Self {
        Self::parse("demo IVR", DEMO).expect("the demo flow is valid")
    }

    fn open_at(&self, local: NaiveDateTime) -> bool {
        let minute = local.hour() * 60 + local.minute();
        self.hours.days.contains(&local.weekday()) && (self.hours.from_min..self.hours.to_min).contains(&minute)
    }
}

const DEMO: &str = r#"
[hours]
days = ["mon", "tue", "wed", "thu", "fri", "sat"]
from = "08:00"
to = "20:00"

[[numbers]]
number = "100"
open = "main"
closed = "after-hours"

[[numbers]]
number = "200"
open = "queue:support"
closed = "after-hours"

[nodes.main]
kind = "menu"
prompt = "main-menu.wav"
timeout_s = 5
retries = 2
options = { "1" = "queue:support", "2" = "queue:billing" }
on_fail = "queue:support"

[nodes.after-hours]
kind = "play"
prompt = "closed.wav"
next = "voicemail"
"#;

/// What the telephony layer does next for the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Play this prompt; listen for digits until `listen_until` (none: report when it ends).
    Play { prompt: String, listen_until: Option<Duration> },
    /// Keep listening, now until `until` (the time between digits starts again).
    Listen { until: Duration },
    /// The IVR is done: hand the call over, with the path and digits gathered.
    Done(Target),
}

/// One caller's walk through the flow.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Session {
    node: Option<String>,
    retries_used: u32,
    digits: String,
    /// Nodes visited, in order.
    pub path: Vec<String>,
    /// The caller's priority in queues, from the dialled number.
    pub priority: u8,
    /// What the caller keyed, per node: `main=1`, `account=1234`.
    pub entered: Vec<String>,
}

impl Session {
    /// The walk as the call record keeps it: nodes, then what was keyed, e.g. `main [main=1]`.
    pub fn describe(&self) -> Option<String> {
        if self.path.is_empty() {
            return None;
        }
        let mut text = self.path.join(">");
        if !self.entered.is_empty() {
            text.push_str(&format!(" [{}]", self.entered.join(",")));
        }
        Some(text)
    }
}

impl Flow {
    /// A call to `dialled` at local time `local` starts here.
    pub fn start(&self, dialled: &str, local: NaiveDateTime, now: Duration) -> Result<(Session, Step), IvrError> {
        let entry = self.numbers.get(dialled).ok_or_else(|| IvrError::UnknownNumber(dialled.to_owned()))?;
        let open = entry.force.unwrap_or_else(|| self.open_at(local));
        let mut session = Session { priority: entry.priority, ..Session::default() };
        let step = self.go(&mut session, if open { &entry.open } else { &entry.closed }, now);
        Ok((session, step))
    }

    /// Every prompt the flow plays, and every queue it sends callers to: what the tenant must have.
    pub fn needs(&self) -> (Vec<&str>, Vec<&str>) {
        let mut prompts = Vec::new();
        let mut targets: Vec<&Target> = self.numbers.values().flat_map(|e| [&e.open, &e.closed]).collect();
        for node in self.nodes.values() {
            match node {
                Node::Play { prompt, next } | Node::Collect { prompt, next, .. } => {
                    prompts.push(prompt.as_str());
                    targets.push(next);
                }
                Node::Menu { prompt, options, on_fail, .. } => {
                    prompts.push(prompt.as_str());
                    targets.extend(options.values());
                    targets.push(on_fail);
                }
            }
        }
        let queues = targets.into_iter().filter_map(|t| if let Target::Queue(q) = t { Some(q.as_str()) } else { None }).collect();
        (prompts, queues)
    }

    /// The dialled numbers whose calls start in this flow.
    pub fn numbers(&self) -> Vec<String> {
        self.numbers.keys().cloned().collect()
    }

    /// Whether calls to `dialled` start in this flow.
    pub fn has_number(&self, dialled: &str) -> bool {
        self.numbers.contains_key(dialled)
    }

    /// Sends a caller to a node by name (an overflow or a transfer into the IVR).
    pub fn enter(&self, s: &mut Session, node: &str, now: Duration) -> Step {
        self.go(s, &Target::Node(node.to_owned()), now)
    }

    fn go(&self, s: &mut Session, target: &Target, now: Duration) -> Step {
        let Target::Node(name) = target else {
            s.node = None;
            return Step::Done(target.clone());
        };
        s.node = Some(name.clone());
        s.retries_used = 0;
        s.digits.clear();
        s.path.push(name.clone());
        self.prompt(s, now)
    }

    fn prompt(&self, s: &Session, now: Duration) -> Step {
        match s.node.as_ref().and_then(|n| self.nodes.get(n)) {
            Some(Node::Play { prompt, .. }) => Step::Play { prompt: prompt.clone(), listen_until: None },
            Some(Node::Menu { prompt, timeout, .. } | Node::Collect { prompt, timeout, .. }) => Step::Play { prompt: prompt.clone(), listen_until: Some(now + *timeout) },
            None => Step::Done(Target::Hangup),
        }
    }

    /// The caller pressed `key` (an RFC 4733 event); `None` when the key changes nothing.
    pub fn key(&self, s: &mut Session, key: char, now: Duration) -> Option<Step> {
        let name = s.node.clone()?;
        match self.nodes.get(&name)? {
            // Barge-in is for menus and collection; a plain prompt plays on.
            Node::Play { .. } => None,
            Node::Menu { options, retries, on_fail, .. } => match options.get(&key) {
                Some(to) => {
                    s.entered.push(format!("{name}={key}"));
                    Some(self.go(s, to, now))
                }
                None => Some(self.retry(s, *retries, on_fail, now)),
            },
            Node::Collect { max_digits, next, timeout, .. } => match key {
                '*' => {
                    s.digits.clear();
                    Some(Step::Listen { until: now + *timeout })
                }
                '#' => Some(self.finish_collect(s, &name, next, now)),
                d if d.is_ascii_digit() => {
                    s.digits.push(d);
                    Some(if s.digits.len() >= *max_digits { self.finish_collect(s, &name, next, now) } else { Step::Listen { until: now + *timeout } })
                }
                _ => None,
            },
        }
    }

    fn finish_collect(&self, s: &mut Session, name: &str, next: &Target, now: Duration) -> Step {
        s.entered.push(format!("{name}={}", s.digits));
        self.go(s, next, now)
    }

    fn retry(&self, s: &mut Session, retries: u32, on_fail: &Target, now: Duration) -> Step {
        if s.retries_used >= retries {
            let on_fail = on_fail.clone();
            return self.go(s, &on_fail, now);
        }
        s.retries_used += 1;
        self.prompt(s, now)
    }

    /// Nothing was keyed by the time a `listen_until` passed.
    pub fn timeout(&self, s: &mut Session, now: Duration) -> Step {
        let Some(name) = s.node.clone() else { return Step::Done(Target::Hangup) };
        match self.nodes.get(&name) {
            Some(Node::Menu { retries, on_fail, .. }) => self.retry(s, *retries, on_fail, now),
            Some(Node::Collect { next, .. }) => self.finish_collect(s, &name, next, now),
            Some(Node::Play { next, .. }) => self.go(s, next, now),
            None => Step::Done(Target::Hangup),
        }
    }

    /// A prompt without listening (a `play` node) finished.
    pub fn prompt_finished(&self, s: &mut Session, now: Duration) -> Step {
        self.timeout(s, now)
    }
}

#[cfg(test)]
mod tests;
