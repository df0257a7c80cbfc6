//! The first roster: each designed shift, day by day and shape by shape, goes to the eligible
//! agent whose taking it costs least — their contract and wishes ([`Context::score`]), the
//! team's soft rules, and what their skills add to the coverage.
//!
//! Two facts keep this fast with thousands of agents. An agent's eligibility and own cost do
//! not change while others take the same shift, so they are worked out once per run of equal
//! shifts, and only the taker's team's soft costs are refreshed after each. And what a skill
//! set adds to the coverage only falls as agents come on duty, so a figure worked out earlier
//! in the run is an optimistic bound: only the skill set that looks best is re-priced, until
//! the best is priced afresh (the lazy greedy of Minoux). Past the deadline the bounds are
//! trusted as they stand, so the roster is complete however short the time limit.

use super::{team_spread_cost, Assigned, Assignment, Search};
use crate::design::Shape;
use std::collections::HashMap;
use std::time::Instant;

/// An agent who may take the run's shift, and what it costs them apart from the coverage.
struct Candidate {
    agent: usize,
    skill_set: usize,
    own: f64,
}

/// What a skill set's best candidate adds to the coverage: worked out since the last shift of
/// the run was given (`fresh`), or earlier (a bound).
#[derive(Clone, Copy)]
struct Priced {
    gain: i64,
    agent: usize,
    fresh: bool,
}

/// Names an agent for each of `wanted[day][shape]` shifts of the design; shifts nobody may
/// take go to `out.unfilled`.
pub(super) fn name_agents(search: &mut Search, out: &mut Assigned, wanted: &[Vec<u32>], deadline: Instant) {
    let design = search.ctx.design;
    let agents = search.ctx.agents;
    let mut team_starts: HashMap<(&str, usize), (u32, u32)> = HashMap::new();
    let sets = search.skill_set.iter().max().map_or(0, |&s| s + 1);
    // Only the team's soft rules make one agent's cost depend on another's shift.
    let soft = &search.ctx.rules.soft;
    let team_rules = soft.team_start_spread_hours.is_some() || soft.leaders_with_team_weight.is_some();
    for (day, counts) in wanted.iter().enumerate() {
        let mut runs: Vec<(Shape, u32)> = design.shapes.iter().copied().zip(counts.iter().copied()).filter(|&(_, n)| n > 0).collect();
        runs.sort_unstable();
        for (shape, count) in runs {
            let own_cost = |search: &Search, team_starts: &HashMap<(&str, usize), (u32, u32)>, a: usize| {
                search.ctx.score(a, &search.states[a], day, &shape) + team_spread_cost(&search.ctx, team_starts, a, day, &shape) + search.team_delta(a, day, &shape) as f64
            };
            let mut candidates: Vec<Candidate> = (0..agents.len())
                .filter(|&a| search.ctx.eligible(a, &search.states[a], day, &shape))
                .map(|a| Candidate { agent: a, skill_set: search.skill_set[search.types[a]], own: own_cost(search, &team_starts, a) })
                .collect();
            let mut priced: Vec<Option<Priced>> = vec![None; sets];
            for _ in 0..count {
                let Some(taker) = cheapest(search, &candidates, &mut priced, day, &shape, Instant::now() < deadline) else {
                    out.unfilled.push((day, shape));
                    continue;
                };
                let a = candidates.remove(taker).agent;
                let team = agents[a].team.as_str();
                let span = team_starts.entry((team, day)).or_insert((shape.start_min, shape.start_min));
                *span = (span.0.min(shape.start_min), span.1.max(shape.start_min));
                search.put(a, day, &shape);
                out.shifts.push(Assignment { agent: a, day, shape });
                priced.iter_mut().flatten().for_each(|p| p.fresh = false);
                for c in candidates.iter_mut().filter(|c| team_rules && agents[c.agent].team == team) {
                    c.own = own_cost(search, &team_starts, c.agent);
                }
            }
        }
    }
}

/// The index in `candidates` of the one whose taking the shift costs least (the first of
/// equals). `priced` holds per skill set what its cheapest candidate adds to the coverage;
/// while `reprice`, the winner's figure is worked out afresh until the winner's is fresh.
fn cheapest(search: &mut Search, candidates: &[Candidate], priced: &mut [Option<Priced>], day: usize, shape: &Shape, reprice: bool) -> Option<usize> {
    // Per skill set, its cheapest candidate by own cost.
    let mut best_of_set: Vec<Option<usize>> = vec![None; priced.len()];
    for (i, c) in candidates.iter().enumerate() {
        let best = best_of_set[c.skill_set].get_or_insert(i);
        if c.own < candidates[*best].own {
            *best = i;
        }
    }
    loop {
        let mut best: Option<(usize, f64)> = None;
        for (set, &i) in best_of_set.iter().enumerate() {
            let Some(i) = i else { continue };
            let agent = candidates[i].agent;
            let gain = match priced[set] {
                Some(p) => p.gain,
                None => {
                    let gain = search.gain(agent, day, shape);
                    priced[set] = Some(Priced { gain, agent, fresh: true });
                    gain
                }
            };
            let cost = candidates[i].own + gain as f64;
            if best.is_none_or(|(b, c)| cost < c || (cost == c && i < b)) {
                best = Some((i, cost));
            }
        }
        let (winner, _) = best?;
        let (set, agent) = (candidates[winner].skill_set, candidates[winner].agent);
        if !reprice || priced[set].is_some_and(|p| p.fresh && p.agent == agent) {
            return Some(winner);
        }
        priced[set] = Some(Priced { gain: search.gain(agent, day, shape), agent, fresh: true });
    }
}
