//! Plans run from the planner's page: a period forecast from the tenant's history, staffed and
//! scheduled (`wfm_planning::pipeline::plan`) in a thread of its own, one at a time per tenant,
//! its progress readable meanwhile. The finished plan is a draft: its files are written to
//! `DATA/tenants/T/plan/` (`forecast.csv`, `requirements.csv`, `roster.csv`), and publishing
//! it makes the roster the next version and its requirement the tenant's for those days.

use crate::adherence::publish_roster;
use crate::auth::Signed;
use crate::requests::{conflict, TenantFiles};
use crate::{internal, ApiError, AppState};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use wfm_ops::now_ms;
use wfm_planning::pipeline::{merge_requirements, plan, Period, Planned, Step};
use wfm_planning::report::PlanningError;
use wfm_scheduler::roster::Roster;

pub enum RunState {
    Running(Step),
    Failed(String),
    Done { planned: Box<Planned>, published: Option<i64> },
}

/// The tenant's latest plan.
pub struct Run {
    pub by: String,
    pub from: chrono::NaiveDate,
    pub weeks: u32,
    pub started_ms: i64,
    pub finished_ms: Option<i64>,
    pub state: RunState,
    /// A planner's publication of the draft is under way: a second one is refused.
    publishing: bool,
}

/// Each tenant's latest plan. A draft lives until the next plan or a restart; its files stay.
#[derive(Default)]
pub struct Plans(Mutex<HashMap<String, Run>>);

impl Plans {
    pub fn lock(&self) -> MutexGuard<'_, HashMap<String, Run>> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Starts planning `period` for the tenant; with `reschedule`, against the newest published
/// roster. A 409 while one runs, or when the agents or rules file is missing.
pub async fn start(state: &AppState, signed: &Signed, period: Period, reschedule: bool) -> Result<(), ApiError> {
    period.check().map_err(|e| match &e {
        PlanningError::Invalid { field, .. } => ApiError::bad_request(field, e),
        _ => internal(e),
    })?;
    let tenant = period.tenant.as_str().to_owned();
    let (agents, rules) = TenantFiles::agents_and_rules(state, &tenant)?;
    let baseline = match reschedule {
        true => {
            let (version, text) = state.db.roster(&tenant, None).await?.ok_or_else(|| conflict("no published roster to re-schedule from: plan without it"))?;
            Some(Roster::read_csv(&format!("published roster version {}", version.version), text.as_bytes()).map_err(internal)?)
        }
        false => None,
    };
    {
        let mut runs = state.plans.lock();
        if runs.get(&tenant).is_some_and(|r| matches!(r.state, RunState::Running(_))) {
            return Err(conflict("a plan is running for this tenant: wait for it to finish"));
        }
        runs.insert(tenant.clone(), Run { by: signed.actor(), from: period.from, weeks: period.weeks, started_ms: now_ms(), finished_ms: None, state: RunState::Running(Step::Forecast), publishing: false });
    }
    let detail = format!("from {} for {} weeks{}", period.from, period.weeks, if reschedule { ", re-scheduling the published roster" } else { "" });
    state.db.audit(&signed.audit(&tenant, "plan.start", "plan", &detail)).await?;
    let (plans, store, dir) = (state.plans.clone(), state.store.clone(), state.data.join("tenants").join(&tenant).join("plan"));
    tokio::task::spawn_blocking(move || {
        let set = |state: RunState| {
            if let Some(run) = plans.lock().get_mut(&tenant) {
                if !matches!(state, RunState::Running(_)) {
                    run.finished_ms = Some(now_ms());
                }
                run.state = state;
            }
        };
        // A fault in the planner ends this run, never the tenant's next ones.
        let planned = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| plan(&store, &period, &agents, &rules, baseline.as_ref(), &mut |step| set(RunState::Running(step)))));
        let outcome = match planned {
            Ok(planned) => planned.map_err(|e| e.to_string()).and_then(|planned| {
                write_files(&dir, &planned).map_err(|e| format!("{}: {e}", dir.display()))?;
                Ok(planned)
            }),
            Err(_) => Err("the planner stopped on an internal error (logged); the inputs are unchanged".to_owned()),
        };
        match outcome {
            Ok(planned) => set(RunState::Done { planned: Box::new(planned), published: None }),
            Err(e) => set(RunState::Failed(e)),
        }
    });
    Ok(())
}

fn write_files(dir: &std::path::Path, planned: &Planned) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, text) in [("forecast.csv", &planned.forecast_csv), ("requirements.csv", &planned.requirements_csv), ("roster.csv", &planned.roster_csv)] {
        write_atomically(&dir.join(name), text)?;
    }
    Ok(())
}

/// Written whole or not at all: a reader never sees half a file.
fn write_atomically(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    let partial = path.with_extension("partial");
    std::fs::write(&partial, text)?;
    std::fs::rename(&partial, path)
}

/// Publishes the tenant's finished draft: its roster as the next version, its requirement
/// merged into the tenant's for its days. Answers the version.
pub async fn publish(state: &AppState, signed: &Signed, tenant: &str) -> Result<i64, ApiError> {
    let (roster_csv, requirements_csv, from, weeks) = {
        let mut runs = state.plans.lock();
        let run = runs.get_mut(tenant).ok_or_else(|| conflict("no finished plan to publish: make one first"))?;
        let texts = match &run.state {
            _ if run.publishing => return Err(conflict("this plan is being published")),
            RunState::Done { planned, published: None } => (planned.roster_csv.clone(), planned.requirements_csv.clone(), run.from, run.weeks),
            RunState::Done { published: Some(v), .. } => return Err(conflict(format!("this plan is already published as version {v}"))),
            RunState::Running(_) => return Err(conflict("the plan is still running")),
            RunState::Failed(_) => return Err(conflict("the plan failed: nothing to publish")),
        };
        run.publishing = true;
        texts
    };
    let published = publish_roster(state, signed, tenant, ("plan", "the plan's roster.csv"), &roster_csv).await;
    let done = |version: Option<i64>| {
        if let Some(run) = state.plans.lock().get_mut(tenant) {
            run.publishing = false;
            if let (RunState::Done { published, .. }, Some(v)) = (&mut run.state, version) {
                *published = Some(v);
            }
        }
    };
    let version = published.inspect_err(|_| done(None))?;
    done(Some(version.version));
    let path = TenantFiles::requirements_path(state, tenant);
    let old = std::fs::read_to_string(&path).unwrap_or_default();
    let until = from + chrono::Duration::days(7 * i64::from(weeks));
    write_atomically(&path, &merge_requirements(&old, &requirements_csv, from, until)).map_err(|e| internal(format!("{}: {e}", path.display())))?;
    Ok(version.version)
}
