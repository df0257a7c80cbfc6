//! Asterisk `queue_log` (`epoch|callid|queue|agent|event|data1|…`), as written by Asterisk,
//! FreePBX and Wazo, mapped onto call records and agent-state periods (see `docs/import.md`).
//!
//! Each queue stay of a call (ENTERQUEUE … exit) becomes one call record; the first stay of a
//! callid keeps the callid, later ones (re-entry after a transfer) get `-2`, `-3`, …, so that
//! importing the same lines again yields the same ids. Agent states are rebuilt from
//! membership, pauses, ringing and calls.

use super::{BadLines, LineError, LineErrors, MemberMap};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use wfm_model::{AgentId, AgentState, AgentStateEvent, CallRecord, Channel, Direction, ExitReason, QueueName, TenantZone};

/// What a set of queue_log files held.
#[derive(Debug, Default)]
pub struct QueueLogBatch {
    pub calls: Vec<CallRecord>,
    pub states: Vec<AgentStateEvent>,
    pub skipped: Vec<LineError>,
    /// Events this importer does not map, by name, with their counts.
    pub unknown_events: BTreeMap<String, u64>,
    /// Queue stays with no exit event by the end of the input: not imported.
    pub open_calls: usize,
    /// Call events for a callid with no open queue stay (e.g. its ENTERQUEUE is in an earlier file).
    pub orphan_events: u64,
    pub lines: u64,
}

/// One input file's text.
pub struct Source<'a> {
    pub path: &'a Path,
    pub text: &'a str,
}

struct Line<'a> {
    file: &'a Path,
    number: u64,
    at_ms: i64,
    callid: &'a str,
    queue: &'a str,
    agent: &'a str,
    event: &'a str,
    data: Vec<&'a str>,
}

impl Line<'_> {
    fn data(&self, i: usize) -> &str {
        self.data.get(i).copied().unwrap_or("")
    }

    /// Whole seconds in data field `i`, as milliseconds; absent or empty reads as `None`.
    fn seconds(&self, i: usize) -> Result<Option<i64>, LineError> {
        let v = self.data(i).trim();
        if v.is_empty() {
            return Ok(None);
        }
        v.parse::<i64>()
            .ok()
            .filter(|s| (0..=30 * 86_400).contains(s))
            .map(|s| Some(s * 1000))
            .ok_or_else(|| self.error(&format!("data{}", i + 1), format!("{v:?} is not a number of seconds")))
    }

    fn millis(&self, i: usize) -> Result<i64, LineError> {
        let v = self.data(i).trim();
        v.parse::<i64>()
            .ok()
            .filter(|ms| (0..=30 * 86_400_000).contains(ms))
            .ok_or_else(|| self.error(&format!("data{}", i + 1), format!("{v:?} is not a number of milliseconds")))
    }

    fn error(&self, field: &str, message: String) -> LineError {
        LineError { file: self.file.to_owned(), line: self.number, field: field.to_owned(), message }
    }

    fn agent_id(&self, members: &MemberMap) -> Result<AgentId, LineError> {
        members.agent_id(self.agent.trim()).map_err(|e| self.error("agent", e.to_string()))
    }

    fn queue_name(&self) -> Result<QueueName, LineError> {
        QueueName::parse(self.queue.trim()).map_err(|e| self.error("queue", e.to_string()))
    }
}

fn parse_line<'a>(file: &'a Path, number: u64, text: &'a str, zone: TenantZone) -> Result<Line<'a>, LineError> {
    let fail = |field: &str, message: String| LineError { file: file.to_owned(), line: number, field: field.to_owned(), message };
    let mut fields = text.split('|');
    let epoch = fields.next().unwrap_or("").trim();
    let (Some(callid), Some(queue), Some(agent), Some(event)) = (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return Err(fail("event", "fewer than 5 fields (expected epoch|callid|queue|agent|event|data…)".into()));
    };
    let at_ms = parse_epoch(epoch, zone).map_err(|m| fail("epoch", m))?;
    if event.trim().is_empty() {
        return Err(fail("event", "empty".into()));
    }
    Ok(Line { file, number, at_ms, callid: callid.trim(), queue, agent, event: event.trim(), data: fields.collect() })
}

/// Unix seconds (with an optional fraction), or the realtime back-ends' local
/// `YYYY-MM-DD HH:MM:SS[.ffffff]`.
fn parse_epoch(text: &str, zone: TenantZone) -> Result<i64, String> {
    if text.contains('-') {
        return super::csv::parse_timestamp(text, zone).map(|t| t.timestamp_millis());
    }
    let seconds: f64 = text.parse().map_err(|_| format!("{text:?} is not a Unix time"))?;
    // Between 1990 and 2100: anything else is a corrupted line, not a call.
    if !(631_152_000.0..4_102_444_800.0).contains(&seconds) {
        return Err(format!("{text} is not a plausible Unix time"));
    }
    Ok((seconds * 1000.0).round() as i64)
}

fn ts(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).expect("plausible epoch")
}

/// One call's stay in one queue, while it is open.
struct Stay {
    call_id: String,
    queue: QueueName,
    caller: Option<String>,
    dialled: Option<String>,
    arrived_ms: i64,
    entered_ms: i64,
    answered: Option<(i64, AgentId, i64)>,
}

#[derive(Default)]
struct AgentTimeline {
    queues: BTreeSet<QueueName>,
    agent_login: bool,
    pause_reason: Option<Option<String>>,
    on_call: bool,
    /// The open period: state, reason, start. `None` while the state is unknown.
    current: Option<(AgentState, Option<String>, i64)>,
}

impl AgentTimeline {
    fn logged_in(&self) -> bool {
        self.agent_login || !self.queues.is_empty()
    }

    /// What the agent is doing now, if the log has told us.
    fn state(&self) -> Option<(AgentState, Option<String>)> {
        if self.on_call {
            return Some((AgentState::OnCall, None));
        }
        if !self.logged_in() {
            // Never logged in during the log: unknown. Logged out later: known.
            return self.current.as_ref().map(|_| (AgentState::LoggedOut, None));
        }
        Some(match &self.pause_reason {
            Some(reason) => (AgentState::NotReady, reason.clone()),
            None => (AgentState::Ready, None),
        })
    }
}

struct Importer<'m> {
    members: &'m MemberMap,
    stays: HashMap<String, Stay>,
    stays_seen: HashMap<String, u32>,
    dialled: HashMap<String, (String, i64)>,
    agents: HashMap<AgentId, AgentTimeline>,
    batch: QueueLogBatch,
}

impl Importer<'_> {
    /// The agent's timeline, created on first sight (without cloning the id on every event).
    fn timeline(&mut self, agent: &AgentId) -> &mut AgentTimeline {
        if !self.agents.contains_key(agent) {
            self.agents.insert(agent.clone(), AgentTimeline::default());
        }
        self.agents.get_mut(agent).expect("inserted above")
    }

    fn emit_state(&mut self, agent: &AgentId, state: AgentState, reason: Option<String>, from: i64, to: i64) {
        if to <= from {
            return;
        }
        let queues = self.agents.get(agent).map(|a| a.queues.iter().cloned().collect()).unwrap_or_default();
        self.batch.states.push(AgentStateEvent {
            agent_id: agent.clone(),
            state,
            reason,
            started_at: ts(from),
            ended_at: ts(to),
            queues,
        });
    }

    /// Closes the open period if the agent's state changed, and opens the new one.
    fn settle(&mut self, agent: &AgentId, at: i64) {
        let timeline = self.timeline(agent);
        let now = timeline.state();
        let open = timeline.current.clone();
        if open.as_ref().map(|(s, r, _)| (*s, r.clone())) == now {
            return;
        }
        timeline.current = now.map(|(s, r)| (s, r, at));
        if let Some((state, reason, start)) = open {
            self.emit_state(agent, state, reason, start, at);
        }
    }

    /// A ring of `ring_ms` that ended at `at`, cut out of whatever period was open.
    fn ring(&mut self, agent: &AgentId, at: i64, ring_ms: i64) {
        let timeline = self.timeline(agent);
        let open = timeline.current.clone();
        let start = at - ring_ms;
        match open {
            Some((state, reason, open_start)) => {
                let start = start.max(open_start);
                self.emit_state(agent, state, reason.clone(), open_start, start);
                self.emit_state(agent, AgentState::Ringing, None, start, at);
                self.agents.get_mut(agent).expect("entry above").current = Some((state, reason, at));
            }
            None => self.emit_state(agent, AgentState::Ringing, None, start, at),
        }
    }

    fn close_stay(&mut self, stay: Stay, at: i64, exit: Exit) {
        let (answered_at, agent_id, ring_ms) = match stay.answered {
            Some((at, agent, ring)) => (Some(at), Some(agent), ring),
            None => (None, None, 0),
        };
        let (exit_reason, talk_ms, transfer_target) = match exit {
            Exit::Left(_) if answered_at.is_some() => (ExitReason::Answered, at - answered_at.unwrap_or(at), None),
            Exit::Left(reason) => (reason, 0, None),
            Exit::Completed { talk_ms, transfer_target } if answered_at.is_some() => {
                (ExitReason::Answered, talk_ms.unwrap_or(at - answered_at.unwrap_or(at)), transfer_target)
            }
            Exit::Completed { .. } => (ExitReason::Transfer, 0, None),
        };
        let left_queue_ms = answered_at.map_or(at, |a| a.max(stay.entered_ms));
        let answered_at = answered_at.map(|a| a.max(stay.entered_ms));
        self.batch.calls.push(CallRecord {
            call_id: stay.call_id,
            channel: Channel::Voice,
            direction: Direction::Inbound,
            caller_number: stay.caller,
            dialled_number: stay.dialled,
            queue: Some(stay.queue),
            priority: 0,
            arrived_at: ts(stay.arrived_ms),
            queued_at: Some(ts(stay.entered_ms)),
            answered_at: answered_at.map(ts),
            ended_at: ts(at.max(left_queue_ms)),
            wait_ms: Some(left_queue_ms - stay.entered_ms),
            abandoned: exit_reason == ExitReason::Abandoned,
            exit_reason,
            agent_id,
            ring_ms,
            talk_ms,
            hold_ms: 0,
            wrap_ms: 0,
            transfer_target,
            disposition: None,
            ivr_path: None,
            sip_call_id: None,
            recording: None,
        });
    }

    fn call_ended(&mut self, line: &Line, exit: Exit) {
        let Some(stay) = self.stays.remove(line.callid) else {
            self.batch.orphan_events += 1;
            return;
        };
        let agent = stay.answered.as_ref().map(|(_, a, _)| a.clone());
        self.close_stay(stay, line.at_ms, exit);
        if let Some(agent) = agent {
            self.timeline(&agent).on_call = false;
            self.settle(&agent, line.at_ms);
        }
    }

    fn apply(&mut self, line: &Line) -> Result<(), LineError> {
        let at = line.at_ms;
        match line.event {
            "DID" => {
                self.dialled.insert(line.callid.to_owned(), (line.data(0).trim().to_owned(), at));
            }
            "ENTERQUEUE" => {
                let queue = line.queue_name()?;
                if let Some(previous) = self.stays.remove(line.callid) {
                    // Re-entered without an exit line: it was moved (transferred) on.
                    let agent = previous.answered.as_ref().map(|(_, a, _)| a.clone());
                    self.close_stay(previous, at, Exit::Completed { talk_ms: None, transfer_target: Some(queue.to_string()) });
                    if let Some(agent) = agent {
                        self.timeline(&agent).on_call = false;
                        self.settle(&agent, at);
                    }
                }
                let seen = self.stays_seen.entry(line.callid.to_owned()).or_default();
                *seen += 1;
                let call_id = if *seen == 1 { line.callid.to_owned() } else { format!("{}-{}", line.callid, seen) };
                let (dialled, arrived_ms) = match self.dialled.remove(line.callid) {
                    Some((number, did_at)) if !number.is_empty() => (Some(number), did_at.min(at)),
                    _ => (None, at),
                };
                let caller = Some(line.data(1).trim()).filter(|c| !c.is_empty()).map(str::to_owned);
                self.stays.insert(
                    line.callid.to_owned(),
                    Stay { call_id, queue, caller, dialled, arrived_ms, entered_ms: at, answered: None },
                );
            }
            "CONNECT" => {
                let agent = line.agent_id(self.members)?;
                let ring_ms = line.seconds(2)?.unwrap_or(0);
                line.seconds(0)?;
                let Some(stay) = self.stays.get_mut(line.callid) else {
                    self.batch.orphan_events += 1;
                    return Ok(());
                };
                stay.answered = Some((at, agent.clone(), ring_ms));
                self.ring(&agent, at, ring_ms);
                self.timeline(&agent).on_call = true;
                self.settle(&agent, at);
            }
            "RINGNOANSWER" | "RINGCANCELED" => {
                let agent = line.agent_id(self.members)?;
                let ring_ms = line.millis(0)?;
                self.ring(&agent, at, ring_ms);
            }
            "COMPLETECALLER" | "COMPLETEAGENT" => {
                line.seconds(0)?;
                let talk_ms = line.seconds(1)?;
                self.call_ended(line, Exit::Completed { talk_ms, transfer_target: None });
            }
            "TRANSFER" | "BLINDTRANSFER" => {
                let target = match (line.data(0).trim(), line.data(1).trim()) {
                    ("", _) => None,
                    (exten, "") => Some(exten.to_owned()),
                    (exten, context) => Some(format!("{exten}@{context}")),
                };
                let talk_ms = line.seconds(3)?;
                self.call_ended(line, Exit::Completed { talk_ms, transfer_target: target });
            }
            "ATTENDEDTRANSFER" => {
                // BRIDGE|id|hold|talk|pos, APP|name|hold|talk|pos, LINK|chan1|chan2|hold|talk|pos.
                let (target, talk_field) = match line.data(0).trim() {
                    "LINK" => (line.data(2), 4),
                    _ => (line.data(1), 3),
                };
                let talk_ms = line.seconds(talk_field)?;
                let target = Some(target.trim()).filter(|t| !t.is_empty()).map(str::to_owned);
                self.call_ended(line, Exit::Completed { talk_ms, transfer_target: target });
            }
            "ABANDON" => self.call_ended(line, Exit::Left(ExitReason::Abandoned)),
            "EXITWITHTIMEOUT" => self.call_ended(line, Exit::Left(ExitReason::Timeout)),
            "EXITWITHKEY" => self.call_ended(line, Exit::Left(ExitReason::Key)),
            "EXITEMPTY" => self.call_ended(line, Exit::Left(ExitReason::Empty)),
            "WITHDRAW" => self.call_ended(line, Exit::Left(ExitReason::Withdraw)),
            "ADDMEMBER" | "REMOVEMEMBER" => {
                let agent = line.agent_id(self.members)?;
                let queue = line.queue_name()?;
                let timeline = self.timeline(&agent);
                if line.event == "ADDMEMBER" {
                    timeline.queues.insert(queue);
                    if line.data(0).trim() == "PAUSED" {
                        timeline.pause_reason = Some(None);
                    }
                } else {
                    timeline.queues.remove(&queue);
                }
                self.settle(&agent, at);
            }
            "AGENTLOGIN" | "AGENTCALLBACKLOGIN" | "AGENTLOGOFF" | "AGENTCALLBACKLOGOFF" => {
                let agent = line.agent_id(self.members)?;
                self.timeline(&agent).agent_login = line.event.ends_with("LOGIN");
                self.settle(&agent, at);
            }
            "PAUSE" | "PAUSEALL" | "UNPAUSE" | "UNPAUSEALL" => {
                let agent = line.agent_id(self.members)?;
                let reason = Some(line.data(0).trim()).filter(|r| !r.is_empty()).map(str::to_owned);
                self.timeline(&agent).pause_reason =
                    line.event.starts_with("PAUSE").then_some(reason);
                self.settle(&agent, at);
            }
            other => *self.batch.unknown_events.entry(other.to_owned()).or_default() += 1,
        }
        Ok(())
    }
}

enum Exit {
    /// Left the queue unanswered (or, if answered, ended there).
    Left(ExitReason),
    /// Ended after an answer, or moved on by a transfer.
    Completed { talk_ms: Option<i64>, transfer_target: Option<String> },
}

/// Parses queue_log files in time order (lines with equal times keep their file order); member
/// interfaces become agent ids through `members`.
pub fn parse(sources: &[Source], zone: TenantZone, members: &MemberMap, policy: BadLines) -> Result<QueueLogBatch, LineError> {
    let mut errors = LineErrors::new(policy);
    let mut lines = Vec::new();
    for source in sources {
        for (i, text) in source.text.lines().enumerate() {
            let text = text.trim_end_matches('\r');
            if text.trim().is_empty() {
                continue;
            }
            match parse_line(source.path, i as u64 + 1, text, zone) {
                Ok(line) => lines.push(line),
                Err(e) => errors.report(e)?,
            }
        }
    }
    lines.sort_by_key(|l| l.at_ms);
    let mut importer = Importer {
        members,
        stays: HashMap::new(),
        stays_seen: HashMap::new(),
        dialled: HashMap::new(),
        agents: HashMap::new(),
        batch: QueueLogBatch { lines: lines.len() as u64, ..Default::default() },
    };
    for line in &lines {
        if let Err(e) = importer.apply(line) {
            errors.report(e)?;
        }
    }
    let mut batch = importer.batch;
    batch.open_calls = importer.stays.len();
    batch.skipped = errors.skipped;
    Ok(batch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn run(text: &str) -> QueueLogBatch {
        try_run(text, BadLines::Stop).unwrap()
    }

    fn try_run(text: &str, policy: BadLines) -> Result<QueueLogBatch, LineError> {
        parse(&[Source { path: Path::new("queue_log"), text }], TenantZone::utc(), &MemberMap::default(), policy)
    }

    #[test]
    fn answered_call_with_a_missed_ring_first() {
        let b = run("1292284500|NONE|7100|SIP/9996|ADDMEMBER|\n\
                     1292284519|psy1-1292284515.93|7100|NONE|DID|800123\n\
                     1292284519|psy1-1292284515.93|7100|NONE|ENTERQUEUE||4165551212|1\n\
                     1292284519|psy1-1292284515.93|7100|SIP/9996|RINGNOANSWER|0\n\
                     1292284521|psy1-1292284515.93|7100|Local/9990@MemberConnector|CONNECT|2|psy1-1292284519.96|1\n\
                     1292287594|psy1-1292284515.93|7100|Local/9990@MemberConnector|COMPLETECALLER|2|3073|1\n");
        assert_eq!(b.calls.len(), 1);
        let c = &b.calls[0];
        c.validate().unwrap();
        assert_eq!(c.call_id, "psy1-1292284515.93");
        assert_eq!(c.wait_ms, Some(2_000));
        assert_eq!(c.talk_ms, 3_073_000);
        assert_eq!(c.ring_ms, 1_000);
        assert_eq!(c.dialled_number.as_deref(), Some("800123"));
        assert_eq!(c.caller_number.as_deref(), Some("4165551212"));
        assert_eq!(c.agent_id.as_ref().unwrap().as_str(), "9990", "the Local/ interface's agent");
        let on_call: Vec<_> = b.states.iter().filter(|s| s.state == AgentState::OnCall).collect();
        assert_eq!(on_call.len(), 1);
        assert_eq!(on_call[0].duration_ms(), 3_073_000);
    }

    #[test]
    fn abandoned_timeout_key_and_empty_exits() {
        let b = run("1700000000|a|support|NONE|ENTERQUEUE||7000|1\n\
                     1700000068|a|support|NONE|ABANDON|1|1|68\n\
                     1700000000|b|support|NONE|ENTERQUEUE||7001|1\n\
                     1700000300|b|support|NONE|EXITWITHTIMEOUT|1|1|300\n\
                     1700000000|c|support|NONE|ENTERQUEUE||7002|2\n\
                     1700000010|c|support|NONE|EXITWITHKEY|0|1|2|10\n\
                     1700000000|d|sales|NONE|ENTERQUEUE||7003|1\n\
                     1700000001|d|sales|NONE|EXITEMPTY|1|1|1\n");
        let by_id: HashMap<&str, &CallRecord> = b.calls.iter().map(|c| (c.call_id.as_str(), c)).collect();
        assert!(by_id["a"].abandoned);
        assert_eq!(by_id["a"].wait_ms, Some(68_000));
        assert_eq!(by_id["b"].exit_reason, ExitReason::Timeout);
        assert_eq!(by_id["c"].exit_reason, ExitReason::Key);
        assert_eq!(by_id["d"].exit_reason, ExitReason::Empty);
        b.calls.iter().for_each(|c| c.validate().unwrap());
    }

    #[test]
    fn blind_transfer_to_another_queue_is_a_second_leg() {
        let b = run("1700000000|x|support|NONE|ENTERQUEUE||7000|1\n\
                     1700000005|x|support|1001|CONNECT|5|u2|3\n\
                     1700000065|x|support|1001|BLINDTRANSFER|300|from-queue|5|60|1\n\
                     1700000066|x|billing|NONE|ENTERQUEUE||7000|1\n\
                     1700000070|x|billing|1002|CONNECT|4|u3|2\n\
                     1700000170|x|billing|1002|COMPLETEAGENT|4|100|1\n");
        assert_eq!(b.calls.len(), 2);
        assert_eq!(b.calls[0].call_id, "x");
        assert_eq!(b.calls[0].transfer_target.as_deref(), Some("300@from-queue"));
        assert_eq!(b.calls[0].talk_ms, 60_000);
        assert_eq!(b.calls[1].call_id, "x-2");
        assert_eq!(b.calls[1].queue.as_ref().unwrap().as_str(), "billing");
        assert_eq!(b.calls[1].wait_ms, Some(4_000));
    }

    #[test]
    fn attended_transfer_of_every_width() {
        let b = run("1700000000|y|support|NONE|ENTERQUEUE||7000|1\n\
                     1700000006|y|support|Alice|CONNECT|6|u|5\n\
                     1700000090|y|support|Alice|ATTENDEDTRANSFER|LINK|Local/1@a|Local/2@b|6|84|1\n");
        assert_eq!(b.calls[0].talk_ms, 84_000);
        assert_eq!(b.calls[0].transfer_target.as_deref(), Some("Local/2@b"));
    }

    #[test]
    fn pauses_with_reasons_become_not_ready_periods() {
        let b = run("1700000000|NONE|support|1001|ADDMEMBER|\n\
                     1700000100|NONE|support|1001|PAUSE|lunch\n\
                     1700001900|NONE|support|1001|UNPAUSE|\n\
                     1700002000|NONE|NONE|1001|PAUSEALL|\n\
                     1700002100|NONE|NONE|1001|UNPAUSEALL|\n\
                     1700003000|NONE|support|1001|REMOVEMEMBER|\n\
                     1700003600|NONE|support|1001|ADDMEMBER|\n");
        let periods: Vec<(AgentState, Option<&str>, i64)> =
            b.states.iter().map(|s| (s.state, s.reason.as_deref(), s.duration_ms() / 1000)).collect();
        assert_eq!(
            periods,
            vec![
                (AgentState::Ready, None, 100),
                (AgentState::NotReady, Some("lunch"), 1800),
                (AgentState::Ready, None, 100),
                (AgentState::NotReady, None, 100),
                (AgentState::Ready, None, 900),
                (AgentState::LoggedOut, None, 600),
            ]
        );
        assert!(b.states.iter().all(|s| s.validate().is_ok()));
    }

    #[test]
    fn open_calls_unknown_events_and_orphans_are_counted() {
        let b = run("1700000000|NONE|NONE|NONE|QUEUESTART|\n\
                     1700000000|z|support|NONE|ENTERQUEUE||7000|1\n\
                     1700000010|w|support|1001|COMPLETECALLER|3|7|1\n\
                     1700000011|NONE|NONE|NONE|CONFIGRELOAD|\n");
        assert_eq!(b.calls.len(), 0);
        assert_eq!(b.open_calls, 1);
        assert_eq!(b.orphan_events, 1);
        assert_eq!(b.unknown_events.get("QUEUESTART"), Some(&1));
        assert_eq!(b.unknown_events.get("CONFIGRELOAD"), Some(&1));
    }

    #[test]
    fn bad_lines_name_line_and_field() {
        let text = "1700000000|z|support|NONE|ENTERQUEUE||7000|1\nyesterday|z|support|NONE|ABANDON|1|1|3\n";
        let err = try_run(text, BadLines::Stop).unwrap_err();
        assert_eq!((err.line, err.field.as_str()), (2, "epoch"));
        let err = try_run("1700000000|z|support\n", BadLines::Stop).unwrap_err();
        assert_eq!(err.field, "event");
        let err = try_run("1700000000|z|support|1001|CONNECT|abc|u|1\n", BadLines::Stop).unwrap_err();
        assert_eq!(err.field, "data1");
        let skipped = try_run(text, BadLines::Skip).unwrap();
        assert_eq!(skipped.skipped.len(), 1);
        assert_eq!(skipped.open_calls, 1);
    }

    proptest! {
        #[test]
        fn never_panics_and_emits_only_valid_records(
            lines in proptest::collection::vec(
                (0i64..400, prop_oneof!["a", "b", "c"], prop_oneof!["q1", "q2"], prop_oneof!["NONE", "1001", "1002"],
                 prop_oneof!["ENTERQUEUE", "CONNECT", "COMPLETECALLER", "ABANDON", "RINGNOANSWER", "PAUSE", "UNPAUSE",
                             "ADDMEMBER", "REMOVEMEMBER", "BLINDTRANSFER", "ATTENDEDTRANSFER", "EXITWITHKEY", "JUNK"],
                 "[0-9|A-Z]{0,8}"),
                0..60)
        ) {
            let text: String = lines
                .iter()
                .map(|(t, c, q, a, e, d)| format!("{}|{c}|{q}|{a}|{e}|{d}\n", 1_000_000_000 + t))
                .collect();
            let batch = try_run(&text, BadLines::Skip).unwrap();
            for c in &batch.calls {
                prop_assert!(c.validate().is_ok(), "{:?}: {:?}", c, c.validate());
            }
            for s in &batch.states {
                prop_assert!(s.validate().is_ok());
            }
        }

        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
            let _ = try_run(&text, BadLines::Skip);
        }
    }
}
