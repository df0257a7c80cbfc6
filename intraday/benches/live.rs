//! The live engine's cost: state changes through the adherence board, with the alarm book and
//! the surge ladder checked every simulated second as `wfm serve` does, for a centre's day.
//!
//! `cargo bench -p wfm-intraday --bench live [-- AGENTS,… [CHANGES_PER_AGENT]]` (defaults
//! 1000,5000,20000 and 240: a call is ringing → on_call → wrap_up → ready, 60 calls a day).
//! Prints one Markdown row per size: changes per second through the board alone, and through
//! the board with the alarms and the timers, on one core.

use std::time::Instant;
use wfm_intraday::alarms::{AlarmBook, AlarmRules, QueueNow};
use wfm_intraday::escalation::{Ladder, LadderRules, Observation};
use wfm_intraday::live::Board;
use wfm_intraday::AdherenceRules;
use wfm_model::{AgentId, AgentState, TenantZone};
use wfm_scheduler::roster::Roster;

/// 2026-03-02 00:00 UTC.
const DAY: i64 = 1_772_409_600_000;
const MIN: i64 = 60_000;

/// A small deterministic generator (xorshift), so every run replays the same day.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn roster(agents: usize) -> Roster {
    let mut csv = String::from("agent_id,date,activity,start,end\n");
    let at = |minutes: i64| chrono::DateTime::from_timestamp_millis(DAY + minutes * MIN).unwrap().to_rfc3339();
    for a in 0..agents {
        let start = 7 * 60 + (a % 13) as i64 * 30;
        for (kind, from, to) in [("work", 0, 120), ("break", 120, 135), ("work", 135, 240), ("meal", 240, 270), ("work", 270, 480)] {
            csv.push_str(&format!("{},2026-03-02,{kind},{},{}\n", 10_000 + a, at(start + from), at(start + to)));
        }
    }
    Roster::read_csv("bench", csv.as_bytes()).unwrap()
}

/// Every agent's day as `(instant, agent, state)`, in time order.
fn changes(agents: usize, per_agent: usize, rng: &mut Rng) -> Vec<(i64, usize, AgentState, Option<String>)> {
    let cycle = [AgentState::Ringing, AgentState::OnCall, AgentState::WrapUp, AgentState::Ready];
    let mut out = Vec::with_capacity(agents * (per_agent + 2));
    for a in 0..agents {
        let start = DAY + (7 * 60 + (a % 13) as i64 * 30) * MIN;
        let mut t = start + (rng.next() % 5) as i64 * MIN;
        out.push((t, a, AgentState::Ready, None));
        let step = 8 * 60 * MIN / per_agent as i64;
        for i in 0..per_agent {
            t += step / 2 + (rng.next() % step as u64) as i64;
            let (state, reason) = if rng.next().is_multiple_of(50) { (AgentState::NotReady, Some("break".to_owned())) } else { (cycle[i % 4], None) };
            out.push((t, a, state, reason));
        }
        out.push((t + MIN, a, AgentState::LoggedOut, None));
    }
    out.sort_by_key(|c| c.0);
    out
}

struct Measured {
    changes: usize,
    changes_s: f64,
    ticks: usize,
    ticks_s: f64,
    alarm_changes: usize,
}

/// Replays the day: every state change, and every simulated second the board's timers and the
/// alarm check over every agent and queue (what `wfm serve` does each second).
fn run(agents: usize, per_agent: usize) -> Measured {
    let ids: Vec<AgentId> = (0..agents).map(|a| AgentId::parse(&(10_000 + a).to_string()).unwrap()).collect();
    let day = changes(agents, per_agent, &mut Rng(agents as u64 | 1));
    let mut board = Board::new(AdherenceRules::default(), TenantZone::utc(), DAY);
    board.set_roster(&roster(agents), 1, DAY);
    let mut book = AlarmBook::new(AlarmRules::default());
    let queues = [QueueNow { queue: "sales", calls_waiting: 3, longest_wait_s: 20, service_level: Some(0.85) }];
    let mut ladder = Ladder::new(LadderRules::default());
    let waiting = [("sales".to_owned(), 3u64)];
    let mut m = Measured { changes: day.len(), changes_s: 0.0, ticks: 0, ticks_s: 0.0, alarm_changes: 0 };
    let mut next_second = day[0].0;
    for (t, a, state, reason) in &day {
        let ticking = Instant::now();
        while next_second <= *t {
            std::hint::black_box(board.handle_timeout(next_second));
            m.alarm_changes += book.check(next_second, board.agents_now(), &queues).len();
            let observation = Observation::new(next_second, TenantZone::utc(), &waiting, &[], None, ladder.rules(), Default::default());
            std::hint::black_box(ladder.observe(&observation));
            next_second += 1000;
            m.ticks += 1;
        }
        let changing = Instant::now();
        m.ticks_s += (changing - ticking).as_secs_f64();
        std::hint::black_box(board.state_changed(&ids[*a], *state, reason.clone(), *t));
        m.changes_s += changing.elapsed().as_secs_f64();
    }
    m
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let sizes: Vec<usize> = args.first().map_or(vec![1000, 5000, 20000], |s| s.split(',').map(|n| n.parse().expect("agents")).collect());
    let per_agent: usize = args.get(1).map_or(240, |n| n.parse().expect("changes per agent"));
    println!("| agents | state changes | µs per change | simulated seconds | ms per second's tick (timers + alarms + ladder) | changes/s one core sustains beside the ticks | alarm changes |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for agents in sizes {
        let m = run(agents, per_agent);
        let per_change = m.changes_s / m.changes as f64;
        let per_tick = m.ticks_s / m.ticks as f64;
        println!(
            "| {agents} | {} | {:.2} | {} | {:.3} | {:.0} | {} |",
            m.changes,
            per_change * 1e6,
            m.ticks,
            per_tick * 1e3,
            (1.0 - per_tick) / per_change,
            m.alarm_changes
        );
    }
}
