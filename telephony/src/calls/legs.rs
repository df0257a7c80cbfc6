//! Agents' legs: the engine's actions ring agents' phones (a dialog of our own each), cancel
//! and end them.

use super::*;

impl Calls {
    /// What the engine decided.
    pub fn on_action(&mut self, action: &Action, now: Instant, registrar: &Registrar, fx: &mut Effects) {
        let key = |call: &str| self.segments.get(call).copied();
        match action {
            Action::Ring { call, agents } => {
                if let Some(key) = key(call) {
                    for agent in agents {
                        self.ring(key, agent, now, registrar, fx);
                    }
                }
            }
            Action::StopRinging { call, agents } => {
                if let Some(key) = key(call) {
                    let ids: Vec<u64> = self.calls.get(&key).map(|c| c.legs.iter().filter(|l| agents.contains(&l.agent) && l.state == LegState::Ringing).map(|l| l.id).collect()).unwrap_or_default();
                    for id in ids {
                        self.cancel_leg(key, id, now, fx);
                    }
                    self.stop_ring_clock(key, now);
                }
            }
            Action::Connect { call, agent, .. } => {
                if let Some(key) = key(call) {
                    self.connect(key, agent, now, fx);
                }
            }
            Action::Announce { call, position, expected_wait } => {
                if let Some(key) = key(call) {
                    let prompts = announcement(*position, *expected_wait);
                    self.play(key, &prompts.iter().map(String::as_str).collect::<Vec<_>>(), AfterPlay::Loop, fx);
                }
            }
            Action::Overflow { call, to, why, .. } => {
                if let Some(key) = key(call) {
                    let reason = match why {
                        OverflowReason::MaxWait => "timeout",
                        OverflowReason::MaxLength => "full",
                        OverflowReason::NobodyLoggedIn => "empty",
                    };
                    self.end_segment(key, reason, now, fx);
                    match to {
                        AcdTarget::Queue(queue) => self.enqueue(key, queue, None, now, fx),
                        AcdTarget::Ivr(node) => {
                            if let Some(c) = self.calls.get_mut(&key) {
                                c.phase = Phase::Ivr;
                                let step = self.config.flow.enter(&mut c.ivr, node, now.saturating_duration_since(self.anchor.0));
                                self.ivr_step(key, step, now, fx);
                            }
                        }
                        AcdTarget::Voicemail => self.voicemail(key, fx),
                        AcdTarget::Busy => self.close_with(key, "busy.wav", fx),
                    }
                }
            }
            // The controller keeps its own record of abandoned calls (it saw the BYE).
            Action::Abandoned { .. } | Action::StateChanged { .. } => {}
        }
    }

    pub(super) fn stop_ring_clock(&mut self, key: CallKey, now: Instant) {
        if let Some(c) = self.calls.get_mut(&key)
            && !c.legs.iter().any(|l| l.state == LegState::Ringing)
            && let Some(started) = c.segment.ring_started.take()
        {
            c.segment.ring += now.saturating_duration_since(started);
        }
    }

    /// INVITEs the agent's registered phone for the call.
    pub(super) fn ring(&mut self, key: CallKey, agent: &str, now: Instant, registrar: &Registrar, fx: &mut Effects) {
        let Some(call) = self.calls.get(&key) else { return };
        let segment = call.segment.id.clone();
        let Some(binding) = registrar.binding(agent, now) else {
            fx.log.push(format!("call {segment}: agent {agent} has no registered phone"));
            fx.acd.push(AcdInput::Declined { call: segment, agent: agent.to_owned() });
            return;
        };
        let target_uri = inner_uri(&binding.contact).to_owned();
        let over_tcp = target_uri.to_ascii_lowercase().contains("transport=tcp");
        let peer = if over_tcp { binding.source } else { uri_address(&target_uri).unwrap_or(binding.source) };
        if self.invite_leg(key, agent, false, target_uri, (peer, binding.source.ip()), over_tcp, now, fx).is_none() {
            fx.acd.push(AcdInput::Declined { call: segment, agent: agent.to_owned() });
        }
    }

    /// Sends the INVITE of a new leg of the call to `target_uri` at `peer`: an agent's phone, or
    /// (`external`) a number at the trunk. `None` when no media port is left.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn invite_leg(&mut self, key: CallKey, callee: &str, external: bool, target_uri: String, (peer, trusted): (SocketAddr, IpAddr), over_tcp: bool, now: Instant, fx: &mut Effects) -> Option<u64> {
        let port = self.ports.open()?;
        let id = self.next();
        let local_tag = self.tag();
        let branch = self.branch();
        let call_id = self.token();
        let call = self.calls.get(&key)?;
        let segment = call.segment.id.clone();
        let caller = call.caller_number.clone().unwrap_or_else(|| "anonymous".into());
        let local = self.config.local;
        let mut dialog = Dialog {
            call_id: format!("{call_id}{}@{}", self.call_id_tag, local.ip()),
            local_tag,
            remote_tag: String::new(),
            local_uri: format!("<sip:{caller}@{}>", local.ip()),
            remote_uri: format!("<sip:{callee}@{}>", peer.ip()),
            remote_target: target_uri,
            peer,
            trusted,
            local_cseq: 0,
            transport: if over_tcp { "TCP" } else { "UDP" },
            route_set: Vec::new(),
        };
        let mut invite = dialog.request(Method::Invite, local, &branch);
        let queue = match &call.phase {
            Phase::Queued { queue } => queue.clone(),
            _ => String::new(),
        };
        invite.headers.push(("Content-Type".into(), "application/sdp".into()));
        if !external {
            invite.headers.push(("X-WFM-Call".into(), segment));
            invite.headers.push(("X-WFM-Queue".into(), queue));
            // The IVR's path and digits travel with the call to the agent's phone.
            if let Some(path) = call.ivr.describe() {
                invite.headers.push(("X-WFM-IVR".into(), path));
            }
        }
        invite.body = sdp::describe(call.session_id, 1, SocketAddr::new(self.config.media_ip, port), &[call.codec], Some(OUR_TELEPHONE_EVENT), Direction::SendRecv);
        let leg = AgentLeg { id, agent: callee.to_owned(), external, dialog: dialog.clone(), invite: invite.clone(), invite_branch: branch, port, state: LegState::Ringing, remote_media: None, media_opened: false, port_released: false };
        self.dialogs.insert(dialog.call_id.clone(), (key, Some(id)));
        let call = self.calls.get_mut(&key)?;
        if !external {
            call.segment.ring_started.get_or_insert(now);
        }
        call.legs.push(leg);
        self.send_request(key, Some(id), &invite, peer, now, fx);
        Some(id)
    }

    pub(super) fn leg_mut(&mut self, key: CallKey, id: u64) -> Option<&mut AgentLeg> {
        self.calls.get_mut(&key)?.legs.iter_mut().find(|l| l.id == id)
    }

    pub(super) fn cancel_leg(&mut self, key: CallKey, id: u64, now: Instant, fx: &mut Effects) {
        let Some(leg) = self.leg_mut(key, id) else { return };
        leg.state = LegState::Cancelling;
        // CANCEL copies the INVITE's Request-URI, Call-ID, From, To and Via (RFC 3261 §9.1).
        let mut cancel = leg.invite.clone();
        cancel.start = match cancel.start {
            StartLine::Request { uri, .. } => StartLine::Request { method: Method::Cancel, uri },
            other => other,
        };
        cancel.body.clear();
        cancel.headers.retain(|(n, _)| matches!(n.as_str(), "Via" | "From" | "To" | "Call-ID" | "Max-Forwards"));
        cancel.headers.push(("CSeq".into(), format!("{} CANCEL", leg.dialog.local_cseq)));
        let peer = leg.dialog.peer;
        let branch = leg.invite_branch.clone();
        self.release_port(key, id, fx);
        // The INVITE is no longer retransmitted; its final response (487) ends it, or the time.
        if let Some(t) = self.clients.get_mut(&branch) {
            t.proceeding = true;
            t.deadline = Some(now + TRANSACTION_TIMEOUT);
        }
        let bytes = cancel.to_bytes();
        fx.send.push(Outgoing { to: peer, bytes: bytes.clone(), retransmission: false });
        self.clients.insert(
            format!("{branch}/CANCEL"),
            ClientTransaction { call: key, leg: Some(id), method: Method::Cancel, bytes, to: peer, next: now + T1, interval: T1, deadline: Some(now + TRANSACTION_TIMEOUT), proceeding: false },
        );
    }

    pub(super) fn bye_leg(&mut self, key: CallKey, id: u64, now: Instant, fx: &mut Effects) {
        let branch = self.branch();
        let local = self.config.local;
        let Some(leg) = self.leg_mut(key, id) else { return };
        let bye = leg.dialog.request(Method::Bye, local, &branch);
        let peer = leg.dialog.peer;
        self.send_request(key, Some(id), &bye, peer, now, fx);
    }

    /// Gives back a leg's media port if its media never opened (once: the system may hand the
    /// number to another offer afterwards).
    pub(super) fn release_port(&mut self, key: CallKey, id: u64, fx: &mut Effects) {
        if let Some(leg) = self.leg_mut(key, id)
            && !leg.media_opened
            && !std::mem::replace(&mut leg.port_released, true)
        {
            fx.media.push((key, MediaCommand::Discard { local_port: leg.port }));
        }
    }

    pub(super) fn remove_leg(&mut self, key: CallKey, id: u64, fx: &mut Effects) {
        self.release_port(key, id, fx);
        let Some(call) = self.calls.get_mut(&key) else { return };
        if let Some(i) = call.legs.iter().position(|l| l.id == id) {
            let leg = call.legs.remove(i);
            self.dialogs.remove(&leg.dialog.call_id);
            if leg.media_opened {
                fx.media.push((key, MediaCommand::Close { side: Side::Agent }));
            }
        }
    }
}
