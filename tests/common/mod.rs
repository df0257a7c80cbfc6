//! Helpers for black-box tests of the `wfm` binary.
#![allow(dead_code)]

pub mod acd;
pub mod browser;
pub mod plan;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;

/// A browser's session cookie header after signing in with the page's form.
pub fn browser_cookie(server: &Server, tenant: &str, login: &str) -> String {
    let (status, head, body) = server.exchange("POST", "/signin", &["Content-Type: application/x-www-form-urlencoded"], &format!("tenant={tenant}&login={login}&password={DEMO_PASSWORD}&next=/"));
    assert_eq!(status, 303, "{login} signs in: {body}");
    format!("Cookie: {}", header(&head, "set-cookie").expect("a session cookie").split(';').next().unwrap())
}

/// The CSRF token of a page's first form.
pub fn csrf_in(html: &str) -> String {
    html.split(r#"name="csrf" value=""#).nth(1).and_then(|r| r.split('"').next()).expect("a form with the csrf field").to_owned()
}

/// A header's value in an HTTP response head.
pub fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| l.split_once(':').filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim()))
}

pub fn wfm() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wfm"))
}

/// Runs `wfm` with `args`, returning its output whatever the exit status.
pub fn run(args: &[&str]) -> Output {
    wfm().args(args).output().expect("wfm runs")
}

/// Runs `wfm` and insists on success; returns standard output.
pub fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "wfm {args:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// `wfm admin user add … --password-stdin` with `password`.
pub fn add_user(data: &Path, args: &[&str], password: &str) {
    let mut child = wfm()
        .args(["admin", "--data", p(data), "user", "add", "--password-stdin"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "user add {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

pub fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// The password of every demo user of the servers the tests start.
pub const DEMO_PASSWORD: &str = "test-password";

/// A running `wfm serve`, killed on drop.
pub struct Server {
    pub child: Child,
    pub addr: String,
    /// The SIP endpoint's UDP address.
    pub sip: String,
    /// A personal API token of the platform administrator `admin` (every tenant, every right).
    pub token: String,
}

/// A signed-in browser session: the cookie header to send and the CSRF token.
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

impl Session {
    /// The headers of a state-changing request of this session.
    pub fn headers(&self) -> Vec<String> {
        vec![self.cookie.clone(), format!("X-CSRF-Token: {}", self.csrf)]
    }
}

impl Server {
    pub fn start(data: &Path, extra: &[&str]) -> Self {
        let mut child = wfm()
            .args(["serve", "--http", "127.0.0.1:0", "--sip", "127.0.0.1:0", "--data", p(data)])
            .args(["--demo-password", DEMO_PASSWORD])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("wfm serve starts");
        let stdout = child.stdout.take().expect("piped");
        let mut lines = BufReader::new(stdout).lines();
        let mut sip = String::new();
        let addr = loop {
            let line = lines.next().expect("serve prints its address").expect("utf-8");
            if let Some(rest) = line.strip_prefix("wfm SIP on udp:") {
                sip = rest.split_whitespace().next().expect("address").to_owned();
            }
            if let Some(rest) = line.strip_prefix("wfm serving http://") {
                break rest.split_whitespace().next().expect("address").to_owned();
            }
        };
        // Keep reading what the server prints, as a terminal would: a closed pipe would fail its next line.
        std::thread::spawn(move || lines.for_each(drop));
        let mut server = Self { child, addr, sip, token: String::new() };
        server.token = server.token_of(None, "admin");
        server
    }

    /// Signs in; answers the status, the JSON body and the session (when it opened one).
    pub fn login(&self, tenant: Option<&str>, login: &str, password: &str) -> (u16, serde_json::Value, Option<Session>) {
        let body = serde_json::json!({ "tenant": tenant, "login": login, "password": password }).to_string();
        let (status, head, body) = self.exchange("POST", "/api/v1/login", &[], &body);
        let json: serde_json::Value = serde_json::from_str(&body).unwrap_or(serde_json::Value::Null);
        let cookie = head.lines().find_map(|l| l.to_ascii_lowercase().starts_with("set-cookie:").then(|| l["set-cookie:".len()..].trim().to_owned()));
        let session = cookie.filter(|_| status == 200).map(|c| Session {
            cookie: format!("Cookie: {}", c.split(';').next().expect("a cookie")),
            csrf: json["csrf_token"].as_str().expect("csrf_token").to_owned(),
        });
        (status, json, session)
    }

    /// A demo user's session (password [`DEMO_PASSWORD`]).
    pub fn session(&self, tenant: Option<&str>, login: &str) -> Session {
        let (status, body, session) = self.login(tenant, login, DEMO_PASSWORD);
        session.unwrap_or_else(|| panic!("{login} signs in: {status} {body}"))
    }

    /// A new personal API token of a demo user.
    pub fn token_of(&self, tenant: Option<&str>, login: &str) -> String {
        self.token_of_with(tenant, login, DEMO_PASSWORD)
    }

    /// A new personal API token of a user with this password.
    pub fn token_of_with(&self, tenant: Option<&str>, login: &str, password: &str) -> String {
        let (status, body, session) = self.login(tenant, login, password);
        let session = session.unwrap_or_else(|| panic!("{login} signs in: {status} {body}"));
        let headers = session.headers();
        let (status, body) = self.request("POST", "/api/v1/tokens", &headers.iter().map(String::as_str).collect::<Vec<_>>(), r#"{"label":"tests"}"#);
        assert_eq!(status, 200, "{body}");
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["token"].as_str().unwrap().to_owned()
    }

    /// The header that authenticates as the platform administrator.
    pub fn bearer(&self) -> String {
        format!("Authorization: Bearer {}", self.token)
    }

    /// A GET request; returns the status code and the body.
    pub fn get(&self, path: &str) -> (u16, String) {
        self.request("GET", path, &[], "")
    }

    /// A GET request with the platform administrator's token.
    pub fn get_authorized(&self, path: &str) -> (u16, String) {
        self.request("GET", path, &[&self.bearer()], "")
    }

    /// Any request with extra header lines (`Name: value`) and a JSON body.
    pub fn request(&self, method: &str, path: &str, headers: &[&str], body: &str) -> (u16, String) {
        let (status, _, body) = self.exchange(method, path, headers, body);
        (status, body)
    }

    /// Any request, reading only the status line (for streams that never end).
    pub fn status(&self, method: &str, path: &str, headers: &[&str], body: &str) -> u16 {
        let mut stream = TcpStream::connect(&self.addr).expect("connects");
        let extra: String = headers.iter().map(|h| format!("{h}\r\n")).collect();
        write!(stream, "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n{extra}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", self.addr, body.len()).expect("sends");
        let mut line = String::new();
        BufReader::new(stream).read_line(&mut line).expect("a status line");
        line.split_whitespace().nth(1).expect("status").parse().expect("numeric status")
    }

    /// Any request; answers the status, the response's head and its body.
    pub fn exchange(&self, method: &str, path: &str, headers: &[&str], body: &str) -> (u16, String, String) {
        let mut stream = TcpStream::connect(&self.addr).expect("connects");
        let mut extra: String = headers.iter().map(|h| format!("{h}\r\n")).collect();
        // JSON unless the caller says otherwise (a form).
        if !headers.iter().any(|h| h.to_ascii_lowercase().starts_with("content-type:")) {
            extra.push_str("Content-Type: application/json\r\n");
        }
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n{extra}Content-Length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        )
        .expect("sends");
        let mut bytes = Vec::new();
        stream.read_to_end(&mut bytes).expect("reads");
        // Bodies that are not text (a recording) are read lossily: tests look at their size.
        let response = String::from_utf8_lossy(&bytes);
        let (head, body) = response.split_once("\r\n\r\n").expect("HTTP response");
        let status = head.split_whitespace().nth(1).expect("status").parse().expect("numeric status");
        let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(body) } else { body.to_owned() };
        (status, head.to_owned(), body)
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n").expect("chunk size");
        let size = usize::from_str_radix(size.trim(), 16).expect("hex size");
        if size == 0 {
            return out;
        }
        out.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A local SMTP sink: each message's envelope recipients and text, as they arrive.
pub fn smtp_sink() -> (String, mpsc::Receiver<(Vec<String>, String)>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let _ = stream.write_all(b"220 sink ESMTP\r\n");
                let (mut to, mut text, mut in_data) = (Vec::new(), String::new(), false);
                let mut line = String::new();
                while reader.read_line(&mut line).unwrap_or(0) > 0 {
                    let reply: &[u8] = if in_data {
                        if line == ".\r\n" {
                            in_data = false;
                            let _ = tx.send((std::mem::take(&mut to), std::mem::take(&mut text)));
                            b"250 queued\r\n"
                        } else {
                            text.push_str(&line);
                            b""
                        }
                    } else {
                        let upper = line.to_ascii_uppercase();
                        if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                            b"250 sink\r\n"
                        } else if upper.starts_with("RCPT TO:") {
                            to.push(line[8..].trim().trim_matches(['<', '>']).to_owned());
                            b"250 ok\r\n"
                        } else if upper.starts_with("DATA") {
                            in_data = true;
                            b"354 go on\r\n"
                        } else if upper.starts_with("QUIT") {
                            let _ = stream.write_all(b"221 bye\r\n");
                            return;
                        } else {
                            b"250 ok\r\n"
                        }
                    };
                    let _ = stream.write_all(reply);
                    line.clear();
                }
            });
        }
    });
    (addr, rx)
}
