//! Bridging: the answered agent's media joined to the caller's (recorded when its queue is),
//! and re-INVITEs that hold, resume or refresh either side.

use super::*;

impl Calls {
    pub(super) fn connect(&mut self, key: CallKey, agent: &str, now: Instant, fx: &mut Effects) {
        self.stop_ring_clock(key, now);
        let Some(call) = self.calls.get_mut(&key) else { return };
        let Some(leg_id) = call.legs.iter().find(|l| l.agent == agent && l.state == LegState::Answered && !l.external).map(|l| l.id) else {
            // The phone hung up between its answer and the engine's connection: the agent's
            // call is over, and the caller waits again.
            if let Phase::Queued { queue } = call.phase.clone() {
                fx.acd.push(AcdInput::Ended { agent: agent.to_owned(), queue: queue.clone() });
                self.enqueue(key, &queue, None, now, fx);
            }
            return;
        };
        self.bridge_leg(key, leg_id, fx);
        let Some(call) = self.calls.get_mut(&key) else { return };
        let queue = match &call.phase {
            Phase::Queued { queue } => queue.clone(),
            _ => String::new(),
        };
        if self.recording_allowed && self.config.recorded_queues.contains(&queue) {
            let path = self.config.recordings.join(format!("{}.wav", file_name(&call.segment.id)));
            call.segment.recording = Some(path.display().to_string());
            fx.media.push((key, MediaCommand::Record { path }));
        }
        call.segment.answered = Some(now);
        call.segment.agent = Some(agent.to_owned());
        if let Some(number) = call.caller_number.clone() {
            // A bound on memory: forgetting everyone now and then costs only a preference.
            if self.last_agents.len() >= MAX_REMEMBERED_CALLERS {
                self.last_agents.clear();
            }
            self.last_agents.insert(number, agent.to_owned());
        }
        call.phase = Phase::Connected { agent: agent.to_owned(), queue, leg: leg_id };
        fx.log.push(format!("call {} connected to agent {agent}", call.segment.id));
    }

    /// Opens an answered leg's media and bridges it to the caller.
    pub(super) fn bridge_leg(&mut self, key: CallKey, id: u64, fx: &mut Effects) {
        let Some(call) = self.calls.get_mut(&key) else { return };
        let codec = call.codec;
        let Some(leg) = call.legs.iter_mut().find(|l| l.id == id) else { return };
        let Some(remote) = leg.remote_media.clone() else { return };
        leg.state = LegState::Connected;
        leg.media_opened = true;
        fx.media.push((key, MediaCommand::Open { side: Side::Agent, local_port: leg.port, remote: remote.address, signalling: leg.dialog.trusted, codec, telephone_event: remote.telephone_event }));
        fx.media.push((key, MediaCommand::Bridge));
    }

    /// A re-INVITE: from the agent, hold (sendonly/inactive) or resume; from the caller, a
    /// session refresh or new media address.
    pub(super) fn reinvite(&mut self, key: CallKey, leg: Option<u64>, request: &Message, now: Instant, fx: &mut Effects) -> Message {
        // Without an offer (a session refresh) the answer is our current description.
        let offer = match request.body.is_empty() {
            true => None,
            false => match Media::parse(&request.body) {
                Ok(offer) => Some(offer),
                Err(e) => return reply(request, 488, "Not Acceptable Here").with_header("Warning", format!("304 wfm \"{e}\"")),
            },
        };
        let media_ip = self.config.media_ip;
        let Some(call) = self.calls.get_mut(&key) else { return reply(request, 481, "Call/Transaction Does Not Exist") };
        let bridged_leg = match call.phase {
            Phase::Connected { leg, .. } | Phase::External { leg } => Some(leg),
            _ => None,
        };
        let (port, side, telephone_event) = match leg {
            None => (call.port, Side::Caller, call.caller_event),
            Some(id) => match call.legs.iter_mut().find(|l| l.id == id) {
                Some(l) => {
                    if let Some(offer) = &offer {
                        l.remote_media = Some(offer.clone());
                    }
                    (l.port, Side::Agent, l.remote_media.as_ref().and_then(|m| m.telephone_event))
                }
                None => return reply(request, 481, "Call/Transaction Does Not Exist"),
            },
        };
        // Only the leg whose media is open may move it (not one transferred away, say).
        let media_is_this_legs = leg.is_none() || leg == bridged_leg;
        if let Some(offer) = &offer
            && media_is_this_legs
        {
            call.sdp_version += 1;
            if !offer.address.ip().is_unspecified() {
                fx.media.push((key, MediaCommand::Remote { side, remote: offer.address }));
            }
        }
        let agent_connected = matches!(call.phase, Phase::Connected { leg: l, .. } if Some(l) == leg);
        if let (Some(offer), true) = (&offer, agent_connected) {
            match (offer.direction.is_hold(), call.hold_since) {
                (true, None) => {
                    call.hold_since = Some(now);
                    fx.media.push((key, MediaCommand::Unbridge));
                    fx.log.push(format!("call {}: on hold", call.segment.id));
                    self.play(key, &["hold-music.wav"], AfterPlay::Loop, fx);
                }
                (false, Some(since)) => {
                    call.hold_since = None;
                    call.segment.hold += now.saturating_duration_since(since);
                    fx.media.push((key, MediaCommand::Bridge));
                    fx.log.push(format!("call {}: resumed", call.segment.id));
                }
                _ => {}
            }
        }
        let Some(call) = self.calls.get(&key) else { return reply(request, 481, "Call/Transaction Does Not Exist") };
        let direction = offer.as_ref().map_or(Direction::SendRecv, |o| sdp::answer_direction(o.direction));
        let body = sdp::describe(call.session_id, call.sdp_version, SocketAddr::new(media_ip, port), &[call.codec], telephone_event, direction);
        let response = reply(request, 200, "OK").with_header("Contact", format!("<sip:wfm@{}>", self.config.local)).with_header("Content-Type", "application/sdp");
        Message { body, ..response }
    }
}
