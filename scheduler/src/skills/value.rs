//! What serving the requirement is worth, per interval: the value of each further agent served.
//!
//! Without a [`ServedValue`] every required agent-interval is worth [`SHORT_WEIGHT`], and the
//! search minimises short agent-intervals. When staff is short that spreads the shortage
//! without regard to what it costs callers; a planner wants the service level reached instead.
//! Then an agent in an interval is worth what the queue's service level gains with them there,
//! times its calls (the calls answered within the threshold: Erlang C on the interval's
//! traffic, worked out by the caller), so that agents go where they answer the most calls in
//! time and intervals past saving are sacrificed first.
//!
//! The search's greedy prices a skill set by a stale gain, a bound only if what a further agent
//! adds never grows as agents come on duty. Erlang C's curve is S-shaped (no agent counts while
//! the agents are fewer than the traffic), so each queue's curve is replaced by its least
//! concave majorant — the same value reached, spread evenly over the agents it takes — and an
//! interval's agents go first to the queue where the next one is worth most (the merge of the
//! queues' non-increasing steps, the optimum of a sum of concave curves).

use super::SHORT_WEIGHT;

/// Per interval, the value of the first, second, … agent served (non-increasing), one for each
/// agent of the interval's requirement (queues pooled); agents beyond it are worth nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct ServedValue {
    steps: Vec<Vec<f64>>,
    /// Makes the mean step [`SHORT_WEIGHT`], the unit of the rest of the search's cost.
    scale: f64,
}

/// The smallest step after scaling: a required agent-interval is worth at least the cost of an
/// over-staffed one, so serving a requirement never looks worse than leaving the agent idle.
const LEAST_STEP: f64 = 1.0;

impl ServedValue {
    /// From, per interval and queue, the value of 0, 1, …, R agents on the queue (R its
    /// requirement there, so R + 1 values; the first is the value of nobody, usually 0).
    pub fn from_queue_curves(curves: &[Vec<Vec<f64>>]) -> Self {
        let steps: Vec<Vec<f64>> = curves
            .iter()
            .map(|queues| {
                let mut steps: Vec<f64> = queues.iter().flat_map(|values| concave_steps(values)).collect();
                steps.sort_by(|a, b| b.total_cmp(a));
                steps
            })
            .collect();
        let (total, count) = steps.iter().flatten().fold((0.0, 0usize), |(t, n), s| (t + s, n + 1));
        let scale = if total > 0.0 { SHORT_WEIGHT as f64 * count as f64 / total } else { 1.0 };
        Self { steps, scale }
    }

    pub fn intervals(&self) -> usize {
        self.steps.len()
    }

    /// Agents of `interval`'s requirement (what its steps are for).
    pub fn required(&self, interval: usize) -> usize {
        self.steps[interval].len()
    }

    fn step(&self, interval: usize, k: usize) -> f64 {
        (self.steps[interval][k] * self.scale).max(LEAST_STEP)
    }

    /// What serving `by` more agents adds at `interval` where `from` are served (fractions of
    /// an agent, with efficiencies, take that share of their step).
    pub fn worth(&self, interval: usize, from: f64, by: f64) -> f64 {
        let len = self.steps[interval].len();
        let (mut at, end) = (from.max(0.0), (from + by).min(len as f64));
        let mut sum = 0.0;
        while at < end - 1e-12 {
            let k = (at.floor() as usize).min(len - 1);
            let next = ((k + 1) as f64).min(end);
            sum += (next - at) * self.step(interval, k);
            at = next;
        }
        sum
    }

    /// The most any one agent-interval is worth.
    pub fn best_step(&self) -> f64 {
        (0..self.steps.len()).filter(|&i| !self.steps[i].is_empty()).map(|i| self.step(i, 0)).fold(LEAST_STEP, f64::max)
    }
}

/// What each agent adds to `values` (at 0, 1, …, R agents) on its least concave majorant: the
/// upper hull's slopes, one per agent, non-increasing.
pub fn concave_steps(values: &[f64]) -> Vec<f64> {
    // Upper hull of the points (k, values[k]), left to right.
    let mut hull: Vec<usize> = Vec::with_capacity(values.len());
    for k in 0..values.len() {
        while hull.len() >= 2 {
            let (a, b) = (hull[hull.len() - 2], hull[hull.len() - 1]);
            // b lies on or below the chord a → k: it is no corner of the hull.
            let chord = values[a] + (values[k] - values[a]) * (b - a) as f64 / (k - a) as f64;
            if values[b] <= chord {
                hull.pop();
            } else {
                break;
            }
        }
        hull.push(k);
    }
    let mut steps = Vec::with_capacity(values.len().saturating_sub(1));
    for pair in hull.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let slope = (values[b] - values[a]) / (b - a) as f64;
        steps.extend(std::iter::repeat_n(slope, b - a));
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn an_s_curve_is_spread_evenly_up_to_where_it_bends() {
        // Nothing for the first two agents, then 9 and 1 more.
        let steps = concave_steps(&[0.0, 0.0, 0.0, 9.0, 10.0]);
        assert_eq!(steps, vec![3.0, 3.0, 3.0, 1.0]);
    }

    #[test]
    fn queues_are_merged_and_the_mean_step_is_the_short_weight() {
        let v = ServedValue::from_queue_curves(&[vec![vec![0.0, 4.0, 6.0], vec![0.0, 3.0]], vec![vec![0.0, 1.0]]]);
        assert_eq!((v.intervals(), v.required(0), v.required(1)), (2, 3, 1));
        // Steps 4, 3, 2 and 1: mean 2.5, scaled to 20.
        assert!((v.worth(0, 0.0, 1.0) - 32.0).abs() < 1e-9);
        assert!((v.worth(0, 1.0, 1.5) - (24.0 + 8.0)).abs() < 1e-9, "the second agent and half the third");
        assert!((v.worth(0, 2.5, 1.0) - 8.0).abs() < 1e-9, "the requirement caps what is worth anything");
        assert_eq!(v.best_step(), 32.0);
        assert!((v.worth(1, 0.0, 1.0) - 8.0).abs() < 1e-9);
    }

    #[test]
    fn a_step_worth_nothing_is_still_worth_one_idle_agent() {
        let v = ServedValue::from_queue_curves(&[vec![vec![0.0, 100.0, 100.0]]]);
        assert!((v.worth(0, 1.0, 1.0) - LEAST_STEP).abs() < 1e-9);
    }

    proptest! {
        #[test]
        fn the_majorant_is_concave_lies_above_and_keeps_the_total(values in proptest::collection::vec(0.0f64..100.0, 1..30)) {
            let steps = concave_steps(&values);
            prop_assert_eq!(steps.len(), values.len() - 1);
            prop_assert!(steps.windows(2).all(|s| s[1] <= s[0] + 1e-9), "non-increasing: {:?}", steps);
            let mut at = values[0];
            for (k, s) in steps.iter().enumerate() {
                at += s;
                prop_assert!(at >= values[k + 1] - 1e-9, "above the curve at {}", k + 1);
            }
            prop_assert!((at - values[values.len() - 1]).abs() < 1e-6, "ends where the curve ends");
        }
    }
}
