//! The supervisor's live day, driven on the wall clock: one task per tenant feeds the intraday
//! crate's sans-IO board and alarm book with the ACD's state changes and queues, keeps every
//! alarm in the operational database, and puts agents' adherence and alarms on the tenant's
//! event stream, and sends them by e-mail and webhook (`crate::delivery`); and runs the surge
//! ladder on the live figures, carrying out its skill changes on the ACD, and the incidents'
//! escalation timers. The routes read the same board, book, ladder and incidents through
//! [`Supervisors`].
//!
//! What is durable: alarms, incidents and the ladder's steps (each written before it is announced; a
//! failed write is retried every second) and excusals (written by the routes). The board is
//! rebuilt at start from the store (the day's closed state periods), the ACD (each agent's state
//! now), the newest published roster and the approved excusals; the ladder from the kept steps
//! of its last escalation (the skills it had added are added again to the restarted ACD).

use chrono::Duration;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;
use wfm_analytics::Store;
use wfm_analytics::stats::{window_stats, QueueIntervalStats, QueuedCall};
use crate::delivery::Letter;
use wfm_intraday::alarms::{Alarm, AlarmBook, AlarmRules, Change, Delivery, QueueNow};
use wfm_intraday::escalation::{Ladder, LadderRules, Observation, Step};
use wfm_intraday::incidents::{Incident, IncidentBook, IncidentRules};
use wfm_intraday::live::{AgentStatus, Board};
use wfm_intraday::kpis::KpiSettings;
use wfm_intraday::AdherenceRules;
use wfm_model::CallRecord;
use wfm_model::{AgentId, LocalDateRange, TenantId, TenantZone};
use wfm_ops::kept::Kept;
use wfm_ops::OpsDb;
use wfm_scheduler::roster::Roster;
use wfm_telephony::acd::QueueLive;
use wfm_telephony::live::Live;

/// How often a newly published roster version and changed rules files are looked for.
const RELOAD_MS: i64 = 2000;

/// One tenant's board and alarms.
pub struct Supervision {
    pub board: Board,
    pub alarms: AlarmBook,
    pub kpis: KpiSettings,
    pub ladder: Ladder,
    pub incidents: IncidentBook,
    /// Incident changes not written yet (written before they are announced).
    unkept_incidents: Vec<(String, Incident)>,
    /// The ladder's steps not written yet (written, in order, before they are announced).
    unkept_steps: Vec<Step>,
    /// Agent id → the logins of the users who are that agent (called-in people arrive by
    /// logging in to the ACD).
    logins: HashMap<String, Vec<String>>,
    /// Calls finished in the last window (and a little more), for the live KPIs.
    recent_calls: std::collections::VecDeque<CallRecord>,
    /// Alarm changes to send by e-mail and webhook, in order, by one task.
    outbox: tokio::sync::mpsc::UnboundedSender<Outgoing>,
}

/// An event to POST to the webhook, and what is mailed with it.
struct Outgoing {
    delivery: Delivery,
    event: serde_json::Value,
    letter: Option<Letter>,
}

impl Supervision {
    /// A finished call, or one seen before now with its wrap-up; those that queued before the
    /// window are let go.
    fn call_finished(&mut self, record: CallRecord, now: i64) {
        match self.recent_calls.iter_mut().rev().find(|c| c.call_id == record.call_id) {
            Some(seen) => *seen = record,
            None => self.recent_calls.push_back(record),
        }
        let keep_from = now - self.kpis.window_s * 1000;
        while self.recent_calls.front().is_some_and(|c| c.queued_at.map_or(c.ended_at.timestamp_millis(), |q| q.timestamp_millis()) < keep_from) {
            self.recent_calls.pop_front();
        }
    }

    /// The figures of calls that entered each queue in the window ending `now`: `wfm stats`'s
    /// definitions, by its code ([`wfm_analytics::stats::window_stats`]).
    pub fn window(&self, tenant: &TenantId, now: i64) -> Vec<QueueIntervalStats> {
        let calls: Vec<QueuedCall> = self.recent_calls.iter().filter_map(QueuedCall::of).collect();
        window_stats(tenant, self.board.zone(), &calls, (now - self.kpis.window_s * 1000, now), self.kpis.rule())
    }

    /// The same over all the tenant's queues together (queue `*`).
    pub fn window_of_tenant(&self, tenant: &TenantId, now: i64) -> Option<QueueIntervalStats> {
        let calls: Vec<QueuedCall> = self.recent_calls.iter().filter_map(QueuedCall::of).map(|c| QueuedCall { queue: "*", ..c }).collect();
        window_stats(tenant, self.board.zone(), &calls, (now - self.kpis.window_s * 1000, now), self.kpis.rule()).pop()
    }

    /// Puts an alarm's change (already kept) on the event stream and in the outbox.
    pub fn announce(&self, live: &Live, change: Change, alarm: Alarm) {
        let event = alarm_event(change, &alarm);
        live.publish(event.clone());
        self.send(event, Some(Letter::Alarm(change, alarm)));
    }

    /// Puts an event and its letter in the outbox, when the tenant has somewhere to send them.
    pub(crate) fn send(&self, event: serde_json::Value, letter: Option<Letter>) {
        let delivery = self.alarms.delivery();
        let mail = letter.is_some() && delivery.email.is_some();
        if delivery.webhook.is_some() || mail {
            let _ = self.outbox.send(Outgoing { delivery: delivery.clone(), event, letter });
        }
    }

    /// What the ladder sees now, from the second's queues and window (those the alarms are
    /// checked on): the tenant's live service level, the calls waiting, the queues in trouble,
    /// and which of those the level-1 agents are skilled for already.
    fn observation(&self, tenant: &TenantId, live: &Live, queues: &[QueueLive], window: &[QueueIntervalStats], now: i64) -> Observation {
        let waiting: Vec<(String, u64)> = queues.iter().map(|q| (q.queue.clone(), q.calls_waiting as u64)).collect();
        let skilled = self.ladder.rules().level1.agents.iter().flat_map(|a| live.agent_queues(a).into_iter().map(move |q| (a.clone(), q))).collect();
        let tenant_window = self.window_of_tenant(tenant, now);
        Observation::new(now, self.board.zone(), &waiting, window, tenant_window.as_ref(), self.ladder.rules(), skilled)
    }

    /// Called-in people who logged in to the ACD as `agent`.
    fn arrivals(&mut self, agent: &str, at_ms: i64) -> Vec<Step> {
        let candidates: Vec<String> = std::iter::once(agent.to_owned()).chain(self.logins.get(agent).into_iter().flatten().cloned()).collect();
        candidates.iter().filter_map(|login| self.ladder.arrived(login, at_ms)).collect()
    }
}

/// Keeps the ladder's new steps (after those not kept yet), then carries them out: skills
/// changed on the ACD, the step on the event stream and to the webhook. A step that cannot be
/// written waits, with all after it, for the next call; `false` then.
pub async fn record_steps(db: &OpsDb, tenant: &str, live: &Live, supervision: &Mutex<Supervision>, steps: Vec<Step>) -> bool {
    let todo: Vec<Step> = {
        let mut s = lock(supervision);
        let mut todo = std::mem::take(&mut s.unkept_steps);
        todo.extend(steps);
        todo
    };
    let mut rest = todo.into_iter();
    while let Some(step) = rest.next() {
        let kept = match serde_json::to_string(&step) {
            Ok(record) => db.add_escalation_step(tenant, step.episode_ms, i64::from(step.seq), step.at_ms, step.level, &record).await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = kept {
            eprintln!("intraday: {tenant}: escalation step not kept yet: {e}");
            let mut s = lock(supervision);
            let later = std::mem::take(&mut s.unkept_steps);
            s.unkept_steps = std::iter::once(step).chain(rest).chain(later).collect();
            return false;
        }
        carry_out(live, &step);
        let event = escalation_event(&step);
        live.publish(event.clone());
        let letter = matches!(step.event.as_str(), "told" | "called_in" | "overdue").then(|| Letter::Notice {
            who: step.who.clone(),
            subject: format!("surge level {}: {}", step.level, step.detail),
            body: format!("{}\n\nlevel: {}\nstep: {}\nwho: {}\n\nThe escalation's timeline: GET /api/v1/tenants/{tenant}/escalation; confirm you are coming: POST /api/v1/tenants/{tenant}/escalation/confirm.\n", step.detail, step.level, step.event, step.who.join(", ")),
        });
        lock(supervision).send(event, letter);
    }
    true
}

/// The skill changes of a step, on the ACD.
fn carry_out(live: &Live, step: &Step) {
    let level = match step.event.as_str() {
        "skill_added" => Some(1),
        "skill_restored" => None,
        _ => return,
    };
    for (agent, queue) in &step.skills {
        if let Err(e) = live.set_skill(agent, queue, level) {
            eprintln!("intraday: escalation: the skill {queue} of {agent} is not changed: {e}");
            live.alarm("escalation.skill.failed", &format!("the skill {queue} of {agent} is not changed: {e}"));
        }
    }
}

/// Keeps an incident's newest record, then announces `change` on the event stream and to the
/// webhook; `false` (and retried with the next second's check) when it cannot be written.
pub async fn record_incident(db: &OpsDb, tenant: &str, live: &Live, supervision: &Mutex<Supervision>, change: &str, incident: Incident) -> bool {
    let kept = match serde_json::to_string(&incident) {
        Ok(record) => db.save_kept(Kept::Incident, tenant, &incident.id, incident.started_ms, incident.fixed_ms, &record).await.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    if let Err(e) = kept {
        eprintln!("intraday: {tenant}: incident {} not kept yet: {e}", incident.id);
        lock(supervision).unkept_incidents.push((change.to_owned(), incident));
        return false;
    }
    let s = lock(supervision);
    let phrase = s.incidents.rules().phrase(incident.kind);
    let escalated = incident.escalations.last().filter(|_| change == "escalated");
    let event = incident_event(change, &incident, escalated.map(|e| &e.tell[..]), phrase);
    live.publish(event.clone());
    let letter = escalated.map(|e| Letter::Notice {
        who: e.tell.clone(),
        subject: format!("incident {} ({} {}) not fixed after {} min", incident.id, incident.kind.as_str(), incident.system, (e.at_ms - incident.started_ms) / 60_000),
        body: format!("{}\n\nreported by {}; affected: {}\nagents say: {phrase}\n\nGET /api/v1/tenants/{tenant}/incidents/{}\n", incident.description, incident.reported_by, if incident.affected.is_empty() { "every agent".to_owned() } else { incident.affected.join(", ") }, incident.id),
    });
    s.send(event, letter);
    true
}

/// An incident's change as the event stream carries it: what it is about and, for an
/// escalation, who is told now.
pub fn incident_event(change: &str, incident: &Incident, tell: Option<&[String]>, phrase: &str) -> serde_json::Value {
    serde_json::json!({
        "type": "incident",
        "at_ms": now_ms(),
        "change": change,
        "id": incident.id,
        "kind": incident.kind,
        "system": incident.system,
        "affected": incident.affected,
        "tell": tell,
        "phrase": phrase,
    })
}

/// A step of the surge ladder as the event stream carries it.
pub fn escalation_event(step: &Step) -> serde_json::Value {
    let mut event = serde_json::to_value(step).unwrap_or_default();
    event["type"] = "escalation".into();
    event
}

/// Sends what the outbox holds, one after the other; failures are said on the log and the
/// tenant's event stream.
fn spawn_postman(live: Arc<Live>, tenant: String) -> tokio::sync::mpsc::UnboundedSender<Outgoing> {
    let (outbox, mut letters) = tokio::sync::mpsc::unbounded_channel::<Outgoing>();
    tokio::spawn(async move {
        while let Some(o) = letters.recv().await {
            let what = format!("{} {}", o.event["type"].as_str().unwrap_or("event"), o.event["id"].as_str().or(o.event["event"].as_str()).unwrap_or_default());
            for error in crate::delivery::deliver(&o.delivery, &tenant, &o.event, o.letter.as_ref()).await {
                eprintln!("intraday: {tenant}: {what} not delivered: {error}");
                live.alarm("alarm.delivery.failed", &format!("{what}: {error}"));
            }
        }
    });
    outbox
}

/// Every supervised tenant's [`Supervision`].
#[derive(Default)]
pub struct Supervisors {
    tenants: RwLock<HashMap<String, Arc<Mutex<Supervision>>>>,
}

impl Supervisors {
    pub fn get(&self, tenant: &str) -> Option<Arc<Mutex<Supervision>>> {
        self.tenants.read().unwrap_or_else(|p| p.into_inner()).get(tenant).cloned()
    }
}

/// Locks a tenant's supervision (a panic elsewhere leaves it as it was between two inputs).
pub fn lock(s: &Mutex<Supervision>) -> std::sync::MutexGuard<'_, Supervision> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

/// What supervising a tenant reads.
pub struct Feed {
    pub tenant: TenantId,
    pub zone: TenantZone,
    /// `DATA/tenants/T/`: `adherence.toml` and `alarms.toml`, reloaded when they change.
    pub dir: PathBuf,
    pub live: Arc<Live>,
    pub store: Arc<Store>,
    pub db: OpsDb,
}

pub fn now_ms() -> i64 {
    wfm_ops::now_ms()
}

/// An agent's status as the event stream carries it.
pub fn adherence_event(status: &AgentStatus) -> serde_json::Value {
    let mut event = serde_json::to_value(status).unwrap_or_default();
    event["type"] = "adherence".into();
    event["at_ms"] = now_ms().into();
    event
}

/// An alarm's change as the event stream carries it.
pub fn alarm_event(change: Change, alarm: &Alarm) -> serde_json::Value {
    serde_json::json!({
        "type": "alarm",
        "at_ms": now_ms(),
        "alarm": alarm.rule,
        "change": change.as_str(),
        "id": alarm.id,
        "level": alarm.level,
        "subject": alarm.subject,
        "message": alarm.message,
        "recipients": alarm.recipients(),
    })
}

/// Writes an alarm's record; the error says why it is not kept yet.
pub async fn save_alarm(db: &OpsDb, tenant: &str, alarm: &Alarm) -> Result<(), String> {
    let record = serde_json::to_string(alarm).map_err(|e| e.to_string())?;
    db.save_kept(Kept::Alarm, tenant, &alarm.id, alarm.raised_ms, alarm.cleared_ms, &record).await.map_err(|e| e.to_string())
}

/// The newest published roster, if any: `(version, roster)`.
async fn newest_roster(db: &OpsDb, tenant: &str) -> Result<Option<(i64, Roster)>, String> {
    let Some((version, text)) = db.roster(tenant, None).await.map_err(|e| e.to_string())? else { return Ok(None) };
    let roster = Roster::read_csv(&format!("published roster version {}", version.version), text.as_bytes()).map_err(|e| e.to_string())?;
    Ok(Some((version.version, roster)))
}

fn modified(path: &std::path::Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// A tenant file's rules, or the defaults with the reason on the event stream and the log
/// (a wrong file never stops the supervision; the last good rules stay until it is fixed).
fn load<T>(feed: &Feed, name: &str, read: impl Fn(&std::path::Path) -> Result<T, String>) -> Option<T> {
    match read(&feed.dir.join(name)) {
        Ok(rules) => Some(rules),
        Err(e) => {
            eprintln!("intraday: {}: {e}", feed.tenant);
            feed.live.alarm("config.invalid", &e);
            None
        }
    }
}

fn adherence_rules(feed: &Feed) -> Option<AdherenceRules> {
    load(feed, "adherence.toml", |p| AdherenceRules::load_or_default(p).map_err(|e| e.to_string()))
}

fn alarm_rules(feed: &Feed) -> Option<AlarmRules> {
    load(feed, "alarms.toml", |p| AlarmRules::load_or_default(p).map_err(|e| e.to_string()))
}

fn kpi_settings(feed: &Feed) -> Option<KpiSettings> {
    load(feed, "kpis.toml", |p| KpiSettings::load_or_default(p).map_err(|e| e.to_string()))
}

fn ladder_rules(feed: &Feed) -> Option<LadderRules> {
    load(feed, "escalation.toml", |p| LadderRules::load_or_default(p).map_err(|e| e.to_string()))
}

fn incident_rules(feed: &Feed) -> Option<IncidentRules> {
    load(feed, "incidents.toml", |p| IncidentRules::load_or_default(p).map_err(|e| e.to_string()))
}

/// The tenant files reloaded when they change.
const FILES: [&str; 5] = ["adherence.toml", "alarms.toml", "kpis.toml", "escalation.toml", "incidents.toml"];

fn modified_files(feed: &Feed) -> [Option<SystemTime>; 5] {
    FILES.map(|name| modified(&feed.dir.join(name)))
}

/// Builds the tenant's board and alarm book from what is kept, registers them, and runs them
/// until the ACD's state feed ends.
pub async fn supervise(hub: Arc<Supervisors>, feed: Feed) -> Result<(), String> {
    // Subscribed first, so nothing between the snapshot below and the loop is missed.
    let mut changes = feed.live.state_changes();
    let mut finished = feed.live.finished_calls();
    let now = now_ms();
    let mut board = Board::new(adherence_rules(&feed).unwrap_or_default(), feed.zone, now);
    let mut book = AlarmBook::new(alarm_rules(&feed).unwrap_or_default());
    if let Some((version, roster)) = newest_roster(&feed.db, feed.tenant.as_str()).await? {
        board.set_roster(&roster, version, now);
    }
    let today = feed.zone.local_date(chrono::Utc::now());
    let range = LocalDateRange::new(today - Duration::days(1), today + Duration::days(1)).map_err(|e| e.to_string())?;
    let (store, tenant) = (feed.store.clone(), feed.tenant.clone());
    let periods = tokio::task::spawn_blocking(move || store.read_states(&tenant, range)).await.map_err(|e| e.to_string())?.map_err(|e| e.to_string())?;
    board.seed_periods(&periods);
    for state in feed.live.current_states() {
        if let Ok(agent) = AgentId::parse(&state.agent) {
            board.seed_current(agent, state.state, state.reason, state.at_ms);
        }
    }
    let from = feed.zone.day_start(today - Duration::days(1)).timestamp_millis();
    for e in approved_excusals(&feed.db, feed.tenant.as_str(), from, i64::MAX).await.map_err(|e| e.to_string())? {
        board.excuse(&e.agent_id, e.start_ms, e.end_ms);
    }
    let kept = feed.db.kept(Kept::Alarm, feed.tenant.as_str(), true, wfm_ops::kept::MAX_LISTED).await.map_err(|e| e.to_string())?;
    book.restore(kept.iter().filter_map(|record| serde_json::from_str::<Alarm>(record).ok()));
    board.handle_timeout(now);
    let outbox = spawn_postman(feed.live.clone(), feed.tenant.to_string());
    let kpis = kpi_settings(&feed).unwrap_or_default();
    let kept = feed.db.escalation_steps(feed.tenant.as_str(), None).await.map_err(|e| e.to_string())?;
    let steps: Vec<Step> = kept.iter().map(|r| serde_json::from_str(r)).collect::<Result<_, _>>().map_err(|e| format!("a kept escalation step cannot be read: {e}"))?;
    let ladder = Ladder::restore(ladder_rules(&feed).unwrap_or_default(), steps);
    for (agent, queue) in ladder.added_skills() {
        if let Err(e) = feed.live.set_skill(agent, queue, Some(1)) {
            eprintln!("intraday: {}: the escalation's skill {queue} of {agent} cannot be added again: {e}", feed.tenant);
        }
    }
    let mut incidents = IncidentBook::new(incident_rules(&feed).unwrap_or_default(), feed.zone);
    let kept = feed.db.kept(Kept::Incident, feed.tenant.as_str(), true, wfm_ops::kept::MAX_LISTED).await.map_err(|e| e.to_string())?;
    incidents.restore(kept.iter().map(|r| serde_json::from_str::<Incident>(r)).collect::<Result<Vec<_>, _>>().map_err(|e| format!("a kept incident cannot be read: {e}"))?);
    let logins = logins_of_agents(&feed).await;
    let supervision = Arc::new(Mutex::new(Supervision {
        board,
        alarms: book,
        kpis,
        ladder,
        incidents,
        unkept_incidents: Vec::new(),
        unkept_steps: Vec::new(),
        logins,
        recent_calls: Default::default(),
        outbox,
    }));
    hub.tenants.write().unwrap_or_else(|p| p.into_inner()).insert(feed.tenant.to_string(), supervision.clone());

    let mut unsaved: Vec<Alarm> = Vec::new();
    let mut files = modified_files(&feed);
    let (mut next_second, mut next_reload) = (now_ms(), now_ms() + RELOAD_MS);
    loop {
        let deadline = lock(&supervision).board.poll_timeout().min(next_second);
        let wait = std::time::Duration::from_millis((deadline - now_ms()).clamp(0, 1000) as u64);
        tokio::select! {
            change = changes.recv() => {
                let Some(change) = change else { break };
                let Ok(agent) = AgentId::parse(&change.agent) else { continue };
                let logged_in = change.state != wfm_model::AgentState::LoggedOut;
                let (status, arrived) = {
                    let mut s = lock(&supervision);
                    let arrived = if logged_in { s.arrivals(agent.as_str(), change.at_ms) } else { Vec::new() };
                    (s.board.state_changed(&agent, change.state, change.reason, change.at_ms), arrived)
                };
                feed.live.publish(adherence_event(&status));
                if !arrived.is_empty() {
                    record_steps(&feed.db, feed.tenant.as_str(), &feed.live, &supervision, arrived).await;
                }
                continue;
            }
            call = finished.recv() => {
                match call.as_ref().map(|c| c.to_record()) {
                    Some(Ok(record)) => lock(&supervision).call_finished(record, now_ms()),
                    Some(Err(e)) => eprintln!("intraday: {}: a finished call is not counted live: {e}", feed.tenant),
                    None => break,
                }
                continue;
            }
            _ = tokio::time::sleep(wait) => {}
        }
        let now = now_ms();
        let statuses = lock(&supervision).board.handle_timeout(now);
        for status in &statuses {
            feed.live.publish(adherence_event(status));
        }
        if now < next_second {
            continue;
        }
        next_second = now + 1000;
        let queues = feed.live.queues();
        let (alarms, steps) = {
            let mut s = lock(&supervision);
            let window = s.window(&feed.tenant, now);
            let service_level = |queue: &str| window.iter().find(|w| &*w.queue == queue).and_then(|w| w.sl_with_abandons);
            let queues_now: Vec<QueueNow> = queues
                .iter()
                .map(|q| QueueNow { queue: q.queue.as_str(), calls_waiting: q.calls_waiting as u64, longest_wait_s: q.longest_wait_s, service_level: service_level(&q.queue) })
                .collect();
            let Supervision { board, alarms, .. } = &mut *s;
            let alarms = alarms.check(now, board.agents_now(), &queues_now);
            let observation = s.observation(&feed.tenant, &feed.live, &queues, &window, now);
            (alarms, s.ladder.observe(&observation))
        };
        // Kept before announced; what could not be kept is written again the next second.
        let retry: Vec<Alarm> = std::mem::take(&mut unsaved);
        for alarm in retry {
            if save_alarm(&feed.db, feed.tenant.as_str(), &alarm).await.is_err() {
                unsaved.push(alarm);
            }
        }
        for (change, alarm) in alarms {
            if let Err(e) = save_alarm(&feed.db, feed.tenant.as_str(), &alarm).await {
                eprintln!("intraday: {}: alarm {} not kept yet: {e}", feed.tenant, alarm.id);
                unsaved.push(alarm.clone());
            }
            lock(&supervision).announce(&feed.live, change, alarm);
        }
        record_steps(&feed.db, feed.tenant.as_str(), &feed.live, &supervision, steps).await;
        let incidents: Vec<(String, Incident)> = {
            let mut s = lock(&supervision);
            let mut changed = std::mem::take(&mut s.unkept_incidents);
            changed.extend(s.incidents.check(now).into_iter().map(|i| ("escalated".to_owned(), i)));
            changed
        };
        for (change, incident) in incidents {
            record_incident(&feed.db, feed.tenant.as_str(), &feed.live, &supervision, &change, incident).await;
        }
        if now >= next_reload {
            next_reload = now + RELOAD_MS;
            reload(&feed, &supervision, &mut files, now).await;
        }
    }
    Ok(())
}

/// A newly published roster version and changed rules files take effect.
async fn reload(feed: &Feed, supervision: &Mutex<Supervision>, files: &mut [Option<SystemTime>; 5], now: i64) {
    let now_files = modified_files(feed);
    let mut statuses = Vec::new();
    if now_files[0] != files[0]
        && let Some(rules) = adherence_rules(feed)
    {
        statuses.extend(lock(supervision).board.set_rules(rules, now));
    }
    if now_files[1] != files[1]
        && let Some(rules) = alarm_rules(feed)
    {
        lock(supervision).alarms.set_rules(rules);
    }
    if now_files[2] != files[2]
        && let Some(kpis) = kpi_settings(feed)
    {
        lock(supervision).kpis = kpis;
    }
    if now_files[3] != files[3]
        && let Some(rules) = ladder_rules(feed)
    {
        lock(supervision).ladder.set_rules(rules);
    }
    if now_files[4] != files[4]
        && let Some(rules) = incident_rules(feed)
    {
        lock(supervision).incidents.set_rules(rules);
    }
    *files = now_files;
    let logins = logins_of_agents(feed).await;
    lock(supervision).logins = logins;
    let known = lock(supervision).board.roster_version();
    match feed.db.roster_versions(feed.tenant.as_str()).await.map(|v| v.first().map(|v| v.version)) {
        Ok(newest) if newest.is_some() && newest != known => match newest_roster(&feed.db, feed.tenant.as_str()).await {
            Ok(Some((version, roster))) => statuses.extend(lock(supervision).board.set_roster(&roster, version, now)),
            Ok(None) => {}
            Err(e) => eprintln!("intraday: {}: the newest roster cannot be read: {e}", feed.tenant),
        },
        Ok(_) => {}
        Err(e) => eprintln!("intraday: {}: the roster versions cannot be read: {e}", feed.tenant),
    }
    for status in &statuses {
        feed.live.publish(adherence_event(status));
    }
}

/// Agent id → the logins of the tenant's users who are that agent (empty if the users cannot be
/// read: arrivals are then seen by agent id only, and the reason is on the log).
async fn logins_of_agents(feed: &Feed) -> HashMap<String, Vec<String>> {
    let mut logins: HashMap<String, Vec<String>> = HashMap::new();
    match feed.db.users(Some(feed.tenant.as_str())).await {
        Ok(users) => {
            for user in users {
                if let Some(agent) = user.agent_id {
                    logins.entry(agent.to_string()).or_default().push(user.login.to_string());
                }
            }
        }
        Err(e) => eprintln!("intraday: {}: the users cannot be read: {e}", feed.tenant),
    }
    logins
}

/// The approved excusals of a tenant overlapping `[from_ms, to_ms)`, as adherence counts them
/// (the live board, `GET /adherence` and `wfm adherence`).
pub async fn approved_excusals(db: &OpsDb, tenant: &str, from_ms: i64, to_ms: i64) -> Result<Vec<wfm_intraday::history::Excusal>, wfm_ops::OpsError> {
    Ok(db
        .excusals(tenant, from_ms, to_ms, None)
        .await?
        .into_iter()
        .filter(|e| e.status == wfm_ops::excusals::ExcusalStatus::Approved)
        .filter_map(|e| Some(wfm_intraday::history::Excusal { agent_id: AgentId::parse(&e.agent_id).ok()?, start_ms: e.start_ms, end_ms: e.end_ms }))
        .collect())
}

/// The span of excusals that can count on the local dates of `range`: from the day before to the
/// day after (a night shift's date reaches into them).
pub fn excusal_span(zone: TenantZone, range: LocalDateRange) -> (i64, i64) {
    (zone.day_start(range.from - Duration::days(1)).timestamp_millis(), zone.day_start(range.to + Duration::days(1)).timestamp_millis())
}
