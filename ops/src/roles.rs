//! The roles and what each may do: the one place in the code that says so. `docs/security.md`
//! carries the same table, and a test keeps the two equal ([`markdown_table`]).

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Runs the platform: every tenant.
    PlatformAdmin,
    /// Runs one tenant: its users and configuration.
    TenantAdmin,
    Planner,
    Supervisor,
    Manager,
    /// Linked to one ACD agent id: their own state and data only.
    Agent,
}

pub const ROLES: [Role; 6] = [Role::PlatformAdmin, Role::TenantAdmin, Role::Planner, Role::Supervisor, Role::Manager, Role::Agent];

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::PlatformAdmin => "platform-admin",
            Role::TenantAdmin => "tenant-admin",
            Role::Planner => "planner",
            Role::Supervisor => "supervisor",
            Role::Manager => "manager",
            Role::Agent => "agent",
        }
    }

    pub fn parse(value: &str) -> Result<Self, String> {
        ROLES.into_iter().find(|r| r.as_str() == value).ok_or_else(|| {
            format!("{value:?} is not a role ({})", ROLES.map(Role::as_str).join(", "))
        })
    }

    /// What this role may do of `permission`.
    pub fn access(self, permission: Permission) -> Access {
        use Access::{Denied as No, Own, Tenant as Yes};
        use Permission as P;
        use Role as R;
        match (permission, self) {
            (P::SignedIn, _) => Yes,
            (_, R::PlatformAdmin) => Yes,
            (P::ManageTenants, _) => No,
            (P::ViewOwnSchedule, R::Agent) => Yes,
            (P::ViewQueueStats | P::ViewAgentStats, R::TenantAdmin | R::Planner | R::Supervisor | R::Manager) => Yes,
            (P::ViewImports | P::ImportData, R::TenantAdmin | R::Planner) => Yes,
            (P::PublishRoster, R::Planner) => Yes,
            (P::ViewRosters, R::TenantAdmin | R::Planner | R::Supervisor | R::Manager) => Yes,
            (P::ViewAdherence, R::Planner | R::Supervisor | R::Manager) => Yes,
            (P::ViewAgentAdherence, R::Planner | R::Supervisor | R::Manager) => Yes,
            (P::ViewAgentAdherence | P::ClaimExcusal, R::Agent) => Own,
            (P::ExcuseAdherence, R::Supervisor | R::Manager) => Yes,
            (P::RequestChange | P::ViewRequests, R::Agent) => Own,
            (P::ViewRequests | P::DecideRequest, R::Planner | R::Supervisor | R::Manager) => Yes,
            (P::ViewAlarms, R::TenantAdmin | R::Supervisor | R::Manager) => Yes,
            (P::AckAlarm, R::Supervisor | R::Manager) => Yes,
            (P::ViewEscalation, R::Supervisor | R::Manager) => Yes,
            (P::ConfirmCallIn, R::Planner | R::Supervisor | R::Manager | R::Agent) => Yes,
            (P::ViewIncidents, R::TenantAdmin | R::Planner | R::Supervisor | R::Manager | R::Agent) => Yes,
            (P::ManageIncidents, R::Supervisor | R::Manager) => Yes,
            (P::RecordCase | P::WorkCase, R::Supervisor | R::Manager | R::Agent) => Yes,
            (P::ViewAgentState | P::SetAgentState, R::Supervisor) => Yes,
            (P::ViewAgentState | P::SetAgentState, R::Agent) => Own,
            (P::ViewLiveQueues | P::ViewEvents, R::Supervisor | R::Manager) => Yes,
            (P::ListenRecordings, R::Supervisor | R::Manager) => Yes,
            (P::ViewAudit | P::ManageUsers, R::TenantAdmin) => Yes,
            _ => No,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something a route does. Every route of the API names one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Anything a signed-in user does for themself: sign out, their tokens, their tenants.
    SignedIn,
    ViewOwnSchedule,
    ViewQueueStats,
    ViewAgentStats,
    ViewImports,
    ImportData,
    PublishRoster,
    ViewRosters,
    ViewAdherence,
    ViewAgentAdherence,
    ClaimExcusal,
    ExcuseAdherence,
    RequestChange,
    ViewRequests,
    DecideRequest,
    ViewAlarms,
    AckAlarm,
    ViewEscalation,
    ConfirmCallIn,
    ViewIncidents,
    ManageIncidents,
    RecordCase,
    WorkCase,
    ViewAgentState,
    SetAgentState,
    ViewLiveQueues,
    ViewEvents,
    ListenRecordings,
    ViewAudit,
    ManageUsers,
    ManageTenants,
}

pub const PERMISSIONS: [Permission; 31] = [
    Permission::SignedIn,
    Permission::ViewOwnSchedule,
    Permission::ViewQueueStats,
    Permission::ViewAgentStats,
    Permission::ViewImports,
    Permission::ImportData,
    Permission::PublishRoster,
    Permission::ViewRosters,
    Permission::ViewAdherence,
    Permission::ViewAgentAdherence,
    Permission::ClaimExcusal,
    Permission::ExcuseAdherence,
    Permission::RequestChange,
    Permission::ViewRequests,
    Permission::DecideRequest,
    Permission::ViewAlarms,
    Permission::AckAlarm,
    Permission::ViewEscalation,
    Permission::ConfirmCallIn,
    Permission::ViewIncidents,
    Permission::ManageIncidents,
    Permission::RecordCase,
    Permission::WorkCase,
    Permission::ViewAgentState,
    Permission::SetAgentState,
    Permission::ViewLiveQueues,
    Permission::ViewEvents,
    Permission::ListenRecordings,
    Permission::ViewAudit,
    Permission::ManageUsers,
    Permission::ManageTenants,
];

impl Permission {
    pub fn describe(self) -> &'static str {
        match self {
            Permission::SignedIn => "sign out, own API tokens, list own tenants",
            Permission::ViewOwnSchedule => "one's own published schedule, adherence today and requests (`/my/schedule`, `/my/requests`)",
            Permission::ViewQueueStats => "queue statistics (`/stats`)",
            Permission::ViewAgentStats => "agent statistics (`/agent-stats`)",
            Permission::ViewImports => "the journal of data loads (`/imports`)",
            Permission::ImportData => "load call history, a queue_log or a calls CSV (`POST /imports`, the upload on `/plan`)",
            Permission::PublishRoster => "publish a roster version (`POST /rosters`; a file uploaded on `/roster`); plan a period on `/plan`",
            Permission::ViewRosters => "published roster versions (`/rosters`), a week of one with its report (`/roster`)",
            Permission::ViewAdherence => "adherence and attendance of every agent, history and live (`/adherence`), excusals",
            Permission::ViewAgentAdherence => "an agent's live adherence",
            Permission::ClaimExcusal => "claim excused adherence time for an agent",
            Permission::ExcuseAdherence => "excuse adherence time; approve or reject claims",
            Permission::RequestChange => "ask for a change to an agent's schedule (leave) and withdraw it",
            Permission::ViewRequests => "an agent's requests to change their schedule, with their checks and decisions",
            Permission::DecideRequest => "every agent's requests (`/requests`); approve or reject one at the step of the approval chain for one's role",
            Permission::ViewAlarms => "alarms (`/alarms`)",
            Permission::AckAlarm => "acknowledge an alarm",
            Permission::ViewEscalation => "the surge ladder's level and timelines (`/escalation`)",
            Permission::ConfirmCallIn => "confirm, when called in by the surge ladder, that one is coming",
            Permission::ViewIncidents => "incidents, their standard phrase and what affected agents do (`/incidents`)",
            Permission::ManageIncidents => "report and fix incidents, move agents to an incident and back, assign deferred cases",
            Permission::RecordCase => "record a deferred case during an incident",
            Permission::WorkCase => "close a deferred case after recovery (agents: those assigned to them)",
            Permission::ViewAgentState => "an agent's live state",
            Permission::SetAgentState => "change an agent's state (ready, not ready, logged out)",
            Permission::ViewLiveQueues => "live queues and KPIs (`/queues/live`, `/kpis/live`)",
            Permission::ViewEvents => "the live event stream (`/events`)",
            Permission::ListenRecordings => "call recordings",
            Permission::ViewAudit => "the audit log",
            Permission::ManageUsers => "the tenant's users",
            Permission::ManageTenants => "tenants: add, suspend, resume",
        }
    }
}

/// How far a permission reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Denied,
    /// Only what concerns the caller's own agent id.
    Own,
    /// Everything of the tenant (every tenant for a platform administrator).
    Tenant,
}

/// The table of `docs/security.md`, as the code has it.
pub fn markdown_table() -> String {
    let mut out = format!("| may | {} |\n|---|{}\n", ROLES.map(Role::as_str).join(" | "), "---|".repeat(ROLES.len()));
    for permission in PERMISSIONS {
        let cells: Vec<&str> = ROLES
            .iter()
            .map(|role| match role.access(permission) {
                Access::Denied => "–",
                Access::Own => "own",
                Access::Tenant => "yes",
            })
            .collect();
        out.push_str(&format!("| {} | {} |\n", permission.describe(), cells.join(" | ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for role in ROLES {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
        }
        assert!(Role::parse("root").unwrap_err().contains("platform-admin"));
    }

    #[test]
    fn agents_reach_only_their_own_and_only_platform_admins_tenants() {
        assert_eq!(Role::Agent.access(Permission::SetAgentState), Access::Own);
        assert_eq!(Role::Agent.access(Permission::ViewQueueStats), Access::Denied);
        assert_eq!(Role::TenantAdmin.access(Permission::ManageTenants), Access::Denied);
        assert_eq!(Role::PlatformAdmin.access(Permission::ManageTenants), Access::Tenant);
        assert_eq!(Role::Planner.access(Permission::SetAgentState), Access::Denied);
    }

    #[test]
    fn the_docs_carry_the_table_the_code_has() {
        let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/security.md")).unwrap();
        assert!(docs.contains(&markdown_table()), "docs/security.md must contain, verbatim:\n{}", markdown_table());
    }
}
