//! RTP media anchored in the ACD: every leg's audio comes to a socket of ours. Per call, one
//! task plays prompts and hold music to the caller, reads the caller's RFC 4733 digits, relays
//! audio between caller and agent once bridged (rewritten by [`stream::Outbound`]), and writes
//! the recording. The call controller ([`crate::calls`]) decides; this layer only carries out its
//! [`MediaCommand`]s and reports [`MediaEvent`]s.

pub mod audio;
pub mod latch;
pub mod stream;

use crate::lock;
use crate::sip::sdp::Codec;
use audio::{Prompts, WavWriter};
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use stream::{DtmfReader, Outbound, Recording, SAMPLES_PER_PACKET};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

/// A call, as the controller numbers them.
pub type CallKey = u64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Caller,
    Agent,
}

/// What to do when the prompts end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterPlay {
    /// Report [`MediaEvent::PromptsDone`] and fall silent.
    Report,
    /// Repeat the last prompt until told otherwise (hold music).
    Loop,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaCommand {
    /// A leg's RTP, from our port (see [`MediaHub::open_port`]) to the peer: `remote` as its SDP
    /// says, latched onto where its packets come from ([`latch`]); `signalling` is the address
    /// its SIP came from.
    Open { side: Side, local_port: u16, remote: SocketAddr, signalling: std::net::IpAddr, codec: Codec, telephone_event: Option<u8> },
    /// A port opened for an offer that was never answered.
    Discard { local_port: u16 },
    /// The peer receives elsewhere now (a re-INVITE moved it).
    Remote { side: Side, remote: SocketAddr },
    /// Prompts for the caller, in order (what played before stops).
    Play { prompts: Vec<String>, then: AfterPlay },
    /// Relay audio both ways; prompts stop.
    Bridge,
    /// Stop relaying (hold, or the agent left).
    Unbridge,
    /// Record what arrives from now on (caller left, agent right) into this WAV file (a
    /// recording under way is finished first).
    Record { path: PathBuf },
    /// Finish the recording under way (the call goes on: a transfer).
    StopRecording,
    Close { side: Side },
    /// The call is over: sockets closed, the recording finished.
    End,
}

/// A leg from which no RTP came for this long is taken for gone (a phone that crashed, a
/// caller whose network went): its call would otherwise never end.
pub const SILENCE_LIMIT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaEvent {
    Digit { call: CallKey, key: char },
    /// No RTP from this leg for [`SILENCE_LIMIT`] (reported once per silence).
    Silent { call: CallKey, side: Side },
    /// The prompts of the `play`-th Play command (counted from 1) ended.
    PromptsDone { call: CallKey, play: u64 },
}

/// What a call's task is sent: a leg's socket, taken from the bound ones, or a command.
enum TaskInput {
    Open { socket: std::net::UdpSocket, side: Side, latch: latch::Latch, codec: Codec, telephone_event: Option<u8> },
    Command(MediaCommand),
}

/// Where media commands go and where each call's task is found.
pub struct MediaHub {
    ip: IpAddr,
    /// Ports bound for an offer, until the call's task takes them.
    bound: Mutex<HashMap<u16, std::net::UdpSocket>>,
    calls: Mutex<HashMap<CallKey, mpsc::UnboundedSender<TaskInput>>>,
    events: mpsc::UnboundedSender<MediaEvent>,
    prompts: Prompts,
    /// Packets relayed between legs and packets of prompts sent, since the start.
    relayed: AtomicU64,
    played: AtomicU64,
}

/// What the media layer has done, for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MediaCounters {
    pub calls: usize,
    pub relayed: u64,
    pub played: u64,
}

impl MediaHub {
    pub fn new(ip: IpAddr, prompts: Prompts, events: mpsc::UnboundedSender<MediaEvent>) -> Arc<Self> {
        Arc::new(Self { ip, bound: Mutex::new(HashMap::new()), calls: Mutex::new(HashMap::new()), events, prompts, relayed: AtomicU64::new(0), played: AtomicU64::new(0) })
    }

    /// Binds a UDP port for a leg's RTP (the system picks it); `None` when none is left.
    pub fn open_port(&self) -> Option<u16> {
        let socket = std::net::UdpSocket::bind((self.ip, 0)).ok()?;
        socket.set_nonblocking(true).ok()?;
        let port = socket.local_addr().ok()?.port();
        lock(&self.bound).insert(port, socket);
        Some(port)
    }

    pub fn ip(&self) -> IpAddr {
        self.ip
    }

    pub fn counters(&self) -> MediaCounters {
        MediaCounters { calls: lock(&self.calls).len(), relayed: self.relayed.load(Ordering::Relaxed), played: self.played.load(Ordering::Relaxed) }
    }

    /// Carries out one command for `call`; must run inside the tokio runtime.
    pub fn command(self: &Arc<Self>, call: CallKey, command: MediaCommand) {
        match command {
            MediaCommand::Discard { local_port } => {
                lock(&self.bound).remove(&local_port);
            }
            MediaCommand::End => {
                if let Some(task) = lock(&self.calls).remove(&call) {
                    let _ = task.send(TaskInput::Command(MediaCommand::End));
                }
            }
            MediaCommand::Open { side, local_port, remote, signalling, codec, telephone_event } => {
                let Some(socket) = lock(&self.bound).remove(&local_port) else {
                    eprintln!("media: call {call}: port {local_port} was not opened for it");
                    return;
                };
                let mut calls = lock(&self.calls);
                let task = calls.entry(call).or_insert_with(|| {
                    let (tx, rx) = mpsc::unbounded_channel();
                    let hub = self.clone();
                    tokio::spawn(async move { run_call(hub, call, rx).await });
                    tx
                });
                let latch = latch::Latch::new(remote, signalling, std::time::Instant::now());
                let _ = task.send(TaskInput::Open { socket, side, latch, codec, telephone_event });
            }
            other => {
                if let Some(task) = lock(&self.calls).get(&call) {
                    let _ = task.send(TaskInput::Command(other));
                }
            }
        }
    }
}

/// One leg's socket and streams.
struct Leg {
    socket: UdpSocket,
    /// Where its RTP is heard from and sent to.
    latch: latch::Latch,
    /// When the peer was last heard (or the leg opened), and whether its silence was reported.
    heard: Instant,
    silence_reported: bool,
    codec: Codec,
    telephone_event: Option<u8>,
    outbound: Outbound,
}

struct Playing {
    queue: VecDeque<Arc<[i16]>>,
    position: usize,
    then: AfterPlay,
}

struct CallMedia {
    call: CallKey,
    hub: Arc<MediaHub>,
    caller: Option<Leg>,
    agent: Option<Leg>,
    bridged: bool,
    playing: Option<Playing>,
    /// Play commands so far.
    plays: u64,
    digits: DtmfReader,
    recording: Option<(Recording, WavWriter, PathBuf)>,
    started: Instant,
    last_flush: Instant,
}

impl CallMedia {
    fn leg(&mut self, side: Side) -> &mut Option<Leg> {
        match side {
            Side::Caller => &mut self.caller,
            Side::Agent => &mut self.agent,
        }
    }

    fn open(&mut self, socket: std::net::UdpSocket, side: Side, latch: latch::Latch, codec: Codec, telephone_event: Option<u8>) {
        let socket = match UdpSocket::from_std(socket) {
            Ok(s) => s,
            Err(e) => return eprintln!("media: call {}: {e}", self.call),
        };
        let seed = crate::accounts::random_bytes::<8>().map(u64::from_le_bytes).unwrap_or(self.call.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        *self.leg(side) = Some(Leg { socket, latch, heard: Instant::now(), silence_reported: false, codec, telephone_event, outbound: Outbound::new(seed, codec, telephone_event) });
    }

    fn apply(&mut self, command: MediaCommand) {
        match command {
            MediaCommand::Remote { side, remote } => {
                if let Some(leg) = self.leg(side) {
                    leg.latch.moved(remote, Instant::now());
                }
            }
            MediaCommand::Play { prompts, then } => {
                let queue: VecDeque<Arc<[i16]>> = prompts
                    .iter()
                    .filter_map(|name| {
                        let found = self.hub.prompts.get(name);
                        if found.is_none() {
                            eprintln!("media: call {}: no prompt {name}", self.call);
                        }
                        found
                    })
                    .collect();
                self.playing = Some(Playing { queue, position: 0, then });
                self.plays += 1;
            }
            MediaCommand::Bridge => {
                self.bridged = true;
                self.playing = None;
            }
            MediaCommand::Unbridge => self.bridged = false,
            MediaCommand::Record { path } => {
                self.finish();
                match WavWriter::create(&path, 2) {
                    Ok(writer) => self.recording = Some((Recording::default(), writer, path)),
                    Err(e) => eprintln!("media: call {}: cannot record to {}: {e}", self.call, path.display()),
                }
            }
            MediaCommand::StopRecording => self.finish(),
            MediaCommand::Close { side } => *self.leg(side) = None,
            MediaCommand::Open { .. } | MediaCommand::Discard { .. } | MediaCommand::End => {}
        }
    }

    fn sample_now(&self) -> u64 {
        self.started.elapsed().as_micros() as u64 * 8 / 1000
    }

    /// 20 ms passed: the next packet of the prompt to the caller.
    async fn tick(&mut self) {
        let Some(playing) = &mut self.playing else { return };
        let mut frame = [0i16; SAMPLES_PER_PACKET as usize];
        let mut filled = 0;
        while filled < frame.len() {
            let Some(current) = playing.queue.front() else { break };
            let take = (current.len() - playing.position).min(frame.len() - filled);
            frame[filled..filled + take].copy_from_slice(&current[playing.position..playing.position + take]);
            filled += take;
            playing.position += take;
            if playing.position >= current.len() {
                playing.position = 0;
                if playing.queue.len() > 1 || playing.then == AfterPlay::Report {
                    playing.queue.pop_front();
                }
            }
        }
        let done = playing.queue.is_empty();
        if let Some(caller) = &mut self.caller
            && filled > 0
        {
            let bytes = caller.outbound.own(&frame);
            let _ = caller.socket.send_to(&bytes, caller.latch.target()).await;
            self.hub.played.fetch_add(1, Ordering::Relaxed);
        }
        if done {
            self.playing = None;
            let _ = self.hub.events.send(MediaEvent::PromptsDone { call: self.call, play: self.plays });
        }
    }

    /// A packet arrived on `side`'s socket.
    async fn received(&mut self, side: Side, bytes: &[u8], from: SocketAddr) {
        let Some(packet) = stream::parse(bytes) else { return };
        let now = self.sample_now();
        let (this, other) = match side {
            Side::Caller => (&mut self.caller, &mut self.agent),
            Side::Agent => (&mut self.agent, &mut self.caller),
        };
        let Some(this) = this.as_mut() else { return };
        // Only the peer is heard: symmetric RTP within the latch's limits (no injected audio).
        if !this.latch.accept(from, packet.header.ssrc, Instant::now()) {
            return;
        }
        this.heard = Instant::now();
        this.silence_reported = false;
        let is_event = Some(packet.header.payload_type) == this.telephone_event;
        if side == Side::Caller
            && is_event
            && let Some(key) = self.digits.read(&packet)
        {
            let _ = self.hub.events.send(MediaEvent::Digit { call: self.call, key });
        }
        if self.bridged
            && let Some(other) = other.as_mut()
            && let Some(out) = other.outbound.relay(&packet, this.codec, this.telephone_event)
        {
            let _ = other.socket.send_to(&out, other.latch.target()).await;
            self.hub.relayed.fetch_add(1, Ordering::Relaxed);
        }
        if let Some((recording, writer, path)) = &mut self.recording {
            recording.add(if side == Side::Caller { 0 } else { 1 }, &packet, this.codec, now);
            if self.last_flush.elapsed() >= Duration::from_secs(1) {
                self.last_flush = Instant::now();
                if let Err(e) = writer.write(&recording.ready(now)) {
                    eprintln!("media: call {}: recording {} failed: {e}", self.call, path.display());
                    self.recording = None;
                }
            }
        }
    }

    /// Reports legs silent for too long.
    fn watch(&mut self) {
        for (side, leg) in [(Side::Caller, &mut self.caller), (Side::Agent, &mut self.agent)] {
            if let Some(leg) = leg
                && !leg.silence_reported
                && leg.heard.elapsed() >= SILENCE_LIMIT
            {
                leg.silence_reported = true;
                let _ = self.hub.events.send(MediaEvent::Silent { call: self.call, side });
            }
        }
    }

    fn finish(&mut self) {
        if let Some((mut recording, mut writer, path)) = self.recording.take() {
            let written = writer.write(&recording.rest()).and_then(|()| writer.finish());
            if let Err(e) = written {
                eprintln!("media: call {}: recording {} failed: {e}", self.call, path.display());
            }
        }
    }
}

async fn receive(leg: &Option<Leg>, buffer: &mut [u8]) -> std::io::Result<(usize, SocketAddr)> {
    match leg {
        Some(leg) => leg.socket.recv_from(buffer).await,
        None => std::future::pending().await,
    }
}

async fn run_call(hub: Arc<MediaHub>, call: CallKey, mut commands: mpsc::UnboundedReceiver<TaskInput>) {
    let mut media = CallMedia {
        call,
        hub,
        caller: None,
        agent: None,
        bridged: false,
        playing: None,
        plays: 0,
        digits: DtmfReader::default(),
        recording: None,
        started: Instant::now(),
        last_flush: Instant::now(),
    };
    let mut clock = tokio::time::interval(Duration::from_millis(20));
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut watch = tokio::time::interval(Duration::from_secs(5));
    let (mut from_caller, mut from_agent) = (vec![0u8; 2048], vec![0u8; 2048]);
    loop {
        tokio::select! {
            command = commands.recv() => match command {
                None | Some(TaskInput::Command(MediaCommand::End)) => break,
                Some(TaskInput::Open { socket, side, latch, codec, telephone_event }) => media.open(socket, side, latch, codec, telephone_event),
                Some(TaskInput::Command(command)) => media.apply(command),
            },
            received = receive(&media.caller, &mut from_caller) => {
                if let Ok((n, from)) = received {
                    media.received(Side::Caller, &from_caller[..n], from).await;
                }
            }
            received = receive(&media.agent, &mut from_agent) => {
                if let Ok((n, from)) = received {
                    media.received(Side::Agent, &from_agent[..n], from).await;
                }
            }
            _ = clock.tick(), if media.playing.is_some() => media.tick().await,
            _ = watch.tick() => media.watch(),
        }
    }
    media.finish();
}

impl crate::calls::Ports for Arc<MediaHub> {
    fn open(&mut self) -> Option<u16> {
        self.open_port()
    }
}
