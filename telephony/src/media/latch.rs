//! Symmetric RTP, sans-IO: where a leg's RTP is heard from and sent to.
//!
//! Phones behind NAT, or with several interfaces, name one address in their SDP and send from
//! another; answering only the SDP's address gives one-way audio. So a leg *latches* onto the
//! source its packets really come from (as Asterisk's `rtp_symmetric` and FreeSWITCH's RTP
//! auto-adjust do), within limits that keep others from taking the stream over:
//! - before the first packet, RTP goes to the SDP's address;
//! - the first packet latches the leg when it comes from the SDP's IP address or from the IP
//!   address the call's signalling came from, or from anywhere within [`LATCH_WINDOW`] of the
//!   leg's opening (the answer): a stranger must guess the port and beat the phone to it in
//!   that window;
//! - once latched, packets from anywhere else are dropped, unless they come from the SDP's or
//!   the signalling's IP address [`RELATCH_AFTER`] times in a row with one SSRC: a proven move
//!   (a NAT rebinding, a new interface), followed; a leg latched within the window onto an
//!   address nobody vouched for follows the first vouched packet at once (a stranger who beat
//!   the phone to the port loses it as soon as the phone speaks);
//! - a re-INVITE that moves the media to another address starts over with it.
//!
//! Nothing is ever sent to an address the peer did not prove (by SDP, signalling or its own
//! packets), so the ACD cannot be used to reflect RTP at a third party.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// How long after a leg opens its first packet may come from an address nobody vouched for.
pub const LATCH_WINDOW: Duration = Duration::from_secs(2);
/// Packets in a row from a new vouched source before the leg follows it.
pub const RELATCH_AFTER: u32 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Source {
    address: SocketAddr,
    ssrc: u32,
}

#[derive(Debug, Clone)]
pub struct Latch {
    sdp: SocketAddr,
    signalling: IpAddr,
    opened: Instant,
    latched: Option<Source>,
    candidate: Option<(Source, u32)>,
}

impl Latch {
    pub fn new(sdp: SocketAddr, signalling: IpAddr, opened: Instant) -> Self {
        Self { sdp, signalling, opened, latched: None, candidate: None }
    }

    /// Where this leg's RTP goes now.
    pub fn target(&self) -> SocketAddr {
        self.latched.map_or(self.sdp, |s| s.address)
    }

    fn vouched(&self, ip: IpAddr) -> bool {
        ip == self.sdp.ip() || ip == self.signalling
    }

    /// Whether a packet with `ssrc` from `from` at `now` is the peer's (and so heard).
    pub fn accept(&mut self, from: SocketAddr, ssrc: u32, now: Instant) -> bool {
        let source = Source { address: from, ssrc };
        match self.latched {
            None if self.vouched(from.ip()) || now.saturating_duration_since(self.opened) < LATCH_WINDOW => {
                self.latched = Some(source);
                true
            }
            None => false,
            Some(current) if current.address == from => {
                // A phone may restart its stream with a new SSRC from the same place.
                self.latched = Some(source);
                self.candidate = None;
                true
            }
            Some(_) if !self.vouched(from.ip()) => false,
            Some(current) if !self.vouched(current.address.ip()) => {
                self.latched = Some(source);
                self.candidate = None;
                true
            }
            Some(_) => {
                let count = match self.candidate {
                    Some((candidate, n)) if candidate == source => n + 1,
                    _ => 1,
                };
                if count >= RELATCH_AFTER {
                    self.latched = Some(source);
                    self.candidate = None;
                    true
                } else {
                    self.candidate = Some((source, count));
                    false
                }
            }
        }
    }

    /// The peer's SDP names an address (a re-INVITE): when it is a new one, latching starts
    /// over (a session refresh naming the same address changes nothing).
    pub fn moved(&mut self, sdp: SocketAddr, now: Instant) {
        if sdp != self.sdp {
            *self = Self::new(sdp, self.signalling, now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn latches_onto_the_real_source_of_a_phone_behind_nat() {
        let t0 = Instant::now();
        // The phone names its LAN address; its packets come from the NAT's, as its SIP did.
        let mut latch = Latch::new(at("192.168.1.20:4000"), "203.0.113.5".parse().unwrap(), t0);
        assert_eq!(latch.target(), at("192.168.1.20:4000"), "before any packet: the SDP's address");
        assert!(latch.accept(at("203.0.113.5:61000"), 7, t0 + Duration::from_secs(10)), "the signalling's address is vouched for, any time");
        assert_eq!(latch.target(), at("203.0.113.5:61000"));
        assert!(!latch.accept(at("198.51.100.66:5004"), 9, t0 + Duration::from_secs(11)), "a stranger is not heard");
        assert_eq!(latch.target(), at("203.0.113.5:61000"), "nor followed");
    }

    #[test]
    fn a_stranger_may_only_be_first_within_the_window() {
        let t0 = Instant::now();
        let mut late = Latch::new(at("192.168.1.20:4000"), "203.0.113.5".parse().unwrap(), t0);
        assert!(!late.accept(at("198.51.100.66:5004"), 9, t0 + LATCH_WINDOW), "unvouched, after the window");
        assert_eq!(late.target(), at("192.168.1.20:4000"), "nothing is sent to an unproven address");
        let mut early = Latch::new(at("10.0.0.9:4000"), "10.0.0.9".parse().unwrap(), t0);
        assert!(early.accept(at("100.64.0.3:4000"), 1, t0 + Duration::from_millis(300)), "a carrier NAT's address, first within the window");
        assert_eq!(early.target(), at("100.64.0.3:4000"));
        // Had it been a stranger racing the phone, the phone's first packet takes the leg back.
        assert!(early.accept(at("10.0.0.9:4000"), 2, t0 + Duration::from_secs(5)));
        assert_eq!(early.target(), at("10.0.0.9:4000"));
        assert!(!early.accept(at("100.64.0.3:4000"), 1, t0 + Duration::from_secs(5)), "and the stranger is not heard again");
    }

    #[test]
    fn follows_a_proven_move_and_starts_over_on_a_re_invite() {
        let t0 = Instant::now();
        let mut latch = Latch::new(at("203.0.113.5:4000"), "203.0.113.5".parse().unwrap(), t0);
        assert!(latch.accept(at("203.0.113.5:4000"), 1, t0));
        // The NAT rebinds the phone to another port.
        for _ in 1..RELATCH_AFTER {
            assert!(!latch.accept(at("203.0.113.5:4100"), 1, t0), "not yet proven");
        }
        assert!(latch.accept(at("203.0.113.5:4100"), 1, t0), "proven: followed");
        assert_eq!(latch.target(), at("203.0.113.5:4100"));
        // An interleaved packet from the old source breaks a run.
        for _ in 1..RELATCH_AFTER {
            latch.accept(at("203.0.113.5:4200"), 1, t0);
        }
        assert!(latch.accept(at("203.0.113.5:4100"), 1, t0));
        assert!(!latch.accept(at("203.0.113.5:4200"), 1, t0), "the run starts again");
        latch.moved(at("203.0.113.5:4000"), t0 + Duration::from_secs(20));
        assert_eq!(latch.target(), at("203.0.113.5:4100"), "a refresh naming the same address changes nothing");
        latch.moved(at("203.0.113.5:5000"), t0 + Duration::from_secs(30));
        assert_eq!(latch.target(), at("203.0.113.5:5000"));
    }
}
