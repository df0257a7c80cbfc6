//! Discrete-event simulation of one centre: skill queues served FIFO within priority by the
//! longest-idle agent who has the skill; callers abandon after an exponential patience or
//! overflow at the queue's maximum wait; agents follow their shifts, breaks and pauses.

use crate::arrivals::{instant, Arrival};
use crate::config::{Handling, TenantPlan};
use crate::roster::{Agent, Shift};
use rand::RngExt;
use rand_distr::{Distribution, Exp, LogNormal};
use rand_pcg::Pcg64Mcg;
use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, VecDeque};
use wfm_model::{AgentState, AgentStateEvent, CallRecord, Channel, Direction, ExitReason, QueueName};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    Arrival(u32),
    GiveUp(u32),
    AgentFree(u32),
    Login(u32),
    Pause(u32, u32),
    PauseEnd(u32),
    Logout(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Offline,
    Idle,
    Busy,
    Paused,
}

/// Something an agent will do as soon as the current call is finished.
#[derive(Debug, Clone, Copy)]
enum Deferred {
    Pause(u32),
    Logout,
}

struct AgentRt {
    status: Status,
    idle_since: i64,
    deferred: VecDeque<Deferred>,
    /// The open state period: state, reason, start.
    current: Option<(AgentState, Option<&'static str>, i64)>,
}

struct CallRt {
    /// Sequence number over the whole simulation: the call id.
    number: u64,
    queue: usize,
    priority: i32,
    queued_ms: i64,
    give_up_ms: i64,
    abandons: bool,
    waiting: bool,
}

/// Queue and handling parameters, drawn per call.
struct Service {
    talk: Vec<LogNormal<f64>>,
    exponential_talk: Vec<Exp<f64>>,
    patience: Vec<Exp<f64>>,
    hold: Exp<f64>,
    wrap: LogNormal<f64>,
}

fn lognormal(mean: f64, cv: f64) -> LogNormal<f64> {
    let sigma2 = (1.0 + cv * cv).ln();
    LogNormal::new(mean.ln() - sigma2 / 2.0, sigma2.sqrt()).expect("valid lognormal")
}

pub struct TenantSim<'a> {
    plan: &'a TenantPlan,
    agents: &'a [Agent],
    rt: Vec<AgentRt>,
    pauses: Vec<(i64, &'static str)>,
    /// Calls of the days not yet finished; indices are only valid until the next reset.
    calls: Vec<CallRt>,
    calls_before: u64,
    waiting: Vec<BTreeSet<(Reverse<i32>, i64, u32)>>,
    idle: Vec<BTreeSet<(i64, u32)>>,
    events: BinaryHeap<Reverse<(i64, Event)>>,
    service: Service,
    rng: Pcg64Mcg,
    pub finished_calls: Vec<CallRecord>,
    pub finished_states: Vec<AgentStateEvent>,
}

impl<'a> TenantSim<'a> {
    pub fn new(plan: &'a TenantPlan, agents: &'a [Agent], rng: Pcg64Mcg) -> Self {
        let service = Service {
            talk: plan.queues.iter().map(|q| lognormal(q.mean_talk_s, 0.8)).collect(),
            exponential_talk: plan.queues.iter().map(|q| Exp::new(1.0 / q.mean_talk_s).expect("positive")).collect(),
            patience: plan.queues.iter().map(|q| Exp::new(1.0 / q.mean_patience_s).expect("positive")).collect(),
            hold: Exp::new(1.0 / 45.0).expect("positive"),
            wrap: lognormal(25.0, 0.6),
        };
        Self {
            plan,
            agents,
            rt: agents
                .iter()
                .map(|_| AgentRt { status: Status::Offline, idle_since: 0, deferred: VecDeque::new(), current: None })
                .collect(),
            pauses: Vec::new(),
            calls: Vec::new(),
            calls_before: 0,
            waiting: vec![BTreeSet::new(); plan.queues.len()],
            idle: vec![BTreeSet::new(); plan.queues.len()],
            events: BinaryHeap::new(),
            service,
            rng,
            finished_calls: Vec::new(),
            finished_states: Vec::new(),
        }
    }

    /// Adds a day's arrivals and shifts to the future.
    pub fn schedule_day(&mut self, arrivals: &[Arrival], shifts: &[Shift]) {
        // Nobody waiting means no event refers to an earlier call any more: forget them.
        let pending_call_events = self.events.iter().any(|Reverse((_, e))| matches!(e, Event::Arrival(_) | Event::GiveUp(_)));
        if self.waiting.iter().all(BTreeSet::is_empty) && !pending_call_events {
            self.calls_before += self.calls.len() as u64;
            self.calls.clear();
        }
        for a in arrivals {
            let id = self.calls.len() as u32;
            let patience_ms = (self.service.patience[a.queue].sample(&mut self.rng) * 1000.0) as i64;
            let max_wait_ms = (self.plan.queues[a.queue].max_wait_s * 1000.0) as i64;
            self.calls.push(CallRt {
                number: self.calls_before + id as u64,
                queue: a.queue,
                priority: a.priority,
                queued_ms: a.at_ms,
                give_up_ms: a.at_ms + patience_ms.min(max_wait_ms),
                abandons: patience_ms < max_wait_ms,
                waiting: false,
            });
            self.events.push(Reverse((a.at_ms, Event::Arrival(id))));
        }
        for s in shifts {
            let agent = s.agent as u32;
            self.events.push(Reverse((s.login_ms, Event::Login(agent))));
            for p in &s.pauses {
                if p.at_ms > s.login_ms && p.at_ms + p.duration_ms < s.logout_ms {
                    let id = self.pauses.len() as u32;
                    self.pauses.push((p.duration_ms, p.reason));
                    self.events.push(Reverse((p.at_ms, Event::Pause(agent, id))));
                }
            }
            self.events.push(Reverse((s.logout_ms, Event::Logout(agent))));
        }
    }

    /// Runs every event before `until_ms`.
    pub fn run_until(&mut self, until_ms: i64) {
        while let Some(&Reverse((t, event))) = self.events.peek() {
            if t >= until_ms {
                break;
            }
            self.events.pop();
            match event {
                Event::Arrival(call) => self.arrive(call, t),
                Event::GiveUp(call) => self.give_up(call, t),
                Event::AgentFree(agent) => self.become_available(agent, t),
                Event::Login(agent) => {
                    if self.rt[agent as usize].status == Status::Offline {
                        self.become_available(agent, t);
                    }
                }
                Event::Pause(agent, pause) => self.request(agent, Deferred::Pause(pause), t),
                Event::PauseEnd(agent) => self.become_available(agent, t),
                Event::Logout(agent) => self.request(agent, Deferred::Logout, t),
            }
        }
    }

    fn set_state(&mut self, agent: u32, state: Option<(AgentState, Option<&'static str>)>, t: i64) {
        let rt = &mut self.rt[agent as usize];
        if let Some((open, reason, since)) = rt.current.take() {
            self.emit_state(agent, open, reason, since, t);
        }
        self.rt[agent as usize].current = state.map(|(s, r)| (s, r, t));
    }

    fn emit_state(&mut self, agent: u32, state: AgentState, reason: Option<&'static str>, from: i64, to: i64) {
        if to <= from {
            return;
        }
        let a = &self.agents[agent as usize];
        self.finished_states.push(AgentStateEvent {
            agent_id: a.id.clone(),
            state,
            reason: reason.map(str::to_owned),
            started_at: instant(from),
            ended_at: instant(to),
            queues: a.skills.iter().map(|(q, _)| self.plan.queues[*q].name.clone()).collect(),
        });
    }

    fn leave_idle(&mut self, agent: u32) {
        let since = self.rt[agent as usize].idle_since;
        for (q, _) in &self.agents[agent as usize].skills {
            self.idle[*q].remove(&(since, agent));
        }
    }

    /// A pause or logout: at once when idle, after the call when busy.
    fn request(&mut self, agent: u32, what: Deferred, t: i64) {
        match self.rt[agent as usize].status {
            Status::Idle => {
                self.leave_idle(agent);
                self.carry_out(agent, what, t);
            }
            Status::Busy | Status::Paused => self.rt[agent as usize].deferred.push_back(what),
            Status::Offline => {}
        }
    }

    fn carry_out(&mut self, agent: u32, what: Deferred, t: i64) {
        match what {
            Deferred::Pause(pause) => {
                let (duration, reason) = self.pauses[pause as usize];
                self.rt[agent as usize].status = Status::Paused;
                self.set_state(agent, Some((AgentState::NotReady, Some(reason))), t);
                self.events.push(Reverse((t + duration, Event::PauseEnd(agent))));
            }
            Deferred::Logout => {
                let rt = &mut self.rt[agent as usize];
                rt.status = Status::Offline;
                rt.deferred.clear();
                self.set_state(agent, None, t);
            }
        }
    }

    /// After login, a pause or a call: do what was deferred, else take the best waiting call,
    /// else wait for one.
    fn become_available(&mut self, agent: u32, t: i64) {
        if let Some(what) = self.rt[agent as usize].deferred.pop_front() {
            return self.carry_out(agent, what, t);
        }
        let best = self.agents[agent as usize]
            .skills
            .iter()
            .filter_map(|(q, _)| self.waiting[*q].first().copied())
            .min();
        if let Some((_, _, call)) = best {
            let q = self.calls[call as usize].queue;
            self.waiting[q].pop_first();
            self.calls[call as usize].waiting = false;
            return self.answer(call, agent, t);
        }
        let rt = &mut self.rt[agent as usize];
        rt.status = Status::Idle;
        rt.idle_since = t;
        for (q, _) in &self.agents[agent as usize].skills {
            self.idle[*q].insert((t, agent));
        }
        self.set_state(agent, Some((AgentState::Ready, None)), t);
    }

    fn arrive(&mut self, call: u32, t: i64) {
        let (q, priority, give_up) = {
            let c = &self.calls[call as usize];
            (c.queue, c.priority, c.give_up_ms)
        };
        if let Some(&(_, agent)) = self.idle[q].first() {
            self.leave_idle(agent);
            return self.answer(call, agent, t);
        }
        self.calls[call as usize].waiting = true;
        self.waiting[q].insert((Reverse(priority), t, call));
        self.events.push(Reverse((give_up, Event::GiveUp(call))));
    }

    fn give_up(&mut self, call: u32, t: i64) {
        let c = &self.calls[call as usize];
        if !c.waiting {
            return;
        }
        let (q, key, abandons) = (c.queue, (Reverse(c.priority), c.queued_ms, call), c.abandons);
        self.waiting[q].remove(&key);
        self.calls[call as usize].waiting = false;
        let exit = if abandons { ExitReason::Abandoned } else { ExitReason::Timeout };
        let record = self.record(call, t, t, exit);
        self.finished_calls.push(record);
    }

    fn answer(&mut self, call: u32, agent: u32, t: i64) {
        let q = self.calls[call as usize].queue;
        let efficiency = self.agents[agent as usize].skills.iter().find(|(s, _)| *s == q).map_or(0.8, |(_, e)| *e);
        let rng = &mut self.rng;
        let (ring, talk, hold, wrap) = match self.plan.queues[q].handling {
            Handling::Realistic => {
                let ring = rng.random_range(2_000..8_000);
                let talk = (self.service.talk[q].sample(rng) * crate::roster::talk_factor(efficiency) * 1000.0).max(5_000.0) as i64;
                let hold = if rng.random_bool(0.2) { (self.service.hold.sample(rng) * 1000.0) as i64 } else { 0 };
                (ring, talk, hold, (self.service.wrap.sample(rng) * 1000.0) as i64)
            }
            Handling::Exponential => (0, ((self.service.exponential_talk[q].sample(rng) * 1000.0) as i64).max(1), 0, 0),
        };
        let answered = t + ring;
        let ended = answered + talk + hold;
        let mut record = self.record(call, answered, ended, ExitReason::Answered);
        record.agent_id = Some(self.agents[agent as usize].id.clone());
        (record.ring_ms, record.talk_ms, record.hold_ms, record.wrap_ms) = (ring, talk, hold, wrap);
        self.finished_calls.push(record);
        self.rt[agent as usize].status = Status::Busy;
        self.set_state(agent, None, t);
        self.emit_state(agent, AgentState::Ringing, None, t, answered);
        self.emit_state(agent, AgentState::OnCall, None, answered, ended);
        self.rt[agent as usize].current = Some((AgentState::WrapUp, None, ended));
        self.events.push(Reverse((ended + wrap, Event::AgentFree(agent))));
    }

    /// The call's record; `left_ms` is when it left the queue (answer, abandon or timeout).
    fn record(&mut self, call: u32, left_ms: i64, ended_ms: i64, exit: ExitReason) -> CallRecord {
        let c = &self.calls[call as usize];
        let queue: &QueueName = &self.plan.queues[c.queue].name;
        let ivr_ms = self.rng.random_range(8_000..40_000);
        let answered = exit == ExitReason::Answered;
        CallRecord {
            call_id: format!("{}-{:09}", self.plan.tenant, c.number),
            channel: Channel::Voice,
            direction: Direction::Inbound,
            caller_number: Some(format!("+48{}", self.rng.random_range(500_000_000u64..800_000_000))),
            dialled_number: Some("100".to_owned()),
            queue: Some(queue.clone()),
            priority: c.priority,
            arrived_at: instant(c.queued_ms - ivr_ms),
            queued_at: Some(instant(c.queued_ms)),
            answered_at: answered.then(|| instant(left_ms)),
            ended_at: instant(ended_ms),
            wait_ms: Some(left_ms - c.queued_ms),
            abandoned: exit == ExitReason::Abandoned,
            exit_reason: exit,
            agent_id: None,
            ring_ms: 0,
            talk_ms: 0,
            hold_ms: 0,
            wrap_ms: 0,
            transfer_target: None,
            disposition: None,
            ivr_path: Some(format!("main>{}", c.queue + 1)),
            sip_call_id: None,
            recording: None,
        }
    }
}
