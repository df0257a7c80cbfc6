#![no_main]
//! Any bytes as one of the planning files — a calendar CSV, a forecast CSV (then staffed), a
//! targets TOML: no panic, only values that pass their own checks.

use libfuzzer_sys::fuzz_target;
use wfm_forecasting::forecast::calendar;
use wfm_forecasting::requirements::{read_forecast, staff, GoalOverrides, Goals, TargetsFile};

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else { return };
    match which % 3 {
        0 => {
            if let Ok(entries) = calendar::parse("fuzz.csv", rest, "demo") {
                for e in entries {
                    assert!(e.from_hour < e.to_hour && e.to_hour <= 24);
                    assert!(e.volume_factor.is_none_or(|f| (0.0..=100.0).contains(&f)));
                }
            }
        }
        1 => {
            if let Ok(rows) = read_forecast("fuzz.csv", rest, 900.0) {
                if rows.len() <= 50 {
                    let cli = GoalOverrides { sl_target: Some(0.8), threshold_s: Some(20.0), ..GoalOverrides::default() };
                    let mut goals = Goals::new(cli, None).expect("valid defaults");
                    if let Ok(staffed) = staff("fuzz.csv", &rows, &mut goals, 3) {
                        for r in staffed.rows {
                            assert!(r.agents_with_shrinkage >= r.agents);
                            assert!((0.0..=1.0).contains(&r.service_level));
                        }
                    }
                }
            }
        }
        _ => {
            if let Ok(text) = std::str::from_utf8(rest) {
                if let Ok(file) = toml::from_str::<TargetsFile>(text) {
                    let _ = Goals::new(GoalOverrides::default(), Some((std::path::Path::new("t.toml"), file)));
                }
            }
        }
    }
});
