use super::*;

fn s(secs: u64) -> Duration {
    Duration::from_secs(secs)
}

fn queue(id: &str, strategy: Strategy) -> QueueConfig {
    QueueConfig {
        id: id.into(),
        strategy,
        ring_timeout: s(15),
        wrap_up: s(10),
        max_wait: Some(s(300)),
        max_length: Some(3),
        overflow: Target::Voicemail,
        when_nobody: Target::Busy,
        record: false,
    }
}

/// An engine with one queue `q` and agents a, b, c ready at 0, 1 and 2 s (a idle longest).
fn engine(strategy: Strategy) -> Engine {
    let mut e = Engine::new(vec![queue("q", strategy), queue("other", Strategy::LongestIdle)], Some(1), 7);
    for (i, id) in ["a", "b", "c"].iter().enumerate() {
        e.add_agent(id, &[("q", 1)]);
        e.request_state(id, AgentState::Ready, s(i as u64)).unwrap();
    }
    e
}

fn rung(actions: &[Action]) -> Vec<AgentId> {
    actions.iter().find_map(|a| if let Action::Ring { agents, .. } = a { Some(agents.clone()) } else { None }).unwrap_or_default()
}

/// Rings the call in, answers with whoever rang first, ends it after `talk`.
fn serve(e: &mut Engine, call: &str, at: u64, talk: u64) -> AgentId {
    let agent = rung(&e.call_arrives(call, "q", 0, None, s(at)).unwrap())[0].clone();
    e.answered(call, &agent, s(at)).unwrap();
    e.call_ended(&agent, "q", s(at + talk)).unwrap();
    e.tick(s(at + talk + 10));
    agent
}

#[test]
fn longest_idle_rings_first_and_the_answer_connects() {
    let mut e = engine(Strategy::LongestIdle);
    let out = e.call_arrives("c1", "q", 0, None, s(10)).unwrap();
    assert_eq!(rung(&out), ["a"]);
    assert_eq!(e.state("a"), Some(&AgentState::Ringing { call: "c1".into() }));
    let out = e.answered("c1", "a", s(14)).unwrap();
    assert!(out.contains(&Action::Connect { call: "c1".into(), agent: "a".into(), waited: s(4) }));
    assert_eq!(e.state("a"), Some(&AgentState::OnCall { call: "c1".into() }));
    // After the call and its wrap-up, a is the most recently idle: b is next.
    e.call_ended("a", "q", s(100)).unwrap();
    assert_eq!(e.state("a"), Some(&AgentState::WrapUp));
    e.tick(s(110));
    assert_eq!(e.state("a"), Some(&AgentState::Ready));
    assert_eq!(rung(&e.call_arrives("c2", "q", 0, None, s(120)).unwrap()), ["b"]);
}

#[test]
fn a_skill_added_live_offers_the_waiting_call_at_once_and_can_be_taken_back() {
    let mut e = engine(Strategy::LongestIdle);
    // c, the only one skilled for `other`, is on a break: the call waits.
    e.request_state("c", AgentState::NotReady { reason: "break".into() }, s(3)).unwrap();
    assert!(rung(&e.set_skill("c", "other", Some(1), s(4)).unwrap()).is_empty());
    assert!(rung(&e.call_arrives("o1", "other", 0, None, s(10)).unwrap()).is_empty());
    assert_eq!(e.waiting("other"), ["o1"]);
    assert_eq!(rung(&e.set_skill("a", "other", Some(1), s(20)).unwrap()), ["a"]);
    assert_eq!(e.agent_queues("a"), ["other", "q"]);
    e.set_skill("a", "other", None, s(30)).unwrap();
    assert_eq!(e.agent_queues("a"), ["q"]);
    assert!(matches!(e.set_skill("a", "nowhere", Some(1), s(30)), Err(AcdError::UnknownQueue(_))));
    assert!(matches!(e.set_skill("z", "q", Some(1), s(30)), Err(AcdError::UnknownAgent(_))));
}

#[test]
fn ring_all_stops_the_others_when_one_answers() {
    let mut e = engine(Strategy::RingAll);
    assert_eq!(rung(&e.call_arrives("c1", "q", 0, None, s(10)).unwrap()), ["a", "b", "c"]);
    let out = e.answered("c1", "b", s(12)).unwrap();
    assert!(out.contains(&Action::StopRinging { call: "c1".into(), agents: vec!["a".into(), "c".into()] }));
    assert_eq!((e.state("a"), e.state("c")), (Some(&AgentState::Ready), Some(&AgentState::Ready)));
}

#[test]
fn round_robin_remembers_where_it_stopped() {
    let mut e = engine(Strategy::RoundRobin);
    let served: Vec<AgentId> = (0..4).map(|i| serve(&mut e, &format!("c{i}"), 100 * (i + 1), 20)).collect();
    assert_eq!(served, ["a", "b", "c", "a"]);
}

#[test]
fn fewest_calls_least_talk_and_skill_level() {
    let mut e = engine(Strategy::FewestCalls);
    let first = serve(&mut e, "c1", 100, 20);
    assert_ne!(serve(&mut e, "c2", 200, 20), first, "the agent with a call already waits");
    let mut e = engine(Strategy::LeastTalkTime);
    let long = serve(&mut e, "c1", 100, 600);
    let short = serve(&mut e, "c2", 800, 10);
    let third = serve(&mut e, "c3", 900, 10);
    assert!(third != long && third != short, "the agent who has not talked yet");
    let mut e = Engine::new(vec![queue("q", Strategy::SkillLevel)], None, 1);
    e.add_agent("junior", &[("q", 1)]);
    e.add_agent("senior", &[("q", 5)]);
    e.request_state("junior", AgentState::Ready, s(0)).unwrap();
    e.request_state("senior", AgentState::Ready, s(50)).unwrap();
    assert_eq!(rung(&e.call_arrives("c1", "q", 0, None, s(60)).unwrap()), ["senior"], "level before idle time");
}

#[test]
fn random_spreads_calls_reproducibly() {
    let picks = |seed| {
        let mut e = Engine::new(vec![queue("q", Strategy::Random)], None, seed);
        for id in ["a", "b", "c", "d"] {
            e.add_agent(id, &[("q", 1)]);
            e.request_state(id, AgentState::Ready, s(0)).unwrap();
        }
        (0..40).map(|i| serve(&mut e, &format!("c{i}"), 100 * (i + 1), 5)).collect::<Vec<_>>()
    };
    let run = picks(3);
    assert_eq!(run, picks(3), "the same seed, the same choices");
    assert_eq!(run.iter().collect::<HashSet<_>>().len(), 4, "every agent gets calls");
}

#[test]
fn priority_then_arrival_and_last_agent_routing() {
    let mut e = engine(Strategy::LongestIdle);
    for id in ["a", "b", "c"] {
        e.request_state(id, AgentState::NotReady { reason: "training".into() }, s(5)).unwrap();
    }
    e.call_arrives("early", "q", 0, None, s(10)).unwrap();
    let out = e.call_arrives("vip", "q", 2, None, s(11)).unwrap();
    assert!(out.contains(&Action::Announce { call: "vip".into(), position: 1, expected_wait: s(180) }), "{out:?}");
    assert_eq!(e.waiting("q"), ["vip", "early"]);
    assert_eq!(rung(&e.request_state("c", AgentState::Ready, s(20)).unwrap()), ["c"]);
    assert!(e.state("c") == Some(&AgentState::Ringing { call: "vip".into() }));
    // A caller who spoke to b last time gets b, though a has been idle longer.
    e.request_state("a", AgentState::Ready, s(21)).unwrap();
    e.request_state("b", AgentState::Ready, s(22)).unwrap();
    e.answered("vip", "c", s(23)).unwrap();
    e.caller_hung_up("early", s(24)).ok();
    assert_eq!(rung(&e.call_arrives("again", "q", 0, Some("b"), s(30)).unwrap()), ["b"]);
}

#[test]
fn no_answer_sends_the_call_on_and_the_agent_not_ready() {
    let mut e = engine(Strategy::LongestIdle);
    e.call_arrives("c1", "q", 0, None, s(10)).unwrap();
    let out = e.tick(s(25));
    assert!(out.contains(&Action::StopRinging { call: "c1".into(), agents: vec!["a".into()] }));
    assert_eq!(e.state("a"), Some(&AgentState::NotReady { reason: "no answer".into() }));
    assert_eq!(rung(&out), ["b"]);
}

#[test]
fn a_lone_agent_is_rung_again_after_letting_it_ring_out() {
    let mut e = Engine::new(vec![queue("q", Strategy::LongestIdle)], None, 1);
    e.add_agent("a", &[("q", 1)]);
    e.request_state("a", AgentState::Ready, s(0)).unwrap();
    e.call_arrives("c1", "q", 0, None, s(1)).unwrap();
    e.tick(s(16));
    assert_eq!(rung(&e.request_state("a", AgentState::Ready, s(30)).unwrap()), ["a"], "nobody else could take it");
}

#[test]
fn overflow_on_wait_length_and_nobody_and_abandonment() {
    let mut e = engine(Strategy::LongestIdle);
    for id in ["a", "b", "c"] {
        e.request_state(id, AgentState::NotReady { reason: "meeting".into() }, s(1)).unwrap();
    }
    for i in 0..3 {
        e.call_arrives(&format!("c{i}"), "q", 0, None, s(10 + i)).unwrap();
    }
    let out = e.call_arrives("c3", "q", 0, None, s(13)).unwrap();
    assert_eq!(out, [Action::Overflow { call: "c3".into(), from: "q".into(), to: Target::Voicemail, why: OverflowReason::MaxLength, waited: s(0) }], "max length 3");
    let out = e.caller_hung_up("c1", s(40)).unwrap();
    assert!(out.contains(&Action::Abandoned { call: "c1".into(), queue: "q".into(), waited: s(29) }));
    let out = e.tick(s(310));
    assert!(out.contains(&Action::Overflow { call: "c0".into(), from: "q".into(), to: Target::Voicemail, why: OverflowReason::MaxWait, waited: s(300) }), "{out:?}");
    assert!(!out.iter().any(|a| matches!(a, Action::Overflow { call, .. } if call == "c2")), "c2 has waited 298 s");
    let out = e.call_arrives("x", "other", 0, None, s(320)).unwrap();
    assert_eq!(out, [Action::Overflow { call: "x".into(), from: "other".into(), to: Target::Busy, why: OverflowReason::NobodyLoggedIn, waited: s(0) }], "nobody logged in");
}

#[test]
fn breaks_are_capped_and_busy_agents_keep_their_state() {
    let mut e = engine(Strategy::LongestIdle);
    e.request_state("a", AgentState::NotReady { reason: "break".into() }, s(5)).unwrap();
    assert_eq!(e.request_state("b", AgentState::NotReady { reason: "lunch".into() }, s(6)), Err(AcdError::BreakLimit { on_break: 1, max: 1 }));
    e.request_state("b", AgentState::NotReady { reason: "coaching".into() }, s(6)).unwrap();
    e.call_arrives("c1", "q", 0, None, s(10)).unwrap();
    assert!(matches!(e.request_state("c", AgentState::LoggedOut, s(11)), Err(AcdError::Busy { .. })), "c is ringing");
    assert!(matches!(e.request_state("c", AgentState::WrapUp, s(11)), Err(AcdError::Busy { .. })));
    assert_eq!(e.request_state("zz", AgentState::Ready, s(11)), Err(AcdError::UnknownAgent("zz".into())));
}

proptest::proptest! {
    /// Any sequence of inputs: no panic, an agent rings for at most one call, only ready and
    /// skilled agents are rung, and every call is in one place (waiting, ringing or gone).
    #[test]
    fn any_sequence_keeps_the_invariants(steps in proptest::collection::vec((0u8..7, 0usize..4, 0usize..6, 0u8..3), 1..120), strategy in 0usize..7) {
        let strategies = [Strategy::LongestIdle, Strategy::RingAll, Strategy::RoundRobin, Strategy::FewestCalls, Strategy::LeastTalkTime, Strategy::Random, Strategy::SkillLevel];
        let mut e = Engine::new(vec![queue("q", strategies[strategy]), queue("r", Strategy::LongestIdle)], Some(1), 11);
        let agents = ["a", "b", "c", "d"];
        for (i, id) in agents.iter().enumerate() {
            e.add_agent(id, if i % 2 == 0 { &[("q", 1), ("r", 2)] } else { &[("q", 3)] });
        }
        let mut now = Duration::ZERO;
        for (kind, agent, call, extra) in steps {
            now += s(u64::from(extra) * 7);
            let (agent, call) = (agents[agent], format!("c{call}"));
            let queue = if extra == 2 { "r" } else { "q" };
            let out = match kind {
                0 => e.request_state(agent, [AgentState::Ready, AgentState::NotReady { reason: "break".into() }, AgentState::LoggedOut][usize::from(extra)].clone(), now),
                1 if !e.calls.contains_key(&call) => e.call_arrives(&call, queue, extra, Some(agent), now),
                2 => e.caller_hung_up(&call, now),
                3 => e.answered(&call, agent, now),
                4 => e.call_ended(agent, queue, now),
                _ => Ok(e.tick(now)),
            };
            for action in out.unwrap_or_default() {
                if let Action::Ring { agents: rung, .. } = action {
                    proptest::prop_assert!(!rung.is_empty());
                }
            }
            let mut ringing: HashMap<&str, &str> = HashMap::new();
            for (id, c) in &e.calls {
                for a in &c.ringing {
                    proptest::prop_assert!(ringing.insert(a.as_str(), id.as_str()).is_none(), "{} rings twice", a);
                    proptest::prop_assert_eq!(&e.agents[a].state, &AgentState::Ringing { call: id.clone() });
                    proptest::prop_assert!(e.agents[a].skills.contains_key(&c.queue));
                }
            }
            for (id, a) in &e.agents {
                if let AgentState::Ringing { call } = &a.state {
                    proptest::prop_assert_eq!(ringing.get(id.as_str()).copied(), Some(call.as_str()));
                }
            }
        }
    }
}

#[test]
fn a_declined_ring_moves_on_at_once() {
    let mut e = engine(Strategy::LongestIdle);
    assert_eq!(rung(&e.call_arrives("c", "q", 0, None, s(10)).unwrap()), ["a"]);
    let out = e.declined("c", "a", s(11)).unwrap();
    assert!(out.contains(&Action::StateChanged { agent: "a".into(), state: AgentState::NotReady { reason: "no answer".into() } }));
    assert_eq!(rung(&out), ["b"], "the next agent rings without waiting for the timeout");
    assert!(e.declined("c", "a", s(12)).is_err(), "a is not ringing any more");
    assert_eq!(e.queue_of("c"), Some("q"));
}
