//! The caller's side: a new call refused or answered, then walked through the IVR to a queue,
//! voicemail or a closing prompt.

use super::*;

impl Calls {
    pub(super) fn new_call(&mut self, request: &Message, from: SocketAddr, now: Instant, registrar: &mut Registrar, fx: &mut Effects) -> Message {
        if self.calls.len() >= self.config.max_calls {
            return Self::refuse(request, 503, "Service Unavailable (at capacity)", fx).with_header("Retry-After", "5");
        }
        // The records keep the caller's Call-ID: one the store would refuse is refused now,
        // not dropped when the call ends.
        if request.call_id().len() > MAX_CALL_ID || request.call_id().chars().any(char::is_control) {
            return Self::refuse(request, 400, "Bad Request (Call-ID longer than 1024 bytes or with a control character)", fx);
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
            if let Err((answer, locked)) = registrar.authenticate(request, &caller, from, now, "wfm-auth") {
                fx.log.push(format!("call {}: feature code of {caller}: {}", request.call_id(), answer.status().unwrap_or_default()));
                if let Some(what) = locked {
                    fx.locks.push((caller, what));
                }
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
        let id = self.call_id_of_ours(now);
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
            route_set: request.record_route(),
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
            id: id.clone(),
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
            segment: Segment::new(id.clone(), now),
            segments_done: 0,
            dialled: dialled.clone(),
            // Written back into the agent's INVITE and the records: escaped and bounded here.
            caller_number: request.header("From").and_then(uri_user).map(crate::sip::message::escape_user),
            hold_since: None,
            plays: 0,
        };
        self.dialogs.insert(request.call_id().to_owned(), (key, None));
        self.segments.insert(id, key);
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
    pub(super) fn ivr_step(&mut self, key: CallKey, step: Step, now: Instant, fx: &mut Effects) {
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
    pub(super) fn play(&mut self, key: CallKey, prompts: &[&str], then: AfterPlay, fx: &mut Effects) {
        if let Some(call) = self.calls.get_mut(&key) {
            call.plays += 1;
            fx.media.push((key, MediaCommand::Play { prompts: prompts.iter().map(|p| (*p).to_owned()).collect(), then }));
        }
    }

    /// Queues the call; `wanted` is an agent to ring first when free (a transfer to them), else
    /// the agent who last served this caller's number, if any (last-agent routing).
    pub(super) fn enqueue(&mut self, key: CallKey, queue: &str, wanted: Option<String>, now: Instant, fx: &mut Effects) {
        let Some(call) = self.calls.get_mut(&key) else { return };
        let last_agent = wanted.or_else(|| call.caller_number.as_ref().and_then(|n| self.last_agents.get(n)).cloned());
        call.phase = Phase::Queued { queue: queue.to_owned() };
        call.listen_until = None;
        call.segment.queue = Some((queue.to_owned(), now));
        fx.acd.push(AcdInput::Arrive { call: call.segment.id.clone(), queue: queue.to_owned(), priority: call.ivr.priority, last_agent });
        self.play(key, &["hold-music.wav"], AfterPlay::Loop, fx);
    }

    pub(super) fn voicemail(&mut self, key: CallKey, fx: &mut Effects) {
        let Some(call) = self.calls.get_mut(&key) else { return };
        call.phase = Phase::Voicemail { until: None };
        self.play(key, &["voicemail.wav"], AfterPlay::Report, fx);
    }

    /// Plays a last prompt, then hangs up.
    pub(super) fn close_with(&mut self, key: CallKey, prompt: &str, fx: &mut Effects) {
        let Some(call) = self.calls.get_mut(&key) else { return };
        call.phase = Phase::Closing;
        self.play(key, &[prompt], AfterPlay::Report, fx);
    }
}
