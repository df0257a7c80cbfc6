//! The controller driven by hand-written SIP with a fake clock: the SIP a caller's and an
//! agent's phone would send, and the engine's actions as the engine would give them.

use super::*;
use crate::acd::Action;
use crate::sip::message::Message;

const CALLER: &str = "127.0.0.1:5080";
const PHONE: &str = "127.0.0.1:5071";

struct CountingPorts(u16);

impl Ports for CountingPorts {
    fn open(&mut self) -> Option<u16> {
        self.0 += 2;
        Some(self.0)
    }
}

const FLOW: &str = r#"
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
open = "queue:support"
closed = "queue:support"
force = "open"
priority = 5

[nodes.main]
kind = "menu"
prompt = "main-menu.wav"
timeout_s = 5
retries = 1
options = { "1" = "queue:support", "2" = "queue:billing" }
on_fail = "hangup"
"#;

struct Rig {
    calls: Calls,
    registrar: Registrar,
    t0: Instant,
    /// The calls' own ids by the Call-ID their callers chose.
    ids: HashMap<String, String>,
}

impl Rig {
    fn new(max_calls: usize) -> Self {
        let t0 = Instant::now();
        let config = Config {
            local: "127.0.0.1:5060".parse().unwrap(),
            media_ip: "127.0.0.1".parse().unwrap(),
            max_calls,
            flow: Flow::parse("flow.toml", FLOW).unwrap(),
            zone: TenantZone::utc(),
            agent_queues: HashMap::from([("1001".into(), vec!["support".into()]), ("1002".into(), vec!["support".into()])]),
            queues: HashSet::from(["support".into(), "billing".into()]),
            recorded_queues: HashSet::from(["support".into()]),
            recordings: PathBuf::from("/rec"),
            voicemail: PathBuf::from("/vm"),
            voicemail_limit: Duration::from_secs(60),
            trunk: Some("127.0.0.1:5090".parse().unwrap()),
        };
        let mut registrar = Registrar::new("wfm", HashMap::from([("1001".to_owned(), "pw".to_owned())]), [0; 16]);
        let far = t0 + Duration::from_secs(3600);
        registrar.bind("1001", "<sip:1001@127.0.0.1:5071>", PHONE.parse().unwrap(), far);
        registrar.bind("1002", "<sip:1002@127.0.0.1:5072>", "127.0.0.1:5072".parse().unwrap(), far);
        Self { calls: Calls::new(config, Box::new(CountingPorts(30000)), [9; 16], t0, 1_800_000_000_000), registrar, t0, ids: HashMap::new() }
    }

    fn at(&self, ms: u64) -> Instant {
        self.t0 + Duration::from_millis(ms)
    }

    fn request(&mut self, text: &str, from: &str, ms: u64) -> (Option<Message>, Effects) {
        let mut fx = Effects::default();
        let message = Message::parse(text.replace('\n', "\r\n").as_bytes()).unwrap();
        let response = self.calls.on_request(&message, from.parse().unwrap(), self.at(ms), &mut self.registrar, &mut fx);
        if let Some(call) = self.calls.dialogs.get(message.call_id()).and_then(|(key, _)| self.calls.calls.get(key)) {
            self.ids.entry(message.call_id().to_owned()).or_insert_with(|| call.id.clone());
        }
        (response, fx)
    }

    /// The suite's own id of the call whose caller chose the Call-ID `sip_call_id`.
    fn id(&self, sip_call_id: &str) -> String {
        self.ids.get(sip_call_id).unwrap_or_else(|| panic!("no call {sip_call_id}")).clone()
    }

    fn response(&mut self, text: &str, ms: u64) -> Effects {
        let mut fx = Effects::default();
        let message = Message::parse(text.replace('\n', "\r\n").as_bytes()).unwrap();
        assert!(self.calls.on_response(&message, self.at(ms), &mut fx), "the response matched a request");
        fx
    }

    fn action(&mut self, action: Action, ms: u64) -> Effects {
        let mut fx = Effects::default();
        self.calls.on_action(&action, self.at(ms), &self.registrar, &mut fx);
        fx
    }

    fn media(&mut self, event: MediaEvent, ms: u64) -> Effects {
        let mut fx = Effects::default();
        self.calls.on_media(&event, self.at(ms), &mut fx);
        fx
    }

    fn tick(&mut self, ms: u64) -> Effects {
        let mut fx = Effects::default();
        self.calls.tick(self.at(ms), &mut fx);
        fx
    }
}

const OFFER: &str = "v=0\no=c 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 6000 RTP/AVP 8 101\na=rtpmap:8 PCMA/8000\na=rtpmap:101 telephone-event/8000\n";

fn invite(number: &str, call_id: &str, from_user: &str, body: &str) -> String {
    let body = body.replace('\n', "\r\n");
    format!(
        "INVITE sip:{number}@127.0.0.1:5060 SIP/2.0\nVia: SIP/2.0/UDP {CALLER};branch=z9hG4bK-{call_id}\nFrom: <sip:{from_user}@127.0.0.1>;tag=caller\n\
         To: <sip:{number}@127.0.0.1>\nCall-ID: {call_id}\nCSeq: 1 INVITE\nContact: <sip:{from_user}@{CALLER}>\nMax-Forwards: 70\n\
         Content-Type: application/sdp\nContent-Length: {}\n\n{}",
        body.len(),
        body.replace("\r\n", "\n")
    )
}

/// A request in the caller's dialog (after the 200: `To` carries our tag).
fn in_caller_dialog(method: &str, call_id: &str, cseq: u32, to_tag: &str) -> String {
    format!(
        "{method} sip:200@127.0.0.1:5060 SIP/2.0\nVia: SIP/2.0/UDP {CALLER};branch=z9hG4bK-{call_id}-{cseq}\nFrom: <sip:555@127.0.0.1>;tag=caller\n\
         To: <sip:200@127.0.0.1>;tag={to_tag}\nCall-ID: {call_id}\nCSeq: {cseq} {method}\nMax-Forwards: 70\nContent-Length: 0\n\n"
    )
}

fn sent(fx: &Effects) -> Vec<Message> {
    fx.send.iter().map(|o| Message::parse(&o.bytes).unwrap()).collect()
}

fn request_named(messages: &[Message], method: Method) -> Message {
    messages.iter().find(|m| m.method() == Some(&method)).cloned().unwrap_or_else(|| panic!("no {method} in {messages:?}"))
}

fn tag(message: &Message, header: &str) -> String {
    param(message.header(header).unwrap(), "tag").unwrap().to_owned()
}

/// A response of the agent's phone to the request `to`.
fn phone_response(to: &Message, status: u16, with_sdp: bool) -> String {
    let mut text = format!("SIP/2.0 {status} X\n");
    for name in ["Via", "From", "Call-ID", "CSeq"] {
        text += &format!("{name}: {}\n", to.header(name).unwrap());
    }
    text += &format!("To: {};tag=phone\nContact: <sip:1001@{PHONE}>\n", to.header("To").unwrap());
    let body = if with_sdp { OFFER.replace("6000", "7000").replace('\n', "\r\n") } else { String::new() };
    text += &format!("Content-Length: {}\n\n{}", body.len(), body.replace("\r\n", "\n"));
    text
}

/// A request from the agent's phone in the agent leg's dialog.
fn from_phone(method: &str, leg_invite: &Message, cseq: u32, extra: &str, body: &str) -> String {
    let body = body.replace('\n', "\r\n");
    format!(
        "{method} sip:wfm@127.0.0.1:5060 SIP/2.0\nVia: SIP/2.0/UDP {PHONE};branch=z9hG4bK-phone-{cseq}\nFrom: {};tag=phone\nTo: {}\nCall-ID: {}\nCSeq: {cseq} {method}\n{extra}Max-Forwards: 70\nContent-Length: {}\n\n{}",
        leg_invite.header("To").unwrap(),
        leg_invite.header("From").unwrap(),
        leg_invite.call_id(),
        body.len(),
        body.replace("\r\n", "\n")
    )
}

/// A caller to 200 rung through to agent 1001, who answers; returns the agent leg's INVITE and
/// the tag the caller's dialog got.
fn connected(rig: &mut Rig) -> (Message, String) {
    let (ok, fx) = rig.request(&invite("200", "c1", "555", OFFER), CALLER, 0);
    let ok = ok.unwrap();
    assert_eq!(ok.status(), Some(200));
    assert!(fx.acd.contains(&AcdInput::Arrive { call: rig.id("c1"), queue: "support".into(), priority: 0, last_agent: None }));
    let fx = rig.action(Action::Ring { call: rig.id("c1"), agents: vec!["1001".into()] }, 100);
    assert_eq!(fx.send[0].to, PHONE.parse().unwrap());
    let leg = sent(&fx).remove(0);
    rig.response(&phone_response(&leg, 180, false), 150);
    let fx = rig.response(&phone_response(&leg, 200, true), 2100);
    assert_eq!(request_named(&sent(&fx), Method::Ack).cseq(), Some((1, Method::Ack)));
    assert_eq!(fx.acd, [AcdInput::Answered { call: rig.id("c1"), agent: "1001".into() }]);
    let fx = rig.action(Action::Connect { call: rig.id("c1"), agent: "1001".into(), waited: Duration::from_millis(2100) }, 2100);
    assert!(fx.media.iter().any(|(_, m)| matches!(m, MediaCommand::Open { side: Side::Agent, remote, .. } if remote.port() == 7000)));
    assert!(fx.media.iter().any(|(_, m)| *m == MediaCommand::Bridge));
    assert!(fx.media.iter().any(|(_, m)| *m == MediaCommand::Record { path: PathBuf::from(format!("/rec/{}.wav", rig.id("c1"))) }), "support is recorded");
    (leg, tag(&ok, "To"))
}

#[test]
fn an_update_refreshes_the_session_and_an_offer_in_it_is_refused() {
    let mut rig = Rig::new(1);
    let (_, caller_tag) = connected(&mut rig);
    let (refresh, _) = rig.request(&in_caller_dialog("UPDATE", "c1", 2, &caller_tag), CALLER, 3000);
    assert_eq!(refresh.unwrap().status(), Some(200), "a session refresh");
    let offer = in_caller_dialog("UPDATE", "c1", 3, &caller_tag).replace("Content-Length: 0\n\n", &format!("Content-Type: application/sdp\nContent-Length: {}\n\n{OFFER}", OFFER.len()));
    let (refused, _) = rig.request(&offer, CALLER, 3100);
    assert_eq!(refused.unwrap().status(), Some(488));
    let (outside, _) = rig.request(&in_caller_dialog("UPDATE", "nope", 2, &caller_tag), CALLER, 3200);
    assert_eq!(outside.unwrap().status(), Some(481), "outside any call");
}

#[test]
fn a_call_is_answered_bridged_and_recorded_and_the_agent_hangs_up() {
    let mut rig = Rig::new(10);
    let (ok, fx) = rig.request(&invite("200", "c1", "555", OFFER), CALLER, 0);
    let ok = ok.unwrap();
    let answer = Media::parse(&ok.body).unwrap();
    assert_eq!((answer.codecs, answer.telephone_event), (vec![Codec::Pcma], Some(101)), "the caller's first law, and digits");
    assert!(fx.media.iter().any(|(_, m)| matches!(m, MediaCommand::Open { side: Side::Caller, codec: Codec::Pcma, .. })));
    // The answer is resent until the ACK.
    assert!(rig.tick(600).send.iter().any(|o| o.retransmission && o.bytes == ok.to_bytes()));
    let to_tag = tag(&ok, "To");
    rig.request(&in_caller_dialog("ACK", "c1", 1, &to_tag), CALLER, 700);
    let fx = rig.action(Action::Ring { call: rig.id("c1"), agents: vec!["1001".into()] }, 1000);
    let leg = sent(&fx).remove(0);
    assert_eq!(leg.method(), Some(&Method::Invite));
    assert_eq!(leg.header("X-WFM-Queue"), Some("support"));
    assert!(Media::parse(&leg.body).unwrap().codecs == vec![Codec::Pcma], "the agent is offered the caller's law only");
    assert!(rig.tick(1600).send.iter().any(|o| o.retransmission && Message::parse(&o.bytes).unwrap().method() == Some(&Method::Invite)), "INVITE resent after T1");
    rig.response(&phone_response(&leg, 180, false), 1700);
    assert!(rig.tick(5000).send.is_empty(), "nothing resent once ringing");
    rig.response(&phone_response(&leg, 200, true), 4000);
    rig.action(Action::Connect { call: rig.id("c1"), agent: "1001".into(), waited: Duration::from_secs(3) }, 4000);
    let (bye_ok, fx) = rig.request(&from_phone("BYE", &leg, 2, "", ""), PHONE, 64_000);
    assert_eq!(bye_ok.unwrap().status(), Some(200));
    assert_eq!(fx.acd, [AcdInput::Ended { agent: "1001".into(), queue: "support".into() }]);
    let bye = request_named(&sent(&fx), Method::Bye);
    assert_eq!(fx.send[0].to, CALLER.parse().unwrap());
    assert_eq!(tag(&bye, "From"), to_tag, "the BYE is in the caller's dialog");
    let record = &fx.finished[0];
    assert_eq!((record.exit_reason.as_str(), record.agent.as_deref(), record.abandoned), ("answered", Some("1001"), false));
    assert_eq!((record.queued_ms, record.answered_ms, record.ended_ms), (Some(1_800_000_000_000), Some(1_800_000_004_000), 1_800_000_064_000));
    assert_eq!((record.ring_ms, record.talk_ms), (3000, 60_000));
    assert_eq!(record.recording, Some(format!("/rec/{}.wav", rig.id("c1"))));
    assert!(fx.media.iter().any(|(_, m)| *m == MediaCommand::End));
    assert_eq!(rig.calls.active(), 0);
}

#[test]
fn a_caller_who_hangs_up_while_an_agent_rings_abandons_and_the_phone_is_cancelled() {
    let mut rig = Rig::new(10);
    let (ok, _) = rig.request(&invite("200", "c1", "555", OFFER), CALLER, 0);
    let to_tag = tag(&ok.unwrap(), "To");
    let leg = sent(&rig.action(Action::Ring { call: rig.id("c1"), agents: vec!["1001".into()] }, 5000)).remove(0);
    rig.response(&phone_response(&leg, 180, false), 5100);
    let (_, fx) = rig.request(&in_caller_dialog("BYE", "c1", 2, &to_tag), CALLER, 9000);
    assert_eq!(fx.acd, [AcdInput::HungUp { call: rig.id("c1") }]);
    let cancel = request_named(&sent(&fx), Method::Cancel);
    assert_eq!((cancel.branch(), cancel.cseq()), (leg.branch(), Some((1, Method::Cancel))), "CANCEL matches the INVITE");
    let record = &fx.finished[0];
    assert_eq!((record.exit_reason.as_str(), record.abandoned, record.answered_ms), ("abandoned", true, None));
    assert_eq!(record.ring_ms, 4000);
    // The phone's 487 is acknowledged although the call is gone.
    let fx = rig.response(&phone_response(&leg, 487, false), 9100);
    let ack = request_named(&sent(&fx), Method::Ack);
    assert_eq!((ack.branch(), tag(&ack, "To").as_str()), (leg.branch(), "phone"));
}

#[test]
fn a_phone_that_refuses_is_declined_at_once_and_an_unregistered_agent_too() {
    let mut rig = Rig::new(10);
    rig.request(&invite("200", "c1", "555", OFFER), CALLER, 0);
    let leg = sent(&rig.action(Action::Ring { call: rig.id("c1"), agents: vec!["1001".into()] }, 100)).remove(0);
    let fx = rig.response(&phone_response(&leg, 486, false), 200);
    assert_eq!(fx.acd, [AcdInput::Declined { call: rig.id("c1"), agent: "1001".into() }]);
    assert_eq!(request_named(&sent(&fx), Method::Ack).branch(), leg.branch());
    let fx = rig.action(Action::Ring { call: rig.id("c1"), agents: vec!["1009".into()] }, 300);
    assert_eq!(fx.acd, [AcdInput::Declined { call: rig.id("c1"), agent: "1009".into() }]);
    assert!(fx.send.is_empty());
}

#[test]
fn the_ivr_menu_takes_a_digit_after_its_prompt_and_the_path_travels_with_the_call() {
    let mut rig = Rig::new(10);
    let (_, fx) = rig.request(&invite("100", "c1", "555", OFFER), CALLER, 0);
    assert!(fx.media.iter().any(|(_, m)| *m == MediaCommand::Play { prompts: vec!["main-menu.wav".into()], then: AfterPlay::Report }));
    assert!(fx.acd.is_empty());
    let key = fx.media[0].0;
    rig.media(MediaEvent::PromptsDone { call: key, play: 1 }, 7000);
    assert!(rig.tick(11_000).media.is_empty(), "the menu listens 5 s after its prompt");
    let fx = rig.media(MediaEvent::Digit { call: key, key: '2' }, 11_500);
    assert_eq!(fx.acd, [AcdInput::Arrive { call: rig.id("c1"), queue: "billing".into(), priority: 0, last_agent: None }]);
    let leg = sent(&rig.action(Action::Ring { call: rig.id("c1"), agents: vec!["1001".into()] }, 12_000)).remove(0);
    assert_eq!(leg.header("X-WFM-IVR"), Some("main [main=2]"));
}

#[test]
fn silence_in_the_menu_retries_then_fails_over() {
    let mut rig = Rig::new(10);
    let (_, fx) = rig.request(&invite("100", "c1", "555", OFFER), CALLER, 0);
    let key = fx.media[0].0;
    rig.media(MediaEvent::PromptsDone { call: key, play: 1 }, 7000);
    let fx = rig.tick(12_100);
    assert!(fx.media.iter().any(|(_, m)| matches!(m, MediaCommand::Play { prompts, .. } if prompts == &["main-menu.wav"])), "the prompt again");
    // A late report of the first prompt's end does not start the second's listening.
    rig.media(MediaEvent::PromptsDone { call: key, play: 1 }, 12_200);
    let fx = rig.tick(18_000);
    assert!(fx.media.is_empty() && !sent(&fx).iter().any(|m| m.method() == Some(&Method::Bye)), "still playing the second prompt");
    rig.media(MediaEvent::PromptsDone { call: key, play: 2 }, 19_000);
    let fx = rig.tick(24_100);
    assert_eq!(request_named(&sent(&fx), Method::Bye).call_id(), "c1", "on_fail = hangup");
    assert_eq!(fx.finished[0].exit_reason, "not_queued");
    assert_eq!(fx.finished[0].ivr_path.as_deref(), Some("main"));
}

#[test]
fn hold_and_resume_from_the_agent_play_music_and_count_hold_time() {
    let mut rig = Rig::new(10);
    let (leg, _) = connected(&mut rig);
    let held = OFFER.replace("a=rtpmap:101 telephone-event/8000\n", "a=rtpmap:101 telephone-event/8000\na=sendonly\n");
    let (ok, fx) = rig.request(&from_phone("INVITE", &leg, 2, "Content-Type: application/sdp\n", &held), PHONE, 10_000);
    let ok = ok.unwrap();
    assert_eq!(Media::parse(&ok.body).unwrap().direction, Direction::RecvOnly);
    assert!(fx.media.iter().any(|(_, m)| *m == MediaCommand::Unbridge));
    assert!(fx.media.iter().any(|(_, m)| *m == MediaCommand::Play { prompts: vec!["hold-music.wav".into()], then: AfterPlay::Loop }));
    let (ok, fx) = rig.request(&from_phone("INVITE", &leg, 3, "Content-Type: application/sdp\n", OFFER), PHONE, 25_000);
    assert_eq!(Media::parse(&ok.unwrap().body).unwrap().direction, Direction::SendRecv);
    assert!(fx.media.iter().any(|(_, m)| *m == MediaCommand::Bridge));
    let (_, fx) = rig.request(&from_phone("BYE", &leg, 4, "", ""), PHONE, 40_000);
    assert_eq!((fx.finished[0].hold_ms, fx.finished[0].talk_ms), (15_000, 40_000 - 2100 - 15_000));
}

#[test]
fn a_blind_transfer_to_another_agent_ends_one_record_and_queues_the_next() {
    let mut rig = Rig::new(10);
    let (leg, _) = connected(&mut rig);
    let (accepted, fx) = rig.request(&from_phone("REFER", &leg, 2, "Refer-To: <sip:1002@127.0.0.1:5060>\n", ""), PHONE, 30_000);
    assert_eq!(accepted.unwrap().status(), Some(202));
    let notify = request_named(&sent(&fx), Method::Notify);
    assert_eq!(String::from_utf8_lossy(&notify.body).trim(), "SIP/2.0 200 OK");
    assert_eq!(
        fx.acd,
        [AcdInput::Ended { agent: "1001".into(), queue: "support".into() }, AcdInput::Arrive { call: rig.id("c1") + "~2", queue: "support".into(), priority: 0, last_agent: Some("1002".into()) }]
    );
    assert_eq!((fx.finished[0].transfer_target.as_deref(), fx.finished[0].exit_reason.as_str()), (Some("1002"), "answered"));
    assert!(fx.media.iter().any(|(_, m)| *m == MediaCommand::Close { side: Side::Agent }));
    // The transferring phone hangs up its leg; the caller stays.
    let (ok, fx) = rig.request(&from_phone("BYE", &leg, 3, "", ""), PHONE, 31_000);
    assert_eq!(ok.unwrap().status(), Some(200));
    assert!(fx.send.is_empty() && fx.finished.is_empty());
    assert_eq!(rig.calls.active(), 1);
    // A transfer to nowhere is refused in the NOTIFY and changes nothing.
    let fx = rig.action(Action::Ring { call: rig.id("c1") + "~2", agents: vec!["1002".into()] }, 32_000);
    assert_eq!(fx.send[0].to, "127.0.0.1:5072".parse().unwrap());
}

#[test]
fn a_caller_number_is_escaped_before_it_reaches_the_agents_phone() {
    let mut rig = Rig::new(1);
    rig.request(&invite("200", "esc1", "a\"b c", OFFER), CALLER, 0);
    let fx = rig.action(Action::Ring { call: rig.id("esc1"), agents: vec!["1001".into()] }, 10);
    let leg = request_named(&sent(&fx), Method::Invite);
    assert!(leg.header("From").unwrap().starts_with("<sip:a%22b%20c@"), "{}", leg.header("From").unwrap());
}

#[test]
fn refusals_name_the_reason() {
    let mut rig = Rig::new(1);
    let status = |rig: &mut Rig, text: &str, from: &str| rig.request(text, from, 0).0.unwrap().status().unwrap();
    assert_eq!(status(&mut rig, &invite("999", "x1", "555", OFFER), CALLER), 404);
    assert_eq!(status(&mut rig, &invite("200", "x2", "555", &OFFER.replace("8 101", "18")), CALLER), 488);
    assert_eq!(status(&mut rig, &invite("*1", "x3", "1001", OFFER), "127.0.0.9:5071"), 403, "not from the agent's phone");
    assert_eq!(status(&mut rig, &invite("200", &"c".repeat(1025), "555", OFFER), CALLER), 400, "a Call-ID the records could not keep");
    assert_eq!(status(&mut rig, &invite("200", "x4", "555", OFFER), CALLER), 200);
    assert_eq!(status(&mut rig, &invite("200", "x5", "555", OFFER), CALLER), 503, "at capacity");
    assert_eq!(status(&mut rig, &in_caller_dialog("BYE", "nope", 2, "t"), CALLER), 481);
}

#[test]
fn feature_codes_set_the_agent_state_and_hang_up_after_the_tone() {
    let mut rig = Rig::new(10);
    // The phone proves its password, as it does to register.
    let (challenge, fx) = rig.request(&invite("*2", "f1", "1001", OFFER), PHONE, 0);
    let challenge = challenge.unwrap();
    assert_eq!(challenge.status(), Some(401));
    assert!(fx.acd.is_empty(), "nothing changes before the password is proven");
    let nonce = crate::sip::message::param(&format!(";{}", challenge.header("WWW-Authenticate").unwrap().trim_start_matches("Digest ").replace(", ", ";")), "nonce").unwrap().to_owned();
    let answer = |password: &str| {
        let response = crate::sip::digest::response("1001", "wfm", password, "INVITE", "sip:*2@127.0.0.1:5060", &nonce, Some(("auth", "00000001", "c")));
        let auth = format!("Authorization: Digest username=\"1001\", realm=\"wfm\", nonce=\"{nonce}\", uri=\"sip:*2@127.0.0.1:5060\", response=\"{response}\", qop=auth, nc=00000001, cnonce=\"c\"\n");
        invite("*2", "f1", "1001", OFFER).replace("Max-Forwards: 70\n", &format!("Max-Forwards: 70\n{auth}"))
    };
    let (wrong, _) = rig.request(&answer("guess").replace("branch=z9hG4bK-f1", "branch=z9hG4bK-f1w").replace("Call-ID: f1", "Call-ID: f1w"), PHONE, 1);
    assert_eq!(wrong.unwrap().status(), Some(403), "a wrong password");
    let (ok, fx) = rig.request(&answer("pw"), PHONE, 2);
    assert_eq!(ok.unwrap().status(), Some(200));
    assert_eq!(fx.acd, [AcdInput::State { agent: "1001".into(), state: AgentState::NotReady { reason: "phone".into() } }]);
    let key = fx.media[0].0;
    let fx = rig.media(MediaEvent::PromptsDone { call: key, play: 1 }, 400);
    assert_eq!(request_named(&sent(&fx), Method::Bye).call_id(), "f1");
    assert!(fx.finished.is_empty(), "a feature code is no call record");

    // Guessing the password by feature codes locks the account from that address, and says so
    // for the alarm, as guessing by REGISTER does.
    let guesses: Vec<Effects> = (0..5).map(|i| rig.request(&answer("guess").replace("Call-ID: f1", &format!("Call-ID: g{i}")).replace("branch=z9hG4bK-f1", &format!("branch=z9hG4bK-g{i}")), PHONE, 500 + i).1).collect();
    assert!(guesses[..4].iter().all(|fx| fx.locks.is_empty()));
    assert_eq!(guesses[4].locks, [("1001".to_owned(), crate::sip::guard::Locked::AccountFromSource)]);
}

#[test]
fn the_caller_is_hung_up_when_the_answer_is_never_acknowledged() {
    let mut rig = Rig::new(10);
    rig.request(&invite("200", "c1", "555", OFFER), CALLER, 0);
    let fx = rig.tick(TRANSACTION_TIMEOUT.as_millis() as u64 + 100);
    assert_eq!(request_named(&sent(&fx), Method::Bye).call_id(), "c1");
    assert_eq!(fx.acd, [AcdInput::HungUp { call: rig.id("c1") }], "the engine forgets the queued call");
}

#[test]
fn a_number_with_priority_queues_its_callers_ahead() {
    let mut rig = Rig::new(10);
    let (ok, fx) = rig.request(&invite("300", "vip", "555", OFFER), CALLER, 0);
    assert_eq!(fx.acd, [AcdInput::Arrive { call: rig.id("vip"), queue: "support".into(), priority: 5, last_agent: None }]);
    let (_, fx) = rig.request(&in_caller_dialog("BYE", "vip", 2, &tag(&ok.unwrap(), "To")), CALLER, 1000);
    assert_eq!(fx.finished[0].priority, 5);
}

#[test]
fn a_transfer_to_an_outside_number_goes_through_the_trunk_and_is_bridged_when_answered() {
    let mut rig = Rig::new(10);
    let (leg, _) = connected(&mut rig);
    let (accepted, fx) = rig.request(&from_phone("REFER", &leg, 2, "Refer-To: <sip:5551234@127.0.0.1:5060>\n", ""), PHONE, 30_000);
    assert_eq!(accepted.unwrap().status(), Some(202));
    assert_eq!(fx.acd, [AcdInput::Ended { agent: "1001".into(), queue: "support".into() }], "outside the queues");
    let out = request_named(&sent(&fx), Method::Invite);
    assert_eq!(out.start, StartLine::Request { method: Method::Invite, uri: "sip:5551234@127.0.0.1:5090".into() });
    assert!(fx.send.iter().any(|o| o.to == "127.0.0.1:5090".parse().unwrap()));
    assert_eq!(fx.finished[0].transfer_target.as_deref(), Some("5551234"));
    let mut answer = phone_response(&out, 200, true);
    answer = answer.replace(&format!("<sip:1001@{PHONE}>"), "<sip:5551234@127.0.0.1:5090>");
    let fx = rig.response(&answer, 31_000);
    assert!(fx.media.iter().any(|(_, m)| *m == MediaCommand::Bridge), "bridged without the engine");
    assert!(fx.acd.is_empty());
    // The far end hangs up: so does the caller's leg.
    let bye = format!(
        "BYE sip:wfm@127.0.0.1:5060 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bK-far\nFrom: {};tag=phone\nTo: {}\nCall-ID: {}\nCSeq: 1 BYE\nContent-Length: 0\n\n",
        out.header("To").unwrap(),
        out.header("From").unwrap(),
        out.call_id()
    );
    let (_, fx) = rig.request(&bye, "127.0.0.1:5090", 40_000);
    assert_eq!(request_named(&sent(&fx), Method::Bye).call_id(), "c1");
    assert_eq!(rig.calls.active(), 0);
}

#[test]
fn the_announcement_speaks_position_and_wait_then_music() {
    let names = |p: usize, s: u64| announcement(p, Duration::from_secs(s));
    assert_eq!(names(3, 150), ["queue.wav", "position.wav", "number-3.wav", "in-queue.wav", "wait.wav", "number-3.wav", "minutes.wav", "hold-music.wav"]);
    assert_eq!(names(1, 20)[4], "less-than-a-minute.wav");
    assert_eq!(names(25, 60)[2..7], ["more-than-twenty.wav", "in-queue.wav", "wait.wav", "number-1.wav", "minute.wav"]);
    assert_eq!(names(2, 1800)[4..], ["more-than-twenty-minutes.wav", "hold-music.wav"]);
    // Every prompt it names is shipped.
    let prompts = crate::media::audio::Prompts::shipped();
    for (p, s) in [(1, 0), (20, 1200), (21, 99_999), (7, 90)] {
        for name in names(p, s) {
            assert!(prompts.contains(&name), "{name} is not shipped");
        }
    }
}

#[test]
fn requests_from_outside_a_dialog_are_refused() {
    let mut rig = Rig::new(10);
    let (ok, _) = rig.request(&invite("200", "c1", "555", OFFER), CALLER, 0);
    let to_tag = tag(&ok.unwrap(), "To");
    let status = |rig: &mut Rig, text: &str, from: &str| rig.request(text, from, 100).0.unwrap().status().unwrap();
    assert_eq!(status(&mut rig, &in_caller_dialog("BYE", "c1", 2, "guessed"), CALLER), 481, "a wrong tag");
    assert_eq!(status(&mut rig, &in_caller_dialog("BYE", "c1", 2, &to_tag), "127.0.0.66:5080"), 481, "from elsewhere");
    assert_eq!(status(&mut rig, &invite("200", "c1", "666", OFFER), CALLER), 482, "a second INVITE with the Call-ID");
    assert_eq!(rig.calls.active(), 1);
    assert_eq!(status(&mut rig, &in_caller_dialog("BYE", "c1", 2, &to_tag), CALLER), 200);
    assert_eq!(rig.calls.active(), 0);
}

#[test]
fn the_caller_leaving_between_the_answer_and_the_connection_ends_the_agents_call() {
    let mut rig = Rig::new(10);
    let (ok, _) = rig.request(&invite("200", "c1", "555", OFFER), CALLER, 0);
    let to_tag = tag(&ok.unwrap(), "To");
    let leg = sent(&rig.action(Action::Ring { call: rig.id("c1"), agents: vec!["1001".into()] }, 100)).remove(0);
    rig.response(&phone_response(&leg, 200, true), 500);
    // The engine has the agent on the call; its Connect has not come yet.
    let (_, fx) = rig.request(&in_caller_dialog("BYE", "c1", 2, &to_tag), CALLER, 600);
    assert!(fx.acd.contains(&AcdInput::Ended { agent: "1001".into(), queue: "support".into() }), "{:?}", fx.acd);
    assert_eq!(request_named(&sent(&fx), Method::Bye).call_id(), leg.call_id());
    assert!(rig.action(Action::Connect { call: rig.id("c1"), agent: "1001".into(), waited: Duration::ZERO }, 700).send.is_empty());
}

#[test]
fn a_silent_leg_ends_the_call() {
    let mut rig = Rig::new(10);
    let (leg, _) = connected(&mut rig);
    let key = *rig.calls.calls.keys().next().unwrap();
    let fx = rig.media(MediaEvent::Silent { call: key, side: Side::Agent }, 70_000);
    let byes: Vec<String> = sent(&fx).iter().filter(|m| m.method() == Some(&Method::Bye)).map(|m| m.call_id().to_owned()).collect();
    assert_eq!(byes, [leg.call_id().to_owned(), "c1".to_owned()], "both legs hung up");
    assert_eq!(fx.acd, [AcdInput::Ended { agent: "1001".into(), queue: "support".into() }]);
    assert_eq!(fx.finished[0].exit_reason, "answered");
    assert_eq!(rig.calls.active(), 0);
}

#[test]
fn a_caller_who_calls_again_is_routed_to_their_last_agent() {
    let mut rig = Rig::new(10);
    let (leg, _) = connected(&mut rig);
    rig.request(&from_phone("BYE", &leg, 2, "", ""), PHONE, 10_000);
    let (_, fx) = rig.request(&invite("200", "c2", "555", OFFER), CALLER, 20_000);
    assert_eq!(fx.acd, [AcdInput::Arrive { call: rig.id("c2"), queue: "support".into(), priority: 0, last_agent: Some("1001".into()) }]);
    let (_, fx) = rig.request(&invite("200", "c3", "777", OFFER), CALLER, 20_000);
    assert_eq!(fx.acd, [AcdInput::Arrive { call: rig.id("c3"), queue: "support".into(), priority: 0, last_agent: None }], "a new caller");
}

#[test]
fn a_reused_or_long_call_id_gets_a_record_of_its_own_keeping_the_callers_id() {
    let mut rig = Rig::new(10);
    let long = "x".repeat(600);
    let mut records = Vec::new();
    for (at, sip) in [(0, "same"), (10_000, "same"), (20_000, long.as_str())] {
        let (ok, _) = rig.request(&invite("200", sip, "555", OFFER), CALLER, at);
        let ok = ok.unwrap();
        assert_eq!(ok.status(), Some(200), "{sip:.20}");
        let (_, fx) = rig.request(&in_caller_dialog("BYE", sip, 2, &tag(&ok, "To")), CALLER, at + 1000);
        records.extend(fx.finished);
    }
    let ids: HashSet<&str> = records.iter().map(|r| r.call_id.as_str()).collect();
    assert_eq!(ids.len(), 3, "three calls, three records: {ids:?}");
    let sip: Vec<&str> = records.iter().map(|r| r.sip_call_id.as_deref().unwrap()).collect();
    assert_eq!(sip, ["same", "same", long.as_str()], "the caller's Call-ID kept as it came");
    for r in &records {
        r.to_record().unwrap_or_else(|e| panic!("{e}: the store takes it"));
    }
}

fn with_record_route(request: &str, record_route: &str) -> String {
    request.replacen("Max-Forwards: 70\n", &format!("Max-Forwards: 70\n{record_route}"), 1)
}

fn routes(message: &Message) -> Vec<&str> {
    message.headers_named("Route").collect()
}

fn request_uri(message: &Message) -> &str {
    match &message.start {
        StartLine::Request { uri, .. } => uri,
        StartLine::Response { .. } => panic!("a response"),
    }
}

#[test]
fn proxies_that_record_routes_stay_on_both_dialogs() {
    let mut rig = Rig::new(1);
    // Two proxies before the caller's INVITE reached us, in two lines and one.
    let caller_routes = "Record-Route: <sip:10.0.0.1;lr>, \"edge, west\" <sip:10.0.0.2;lr;transport=udp>\nRecord-Route: <sip:10.0.0.3;lr>\n";
    let (ok, _) = rig.request(&with_record_route(&invite("200", "c1", "555", OFFER), caller_routes), CALLER, 0);
    let ok = ok.unwrap();
    assert_eq!(ok.headers_named("Record-Route").collect::<Vec<_>>(), ["<sip:10.0.0.1;lr>, \"edge, west\" <sip:10.0.0.2;lr;transport=udp>", "<sip:10.0.0.3;lr>"], "copied into the 200");
    let fx = rig.action(Action::Ring { call: rig.id("c1"), agents: vec!["1001".into()] }, 100);
    let leg = sent(&fx).remove(0);
    assert!(routes(&leg).is_empty(), "the agent's INVITE goes where the phone registered from");
    // The agent's phone is behind one proxy that records two routes (its two interfaces).
    let answer = phone_response(&leg, 200, true).replacen("Content-Length", "Record-Route: <sip:10.1.0.1;lr>, <sip:10.1.0.2;lr>\nContent-Length", 1);
    let fx = rig.response(&answer, 2100);
    let ack = request_named(&sent(&fx), Method::Ack);
    assert_eq!(routes(&ack), ["<sip:10.1.0.2;lr>", "<sip:10.1.0.1;lr>"], "the agent's route set, reversed");
    assert_eq!(request_uri(&ack), format!("sip:1001@{PHONE}"), "loose routing: the URI is the remote target");
    rig.action(Action::Connect { call: rig.id("c1"), agent: "1001".into(), waited: Duration::from_millis(2100) }, 2100);

    // The caller hangs up: the BYE to the agent takes the agent's route set.
    let (_, fx) = rig.request(&in_caller_dialog("BYE", "c1", 2, &tag(&ok, "To")), CALLER, 5000);
    let bye = request_named(&sent(&fx), Method::Bye);
    assert_eq!(routes(&bye), ["<sip:10.1.0.2;lr>", "<sip:10.1.0.1;lr>"]);

    // Another call, the agent hangs up: the BYE to the caller takes the caller's, in order.
    let mut rig = Rig::new(1);
    let (ok, _) = rig.request(&with_record_route(&invite("200", "c2", "555", OFFER), caller_routes), CALLER, 0);
    let caller_tag = tag(&ok.unwrap(), "To");
    let fx = rig.action(Action::Ring { call: rig.id("c2"), agents: vec!["1001".into()] }, 100);
    let leg = sent(&fx).remove(0);
    rig.response(&phone_response(&leg, 200, true), 2100);
    rig.action(Action::Connect { call: rig.id("c2"), agent: "1001".into(), waited: Duration::from_millis(2100) }, 2100);
    let (_, fx) = rig.request(&from_phone("BYE", &leg, 2, "", ""), PHONE, 5000);
    let bye = request_named(&sent(&fx), Method::Bye);
    assert_eq!(tag(&bye, "From"), caller_tag);
    assert_eq!(routes(&bye), ["<sip:10.0.0.1;lr>", "\"edge, west\" <sip:10.0.0.2;lr;transport=udp>", "<sip:10.0.0.3;lr>"]);
    assert_eq!(request_uri(&bye), format!("sip:555@{CALLER}"));
}

#[test]
fn a_strict_routing_proxy_gets_its_own_uri_and_the_target_goes_last() {
    let mut rig = Rig::new(1);
    let (ok, _) = rig.request(&with_record_route(&invite("200", "c1", "555", OFFER), "Record-Route: <sip:10.0.0.9>\nRecord-Route: <sip:10.0.0.8;lr>\n"), CALLER, 0);
    let caller_tag = tag(&ok.unwrap(), "To");
    let fx = rig.action(Action::Ring { call: rig.id("c1"), agents: vec!["1001".into()] }, 100);
    let leg = sent(&fx).remove(0);
    rig.response(&phone_response(&leg, 200, true), 2100);
    rig.action(Action::Connect { call: rig.id("c1"), agent: "1001".into(), waited: Duration::from_millis(2100) }, 2100);
    let (_, fx) = rig.request(&from_phone("BYE", &leg, 2, "", ""), PHONE, 5000);
    let bye = request_named(&sent(&fx), Method::Bye);
    assert_eq!(tag(&bye, "From"), caller_tag);
    assert_eq!(request_uri(&bye), "sip:10.0.0.9");
    assert_eq!(routes(&bye), ["<sip:10.0.0.8;lr>".to_owned(), format!("<sip:555@{CALLER}>")]);
}
