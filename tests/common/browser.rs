//! A browser for black-box tests: headless Chromium driven through chromedriver's WebDriver
//! API (W3C), with the few commands the tests use.

use super::header;
use base64::Engine;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The id in a WebDriver element reference (`{"element-6066-…": "id"}`).
pub fn element_id(element: &Value) -> Option<String> {
    element.as_object()?.values().next()?.as_str().map(str::to_owned)
}

/// A chromedriver on a port of its own, killed on drop.
pub struct Driver {
    child: Child,
    addr: String,
    session: String,
}

impl Driver {
    pub fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("chromedriver").arg(format!("--port={port}")).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("chromedriver (Debian package chromium-driver) runs");
        let mut driver = Self { child, addr: format!("127.0.0.1:{port}"), session: String::new() };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(&driver.addr).is_err() {
            assert!(Instant::now() < deadline, "chromedriver listens");
            std::thread::sleep(Duration::from_millis(100));
        }
        let args = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--window-size=1280,900"];
        let capabilities = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args}, "goog:loggingPrefs": {"browser": "ALL"}}}});
        let answer = driver.call("POST", "/session", Some(capabilities));
        driver.session = answer["sessionId"].as_str().expect("a session").to_owned();
        driver
    }

    /// One WebDriver command; answers its `value`.
    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.try_call(method, path, body).unwrap_or_else(|error| panic!("{method} {path}: {error}"))
    }

    /// One WebDriver command; answers its `value`, or the driver's error.
    pub fn try_call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, Value> {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        write!(stream, "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", self.addr, body.len()).unwrap();
        // chromedriver keeps the connection open: read the head, then Content-Length bytes.
        let mut reader = BufReader::new(stream);
        let mut head = String::new();
        while !head.ends_with("\r\n\r\n") {
            assert!(reader.read_line(&mut head).unwrap() > 0, "{method} {path}: the answer ended early: {head}");
        }
        let length: usize = header(&head, "content-length").and_then(|l| l.parse().ok()).unwrap_or_else(|| panic!("{method} {path}: no length: {head}"));
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let body = String::from_utf8(body).unwrap();
        let json: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{method} {path}: {e}: {head} {body}"));
        if head.starts_with("HTTP/1.1 200") {
            Ok(json["value"].clone())
        } else {
            Err(json)
        }
    }

    pub fn session_call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.call(method, &format!("/session/{}{path}", self.session), body)
    }

    pub fn open(&self, url: &str) {
        self.session_call("POST", "/url", Some(json!({ "url": url })));
    }

    pub fn find(&self, css: &str) -> String {
        let element = self.session_call("POST", "/element", Some(json!({"using": "css selector", "value": css})));
        element_id(&element).expect("an element")
    }

    /// The element, if the page has one now.
    pub fn try_find(&self, css: &str) -> Option<String> {
        let found = self.try_call("POST", &format!("/session/{}/element", self.session), Some(json!({"using": "css selector", "value": css})));
        found.ok().as_ref().and_then(element_id)
    }

    pub fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css);
        self.session_call("POST", &format!("/element/{element}/value"), Some(json!({ "text": text })));
    }

    pub fn text(&self, css: &str) -> String {
        let element = self.find(css);
        self.session_call("GET", &format!("/element/{element}/text"), None).as_str().unwrap().to_owned()
    }

    /// Waits for an element to read so: a page being replaced by the next one is not an error.
    pub fn wait_for_text(&self, css: &str, expected: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let session = format!("/session/{}", self.session);
        loop {
            let found = self.try_call("POST", &format!("{session}/element"), Some(json!({"using": "css selector", "value": css})));
            let text = found.ok().as_ref().and_then(element_id).and_then(|e| self.try_call("GET", &format!("{session}/element/{e}/text"), None).ok());
            let text = text.as_ref().and_then(Value::as_str).unwrap_or_default();
            if text == expected {
                return;
            }
            assert!(Instant::now() < deadline, "{css} reads {text:?}, not {expected:?}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn click(&self, css: &str) {
        let element = self.find(css);
        self.session_call("POST", &format!("/element/{element}/click"), Some(json!({})));
    }

    /// The errors the pages wrote to the console since the last call (scripts that failed,
    /// resources that did not load).
    pub fn console_errors(&self) -> Vec<String> {
        let entries = self.session_call("POST", "/se/log", Some(json!({"type": "browser"})));
        entries.as_array().into_iter().flatten().filter(|e| e["level"] == "SEVERE").map(|e| e["message"].as_str().unwrap_or_default().to_owned()).collect()
    }

    pub fn url(&self) -> String {
        self.session_call("GET", "/url", None).as_str().unwrap().to_owned()
    }

    pub fn screenshot(&self, path: &Path) {
        let png = self.session_call("GET", "/screenshot", None);
        let bytes = base64::engine::general_purpose::STANDARD.decode(png.as_str().unwrap()).unwrap();
        assert!(bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000, "a screenshot of a drawn page: {} bytes", bytes.len());
        std::fs::write(path, bytes).unwrap();
    }

    /// Waits for the page to reach a URL ending so (a form's redirect).
    pub fn wait_for_url(&self, ending: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let url = self.url();
            if url.ends_with(ending) {
                return url;
            }
            assert!(Instant::now() < deadline, "{url} ends with {ending}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = std::panic::catch_unwind(|| self.session_call("DELETE", "", None));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

