use super::*;
use chrono::NaiveDate;

fn at(day: u32, hour: u32) -> NaiveDateTime {
    // 2026-11-23 is a Monday.
    NaiveDate::from_ymd_opt(2026, 11, day).unwrap().and_hms_opt(hour, 0, 0).unwrap()
}

fn s(secs: u64) -> Duration {
    Duration::from_secs(secs)
}

const FLOW: &str = r#"
[hours]
days = ["mon", "tue", "wed", "thu", "fri"]
from = "08:00"
to = "20:00"

[[numbers]]
number = "100"
open = "main"
closed = "after-hours"

[[numbers]]
number = "300"
open = "queue:support"
closed = "queue:support"
force = "closed"

[nodes.main]
kind = "menu"
prompt = "main.wav"
timeout_s = 5
retries = 1
options = { "1" = "queue:support", "2" = "account", "9" = "hangup" }
on_fail = "queue:support"

[nodes.account]
kind = "collect"
prompt = "account.wav"
max_digits = 4
timeout_s = 3
next = "queue:billing"

[nodes.after-hours]
kind = "play"
prompt = "closed.wav"
next = "voicemail"
"#;

fn flow() -> Flow {
    Flow::parse("ivr.toml", FLOW).unwrap()
}

#[test]
fn the_number_and_the_clock_choose_where_a_call_starts() {
    let f = flow();
    let (_, step) = f.start("100", at(23, 9), s(0)).unwrap();
    assert_eq!(step, Step::Play { prompt: "main.wav".into(), listen_until: Some(s(5)) });
    let (mut closed, step) = f.start("100", at(22, 9), s(0)).unwrap();
    assert_eq!(step, Step::Play { prompt: "closed.wav".into(), listen_until: None }, "Sunday");
    assert_eq!(f.prompt_finished(&mut closed, s(4)), Step::Done(Target::Voicemail));
    assert_eq!(closed.path, ["after-hours"]);
    assert_eq!(f.start("100", at(23, 20), s(0)).unwrap().1, Step::Play { prompt: "closed.wav".into(), listen_until: None }, "20:00 is closed");
    assert_eq!(f.start("300", at(23, 9), s(0)).unwrap().1, Step::Done(Target::Queue("support".into())), "forced");
    assert_eq!(f.start("555", at(23, 9), s(0)).unwrap_err(), IvrError::UnknownNumber("555".into()));
}

#[test]
fn menus_take_a_digit_retry_and_fail_over() {
    let f = flow();
    let (mut call, _) = f.start("100", at(23, 9), s(0)).unwrap();
    assert_eq!(f.key(&mut call, '1', s(2)), Some(Step::Done(Target::Queue("support".into()))));
    assert_eq!((call.path.clone(), call.entered.clone()), (vec!["main".to_owned()], vec!["main=1".to_owned()]));
    // A wrong key replays the menu (one retry), silence then fails over.
    let (mut call, _) = f.start("100", at(23, 9), s(0)).unwrap();
    assert_eq!(f.key(&mut call, '7', s(1)), Some(Step::Play { prompt: "main.wav".into(), listen_until: Some(s(6)) }));
    assert_eq!(f.timeout(&mut call, s(6)), Step::Done(Target::Queue("support".into())));
    let (mut call, _) = f.start("100", at(23, 9), s(0)).unwrap();
    assert_eq!(f.key(&mut call, '9', s(1)), Some(Step::Done(Target::Hangup)));
}

#[test]
fn collecting_digits_with_star_hash_and_silence() {
    let f = flow();
    let (mut call, _) = f.start("100", at(23, 9), s(0)).unwrap();
    assert_eq!(f.key(&mut call, '2', s(1)), Some(Step::Play { prompt: "account.wav".into(), listen_until: Some(s(4)) }));
    assert_eq!(f.key(&mut call, '5', s(2)), Some(Step::Listen { until: s(5) }));
    f.key(&mut call, '*', s(3));
    f.key(&mut call, '4', s(3));
    f.key(&mut call, '2', s(3));
    assert_eq!(f.key(&mut call, '#', s(4)), Some(Step::Done(Target::Queue("billing".into()))));
    assert_eq!(call.entered, ["main=2", "account=42"]);
    assert_eq!(call.path, ["main", "account"]);
    // Four digits end it at once; silence ends it too.
    let (mut call, _) = f.start("100", at(23, 9), s(0)).unwrap();
    f.key(&mut call, '2', s(1));
    for d in ['1', '2', '3'] {
        f.key(&mut call, d, s(2));
    }
    assert_eq!(f.key(&mut call, '4', s(2)), Some(Step::Done(Target::Queue("billing".into()))));
    let (mut call, _) = f.start("100", at(23, 9), s(0)).unwrap();
    f.key(&mut call, '2', s(1));
    f.key(&mut call, '8', s(2));
    assert_eq!(f.timeout(&mut call, s(5)), Step::Done(Target::Queue("billing".into())));
    assert_eq!(call.entered, ["main=2", "account=8"]);
}

#[test]
fn bad_flows_name_the_key() {
    let cases = [
        (FLOW.replace("next = \"voicemail\"", "next = \"nowhere\""), "`nodes.after-hours.next`"),
        (FLOW.replace("kind = \"play\"", "kind = \"dance\""), "`nodes.after-hours.kind`"),
        (FLOW.replace("\"9\" = \"hangup\"", "\"99\" = \"hangup\""), "`nodes.main.options`"),
        (FLOW.replace("from = \"08:00\"", "from = \"8 am\""), "`hours.from`"),
        (FLOW.replace("force = \"closed\"", "force = \"maybe\""), "`numbers[1].force`"),
        (FLOW.replace("number = \"300\"", "number = \"100\""), "`numbers[1].number`"),
        (FLOW.replace("open = \"queue:support\"", "open = \"queue:\""), "`numbers[1].open`"),
    ];
    for (text, expected) in cases {
        let e = Flow::parse("ivr.toml", &text).unwrap_err().to_string();
        assert!(e.starts_with(&format!("ivr.toml: {expected}")), "{e}");
    }
    assert!(Flow::parse("ivr.toml", &format!("{FLOW}\nshoe_size = 9\n")).unwrap_err().to_string().contains("shoe_size"));
}

#[test]
fn the_demo_flow_offers_support_and_billing() {
    let f = Flow::demo();
    let (mut call, _) = f.start("100", at(23, 10), s(0)).unwrap();
    assert_eq!(f.key(&mut call, '2', s(1)), Some(Step::Done(Target::Queue("billing".into()))));
    assert_eq!(f.start("200", at(23, 10), s(0)).unwrap().1, Step::Done(Target::Queue("support".into())));
}

proptest::proptest! {
    #[test]
    fn any_keys_and_timeouts_end_somewhere_without_panic(keys in proptest::collection::vec(proptest::prelude::any::<char>(), 0..40), hour in 0u32..24) {
        let f = flow();
        let (mut call, mut step) = f.start("100", at(23, hour), s(0)).unwrap();
        for (i, k) in keys.into_iter().enumerate() {
            if matches!(step, Step::Done(_)) { break; }
            step = f.key(&mut call, k, s(i as u64)).unwrap_or(step);
        }
        // Silence ends every flow within a bounded number of timeouts.
        for i in 0..20 {
            if matches!(step, Step::Done(_)) { break; }
            step = f.timeout(&mut call, s(100 + i));
        }
        proptest::prop_assert!(matches!(step, Step::Done(_)), "{:?}", step);
    }
}
