//! SIP messages (RFC 3261 §7): parsing from bytes and writing back, without I/O.
//!
//! A message is a start line, headers in their order (compact names expanded, so `v` is read as
//! `Via`) and a body whose length `Content-Length` gives. Parsing is strict where a wrong
//! reading would be dangerous (start line, Content-Length, sizes) and lenient where peers vary
//! (header-name case, whitespace, folded lines).

use std::net::SocketAddr;
use std::fmt;

/// Largest message accepted: a UDP datagram's practical limit, and far beyond any real
/// REGISTER, INVITE with SDP or REFER.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// More headers than this (Content-Length aside) is a flood, not a message.
pub const MAX_HEADERS: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    Invite,
    Ack,
    Bye,
    Cancel,
    Options,
    Register,
    Refer,
    Notify,
    Info,
    Other(String),
}

impl Method {
    pub fn parse(s: &str) -> Self {
        match s {
            "INVITE" => Self::Invite,
            "ACK" => Self::Ack,
            "BYE" => Self::Bye,
            "CANCEL" => Self::Cancel,
            "OPTIONS" => Self::Options,
            "REGISTER" => Self::Register,
            "REFER" => Self::Refer,
            "NOTIFY" => Self::Notify,
            "INFO" => Self::Info,
            other => Self::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Invite => "INVITE",
            Self::Ack => "ACK",
            Self::Bye => "BYE",
            Self::Cancel => "CANCEL",
            Self::Options => "OPTIONS",
            Self::Register => "REGISTER",
            Self::Refer => "REFER",
            Self::Notify => "NOTIFY",
            Self::Info => "INFO",
            Self::Other(s) => s,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartLine {
    Request { method: Method, uri: String },
    Response { status: u16, reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub start: StartLine,
    /// (canonical name, value) in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("message of {0} bytes is larger than {MAX_MESSAGE_BYTES}")]
    TooLarge(usize),
    #[error("no blank line ends the headers")]
    Unterminated,
    #[error("headers are not UTF-8")]
    NotText,
    #[error("bad start line {0:?}")]
    StartLine(String),
    #[error("header line without a colon: {0:?}")]
    HeaderLine(String),
    #[error("more than {MAX_HEADERS} headers")]
    TooManyHeaders,
    #[error("Content-Length {0:?} is not a byte count")]
    ContentLength(String),
    #[error("Content-Length {declared} but {available} bytes follow the headers")]
    ShortBody { declared: usize, available: usize },
    #[error("missing {0} header")]
    Missing(&'static str),
}

/// Compact forms (RFC 3261 §7.3.3 and extensions) and the canonical spelling of common names.
fn canonical_name(name: &str) -> String {
    let known = [
        ("v", "Via"),
        ("f", "From"),
        ("t", "To"),
        ("i", "Call-ID"),
        ("m", "Contact"),
        ("l", "Content-Length"),
        ("c", "Content-Type"),
        ("k", "Supported"),
        ("s", "Subject"),
        ("r", "Refer-To"),
        ("b", "Referred-By"),
        ("e", "Content-Encoding"),
        ("o", "Event"),
        ("u", "Allow-Events"),
    ];
    if let Some((_, long)) = known.iter().find(|(short, _)| short.eq_ignore_ascii_case(name)) {
        return (*long).to_owned();
    }
    let full = [
        "Via", "From", "To", "Call-ID", "CSeq", "Contact", "Content-Length", "Content-Type", "Max-Forwards", "Expires", "Authorization",
        "WWW-Authenticate", "User-Agent", "Allow", "Supported", "Route", "Record-Route", "Refer-To", "Referred-By", "Event", "Server",
    ];
    full.iter().find(|f| f.eq_ignore_ascii_case(name)).map_or_else(|| name.to_owned(), |f| (*f).to_owned())
}

/// The length of the first whole message in a stream buffer (TCP), if it has arrived.
pub fn frame_len(buffer: &[u8]) -> Result<Option<usize>, ParseError> {
    // Keep-alive CRLFs between messages (RFC 5626) are skipped by the caller as whole "messages".
    let leading = buffer.iter().take_while(|b| matches!(b, b'\r' | b'\n')).count();
    if leading > 0 {
        return Ok(Some(leading));
    }
    let Some(end) = find(buffer, b"\r\n\r\n") else {
        return if buffer.len() > MAX_MESSAGE_BYTES { Err(ParseError::TooLarge(buffer.len())) } else { Ok(None) };
    };
    let head = std::str::from_utf8(&buffer[..end]).map_err(|_| ParseError::NotText)?;
    let length = head
        .split("\r\n")
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| canonical_name(name.trim()) == "Content-Length")
        .map(|(_, v)| v.trim().parse::<usize>().map_err(|_| ParseError::ContentLength(v.trim().to_owned())))
        .transpose()?
        // Over a stream a missing Content-Length means no body (RFC 3261 §18.3 requires it).
        .unwrap_or(0);
    // A Content-Length near usize::MAX must not wrap the sum into a small frame.
    let total = end.checked_add(4).and_then(|head| head.checked_add(length)).filter(|total| *total <= MAX_MESSAGE_BYTES).ok_or(ParseError::TooLarge(length))?;
    Ok((buffer.len() >= total).then_some(total))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

impl Message {
    /// Parses one whole message (a datagram, or a frame cut by [`frame_len`]).
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        if bytes.len() > MAX_MESSAGE_BYTES {
            return Err(ParseError::TooLarge(bytes.len()));
        }
        let end = find(bytes, b"\r\n\r\n").ok_or(ParseError::Unterminated)?;
        let head = std::str::from_utf8(&bytes[..end]).map_err(|_| ParseError::NotText)?;
        let mut lines = head.split("\r\n");
        let first = lines.next().unwrap_or_default();
        let start = parse_start_line(first)?;
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in lines {
            if line.starts_with([' ', '\t']) {
                // A folded continuation of the previous header (RFC 3261 §7.3.1).
                let Some(last) = headers.last_mut() else { return Err(ParseError::HeaderLine(line.to_owned())) };
                last.1.push(' ');
                last.1.push_str(line.trim());
                continue;
            }
            let (name, value) = line.split_once(':').ok_or_else(|| ParseError::HeaderLine(truncate(line)))?;
            let name = name.trim();
            if name.is_empty() || name.contains(char::is_whitespace) {
                return Err(ParseError::HeaderLine(truncate(line)));
            }
            let name = canonical_name(name);
            // Content-Length is not counted: writing a message adds one when it had none.
            if name != "Content-Length" && headers.iter().filter(|(n, _)| n != "Content-Length").count() == MAX_HEADERS {
                return Err(ParseError::TooManyHeaders);
            }
            headers.push((name, value.trim().to_owned()));
        }
        let available = bytes.len() - end - 4;
        let body_len = match headers.iter().find(|(n, _)| n == "Content-Length") {
            Some((_, v)) => {
                let declared = v.parse::<usize>().map_err(|_| ParseError::ContentLength(v.clone()))?;
                if declared > available {
                    return Err(ParseError::ShortBody { declared, available });
                }
                declared
            }
            // Over UDP the datagram's end ends the body (RFC 3261 §18.3).
            None => available,
        };
        let message = Self { start, headers, body: bytes[end + 4..end + 4 + body_len].to_vec() };
        for required in ["Via", "From", "To", "Call-ID", "CSeq"] {
            if message.header(required).is_none() {
                return Err(ParseError::Missing(required));
            }
        }
        message.cseq().ok_or(ParseError::Missing("CSeq"))?;
        Ok(message)
    }

    /// The first value of a header, by canonical name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Every value of a header, in order (comma-separated values of one line kept together).
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers.iter().filter(move |(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The `Record-Route` values in order, each one URI (a line may hold several, comma-separated).
    pub fn record_route(&self) -> Vec<String> {
        self.headers_named("Record-Route").flat_map(split_values).map(str::to_owned).collect()
    }

    /// An INVITE outside any dialog (no tag in its To): a new call.
    pub fn is_new_call(&self) -> bool {
        self.method() == Some(&Method::Invite) && self.header("To").is_some_and(|to| param(to, "tag").is_none())
    }

    pub fn call_id(&self) -> &str {
        self.header("Call-ID").unwrap_or_default()
    }

    /// Sequence number and method of `CSeq`.
    pub fn cseq(&self) -> Option<(u32, Method)> {
        let (number, method) = self.header("CSeq")?.split_once(char::is_whitespace)?;
        Some((number.trim().parse().ok()?, Method::parse(method.trim())))
    }

    pub fn status(&self) -> Option<u16> {
        match &self.start {
            StartLine::Response { status, .. } => Some(*status),
            StartLine::Request { .. } => None,
        }
    }

    pub fn method(&self) -> Option<&Method> {
        match &self.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }

    /// The `branch` parameter of the top Via: with the method, a transaction's key.
    /// Marks the top Via of a request from `from` as RFC 3261 §18.2.1 and RFC 3581 (`rport`)
    /// ask: `received` when the sent-by host is not the address the request came from, and the
    /// `rport` the sender asked for filled with its source port. Every response built from the
    /// request then tells a phone behind NAT where it is seen.
    pub fn stamp_received(&mut self, from: SocketAddr) {
        if !matches!(self.start, StartLine::Request { .. }) {
            return;
        }
        let Some((_, via)) = self.headers.iter_mut().find(|(name, _)| name == "Via") else { return };
        let (top, others) = via.split_at(via.find(',').unwrap_or(via.len()));
        let mut parts: Vec<String> = top.split(';').map(|p| p.trim().to_owned()).collect();
        let sent_by = parts[0].split_whitespace().nth(1).unwrap_or_default();
        let host = if sent_by.starts_with('[') { sent_by.split_inclusive(']').next().unwrap_or_default().trim_matches(['[', ']']) } else { sent_by.split(':').next().unwrap_or_default() }.to_owned();
        let rport = parts.iter().skip(1).position(|p| p.eq_ignore_ascii_case("rport")).map(|i| i + 1);
        if let Some(i) = rport {
            parts[i] = format!("rport={}", from.port());
        }
        let has_received = parts.iter().skip(1).any(|p| p.to_ascii_lowercase().starts_with("received="));
        if (rport.is_some() || host != from.ip().to_string()) && !has_received {
            parts.push(format!("received={}", from.ip()));
        }
        *via = format!("{}{others}", parts.join(";"));
    }

    pub fn branch(&self) -> Option<&str> {
        param(self.header("Via")?, "branch")
    }

    /// Writes the message with a correct Content-Length.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = String::with_capacity(256 + self.body.len());
        match &self.start {
            StartLine::Request { method, uri } => out.push_str(&format!("{method} {uri} SIP/2.0\r\n")),
            StartLine::Response { status, reason } => out.push_str(&format!("SIP/2.0 {status} {reason}\r\n")),
        }
        for (name, value) in self.headers.iter().filter(|(n, _)| n != "Content-Length") {
            out.push_str(name);
            out.push_str(": ");
            out.push_str(value);
            out.push_str("\r\n");
        }
        out.push_str(&format!("Content-Length: {}\r\n\r\n", self.body.len()));
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }

    /// A response to this request (RFC 3261 §8.2.6): Via, From, Call-ID and CSeq copied, To
    /// copied with `to_tag` added when it has none; `Record-Route` copied into a response that
    /// makes a dialog of an INVITE (§12.1.1), so that the proxies on the way stay on it.
    pub fn response(&self, status: u16, reason: &str, to_tag: &str) -> Self {
        let makes_dialog = self.method() == Some(&Method::Invite) && (101..300).contains(&status);
        let mut headers: Vec<(String, String)> = Vec::new();
        for (name, value) in &self.headers {
            match name.as_str() {
                "Via" | "From" | "Call-ID" | "CSeq" => headers.push((name.clone(), value.clone())),
                "Record-Route" if makes_dialog => headers.push((name.clone(), value.clone())),
                "To" if param(value, "tag").is_none() && status != 100 => headers.push((name.clone(), format!("{value};tag={to_tag}"))),
                "To" => headers.push((name.clone(), value.clone())),
                _ => {}
            }
        }
        Self { start: StartLine::Response { status, reason: reason.to_owned() }, headers, body: Vec::new() }
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }
}

/// The values of a header line that may hold several, split at the commas outside `<…>` and
/// quotes (RFC 3261 §7.3.1).
pub fn split_values(line: &str) -> impl Iterator<Item = &str> {
    let (mut start, mut depth, mut quoted, mut cuts) = (0, 0u32, false, Vec::new());
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '<' if !quoted => depth += 1,
            '>' if !quoted => depth = depth.saturating_sub(1),
            ',' if !quoted && depth == 0 => {
                cuts.push(&line[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    cuts.push(&line[start..]);
    cuts.into_iter().map(str::trim).filter(|v| !v.is_empty())
}

fn truncate(s: &str) -> String {
    s.chars().take(80).collect()
}

fn parse_start_line(line: &str) -> Result<StartLine, ParseError> {
    let bad = || ParseError::StartLine(truncate(line));
    if let Some(rest) = line.strip_prefix("SIP/2.0 ") {
        let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
        let status = code.parse::<u16>().ok().filter(|s| (100..700).contains(s)).ok_or_else(bad)?;
        return Ok(StartLine::Response { status, reason: reason.to_owned() });
    }
    let mut parts = line.split(' ');
    let (Some(method), Some(uri), Some("SIP/2.0"), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let token = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b));
    if !token(method) || uri.is_empty() || !uri.contains(':') {
        return Err(bad());
    }
    Ok(StartLine::Request { method: Method::parse(method), uri: uri.to_owned() })
}

/// A `;name=value` parameter of a header value (outside `<…>`), unquoted.
pub fn param<'a>(value: &'a str, name: &str) -> Option<&'a str> {
    let outside = value.rfind('>').map_or(value, |i| &value[i + 1..]);
    outside.split(';').skip(1).filter_map(|p| p.split_once('=')).find(|(k, _)| k.trim().eq_ignore_ascii_case(name)).map(|(_, v)| v.trim().trim_matches('"'))
}

/// The host of a SIP URI (in a header value or bare), without port or parameters.
pub fn uri_host(value: &str) -> Option<&str> {
    let uri = match (value.find('<'), value.find('>')) {
        (Some(open), Some(close)) if open < close => &value[open + 1..close],
        _ => value.split(';').next().unwrap_or(value),
    };
    let rest = uri.trim().strip_prefix("sip:").or_else(|| uri.trim().strip_prefix("sips:"))?;
    let host_port = rest.rsplit_once('@').map_or(rest, |(_, h)| h).split(';').next()?;
    let host = if host_port.starts_with('[') { host_port.split_inclusive(']').next()? } else { host_port.split(':').next()? };
    Some(host).filter(|h| !h.is_empty())
}

/// A caller-supplied user part made safe to write back into a SIP URI: letters, digits and
/// `+ * . _ - ! ~` kept, anything else percent-encoded (RFC 3261 §25.1 `escaped`), at most 64
/// characters kept, so that no header can be forged through it.
pub fn escape_user(user: &str) -> String {
    user.chars().take(64).map(|c| if c.is_ascii_alphanumeric() || "+*._-!~".contains(c) { c.to_string() } else { c.to_string().bytes().map(|b| format!("%{b:02X}")).collect() }).collect()
}

/// The user part of a SIP URI in a header value: `"Bob" <sip:1001@host>;tag=x` → `1001`.
pub fn uri_user(value: &str) -> Option<&str> {
    let uri = match (value.find('<'), value.find('>')) {
        (Some(open), Some(close)) if open < close => &value[open + 1..close],
        _ => value.split(';').next().unwrap_or(value),
    };
    let rest = uri.trim().strip_prefix("sip:").or_else(|| uri.trim().strip_prefix("sips:"))?;
    let user = rest.split_once('@')?.0;
    Some(user.split(';').next().unwrap_or(user)).filter(|u| !u.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGISTER: &str = "REGISTER sip:127.0.0.1 SIP/2.0\r\n\
        Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1\r\n\
        f: <sip:1001@127.0.0.1>;tag=abc\r\n\
        t: <sip:1001@127.0.0.1>\r\n\
        i: call-1\r\n\
        CSeq: 1 REGISTER\r\n\
        Contact: <sip:1001@127.0.0.1:5061>\r\n\
        Subject: folded\r\n  continues\r\n\
        Content-Length: 0\r\n\r\n";

    #[test]
    fn reads_compact_and_folded_headers() {
        let m = Message::parse(REGISTER.as_bytes()).unwrap();
        assert_eq!(m.method(), Some(&Method::Register));
        assert_eq!(m.call_id(), "call-1");
        assert_eq!(m.cseq(), Some((1, Method::Register)));
        assert_eq!(m.branch(), Some("z9hG4bK-1"));
        assert_eq!(m.header("Subject"), Some("folded continues"));
        assert_eq!(uri_user(m.header("From").unwrap()), Some("1001"));
        assert_eq!(param(m.header("From").unwrap(), "tag"), Some("abc"));
    }

    #[test]
    fn a_response_copies_what_it_must_and_tags_to() {
        let m = Message::parse(REGISTER.as_bytes()).unwrap();
        let r = m.response(200, "OK", "srv1").with_header("Expires", "60");
        let again = Message::parse(&r.to_bytes()).unwrap();
        assert_eq!(again.start, StartLine::Response { status: 200, reason: "OK".into() });
        assert_eq!(again.header("To"), Some("<sip:1001@127.0.0.1>;tag=srv1"));
        assert_eq!(again.header("Via"), m.header("Via"));
        assert_eq!(again.header("Expires"), Some("60"));
    }

    #[test]
    fn caller_strings_are_escaped_before_they_go_back_into_sip() {
        assert_eq!(escape_user("+48600100200"), "+48600100200");
        assert_eq!(escape_user("a>;tag=x\"b"), "a%3E%3Btag%3Dx%22b");
        assert_eq!(escape_user("żółw"), "%C5%BC%C3%B3%C5%82w");
        assert_eq!(escape_user(&"9".repeat(500)).len(), 64);
    }

    #[test]
    fn the_top_via_learns_where_the_request_came_from() {
        let behind_nat = REGISTER.replace("Via: SIP/2.0/UDP ", "Via: SIP/2.0/UDP 10.0.0.5:5060;rport;x=1, SIP/2.0/UDP proxy:5060;branch=z9hG4bK-p\r\nVia: SIP/2.0/UDP ");
        let mut m = Message::parse(behind_nat.as_bytes()).unwrap();
        m.stamp_received("203.0.113.9:61234".parse().unwrap());
        assert!(m.header("Via").unwrap().starts_with("SIP/2.0/UDP 10.0.0.5:5060;rport=61234;x=1;received=203.0.113.9, SIP/2.0/UDP proxy"), "{}", m.header("Via").unwrap());
        let mut direct = Message::parse(REGISTER.as_bytes()).unwrap();
        let before = direct.header("Via").unwrap().to_owned();
        let sent_by = before.split_whitespace().nth(1).unwrap().split(';').next().unwrap().to_owned();
        direct.stamp_received(sent_by.parse().unwrap());
        assert_eq!(direct.header("Via").unwrap(), before, "nothing to add when it came from where it says");
    }

    #[test]
    fn header_values_split_at_commas_outside_brackets_and_quotes() {
        let values: Vec<&str> = split_values(r#"<sip:a;lr>, "b, c" <sip:b>,<sip:c?x=1,2>, "#).collect();
        assert_eq!(values, ["<sip:a;lr>", r#""b, c" <sip:b>"#, "<sip:c?x=1,2>"]);
    }

    #[test]
    fn bodies_and_streams_follow_content_length() {
        let with_body = REGISTER.replace("Content-Length: 0", "Content-Length: 4") + "abcdEXTRA";
        assert_eq!(Message::parse(with_body.as_bytes()).unwrap().body, b"abcd");
        let stream = with_body;
        let first = frame_len(stream.as_bytes()).unwrap().unwrap();
        assert_eq!(&stream.as_bytes()[first..], b"EXTRA");
        assert_eq!(frame_len(&stream.as_bytes()[..40]).unwrap(), None, "not all there yet");
        assert_eq!(frame_len(b"\r\n\r\nREG").unwrap(), Some(4), "keep-alives");
        let huge = REGISTER.replace("Content-Length: 0", "Content-Length: 18446744073709551615");
        assert!(matches!(frame_len(huge.as_bytes()), Err(ParseError::TooLarge(_))), "a length that would wrap the sum is refused");
    }

    #[test]
    fn refuses_what_it_cannot_trust() {
        type Expected = fn(&ParseError) -> bool;
        let with = |from: &str, to: &str| REGISTER.replace(from, to).into_bytes();
        let cases: Vec<(Vec<u8>, Expected)> = vec![
            (b"garbage".to_vec(), |e| matches!(e, ParseError::Unterminated)),
            (b"HELLO\r\n\r\n".to_vec(), |e| matches!(e, ParseError::StartLine(_))),
            (with("Content-Length: 0", "Content-Length: 99"), |e| matches!(e, ParseError::ShortBody { .. })),
            (with("Content-Length: 0", "Content-Length: -1"), |e| matches!(e, ParseError::ContentLength(_))),
            (with("i: call-1\r\n", ""), |e| matches!(e, ParseError::Missing("Call-ID"))),
            (vec![b'x'; MAX_MESSAGE_BYTES + 1], |e| matches!(e, ParseError::TooLarge(_))),
        ];
        for (bytes, expected) in cases {
            let e = Message::parse(&bytes).unwrap_err();
            assert!(expected(&e), "{e:?}");
        }
        let flood = REGISTER.replace("Content-Length: 0\r\n", &"X-A: 1\r\n".repeat(MAX_HEADERS + 1));
        assert_eq!(Message::parse(flood.as_bytes()).unwrap_err(), ParseError::TooManyHeaders);
        // The most headers allowed, without Content-Length, still round-trips (found by fuzzing:
        // writing adds a Content-Length).
        let full = REGISTER.replace("Content-Length: 0\r\n", &"X-A: 1\r\n".repeat(MAX_HEADERS - 7));
        let m = Message::parse(full.as_bytes()).unwrap();
        assert_eq!(m.headers.len(), MAX_HEADERS);
        assert_eq!(Message::parse(&m.to_bytes()).unwrap().body, m.body);
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_round_trips(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600), cut in 0usize..400) {
            let _ = Message::parse(&bytes);
            let _ = frame_len(&bytes);
            let text = REGISTER.as_bytes();
            let _ = Message::parse(&text[..cut.min(text.len())]);
            if let Ok(m) = Message::parse(text) {
                proptest::prop_assert_eq!(Message::parse(&m.to_bytes()).unwrap(), m);
            }
        }
    }
}
