//! Ending: a segment of the call becomes its record, and either side hanging up ends the other.

use super::*;

impl Calls {
    /// Closes the current segment as a call record and starts the next one.
    pub(super) fn end_segment(&mut self, key: CallKey, exit_reason: &str, now: Instant, fx: &mut Effects) {
        let Some(call) = self.calls.get_mut(&key) else { return };
        if let Some(started) = call.segment.ring_started.take() {
            call.segment.ring += now.saturating_duration_since(started);
        }
        call.segments_done += 1;
        let next_id = format!("{}~{}", call.id, call.segments_done + 1);
        let segment = std::mem::replace(&mut call.segment, Segment::new(next_id.clone(), now));
        let (dialled, caller_number, ivr_path, priority) = (call.dialled.clone(), call.caller_number.clone(), call.ivr.describe(), call.ivr.priority);
        let sip_call_id = Some(call.caller.call_id.clone());
        self.segments.remove(&segment.id);
        self.segments.insert(next_id, key);
        let ms = |t: Instant| self.wall_ms(t);
        let talk = match segment.answered {
            Some(a) => now.saturating_duration_since(a).saturating_sub(segment.hold),
            None => Duration::ZERO,
        };
        let abandoned = exit_reason == "abandoned";
        fx.finished.push(CallSegment {
            call_id: segment.id,
            caller_number,
            dialled_number: Some(dialled),
            queue: segment.queue.as_ref().map(|(q, _)| q.clone()),
            priority: i32::from(priority),
            arrived_ms: ms(segment.arrived),
            queued_ms: segment.queue.as_ref().map(|(_, t)| ms(*t)),
            answered_ms: segment.answered.map(ms),
            ended_ms: ms(now),
            abandoned,
            exit_reason: exit_reason.to_owned(),
            agent: segment.agent,
            ring_ms: segment.ring.as_millis() as i64,
            talk_ms: talk.as_millis() as i64,
            hold_ms: segment.hold.as_millis() as i64,
            // Filled by the engine's side when the agent's wrap-up ends (`Live`).
            wrap_ms: 0,
            transfer_target: segment.transfer_target,
            ivr_path,
            recording: segment.recording,
            sip_call_id,
        });
    }

    /// The reason a call ends in `phase`, for its record.
    pub(super) fn exit_reason(call: &Call) -> &'static str {
        match (call.segment.answered.is_some(), call.segment.queue.is_some()) {
            (true, _) => "answered",
            (false, true) => "abandoned",
            (false, false) => "not_queued",
        }
    }

    /// The caller hung up.
    pub(super) fn caller_left(&mut self, key: CallKey, now: Instant, fx: &mut Effects) {
        self.finish(key, now, fx);
    }

    /// A leg other than the caller's sent BYE: the agent (or the outside number) hung up.
    pub(super) fn agent_left(&mut self, key: CallKey, id: u64, now: Instant, fx: &mut Effects) {
        let Some(call) = self.calls.get_mut(&key) else { return };
        let bridged = match &call.phase {
            Phase::Connected { agent, queue, leg } if *leg == id => {
                fx.acd.push(AcdInput::Ended { agent: agent.clone(), queue: queue.clone() });
                true
            }
            Phase::External { leg } => *leg == id,
            _ => false,
        };
        if bridged {
            // Its leg is over; what is left is to end the caller's.
            call.phase = Phase::Closing;
        }
        self.remove_leg(key, id, fx);
        if bridged {
            self.hang_up_caller(key, now, fx);
        }
    }

    /// Sends the caller BYE and ends the call.
    pub(super) fn hang_up_caller(&mut self, key: CallKey, now: Instant, fx: &mut Effects) {
        let branch = self.branch();
        let local = self.config.local;
        let Some(call) = self.calls.get_mut(&key) else { return };
        let bye = call.caller.request(Method::Bye, local, &branch);
        let peer = call.caller.peer;
        self.send_request(key, None, &bye, peer, now, fx);
        self.finish(key, now, fx);
    }

    /// The call is over (its caller's leg is, or is being, ended): every other leg is ended,
    /// the engine told, the media stopped and the record written.
    pub(super) fn finish(&mut self, key: CallKey, now: Instant, fx: &mut Effects) {
        let Some(call) = self.calls.get(&key) else { return };
        let queue = match &call.phase {
            Phase::Queued { queue } | Phase::Connected { queue, .. } => queue.clone(),
            _ => String::new(),
        };
        match &call.phase {
            Phase::Queued { .. } => fx.acd.push(AcdInput::HungUp { call: call.segment.id.clone() }),
            Phase::Connected { agent, .. } => fx.acd.push(AcdInput::Ended { agent: agent.clone(), queue: queue.clone() }),
            _ => {}
        }
        let legs: Vec<(u64, LegState, bool, String)> = call.legs.iter().map(|l| (l.id, l.state, l.external, l.agent.clone())).collect();
        for (id, state, external, agent) in legs {
            match state {
                LegState::Ringing => self.cancel_leg(key, id, now, fx),
                LegState::Connected => self.bye_leg(key, id, now, fx),
                LegState::Answered => {
                    // The engine took the answer (a refusal would have made it TransferredAway)
                    // but the caller left before the connection: the agent's call is over too.
                    if !external {
                        fx.acd.push(AcdInput::Ended { agent, queue: queue.clone() });
                    }
                    self.bye_leg(key, id, now, fx);
                }
                LegState::Cancelling | LegState::TransferredAway => {}
            }
            self.release_port(key, id, fx);
        }
        let Some(call) = self.calls.get_mut(&key) else { return };
        if let Some(since) = call.hold_since.take() {
            call.segment.hold += now.saturating_duration_since(since);
        }
        let feature = call.phase == Phase::Feature;
        let exit = Self::exit_reason(call);
        // A segment with nothing in it (the IVR after an overflow, say) makes no record, nor
        // does a feature code.
        let empty = call.segments_done > 0 && call.segment.queue.is_none();
        if !feature && !empty {
            self.end_segment(key, exit, now, fx);
        }
        let call = self.calls.remove(&key).expect("found above");
        fx.media.push((key, MediaCommand::End));
        self.dialogs.remove(&call.caller.call_id);
        // Earlier segments' ids went as they ended; the current one is the last.
        self.segments.remove(&call.segment.id);
        // What the legs still answer (a BYE, a CANCEL) matches their transactions, not dialogs.
        for leg in &call.legs {
            self.dialogs.remove(&leg.dialog.call_id);
        }
        fx.log.push(format!("call {} ended ({exit})", call.caller.call_id));
    }
}
