//! Helpers for black-box tests of the `wfm` binary.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

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

pub fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// The bearer token the servers of the tests run with.
pub const API_TOKEN: &str = "test-token";

/// A running `wfm serve`, killed on drop.
pub struct Server {
    pub child: Child,
    pub addr: String,
    /// The SIP endpoint's UDP address.
    pub sip: String,
}

impl Server {
    pub fn start(data: &Path, extra: &[&str]) -> Self {
        let mut child = wfm()
            .args(["serve", "--http", "127.0.0.1:0", "--sip", "127.0.0.1:0", "--data", p(data)])
            .env("WFM_API_TOKEN", API_TOKEN)
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
        Self { child, addr, sip }
    }

    /// A GET request; returns the status code and the body.
    pub fn get(&self, path: &str) -> (u16, String) {
        self.request("GET", path, &[], "")
    }

    /// A GET request with the API's bearer token.
    pub fn get_authorized(&self, path: &str) -> (u16, String) {
        self.request("GET", path, &[&format!("Authorization: Bearer {API_TOKEN}")], "")
    }

    /// Any request with extra header lines (`Name: value`) and a JSON body.
    pub fn request(&self, method: &str, path: &str, headers: &[&str], body: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(&self.addr).expect("connects");
        let extra: String = headers.iter().map(|h| format!("{h}\r\n")).collect();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n{extra}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
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
        (status, body)
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
