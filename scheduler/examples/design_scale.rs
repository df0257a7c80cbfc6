//! Measures shift design on a real requirements file at growing horizons:
//! `cargo run --release -p wfm-scheduler --example design_scale -- requirements.csv rules.toml`
//! (queues pooled; at most `agents` shifts a day, default 60).

use std::time::Instant;
use wfm_scheduler::demand::{self, Column};
use wfm_scheduler::design::{design, shapes};
use wfm_scheduler::rules::Rules;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (req_path, rules_path) = (&args[1], &args[2]);
    let max_per_day: u32 = args.get(3).map_or(Ok(60), |a| a.parse())?;
    let demand = demand::parse(req_path, std::fs::File::open(req_path)?, Column::Agents)?;
    let rules = Rules::parse(rules_path, &std::fs::read_to_string(rules_path)?)?;
    let pooled: Vec<u32> = (0..demand.starts.len()).map(|i| demand.queues.values().map(|c| c[i]).sum()).collect();
    let shapes = shapes(&rules.shifts.lengths_min, rules.shifts.start_step_min, rules.shifts.window);
    println!("| days | intervals | shapes | variables | seconds | under-staffed | LP bound | over-staffed | required |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for days in [7usize, 14, 28] {
        let n = (days * 96).min(demand.starts.len());
        let part = demand::Demand { starts: demand.starts[..n].to_vec(), interval_min: demand.interval_min, queues: Default::default() };
        let t = Instant::now();
        let d = design(&part, &pooled[..n], &shapes, max_per_day)?;
        let required: u64 = pooled[..n].iter().map(|&r| u64::from(r)).sum();
        println!(
            "| {days} | {n} | {} | {} | {:.2} | {} | {:.1} | {} | {required} |",
            shapes.len(),
            shapes.len() * d.days.len() + n,
            t.elapsed().as_secs_f64(),
            d.under_staffed,
            d.lower_bound_under,
            d.over_staffed
        );
    }
    Ok(())
}
