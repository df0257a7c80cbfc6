//! The simulated history written as an Asterisk `queue_log`, so that the importer can be
//! exercised and measured on realistic input whose true figures are known.

use std::collections::BTreeMap;
use std::io::{self, Write};
use wfm_model::{AgentState, AgentStateEvent, CallRecord, ExitReason};

/// Writes one batch of calls and agent-state periods as queue_log lines in time order; returns
/// the number of lines. Times are whole seconds, as Asterisk writes them.
pub fn write_queue_log(calls: &[CallRecord], states: &[AgentStateEvent], out: &mut impl Write) -> io::Result<u64> {
    let mut lines: Vec<(i64, String)> = Vec::with_capacity(calls.len() * 3 + states.len());
    let s = |t: chrono::DateTime<chrono::Utc>| t.timestamp();
    for c in calls {
        let (Some(queue), Some(queued)) = (&c.queue, c.queued_at) else { continue };
        let wait = c.wait_ms.unwrap_or(0) / 1000;
        let head = |t: i64| format!("{t}|{}|{queue}", c.call_id);
        let caller = c.caller_number.as_deref().unwrap_or("");
        lines.push((s(queued), format!("{}|NONE|ENTERQUEUE||{caller}|1", head(s(queued)))));
        let left = queued + chrono::Duration::milliseconds(c.wait_ms.unwrap_or(0));
        match (c.exit_reason, &c.agent_id, c.answered_at) {
            (ExitReason::Answered, Some(agent), Some(answered)) => {
                let ring = c.ring_ms / 1000;
                lines.push((s(answered), format!("{}|{agent}|CONNECT|{wait}|{}.1|{ring}", head(s(answered)), c.call_id)));
                let talk = c.talk_ms / 1000;
                lines.push((s(c.ended_at), format!("{}|{agent}|COMPLETECALLER|{wait}|{talk}|1", head(s(c.ended_at)))));
            }
            (reason, _, _) => {
                let event = match reason {
                    ExitReason::Abandoned => "ABANDON",
                    ExitReason::Empty => "EXITEMPTY",
                    ExitReason::Withdraw => "WITHDRAW",
                    _ => "EXITWITHTIMEOUT",
                };
                lines.push((s(left), format!("{}|NONE|{event}|1|1|{wait}", head(s(left)))));
            }
        }
    }
    let mut by_agent: BTreeMap<&str, Vec<&AgentStateEvent>> = BTreeMap::new();
    for st in states {
        by_agent.entry(st.agent_id.as_str()).or_default().push(st);
    }
    for (agent, mut periods) in by_agent {
        periods.sort_by_key(|p| p.started_at);
        let member = |t: i64, event: &str, p: &AgentStateEvent, lines: &mut Vec<(i64, String)>| {
            for q in &p.queues {
                lines.push((t, format!("{t}|NONE|{q}|{agent}|{event}|")));
            }
        };
        let mut previous_end = None;
        for (i, p) in periods.iter().enumerate() {
            if previous_end != Some(p.started_at) {
                member(s(p.started_at), "ADDMEMBER", p, &mut lines);
            }
            if p.state == AgentState::NotReady {
                let reason = p.reason.as_deref().unwrap_or("");
                lines.push((s(p.started_at), format!("{}|NONE|NONE|{agent}|PAUSEALL|{reason}", s(p.started_at))));
                lines.push((s(p.ended_at), format!("{}|NONE|NONE|{agent}|UNPAUSEALL|", s(p.ended_at))));
            }
            if periods.get(i + 1).is_none_or(|next| next.started_at != p.ended_at) {
                member(s(p.ended_at), "REMOVEMEMBER", p, &mut lines);
            }
            previous_end = Some(p.ended_at);
        }
    }
    lines.sort_by_key(|(t, _)| *t);
    for (_, line) in &lines {
        writeln!(out, "{line}")?;
    }
    Ok(lines.len() as u64)
}
