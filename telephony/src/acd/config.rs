//! A tenant's queues and agents from a TOML file (`wfm serve --acd FILE`):
//!
//! ```toml
//! max_on_break = 3                 # agents on break at once (optional)
//!
//! [queues.support]
//! strategy = "longest-idle"        # ring-all, round-robin, fewest-calls, least-talk-time, random, skill-level
//! ring_timeout_s = 15
//! wrap_up_s = 10
//! max_wait_s = 300                 # optional
//! max_length = 50                  # optional
//! overflow = "voicemail"           # on max wait or length: queue:NAME, ivr:NODE, voicemail, busy
//! when_nobody = "voicemail"        # when no agent of the queue is logged in
//! record = true
//!
//! [agents]
//! 1001 = { support = 2, billing = 1 }   # queue = skill level (higher is better)
//! ```
//! Errors name the file and the key.

use super::{Engine, QueueConfig, Strategy, Target};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {key}: {message}")]
pub struct ConfigError {
    pub file: String,
    pub key: String,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileShape {
    max_on_break: Option<usize>,
    queues: BTreeMap<String, QueueShape>,
    agents: BTreeMap<String, BTreeMap<String, u8>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QueueShape {
    #[serde(default = "longest_idle")]
    strategy: String,
    #[serde(default = "fifteen")]
    ring_timeout_s: u64,
    #[serde(default)]
    wrap_up_s: u64,
    max_wait_s: Option<u64>,
    max_length: Option<usize>,
    #[serde(default = "voicemail")]
    overflow: String,
    #[serde(default = "voicemail")]
    when_nobody: String,
    #[serde(default)]
    record: bool,
}

fn longest_idle() -> String {
    "longest-idle".into()
}
fn fifteen() -> u64 {
    15
}
fn voicemail() -> String {
    "voicemail".into()
}

fn strategy(name: &str) -> Option<Strategy> {
    Some(match name {
        "longest-idle" => Strategy::LongestIdle,
        "ring-all" => Strategy::RingAll,
        "round-robin" => Strategy::RoundRobin,
        "fewest-calls" => Strategy::FewestCalls,
        "least-talk-time" => Strategy::LeastTalkTime,
        "random" => Strategy::Random,
        "skill-level" => Strategy::SkillLevel,
        _ => return None,
    })
}

/// Reads a tenant's queues and agents into an engine.
pub fn parse(file: &str, text: &str) -> Result<Engine, ConfigError> {
    let bad = |key: &str, message: String| ConfigError { file: file.to_owned(), key: key.to_owned(), message };
    let shape: FileShape = toml::from_str(text).map_err(|e| {
        let message = e.message().to_owned();
        let key = e.span().map(|s| format!("line {}", text[..s.start].matches('\n').count() + 1)).unwrap_or_else(|| "file".into());
        bad(&key, message)
    })?;
    if shape.queues.is_empty() {
        return Err(bad("queues", "no queue".into()));
    }
    let target = |key: &str, value: &str| -> Result<Target, ConfigError> {
        match value {
            "voicemail" => Ok(Target::Voicemail),
            "busy" => Ok(Target::Busy),
            _ => match value.split_once(':') {
                Some(("queue", q)) if shape.queues.contains_key(q) => Ok(Target::Queue(q.to_owned())),
                Some(("queue", q)) => Err(bad(key, format!("no queue {q:?}"))),
                Some(("ivr", node)) if !node.is_empty() => Ok(Target::Ivr(node.to_owned())),
                _ => Err(bad(key, format!("{value:?} is not queue:NAME, ivr:NODE, voicemail or busy"))),
            },
        }
    };
    let mut queues = Vec::new();
    for (id, q) in &shape.queues {
        let key = |field: &str| format!("queues.{id}.{field}");
        // A name the store would refuse is refused here, not when the first call's record is.
        wfm_model::QueueName::parse(id).map_err(|e| bad(&format!("queues.{id}"), e.to_string()))?;
        if q.ring_timeout_s == 0 {
            return Err(bad(&key("ring_timeout_s"), "must be at least 1".into()));
        }
        queues.push(QueueConfig {
            id: id.clone(),
            strategy: strategy(&q.strategy).ok_or_else(|| bad(&key("strategy"), format!("unknown strategy {:?}", q.strategy)))?,
            ring_timeout: Duration::from_secs(q.ring_timeout_s),
            wrap_up: Duration::from_secs(q.wrap_up_s),
            max_wait: q.max_wait_s.map(Duration::from_secs),
            max_length: q.max_length,
            overflow: target(&key("overflow"), &q.overflow)?,
            when_nobody: target(&key("when_nobody"), &q.when_nobody)?,
            record: q.record,
        });
    }
    let mut engine = Engine::new(queues, shape.max_on_break, 1);
    for (agent, skills) in &shape.agents {
        if agent.is_empty() || agent.len() > 64 || !agent.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
            return Err(bad(&format!("agents.{agent}"), "an agent id is 1 to 64 letters, digits, `.`, `_` or `-`".into()));
        }
        if let Some(queue) = skills.keys().find(|q| !shape.queues.contains_key(*q)) {
            return Err(bad(&format!("agents.{agent}.{queue}"), "no such queue".into()));
        }
        let skills: Vec<(&str, u8)> = skills.iter().map(|(q, level)| (q.as_str(), *level)).collect();
        engine.add_agent(agent, &skills);
    }
    Ok(engine)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
max_on_break = 2
[queues.support]
strategy = "round-robin"
ring_timeout_s = 5
wrap_up_s = 0
max_wait_s = 30
overflow = "queue:billing"
record = true
[queues.billing]
when_nobody = "busy"
[agents]
1001 = { support = 2 }
1002 = { support = 1, billing = 1 }
"#;

    #[test]
    fn reads_queues_and_agents() {
        let engine = parse("acd.toml", GOOD).unwrap();
        let queues = engine.queue_configs();
        let support = queues.iter().find(|q| q.id == "support").unwrap();
        assert_eq!((support.strategy, support.ring_timeout, support.overflow.clone(), support.record), (Strategy::RoundRobin, Duration::from_secs(5), Target::Queue("billing".into()), true));
        let billing = queues.iter().find(|q| q.id == "billing").unwrap();
        assert_eq!((billing.ring_timeout, billing.when_nobody.clone(), billing.record), (Duration::from_secs(15), Target::Busy, false));
        assert_eq!(engine.agent_queues("1002"), ["billing", "support"]);
    }

    #[test]
    fn errors_name_the_file_and_key() {
        let error = |text: &str| parse("acd.toml", text).err().expect("an error").to_string();
        assert_eq!(error(&GOOD.replace("round-robin", "fastest")), "acd.toml: queues.support.strategy: unknown strategy \"fastest\"");
        assert_eq!(error(&GOOD.replace("queue:billing", "queue:sales")), "acd.toml: queues.support.overflow: no queue \"sales\"");
        assert_eq!(error(&GOOD.replace("1001 = { support = 2 }", "1001 = { sales = 2 }")), "acd.toml: agents.1001.sales: no such queue");
        assert!(error(&GOOD.replace("wrap_up_s = 0", "wrapup_s = 0")).starts_with("acd.toml: line 6: unknown field `wrapup_s`"), "{}", error(&GOOD.replace("wrap_up_s = 0", "wrapup_s = 0")));
    }
}
