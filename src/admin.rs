//! `wfm admin`: tenants and users from the command line, for operators and scripts. Changes go
//! straight into the operational database, where a running `wfm serve` on the same data
//! directory or database sees them within a second; each is audited as `cli:USER`.

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use std::io::Read;
use std::path::Path;
use wfm_model::{AgentId, TenantId, TenantZone};
use wfm_ops::audit::AuditEntry;
use wfm_ops::{Language, Login, OpsDb, Quotas, Role, Tenant, TenantStatus, User};

use crate::cli::block_on;

#[derive(Debug, Args)]
pub struct AdminArgs {
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, Subcommand)]
enum What {
    /// Tenants: add, suspend, resume, list, quota.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Users: add, list, remove, password.
    #[command(subcommand)]
    User(UserCommand),
}

#[derive(Debug, Subcommand)]
enum TenantCommand {
    /// A new tenant, active, with the default quotas unless given.
    Add {
        id: String,
        #[arg(long)]
        name: String,
        /// IANA time zone, e.g. Europe/Warsaw: the tenant's intervals, IVR hours and records.
        #[arg(long)]
        tz: String,
        #[arg(long, default_value = "en", value_parser = ["en", "zh-Hans", "zh-Hant", "ru", "pl"])]
        language: String,
        #[command(flatten)]
        quotas: QuotaFlags,
    },
    /// Refuses the tenant's calls, registrations and sign-ins; keeps its data.
    Suspend { id: String },
    /// Restores a suspended tenant's service.
    Resume { id: String },
    /// Every tenant with its status and quotas.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Changes a tenant's quotas (those not given stay as they are).
    Quota {
        id: String,
        #[command(flatten)]
        quotas: QuotaFlags,
    },
}

#[derive(Debug, Args)]
struct QuotaFlags {
    /// Agents' phones registered at once.
    #[arg(long)]
    max_agents: Option<u32>,
    /// Calls in progress at once (more get 503).
    #[arg(long)]
    max_calls: Option<u32>,
    /// Dialled numbers in the tenant's IVR file.
    #[arg(long)]
    max_ivr_flows: Option<u32>,
    /// Megabytes of recordings and voicemail.
    #[arg(long)]
    max_recording_mb: Option<u64>,
    /// Days recordings and voicemail are kept (0: for ever); older ones are deleted, audited.
    #[arg(long)]
    recording_retention_days: Option<u32>,
}

impl QuotaFlags {
    fn apply(&self, mut q: Quotas) -> Quotas {
        q.max_agents = self.max_agents.unwrap_or(q.max_agents);
        q.max_concurrent_calls = self.max_calls.unwrap_or(q.max_concurrent_calls);
        q.max_ivr_flows = self.max_ivr_flows.unwrap_or(q.max_ivr_flows);
        q.max_recording_bytes = self.max_recording_mb.map_or(q.max_recording_bytes, |mb| mb.saturating_mul(1 << 20));
        q.recording_retention_days = self.recording_retention_days.unwrap_or(q.recording_retention_days);
        q
    }
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// A new user; prints a generated password when none comes on standard input.
    Add {
        /// The user's tenant (not for platform-admin).
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long)]
        login: String,
        /// platform-admin, tenant-admin, planner, supervisor, manager or agent.
        #[arg(long)]
        role: String,
        /// The ACD agent id an agent user is.
        #[arg(long)]
        agent_id: Option<String>,
        /// Read the password from standard input (its first line).
        #[arg(long)]
        password_stdin: bool,
    },
    /// The users of a tenant (or, without --tenant, the platform administrators).
    List {
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Removes a user: their sessions end and their tokens stop working.
    Remove {
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long)]
        login: String,
    },
    /// Sets a user's password (from standard input, or generated and printed); their sessions
    /// end and their tokens are revoked.
    Password {
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long)]
        login: String,
        #[arg(long)]
        password_stdin: bool,
    },
}

pub fn run(data: &Path, database: Option<String>, a: AdminArgs) -> Result<()> {
    let url = database.unwrap_or_else(|| OpsDb::sqlite_url(data));
    if url.starts_with("sqlite:") {
        std::fs::create_dir_all(data).with_context(|| format!("--data {}: cannot create", data.display()))?;
    }
    block_on(async move {
        let db = OpsDb::connect(&url).await?;
        match a.what {
            What::Tenant(c) => tenant(data, &db, c).await,
            What::User(c) => user(&db, c).await,
        }
    })?
}

pub(crate) fn actor() -> String {
    format!("cli:{}", std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "unknown".into()))
}

async fn audit(db: &OpsDb, tenant: &str, action: &str, target: &str, detail: &str) -> Result<()> {
    db.audit(&AuditEntry::new(tenant, &actor(), action, target, "cli", detail)).await?;
    Ok(())
}

async fn tenant(data: &Path, db: &OpsDb, command: TenantCommand) -> Result<()> {
    match command {
        TenantCommand::Add { id, name, tz, language, quotas } => {
            let id = TenantId::parse(&id).context("ID")?;
            let zone = TenantZone::parse(&tz).context("--tz")?;
            let language = Language::parse(&language).map_err(anyhow::Error::msg).context("--language")?;
            let mut tenant = Tenant::new(id.clone(), &name, zone, language).context("--name")?;
            tenant.quotas = quotas.apply(tenant.quotas);
            // The store keeps each tenant's zone with its data: a clash is refused before the row is made.
            let store = wfm_analytics::Store::create_or_open(&data.join("store"))?;
            store.ensure_tenant(&id, zone).context("--tz")?;
            db.add_tenant(&tenant).await?;
            let dir = crate::serve::tenant_dir(data, id.as_str());
            std::fs::create_dir_all(&dir).with_context(|| format!("{}: cannot create", dir.display()))?;
            audit(db, id.as_str(), "tenant.add", id.as_str(), &format!("{name} ({tz})")).await?;
            println!("tenant {id} added; its ACD files go in {} (acd.toml, ivr.toml)", dir.display());
        }
        TenantCommand::Suspend { id } => {
            db.set_tenant_status(&id, TenantStatus::Suspended).await?;
            audit(db, &id, "tenant.suspend", &id, "").await?;
            println!("tenant {id} suspended");
        }
        TenantCommand::Resume { id } => {
            db.set_tenant_status(&id, TenantStatus::Active).await?;
            audit(db, &id, "tenant.resume", &id, "").await?;
            println!("tenant {id} resumed");
        }
        TenantCommand::List { json } => {
            let tenants = db.tenants().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&tenants)?);
            } else {
                println!("{:<16} {:<10} {:<20} {:<8} {:>7} {:>6} {:>6} {:>9}  name", "tenant", "status", "time zone", "language", "agents", "calls", "flows", "rec. MB");
                for t in tenants {
                    let q = t.quotas;
                    println!(
                        "{:<16} {:<10} {:<20} {:<8} {:>7} {:>6} {:>6} {:>9}  {}",
                        t.id.as_str(),
                        t.status.as_str(),
                        t.zone.name(),
                        t.language.as_str(),
                        q.max_agents,
                        q.max_concurrent_calls,
                        q.max_ivr_flows,
                        q.max_recording_bytes >> 20,
                        t.name
                    );
                }
            }
        }
        TenantCommand::Quota { id, quotas } => {
            let tenant = db.tenant(&id).await?.with_context(|| format!("tenant {id} not found"))?;
            let changed = quotas.apply(tenant.quotas);
            db.set_quotas(&id, &changed).await?;
            audit(db, &id, "tenant.quota", &id, &serde_json::to_string(&changed)?).await?;
            println!("tenant {id}: {}", serde_json::to_string(&changed)?);
        }
    }
    Ok(())
}

/// The password from standard input's first line, or a generated one (and whether it was).
fn password(from_stdin: bool) -> Result<(String, bool)> {
    if !from_stdin {
        return Ok((wfm_ops::secrets::random_password()?, true));
    }
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).context("--password-stdin: reading standard input")?;
    let line = text.lines().next().unwrap_or_default().to_owned();
    Ok((line, false))
}

async fn user(db: &OpsDb, command: UserCommand) -> Result<()> {
    match command {
        UserCommand::Add { tenant, login, role, agent_id, password_stdin } => {
            let role = Role::parse(&role).map_err(anyhow::Error::msg).context("--role")?;
            let tenant_id = tenant.as_deref().map(TenantId::parse).transpose().context("--tenant")?;
            if let Some(t) = &tenant_id
                && db.tenant(t.as_str()).await?.is_none()
            {
                anyhow::bail!("--tenant {t}: no such tenant (wfm admin tenant add)");
            }
            let agent = agent_id.as_deref().map(AgentId::parse).transpose().context("--agent-id")?;
            let user = User::new(tenant_id, Login::parse(&login)?, role, agent)?;
            let (password, generated) = password(password_stdin)?;
            db.add_user(&user, &wfm_ops::users::hash_password(&password).context("--password-stdin")?).await?;
            audit(db, tenant.as_deref().unwrap_or(""), "user.add", &login, role.as_str()).await?;
            if generated {
                println!("user {login} ({role}) added; password: {password}");
            } else {
                println!("user {login} ({role}) added");
            }
        }
        UserCommand::List { tenant, json } => {
            let users = db.users(tenant.as_deref()).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&users)?);
            } else {
                for u in users {
                    println!("{:<24} {:<15} {}", u.login, u.role, u.agent_id.as_ref().map_or("", AgentId::as_str));
                }
            }
        }
        UserCommand::Remove { tenant, login } => {
            db.remove_user(tenant.as_deref(), &login).await?;
            audit(db, tenant.as_deref().unwrap_or(""), "user.remove", &login, "").await?;
            println!("user {login} removed");
        }
        UserCommand::Password { tenant, login, password_stdin } => {
            let (password, generated) = password(password_stdin)?;
            db.set_password(tenant.as_deref(), &login, &wfm_ops::users::hash_password(&password).context("--password-stdin")?).await?;
            audit(db, tenant.as_deref().unwrap_or(""), "user.password", &login, "").await?;
            if generated {
                println!("user {login}: new password {password}");
            } else {
                println!("user {login}: password changed");
            }
        }
    }
    Ok(())
}
