//! The simulated centre's staff: agents with skills, and each day's shifts with breaks, sized
//! from the expected (not the actual) volume, as a planner would.

use crate::arrivals::{local_minute, DayPlan};
use crate::config::TenantPlan;
use chrono::{Datelike, Weekday};
use rand::RngExt;
use rand_distr::{Distribution, Exp};
use rand_pcg::Pcg64Mcg;
use wfm_model::AgentId;

#[derive(Debug, Clone)]
pub struct Agent {
    pub id: AgentId,
    pub team: String,
    pub team_leader: bool,
    /// (queue index, efficiency in 0.6–1.0): a more efficient agent talks less.
    pub skills: Vec<(usize, f64)>,
    pub min_hours_week: u32,
    pub max_hours_week: u32,
}

/// How much longer than a fully efficient agent one of `efficiency` talks.
pub fn talk_factor(efficiency: f64) -> f64 {
    1.3 - 0.3 * efficiency
}

/// The share of a fully efficient agent's calls one of `efficiency` answers in the same time
/// (talk being most of the work): the efficiency the agents file states, which the scheduler
/// counts as that fraction of an agent.
pub fn throughput(efficiency: f64) -> f64 {
    talk_factor(1.0) / talk_factor(efficiency)
}

/// A not-ready period planned within a shift.
#[derive(Debug, Clone)]
pub struct Pause {
    pub at_ms: i64,
    pub duration_ms: i64,
    pub reason: &'static str,
}

#[derive(Debug, Clone)]
pub struct Shift {
    pub agent: usize,
    /// When the agent actually logs in (late starts included).
    pub login_ms: i64,
    pub logout_ms: i64,
    pub pauses: Vec<Pause>,
}

const SHIFT_MINUTES: u32 = 8 * 60;
const SLOT_MINUTES: u32 = 30;
const MAX_DAYS_PER_WEEK: u8 = 5;
const TEAM_SIZE: usize = 12;
/// Larger centres specialise: nobody serves every queue.
const MAX_QUEUES_FOR_UNIVERSAL_AGENTS: usize = 5;
/// Fewest agents who have a queue's skill.
const MIN_AGENTS_PER_QUEUE: usize = 12;
/// Mean hold and wrap-up added to talk time when sizing the staff.
const HANDLING_OVERHEAD_S: f64 = 40.0;

/// Agents needed in a slot for an offered load of `erlangs`: square-root staffing with a
/// safety margin, the rule of thumb a planner without a forecasting tool would use.
fn agents_needed(erlangs: f64) -> u32 {
    if erlangs <= 0.0 { 0 } else { (erlangs + 1.2 * erlangs.sqrt() + 1.0).ceil() as u32 }
}

fn mean_handle_s(plan: &TenantPlan) -> f64 {
    plan.queues.iter().map(|q| q.share * q.mean_talk_s).sum::<f64>() + HANDLING_OVERHEAD_S
}

/// Shift start slots covering a day's requirement (greedy: open a shift at the first slot
/// still short of staff, as late as the close allows).
fn shift_starts(plan: &TenantPlan, expected_calls: f64, weekend: bool) -> Vec<u32> {
    let (open, close) = (plan.open_hour * 60, plan.close_hour * 60);
    let slots: Vec<u32> = (open..close).step_by(SLOT_MINUTES as usize).collect();
    let weights: Vec<f64> = slots.iter().map(|m| slot_weight(*m, weekend)).collect();
    let total: f64 = weights.iter().sum();
    let handle = mean_handle_s(plan);
    // Each queue is staffed for its own load: specialised groups need their own margin.
    let need: Vec<u32> = weights
        .iter()
        .map(|w| {
            let erlangs = expected_calls * w / total * handle / (SLOT_MINUTES as f64 * 60.0);
            plan.queues.iter().map(|q| agents_needed(erlangs * q.share)).sum()
        })
        .collect();
    let mut covered = vec![0u32; slots.len()];
    let mut starts = Vec::new();
    let span = (SHIFT_MINUTES / SLOT_MINUTES) as usize;
    for i in 0..slots.len() {
        while covered[i] < need[i] {
            let first = i.min(slots.len().saturating_sub(span));
            for c in covered.iter_mut().skip(first).take(span) {
                *c += 1;
            }
            starts.push(slots[first]);
        }
    }
    starts
}

fn slot_weight(minute: u32, weekend: bool) -> f64 {
    (0..SLOT_MINUTES).map(|m| crate::arrivals::intraday_weight(minute + m, weekend)).sum()
}

/// The staff of a centre, sized for its busiest ordinary day.
pub fn hire(plan: &TenantPlan, rng: &mut Pcg64Mcg) -> Vec<Agent> {
    let peak_shifts = shift_starts(plan, plan.weekday_calls * 1.25, false).len();
    let count = (peak_shifts as f64 * 1.35).ceil() as usize + 2;
    let queues = plan.queues.len();
    // Primary skills in proportion to each queue's share of the volume.
    let mut cumulative = Vec::with_capacity(queues);
    let mut total = 0.0;
    for q in &plan.queues {
        total += q.share;
        cumulative.push(total);
    }
    let mut agents: Vec<Agent> = (0..count)
        .map(|i| {
            let position = (i as f64 + 0.5) / count as f64 * total;
            let primary = cumulative.partition_point(|c| *c < position).min(queues - 1);
            let mut skills = vec![(primary, rng.random_range(0.75..1.0))];
            if queues > 1 && rng.random_bool(0.5) {
                // Multi-skilled: the next queue, and in small centres sometimes every queue.
                let all = queues <= MAX_QUEUES_FOR_UNIVERSAL_AGENTS && rng.random_bool(0.3);
                for q in 0..queues {
                    if q != primary && (all || q == (primary + 1) % queues) {
                        skills.push((q, rng.random_range(0.6..0.95)));
                    }
                }
            }
            let part_time = rng.random_bool(0.15);
            Agent {
                id: AgentId::parse(&(1001 + i).to_string()).expect("numeric ids are valid"),
                team: format!("team-{:02}", i / TEAM_SIZE + 1),
                team_leader: i % TEAM_SIZE == 0,
                skills,
                min_hours_week: if part_time { 10 } else { 30 },
                max_hours_week: if part_time { 24 } else { 40 },
            }
        })
        .collect();
    // Small queues are also served, as an extra skill, by agents of other queues, so that
    // someone with the skill is on shift whatever the day's rotation.
    for q in 0..queues {
        let skilled = agents.iter().filter(|a| a.skills.iter().any(|(s, _)| *s == q)).count();
        let mut k = q * 7;
        for _ in skilled..MIN_AGENTS_PER_QUEUE.min(count) {
            while agents[k % count].skills.iter().any(|(s, _)| *s == q) {
                k += 1;
            }
            agents[k % count].skills.push((q, rng.random_range(0.6..0.95)));
            k += 1;
        }
    }
    agents
}

/// Who works when on one day. `days_worked` counts this week's shifts per agent and is reset
/// on Mondays.
pub fn shifts_for_day(
    plan: &TenantPlan,
    day: &DayPlan,
    agents: &[Agent],
    days_worked: &mut [u8],
    rng: &mut Pcg64Mcg,
) -> Vec<Shift> {
    if day.date.weekday() == Weekday::Mon {
        days_worked.iter_mut().for_each(|d| *d = 0);
    }
    let weekend = matches!(day.date.weekday(), Weekday::Sat | Weekday::Sun);
    // The planner knows holidays, not surges.
    let starts = shift_starts(plan, day.expected_calls, weekend);
    let mut order: Vec<usize> = (0..agents.len()).collect();
    // Least-worked first; ties in an order that changes daily and mixes skills.
    let day_number = day.date.num_days_from_ce() as u64;
    order.sort_by_key(|&a| (days_worked[a], mix(a as u64 ^ (day_number << 32))));
    let available: Vec<usize> = order.into_iter().filter(|&a| days_worked[a] < MAX_DAYS_PER_WEEK).collect();
    let mut free = available.into_iter();
    let lateness: Exp<f64> = Exp::new(1.0 / 6.0).expect("positive rate");
    let mut shifts = Vec::with_capacity(starts.len());
    for start in starts {
        // Not enough staff: the centre runs short, as real ones do.
        let Some(agent) = free.next() else { break };
        days_worked[agent] += 1;
        let (Some(begin), Some(end)) =
            (local_minute(plan, day.date, start), local_minute(plan, day.date, (start + SHIFT_MINUTES).min(24 * 60 - 1)))
        else {
            continue;
        };
        let late_ms = if rng.random_bool(0.08) { (lateness.sample(rng).min(45.0) * 60_000.0) as i64 } else { 0 };
        let early_ms = if rng.random_bool(0.03) { rng.random_range(20..60) * 60_000 } else { 0 };
        let minute = |m: i64| m * 60_000;
        let jitter = |rng: &mut Pcg64Mcg| rng.random_range(-5..=5) * 60_000;
        let mut pauses = vec![
            Pause { at_ms: begin + minute(120) + jitter(rng), duration_ms: minute(15), reason: "break" },
            Pause { at_ms: begin + minute(240) + jitter(rng), duration_ms: minute(30), reason: "lunch" },
            Pause { at_ms: begin + minute(360) + jitter(rng), duration_ms: minute(15), reason: "break" },
        ];
        if rng.random_bool(0.3) {
            let reason = ["coaching", "personal", "training", "meeting"][rng.random_range(0..4)];
            pauses.push(Pause { at_ms: begin + minute(rng.random_range(30..450)), duration_ms: minute(rng.random_range(5..20)), reason });
        }
        pauses.sort_by_key(|p| p.at_ms);
        shifts.push(Shift { agent, login_ms: begin + late_ms, logout_ms: end - early_ms, pauses });
    }
    shifts
}

/// SplitMix64's finaliser: a cheap, well-spread hash for shuffling deterministically.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}
