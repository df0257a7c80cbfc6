//! RTP streams, sans-IO: what the ACD sends toward a leg (its own prompts, or the other leg's
//! audio relayed with SSRC, sequence and timestamp rewritten so the leg hears one continuous
//! stream), RFC 4733 digits read from a leg, and a call's recording laid out by RTP time.

use crate::sip::sdp::Codec;
use rtp::header::Header;
use rtp::packet::Packet;
use std::collections::VecDeque;
use webrtc_util::marshal::{Marshal, Unmarshal};

/// 20 ms of 8 kHz audio: one packet.
pub const SAMPLES_PER_PACKET: u32 = 160;

/// The stream the ACD sends toward one leg.
#[derive(Debug, Clone)]
pub struct Outbound {
    ssrc: u32,
    sequence: u16,
    timestamp: u32,
    codec: Codec,
    /// The leg's payload type for telephone-events, if it took them.
    telephone_event: Option<u8>,
    /// The relayed source and how its timestamps map onto ours.
    source: Option<Source>,
    /// The next packet starts a talk spurt (RFC 3551 §4.1: the marker bit).
    marker: bool,
}

/// A relayed source: its SSRC, and where its timestamps and sequence numbers start in ours.
#[derive(Debug, Clone, Copy)]
struct Source {
    ssrc: u32,
    first_in: u32,
    first_out: u32,
    first_sequence_in: u16,
    first_sequence_out: u16,
}

impl Outbound {
    /// `seed` gives the SSRC and the random starts RFC 3550 asks for.
    pub fn new(seed: u64, codec: Codec, telephone_event: Option<u8>) -> Self {
        Self { ssrc: seed as u32, sequence: (seed >> 32) as u16, timestamp: (seed >> 16) as u32, codec, telephone_event, source: None, marker: true }
    }

    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// Our header for a packet numbered `sequence`; the stream carries on after the highest
    /// sequence number and timestamp sent.
    fn header(&mut self, payload_type: u8, sequence: u16, timestamp: u32) -> Header {
        let header = Header { version: 2, marker: std::mem::take(&mut self.marker), payload_type, sequence_number: sequence, timestamp, ssrc: self.ssrc, ..Default::default() };
        // A late (reordered) packet keeps its place and does not move the stream back.
        if sequence.wrapping_sub(self.sequence) < 0x8000 {
            self.sequence = sequence.wrapping_add(1);
            self.timestamp = timestamp;
        }
        header
    }

    /// One packet of the ACD's own audio (160 linear samples), encoded for the leg.
    pub fn own(&mut self, samples: &[i16]) -> Vec<u8> {
        if self.source.take().is_some() {
            self.marker = true;
        }
        let payload: Vec<u8> = samples.iter().map(|&s| super::audio::encode(self.codec, s)).collect();
        let timestamp = self.timestamp.wrapping_add(SAMPLES_PER_PACKET);
        let header = self.header(self.codec.payload_type(), self.sequence, timestamp);
        Packet { header, payload: payload.into() }.marshal().map(|b| b.to_vec()).unwrap_or_default()
    }

    /// `packet` from the other leg (whose telephone-event type is `their_event`), rewritten for
    /// this leg; `None` when this leg cannot take it (a telephone-event it did not negotiate,
    /// or a payload type that is neither).
    pub fn relay(&mut self, packet: &Packet, their_codec: Codec, their_event: Option<u8>) -> Option<Vec<u8>> {
        let payload_type = if Some(packet.header.payload_type) == their_event {
            self.telephone_event?
        } else if packet.header.payload_type == their_codec.payload_type() && their_codec == self.codec {
            self.codec.payload_type()
        } else {
            return None;
        };
        let source = match self.source {
            Some(s) if s.ssrc == packet.header.ssrc => s,
            _ => {
                // A new source (or the end of a prompt): carry on from our last timestamp.
                let s = Source {
                    ssrc: packet.header.ssrc,
                    first_in: packet.header.timestamp,
                    first_out: self.timestamp.wrapping_add(SAMPLES_PER_PACKET),
                    first_sequence_in: packet.header.sequence_number,
                    first_sequence_out: self.sequence,
                };
                self.source = Some(s);
                self.marker = true;
                s
            }
        };
        // Both mapped from where the source started: gaps (losses) and order stay as they came.
        let timestamp = source.first_out.wrapping_add(packet.header.timestamp.wrapping_sub(source.first_in));
        let sequence = source.first_sequence_out.wrapping_add(packet.header.sequence_number.wrapping_sub(source.first_sequence_in));
        let marker = packet.header.marker;
        let mut header = self.header(payload_type, sequence, timestamp);
        header.marker |= marker;
        Packet { header, payload: packet.payload.clone() }.marshal().ok().map(|b| b.to_vec())
    }
}

/// Reads an RTP packet from the network, or `None`. A header extension (RFC 3550 §5.3.1,
/// RFC 8285) is skipped: nothing here uses one, and the `rtp` crate's reader of extension
/// elements panics on elements longer than their block (found by fuzzing), so it never sees one.
pub fn parse(bytes: &[u8]) -> Option<Packet> {
    if bytes.len() < 12 || bytes[0] >> 6 != 2 {
        return None;
    }
    let header_end = 12 + 4 * (bytes[0] & 0x0f) as usize;
    if bytes[0] & 0x10 == 0 {
        return Packet::unmarshal(&mut &bytes[..]).ok();
    }
    let block = bytes.get(header_end + 2..header_end + 4)?;
    let extension_end = header_end + 4 + 4 * u16::from_be_bytes([block[0], block[1]]) as usize;
    let mut without = Vec::with_capacity(bytes.len());
    without.extend_from_slice(&bytes[..header_end]);
    without.extend_from_slice(bytes.get(extension_end..)?);
    without[0] &= !0x10;
    Packet::unmarshal(&mut &without[..]).ok()
}

/// The key of an RFC 4733 event code (0–15), if it is one.
pub fn dtmf_key(event: u8) -> Option<char> {
    b"0123456789*#ABCD".get(event as usize).map(|&b| b as char)
}

/// Digits read from one leg's telephone-events: each event once, however many packets carry it.
#[derive(Debug, Default)]
pub struct DtmfReader {
    last_event_timestamp: Option<u32>,
}

impl DtmfReader {
    pub fn read(&mut self, packet: &Packet) -> Option<char> {
        let payload = &packet.payload;
        if payload.len() < 4 || self.last_event_timestamp == Some(packet.header.timestamp) {
            return None;
        }
        self.last_event_timestamp = Some(packet.header.timestamp);
        dtmf_key(payload[0])
    }
}

/// A call's recording: the caller on the left channel, the agent on the right, each laid out by
/// its RTP timestamps from where its first packet arrived, mixed into frames written once they
/// are a second old (late packets within that second still land in place).
#[derive(Debug, Default)]
pub struct Recording {
    /// Frames from sample `base` on, not yet written.
    pending: VecDeque<[i16; 2]>,
    base: u64,
    sources: [Option<RecordedSource>; 2],
}

/// Where a recorded source's first packet landed: its SSRC, RTP timestamp and sample index.
#[derive(Debug, Clone, Copy)]
struct RecordedSource {
    ssrc: u32,
    first_timestamp: u32,
    first_at: u64,
}

impl Recording {
    /// Adds `packet`'s audio on `channel` (0 caller, 1 agent) that arrived at sample `now`.
    pub fn add(&mut self, channel: usize, packet: &Packet, codec: Codec, now: u64) {
        if packet.header.payload_type != codec.payload_type() {
            return;
        }
        let source = match self.sources[channel] {
            Some(s) if s.ssrc == packet.header.ssrc => s,
            _ => {
                let s = RecordedSource { ssrc: packet.header.ssrc, first_timestamp: packet.header.timestamp, first_at: now };
                self.sources[channel] = Some(s);
                s
            }
        };
        // Where the source started plus how far its clock has run (its timestamps wrap as u32).
        let at = source.first_at + packet.header.timestamp.wrapping_sub(source.first_timestamp) as u64;
        if at < self.base || at > now + 8000 {
            return;
        }
        let from = (at - self.base) as usize;
        let needed = from + packet.payload.len();
        if self.pending.len() < needed {
            self.pending.resize(needed, [0, 0]);
        }
        for (i, &byte) in packet.payload.iter().enumerate() {
            let frame = &mut self.pending[from + i];
            frame[channel] = frame[channel].saturating_add(super::audio::decode(codec, byte));
        }
    }

    /// Frames older than a second before `now`, interleaved, to write.
    pub fn ready(&mut self, now: u64) -> Vec<i16> {
        let until = now.saturating_sub(8000).max(self.base);
        self.take((until - self.base) as usize)
    }

    /// Every frame left, at the end of the call.
    pub fn rest(&mut self) -> Vec<i16> {
        self.take(self.pending.len())
    }

    fn take(&mut self, frames: usize) -> Vec<i16> {
        let frames = frames.min(self.pending.len());
        self.base += frames as u64;
        // Silence the stream had no packet for is still time that passed.
        self.pending.drain(..frames).flatten().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(ssrc: u32, sequence: u16, timestamp: u32, payload_type: u8, payload: &[u8]) -> Packet {
        Packet { header: Header { version: 2, payload_type, sequence_number: sequence, timestamp, ssrc, ..Default::default() }, payload: payload.to_vec().into() }
    }

    fn reparse(bytes: &[u8]) -> Packet {
        parse(bytes).unwrap()
    }

    #[test]
    fn relayed_audio_continues_our_stream() {
        let mut out = Outbound::new(0x1234_5678_9abc_def0, Codec::Pcmu, Some(101));
        let prompt = reparse(&out.own(&[0; 160]));
        let first = reparse(&out.relay(&packet(77, 9000, 500_000, 0, &[1; 160]), Codec::Pcmu, Some(96)).unwrap());
        let second = reparse(&out.relay(&packet(77, 9001, 500_160, 0, &[2; 160]), Codec::Pcmu, Some(96)).unwrap());
        assert_eq!(first.header.ssrc, prompt.header.ssrc, "one SSRC toward the leg");
        assert_eq!(first.header.sequence_number, prompt.header.sequence_number.wrapping_add(1));
        assert_eq!(first.header.timestamp, prompt.header.timestamp.wrapping_add(160));
        assert_eq!(second.header.timestamp, first.header.timestamp.wrapping_add(160));
        assert!(first.header.marker && !second.header.marker, "a new source starts a talk spurt");
        assert_eq!(&second.payload[..], &[2; 160]);
        // The other leg's telephone-event type (96) becomes this leg's (101); PCMA is not ours.
        let event = reparse(&out.relay(&packet(77, 9002, 500_320, 96, &[1, 0x80, 0, 160]), Codec::Pcmu, Some(96)).unwrap());
        assert_eq!(event.header.payload_type, 101);
        assert!(out.relay(&packet(77, 9003, 500_480, 8, &[0; 160]), Codec::Pcma, Some(96)).is_none());
        // A new source after the prompt again is rebased, so the timestamps never jump back.
        let again = reparse(&out.own(&[0; 160]));
        let other = reparse(&out.relay(&packet(99, 1, 7, 0, &[3; 160]), Codec::Pcmu, None).unwrap());
        assert_eq!(other.header.timestamp, again.header.timestamp.wrapping_add(160));
    }

    #[test]
    fn packets_with_header_extensions_are_read_without_them_and_bad_ones_refused() {
        // Found by fuzzing: a one-byte extension element longer than its block.
        let crash = b"RI\xb2F=\x1d\x1a=WA\x00\x00\x00\x00\x00\x00\x00\x00\xc5\x04\x10\x00\x00\x01\x00\x00\x00\xe7\xff\xff\xff\x04\xff\x0a";
        assert!(parse(crash).is_none());
        let mut with = vec![0x90, 0, 0, 1, 0, 0, 0, 160, 0, 0, 0, 7];
        with.extend_from_slice(&[0xbe, 0xde, 0, 1, 0x10, 0xff, 0, 0]);
        with.extend_from_slice(&[0x55; 160]);
        let packet = parse(&with).unwrap();
        assert_eq!((packet.header.extension, packet.header.ssrc, packet.payload.len()), (false, 7, 160));
        assert!(parse(&with[..14]).is_none(), "cut inside the extension");
        assert!(parse(&[0x80; 11]).is_none() && parse(&[0x40; 20]).is_none(), "short, or not version 2");
    }

    #[test]
    fn losses_and_reordering_are_passed_on_not_hidden() {
        let mut out = Outbound::new(42, Codec::Pcmu, None);
        let first = reparse(&out.relay(&packet(7, 100, 1000, 0, &[0; 160]), Codec::Pcmu, None).unwrap());
        let after_loss = reparse(&out.relay(&packet(7, 102, 1320, 0, &[0; 160]), Codec::Pcmu, None).unwrap());
        let late = reparse(&out.relay(&packet(7, 101, 1160, 0, &[0; 160]), Codec::Pcmu, None).unwrap());
        assert_eq!(after_loss.header.sequence_number, first.header.sequence_number.wrapping_add(2), "a gap stays a gap");
        assert_eq!((late.header.sequence_number, late.header.timestamp), (first.header.sequence_number.wrapping_add(1), first.header.timestamp.wrapping_add(160)));
        let prompt = reparse(&out.own(&[0; 160]));
        assert_eq!(prompt.header.sequence_number, after_loss.header.sequence_number.wrapping_add(1), "our own audio goes on after the highest");
        assert_eq!(prompt.header.timestamp, after_loss.header.timestamp.wrapping_add(160));
    }

    #[test]
    fn each_digit_is_read_once() {
        let mut reader = DtmfReader::default();
        let one = |ts: u32, end: u8| packet(5, 0, ts, 101, &[1, end, 0, 160]);
        assert_eq!(reader.read(&one(1000, 0x0a)), Some('1'));
        assert_eq!(reader.read(&one(1000, 0x0a)), None);
        assert_eq!(reader.read(&one(1000, 0x8a)), None, "the end packets repeat the event");
        assert_eq!(reader.read(&packet(5, 0, 2000, 101, &[11, 0x8a, 0, 160])), Some('#'));
        assert_eq!(reader.read(&packet(5, 0, 3000, 101, &[40, 0, 0, 160])), None, "not a key");
        assert_eq!(reader.read(&packet(5, 0, 4000, 101, &[1])), None, "too short");
    }

    #[test]
    fn recording_lays_both_sides_out_by_rtp_time() {
        let mut recording = Recording::default();
        let pcmu_half = super::super::audio::linear_to_ulaw(1000);
        recording.add(0, &packet(1, 0, 100, 0, &[pcmu_half; 160]), Codec::Pcmu, 0);
        // The agent's packet arrives late but belongs 160 samples in.
        recording.add(1, &packet(2, 0, 50, 0, &[pcmu_half; 160]), Codec::Pcmu, 160);
        recording.add(0, &packet(1, 1, 260, 0, &[pcmu_half; 160]), Codec::Pcmu, 170);
        assert!(recording.ready(4000).is_empty(), "kept a second for late packets");
        let frames = recording.rest();
        assert_eq!(frames.len(), 2 * 320);
        let value = super::super::audio::ulaw_to_linear(pcmu_half);
        assert_eq!((frames[0], frames[1]), (value, 0), "the caller alone at first");
        assert_eq!((frames[2 * 200], frames[2 * 200 + 1]), (value, value), "both at 200");
    }
}
