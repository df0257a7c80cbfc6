//! Agent statistics per interval: time in each state, calls handled, occupancy, and the login
//! edges that adherence compares with the roster.

use super::{fold_files, ratio, IntervalLabels, StatsError, StatsQuery};
use crate::frames::{call_columns as call, state_columns as st, ColumnReader};
use crate::{read_parquet, Dataset, Store, StoreError};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use wfm_model::{AgentState, IntervalGrid};

/// One agent in one interval. Times are seconds of the interval spent in each state; a period
/// crossing interval edges is split between them.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AgentIntervalStats<Reasons = BTreeMap<String, f64>> {
    pub tenant: Arc<str>,
    pub agent_id: Arc<str>,
    pub interval_start: Arc<str>,
    pub interval_end: Arc<str>,
    /// Time in any state but logged-out.
    pub logged_in_s: f64,
    pub ready_s: f64,
    pub not_ready_s: f64,
    /// Not-ready time by reason code (`unspecified` when none was given).
    pub not_ready_by_reason: Reasons,
    pub ringing_s: f64,
    pub on_call_s: f64,
    pub wrap_up_s: f64,
    /// Calls this agent answered that were answered in this interval.
    pub calls_handled: u64,
    /// Talk, hold and wrap-up of those calls, from the call records.
    pub talk_s: f64,
    pub hold_s: f64,
    pub wrap_s: f64,
    /// Handling / (handling + ready), handling being ringing + on-call + wrap-up state time.
    pub occupancy: Option<f64>,
    /// Adherence inputs: first and last logged-in instant inside the interval.
    pub first_logged_in: Option<String>,
    pub last_logged_in: Option<String>,
}

impl AgentIntervalStats {
    /// The CSV form: not-ready time per reason as `reason=seconds;…`.
    pub fn csv_row(&self) -> AgentIntervalStats<String> {
        let reasons = self.not_ready_by_reason.iter().map(|(r, s)| format!("{r}={s}")).collect::<Vec<_>>().join(";");
        AgentIntervalStats {
            tenant: self.tenant.clone(),
            agent_id: self.agent_id.clone(),
            interval_start: self.interval_start.clone(),
            interval_end: self.interval_end.clone(),
            logged_in_s: self.logged_in_s,
            ready_s: self.ready_s,
            not_ready_s: self.not_ready_s,
            not_ready_by_reason: reasons,
            ringing_s: self.ringing_s,
            on_call_s: self.on_call_s,
            wrap_up_s: self.wrap_up_s,
            calls_handled: self.calls_handled,
            talk_s: self.talk_s,
            hold_s: self.hold_s,
            wrap_s: self.wrap_s,
            occupancy: self.occupancy,
            first_logged_in: self.first_logged_in.clone(),
            last_logged_in: self.last_logged_in.clone(),
        }
    }
}

#[derive(Debug, Default, Clone)]
struct Acc {
    by_state_ms: [i64; 6],
    not_ready_by_reason_ms: BTreeMap<String, i64>,
    calls_handled: u64,
    talk_ms: i64,
    hold_ms: i64,
    wrap_ms: i64,
    first_logged_in_ms: Option<i64>,
    last_logged_in_ms: Option<i64>,
}

impl Acc {
    fn merge(&mut self, o: &Acc) {
        for (a, b) in self.by_state_ms.iter_mut().zip(o.by_state_ms) {
            *a += b;
        }
        for (reason, ms) in &o.not_ready_by_reason_ms {
            *self.not_ready_by_reason_ms.entry(reason.clone()).or_default() += ms;
        }
        self.calls_handled += o.calls_handled;
        self.talk_ms += o.talk_ms;
        self.hold_ms += o.hold_ms;
        self.wrap_ms += o.wrap_ms;
        self.first_logged_in_ms = min_opt(self.first_logged_in_ms, o.first_logged_in_ms);
        self.last_logged_in_ms = self.last_logged_in_ms.max(o.last_logged_in_ms);
    }
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn state_slot(state: AgentState) -> usize {
    AgentState::ALL.iter().position(|s| *s == state).expect("every state is in ALL")
}

type AgentAccs = HashMap<String, Vec<Acc>>;

fn slots<'a>(accs: &'a mut AgentAccs, agent: &str, grid: &IntervalGrid) -> &'a mut Vec<Acc> {
    if !accs.contains_key(agent) {
        accs.insert(agent.to_owned(), vec![Acc::default(); grid.len()]);
    }
    accs.get_mut(agent).expect("inserted above")
}

/// Statistics per agent and interval; every interval appears for every agent with a state
/// period or an answered call in the range. `query.queue` is ignored.
pub fn agent_stats(store: &Store, query: &StatsQuery) -> Result<Vec<AgentIntervalStats>, StatsError> {
    let zone = store.tenant_zone(&query.tenant)?;
    let grid = IntervalGrid::new(zone, query.range, query.interval);
    let state_files = store.files_for(Dataset::AgentStates, &query.tenant, query.range)?;
    let call_files = store.files_for(Dataset::Calls, &query.tenant, query.range)?;
    let files: Vec<(Dataset, PathBuf)> = state_files
        .into_iter()
        .map(|p| (Dataset::AgentStates, p))
        .chain(call_files.into_iter().map(|p| (Dataset::Calls, p)))
        .collect();
    let partials = fold_files(&files, AgentAccs::new, |accs, (dataset, path)| match dataset {
        Dataset::AgentStates => fold_states(accs, path, &grid),
        Dataset::Calls => fold_calls(accs, path, &grid),
    })?;
    let mut merged = AgentAccs::new();
    for part in partials {
        for (agent, accs) in part {
            match merged.get_mut(&agent) {
                Some(into) => into.iter_mut().zip(&accs).for_each(|(a, b)| a.merge(b)),
                None => {
                    merged.insert(agent, accs);
                }
            }
        }
    }
    let mut agents: Vec<&String> = merged.keys().collect();
    agents.sort();
    let tenant: Arc<str> = query.tenant.as_str().into();
    let labels = IntervalLabels::new(&grid);
    let mut rows = Vec::with_capacity(agents.len() * grid.len());
    for agent in agents {
        let name: Arc<str> = agent.as_str().into();
        for (i, acc) in merged[agent].iter().enumerate() {
            rows.push(finish(&tenant, &name, &grid, &labels, i, acc));
        }
    }
    Ok(rows)
}

fn fold_states(accs: &mut AgentAccs, path: &PathBuf, grid: &IntervalGrid) -> Result<(), StoreError> {
    let df = read_parquet(path, Some(&[st::AGENT_ID, st::STATE, st::REASON, st::STARTED_AT, st::ENDED_AT]))?;
    let r = ColumnReader { df: &df, path };
    let (agent, state, reason) = (r.text(st::AGENT_ID)?, r.text(st::STATE)?, r.text(st::REASON)?);
    let (started, ended) = (r.timestamp_ms(st::STARTED_AT)?, r.timestamp_ms(st::ENDED_AT)?);
    let rows = agent.iter().zip(state.iter()).zip(reason.iter()).zip(started.iter()).zip(ended.iter());
    for ((((agent, state), reason), started), ended) in rows {
        let (Some(agent), Some(state), Some(started), Some(ended)) = (agent, state, started, ended) else { continue };
        let state = AgentState::parse(state).map_err(|e| StoreError::Corrupt { path: path.clone(), message: e.to_string() })?;
        if state == AgentState::LoggedOut {
            continue;
        }
        let (span_start, span_end) = grid.span_ms();
        if ended <= started || ended <= span_start || started >= span_end {
            continue;
        }
        let slots = slots(accs, agent, grid);
        grid.for_each_overlap(started, ended, |i, overlap| {
            let acc = &mut slots[i];
            acc.by_state_ms[state_slot(state)] += overlap;
            if state == AgentState::NotReady {
                *acc.not_ready_by_reason_ms.entry(reason.unwrap_or("unspecified").to_owned()).or_default() += overlap;
            }
            acc.first_logged_in_ms = min_opt(acc.first_logged_in_ms, Some(started.max(grid.start_ms(i))));
            acc.last_logged_in_ms = acc.last_logged_in_ms.max(Some(ended.min(grid.end_ms(i))));
        });
    }
    Ok(())
}

fn fold_calls(accs: &mut AgentAccs, path: &PathBuf, grid: &IntervalGrid) -> Result<(), StoreError> {
    let df = read_parquet(path, Some(&[call::AGENT_ID, call::ANSWERED_AT, call::TALK_MS, call::HOLD_MS, call::WRAP_MS]))?;
    let r = ColumnReader { df: &df, path };
    let (agent, answered) = (r.text(call::AGENT_ID)?, r.timestamp_ms(call::ANSWERED_AT)?);
    let (talk, hold, wrap) = (r.int64(call::TALK_MS)?, r.int64(call::HOLD_MS)?, r.int64(call::WRAP_MS)?);
    let rows = agent.iter().zip(answered.iter()).zip(talk.iter()).zip(hold.iter()).zip(wrap.iter());
    for ((((agent, answered), talk), hold), wrap) in rows {
        let (Some(agent), Some(answered)) = (agent, answered) else { continue };
        let Some(i) = grid.index_of(answered) else { continue };
        let acc = &mut slots(accs, agent, grid)[i];
        acc.calls_handled += 1;
        acc.talk_ms += talk.unwrap_or(0);
        acc.hold_ms += hold.unwrap_or(0);
        acc.wrap_ms += wrap.unwrap_or(0);
    }
    Ok(())
}

fn finish(tenant: &Arc<str>, agent: &Arc<str>, grid: &IntervalGrid, labels: &IntervalLabels, i: usize, a: &Acc) -> AgentIntervalStats {
    let zone = grid.zone();
    let s = |ms: i64| ms as f64 / 1000.0;
    let time = |state| a.by_state_ms[state_slot(state)];
    let handling = time(AgentState::Ringing) + time(AgentState::OnCall) + time(AgentState::WrapUp);
    let ready = time(AgentState::Ready);
    let logged_in: i64 = a.by_state_ms.iter().sum::<i64>() - time(AgentState::LoggedOut);
    let format = |ms: Option<i64>| ms.and_then(chrono::DateTime::from_timestamp_millis).map(|t| zone.format_local(t));
    AgentIntervalStats {
        tenant: tenant.clone(),
        agent_id: agent.clone(),
        interval_start: labels.starts[i].clone(),
        interval_end: labels.starts[i + 1].clone(),
        logged_in_s: s(logged_in),
        ready_s: s(ready),
        not_ready_s: s(time(AgentState::NotReady)),
        not_ready_by_reason: a.not_ready_by_reason_ms.iter().map(|(r, ms)| (r.clone(), s(*ms))).collect(),
        ringing_s: s(time(AgentState::Ringing)),
        on_call_s: s(time(AgentState::OnCall)),
        wrap_up_s: s(time(AgentState::WrapUp)),
        calls_handled: a.calls_handled,
        talk_s: s(a.talk_ms),
        hold_s: s(a.hold_ms),
        wrap_s: s(a.wrap_ms),
        occupancy: ratio(handling as u64, (handling + ready) as u64),
        first_logged_in: format(a.first_logged_in_ms),
        last_logged_in: format(a.last_logged_in_ms),
    }
}
