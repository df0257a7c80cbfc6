//! SDP offer/answer (RFC 3264) for one audio stream: G.711 (PCMU, PCMA) and RFC 4733
//! telephone-events. Only what the ACD needs is read — where to send RTP, which codecs the peer
//! offers, and the direction (hold is `sendonly` or `inactive`, RFC 3264 §8.4).

use std::net::{IpAddr, SocketAddr};

/// The G.711 law a leg speaks; the ACD never transcodes, so both legs of a call share one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    Pcmu,
    Pcma,
}

impl Codec {
    /// The static RTP payload type (RFC 3551).
    pub fn payload_type(self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

impl Direction {
    fn attribute(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// A peer sending `sendonly` (or `inactive`) puts the other side on hold.
    pub fn is_hold(self) -> bool {
        matches!(self, Direction::SendOnly | Direction::Inactive)
    }
}

/// What a peer's SDP says about its audio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    /// Where the peer receives RTP (port 0: the stream is refused).
    pub address: SocketAddr,
    /// G.711 laws offered, in the peer's order of preference.
    pub codecs: Vec<Codec>,
    /// The payload type of `telephone-event/8000`, if offered.
    pub telephone_event: Option<u8>,
    pub direction: Direction,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdpError {
    #[error("SDP is not text")]
    NotText,
    #[error("SDP has no audio stream")]
    NoAudio,
    #[error("SDP has no usable connection address")]
    NoAddress,
    #[error("SDP offers neither PCMU nor PCMA")]
    NoCommonCodec,
}

impl Media {
    pub fn parse(body: &[u8]) -> Result<Self, SdpError> {
        let text = std::str::from_utf8(body).map_err(|_| SdpError::NotText)?;
        let mut session_address: Option<IpAddr> = None;
        let mut media_address: Option<IpAddr> = None;
        let mut port: Option<u16> = None;
        let mut formats: Vec<u8> = Vec::new();
        let mut rtpmap: Vec<(u8, String)> = Vec::new();
        let mut direction = Direction::SendRecv;
        let mut in_audio = false;
        let mut seen_audio = false;
        let mut seen_media = false;
        for line in text.lines() {
            let line = line.trim_end();
            let Some((kind, value)) = line.split_once('=') else { continue };
            match kind {
                "m" => {
                    // Only the first audio stream counts; others (video) are left alone.
                    seen_media = true;
                    in_audio = !seen_audio && value.starts_with("audio ");
                    if in_audio {
                        seen_audio = true;
                        let mut parts = value.split_whitespace().skip(1);
                        port = parts.next().and_then(|p| p.parse().ok());
                        formats = parts.skip(1).filter_map(|f| f.parse().ok()).collect();
                    }
                }
                "c" => {
                    let address = value.split_whitespace().nth(2).and_then(|a| a.split('/').next()).and_then(|a| a.parse().ok());
                    if in_audio {
                        media_address = address;
                    } else if !seen_media {
                        session_address = address;
                    }
                }
                "a" if in_audio || !seen_media => match value {
                    "sendrecv" => direction = Direction::SendRecv,
                    "sendonly" => direction = Direction::SendOnly,
                    "recvonly" => direction = Direction::RecvOnly,
                    "inactive" => direction = Direction::Inactive,
                    _ => {
                        if let Some((pt, name)) = value.strip_prefix("rtpmap:").and_then(|m| m.split_once(' '))
                            && let Ok(pt) = pt.trim().parse()
                        {
                            rtpmap.push((pt, name.trim().to_ascii_lowercase()));
                        }
                    }
                },
                _ => {}
            }
        }
        let port = port.ok_or(SdpError::NoAudio)?;
        let ip = media_address.or(session_address).ok_or(SdpError::NoAddress)?;
        let named = |pt: u8| rtpmap.iter().find(|(p, _)| *p == pt).map(|(_, n)| n.as_str());
        let codecs: Vec<Codec> = formats
            .iter()
            .filter_map(|&pt| match (pt, named(pt)) {
                (0, _) => Some(Codec::Pcmu),
                (8, _) => Some(Codec::Pcma),
                (_, Some(n)) if n.starts_with("pcmu/8000") => Some(Codec::Pcmu),
                (_, Some(n)) if n.starts_with("pcma/8000") => Some(Codec::Pcma),
                _ => None,
            })
            .collect();
        let telephone_event = formats.iter().copied().find(|&pt| named(pt).is_some_and(|n| n.starts_with("telephone-event/8000")));
        // An old-style hold (RFC 2543): the connection address 0.0.0.0.
        if ip.is_unspecified() {
            direction = Direction::Inactive;
        }
        Ok(Self { address: SocketAddr::new(ip, port), codecs, telephone_event, direction })
    }

    /// The codec to answer with: the peer's first G.711 law.
    pub fn preferred(&self) -> Result<Codec, SdpError> {
        self.codecs.first().copied().ok_or(SdpError::NoCommonCodec)
    }
}

/// This side's SDP: one audio stream at `address`, the given codecs, telephone-events with the
/// payload type given (an answer repeats the offer's, RFC 3264 §6.1; none when it had none), and
/// a direction. `version` goes up each time a dialog's SDP changes.
pub fn describe(session_id: u64, version: u64, address: SocketAddr, codecs: &[Codec], telephone_event: Option<u8>, direction: Direction) -> Vec<u8> {
    let ip = address.ip();
    let family = if ip.is_ipv4() { "IP4" } else { "IP6" };
    let formats: Vec<String> = codecs.iter().map(|c| c.payload_type().to_string()).chain(telephone_event.map(|pt| pt.to_string())).collect();
    let mut sdp = format!(
        "v=0\r\no=wfm {session_id} {version} IN {family} {ip}\r\ns=wfm\r\nc=IN {family} {ip}\r\nt=0 0\r\nm=audio {} RTP/AVP {}\r\n",
        address.port(),
        formats.join(" ")
    );
    for codec in codecs {
        sdp.push_str(&format!("a=rtpmap:{} {}/8000\r\n", codec.payload_type(), codec.name()));
    }
    if let Some(pt) = telephone_event {
        sdp.push_str(&format!("a=rtpmap:{pt} telephone-event/8000\r\na=fmtp:{pt} 0-16\r\n"));
    }
    sdp.push_str("a=ptime:20\r\n");
    sdp.push_str(&format!("a={}\r\n", direction.attribute()));
    sdp.into_bytes()
}

/// The direction that answers an offered one (RFC 3264 §6.1).
pub fn answer_direction(offered: Direction) -> Direction {
    match offered {
        Direction::SendRecv => Direction::SendRecv,
        Direction::SendOnly => Direction::RecvOnly,
        Direction::RecvOnly => Direction::SendOnly,
        Direction::Inactive => Direction::Inactive,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIPP_OFFER: &str = "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
        m=audio 6000 RTP/AVP 8 0 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-11,16\r\n";

    #[test]
    fn reads_an_offer() {
        let m = Media::parse(SIPP_OFFER.as_bytes()).unwrap();
        assert_eq!(m.address, "127.0.0.1:6000".parse().unwrap());
        assert_eq!(m.codecs, vec![Codec::Pcma, Codec::Pcmu]);
        assert_eq!(m.telephone_event, Some(101));
        assert_eq!(m.direction, Direction::SendRecv);
        assert_eq!(m.preferred(), Ok(Codec::Pcma));
    }

    #[test]
    fn hold_and_refusals() {
        let hold = SIPP_OFFER.replace("a=fmtp:101 0-11,16\r\n", "a=sendonly\r\n");
        assert!(Media::parse(hold.as_bytes()).unwrap().direction.is_hold());
        let old_hold = SIPP_OFFER.replace("c=IN IP4 127.0.0.1", "c=IN IP4 0.0.0.0");
        assert_eq!(Media::parse(old_hold.as_bytes()).unwrap().direction, Direction::Inactive);
        let g729 = SIPP_OFFER.replace("RTP/AVP 8 0 101", "RTP/AVP 18");
        assert_eq!(Media::parse(g729.as_bytes()).unwrap().preferred(), Err(SdpError::NoCommonCodec));
        assert_eq!(Media::parse(b"v=0\r\n"), Err(SdpError::NoAudio));
        assert_eq!(Media::parse(b"m=audio 5 RTP/AVP 0\r\n"), Err(SdpError::NoAddress));
    }

    #[test]
    fn our_description_reads_back() {
        let address: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        let sdp = describe(7, 2, address, &[Codec::Pcmu], Some(96), Direction::RecvOnly);
        let m = Media::parse(&sdp).unwrap();
        assert_eq!((m.address, m.codecs, m.telephone_event, m.direction), (address, vec![Codec::Pcmu], Some(96), Direction::RecvOnly));
        let without = Media::parse(&describe(7, 2, address, &[Codec::Pcma], None, Direction::SendRecv)).unwrap();
        assert_eq!((without.codecs, without.telephone_event), (vec![Codec::Pcma], None));
    }

    #[test]
    fn a_video_stream_first_does_not_speak_for_the_audio() {
        let offer = "v=0\r\no=x 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 5000 RTP/AVP 96\r\nc=IN IP4 10.0.0.9\r\na=sendonly\r\n\
                     m=audio 6000 RTP/AVP 0\r\nc=IN IP4 10.0.0.1\r\n";
        let m = Media::parse(offer.as_bytes()).unwrap();
        assert_eq!((m.address, m.direction), ("10.0.0.1:6000".parse().unwrap(), Direction::SendRecv));
    }
}
