//! The allocation when some skill counts for less than a whole agent: a generalised maximum
//! flow. A unit of a type's time sent to queue `q` serves `efficiency[t][q]` of its
//! requirement; moving an agent of type `u` off `q` frees `1 / efficiency[u][q]` of their time
//! per unit of requirement. Agents may split an interval's time between queues (an agent idle
//! on one queue takes the next call of another), so the optimum is a linear programme's, not a
//! packing of whole agents.
//!
//! Solved by augmenting along highest-gain paths (Onaga): starting from no flow, each step
//! sends time from a type with time to spare along the residual path that serves the most
//! requirement per unit of time, found by Bellman–Ford on log-gains. Taking the best path each
//! time keeps the residual graph free of cycles that gain (which is what makes the result
//! optimal), so the same search, started from an optimal allocation with one more agent of one
//! type, says exactly what that agent would add.
//!
//! Only the types at work in the interval take part: the flow is worked on a dense table of
//! those few, whatever the number of types in the centre (with efficiencies to the hundredth,
//! nearly one per agent), and kept as its arcs.

use super::{Allocation, SkillTypes};

/// Amounts below this are taken as zero (floating-point dust from the gains).
const DUST: f64 = 1e-9;

pub(super) fn allocate(types: &SkillTypes, on_duty: &[u32], required: &[u32]) -> Allocation {
    let members: Vec<usize> = (0..on_duty.len()).filter(|&t| on_duty[t] > 0).collect();
    let mut local = Local::new(types, members, &[]);
    let mut supply: Vec<f64> = local.members.iter().map(|&t| f64::from(on_duty[t])).collect();
    let mut open: Vec<f64> = required.iter().map(|&r| f64::from(r)).collect();
    local.augment(&mut supply, &mut open);
    local.finish(&open, required)
}

fn open_of(allocation: &Allocation, required: &[u32]) -> Vec<f64> {
    required.iter().zip(&allocation.per_queue).map(|(&r, s)| tidy(f64::from(r) - s)).collect()
}

/// The flow of `allocation` with one more agent of `agent_type`, and the requirement it serves.
fn with_one_more<'a>(types: &'a SkillTypes, allocation: &Allocation, required: &[u32], agent_type: usize) -> (Local<'a>, Vec<f64>, f64) {
    let mut members: Vec<usize> = allocation.time.iter().map(|&(t, _, _)| t).chain([agent_type]).collect();
    members.sort_unstable();
    members.dedup();
    let mut local = Local::new(types, members, &allocation.time);
    // Only the new agent's time is offered: others' spare time has no path to open
    // requirement, or the allocation would not be optimal.
    let mut supply: Vec<f64> = local.members.iter().map(|&t| if t == agent_type { 1.0 } else { 0.0 }).collect();
    let mut open = open_of(allocation, required);
    let served = if open.iter().any(|&o| o > 0.0) { local.augment(&mut supply, &mut open) } else { 0.0 };
    (local, open, served)
}

/// The requirement one more agent of `agent_type` would serve on top of an optimal
/// `allocation`.
pub(super) fn next_agent(types: &SkillTypes, allocation: &Allocation, required: &[u32], agent_type: usize) -> f64 {
    with_one_more(types, allocation, required, agent_type).2
}

/// What the queues of an optimal allocation can still absorb, for answering [`next_agent`]
/// for every type at once: per queue, the log of the best gain from a unit of requirement
/// arriving there to open requirement (directly when open, or by moving agents on), and how
/// much that best path takes (requirement units at the queue).
#[derive(Debug, Clone)]
pub(super) struct Reach {
    log_gain: Vec<f64>,
    room: Vec<f64>,
    /// Per queue, the best path's next step: the type moved off it and the queue it goes to.
    next: Vec<Option<(usize, usize)>>,
}

pub(super) fn reach(types: &SkillTypes, allocation: &Allocation, required: &[u32]) -> Reach {
    let open = open_of(allocation, required);
    let q_count = open.len();
    let mut log_gain: Vec<f64> = open.iter().map(|&o| if o > 0.0 { 0.0 } else { f64::NEG_INFINITY }).collect();
    // The best path's next step from a queue: the member moved off it and where they go.
    let mut next: Vec<Option<(usize, usize)>> = vec![None; q_count];
    for _ in 0..=q_count {
        let mut changed = false;
        for &(u, from, x) in &allocation.time {
            if x <= DUST {
                continue;
            }
            for &to in &types.types[u] {
                if to == from || log_gain[to] == f64::NEG_INFINITY {
                    continue;
                }
                let gain = log_gain[to] + types.log_efficiency[u][to] - types.log_efficiency[u][from];
                if gain > log_gain[from] + DUST {
                    log_gain[from] = gain;
                    next[from] = Some((u, to));
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    let room = (0..q_count)
        .map(|q| {
            // Along the path: requirement units at `q` it can take, converted at each move.
            let (mut at, mut scale, mut room) = (q, 1.0, f64::INFINITY);
            for _ in 0..=q_count {
                match next[at] {
                    None => return if open[at] > 0.0 { room.min(open[at] / scale) } else { 0.0 },
                    Some((u, to)) => {
                        let moved = allocation.time.iter().find(|&&(t, r, _)| t == u && r == at).map_or(0.0, |&(_, _, x)| x);
                        room = room.min(moved * types.efficiency[u][at] / scale);
                        scale *= types.efficiency[u][to] / types.efficiency[u][at];
                        at = to;
                    }
                }
            }
            0.0
        })
        .collect();
    Reach { log_gain, room, next }
}

/// The queue one more agent of `agent_type` goes to first and the requirement they serve,
/// when the best path (of `reach`) takes the whole agent.
fn whole_agent_path(types: &SkillTypes, reach: &Reach, agent_type: usize) -> Option<(Option<usize>, f64)> {
    let best = types.types[agent_type].iter().map(|&q| (q, reach.log_gain[q] + types.log_efficiency[agent_type][q])).max_by(|a, b| a.1.total_cmp(&b.1));
    match best {
        Some((q, log_gain)) if log_gain > f64::NEG_INFINITY => (reach.room[q] >= types.efficiency[agent_type][q] - DUST).then(|| (Some(q), log_gain.exp())),
        _ => Some((None, 0.0)),
    }
}

/// [`next_agent`] from the queues' [`Reach`], when the best path takes the whole agent (or
/// there is none); `None` when the agent's time would have to be split over several paths.
pub(super) fn next_agent_from(types: &SkillTypes, reach: &Reach, agent_type: usize) -> Option<f64> {
    whole_agent_path(types, reach, agent_type).map(|(_, served)| served)
}

/// The optimal allocation with one more agent of `agent_type`: theirs is the only new time,
/// sent where it serves the most (as [`next_agent`] found). When `reach` (of `allocation`)
/// says the best path takes the whole agent, the agent is moved along it; otherwise the flow
/// is augmented afresh.
pub(super) fn add(types: &SkillTypes, allocation: &mut Allocation, required: &[u32], agent_type: usize, reach: &Reach) {
    match whole_agent_path(types, reach, agent_type) {
        // Their time is all spare, which the allocation does not keep.
        Some((None, _)) => {}
        Some((Some(first), _)) => {
            // Requirement units arriving at `at`; each step frees that much of a member's work
            // there (in their time) and sends it on.
            let mut arriving = types.efficiency[agent_type][first];
            add_time(&mut allocation.time, agent_type, first, 1.0);
            let mut at = first;
            for _ in 0..=types.queues.len() {
                let Some((u, to)) = reach.next[at] else { break };
                let moved = arriving / types.efficiency[u][at];
                add_time(&mut allocation.time, u, at, -moved);
                add_time(&mut allocation.time, u, to, moved);
                arriving = moved * types.efficiency[u][to];
                at = to;
            }
            allocation.per_queue[at] = (allocation.per_queue[at] + arriving).min(f64::from(required[at]));
            allocation.served = allocation.per_queue.iter().sum();
        }
        None => {
            let (local, open, _) = with_one_more(types, allocation, required, agent_type);
            *allocation = local.finish(&open, required);
        }
    }
}

/// Adds `amount` to the time of `agent_type` on `queue`, dropping an arc that falls to nothing.
fn add_time(time: &mut Vec<(usize, usize, f64)>, agent_type: usize, queue: usize, amount: f64) {
    match time.iter().position(|&(t, q, _)| t == agent_type && q == queue) {
        Some(i) => {
            time[i].2 = tidy(time[i].2 + amount);
            if time[i].2 == 0.0 {
                time.swap_remove(i);
            }
        }
        None if amount > DUST => time.push((agent_type, queue, amount)),
        None => {}
    }
}

/// Whether losing one agent of `agent_type` (of `on_duty` before) leaves `allocation` optimal:
/// when their type has a whole agent's time to spare. Otherwise the allocation must be made
/// afresh: moving the others to where the leaving agent worked is a gaining cycle through the
/// requirement, which augmenting from spare time would not find.
pub(super) fn loses_only_spare(allocation: &Allocation, on_duty: u32, agent_type: usize) -> bool {
    let used: f64 = allocation.time.iter().filter(|&&(t, _, _)| t == agent_type).map(|&(_, _, x)| x).sum();
    f64::from(on_duty) - used >= 1.0 - DUST
}

/// The flow on the types at work: `time[i * queues + q]` is the time of type `members[i]` on
/// queue `q`.
struct Local<'a> {
    types: &'a SkillTypes,
    members: Vec<usize>,
    queues: usize,
    time: Vec<f64>,
}

/// A residual path: the member whose time it starts from, then alternately a queue gaining
/// time from a member and (backward) a member giving up its time on a queue:
/// `(member, queue, forward)`.
struct Path {
    start: usize,
    steps: Vec<(usize, usize, bool)>,
}

impl<'a> Local<'a> {
    fn new(types: &'a SkillTypes, members: Vec<usize>, arcs: &[(usize, usize, f64)]) -> Self {
        let queues = types.queues.len();
        let mut time = vec![0.0; members.len() * queues];
        for &(t, q, x) in arcs {
            let i = members.binary_search(&t).expect("every arc's type is a member");
            time[i * queues + q] = x;
        }
        Self { types, members, queues, time }
    }

    fn efficiency(&self, member: usize, queue: usize) -> f64 {
        self.types.efficiency[self.members[member]][queue]
    }

    fn log_efficiency(&self, member: usize, queue: usize) -> f64 {
        self.types.log_efficiency[self.members[member]][queue]
    }

    fn time(&mut self, member: usize, queue: usize) -> &mut f64 {
        &mut self.time[member * self.queues + queue]
    }

    fn finish(self, open: &[f64], required: &[u32]) -> Allocation {
        let per_queue: Vec<f64> = required.iter().zip(open).map(|(&r, o)| f64::from(r) - o).collect();
        let queues = self.queues;
        let time = self.time.iter().enumerate().filter(|(_, x)| **x > 0.0).map(|(i, &x)| (self.members[i / queues], i % queues, x)).collect();
        Allocation { served: per_queue.iter().sum(), per_queue, time, useful: 0 }
    }

    /// Sends `supply` (per member) into `open` along highest-gain paths until no path is left;
    /// returns the requirement served.
    fn augment(&mut self, supply: &mut [f64], open: &mut [f64]) -> f64 {
        let mut served = 0.0;
        // Each step saturates a supply, an open requirement or an arc; the bound only guards
        // against floating-point surprises.
        let limit = 4 * (self.members.len() + 1) * (open.len() + 1);
        for _ in 0..limit {
            let Some(path) = self.best_path(supply, open) else { break };
            // Per unit of the start's time: the time each step moves (in its member's units)
            // and the requirement reached at the end.
            let mut rate = 1.0;
            let mut amount = supply[path.start];
            let mut rates = Vec::with_capacity(path.steps.len());
            for &(m, q, forward) in &path.steps {
                if forward {
                    rates.push(rate);
                    rate *= self.efficiency(m, q);
                } else {
                    rate /= self.efficiency(m, q);
                    rates.push(rate);
                    amount = amount.min(self.time[m * self.queues + q] / rate);
                }
            }
            let end = path.steps.last().expect("a path has a step").1;
            amount = amount.min(open[end] / rate);
            if amount <= DUST {
                break;
            }
            for (&(m, q, forward), r) in path.steps.iter().zip(rates) {
                let moved = amount * r;
                let time = self.time(m, q);
                *time = if forward { *time + moved } else { tidy(*time - moved) };
            }
            supply[path.start] = tidy(supply[path.start] - amount);
            open[end] = tidy(open[end] - amount * rate);
            served += amount * rate;
        }
        served
    }

    /// The residual path from a member with supply to a queue with open requirement that
    /// serves the most per unit of time (Bellman–Ford on log-gains; the residual graph has no
    /// gaining cycle).
    fn best_path(&self, supply: &[f64], open: &[f64]) -> Option<Path> {
        let (m_count, q_count) = (self.members.len(), open.len());
        // Log of the best gain reaching each member and queue, and where it came from.
        let mut at_member: Vec<f64> = supply.iter().map(|&s| if s > DUST { 0.0 } else { f64::NEG_INFINITY }).collect();
        let mut at_queue = vec![f64::NEG_INFINITY; q_count];
        let mut member_from: Vec<Option<usize>> = vec![None; m_count];
        let mut queue_from: Vec<Option<usize>> = vec![None; q_count];
        // The members with time on each queue: the backward arcs.
        let mut on_queue: Vec<Vec<usize>> = vec![Vec::new(); q_count];
        for (i, &x) in self.time.iter().enumerate() {
            if x > DUST {
                on_queue[i % self.queues].push(i / self.queues);
            }
        }
        // Bellman–Ford by a work list (nodes whose gain improved): members are 0..m_count,
        // queues m_count.. .
        let mut work: std::collections::VecDeque<usize> = (0..m_count).filter(|&m| at_member[m] == 0.0).collect();
        let mut waiting = vec![false; m_count + q_count];
        work.iter().for_each(|&m| waiting[m] = true);
        // A gaining cycle (floating-point noise) would relabel for ever: give up on the path.
        let mut budget = 4 * (m_count + q_count + 1) * (m_count + q_count + 1);
        while let Some(node) = work.pop_front() {
            waiting[node] = false;
            budget = budget.checked_sub(1)?;
            if node < m_count {
                let m = node;
                for &q in &self.types.types[self.members[m]] {
                    let gain = at_member[m] + self.log_efficiency(m, q);
                    if gain > at_queue[q] + DUST {
                        at_queue[q] = gain;
                        queue_from[q] = Some(m);
                        if !std::mem::replace(&mut waiting[m_count + q], true) {
                            work.push_back(m_count + q);
                        }
                    }
                }
            } else {
                let q = node - m_count;
                for &u in &on_queue[q] {
                    if queue_from[q] == Some(u) {
                        continue;
                    }
                    let gain = at_queue[q] - self.log_efficiency(u, q);
                    if gain > at_member[u] + DUST {
                        at_member[u] = gain;
                        member_from[u] = Some(q);
                        if !std::mem::replace(&mut waiting[u], true) {
                            work.push_back(u);
                        }
                    }
                }
            }
        }
        let end = (0..q_count).filter(|&q| open[q] > DUST && at_queue[q] > f64::NEG_INFINITY).max_by(|&a, &b| at_queue[a].total_cmp(&at_queue[b]))?;
        let mut steps = Vec::new();
        let mut q = end;
        // A walk back longer than the graph would mean a gaining cycle: no path, rather than
        // a loop.
        for _ in 0..=m_count + q_count {
            let m = queue_from[q]?;
            steps.push((m, q, true));
            match member_from[m] {
                Some(previous) => {
                    steps.push((m, previous, false));
                    q = previous;
                }
                None => {
                    steps.reverse();
                    return Some(Path { start: m, steps });
                }
            }
        }
        None
    }
}

fn tidy(x: f64) -> f64 {
    if x <= DUST {
        0.0
    } else {
        x
    }
}
