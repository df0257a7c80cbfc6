//! The queue engine of the ACD, sans-IO: calls wait in skill queues, agents change state, and
//! the engine decides who rings, when a call overflows, and what each agent's state becomes.
//! Time comes in with every input (`now`, since the engine started), so tests drive it with a
//! fake clock; what to do comes out as [`Action`]s for the SIP layer to carry out.
//!
//! Distribution: the strategies of requirements §1 (longest idle by default, ring-all,
//! round-robin with memory, fewest calls, least talk time, random, skill-level order), callers
//! by priority then arrival, last-agent routing when that agent is free, no-answer re-routing
//! (the agent goes not-ready, reason "no answer"), wrap-up per queue, overflow on maximum wait,
//! maximum length or no agent logged in, and a cap on agents on break at once. Not yet wired
//! to SIP calls: the engine is complete and tested on its own (issue 5 continues).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

pub mod config;

pub type AgentId = String;
pub type CallId = String;
pub type QueueId = String;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    LongestIdle,
    RingAll,
    RoundRobin,
    FewestCalls,
    LeastTalkTime,
    Random,
    SkillLevel,
}

/// Where a call goes when its queue cannot take it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Queue(QueueId),
    Ivr(String),
    Voicemail,
    Busy,
}

/// Why a call left its queue for the overflow target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverflowReason {
    MaxWait,
    MaxLength,
    NobodyLoggedIn,
}

#[derive(Debug, Clone, PartialEq)]
pub struct QueueConfig {
    pub id: QueueId,
    pub strategy: Strategy,
    /// How long an agent's phone rings before the call moves on.
    pub ring_timeout: Duration,
    pub wrap_up: Duration,
    pub max_wait: Option<Duration>,
    pub max_length: Option<usize>,
    /// Where calls go on maximum wait or length.
    pub overflow: Target,
    /// Where calls go when no agent of the queue is logged in.
    pub when_nobody: Target,
    /// Whether answered calls are recorded.
    pub record: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentState {
    LoggedOut,
    Ready,
    NotReady { reason: String },
    Ringing { call: CallId },
    OnCall { call: CallId },
    WrapUp,
}

/// What the engine asks the telephony layer (and the event log) to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Ring these agents for the call (several at once for ring-all).
    Ring { call: CallId, agents: Vec<AgentId> },
    /// Stop ringing these agents (another answered, the caller left, or the timeout).
    StopRinging { call: CallId, agents: Vec<AgentId> },
    Connect { call: CallId, agent: AgentId, waited: Duration },
    /// The caller's position and the expected wait, to announce.
    Announce { call: CallId, position: usize, expected_wait: Duration },
    Overflow { call: CallId, from: QueueId, to: Target, why: OverflowReason, waited: Duration },
    Abandoned { call: CallId, queue: QueueId, waited: Duration },
    StateChanged { agent: AgentId, state: AgentState },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AcdError {
    #[error("unknown agent {0}")]
    UnknownAgent(AgentId),
    #[error("unknown queue {0}")]
    UnknownQueue(QueueId),
    #[error("unknown call {0}")]
    UnknownCall(CallId),
    #[error("{agent} cannot go {to} while {from}")]
    Busy { agent: AgentId, from: String, to: String },
    #[error("break refused: {on_break} agents are on break already (at most {max})")]
    BreakLimit { on_break: usize, max: usize },
}

#[derive(Debug, Clone)]
struct Agent {
    /// Queue → skill level (higher is better).
    skills: HashMap<QueueId, u8>,
    state: AgentState,
    /// When the agent last became ready (longest idle) and when wrap-up ends.
    idle_since: Duration,
    wrap_up_until: Option<Duration>,
    calls_taken: u32,
    talk_time: Duration,
    answered_at: Option<Duration>,
}

#[derive(Debug, Clone)]
struct Call {
    queue: QueueId,
    priority: u8,
    enqueued_at: Duration,
    /// Arrival order, to keep FIFO among equal priorities.
    seq: u64,
    last_agent: Option<AgentId>,
    ringing: Vec<AgentId>,
    ring_until: Option<Duration>,
    /// Agents who let it ring out: not tried again for this call.
    declined: HashSet<AgentId>,
}

/// Reasons of not-ready that count as a break for the cap.
pub const BREAK_REASONS: [&str; 3] = ["break", "lunch", "meal"];

pub struct Engine {
    queues: BTreeMap<QueueId, QueueConfig>,
    agents: BTreeMap<AgentId, Agent>,
    calls: HashMap<CallId, Call>,
    arrivals: u64,
    round_robin_next: HashMap<QueueId, usize>,
    max_on_break: Option<usize>,
    random_state: u64,
}

impl Engine {
    pub fn new(queues: Vec<QueueConfig>, max_on_break: Option<usize>, seed: u64) -> Self {
        Self {
            queues: queues.into_iter().map(|q| (q.id.clone(), q)).collect(),
            agents: BTreeMap::new(),
            calls: HashMap::new(),
            arrivals: 0,
            round_robin_next: HashMap::new(),
            max_on_break,
            random_state: seed | 1,
        }
    }

    /// Adds (or updates the skills of) an agent; a new agent is logged out.
    pub fn add_agent(&mut self, id: &str, skills: &[(&str, u8)]) {
        let skills = skills.iter().map(|(q, l)| ((*q).to_owned(), *l)).collect();
        let agent = self.agents.entry(id.to_owned()).or_insert(Agent {
            skills: HashMap::new(),
            state: AgentState::LoggedOut,
            idle_since: Duration::ZERO,
            wrap_up_until: None,
            calls_taken: 0,
            talk_time: Duration::ZERO,
            answered_at: None,
        });
        agent.skills = skills;
    }

    /// A live change of an agent's skill (a supervisor's, or the surge ladder's): `Some(level)`
    /// adds or changes it, `None` takes it away. The queue's waiting calls are offered at once.
    pub fn set_skill(&mut self, id: &str, queue: &str, level: Option<u8>, now: Duration) -> Result<Vec<Action>, AcdError> {
        if !self.queues.contains_key(queue) {
            return Err(AcdError::UnknownQueue(queue.to_owned()));
        }
        let agent = self.agents.get_mut(id).ok_or_else(|| AcdError::UnknownAgent(id.to_owned()))?;
        match level {
            Some(level) => agent.skills.insert(queue.to_owned(), level),
            None => agent.skills.remove(queue),
        };
        let mut out = Vec::new();
        self.distribute(now, &mut out);
        Ok(out)
    }

    pub fn agent_ids(&self) -> Vec<AgentId> {
        self.agents.keys().cloned().collect()
    }

    /// The queues an agent is skilled for, sorted.
    pub fn agent_queues(&self, agent: &str) -> Vec<QueueId> {
        let mut queues: Vec<QueueId> = self.agents.get(agent).map(|a| a.skills.keys().cloned().collect()).unwrap_or_default();
        queues.sort();
        queues
    }

    pub fn state(&self, agent: &str) -> Option<&AgentState> {
        self.agents.get(agent).map(|a| &a.state)
    }

    /// Calls waiting in `queue`, in the order they will be served.
    pub fn waiting(&self, queue: &str) -> Vec<CallId> {
        let mut calls: Vec<(&CallId, &Call)> = self.calls.iter().filter(|(_, c)| c.queue == queue && c.ringing.is_empty()).collect();
        calls.sort_by_key(|(_, c)| (std::cmp::Reverse(c.priority), c.seq));
        calls.into_iter().map(|(id, _)| id.clone()).collect()
    }

    fn set_state(&mut self, id: &str, state: AgentState, now: Duration, out: &mut Vec<Action>) {
        let agent = self.agents.get_mut(id).expect("callers pass known agents");
        if state == AgentState::Ready && agent.state != AgentState::Ready {
            agent.idle_since = now;
        }
        agent.state = state.clone();
        out.push(Action::StateChanged { agent: id.to_owned(), state });
    }

    /// An agent (or a supervisor for them) asks for a state: ready, not ready with a reason, or
    /// logged out. Ringing, on-call and wrap-up are the engine's to set.
    pub fn request_state(&mut self, id: &str, wanted: AgentState, now: Duration) -> Result<Vec<Action>, AcdError> {
        let agent = self.agents.get(id).ok_or_else(|| AcdError::UnknownAgent(id.to_owned()))?;
        let busy = matches!(agent.state, AgentState::Ringing { .. } | AgentState::OnCall { .. });
        let allowed = matches!(wanted, AgentState::Ready | AgentState::NotReady { .. } | AgentState::LoggedOut);
        if busy || !allowed {
            return Err(AcdError::Busy { agent: id.to_owned(), from: describe(&agent.state), to: describe(&wanted) });
        }
        if let (AgentState::NotReady { reason }, Some(max)) = (&wanted, self.max_on_break) {
            let on_break = self.agents.iter().filter(|(other, a)| other.as_str() != id && is_break(&a.state)).count();
            if BREAK_REASONS.contains(&reason.as_str()) && on_break >= max {
                return Err(AcdError::BreakLimit { on_break, max });
            }
        }
        let mut out = Vec::new();
        self.agents.get_mut(id).expect("checked above").wrap_up_until = None;
        self.set_state(id, wanted, now, &mut out);
        self.distribute(now, &mut out);
        Ok(out)
    }

    /// A caller enters `queue` (from the IVR or a dialled number).
    pub fn call_arrives(&mut self, call: &str, queue: &str, priority: u8, last_agent: Option<&str>, now: Duration) -> Result<Vec<Action>, AcdError> {
        let config = self.queues.get(queue).ok_or_else(|| AcdError::UnknownQueue(queue.to_owned()))?.clone();
        let mut out = Vec::new();
        let logged_in = self.agents.values().any(|a| a.skills.contains_key(queue) && a.state != AgentState::LoggedOut);
        if !logged_in {
            out.push(Action::Overflow { call: call.to_owned(), from: queue.to_owned(), to: config.when_nobody, why: OverflowReason::NobodyLoggedIn, waited: Duration::ZERO });
            return Ok(out);
        }
        if config.max_length.is_some_and(|max| self.waiting(queue).len() >= max) {
            out.push(Action::Overflow { call: call.to_owned(), from: queue.to_owned(), to: config.overflow, why: OverflowReason::MaxLength, waited: Duration::ZERO });
            return Ok(out);
        }
        self.arrivals += 1;
        self.calls.insert(
            call.to_owned(),
            Call {
                queue: queue.to_owned(),
                priority,
                enqueued_at: now,
                seq: self.arrivals,
                last_agent: last_agent.map(str::to_owned),
                ringing: Vec::new(),
                ring_until: None,
                declined: HashSet::new(),
            },
        );
        self.distribute(now, &mut out);
        if self.calls.get(call).is_some_and(|c| c.ringing.is_empty()) {
            let position = self.waiting(queue).iter().position(|c| c == call).map_or(1, |p| p + 1);
            out.push(Action::Announce { call: call.to_owned(), position, expected_wait: self.expected_wait(queue, position) });
        }
        Ok(out)
    }

    /// Expected wait of the caller at `position`: calls ahead, shared by the agents who can take
    /// them, at the queue's recent mean handling time (talk plus wrap-up; 3 minutes before any).
    pub fn expected_wait(&self, queue: &str, position: usize) -> Duration {
        let serving = self.agents.values().filter(|a| a.skills.contains_key(queue) && !matches!(a.state, AgentState::LoggedOut | AgentState::NotReady { .. })).count().max(1);
        let taken: u32 = self.agents.values().map(|a| a.calls_taken).sum();
        let talk: Duration = self.agents.values().map(|a| a.talk_time).sum();
        let wrap = self.queues.get(queue).map_or(Duration::ZERO, |q| q.wrap_up);
        let handle = if taken == 0 { Duration::from_secs(180) } else { talk / taken + wrap };
        handle.mul_f64(position as f64 / serving as f64)
    }

    /// The caller hung up while waiting or ringing.
    pub fn caller_hung_up(&mut self, call: &str, now: Duration) -> Result<Vec<Action>, AcdError> {
        let c = self.calls.remove(call).ok_or_else(|| AcdError::UnknownCall(call.to_owned()))?;
        let mut out = Vec::new();
        if !c.ringing.is_empty() {
            out.push(Action::StopRinging { call: call.to_owned(), agents: c.ringing.clone() });
            for agent in &c.ringing {
                self.set_state(agent, AgentState::Ready, now, &mut out);
            }
        }
        out.push(Action::Abandoned { call: call.to_owned(), queue: c.queue, waited: now.saturating_sub(c.enqueued_at) });
        self.distribute(now, &mut out);
        Ok(out)
    }

    /// An agent whose phone rang for `call` answered it.
    pub fn answered(&mut self, call: &str, agent: &str, now: Duration) -> Result<Vec<Action>, AcdError> {
        let c = self.calls.get(call).ok_or_else(|| AcdError::UnknownCall(call.to_owned()))?;
        if !c.ringing.iter().any(|a| a == agent) {
            return Err(AcdError::Busy { agent: agent.to_owned(), from: "not ringing for this call".into(), to: "on-call".into() });
        }
        let c = self.calls.remove(call).expect("found above");
        let mut out = Vec::new();
        let others: Vec<AgentId> = c.ringing.iter().filter(|a| *a != agent).cloned().collect();
        if !others.is_empty() {
            out.push(Action::StopRinging { call: call.to_owned(), agents: others.clone() });
            for other in &others {
                self.set_state(other, AgentState::Ready, now, &mut out);
            }
        }
        let a = self.agents.get_mut(agent).expect("ringing agents exist");
        a.answered_at = Some(now);
        a.calls_taken += 1;
        self.set_state(agent, AgentState::OnCall { call: call.to_owned() }, now, &mut out);
        out.push(Action::Connect { call: call.to_owned(), agent: agent.to_owned(), waited: now.saturating_sub(c.enqueued_at) });
        self.distribute(now, &mut out);
        Ok(out)
    }

    /// The agent's call ended (either side hung up): wrap-up per the queue, then ready.
    pub fn call_ended(&mut self, agent: &str, queue: &str, now: Duration) -> Result<Vec<Action>, AcdError> {
        let wrap_up = self.queues.get(queue).ok_or_else(|| AcdError::UnknownQueue(queue.to_owned()))?.wrap_up;
        let a = self.agents.get_mut(agent).ok_or_else(|| AcdError::UnknownAgent(agent.to_owned()))?;
        if !matches!(a.state, AgentState::OnCall { .. }) {
            return Err(AcdError::Busy { agent: agent.to_owned(), from: describe(&a.state), to: "wrap-up".into() });
        }
        if let Some(answered) = a.answered_at.take() {
            a.talk_time += now.saturating_sub(answered);
        }
        let mut out = Vec::new();
        if wrap_up.is_zero() {
            self.set_state(agent, AgentState::Ready, now, &mut out);
        } else {
            self.agents.get_mut(agent).expect("found above").wrap_up_until = Some(now + wrap_up);
            self.set_state(agent, AgentState::WrapUp, now, &mut out);
        }
        self.distribute(now, &mut out);
        Ok(out)
    }

    /// The agents let `call` ring out or refused it: not tried again for it while others are
    /// free, and not ready ("no answer") until they say so.
    fn not_answered(&mut self, call: &str, agents: &[AgentId], now: Duration, out: &mut Vec<Action>) {
        if let Some(c) = self.calls.get_mut(call) {
            c.declined.extend(agents.iter().cloned());
        }
        for agent in agents {
            self.set_state(agent, AgentState::NotReady { reason: "no answer".into() }, now, out);
        }
    }

    /// An agent's phone refused the call (busy, declined, unreachable) before the ring timeout.
    pub fn declined(&mut self, call: &str, agent: &str, now: Duration) -> Result<Vec<Action>, AcdError> {
        let c = self.calls.get_mut(call).ok_or_else(|| AcdError::UnknownCall(call.to_owned()))?;
        let Some(i) = c.ringing.iter().position(|a| a == agent) else {
            return Err(AcdError::Busy { agent: agent.to_owned(), from: "not ringing for this call".into(), to: "declined".into() });
        };
        c.ringing.remove(i);
        if c.ringing.is_empty() {
            c.ring_until = None;
        }
        let mut out = Vec::new();
        self.not_answered(call, &[agent.to_owned()], now, &mut out);
        self.distribute(now, &mut out);
        Ok(out)
    }

    /// The queue a waiting or ringing call is in.
    pub fn queue_of(&self, call: &str) -> Option<&str> {
        self.calls.get(call).map(|c| c.queue.as_str())
    }

    /// Timers: ring timeouts (the agent goes not-ready "no answer", the call moves on), wrap-ups
    /// ending, and calls past their queue's maximum wait overflowing.
    pub fn tick(&mut self, now: Duration) -> Vec<Action> {
        let mut out = Vec::new();
        let wrapped: Vec<AgentId> = self.agents.iter().filter(|(_, a)| a.wrap_up_until.is_some_and(|t| t <= now)).map(|(id, _)| id.clone()).collect();
        for agent in wrapped {
            self.agents.get_mut(&agent).expect("listed").wrap_up_until = None;
            if self.agents[&agent].state == AgentState::WrapUp {
                self.set_state(&agent, AgentState::Ready, now, &mut out);
            }
        }
        let timed_out: Vec<CallId> = self.calls.iter().filter(|(_, c)| c.ring_until.is_some_and(|t| t <= now)).map(|(id, _)| id.clone()).collect();
        for call in timed_out {
            let c = self.calls.get_mut(&call).expect("listed");
            let agents = std::mem::take(&mut c.ringing);
            c.ring_until = None;
            out.push(Action::StopRinging { call: call.clone(), agents: agents.clone() });
            self.not_answered(&call, &agents, now, &mut out);
        }
        let overdue: Vec<CallId> = self
            .calls
            .iter()
            .filter(|(_, c)| c.ringing.is_empty() && self.queues[&c.queue].max_wait.is_some_and(|max| now.saturating_sub(c.enqueued_at) >= max))
            .map(|(id, _)| id.clone())
            .collect();
        for call in overdue {
            let c = self.calls.remove(&call).expect("listed");
            out.push(Action::Overflow {
                call,
                from: c.queue.clone(),
                to: self.queues[&c.queue].overflow.clone(),
                why: OverflowReason::MaxWait,
                waited: now.saturating_sub(c.enqueued_at),
            });
        }
        self.distribute(now, &mut out);
        out
    }

    /// Offers waiting calls, best first, to ready agents by each queue's strategy.
    fn distribute(&mut self, now: Duration, out: &mut Vec<Action>) {
        let mut order: Vec<(CallId, u8, u64)> = self.calls.iter().filter(|(_, c)| c.ringing.is_empty()).map(|(id, c)| (id.clone(), c.priority, c.seq)).collect();
        order.sort_by_key(|(_, priority, seq)| (std::cmp::Reverse(*priority), *seq));
        for (call, _, _) in order {
            let c = &self.calls[&call];
            let queue = self.queues[&c.queue].clone();
            let ready: Vec<AgentId> = self.agents.iter().filter(|(_, a)| a.state == AgentState::Ready && a.skills.contains_key(&queue.id)).map(|(id, _)| id.clone()).collect();
            // Agents who let this call ring out are tried again only when nobody else is free.
            let fresh: Vec<AgentId> = ready.iter().filter(|id| !c.declined.contains(*id)).cloned().collect();
            let free = if fresh.is_empty() { ready } else { fresh };
            if free.is_empty() {
                continue;
            }
            let last = c.last_agent.clone().filter(|l| free.contains(l));
            let chosen: Vec<AgentId> = match (last, queue.strategy) {
                (Some(last), _) => vec![last],
                (None, Strategy::RingAll) => free,
                (None, strategy) => vec![self.pick(&queue.id, strategy, &free)],
            };
            for agent in &chosen {
                self.set_state(agent, AgentState::Ringing { call: call.clone() }, now, out);
            }
            let c = self.calls.get_mut(&call).expect("listed");
            c.ringing = chosen.clone();
            c.ring_until = Some(now + queue.ring_timeout);
            out.push(Action::Ring { call, agents: chosen });
        }
    }

    fn pick(&mut self, queue: &str, strategy: Strategy, free: &[AgentId]) -> AgentId {
        let agent = |id: &AgentId| &self.agents[id];
        let chosen = match strategy {
            Strategy::LongestIdle | Strategy::RingAll => free.iter().min_by_key(|id| (agent(id).idle_since, (*id).clone())),
            Strategy::FewestCalls => free.iter().min_by_key(|id| (agent(id).calls_taken, agent(id).idle_since)),
            Strategy::LeastTalkTime => free.iter().min_by_key(|id| (agent(id).talk_time, agent(id).idle_since)),
            Strategy::SkillLevel => free.iter().min_by_key(|id| (std::cmp::Reverse(agent(id).skills[queue]), agent(id).idle_since)),
            Strategy::RoundRobin => {
                // The next agent after the one served last, in the agents' fixed order.
                let members: Vec<&AgentId> = self.agents.iter().filter(|(_, a)| a.skills.contains_key(queue)).map(|(id, _)| id).collect();
                let start = self.round_robin_next.get(queue).copied().unwrap_or(0);
                let found = (0..members.len()).map(|k| (start + k) % members.len()).find(|&i| free.contains(members[i]));
                let chosen = found.map(|i| members[i].clone());
                if let Some(i) = found {
                    self.round_robin_next.insert(queue.to_owned(), i + 1);
                }
                return chosen.unwrap_or_else(|| free[0].clone());
            }
            Strategy::Random => {
                // xorshift64: reproducible from the seed, good enough to spread calls.
                self.random_state ^= self.random_state << 13;
                self.random_state ^= self.random_state >> 7;
                self.random_state ^= self.random_state << 17;
                return free[(self.random_state % free.len() as u64) as usize].clone();
            }
        };
        chosen.expect("free is not empty").clone()
    }
}

/// One queue as a wallboard shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct QueueLive {
    pub queue: QueueId,
    pub calls_waiting: usize,
    pub longest_wait_s: u64,
    /// What a caller arriving now can expect to wait ([`Engine::expected_wait`]).
    pub expected_wait_s: u64,
    /// Agents skilled for the queue, by state (`ready`, `not-ready`, `ringing`, `on-call`,
    /// `wrap-up`, `logged-out`).
    pub agents: BTreeMap<&'static str, usize>,
}

impl Engine {
    /// Every queue's waiting calls and agents' states at `now`.
    pub fn live(&self, now: Duration) -> Vec<QueueLive> {
        self.queues
            .keys()
            .map(|queue| {
                let waiting: Vec<&Call> = self.calls.values().filter(|c| &c.queue == queue && c.ringing.is_empty()).collect();
                let mut agents: BTreeMap<&'static str, usize> = BTreeMap::new();
                for a in self.agents.values().filter(|a| a.skills.contains_key(queue)) {
                    *agents.entry(state_name(&a.state)).or_default() += 1;
                }
                QueueLive {
                    queue: queue.clone(),
                    calls_waiting: waiting.len(),
                    longest_wait_s: waiting.iter().map(|c| now.saturating_sub(c.enqueued_at).as_secs()).max().unwrap_or(0),
                    expected_wait_s: self.expected_wait(queue, waiting.len() + 1).as_secs(),
                    agents,
                }
            })
            .collect()
    }

    /// A phone registered: a logged-out agent is logged in, not ready until they say so.
    pub fn phone_registered(&mut self, agent: &str, now: Duration) -> Vec<Action> {
        let mut out = Vec::new();
        if self.agents.get(agent).is_some_and(|a| a.state == AgentState::LoggedOut) {
            self.set_state(agent, AgentState::NotReady { reason: "logged in".into() }, now, &mut out);
        }
        out
    }

    /// A phone unregistered or its registration expired: the agent is logged out, unless on a
    /// call (the call goes on; the agent logs out when it ends and they ask).
    pub fn phone_unregistered(&mut self, agent: &str, now: Duration) -> Vec<Action> {
        let mut out = Vec::new();
        let idle = self.agents.get(agent).is_some_and(|a| matches!(a.state, AgentState::Ready | AgentState::NotReady { .. } | AgentState::WrapUp));
        if idle {
            self.agents.get_mut(agent).expect("checked").wrap_up_until = None;
            self.set_state(agent, AgentState::LoggedOut, now, &mut out);
        }
        out
    }
}

/// The state's name in the API and on the wallboard.
pub fn state_name(state: &AgentState) -> &'static str {
    match state {
        AgentState::LoggedOut => "logged-out",
        AgentState::Ready => "ready",
        AgentState::NotReady { .. } => "not-ready",
        AgentState::Ringing { .. } => "ringing",
        AgentState::OnCall { .. } => "on-call",
        AgentState::WrapUp => "wrap-up",
    }
}

/// The demo tenant's queues and agents: `support` (recorded) and `billing`, longest idle,
/// agents `1001`–`1010` in both.
pub fn demo() -> Engine {
    Engine::new(demo_queues(), Some(3), 1).with_demo_agents()
}

pub fn demo_queues() -> Vec<QueueConfig> {
    let queue = |id: &str| QueueConfig {
        id: id.into(),
        strategy: Strategy::LongestIdle,
        ring_timeout: Duration::from_secs(15),
        wrap_up: Duration::from_secs(10),
        max_wait: Some(Duration::from_secs(300)),
        max_length: Some(50),
        overflow: Target::Voicemail,
        when_nobody: Target::Voicemail,
        record: id == "support",
    };
    vec![queue("support"), queue("billing")]
}

impl Engine {
    fn with_demo_agents(mut self) -> Self {
        for agent in crate::accounts::DEMO_AGENTS {
            self.add_agent(&agent.to_string(), &[("support", 1), ("billing", 1)]);
        }
        self
    }

    /// Each queue's settings.
    pub fn queue_configs(&self) -> Vec<QueueConfig> {
        self.queues.values().cloned().collect()
    }
}

fn is_break(state: &AgentState) -> bool {
    matches!(state, AgentState::NotReady { reason } if BREAK_REASONS.contains(&reason.as_str()))
}

fn describe(state: &AgentState) -> String {
    match state {
        AgentState::NotReady { reason } => format!("not-ready ({reason})"),
        other => state_name(other).to_owned(),
    }
}

#[cfg(test)]
mod tests;
