//! The tokio layer over [`crate::sip::core::SipCore`]: UDP datagrams and TCP streams in, the
//! core's answers out (over TCP on the connection the request came on), its timers ticked.
//! Nothing here decides.

use crate::sip::core::{Event, Outgoing, SipCore};
use crate::sip::message::frame_len;
use crate::sip::registrar::Registration;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

/// What a running endpoint reports: each event with the peer's address.
pub type Report = Box<dyn FnMut(&Event, SocketAddr) + Send>;

/// TCP connections open at once, at most; more are closed on arrival.
pub const MAX_CONNECTIONS: usize = 10_000;
/// A TCP connection silent this long is closed (phones send keep-alives or re-register sooner).
const IDLE: Duration = Duration::from_secs(600);

/// The core and the report, shared by the UDP task and every TCP connection.
pub struct Endpoint {
    core: Mutex<SipCore>,
    report: Mutex<Report>,
}

impl Endpoint {
    pub fn new(core: SipCore, report: Report) -> Arc<Self> {
        Arc::new(Self { core: Mutex::new(core), report: Mutex::new(report) })
    }

    fn handle(&self, bytes: &[u8], from: SocketAddr) -> Vec<Outgoing> {
        // A poisoned lock means a handler panicked between two messages: the core's state is
        // still a state between two messages, so carry on.
        let (out, event) = self.core.lock().unwrap_or_else(|p| p.into_inner()).on_datagram(bytes, from, Instant::now());
        self.report(&event, from);
        out
    }

    fn report(&self, event: &Event, from: SocketAddr) {
        (self.report.lock().unwrap_or_else(|p| p.into_inner()))(event, from);
    }

    /// Forgets finished transactions and expired registrations (reported as unregistered);
    /// call about once a second.
    pub fn tick(&self, local: SocketAddr) {
        let gone = self.core.lock().unwrap_or_else(|p| p.into_inner()).tick(Instant::now());
        for user in gone {
            self.report(&Event::Registration(Registration::Unregistered { user }), local);
        }
    }
}

/// Serves SIP over UDP on `socket` until the task is dropped.
pub async fn serve_udp(socket: UdpSocket, endpoint: Arc<Endpoint>) -> std::io::Result<()> {
    // Larger than any message the core accepts, so an oversized one is seen (and refused).
    let mut buffer = vec![0u8; crate::sip::message::MAX_MESSAGE_BYTES + 1];
    loop {
        let (len, from) = match socket.recv_from(&mut buffer).await {
            Ok(r) => r,
            // ICMP port-unreachable from an earlier send surfaces here on some systems: it
            // concerns that peer, not the socket.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => continue,
            Err(e) => return Err(e),
        };
        for datagram in endpoint.handle(&buffer[..len], from) {
            // A peer that cannot be reached is its own problem; the endpoint goes on.
            let _ = socket.send_to(&datagram.bytes, datagram.to).await;
        }
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
            drop(slot);
        });
    }
}

/// One TCP connection: messages framed by Content-Length, answered on the same connection.
async fn connection(mut stream: TcpStream, peer: SocketAddr, endpoint: &Endpoint) {
    let mut buffer: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        let n = match tokio::time::timeout(IDLE, stream.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => n,
            _ => return,
        };
        buffer.extend_from_slice(&chunk[..n]);
        loop {
            match frame_len(&buffer) {
                Ok(Some(len)) => {
                    let message: Vec<u8> = buffer.drain(..len).collect();
                    // Keep-alive CRLFs (RFC 5626) need no answer.
                    if message.iter().all(|b| matches!(b, b'\r' | b'\n')) {
                        continue;
                    }
                    for out in endpoint.handle(&message, peer) {
                        if out.to == peer && stream.write_all(&out.bytes).await.is_err() {
                            return;
                        }
                    }
                }
                Ok(None) => break,
                // A stream that cannot be framed cannot be resynchronised: report and close.
                Err(e) => return endpoint.report(&Event::Malformed(e), peer),
            }
        }
    }
}
