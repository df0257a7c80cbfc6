//! Per-skill coverage: how much of each queue's requirement the agents on duty can serve, when
//! each agent answers one queue at a time and agents go to the queues where they are needed.
//!
//! Agents are grouped by skill set and efficiency ("types"), and one interval's allocation is a
//! maximum flow source → type (agents on duty) → queue (if skilled) → sink (required). An agent
//! with `billing:0.8` serves 0.8 of an agent's requirement on billing for each unit of their
//! time there: the arc type → queue has that gain, and the flow is a generalised flow (see
//! [`graded`]). Where every efficiency is 1 it is an ordinary flow in whole agents, solved by
//! augmenting paths in integers. The flow is the served requirement; what is left of the
//! requirement is under-staffing, what is left of the agents' time is over-staffing. The
//! residual graph also says, for each type, what one more agent of it would serve — what the
//! roster search asks for every candidate shift.

mod graded;
mod value;

pub use value::{concave_steps, ServedValue};

use crate::agents::Agent;
use std::cell::RefCell;
use std::collections::BTreeMap;
use wfm_model::QueueName;

/// The agents' distinct skill sets (with their efficiencies) over the queues of a requirement.
#[derive(Debug, Clone, PartialEq)]
pub struct SkillTypes {
    pub queues: Vec<QueueName>,
    /// Per type, the indices (into `queues`) of the queues it serves.
    pub types: Vec<Vec<usize>>,
    /// Per type and queue (every queue, 0 where the type has no skill), the requirement one
    /// agent's time serves: the skill's efficiency.
    pub efficiency: Vec<Vec<f64>>,
    /// Per agent, their type.
    pub agent_type: Vec<usize>,
    /// Per type, its skill set (types differing only in efficiencies share one): where a
    /// heuristic lets one agent stand for many.
    pub skill_set: Vec<usize>,
    graded: bool,
    /// `efficiency`'s natural logarithms, for the generalised flow's path search.
    log_efficiency: Vec<Vec<f64>>,
}

impl SkillTypes {
    /// Groups `agents` by the queues of `queues` they hold a skill for and its efficiency (a
    /// skill for a queue the requirement does not name is ignored; an agent with none of them
    /// serves nothing).
    pub fn new(agents: &[Agent], queues: &[QueueName]) -> Self {
        let mut index: BTreeMap<Vec<(usize, u64)>, usize> = BTreeMap::new();
        let mut sets: Vec<Vec<(usize, f64)>> = Vec::new();
        let agent_type = agents
            .iter()
            .map(|a| {
                let mut set: Vec<(usize, f64)> = a.skills.iter().filter_map(|(q, e)| queues.iter().position(|x| x == q).map(|q| (q, *e))).collect();
                set.sort_by_key(|&(q, _)| q);
                set.dedup_by_key(|&mut (q, _)| q);
                *index.entry(set.iter().map(|&(q, e)| (q, e.to_bits())).collect()).or_insert_with(|| {
                    sets.push(set);
                    sets.len() - 1
                })
            })
            .collect();
        Self { agent_type, ..Self::from_sets(queues, &sets) }
    }

    /// Types from their skills, `(queue index, efficiency)`; no agents yet.
    pub fn from_sets(queues: &[QueueName], sets: &[Vec<(usize, f64)>]) -> Self {
        let efficiency: Vec<Vec<f64>> = sets
            .iter()
            .map(|set| {
                let mut row = vec![0.0; queues.len()];
                set.iter().for_each(|&(q, e)| row[q] = e);
                row
            })
            .collect();
        let graded = sets.iter().flatten().any(|&(_, e)| e < 1.0);
        let log_efficiency = efficiency.iter().map(|row| row.iter().map(|e| e.ln()).collect()).collect();
        let types: Vec<Vec<usize>> = sets.iter().map(|s| s.iter().map(|&(q, _)| q).collect()).collect();
        let mut distinct: Vec<&Vec<usize>> = Vec::new();
        let skill_set = types
            .iter()
            .map(|set| {
                distinct.iter().position(|d| *d == set).unwrap_or_else(|| {
                    distinct.push(set);
                    distinct.len() - 1
                })
            })
            .collect();
        Self { queues: queues.to_vec(), types, efficiency, agent_type: Vec::new(), skill_set, graded, log_efficiency }
    }

    /// Whether some skill counts for less than a whole agent (then coverage is fractional).
    pub fn graded(&self) -> bool {
        self.graded
    }

    /// Per interval, the agents (heads) the queues' `curves` need together, each queue's
    /// requirement divided by the mean efficiency on it of the agents holding its skill: what
    /// the shift design plans for. With every efficiency 1, the requirement pooled.
    pub fn heads_required(&self, curves: &[Vec<u32>]) -> Vec<f64> {
        let mean: Vec<f64> = (0..self.queues.len())
            .map(|q| {
                let skilled: Vec<f64> = self.agent_type.iter().map(|&t| self.efficiency[t][q]).filter(|&e| e > 0.0).collect();
                if skilled.is_empty() {
                    1.0
                } else {
                    skilled.iter().sum::<f64>() / skilled.len() as f64
                }
            })
            .collect();
        let intervals = curves.first().map_or(0, Vec::len);
        (0..intervals).map(|i| curves.iter().zip(&mean).map(|(c, e)| if *e < 1.0 { f64::from(c[i]) / e } else { f64::from(c[i]) }).sum()).collect()
    }
}

/// One interval's allocation of the agents on duty to the queues.
#[derive(Debug, Clone, PartialEq)]
pub struct Allocation {
    /// Requirement served, summed over queues, in agents (fractional with efficiencies).
    pub served: f64,
    /// Per queue, the requirement its agents serve (at most its requirement).
    pub per_queue: Vec<f64>,
    /// Agents' time allocated to the queues: `(type, queue, agents)`, where there is some.
    time: Vec<(usize, usize, f64)>,
    /// Whole agents only: bit `t` set when one more agent of type `t` would serve more.
    useful: u64,
}

impl Allocation {
    /// Per type, of `on_duty` (what this allocation was made for), the agents' time that no
    /// queue's requirement needs.
    pub fn spare(&self, on_duty: &[u32]) -> Vec<f64> {
        let mut spare: Vec<f64> = on_duty.iter().map(|&n| f64::from(n)).collect();
        self.time.iter().for_each(|&(t, _, x)| spare[t] -= x);
        spare
    }
}

/// Agent-intervals to the hundredth: how fractional coverage (with efficiencies) is reported.
pub fn to_hundredths(agent_intervals: f64) -> f64 {
    (agent_intervals * 100.0).round() / 100.0
}

/// Most types a search tracks in its bitmask; beyond it, more agents count as useful only when
/// the interval is short on a queue they serve (a safe approximation for huge skill matrices).
pub const MAX_TYPES: usize = 64;

/// The maximum flow of `on_duty` (per type) into `required` (per queue).
pub fn allocate(types: &SkillTypes, on_duty: &[u32], required: &[u32]) -> Allocation {
    if types.graded {
        graded::allocate(types, on_duty, required)
    } else {
        whole_agents(types, on_duty, required)
    }
}

/// The flow when every efficiency is 1: augmenting paths in whole agents.
fn whole_agents(types: &SkillTypes, on_duty: &[u32], required: &[u32]) -> Allocation {
    let (t_count, q_count) = (types.types.len(), types.queues.len());
    // flow[t][q]: agents of type t on queue q.
    let mut flow = vec![vec![0u32; q_count]; t_count];
    let mut spare: Vec<u32> = on_duty.to_vec();
    let mut open: Vec<u32> = required.to_vec();
    // Direct assignments first (cheap and usually all there is), then augmenting paths that
    // move agents between queues to make room.
    for t in 0..t_count {
        for &q in &types.types[t] {
            let n = spare[t].min(open[q]);
            flow[t][q] += n;
            spare[t] -= n;
            open[q] -= n;
        }
    }
    while let Some(path) = augmenting_path(types, &flow, &spare, &open) {
        // The bottleneck: the spare agents at the start, the open requirement at the end, and
        // the agents moved along each backward step.
        let mut amount = spare[path.start_type].min(open[path.end_queue]);
        for &(t, q) in &path.backward {
            amount = amount.min(flow[t][q]);
        }
        spare[path.start_type] -= amount;
        open[path.end_queue] -= amount;
        for &(t, q) in &path.forward {
            flow[t][q] += amount;
        }
        for &(t, q) in &path.backward {
            flow[t][q] -= amount;
        }
    }
    let per_queue: Vec<f64> = (0..q_count).map(|q| f64::from(required[q] - open[q])).collect();
    let useful = useful_types(types, &flow, &open);
    Allocation {
        served: per_queue.iter().sum(),
        per_queue,
        time: flow.iter().enumerate().flat_map(|(t, row)| row.iter().enumerate().filter(|(_, n)| **n > 0).map(move |(q, &n)| (t, q, f64::from(n)))).collect(),
        useful,
    }
}

struct Path {
    start_type: usize,
    end_queue: usize,
    /// Edges gaining agents, and edges losing them: (type, queue).
    forward: Vec<(usize, usize)>,
    backward: Vec<(usize, usize)>,
}

/// A breadth-first path from a type with spare agents to a queue with open requirement,
/// alternating type → queue (skilled) and queue → type (agents of that type on the queue).
fn augmenting_path(types: &SkillTypes, flow: &[Vec<u32>], spare: &[u32], open: &[u32]) -> Option<Path> {
    let (t_count, q_count) = (types.types.len(), types.queues.len());
    let mut queue_from: Vec<Option<usize>> = vec![None; q_count];
    let mut type_from: Vec<Option<usize>> = vec![None; t_count];
    let mut type_seen = vec![false; t_count];
    let mut frontier: Vec<usize> = (0..t_count).filter(|&t| spare[t] > 0).collect();
    frontier.iter().for_each(|&t| type_seen[t] = true);
    while !frontier.is_empty() {
        let mut next = Vec::new();
        for t in frontier {
            for &q in &types.types[t] {
                if queue_from[q].is_some() {
                    continue;
                }
                queue_from[q] = Some(t);
                if open[q] > 0 {
                    return Some(trace(q, &queue_from, &type_from));
                }
                for (u, row) in flow.iter().enumerate() {
                    if row[q] > 0 && !type_seen[u] {
                        type_seen[u] = true;
                        type_from[u] = Some(q);
                        next.push(u);
                    }
                }
            }
        }
        frontier = next;
    }
    None
}

fn trace(end_queue: usize, queue_from: &[Option<usize>], type_from: &[Option<usize>]) -> Path {
    let (mut forward, mut backward) = (Vec::new(), Vec::new());
    let mut q = end_queue;
    loop {
        let t = queue_from[q].expect("every reached queue has a parent");
        forward.push((t, q));
        match type_from[t] {
            Some(previous_queue) => {
                backward.push((t, previous_queue));
                q = previous_queue;
            }
            None => return Path { start_type: t, end_queue, forward, backward },
        }
    }
}

/// Types from which one more agent finds a path to open requirement in the residual graph.
fn useful_types(types: &SkillTypes, flow: &[Vec<u32>], open: &[u32]) -> u64 {
    let (t_count, q_count) = (types.types.len(), types.queues.len());
    // Queues that can absorb one more agent: open ones, and those whose agents could move on to
    // such a queue.
    let mut absorbs: Vec<bool> = open.iter().map(|&o| o > 0).collect();
    loop {
        let mut changed = false;
        for q in 0..q_count {
            if absorbs[q] {
                continue;
            }
            let moves_on = (0..t_count).any(|t| flow[t][q] > 0 && types.types[t].iter().any(|&r| absorbs[r]));
            if moves_on {
                absorbs[q] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    (0..t_count.min(MAX_TYPES)).filter(|&t| types.types[t].iter().any(|&q| absorbs[q])).fold(0u64, |mask, t| mask | 1 << t)
}

/// Per-skill coverage of a whole curve, kept up to date as agents come on and off duty: the
/// state a roster search moves through.
#[derive(Debug, Clone)]
pub struct Coverage<'a> {
    types: &'a SkillTypes,
    /// `required[i][q]`.
    required: Vec<Vec<u32>>,
    /// `on_duty[i][t]`.
    on_duty: Vec<Vec<u32>>,
    allocation: Vec<Allocation>,
    /// With efficiencies: per interval and type, the requirement one more agent would serve,
    /// worked out when first asked since the interval last changed.
    next_agent: Vec<RefCell<NextAgent>>,
    /// What serving each interval's requirement is worth, when not [`SHORT_WEIGHT`] per agent.
    value: Option<&'a ServedValue>,
}

/// What one more agent would serve in an interval, worked out since it last changed: the
/// queues' reach (enough for most types), and the types whose time would split over paths.
#[derive(Debug, Clone, Default)]
struct NextAgent {
    reach: Option<graded::Reach>,
    split: Vec<(usize, f64)>,
}

/// An under-staffed agent-interval costs as much as this many over-staffed ones.
pub const SHORT_WEIGHT: i64 = 20;

impl<'a> Coverage<'a> {
    /// `required[q]` is queue `q`'s curve; nobody on duty yet. `value`, when given, says what
    /// serving each interval's requirement is worth (its intervals and requirements are these).
    pub fn new(types: &'a SkillTypes, required: &[Vec<u32>], value: Option<&'a ServedValue>) -> Self {
        let intervals = required.first().map_or(0, Vec::len);
        let required: Vec<Vec<u32>> = (0..intervals).map(|i| required.iter().map(|c| c[i]).collect()).collect();
        if let Some(v) = value {
            assert!(v.intervals() == intervals && (0..intervals).all(|i| v.required(i) == required[i].iter().sum::<u32>() as usize), "the served value is for another requirement");
        }
        let on_duty = vec![vec![0; types.types.len()]; intervals];
        let allocation = required.iter().zip(&on_duty).map(|(r, d)| allocate(types, d, r)).collect();
        let next_agent = if types.graded { vec![RefCell::new(NextAgent::default()); intervals] } else { Vec::new() };
        Self { types, required, on_duty, allocation, next_agent, value }
    }

    pub fn add(&mut self, interval: usize, agent_type: usize) {
        self.on_duty[interval][agent_type] += 1;
        if self.types.graded {
            let (allocation, required) = (&mut self.allocation[interval], &self.required[interval]);
            let known = self.next_agent[interval].get_mut();
            let reach = known.reach.get_or_insert_with(|| graded::reach(self.types, allocation, required));
            graded::add(self.types, allocation, required, agent_type, reach);
            self.forget_next_agents(interval);
        } else {
            self.reallocate(interval);
        }
    }

    pub fn remove(&mut self, interval: usize, agent_type: usize) {
        // Losing spare time changes nothing, not even what the next agent would find.
        let spare = self.types.graded && graded::loses_only_spare(&self.allocation[interval], self.on_duty[interval][agent_type], agent_type);
        self.on_duty[interval][agent_type] -= 1;
        if !spare {
            self.reallocate(interval);
        }
    }

    fn reallocate(&mut self, i: usize) {
        self.allocation[i] = allocate(self.types, &self.on_duty[i], &self.required[i]);
        self.forget_next_agents(i);
    }

    fn forget_next_agents(&self, i: usize) {
        if let Some(known) = self.next_agent.get(i) {
            *known.borrow_mut() = NextAgent::default();
        }
    }

    /// What one more agent of `agent_type` at `interval` changes in the cost: the requirement
    /// they serve, at its worth ([`SHORT_WEIGHT`] per agent unless a [`ServedValue`] says
    /// otherwise), less short, and the rest of the agent, one per agent, beyond the requirement.
    pub fn delta_add(&self, interval: usize, agent_type: usize) -> f64 {
        let served = if self.types.graded {
            let mut known = self.next_agent[interval].borrow_mut();
            let (allocation, required) = (&self.allocation[interval], &self.required[interval]);
            let reach = known.reach.get_or_insert_with(|| graded::reach(self.types, allocation, required));
            match graded::next_agent_from(self.types, reach, agent_type) {
                Some(served) => served,
                None => match known.split.iter().find(|(t, _)| *t == agent_type) {
                    Some(&(_, served)) => served,
                    None => {
                        let served = graded::next_agent(self.types, allocation, required, agent_type);
                        known.split.push((agent_type, served));
                        served
                    }
                },
            }
        } else if self.useful(interval, agent_type) {
            1.0
        } else {
            0.0
        };
        -self.worth(interval, self.allocation[interval].served, served) + (1.0 - served)
    }

    /// What serving `by` more agents of `interval`'s requirement is worth, `from` served.
    fn worth(&self, interval: usize, from: f64, by: f64) -> f64 {
        match self.value {
            Some(v) => v.worth(interval, from, by),
            None => SHORT_WEIGHT as f64 * by,
        }
    }

    /// The most one agent-interval can lower the cost: a bound on any agent's gain.
    pub fn best_worth(&self) -> f64 {
        self.value.map_or(SHORT_WEIGHT as f64, ServedValue::best_step)
    }

    /// The coverage's cost: what the requirement left unserved is worth, and the agents' time
    /// beyond it.
    pub fn cost(&self) -> f64 {
        let unserved: f64 = self.required.iter().zip(&self.allocation).enumerate().map(|(i, (r, a))| {
            let required = f64::from(r.iter().sum::<u32>());
            self.worth(i, a.served, required - a.served)
        }).sum();
        unserved + self.excess()
    }

    /// Whole agents: whether one more agent of `agent_type` at `interval` would serve more.
    fn useful(&self, interval: usize, agent_type: usize) -> bool {
        let allocation = &self.allocation[interval];
        if agent_type < MAX_TYPES {
            allocation.useful & (1 << agent_type) != 0
        } else {
            self.types.types[agent_type].iter().any(|&q| allocation.per_queue[q] < f64::from(self.required[interval][q]))
        }
    }

    /// Agent-intervals short of each queue's requirement, summed.
    pub fn short(&self) -> f64 {
        self.required.iter().zip(&self.allocation).map(|(r, a)| f64::from(r.iter().sum::<u32>()) - a.served).sum()
    }

    /// Agent-intervals on duty beyond the requirement they serve (an agent at 0.8 on a queue
    /// is 0.2 beyond it): the same whichever of several best allocations the flow finds.
    pub fn excess(&self) -> f64 {
        self.on_duty.iter().zip(&self.allocation).map(|(d, a)| f64::from(d.iter().sum::<u32>()) - a.served).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn queues(n: usize) -> Vec<QueueName> {
        (0..n).map(|q| QueueName::parse(&format!("q{q}")).unwrap()).collect()
    }

    fn types(sets: &[&[usize]], queues: usize) -> SkillTypes {
        let sets: Vec<Vec<(usize, f64)>> = sets.iter().map(|s| s.iter().map(|&q| (q, 1.0)).collect()).collect();
        SkillTypes::from_sets(&self::queues(queues), &sets)
    }

    #[test]
    fn agents_move_to_make_room() {
        // Type 0 serves q0 and q1, type 1 only q0. Direct filling puts type 0 on q0 first; the
        // augmenting path moves it to q1 so that type 1 can take q0.
        let t = types(&[&[0, 1], &[0]], 2);
        let a = allocate(&t, &[2, 2], &[2, 2]);
        assert_eq!((a.served, a.per_queue.clone()), (4.0, vec![2.0, 2.0]));
        assert_eq!(a.useful, 0, "nothing is open");
        let a = allocate(&t, &[1, 2], &[2, 2]);
        assert_eq!(a.served, 3.0);
        assert_eq!(a.useful, 0b01, "only a two-skill agent reaches q1");
    }

    #[test]
    fn coverage_costs_follow_the_allocation() {
        let t = types(&[&[0], &[1]], 2);
        let mut c = Coverage::new(&t, &[vec![1, 0], vec![0, 1]], None);
        assert_eq!((c.short(), c.excess()), (2.0, 0.0));
        assert_eq!(c.delta_add(0, 0), -(SHORT_WEIGHT as f64));
        assert_eq!(c.delta_add(0, 1), 1.0, "q1 needs nobody at interval 0");
        c.add(0, 1);
        assert_eq!((c.short(), c.excess()), (2.0, 1.0));
        c.remove(0, 1);
        c.add(0, 0);
        c.add(1, 1);
        assert_eq!((c.short(), c.excess()), (0.0, 0.0));
    }

    /// Brute force: every way of sending each agent to one of its queues (or nowhere).
    fn best_by_enumeration(t: &SkillTypes, on_duty: &[u32], required: &[u32]) -> u32 {
        let agents: Vec<usize> = on_duty.iter().enumerate().flat_map(|(ty, &n)| std::iter::repeat_n(ty, n as usize)).collect();
        fn go(t: &SkillTypes, agents: &[usize], load: &mut Vec<u32>, required: &[u32]) -> u32 {
            let Some((&first, rest)) = agents.split_first() else {
                return load.iter().zip(required).map(|(l, r)| (*l).min(*r)).sum();
            };
            let mut best = go(t, rest, load, required);
            for &q in &t.types[first] {
                load[q] += 1;
                best = best.max(go(t, rest, load, required));
                load[q] -= 1;
            }
            best
        }
        go(t, &agents, &mut vec![0; required.len()], required)
    }

    proptest! {
        #[test]
        fn the_flow_is_the_best_allocation(
            sets in proptest::collection::vec(proptest::collection::btree_set(0usize..3, 1..=3), 1..4),
            on_duty in proptest::collection::vec(0u32..3, 4),
            required in proptest::collection::vec(0u32..4, 3),
        ) {
            let sets: Vec<Vec<usize>> = sets.into_iter().map(|s| s.into_iter().collect()).collect();
            let refs: Vec<&[usize]> = sets.iter().map(Vec::as_slice).collect();
            let t = types(&refs, 3);
            let on_duty = &on_duty[..sets.len()];
            let a = allocate(&t, on_duty, &required);
            prop_assert_eq!(a.served, f64::from(best_by_enumeration(&t, on_duty, &required)));
            for ty in 0..sets.len() {
                let mut more = on_duty.to_vec();
                more[ty] += 1;
                let gains = f64::from(best_by_enumeration(&t, &more, &required)) > a.served;
                prop_assert_eq!(a.useful & (1 << ty) != 0, gains, "type {}", ty);
            }
            // The generalised flow agrees where every efficiency is 1.
            let g = graded::allocate(&t, on_duty, &required);
            prop_assert!((g.served - a.served).abs() < 1e-9);
        }

        #[test]
        fn the_graded_flow_is_the_linear_optimum(
            sets in proptest::collection::vec(proptest::collection::btree_map(0usize..3, 1u32..=10, 1..=3), 1..5),
            on_duty in proptest::collection::vec(0u32..4, 5),
            required in proptest::collection::vec(0u32..5, 3),
        ) {
            let sets: Vec<Vec<(usize, f64)>> = sets.into_iter().map(|s| s.into_iter().map(|(q, e)| (q, f64::from(e) / 10.0)).collect()).collect();
            let t = SkillTypes::from_sets(&queues(3), &sets);
            let on_duty = &on_duty[..sets.len()];
            let a = graded::allocate(&t, on_duty, &required);
            let best = linear_optimum(&t, on_duty, &required);
            prop_assert!((a.served - best).abs() < 1e-6, "flow {} against the programme's {}", a.served, best);
            for (served, &r) in a.per_queue.iter().zip(&required) {
                prop_assert!(*served <= f64::from(r) + 1e-9);
            }
            for ty in 0..sets.len() {
                let spare = a.spare(on_duty)[ty];
                prop_assert!(spare > -1e-9 && spare <= f64::from(on_duty[ty]) + 1e-9, "type {} time", ty);
                let mut more = on_duty.to_vec();
                more[ty] += 1;
                let served = graded::next_agent(&t, &a, &required, ty);
                if let Some(quick) = graded::next_agent_from(&t, &graded::reach(&t, &a, &required), ty) {
                    prop_assert!((quick - served).abs() < 1e-6, "type {}: {} from the reach, {} by the flow", ty, quick, served);
                }
                let with_one_more = linear_optimum(&t, &more, &required);
                prop_assert!((a.served + served - with_one_more).abs() < 1e-6, "type {}: {} + {} against {}", ty, a.served, served, with_one_more);
            }
        }
    }

    proptest! {
        #[test]
        fn agents_coming_and_going_keep_the_optimum(
            sets in proptest::collection::vec(proptest::collection::btree_map(0usize..3, 1u32..=10, 1..=3), 1..5),
            required in proptest::collection::vec(0u32..5, 3),
            steps in proptest::collection::vec((0usize..5, proptest::bool::ANY), 1..30),
            gains in proptest::option::of(proptest::collection::vec(proptest::collection::vec(0.0f64..50.0, 4), 3)),
        ) {
            let sets: Vec<Vec<(usize, f64)>> = sets.into_iter().map(|s| s.into_iter().map(|(q, e)| (q, f64::from(e) / 10.0)).collect()).collect();
            let t = SkillTypes::from_sets(&queues(3), &sets);
            let curves: Vec<Vec<u32>> = required.iter().map(|&r| vec![r]).collect();
            // With a served value: each queue's curve rises by random gains, up to its requirement.
            let value = gains.map(|gains| {
                let queue_curves = required.iter().zip(&gains).map(|(&r, g)| (0..=r as usize).map(|k| g[..k].iter().sum::<f64>()).collect()).collect();
                ServedValue::from_queue_curves(&[queue_curves])
            });
            let mut c = Coverage::new(&t, &curves, value.as_ref());
            let mut on_duty = vec![0u32; sets.len()];
            for (ty, coming) in steps {
                let ty = ty % sets.len();
                if coming {
                    let expected = c.delta_add(0, ty);
                    let before = c.cost();
                    c.add(0, ty);
                    on_duty[ty] += 1;
                    let after = c.cost();
                    prop_assert!((after - before - expected).abs() < 1e-6, "{} then {}: expected {}", before, after, expected);
                } else if on_duty[ty] > 0 {
                    c.remove(0, ty);
                    on_duty[ty] -= 1;
                }
                let best = linear_optimum(&t, &on_duty, &required);
                let total: f64 = required.iter().map(|&r| f64::from(r)).sum();
                prop_assert!((total - c.short() - best).abs() < 1e-6, "served {} against the programme's {}", total - c.short(), best);
            }
        }
    }

    /// The allocation's linear programme: time x[t][q] ≥ 0, each type's time at most its agents,
    /// each queue served at most its requirement; the most requirement served.
    fn linear_optimum(t: &SkillTypes, on_duty: &[u32], required: &[u32]) -> f64 {
        use good_lp::{constraint, microlp, variable, Expression, ProblemVariables, Solution, SolverModel};
        let mut vars = ProblemVariables::new();
        let x: Vec<Vec<_>> = t.types.iter().map(|set| set.iter().map(|_| vars.add(variable().min(0))).collect()).collect();
        let mut served = Expression::from(0.0);
        let mut per_queue: Vec<Expression> = required.iter().map(|_| Expression::from(0.0)).collect();
        for (ty, set) in t.types.iter().enumerate() {
            for (k, &q) in set.iter().enumerate() {
                served += t.efficiency[ty][q] * x[ty][k];
                per_queue[q] += t.efficiency[ty][q] * x[ty][k];
            }
        }
        let mut problem = vars.maximise(served.clone()).using(microlp);
        for (ty, row) in x.iter().enumerate() {
            let total: Expression = row.iter().map(|&v| Expression::from(v)).sum();
            problem = problem.with(constraint!(total <= f64::from(on_duty[ty])));
        }
        for (q, e) in per_queue.into_iter().enumerate() {
            problem = problem.with(constraint!(e <= f64::from(required[q])));
        }
        let solution = problem.solve().expect("the programme is feasible");
        solution.eval(&served)
    }

    #[test]
    fn an_agent_at_eight_tenths_counts_as_eight_tenths() {
        // One agent at 1.0 on q0 and 0.8 on q1, one at 1.0 on q1 only; q0 needs 1, q1 needs 1.
        let t = SkillTypes::from_sets(&queues(2), &[vec![(0, 1.0), (1, 0.8)], vec![(1, 1.0)]]);
        assert!(t.graded());
        let a = allocate(&t, &[1, 0], &[1, 1]);
        assert!((a.served - 1.0).abs() < 1e-9, "the flexible agent serves q0 in full: {a:?}");
        let mut c = Coverage::new(&t, &[vec![0], vec![1]], None);
        // Alone on q1 the flexible agent serves 0.8 of it; 0.2 stays short, and 0.2 of the agent
        // is beyond what they serve.
        assert!((c.delta_add(0, 0) - (-0.8 * SHORT_WEIGHT as f64 + 0.2)).abs() < 1e-9);
        c.add(0, 0);
        assert!((c.short() - 0.2).abs() < 1e-9 && (c.excess() - 0.2).abs() < 1e-9);
        // A whole agent on q1 serves the remaining 0.2; the other 0.8 of them is beyond it.
        assert!((c.delta_add(0, 1) - (-0.2 * SHORT_WEIGHT as f64 + 0.8)).abs() < 1e-9);
        c.add(0, 1);
        assert!(c.short().abs() < 1e-9 && (c.excess() - 1.0).abs() < 1e-9, "{} {}", c.short(), c.excess());
    }
}
