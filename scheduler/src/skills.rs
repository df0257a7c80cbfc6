//! Per-skill coverage: how much of each queue's requirement the agents on duty can serve, when
//! each agent answers one queue at a time and agents go to the queues where they are needed.
//!
//! Agents are grouped by skill set ("types"; efficiency is not counted here: an agent on a
//! queue counts as one), and one interval's allocation is a maximum flow
//! source → type (agents on duty) → queue (if skilled) → sink (required). The flow is the
//! served requirement; what is left of the requirement is under-staffing, what is left of the
//! agents is over-staffing. The residual graph also says, for each type, whether one more agent
//! of it would serve more — what the roster search asks for every candidate shift.

use crate::agents::Agent;
use std::collections::BTreeMap;
use wfm_model::QueueName;

/// The agents' distinct skill sets over the queues of a requirement.
#[derive(Debug, Clone, PartialEq)]
pub struct SkillTypes {
    pub queues: Vec<QueueName>,
    /// Per type, the indices (into `queues`) of the queues it serves.
    pub types: Vec<Vec<usize>>,
    /// Per agent, their type.
    pub agent_type: Vec<usize>,
}

impl SkillTypes {
    /// Groups `agents` by the queues of `queues` they hold a skill for (a skill for a queue the
    /// requirement does not name is ignored; an agent with none of them serves nothing).
    pub fn new(agents: &[Agent], queues: &[QueueName]) -> Self {
        let mut index: BTreeMap<Vec<usize>, usize> = BTreeMap::new();
        let mut types = Vec::new();
        let agent_type = agents
            .iter()
            .map(|a| {
                let mut set: Vec<usize> = a.skills.iter().filter_map(|(q, _)| queues.iter().position(|x| x == q)).collect();
                set.sort_unstable();
                set.dedup();
                *index.entry(set.clone()).or_insert_with(|| {
                    types.push(set);
                    types.len() - 1
                })
            })
            .collect();
        Self { queues: queues.to_vec(), types, agent_type }
    }
}

/// One interval's allocation of the agents on duty to the queues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    /// Requirement served, summed over queues.
    pub served: u32,
    /// Per queue, agents allocated to it (at most its requirement).
    pub per_queue: Vec<u32>,
    /// Per type, agents on duty no queue's requirement needs.
    pub spare: Vec<u32>,
    /// Bit `t` set: one more agent of type `t` would serve more.
    pub useful: u64,
}

/// Most types a search tracks in its bitmask; beyond it, more agents count as useful only when
/// the interval is short on a queue they serve (a safe approximation for huge skill matrices).
pub const MAX_TYPES: usize = 64;

/// The maximum flow of `on_duty` (per type) into `required` (per queue).
pub fn allocate(types: &SkillTypes, on_duty: &[u32], required: &[u32]) -> Allocation {
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
    let per_queue: Vec<u32> = (0..q_count).map(|q| required[q] - open[q]).collect();
    let served = per_queue.iter().sum();
    let useful = useful_types(types, &flow, &open);
    Allocation { served, per_queue, spare, useful }
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
}

/// An under-staffed agent-interval costs as much as this many over-staffed ones.
pub const SHORT_WEIGHT: i64 = 20;

impl<'a> Coverage<'a> {
    /// `required[q]` is queue `q`'s curve; nobody on duty yet.
    pub fn new(types: &'a SkillTypes, required: &[Vec<u32>]) -> Self {
        let intervals = required.first().map_or(0, Vec::len);
        let required: Vec<Vec<u32>> = (0..intervals).map(|i| required.iter().map(|c| c[i]).collect()).collect();
        let on_duty = vec![vec![0; types.types.len()]; intervals];
        let allocation = required.iter().zip(&on_duty).map(|(r, d)| allocate(types, d, r)).collect();
        Self { types, required, on_duty, allocation }
    }

    pub fn add(&mut self, interval: usize, agent_type: usize) {
        self.on_duty[interval][agent_type] += 1;
        self.reallocate(interval);
    }

    pub fn remove(&mut self, interval: usize, agent_type: usize) {
        self.on_duty[interval][agent_type] -= 1;
        self.reallocate(interval);
    }

    fn reallocate(&mut self, i: usize) {
        self.allocation[i] = allocate(self.types, &self.on_duty[i], &self.required[i]);
    }

    /// Whether one more agent of `agent_type` at `interval` would serve more.
    pub fn useful(&self, interval: usize, agent_type: usize) -> bool {
        if agent_type < MAX_TYPES {
            self.allocation[interval].useful & (1 << agent_type) != 0
        } else {
            self.types.types[agent_type].iter().any(|&q| self.allocation[interval].per_queue[q] < self.required[interval][q])
        }
    }

    /// What one more agent of `agent_type` at `interval` changes in the cost: one agent-interval
    /// less short, or one more beyond the requirement.
    pub fn delta_add(&self, interval: usize, agent_type: usize) -> i64 {
        if self.useful(interval, agent_type) {
            -SHORT_WEIGHT
        } else {
            1
        }
    }

    /// Agent-intervals short of each queue's requirement, summed.
    pub fn short(&self) -> u64 {
        self.required.iter().zip(&self.allocation).map(|(r, a)| u64::from(r.iter().sum::<u32>() - a.served)).sum()
    }

    /// Agent-intervals on duty that no requirement needs.
    pub fn excess(&self) -> u64 {
        self.on_duty.iter().zip(&self.allocation).map(|(d, a)| u64::from(d.iter().sum::<u32>() - a.served)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn types(sets: &[&[usize]], queues: usize) -> SkillTypes {
        SkillTypes {
            queues: (0..queues).map(|q| QueueName::parse(&format!("q{q}")).unwrap()).collect(),
            types: sets.iter().map(|s| s.to_vec()).collect(),
            agent_type: Vec::new(),
        }
    }

    #[test]
    fn agents_move_to_make_room() {
        // Type 0 serves q0 and q1, type 1 only q0. Direct filling puts type 0 on q0 first; the
        // augmenting path moves it to q1 so that type 1 can take q0.
        let t = types(&[&[0, 1], &[0]], 2);
        let a = allocate(&t, &[2, 2], &[2, 2]);
        assert_eq!((a.served, a.per_queue.clone()), (4, vec![2, 2]));
        assert_eq!(a.useful, 0, "nothing is open");
        let a = allocate(&t, &[1, 2], &[2, 2]);
        assert_eq!(a.served, 3);
        assert_eq!(a.useful, 0b01, "only a two-skill agent reaches q1");
    }

    #[test]
    fn coverage_costs_follow_the_allocation() {
        let t = types(&[&[0], &[1]], 2);
        let mut c = Coverage::new(&t, &[vec![1, 0], vec![0, 1]]);
        assert_eq!((c.short(), c.excess()), (2, 0));
        assert_eq!(c.delta_add(0, 0), -SHORT_WEIGHT);
        assert_eq!(c.delta_add(0, 1), 1, "q1 needs nobody at interval 0");
        c.add(0, 1);
        assert_eq!((c.short(), c.excess()), (2, 1));
        c.remove(0, 1);
        c.add(0, 0);
        c.add(1, 1);
        assert_eq!((c.short(), c.excess()), (0, 0));
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
            let t = SkillTypes { queues: (0..3).map(|q| QueueName::parse(&format!("q{q}")).unwrap()).collect(), types: sets.clone(), agent_type: Vec::new() };
            let on_duty = &on_duty[..sets.len()];
            let a = allocate(&t, on_duty, &required);
            prop_assert_eq!(a.served, best_by_enumeration(&t, on_duty, &required));
            for ty in 0..sets.len() {
                let mut more = on_duty.to_vec();
                more[ty] += 1;
                let gains = best_by_enumeration(&t, &more, &required) > a.served;
                prop_assert_eq!(a.useful & (1 << ty) != 0, gains, "type {}", ty);
            }
        }
    }
}
