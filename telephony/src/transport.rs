//! The tokio layer over [`crate::sip::core::SipCore`]: UDP datagrams and TCP streams in; the
//! core's [`Effects`] carried out — messages sent (over TCP on the peer's connection when it has
//! one, else UDP), inputs handed to the queue engine ([`Live`]), commands to the media layer,
//! finished calls journalled — and its timers ticked. Nothing here decides.

use crate::calls::Effects;
use crate::live::Live;
use crate::media::{MediaEvent, MediaHub};
use crate::sip::core::{Event, Outgoing, SipCore};
use crate::sip::message::frame_len;
use crate::sip::registrar::Registration;
use std::collections::HashMap;
use std::net::SocketAddr;
use crate::lock;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc;

/// What a running endpoint reports: each event with the peer's address, and log lines.
pub type Report = Box<dyn FnMut(&Event, SocketAddr) + Send>;

/// TCP connections open at once, at most; more are closed on arrival.
pub const MAX_CONNECTIONS: usize = 10_000;
/// A TCP connection silent this long is closed: longer than the longest registration, so a
/// phone that re-registers in time keeps the connection its calls come on.
const IDLE: Duration = Duration::from_secs(crate::sip::registrar::MAX_EXPIRES_S + 300);
/// Messages queued for a TCP peer that does not read, at most; more are dropped.
const TCP_BACKLOG: usize = 1024;

/// The core, the report and the ways out, shared by the UDP task, every TCP connection and the
/// tasks that feed the core the engine's actions, media events and the time.
pub struct Endpoint {
    core: Mutex<SipCore>,
    report: Mutex<Report>,
    udp: Arc<UdpSocket>,
    /// Open TCP connections by peer: messages for that peer go on its connection.
    tcp: Mutex<HashMap<SocketAddr, mpsc::Sender<Vec<u8>>>>,
    live: Option<Arc<Live>>,
    media: Option<Arc<MediaHub>>,
}

impl Endpoint {
    pub fn new(core: SipCore, report: Report, udp: Arc<UdpSocket>, live: Option<Arc<Live>>, media: Option<Arc<MediaHub>>) -> Arc<Self> {
        Arc::new(Self { core: Mutex::new(core), report: Mutex::new(report), udp, tcp: Mutex::new(HashMap::new()), live, media })
    }

    /// Runs one step of the core and carries out its effects but for the messages, which are
    /// returned: they go out by [`Endpoint::flush`] once what the step journalled is on disk.
    /// Engine inputs run while the core is still locked, so a refusal reaches the core before
    /// anything else does.
    fn step(&self, f: impl FnOnce(&mut SipCore, &mut Effects, Instant) -> Option<Event>, from: SocketAddr) -> Vec<Outgoing> {
        let now = Instant::now();
        let mut fx = Effects::default();
        let event = {
            let mut core = lock(&self.core);
            let event = f(&mut core, &mut fx, now);
            while !fx.acd.is_empty() {
                for input in std::mem::take(&mut fx.acd) {
                    let refused = match &self.live {
                        Some(live) => live.apply(&input).err().map(|e| e.to_string()),
                        None => Some("no queue engine".to_owned()),
                    };
                    if let Some(error) = refused {
                        core.acd_refused(&input, &error, now, &mut fx);
                    }
                }
            }
            event
        };
        if let Some(event) = event {
            self.report(&event, from);
        }
        for line in &fx.log {
            eprintln!("sip: {line}");
        }
        if let (Some(live), false) = (&self.live, fx.finished.is_empty()) {
            live.record_calls(&fx.finished);
        }
        if let Some(media) = &self.media {
            for (call, command) in fx.media {
                media.command(call, command);
            }
        }
        fx.send
    }

    /// Syncs the journal (one sync for every step since the last), then sends the messages
    /// those steps produced: nothing is acknowledged before its record is safe.
    fn flush(&self, messages: Vec<Outgoing>) {
        if let Some(live) = &self.live {
            live.sync();
        }
        for out in messages {
            self.send(out);
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

    fn handle(&self, bytes: &[u8], from: SocketAddr) -> Vec<Outgoing> {
        self.step(|core, fx, now| Some(core.on_datagram(bytes, from, now, fx)), from)
    }

    fn report(&self, event: &Event, from: SocketAddr) {
        (lock(&self.report))(event, from);
    }

    /// Forgets finished transactions and expired registrations (reported as unregistered);
    /// call about once a second.
    pub fn tick(&self, local: SocketAddr) {
        let gone = lock(&self.core).tick(Instant::now());
        for user in gone {
            self.report(&Event::Registration(Registration::Unregistered { user }), local);
        }
        self.flush(Vec::new());
    }

    /// A step driven from inside (a timer, the engine, the media layer), not by a message.
    fn drive(&self, f: impl FnOnce(&mut SipCore, &mut Effects, Instant), local: SocketAddr) -> Vec<Outgoing> {
        self.step(
            |core, fx, now| {
                f(core, fx, now);
                None
            },
            local,
        )
    }

    /// The calls' timers; call every 50 ms or so.
    pub fn tick_calls(&self, local: SocketAddr) {
        let out = self.drive(|core, fx, now| core.tick_calls(now, fx), local);
        self.flush(out);
    }

    /// The engine's actions, in order; those that came together share one journal sync.
    pub fn on_actions(&self, actions: &[crate::acd::Action], local: SocketAddr) {
        let out = actions.iter().flat_map(|action| self.drive(|core, fx, now| core.on_action(action, now, fx), local)).collect();
        self.flush(out);
    }

    pub fn on_media(&self, event: &MediaEvent, local: SocketAddr) {
        let out = self.drive(|core, fx, now| core.on_media(event, now, fx), local);
        self.flush(out);
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
        let mut out = endpoint.handle(&buffer[..len], from);
        // Under load, what has already arrived is handled before one sync for all of it.
        for _ in 1..BATCH {
            match socket.try_recv_from(&mut buffer) {
                Ok((len, from)) => out.extend(endpoint.handle(&buffer[..len], from)),
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
                        endpoint.flush(out);
                    }
                }
                Ok(None) => break,
                // A stream that cannot be framed cannot be resynchronised: report and close.
                Err(e) => {
                    endpoint.report(&Event::Malformed(e), peer);
                    writing.abort();
                    return;
                }
            }
        }
    }
    writing.abort();
}
