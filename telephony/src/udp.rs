//! The tokio layer over [`crate::sip::core::SipCore`]: one task reads datagrams, asks the core,
//! sends what it returns, and ticks the core's timers every second. Nothing here decides.

use crate::sip::core::{Event, SipCore};
use std::time::{Duration, Instant};
use tokio::net::UdpSocket;

/// What a running endpoint reports: each event with the peer's address.
pub type Report = Box<dyn FnMut(&Event, std::net::SocketAddr) + Send>;

/// Serves SIP on `socket` until the task is dropped.
pub async fn serve(socket: UdpSocket, mut core: SipCore, mut report: Report) -> std::io::Result<()> {
    // Larger than any message the core accepts, so an oversized one is seen (and refused).
    let mut buffer = vec![0u8; crate::sip::message::MAX_MESSAGE_BYTES + 1];
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            received = socket.recv_from(&mut buffer) => {
                let (len, from) = match received {
                    Ok(r) => r,
                    // ICMP port-unreachable from an earlier send surfaces here on some systems:
                    // it concerns that peer, not the socket.
                    Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => continue,
                    Err(e) => return Err(e),
                };
                let (out, event) = core.on_datagram(&buffer[..len], from, Instant::now());
                report(&event, from);
                for datagram in out {
                    // A peer that cannot be reached is its own problem; the endpoint goes on.
                    let _ = socket.send_to(&datagram.bytes, datagram.to).await;
                }
            }
            _ = ticker.tick() => {
                for user in core.tick(Instant::now()) {
                    report(&Event::Registration(crate::sip::registrar::Registration::Unregistered { user }), socket.local_addr()?);
                }
            }
        }
    }
}
