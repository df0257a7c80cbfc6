//! Blind transfer: an agent's REFER sends the caller to an agent, a queue, an IVR number or an
//! outside number, reported back by NOTIFY (sipfrag).

use super::*;

impl Calls {
    /// A blind transfer (REFER) from the connected agent: to an agent, a queue or an IVR number.
    pub(super) fn transfer(&mut self, key: CallKey, id: u64, request: &Message, now: Instant, fx: &mut Effects) -> Message {
        let Some(target) = request.header("Refer-To").map(inner_uri).and_then(uri_user).map(str::to_owned) else {
            return reply(request, 400, "Bad Request (Refer-To names no user)");
        };
        let connected = self.calls.get(&key).is_some_and(|c| matches!(c.phase, Phase::Connected { leg, .. } if leg == id));
        if !connected {
            return reply(request, 403, "Forbidden (not connected to a caller)");
        }
        enum Destination {
            Queue(String, Option<String>),
            Number,
            External(SocketAddr),
        }
        let current = match self.calls.get(&key).map(|c| &c.phase) {
            Some(Phase::Connected { queue, .. }) => queue.clone(),
            _ => String::new(),
        };
        // To an agent: they ring when free; meanwhile the caller waits in this queue if the
        // agent serves it, else in the agent's first.
        let agent_queue = self.config.agent_queues.get(&target).and_then(|queues| queues.iter().find(|q| **q == current).or(queues.first()));
        let destination = if let Some(queue) = agent_queue {
            Some(Destination::Queue(queue.clone(), Some(target.clone())))
        } else if self.config.queues.contains(&target) {
            Some(Destination::Queue(target.clone(), None))
        } else if self.config.flow.has_number(&target) {
            Some(Destination::Number)
        } else {
            self.config.trunk.filter(|_| target.chars().all(|c| c.is_ascii_digit() || c == '+')).map(Destination::External)
        };
        let response = reply(request, 202, "Accepted");
        let frag = if destination.is_some() { "SIP/2.0 200 OK" } else { "SIP/2.0 404 Not Found" };
        self.notify(key, id, frag, now, fx);
        let Some(destination) = destination else {
            fx.log.push(format!("transfer to {target} refused: no agent, queue or number of that name (and no trunk for outside numbers)"));
            return response;
        };
        let Some(call) = self.calls.get_mut(&key) else { return response };
        let Phase::Connected { agent, queue, .. } = call.phase.clone() else { return response };
        call.segment.transfer_target = Some(target.clone());
        if let Some(since) = call.hold_since.take() {
            call.segment.hold += now.saturating_duration_since(since);
        }
        if let Some(leg) = call.legs.iter_mut().find(|l| l.id == id) {
            leg.state = LegState::TransferredAway;
            // Its media is closed here (the agent side may soon be the next leg's), and its
            // port went with it.
            leg.media_opened = false;
            leg.port_released = true;
        }
        fx.media.push((key, MediaCommand::Unbridge));
        fx.media.push((key, MediaCommand::StopRecording));
        fx.media.push((key, MediaCommand::Close { side: Side::Agent }));
        fx.acd.push(AcdInput::Ended { agent: agent.clone(), queue });
        fx.log.push(format!("call {}: agent {agent} transferred it to {target}", call.segment.id));
        self.end_segment(key, "answered", now, fx);
        match destination {
            Destination::Queue(queue, last_agent) => {
                self.enqueue(key, &queue, last_agent, now, fx);
                self.play(key, &["transfer.wav", "hold-music.wav"], AfterPlay::Loop, fx);
            }
            Destination::External(trunk) => {
                self.play(key, &["transfer.wav", "hold-music.wav"], AfterPlay::Loop, fx);
                match self.invite_leg(key, &target, true, format!("sip:{target}@{trunk}"), (trunk, trunk.ip()), false, now, fx) {
                    Some(leg) => {
                        if let Some(call) = self.calls.get_mut(&key) {
                            call.phase = Phase::External { leg };
                        }
                    }
                    None => self.close_with(key, "busy.wav", fx),
                }
            }
            Destination::Number => {
                let start = self.config.flow.start(&target, self.local_time(now), self.ivr_now(now));
                if let (Ok((session, step)), Some(call)) = (start, self.calls.get_mut(&key)) {
                    call.ivr = session;
                    call.phase = Phase::Ivr;
                    self.ivr_step(key, step, now, fx);
                }
            }
        }
        response
    }

    /// Tells the transferring agent how the transfer went (RFC 3515 §2.4.5).
    pub(super) fn notify(&mut self, key: CallKey, id: u64, frag: &str, now: Instant, fx: &mut Effects) {
        let branch = self.branch();
        let local = self.config.local;
        let Some(leg) = self.leg_mut(key, id) else { return };
        let mut notify = leg.dialog.request(Method::Notify, local, &branch);
        notify.headers.push(("Event".into(), "refer".into()));
        notify.headers.push(("Subscription-State".into(), "terminated;reason=noresource".into()));
        notify.headers.push(("Content-Type".into(), "message/sipfrag;version=2.0".into()));
        notify.body = format!("{frag}\r\n").into_bytes();
        let peer = leg.dialog.peer;
        self.send_request(key, Some(id), &notify, peer, now, fx);
    }
}
