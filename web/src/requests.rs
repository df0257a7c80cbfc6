//! Agents' requests to change their schedule (a day of leave, a swap of the day with a
//! colleague), over HTTP and for the pages: checked by the scheduler (`scheduler::changes`:
//! `check_leave`, `check_swap` and the coverage it costs) against the newest published roster and the
//! tenant's `DATA/tenants/T/agents.csv`, `rules.toml` and `requirements.csv` (`wfm staff`'s),
//! decided by the approval chain of `DATA/tenants/T/requests.toml` (`wfm_ops::requests`), and,
//! once approved, written as a new published roster version. Everything is audited, and each
//! change goes on the tenant's event stream (`type: request`) for the agent's page.

use crate::auth::Signed;
use crate::delivery::Letter;
use crate::supervision::{lock, now_ms};
use crate::{body, internal, ApiError, AppState};
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::NaiveDate;
use serde::Deserialize;
use std::path::Path as FsPath;
use wfm_model::AgentId;
use wfm_ops::requests::{clash, ApprovalChains, ChangeRequest, Clash, RequestKind, RequestState, Step};
use wfm_ops::rosters::Publication;
use wfm_ops::Role;
use wfm_scheduler::agents::Agent;
use wfm_scheduler::changes::{added_shortfalls, apply_leave, check_leave, check_swap, extra_shift, understaffed, with_shift, ChangeError, GapOffer, LeaveCheck, Shortfall, Verdict};
use wfm_scheduler::demand::{Column, Demand};
use wfm_scheduler::roster::Roster;
use wfm_scheduler::roster::Activity;
use wfm_scheduler::rules::{ClockTime, Rules};

/// At most this many requests in one listing.
const MAX_LISTED: u32 = 500;

/// A swap as the scheduler judges it.
pub struct SwapCheck {
    pub passed: bool,
    pub swapped: Roster,
    pub verdict: Verdict,
    /// Intervals the exchange leaves with fewer agents than required and than before.
    pub shortfalls: Vec<Shortfall>,
    pub reasons: Vec<Reason>,
}

/// An extra shift as the scheduler offers it.
pub struct OvertimeCheck {
    pub passed: bool,
    /// The shift and its offer, when one fits the agent's rules and day.
    pub shift: Option<(Vec<Activity>, GapOffer)>,
    /// Intervals of the shift's work that are short of agents now.
    pub helps: usize,
    pub reasons: Vec<Reason>,
}

/// Why a check does not pass. The API says it in English (its `reasons`); the pages in the
/// user's language.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    /// A hard rule or a skill, as the scheduler's checker words it.
    Rule(String),
    /// Intervals the change leaves with fewer agents than required.
    ShortIntervals(usize),
    LeaveTaken { taken: u32, allowed: u32 },
    NoOvertimeShift { from: ClockTime, to: ClockTime },
    OvertimeNotNeeded,
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Rule(rule) => f.write_str(rule),
            Self::ShortIntervals(n) => write!(f, "{n} intervals would have fewer agents than required for the service-level target"),
            Self::LeaveTaken { taken, allowed } => write!(f, "{taken} of {allowed} days of leave already taken"),
            Self::NoOvertimeShift { from, to } => write!(f, "no shift covering {from}–{to} fits: free that day, inside the team's window, within every rule"),
            Self::OvertimeNotNeeded => f.write_str("no interval of the shift is short of agents"),
        }
    }
}

/// What a request asks to change, parsed from its fields.
pub enum Change {
    Leave,
    Swap(AgentId),
    /// Local `HH:MM` from and to.
    Overtime(ClockTime, ClockTime),
}

impl Change {
    /// From a request's `kind`, `with` (swaps: required) and `from`–`to` (overtime: required);
    /// a field a kind does not take is refused.
    pub fn parse(kind: RequestKind, with: Option<&str>, span: Option<(&str, &str)>) -> Result<Self, ApiError> {
        let with = with.filter(|w| !w.is_empty());
        let span = span.filter(|(from, to)| !from.is_empty() || !to.is_empty());
        match (kind, with, span) {
            (RequestKind::Leave, None, None) => Ok(Self::Leave),
            (RequestKind::Swap, Some(with), None) => Ok(Self::Swap(agent_id("with", with)?)),
            (RequestKind::Swap, None, _) => Err(ApiError::bad_request("with", "required: the colleague to swap with")),
            (RequestKind::Overtime, None, Some((from, to))) => {
                let clock = |field: &'static str, v: &str| ClockTime::parse(v).ok_or_else(|| ApiError::bad_request(field, format!("{v:?} is not a time HH:MM")));
                let (from, to) = (clock("from", from)?, clock("to", to)?);
                if to <= from {
                    return Err(ApiError::bad_request("to", format!("{to} is not after {from}")));
                }
                Ok(Self::Overtime(from, to))
            }
            (RequestKind::Overtime, None, None) => Err(ApiError::bad_request("from", "required: the span of overtime, from and to (HH:MM)")),
            (_, Some(_), _) => Err(ApiError::bad_request("with", "only a swap is with a colleague")),
            (_, None, Some(_)) => Err(ApiError::bad_request("from", "only overtime has a span")),
        }
    }

    pub fn of(request: &ChangeRequest) -> Result<Self, ApiError> {
        Self::parse(request.kind, request.with.as_deref(), request.span.as_ref().map(|(f, t)| (f.as_str(), t.as_str())))
    }

    fn kind(&self) -> RequestKind {
        match self {
            Self::Leave => RequestKind::Leave,
            Self::Swap(_) => RequestKind::Swap,
            Self::Overtime(..) => RequestKind::Overtime,
        }
    }

    fn with(&self) -> Option<&AgentId> {
        match self {
            Self::Swap(with) => Some(with),
            _ => None,
        }
    }
}

/// What a request is judged against: the newest published roster and the tenant's planning files.
pub struct Planning {
    pub version: i64,
    pub roster: Roster,
    pub agents: Vec<Agent>,
    rules: Rules,
    demand: Demand,
    /// The requirements file (name, text): its calls and handle times price a change's
    /// service level with Erlang C.
    requirements: (String, String),
    /// The tenant's service-level threshold (`kpis.toml`), seconds.
    threshold_s: f64,
}

/// What a change does to the projected service level of its day: Erlang C on the requirement's
/// calls and handle time with the agents at work allocated by skill, before and after
/// (`wfm_planning::report`, as `wfm check-roster` projects it).
#[derive(Debug, Clone, serde::Serialize)]
pub struct ServiceLevelImpact {
    pub threshold_s: f64,
    /// The day's calls answered within the threshold over its calls offered.
    pub day_before: Option<f64>,
    pub day_after: Option<f64>,
    /// The intervals whose agents at work change.
    pub intervals: Vec<IntervalImpact>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct IntervalImpact {
    pub interval_start: String,
    pub before: Option<f64>,
    pub after: Option<f64>,
}

/// A 409 naming what is in the way.
pub(crate) fn conflict(message: impl ToString) -> ApiError {
    ApiError::status(StatusCode::CONFLICT, None, message)
}

fn read_file(path: &FsPath, what: &str) -> Result<String, ApiError> {
    std::fs::read_to_string(path).map_err(|e| conflict(format!("{}: {e}: requests are checked against {what}; put it there", path.display())))
}

/// A tenant's planning files in `DATA/tenants/T/`: its agents and rules parsed, the
/// requirements (`wfm staff`'s file) as text with its name.
pub struct TenantFiles {
    pub agents: Vec<Agent>,
    pub rules: Rules,
    pub requirements: (String, String),
}

impl TenantFiles {
    /// A 409 naming the file missing or wrong.
    pub fn load(state: &AppState, tenant: &str) -> Result<Self, ApiError> {
        let (agents, rules) = Self::agents_and_rules(state, tenant)?;
        let demand_path = Self::requirements_path(state, tenant);
        let demand_text = read_file(&demand_path, "the requirements (requirements.csv, from wfm staff)")?;
        Ok(Self { agents, rules, requirements: (demand_path.display().to_string(), demand_text) })
    }

    /// The agents and rules alone (what a new plan needs), or a 409 naming the file.
    pub fn agents_and_rules(state: &AppState, tenant: &str) -> Result<(Vec<Agent>, Rules), ApiError> {
        let dir = state.data.join("tenants").join(tenant);
        let (agents_path, rules_path) = (dir.join("agents.csv"), dir.join("rules.toml"));
        let agents_text = read_file(&agents_path, "the agents file (agents.csv)")?;
        let rules_text = read_file(&rules_path, "the rules (rules.toml)")?;
        let agents = wfm_scheduler::agents::parse(&agents_path.display().to_string(), agents_text.as_bytes(), tenant).map_err(conflict)?;
        let rules = Rules::parse(&rules_path.display().to_string(), &rules_text).map_err(conflict)?;
        Ok((agents, rules))
    }

    /// Where the tenant's requirement is: requests are checked against it.
    pub fn requirements_path(state: &AppState, tenant: &str) -> std::path::PathBuf {
        state.data.join("tenants").join(tenant).join("requirements.csv")
    }
}

impl Planning {
    pub async fn load(state: &AppState, tenant: &str) -> Result<Self, ApiError> {
        let (version, text) = state.db.roster(tenant, None).await?.ok_or_else(|| conflict("no published roster: a planner publishes one first (POST /rosters or wfm roster publish)"))?;
        let roster = Roster::read_csv(&format!("published roster version {}", version.version), text.as_bytes()).map_err(internal)?;
        let TenantFiles { agents, rules, requirements } = TenantFiles::load(state, tenant)?;
        let demand = wfm_scheduler::demand::parse(&requirements.0, requirements.1.as_bytes(), Column::Agents).map_err(conflict)?;
        let kpis = wfm_intraday::kpis::KpiSettings::load_or_default(&state.data.join("tenants").join(tenant).join("kpis.toml")).map_err(conflict)?;
        Ok(Self { version: version.version, roster, agents, rules, demand, requirements, threshold_s: kpis.threshold_s })
    }

    /// The projected service level of `date` with the published roster and with `after` (the
    /// change applied); none without a changed roster, or when the requirement has no calls
    /// that day to project.
    pub fn impact(&self, after: Option<&Roster>, date: NaiveDate) -> Result<Option<ServiceLevelImpact>, ApiError> {
        let Some(after) = after else { return Ok(None) };
        use wfm_planning::report::{Judged, PlanningError, Requirement};
        let (name, text) = &self.requirements;
        let requirement = match Requirement::parse(name, text.clone(), Column::Agents, date, date + chrono::Duration::days(1)) {
            Err(PlanningError::NoRequirement { .. }) => return Ok(None),
            other => other.map_err(conflict)?,
        };
        let judge = |roster: &Roster| Judged { roster, agents: &self.agents, rules: &self.rules, requests: &[], requirement: &requirement, threshold_s: self.threshold_s }.report(None).map_err(conflict);
        let (before, now) = (judge(&self.roster)?, judge(after)?);
        if before.projected_service_level.is_none() {
            return Ok(None);
        }
        let intervals = before
            .coverage
            .iter()
            .zip(&now.coverage)
            .filter(|(b, a)| b.scheduled != a.scheduled || b.served != a.served)
            .map(|(b, a)| IntervalImpact { interval_start: b.interval_start.clone(), before: b.projected_service_level, after: a.projected_service_level })
            .collect();
        Ok(Some(ServiceLevelImpact { threshold_s: self.threshold_s, day_before: before.projected_service_level, day_after: now.projected_service_level, intervals }))
    }

    /// The roster with `agent`'s day of leave, no cover chosen yet: what leave's impact is judged on.
    pub fn with_leave(&self, agent: &AgentId, date: NaiveDate) -> Option<Roster> {
        apply_leave(&self.roster, agent, date, None).ok()
    }

    /// The roster with the overtime shift a check offers, if one fits.
    pub fn with_overtime(&self, check: &OvertimeCheck) -> Option<Roster> {
        check.shift.as_ref().map(|(shift, _)| with_shift(&self.roster, shift))
    }

    pub fn demand(&self) -> &Demand {
        &self.demand
    }

    /// The length of the requirements' intervals.
    pub fn interval_min(&self) -> u32 {
        self.demand.interval_min
    }

    /// The agents' activities on `date`, as text: what the request was judged on.
    fn schedule_of(&self, agents: &[&AgentId], date: NaiveDate) -> String {
        let mut day: Vec<String> = self
            .roster
            .activities
            .iter()
            .filter(|a| agents.contains(&&a.agent_id) && a.date == date)
            .map(|a| format!("{} {} {}–{}", a.agent_id, a.kind.as_str(), a.start.to_rfc3339(), a.end.to_rfc3339()))
            .collect();
        day.sort();
        day.join("; ")
    }

    /// The scheduler's check of a swap: the rules and skills of both agents, and the intervals
    /// the exchange would leave short; with whether it passes and, when not, why.
    pub fn check_swap(&self, agent: &AgentId, with: &AgentId, date: NaiveDate) -> Result<SwapCheck, ApiError> {
        if agent == with {
            return Err(ApiError::bad_request("with", "a swap is with another agent"));
        }
        let (swapped, verdict) = check_swap(&self.roster, &self.agents, &self.rules, agent, with, date).map_err(|e| match e {
            ChangeError::UnknownAgent(_) => ApiError::bad_request("with", e),
            ChangeError::NoShift { .. } => ApiError::bad_request("date", format!("{e}: a swap needs a shift to exchange")),
        })?;
        let shortfalls = added_shortfalls(&self.roster, &swapped, &self.demand);
        let mut reasons: Vec<Reason> = verdict.problems.iter().cloned().map(Reason::Rule).collect();
        if !shortfalls.is_empty() {
            reasons.push(Reason::ShortIntervals(shortfalls.len()));
        }
        Ok(SwapCheck { passed: reasons.is_empty(), swapped, verdict, shortfalls, reasons })
    }

    /// The scheduler's check of a day of leave, with whether it passes and, when not, why.
    pub fn check_leave(&self, agent: &AgentId, date: NaiveDate) -> Result<(bool, LeaveCheck, Vec<Reason>), ApiError> {
        let check = check_leave(&self.roster, &self.agents, &self.rules, &self.demand, agent, date).map_err(|e| match e {
            ChangeError::UnknownAgent(_) => ApiError::bad_request("agent", e),
            ChangeError::NoShift { .. } => ApiError::bad_request("date", format!("{e}: leave is asked for a working day")),
        })?;
        let mut reasons = vec![];
        if let Some(a) = check.allowance.as_ref().filter(|a| !a.within) {
            reasons.push(Reason::LeaveTaken { taken: a.taken_days, allowed: a.allowance_days });
        }
        if !check.shortfalls.is_empty() {
            reasons.push(Reason::ShortIntervals(check.shortfalls.len()));
        }
        Ok((reasons.is_empty(), check, reasons))
    }

    /// The days after `after`, up to `until`, on which `agent` works and a day of leave would
    /// leave no interval short of agents: the days still free for leave, coverage-wise (the
    /// balance is the allowance's business, shown beside them).
    pub fn free_for_leave(&self, agent: &AgentId, after: NaiveDate, until: NaiveDate) -> Vec<NaiveDate> {
        let mut days: Vec<NaiveDate> = self.roster.activities.iter().filter(|a| &a.agent_id == agent && a.kind.on_shift() && a.date > after && a.date <= until).map(|a| a.date).collect();
        days.sort();
        days.dedup();
        days.retain(|&day| check_leave(&self.roster, &self.agents, &self.rules, &self.demand, agent, day).is_ok_and(|c| c.shortfalls.is_empty()));
        days
    }

    /// The extra shift `agent` could work covering `from`–`to` on `date` (`fill-gap`'s offer for
    /// them): it passes when one fits and some of its work falls where agents are short.
    pub fn check_overtime(&self, agent: &AgentId, date: NaiveDate, from: ClockTime, to: ClockTime) -> Result<OvertimeCheck, ApiError> {
        let who = self.agents.iter().find(|a| &a.id == agent).ok_or_else(|| ApiError::bad_request("agent", format!("agent {agent} is not in the agents file")))?;
        // The offset of the day from the roster itself (summer time may differ from other days).
        let offset = self.roster.activities.iter().find(|x| x.date == date).or(self.roster.activities.first()).map(|x| *x.start.offset()).ok_or_else(|| conflict("the published roster has no activities"))?;
        let shift = extra_shift(&self.roster, &self.agents, &self.rules, who, date, (from, to), offset);
        let mut reasons = vec![];
        let helps = match &shift {
            None => {
                reasons.push(Reason::NoOvertimeShift { from, to });
                0
            }
            Some((activities, _)) => {
                let short: std::collections::HashSet<String> = understaffed(&self.roster, &self.demand).into_iter().map(|s| s.interval_start).collect();
                let step = chrono::Duration::minutes(self.demand.interval_min.into());
                let helps = activities
                    .iter()
                    .filter(|a| a.kind == wfm_scheduler::roster::ActivityKind::Work)
                    .flat_map(|a| std::iter::successors(Some(a.start), move |t| Some(*t + step)).take_while(move |t| *t < a.end))
                    .filter(|t| short.contains(&t.to_rfc3339()))
                    .count();
                if helps == 0 {
                    reasons.push(Reason::OvertimeNotNeeded);
                }
                helps
            }
        };
        Ok(OvertimeCheck { passed: reasons.is_empty(), shift, helps, reasons })
    }

    fn check_value(&self, agent: &AgentId, change: &Change, date: NaiveDate) -> Result<(bool, serde_json::Value), ApiError> {
        let (passed, mut value, reasons, after) = match change {
            Change::Leave => {
                let (passed, check, reasons) = self.check_leave(agent, date)?;
                (passed, serde_json::to_value(&check).map_err(internal)?, reasons, self.with_leave(agent, date))
            }
            Change::Swap(with) => {
                let check = self.check_swap(agent, with, date)?;
                (check.passed, serde_json::json!({ "valid": check.verdict.valid, "problems": check.verdict.problems, "shortfalls": check.shortfalls }), check.reasons, Some(check.swapped))
            }
            Change::Overtime(from, to) => {
                let check = self.check_overtime(agent, date, *from, *to)?;
                let after = self.with_overtime(&check);
                (check.passed, serde_json::json!({ "offer": check.shift.as_ref().map(|(_, offer)| offer), "short_intervals_covered": check.helps }), check.reasons, after)
            }
        };
        value["passed"] = passed.into();
        value["reasons"] = reasons.iter().map(ToString::to_string).collect::<Vec<_>>().into();
        value["service_level"] = serde_json::to_value(self.impact(after.as_ref(), date)?).map_err(internal)?;
        value["roster_version"] = self.version.into();
        Ok((passed, value))
    }
}

fn chains(state: &AppState, tenant: &str) -> Result<ApprovalChains, ApiError> {
    ApprovalChains::load_or_default(&state.data.join("tenants").join(tenant).join("requests.toml")).map_err(|e| conflict(e.to_string()))
}

fn parse_date(text: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| ApiError::bad_request("date", format!("{text:?} is not a date YYYY-MM-DD")))
}

/// A date the agent may still ask about: today or later in the tenant's zone.
async fn future_date(state: &AppState, tenant: &str, text: &str) -> Result<NaiveDate, ApiError> {
    let date = parse_date(text)?;
    let zone = state.db.tenant(tenant).await?.ok_or_else(|| ApiError::unknown_tenant(tenant))?.zone;
    let today = zone.local_date(chrono::Utc::now());
    if date < today {
        return Err(ApiError::bad_request("date", format!("{date} is in the past (today is {today})")));
    }
    Ok(date)
}

fn agent_id(field: &'static str, text: &str) -> Result<AgentId, ApiError> {
    AgentId::parse(text).map_err(|e| ApiError::bad_request(field, e))
}

/// Tells the event stream (and so the agent's open page) what became of a request; and by
/// e-mail and webhook, as the tenant's `alarms.toml` says, the people it concerns.
fn announce(state: &AppState, tenant: &str, request: &ChangeRequest) {
    let event = serde_json::json!({ "type": "request", "at_ms": now_ms(), "id": request.id, "kind": request.kind, "agent": request.agent_id, "with": request.with, "date": request.date, "state": request.state, "awaiting": request.awaiting });
    if let Some(live) = state.acd.as_ref().and_then(|acd| acd.live(tenant)) {
        live.publish(event.clone());
    }
    if let Some(supervision) = state.supervisors.get(tenant) {
        lock(&supervision).send(event, letter_of(request));
    }
}

/// The e-mail a request's change is worth: to the agent (and a swap's colleague) when it is
/// decided, to the colleague when a swap is asked of them; none otherwise.
fn letter_of(r: &ChangeRequest) -> Option<Letter> {
    let what = match (r.kind, &r.with, &r.span) {
        (RequestKind::Swap, Some(with), _) => format!("swap with {with}"),
        (RequestKind::Overtime, _, Some((from, to))) => format!("overtime {from}–{to}"),
        (kind, _, _) => kind.as_str().to_owned(),
    };
    let (who, subject) = match (r.state, r.awaiting) {
        (RequestState::Approved | RequestState::Rejected, _) => {
            let who = std::iter::once(&r.agent_id).chain(r.with.as_ref().filter(|_| r.kind == RequestKind::Swap)).map(|a| format!("agent:{a}")).collect();
            (who, format!("request of {} for {}: {what}, {}", r.agent_id, r.date, r.state.as_str()))
        }
        (RequestState::Pending, Some(Step::Colleague)) => (vec![format!("agent:{}", r.with.as_deref()?)], format!("{} asks you for a shift swap on {}", r.agent_id, r.date)),
        _ => return None,
    };
    let decisions: String = r.decisions.iter().map(|d| format!("- {} {}{}\n", if d.approve { "approved by" } else { "rejected by" }, d.by, if d.comment.is_empty() { String::new() } else { format!(": {}", d.comment) })).collect();
    let version = r.applied_version.map(|v| format!("\nPublished in roster version {v}.\n")).unwrap_or_default();
    let body = format!("{subject}.\n\nRequest {} ({what}) for {}.\n{decisions}{version}\nSee it on the page /my/requests.\n", r.id, r.date);
    Some(Letter::Notice { who, subject, body })
}

/// The roster with the approved request in it, published as the next version by `by`.
async fn apply(state: &AppState, tenant: &str, planning: &Planning, request: &ChangeRequest, by: &str) -> Result<i64, ApiError> {
    let (agent, date) = (agent_id("agent", &request.agent_id)?, parse_date(&request.date)?);
    let changed = match Change::of(request)? {
        Change::Leave => {
            let cover = request.cover.as_deref().map(|c| agent_id("cover", c)).transpose()?;
            apply_leave(&planning.roster, &agent, date, cover.as_ref()).map_err(|e| conflict(e.to_string()))?
        }
        Change::Swap(with) => planning.check_swap(&agent, &with, date)?.swapped,
        Change::Overtime(from, to) => {
            let (shift, _) = planning.check_overtime(&agent, date, from, to)?.shift.ok_or_else(|| conflict(format!("no shift covering {from}–{to} fits agent {agent} any more")))?;
            with_shift(&planning.roster, &shift)
        }
    };
    let mut csv = Vec::new();
    changed.write_csv(&mut csv).map_err(internal)?;
    let csv = String::from_utf8(csv).map_err(internal)?;
    let summary = wfm_intraday::published::summary(&changed).ok_or_else(|| internal("the changed roster has no activities"))?;
    let version = state
        .db
        .publish_roster(&Publication {
            tenant,
            published_by: by,
            first_date: &summary.first_date.to_string(),
            last_date: &summary.last_date.to_string(),
            activities: summary.activities as i64,
            roster_csv: &csv,
        })
        .await?;
    let change = match (request.kind, request.with.as_deref(), request.cover.as_deref()) {
        (RequestKind::Swap, with, _) => format!("swap of {} with {}", request.agent_id, with.unwrap_or_default()),
        (RequestKind::Overtime, ..) => format!("overtime of {}", request.agent_id),
        (RequestKind::Leave, _, Some(cover)) => format!("leave of {}, covered by {cover}", request.agent_id),
        (RequestKind::Leave, _, None) => format!("leave of {}", request.agent_id),
    };
    let detail = format!("version {} for request {}: {change} on {}", version.version, request.id, request.date);
    state.db.audit(&wfm_ops::audit::AuditEntry::new(tenant, by, "roster.publish", &format!("roster/{}", version.version), "request", &detail)).await?;
    Ok(version.version)
}

/// Applies an approved request and keeps it with the version that carries it.
async fn keep_applied(state: &AppState, tenant: &str, planning: &Planning, request: &mut ChangeRequest, revision: i64, by: &str) -> Result<(), ApiError> {
    if request.state == RequestState::Approved {
        request.applied_version = Some(apply(state, tenant, planning, request, by).await?);
        if !state.db.save_request(tenant, request, revision).await? {
            return Err(conflict(format!("request {} changed while it was applied; read it again", request.id)));
        }
    }
    Ok(())
}

/// The agents whose day a request changes.
fn involved(request: &ChangeRequest) -> Result<Vec<AgentId>, ApiError> {
    std::iter::once(request.agent_id.as_str()).chain(request.with.as_deref()).map(|a| agent_id("agent", a)).collect()
}

/// The pending or approved request a new `change` of `agent` on `date` would clash with
/// ([`wfm_ops::requests::clash`]): the agents' own requests, and the pending swaps asked of them.
pub async fn clash_of(state: &AppState, tenant: &str, agent: &AgentId, change: &Change, date: &str) -> Result<Option<Clash>, ApiError> {
    let with = change.with();
    let mut open = state.db.requests(tenant, None, Some(RequestState::Pending), MAX_LISTED).await?;
    for who in std::iter::once(agent).chain(with) {
        open.extend(state.db.requests(tenant, Some(who.as_str()), Some(RequestState::Approved), MAX_LISTED).await?);
    }
    Ok(clash(&open, change.kind(), agent.as_str(), with.map(AgentId::as_str), date))
}

/// An agent asks for a day of leave, a swap or overtime: checked, run through the chain, kept,
/// and applied at once when the chain approves it.
pub async fn submit(state: &AppState, signed: &Signed, tenant: &str, agent: &AgentId, change: &Change, date: &str, note: &str) -> Result<ChangeRequest, ApiError> {
    let (kind, with) = (change.kind(), change.with());
    let date = future_date(state, tenant, date).await?;
    if let Some(clash) = clash_of(state, tenant, agent, change, &date.to_string()).await? {
        return Err(conflict(clash));
    }
    let planning = Planning::load(state, tenant).await?;
    let check = planning.check_value(agent, change, date)?;
    let chain = chains(state, tenant)?;
    let schedule = planning.schedule_of(&std::iter::once(agent).chain(with).collect::<Vec<_>>(), date);
    let mut request = ChangeRequest::new(kind, agent.as_str(), with.map(AgentId::as_str), &date.to_string(), note, &signed.actor(), planning.version, schedule, check)?;
    if let Change::Overtime(from, to) = change {
        request.span = Some((from.to_string(), to.to_string()));
    }
    request.advance(chain.of(kind), now_ms());
    state.db.add_request(tenant, &request).await?;
    let what = match change {
        Change::Swap(with) => format!("agent {agent} with {with} on {date}: {}", request.state.as_str()),
        Change::Overtime(from, to) => format!("agent {agent} on {date} {from}–{to}: {}", request.state.as_str()),
        Change::Leave => format!("agent {agent} on {date}: {}", request.state.as_str()),
    };
    let action = match kind {
        RequestKind::Leave => "request.leave",
        RequestKind::Swap => "request.swap",
        RequestKind::Overtime => "request.overtime",
    };
    state.db.audit(&signed.audit(tenant, action, &format!("request/{}", request.id), &what)).await?;
    keep_applied(state, tenant, &planning, &mut request, 1, "auto").await?;
    announce(state, tenant, &request);
    Ok(request)
}

/// A decision at the step waiting for `decider` (an approver's role, or the colleague of a
/// swap); `cover` (one of a leave check's candidates) takes over the shift. When the agents'
/// day changed in a newer roster version since the check, the request is checked again and
/// goes back through the chain instead (answered 409).
#[allow(clippy::too_many_arguments)]
pub async fn decide(state: &AppState, signed: &Signed, tenant: &str, request: (ChangeRequest, i64), decider: Step, approve: bool, cover: Option<&str>, comment: &str) -> Result<ChangeRequest, ApiError> {
    let (mut request, revision) = request;
    let id = request.id.clone();
    let chain = chains(state, tenant)?;
    let chain = chain.of(request.kind);
    let planning = Planning::load(state, tenant).await?;
    let (agent, date) = (agent_id("agent", &request.agent_id)?, parse_date(&request.date)?);
    let change = Change::of(&request)?;
    if approve && request.state == RequestState::Pending {
        let now = planning.schedule_of(&involved(&request)?.iter().collect::<Vec<_>>(), date);
        if now != request.schedule_then {
            let check = planning.check_value(&agent, &change, date)?;
            request.back_to_review(chain, planning.version, now, check, now_ms());
            if !state.db.save_request(tenant, &request, revision).await? {
                return Err(conflict(format!("request {id} changed meanwhile; read it again")));
            }
            state.db.audit(&signed.audit(tenant, "request.review", &format!("request/{id}"), &format!("schedule changed in version {}", planning.version))).await?;
            keep_applied(state, tenant, &planning, &mut request, revision + 1, "auto").await?;
            announce(state, tenant, &request);
            return Err(conflict(format!("the schedule of agent {agent} on {date} changed since the request (roster version {}): checked again, it is now {}", planning.version, request.state.as_str())));
        }
    }
    let cover = match cover.filter(|c| !c.is_empty()) {
        Some(_) if request.kind != RequestKind::Leave => return Err(ApiError::bad_request("cover", "only leave has a cover")),
        Some(c) if approve => {
            let (_, check, _) = planning.check_leave(&agent, date)?;
            if !check.candidates.iter().any(|x| x.agent == c) {
                return Err(ApiError::bad_request("cover", format!("{c} cannot take the shift (free that day, every skill of {agent}, within every rule): choose one of the candidates")));
            }
            Some(c.to_owned())
        }
        Some(_) => return Err(ApiError::bad_request("cover", "only an approval takes a cover")),
        None => None,
    };
    request.decide(chain, &signed.actor(), decider, approve, comment, now_ms())?;
    if request.state == RequestState::Approved {
        request.cover = cover;
    }
    if !state.db.save_request(tenant, &request, revision).await? {
        return Err(conflict(format!("request {id} changed meanwhile; read it again")));
    }
    let verdict = match (decider, approve) {
        (Step::Colleague, true) => "accept",
        (Step::Colleague, false) => "decline",
        (_, true) => "approve",
        (_, false) => "reject",
    };
    state.db.audit(&signed.audit(tenant, &format!("request.{verdict}"), &format!("request/{id}"), &format!("agent {agent} on {date}: {}", request.state.as_str()))).await?;
    keep_applied(state, tenant, &planning, &mut request, revision + 1, &signed.actor()).await?;
    announce(state, tenant, &request);
    Ok(request)
}

/// The agent withdraws a pending request of theirs.
pub async fn cancel(state: &AppState, signed: &Signed, tenant: &str, agent: &AgentId, id: &str) -> Result<ChangeRequest, ApiError> {
    let (mut request, revision) = state.db.request(tenant, id).await?.filter(|(r, _)| r.agent_id == agent.as_str()).ok_or_else(|| ApiError::status(StatusCode::NOT_FOUND, Some("id"), format!("agent {agent} has no request {id}")))?;
    if request.state != RequestState::Pending {
        return Err(ApiError::bad_request("id", format!("request {id} is already {}", request.state.as_str())));
    }
    request.state = RequestState::Cancelled;
    request.awaiting = None;
    if !state.db.save_request(tenant, &request, revision).await? {
        return Err(conflict(format!("request {id} changed meanwhile; read it again")));
    }
    state.db.audit(&signed.audit(tenant, "request.cancel", &format!("request/{id}"), &format!("agent {agent} on {}", request.date))).await?;
    announce(state, tenant, &request);
    Ok(request)
}

/// Whether a request waits for `role` (any role's step for a platform administrator).
pub fn waits_for(request: &ChangeRequest, role: Role) -> bool {
    request.state == RequestState::Pending && matches!(request.awaiting, Some(Step::Role(r)) if r == role || role == Role::PlatformAdmin)
}

/// The request, or a 404 naming it.
pub async fn find(state: &AppState, tenant: &str, id: &str) -> Result<(ChangeRequest, i64), ApiError> {
    state.db.request(tenant, id).await?.ok_or_else(|| ApiError::status(StatusCode::NOT_FOUND, Some("id"), format!("no request {id}")))
}

/// The swaps asking `agent` to accept, newest first.
pub async fn asked_of(state: &AppState, tenant: &str, agent: &AgentId) -> Result<Vec<ChangeRequest>, ApiError> {
    let pending = state.db.requests(tenant, None, Some(RequestState::Pending), MAX_LISTED).await?;
    Ok(pending.into_iter().filter(|r| r.awaiting == Some(Step::Colleague) && r.with.as_deref() == Some(agent.as_str())).collect())
}

/// The colleague of a swap accepts or declines it.
pub async fn answer(state: &AppState, signed: &Signed, tenant: &str, agent: &AgentId, id: &str, accept: bool) -> Result<ChangeRequest, ApiError> {
    let found = find(state, tenant, id).await?;
    if found.0.with.as_deref() != Some(agent.as_str()) {
        return Err(ApiError::status(StatusCode::NOT_FOUND, Some("id"), format!("agent {agent} is asked nothing by request {id}")));
    }
    decide(state, signed, tenant, found, Step::Colleague, accept, None, "").await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestBody {
    kind: String,
    /// The colleague of a swap.
    with: Option<String>,
    /// Overtime's span, local `HH:MM`.
    from: Option<String>,
    to: Option<String>,
    date: String,
    #[serde(default)]
    note: String,
}

/// `POST /api/v1/tenants/{tenant}/agents/{agent}/requests` with `{"kind": "leave"|"swap", "with", "date", "note"}`.
pub async fn create(State(state): State<AppState>, Extension(signed): Extension<Signed>, Path((tenant, agent)): Path<(String, String)>, request: Result<Json<RequestBody>, JsonRejection>) -> Result<Response, ApiError> {
    let r = body(request)?;
    let kind = RequestKind::parse(&r.kind)?;
    let agent = agent_id("agent", &agent)?;
    let change = Change::parse(kind, r.with.as_deref(), span(&r.from, &r.to))?;
    let created = submit(&state, &signed, &tenant, &agent, &change, &r.date, &r.note).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckBody {
    kind: String,
    with: Option<String>,
    from: Option<String>,
    to: Option<String>,
    date: String,
}

/// `from` and `to` as overtime's span, when either is given.
pub fn span<'a>(from: &'a Option<String>, to: &'a Option<String>) -> Option<(&'a str, &'a str)> {
    (from.is_some() || to.is_some()).then(|| (from.as_deref().unwrap_or_default(), to.as_deref().unwrap_or_default()))
}

/// `POST /api/v1/tenants/{tenant}/agents/{agent}/requests/check`: the check alone, nothing kept.
pub async fn check(State(state): State<AppState>, Path((tenant, agent)): Path<(String, String)>, request: Result<Json<CheckBody>, JsonRejection>) -> Result<Response, ApiError> {
    let r = body(request)?;
    let change = Change::parse(RequestKind::parse(&r.kind)?, r.with.as_deref(), span(&r.from, &r.to))?;
    let (agent, date) = (agent_id("agent", &agent)?, future_date(&state, &tenant, &r.date).await?);
    let (_, mut value) = Planning::load(&state, &tenant).await?.check_value(&agent, &change, date)?;
    value["clash"] = serde_json::json!(clash_of(&state, &tenant, &agent, &change, &date.to_string()).await?.map(|c| c.to_string()));
    Ok(Json(value).into_response())
}

/// `POST /api/v1/tenants/{tenant}/agents/{agent}/requests/{id}/cancel`.
pub async fn withdraw(State(state): State<AppState>, Extension(signed): Extension<Signed>, Path((tenant, agent, id)): Path<(String, String, String)>) -> Result<Response, ApiError> {
    let agent = agent_id("agent", &agent)?;
    Ok(Json(cancel(&state, &signed, &tenant, &agent, &id).await?).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    state: Option<String>,
}

fn state_param(p: Result<Query<ListParams>, QueryRejection>) -> Result<Option<RequestState>, ApiError> {
    let Query(p) = p.map_err(|e| ApiError::bad_request("query", e.body_text()))?;
    Ok(p.state.as_deref().map(RequestState::parse).transpose()?)
}

/// `GET /api/v1/tenants/{tenant}/agents/{agent}/requests[?state=…]`: the agent's, newest first,
/// and the swaps waiting for them to accept (`asked`).
pub async fn of_agent(State(state): State<AppState>, Path((tenant, agent)): Path<(String, String)>, params: Result<Query<ListParams>, QueryRejection>) -> Result<Response, ApiError> {
    let agent = agent_id("agent", &agent)?;
    let own = state.db.requests(&tenant, Some(agent.as_str()), state_param(params)?, MAX_LISTED).await?;
    let asked = asked_of(&state, &tenant, &agent).await?;
    Ok(Json(serde_json::json!({ "requests": own, "asked": asked })).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerBody {
    /// `accept` or `decline`.
    answer: String,
}

/// `POST /api/v1/tenants/{tenant}/agents/{agent}/requests/{id}/answer` with `{"answer": "accept"|"decline"}`:
/// the colleague of a swap.
pub async fn answer_swap(State(state): State<AppState>, Extension(signed): Extension<Signed>, Path((tenant, agent, id)): Path<(String, String, String)>, request: Result<Json<AnswerBody>, JsonRejection>) -> Result<Response, ApiError> {
    let r = body(request)?;
    let accept = match r.answer.as_str() {
        "accept" => true,
        "decline" => false,
        other => return Err(ApiError::bad_request("answer", format!("{other:?} is not accept or decline"))),
    };
    let agent = agent_id("agent", &agent)?;
    Ok(Json(answer(&state, &signed, &tenant, &agent, &id, accept).await?).into_response())
}

/// `GET /api/v1/tenants/{tenant}/requests[?state=…]`: every agent's, newest first.
pub async fn list(State(state): State<AppState>, Path(tenant): Path<String>, params: Result<Query<ListParams>, QueryRejection>) -> Result<Response, ApiError> {
    Ok(Json(state.db.requests(&tenant, None, state_param(params)?, MAX_LISTED).await?).into_response())
}

/// `GET /api/v1/tenants/{tenant}/requests/{id}`.
pub async fn one(State(state): State<AppState>, Path((tenant, id)): Path<(String, String)>) -> Result<Response, ApiError> {
    Ok(Json(find(&state, &tenant, &id).await?.0).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// `approve` or `reject`.
    decision: String,
    cover: Option<String>,
    #[serde(default)]
    comment: String,
}

pub fn parse_decision(text: &str) -> Result<bool, ApiError> {
    match text {
        "approve" => Ok(true),
        "reject" => Ok(false),
        other => Err(ApiError::bad_request("decision", format!("{other:?} is not approve or reject"))),
    }
}

/// `POST /api/v1/tenants/{tenant}/requests/{id}/decision` with `{"decision": "approve"|"reject", "cover", "comment"}`.
pub async fn decision(State(state): State<AppState>, Extension(signed): Extension<Signed>, Path((tenant, id)): Path<(String, String)>, request: Result<Json<DecisionBody>, JsonRejection>) -> Result<Response, ApiError> {
    let r = body(request)?;
    let approve = parse_decision(&r.decision)?;
    Ok(Json(decide_as_role(&state, &signed, &tenant, &id, approve, r.cover.as_deref(), &r.comment).await?).into_response())
}

/// An approver's decision, at the step of their role.
pub async fn decide_as_role(state: &AppState, signed: &Signed, tenant: &str, id: &str, approve: bool, cover: Option<&str>, comment: &str) -> Result<ChangeRequest, ApiError> {
    let found = find(state, tenant, id).await?;
    decide(state, signed, tenant, found, Step::Role(signed.caller.user.role), approve, cover, comment).await
}
