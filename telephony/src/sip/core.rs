//! The SIP endpoint's core, sans-IO: messages (datagrams, or frames of a TCP stream) and the
//! time in, messages out.
//!
//! Server transactions (RFC 3261 §17.2): a retransmitted request gets the same response again,
//! from a cache kept for Timer J (64 × T1 = 32 s). REGISTER goes to the registrar, OPTIONS is
//! answered, and calls — INVITE and everything in a call's dialogs, and the responses to this
//! endpoint's own requests — go to the call controller ([`crate::calls`]) when there is one
//! (without one, INVITE is answered 501). Malformed messages are dropped and reported.

use super::message::{Message, Method, ParseError, StartLine};
use super::registrar::{Registrar, Registration};
use crate::acd::Action;
use crate::calls::{AcdInput, Calls, Effects};
use crate::media::MediaEvent;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// How long a non-INVITE server transaction keeps its response for retransmissions (Timer J).
pub const TIMER_J: Duration = Duration::from_secs(32);
/// Transactions remembered at most: a flood of distinct requests evicts the oldest.
const MAX_TRANSACTIONS: usize = 50_000;
pub const ALLOW: &str = "INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER, REFER, INFO, NOTIFY, UPDATE";

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub to: SocketAddr,
    pub bytes: Vec<u8>,
    /// A copy of a message sent before: needed over UDP only (TCP does not lose it).
    pub retransmission: bool,
}

/// What the core saw, for logs and counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Registration(Registration),
    /// A request answered with `status`.
    Answered { method: Method, status: u16 },
    /// A message that could not be read: dropped (or answered 400), with why.
    Malformed(ParseError),
    Retransmission,
    /// A response to one of this endpoint's requests.
    Response,
    /// A response that matches no request of this endpoint.
    StrayResponse,
    /// An ACK that belongs to no call.
    UnmatchedAck,
    /// An ACK of an answered call.
    Ack,
    /// An address sent new calls faster than allowed: its INVITEs are dropped for a while
    /// (reported once per block, with the calls dropped on this node so far).
    FloodBlocked { dropped: u64 },
}

pub struct SipCore {
    registrar: Registrar,
    /// (branch, method, sender) → (response sent, when it may be forgotten).
    transactions: HashMap<(String, String, SocketAddr), (Vec<u8>, Instant)>,
    tags: u64,
    server: String,
    calls: Option<Calls>,
    /// A suspended tenant's phones cannot register and its numbers take no new calls.
    suspended: bool,
    /// Phones registered at once, at most (the tenant's agent quota).
    max_agents: Option<usize>,
}

impl SipCore {
    pub fn new(registrar: Registrar, server: &str) -> Self {
        Self { registrar, transactions: HashMap::new(), tags: 0, server: server.to_owned(), calls: None, suspended: false, max_agents: None }
    }

    /// Takes calls (INVITE and what follows) to `calls`.
    pub fn with_calls(mut self, calls: Calls) -> Self {
        self.calls = Some(calls);
        self
    }

    pub fn set_suspended(&mut self, suspended: bool) {
        self.suspended = suspended;
    }

    pub fn set_max_agents(&mut self, max_agents: Option<usize>) {
        self.max_agents = max_agents;
    }

    pub fn calls_mut(&mut self) -> Option<&mut Calls> {
        self.calls.as_mut()
    }

    /// Whether a call or dialog with this Call-ID is in progress here.
    pub fn knows_call(&self, call_id: &str) -> bool {
        self.calls.as_ref().is_some_and(|c| c.knows(call_id))
    }

    pub fn active_calls(&self) -> usize {
        self.calls.as_ref().map_or(0, Calls::active)
    }

    pub fn on_action(&mut self, action: &Action, now: Instant, fx: &mut Effects) {
        if let Some(calls) = &mut self.calls {
            calls.on_action(action, now, &self.registrar, fx);
        }
    }

    pub fn on_media(&mut self, event: &MediaEvent, now: Instant, fx: &mut Effects) {
        if let Some(calls) = &mut self.calls {
            calls.on_media(event, now, fx);
        }
    }

    pub fn acd_refused(&mut self, input: &AcdInput, error: &str, now: Instant, fx: &mut Effects) {
        if let Some(calls) = &mut self.calls {
            calls.acd_refused(input, error, now, fx);
        }
    }

    /// The calls' timers (retransmissions, IVR silences); call every 50–100 ms.
    pub fn tick_calls(&mut self, now: Instant, fx: &mut Effects) {
        if let Some(calls) = &mut self.calls {
            calls.tick(now, fx);
        }
    }

    pub fn registrar(&self) -> &Registrar {
        &self.registrar
    }

    /// Handles one message from `from`: what to send goes into `fx`; returns what happened.
    pub fn on_datagram(&mut self, bytes: &[u8], from: SocketAddr, now: Instant, fx: &mut Effects) -> Event {
        match Message::parse(bytes) {
            Ok(mut message) => {
                message.stamp_received(from);
                self.on_message(&message, from, now, fx)
            }
            Err(e) => Event::Malformed(e),
        }
    }

    /// Handles one parsed message from `from`, as [`SipCore::on_datagram`].
    pub fn on_message(&mut self, message: &Message, from: SocketAddr, now: Instant, fx: &mut Effects) -> Event {
        let StartLine::Request { method, .. } = &message.start else {
            let matched = self.calls.as_mut().is_some_and(|calls| calls.on_response(message, now, fx));
            return if matched { Event::Response } else { Event::StrayResponse };
        };
        // The sender is part of the key: two peers may pick the same branch.
        let key = message.branch().map(|b| (b.to_owned(), method.as_str().to_owned(), from));
        if let Some((cached, _)) = key.as_ref().and_then(|k| self.transactions.get(k)).filter(|(_, until)| *until > now) {
            fx.send.push(Outgoing { to: from, bytes: cached.clone(), retransmission: true });
            return Event::Retransmission;
        }
        self.tags += 1;
        let tag = format!("wfm{:x}", self.tags);
        // The response goes before what handling the request sends (a REFER's 202 before its NOTIFY).
        let first_send = fx.send.len();
        let (response, registration) = match method {
            // An ACK is never answered, not even this way.
            _ if *method != Method::Ack && message.header("Max-Forwards").is_some_and(|v| v.trim() == "0") => (message.response(483, "Too Many Hops", &tag), None),
            Method::Register if self.suspended && !is_unregister(message) => (message.response(403, "Forbidden (tenant suspended)", &tag), Some(Registration::Refused { user: to_user(message) })),
            Method::Register if self.over_agent_quota(message, now) => (message.response(403, "Forbidden (agent quota reached)", &tag), Some(Registration::Refused { user: to_user(message) })),
            Method::Register => {
                let (response, outcome) = self.registrar.register(message, from, now, &tag);
                (response, Some(outcome))
            }
            Method::Invite if self.suspended && !self.knows_call(message.call_id()) => (message.response(403, "Forbidden (tenant suspended)", &tag), None),
            Method::Options => (message.response(200, "OK", &tag).with_header("Allow", ALLOW).with_header("Accept", "application/sdp"), None),
            _ if self.calls.is_some() => {
                let calls = self.calls.as_mut().expect("checked");
                match calls.on_request(message, from, now, &mut self.registrar, fx) {
                    Some(response) => (response, None),
                    None if *method == Method::Ack => return Event::Ack,
                    None => return Event::UnmatchedAck,
                }
            }
            Method::Ack => return Event::UnmatchedAck,
            Method::Bye | Method::Cancel => (message.response(481, "Call/Transaction Does Not Exist", &tag), None),
            _ => (message.response(501, "Not Implemented", &tag).with_header("Allow", ALLOW), None),
        };
        let event = match registration {
            Some(outcome) => Event::Registration(outcome),
            None => Event::Answered { method: method.clone(), status: response.status().unwrap_or_default() },
        };
        let bytes = response.with_header("Server", self.server.clone()).to_bytes();
        if let Some(key) = key {
            self.remember(key, bytes.clone(), now);
        }
        fx.send.insert(first_send, Outgoing { to: from, bytes, retransmission: false });
        event
    }

    /// A REGISTER of a phone not yet registered when the tenant has as many as it may.
    fn over_agent_quota(&self, message: &Message, now: Instant) -> bool {
        let Some(max) = self.max_agents.filter(|_| !is_unregister(message)) else { return false };
        let user = to_user(message);
        self.registrar.binding(&user, now).is_none() && self.registrar.registered(now) >= max
    }

    fn remember(&mut self, key: (String, String, SocketAddr), response: Vec<u8>, now: Instant) {
        if self.transactions.len() >= MAX_TRANSACTIONS {
            self.transactions.retain(|_, (_, until)| *until > now);
            if self.transactions.len() >= MAX_TRANSACTIONS {
                self.transactions.clear();
            }
        }
        self.transactions.insert(key, (response, now + TIMER_J));
    }

    /// Forgets finished transactions and expired registrations; returns the users logged out.
    pub fn tick(&mut self, now: Instant) -> Vec<String> {
        self.transactions.retain(|_, (_, until)| *until > now);
        self.registrar.expire(now)
    }
}

/// A REGISTER that removes bindings (always allowed: a phone may leave a suspended or full tenant).
fn is_unregister(message: &Message) -> bool {
    let contact = message.header("Contact").unwrap_or_default();
    message.header("Expires").is_some_and(|e| e.trim() == "0") || contact.trim() == "*" || super::message::param(contact, "expires").is_some_and(|e| e == "0")
}

fn to_user(message: &Message) -> String {
    message.header("To").and_then(super::message::uri_user).unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn core() -> SipCore {
        SipCore::new(Registrar::new("wfm", HashMap::from([("1001".to_owned(), "pw".to_owned())]), [1; 16]), "wfm-test")
    }

    fn request(method: &str, branch: &str) -> Vec<u8> {
        format!(
            "{method} sip:wfm@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5061;branch={branch}\r\nFrom: <sip:x@127.0.0.1>;tag=1\r\n\
             To: <sip:1001@127.0.0.1>\r\nCall-ID: c\r\nCSeq: 1 {method}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        )
        .into_bytes()
    }

    fn status(out: &[Outgoing]) -> u16 {
        Message::parse(&out[0].bytes).unwrap().status().unwrap()
    }

    /// One message in: what went out and what happened.
    fn handle(c: &mut SipCore, bytes: &[u8], from: SocketAddr, now: Instant) -> (Vec<Outgoing>, Event) {
        let mut fx = Effects::default();
        let event = c.on_datagram(bytes, from, now, &mut fx);
        (fx.send, event)
    }

    #[test]
    fn answers_each_method_and_replays_retransmissions() {
        let mut c = core();
        let from: SocketAddr = "127.0.0.1:5061".parse().unwrap();
        let t0 = Instant::now();
        let (out, event) = handle(&mut c, &request("OPTIONS", "z9hG4bK-o"), from, t0);
        assert_eq!((status(&out), event), (200, Event::Answered { method: Method::Options, status: 200 }));
        let (again, event) = handle(&mut c, &request("OPTIONS", "z9hG4bK-o"), from, t0 + Duration::from_secs(1));
        assert_eq!(again[0].bytes, out[0].bytes, "the same bytes, To-tag included");
        assert_eq!(event, Event::Retransmission);
        let (late, _) = handle(&mut c, &request("OPTIONS", "z9hG4bK-o"), from, t0 + TIMER_J + Duration::from_secs(1));
        assert_ne!(late, out, "after Timer J it is a new transaction");
        assert_eq!(status(&handle(&mut c, &request("REGISTER", "z9hG4bK-r"), from, t0).0), 401);
        assert_eq!(status(&handle(&mut c, &request("BYE", "z9hG4bK-b"), from, t0).0), 481);
        assert_eq!(status(&handle(&mut c, &request("SUBSCRIBE", "z9hG4bK-s"), from, t0).0), 501);
        let hops = String::from_utf8(request("OPTIONS", "z9hG4bK-h")).unwrap().replace("Max-Forwards: 70", "Max-Forwards: 0");
        assert_eq!(status(&handle(&mut c, hops.as_bytes(), from, t0).0), 483);
    }

    #[test]
    fn a_suspended_tenant_and_a_full_agent_quota_refuse_registrations() {
        let mut c = core();
        let from: SocketAddr = "127.0.0.1:5061".parse().unwrap();
        let t0 = Instant::now();
        let reason = |out: &[Outgoing]| String::from_utf8_lossy(&out[0].bytes).lines().next().unwrap_or_default().to_owned();
        c.set_suspended(true);
        assert_eq!(reason(&handle(&mut c, &request("REGISTER", "z9hG4bK-s1"), from, t0).0), "SIP/2.0 403 Forbidden (tenant suspended)");
        assert_eq!(reason(&handle(&mut c, &request("INVITE", "z9hG4bK-s2"), from, t0).0), "SIP/2.0 403 Forbidden (tenant suspended)");
        c.set_suspended(false);
        c.set_max_agents(Some(0));
        assert_eq!(reason(&handle(&mut c, &request("REGISTER", "z9hG4bK-s3"), from, t0).0), "SIP/2.0 403 Forbidden (agent quota reached)");
        c.set_max_agents(Some(1));
        assert_eq!(status(&handle(&mut c, &request("REGISTER", "z9hG4bK-s4"), from, t0).0), 401, "room for one: challenged");
    }

    #[test]
    fn garbage_and_responses_are_dropped() {
        let mut c = core();
        let from: SocketAddr = "127.0.0.1:5061".parse().unwrap();
        let (out, event) = handle(&mut c, b"\x00\xffnot sip", from, Instant::now());
        assert!(out.is_empty() && matches!(event, Event::Malformed(_)));
        let response = b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK-1\r\nFrom: <sip:a@b>\r\nTo: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n";
        let (out, event) = handle(&mut c, response, from, Instant::now());
        assert!(out.is_empty() && event == Event::StrayResponse);
    }
}
