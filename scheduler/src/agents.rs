//! The agents file: who can be rostered, with what skills and contract.
//!
//! Columns `agent_id, team, skills, team_leader, min_hours_week, max_hours_week` are required;
//! `tenant, name, max_hours_month, max_consecutive_work_days, min_days_off_month,
//! preferred_starts, preferred_days_off, leave_allowance_days` are optional; others are refused. Skills are written
//! `support:1.0;billing:0.8` (efficiency in (0, 1]).

use crate::rules::ClockTime;
use crate::InputError;
use chrono::Weekday;
use std::collections::HashSet;
use std::io::Read;
use wfm_model::{AgentId, QueueName};

#[derive(Debug, Clone, PartialEq)]
pub struct Agent {
    pub id: AgentId,
    pub name: Option<String>,
    pub team: String,
    /// Queues the agent can take, with efficiency in (0, 1].
    pub skills: Vec<(QueueName, f64)>,
    pub team_leader: bool,
    pub min_hours_week: u32,
    pub max_hours_week: u32,
    pub max_hours_month: Option<u32>,
    pub max_consecutive_work_days: Option<u32>,
    pub min_days_off_month: Option<u32>,
    pub preferred_starts: Vec<ClockTime>,
    pub preferred_days_off: Vec<Weekday>,
    /// Days of leave the agent may still take, leave already in the roster included.
    pub leave_allowance_days: Option<u32>,
}

const REQUIRED: [&str; 6] = ["agent_id", "team", "skills", "team_leader", "min_hours_week", "max_hours_week"];
const OPTIONAL: [&str; 8] = [
    "tenant",
    "name",
    "max_hours_month",
    "max_consecutive_work_days",
    "min_days_off_month",
    "preferred_starts",
    "preferred_days_off",
    "leave_allowance_days",
];

/// Reads the agents of `tenant` (rows of other tenants are skipped; all rows when the file has
/// no tenant column).
pub fn parse(name: &str, input: impl Read, tenant: &str) -> Result<Vec<Agent>, InputError> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(input);
    let headers = reader.headers().map_err(|e| InputError::File { file: name.into(), message: e.to_string() })?.clone();
    let bad = |line: u64, field: &str, message: String| InputError::Field { file: name.into(), line, field: field.into(), message };
    for h in &headers {
        if !REQUIRED.contains(&h) && !OPTIONAL.contains(&h) {
            return Err(bad(1, h, format!("unknown column (known: {}, {})", REQUIRED.join(", "), OPTIONAL.join(", "))));
        }
    }
    for required in REQUIRED {
        if !headers.iter().any(|h| h == required) {
            return Err(bad(1, required, "missing column".into()));
        }
    }
    let mut agents = Vec::new();
    let mut seen = HashSet::new();
    for record in reader.records() {
        let record = record.map_err(|e| InputError::File { file: name.into(), message: e.to_string() })?;
        let line = record.position().map_or(0, |p| p.line());
        let get = |field: &str| headers.iter().position(|h| h == field).map(|i| &record[i]).filter(|v| !v.is_empty());
        if get("tenant").is_some_and(|t| t != tenant) {
            continue;
        }
        let required = |field: &str| get(field).ok_or_else(|| bad(line, field, "empty".into()));
        let hours = |field: &str, v: &str| v.parse::<u32>().ok().filter(|h| *h <= 168).ok_or_else(|| bad(line, field, format!("{v:?} is not whole hours 0–168")));
        let optional_count = |field: &str, max: u32| {
            get(field).map(|v| v.parse::<u32>().ok().filter(|n| *n <= max).ok_or_else(|| bad(line, field, format!("{v:?} is not a whole number 0–{max}")))).transpose()
        };
        let id_text = required("agent_id")?;
        let id = AgentId::parse(id_text).map_err(|e| bad(line, "agent_id", e.to_string()))?;
        if !seen.insert(id.clone()) {
            return Err(bad(line, "agent_id", format!("{id_text} appears twice")));
        }
        let skills = required("skills")?
            .split(';')
            .filter(|s| !s.trim().is_empty())
            .map(|s| {
                let (queue, efficiency) = s.split_once(':').unwrap_or((s, "1"));
                let queue = QueueName::parse(queue.trim()).map_err(|e| bad(line, "skills", e.to_string()))?;
                let efficiency = efficiency
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|e| *e > 0.0 && *e <= 1.0)
                    .ok_or_else(|| bad(line, "skills", format!("{efficiency:?} is not an efficiency in (0, 1] for {queue}")))?;
                Ok((queue, efficiency))
            })
            .collect::<Result<Vec<_>, InputError>>()?;
        if skills.is_empty() {
            return Err(bad(line, "skills", "no skill".into()));
        }
        let team_leader = match required("team_leader")? {
            "true" | "yes" | "1" => true,
            "false" | "no" | "0" => false,
            other => return Err(bad(line, "team_leader", format!("{other:?} is not true or false"))),
        };
        let (min_hours_week, max_hours_week) = (hours("min_hours_week", required("min_hours_week")?)?, hours("max_hours_week", required("max_hours_week")?)?);
        if min_hours_week > max_hours_week {
            return Err(bad(line, "min_hours_week", format!("{min_hours_week} is above max_hours_week {max_hours_week}")));
        }
        let preferred_starts = get("preferred_starts")
            .map(|v| v.split(';').map(|t| ClockTime::parse(t).ok_or_else(|| bad(line, "preferred_starts", format!("{t:?} is not a time HH:MM")))).collect())
            .transpose()?
            .unwrap_or_default();
        let preferred_days_off = get("preferred_days_off")
            .map(|v| v.split(';').map(|d| d.trim().parse::<Weekday>().map_err(|_| bad(line, "preferred_days_off", format!("{d:?} is not a day (mon … sun)")))).collect())
            .transpose()?
            .unwrap_or_default();
        agents.push(Agent {
            id,
            name: get("name").map(str::to_owned),
            team: required("team")?.to_owned(),
            skills,
            team_leader,
            min_hours_week,
            max_hours_week,
            max_hours_month: optional_count("max_hours_month", 744)?,
            max_consecutive_work_days: optional_count("max_consecutive_work_days", 366)?,
            min_days_off_month: optional_count("min_days_off_month", 31)?,
            preferred_starts,
            preferred_days_off,
            leave_allowance_days: optional_count("leave_allowance_days", 366)?,
        });
    }
    if agents.is_empty() {
        return Err(InputError::File { file: name.into(), message: format!("no agents of tenant {tenant}") });
    }
    Ok(agents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_generators_agents() {
        let agents = parse("agents.csv", include_bytes!("../../datasets/sample/agents.csv").as_slice(), "demo").unwrap();
        assert!(agents.len() > 10);
        assert!(agents.iter().any(|a| a.team_leader));
        assert!(agents.iter().all(|a| !a.skills.is_empty() && a.min_hours_week <= a.max_hours_week));
    }

    #[test]
    fn optional_columns_and_errors_name_line_and_field() {
        let csv = "agent_id,team,skills,team_leader,min_hours_week,max_hours_week,preferred_starts,preferred_days_off\n\
                   a1,t1,support:1.0;billing:0.8,true,30,40,08:00;09:30,sat;sun\n";
        let a = &parse("agents.csv", csv.as_bytes(), "demo").unwrap()[0];
        assert_eq!(a.skills.len(), 2);
        assert_eq!(a.preferred_starts[1].to_string(), "09:30");
        assert_eq!(a.preferred_days_off, vec![Weekday::Sat, Weekday::Sun]);
        let cases = [
            ("agent_id,team,skills,team_leader,min_hours_week,max_hours_week\na1,t1,support:1.5,true,30,40\n", "agents.csv:2: `skills`"),
            ("agent_id,team,skills,team_leader,min_hours_week,max_hours_week\na1,t1,support,maybe,30,40\n", "agents.csv:2: `team_leader`"),
            ("agent_id,team,skills,team_leader,min_hours_week,max_hours_week\na1,t1,support,true,50,40\n", "agents.csv:2: `min_hours_week`"),
            ("agent_id,team,skills,team_leader,min_hours_week,max_hours_week\na1,t1,support,true,30,40\na1,t1,support,true,30,40\n", "agents.csv:3: `agent_id`: a1 appears twice"),
            ("agent_id,team,skills,team_leader,min_hours_week,max_hours_week,shoe_size\n", "agents.csv:1: `shoe_size`: unknown column"),
            ("agent_id,team,skills,team_leader,min_hours_week\n", "agents.csv:1: `max_hours_week`: missing column"),
        ];
        for (csv, expected) in cases {
            let e = parse("agents.csv", csv.as_bytes(), "demo").unwrap_err().to_string();
            assert!(e.starts_with(expected), "{e}");
        }
    }
}
