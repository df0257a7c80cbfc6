//! `wfm staff`: a forecast file in, required agents per queue and interval out.
//!
//! Targets come from the command line, optionally overridden per queue and per time window by a
//! targets file (TOML, `docs/forecasting.md`). Each queue is staffed on its own (agents
//! dedicated to it); a pooled figure per interval — every call of every queue served by one
//! pool of fully cross-skilled agents at the default targets — is reported beside it: when the
//! queues share those targets, it is the lower bound that multi-skilling can approach.

use crate::erlang::{evaluate, required_agents, QueueModel, Staffing, StaffingError, Workload};
use crate::targets::{Shrinkage, StaffingTargets, TargetError};
use chrono::{DateTime, Datelike, FixedOffset, NaiveTime, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum RequirementsError {
    #[error("{file}:{line}: `{field}`: {message}")]
    Input { file: String, line: u64, field: String, message: String },
    #[error("{file}: {message}")]
    File { file: String, message: String },
    #[error("{0}")]
    Target(#[from] TargetError),
}

/// The staffing goal of one interval, once the defaults and overrides are merged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntervalGoal {
    pub targets: StaffingTargets,
    pub model: QueueModel,
    pub shrinkage: Shrinkage,
}

/// Settings that a targets file may override; `None` keeps the level below.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GoalOverrides {
    pub sl_target: Option<f64>,
    pub threshold_s: Option<f64>,
    pub asa_target_s: Option<f64>,
    pub max_occupancy: Option<f64>,
    pub shrinkage: Option<f64>,
    pub model: Option<ModelName>,
    pub patience_s: Option<f64>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ModelName {
    ErlangC,
    ErlangA,
}

impl GoalOverrides {
    fn over(&self, base: &GoalOverrides) -> GoalOverrides {
        GoalOverrides {
            sl_target: self.sl_target.or(base.sl_target),
            threshold_s: self.threshold_s.or(base.threshold_s),
            asa_target_s: self.asa_target_s.or(base.asa_target_s),
            max_occupancy: self.max_occupancy.or(base.max_occupancy),
            shrinkage: self.shrinkage.or(base.shrinkage),
            model: self.model.or(base.model),
            patience_s: self.patience_s.or(base.patience_s),
        }
    }

    /// Parses the merged settings into a goal.
    pub fn goal(&self) -> Result<IntervalGoal, TargetError> {
        let targets = StaffingTargets::new(self.sl_target, self.threshold_s.unwrap_or(20.0), self.asa_target_s, self.max_occupancy)?;
        let model = match (self.model.unwrap_or(ModelName::ErlangC), self.patience_s) {
            (ModelName::ErlangC, _) => QueueModel::ErlangC,
            (ModelName::ErlangA, Some(p)) => QueueModel::erlang_a(p)?,
            (ModelName::ErlangA, None) => return Err(TargetError::new("patience_s", "Erlang A needs the callers' mean patience")),
        };
        Ok(IntervalGoal { targets, model, shrinkage: Shrinkage::new(self.shrinkage.unwrap_or(0.0))? })
    }
}

/// A targets file: defaults, per-queue settings, and time windows (later windows win).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetsFile {
    #[serde(default)]
    pub default: GoalOverrides,
    #[serde(default)]
    pub queues: BTreeMap<String, GoalOverrides>,
    #[serde(default)]
    pub windows: Vec<Window>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// All queues when absent.
    pub queue: Option<String>,
    /// Every day when absent: "mon" … "sun".
    pub days: Option<Vec<String>>,
    /// Local wall-clock times of the interval start, `from` inclusive, `to` exclusive.
    pub from: String,
    pub to: String,
    #[serde(flatten)]
    pub goal: GoalOverrides,
}

struct ParsedWindow {
    queue: Option<String>,
    days: Option<Vec<Weekday>>,
    from: NaiveTime,
    to: NaiveTime,
    goal: GoalOverrides,
}

/// Every goal a forecast row can have, resolved once per (queue, window set) and cached.
pub struct Goals {
    base: GoalOverrides,
    queues: BTreeMap<String, GoalOverrides>,
    windows: Vec<ParsedWindow>,
    cache: HashMap<(String, Vec<usize>), IntervalGoal>,
}

impl Goals {
    /// `cli` holds the command-line settings; `file` overrides them.
    pub fn new(cli: GoalOverrides, file: Option<(&Path, TargetsFile)>) -> Result<Self, RequirementsError> {
        let Some((path, file)) = file else {
            cli.goal()?;
            return Ok(Self { base: cli, queues: BTreeMap::new(), windows: Vec::new(), cache: HashMap::new() });
        };
        let bad = |field: String, message: String| RequirementsError::File { file: path.display().to_string(), message: format!("`{field}`: {message}") };
        let base = file.default.over(&cli);
        base.goal().map_err(|e| bad(format!("default.{}", e.field), e.message))?;
        for (queue, o) in &file.queues {
            o.over(&base).goal().map_err(|e| bad(format!("queues.{queue}.{}", e.field), e.message))?;
        }
        let mut windows = Vec::new();
        for (i, w) in file.windows.into_iter().enumerate() {
            let time = |field: &str, s: &str| {
                NaiveTime::parse_from_str(s, "%H:%M").map_err(|_| bad(format!("windows[{i}].{field}"), format!("{s:?} is not a time HH:MM")))
            };
            let (from, to) = (time("from", &w.from)?, time("to", &w.to)?);
            if from == to {
                return Err(bad(format!("windows[{i}].to"), "equals `from`: the window would be empty".into()));
            }
            let days = w
                .days
                .map(|days| {
                    days.iter()
                        .map(|d| d.parse::<Weekday>().map_err(|_| bad(format!("windows[{i}].days"), format!("{d:?} is not a day (mon … sun)"))))
                        .collect::<Result<Vec<_>, _>>()
                })
                .transpose()?;
            let queue_base = w.queue.as_ref().and_then(|q| file.queues.get(q)).map_or(base.clone(), |q| q.over(&base));
            w.goal.over(&queue_base).goal().map_err(|e| bad(format!("windows[{i}].{}", e.field), e.message))?;
            windows.push(ParsedWindow { queue: w.queue, days, from, to, goal: w.goal });
        }
        Ok(Self { base, queues: file.queues, windows, cache: HashMap::new() })
    }

    pub fn parse_file(path: &Path) -> Result<TargetsFile, RequirementsError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| RequirementsError::File { file: file.clone(), message: e.to_string() })?;
        toml::from_str(&text).map_err(|e| RequirementsError::File { file, message: e.to_string() })
    }

    fn for_interval(&mut self, queue: &str, start: &DateTime<FixedOffset>) -> Result<IntervalGoal, TargetError> {
        let (day, time) = (start.weekday(), start.time());
        let matching: Vec<usize> = self
            .windows
            .iter()
            .enumerate()
            .filter(|(_, w)| {
                w.queue.as_deref().is_none_or(|q| q == queue)
                    && w.days.as_ref().is_none_or(|d| d.contains(&day))
                    && if w.from <= w.to { w.from <= time && time < w.to } else { time >= w.from || time < w.to }
            })
            .map(|(i, _)| i)
            .collect();
        let key = (queue.to_owned(), matching);
        if let Some(goal) = self.cache.get(&key) {
            return Ok(*goal);
        }
        let mut merged = self.queues.get(queue).map_or(self.base.clone(), |q| q.over(&self.base));
        for &i in &key.1 {
            merged = self.windows[i].goal.over(&merged);
        }
        let goal = merged.goal()?;
        self.cache.insert(key, goal);
        Ok(goal)
    }
}

/// One row of a forecast file.
#[derive(Debug, Clone, PartialEq)]
pub struct ForecastRow {
    /// Line in the forecast file, for error messages.
    pub line: u64,
    pub queue: String,
    pub interval_start: String,
    pub start: DateTime<FixedOffset>,
    pub interval_s: f64,
    pub calls: f64,
    pub aht_s: f64,
}

/// Reads `queue, interval_start, calls, aht_s` (and `interval_end` if present; else every
/// interval is `default_interval_s` long). Other columns, such as prediction intervals, are
/// ignored.
pub fn read_forecast(name: &str, input: impl Read, default_interval_s: f64) -> Result<Vec<ForecastRow>, RequirementsError> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(input);
    let file = || name.to_owned();
    let headers = reader.headers().map_err(|e| RequirementsError::File { file: file(), message: e.to_string() })?.clone();
    let column = |field: &str| headers.iter().position(|h| h == field);
    let required = |field: &str| {
        column(field).ok_or_else(|| RequirementsError::Input { file: file(), line: 1, field: field.to_owned(), message: "missing column".into() })
    };
    let (queue, start, calls, aht) = (required("queue")?, required("interval_start")?, required("calls")?, required("aht_s")?);
    let end = column("interval_end");
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| RequirementsError::File { file: file(), message: e.to_string() })?;
        let line = record.position().map_or(0, |p| p.line());
        let bad = |field: &str, message: String| RequirementsError::Input { file: file(), line, field: field.to_owned(), message };
        let time = |field: &str, i: usize| {
            DateTime::parse_from_rfc3339(&record[i]).map_err(|_| bad(field, format!("{:?} is not an RFC 3339 time with offset", &record[i])))
        };
        let number = |field: &str, i: usize| {
            record[i].parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0).ok_or_else(|| bad(field, format!("{:?} is not a number ≥ 0", &record[i])))
        };
        let queue_name = record[queue].to_owned();
        if queue_name.is_empty() {
            return Err(bad("queue", "empty".into()));
        }
        let begins = time("interval_start", start)?;
        let interval_s = match end {
            Some(i) => {
                let ends = time("interval_end", i)?;
                let s = (ends - begins).num_milliseconds() as f64 / 1000.0;
                if s <= 0.0 {
                    return Err(bad("interval_end", "not after interval_start".into()));
                }
                s
            }
            None => default_interval_s,
        };
        let (calls, aht_s) = (number("calls", calls)?, number("aht_s", aht)?);
        if aht_s == 0.0 && calls > 0.0 {
            return Err(bad("aht_s", "0 for an interval with calls".into()));
        }
        rows.push(ForecastRow { line, queue: queue_name, interval_start: record[start].to_owned(), start: begins, interval_s, calls, aht_s });
    }
    if rows.is_empty() {
        return Err(RequirementsError::File { file: file(), message: "no forecast rows".into() });
    }
    Ok(rows)
}

/// Required staff of one queue in one interval.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Requirement {
    pub queue: String,
    pub interval_start: String,
    pub calls: f64,
    pub aht_s: f64,
    pub traffic_erlangs: f64,
    pub agents: u32,
    pub agents_with_shrinkage: u32,
    pub model: &'static str,
    pub sl_target: Option<f64>,
    pub threshold_s: f64,
    pub service_level: f64,
    pub asa_s: Option<f64>,
    pub occupancy: f64,
    pub probability_of_abandoning: Option<f64>,
}

/// Per interval: the sum of the queues' own requirements and what one fully cross-skilled pool
/// would need (the default model and targets on the summed load; `None` when the summed load is
/// beyond the model's range).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PooledCheck {
    pub interval_start: String,
    pub per_queue_agents: u32,
    pub pooled_agents: Option<u32>,
}

pub struct Staffed {
    pub rows: Vec<Requirement>,
    pub pooled: Vec<PooledCheck>,
}

/// Staffs every row of the forecast file `file`. `smooth` > 1 replaces each queue's curve by its
/// centred moving average over that many intervals, rounded up, and re-evaluates the service
/// level at the smoothed staffing.
pub fn staff(file: &str, rows: &[ForecastRow], goals: &mut Goals, smooth: usize) -> Result<Staffed, RequirementsError> {
    let mut out = Vec::with_capacity(rows.len());
    let mut workloads = Vec::with_capacity(rows.len());
    for row in rows {
        let at_row = |field: &str, message: String| RequirementsError::Input { file: file.into(), line: row.line, field: field.into(), message };
        let goal = goals.for_interval(&row.queue, &row.start).map_err(|e| at_row(e.field, e.message))?;
        // An interval without calls may have no handle time; any positive one gives 0 agents.
        let aht_s = if row.calls == 0.0 && row.aht_s == 0.0 { 1.0 } else { row.aht_s };
        let workload = Workload::new(row.calls, row.interval_s, aht_s).map_err(|e| at_row(e.field, e.message))?;
        let staffing = required_agents(goal.model, &workload, &goal.targets).map_err(|e: StaffingError| at_row("calls", e.to_string()))?;
        out.push(requirement(row, &goal, &staffing));
        workloads.push((workload, goal));
    }
    if smooth > 1 {
        smooth_curves(file, rows, &workloads, &mut out, smooth)?;
    }
    let pooled = pooled_check(rows, &out, goals)?;
    Ok(Staffed { rows: out, pooled })
}

fn requirement(row: &ForecastRow, goal: &IntervalGoal, s: &Staffing) -> Requirement {
    Requirement {
        queue: row.queue.clone(),
        interval_start: row.interval_start.clone(),
        calls: row.calls,
        aht_s: row.aht_s,
        traffic_erlangs: s.traffic_erlangs,
        agents: s.agents,
        agents_with_shrinkage: goal.shrinkage.apply(s.agents),
        model: s.model,
        sl_target: goal.targets.service_level.map(|f| f.get()),
        threshold_s: goal.targets.threshold_s,
        service_level: s.service_level,
        asa_s: s.asa_s,
        occupancy: s.occupancy,
        probability_of_abandoning: s.probability_of_abandoning,
    }
}

fn smooth_curves(
    file: &str,
    rows: &[ForecastRow],
    workloads: &[(Workload, IntervalGoal)],
    out: &mut [Requirement],
    width: usize,
) -> Result<(), RequirementsError> {
    let mut by_queue: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        by_queue.entry(&r.queue).or_default().push(i);
    }
    // A window of exactly `width` intervals: as many before as after, one more after if even.
    let (before, after) = ((width - 1) / 2, width / 2);
    for indices in by_queue.values_mut() {
        indices.sort_by_key(|&i| rows[i].start);
        let raw: Vec<u32> = indices.iter().map(|&i| out[i].agents).collect();
        for (k, &i) in indices.iter().enumerate() {
            let window = &raw[k.saturating_sub(before)..(k + after + 1).min(raw.len())];
            let mean = window.iter().map(|&a| u64::from(a)).sum::<u64>().div_ceil(window.len() as u64) as u32;
            let (workload, goal) = &workloads[i];
            let s = evaluate(goal.model, workload, mean, goal.targets.threshold_s).map_err(|e| RequirementsError::Input {
                file: file.into(),
                line: rows[i].line,
                field: "calls".into(),
                message: e.to_string(),
            })?;
            out[i] = requirement(&rows[i], goal, &s);
        }
    }
    Ok(())
}

/// The summed load of one interval, over all queues.
struct IntervalLoad {
    interval_start: String,
    interval_s: f64,
    calls: f64,
    work_s: f64,
    per_queue_agents: u32,
}

fn pooled_check(rows: &[ForecastRow], out: &[Requirement], goals: &Goals) -> Result<Vec<PooledCheck>, RequirementsError> {
    let default = goals.base.goal()?;
    let mut by_interval: BTreeMap<DateTime<FixedOffset>, IntervalLoad> = BTreeMap::new();
    for (row, req) in rows.iter().zip(out) {
        let e = by_interval.entry(row.start).or_insert_with(|| IntervalLoad {
            interval_start: row.interval_start.clone(),
            interval_s: row.interval_s,
            calls: 0.0,
            work_s: 0.0,
            per_queue_agents: 0,
        });
        e.calls += row.calls;
        e.work_s += row.calls * row.aht_s;
        e.per_queue_agents += req.agents;
    }
    Ok(by_interval
        .into_values()
        .map(|l| {
            let aht = if l.calls > 0.0 { l.work_s / l.calls } else { 1.0 };
            // A summed load beyond the models' range has no pooled figure; the rows stand.
            let pooled = Workload::new(l.calls, l.interval_s, aht)
                .ok()
                .and_then(|w| required_agents(default.model, &w, &default.targets).ok())
                .map(|s| s.agents);
            PooledCheck { interval_start: l.interval_start, per_queue_agents: l.per_queue_agents, pooled_agents: pooled }
        })
        .collect())
}

#[cfg(test)]
mod tests;
