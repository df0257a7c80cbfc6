//! Erlang A (M/M/N+M) against the discrete-event simulation of a steady queue.
//!
//! Each scenario simulates ~500k callers (fixed seeds, so the test is deterministic), drops the
//! first hour, cuts the rest into 20 batches by arrival time, and requires every formula value
//! to lie inside the batch-means 99 % confidence interval of the simulated value.

use wfm_datasets::{simulate_steady_queue, Handling, SteadyQueue};
use wfm_forecasting::erlang::{evaluate, QueueModel, Workload};

const BATCHES: usize = 20;
/// Student's t, 99 % two-sided, 19 degrees of freedom.
const T_99: f64 = 2.861;

struct Interval {
    mean: f64,
    half_width: f64,
}

fn batch_interval(values: &[f64]) -> Interval {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    Interval { mean, half_width: T_99 * (var / n).sqrt() }
}

fn check(calls_per_hour: f64, talk_s: f64, patience_s: f64, agents: usize, hours: f64, threshold_s: f64) {
    let calls = simulate_steady_queue(&SteadyQueue {
        calls_per_hour,
        mean_talk_s: talk_s,
        mean_patience_s: patience_s,
        agents,
        hours,
        handling: Handling::Exponential,
        seed: 7,
    });
    let warm_up = calls[0].queued_at.unwrap() + chrono::Duration::hours(1);
    let kept: Vec<_> = calls.iter().filter(|c| c.queued_at.unwrap() >= warm_up).collect();
    let per_batch = kept.len() / BATCHES;
    let (mut sl, mut abandon, mut wait, mut asa) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for batch in kept.chunks(per_batch).take(BATCHES) {
        let n = batch.len() as f64;
        let answered: Vec<_> = batch.iter().filter(|c| c.answered_at.is_some()).collect();
        let within = answered.iter().filter(|c| c.wait_ms.unwrap() as f64 <= threshold_s * 1000.0).count();
        sl.push(within as f64 / n);
        abandon.push(batch.iter().filter(|c| c.abandoned).count() as f64 / n);
        wait.push(batch.iter().filter(|c| c.wait_ms.unwrap() > 0).count() as f64 / n);
        asa.push(answered.iter().map(|c| c.wait_ms.unwrap() as f64 / 1000.0).sum::<f64>() / answered.len() as f64);
    }
    let load = Workload::new(calls_per_hour, 3600.0, talk_s).unwrap();
    let model = evaluate(QueueModel::erlang_a(patience_s).unwrap(), &load, agents as u32, threshold_s).unwrap();
    let checks = [
        ("service level", model.service_level, batch_interval(&sl)),
        ("probability of abandoning", model.probability_of_abandoning.unwrap(), batch_interval(&abandon)),
        ("probability of waiting", model.probability_of_waiting, batch_interval(&wait)),
        ("ASA of answered calls (s)", model.asa_s.unwrap(), batch_interval(&asa)),
    ];
    for (name, formula, sim) in checks {
        println!(
            "{:.0} Erlangs, {agents} agents, patience {patience_s} s: {name}: Erlang A {formula:.4}, simulation {:.4} ± {:.4} ({} calls)",
            load.traffic_erlangs(),
            sim.mean,
            sim.half_width,
            kept.len()
        );
        assert!((formula - sim.mean).abs() <= sim.half_width, "{name}: formula {formula} outside {} ± {}", sim.mean, sim.half_width);
    }
}

#[test]
fn erlang_a_agrees_with_the_simulation_below_the_load() {
    // 18 Erlangs served by 17 agents: stable only because callers give up.
    check(360.0, 180.0, 60.0, 17, 1500.0, 20.0);
}

#[test]
fn erlang_a_agrees_with_the_simulation_above_the_load() {
    check(1200.0, 240.0, 120.0, 84, 500.0, 20.0);
}
