//! HTTP Digest authentication as SIP uses it (RFC 2617, RFC 3261 §22.4): MD5, `qop=auth` or none.

use md5::{Digest, Md5};

/// The parameters of an `Authorization: Digest …` header.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Credentials {
    pub username: String,
    pub realm: String,
    pub nonce: String,
    pub uri: String,
    pub response: String,
    pub qop: Option<String>,
    pub nc: Option<String>,
    pub cnonce: Option<String>,
}

impl Credentials {
    /// Reads `Digest username="1001", realm="wfm", …`; none when it is not Digest or lacks a
    /// required parameter.
    pub fn parse(header: &str) -> Option<Self> {
        let rest = header.trim().strip_prefix("Digest")?.trim_start();
        let mut c = Self::default();
        for (key, value) in split_params(rest) {
            match key.to_ascii_lowercase().as_str() {
                "username" => c.username = value,
                "realm" => c.realm = value,
                "nonce" => c.nonce = value,
                "uri" => c.uri = value,
                "response" => c.response = value.to_ascii_lowercase(),
                "qop" => c.qop = Some(value),
                "nc" => c.nc = Some(value),
                "cnonce" => c.cnonce = Some(value),
                _ => {}
            }
        }
        let complete = [&c.username, &c.realm, &c.nonce, &c.uri, &c.response].iter().all(|v| !v.is_empty());
        complete.then_some(c)
    }

    /// Whether `response` proves knowledge of `password` for `method`.
    pub fn verify(&self, method: &str, password: &str) -> bool {
        let expected = response(&self.username, &self.realm, password, method, &self.uri, &self.nonce, self.qop.as_deref().zip(self.nc.as_deref()).zip(self.cnonce.as_deref()).map(|((q, n), c)| (q, n, c)));
        constant_time_eq(expected.as_bytes(), self.response.as_bytes())
    }
}

/// `key=value` pairs separated by commas, values quoted or not (commas inside quotes kept).
fn split_params(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(eq) = rest.find('=') {
        let key = rest[..eq].trim().trim_start_matches(',').trim().to_owned();
        let after = rest[eq + 1..].trim_start();
        let (value, remainder) = if let Some(quoted) = after.strip_prefix('"') {
            match quoted.find('"') {
                Some(end) => (quoted[..end].to_owned(), &quoted[end + 1..]),
                None => (quoted.to_owned(), ""),
            }
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_owned(), &after[end..])
        };
        out.push((key, value));
        rest = remainder.trim_start().trim_start_matches(',');
    }
    out
}

/// Lower-case hexadecimal, as digests, nonces and generated secrets are written.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Equality that takes as long whatever the bytes, for secrets and values derived from them.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn hex_md5(text: &str) -> String {
    hex(&Md5::digest(text.as_bytes()))
}

/// The digest `response` (RFC 2617 §3.2.2.1); `qop` is (qop, nc, cnonce) when used.
pub fn response(username: &str, realm: &str, password: &str, method: &str, uri: &str, nonce: &str, qop: Option<(&str, &str, &str)>) -> String {
    let ha1 = hex_md5(&format!("{username}:{realm}:{password}"));
    let ha2 = hex_md5(&format!("{method}:{uri}"));
    match qop {
        Some((qop, nc, cnonce)) => hex_md5(&format!("{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")),
        None => hex_md5(&format!("{ha1}:{nonce}:{ha2}")),
    }
}

/// A `WWW-Authenticate` challenge.
pub fn challenge(realm: &str, nonce: &str, stale: bool) -> String {
    format!("Digest realm=\"{realm}\", nonce=\"{nonce}\", algorithm=MD5, qop=\"auth\"{}", if stale { ", stale=true" } else { "" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_2617_example() {
        // RFC 2617 §3.5: Mufasa / Circle Of Life.
        let header = r#"Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41""#;
        let c = Credentials::parse(header).unwrap();
        assert_eq!(c.username, "Mufasa");
        assert_eq!(c.nc.as_deref(), Some("00000001"));
        assert!(c.verify("GET", "Circle Of Life"));
        assert!(!c.verify("GET", "circle of life"));
        assert!(!c.verify("POST", "Circle Of Life"));
    }

    #[test]
    fn without_qop_and_incomplete_headers() {
        let r = response("1001", "wfm", "secret", "REGISTER", "sip:127.0.0.1", "n1", None);
        let header = format!("Digest username=\"1001\",realm=\"wfm\",nonce=\"n1\",uri=\"sip:127.0.0.1\",response=\"{r}\",algorithm=MD5");
        assert!(Credentials::parse(&header).unwrap().verify("REGISTER", "secret"));
        assert_eq!(Credentials::parse("Digest username=\"1001\""), None);
        assert_eq!(Credentials::parse("Basic dXNlcjpwYXNz"), None);
    }
}
