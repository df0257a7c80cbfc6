#![no_main]
//! Any bytes as what the media layer reads from the network or a user's file: an SDP body, an
//! RTP packet (digits read, relayed, recorded) and a prompt WAV. Nothing panics; SDP written
//! for what was read parses back to it.

use libfuzzer_sys::fuzz_target;
use wfm_telephony::media::audio::read_g711_wav;
use wfm_telephony::media::stream::{self, DtmfReader, Outbound, Recording};
use wfm_telephony::sip::sdp::{self, Codec, Media};

fuzz_target!(|data: &[u8]| {
    if let Ok(media) = Media::parse(data)
        && let Ok(codec) = media.preferred()
    {
        let ours = sdp::describe(1, 1, media.address, &[codec], media.telephone_event, sdp::answer_direction(media.direction));
        let back = Media::parse(&ours).expect("our SDP parses");
        assert_eq!((back.address, back.codecs), (media.address, vec![codec]));
    }
    if let Some(packet) = stream::parse(data) {
        let _ = DtmfReader::default().read(&packet);
        let mut out = Outbound::new(7, Codec::Pcmu, Some(101));
        if let Some(bytes) = out.relay(&packet, Codec::Pcmu, Some(packet.header.payload_type)) {
            stream::parse(&bytes).expect("a relayed packet parses");
        }
        let mut recording = Recording::default();
        recording.add(0, &packet, Codec::Pcmu, 8000);
        let _ = recording.rest();
    }
    let _ = read_g711_wav("fuzz.wav", data);
});
