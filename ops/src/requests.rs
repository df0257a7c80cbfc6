//! Agents' requests to change their published schedule (a day of leave, a swap of the day with a
//! colleague, an extra shift where agents are short) and the tenant's approval chain that
//! decides them.
//!
//! `requests.toml` (per tenant, defaults built in) lists, per kind, the steps a request goes
//! through: `"auto"` approves it at once when the scheduler's check passes (every rule holds and
//! no interval falls below its requirement), else hands it to the next step; `"colleague"` (swaps
//! only) waits for the colleague to accept; a role name waits for a user of that role to approve
//! (the next step follows) or reject it. A request that
//! leaves the chain approved is approved; one that fails an `"auto"` step with no step after it
//! is refused with the check's reasons. The chain's logic is sans-IO ([`ChangeRequest::advance`]);
//! the record is kept whole as JSON beside the columns the listings filter by.

use crate::roles::Role;
use crate::secrets::random_hex;
use crate::{now_ms, OpsDb, OpsError};
use serde::{Deserialize, Serialize};
use sqlx::Row;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// A whole day of leave instead of the day's shift.
    Leave,
    /// Two agents exchange what they have on the day (a shift, or a day off).
    Swap,
    /// An extra shift covering a span where agents are short.
    Overtime,
}

impl RequestKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Leave => "leave",
            Self::Swap => "swap",
            Self::Overtime => "overtime",
        }
    }

    pub fn parse(text: &str) -> Result<Self, OpsError> {
        match text {
            "leave" => Ok(Self::Leave),
            "swap" => Ok(Self::Swap),
            "overtime" => Ok(Self::Overtime),
            other => Err(OpsError::Invalid { field: "kind", message: format!("{other:?} is not a kind of request (leave, swap, overtime)") }),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestState {
    Pending,
    Approved,
    Rejected,
    /// Withdrawn by the agent before it was decided.
    Cancelled,
}

impl RequestState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Result<Self, OpsError> {
        [Self::Pending, Self::Approved, Self::Rejected, Self::Cancelled]
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| OpsError::Invalid { field: "state", message: format!("{text:?} is not pending, approved, rejected or cancelled") })
    }
}

/// One step of an approval chain (written as its name: `auto`, `colleague` or a role).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Step {
    /// Approved by the check alone when it passes.
    Auto,
    /// The colleague of a swap accepts or declines.
    Colleague,
    /// A user of this role decides.
    Role(Role),
}

impl From<Step> for String {
    fn from(step: Step) -> String {
        match step {
            Step::Auto => "auto".into(),
            Step::Colleague => "colleague".into(),
            Step::Role(role) => role.as_str().into(),
        }
    }
}

impl TryFrom<String> for Step {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        Self::parse(&text)
    }
}

impl Step {
    fn parse(text: &str) -> Result<Self, String> {
        match text {
            "auto" => Ok(Self::Auto),
            "colleague" => Ok(Self::Colleague),
            role => match Role::parse(role)? {
                Role::Supervisor | Role::Manager | Role::Planner | Role::TenantAdmin => Ok(Self::Role(Role::parse(role)?)),
                other => Err(format!("{other} cannot approve requests (auto, planner, supervisor, manager or tenant-admin)")),
            },
        }
    }
}

/// The approval chain of each kind of request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalChains {
    pub leave: Vec<Step>,
    pub swap: Vec<Step>,
    pub overtime: Vec<Step>,
}

impl Default for ApprovalChains {
    /// Leave: automatic when the check passes, else a supervisor decides. A swap: the colleague
    /// accepts first.
    fn default() -> Self {
        let checked_else_supervisor = vec![Step::Auto, Step::Role(Role::Supervisor)];
        Self { leave: checked_else_supervisor.clone(), swap: vec![Step::Colleague, Step::Auto, Step::Role(Role::Supervisor)], overtime: checked_else_supervisor }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChainsFile {
    leave: Option<ChainFile>,
    swap: Option<ChainFile>,
    overtime: Option<ChainFile>,
}

/// A chain's steps, each named: `key` is `leave.chain` or `swap.chain`.
fn steps(key: &str, chain: &ChainFile, colleague_allowed: bool) -> Result<Vec<Step>, String> {
    if chain.chain.is_empty() {
        return Err(format!("{key}: at least one step"));
    }
    chain
        .chain
        .iter()
        .map(|s| match Step::parse(s) {
            Ok(Step::Colleague) if !colleague_allowed => Err(format!("{key}: colleague is a step of swaps only")),
            other => other.map_err(|e| format!("{key}: {e}")),
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChainFile {
    chain: Vec<String>,
}

impl ApprovalChains {
    /// `requests.toml`: `[leave] chain = ["auto", "supervisor", "manager"]`; a missing table
    /// keeps the default. Errors name the file and the key.
    pub fn parse(name: &str, text: &str) -> Result<Self, OpsError> {
        let invalid = |message: String| OpsError::Invalid { field: "requests.toml", message: format!("{name}: {message}") };
        let file: ChainsFile = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let mut chains = Self::default();
        if let Some(leave) = &file.leave {
            chains.leave = steps("leave.chain", leave, false).map_err(invalid)?;
        }
        if let Some(swap) = &file.swap {
            chains.swap = steps("swap.chain", swap, true).map_err(invalid)?;
        }
        if let Some(overtime) = &file.overtime {
            chains.overtime = steps("overtime.chain", overtime, false).map_err(invalid)?;
        }
        Ok(chains)
    }

    /// The file when it exists, else the defaults.
    pub fn load_or_default(path: &std::path::Path) -> Result<Self, OpsError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&path.display().to_string(), &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(OpsError::Invalid { field: "requests.toml", message: format!("{}: {e}", path.display()) }),
        }
    }

    pub fn of(&self, kind: RequestKind) -> &[Step] {
        match kind {
            RequestKind::Leave => &self.leave,
            RequestKind::Swap => &self.swap,
            RequestKind::Overtime => &self.overtime,
        }
    }
}

/// Who decided a step, how and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// `auto` for the check, else the user (`tenant/login`).
    pub by: String,
    pub step: Step,
    pub approve: bool,
    pub comment: String,
    pub at_ms: i64,
}

/// A request and everything that happened to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeRequest {
    pub id: String,
    pub kind: RequestKind,
    pub agent_id: String,
    /// The colleague of a swap.
    #[serde(default)]
    pub with: Option<String>,
    /// The local `HH:MM` span overtime is asked for.
    #[serde(default)]
    pub span: Option<(String, String)>,
    /// The local date, `YYYY-MM-DD`.
    pub date: String,
    pub note: String,
    pub state: RequestState,
    /// The step whose decision it waits for, while pending (never `auto`).
    pub awaiting: Option<Step>,
    /// The next step of the chain.
    pub step: usize,
    /// The published roster version the check was made against.
    pub roster_version: i64,
    /// The agent's activities that day in that version: when they change, the request goes back to review.
    pub schedule_then: String,
    /// Whether the check passed, and its findings (the scheduler's JSON).
    pub check_passed: bool,
    pub check: serde_json::Value,
    /// Who takes over the shift, when an approver chose someone.
    pub cover: Option<String>,
    /// The roster version that carries the approved change.
    pub applied_version: Option<i64>,
    pub requested_by: String,
    pub requested_ms: i64,
    pub decisions: Vec<Decision>,
    /// What changed it besides decisions (back to review), in order.
    pub history: Vec<String>,
}

/// The longest note kept.
pub const MAX_NOTE: usize = 500;

impl ChangeRequest {
    /// A new request, its chain not yet run.
    #[allow(clippy::too_many_arguments)]
    pub fn new(kind: RequestKind, agent_id: &str, with: Option<&str>, date: &str, note: &str, by: &str, version: i64, schedule_then: String, check: (bool, serde_json::Value)) -> Result<Self, OpsError> {
        let note = note.trim();
        if note.chars().count() > MAX_NOTE {
            return Err(OpsError::Invalid { field: "note", message: format!("at most {MAX_NOTE} characters") });
        }
        Ok(Self {
            id: random_hex::<8>()?,
            kind,
            agent_id: agent_id.to_owned(),
            with: with.map(str::to_owned),
            span: None,
            date: date.to_owned(),
            note: note.to_owned(),
            state: RequestState::Pending,
            awaiting: None,
            step: 0,
            roster_version: version,
            schedule_then,
            check_passed: check.0,
            check: check.1,
            cover: None,
            applied_version: None,
            requested_by: by.to_owned(),
            requested_ms: now_ms(),
            decisions: vec![],
            history: vec![],
        })
    }

    /// Runs the chain from the current step until it waits for a role or ends.
    pub fn advance(&mut self, chain: &[Step], now_ms: i64) {
        while self.state == RequestState::Pending {
            match chain.get(self.step) {
                None => {
                    // Every step it met approved it, or the last one was a failed check.
                    let refused_by_check = self.decisions.last().is_some_and(|d| !d.approve);
                    self.state = if refused_by_check { RequestState::Rejected } else { RequestState::Approved };
                    self.awaiting = None;
                }
                Some(Step::Auto) => {
                    let passed = self.check_passed;
                    self.decisions.push(Decision { by: "auto".into(), step: Step::Auto, approve: passed, comment: String::new(), at_ms: now_ms });
                    self.step = if passed { chain.len() } else { self.step + 1 };
                }
                Some(step) => {
                    self.awaiting = Some(*step);
                    return;
                }
            }
        }
    }

    /// A decision at the step waiting for `decider` (`Step::Colleague` for the colleague of a
    /// swap, else the user's role; a platform administrator may take any role's step), then the
    /// rest of the chain.
    pub fn decide(&mut self, chain: &[Step], by: &str, decider: Step, approve: bool, comment: &str, now_ms: i64) -> Result<(), OpsError> {
        if self.state != RequestState::Pending {
            return Err(OpsError::Invalid { field: "id", message: format!("request {} is already {}", self.id, self.state.as_str()) });
        }
        let Some(awaiting) = self.awaiting else {
            return Err(OpsError::Invalid { field: "id", message: format!("request {} waits for no one", self.id) });
        };
        let admin_for_role = decider == Step::Role(Role::PlatformAdmin) && matches!(awaiting, Step::Role(_));
        if decider != awaiting && !admin_for_role {
            return Err(OpsError::Invalid { field: "decision", message: format!("request {} waits for the {}, not the {}", self.id, String::from(awaiting), String::from(decider)) });
        }
        if comment.chars().count() > MAX_NOTE {
            return Err(OpsError::Invalid { field: "comment", message: format!("at most {MAX_NOTE} characters") });
        }
        self.decisions.push(Decision { by: by.to_owned(), step: awaiting, approve, comment: comment.trim().to_owned(), at_ms: now_ms });
        if approve {
            self.step += 1;
            self.awaiting = None;
            self.advance(chain, now_ms);
        } else {
            self.state = RequestState::Rejected;
            self.awaiting = None;
        }
        Ok(())
    }

    /// The agent's schedule changed since the check: checked again on `version` and run through
    /// the chain from its start.
    pub fn back_to_review(&mut self, chain: &[Step], version: i64, schedule_now: String, check: (bool, serde_json::Value), now_ms: i64) {
        self.history.push(format!("the schedule changed in roster version {version} (checked against {}): back to review", self.roster_version));
        self.roster_version = version;
        self.schedule_then = schedule_now;
        (self.check_passed, self.check) = check;
        self.step = 0;
        self.awaiting = None;
        self.advance(chain, now_ms);
    }
}

/// Why a new request cannot stand beside one already pending or approved for the same day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clash {
    /// The request in the way.
    pub id: String,
    pub kind: RequestKind,
    pub state: RequestState,
    /// The same request asked again, rather than two that cannot both happen.
    pub duplicate: bool,
}

impl std::fmt::Display for Clash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (id, kind, state) = (&self.id, self.kind.as_str(), self.state.as_str());
        if self.duplicate {
            write!(f, "request {id} ({kind}) for this day is already {state}")
        } else {
            write!(f, "request {id} ({kind}, {state}) is for the same day and cannot happen beside this one; withdraw one of them")
        }
    }
}

/// The first of `open` that a new request of `agent` (with `with`, for a swap) on `date` clashes
/// with. Only pending and approved requests count, and only those of the same agents:
/// - the same kind by the same agent is a duplicate (two overtime spans on a day are one request);
/// - leave cannot stand beside overtime or a swap of either agent, for there is no shift left;
/// - a day is swapped once: two swaps sharing an agent clash.
///
/// Overtime beside a swap is allowed: the extra shift is checked against the day as it stands.
pub fn clash(open: &[ChangeRequest], kind: RequestKind, agent: &str, with: Option<&str>, date: &str) -> Option<Clash> {
    let ours = |r: &ChangeRequest| [Some(r.agent_id.as_str()), r.with.as_deref()].into_iter().flatten().any(|a| a == agent || Some(a) == with);
    open.iter()
        .filter(|r| r.date == date && matches!(r.state, RequestState::Pending | RequestState::Approved) && ours(r))
        .find_map(|r| {
            let duplicate = r.kind == kind && r.agent_id == agent;
            let impossible = matches!(
                (r.kind, kind),
                (RequestKind::Leave, RequestKind::Overtime | RequestKind::Swap) | (RequestKind::Overtime | RequestKind::Swap, RequestKind::Leave) | (RequestKind::Swap, RequestKind::Swap)
            );
            (duplicate || impossible).then(|| Clash { id: r.id.clone(), kind: r.kind, state: r.state, duplicate })
        })
}

const COLUMNS: &str = "record, revision";

impl OpsDb {
    pub async fn add_request(&self, tenant: &str, request: &ChangeRequest) -> Result<(), OpsError> {
        let record = serde_json::to_string(request).map_err(|e| OpsError::Invalid { field: "request", message: e.to_string() })?;
        sqlx::query("INSERT INTO change_requests (tenant, id, agent_id, state, requested_ms, revision, record) VALUES ($1, $2, $3, $4, $5, 1, $6)")
            .bind(tenant)
            .bind(&request.id)
            .bind(&request.agent_id)
            .bind(request.state.as_str())
            .bind(request.requested_ms)
            .bind(record)
            .execute(&self.pool)
            .await
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// The request and its revision (for [`OpsDb::save_request`]).
    pub async fn request(&self, tenant: &str, id: &str) -> Result<Option<(ChangeRequest, i64)>, OpsError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM change_requests WHERE tenant = $1 AND id = $2")))
            .bind(tenant)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.fail(e))?;
        row.as_ref().map(request_of).transpose()
    }

    /// Writes a changed request if nobody changed it since `revision` was read; `false` when
    /// someone did (the caller reads it again).
    pub async fn save_request(&self, tenant: &str, request: &ChangeRequest, revision: i64) -> Result<bool, OpsError> {
        let record = serde_json::to_string(request).map_err(|e| OpsError::Invalid { field: "request", message: e.to_string() })?;
        let done = sqlx::query("UPDATE change_requests SET state = $1, record = $2, revision = revision + 1 WHERE tenant = $3 AND id = $4 AND revision = $5")
            .bind(request.state.as_str())
            .bind(record)
            .bind(tenant)
            .bind(&request.id)
            .bind(revision)
            .execute(&self.pool)
            .await
            .map_err(|e| self.fail(e))?;
        Ok(done.rows_affected() == 1)
    }

    /// Requests newest first: of one agent, in one state, when given.
    pub async fn requests(&self, tenant: &str, agent_id: Option<&str>, state: Option<RequestState>, limit: u32) -> Result<Vec<ChangeRequest>, OpsError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM change_requests WHERE tenant = $1 AND ($2 = '' OR agent_id = $2) AND ($3 = '' OR state = $3) ORDER BY requested_ms DESC, id LIMIT $4"
        )))
        .bind(tenant)
        .bind(agent_id.unwrap_or(""))
        .bind(state.map_or("", RequestState::as_str))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.fail(e))?;
        rows.iter().map(|row| request_of(row).map(|(r, _)| r)).collect()
    }
}

fn request_of(row: &sqlx::any::AnyRow) -> Result<(ChangeRequest, i64), OpsError> {
    let get = |e: sqlx::Error| OpsError::Invalid { field: "request", message: e.to_string() };
    let record: String = row.try_get(0).map_err(get)?;
    let request = serde_json::from_str(&record).map_err(|e| OpsError::Invalid { field: "request", message: e.to_string() })?;
    Ok((request, row.try_get(1).map_err(get)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::tests::{postgres, sqlite, unique};

    const SUPERVISOR: Step = Step::Role(Role::Supervisor);
    const MANAGER: Step = Step::Role(Role::Manager);

    fn request(passes: bool) -> ChangeRequest {
        ChangeRequest::new(RequestKind::Leave, "1001", None, "2026-03-02", "wedding", "demo/agent1", 3, "work 09:00-17:00".into(), (passes, serde_json::json!({}))).unwrap()
    }

    #[test]
    fn the_chain_approves_on_a_passed_check_else_waits_for_each_role_in_turn() {
        let chain = ApprovalChains::parse("requests.toml", "[leave]\nchain = [\"auto\", \"supervisor\", \"manager\"]\n").unwrap().leave;
        let mut easy = request(true);
        easy.advance(&chain, 1);
        assert_eq!((easy.state, easy.awaiting, easy.decisions.len()), (RequestState::Approved, None, 1));

        let mut hard = request(false);
        hard.advance(&chain, 1);
        assert_eq!((hard.state, hard.awaiting), (RequestState::Pending, Some(SUPERVISOR)));
        let wrong = hard.decide(&chain, "demo/boss", MANAGER, true, "", 2).unwrap_err();
        assert!(wrong.to_string().contains("waits for the supervisor, not the manager"), "{wrong}");
        hard.decide(&chain, "demo/sup", SUPERVISOR, true, "ok", 2).unwrap();
        assert_eq!((hard.state, hard.awaiting), (RequestState::Pending, Some(MANAGER)));
        hard.decide(&chain, "demo/boss", MANAGER, true, "", 3).unwrap();
        assert_eq!(hard.state, RequestState::Approved);
        assert!(hard.decide(&chain, "demo/boss", MANAGER, true, "", 4).unwrap_err().to_string().contains("already approved"));

        let mut refused = request(false);
        refused.advance(&chain, 1);
        refused.decide(&chain, "demo/sup", SUPERVISOR, false, "busy week", 2).unwrap();
        assert_eq!(refused.state, RequestState::Rejected);

        // The check alone: a failed check is a refusal.
        let only_auto = ApprovalChains::parse("requests.toml", "[leave]\nchain = [\"auto\"]\n").unwrap().leave;
        let mut alone = request(false);
        alone.advance(&only_auto, 1);
        assert_eq!(alone.state, RequestState::Rejected);
    }

    #[test]
    fn a_changed_schedule_sends_the_request_back_through_the_chain() {
        let chain = ApprovalChains::default().leave;
        let mut r = request(false);
        r.advance(&chain, 1);
        r.back_to_review(&chain, 4, "day-off".into(), (true, serde_json::json!({})), 2);
        assert_eq!((r.state, r.roster_version, r.history.len()), (RequestState::Approved, 4, 1));
    }

    #[test]
    fn the_file_is_strict() {
        let err = |text: &str| ApprovalChains::parse("requests.toml", text).unwrap_err().to_string();
        assert!(err("[leave]\nchain = [\"agent\"]\n").contains("agent cannot approve"));
        assert!(err("[leave]\nchain = [\"boss\"]\n").contains("\"boss\" is not a role"));
        assert!(err("[leave]\nchain = []\n").contains("at least one step"));
        assert!(err("[holiday]\nchain = [\"auto\"]\n").contains("unknown field"));
        assert!(err("[leave]\nchain = [\"colleague\"]\n").contains("colleague is a step of swaps only"));
        assert_eq!(ApprovalChains::parse("requests.toml", "").unwrap(), ApprovalChains::default());
    }

    async fn requests_are_kept_and_saved_only_over_the_revision_read(db: &OpsDb, tenant: &str) {
        let mut r = request(false);
        db.add_request(tenant, &r).await.unwrap();
        let (read, revision) = db.request(tenant, &r.id).await.unwrap().unwrap();
        assert_eq!(read, r);
        r.advance(&ApprovalChains::default().leave, 5);
        assert!(db.save_request(tenant, &r, revision).await.unwrap());
        assert!(!db.save_request(tenant, &r, revision).await.unwrap(), "a stale revision does not overwrite");
        let other = request(true);
        db.add_request(tenant, &other).await.unwrap();
        assert_eq!(db.requests(tenant, Some("1001"), Some(RequestState::Pending), 10).await.unwrap().len(), 2);
        assert_eq!(db.requests(tenant, Some("1002"), None, 10).await.unwrap().len(), 0);
        assert_eq!(db.requests(tenant, None, Some(RequestState::Approved), 10).await.unwrap().len(), 0);
        assert!(db.requests("someone-else", None, None, 10).await.unwrap().is_empty());
        assert_eq!(db.request(tenant, &r.id).await.unwrap().unwrap().0.awaiting, Some(SUPERVISOR));
    }

    #[tokio::test]
    async fn sqlite_requests() {
        let (db, _dir) = sqlite().await;
        requests_are_kept_and_saved_only_over_the_revision_read(&db, "acme").await;
    }

    #[tokio::test]
    async fn postgres_requests() {
        if let Some(db) = postgres().await {
            requests_are_kept_and_saved_only_over_the_revision_read(&db, &unique("pg")).await;
        }
    }

    #[test]
    fn leave_clashes_with_overtime_and_swaps_of_the_same_day_and_agents() {
        let mut overtime = ChangeRequest::new(RequestKind::Overtime, "1001", None, "2026-03-02", "", "demo/1001", 1, String::new(), (true, serde_json::json!({}))).unwrap();
        let swap = ChangeRequest::new(RequestKind::Swap, "1002", Some("1003"), "2026-03-02", "", "demo/1002", 1, String::new(), (true, serde_json::json!({}))).unwrap();
        let open = [overtime.clone(), swap.clone()];
        let leave = clash(&open, RequestKind::Leave, "1001", None, "2026-03-02").unwrap();
        assert_eq!((leave.id.as_str(), leave.duplicate), (overtime.id.as_str(), false));
        assert!(leave.to_string().contains("withdraw one"), "{leave}");
        assert!(clash(&open, RequestKind::Overtime, "1001", None, "2026-03-02").unwrap().duplicate);
        assert!(clash(&open, RequestKind::Leave, "1001", None, "2026-03-03").is_none(), "another day");
        assert!(clash(&open, RequestKind::Leave, "1004", None, "2026-03-02").is_none(), "another agent");
        // The colleague of a swap is one of its agents too, either way round.
        assert_eq!(clash(&open, RequestKind::Leave, "1003", None, "2026-03-02").unwrap().id, swap.id);
        assert_eq!(clash(&open, RequestKind::Swap, "1004", Some("1002"), "2026-03-02").unwrap().id, swap.id);
        assert!(clash(&open, RequestKind::Overtime, "1003", None, "2026-03-02").is_none(), "overtime beside a swap");
        overtime.state = RequestState::Cancelled;
        assert!(clash(&[overtime], RequestKind::Leave, "1001", None, "2026-03-02").is_none(), "withdrawn requests do not count");
    }

    #[test]
    fn a_swap_waits_for_the_colleague_first() {
        let chain = ApprovalChains::default().swap;
        let mut swap = ChangeRequest::new(RequestKind::Swap, "1001", Some("1002"), "2026-03-02", "", "demo/1001", 1, String::new(), (true, serde_json::json!({}))).unwrap();
        swap.advance(&chain, 1);
        assert_eq!(swap.awaiting, Some(Step::Colleague));
        assert!(swap.decide(&chain, "admin", Step::Role(Role::PlatformAdmin), true, "", 2).is_err(), "nobody accepts for the colleague");
        swap.decide(&chain, "demo/1002", Step::Colleague, true, "", 2).unwrap();
        assert_eq!(swap.state, RequestState::Approved, "the check passed after the colleague accepted");
        assert_eq!(serde_json::to_value(swap.decisions[0].step).unwrap(), "colleague");
    }
}
