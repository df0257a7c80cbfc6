//! Which tenant's ACD a SIP message is for, sans-IO. One endpoint (one address) serves every
//! tenant; each tenant has its own core (registrar, calls, queue engine).
//!
//! The rule, in order:
//! 1. a message of a call a tenant already has goes to that tenant: the Call-IDs a tenant's
//!    controller makes carry its tag (`TOKEN.TAG@host`), and a caller's Call-ID is remembered
//!    when its INVITE is routed;
//! 2. a new INVITE goes to the tenant owning the dialled number (a number belongs to one tenant:
//!    a second claim is refused when the tenant is added); failing that, to the tenant named by
//!    the From URI's domain, then to the tenant with a phone registered from the sender's
//!    address (an agent dialling a feature code), then to the default tenant;
//! 3. a REGISTER goes to the tenant named by the domain of its To URI: `sip:1001@acme` or
//!    `sip:1001@acme.pbx.example` are tenant `acme`'s agent 1001 (the whole host, else its
//!    longest leading labels that are a tenant's id, letter case aside: `acme.pl.pbx.example`
//!    is tenant `acme.pl` when there is one); an IP address or an unknown domain means the
//!    default tenant (`--sip-default-tenant`, `demo` unless set);
//! 4. anything else to the default tenant, which answers as a lone endpoint would (481, 200 to
//!    OPTIONS); with no default tenant, 404.
//!
//! New INVITEs beyond the node's call limit are refused here (503) before any tenant sees them;
//! each tenant's own limit (its quota) is its controller's. A caller's Call-ID is remembered for
//! [`LINGER`] after its call ends, so that late retransmissions still reach the tenant.

use crate::sip::message::{uri_host, uri_user, Message, Method, StartLine};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// How long a finished call's route is kept: Timer J, 64 × T1.
pub const LINGER: Duration = Duration::from_secs(32);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SwitchboardError {
    #[error("number {number} belongs to tenant {owner} already")]
    NumberTaken { number: String, owner: String },
    #[error("tenant {0} is served already")]
    TenantTaken(String),
}

/// Where a message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// To the tenant at this index (in the order tenants were added).
    Tenant(usize),
    /// Answered here with this status and reason; no tenant sees it.
    Refuse { status: u16, reason: &'static str },
    /// Dropped (a response or an ACK nobody expects).
    Drop,
}

#[derive(Debug, Default)]
pub struct Switchboard {
    tenants: Vec<String>,
    by_tenant: HashMap<String, usize>,
    /// The same, by the id in lower case (domains are matched without regard to case).
    by_domain: HashMap<String, usize>,
    by_number: HashMap<String, usize>,
    by_tag: HashMap<String, usize>,
    /// Callers' Call-IDs: the tenant their INVITE went to, and since when the call is over.
    callers: HashMap<String, (usize, Option<Instant>)>,
    default_tenant: Option<String>,
}

impl Switchboard {
    pub fn new(default_tenant: Option<&str>) -> Self {
        Self { default_tenant: default_tenant.map(str::to_owned), ..Self::default() }
    }

    /// Adds a tenant with its dialled numbers and the tag of its Call-IDs; returns its index.
    pub fn add(&mut self, tenant: &str, numbers: &[String], tag: &str) -> Result<usize, SwitchboardError> {
        if self.by_tenant.contains_key(tenant) {
            return Err(SwitchboardError::TenantTaken(tenant.to_owned()));
        }
        if let Some((number, owner)) = numbers.iter().find_map(|n| self.by_number.get(n).map(|i| (n, &self.tenants[*i]))) {
            return Err(SwitchboardError::NumberTaken { number: number.clone(), owner: owner.clone() });
        }
        let index = self.tenants.len();
        self.tenants.push(tenant.to_owned());
        self.by_tenant.insert(tenant.to_owned(), index);
        self.by_domain.insert(tenant.to_ascii_lowercase(), index);
        self.by_tag.insert(tag.to_owned(), index);
        for number in numbers {
            self.by_number.insert(number.clone(), index);
        }
        Ok(index)
    }

    pub fn index(&self, tenant: &str) -> Option<usize> {
        self.by_tenant.get(tenant).copied()
    }

    fn default_index(&self) -> Option<usize> {
        self.default_tenant.as_deref().and_then(|t| self.index(t))
    }

    /// The tenant a URI's domain names: the whole host, else its longest leading labels that
    /// are a tenant's id; none for an address.
    fn by_domain(&self, uri: Option<&str>) -> Option<usize> {
        let host = uri_host(uri?)?.to_ascii_lowercase();
        if host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[') {
            return None;
        }
        let mut end = host.len();
        loop {
            if let Some(index) = self.by_domain.get(&host[..end]) {
                return Some(*index);
            }
            end = host[..end].rfind('.')?;
        }
    }

    /// Routes `message` from `from`. `registered_from(tenant, address)` says whether a phone of
    /// that tenant is registered from that address; `calls_in_progress` and `max_calls` are the
    /// node's.
    pub fn route(&mut self, message: &Message, from: SocketAddr, registered_from: impl Fn(usize, SocketAddr) -> bool, calls_in_progress: usize, max_calls: usize) -> Route {
        let call_id = message.call_id();
        if let Some(index) = self.owner_of(call_id) {
            return Route::Tenant(index);
        }
        let StartLine::Request { method, uri } = &message.start else { return Route::Drop };
        let fallback = || self.default_index().map_or(Route::Refuse { status: 404, reason: "Not Found (no tenant here)" }, Route::Tenant);
        match method {
            Method::Invite if message.is_new_call() => {
                if calls_in_progress >= max_calls {
                    return Route::Refuse { status: 503, reason: "Service Unavailable" };
                }
                let dialled = uri_user(uri).and_then(|n| self.by_number.get(n).copied());
                let chosen = dialled
                    .or_else(|| self.by_domain(message.header("From")))
                    .or_else(|| (0..self.tenants.len()).find(|i| registered_from(*i, from)))
                    .or_else(|| self.default_index());
                match chosen {
                    Some(index) => {
                        if !call_id.is_empty() {
                            self.callers.insert(call_id.to_owned(), (index, None));
                        }
                        Route::Tenant(index)
                    }
                    None => Route::Refuse { status: 404, reason: "Not Found (no tenant has this number)" },
                }
            }
            Method::Register => self.by_domain(message.header("To")).map_or_else(fallback, Route::Tenant),
            Method::Ack => self.default_index().map_or(Route::Drop, Route::Tenant),
            _ => fallback(),
        }
    }

    /// Whether a message with this Call-ID belongs to a call a tenant has (or just had).
    pub fn knows(&self, call_id: &str) -> bool {
        self.owner_of(call_id).is_some()
    }

    fn owner_of(&self, call_id: &str) -> Option<usize> {
        let local = call_id.split('@').next().unwrap_or(call_id);
        local.rsplit_once('.').and_then(|(_, tag)| self.by_tag.get(tag).copied()).or_else(|| self.callers.get(call_id).map(|(index, _)| *index))
    }

    /// Forgets callers' Call-IDs whose tenant has not had the call for [`LINGER`].
    pub fn sweep(&mut self, now: Instant, still_active: impl Fn(usize, &str) -> bool) {
        self.callers.retain(|call_id, (index, over_since)| {
            if still_active(*index, call_id) {
                *over_since = None;
                return true;
            }
            now.duration_since(*over_since.get_or_insert(now)) < LINGER
        });
    }

    #[cfg(test)]
    fn remembered_callers(&self) -> usize {
        self.callers.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(text: &str) -> Message {
        Message::parse(text.replace('\n', "\r\n").as_bytes()).unwrap()
    }

    fn invite(number: &str, call_id: &str, from_domain: &str) -> Message {
        message(&format!(
            "INVITE sip:{number}@127.0.0.1 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1\nFrom: <sip:caller@{from_domain}>;tag=a\nTo: <sip:{number}@127.0.0.1>\nCall-ID: {call_id}\nCSeq: 1 INVITE\nContent-Length: 0\n\n"
        ))
    }

    fn register(domain: &str) -> Message {
        message(&format!(
            "REGISTER sip:{domain} SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-2\nFrom: <sip:1001@{domain}>;tag=a\nTo: <sip:1001@{domain}>\nCall-ID: r1\nCSeq: 1 REGISTER\nContent-Length: 0\n\n"
        ))
    }

    fn board() -> Switchboard {
        let mut b = Switchboard::new(Some("demo"));
        assert_eq!(b.add("demo", &["100".into(), "200".into()], "d1"), Ok(0));
        assert_eq!(b.add("acme", &["300".into()], "a1"), Ok(1));
        b
    }

    const FROM: &str = "127.0.0.1:5070";

    #[test]
    fn numbers_belong_to_one_tenant() {
        let mut b = board();
        assert_eq!(b.add("other", &["400".into(), "300".into()], "o1"), Err(SwitchboardError::NumberTaken { number: "300".into(), owner: "acme".into() }));
        assert_eq!(b.add("acme", &[], "x"), Err(SwitchboardError::TenantTaken("acme".into())));
        assert_eq!(b.index("other"), None, "a refused tenant is not half added");
    }

    #[test]
    fn calls_go_to_the_number_owner_and_stay_there() {
        let mut b = board();
        let no = |_, _| false;
        assert_eq!(b.route(&invite("300", "c1", "127.0.0.1"), FROM.parse().unwrap(), no, 0, 10), Route::Tenant(1));
        let bye = message("BYE sip:x@127.0.0.1 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-3\nFrom: <sip:caller@127.0.0.1>;tag=a\nTo: <sip:300@127.0.0.1>;tag=b\nCall-ID: c1\nCSeq: 2 BYE\nContent-Length: 0\n\n");
        assert_eq!(b.route(&bye, FROM.parse().unwrap(), no, 0, 10), Route::Tenant(1), "in-dialog requests follow the call");
        assert_eq!(b.route(&invite("100", "c2", "127.0.0.1"), FROM.parse().unwrap(), no, 0, 10), Route::Tenant(0));
        let response = message("SIP/2.0 180 Ringing\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-9\nFrom: <sip:a@b>;tag=x\nTo: <sip:1001@b>\nCall-ID: 0123abcd.a1@127.0.0.1\nCSeq: 1 INVITE\nContent-Length: 0\n\n");
        assert_eq!(b.route(&response, FROM.parse().unwrap(), no, 0, 10), Route::Tenant(1), "a tenant's own Call-IDs carry its tag");
        assert_eq!(b.route(&invite("999", "c3", "acme.example"), FROM.parse().unwrap(), no, 0, 10), Route::Tenant(1), "the From domain names the tenant");
        assert_eq!(b.route(&invite("*1", "c4", "127.0.0.1"), FROM.parse().unwrap(), |i, _| i == 1, 0, 10), Route::Tenant(1), "a registered phone's tenant");
        assert_eq!(b.route(&invite("999", "c5", "127.0.0.1"), FROM.parse().unwrap(), no, 0, 10), Route::Tenant(0), "else the default tenant");
        assert_eq!(b.route(&invite("300", "c6", "127.0.0.1"), FROM.parse().unwrap(), no, 10, 10), Route::Refuse { status: 503, reason: "Service Unavailable" });
        let t0 = Instant::now();
        b.sweep(t0, |_, call_id| call_id == "c1");
        assert_eq!(b.remembered_callers(), 5, "finished calls linger");
        b.sweep(t0 + LINGER, |_, call_id| call_id == "c1");
        assert_eq!(b.remembered_callers(), 1, "then are forgotten");
    }

    #[test]
    fn registrations_go_by_domain() {
        let mut b = board();
        let from: SocketAddr = FROM.parse().unwrap();
        assert_eq!(b.route(&register("acme"), from, |_, _| false, 0, 10), Route::Tenant(1));
        assert_eq!(b.route(&register("acme.pbx.example"), from, |_, _| false, 0, 10), Route::Tenant(1));
        assert_eq!(b.route(&register("ACME.pbx.example"), from, |_, _| false, 0, 10), Route::Tenant(1), "domains know no case");
        b.add("acme.pl", &[], "p1").unwrap();
        assert_eq!(b.route(&register("acme.pl"), from, |_, _| false, 0, 10), Route::Tenant(2), "the whole host first");
        assert_eq!(b.route(&register("acme.pl.pbx.example"), from, |_, _| false, 0, 10), Route::Tenant(2), "then the longest tenant id");
        assert_eq!(b.route(&register("127.0.0.1"), from, |_, _| false, 0, 10), Route::Tenant(0));
        let mut lone = Switchboard::new(None);
        lone.add("acme", &[], "a1").unwrap();
        assert!(matches!(lone.route(&register("127.0.0.1"), from, |_, _| false, 0, 10), Route::Refuse { status: 404, .. }));
    }
}
