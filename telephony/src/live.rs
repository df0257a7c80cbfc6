//! The ACD as the rest of `wfm serve` sees it: one tenant's queue engine behind a lock, on the
//! wall clock, fed by the SIP endpoint's registrations and by agents' and supervisors' requests.

use crate::acd::{state_name, AcdError, Action, AgentState, Engine, QueueLive};
use crate::calls::AcdInput;
use crate::journal::{CallSegment, ClosedPeriod, Entry, Journal};
use crate::lock;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{broadcast, mpsc};

/// Events kept for a slow wallboard before it misses some.
const EVENT_BACKLOG: usize = 1024;

pub struct Live {
    pub tenant: String,
    engine: Mutex<Engine>,
    started: Instant,
    events: broadcast::Sender<String>,
    /// Each agent's current state and since when (ms since the epoch), guarded with the engine.
    open_periods: Mutex<HashMap<String, (AgentState, i64)>>,
    /// Where closed periods and finished calls go before the store ([`Live::stored_batch`]).
    journal: Mutex<Journal>,
    /// The last call of each agent now in wrap-up: journalled already, and again with its
    /// `wrap_ms` when the wrap-up ends, so it stays out of the store until then. Locked after
    /// the journal, always, so that a batch and this agree.
    wrapping: Mutex<HashMap<String, CallSegment>>,
    /// Every action, for the call controller that carries them out.
    actions: Mutex<Option<mpsc::UnboundedSender<Action>>>,
    /// Every state change, for the supervisor's live adherence.
    state_changes: Mutex<Option<mpsc::UnboundedSender<StateChange>>>,
    /// Every finished call, for the live KPIs.
    finished_calls: Mutex<Option<mpsc::UnboundedSender<CallSegment>>>,
    /// The journal is failing (its alarm raised once per failure, until a sync succeeds).
    failing: std::sync::atomic::AtomicBool,
}

/// An agent's state from an instant on, in the analytics schema's terms.
#[derive(Debug, Clone, PartialEq)]
pub struct StateChange {
    pub agent: String,
    pub state: wfm_model::AgentState,
    pub reason: Option<String>,
    pub at_ms: i64,
}

impl StateChange {
    fn new(agent: &str, state: &AgentState, at_ms: i64) -> Self {
        let reason = match state {
            AgentState::NotReady { reason } => Some(reason.clone()),
            _ => None,
        };
        Self { agent: agent.to_owned(), state: schema_state(state), reason, at_ms }
    }
}

/// The journal's entries ready for the store ([`Live::stored_batch`]).
#[derive(Debug)]
pub struct StoredBatch {
    pub entries: Vec<Entry>,
    /// Calls whose wrap-up has not ended: written back by [`Live::clear_stored`].
    kept: Vec<Entry>,
    through: u64,
}

/// Why a change was not acknowledged.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error(transparent)]
    Acd(#[from] AcdError),
    /// The change happened but its record is not on disk (a full or failing disk): refused.
    #[error("the change could not be recorded: {0}")]
    Journal(String),
}

impl Live {
    /// Every agent of `engine` starts a logged-out period now.
    pub fn new(tenant: &str, engine: Engine, journal: Journal) -> Self {
        let now = now_ms();
        let open = engine.agent_ids().into_iter().map(|a| (a, (AgentState::LoggedOut, now))).collect();
        Self {
            tenant: tenant.to_owned(),
            engine: Mutex::new(engine),
            started: Instant::now(),
            events: broadcast::channel(EVENT_BACKLOG).0,
            open_periods: Mutex::new(open),
            journal: Mutex::new(journal),
            wrapping: Mutex::new(HashMap::new()),
            actions: Mutex::new(None),
            state_changes: Mutex::new(None),
            finished_calls: Mutex::new(None),
            failing: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Every action from now on (rings, connections, overflows), in order, for the calls.
    pub fn actions(&self) -> mpsc::UnboundedReceiver<Action> {
        let (tx, rx) = mpsc::unbounded_channel();
        *lock(&self.actions) = Some(tx);
        rx
    }

    /// Every state change from now on, in order (nothing is missed, unlike the event stream).
    pub fn state_changes(&self) -> mpsc::UnboundedReceiver<StateChange> {
        let (tx, rx) = mpsc::unbounded_channel();
        *lock(&self.state_changes) = Some(tx);
        rx
    }

    /// Every call finished from now on, for the live KPIs; a call whose agent went into wrap-up
    /// comes again, with its `wrap_ms`, when that ends.
    pub fn finished_calls(&self) -> mpsc::UnboundedReceiver<CallSegment> {
        let (tx, rx) = mpsc::unbounded_channel();
        *lock(&self.finished_calls) = Some(tx);
        rx
    }

    /// Each agent's present state and since when.
    pub fn current_states(&self) -> Vec<StateChange> {
        let _engine = lock(&self.engine);
        lock(&self.open_periods).iter().map(|(agent, (state, since))| StateChange::new(agent, state, *since)).collect()
    }

    /// An event of this tenant (an alarm, an agent's adherence) on its event stream.
    pub fn publish(&self, mut event: serde_json::Value) {
        event["tenant"] = serde_json::json!(self.tenant);
        let _ = self.events.send(event.to_string());
    }

    /// Carries out what the call controller asks of the engine.
    pub fn apply(&self, input: &AcdInput) -> Result<(), AcdError> {
        match input {
            AcdInput::Arrive { call, queue, priority, last_agent } => self.with(|e, now| e.call_arrives(call, queue, *priority, last_agent.as_deref(), now), actions_of),
            AcdInput::HungUp { call } => self.with(|e, now| e.caller_hung_up(call, now), actions_of),
            AcdInput::Answered { call, agent } => self.with(|e, now| e.answered(call, agent, now), actions_of),
            AcdInput::Declined { call, agent } => self.with(|e, now| e.declined(call, agent, now), actions_of),
            AcdInput::Ended { agent, queue } => self.with(|e, now| e.call_ended(agent, queue, now), actions_of),
            AcdInput::State { agent, state } => self.with(|e, now| e.request_state(agent, state.clone(), now), actions_of),
        }
        .map(drop)
    }

    /// Journals finished calls (safe after the next [`Live::sync`]) and tells the wallboard. A
    /// call whose agent is now in wrap-up is journalled again when the wrap-up ends.
    pub fn record_calls(&self, calls: &[CallSegment]) {
        let entries: Vec<Entry> = calls.iter().map(|c| Entry::Call(Box::new(c.clone()))).collect();
        let in_wrap_up: Vec<&CallSegment> = {
            let open = lock(&self.open_periods);
            calls.iter().filter(|c| c.answered_ms.is_some() && c.agent.as_ref().is_some_and(|a| open.get(a).is_some_and(|(state, _)| *state == AgentState::WrapUp))).collect()
        };
        let mut journal = lock(&self.journal);
        let mut wrapping = lock(&self.wrapping);
        for call in in_wrap_up {
            wrapping.insert(call.agent.clone().expect("filtered on"), call.clone());
        }
        drop(wrapping);
        if let Err(e) = journal.append(&entries) {
            drop(journal);
            self.journal_failed(&format!("the call journal could not be written: {e}"));
        }
        if let Some(sink) = lock(&self.finished_calls).as_ref() {
            for call in calls {
                let _ = sink.send(call.clone());
            }
        }
        for call in calls {
            let event = serde_json::json!({ "type": "call-ended", "tenant": self.tenant, "at_ms": call.ended_ms, "call": call });
            let _ = self.events.send(event.to_string());
        }
    }

    /// An alarm of this tenant's ACD (a quota reached, a journal that cannot be written) on its
    /// event stream.
    pub fn alarm(&self, kind: &str, message: &str) {
        self.publish(serde_json::json!({ "type": "alarm", "at_ms": now_ms(), "alarm": kind, "message": message }));
    }

    /// Every call and state change from now on, one JSON object each (for server-sent events).
    pub fn subscribe(&self) -> broadcast::Receiver<String> {
        self.events.subscribe()
    }

    /// Runs `f` on the engine at the current time and publishes the actions it returns.
    fn with<T>(&self, f: impl FnOnce(&mut Engine, std::time::Duration) -> T, actions: impl Fn(&T) -> &[Action]) -> T {
        // A panic while holding the lock leaves the engine as it was between two inputs:
        // carry on with it rather than fail every later request.
        let mut engine = lock(&self.engine);
        let result = f(&mut engine, self.started.elapsed());
        let at_ms = now_ms();
        let mut closed = Vec::new();
        // Agents whose wrap-up ended, with its length.
        let mut wrapped = Vec::new();
        let mut open = lock(&self.open_periods);
        for action in actions(&result) {
            if let Action::StateChanged { agent, state } = action
                && let Some((previous, since)) = open.insert(agent.clone(), (state.clone(), at_ms))
            {
                let reason = match &previous {
                    AgentState::NotReady { reason } => Some(reason.clone()),
                    _ => None,
                };
                if previous == AgentState::WrapUp {
                    wrapped.push((agent.clone(), (at_ms - since).max(0)));
                }
                let queues = engine.agent_queues(agent);
                closed.push(Entry::Period(ClosedPeriod { agent: agent.clone(), state: schema_state(&previous).as_str().into(), reason, started_ms: since, ended_ms: at_ms.max(since), queues }));
            }
            if let Action::StateChanged { agent, state } = action
                && let Some(sink) = lock(&self.state_changes).as_ref()
            {
                let _ = sink.send(StateChange::new(agent, state, at_ms));
            }
            // Nobody listening is fine: the event is for wallboards that are.
            let _ = self.events.send(event_json(&self.tenant, action, at_ms as u64).to_string());
            if let Some(sink) = lock(&self.actions).as_ref() {
                let _ = sink.send(action.clone());
            }
        }
        let mut journal = lock(&self.journal);
        let mut completed = Vec::new();
        if !wrapped.is_empty() {
            let mut wrapping = lock(&self.wrapping);
            for (agent, wrap_ms) in wrapped {
                if let Some(mut call) = wrapping.remove(&agent) {
                    call.wrap_ms = wrap_ms;
                    closed.push(Entry::Call(Box::new(call.clone())));
                    completed.push(call);
                }
            }
        }
        let appended = journal.append(&closed);
        drop(journal);
        if !completed.is_empty() {
            let sink = lock(&self.finished_calls).clone();
            for call in completed {
                if let Some(sink) = &sink {
                    let _ = sink.send(call.clone());
                }
                let event = serde_json::json!({ "type": "call-wrapped", "tenant": self.tenant, "at_ms": at_ms, "call": call });
                let _ = self.events.send(event.to_string());
            }
        }
        if let Err(e) = appended {
            // The state changed in memory but its record is not safe: what would acknowledge
            // it is refused (see `sync`), and the alarm raised.
            self.journal_failed(&format!("the state journal could not be written: {e}"));
        }
        result
    }

    /// What the journal holds for the store: its periods and calls, a call journalled more than
    /// once as its last entry, without the calls whose agent is still in wrap-up (kept for
    /// [`Live::clear_stored`] to write back).
    pub fn stored_batch(&self) -> std::io::Result<StoredBatch> {
        let journal = lock(&self.journal);
        let batch = journal.batch()?;
        let wrapping: std::collections::HashSet<String> = lock(&self.wrapping).values().map(|c| c.call_id.clone()).collect();
        drop(journal);
        let last: HashMap<&str, usize> = batch.entries.iter().enumerate().filter_map(|(i, e)| if let Entry::Call(c) = e { Some((c.call_id.as_str(), i)) } else { None }).collect();
        let (mut entries, mut kept) = (Vec::new(), Vec::new());
        for (i, entry) in batch.entries.iter().enumerate() {
            match entry {
                Entry::Call(c) if last[c.call_id.as_str()] != i => {}
                Entry::Call(c) if wrapping.contains(&c.call_id) => kept.push(entry.clone()),
                _ => entries.push(entry.clone()),
            }
        }
        Ok(StoredBatch { entries, kept, through: batch.through })
    }

    /// Removes a batch from the journal once its entries are in the store.
    pub fn clear_stored(&self, batch: &StoredBatch) -> std::io::Result<()> {
        lock(&self.journal).clear_through(batch.through, &batch.kept)
    }

    fn journal_failed(&self, message: &str) {
        use std::sync::atomic::Ordering;
        eprintln!("acd: {}: {message}", self.tenant);
        if !self.failing.swap(true, Ordering::SeqCst) {
            self.alarm("acd.journal.failed", message);
        }
    }

    /// Makes what was journalled safe on disk; call before acknowledging what journalled it.
    /// An error means something journalled is not on disk yet (the journal keeps it and writes
    /// it again): do not acknowledge anything.
    pub fn sync(&self) -> Result<(), LiveError> {
        use std::sync::atomic::Ordering;
        match lock(&self.journal).sync() {
            Ok(()) => {
                self.failing.store(false, Ordering::SeqCst);
                Ok(())
            }
            Err(e) => {
                self.journal_failed(&format!("the journal could not be written or synced: {e}"));
                Err(LiveError::Journal(e.to_string()))
            }
        }
    }

    fn read<T>(&self, f: impl FnOnce(&Engine, std::time::Duration) -> T) -> T {
        let engine = lock(&self.engine);
        f(&engine, self.started.elapsed())
    }

    /// An agent's or supervisor's request (the API answers once this returns: synced).
    pub fn request_state(&self, agent: &str, wanted: AgentState) -> Result<Vec<Action>, LiveError> {
        let actions = self.with(|e, now| e.request_state(agent, wanted, now), actions_of)?;
        self.sync()?;
        Ok(actions)
    }

    pub fn state(&self, agent: &str) -> Option<AgentState> {
        self.read(|e, _| e.state(agent).cloned())
    }

    /// Adds (`Some(level)`) or takes away an agent's skill at once (see [`Engine::set_skill`]).
    pub fn set_skill(&self, agent: &str, queue: &str, level: Option<u8>) -> Result<(), AcdError> {
        self.with(|e, now| e.set_skill(agent, queue, level, now), actions_of).map(drop)
    }

    /// The queues an agent is skilled for now.
    pub fn agent_queues(&self, agent: &str) -> Vec<String> {
        self.read(|e, _| e.agent_queues(agent))
    }

    pub fn queues(&self) -> Vec<QueueLive> {
        self.read(|e, now| e.live(now))
    }

    pub fn phone_registered(&self, agent: &str) -> Vec<Action> {
        self.with(|e, now| e.phone_registered(agent, now), Vec::as_slice)
    }

    pub fn phone_unregistered(&self, agent: &str) -> Vec<Action> {
        self.with(|e, now| e.phone_unregistered(agent, now), Vec::as_slice)
    }

    /// The engine's timers; call about once a second.
    pub fn tick(&self) -> Vec<Action> {
        self.with(|e, now| e.tick(now), Vec::as_slice)
    }
}

fn actions_of(result: &Result<Vec<Action>, AcdError>) -> &[Action] {
    result.as_deref().unwrap_or_default()
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// The analytics schema's state (docs/events.md): the reason travels beside it.
fn schema_state(state: &AgentState) -> wfm_model::AgentState {
    use wfm_model::AgentState as Schema;
    match state {
        AgentState::LoggedOut => Schema::LoggedOut,
        AgentState::Ready => Schema::Ready,
        AgentState::NotReady { .. } => Schema::NotReady,
        AgentState::Ringing { .. } => Schema::Ringing,
        AgentState::OnCall { .. } => Schema::OnCall,
        AgentState::WrapUp => Schema::WrapUp,
    }
}

/// An action as the wallboard's event stream carries it.
fn event_json(tenant: &str, action: &Action, at_ms: u64) -> serde_json::Value {
    use serde_json::json;
    let secs = |d: &std::time::Duration| d.as_secs_f64();
    let body = match action {
        Action::StateChanged { agent, state } => {
            let reason = match state {
                AgentState::NotReady { reason } => Some(reason.as_str()),
                _ => None,
            };
            json!({ "type": "agent-state", "agent": agent, "state": state_name(state), "reason": reason })
        }
        Action::Ring { call, agents } => json!({ "type": "ring", "call": call, "agents": agents }),
        Action::StopRinging { call, agents } => json!({ "type": "stop-ringing", "call": call, "agents": agents }),
        Action::Connect { call, agent, waited } => json!({ "type": "connect", "call": call, "agent": agent, "waited_s": secs(waited) }),
        Action::Announce { call, position, expected_wait } => json!({ "type": "announce", "call": call, "position": position, "expected_wait_s": secs(expected_wait) }),
        Action::Overflow { call, from, to, why, waited } => {
            json!({ "type": "overflow", "call": call, "queue": from, "to": format!("{to:?}"), "why": format!("{why:?}"), "waited_s": secs(waited) })
        }
        Action::Abandoned { call, queue, waited } => json!({ "type": "abandoned", "call": call, "queue": queue, "waited_s": secs(waited) }),
    };
    let mut body = body;
    body["tenant"] = json!(tenant);
    body["at_ms"] = json!(at_ms);
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_whose_record_cannot_be_written_is_refused_and_alarmed() {
        let engine = crate::acd::demo();
        let agent = engine.agent_ids()[0].clone();
        // Every write to /dev/full fails as a full disk does.
        let live = Live::new("demo", engine, Journal::open(std::path::Path::new("/dev/full")).unwrap());
        let mut events = live.subscribe();
        let refused = live.request_state(&agent, AgentState::Ready);
        assert!(matches!(refused, Err(LiveError::Journal(_))), "{refused:?}");
        let alarm = std::iter::from_fn(|| events.try_recv().ok()).find(|e| e.contains("\"type\":\"alarm\""));
        assert!(alarm.is_some_and(|a| a.contains("acd.journal.failed")));
        let dir = std::env::temp_dir().join(format!("wfm-live-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fine = Live::new("demo", crate::acd::demo(), Journal::open(&dir.join("j.jsonl")).unwrap());
        assert!(fine.request_state(&agent, AgentState::Ready).is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn answered_call(call_id: &str, agent: &str) -> CallSegment {
        let now = now_ms();
        CallSegment {
            call_id: call_id.into(),
            caller_number: Some("555".into()),
            dialled_number: Some("200".into()),
            queue: Some("support".into()),
            priority: 0,
            arrived_ms: now - 20_000,
            queued_ms: Some(now - 20_000),
            answered_ms: Some(now - 15_000),
            ended_ms: now,
            abandoned: false,
            exit_reason: "answered".into(),
            agent: Some(agent.into()),
            ring_ms: 2_000,
            talk_ms: 15_000,
            hold_ms: 0,
            wrap_ms: 0,
            transfer_target: None,
            ivr_path: None,
            recording: None,
            sip_call_id: Some("abc@phone".into()),
        }
    }

    fn calls_of(batch: &StoredBatch) -> Vec<CallSegment> {
        batch.entries.iter().filter_map(|e| if let Entry::Call(c) = e { Some((**c).clone()) } else { None }).collect()
    }

    #[test]
    fn a_call_reaches_the_store_with_its_agents_wrap_up_once_that_ends() {
        let dir = tempfile::tempdir().unwrap();
        let live = Live::new("demo", crate::acd::demo(), Journal::open(&dir.path().join("j.jsonl")).unwrap());
        let agent = "1001";
        live.phone_registered(agent);
        live.request_state(agent, AgentState::Ready).unwrap();
        live.apply(&AcdInput::Arrive { call: "c1".into(), queue: "support".into(), priority: 0, last_agent: Some(agent.into()) }).unwrap();
        live.apply(&AcdInput::Answered { call: "c1".into(), agent: agent.into() }).unwrap();
        live.apply(&AcdInput::Ended { agent: agent.into(), queue: "support".into() }).unwrap();
        assert_eq!(live.state(agent), Some(AgentState::WrapUp));
        live.record_calls(&[answered_call("c1", agent), CallSegment { agent: None, answered_ms: None, ..answered_call("c2", agent) }]);
        live.sync().unwrap();

        // In wrap-up: the unanswered call goes to the store, the answered one waits.
        let batch = live.stored_batch().unwrap();
        assert_eq!(calls_of(&batch).iter().map(|c| c.call_id.as_str()).collect::<Vec<_>>(), ["c2"]);
        live.clear_stored(&batch).unwrap();
        assert_eq!(live.stored_batch().unwrap().entries.len(), 0, "nothing else is ready yet");

        std::thread::sleep(std::time::Duration::from_millis(60));
        live.request_state(agent, AgentState::Ready).unwrap();
        let batch = live.stored_batch().unwrap();
        let calls = calls_of(&batch);
        assert_eq!(calls.len(), 1, "{calls:?}");
        assert_eq!(calls[0].call_id, "c1");
        assert!((60..5_000).contains(&calls[0].wrap_ms), "the wrap-up's length: {}", calls[0].wrap_ms);
        assert_eq!(calls[0].to_record().unwrap().wrap_ms, calls[0].wrap_ms);
        let wrap_period = batch.entries.iter().find_map(|e| if let Entry::Period(p) = e { (p.state == "wrap_up").then_some(p.ended_ms - p.started_ms) } else { None });
        assert_eq!(wrap_period, Some(calls[0].wrap_ms), "the same length as the agent's wrap-up period");
        live.clear_stored(&batch).unwrap();
        assert_eq!(live.stored_batch().unwrap().entries.len(), 0);
    }

    #[test]
    fn a_call_journalled_before_a_restart_in_wrap_up_is_not_held_forever() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let live = Live::new("demo", crate::acd::demo(), Journal::open(&path).unwrap());
        live.phone_registered("1001");
        live.request_state("1001", AgentState::Ready).unwrap();
        live.apply(&AcdInput::Arrive { call: "c1".into(), queue: "support".into(), priority: 0, last_agent: None }).unwrap();
        live.apply(&AcdInput::Answered { call: "c1".into(), agent: "1001".into() }).unwrap();
        live.apply(&AcdInput::Ended { agent: "1001".into(), queue: "support".into() }).unwrap();
        live.record_calls(&[answered_call("c1", "1001")]);
        live.sync().unwrap();
        drop(live);
        // The new process knows of no wrap-up: the call goes as it was journalled.
        let restarted = Live::new("demo", crate::acd::demo(), Journal::open(&path).unwrap());
        let calls = calls_of(&restarted.stored_batch().unwrap());
        assert_eq!((calls.len(), calls[0].wrap_ms), (1, 0));
    }
}
