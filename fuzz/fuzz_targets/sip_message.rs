#![no_main]
//! Any bytes as a datagram or stream data for the SIP endpoint: framing and parsing never
//! panic; a parsed message written back parses to the same message; the endpoint answers
//! (or drops) without panicking, and whatever it sends parses.

use libfuzzer_sys::fuzz_target;
use std::collections::HashMap;
use std::time::Instant;
use wfm_telephony::sip::core::SipCore;
use wfm_telephony::sip::message::{frame_len, Message};
use wfm_telephony::sip::registrar::Registrar;

fuzz_target!(|data: &[u8]| {
    let _ = frame_len(data);
    if let Ok(message) = Message::parse(data) {
        let again = Message::parse(&message.to_bytes()).expect("a written message parses");
        assert_eq!(again.start, message.start);
        assert_eq!(again.body, message.body);
    }
    let mut core = SipCore::new(Registrar::new("wfm", HashMap::from([("1001".to_owned(), "pw".to_owned())]), [0; 16]), "fuzz");
    let (out, _) = core.on_datagram(data, "127.0.0.1:5061".parse().expect("an address"), Instant::now());
    for datagram in out {
        Message::parse(&datagram.bytes).expect("what the endpoint sends parses");
    }
});
