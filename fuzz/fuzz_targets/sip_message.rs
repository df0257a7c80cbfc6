#![no_main]
//! Any bytes as datagrams or stream data for the SIP endpoint with its call controller: framing
//! and parsing never panic; a parsed message written back parses to the same message; the
//! endpoint answers (or drops) each of up to eight messages (the input split at `\0\0`, so
//! that a call's later requests meet the dialog the first made) without panicking, and
//! whatever it sends parses. Each message is also routed by a switchboard of two tenants, which
//! never names a tenant it does not have.

use libfuzzer_sys::fuzz_target;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};
use wfm_telephony::calls::{Calls, Config, Effects, Ports};
use wfm_telephony::sip::core::SipCore;
use wfm_telephony::sip::message::{frame_len, Message};
use wfm_telephony::sip::registrar::Registrar;
use wfm_telephony::switchboard::{Route, Switchboard};

struct CountingPorts(u16);

impl Ports for CountingPorts {
    fn open(&mut self) -> Option<u16> {
        self.0 = self.0.wrapping_add(2);
        Some(self.0)
    }
}

fn endpoint(now: Instant) -> SipCore {
    let config = Config {
        local: "127.0.0.1:5060".parse().expect("an address"),
        media_ip: "127.0.0.1".parse().expect("an address"),
        max_calls: 4,
        flow: wfm_telephony::ivr::Flow::demo(),
        zone: wfm_model::TenantZone::utc(),
        agent_queues: HashMap::from([("1001".to_owned(), vec!["support".to_owned()])]),
        queues: HashSet::from(["support".to_owned(), "billing".to_owned()]),
        recorded_queues: HashSet::new(),
        recordings: "/nowhere".into(),
        voicemail: "/nowhere".into(),
        voicemail_limit: Duration::from_secs(60),
        trunk: Some("127.0.0.1:5090".parse().expect("an address")),
    };
    let calls = Calls::new(config, Box::new(CountingPorts(30000)), [0; 16], now, 1_800_000_000_000);
    SipCore::new(Registrar::new("wfm", HashMap::from([("1001".to_owned(), "pw".to_owned())]), [0; 16]), "fuzz").with_calls(calls)
}

fuzz_target!(|data: &[u8]| {
    let _ = frame_len(data);
    if let Ok(message) = Message::parse(data) {
        let again = Message::parse(&message.to_bytes()).expect("a written message parses");
        assert_eq!(again.start, message.start);
        assert_eq!(again.body, message.body);
    }
    let t0 = Instant::now();
    let mut core = endpoint(t0);
    let from = "127.0.0.1:5061".parse().expect("an address");
    let mut board = Switchboard::new(Some("demo"));
    board.add("demo", &["100".to_owned(), "200".to_owned()], "d1").expect("a first tenant");
    board.add("acme", &["300".to_owned()], "a1").expect("a second tenant");
    for (i, part) in data.split(|&b| b == 0).filter(|p| !p.is_empty()).take(8).enumerate() {
        let now = t0 + Duration::from_millis(700 * i as u64);
        if let Ok(message) = Message::parse(part)
            && let Route::Tenant(index) = board.route(&message, from, |tenant, _| tenant == 1, i, 6)
        {
            assert!(index < 2, "routed to tenant {index} of 2");
        }
        let mut fx = Effects::default();
        core.on_datagram(part, from, now, &mut fx);
        core.tick_calls(now, &mut fx);
        for out in fx.send {
            Message::parse(&out.bytes).expect("what the endpoint sends parses");
        }
    }
});
