//! The ACD as the rest of `wfm serve` sees it: one tenant's queue engine behind a lock, on the
//! wall clock, fed by the SIP endpoint's registrations and by agents' and supervisors' requests.

use crate::acd::{AcdError, Action, AgentState, Engine, QueueLive};
use std::sync::Mutex;
use std::time::Instant;

pub struct Live {
    pub tenant: String,
    engine: Mutex<Engine>,
    started: Instant,
}

impl Live {
    pub fn new(tenant: &str, engine: Engine) -> Self {
        Self { tenant: tenant.to_owned(), engine: Mutex::new(engine), started: Instant::now() }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Engine, std::time::Duration) -> T) -> T {
        // A panic while holding the lock leaves the engine as it was between two inputs:
        // carry on with it rather than fail every later request.
        let mut engine = self.engine.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut engine, self.started.elapsed())
    }

    pub fn request_state(&self, agent: &str, wanted: AgentState) -> Result<Vec<Action>, AcdError> {
        self.with(|e, now| e.request_state(agent, wanted, now))
    }

    pub fn state(&self, agent: &str) -> Option<AgentState> {
        self.with(|e, _| e.state(agent).cloned())
    }

    pub fn queues(&self) -> Vec<QueueLive> {
        self.with(|e, now| e.live(now))
    }

    pub fn phone_registered(&self, agent: &str) -> Vec<Action> {
        self.with(|e, now| e.phone_registered(agent, now))
    }

    pub fn phone_unregistered(&self, agent: &str) -> Vec<Action> {
        self.with(|e, now| e.phone_unregistered(agent, now))
    }

    /// The engine's timers; call about once a second.
    pub fn tick(&self) -> Vec<Action> {
        self.with(|e, now| e.tick(now))
    }
}
