//! The call controller, sans-IO: a back-to-back user agent between callers and agents.
//!
//! A caller's INVITE is answered at once (the IVR needs audio both ways), the IVR flow walks it
//! to a queue, and the queue engine ([`crate::acd`]) says which agent rings; the controller then
//! sends that agent's phone its own INVITE (a second dialog), CANCELs it when the engine stops
//! the ringing, bridges the two legs' media when the agent answers, and ends one leg when the
//! other hangs up. Agents' re-INVITEs put the caller on hold (hold music) and back; an agent's
//! REFER sends the caller to another agent, queue or IVR number (blind transfer); `*1` and `*2`
//! dialled from a registered phone set the agent ready or not ready.
//!
//! Inputs: SIP requests and responses the endpoint hands over, the engine's [`Action`]s, media
//! events and the time. Outputs, in [`Effects`]: messages to send (with retransmissions over
//! UDP: RFC 3261 §17.1 client transactions and §13.3.1.4 for the 2xx to an INVITE), commands for
//! the media layer, inputs for the engine and finished call records. Nothing here does IO.
//!
//! This file holds the types, the entry points for SIP requests and the timers; each concern has
//! its own file beside it: [`inbound`] (new calls, the IVR), [`legs`] (ringing agents' phones),
//! [`client`] (responses to our requests), [`bridge`] (joining media, hold, re-INVITEs),
//! [`transfer`] (REFER), [`records`] (segments become records, hang-ups) and [`media_events`]
//! (what media and the engine report back).

use crate::acd::{Action, AgentState, OverflowReason, Target as AcdTarget};
use crate::ivr::{Flow, Session, Step, Target as IvrTarget};
use crate::journal::CallSegment;
use crate::media::{AfterPlay, CallKey, MediaCommand, MediaEvent, Side};
use crate::sip::core::Outgoing;
use crate::sip::message::{param, uri_user, Message, Method, StartLine};
use crate::sip::registrar::Registrar;
use crate::sip::sdp::{self, Codec, Direction, Media};
use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use wfm_model::TenantZone;

/// RFC 3261's round-trip estimate, the cap on retransmission intervals, and transaction timeout.
pub const T1: Duration = Duration::from_millis(500);
pub const T2: Duration = Duration::from_secs(4);
pub const TRANSACTION_TIMEOUT: Duration = Duration::from_secs(32);
/// Our INVITE to an agent is the first request of its dialog.
const INVITE_CSEQ: u32 = 1;
/// Caller numbers whose last agent is remembered, at most.
const MAX_REMEMBERED_CALLERS: usize = 100_000;
/// The payload type of telephone-events in this endpoint's offers.
const OUR_TELEPHONE_EVENT: u8 = 101;

/// What the controller needs to know of the tenant.
pub struct Config {
    /// This endpoint's SIP address (Via, Contact).
    pub local: SocketAddr,
    pub media_ip: IpAddr,
    /// Calls at once; more are refused with 503.
    pub max_calls: usize,
    pub flow: Flow,
    pub zone: TenantZone,
    /// Each agent's queues (a transfer to an agent waits in the first when they are busy).
    pub agent_queues: HashMap<String, Vec<String>>,
    pub queues: HashSet<String>,
    /// Queues whose calls are recorded, into `recordings`.
    pub recorded_queues: HashSet<String>,
    pub recordings: PathBuf,
    /// Where voicemail messages go, and how long one may be.
    pub voicemail: PathBuf,
    pub voicemail_limit: Duration,
    /// Where numbers outside the tenant are called (a SIP gateway), for transfers out.
    pub trunk: Option<SocketAddr>,
}

/// Media ports for offers: bound by the IO layer, counted in tests.
pub trait Ports: Send {
    fn open(&mut self) -> Option<u16>;
}

/// What the engine is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AcdInput {
    Arrive { call: String, queue: String, priority: u8, last_agent: Option<String> },
    HungUp { call: String },
    Answered { call: String, agent: String },
    Declined { call: String, agent: String },
    Ended { agent: String, queue: String },
    State { agent: String, state: AgentState },
}

/// Everything a step of the controller wants done.
#[derive(Debug, Default)]
pub struct Effects {
    pub send: Vec<Outgoing>,
    pub media: Vec<(CallKey, MediaCommand)>,
    pub acd: Vec<AcdInput>,
    pub finished: Vec<CallSegment>,
    /// Lines for the log: calls refused, ended, transferred.
    pub log: Vec<String>,
    /// Digest locks that wrong passwords in feature codes started: the account and what is
    /// locked, for the alarm a REGISTER's lock raises too.
    pub locks: Vec<(String, crate::sip::guard::Locked)>,
}

/// One side of a dialog (RFC 3261 §12) as this endpoint keeps it.
#[derive(Debug, Clone)]
struct Dialog {
    call_id: String,
    local_tag: String,
    remote_tag: String,
    /// Our and their URIs as From/To carry them, without tags.
    local_uri: String,
    remote_uri: String,
    /// Where in-dialog requests go (the peer's Contact) and the address that reaches it.
    remote_target: String,
    peer: SocketAddr,
    /// Where the peer's requests come from (a phone's registration, a caller's INVITE): those
    /// from elsewhere are not the peer's.
    trusted: IpAddr,
    local_cseq: u32,
    transport: &'static str,
    /// The proxies that asked to stay on the dialog (`Record-Route`, RFC 3261 §12.1), in the
    /// order our requests pass them; they go as `Route` headers. The requests themselves go to
    /// `peer`, where the dialog's messages come from (the first proxy, when there is one).
    route_set: Vec<String>,
}

impl Dialog {
    fn request(&mut self, method: Method, local: SocketAddr, branch: &str) -> Message {
        self.local_cseq += 1;
        self.request_numbered(method, self.local_cseq, local, branch)
    }

    /// A request with a given sequence number: the ACK of a 2xx carries its INVITE's.
    fn request_numbered(&self, method: Method, cseq: u32, local: SocketAddr, branch: &str) -> Message {
        let to = if self.remote_tag.is_empty() { self.remote_uri.clone() } else { format!("{};tag={}", self.remote_uri, self.remote_tag) };
        let (uri, routes) = self.request_target();
        let mut headers = vec![
            ("Via".into(), format!("SIP/2.0/{} {local};branch={branch};rport", self.transport)),
            ("Max-Forwards".into(), "70".into()),
        ];
        headers.extend(routes.into_iter().map(|route| ("Route".to_owned(), route)));
        headers.extend([
            ("From".into(), format!("{};tag={}", self.local_uri, self.local_tag)),
            ("To".into(), to),
            ("Call-ID".into(), self.call_id.clone()),
            ("CSeq".into(), format!("{cseq} {method}")),
            ("Contact".into(), format!("<sip:wfm@{local}>")),
        ]);
        Message { start: StartLine::Request { method: method.clone(), uri }, headers, body: Vec::new() }
    }

    /// The Request-URI and the `Route` headers of an in-dialog request (RFC 3261 §12.2.1.1): a
    /// loose-routing first proxy (`;lr`) gets the remote target as the URI and the whole route
    /// set; a strict-routing one gets its own URI, and the remote target goes last in the routes.
    fn request_target(&self) -> (String, Vec<String>) {
        match self.route_set.first() {
            None => (self.remote_target.clone(), Vec::new()),
            Some(first) if is_loose_route(first) => (self.remote_target.clone(), self.route_set.clone()),
            Some(first) => {
                let mut routes = self.route_set[1..].to_vec();
                routes.push(format!("<{}>", self.remote_target));
                (inner_uri(first).to_owned(), routes)
            }
        }
    }
}

/// Whether a route's URI carries `lr` (RFC 3261 §19.1.1).
fn is_loose_route(route: &str) -> bool {
    inner_uri_with_params(route).split(';').skip(1).any(|p| {
        let name = p.split('=').next().unwrap_or_default().trim();
        name.eq_ignore_ascii_case("lr")
    })
}

/// The URI of a name-addr with its parameters (`<sip:p.example;lr>` → `sip:p.example;lr`).
fn inner_uri_with_params(value: &str) -> &str {
    match (value.find('<'), value.find('>')) {
        (Some(open), Some(close)) if open < close => &value[open + 1..close],
        _ => value.trim(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LegState {
    Ringing,
    /// CANCEL sent; a 200 that crosses it is answered with ACK and BYE.
    Cancelling,
    /// The phone answered; the engine has not yet connected it.
    Answered,
    Connected,
    /// The agent transferred the caller away and the leg waits for the agent's BYE.
    TransferredAway,
}

/// A leg of the call other than the caller's: an agent's phone, or a number reached through the
/// trunk after a transfer (`external`, outside the queue engine).
#[derive(Debug)]
struct AgentLeg {
    id: u64,
    agent: String,
    external: bool,
    dialog: Dialog,
    invite: Message,
    invite_branch: String,
    port: u16,
    state: LegState,
    remote_media: Option<Media>,
    media_opened: bool,
    port_released: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    Ivr,
    Queued { queue: String },
    Connected { agent: String, queue: String, leg: u64 },
    /// A last prompt plays, then the caller is sent BYE.
    Closing,
    /// A message is being recorded until the caller hangs up or the limit passes.
    Voicemail { until: Option<Instant> },
    /// A feature code's confirmation plays, then BYE.
    Feature,
    /// Transferred to a number outside: ringing it, then bridged to it.
    External { leg: u64 },
}

/// One pass of the call through a queue (or the IVR alone): a call record when it ends.
#[derive(Debug, Clone)]
struct Segment {
    id: String,
    arrived: Instant,
    queue: Option<(String, Instant)>,
    answered: Option<Instant>,
    agent: Option<String>,
    ring_started: Option<Instant>,
    ring: Duration,
    hold: Duration,
    transfer_target: Option<String>,
    recording: Option<String>,
}

impl Segment {
    fn new(id: String, now: Instant) -> Self {
        Self { id, arrived: now, queue: None, answered: None, agent: None, ring_started: None, ring: Duration::ZERO, hold: Duration::ZERO, transfer_target: None, recording: None }
    }
}

/// A 2xx to an INVITE resent until its ACK (RFC 3261 §13.3.1.4).
#[derive(Debug)]
struct Unacknowledged {
    bytes: Vec<u8>,
    to: SocketAddr,
    next: Instant,
    interval: Duration,
    deadline: Instant,
}

struct Call {
    /// The suite's own id of the call, its records' key: never the caller's Call-ID, which a
    /// caller may reuse or make too long for the store.
    id: String,
    caller: Dialog,
    codec: Codec,
    /// The caller's telephone-event payload type, if it offered one.
    caller_event: Option<u8>,
    port: u16,
    session_id: u64,
    sdp_version: u64,
    answer: Option<Unacknowledged>,
    phase: Phase,
    ivr: Session,
    /// How long a menu listens after its prompt ends, and until when it now listens.
    listen_after: Option<Duration>,
    listen_until: Option<Instant>,
    legs: Vec<AgentLeg>,
    segment: Segment,
    segments_done: u32,
    dialled: String,
    caller_number: Option<String>,
    hold_since: Option<Instant>,
    /// Prompts commanded so far: a report of prompts ended counts only for the last.
    plays: u64,
}

/// A request this endpoint sent, retransmitted over UDP until answered.
#[derive(Debug)]
struct ClientTransaction {
    call: CallKey,
    leg: Option<u64>,
    method: Method,
    bytes: Vec<u8>,
    to: SocketAddr,
    next: Instant,
    interval: Duration,
    /// When it is given up without a final response: none for an INVITE that is ringing (the
    /// engine's ring timeout or the caller decides; RFC 3261's Timer B ends with a provisional).
    deadline: Option<Instant>,
    /// A provisional response came: an INVITE is no longer retransmitted.
    proceeding: bool,
}

pub struct Calls {
    config: Config,
    ports: Box<dyn Ports>,
    calls: HashMap<CallKey, Call>,
    /// SIP Call-ID → the call, and the agent leg (none: the caller's dialog).
    dialogs: HashMap<String, (CallKey, Option<u64>)>,
    /// The engine's call ids (segment ids) → the call.
    segments: HashMap<String, CallKey>,
    clients: HashMap<String, ClientTransaction>,
    /// Each caller number's last agent, for last-agent routing.
    last_agents: HashMap<String, String>,
    /// INVITEs of ours that failed: the ACK sent, resent to a repeated failure until Timer D.
    completed: HashMap<String, (Vec<u8>, SocketAddr, Instant)>,
    counter: u64,
    secret: [u8; 16],
    /// An instant and the wall clock then (ms since the epoch): records carry wall-clock times.
    anchor: (Instant, i64),
    /// `.TAG` in the Call-IDs made here ([`Calls::with_call_id_tag`]), or nothing.
    call_id_tag: String,
    recording_allowed: bool,
}

fn bare_uri(value: &str) -> String {
    // A header value without its parameters: `"Bob" <sip:1@h>;tag=x` → `"Bob" <sip:1@h>`.
    match value.rfind('>') {
        Some(end) => value[..=end].to_owned(),
        None => value.split(';').next().unwrap_or(value).to_owned(),
    }
}

/// The URI inside a header value's angle brackets (or the value up to its parameters).
fn inner_uri(value: &str) -> &str {
    match (value.find('<'), value.find('>')) {
        (Some(open), Some(close)) if open < close => &value[open + 1..close],
        _ => value.split(';').next().unwrap_or(value).trim(),
    }
}

/// `host:port` of a SIP URI when it is an IP address (5060 when the port is left out).
fn uri_address(uri: &str) -> Option<SocketAddr> {
    let rest = uri.strip_prefix("sip:")?;
    let host_port = rest.rsplit('@').next()?.split(';').next()?;
    host_port.parse().ok().or_else(|| host_port.parse::<IpAddr>().ok().map(|ip| SocketAddr::new(ip, 5060)))
}

fn transport_of(request: &Message) -> &'static str {
    match request.header("Via") {
        Some(via) if via.to_ascii_uppercase().starts_with("SIP/2.0/TCP") => "TCP",
        _ => "UDP",
    }
}

/// A response to an in-dialog request (its To already has our tag) or a refusal.
fn reply(request: &Message, status: u16, reason: &str) -> Message {
    request.response(status, reason, "wfm-x")
}

/// What a caller hears on entering a queue where nobody is free: the position and the expected
/// wait spoken from the number prompts, then hold music (the last prompt, repeated).
pub fn announcement(position: usize, expected_wait: Duration) -> Vec<String> {
    let number = |n: u64| if (1..=20).contains(&n) { format!("number-{n}.wav") } else { "more-than-twenty.wav".to_owned() };
    let mut prompts = vec!["queue.wav".to_owned(), "position.wav".to_owned(), number(position as u64), "in-queue.wav".to_owned()];
    match (expected_wait.as_secs() + 30) / 60 {
        0 => prompts.push("less-than-a-minute.wav".to_owned()),
        minutes @ 1..=20 => prompts.extend(["wait.wav".to_owned(), number(minutes), if minutes == 1 { "minute.wav" } else { "minutes.wav" }.to_owned()]),
        _ => prompts.push("more-than-twenty-minutes.wav".to_owned()),
    }
    prompts.push("hold-music.wav".to_owned());
    prompts
}

/// The longest caller's Call-ID a call is taken with: its records keep it as `sip_call_id`.
const MAX_CALL_ID: usize = wfm_model::MAX_TEXT_LEN;

/// A file name from a Call-ID (which may hold `/`, `@` and worse).
pub fn file_name(call_id: &str) -> String {
    call_id.chars().map(|c| if c.is_ascii_alphanumeric() || "._-@".contains(c) { c } else { '_' }).take(120).collect()
}

impl Calls {
    /// `secret` makes this endpoint's tags and Call-IDs unguessable.
    pub fn new(config: Config, ports: Box<dyn Ports>, secret: [u8; 16], now: Instant, wall_ms: i64) -> Self {
        Self {
            config,
            ports,
            calls: HashMap::new(),
            dialogs: HashMap::new(),
            segments: HashMap::new(),
            clients: HashMap::new(),
            completed: HashMap::new(),
            last_agents: HashMap::new(),
            counter: 0,
            secret,
            anchor: (now, wall_ms),
            call_id_tag: String::new(),
            recording_allowed: true,
        }
    }

    pub fn active(&self) -> usize {
        self.calls.len()
    }

    /// Marks the Call-IDs this controller makes (`TOKEN.TAG@host`), so that one endpoint serving
    /// several tenants knows whose a message is ([`crate::switchboard`]).
    pub fn with_call_id_tag(mut self, tag: &str) -> Self {
        self.call_id_tag = format!(".{tag}");
        self
    }

    /// Whether a dialog with this Call-ID is in progress here.
    pub fn knows(&self, call_id: &str) -> bool {
        self.dialogs.contains_key(call_id)
    }

    /// The tenant's limit of calls at once (its quota); more are refused with 503.
    pub fn set_max_calls(&mut self, max_calls: usize) {
        self.config.max_calls = max_calls;
    }

    /// Whether new recordings and voicemail may start (not when the tenant's storage quota is
    /// full: a caller sent to voicemail then hears the prompt and is hung up on).
    pub fn set_recording_allowed(&mut self, allowed: bool) {
        self.recording_allowed = allowed;
    }

    fn next(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    /// 64 bits no peer can guess (MD5 of a secret and a counter): tags, branches and Call-IDs,
    /// so that nobody outside a dialog can forge a request into it.
    fn token(&mut self) -> String {
        use md5::{Digest, Md5};
        let mut hasher = Md5::new();
        hasher.update(self.secret);
        hasher.update(self.next().to_be_bytes());
        crate::sip::digest::hex(&hasher.finalize()[..8])
    }

    fn branch(&mut self) -> String {
        format!("z9hG4bK-{}", self.token())
    }

    fn tag(&mut self) -> String {
        self.token()
    }

    /// A new call's own id: the wall-clock milliseconds of its arrival and a token, unique
    /// across restarts (the secret is new each start) and sortable by time.
    fn call_id_of_ours(&mut self, now: Instant) -> String {
        format!("{}-{}", self.wall_ms(now), self.token())
    }

    fn wall_ms(&self, t: Instant) -> i64 {
        self.anchor.1 + t.saturating_duration_since(self.anchor.0).as_millis() as i64
    }

    fn ivr_now(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.anchor.0)
    }

    fn local_time(&self, now: Instant) -> chrono::NaiveDateTime {
        let utc = chrono::DateTime::from_timestamp_millis(self.wall_ms(now)).unwrap_or_default();
        self.config.zone.local_time(utc)
    }

    /// Sends a request of this endpoint and keeps it for retransmission until answered.
    fn send_request(&mut self, call: CallKey, leg: Option<u64>, message: &Message, to: SocketAddr, now: Instant, fx: &mut Effects) {
        let bytes = message.to_bytes();
        fx.send.push(Outgoing { to, bytes: bytes.clone(), retransmission: false });
        if let (Some(branch), Some(method)) = (message.branch(), message.method()) {
            let transaction = ClientTransaction { call, leg, method: method.clone(), bytes, to, next: now + T1, interval: T1, deadline: Some(now + TRANSACTION_TIMEOUT), proceeding: false };
            self.clients.insert(branch.to_owned(), transaction);
        }
    }

    /// A request that belongs to a call, or a new call. Returns the response to send (the
    /// endpoint caches it for retransmitted requests), or `None` when none is due (ACK).
    pub fn on_request(&mut self, request: &Message, from: SocketAddr, now: Instant, registrar: &mut Registrar, fx: &mut Effects) -> Option<Message> {
        let method = request.method()?.clone();
        let known = self.dialogs.get(request.call_id()).copied();
        let to_tag = request.header("To").and_then(|t| param(t, "tag"));
        match (method, known) {
            (Method::Invite, None) if to_tag.is_none() => Some(self.new_call(request, from, now, registrar, fx)),
            // A new INVITE with a Call-ID in use: a loop, or a forgery.
            (Method::Invite, _) if to_tag.is_none() => Some(reply(request, 482, "Loop Detected")),
            // CANCEL matches the INVITE's transaction, not the dialog (it carries no To-tag).
            (Method::Cancel, Some(_)) => Some(reply(request, 200, "OK")),
            (Method::Ack, Some((call, leg))) if !self.in_dialog(call, leg, request, from) => None,
            (_, Some((call, leg))) if !self.in_dialog(call, leg, request, from) => Some(reply(request, 481, "Call/Transaction Does Not Exist")),
            (Method::Invite, Some((call, leg))) => Some(self.reinvite(call, leg, request, now, fx)),
            (Method::Ack, Some((call, None))) => {
                if let Some(c) = self.calls.get_mut(&call) {
                    c.answer = None;
                }
                None
            }
            (Method::Ack, _) => None,
            (Method::Bye, Some((call, leg))) => {
                let response = reply(request, 200, "OK");
                match leg {
                    None => self.caller_left(call, now, fx),
                    Some(leg) => self.agent_left(call, leg, now, fx),
                }
                Some(response)
            }
            (Method::Refer, Some((call, Some(leg)))) => Some(self.transfer(call, leg, request, now, fx)),
            (Method::Refer, Some((_, None))) => Some(reply(request, 403, "Forbidden (only agents transfer)")),
            (Method::Info, Some((call, None))) => {
                // SIP INFO digits (application/dtmf-relay), for phones that do not send RFC 4733.
                let body = String::from_utf8_lossy(&request.body);
                if let Some(key) = body.lines().find_map(|l| l.trim().strip_prefix("Signal=")).and_then(|k| k.trim().chars().next()) {
                    self.on_media(&MediaEvent::Digit { call, key }, now, fx);
                }
                Some(reply(request, 200, "OK"))
            }
            (Method::Options | Method::Notify | Method::Info, Some(_)) => Some(reply(request, 200, "OK")),
            // UPDATE (RFC 3311) as a session refresh: the session goes on unchanged. A new
            // offer in it is refused; phones move media with re-INVITE, which is answered.
            (Method::Other(m), Some(_)) if m == "UPDATE" && request.body.is_empty() => Some(reply(request, 200, "OK")),
            (Method::Other(m), Some(_)) if m == "UPDATE" => Some(reply(request, 488, "Not Acceptable Here (offers go in a re-INVITE)")),
            (Method::Other(m), None) if m == "UPDATE" => Some(reply(request, 481, "Call/Transaction Does Not Exist")),
            (Method::Bye | Method::Cancel | Method::Refer | Method::Invite | Method::Notify | Method::Info, _) => Some(reply(request, 481, "Call/Transaction Does Not Exist")),
            _ => Some(reply(request, 501, "Not Implemented").with_header("Allow", crate::sip::core::ALLOW)),
        }
    }

    /// Whether `request` belongs to the dialog its Call-ID names: our tag in `To`, from where
    /// that peer's requests come. (The INVITE was answered at once, so a caller's CANCEL can
    /// only cross the 200: it changes nothing, RFC 3261 §9.2, and the caller's BYE follows.)
    fn in_dialog(&self, call: CallKey, leg: Option<u64>, request: &Message, from: SocketAddr) -> bool {
        let Some(c) = self.calls.get(&call) else { return false };
        let dialog = match leg {
            None => &c.caller,
            Some(id) => match c.legs.iter().find(|l| l.id == id) {
                Some(l) => &l.dialog,
                None => return false,
            },
        };
        let to_tag = request.header("To").and_then(|t| param(t, "tag"));
        to_tag == Some(dialog.local_tag.as_str()) && from.ip() == dialog.trusted
    }

    fn refuse(request: &Message, status: u16, reason: &str, fx: &mut Effects) -> Message {
        fx.log.push(format!("call {} refused: {status} {reason}", request.call_id()));
        request.response(status, reason, "wfm-refused")
    }

    /// Timers: retransmissions, transaction timeouts, unacknowledged answers, IVR silences and
    /// the voicemail limit. Call every 100 ms or so.
    pub fn tick(&mut self, now: Instant, fx: &mut Effects) {
        self.completed.retain(|_, (_, _, until)| *until > now);
        let mut timed_out = Vec::new();
        for (key, t) in &mut self.clients {
            if t.deadline.is_some_and(|d| now >= d) {
                timed_out.push(key.clone());
            } else if now >= t.next && !(t.proceeding && t.method == Method::Invite) {
                fx.send.push(Outgoing { to: t.to, bytes: t.bytes.clone(), retransmission: true });
                t.interval = if t.method == Method::Invite { t.interval * 2 } else { (t.interval * 2).min(T2) };
                t.next = now + t.interval;
            }
        }
        for branch in timed_out {
            let t = self.clients.remove(&branch).expect("listed");
            if t.method == Method::Invite
                && let Some(id) = t.leg
            {
                // The phone never answered at all: as if it refused.
                let Some(call) = self.calls.get(&t.call) else { continue };
                let segment = call.segment.id.clone();
                let ringing = call.legs.iter().find(|l| l.id == id).filter(|l| l.state == LegState::Ringing).map(|l| (l.agent.clone(), l.external));
                self.remove_leg(t.call, id, fx);
                match ringing {
                    Some((number, true)) => {
                        fx.log.push(format!("call {segment}: {number} at the trunk never answered"));
                        self.close_with(t.call, "busy.wav", fx);
                    }
                    Some((agent, false)) => fx.acd.push(AcdInput::Declined { call: segment, agent }),
                    None => {}
                }
            }
        }
        let mut unanswered = Vec::new();
        let mut silent = Vec::new();
        let mut voicemail_full = Vec::new();
        for (key, call) in &mut self.calls {
            if let Some(a) = &mut call.answer {
                if now >= a.deadline {
                    call.answer = None;
                    unanswered.push(*key);
                } else if now >= a.next {
                    fx.send.push(Outgoing { to: a.to, bytes: a.bytes.clone(), retransmission: true });
                    a.interval = (a.interval * 2).min(T2);
                    a.next = now + a.interval;
                }
            }
            if call.phase == Phase::Ivr && call.listen_until.is_some_and(|t| now >= t) {
                call.listen_until = None;
                silent.push(*key);
            }
            if matches!(call.phase, Phase::Voicemail { until: Some(t) } if now >= t) {
                voicemail_full.push(*key);
            }
        }
        for key in unanswered {
            fx.log.push(format!("call {key}: the caller never acknowledged the answer"));
            self.hang_up_caller(key, now, fx);
        }
        for key in voicemail_full {
            self.hang_up_caller(key, now, fx);
        }
        let ivr_now = self.ivr_now(now);
        for key in silent {
            if let Some(call) = self.calls.get_mut(&key) {
                let step = self.config.flow.timeout(&mut call.ivr, ivr_now);
                self.ivr_step(key, step, now, fx);
            }
        }
    }
}

mod bridge;
mod client;
mod inbound;
mod legs;
mod media_events;
mod records;
mod transfer;
#[cfg(test)]
mod tests;
