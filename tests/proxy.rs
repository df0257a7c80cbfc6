//! Calls through a SIP proxy that records routes: Kamailio (Debian package `kamailio`) in front
//! of `wfm serve`, with the configuration of `tests/kamailio/edge.cfg`, callers and the agent's
//! phone (sipp) on the far side of it. The proxy refuses an in-dialog request from the ACD that
//! does not carry its Route, so each hang-up below only reaches the other party when the ACD
//! honours the route set of both dialogs (RFC 3261 §12).

mod common;

use common::acd::*;
use common::p;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A Kamailio serving this test alone, stopped when dropped.
struct Kamailio {
    child: Child,
    address: String,
    log: PathBuf,
}

impl Kamailio {
    fn start(dir: &Path, acd: &str) -> Self {
        let address = format!("127.0.0.1:{}", free_port());
        let template = std::fs::read_to_string(format!("{}/tests/kamailio/edge.cfg", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let config = dir.join("kamailio.cfg");
        std::fs::write(&config, template.replace("LISTEN", &address).replace("ACD", acd)).unwrap();
        let log = dir.join("kamailio.log");
        let out = std::fs::File::create(&log).unwrap();
        // -DD: in the foreground; -E: log to stderr; small memory, one worker.
        let child = Command::new("kamailio")
            .args(["-f", p(&config), "-DD", "-E", "-m", "32", "-M", "8", "-n", "1", "-Y", p(dir), "-P", p(&dir.join("kamailio.pid"))])
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("kamailio runs (Debian package kamailio)");
        let started = std::time::Instant::now();
        while !std::fs::read_to_string(&log).unwrap_or_default().contains("Listening on") {
            assert!(started.elapsed() < Duration::from_secs(10), "kamailio did not start: {}", std::fs::read_to_string(&log).unwrap_or_default());
            std::thread::sleep(Duration::from_millis(100));
        }
        // The workers are up a moment after the listening sockets are printed.
        std::thread::sleep(Duration::from_millis(300));
        Self { child, address, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Kamailio {
    fn drop(&mut self) {
        // SIGTERM: the main process stops its workers too (SIGKILL would leave them running).
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }
}

#[test]
fn calls_through_a_record_routing_proxy_keep_it_on_both_dialogs() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let proxy = Kamailio::start(dir.path(), &server.sip);
    let events = Events::open(&server);
    // The agent's phone registers through the proxy: the ACD reaches it there.
    let phone = Phone::registered_through(dir.path(), &server, &proxy.address, DEMO, "1001", "agent_answer", 2, &["-d", "3000"], true);

    // The agent hangs up first: the ACD's BYE to the caller must take the caller's route set.
    call_through(dir.path(), &proxy.address, "caller", "200", &[]);
    let first = events.next_call();
    // The caller hangs up first: the ACD's BYE to the phone must take the agent leg's.
    call_through(dir.path(), &proxy.address, "caller_hangs_up", "200", &["-d", "1500"]);
    let second = events.next_call();
    phone.done();

    for record in [&first, &second] {
        assert_eq!((record["exit_reason"].as_str(), record["agent"].as_str()), (Some("answered"), Some("1001")), "{record}");
    }
    let log = proxy.log();
    assert!(!log.contains("without this proxy's Route"), "every in-dialog request of the ACD took the route set:\n{log}");
}
