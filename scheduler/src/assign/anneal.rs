//! After the local search's first optimum, simulated annealing until the time limit: random
//! moves — a shift changes shape, goes to another agent, moves to another day of its week, or
//! two agents exchange their shifts of a day — each kept when it lowers the search's cost, or
//! with probability `exp(−Δ/T)` when it raises it, `T` cooling from one short agent-interval's
//! cost to a hundredth of it over the run. Every hard rule and contract minimum holds after each
//! move; the best roster met is kept, and the search's own objective of the returned roster is
//! never above the one it started from.
//!
//! Chosen by measurement against iterated re-runs of the local search (BENCHMARKS.md): it keeps
//! finding small gains where the local search has none left. The moves follow one
//! pseudo-random sequence per seed: with a number of tries instead of a time limit, a run
//! repeats exactly. Under a time limit it stops at the limit, or when the best has not improved
//! for half the time given (at least a second).

use super::{Assigned, Assignment, Progress, Search};
use crate::design::Shape;
use crate::skills::SHORT_WEIGHT;
use std::time::{Duration, Instant};

/// When the annealing stops.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub deadline: Instant,
    /// Stop after this many tries, if the deadline does not come first (deterministic for a
    /// seed) rather than when the best stalls.
    pub tries: Option<u64>,
    pub seed: u64,
}

/// xorshift64*: small, fast, and the same for a seed on every machine.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const HOT: f64 = SHORT_WEIGHT as f64;
const COLD: f64 = SHORT_WEIGHT as f64 / 100.0;

impl Search<'_> {
    /// What agent `a` working `shape` on `day` costs, given everything else (the shift itself
    /// taken out): coverage, soft rules and the baseline's price.
    fn cost(&mut self, a: usize, day: usize, shape: &Shape) -> i64 {
        self.gain(a, day, shape) + self.soft_delta(a, day, shape) + self.changed(a, day, Some(shape))
    }

    /// Whether agent `a`, whose shift of `day` is taken out, keeps that week's contract minimum
    /// when the shift becomes `instead` (`(day, shape)`, in the same week, or nothing).
    fn keeps_minimum(&self, a: usize, day: usize, had: &Shape, instead: Option<(usize, &Shape)>) -> bool {
        let week = self.ctx.week(day);
        let without = self.states[a].paid_by_week.get(&week).copied().unwrap_or(0);
        let after = without + instead.map_or(0, |(d, s)| self.ctx.paid(d, s));
        after >= self.ctx.minimum(a, week).min(without + self.ctx.paid(day, had))
    }

    /// The search's objective of the current roster (`shifts`): coverage, the fairness figure,
    /// every shift's other soft costs beside all the others, and the baseline's price of every
    /// agent-day.
    pub(super) fn objective(&mut self, shifts: &[Assignment]) -> i64 {
        let coverage = self.coverage.cost().round() as i64;
        let mut soft = 0;
        for s in shifts {
            self.take(s.agent, s.day, &s.shape);
            soft += (self.soft_points(s.agent, s.day, &s.shape, false) * super::SOFT_POINT).round() as i64;
            self.put(s.agent, s.day, &s.shape);
        }
        let changes: i64 = (0..self.states.len()).flat_map(|a| (0..self.ctx.design.days.len()).map(move |d| (a, d))).map(|(a, d)| self.changed(a, d, self.states[a].shifts[d].as_ref())).sum();
        coverage + soft + self.fairness_cost() + changes
    }

    fn replace(&mut self, from: &[Assignment], to: &[Assignment]) {
        for s in from {
            self.take(s.agent, s.day, &s.shape);
        }
        for s in to {
            self.put(s.agent, s.day, &s.shape);
        }
    }
}

/// Anneals `out` (the local search's optimum) within `budget`.
pub(super) fn anneal(search: &mut Search, out: &mut Assigned, budget: Budget, progress: &mut dyn FnMut(Progress)) {
    let n = out.shifts.len();
    let started = Instant::now();
    if n == 0 || started >= budget.deadline {
        return;
    }
    let mut rng = Rng::new(budget.seed);
    let start = out.shifts.clone();
    let start_objective = search.objective(&start);
    let total = budget.deadline.saturating_duration_since(started);
    let stall = (total / 2).max(Duration::from_secs(1));
    let (mut current, mut best) = (0i64, 0i64);
    let mut best_shifts = start.clone();
    let (mut last_best, mut last_report) = (started, started);
    let (mut tries, mut accepted, mut pass) = (0u64, 0u32, 0u32);
    let mut temperature = HOT;
    loop {
        // Time is read, and the temperature set, every 64 tries: a try costs microseconds.
        if tries % 64 == 0 {
            let now = Instant::now();
            let (done, progress_done) = match budget.tries {
                Some(limit) => (tries >= limit, tries as f64 / limit as f64),
                None => (now.duration_since(last_best) >= stall, now.duration_since(started).as_secs_f64() / total.as_secs_f64().max(1e-9)),
            };
            if done || now >= budget.deadline {
                break;
            }
            temperature = HOT * (COLD / HOT).powf(progress_done.min(1.0));
            if now.duration_since(last_report) >= Duration::from_secs(1) {
                pass += 1;
                progress(search.progress(pass, accepted, false, true));
                (last_report, accepted) = (now, 0);
            }
        }
        tries += 1;
        if let Some(delta) = try_move(search, out, &mut rng, temperature) {
            current += delta;
            accepted += 1;
            if current < best {
                best = current;
                best_shifts.clone_from(&out.shifts);
                last_best = Instant::now();
            }
        }
    }
    if current != best {
        search.replace(&out.shifts.clone(), &best_shifts);
        out.shifts = best_shifts;
    }
    // The moves' costs are marginal; the whole objective decides against the start.
    if search.objective(&out.shifts) > start_objective {
        search.replace(&out.shifts.clone(), &start);
        out.shifts = start;
    }
    // The last report is the roster returned.
    progress(search.progress(pass + 1, accepted, true, true));
}

/// Whether a move changing the cost by `delta` is kept at `temperature`.
fn accept(delta: i64, temperature: f64, rng: &mut Rng) -> bool {
    delta <= 0 || rng.unit() < (-(delta as f64) / temperature).exp()
}

/// One random move, made when accepted at `temperature`: its change of the cost.
fn try_move(search: &mut Search, out: &mut Assigned, rng: &mut Rng, temperature: f64) -> Option<i64> {
    let k = rng.below(out.shifts.len());
    let Assignment { agent: a, day, shape } = out.shifts[k];
    let design = search.ctx.design;
    let kind = rng.below(4);
    if kind == 3 {
        return exchange(search, out, rng, k, temperature);
    }
    search.take(a, day, &shape);
    let old = search.cost(a, day, &shape);
    let (b, d2, s2) = match kind {
        0 => (a, day, design.shapes[rng.below(design.shapes.len())]),
        1 => (rng.below(search.ctx.agents.len()), day, shape),
        _ => {
            let week: Vec<usize> = (0..design.days.len()).filter(|&d| search.ctx.week(d) == search.ctx.week(day)).collect();
            (a, week[rng.below(week.len())], shape)
        }
    };
    let same_agent_day = (b, d2) == (a, day);
    let allowed = (b, d2, s2) != (a, day, shape)
        && search.states[b].shifts[d2].is_none()
        && search.ctx.eligible(b, &search.states[b], d2, &s2)
        && search.keeps_minimum(a, day, &shape, (b == a).then_some((d2, &s2)))
        && (same_agent_day || !search.ctx.breaks_a_run_rule(&search.states[a], day, None));
    if allowed {
        let moved = if same_agent_day { 0 } else { search.changed(a, day, None) - search.changed(b, d2, None) };
        let delta = search.cost(b, d2, &s2) - old + moved;
        if accept(delta, temperature, rng) {
            search.put(b, d2, &s2);
            // Moves between days can meet both ends of a run: the whole roster of the agent decides.
            if search.ctx.run_rules_hold(&search.states[a]) {
                out.shifts[k] = Assignment { agent: b, day: d2, shape: s2 };
                return Some(delta);
            }
            search.take(b, d2, &s2);
        }
    }
    search.put(a, day, &shape);
    None
}

/// Two agents working the same day exchange their shifts.
fn exchange(search: &mut Search, out: &mut Assigned, rng: &mut Rng, k: usize, temperature: f64) -> Option<i64> {
    let first = out.shifts[k];
    let others: Vec<usize> = (0..out.shifts.len()).filter(|&j| out.shifts[j].day == first.day && out.shifts[j].agent != first.agent && out.shifts[j].shape != first.shape).collect();
    if others.is_empty() {
        return None;
    }
    let j = others[rng.below(others.len())];
    let second = out.shifts[j];
    let (a, b, day) = (first.agent, second.agent, first.day);
    search.take(a, day, &first.shape);
    search.take(b, day, &second.shape);
    let allowed = search.ctx.eligible(a, &search.states[a], day, &second.shape)
        && search.ctx.eligible(b, &search.states[b], day, &first.shape)
        && search.keeps_minimum(a, day, &first.shape, Some((day, &second.shape)))
        && search.keeps_minimum(b, day, &second.shape, Some((day, &first.shape)));
    let mut result = None;
    if allowed {
        // Each pair's cost is the first shift's beside nothing, then the second's beside it.
        let pair = |search: &mut Search, x: &Assignment, y: &Assignment| {
            let cost = search.cost(x.agent, day, &x.shape);
            search.put(x.agent, day, &x.shape);
            let cost = cost + search.cost(y.agent, day, &y.shape);
            search.take(x.agent, day, &x.shape);
            cost
        };
        let (swapped_a, swapped_b) = (Assignment { agent: a, day, shape: second.shape }, Assignment { agent: b, day, shape: first.shape });
        let delta = pair(search, &swapped_a, &swapped_b) - pair(search, &first, &second);
        if accept(delta, temperature, rng) {
            (out.shifts[k], out.shifts[j]) = (swapped_a, swapped_b);
            result = Some(delta);
        }
    }
    let (x, y) = (out.shifts[k], out.shifts[j]);
    search.put(x.agent, day, &x.shape);
    search.put(y.agent, day, &y.shape);
    result
}
