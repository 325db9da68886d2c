//! Bad input for the API, as a property test through the real Unix socket of
//! a running ward: random methods, paths, query strings and bodies (random
//! bytes and JSON of random shapes, with random targets and signals) must
//! each get an answer: a refusal is a 4xx whose body is JSON `{"error": …}`,
//! never a 5xx, a dropped connection or a crash of the brain.
//!
//! `WARD_API_CASES=N` runs a longer search (default 300 requests).

use crate::harness::Ward;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

const SPEC: &str = r#"version: 1
services:
  api:
    command: ["sleep", "600"]
    replicas: 2
    stop: { timeout: 1s }
  db:
    command: ["sleep", "600"]
    stop: { timeout: 1s }
"#;

/// The routes (`/v1/down` left out: it would end the run).
const PATHS: &[&str] = &[
    "/v1/info",
    "/v1/status",
    "/v1/endpoints",
    "/v1/start",
    "/v1/stop",
    "/v1/restart",
    "/v1/unblock",
    "/v1/isolate",
    "/v1/signal",
    "/v1/reload",
    "/v1/events",
    "/v1/logs",
    "/v1/logs/lines",
    "/v1/why",
    "/v1/wait",
    "/metrics",
    "/",
    "/v1",
    "/v1/",
    "/v2/status",
    "/v1/status/",
    "/v1/logs/lines/x",
    "/v1/%00",
    "/v1/st%61tus",
    "//v1/status",
    "/v1/../v1/status",
    "/v1/openapi.json",
];

/// Query keys that some route reads, and one none does.
const KEYS: &[&str] = &[
    "target", "targets", "service", "n", "since", "since_ms", "until", "follow", "previous", "for", "grep",
    "x",
];

/// Values: valid and invalid targets, numbers, booleans, regexes, junk.
const VALUES: &[&str] = &[
    "api",
    "api/0",
    "api/1",
    "api/2",
    "api/-1",
    "api/99999999999",
    "db",
    "nope",
    "API",
    "a/b/c",
    "",
    "/",
    "*",
    "api/*",
    "a*,db",
    ",,,",
    "0",
    "1",
    "-1",
    "18446744073709551615",
    "18446744073709551616",
    "1e3",
    "true",
    "false",
    "yes",
    "ready",
    "running",
    "completed",
    "stopped",
    "settled",
    "nonsense",
    "(",
    "[",
    "a{99999}",
    "(a+)+$",
    ".*",
    "\\",
    "%",
    "%ZZ",
    "%FF%FE",
    "%00",
    "é",
    "\u{1F600}",
];

/// One request.
#[derive(Clone)]
struct Req {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    body: Vec<u8>,
}

impl std::fmt::Debug for Req {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let body = String::from_utf8_lossy(&self.body);
        write!(f, "{} {} query {:?} body {body:?}", self.method, self.path, self.query)
    }
}

/// The method: mostly the one the route takes (`None`), else any.
fn method() -> impl Strategy<Value = Option<String>> {
    let any_method =
        proptest::sample::select(&["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "BREW"][..]);
    prop_oneof![4 => Just(None), 1 => any_method.prop_map(|m| Some(m.to_string()))]
}

/// The method a route takes.
fn method_of(path: &str) -> &'static str {
    let posts =
        ["/v1/start", "/v1/stop", "/v1/restart", "/v1/unblock", "/v1/isolate", "/v1/signal", "/v1/reload"];
    if posts.contains(&path) { "POST" } else { "GET" }
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(VALUES).prop_map(str::to_string),
        1 => "\\PC{0,12}",
        1 => proptest::collection::vec(any::<u8>(), 0..12).prop_map(|b| b.iter().map(|x| format!("%{x:02X}")).collect()),
    ]
}

/// A JSON value of any shape, with targets and signal numbers in it.
fn json() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-2i64..70).prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            proptest::collection::vec(("target|signal|[a-z]{1,6}", inner), 0..3)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => (text(), -2i64..70).prop_map(|(target, signal)| {
            serde_json::json!({ "target": target, "signal": signal }).to_string().into_bytes()
        }),
        1 => (json(), json()).prop_map(|(target, signal)| {
            serde_json::json!({ "target": target, "signal": signal }).to_string().into_bytes()
        }),
        1 => json().prop_map(|v| v.to_string().into_bytes()),
        1 => proptest::collection::vec(any::<u8>(), 0..64),
        1 => Just(Vec::new()),
        1 => "\\{\"target\": \"[ -~]{0,10}\"[,}\\]]{0,2}".prop_map(String::into_bytes),
    ]
}

fn request() -> impl Strategy<Value = Req> {
    let path = prop_oneof![
        6 => proptest::sample::select(PATHS).prop_map(str::to_string),
        1 => "/[a-z0-9/._~-]{0,20}",
    ];
    let pair =
        (prop_oneof![3 => proptest::sample::select(KEYS).prop_map(str::to_string), 1 => text()], text());
    (method(), path, proptest::collection::vec(pair, 0..4), body()).prop_map(|(method, path, query, body)| {
        let method = method.unwrap_or_else(|| method_of(&path).to_string());
        Req { method, path, query, body }
    })
}

/// Percent-encodes what a request target may not hold raw (a `%` already
/// followed by two hex digits is kept, so that encoded bytes stay bytes).
fn encode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::new();
    for (i, &c) in b.iter().enumerate() {
        let encoded_byte =
            c == b'%' && i + 2 < b.len() && b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit();
        if c.is_ascii_alphanumeric() || b"-._~/*,:()!$'+@".contains(&c) || encoded_byte {
            out.push(c as char);
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    out
}

/// What came back: the status and the body read so far (a 2xx stream is
/// not read to its end).
struct Answer {
    status: u16,
    head: String,
    body: Vec<u8>,
}

/// Sends `req` on a new connection and reads the answer's head, then the
/// whole body of an error answer.
fn send(socket: &Path, req: &Req) -> Result<Answer, String> {
    let mut target = encode(&req.path);
    if !req.query.is_empty() {
        let pairs: Vec<String> =
            req.query.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
        target = format!("{target}?{}", pairs.join("&"));
    }
    let mut conn = UnixStream::connect(socket).map_err(|e| format!("connect: {e}"))?;
    conn.set_read_timeout(Some(Duration::from_secs(20))).map_err(|e| e.to_string())?;
    let head = format!(
        "{} {target} HTTP/1.1\r\nHost: ward\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        req.method,
        req.body.len()
    );
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(&req.body);
    // The server may answer (a 404) and close before it reads the body: a
    // failed write still leaves its answer to read.
    let _ = conn.write_all(&bytes);
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let end = loop {
        if let Some(i) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match conn.read(&mut buf) {
            Ok(0) => {
                return Err(format!(
                    "the connection closed without an answer (read {:?})",
                    String::from_utf8_lossy(&got)
                ));
            }
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => return Err(format!("read: {e}")),
        }
    };
    let head = String::from_utf8_lossy(&got[..end]).to_string();
    let status: u16 =
        head.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or(format!("no status in {head:?}"))?;
    let mut body = got[end..].to_vec();
    if status >= 300 && req.method != "HEAD" {
        let length = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string())
            })
            .and_then(|v| v.parse::<usize>().ok())
            .ok_or(format!("an error answer without a length: {head:?}"))?;
        while body.len() < length {
            match conn.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => body.extend_from_slice(&buf[..n]),
                Err(e) => return Err(format!("read: {e}")),
            }
        }
    }
    Ok(Answer { status, head, body })
}

/// Sends `req` and checks its answer; returns its status.
fn check(socket: &Path, req: &Req) -> Result<u16, TestCaseError> {
    let answer = send(socket, req).map_err(TestCaseError::fail)?;
    let shown = || format!("{req:?} got {}{}", answer.head, String::from_utf8_lossy(&answer.body));
    prop_assert!(answer.status < 500, "a server error: {}", shown());
    if answer.status >= 400 && req.method != "HEAD" {
        let json = answer.head.to_ascii_lowercase().contains("content-type: application/json");
        prop_assert!(json, "a refusal that is not JSON: {}", shown());
        let v: serde_json::Value = serde_json::from_slice(&answer.body)
            .map_err(|e| TestCaseError::fail(format!("{e}: {}", shown())))?;
        let message = v["error"].as_str().unwrap_or("");
        prop_assert!(!message.is_empty(), "a refusal without a message: {}", shown());
    }
    Ok(answer.status)
}

#[test]
fn random_requests_get_an_answer_and_every_refusal_is_json() {
    let mut w = Ward::start("api-input", SPEC);
    for (service, replica) in [("api", 0), ("api", 1), ("db", 0)] {
        w.wait_event(service, replica, "started", 20);
    }
    let brain = w.brain_pid().expect("a brain");
    let socket = w.state().join("ward.sock");
    let cases = std::env::var("WARD_API_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(300);
    // A fixed seed unless WARD_API_SEED names another: the same requests on every run.
    let seed = std::env::var("WARD_API_SEED").ok().and_then(|n| n.parse().ok()).unwrap_or(0xA91_5EED);
    let rng_seed = proptest::test_runner::RngSeed::Fixed(seed);
    let mut runner =
        TestRunner::new(Config { cases, failure_persistence: None, rng_seed, ..Config::default() });
    let seen = std::sync::Mutex::new(std::collections::BTreeMap::<u16, u32>::new());
    let result = runner.run(&request(), |req| {
        let status = check(&socket, &req)?;
        *seen.lock().unwrap().entry(status).or_default() += 1;
        Ok(())
    });
    eprintln!("api_input: answers by status: {:?}", seen.lock().unwrap());
    if let Err(e) = result {
        panic!("{e}");
    }
    // The brain served every request itself: it never crashed and was restarted.
    assert_eq!(w.brain_pid(), Some(brain), "the brain was restarted");
    assert!(w.cli(&["status"]).status.success());
    assert!(w.cli(&["down"]).status.success());
    assert_eq!(w.wait_exit(30), 0);
}
