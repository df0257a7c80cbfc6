#![no_main]
//! Any bytes as one of the scheduling files — rules TOML, agents CSV, requirements CSV,
//! requests CSV, roster CSV (then checked, scored and searched for gap takers against a fixed
//! agent and rules): no panic.

use libfuzzer_sys::fuzz_target;
use wfm_scheduler::{agents, changes, check, demand, requests, roster::Roster, rules::ClockTime, rules::Rules, score};

const RULES: &str = include_str!("../../datasets/sample/rules.toml");
const AGENTS: &str = "agent_id,team,skills,team_leader,min_hours_week,max_hours_week\na1,t1,support:1.0,false,30,40\n";

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else { return };
    match which % 5 {
        0 => {
            if let Ok(text) = std::str::from_utf8(rest) {
                let _ = Rules::parse("rules.toml", text);
            }
        }
        1 => {
            let _ = agents::parse("agents.csv", rest, "demo");
        }
        2 => {
            let _ = demand::parse("requirements.csv", rest, demand::Column::Agents);
        }
        3 => {
            let _ = requests::parse("requests.csv", rest);
        }
        _ => {
            if let Ok(roster) = Roster::read_csv("roster.csv", rest) {
                let rules = Rules::parse("rules.toml", RULES).expect("sample rules parse");
                let agents = agents::parse("agents.csv", AGENTS.as_bytes(), "demo").expect("agents parse");
                let _ = check::check(&roster, &agents, &rules);
                let _ = score::evaluate(&roster, &agents, &rules, &[]);
                if let Some(first) = roster.activities.first() {
                    let (from, to) = (ClockTime::from_minutes(600), ClockTime::from_minutes(840));
                    let _ = changes::fill_gap(&roster, &agents, &rules, first.date, (from, to), None, *first.start.offset());
                }
            }
        }
    }
});
