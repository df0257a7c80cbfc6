//! Erlang C (M/M/N) and Erlang A (M/M/N+M) queues: evaluate a number of agents, or find the
//! fewest agents that meet a set of targets.
//!
//! No factorials: both models start from Erlang B — summed directly near the load (positive
//! terms only) and carried upwards by the recursion `B(n) = A·B(n−1) / (n + A·B(n−1))`, which
//! stays in (0, 1] for any traffic `A` — so the results are stable from 0.01 to 100 000
//! Erlangs. An Erlang C requirement costs O(√A); Erlang A adds its queue tail, about
//! √(A × patience / AHT) terms near the answer (more for staffing far below the load). Erlang A's queue tail, whose terms can
//! exceed `f64` when agents are few, is summed in log space with a running rescale.
//!
//! The searches are exact over the integers: Erlang C walks upwards from the first stable
//! staffing, Erlang A brackets and bisects (its measures are monotone in the number of agents).
//! A target met exactly is met: comparisons allow 1e-12 for rounding in the last bits.

use crate::targets::{StaffingTargets, TargetError};
use serde::Serialize;

/// Rounding allowance when comparing a measure with its target.
const TOLERANCE: f64 = 1e-12;
/// Longest mean patience accepted by Erlang A: a day.
pub const MAX_PATIENCE_S: f64 = 86_400.0;
/// Erlang A's queue tail has about `traffic × patience / AHT` states worth summing when agents
/// are few; above this the model is refused (Erlang C describes such patient callers anyway).
pub const MAX_ERLANG_A_TAIL: f64 = 1_000_000.0;

/// Calls offered in an interval and their average handle time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Workload {
    arrival_rate_per_s: f64,
    aht_s: f64,
}

impl Workload {
    pub fn new(calls: f64, interval_s: f64, aht_s: f64) -> Result<Self, TargetError> {
        if !(calls.is_finite() && calls >= 0.0) {
            return Err(TargetError::new("calls", format!("{calls} is not a number of calls ≥ 0")));
        }
        if !(interval_s.is_finite() && interval_s > 0.0) {
            return Err(TargetError::new("interval_s", format!("{interval_s} is not a number of seconds > 0")));
        }
        if !(aht_s.is_finite() && aht_s > 0.0) {
            return Err(TargetError::new("aht_s", format!("{aht_s} is not a handle time in seconds > 0")));
        }
        let workload = Self { arrival_rate_per_s: calls / interval_s, aht_s };
        if workload.traffic_erlangs() > MAX_TRAFFIC_ERLANGS {
            return Err(TargetError::new(
                "calls",
                format!("{:.0} Erlangs is more than the {MAX_TRAFFIC_ERLANGS} supported", workload.traffic_erlangs()),
            ));
        }
        Ok(workload)
    }

    /// Offered load: arrival rate × average handle time.
    pub fn traffic_erlangs(&self) -> f64 {
        self.arrival_rate_per_s * self.aht_s
    }
}

/// Largest offered load accepted (the searches' arrays grow with it).
pub const MAX_TRAFFIC_ERLANGS: f64 = 1_000_000.0;

/// The queueing model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum QueueModel {
    /// Callers wait as long as it takes.
    ErlangC,
    /// Callers abandon after an exponential patience with this mean.
    ErlangA { patience_s: f64 },
}

impl QueueModel {
    pub fn erlang_a(patience_s: f64) -> Result<Self, TargetError> {
        if !(patience_s.is_finite() && patience_s > 0.0 && patience_s <= MAX_PATIENCE_S) {
            return Err(TargetError::new(
                "patience_s",
                format!("{patience_s} is not a mean patience in seconds in (0, {MAX_PATIENCE_S}]"),
            ));
        }
        Ok(Self::ErlangA { patience_s })
    }

    pub fn name(&self) -> &'static str {
        match self {
            Self::ErlangC => "erlang-c",
            Self::ErlangA { .. } => "erlang-a",
        }
    }
}

/// What a number of agents achieves under a model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Staffing {
    pub model: &'static str,
    pub traffic_erlangs: f64,
    pub agents: u32,
    /// Share of all offered calls answered within the threshold.
    pub service_level: f64,
    pub threshold_s: f64,
    pub probability_of_waiting: f64,
    /// Erlang A only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probability_of_abandoning: Option<f64>,
    /// Mean wait of answered calls (Erlang C: of all calls, all being answered); `None` when the
    /// queue grows without bound (Erlang C with agents ≤ traffic).
    pub asa_s: Option<f64>,
    /// Share of the agents' time spent handling calls.
    pub occupancy: f64,
}

impl Staffing {
    fn meets(&self, targets: &StaffingTargets) -> bool {
        let sl = targets.service_level.is_none_or(|t| self.service_level >= t.get() - TOLERANCE);
        let asa = targets.asa_s.is_none_or(|t| self.asa_s.is_some_and(|a| a <= t * (1.0 + TOLERANCE)));
        let occupancy = targets.max_occupancy.is_none_or(|t| self.occupancy <= t.get() + TOLERANCE);
        sl && asa && occupancy
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StaffingError {
    #[error("no staffing up to {max_agents} agents meets the targets (traffic {traffic_erlangs:.2} Erlangs)")]
    Unreachable { traffic_erlangs: f64, max_agents: u32 },
    #[error(
        "Erlang A with {traffic_erlangs:.0} Erlangs and a mean patience {patience_to_aht:.0} times the handle time is \
         beyond this model's range (traffic × patience / AHT ≤ {MAX_ERLANG_A_TAIL}); callers that patient are described by Erlang C"
    )]
    ErlangATooLarge { traffic_erlangs: f64, patience_to_aht: f64 },
}

fn check_range(model: QueueModel, load: &Workload) -> Result<(), StaffingError> {
    if let QueueModel::ErlangA { patience_s } = model {
        let patience_to_aht = patience_s / load.aht_s;
        if load.traffic_erlangs() * patience_to_aht > MAX_ERLANG_A_TAIL {
            return Err(StaffingError::ErlangATooLarge { traffic_erlangs: load.traffic_erlangs(), patience_to_aht });
        }
    }
    Ok(())
}

/// What `agents` agents achieve.
pub fn evaluate(model: QueueModel, load: &Workload, agents: u32, threshold_s: f64) -> Result<Staffing, StaffingError> {
    check_range(model, load)?;
    let mut table = ErlangB::new(load.traffic_erlangs());
    Ok(evaluate_with(model, load, agents, threshold_s, &mut table))
}

/// The service level of 0, 1, …, `up_to` agents (one Erlang B table for all): what each further
/// agent adds, for a roster search that weighs intervals by it.
pub fn service_level_curve(model: QueueModel, load: &Workload, up_to: u32, threshold_s: f64) -> Result<Vec<f64>, StaffingError> {
    check_range(model, load)?;
    let mut table = ErlangB::new(load.traffic_erlangs());
    Ok((0..=up_to).map(|n| evaluate_with(model, load, n, threshold_s, &mut table).service_level).collect())
}

/// The fewest agents meeting every target.
pub fn required_agents(model: QueueModel, load: &Workload, targets: &StaffingTargets) -> Result<Staffing, StaffingError> {
    check_range(model, load)?;
    let traffic = load.traffic_erlangs();
    let max_agents = (traffic * 3.0 + 10_000.0).min(u32::MAX as f64) as u32;
    let unreachable = StaffingError::Unreachable { traffic_erlangs: traffic, max_agents };
    let mut table = ErlangB::new(traffic);
    let mut at = |n: u32| evaluate_with(model, load, n, targets.threshold_s, &mut table);
    if traffic == 0.0 {
        return Ok(at(0));
    }
    match model {
        QueueModel::ErlangC => {
            // Fewer agents than the traffic never meet anything: the queue grows without bound.
            let stable = traffic.floor() as u32 + 1;
            let occupancy_floor = targets.max_occupancy.map_or(0, |cap| (traffic / cap.get() * (1.0 - TOLERANCE)).ceil() as u32);
            (stable.max(occupancy_floor)..=max_agents).map(&mut at).find(|s| s.meets(targets)).ok_or(unreachable)
        }
        QueueModel::ErlangA { .. } => {
            // Known to fail: no agents, and with n agents at most n/A of the calls are answered.
            let mut failing = targets.service_level.map_or(0, |t| (t.get() * traffic * (1.0 - TOLERANCE)).ceil() as i64 - 1).max(0);
            let mut step = traffic.sqrt().ceil().max(1.0) as i64;
            let mut passing = (traffic.ceil() as i64).max(failing + 1);
            let mut best = loop {
                if passing > i64::from(max_agents) {
                    return Err(unreachable);
                }
                let s = at(passing as u32);
                if s.meets(targets) {
                    break s;
                }
                failing = passing;
                passing += step;
                step *= 2;
            };
            while passing - failing > 1 {
                let mid = failing + (passing - failing) / 2;
                let s = at(mid as u32);
                if s.meets(targets) {
                    (passing, best) = (mid, s);
                } else {
                    failing = mid;
                }
            }
            Ok(best)
        }
    }
}

fn evaluate_with(model: QueueModel, load: &Workload, agents: u32, threshold_s: f64, table: &mut ErlangB) -> Staffing {
    let traffic = load.traffic_erlangs();
    let blocking = table.get(agents);
    let mut s = match model {
        QueueModel::ErlangC => erlang_c(traffic, load.aht_s, agents, blocking, threshold_s),
        QueueModel::ErlangA { patience_s } => erlang_a(load, 1.0 / patience_s, agents, blocking, threshold_s),
    };
    s.model = model.name();
    s
}

/// Erlang B values for one traffic. The value at ⌊A⌋ is summed directly, in O(√A) terms, and
/// the recursion runs upwards from there as far as asked for; below ⌊A⌋ each value is summed
/// directly. So a search near the load costs O(√A), not O(A).
struct ErlangB {
    traffic: f64,
    first: u32,
    values: Vec<f64>,
}

impl ErlangB {
    fn new(traffic: f64) -> Self {
        let first = traffic.floor() as u32;
        Self { traffic, first, values: vec![erlang_b_direct(first, traffic)] }
    }

    /// Probability that a call finds all `n` servers busy in a loss system.
    fn get(&mut self, n: u32) -> f64 {
        if n < self.first {
            return erlang_b_direct(n, self.traffic);
        }
        let index = (n - self.first) as usize;
        while self.values.len() <= index {
            let previous = *self.values.last().expect("starts with B(first)");
            if previous == 0.0 {
                // Underflowed: so is every value above (and the table stops growing).
                return 0.0;
            }
            let k = f64::from(self.first) + self.values.len() as f64;
            self.values.push(self.traffic * previous / (k + self.traffic * previous));
        }
        self.values[index]
    }
}

/// `B(n, A)` for `n ≤ A + 1` from `1/B = Σ_j ∏_{i<j} (n − i)/A`: every term after the first
/// is at most (A + 1)/A times the one before and they soon fall like `exp(−j²/2A)`, so the sum
/// stops after a few √A terms, all positive (no cancellation).
fn erlang_b_direct(n: u32, traffic: f64) -> f64 {
    if traffic == 0.0 {
        return if n == 0 { 1.0 } else { 0.0 };
    }
    let (mut sum, mut term) = (1.0f64, 1.0f64);
    for j in 0..n {
        term *= f64::from(n - j) / traffic;
        sum += term;
        if term < sum * 1e-17 {
            break;
        }
    }
    1.0 / sum
}

fn no_wait(traffic: f64, agents: u32, threshold_s: f64) -> Staffing {
    Staffing {
        model: "",
        traffic_erlangs: traffic,
        agents,
        service_level: 1.0,
        threshold_s,
        probability_of_waiting: 0.0,
        probability_of_abandoning: None,
        asa_s: Some(0.0),
        occupancy: if agents == 0 { 0.0 } else { traffic / f64::from(agents) },
    }
}

/// Every caller waits and the wait has no bound (or, with abandonment, no one is answered).
fn unserved(traffic: f64, threshold_s: f64) -> Staffing {
    Staffing { service_level: 0.0, probability_of_waiting: 1.0, asa_s: None, occupancy: 1.0, ..no_wait(traffic, 0, threshold_s) }
}

fn erlang_c(traffic: f64, aht_s: f64, agents: u32, blocking: f64, threshold_s: f64) -> Staffing {
    let n = f64::from(agents);
    if traffic == 0.0 {
        return no_wait(traffic, agents, threshold_s);
    }
    if n <= traffic {
        return Staffing { agents, ..unserved(traffic, threshold_s) };
    }
    let waiting = n * blocking / (n - traffic * (1.0 - blocking));
    let spare = n - traffic;
    Staffing {
        service_level: (1.0 - waiting * (-spare * threshold_s / aht_s).exp()).clamp(0.0, 1.0),
        probability_of_waiting: waiting,
        asa_s: Some(waiting * aht_s / spare),
        ..no_wait(traffic, agents, threshold_s)
    }
}

/// Sums over the states of the queue tail, scaled by `exp(-scale)` so that they stay finite.
#[derive(Default)]
struct TailSums {
    scale: f64,
    /// States where an arrival is served at once (fewer busy agents than `n`).
    below: f64,
    /// States where an arrival waits.
    waiting: f64,
    served: f64,
    abandoned: f64,
    served_within: f64,
    served_wait_s: f64,
}

impl TailSums {
    fn rescale_to(&mut self, scale: f64) {
        if scale > self.scale {
            let f = (self.scale - scale).exp();
            for v in [&mut self.below, &mut self.waiting, &mut self.served, &mut self.abandoned, &mut self.served_within, &mut self.served_wait_s] {
                *v *= f;
            }
            self.scale = scale;
        }
    }
}

/// M/M/n+M with arrival rate λ, service rate μ = 1/AHT and abandonment rate θ = 1/patience.
///
/// Stationary probabilities relative to the state with `n` busy agents and nobody waiting:
/// below it they sum to `1/B(n) − 1`; an arrival finding `j` callers ahead (state `n+j`) has
/// weight `∏_{i=1..j} λ/(nμ + iθ)`. That caller is answered with probability
/// `nμ / (nμ + (j+1)θ)` (the product of its stage probabilities telescopes), and given that,
/// waits a sum of exponentials with rates `nμ + θ, …, nμ + (j+1)θ`: a linear death process,
/// so `P(wait ≤ t) = I_x(j+1, nμ/θ + 1)` with `x = 1 − e^{−θt}`, the negative-binomial tail.
fn erlang_a(load: &Workload, theta: f64, agents: u32, blocking: f64, threshold_s: f64) -> Staffing {
    let traffic = load.traffic_erlangs();
    let (lambda, mu) = (load.arrival_rate_per_s, 1.0 / load.aht_s);
    if traffic == 0.0 || blocking == 0.0 {
        return Staffing { probability_of_abandoning: Some(0.0), ..no_wait(traffic, agents, threshold_s) };
    }
    if agents == 0 {
        return Staffing { probability_of_abandoning: Some(1.0), ..unserved(traffic, threshold_s) };
    }
    let n_mu = f64::from(agents) * mu;
    // In logs, so that a subnormal B does not overflow the ratio.
    let ln_below = (-blocking).ln_1p() - blocking.ln();
    let mut sums = TailSums { scale: ln_below.max(0.0), ..TailSums::default() };
    sums.below = (ln_below - sums.scale).exp();

    // Negative-binomial terms for P(wait ≤ t): T_0 = (1−x)^b, T_{k+1} = T_k · x(k+b)/(k+1).
    let x = -(-theta * threshold_s).exp_m1();
    let (ln_x, nb_shape) = (x.ln(), (n_mu + theta) / theta);
    let mut ln_term = -(n_mu + theta) * threshold_s;
    let mut cdf = 0.0;

    let mut ln_weight = 0.0;
    let mut mean_wait_s = 0.0;
    let mut j = 0u64;
    loop {
        let stage_rate = n_mu + (j + 1) as f64 * theta;
        let served = n_mu / stage_rate;
        mean_wait_s += 1.0 / stage_rate;
        cdf += ln_term.exp();
        let within = served * (1.0 - cdf).max(0.0);

        sums.rescale_to(ln_weight);
        let w = (ln_weight - sums.scale).exp();
        sums.waiting += w;
        sums.served += w * served;
        sums.abandoned += w * (1.0 - served);
        sums.served_within += w * within;
        sums.served_wait_s += w * served * mean_wait_s;

        ln_term += ln_x + ((j as f64 + nb_shape) / (j as f64 + 1.0)).ln();
        j += 1;
        let ratio = lambda / (n_mu + j as f64 * theta);
        ln_weight += ratio.ln();
        // Past the mode the terms fall geometrically at least as fast as `ratio`.
        if ratio < 1.0 && ln_weight - (1.0 - ratio).ln() < sums.scale - 40.0 {
            break;
        }
    }
    let total = sums.below + sums.waiting;
    let answered = sums.below + sums.served;
    let probability_of_abandoning = sums.abandoned / total;
    Staffing {
        service_level: ((sums.below + sums.served_within) / total).clamp(0.0, 1.0),
        probability_of_waiting: sums.waiting / total,
        probability_of_abandoning: Some(probability_of_abandoning),
        asa_s: Some(if answered > 0.0 { sums.served_wait_s / answered } else { 0.0 }),
        occupancy: traffic * (1.0 - probability_of_abandoning) / f64::from(agents),
        ..no_wait(traffic, agents, threshold_s)
    }
}

#[cfg(test)]
mod tests;
