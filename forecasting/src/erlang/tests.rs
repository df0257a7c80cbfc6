use super::*;
use proptest::prelude::*;

fn targets(sl: f64, threshold_s: f64) -> StaffingTargets {
    StaffingTargets::new(Some(sl), threshold_s, None, None).unwrap()
}

fn evaluated(model: QueueModel, load: &Workload, agents: u32, threshold_s: f64) -> Staffing {
    evaluate(model, load, agents, threshold_s).unwrap()
}

fn load(calls: f64, interval_s: f64, aht_s: f64) -> Workload {
    Workload::new(calls, interval_s, aht_s).unwrap()
}

#[test]
fn textbook_case_100_calls_per_half_hour() {
    let w = load(100.0, 1800.0, 180.0);
    assert!((w.traffic_erlangs() - 10.0).abs() < 1e-12);
    let s = required_agents(QueueModel::ErlangC, &w, &targets(0.8, 20.0)).unwrap();
    assert_eq!(s.agents, 14);
    assert!((s.service_level - 0.8884).abs() < 5e-4, "{s:?}");
    assert!((s.probability_of_waiting - 0.1741).abs() < 5e-4, "{s:?}");
    assert!((s.asa_s.unwrap() - 7.83).abs() < 0.01, "{s:?}");
    assert!((s.occupancy - 10.0 / 14.0).abs() < 1e-12);
    let thirteen = evaluated(QueueModel::ErlangC, &w, 13, 20.0);
    assert!(thirteen.service_level < 0.8 && thirteen.service_level > 0.79, "{thirteen:?}");
}

#[test]
fn the_curve_is_evaluate_at_every_staffing() {
    let w = load(100.0, 1800.0, 180.0);
    for model in [QueueModel::ErlangC, QueueModel::erlang_a(120.0).unwrap()] {
        let curve = service_level_curve(model, &w, 20, 20.0).unwrap();
        assert_eq!(curve.len(), 21);
        for (n, sl) in curve.iter().enumerate() {
            assert!((sl - evaluated(model, &w, n as u32, 20.0).service_level).abs() < 1e-12, "{model:?} at {n}");
        }
        assert!(curve.windows(2).all(|p| p[1] >= p[0] - 1e-12), "more agents never serve worse: {curve:?}");
    }
}

#[test]
fn a_target_met_exactly_is_met() {
    let w = load(100.0, 1800.0, 180.0);
    let at14 = evaluated(QueueModel::ErlangC, &w, 14, 20.0).service_level;
    assert_eq!(required_agents(QueueModel::ErlangC, &w, &targets(at14, 20.0)).unwrap().agents, 14);
    assert_eq!(required_agents(QueueModel::ErlangC, &w, &targets(at14 + 1e-9, 20.0)).unwrap().agents, 15);
    // 8.5 Erlangs at 85 % occupancy needs exactly 10 agents.
    let w = load(85.0, 1800.0, 180.0);
    let cap = StaffingTargets::new(None, 20.0, None, Some(0.85)).unwrap();
    assert_eq!(required_agents(QueueModel::ErlangC, &w, &cap).unwrap().agents, 10);
    let asa = evaluated(QueueModel::ErlangC, &w, 12, 20.0).asa_s.unwrap();
    let asa_target = StaffingTargets::new(None, 20.0, Some(asa), None).unwrap();
    assert_eq!(required_agents(QueueModel::ErlangC, &w, &asa_target).unwrap().agents, 12);
}

#[test]
fn combined_targets_take_the_strictest() {
    let w = load(100.0, 1800.0, 180.0);
    let both = StaffingTargets::new(Some(0.8), 20.0, Some(3.0), Some(0.85)).unwrap();
    let s = required_agents(QueueModel::ErlangC, &w, &both).unwrap();
    let asa_alone = required_agents(QueueModel::ErlangC, &w, &StaffingTargets::new(None, 20.0, Some(3.0), None).unwrap()).unwrap();
    assert_eq!(s.agents, asa_alone.agents.max(14).max(12));
    assert!(s.asa_s.unwrap() <= 3.0 && s.service_level >= 0.8 && s.occupancy <= 0.85);
}

#[test]
fn tiny_and_huge_traffic() {
    let tiny = load(0.05, 900.0, 180.0);
    assert!((tiny.traffic_erlangs() - 0.01).abs() < 1e-12);
    let s = required_agents(QueueModel::ErlangC, &tiny, &targets(0.8, 20.0)).unwrap();
    assert_eq!(s.agents, 1);
    assert!(s.service_level > 0.99);
    for traffic in [5_000.0, 100_000.0] {
        let w = load(traffic * 900.0 / 300.0, 900.0, 300.0);
        let s = required_agents(QueueModel::ErlangC, &w, &targets(0.8, 20.0)).unwrap();
        assert!(s.agents as f64 > traffic && (s.agents as f64) < traffic * 1.02, "{s:?}");
        assert!(s.service_level >= 0.8 && s.service_level.is_finite());
        let below = evaluated(QueueModel::ErlangC, &w, s.agents - 1, 20.0);
        assert!(below.service_level < 0.8, "{below:?}");
        let a = required_agents(QueueModel::erlang_a(120.0).unwrap(), &w, &targets(0.8, 20.0)).unwrap();
        assert!(a.agents <= s.agents && a.service_level >= 0.8, "{a:?}");
        assert!(evaluated(QueueModel::erlang_a(120.0).unwrap(), &w, a.agents - 1, 20.0).service_level < 0.8);
    }
}

#[test]
fn no_calls_need_no_agents() {
    let w = load(0.0, 900.0, 180.0);
    for model in [QueueModel::ErlangC, QueueModel::erlang_a(60.0).unwrap()] {
        let s = required_agents(model, &w, &targets(0.8, 20.0)).unwrap();
        assert_eq!((s.agents, s.service_level), (0, 1.0));
    }
}

#[test]
fn unstable_erlang_c_has_no_asa() {
    let s = evaluated(QueueModel::ErlangC, &load(100.0, 1800.0, 180.0), 10, 20.0);
    assert_eq!((s.service_level, s.probability_of_waiting, s.asa_s), (0.0, 1.0, None));
}

#[test]
fn bad_inputs_name_their_field() {
    assert_eq!(Workload::new(10.0, 900.0, -5.0).unwrap_err().field, "aht_s");
    assert_eq!(Workload::new(-1.0, 900.0, 60.0).unwrap_err().field, "calls");
    assert_eq!(Workload::new(1.0, 0.0, 60.0).unwrap_err().field, "interval_s");
    assert_eq!(Workload::new(f64::NAN, 900.0, 60.0).unwrap_err().field, "calls");
    assert_eq!(QueueModel::erlang_a(0.0).unwrap_err().field, "patience_s");
}

#[test]
fn erlang_a_can_need_fewer_agents_than_the_load() {
    // 100 Erlangs of callers who wait 30 s on average: 60 % answered within 20 s needs fewer
    // than 100 agents, because those who give up free capacity for the others.
    let w = load(500.0, 1800.0, 360.0);
    let model = QueueModel::erlang_a(30.0).unwrap();
    let s = required_agents(model, &w, &targets(0.6, 20.0)).unwrap();
    assert!((s.agents as f64) < w.traffic_erlangs(), "{s:?}");
    assert!(s.service_level >= 0.6);
    assert!(evaluated(model, &w, s.agents - 1, 20.0).service_level < 0.6);
}

#[test]
fn erlang_a_tends_to_erlang_c_as_patience_grows() {
    let w = load(100.0, 1800.0, 180.0);
    let c = evaluated(QueueModel::ErlangC, &w, 14, 20.0);
    let a = evaluated(QueueModel::erlang_a(MAX_PATIENCE_S).unwrap(), &w, 14, 20.0);
    assert!((a.service_level - c.service_level).abs() < 2e-3, "{a:?} {c:?}");
    assert!((a.probability_of_waiting - c.probability_of_waiting).abs() < 2e-3, "{a:?} {c:?}");
    assert!((a.asa_s.unwrap() - c.asa_s.unwrap()).abs() < 0.1, "{a:?} {c:?}");
    assert!(a.probability_of_abandoning.unwrap() < 1e-3);
}

/// Erlang A by brute force: the birth–death chain truncated far out, abandonment from the mean
/// queue length, and the tagged caller's fate by uniformisation of its position chain.
fn brute_force_erlang_a(lambda: f64, mu: f64, theta: f64, n: usize, t: f64) -> (f64, f64, f64) {
    let states = 400;
    let mut p = vec![1.0f64; states];
    for k in 1..states {
        let death = k.min(n) as f64 * mu + k.saturating_sub(n) as f64 * theta;
        p[k] = p[k - 1] * lambda / death;
    }
    let total: f64 = p.iter().sum();
    p.iter_mut().for_each(|v| *v /= total);
    let waiting: f64 = p[n..].iter().sum();
    let mean_queue: f64 = p.iter().enumerate().map(|(k, v)| k.saturating_sub(n) as f64 * v).sum();
    let abandoning = theta * mean_queue / lambda;
    // Position chain: position j (callers ahead), absorbing "served" and "gone".
    let positions = states - n;
    let rate = n as f64 * mu + (positions + 1) as f64 * theta;
    let mut dist: Vec<f64> = p[n..].to_vec();
    let mut served = 0.0;
    let steps_mean = rate * t;
    let mut poisson = (-steps_mean).exp();
    let mut within = 0.0;
    let mut served_by_step = Vec::new();
    for _ in 0..((steps_mean + 12.0 * steps_mean.sqrt() + 50.0) as usize) {
        served_by_step.push(served);
        let mut next = vec![0.0; positions];
        for (j, &mass) in dist.iter().enumerate() {
            let advance = n as f64 * mu + j as f64 * theta;
            if j == 0 {
                served += mass * advance / rate;
            } else {
                next[j - 1] += mass * advance / rate;
            }
            next[j] += mass * (1.0 - (advance + theta) / rate);
        }
        dist = next;
    }
    for (m, s) in served_by_step.iter().enumerate() {
        within += poisson * s;
        poisson *= steps_mean / (m + 1) as f64;
    }
    let no_wait: f64 = p[..n].iter().sum();
    (waiting, abandoning, no_wait + within)
}

#[test]
fn erlang_a_matches_a_brute_force_chain() {
    for (calls, aht, patience, n, t) in [(60.0, 240.0, 90.0, 8, 20.0), (30.0, 300.0, 40.0, 3, 30.0), (200.0, 120.0, 200.0, 14, 10.0)] {
        let w = load(calls, 1800.0, aht);
        let s = evaluated(QueueModel::erlang_a(patience).unwrap(), &w, n as u32, t);
        let (waiting, abandoning, sl) = brute_force_erlang_a(calls / 1800.0, 1.0 / aht, 1.0 / patience, n, t);
        assert!((s.probability_of_waiting - waiting).abs() < 1e-9, "{s:?} vs {waiting}");
        assert!((s.probability_of_abandoning.unwrap() - abandoning).abs() < 1e-9, "{s:?} vs {abandoning}");
        assert!((s.service_level - sl).abs() < 1e-6, "{s:?} vs {sl}");
    }
}

proptest! {
    #[test]
    fn more_agents_never_lower_the_service_level(calls in 0.0f64..3000.0, aht in 10.0f64..900.0, patience in 5.0f64..1000.0, n in 0u32..400) {
        let w = load(calls, 900.0, aht);
        for model in [QueueModel::ErlangC, QueueModel::erlang_a(patience).unwrap()] {
            let (a, b) = (evaluated(model, &w, n, 20.0), evaluated(model, &w, n + 1, 20.0));
            prop_assert!(b.service_level >= a.service_level - 1e-12, "{a:?} {b:?}");
            prop_assert!((0.0..=1.0).contains(&a.service_level));
            prop_assert!((0.0..=1.0).contains(&a.probability_of_waiting));
        }
    }

    #[test]
    fn more_traffic_never_lowers_the_agents(calls in 0.0f64..5000.0, extra in 0.0f64..500.0, aht in 10.0f64..900.0, sl in 0.05f64..0.99, patience in 5.0f64..1000.0) {
        let t = targets(sl, 20.0);
        for model in [QueueModel::ErlangC, QueueModel::erlang_a(patience).unwrap()] {
            let a = required_agents(model, &load(calls, 900.0, aht), &t).unwrap();
            let b = required_agents(model, &load(calls + extra, 900.0, aht), &t).unwrap();
            prop_assert!(b.agents >= a.agents, "{a:?} {b:?}");
            if a.agents > 0 {
                prop_assert!(evaluated(model, &load(calls, 900.0, aht), a.agents - 1, 20.0).service_level < sl);
            }
        }
    }
}

#[test]
fn erlang_b_direct_sum_matches_the_recursion() {
    for traffic in [0.01, 0.7, 3.0, 10.0, 57.3, 1000.0, 4999.5, 100_000.0] {
        let mut b = 1.0f64;
        let last = (traffic as u32 + 1).min(200_000);
        for n in 1..=last {
            b = traffic * b / (n as f64 + traffic * b);
            if n + 50 >= last || n % 97 == 0 {
                let direct = erlang_b_direct(n, traffic);
                assert!((direct - b).abs() <= 1e-12 * b.max(1e-300), "A={traffic} n={n}: {direct} vs {b}");
            }
        }
        let mut table = ErlangB::new(traffic);
        assert!((table.get(last + 10) - evaluate_b_by_recursion(last + 10, traffic)).abs() < 1e-12);
    }
}

fn evaluate_b_by_recursion(n: u32, traffic: f64) -> f64 {
    (1..=n).fold(1.0, |b, k| traffic * b / (k as f64 + traffic * b))
}

#[test]
fn no_agents_answer_nobody() {
    let w = load(10.0, 900.0, 270.0);
    for model in [QueueModel::ErlangC, QueueModel::erlang_a(30.0).unwrap()] {
        let s = evaluated(model, &w, 0, 20.0);
        assert_eq!((s.service_level, s.asa_s, s.occupancy), (0.0, None, 1.0), "{s:?}");
    }
    // An occupancy cap alone never yields zero agents for a positive load.
    let cap = StaffingTargets::new(None, 20.0, None, Some(0.95)).unwrap();
    let s = required_agents(QueueModel::erlang_a(30.0).unwrap(), &load(36.0, 3600.0, 300.0), &cap).unwrap();
    assert!(s.agents >= 1, "{s:?}");
}

#[test]
fn erlang_a_refuses_what_it_cannot_sum_and_huge_staffing_stays_small() {
    let w = load(3_600_000.0, 3600.0, 1.0);
    let e = evaluate(QueueModel::erlang_a(MAX_PATIENCE_S).unwrap(), &w, 1, 20.0).unwrap_err();
    assert!(e.to_string().contains("Erlang C"), "{e}");
    let s = evaluated(QueueModel::ErlangC, &load(100.0, 1800.0, 180.0), 4_000_000_000, 20.0);
    assert_eq!(s.probability_of_waiting, 0.0);
}
