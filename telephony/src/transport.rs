//! The tokio layer over the tenants' [`crate::sip::core::SipCore`]s: UDP datagrams and TCP
//! streams in, each routed to its tenant by the [`crate::switchboard`]; the core's [`Effects`]
//! carried out — messages sent (over TCP on the peer's connection when it has
//! one, else UDP), inputs handed to the queue engine ([`Live`]), commands to the media layer,
//! finished calls journalled — and its timers ticked. Nothing here decides.

use crate::calls::Effects;
use crate::live::Live;
use crate::media::{MediaEvent, MediaHub};
use crate::sip::core::{Event, Outgoing, SipCore};
use crate::sip::message::{frame_len, Message, Method};
use crate::sip::pike::Pike;
use crate::switchboard::{Route, Switchboard, SwitchboardError};
use std::sync::atomic::{AtomicU64, Ordering};
use crate::sip::registrar::Registration;
use std::collections::HashMap;
use std::net::SocketAddr;
use crate::lock;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc;

/// What a running endpoint reports: each event with its tenant (`-` when none was chosen) and
/// the peer's address.
pub type Report = Box<dyn FnMut(&str, &Event, SocketAddr) + Send>;

/// TCP connections open at once, at most; more are closed on arrival.
pub const MAX_CONNECTIONS: usize = 10_000;
/// A TCP connection silent this long is closed: longer than the longest registration, so a
/// phone that re-registers in time keeps the connection its calls come on.
const IDLE: Duration = Duration::from_secs(crate::sip::registrar::MAX_EXPIRES_S + 300);
/// Messages queued for a TCP peer that does not read, at most; more are dropped.
const TCP_BACKLOG: usize = 1024;

/// One tenant's ACD inside the endpoint: its core (registrar and calls), its queue engine and
/// its media.
pub struct Stack {
    pub tenant: String,
    core: Mutex<SipCore>,
    pub live: Arc<Live>,
    pub media: Arc<MediaHub>,
}

impl Stack {
    /// `core`'s controller must tag its Call-IDs with `tag` ([`crate::calls::Calls::with_call_id_tag`]).
    pub fn new(tenant: &str, core: SipCore, live: Arc<Live>, media: Arc<MediaHub>) -> Self {
        Self { tenant: tenant.to_owned(), core: Mutex::new(core), live, media }
    }

    /// Changes the core under its lock (suspension, quotas).
    pub fn with_core<T>(&self, f: impl FnOnce(&mut SipCore) -> T) -> T {
        f(&mut lock(&self.core))
    }
}

/// Every tenant's stack, the router between them, the report and the ways out, shared by the
/// UDP task, every TCP connection and the tasks that feed the cores the engine's actions, media
/// events and the time.
pub struct Endpoint {
    stacks: RwLock<Vec<Arc<Stack>>>,
    switchboard: Mutex<Switchboard>,
    report: Mutex<Report>,
    udp: Arc<UdpSocket>,
    /// Open TCP connections by peer: messages for that peer go on its connection.
    tcp: Mutex<HashMap<SocketAddr, mpsc::Sender<Vec<u8>>>>,
    /// Calls at once on this node, all tenants together; more are refused with 503.
    max_calls: usize,
    /// To-tags of the refusals the switchboard answers itself.
    refusals: AtomicU64,
    /// New calls per source address limited; counted in ms since `epoch`.
    pike: Mutex<Pike>,
    epoch: Instant,
    flood_dropped: AtomicU64,
}

impl Endpoint {
    pub fn new(report: Report, udp: Arc<UdpSocket>, default_tenant: Option<&str>, max_calls: usize, pike: Pike) -> Arc<Self> {
        Arc::new(Self {
            stacks: RwLock::new(Vec::new()),
            switchboard: Mutex::new(Switchboard::new(default_tenant)),
            report: Mutex::new(report),
            udp,
            tcp: Mutex::new(HashMap::new()),
            max_calls,
            refusals: AtomicU64::new(0),
            pike: Mutex::new(pike),
            epoch: Instant::now(),
            flood_dropped: AtomicU64::new(0),
        })
    }

    /// Serves a tenant from now on: calls to `numbers`, its phones' registrations. A number
    /// another tenant has is refused, and the tenant is not added.
    pub fn add(&self, stack: Stack, numbers: &[String], tag: &str) -> Result<Arc<Stack>, SwitchboardError> {
        let stack = Arc::new(stack);
        let mut stacks = self.stacks.write().unwrap_or_else(|p| p.into_inner());
        let index = lock(&self.switchboard).add(&stack.tenant, numbers, tag)?;
        debug_assert_eq!(index, stacks.len());
        stacks.push(stack.clone());
        Ok(stack)
    }

    /// Every tenant's stack, in the order they were added.
    pub fn stacks(&self) -> Vec<Arc<Stack>> {
        self.stacks.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The queue engine of `tenant`, when this endpoint serves it.
    pub fn live(&self, tenant: &str) -> Option<Arc<Live>> {
        self.stack(tenant).map(|s| s.live.clone())
    }

    pub fn stack(&self, tenant: &str) -> Option<Arc<Stack>> {
        self.stacks().into_iter().find(|s| s.tenant == tenant)
    }

    /// Runs one step of a tenant's core and carries out its effects but for the messages, which
    /// are returned: they go out by [`Endpoint::flush`] once what the step journalled is on disk.
    /// Engine inputs run while the core is still locked, so a refusal reaches the core before
    /// anything else does.
    fn step(&self, stack: &Arc<Stack>, f: impl FnOnce(&mut SipCore, &mut Effects, Instant) -> Option<Event>, from: SocketAddr) -> Held {
        let now = Instant::now();
        let mut fx = Effects::default();
        let event = {
            let mut core = lock(&stack.core);
            let event = f(&mut core, &mut fx, now);
            while !fx.acd.is_empty() {
                for input in std::mem::take(&mut fx.acd) {
                    if let Err(e) = stack.live.apply(&input) {
                        core.acd_refused(&input, &e.to_string(), now, &mut fx);
                    }
                }
            }
            event
        };
        if let Some(event) = event {
            // A phone registered logs its agent in (not ready); unregistered, out.
            match &event {
                Event::Registration(Registration::Registered { user, .. }) => drop(stack.live.phone_registered(user)),
                Event::Registration(Registration::Unregistered { user }) => drop(stack.live.phone_unregistered(user)),
                Event::Registration(Registration::Locked { user, what }) => alarm_digest_lock(stack, user, *what, from),
                _ => {}
            }
            self.report(&stack.tenant, &event, from);
        }
        for line in &fx.log {
            eprintln!("sip: {}: {line}", stack.tenant);
        }
        for (user, what) in &fx.locks {
            alarm_digest_lock(stack, user, *what, from);
            self.report(&stack.tenant, &Event::Registration(Registration::Locked { user: user.clone(), what: *what }), from);
        }
        if !fx.finished.is_empty() {
            stack.live.record_calls(&fx.finished);
        }
        for (call, command) in fx.media {
            stack.media.command(call, command);
        }
        Held { stack: Some(stack.clone()), messages: fx.send }
    }

    /// Syncs the journals of the tenants whose steps these are (one sync each for every step
    /// since the last), then sends the messages those steps produced: nothing is acknowledged
    /// before its record is safe. A tenant whose journal fails holds back its own messages only
    /// (its peers retransmit, and are answered once the disk takes writes); the others' go.
    fn flush(&self, steps: Vec<Held>) {
        // A batch holds the steps of a few tenants at most: a list is enough.
        let mut synced: Vec<(Arc<Stack>, Result<(), String>)> = Vec::new();
        for step in steps {
            if let Some(stack) = &step.stack {
                let outcome = match synced.iter().find(|(s, _)| Arc::ptr_eq(s, stack)) {
                    Some((_, outcome)) => outcome.clone(),
                    None => {
                        let outcome = stack.live.sync().map_err(|e| e.to_string());
                        synced.push((stack.clone(), outcome.clone()));
                        outcome
                    }
                };
                if let Err(e) = outcome {
                    if !step.messages.is_empty() {
                        eprintln!("sip: {}: {} messages not sent, what they acknowledge is not on disk ({e})", stack.tenant, step.messages.len());
                    }
                    continue;
                }
            }
            for out in step.messages {
                self.send(out);
            }
        }
    }

    fn send(&self, out: Outgoing) {
        let connection = lock(&self.tcp).get(&out.to).cloned();
        match connection {
            // TCP is reliable: what the timers resend is for UDP.
            Some(_) if out.retransmission => {}
            // A peer that does not read its connection loses what does not fit.
            Some(connection) => {
                let _ = connection.try_send(out.bytes);
            }
            // A full socket buffer drops the datagram as the network might; timers resend.
            None => {
                let _ = self.udp.try_send_to(&out.bytes, out.to);
            }
        }
    }

    fn handle(&self, bytes: &[u8], from: SocketAddr) -> Held {
        let message = match Message::parse(bytes) {
            Ok(mut m) => {
                m.stamp_received(from);
                m
            }
            Err(e) => {
                self.report("-", &Event::Malformed(e), from);
                return Held::nothing();
            }
        };
        let now = Instant::now();
        let new_call = message.is_new_call();
        // Retransmissions and re-sends (after a 401) of a call already routed are not new calls.
        if new_call && !lock(&self.switchboard).knows(message.call_id()) {
            let at_ms = now.saturating_duration_since(self.epoch).as_millis() as i64;
            if let crate::sip::pike::Verdict::Drop { started } = lock(&self.pike).new_call(from.ip(), at_ms) {
                let dropped = self.flood_dropped.fetch_add(1, Ordering::Relaxed) + 1;
                if started {
                    self.report("-", &Event::FloodBlocked { dropped }, from);
                }
                return Held::nothing();
            }
        }
        let stacks = self.stacks();
        // Only a new call needs the node's count of calls (a lock of every tenant's core).
        let in_progress = if new_call { stacks.iter().map(|s| lock(&s.core).active_calls()).sum() } else { 0 };
        let route = lock(&self.switchboard).route(&message, from, |i, address| stacks.get(i).is_some_and(|s| lock(&s.core).registrar().registered_from(address, now)), in_progress, self.max_calls);
        match route {
            Route::Tenant(i) => match stacks.get(i) {
                Some(stack) => self.step(stack, |core, fx, now| Some(core.on_message(&message, from, now, fx)), from),
                None => Held::nothing(),
            },
            Route::Refuse { status, reason } => {
                let tag = format!("wfmr{:x}", self.refusals.fetch_add(1, Ordering::Relaxed));
                let mut response = message.response(status, reason, &tag);
                if status == 503 {
                    response = response.with_header("Retry-After", "5".to_owned());
                }
                self.report("-", &Event::Answered { method: message.method().cloned().unwrap_or(Method::Options), status }, from);
                Held { stack: None, messages: vec![Outgoing { to: from, bytes: response.to_bytes(), retransmission: false }] }
            }
            Route::Drop => {
                self.report("-", &Event::StrayResponse, from);
                Held::nothing()
            }
        }
    }

    fn report(&self, tenant: &str, event: &Event, from: SocketAddr) {
        (lock(&self.report))(tenant, event, from);
    }

    /// Forgets finished transactions, expired registrations (reported as unregistered) and the
    /// routes of finished calls; call about once a second.
    pub fn tick(&self, local: SocketAddr) {
        let stacks = self.stacks();
        for stack in &stacks {
            let gone = lock(&stack.core).tick(Instant::now());
            for user in gone {
                stack.live.phone_unregistered(&user);
                self.report(&stack.tenant, &Event::Registration(Registration::Unregistered { user }), local);
            }
        }
        lock(&self.switchboard).sweep(Instant::now(), |i, call_id| stacks.get(i).is_some_and(|s| lock(&s.core).knows_call(call_id)));
        for stack in &stacks {
            // A failure is logged and alarmed by the engine; nothing waits on this sync.
            let _ = stack.live.sync();
        }
    }

    /// A step driven from inside (a timer, the engine, the media layer), not by a message.
    fn drive(&self, stack: &Arc<Stack>, f: impl FnOnce(&mut SipCore, &mut Effects, Instant), local: SocketAddr) -> Held {
        self.step(
            stack,
            |core, fx, now| {
                f(core, fx, now);
                None
            },
            local,
        )
    }

    /// The calls' timers of every tenant; call every 50 ms or so.
    pub fn tick_calls(&self, local: SocketAddr) {
        let out = self.stacks().iter().map(|stack| self.drive(stack, |core, fx, now| core.tick_calls(now, fx), local)).collect();
        self.flush(out);
    }

    /// A tenant's engine actions, in order; those that came together share one journal sync.
    pub fn on_actions(&self, stack: &Arc<Stack>, actions: &[crate::acd::Action], local: SocketAddr) {
        let out = actions.iter().map(|action| self.drive(stack, |core, fx, now| core.on_action(action, now, fx), local)).collect();
        self.flush(out);
    }

    pub fn on_media(&self, stack: &Arc<Stack>, event: &MediaEvent, local: SocketAddr) {
        let out = self.drive(stack, |core, fx, now| core.on_media(event, now, fx), local);
        self.flush(vec![out]);
    }
}

/// A lock that password guessing from `from` started, on the tenant's event stream.
fn alarm_digest_lock(stack: &Stack, user: &str, what: crate::sip::guard::Locked, from: SocketAddr) {
    stack.live.alarm("sip.digest.locked", &format!("password guessing for {user} from {}: {what:?} locked for 10 minutes", from.ip()));
}

/// The messages of one step, held until its tenant's journal is synced (`stack` is `None` for
/// the switchboard's refusals, which journal nothing).
struct Held {
    stack: Option<Arc<Stack>>,
    messages: Vec<Outgoing>,
}

impl Held {
    fn nothing() -> Self {
        Self { stack: None, messages: Vec::new() }
    }
}

/// Datagrams handled before one journal sync and their answers, at most, when they arrive
/// faster than they are handled.
const BATCH: usize = 64;

/// Serves SIP over UDP on the endpoint's socket until the task is dropped.
pub async fn serve_udp(endpoint: Arc<Endpoint>) -> std::io::Result<()> {
    // Larger than any message the core accepts, so an oversized one is seen (and refused).
    let mut buffer = vec![0u8; crate::sip::message::MAX_MESSAGE_BYTES + 1];
    let socket = endpoint.udp.clone();
    loop {
        let (len, from) = match socket.recv_from(&mut buffer).await {
            Ok(r) => r,
            // ICMP port-unreachable from an earlier send surfaces here on some systems: it
            // concerns that peer, not the socket.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => continue,
            Err(e) => return Err(e),
        };
        let mut out = vec![endpoint.handle(&buffer[..len], from)];
        // Under load, what has already arrived is handled before one sync for all of it.
        for _ in 1..BATCH {
            match socket.try_recv_from(&mut buffer) {
                Ok((len, from)) => out.push(endpoint.handle(&buffer[..len], from)),
                Err(_) => break,
            }
        }
        endpoint.flush(out);
    }
}

/// Serves SIP over TCP on `listener` until the task is dropped.
pub async fn serve_tcp(listener: TcpListener, endpoint: Arc<Endpoint>) -> std::io::Result<()> {
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let (stream, peer) = listener.accept().await?;
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            drop(stream);
            continue;
        };
        let endpoint = endpoint.clone();
        tokio::spawn(async move {
            connection(stream, peer, &endpoint).await;
            lock(&endpoint.tcp).remove(&peer);
            drop(slot);
        });
    }
}

/// One TCP connection: messages framed by Content-Length; whatever the endpoint sends this peer
/// goes back on it.
async fn connection(stream: TcpStream, peer: SocketAddr, endpoint: &Endpoint) {
    let (mut reader, mut writer) = stream.into_split();
    let (tx, mut outgoing) = mpsc::channel::<Vec<u8>>(TCP_BACKLOG);
    lock(&endpoint.tcp).insert(peer, tx);
    let writing = tokio::spawn(async move {
        while let Some(bytes) = outgoing.recv().await {
            if writer.write_all(&bytes).await.is_err() {
                return;
            }
        }
    });
    let mut buffer: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        let n = match tokio::time::timeout(IDLE, reader.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => n,
            _ => break,
        };
        buffer.extend_from_slice(&chunk[..n]);
        loop {
            match frame_len(&buffer) {
                Ok(Some(len)) => {
                    let message: Vec<u8> = buffer.drain(..len).collect();
                    // Keep-alive CRLFs (RFC 5626) need no answer.
                    if !message.iter().all(|b| matches!(b, b'\r' | b'\n')) {
                        let out = endpoint.handle(&message, peer);
                        endpoint.flush(vec![out]);
                    }
                }
                Ok(None) => break,
                // A stream that cannot be framed cannot be resynchronised: report and close.
                Err(e) => {
                    endpoint.report("-", &Event::Malformed(e), peer);
                    writing.abort();
                    return;
                }
            }
        }
    }
    writing.abort();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::Journal;

    fn register(tenant: &str, phone: SocketAddr) -> Vec<u8> {
        format!(
            "REGISTER sip:{tenant} SIP/2.0\r\nVia: SIP/2.0/UDP {phone};branch=z9hG4bK-{tenant}\r\nFrom: <sip:1001@{tenant}>;tag=t\r\n\
             To: <sip:1001@{tenant}>\r\nCall-ID: reg-{tenant}\r\nCSeq: 1 REGISTER\r\nContact: <sip:1001@{phone}>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        )
        .into_bytes()
    }

    #[tokio::test]
    async fn a_tenant_whose_journal_fails_holds_back_its_own_answers_only() {
        let udp = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let endpoint = Endpoint::new(Box::new(|_: &str, _: &Event, _: SocketAddr| {}), udp.clone(), None, 100, Pike::new(1000, []));
        // The socket's readiness is learnt once (`send` only tries, as the serving loop has).
        udp.writable().await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut lives = Vec::new();
        for (tenant, journal) in [("good", dir.path().join("good.jsonl")), ("bad", "/dev/full".into())] {
            let live = Arc::new(Live::new(tenant, crate::acd::demo(), Journal::open(&journal).unwrap()));
            let media = MediaHub::new("127.0.0.1".parse().unwrap(), crate::media::audio::Prompts::shipped(), mpsc::unbounded_channel().0);
            let registrar = crate::sip::registrar::Registrar::new(tenant, HashMap::from([("1001".to_owned(), "pw".to_owned())]), [0; 16]);
            endpoint.add(Stack::new(tenant, SipCore::new(registrar, "wfm-test"), live.clone(), media), &[], tenant).unwrap();
            lives.push(live);
        }
        // A state change of "bad" cannot be journalled (a full disk): nothing of "bad" may be
        // acknowledged until it is.
        lives[1].phone_registered("1001");
        assert!(lives[1].sync().is_err());

        let phone = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let from = phone.local_addr().unwrap();
        let good = endpoint.handle(&register("good", from), from);
        endpoint.flush(vec![endpoint.handle(&register("bad", from), from), good]);
        let mut answer = vec![0u8; 4096];
        let (n, _) = tokio::time::timeout(Duration::from_secs(2), phone.recv_from(&mut answer)).await.expect("good's challenge comes").unwrap();
        let answer = Message::parse(&answer[..n]).unwrap();
        assert_eq!((answer.status(), answer.call_id()), (Some(401), "reg-good"));
        let more = tokio::time::timeout(Duration::from_millis(300), phone.recv_from(&mut [0u8; 4096])).await;
        assert!(more.is_err(), "bad's answer is held back");
    }
}
