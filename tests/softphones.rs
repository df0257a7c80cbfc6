//! Real softphones that nobody here wrote as agents' phones: baresip (Debian package
//! `baresip-core`) and linphone (package `linphone-cli`, its console `linphonec`). Each registers
//! with digest, answers a sipp caller by itself and sends a tone; the call's recording must carry
//! the phone's audio on the agent's channel and the caller's on the other.

mod common;

use common::acd::*;
use common::{p, Server};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

/// Waits up to 15 s until `agent`'s state (the API's answer) passes `wanted`; `failure` says
/// what did not happen.
fn wait_for_state(server: &Server, agent: &str, wanted: impl Fn(&str) -> bool, failure: impl Fn(&str) -> String) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (_, body) = server.get_authorized(&format!("/api/v1/tenants/demo/agents/{agent}/state"));
        if wanted(&body) {
            return;
        }
        assert!(Instant::now() < deadline, "{}", failure(&body));
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until `agent`'s phone has registered (the agent is logged in, not ready); `log` is the
/// phone's, shown when it does not.
fn registered(server: &Server, agent: &str, log: &Path) {
    wait_for_state(server, agent, |state| !state.contains("logged-out"), |_| format!("{agent}'s phone did not register: {}", std::fs::read_to_string(log).unwrap_or_default()));
}

/// Waits until `agent` is on a call.
fn on_call(server: &Server, agent: &str) {
    wait_for_state(server, agent, |state| state.contains("on-call"), |state| format!("{agent} never took the call: {state}"));
}

/// baresip (Debian package baresip-core), a softphone nobody here wrote, as agent 1001's phone:
/// registered with digest, answering by itself, sending a 440 Hz tone; it quits after `seconds`,
/// hanging up.
struct Baresip(Child);

impl Baresip {
    fn start(dir: &Path, server: &Server, seconds: u32) -> Self {
        let conf = dir.join("baresip");
        std::fs::create_dir_all(&conf).unwrap();
        let tone = conf.join("tone.wav");
        std::fs::write(&tone, tone_wav(seconds + 5)).unwrap();
        let (heard, alert) = (conf.join("heard.wav"), conf.join("alert.wav"));
        std::fs::write(
            conf.join("config"),
            format!(
                "module_path /usr/lib/baresip/modules\nmodule g711.so\nmodule aufile.so\nmodule account.so\nmodule menu.so\n\
                 sip_listen 127.0.0.1:{}\naudio_source aufile,{}\naudio_player aufile,{}\naudio_alert aufile,{}\n",
                free_port(),
                p(&tone),
                p(&heard),
                p(&alert)
            ),
        )
        .unwrap();
        std::fs::write(conf.join("accounts"), format!("<sip:1001@{}>;auth_pass={PASSWORD};answermode=auto;regint=120;audio_codecs=PCMA\n", server.sip)).unwrap();
        let log = std::fs::File::create(dir.join("baresip.log")).unwrap();
        let child = Command::new("baresip").args(["-f", p(&conf), "-t", &seconds.to_string()]).stdin(Stdio::null()).stdout(log.try_clone().unwrap()).stderr(log).spawn().expect("baresip runs (Debian package baresip-core)");
        registered(server, "1001", &dir.join("baresip.log"));
        Self(child)
    }
}

impl Drop for Baresip {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn baresip_registers_answers_and_is_heard_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let events = Events::open(&server);
    let _phone = Baresip::start(dir.path(), &server, 10);
    set_state(&server, "1001", r#"{"state": "ready"}"#);
    // The caller streams its audio (its digit, which would stop the audio, only after it);
    // baresip answers at once and hangs up when it quits.
    call(dir.path(), &server, "caller", "200", &["-set", "dtmf_ms", "9000"]);
    let record = events.next_call();
    assert_eq!((record["exit_reason"].as_str(), record["agent"].as_str()), (Some("answered"), Some("1001")), "{record}");
    std::thread::sleep(Duration::from_millis(500));
    let wav = std::fs::read(record["recording"].as_str().expect("support records")).unwrap();
    let (caller, agent) = (channel_rms(&wav, 0), channel_rms(&wav, 1));
    assert!(agent > 2000.0, "the agent's channel carries baresip's tone: rms {agent:.0}");
    assert!(caller > 100.0, "the caller's channel carries the caller: rms {caller:.0}");
}

/// linphone's console as agent 1001's phone: registered with digest, answering by itself
/// (`-a`), its sound from and to WAV files (`soundcard use files`), driven by its commands
/// (`play`, `record`, `pause`, `resume`, `terminate`).
struct Linphone {
    child: Child,
    commands: ChildStdin,
    log: PathBuf,
}

impl Linphone {
    fn start(dir: &Path, server: &Server) -> Self {
        let conf = dir.join("linphone");
        // Its database's folder under its HOME: without it the core never starts its SIP stack.
        std::fs::create_dir_all(conf.join(".local/share/linphone")).unwrap();
        let rc = conf.join("linphonerc");
        // Its own ports; PCMA only, as the caller's; no video.
        std::fs::write(
            &rc,
            format!(
                "[sip]\nsip_port={}\nsip_tcp_port=0\nguess_hostname=1\n[rtp]\naudio_rtp_port={}\n[net]\nfirewall_policy=0\n\
                 [video]\nenabled=0\n[audio_codec_0]\nmime=PCMA\nrate=8000\nenabled=1\n[audio_codec_1]\nmime=PCMU\nrate=8000\nenabled=0\n",
                free_port(),
                media_port()
            ),
        )
        .unwrap();
        let log = dir.join("linphone.log");
        let out = std::fs::File::create(&log).unwrap();
        let mut child = Command::new("linphonec")
            .args(["-c", p(&rc), "-a"])
            .env("HOME", &conf)
            .current_dir(&conf)
            .stdin(Stdio::piped())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("linphonec runs (Debian package linphone-cli)");
        let commands = child.stdin.take().unwrap();
        let mut phone = Self { child, commands, log };
        phone.command("soundcard use files");
        phone.command(&format!("register sip:1001@{0} sip:{0} {PASSWORD}", server.sip));
        registered(server, "1001", &phone.log);
        phone
    }

    fn command(&mut self, line: &str) {
        self.send(line).unwrap();
    }

    fn send(&mut self, line: &str) -> std::io::Result<()> {
        writeln!(self.commands, "{line}")?;
        self.commands.flush()
    }
}

impl Drop for Linphone {
    fn drop(&mut self) {
        // Its console may be gone already: asked to quit if not.
        let _ = self.send("quit");
        std::thread::sleep(Duration::from_millis(300));
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn linphone_registers_answers_holds_and_is_heard_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let events = Events::open(&server);
    let mut phone = Linphone::start(dir.path(), &server);
    set_state(&server, "1001", r#"{"state": "ready"}"#);
    let tone = dir.path().join("tone.wav");
    std::fs::write(&tone, tone_wav(6)).unwrap();
    let heard = dir.path().join("heard.wav");
    // The caller streams its audio and waits for the ACD's BYE; linphone answers at once.
    let caller = {
        let dir = dir.path().to_owned();
        let sip = server.sip.clone();
        std::thread::spawn(move || call_through(&dir, &sip, "caller", "200", &["-set", "dtmf_ms", "9000"]))
    };
    on_call(&server, "1001");
    phone.command(&format!("record {}", p(&heard)));
    phone.command(&format!("play {}", p(&tone)));
    std::thread::sleep(Duration::from_secs(3));
    // linphone puts the caller on hold (a re-INVITE, sendonly) and takes the call back.
    phone.command("pause");
    std::thread::sleep(Duration::from_secs(2));
    phone.command("resume");
    std::thread::sleep(Duration::from_secs(2));
    phone.command("terminate");
    caller.join().expect("the caller got the ACD's BYE");
    let record = events.next_call();
    assert_eq!((record["exit_reason"].as_str(), record["agent"].as_str()), (Some("answered"), Some("1001")), "{record}");
    let log = std::fs::read_to_string(&phone.log).unwrap_or_default();
    let hold = record["hold_ms"].as_i64().unwrap();
    assert!((1500..4000).contains(&hold), "the hold is in the record: {hold} ms\n{log}");
    std::thread::sleep(Duration::from_millis(500));
    let wav = std::fs::read(record["recording"].as_str().expect("support records")).unwrap();
    let (caller, agent) = (channel_rms(&wav, 0), channel_rms(&wav, 1));
    assert!(agent > 1000.0, "the agent's channel carries linphone's tone: rms {agent:.0}\n{log}");
    assert!(caller > 100.0, "the caller's channel carries the caller: rms {caller:.0}");
    // What linphone heard (a 16-bit mono WAV) is the caller's audio, relayed by the ACD.
    let heard = std::fs::read(&heard).unwrap_or_default();
    assert!(heard.len() > 44 + 16000, "linphone recorded what it heard: {} bytes\n{log}", heard.len());
    let samples: Vec<f64> = heard[44..].chunks_exact(2).map(|s| i16::from_le_bytes([s[0], s[1]]) as f64).collect();
    let heard_rms = (samples.iter().map(|s| s * s).sum::<f64>() / samples.len() as f64).sqrt();
    assert!(heard_rms > 100.0, "linphone heard the caller: rms {heard_rms:.0}");
}
