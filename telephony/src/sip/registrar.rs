//! The registrar (RFC 3261 §10): agents' phones register with digest authentication; a binding
//! says where an agent's calls go until it expires or the phone unregisters. Sans-IO: the
//! caller passes the time and the source address.
//!
//! Guessing is refused ([`super::guard`]), and a captured REGISTER cannot be replayed: each
//! nonce's highest nonce count (`nc`, RFC 2617 §3.2.2) is kept and a digest must exceed it (a
//! digest without `qop` uses its nonce once); a replay is challenged anew.

use super::digest::{challenge, Credentials};
use super::guard::{DigestGuard, Locked};
use super::message::{uri_user, Message};
use md5::{Digest, Md5};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Registration lengths a phone may ask for, seconds; outside them the nearest bound applies
/// (RFC 3261 §10.3 would answer 423 below the minimum; phones then retry higher, so granting
/// the minimum saves a round trip).
pub const MIN_EXPIRES_S: u64 = 60;
pub const MAX_EXPIRES_S: u64 = 3600;
const DEFAULT_EXPIRES_S: u64 = 3600;
/// A challenge's nonce is good for this long.
const NONCE_LIFETIME: Duration = Duration::from_secs(300);
/// Outstanding nonces kept at most (a flood of REGISTERs cannot grow memory without bound).
const MAX_NONCES: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The Contact URI the phone gave.
    pub contact: String,
    /// Where the REGISTER came from: where the phone is reached behind NAT.
    pub source: SocketAddr,
    pub expires_at: Instant,
}

/// What a REGISTER changed, for the ACD's agent states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registration {
    /// Not yet authenticated: a challenge was sent.
    Challenged,
    Registered { user: String, expires_s: u64 },
    Unregistered { user: String },
    /// Authentication failed or the user is unknown.
    Refused { user: String },
    /// Authentication failed and this failure locked guessing out ([`super::guard`]).
    Locked { user: String, what: Locked },
    /// Malformed: a 400 was sent.
    Malformed,
}

#[derive(Debug, Clone, Copy)]
struct Nonce {
    issued: Instant,
    to: std::net::IpAddr,
    highest: u64,
}

/// What a request's digest showed.
enum Verified {
    NoCredentials,
    /// Guessing from there is locked out: not even checked.
    Locked,
    /// A wrong password (or user); the lock it started, if any.
    Wrong(Option<Locked>),
    /// The right password on a nonce past its lifetime.
    Stale,
    /// A nonce count already used: a captured request sent again.
    Replayed,
    Proven,
}

pub struct Registrar {
    realm: String,
    passwords: HashMap<String, String>,
    bindings: HashMap<String, Binding>,
    /// Each outstanding nonce: when and to which address it was issued, and the highest nonce
    /// count used with it.
    nonces: HashMap<String, Nonce>,
    secret: [u8; 16],
    issued: u64,
    guard: DigestGuard,
    /// The guard counts in milliseconds since this instant.
    epoch: Instant,
}

impl Registrar {
    /// `passwords` by SIP user (the agent id); `secret` makes nonces unpredictable.
    pub fn new(realm: &str, passwords: HashMap<String, String>, secret: [u8; 16]) -> Self {
        Self { realm: realm.to_owned(), passwords, bindings: HashMap::new(), nonces: HashMap::new(), secret, issued: 0, guard: DigestGuard::default(), epoch: Instant::now() }
    }

    /// The binding of `user`, if registered and not expired at `now`.
    pub fn binding(&self, user: &str, now: Instant) -> Option<&Binding> {
        self.bindings.get(user).filter(|b| b.expires_at > now)
    }

    /// Users with a phone registered at `now`.
    pub fn registered(&self, now: Instant) -> usize {
        self.bindings.values().filter(|b| b.expires_at > now).count()
    }

    /// Whether a phone of this tenant is registered from `address`.
    pub fn registered_from(&self, address: SocketAddr, now: Instant) -> bool {
        self.bindings.values().any(|b| b.source == address && b.expires_at > now)
    }

    /// A phone bound without a REGISTER, for tests of what uses bindings.
    #[cfg(test)]
    pub(crate) fn bind(&mut self, user: &str, contact: &str, source: SocketAddr, expires_at: Instant) {
        self.bindings.insert(user.to_owned(), Binding { contact: contact.to_owned(), source, expires_at });
    }

    /// Bindings that expired by `now` are removed; their users are returned (logged out).
    pub fn expire(&mut self, now: Instant) -> Vec<String> {
        let gone: Vec<String> = self.bindings.iter().filter(|(_, b)| b.expires_at <= now).map(|(u, _)| u.clone()).collect();
        for user in &gone {
            self.bindings.remove(user);
        }
        self.nonces.retain(|_, n| now.duration_since(n.issued) < NONCE_LIFETIME);
        gone
    }

    fn new_nonce(&mut self, now: Instant, to: std::net::IpAddr) -> String {
        if self.nonces.len() >= MAX_NONCES {
            self.nonces.retain(|_, n| now.duration_since(n.issued) < NONCE_LIFETIME);
            if self.nonces.len() >= MAX_NONCES {
                // Still full: the oldest go first.
                let mut by_age: Vec<(String, Nonce)> = self.nonces.drain().collect();
                by_age.sort_by_key(|(_, n)| std::cmp::Reverse(n.issued));
                self.nonces = by_age.into_iter().take(MAX_NONCES / 2).collect();
            }
        }
        self.issued += 1;
        let mut hasher = Md5::new();
        hasher.update(self.secret);
        hasher.update(self.issued.to_be_bytes());
        let nonce = super::digest::hex(&hasher.finalize());
        self.nonces.insert(nonce.clone(), Nonce { issued: now, to, highest: 0 });
        nonce
    }

    /// Checks the digest of `request` (any method) for `user`, from `source` at `now`: the
    /// password, the nonce's age, its count (no replay), and the guard against guessing.
    fn verify(&mut self, request: &Message, header: &str, user: &str, source: SocketAddr, now: Instant) -> Verified {
        let Some(credentials) = request.headers_named(header).find_map(Credentials::parse).filter(|c| c.realm == self.realm) else {
            return Verified::NoCredentials;
        };
        let now_ms = now.saturating_duration_since(self.epoch).as_millis() as i64;
        // The office's NAT address, where phones are registered from, is not locked as a
        // whole (the account from there still is, after its own failures).
        let phones_there = self.bindings.values().any(|b| b.source.ip() == source.ip() && b.expires_at > now);
        if !self.guard.allows(&credentials.username, source.ip(), now_ms, phones_there) {
            return Verified::Locked;
        }
        let nonce = self.nonces.get(&credentials.nonce).copied();
        let fresh = nonce.is_some_and(|n| now.duration_since(n.issued) < NONCE_LIFETIME);
        let password = self.passwords.get(&credentials.username);
        let method = request.method().map_or("REGISTER", |m| m.as_str());
        let proven = credentials.username == user && password.is_some_and(|p| credentials.verify(method, p));
        if !proven {
            // Only an answer to a challenge sent to that very address counts as a failure: a
            // forged source never saw one, so it cannot lock anybody out.
            if fresh && nonce.is_some_and(|n| n.to == source.ip()) {
                return Verified::Wrong(self.guard.failed(&credentials.username, source.ip(), now_ms));
            }
            return Verified::NoCredentials;
        }
        // A nonce count no higher than one already used is a replay of a captured request.
        let count = match &credentials.qop {
            Some(_) => credentials.nc.as_deref().and_then(|nc| u64::from_str_radix(nc, 16).ok()).unwrap_or(0),
            None => 1,
        };
        let replayed = nonce.is_some_and(|n| count <= n.highest);
        if replayed {
            return Verified::Replayed;
        }
        if !fresh {
            return Verified::Stale;
        }
        if let Some(n) = self.nonces.get_mut(&credentials.nonce) {
            n.highest = if credentials.qop.is_some() { count } else { u64::MAX };
        }
        self.guard.succeeded(&credentials.username, source.ip());
        Verified::Proven
    }

    /// A challenge header value with a new nonce.
    fn challenge(&mut self, now: Instant, to: std::net::IpAddr, stale: bool) -> String {
        let nonce = self.new_nonce(now, to);
        challenge(&self.realm, &nonce, stale)
    }

    /// Whether a request other than REGISTER (a feature code's INVITE) comes from `user`'s
    /// phone with the password: `Ok` when proven, else the response to send (a challenge, or a
    /// refusal) and the lock a wrong password started, if it did (to be alarmed as a
    /// REGISTER's is).
    pub fn authenticate(&mut self, request: &Message, user: &str, source: SocketAddr, now: Instant, to_tag: &str) -> Result<(), (Message, Option<Locked>)> {
        let challenged = |this: &mut Self, stale| request.response(401, "Unauthorized", to_tag).with_header("WWW-Authenticate", this.challenge(now, source.ip(), stale));
        match self.verify(request, "Authorization", user, source, now) {
            Verified::Proven => Ok(()),
            Verified::NoCredentials | Verified::Replayed => Err((challenged(self, false), None)),
            Verified::Stale => Err((challenged(self, true), None)),
            Verified::Locked => Err((request.response(403, "Forbidden (too many failed attempts)", to_tag), None)),
            Verified::Wrong(locked) => Err((request.response(403, "Forbidden", to_tag), locked)),
        }
    }

    /// Answers a REGISTER from `source` at `now`.
    pub fn register(&mut self, request: &Message, source: SocketAddr, now: Instant, to_tag: &str) -> (Message, Registration) {
        let Some(user) = request.header("To").and_then(uri_user).map(str::to_owned) else {
            return (request.response(400, "Bad Request (no user in To)", to_tag), Registration::Malformed);
        };
        let challenged = |this: &mut Self, stale| (request.response(401, "Unauthorized", to_tag).with_header("WWW-Authenticate", this.challenge(now, source.ip(), stale)), Registration::Challenged);
        match self.verify(request, "Authorization", &user, source, now) {
            Verified::Proven => {}
            // No credentials yet, or a replay, which only the password can answer anew.
            Verified::NoCredentials | Verified::Replayed => return challenged(self, false),
            // Right password, old nonce: a new challenge marked stale, so the phone retries at once.
            Verified::Stale => return challenged(self, true),
            Verified::Locked => return (request.response(403, "Forbidden (too many failed attempts)", to_tag), Registration::Refused { user }),
            Verified::Wrong(locked) => {
                let outcome = match locked {
                    Some(what) => Registration::Locked { user, what },
                    None => Registration::Refused { user },
                };
                return (request.response(403, "Forbidden", to_tag), outcome);
            }
        }
        let contact = request.header("Contact").unwrap_or_default().to_owned();
        let asked = super::message::param(&contact, "expires").or(request.header("Expires")).and_then(|v| v.trim().parse::<u64>().ok());
        if contact.trim() == "*" || asked == Some(0) {
            self.bindings.remove(&user);
            return (request.response(200, "OK", to_tag), Registration::Unregistered { user });
        }
        if contact.is_empty() {
            // A query (RFC 3261 §10.3 step 8): the current binding, nothing changed.
            let mut response = request.response(200, "OK", to_tag);
            if let Some(b) = self.binding(&user, now) {
                response = response.with_header("Contact", format!("{};expires={}", b.contact, b.expires_at.duration_since(now).as_secs()));
            }
            return (response, Registration::Registered { user, expires_s: 0 });
        }
        let expires_s = asked.unwrap_or(DEFAULT_EXPIRES_S).clamp(MIN_EXPIRES_S, MAX_EXPIRES_S);
        // Parameters after `>` belong to the binding (expires); those inside are the URI's.
        let uri = match contact.find('>') {
            Some(end) => contact[..=end].trim().to_owned(),
            None => contact.split(';').next().unwrap_or(&contact).trim().to_owned(),
        };
        self.bindings.insert(user.clone(), Binding { contact: uri.clone(), source, expires_at: now + Duration::from_secs(expires_s) });
        let response = request.response(200, "OK", to_tag).with_header("Contact", format!("{uri};expires={expires_s}")).with_header("Expires", expires_s.to_string());
        (response, Registration::Registered { user, expires_s })
    }
}

#[cfg(test)]
mod tests {
    use super::super::digest::response;
    use super::super::message::param;
    use super::*;

    fn register(auth: Option<&str>, expires: &str) -> Message {
        let mut text = String::from(
            "REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1\r\nFrom: <sip:1001@127.0.0.1>;tag=a\r\n\
             To: <sip:1001@127.0.0.1>\r\nCall-ID: c1\r\nCSeq: 1 REGISTER\r\n",
        );
        text += &format!("Contact: <sip:1001@127.0.0.1:5061>;expires={expires}\r\n");
        if let Some(a) = auth {
            text += &format!("Authorization: {a}\r\n");
        }
        text += "Content-Length: 0\r\n\r\n";
        Message::parse(text.as_bytes()).unwrap()
    }

    fn status(m: &Message) -> u16 {
        m.status().unwrap()
    }

    fn answer(challenge: &Message, password: &str) -> String {
        let nonce = param(&format!(";{}", challenge.header("WWW-Authenticate").unwrap().trim_start_matches("Digest ").replace(", ", ";")), "nonce").unwrap().to_owned();
        let r = response("1001", "wfm", password, "REGISTER", "sip:127.0.0.1", &nonce, Some(("auth", "00000001", "xyz")));
        format!("Digest username=\"1001\", realm=\"wfm\", nonce=\"{nonce}\", uri=\"sip:127.0.0.1\", response=\"{r}\", qop=auth, nc=00000001, cnonce=\"xyz\"")
    }

    #[test]
    fn challenge_then_register_then_expire_or_unregister() {
        let mut r = Registrar::new("wfm", HashMap::from([("1001".to_owned(), "secret".to_owned())]), [7; 16]);
        let from: SocketAddr = "127.0.0.1:5061".parse().unwrap();
        let t0 = Instant::now();
        let (challenge, outcome) = r.register(&register(None, "120"), from, t0, "x");
        assert_eq!((status(&challenge), outcome), (401, Registration::Challenged));
        let (ok, outcome) = r.register(&register(Some(&answer(&challenge, "secret")), "120"), from, t0, "x");
        assert_eq!(status(&ok), 200);
        assert_eq!(outcome, Registration::Registered { user: "1001".into(), expires_s: 120 });
        assert_eq!(r.binding("1001", t0 + Duration::from_secs(119)).map(|b| b.source), Some(from));
        assert_eq!(r.expire(t0 + Duration::from_secs(121)), ["1001"]);
        // Wrong password: 403. Unregister with expires=0.
        let (c, _) = r.register(&register(None, "120"), from, t0, "x");
        assert_eq!(r.register(&register(Some(&answer(&c, "wrong")), "120"), from, t0, "x").1, Registration::Refused { user: "1001".into() });
        let (c, _) = r.register(&register(None, "0"), from, t0, "x");
        assert_eq!(r.register(&register(Some(&answer(&c, "secret")), "0"), from, t0, "x").1, Registration::Unregistered { user: "1001".into() });
    }

    #[test]
    fn an_old_nonce_is_challenged_again_as_stale() {
        let mut r = Registrar::new("wfm", HashMap::from([("1001".to_owned(), "secret".to_owned())]), [7; 16]);
        let from: SocketAddr = "127.0.0.1:5061".parse().unwrap();
        let t0 = Instant::now();
        let (challenge, _) = r.register(&register(None, "60"), from, t0, "x");
        let late = t0 + NONCE_LIFETIME + Duration::from_secs(1);
        let (again, outcome) = r.register(&register(Some(&answer(&challenge, "secret")), "60"), from, late, "x");
        assert_eq!((status(&again), outcome), (401, Registration::Challenged));
        assert!(again.header("WWW-Authenticate").unwrap().contains("stale=true"));
    }

    #[test]
    fn a_captured_register_cannot_be_replayed() {
        let mut r = Registrar::new("wfm", HashMap::from([("1001".to_owned(), "secret".to_owned())]), [7; 16]);
        let from: SocketAddr = "127.0.0.1:5061".parse().unwrap();
        let t0 = Instant::now();
        let (challenge, _) = r.register(&register(None, "120"), from, t0, "x");
        let captured = register(Some(&answer(&challenge, "secret")), "120");
        assert_eq!(status(&r.register(&captured, from, t0, "x").0), 200);
        let (again, outcome) = r.register(&captured, "198.51.100.9:5060".parse().unwrap(), t0 + Duration::from_secs(5), "x");
        assert_eq!((status(&again), outcome), (401, Registration::Challenged), "the same nonce count again");
        assert!(!again.header("WWW-Authenticate").unwrap().contains("stale=true"), "not stale: only the password answers it");
    }

    #[test]
    fn answers_to_challenges_sent_elsewhere_count_no_failure() {
        let mut r = Registrar::new("wfm", HashMap::from([("1001".to_owned(), "secret".to_owned())]), [7; 16]);
        let phone: SocketAddr = "10.0.0.5:5060".parse().unwrap();
        let t0 = Instant::now();
        // An attacker elsewhere forges the phone's address with a nonce it was sent.
        let (c, _) = r.register(&register(None, "120"), "192.0.2.1:5061".parse().unwrap(), t0, "x");
        for _ in 0..30 {
            let (answer, outcome) = r.register(&register(Some(&answer(&c, "guess")), "120"), phone, t0, "x");
            assert_eq!((status(&answer), outcome), (401, Registration::Challenged), "challenged again, not counted");
        }
        let (c, _) = r.register(&register(None, "120"), phone, t0, "x");
        assert_eq!(status(&r.register(&register(Some(&answer(&c, "secret")), "120"), phone, t0, "x").0), 200, "the phone is not locked out");
    }

    #[test]
    fn guessing_is_locked_out_and_reported() {
        let mut r = Registrar::new("wfm", HashMap::from([("1001".to_owned(), "secret".to_owned())]), [7; 16]);
        let attacker: SocketAddr = "192.0.2.1:5061".parse().unwrap();
        let t0 = Instant::now();
        let outcomes: Vec<Registration> = (0..5)
            .map(|_| {
                let (c, _) = r.register(&register(None, "120"), attacker, t0, "x");
                r.register(&register(Some(&answer(&c, "guess")), "120"), attacker, t0, "x").1
            })
            .collect();
        assert_eq!(outcomes[4], Registration::Locked { user: "1001".into(), what: Locked::AccountFromSource });
        let (c, _) = r.register(&register(None, "120"), attacker, t0, "x");
        let (refused, _) = r.register(&register(Some(&answer(&c, "secret")), "120"), attacker, t0, "x");
        assert_eq!(refused.start, super::super::message::StartLine::Response { status: 403, reason: "Forbidden (too many failed attempts)".into() }, "even the right password, from there");
        let phone: SocketAddr = "10.0.0.5:5060".parse().unwrap();
        let (c, _) = r.register(&register(None, "120"), phone, t0, "x");
        assert_eq!(status(&r.register(&register(Some(&answer(&c, "secret")), "120"), phone, t0, "x").0), 200, "the agent's phone elsewhere is not locked out");
    }
}
