//! What the media layer and the engine report back: prompts ended, digits, silence, voicemail;
//! inputs the engine refused, undone.

use super::*;

impl Calls {
    /// A media event: a digit for the IVR, or the end of a prompt.
    pub fn on_media(&mut self, event: &MediaEvent, now: Instant, fx: &mut Effects) {
        let ivr_now = self.ivr_now(now);
        match *event {
            MediaEvent::Digit { call: key, key: digit } => {
                let Some(call) = self.calls.get_mut(&key) else { return };
                if call.phase != Phase::Ivr {
                    return;
                }
                if let Some(step) = self.config.flow.key(&mut call.ivr, digit, ivr_now) {
                    self.ivr_step(key, step, now, fx);
                }
            }
            MediaEvent::Silent { call: key, side } => {
                let Some(call) = self.calls.get(&key) else { return };
                fx.log.push(format!("call {}: no RTP from the {side:?} leg for {} s: taken for gone", call.segment.id, crate::media::SILENCE_LIMIT.as_secs()));
                match (side, call.phase.clone()) {
                    (Side::Caller, _) => self.hang_up_caller(key, now, fx),
                    // An agent holding the call may send nothing (`inactive`): not a silence.
                    (Side::Agent, Phase::Connected { leg, .. } | Phase::External { leg }) if call.hold_since.is_none() => {
                        self.bye_leg(key, leg, now, fx);
                        self.agent_left(key, leg, now, fx);
                    }
                    _ => {}
                }
            }
            MediaEvent::PromptsDone { call: key, play } => {
                let Some(call) = self.calls.get_mut(&key).filter(|c| c.plays == play) else { return };
                match call.phase {
                    Phase::Ivr => match call.listen_after.take() {
                        Some(listen) => call.listen_until = Some(now + listen),
                        None => {
                            let step = self.config.flow.prompt_finished(&mut call.ivr, ivr_now);
                            self.ivr_step(key, step, now, fx);
                        }
                    },
                    Phase::Voicemail { until: None } if !self.recording_allowed => {
                        fx.log.push(format!("call {}: no voicemail recorded, the tenant's recording storage is full", call.caller.call_id));
                        self.hang_up_caller(key, now, fx);
                    }
                    Phase::Voicemail { until: None } => {
                        call.phase = Phase::Voicemail { until: Some(now + self.config.voicemail_limit) };
                        let path = self.config.voicemail.join(format!("{}.wav", file_name(&call.segment.id)));
                        fx.log.push(format!("call {}: voicemail to {}", call.caller.call_id, path.display()));
                        fx.media.push((key, MediaCommand::Record { path }));
                    }
                    Phase::Closing | Phase::Feature => self.hang_up_caller(key, now, fx),
                    _ => {}
                }
            }
        }
    }

    /// The engine refused an input: the controller undoes what depended on it.
    pub fn acd_refused(&mut self, input: &AcdInput, error: &str, now: Instant, fx: &mut Effects) {
        match input {
            AcdInput::Answered { call, agent } => {
                // The caller left or another agent won the race: release this phone.
                let Some(&key) = self.segments.get(call) else { return };
                let ids: Vec<u64> = self.calls.get(&key).map(|c| c.legs.iter().filter(|l| &l.agent == agent && l.state == LegState::Answered).map(|l| l.id).collect()).unwrap_or_default();
                for id in ids {
                    self.bye_leg(key, id, now, fx);
                    if let Some(leg) = self.leg_mut(key, id) {
                        leg.state = LegState::TransferredAway;
                    }
                }
            }
            AcdInput::Arrive { call, queue, .. } => {
                fx.log.push(format!("call {call}: queue {queue} refused it: {error}"));
                if let Some(&key) = self.segments.get(call) {
                    self.close_with(key, "busy.wav", fx);
                }
            }
            AcdInput::State { agent, .. } => {
                fx.log.push(format!("agent {agent}: feature code refused: {error}"));
                let key = self.calls.iter().find(|(_, c)| c.phase == Phase::Feature && c.caller_number.as_deref() == Some(agent)).map(|(k, _)| *k);
                if let Some(key) = key {
                    self.play(key, &["busy.wav"], AfterPlay::Report, fx);
                }
            }
            AcdInput::HungUp { .. } | AcdInput::Declined { .. } | AcdInput::Ended { .. } => {}
        }
    }
}
