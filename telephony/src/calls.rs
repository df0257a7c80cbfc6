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
}

impl Dialog {
    fn request(&mut self, method: Method, local: SocketAddr, branch: &str) -> Message {
        self.local_cseq += 1;
        self.request_numbered(method, self.local_cseq, local, branch)
    }

    /// A request with a given sequence number: the ACK of a 2xx carries its INVITE's.
    fn request_numbered(&self, method: Method, cseq: u32, local: SocketAddr, branch: &str) -> Message {
        let to = if self.remote_tag.is_empty() { self.remote_uri.clone() } else { format!("{};tag={}", self.remote_uri, self.remote_tag) };
        Message {
            start: StartLine::Request { method: method.clone(), uri: self.remote_target.clone() },
            headers: vec![
                ("Via".into(), format!("SIP/2.0/{} {local};branch={branch};rport", self.transport)),
                ("Max-Forwards".into(), "70".into()),
                ("From".into(), format!("{};tag={}", self.local_uri, self.local_tag)),
                ("To".into(), to),
                ("Call-ID".into(), self.call_id.clone()),
                ("CSeq".into(), format!("{cseq} {method}")),
                ("Contact".into(), format!("<sip:wfm@{local}>")),
            ],
            body: Vec::new(),
        }
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

/// The longest caller's Call-ID a call is taken with (the store keeps 128 bytes of call id).
const MAX_CALL_ID: usize = 100;

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

    /// Whether a call or dialog with this Call-ID is in progress here.
    pub fn knows(&self, call_id: &str) -> bool {
        self.dialogs.contains_key(call_id) || self.segments.contains_key(call_id)
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
            (Method::Invite, None) if to_tag.is_none() && !self.segments.contains_key(request.call_id()) => Some(self.new_call(request, from, now, registrar, fx)),
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

    fn new_call(&mut self, request: &Message, from: SocketAddr, now: Instant, registrar: &mut Registrar, fx: &mut Effects) -> Message {
        if self.calls.len() >= self.config.max_calls {
            return Self::refuse(request, 503, "Service Unavailable (at capacity)", fx).with_header("Retry-After", "5");
        }
        // The call's records are keyed by its Call-ID (plus `~N` per transfer): one the store
        // would refuse is refused now, not dropped when the call ends.
        if request.call_id().len() > MAX_CALL_ID {
            return Self::refuse(request, 400, "Bad Request (Call-ID longer than 100 bytes)", fx);
        }
        let StartLine::Request { uri, .. } = &request.start else { unreachable!("requests only") };
        let dialled = uri_user(uri).unwrap_or_default().to_owned();
        let feature = dialled.starts_with('*');
        if feature {
            let caller = request.header("From").and_then(uri_user).unwrap_or_default();
            let registered_here = registrar.binding(caller, now).is_some_and(|b| b.source.ip() == from.ip());
            if !registered_here {
                return Self::refuse(request, 403, "Forbidden (feature codes need a registered agent phone)", fx);
            }
            // A state change is the agent's: their phone proves the password (digest), as it
            // does to register; the source address alone could be forged.
            let caller = caller.to_owned();
            if let Err(answer) = registrar.authenticate(request, &caller, from, now, "wfm-auth") {
                fx.log.push(format!("call {}: feature code of {caller}: {}", request.call_id(), answer.status().unwrap_or_default()));
                return answer;
            }
            if !matches!(dialled.as_str(), "*1" | "*2") {
                return Self::refuse(request, 404, "Not Found (feature codes: *1 ready, *2 not ready)", fx);
            }
        } else if !self.config.flow.has_number(&dialled) {
            return Self::refuse(request, 404, "Not Found (no such number)", fx);
        }
        let offer = match Media::parse(&request.body).and_then(|m| m.preferred().map(|c| (m, c))) {
            Ok(offer) => offer,
            Err(e) => return Self::refuse(request, 488, "Not Acceptable Here", fx).with_header("Warning", format!("304 wfm \"{e}\"")),
        };
        let (media, codec) = offer;
        let Some(port) = self.ports.open() else {
            return Self::refuse(request, 503, "Service Unavailable (no media port)", fx).with_header("Retry-After", "5");
        };
        let key = self.next();
        let local_tag = self.tag();
        let caller = Dialog {
            call_id: request.call_id().to_owned(),
            local_tag: local_tag.clone(),
            remote_tag: request.header("From").and_then(|f| param(f, "tag")).unwrap_or_default().to_owned(),
            local_uri: bare_uri(request.header("To").unwrap_or_default()),
            remote_uri: bare_uri(request.header("From").unwrap_or_default()),
            remote_target: request.header("Contact").map(inner_uri).or_else(|| request.header("From").map(inner_uri)).unwrap_or_default().to_owned(),
            peer: from,
            trusted: from.ip(),
            local_cseq: 0,
            transport: transport_of(request),
        };
        let session_id = key;
        let body = sdp::describe(session_id, 1, SocketAddr::new(self.config.media_ip, port), &[codec], media.telephone_event, Direction::SendRecv);
        let response = request
            .response(200, "OK", &local_tag)
            .with_header("Contact", format!("<sip:{dialled}@{}>", self.config.local))
            .with_header("Allow", crate::sip::core::ALLOW)
            .with_header("Content-Type", "application/sdp");
        let response = Message { body, ..response };
        let answer = Unacknowledged { bytes: response.to_bytes(), to: from, next: now + T1, interval: T1, deadline: now + TRANSACTION_TIMEOUT };
        fx.media.push((key, MediaCommand::Open { side: Side::Caller, local_port: port, remote: media.address, signalling: from.ip(), codec, telephone_event: media.telephone_event }));
        let call = Call {
            caller,
            codec,
            caller_event: media.telephone_event,
            port,
            session_id,
            sdp_version: 1,
            answer: Some(answer),
            phase: if feature { Phase::Feature } else { Phase::Ivr },
            ivr: Session::default(),
            listen_after: None,
            listen_until: None,
            legs: Vec::new(),
            segment: Segment::new(request.call_id().to_owned(), now),
            segments_done: 0,
            dialled: dialled.clone(),
            // Written back into the agent's INVITE and the records: escaped and bounded here.
            caller_number: request.header("From").and_then(uri_user).map(crate::sip::message::escape_user),
            hold_since: None,
            plays: 0,
        };
        self.dialogs.insert(request.call_id().to_owned(), (key, None));
        self.segments.insert(request.call_id().to_owned(), key);
        self.calls.insert(key, call);
        if feature {
            let agent = request.header("From").and_then(uri_user).unwrap_or_default().to_owned();
            let state = if dialled == "*1" { AgentState::Ready } else { AgentState::NotReady { reason: "phone".into() } };
            fx.acd.push(AcdInput::State { agent, state });
            self.play(key, &["done.wav"], AfterPlay::Report, fx);
        } else {
            match self.config.flow.start(&dialled, self.local_time(now), self.ivr_now(now)) {
                Ok((session, step)) => {
                    if let Some(c) = self.calls.get_mut(&key) {
                        c.ivr = session;
                    }
                    self.ivr_step(key, step, now, fx);
                }
                Err(e) => {
                    fx.log.push(format!("call {}: {e}", request.call_id()));
                    self.close_with(key, "busy.wav", fx);
                }
            }
        }
        response
    }

    /// Does what the IVR asks next.
    fn ivr_step(&mut self, key: CallKey, step: Step, now: Instant, fx: &mut Effects) {
        let Some(call) = self.calls.get_mut(&key) else { return };
        match step {
            Step::Play { prompt, listen_until } => {
                call.listen_after = listen_until.map(|t| t.saturating_sub(now.saturating_duration_since(self.anchor.0)));
                call.listen_until = None;
                self.play(key, &[prompt.as_str()], AfterPlay::Report, fx);
            }
            Step::Listen { until } => call.listen_until = Some(self.anchor.0 + until),
            Step::Done(IvrTarget::Queue(queue)) => self.enqueue(key, &queue, None, now, fx),
            Step::Done(IvrTarget::Voicemail) => self.voicemail(key, fx),
            Step::Done(IvrTarget::Hangup | IvrTarget::Node(_)) => self.hang_up_caller(key, now, fx),
        }
    }

    /// Prompts for the caller; what played before stops, and its end will not be reported.
    fn play(&mut self, key: CallKey, prompts: &[&str], then: AfterPlay, fx: &mut Effects) {
        if let Some(call) = self.calls.get_mut(&key) {
            call.plays += 1;
            fx.media.push((key, MediaCommand::Play { prompts: prompts.iter().map(|p| (*p).to_owned()).collect(), then }));
        }
    }

    /// Queues the call; `wanted` is an agent to ring first when free (a transfer to them), else
    /// the agent who last served this caller's number, if any (last-agent routing).
    fn enqueue(&mut self, key: CallKey, queue: &str, wanted: Option<String>, now: Instant, fx: &mut Effects) {
        let Some(call) = self.calls.get_mut(&key) else { return };
        let last_agent = wanted.or_else(|| call.caller_number.as_ref().and_then(|n| self.last_agents.get(n)).cloned());
        call.phase = Phase::Queued { queue: queue.to_owned() };
        call.listen_until = None;
        call.segment.queue = Some((queue.to_owned(), now));
        fx.acd.push(AcdInput::Arrive { call: call.segment.id.clone(), queue: queue.to_owned(), priority: call.ivr.priority, last_agent });
        self.play(key, &["hold-music.wav"], AfterPlay::Loop, fx);
    }

    fn voicemail(&mut self, key: CallKey, fx: &mut Effects) {
        let Some(call) = self.calls.get_mut(&key) else { return };
        call.phase = Phase::Voicemail { until: None };
        self.play(key, &["voicemail.wav"], AfterPlay::Report, fx);
    }

    /// Plays a last prompt, then hangs up.
    fn close_with(&mut self, key: CallKey, prompt: &str, fx: &mut Effects) {
        let Some(call) = self.calls.get_mut(&key) else { return };
        call.phase = Phase::Closing;
        self.play(key, &[prompt], AfterPlay::Report, fx);
    }

    /// What the engine decided.
    pub fn on_action(&mut self, action: &Action, now: Instant, registrar: &Registrar, fx: &mut Effects) {
        let key = |call: &str| self.segments.get(call).copied();
        match action {
            Action::Ring { call, agents } => {
                if let Some(key) = key(call) {
                    for agent in agents {
                        self.ring(key, agent, now, registrar, fx);
                    }
                }
            }
            Action::StopRinging { call, agents } => {
                if let Some(key) = key(call) {
                    let ids: Vec<u64> = self.calls.get(&key).map(|c| c.legs.iter().filter(|l| agents.contains(&l.agent) && l.state == LegState::Ringing).map(|l| l.id).collect()).unwrap_or_default();
                    for id in ids {
                        self.cancel_leg(key, id, now, fx);
                    }
                    self.stop_ring_clock(key, now);
                }
            }
            Action::Connect { call, agent, .. } => {
                if let Some(key) = key(call) {
                    self.connect(key, agent, now, fx);
                }
            }
            Action::Announce { call, position, expected_wait } => {
                if let Some(key) = key(call) {
                    let prompts = announcement(*position, *expected_wait);
                    self.play(key, &prompts.iter().map(String::as_str).collect::<Vec<_>>(), AfterPlay::Loop, fx);
                }
            }
            Action::Overflow { call, to, why, .. } => {
                if let Some(key) = key(call) {
                    let reason = match why {
                        OverflowReason::MaxWait => "timeout",
                        OverflowReason::MaxLength => "full",
                        OverflowReason::NobodyLoggedIn => "empty",
                    };
                    self.end_segment(key, reason, now, fx);
                    match to {
                        AcdTarget::Queue(queue) => self.enqueue(key, queue, None, now, fx),
                        AcdTarget::Ivr(node) => {
                            if let Some(c) = self.calls.get_mut(&key) {
                                c.phase = Phase::Ivr;
                                let step = self.config.flow.enter(&mut c.ivr, node, now.saturating_duration_since(self.anchor.0));
                                self.ivr_step(key, step, now, fx);
                            }
                        }
                        AcdTarget::Voicemail => self.voicemail(key, fx),
                        AcdTarget::Busy => self.close_with(key, "busy.wav", fx),
                    }
                }
            }
            // The controller keeps its own record of abandoned calls (it saw the BYE).
            Action::Abandoned { .. } | Action::StateChanged { .. } => {}
        }
    }

    fn stop_ring_clock(&mut self, key: CallKey, now: Instant) {
        if let Some(c) = self.calls.get_mut(&key)
            && !c.legs.iter().any(|l| l.state == LegState::Ringing)
            && let Some(started) = c.segment.ring_started.take()
        {
            c.segment.ring += now.saturating_duration_since(started);
        }
    }

    /// INVITEs the agent's registered phone for the call.
    fn ring(&mut self, key: CallKey, agent: &str, now: Instant, registrar: &Registrar, fx: &mut Effects) {
        let Some(call) = self.calls.get(&key) else { return };
        let segment = call.segment.id.clone();
        let Some(binding) = registrar.binding(agent, now) else {
            fx.log.push(format!("call {segment}: agent {agent} has no registered phone"));
            fx.acd.push(AcdInput::Declined { call: segment, agent: agent.to_owned() });
            return;
        };
        let target_uri = inner_uri(&binding.contact).to_owned();
        let over_tcp = target_uri.to_ascii_lowercase().contains("transport=tcp");
        let peer = if over_tcp { binding.source } else { uri_address(&target_uri).unwrap_or(binding.source) };
        if self.invite_leg(key, agent, false, target_uri, (peer, binding.source.ip()), over_tcp, now, fx).is_none() {
            fx.acd.push(AcdInput::Declined { call: segment, agent: agent.to_owned() });
        }
    }

    /// Sends the INVITE of a new leg of the call to `target_uri` at `peer`: an agent's phone, or
    /// (`external`) a number at the trunk. `None` when no media port is left.
    #[allow(clippy::too_many_arguments)]
    fn invite_leg(&mut self, key: CallKey, callee: &str, external: bool, target_uri: String, (peer, trusted): (SocketAddr, IpAddr), over_tcp: bool, now: Instant, fx: &mut Effects) -> Option<u64> {
        let port = self.ports.open()?;
        let id = self.next();
        let local_tag = self.tag();
        let branch = self.branch();
        let call_id = self.token();
        let call = self.calls.get(&key)?;
        let segment = call.segment.id.clone();
        let caller = call.caller_number.clone().unwrap_or_else(|| "anonymous".into());
        let local = self.config.local;
        let mut dialog = Dialog {
            call_id: format!("{call_id}{}@{}", self.call_id_tag, local.ip()),
            local_tag,
            remote_tag: String::new(),
            local_uri: format!("<sip:{caller}@{}>", local.ip()),
            remote_uri: format!("<sip:{callee}@{}>", peer.ip()),
            remote_target: target_uri,
            peer,
            trusted,
            local_cseq: 0,
            transport: if over_tcp { "TCP" } else { "UDP" },
        };
        let mut invite = dialog.request(Method::Invite, local, &branch);
        let queue = match &call.phase {
            Phase::Queued { queue } => queue.clone(),
            _ => String::new(),
        };
        invite.headers.push(("Content-Type".into(), "application/sdp".into()));
        if !external {
            invite.headers.push(("X-WFM-Call".into(), segment));
            invite.headers.push(("X-WFM-Queue".into(), queue));
            // The IVR's path and digits travel with the call to the agent's phone.
            if let Some(path) = call.ivr.describe() {
                invite.headers.push(("X-WFM-IVR".into(), path));
            }
        }
        invite.body = sdp::describe(call.session_id, 1, SocketAddr::new(self.config.media_ip, port), &[call.codec], Some(OUR_TELEPHONE_EVENT), Direction::SendRecv);
        let leg = AgentLeg { id, agent: callee.to_owned(), external, dialog: dialog.clone(), invite: invite.clone(), invite_branch: branch, port, state: LegState::Ringing, remote_media: None, media_opened: false, port_released: false };
        self.dialogs.insert(dialog.call_id.clone(), (key, Some(id)));
        let call = self.calls.get_mut(&key)?;
        if !external {
            call.segment.ring_started.get_or_insert(now);
        }
        call.legs.push(leg);
        self.send_request(key, Some(id), &invite, peer, now, fx);
        Some(id)
    }

    fn leg_mut(&mut self, key: CallKey, id: u64) -> Option<&mut AgentLeg> {
        self.calls.get_mut(&key)?.legs.iter_mut().find(|l| l.id == id)
    }

    fn cancel_leg(&mut self, key: CallKey, id: u64, now: Instant, fx: &mut Effects) {
        let Some(leg) = self.leg_mut(key, id) else { return };
        leg.state = LegState::Cancelling;
        // CANCEL copies the INVITE's Request-URI, Call-ID, From, To and Via (RFC 3261 §9.1).
        let mut cancel = leg.invite.clone();
        cancel.start = match cancel.start {
            StartLine::Request { uri, .. } => StartLine::Request { method: Method::Cancel, uri },
            other => other,
        };
        cancel.body.clear();
        cancel.headers.retain(|(n, _)| matches!(n.as_str(), "Via" | "From" | "To" | "Call-ID" | "Max-Forwards"));
        cancel.headers.push(("CSeq".into(), format!("{} CANCEL", leg.dialog.local_cseq)));
        let peer = leg.dialog.peer;
        let branch = leg.invite_branch.clone();
        self.release_port(key, id, fx);
        // The INVITE is no longer retransmitted; its final response (487) ends it, or the time.
        if let Some(t) = self.clients.get_mut(&branch) {
            t.proceeding = true;
            t.deadline = Some(now + TRANSACTION_TIMEOUT);
        }
        let bytes = cancel.to_bytes();
        fx.send.push(Outgoing { to: peer, bytes: bytes.clone(), retransmission: false });
        self.clients.insert(
            format!("{branch}/CANCEL"),
            ClientTransaction { call: key, leg: Some(id), method: Method::Cancel, bytes, to: peer, next: now + T1, interval: T1, deadline: Some(now + TRANSACTION_TIMEOUT), proceeding: false },
        );
    }

    fn bye_leg(&mut self, key: CallKey, id: u64, now: Instant, fx: &mut Effects) {
        let branch = self.branch();
        let local = self.config.local;
        let Some(leg) = self.leg_mut(key, id) else { return };
        let bye = leg.dialog.request(Method::Bye, local, &branch);
        let peer = leg.dialog.peer;
        self.send_request(key, Some(id), &bye, peer, now, fx);
    }

    /// Gives back a leg's media port if its media never opened (once: the system may hand the
    /// number to another offer afterwards).
    fn release_port(&mut self, key: CallKey, id: u64, fx: &mut Effects) {
        if let Some(leg) = self.leg_mut(key, id)
            && !leg.media_opened
            && !std::mem::replace(&mut leg.port_released, true)
        {
            fx.media.push((key, MediaCommand::Discard { local_port: leg.port }));
        }
    }

    fn remove_leg(&mut self, key: CallKey, id: u64, fx: &mut Effects) {
        self.release_port(key, id, fx);
        let Some(call) = self.calls.get_mut(&key) else { return };
        if let Some(i) = call.legs.iter().position(|l| l.id == id) {
            let leg = call.legs.remove(i);
            self.dialogs.remove(&leg.dialog.call_id);
            if leg.media_opened {
                fx.media.push((key, MediaCommand::Close { side: Side::Agent }));
            }
        }
    }

    /// A response to a request of ours; `false` when it matches none.
    pub fn on_response(&mut self, response: &Message, now: Instant, fx: &mut Effects) -> bool {
        let Some(status) = response.status() else { return false };
        let Some((_, method)) = response.cseq() else { return false };
        let branch = response.branch().unwrap_or_default().to_owned();
        let key = if method == Method::Cancel { format!("{branch}/CANCEL") } else { branch.clone() };
        let Some(transaction) = self.clients.get_mut(&key) else {
            // A final answer repeated because our ACK was lost: ACK again.
            if method == Method::Invite && (200..300).contains(&status) {
                return self.ack_again(response, fx);
            }
            if let Some((ack, to, _)) = self.completed.get(&key).filter(|_| method == Method::Invite && status >= 300) {
                fx.send.push(Outgoing { to: *to, bytes: ack.clone(), retransmission: true });
                return true;
            }
            return false;
        };
        if status < 200 {
            if method == Method::Invite && !transaction.proceeding {
                transaction.deadline = None;
            }
            transaction.proceeding = true;
            return true;
        }
        let transaction = self.clients.remove(&key).expect("found above");
        if method != Method::Invite {
            return true;
        }
        let Ok(invite) = Message::parse(&transaction.bytes) else { return true };
        if status >= 300 {
            // Acknowledged hop by hop, in the INVITE's own transaction (RFC 3261 §17.1.1.3).
            let mut ack = invite.clone();
            ack.start = match ack.start {
                StartLine::Request { uri, .. } => StartLine::Request { method: Method::Ack, uri },
                other => other,
            };
            ack.body.clear();
            let cseq = invite.cseq().map_or(1, |(n, _)| n);
            ack.headers.retain(|(n, _)| matches!(n.as_str(), "Via" | "From" | "Call-ID" | "Max-Forwards"));
            ack.headers.push(("To".into(), response.header("To").unwrap_or_default().to_owned()));
            ack.headers.push(("CSeq".into(), format!("{cseq} ACK")));
            let bytes = ack.to_bytes();
            self.completed.insert(key.clone(), (bytes.clone(), transaction.to, now + TRANSACTION_TIMEOUT));
            fx.send.push(Outgoing { to: transaction.to, bytes, retransmission: false });
        }
        let leg_alive = transaction.leg.is_some_and(|id| self.calls.get(&transaction.call).is_some_and(|c| c.legs.iter().any(|l| l.id == id)));
        match (transaction.leg, leg_alive) {
            (Some(id), true) => self.invite_answered(transaction.call, id, response, now, fx),
            // Answered after the call ended (a CANCEL crossed the 200): ACK it and hang up.
            _ if (200..300).contains(&status) => {
                let mut dialog = self.dialog_answered(&invite, response, transaction.to);
                self.acknowledge(&dialog, fx);
                let branch = self.branch();
                let bye = dialog.request(Method::Bye, self.config.local, &branch);
                self.send_request(transaction.call, None, &bye, dialog.peer, now, fx);
            }
            _ => {}
        }
        true
    }

    /// The dialog a 2xx to our INVITE creates.
    fn dialog_answered(&self, invite: &Message, response: &Message, peer: SocketAddr) -> Dialog {
        let cseq = invite.cseq().map_or(1, |(n, _)| n);
        let StartLine::Request { uri, .. } = &invite.start else { unreachable!("our INVITE is a request") };
        Dialog {
            call_id: invite.call_id().to_owned(),
            local_tag: invite.header("From").and_then(|f| param(f, "tag")).unwrap_or_default().to_owned(),
            remote_tag: response.header("To").and_then(|t| param(t, "tag")).unwrap_or_default().to_owned(),
            local_uri: bare_uri(invite.header("From").unwrap_or_default()),
            remote_uri: bare_uri(invite.header("To").unwrap_or_default()),
            remote_target: response.header("Contact").map(inner_uri).unwrap_or(uri).to_owned(),
            peer,
            trusted: peer.ip(),
            local_cseq: cseq,
            transport: transport_of(invite),
        }
    }

    /// The ACK of a 2xx: a new transaction carrying the INVITE's sequence number.
    fn acknowledge(&mut self, dialog: &Dialog, fx: &mut Effects) {
        let branch = self.branch();
        let ack = dialog.request_numbered(Method::Ack, INVITE_CSEQ, self.config.local, &branch);
        fx.send.push(Outgoing { to: dialog.peer, bytes: ack.to_bytes(), retransmission: false });
    }

    fn ack_again(&mut self, response: &Message, fx: &mut Effects) -> bool {
        let Some(&(key, Some(id))) = self.dialogs.get(response.call_id()) else { return false };
        let Some(dialog) = self.calls.get(&key).and_then(|c| c.legs.iter().find(|l| l.id == id)).map(|l| l.dialog.clone()) else { return false };
        self.acknowledge(&dialog, fx);
        true
    }

    /// The agent's phone gave a final answer to our INVITE (the ACK of a failure is sent).
    fn invite_answered(&mut self, key: CallKey, id: u64, response: &Message, now: Instant, fx: &mut Effects) {
        let status = response.status().unwrap_or_default();
        let Some(call) = self.calls.get_mut(&key) else { return };
        let segment = call.segment.id.clone();
        let Some(leg) = call.legs.iter_mut().find(|l| l.id == id) else { return };
        if (200..300).contains(&status) {
            leg.dialog.remote_tag = response.header("To").and_then(|t| param(t, "tag")).unwrap_or_default().to_owned();
            if let Some(contact) = response.header("Contact") {
                leg.dialog.remote_target = inner_uri(contact).to_owned();
            }
            leg.remote_media = Media::parse(&response.body).ok();
            let dialog = leg.dialog.clone();
            let leg_was_ringing = leg.state == LegState::Ringing;
            let wanted = leg_was_ringing && leg.remote_media.is_some();
            let (agent, external) = (leg.agent.clone(), leg.external);
            if wanted {
                leg.state = LegState::Answered;
            } else {
                leg.state = LegState::TransferredAway;
            }
            self.acknowledge(&dialog, fx);
            if wanted && external {
                // Outside the queue engine: bridged at once.
                self.bridge_leg(key, id, fx);
            } else if wanted {
                fx.acd.push(AcdInput::Answered { call: segment, agent });
            } else {
                // Answered after we gave up on it, or with no usable media: hang it up (and,
                // when it was still wanted, let the engine move on at once).
                self.bye_leg(key, id, now, fx);
                if leg_was_ringing && !external {
                    fx.acd.push(AcdInput::Declined { call: segment, agent });
                }
            }
            return;
        }
        let was_ringing = leg.state == LegState::Ringing;
        let (agent, external) = (leg.agent.clone(), leg.external);
        self.remove_leg(key, id, fx);
        if external {
            fx.log.push(format!("call {segment}: the transfer to {agent} failed ({status})"));
            self.close_with(key, "busy.wav", fx);
        } else if was_ringing {
            fx.log.push(format!("call {segment}: agent {agent} refused it ({status})"));
            fx.acd.push(AcdInput::Declined { call: segment, agent });
        }
        self.stop_ring_clock(key, now);
    }

    fn connect(&mut self, key: CallKey, agent: &str, now: Instant, fx: &mut Effects) {
        self.stop_ring_clock(key, now);
        let Some(call) = self.calls.get_mut(&key) else { return };
        let Some(leg_id) = call.legs.iter().find(|l| l.agent == agent && l.state == LegState::Answered && !l.external).map(|l| l.id) else {
            // The phone hung up between its answer and the engine's connection: the agent's
            // call is over, and the caller waits again.
            if let Phase::Queued { queue } = call.phase.clone() {
                fx.acd.push(AcdInput::Ended { agent: agent.to_owned(), queue: queue.clone() });
                self.enqueue(key, &queue, None, now, fx);
            }
            return;
        };
        self.bridge_leg(key, leg_id, fx);
        let Some(call) = self.calls.get_mut(&key) else { return };
        let queue = match &call.phase {
            Phase::Queued { queue } => queue.clone(),
            _ => String::new(),
        };
        if self.recording_allowed && self.config.recorded_queues.contains(&queue) {
            let path = self.config.recordings.join(format!("{}.wav", file_name(&call.segment.id)));
            call.segment.recording = Some(path.display().to_string());
            fx.media.push((key, MediaCommand::Record { path }));
        }
        call.segment.answered = Some(now);
        call.segment.agent = Some(agent.to_owned());
        if let Some(number) = call.caller_number.clone() {
            // A bound on memory: forgetting everyone now and then costs only a preference.
            if self.last_agents.len() >= MAX_REMEMBERED_CALLERS {
                self.last_agents.clear();
            }
            self.last_agents.insert(number, agent.to_owned());
        }
        call.phase = Phase::Connected { agent: agent.to_owned(), queue, leg: leg_id };
        fx.log.push(format!("call {} connected to agent {agent}", call.segment.id));
    }

    /// Opens an answered leg's media and bridges it to the caller.
    fn bridge_leg(&mut self, key: CallKey, id: u64, fx: &mut Effects) {
        let Some(call) = self.calls.get_mut(&key) else { return };
        let codec = call.codec;
        let Some(leg) = call.legs.iter_mut().find(|l| l.id == id) else { return };
        let Some(remote) = leg.remote_media.clone() else { return };
        leg.state = LegState::Connected;
        leg.media_opened = true;
        fx.media.push((key, MediaCommand::Open { side: Side::Agent, local_port: leg.port, remote: remote.address, signalling: leg.dialog.trusted, codec, telephone_event: remote.telephone_event }));
        fx.media.push((key, MediaCommand::Bridge));
    }

    /// A re-INVITE: from the agent, hold (sendonly/inactive) or resume; from the caller, a
    /// session refresh or new media address.
    fn reinvite(&mut self, key: CallKey, leg: Option<u64>, request: &Message, now: Instant, fx: &mut Effects) -> Message {
        // Without an offer (a session refresh) the answer is our current description.
        let offer = match request.body.is_empty() {
            true => None,
            false => match Media::parse(&request.body) {
                Ok(offer) => Some(offer),
                Err(e) => return reply(request, 488, "Not Acceptable Here").with_header("Warning", format!("304 wfm \"{e}\"")),
            },
        };
        let media_ip = self.config.media_ip;
        let Some(call) = self.calls.get_mut(&key) else { return reply(request, 481, "Call/Transaction Does Not Exist") };
        let bridged_leg = match call.phase {
            Phase::Connected { leg, .. } | Phase::External { leg } => Some(leg),
            _ => None,
        };
        let (port, side, telephone_event) = match leg {
            None => (call.port, Side::Caller, call.caller_event),
            Some(id) => match call.legs.iter_mut().find(|l| l.id == id) {
                Some(l) => {
                    if let Some(offer) = &offer {
                        l.remote_media = Some(offer.clone());
                    }
                    (l.port, Side::Agent, l.remote_media.as_ref().and_then(|m| m.telephone_event))
                }
                None => return reply(request, 481, "Call/Transaction Does Not Exist"),
            },
        };
        // Only the leg whose media is open may move it (not one transferred away, say).
        let media_is_this_legs = leg.is_none() || leg == bridged_leg;
        if let Some(offer) = &offer
            && media_is_this_legs
        {
            call.sdp_version += 1;
            if !offer.address.ip().is_unspecified() {
                fx.media.push((key, MediaCommand::Remote { side, remote: offer.address }));
            }
        }
        let agent_connected = matches!(call.phase, Phase::Connected { leg: l, .. } if Some(l) == leg);
        if let (Some(offer), true) = (&offer, agent_connected) {
            match (offer.direction.is_hold(), call.hold_since) {
                (true, None) => {
                    call.hold_since = Some(now);
                    fx.media.push((key, MediaCommand::Unbridge));
                    fx.log.push(format!("call {}: on hold", call.segment.id));
                    self.play(key, &["hold-music.wav"], AfterPlay::Loop, fx);
                }
                (false, Some(since)) => {
                    call.hold_since = None;
                    call.segment.hold += now.saturating_duration_since(since);
                    fx.media.push((key, MediaCommand::Bridge));
                    fx.log.push(format!("call {}: resumed", call.segment.id));
                }
                _ => {}
            }
        }
        let Some(call) = self.calls.get(&key) else { return reply(request, 481, "Call/Transaction Does Not Exist") };
        let direction = offer.as_ref().map_or(Direction::SendRecv, |o| sdp::answer_direction(o.direction));
        let body = sdp::describe(call.session_id, call.sdp_version, SocketAddr::new(media_ip, port), &[call.codec], telephone_event, direction);
        let response = reply(request, 200, "OK").with_header("Contact", format!("<sip:wfm@{}>", self.config.local)).with_header("Content-Type", "application/sdp");
        Message { body, ..response }
    }

    /// A blind transfer (REFER) from the connected agent: to an agent, a queue or an IVR number.
    fn transfer(&mut self, key: CallKey, id: u64, request: &Message, now: Instant, fx: &mut Effects) -> Message {
        let Some(target) = request.header("Refer-To").map(inner_uri).and_then(uri_user).map(str::to_owned) else {
            return reply(request, 400, "Bad Request (Refer-To names no user)");
        };
        let connected = self.calls.get(&key).is_some_and(|c| matches!(c.phase, Phase::Connected { leg, .. } if leg == id));
        if !connected {
            return reply(request, 403, "Forbidden (not connected to a caller)");
        }
        enum Destination {
            Queue(String, Option<String>),
            Number,
            External(SocketAddr),
        }
        let current = match self.calls.get(&key).map(|c| &c.phase) {
            Some(Phase::Connected { queue, .. }) => queue.clone(),
            _ => String::new(),
        };
        // To an agent: they ring when free; meanwhile the caller waits in this queue if the
        // agent serves it, else in the agent's first.
        let agent_queue = self.config.agent_queues.get(&target).and_then(|queues| queues.iter().find(|q| **q == current).or(queues.first()));
        let destination = if let Some(queue) = agent_queue {
            Some(Destination::Queue(queue.clone(), Some(target.clone())))
        } else if self.config.queues.contains(&target) {
            Some(Destination::Queue(target.clone(), None))
        } else if self.config.flow.has_number(&target) {
            Some(Destination::Number)
        } else {
            self.config.trunk.filter(|_| target.chars().all(|c| c.is_ascii_digit() || c == '+')).map(Destination::External)
        };
        let response = reply(request, 202, "Accepted");
        let frag = if destination.is_some() { "SIP/2.0 200 OK" } else { "SIP/2.0 404 Not Found" };
        self.notify(key, id, frag, now, fx);
        let Some(destination) = destination else {
            fx.log.push(format!("transfer to {target} refused: no agent, queue or number of that name (and no trunk for outside numbers)"));
            return response;
        };
        let Some(call) = self.calls.get_mut(&key) else { return response };
        let Phase::Connected { agent, queue, .. } = call.phase.clone() else { return response };
        call.segment.transfer_target = Some(target.clone());
        if let Some(since) = call.hold_since.take() {
            call.segment.hold += now.saturating_duration_since(since);
        }
        if let Some(leg) = call.legs.iter_mut().find(|l| l.id == id) {
            leg.state = LegState::TransferredAway;
            // Its media is closed here (the agent side may soon be the next leg's), and its
            // port went with it.
            leg.media_opened = false;
            leg.port_released = true;
        }
        fx.media.push((key, MediaCommand::Unbridge));
        fx.media.push((key, MediaCommand::StopRecording));
        fx.media.push((key, MediaCommand::Close { side: Side::Agent }));
        fx.acd.push(AcdInput::Ended { agent: agent.clone(), queue });
        fx.log.push(format!("call {}: agent {agent} transferred it to {target}", call.segment.id));
        self.end_segment(key, "answered", now, fx);
        match destination {
            Destination::Queue(queue, last_agent) => {
                self.enqueue(key, &queue, last_agent, now, fx);
                self.play(key, &["transfer.wav", "hold-music.wav"], AfterPlay::Loop, fx);
            }
            Destination::External(trunk) => {
                self.play(key, &["transfer.wav", "hold-music.wav"], AfterPlay::Loop, fx);
                match self.invite_leg(key, &target, true, format!("sip:{target}@{trunk}"), (trunk, trunk.ip()), false, now, fx) {
                    Some(leg) => {
                        if let Some(call) = self.calls.get_mut(&key) {
                            call.phase = Phase::External { leg };
                        }
                    }
                    None => self.close_with(key, "busy.wav", fx),
                }
            }
            Destination::Number => {
                let start = self.config.flow.start(&target, self.local_time(now), self.ivr_now(now));
                if let (Ok((session, step)), Some(call)) = (start, self.calls.get_mut(&key)) {
                    call.ivr = session;
                    call.phase = Phase::Ivr;
                    self.ivr_step(key, step, now, fx);
                }
            }
        }
        response
    }

    /// Tells the transferring agent how the transfer went (RFC 3515 §2.4.5).
    fn notify(&mut self, key: CallKey, id: u64, frag: &str, now: Instant, fx: &mut Effects) {
        let branch = self.branch();
        let local = self.config.local;
        let Some(leg) = self.leg_mut(key, id) else { return };
        let mut notify = leg.dialog.request(Method::Notify, local, &branch);
        notify.headers.push(("Event".into(), "refer".into()));
        notify.headers.push(("Subscription-State".into(), "terminated;reason=noresource".into()));
        notify.headers.push(("Content-Type".into(), "message/sipfrag;version=2.0".into()));
        notify.body = format!("{frag}\r\n").into_bytes();
        let peer = leg.dialog.peer;
        self.send_request(key, Some(id), &notify, peer, now, fx);
    }

    /// Closes the current segment as a call record and starts the next one.
    fn end_segment(&mut self, key: CallKey, exit_reason: &str, now: Instant, fx: &mut Effects) {
        let Some(call) = self.calls.get_mut(&key) else { return };
        if let Some(started) = call.segment.ring_started.take() {
            call.segment.ring += now.saturating_duration_since(started);
        }
        call.segments_done += 1;
        let next_id = format!("{}~{}", call.caller.call_id, call.segments_done + 1);
        let segment = std::mem::replace(&mut call.segment, Segment::new(next_id.clone(), now));
        let (dialled, caller_number, ivr_path, priority) = (call.dialled.clone(), call.caller_number.clone(), call.ivr.describe(), call.ivr.priority);
        self.segments.remove(&segment.id);
        self.segments.insert(next_id, key);
        let ms = |t: Instant| self.wall_ms(t);
        let talk = match segment.answered {
            Some(a) => now.saturating_duration_since(a).saturating_sub(segment.hold),
            None => Duration::ZERO,
        };
        let abandoned = exit_reason == "abandoned";
        fx.finished.push(CallSegment {
            call_id: segment.id,
            caller_number,
            dialled_number: Some(dialled),
            queue: segment.queue.as_ref().map(|(q, _)| q.clone()),
            priority: i32::from(priority),
            arrived_ms: ms(segment.arrived),
            queued_ms: segment.queue.as_ref().map(|(_, t)| ms(*t)),
            answered_ms: segment.answered.map(ms),
            ended_ms: ms(now),
            abandoned,
            exit_reason: exit_reason.to_owned(),
            agent: segment.agent,
            ring_ms: segment.ring.as_millis() as i64,
            talk_ms: talk.as_millis() as i64,
            hold_ms: segment.hold.as_millis() as i64,
            transfer_target: segment.transfer_target,
            ivr_path,
            recording: segment.recording,
        });
    }

    /// The reason a call ends in `phase`, for its record.
    fn exit_reason(call: &Call) -> &'static str {
        match (call.segment.answered.is_some(), call.segment.queue.is_some()) {
            (true, _) => "answered",
            (false, true) => "abandoned",
            (false, false) => "not_queued",
        }
    }

    /// The caller hung up.
    fn caller_left(&mut self, key: CallKey, now: Instant, fx: &mut Effects) {
        self.finish(key, now, fx);
    }

    /// A leg other than the caller's sent BYE: the agent (or the outside number) hung up.
    fn agent_left(&mut self, key: CallKey, id: u64, now: Instant, fx: &mut Effects) {
        let Some(call) = self.calls.get_mut(&key) else { return };
        let bridged = match &call.phase {
            Phase::Connected { agent, queue, leg } if *leg == id => {
                fx.acd.push(AcdInput::Ended { agent: agent.clone(), queue: queue.clone() });
                true
            }
            Phase::External { leg } => *leg == id,
            _ => false,
        };
        if bridged {
            // Its leg is over; what is left is to end the caller's.
            call.phase = Phase::Closing;
        }
        self.remove_leg(key, id, fx);
        if bridged {
            self.hang_up_caller(key, now, fx);
        }
    }

    /// Sends the caller BYE and ends the call.
    fn hang_up_caller(&mut self, key: CallKey, now: Instant, fx: &mut Effects) {
        let branch = self.branch();
        let local = self.config.local;
        let Some(call) = self.calls.get_mut(&key) else { return };
        let bye = call.caller.request(Method::Bye, local, &branch);
        let peer = call.caller.peer;
        self.send_request(key, None, &bye, peer, now, fx);
        self.finish(key, now, fx);
    }

    /// The call is over (its caller's leg is, or is being, ended): every other leg is ended,
    /// the engine told, the media stopped and the record written.
    fn finish(&mut self, key: CallKey, now: Instant, fx: &mut Effects) {
        let Some(call) = self.calls.get(&key) else { return };
        let queue = match &call.phase {
            Phase::Queued { queue } | Phase::Connected { queue, .. } => queue.clone(),
            _ => String::new(),
        };
        match &call.phase {
            Phase::Queued { .. } => fx.acd.push(AcdInput::HungUp { call: call.segment.id.clone() }),
            Phase::Connected { agent, .. } => fx.acd.push(AcdInput::Ended { agent: agent.clone(), queue: queue.clone() }),
            _ => {}
        }
        let legs: Vec<(u64, LegState, bool, String)> = call.legs.iter().map(|l| (l.id, l.state, l.external, l.agent.clone())).collect();
        for (id, state, external, agent) in legs {
            match state {
                LegState::Ringing => self.cancel_leg(key, id, now, fx),
                LegState::Connected => self.bye_leg(key, id, now, fx),
                LegState::Answered => {
                    // The engine took the answer (a refusal would have made it TransferredAway)
                    // but the caller left before the connection: the agent's call is over too.
                    if !external {
                        fx.acd.push(AcdInput::Ended { agent, queue: queue.clone() });
                    }
                    self.bye_leg(key, id, now, fx);
                }
                LegState::Cancelling | LegState::TransferredAway => {}
            }
            self.release_port(key, id, fx);
        }
        let Some(call) = self.calls.get_mut(&key) else { return };
        if let Some(since) = call.hold_since.take() {
            call.segment.hold += now.saturating_duration_since(since);
        }
        let feature = call.phase == Phase::Feature;
        let exit = Self::exit_reason(call);
        // A segment with nothing in it (the IVR after an overflow, say) makes no record, nor
        // does a feature code.
        let empty = call.segments_done > 0 && call.segment.queue.is_none();
        if !feature && !empty {
            self.end_segment(key, exit, now, fx);
        }
        let call = self.calls.remove(&key).expect("found above");
        fx.media.push((key, MediaCommand::End));
        self.dialogs.remove(&call.caller.call_id);
        // Earlier segments' ids went as they ended; the current one is the last.
        self.segments.remove(&call.segment.id);
        // What the legs still answer (a BYE, a CANCEL) matches their transactions, not dialogs.
        for leg in &call.legs {
            self.dialogs.remove(&leg.dialog.call_id);
        }
        fx.log.push(format!("call {} ended ({exit})", call.caller.call_id));
    }

    /// A media event: a digit for the IVR, or the end of a prompt.
    pub fn on_media(&mut self, event: &MediaEvent, now: Instant, fx: &mut Effects) {
        let ivr_now = self.ivr_now(now);
        match *event {
            MediaEvent::Digit { call: key, key: digit } => {
                let Some(call) = self.calls.get_mut(&key) else { return };
                if call.phase != Phase::Ivr {
                    return;
                }
                if let Some(step) = self.config.flow.key(&mut call.ivr, digit, ivr_now) {
                    self.ivr_step(key, step, now, fx);
                }
            }
            MediaEvent::Silent { call: key, side } => {
                let Some(call) = self.calls.get(&key) else { return };
                fx.log.push(format!("call {}: no RTP from the {side:?} leg for {} s: taken for gone", call.segment.id, crate::media::SILENCE_LIMIT.as_secs()));
                match (side, call.phase.clone()) {
                    (Side::Caller, _) => self.hang_up_caller(key, now, fx),
                    // An agent holding the call may send nothing (`inactive`): not a silence.
                    (Side::Agent, Phase::Connected { leg, .. } | Phase::External { leg }) if call.hold_since.is_none() => {
                        self.bye_leg(key, leg, now, fx);
                        self.agent_left(key, leg, now, fx);
                    }
                    _ => {}
                }
            }
            MediaEvent::PromptsDone { call: key, play } => {
                let Some(call) = self.calls.get_mut(&key).filter(|c| c.plays == play) else { return };
                match call.phase {
                    Phase::Ivr => match call.listen_after.take() {
                        Some(listen) => call.listen_until = Some(now + listen),
                        None => {
                            let step = self.config.flow.prompt_finished(&mut call.ivr, ivr_now);
                            self.ivr_step(key, step, now, fx);
                        }
                    },
                    Phase::Voicemail { until: None } if !self.recording_allowed => {
                        fx.log.push(format!("call {}: no voicemail recorded, the tenant's recording storage is full", call.caller.call_id));
                        self.hang_up_caller(key, now, fx);
                    }
                    Phase::Voicemail { until: None } => {
                        call.phase = Phase::Voicemail { until: Some(now + self.config.voicemail_limit) };
                        let path = self.config.voicemail.join(format!("{}.wav", file_name(&call.caller.call_id)));
                        fx.log.push(format!("call {}: voicemail to {}", call.caller.call_id, path.display()));
                        fx.media.push((key, MediaCommand::Record { path }));
                    }
                    Phase::Closing | Phase::Feature => self.hang_up_caller(key, now, fx),
                    _ => {}
                }
            }
        }
    }

    /// The engine refused an input: the controller undoes what depended on it.
    pub fn acd_refused(&mut self, input: &AcdInput, error: &str, now: Instant, fx: &mut Effects) {
        match input {
            AcdInput::Answered { call, agent } => {
                // The caller left or another agent won the race: release this phone.
                let Some(&key) = self.segments.get(call) else { return };
                let ids: Vec<u64> = self.calls.get(&key).map(|c| c.legs.iter().filter(|l| &l.agent == agent && l.state == LegState::Answered).map(|l| l.id).collect()).unwrap_or_default();
                for id in ids {
                    self.bye_leg(key, id, now, fx);
                    if let Some(leg) = self.leg_mut(key, id) {
                        leg.state = LegState::TransferredAway;
                    }
                }
            }
            AcdInput::Arrive { call, queue, .. } => {
                fx.log.push(format!("call {call}: queue {queue} refused it: {error}"));
                if let Some(&key) = self.segments.get(call) {
                    self.close_with(key, "busy.wav", fx);
                }
            }
            AcdInput::State { agent, .. } => {
                fx.log.push(format!("agent {agent}: feature code refused: {error}"));
                let key = self.calls.iter().find(|(_, c)| c.phase == Phase::Feature && c.caller_number.as_deref() == Some(agent)).map(|(k, _)| *k);
                if let Some(key) = key {
                    self.play(key, &["busy.wav"], AfterPlay::Report, fx);
                }
            }
            AcdInput::HungUp { .. } | AcdInput::Declined { .. } | AcdInput::Ended { .. } => {}
        }
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

#[cfg(test)]
mod tests;
