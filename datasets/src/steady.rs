//! A single queue in steady state — constant Poisson arrivals, agents who never pause — run
//! through the same discrete-event simulation as the generated centres. It is the setting the
//! Erlang formulas assume, so it checks them.

use crate::arrivals::Arrival;
use crate::config::{Handling, QueuePlan, TenantPlan};
use crate::roster::{Agent, Shift};
use crate::sim::TenantSim;
use rand::SeedableRng;
use rand_distr::{Distribution, Exp};
use rand_pcg::Pcg64Mcg;
use wfm_model::{AgentId, CallRecord, QueueName, TenantId, TenantZone};

#[derive(Debug, Clone)]
pub struct SteadyQueue {
    pub calls_per_hour: f64,
    pub mean_talk_s: f64,
    /// Mean exponential patience; callers never overflow.
    pub mean_patience_s: f64,
    pub agents: usize,
    pub hours: f64,
    pub handling: Handling,
    pub seed: u64,
}

/// Every call of the run, in arrival order.
pub fn simulate_steady_queue(q: &SteadyQueue) -> Vec<CallRecord> {
    let plan = TenantPlan {
        tenant: TenantId::parse("steady").expect("valid"),
        zone: TenantZone::utc(),
        queues: vec![QueuePlan {
            name: QueueName::parse("q").expect("valid"),
            share: 1.0,
            mean_talk_s: q.mean_talk_s,
            mean_patience_s: q.mean_patience_s,
            max_wait_s: f64::from(u32::MAX),
            handling: q.handling,
        }],
        weekday_calls: q.calls_per_hour * 24.0,
        open_hour: 0,
        close_hour: 24,
    };
    let agents: Vec<Agent> = (0..q.agents)
        .map(|i| Agent {
            id: AgentId::parse(&format!("a{i}")).expect("valid"),
            team: "t".into(),
            team_leader: false,
            skills: vec![(0, 1.0)],
            min_hours_week: 0,
            max_hours_week: 168,
        })
        .collect();
    let end_ms = (q.hours * 3_600_000.0) as i64;
    // Agents stay until the last caller has left.
    let shifts: Vec<Shift> = (0..q.agents).map(|agent| Shift { agent, login_ms: 0, logout_ms: end_ms * 4 + 86_400_000, pauses: Vec::new() }).collect();
    let mut rng = Pcg64Mcg::seed_from_u64(q.seed);
    let gap = Exp::new(q.calls_per_hour / 3_600_000.0).expect("positive rate");
    let mut arrivals = Vec::new();
    let mut t = 1.0;
    loop {
        t += gap.sample(&mut rng);
        if t >= end_ms as f64 {
            break;
        }
        arrivals.push(Arrival { at_ms: t as i64, queue: 0, priority: 0 });
    }
    let mut sim = TenantSim::new(&plan, &agents, Pcg64Mcg::seed_from_u64(q.seed ^ 0x5eed));
    sim.schedule_day(&arrivals, &shifts);
    sim.run_until(end_ms * 4 + 86_400_000);
    let mut calls = std::mem::take(&mut sim.finished_calls);
    calls.sort_by_key(|c| c.queued_at);
    calls
}
