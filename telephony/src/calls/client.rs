//! Responses to the requests sent here (RFC 3261 §17.1 client transactions): a leg's phone
//! answers, declines or times out, and its 2xx is acknowledged.

use super::*;

impl Calls {
    /// A response to a request of ours; `false` when it matches none.
    pub fn on_response(&mut self, response: &Message, now: Instant, fx: &mut Effects) -> bool {
        let Some(status) = response.status() else { return false };
        let Some((_, method)) = response.cseq() else { return false };
        let branch = response.branch().unwrap_or_default().to_owned();
        let key = if method == Method::Cancel { format!("{branch}/CANCEL") } else { branch.clone() };
        let Some(transaction) = self.clients.get_mut(&key) else {
            // A final answer repeated because our ACK was lost: ACK again.
            if method == Method::Invite && (200..300).contains(&status) {
                return self.ack_again(response, fx);
            }
            if let Some((ack, to, _)) = self.completed.get(&key).filter(|_| method == Method::Invite && status >= 300) {
                fx.send.push(Outgoing { to: *to, bytes: ack.clone(), retransmission: true });
                return true;
            }
            return false;
        };
        if status < 200 {
            if method == Method::Invite && !transaction.proceeding {
                transaction.deadline = None;
            }
            transaction.proceeding = true;
            return true;
        }
        let transaction = self.clients.remove(&key).expect("found above");
        if method != Method::Invite {
            return true;
        }
        let Ok(invite) = Message::parse(&transaction.bytes) else { return true };
        if status >= 300 {
            // Acknowledged hop by hop, in the INVITE's own transaction (RFC 3261 §17.1.1.3).
            let mut ack = invite.clone();
            ack.start = match ack.start {
                StartLine::Request { uri, .. } => StartLine::Request { method: Method::Ack, uri },
                other => other,
            };
            ack.body.clear();
            let cseq = invite.cseq().map_or(1, |(n, _)| n);
            ack.headers.retain(|(n, _)| matches!(n.as_str(), "Via" | "From" | "Call-ID" | "Max-Forwards"));
            ack.headers.push(("To".into(), response.header("To").unwrap_or_default().to_owned()));
            ack.headers.push(("CSeq".into(), format!("{cseq} ACK")));
            let bytes = ack.to_bytes();
            self.completed.insert(key.clone(), (bytes.clone(), transaction.to, now + TRANSACTION_TIMEOUT));
            fx.send.push(Outgoing { to: transaction.to, bytes, retransmission: false });
        }
        let leg_alive = transaction.leg.is_some_and(|id| self.calls.get(&transaction.call).is_some_and(|c| c.legs.iter().any(|l| l.id == id)));
        match (transaction.leg, leg_alive) {
            (Some(id), true) => self.invite_answered(transaction.call, id, response, now, fx),
            // Answered after the call ended (a CANCEL crossed the 200): ACK it and hang up.
            _ if (200..300).contains(&status) => {
                let mut dialog = self.dialog_answered(&invite, response, transaction.to);
                self.acknowledge(&dialog, fx);
                let branch = self.branch();
                let bye = dialog.request(Method::Bye, self.config.local, &branch);
                self.send_request(transaction.call, None, &bye, dialog.peer, now, fx);
            }
            _ => {}
        }
        true
    }

    /// The dialog a 2xx to our INVITE creates.
    pub(super) fn dialog_answered(&self, invite: &Message, response: &Message, peer: SocketAddr) -> Dialog {
        let cseq = invite.cseq().map_or(1, |(n, _)| n);
        let StartLine::Request { uri, .. } = &invite.start else { unreachable!("our INVITE is a request") };
        Dialog {
            call_id: invite.call_id().to_owned(),
            local_tag: invite.header("From").and_then(|f| param(f, "tag")).unwrap_or_default().to_owned(),
            remote_tag: response.header("To").and_then(|t| param(t, "tag")).unwrap_or_default().to_owned(),
            local_uri: bare_uri(invite.header("From").unwrap_or_default()),
            remote_uri: bare_uri(invite.header("To").unwrap_or_default()),
            remote_target: response.header("Contact").map(inner_uri).unwrap_or(uri).to_owned(),
            peer,
            trusted: peer.ip(),
            local_cseq: cseq,
            transport: transport_of(invite),
            // Our requests pass the proxies in the reverse of the order they recorded (§12.1.2).
            route_set: response.record_route().into_iter().rev().collect(),
        }
    }

    /// The ACK of a 2xx: a new transaction carrying the INVITE's sequence number.
    pub(super) fn acknowledge(&mut self, dialog: &Dialog, fx: &mut Effects) {
        let branch = self.branch();
        let ack = dialog.request_numbered(Method::Ack, INVITE_CSEQ, self.config.local, &branch);
        fx.send.push(Outgoing { to: dialog.peer, bytes: ack.to_bytes(), retransmission: false });
    }

    pub(super) fn ack_again(&mut self, response: &Message, fx: &mut Effects) -> bool {
        let Some(&(key, Some(id))) = self.dialogs.get(response.call_id()) else { return false };
        let Some(dialog) = self.calls.get(&key).and_then(|c| c.legs.iter().find(|l| l.id == id)).map(|l| l.dialog.clone()) else { return false };
        self.acknowledge(&dialog, fx);
        true
    }

    /// The agent's phone gave a final answer to our INVITE (the ACK of a failure is sent).
    pub(super) fn invite_answered(&mut self, key: CallKey, id: u64, response: &Message, now: Instant, fx: &mut Effects) {
        let status = response.status().unwrap_or_default();
        let Some(call) = self.calls.get_mut(&key) else { return };
        let segment = call.segment.id.clone();
        let Some(leg) = call.legs.iter_mut().find(|l| l.id == id) else { return };
        if (200..300).contains(&status) {
            if leg.dialog.remote_tag.is_empty() {
                // The dialog begins: its route set is fixed now (a re-INVITE's answer keeps it).
                leg.dialog.route_set = response.record_route().into_iter().rev().collect();
            }
            leg.dialog.remote_tag = response.header("To").and_then(|t| param(t, "tag")).unwrap_or_default().to_owned();
            if let Some(contact) = response.header("Contact") {
                leg.dialog.remote_target = inner_uri(contact).to_owned();
            }
            leg.remote_media = Media::parse(&response.body).ok();
            let dialog = leg.dialog.clone();
            let leg_was_ringing = leg.state == LegState::Ringing;
            let wanted = leg_was_ringing && leg.remote_media.is_some();
            let (agent, external) = (leg.agent.clone(), leg.external);
            if wanted {
                leg.state = LegState::Answered;
            } else {
                leg.state = LegState::TransferredAway;
            }
            self.acknowledge(&dialog, fx);
            if wanted && external {
                // Outside the queue engine: bridged at once.
                self.bridge_leg(key, id, fx);
            } else if wanted {
                fx.acd.push(AcdInput::Answered { call: segment, agent });
            } else {
                // Answered after we gave up on it, or with no usable media: hang it up (and,
                // when it was still wanted, let the engine move on at once).
                self.bye_leg(key, id, now, fx);
                if leg_was_ringing && !external {
                    fx.acd.push(AcdInput::Declined { call: segment, agent });
                }
            }
            return;
        }
        let was_ringing = leg.state == LegState::Ringing;
        let (agent, external) = (leg.agent.clone(), leg.external);
        self.remove_leg(key, id, fx);
        if external {
            fx.log.push(format!("call {segment}: the transfer to {agent} failed ({status})"));
            self.close_with(key, "busy.wav", fx);
        } else if was_ringing {
            fx.log.push(format!("call {segment}: agent {agent} refused it ({status})"));
            fx.acd.push(AcdInput::Declined { call: segment, agent });
        }
        self.stop_ring_clock(key, now);
    }
}
