//! A small plan for tests: a roster of agents 1001–1003 and the tenant's planning files.

use chrono::{Duration, NaiveDate, TimeZone};
use std::path::Path;

pub fn zone() -> wfm_model::TenantZone {
    wfm_model::TenantZone::parse("Europe/Warsaw").unwrap()
}

pub fn today() -> NaiveDate {
    zone().local_date(chrono::Utc::now())
}

pub fn at(day: NaiveDate, h: u32, m: u32) -> String {
    zone().tz().from_local_datetime(&day.and_hms_opt(h, m, 0).unwrap()).earliest().unwrap().to_rfc3339()
}

/// 1001 works every day from yesterday for two weeks, starting at `start_h` on `changed_day`
/// (08:00 otherwise); 1002 and 1003 are off.
pub fn roster(dir: &Path, name: &str, changed_day: Option<(NaiveDate, u32)>) -> std::path::PathBuf {
    let mut csv = String::from("agent_id,date,activity,start,end\n");
    for offset in -1..14 {
        let day = today() + Duration::days(offset);
        let h = changed_day.filter(|(d, _)| *d == day).map_or(8, |(_, h)| h);
        csv += &format!("1001,{day},work,{},{}\n1001,{day},meal,{},{}\n1001,{day},work,{},{}\n", at(day, h, 0), at(day, h + 4, 0), at(day, h + 4, 0), at(day, h + 4, 30), at(day, h + 4, 30), at(day, h + 8, 30));
        for other in ["1002", "1003"] {
            csv += &format!("{other},{day},day-off,{},{}\n", at(day, 0, 0), at(day + Duration::days(1), 0, 0));
        }
    }
    let path = dir.join(name);
    std::fs::write(&path, csv).unwrap();
    path
}

/// The tenant's planning files: one agent of support needed 08:00–16:30 on `busy` days.
pub fn planning_files(dir: &Path, busy: &[NaiveDate], quiet: &[NaiveDate]) {
    let tenant = dir.join("tenants").join("demo");
    std::fs::write(
        tenant.join("agents.csv"),
        "agent_id,team,skills,team_leader,min_hours_week,max_hours_week,leave_allowance_days\n1001,t1,support:1.0,false,0,60,4\n1002,t1,support:1.0,false,0,60,4\n1003,t1,billing:1.0,false,0,60,4\n",
    )
    .unwrap();
    std::fs::write(
        tenant.join("rules.toml"),
        "[shifts]\nlengths_hours = [8.5]\nstart_step_minutes = 30\nearliest_start = \"06:00\"\nlatest_end = \"23:00\"\n[breaks]\nmeal_minutes = 30\nmeal_after_hours = 6\nbreak_minutes = 0\n[rules]\nmin_rest_between_shifts_hours = 11\n",
    )
    .unwrap();
    let mut csv = String::from("queue,interval_start,agents\n");
    let mut days: Vec<(NaiveDate, bool)> = busy.iter().map(|d| (*d, true)).chain(quiet.iter().map(|d| (*d, false))).collect();
    days.sort();
    for (day, needed) in days {
        for quarter in 0..96u32 {
            let n = u32::from(needed && (32..66).contains(&quarter));
            csv += &format!("support,{},{n}\n", at(day, quarter / 4, 15 * (quarter % 4)));
        }
    }
    std::fs::write(tenant.join("requirements.csv"), csv).unwrap();
}

