//! `wfm serve`: the HTTP API and one SIP endpoint for every tenant, over the data directory.
//!
//! Start-up: demo history on an empty store; the tenants table brought up to date (every tenant
//! of the store, and `demo`); the demo's users on a database without users; then one ACD per
//! tenant that has one configured (`DATA/tenants/T/acd.toml` and `ivr.toml`; for `demo` the
//! built-in ones unless `--acd`/`--ivr` or those files say otherwise). A watcher reads the
//! tenants table every second, so `wfm admin` changes (suspension, quotas, a new tenant) take
//! effect without a restart. Each ACD's state changes feed the tenant's live adherence and
//! alarms (`wfm_web::supervision`).

use anyhow::{bail, Context, Result};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use wfm_analytics::{Store, StoreError};
use wfm_model::{QueueName, TenantId, TenantZone};
use wfm_ops::audit::AuditEntry;
use wfm_ops::{Language, OpsDb, Role, Tenant, User};
use wfm_telephony::transport::{Endpoint, Stack};

use crate::cli::ServeArgs;

pub const DEMO: &str = "demo";
const DEMO_ZONE: &str = "Europe/Warsaw";

/// The SIP address on UDP and TCP, the same port on both. With port 0 the system picks the UDP
/// port, which another program may hold on TCP: then another pick, a few times.
async fn bind_sip(address: &str) -> Result<(tokio::net::UdpSocket, tokio::net::TcpListener)> {
    for _ in 0..20 {
        let udp = tokio::net::UdpSocket::bind(address).await.with_context(|| format!("--sip {address}"))?;
        let at = udp.local_addr()?;
        match tokio::net::TcpListener::bind(at).await {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && address.ends_with(":0") => continue,
            Err(e) => return Err(e).with_context(|| format!("--sip {at} (TCP)")),
        }
    }
    bail!("--sip {address}: no port was free on both UDP and TCP after 20 tries")
}

pub fn serve(data: &Path, database: Option<String>, a: ServeArgs) -> Result<()> {
    let store = Store::create_or_open(&data.join("store"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let url = database.unwrap_or_else(|| OpsDb::sqlite_url(data));
    let db = runtime.block_on(OpsDb::connect(&url))?;
    let first_start = a.demo_days > 0 && store.tenants()?.is_empty();
    if first_start {
        demo_history(data, &db, &runtime, a.demo_days)?;
    }
    runtime.block_on(register_tenants(&store, &db))?;
    if first_start && a.demo_days >= crate::demo::MIN_HISTORY_DAYS {
        crate::demo::spawn_plan(data, url.clone(), TenantZone::parse(DEMO_ZONE)?);
    }
    runtime.block_on(demo_users(&db, a.demo_password.as_deref()))?;
    move_old_demo_files(data)?;
    let prompts = wfm_telephony::media::audio::Prompts::with_folder(&data.join("prompts"))?;
    let store = Arc::new(store);
    runtime.block_on(async move {
        let (sip, sip_tcp) = bind_sip(&a.sip).await?;
        let (sip, sip_addr) = (Arc::new(sip), sip_tcp.local_addr()?);
        if sip_addr.ip().is_unspecified() {
            // The address goes into Contact headers and SDP: phones must be able to reach it.
            bail!("--sip {}: give the address phones reach (e.g. 192.168.1.10:5060), not a wildcard", a.sip);
        }
        let trusted = a.sip_trusted.iter().copied().chain(a.trunk.map(|t| t.ip()));
        let pike = wfm_telephony::sip::pike::Pike::new(a.sip_invite_rate, trusted);
        let endpoint = Endpoint::new(Box::new(sip_events()), sip, Some(&a.sip_default_tenant), a.max_calls, pike);
        let supervisors = Arc::new(wfm_web::supervision::Supervisors::default());
        let acds = Acds { data: data.to_owned(), args: Arc::new(a.clone()), prompts, sip_addr, store: store.clone(), db: db.clone(), endpoint: endpoint.clone(), supervisors: supervisors.clone() };
        // The demo's configuration (flags or files) must be right to start at all; another
        // tenant's faults are reported and leave the others in service. The demo goes first:
        // a number two tenants claim stays the demo's.
        let mut tenants = db.tenants().await?;
        tenants.sort_by_key(|t| t.id.as_str() != DEMO);
        for tenant in tenants {
            match acds.start(&tenant) {
                Err(e) if tenant.id.as_str() == DEMO => return Err(e.context(format!("tenant {DEMO}"))),
                Err(e) => eprintln!("acd: tenant {} not started: {e:#}", tenant.id),
                Ok(()) => {}
            }
        }
        spawn_transport(&endpoint, sip_tcp, sip_addr);
        tokio::spawn(watch_tenants(acds));
        println!("wfm SIP on udp:{sip_addr} and tcp:{sip_addr}");
        let listener = tokio::net::TcpListener::bind(&a.http).await.with_context(|| format!("--http {}", a.http))?;
        let addr = listener.local_addr()?;
        println!("wfm serving http://{addr} (data in {})", data.display());
        let policy = wfm_ops::sessions::SessionPolicy { idle_ms: (a.session_idle_s as i64).saturating_mul(1000), ..Default::default() };
        let auth = Arc::new(wfm_web::auth::AuthState::new(policy, a.secure_cookies));
        tokio::spawn(purge_sessions(db.clone(), policy));
        let app = wfm_web::router(wfm_web::AppState { store, db, acd: Some(endpoint), data: data.to_owned(), auth, supervisors, stats_cache: Default::default(), plans: Default::default() });
        axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).with_graceful_shutdown(shutdown_signal()).await?;
        Ok(())
    })
}

fn demo_history(data: &Path, db: &OpsDb, runtime: &tokio::runtime::Runtime, days: u32) -> Result<()> {
    let started_at = chrono::Utc::now();
    let start = started_at.date_naive() - chrono::Duration::days(days as i64);
    eprintln!("empty store: generating {days} days of demo history for tenant `demo` …");
    let began = std::time::Instant::now();
    let config = wfm_datasets::GeneratorConfig::standard(start, days, 42, 1, 2, 3000.0)?;
    let report = wfm_datasets::generate(&config, data)?;
    eprintln!("  {} calls, {} agents", report.calls, report.agents);
    let written = wfm_ops::imports::Written { calls: report.calls as usize, states: report.agent_state_periods as usize, ..Default::default() };
    let what = format!("wfm generate --days {days} --seed 42");
    let run = wfm_ops::imports::ImportRun::began(DEMO, started_at, "generated", what).finished(written, 0, began.elapsed().as_secs_f64());
    runtime.block_on(db.record_import(&run))?;
    Ok(())
}

/// Every tenant the store has data of, and `demo`, gets a row (a data directory of an earlier
/// release had tenants only in the store).
async fn register_tenants(store: &Store, db: &OpsDb) -> Result<()> {
    let mut known: Vec<TenantId> = store.tenants()?;
    let demo = TenantId::parse(DEMO)?;
    if !known.contains(&demo) {
        known.push(demo);
    }
    for id in known {
        if db.tenant(id.as_str()).await?.is_some() {
            continue;
        }
        let zone = match store.tenant_zone(&id) {
            Ok(zone) => zone,
            Err(StoreError::UnknownTenant(_)) => TenantZone::parse(DEMO_ZONE)?,
            Err(e) => return Err(e.into()),
        };
        let name = if id.as_str() == DEMO { "Demo contact centre".to_owned() } else { id.to_string() };
        db.ensure_tenant(&Tenant::new(id, &name, zone, Language::English)?).await?;
    }
    Ok(())
}

/// On a database without users: the platform administrator and one user of each role for the
/// demo tenant, printed once with their passwords.
async fn demo_users(db: &OpsDb, password: Option<&str>) -> Result<()> {
    if db.has_users().await? {
        return Ok(());
    }
    let demo = || Some(TenantId::parse(DEMO).expect("a valid id"));
    let mut users = vec![User::new(None, wfm_ops::Login::parse("admin")?, Role::PlatformAdmin, None)?];
    for (login, role) in [("demo-admin", Role::TenantAdmin), ("planner", Role::Planner), ("supervisor", Role::Supervisor), ("manager", Role::Manager)] {
        users.push(User::new(demo(), wfm_ops::Login::parse(login)?, role, None)?);
    }
    for agent in wfm_telephony::accounts::DEMO_AGENTS {
        let id = agent.to_string();
        users.push(User::new(demo(), wfm_ops::Login::parse(&id)?, Role::Agent, Some(wfm_model::AgentId::parse(&id)?))?);
    }
    println!("Users created (sign in at POST /api/v1/login; platform administrators leave the tenant empty):");
    for user in &users {
        let password = match password {
            Some(p) => p.to_owned(),
            None => wfm_ops::secrets::random_password()?,
        };
        let hashing = password.clone();
        let digest = tokio::task::spawn_blocking(move || wfm_ops::users::hash_password(&hashing)).await??;
        db.add_user(user, &digest).await?;
        let tenant = user.tenant.as_ref().map_or("", TenantId::as_str);
        println!("  tenant {:<6} login {:<12} role {:<15} password {password}", if tenant.is_empty() { "-" } else { tenant }, user.login, user.role);
        db.audit(&AuditEntry::new(tenant, "system", "user.add", user.login.as_str(), "wfm serve", user.role.as_str())).await?;
    }
    Ok(())
}

/// An earlier release kept the demo ACD's files in the data directory itself; they now live in
/// `DATA/tenants/demo/`.
fn move_old_demo_files(data: &Path) -> Result<()> {
    let dir = tenant_dir(data, DEMO);
    std::fs::create_dir_all(&dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    for name in ["acd-journal.jsonl", wfm_telephony::accounts::FILE, "recordings", "voicemail"] {
        let (old, new) = (data.join(name), dir.join(name));
        if old.exists() && !new.exists() {
            std::fs::rename(&old, &new).with_context(|| format!("moving {} to {}", old.display(), new.display()))?;
            eprintln!("moved {} to {}", old.display(), new.display());
        }
    }
    Ok(())
}

pub fn tenant_dir(data: &Path, tenant: &str) -> PathBuf {
    data.join("tenants").join(tenant)
}

/// What starting a tenant's ACD needs.
#[derive(Clone)]
struct Acds {
    data: PathBuf,
    args: Arc<ServeArgs>,
    prompts: wfm_telephony::media::audio::Prompts,
    sip_addr: std::net::SocketAddr,
    store: Arc<Store>,
    db: OpsDb,
    endpoint: Arc<Endpoint>,
    supervisors: Arc<wfm_web::supervision::Supervisors>,
}

/// A tenant's configuration files as given: `(name for messages, text)`, or `None` for the
/// built-in demo ones.
struct TenantFiles {
    acd: Option<(String, String)>,
    ivr: Option<(String, String)>,
}

impl Acds {
    /// The tenant's ACD files; `None` when it has no ACD configured.
    fn files(&self, tenant: &str) -> Result<Option<TenantFiles>> {
        let dir = tenant_dir(&self.data, tenant);
        let read = |flag: &str, given: Option<&PathBuf>, name: &str| -> Result<Option<(String, String)>> {
            let path = given.cloned().unwrap_or_else(|| dir.join(name));
            match std::fs::read_to_string(&path) {
                Ok(text) => Ok(Some((path.display().to_string(), text))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && given.is_none() => Ok(None),
                Err(e) => Err(e).with_context(|| format!("{flag} {}", path.display())),
            }
        };
        let is_demo = tenant == DEMO;
        let acd = read("--acd", self.args.acd.as_ref().filter(|_| is_demo), "acd.toml")?;
        let ivr = read("--ivr", self.args.ivr.as_ref().filter(|_| is_demo), "ivr.toml")?;
        match (&acd, &ivr) {
            (None, None) if !is_demo => Ok(None),
            (Some(_), None) if !is_demo => bail!("{}: the tenant has acd.toml but no ivr.toml (its numbers)", dir.display()),
            (None, Some(_)) if !is_demo => bail!("{}: the tenant has ivr.toml but no acd.toml (its queues and agents)", dir.display()),
            _ => Ok(Some(TenantFiles { acd, ivr })),
        }
    }

    /// Starts the tenant's ACD when it has one configured and none runs yet.
    fn start(&self, tenant: &Tenant) -> Result<()> {
        let id = tenant.id.as_str();
        if self.endpoint.stack(id).is_some() {
            return Ok(());
        }
        let Some(files) = self.files(id)? else { return Ok(()) };
        let engine = match &files.acd {
            Some((name, text)) => wfm_telephony::acd::config::parse(name, text)?,
            None => wfm_telephony::acd::demo(),
        };
        let (flow_file, flow) = match &files.ivr {
            Some((name, text)) => (name.clone(), wfm_telephony::ivr::Flow::parse(name, text)?),
            None => ("the demo IVR".to_owned(), wfm_telephony::ivr::Flow::demo()),
        };
        let numbers = flow.numbers();
        if numbers.len() > tenant.quotas.max_ivr_flows as usize {
            bail!("{flow_file}: {} dialled numbers, more than the tenant's quota of {} (max_ivr_flows)", numbers.len(), tenant.quotas.max_ivr_flows);
        }
        let dir = tenant_dir(&self.data, id);
        let password = self.args.demo_agent_password.as_deref().filter(|_| id == DEMO);
        let accounts = wfm_telephony::accounts::load_or_create(&dir, password, &engine.agent_ids())?;
        if !accounts.created.is_empty() {
            println!("SIP accounts of tenant {id} created in {}:", dir.join(wfm_telephony::accounts::FILE).display());
            for user in &accounts.created {
                println!("  {user}  {}", accounts.passwords[user]);
            }
        }
        let registrar = wfm_telephony::sip::registrar::Registrar::new(id, accounts.by_user(), wfm_telephony::accounts::random_bytes()?);
        let journal = wfm_telephony::journal::Journal::open(&dir.join("acd-journal.jsonl")).with_context(|| format!("the ACD's state journal of tenant {id}"))?;
        let calls_config = calls_config(&dir, &engine, flow, &flow_file, &self.prompts, self.sip_addr, tenant, &self.args)?;
        let live = Arc::new(wfm_telephony::live::Live::new(id, engine, journal));
        let (media_events, mut media_events_rx) = tokio::sync::mpsc::unbounded_channel();
        let media = wfm_telephony::media::MediaHub::new(self.sip_addr.ip(), self.prompts.clone(), media_events);
        let tag = wfm_telephony::accounts::random_hex::<4>()?;
        let calls = wfm_telephony::calls::Calls::new(calls_config, Box::new(media.clone()), wfm_telephony::accounts::random_bytes()?, std::time::Instant::now(), chrono::Utc::now().timestamp_millis()).with_call_id_tag(&tag);
        let mut core = wfm_telephony::sip::core::SipCore::new(registrar, concat!("wfm/", env!("CARGO_PKG_VERSION"))).with_calls(calls);
        core.set_suspended(!tenant.is_active());
        core.set_max_agents(Some(tenant.quotas.max_agents as usize));
        let stack = self.endpoint.add(Stack::new(id, core, live.clone(), media), &numbers, &tag).with_context(|| format!("{flow_file}: cannot serve tenant {id}"))?;
        // Records journalled before a crash go into the store first; then every second.
        if let Err(StoreError::UnknownTenant(_)) = self.store.tenant_zone(&tenant.id) {
            self.store.ensure_tenant(&tenant.id, tenant.zone)?;
        }
        journal_to_store(&live, &self.store, &tenant.id)?;
        let (store, tenant_id) = (self.store.clone(), tenant.id.clone());
        let moving = live.clone();
        tokio::spawn(async move {
            let mut every_second = tokio::time::interval(std::time::Duration::from_secs(1));
            loop {
                every_second.tick().await;
                let (live, store, tenant) = (moving.clone(), store.clone(), tenant_id.clone());
                match tokio::task::spawn_blocking(move || journal_to_store(&live, &store, &tenant)).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => eprintln!("acd: {}: records not yet in the store (kept in the journal): {e:#}", moving.tenant),
                    Err(e) => eprintln!("acd: {}: the store writer failed: {e}", moving.tenant),
                }
            }
        });
        let feed = wfm_web::supervision::Feed { tenant: tenant.id.clone(), zone: tenant.zone, dir: dir.clone(), live: live.clone(), store: self.store.clone(), db: self.db.clone() };
        let supervisors = self.supervisors.clone();
        tokio::spawn(async move {
            let tenant = feed.tenant.clone();
            if let Err(e) = wfm_web::supervision::supervise(supervisors, feed).await {
                eprintln!("intraday: tenant {tenant}: no live adherence or alarms: {e}");
            }
        });
        let (acting, acting_stack, mut actions, local) = (self.endpoint.clone(), stack.clone(), live.actions(), self.sip_addr);
        tokio::spawn(async move {
            let mut batch = Vec::new();
            while actions.recv_many(&mut batch, 64).await > 0 {
                acting.on_actions(&acting_stack, &batch, local);
                batch.clear();
            }
        });
        let (hearing, hearing_stack) = (self.endpoint.clone(), stack);
        tokio::spawn(async move {
            while let Some(event) = media_events_rx.recv().await {
                hearing.on_media(&hearing_stack, &event, local);
            }
        });
        eprintln!("acd: tenant {id} served (numbers {}, zone {})", numbers.join(", "), tenant.zone);
        Ok(())
    }
}

/// The call controller's view of a tenant: its IVR, queues, agents, zone, limits and where
/// recordings and voicemail go.
#[allow(clippy::too_many_arguments)]
fn calls_config(
    dir: &Path,
    engine: &wfm_telephony::acd::Engine,
    flow: wfm_telephony::ivr::Flow,
    flow_file: &str,
    prompts: &wfm_telephony::media::audio::Prompts,
    local: std::net::SocketAddr,
    tenant: &Tenant,
    a: &ServeArgs,
) -> Result<wfm_telephony::calls::Config> {
    let recordings = dir.join("recordings");
    let voicemail = dir.join("voicemail");
    for dir in [&recordings, &voicemail] {
        std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    }
    let queues = engine.queue_configs();
    let (needed_prompts, needed_queues) = flow.needs();
    if let Some(prompt) = needed_prompts.iter().find(|p| !prompts.contains(p)) {
        bail!("{flow_file}: prompt {prompt} is neither shipped nor in the data directory's prompts/");
    }
    if let Some(queue) = needed_queues.iter().find(|q| !queues.iter().any(|c| c.id == **q)) {
        bail!("{flow_file}: queue {queue} is not one of the tenant's queues");
    }
    Ok(wfm_telephony::calls::Config {
        local,
        media_ip: local.ip(),
        max_calls: (tenant.quotas.max_concurrent_calls as usize).min(a.max_calls),
        flow,
        zone: tenant.zone,
        agent_queues: engine.agent_ids().into_iter().map(|agent| (agent.clone(), engine.agent_queues(&agent))).collect(),
        queues: queues.iter().map(|q| q.id.clone()).collect(),
        recorded_queues: queues.iter().filter(|q| q.record && !a.no_recordings).map(|q| q.id.clone()).collect(),
        recordings,
        voicemail,
        voicemail_limit: std::time::Duration::from_secs(120),
        trunk: a.trunk,
    })
}

/// The endpoint's UDP and TCP service and the timers of every tenant's calls and engine.
fn spawn_transport(endpoint: &Arc<Endpoint>, sip_tcp: tokio::net::TcpListener, sip_addr: std::net::SocketAddr) {
    let udp_endpoint = endpoint.clone();
    tokio::spawn(async move {
        if let Err(e) = wfm_telephony::transport::serve_udp(udp_endpoint).await {
            eprintln!("sip: the UDP socket failed: {e}");
        }
    });
    let tcp_endpoint = endpoint.clone();
    tokio::spawn(async move {
        if let Err(e) = wfm_telephony::transport::serve_tcp(sip_tcp, tcp_endpoint).await {
            eprintln!("sip: the TCP listener failed: {e}");
        }
    });
    let ticking = endpoint.clone();
    tokio::spawn(async move {
        let mut clock = tokio::time::interval(std::time::Duration::from_millis(50));
        let mut last: HashMap<String, wfm_telephony::media::MediaCounters> = HashMap::new();
        for n in 0u64.. {
            clock.tick().await;
            ticking.tick_calls(sip_addr);
            if n % 20 == 0 {
                for stack in ticking.stacks() {
                    stack.live.tick();
                }
                ticking.tick(sip_addr);
            }
            if n % 200 == 0 {
                for stack in ticking.stacks() {
                    let now = stack.media.counters();
                    let before = last.insert(stack.tenant.clone(), now).unwrap_or_default();
                    if now != before {
                        eprintln!("media: {}: {} calls, {} packets/s relayed, {} packets/s of prompts", stack.tenant, now.calls, (now.relayed - before.relayed) / 10, (now.played - before.played) / 10);
                    }
                }
            }
        }
    });
}

/// Applies the tenants table to the running ACDs every second: suspension, quotas, new tenants;
/// and every other second measures each tenant's recordings against its storage quota.
async fn watch_tenants(acds: Acds) {
    let mut every_second = tokio::time::interval(std::time::Duration::from_secs(1));
    let mut full: HashMap<String, bool> = HashMap::new();
    for n in 0u64.. {
        every_second.tick().await;
        let tenants = match acds.db.tenants().await {
            Ok(t) => t,
            Err(e) => {
                eprintln!("wfm: cannot read the tenants table: {e}");
                continue;
            }
        };
        for tenant in tenants {
            let id = tenant.id.to_string();
            let Some(stack) = acds.endpoint.stack(&id) else {
                if let Err(e) = acds.start(&tenant) {
                    // Said again every minute while the files stay wrong.
                    if n % 60 == 0 {
                        eprintln!("acd: tenant {id} not started: {e:#}");
                    }
                }
                continue;
            };
            let over = if n % 2 == 0 {
                let (dir, retention) = (tenant_dir(&acds.data, &id), tenant.quotas.recording_retention_days);
                let (used, deleted) = tokio::task::spawn_blocking(move || sweep_recordings(&dir, retention)).await.unwrap_or_default();
                if !deleted.is_empty() {
                    let shown: Vec<&str> = deleted.iter().take(20).map(String::as_str).collect();
                    let detail = format!("{} files older than {retention} days: {}{}", deleted.len(), shown.join(", "), if deleted.len() > shown.len() { ", …" } else { "" });
                    eprintln!("acd: {id}: recordings deleted, {detail}");
                    if let Err(e) = acds.db.audit(&AuditEntry::new(&id, "system", "recording.delete", "recordings", "wfm serve", &detail)).await {
                        eprintln!("wfm: audit not written: {e}");
                    }
                }
                let over = used >= tenant.quotas.max_recording_bytes;
                if full.insert(id.clone(), over) != Some(over) && (over || n > 0) {
                    recordings_alarm(&acds.db, &stack, over, used, tenant.quotas.max_recording_bytes).await;
                }
                over
            } else {
                full.get(&id).copied().unwrap_or(false)
            };
            let node_max = acds.args.max_calls;
            stack.with_core(|core| {
                core.set_suspended(!tenant.is_active());
                core.set_max_agents(Some(tenant.quotas.max_agents as usize));
                if let Some(calls) = core.calls_mut() {
                    calls.set_max_calls((tenant.quotas.max_concurrent_calls as usize).min(node_max));
                    calls.set_recording_allowed(!over);
                }
            });
        }
    }
}

async fn recordings_alarm(db: &OpsDb, stack: &Stack, over: bool, used: u64, quota: u64) {
    let (action, message) = if over {
        ("quota.recordings.full", format!("recordings use {used} bytes of the {quota} allowed: new calls are not recorded"))
    } else {
        ("quota.recordings.ok", format!("recordings use {used} bytes of the {quota} allowed: recording again"))
    };
    eprintln!("acd: {}: {message}", stack.tenant);
    stack.live.alarm(action, &message);
    if let Err(e) = db.audit(&AuditEntry::new(&stack.tenant, "system", action, "recordings", "wfm serve", &message)).await {
        eprintln!("wfm: audit not written: {e}");
    }
}

/// Deletes a tenant's recordings and voicemail older than `retention_days` (0: none); answers
/// the bytes left and the files deleted (`recordings/NAME`, `voicemail/NAME`).
fn sweep_recordings(tenant_dir: &Path, retention_days: u32) -> (u64, Vec<String>) {
    let too_old = (retention_days > 0).then(|| std::time::SystemTime::now() - std::time::Duration::from_secs(u64::from(retention_days) * 86_400));
    let (mut used, mut deleted) = (0, Vec::new());
    for folder in ["recordings", "voicemail"] {
        let Ok(entries) = std::fs::read_dir(tenant_dir.join(folder)) else { continue };
        for entry in entries.flatten() {
            let Ok(meta) = entry.metadata() else { continue };
            if !meta.is_file() {
                continue;
            }
            let expired = too_old.is_some_and(|limit| meta.modified().is_ok_and(|m| m < limit));
            if expired && std::fs::remove_file(entry.path()).is_ok() {
                deleted.push(format!("{folder}/{}", entry.file_name().to_string_lossy()));
            } else {
                used += meta.len();
            }
        }
    }
    (used, deleted)
}

async fn purge_sessions(db: OpsDb, policy: wfm_ops::sessions::SessionPolicy) {
    let mut every_minute = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        every_minute.tick().await;
        if let Err(e) = db.purge_sessions(policy, wfm_ops::now_ms()).await {
            eprintln!("wfm: expired sessions not purged: {e}");
        }
    }
}

/// Moves the ACD's journalled state periods and calls into the store (idempotent: a record
/// already there is skipped), then clears what it moved; returns how many were moved. The
/// journal is locked to read the batch and to clear it, not while the store writes; a call
/// whose agent is still in wrap-up waits for its `wrap_ms`.
fn journal_to_store(live: &wfm_telephony::live::Live, store: &Store, tenant: &TenantId) -> Result<usize> {
    use wfm_telephony::journal::Entry;
    let batch = live.stored_batch().context("reading the ACD's journal")?;
    if batch.entries.is_empty() {
        return Ok(0);
    }
    let (mut periods, mut calls) = (Vec::new(), Vec::new());
    for entry in &batch.entries {
        // One bad record must not hold back the others (nor grow the journal forever).
        match entry {
            Entry::Period(p) => match state_event(p) {
                Ok(event) => periods.push(event),
                Err(e) => eprintln!("acd: a journalled period of {} is invalid and dropped: {e:#}", p.agent),
            },
            Entry::Call(c) => match call_record(c) {
                Ok(record) => calls.push(record),
                Err(e) => eprintln!("acd: the journalled call {} is invalid and dropped: {e:#}", c.call_id),
            },
        }
    }
    store.append(tenant, &calls, &periods)?;
    live.clear_stored(&batch).context("clearing the ACD's journal")?;
    Ok(calls.len() + periods.len())
}

fn at_ms(ms: i64) -> Result<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::from_timestamp_millis(ms).with_context(|| format!("time {ms} ms out of range"))
}

fn state_event(p: &wfm_telephony::journal::ClosedPeriod) -> Result<wfm_model::AgentStateEvent> {
    let event = wfm_model::AgentStateEvent {
        agent_id: wfm_model::AgentId::parse(&p.agent)?,
        state: wfm_model::AgentState::parse(&p.state)?,
        reason: p.reason.clone(),
        started_at: at_ms(p.started_ms)?,
        ended_at: at_ms(p.ended_ms)?,
        queues: p.queues.iter().map(|q| QueueName::parse(q)).collect::<Result<_, _>>()?,
    };
    event.validate()?;
    Ok(event)
}

fn call_record(c: &wfm_telephony::journal::CallSegment) -> Result<wfm_model::CallRecord> {
    c.to_record().map_err(anyhow::Error::msg)
}

/// What the SIP endpoint reports: registrations log agents' phones in and out of their tenant's
/// ACD and are logged; malformed datagrams are logged the first ten times, then every
/// thousandth, so that a flood cannot flood the log too.
fn sip_events() -> impl FnMut(&str, &wfm_telephony::sip::core::Event, std::net::SocketAddr) + Send {
    use wfm_telephony::sip::core::Event;
    use wfm_telephony::sip::registrar::Registration;
    let mut malformed = 0u64;
    move |tenant, event, from| match event {
        Event::Registration(Registration::Registered { user, expires_s }) => eprintln!("sip: {tenant}: {user} registered from {from} for {expires_s} s"),
        Event::Registration(Registration::Unregistered { user }) => eprintln!("sip: {tenant}: {user} unregistered"),
        Event::Registration(Registration::Refused { user }) => eprintln!("sip: {tenant}: registration of {user} from {from} refused"),
        Event::Registration(Registration::Locked { user, what }) => eprintln!("sip: {tenant}: password guessing for {user} from {from}: {what:?} locked for 10 minutes"),
        Event::FloodBlocked { dropped } => eprintln!("sip: {from} sends new calls faster than --sip-invite-rate: ignored for 10 s ({dropped} calls dropped so far)"),
        Event::Malformed(e) => {
            malformed += 1;
            if malformed <= 10 || malformed.is_multiple_of(1000) {
                eprintln!("sip: malformed datagram from {from} dropped ({malformed} so far): {e}");
            }
        }
        _ => {}
    }
}

async fn shutdown_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
