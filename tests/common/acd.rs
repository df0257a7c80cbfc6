//! The ACD under test: `wfm serve` with a small ACD and IVR of its own, sipp as callers and as
//! agents' phones (scenarios in `tests/sipp/`), and what happened read back from the wallboard's
//! event stream, the live API and `wfm stats`.

use super::{p, Server};
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpStream, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const ACD: &str = r#"
[queues.support]
ring_timeout_s = 3
wrap_up_s = 0
max_wait_s = 60
overflow = "busy"
when_nobody = "busy"
record = true

[queues.billing]
ring_timeout_s = 3
wrap_up_s = 0
max_wait_s = 2
overflow = "busy"
when_nobody = "busy"

[agents]
1001 = { support = 1, billing = 1 }
1002 = { support = 1, billing = 1 }
"#;

pub const IVR: &str = r#"
[hours]
days = ["mon"]
from = "08:00"
to = "09:00"

[[numbers]]
number = "100"
open = "main"
closed = "main"
force = "open"

[[numbers]]
number = "200"
open = "queue:support"
closed = "queue:support"
force = "open"

[[numbers]]
number = "300"
open = "queue:billing"
closed = "queue:billing"
force = "open"

[nodes.main]
kind = "menu"
prompt = "main-menu.wav"
timeout_s = 5
retries = 1
options = { "1" = "queue:support", "2" = "queue:billing" }
on_fail = "queue:support"
"#;

pub const PASSWORD: &str = "s3cret";
pub const DEMO: &str = "demo";

/// A scenario of `tests/sipp/` by name, or one a test wrote, by its absolute path.
pub fn scenario(name: &str) -> String {
    if name.starts_with('/') { name.to_owned() } else { format!("{}/tests/sipp/{name}.xml", env!("CARGO_MANIFEST_DIR")) }
}

/// A port the system just handed out and took back, for sipp's SIP socket.
pub fn free_port() -> String {
    UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string()
}

/// A media port for sipp, which binds it and the port two above.
pub fn media_port() -> String {
    loop {
        let first = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = first.local_addr().unwrap().port();
        if port < u16::MAX - 2 && UdpSocket::bind(("127.0.0.1", port + 2)).is_ok() {
            return port.to_string();
        }
    }
}

pub fn start(dir: &Path) -> Server {
    start_with(dir, &[])
}

pub fn start_with(dir: &Path, extra: &[&str]) -> Server {
    start_acd(dir, ACD, extra)
}

pub fn start_acd(dir: &Path, acd: &str, extra: &[&str]) -> Server {
    std::fs::write(dir.join("acd.toml"), acd).unwrap();
    std::fs::write(dir.join("ivr.toml"), IVR).unwrap();
    let (acd, ivr) = (dir.join("acd.toml"), dir.join("ivr.toml"));
    let mut args = vec!["--demo-days", "0", "--demo-agent-password", PASSWORD, "--acd", p(&acd), "--ivr", p(&ivr)];
    args.extend_from_slice(extra);
    Server::start(dir, &args)
}

pub fn sipp(dir: &Path, name: &str, args: &[&str]) -> Command {
    let mut command = Command::new("sipp");
    command
        .args(["-sf", &scenario(name), "-i", "127.0.0.1", "-nostdin", "-timeout", "60", "-timeout_error"])
        .args(["-trace_err", "-error_file", p(&dir.join(format!("{name}-{}-errors.log", free_port())))])
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

/// An agent's phone: registered with digest, answering at its own port with `name`'s scenario
/// for `calls` calls; the agent is then set ready when `ready`.
pub struct Phone {
    pub uas: Child,
    pub name: String,
}

impl Phone {
    /// A phone answering at `port` with `name`'s scenario, registered with nobody.
    pub fn at(dir: &Path, port: &str, user: &str, name: &str, calls: u32, extra: &[&str]) -> Child {
        sipp(dir, name, &["-p", port, "-mp", &media_port(), "-m", &calls.to_string(), "-s", user]).args(extra).spawn().expect("sipp runs (Debian package sip-tester)")
    }

    /// A demo agent's phone (registered to the ACD's address: the default tenant).
    pub fn new(dir: &Path, server: &Server, agent: &str, name: &str, calls: u32, extra: &[&str], ready: bool) -> Self {
        Self::of(dir, server, DEMO, agent, name, calls, extra, ready)
    }

    /// The phone of `tenant`'s agent, registered as `sip:AGENT@TENANT` (the demo's at the
    /// ACD's address).
    #[allow(clippy::too_many_arguments)]
    pub fn of(dir: &Path, server: &Server, tenant: &str, agent: &str, name: &str, calls: u32, extra: &[&str], ready: bool) -> Self {
        Self::registered_through(dir, server, &server.sip, tenant, agent, name, calls, extra, ready)
    }

    /// The same, registered through `registrar` (a proxy in front of the ACD, say).
    #[allow(clippy::too_many_arguments)]
    pub fn registered_through(dir: &Path, server: &Server, registrar: &str, tenant: &str, agent: &str, name: &str, calls: u32, extra: &[&str], ready: bool) -> Self {
        let contact = free_port();
        let uas = Self::at(dir, &contact, agent, name, calls, extra);
        let domain = if tenant == DEMO { "127.0.0.1" } else { tenant };
        let registered = sipp(dir, "agent_register", &["-p", &free_port(), "-m", "1", "-s", agent, "-au", agent, "-ap", PASSWORD, "-key", "contact_port", &contact, "-key", "domain", domain, registrar])
            .output()
            .unwrap();
        assert!(registered.status.success(), "{tenant}/{agent} registers: {}", String::from_utf8_lossy(&registered.stderr));
        if ready {
            set_state_in(server, tenant, agent, r#"{"state": "ready"}"#);
        }
        Self { uas, name: format!("{tenant}/{agent} ({name})") }
    }

    /// Waits for the phone's calls to end; its scenario must have succeeded.
    pub fn done(mut self) {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if let Some(status) = self.uas.try_wait().unwrap() {
                let mut stderr = String::new();
                if let Some(mut e) = self.uas.stderr.take() {
                    std::io::Read::read_to_string(&mut e, &mut stderr).unwrap();
                }
                assert!(status.success(), "phone {}: {status}\n{stderr}", self.name);
                return;
            }
            assert!(Instant::now() < deadline, "phone {} still busy", self.name);
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Phone {
    fn drop(&mut self) {
        let _ = self.uas.kill();
    }
}

pub fn set_state(server: &Server, agent: &str, body: &str) {
    set_state_in(server, DEMO, agent, body);
}

pub fn set_state_in(server: &Server, tenant: &str, agent: &str, body: &str) {
    let auth = server.bearer();
    let (status, text) = server.request("POST", &format!("/api/v1/tenants/{tenant}/agents/{agent}/state"), &[&auth, "Content-Type: application/json"], body);
    assert_eq!(status, 200, "{tenant}/{agent} → {body}: {text}");
}

/// A caller with `name`'s scenario dialling `number`; returns when the call is over.
pub fn call(dir: &Path, server: &Server, name: &str, number: &str, extra: &[&str]) -> Output {
    call_through(dir, &server.sip, name, number, extra)
}

/// The same, the INVITE sent to `to` (a proxy in front of the ACD, say).
pub fn call_through(dir: &Path, to: &str, name: &str, number: &str, extra: &[&str]) -> Output {
    let out = sipp(dir, name, &["-p", &free_port(), "-mp", &media_port(), "-m", "1", "-s", number, "-set", "dtmf_ms", "300"]).args(extra).arg(to).output().unwrap();
    assert!(out.status.success(), "caller {name} to {number}: {}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    out
}

/// The wallboard's event stream, read on a thread: the `call-ended` events as they come.
pub struct Events(mpsc::Receiver<Value>);

impl Events {
    pub fn open(server: &Server) -> Self {
        Self::open_in(server, DEMO)
    }

    pub fn open_in(server: &Server, tenant: &str) -> Self {
        let mut stream = TcpStream::connect(&server.addr).unwrap();
        write!(stream, "GET /api/v1/tenants/{tenant}/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n", server.token).unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines() {
                let Ok(line) = line else { return };
                if let Some(json) = line.strip_prefix("data:").and_then(|d| serde_json::from_str::<Value>(d.trim()).ok())
                    && json["type"] == "call-ended"
                    && tx.send(json["call"].clone()).is_err()
                {
                    return;
                }
            }
        });
        // The stream is open once the server has answered; a state change proves it.
        std::thread::sleep(Duration::from_millis(300));
        Self(rx)
    }

    pub fn next_call(&self) -> Value {
        self.0.recv_timeout(Duration::from_secs(30)).expect("a call ends within 30 s")
    }
}

/// `wfm stats` for today's queue rows with calls, once they show `offered` calls in all.
pub fn stats_when(dir: &Path, offered: u64) -> Vec<Value> {
    stats_in(dir, DEMO, offered)
}

/// The same for `tenant`.
pub fn stats_in(dir: &Path, tenant: &str, offered: u64) -> Vec<Value> {
    let today = chrono::Utc::now().date_naive();
    let (from, to) = ((today - chrono::Duration::days(1)).to_string(), (today + chrono::Duration::days(2)).to_string());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = super::ok(&["stats", "--store", p(&dir.join("store")), "--tenant", tenant, "--from", &from, "--to", &to, "--interval", "day", "--format", "json"]);
        let rows: Vec<Value> = serde_json::from_str::<Vec<Value>>(&out).unwrap().into_iter().filter(|r| r["offered"].as_u64() > Some(0)).collect();
        if rows.iter().map(|r| r["offered"].as_u64().unwrap()).sum::<u64>() >= offered {
            return rows;
        }
        assert!(Instant::now() < deadline, "the store shows {rows:?}, not {offered} calls, after 10 s");
        std::thread::sleep(Duration::from_millis(300));
    }
}

pub fn row<'a>(rows: &'a [Value], queue: &str) -> &'a Value {
    rows.iter().find(|r| r["queue"] == queue).unwrap_or_else(|| panic!("no row for {queue} in {rows:?}"))
}

/// Root mean square of one channel (0 left, 1 right) of a 16-bit stereo WAV file.
pub fn channel_rms(wav: &[u8], channel: usize) -> f64 {
    let samples: Vec<f64> = wav[44..].chunks_exact(4).map(|frame| i16::from_le_bytes([frame[2 * channel], frame[2 * channel + 1]]) as f64).collect();
    (samples.iter().map(|s| s * s).sum::<f64>() / samples.len().max(1) as f64).sqrt()
}

/// A 16-bit mono WAV at 8 kHz: `seconds` of a 440 Hz tone.
pub fn tone_wav(seconds: u32) -> Vec<u8> {
    let samples: Vec<u8> = (0..8000 * seconds).flat_map(|i| ((8000.0 * (2.0 * std::f64::consts::PI * 440.0 * i as f64 / 8000.0).sin()) as i16).to_le_bytes()).collect();
    let mut wav = b"RIFF".to_vec();
    wav.extend((36 + samples.len() as u32).to_le_bytes());
    wav.extend(b"WAVEfmt ");
    wav.extend(16u32.to_le_bytes());
    wav.extend([1u16, 1].iter().flat_map(|v| v.to_le_bytes()));
    wav.extend([8000u32, 16000].iter().flat_map(|v| v.to_le_bytes()));
    wav.extend([2u16, 16].iter().flat_map(|v| v.to_le_bytes()));
    wav.extend(b"data");
    wav.extend((samples.len() as u32).to_le_bytes());
    wav.extend(samples);
    wav
}
