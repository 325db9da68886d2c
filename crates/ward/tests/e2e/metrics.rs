//! `GET /metrics`: counters after real crashes, and the real `promtool check
//! metrics` on the output.

use crate::harness::Ward;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Command, Stdio};

/// One HTTP/1.1 GET over the control socket; returns (status line, body).
pub fn get(socket: &Path, path: &str) -> (String, String) {
    let mut s = UnixStream::connect(socket).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: ward\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").expect("an HTTP response");
    assert!(!head.to_ascii_lowercase().contains("transfer-encoding: chunked"), "{head}");
    (head.lines().next().unwrap_or("").to_string(), body.to_string())
}

fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|v| v.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no series {series} in:\n{text}"))
        .parse()
        .unwrap()
}

#[test]
fn metrics_count_crashes_and_pass_promtool() {
    let mut w = Ward::start(
        "metrics",
        r#"version: 1
services:
  bad:
    command: ["sh", "-c", "exit 3"]
    backoff: { initial: 0s, jitter: 0 }
    crash_loop: { threshold: 3, window: 60s, cooldown: 10m }
  steady:
    command: ["sleep", "600"]
    replicas: 2
"#,
    );
    w.wait_event("bad", 0, "crashloop", 20);
    w.status(); // remembers the pids of `steady` to kill at the end
    let (status, text) = get(&w.state().join("ward.sock"), "/metrics");
    assert!(status.contains(" 200 "), "{status}\n{text}");
    assert_eq!(value(&text, "ward_crashes_total"), 3.0);
    assert_eq!(value(&text, "ward_exits_total{how=\"code\",value=\"3\"}"), 3.0);
    assert_eq!(value(&text, "ward_crash_loops_total"), 1.0);
    assert_eq!(value(&text, "ward_restarts_total"), 2.0);
    assert_eq!(value(&text, "ward_isolations_total"), 0.0);
    assert_eq!(value(&text, "ward_probe_failures_total"), 0.0);
    assert_eq!(value(&text, "ward_instances{state=\"crashloop\"}"), 1.0);
    assert_eq!(value(&text, "ward_instances{state=\"running\"}"), 2.0);
    assert_eq!(value(&text, "ward_events_total{kind=\"exited\"}"), 3.0);
    assert!(value(&text, "ward_spawn_seconds_count") >= 5.0, "{text}");
    assert!(text.contains("ward_store_write_seconds_bucket"), "{text}");

    let Ok(mut promtool) = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        eprintln!(
            "NOTICE: promtool is not installed; skipping `promtool check metrics` (scripts/test.sh installs it)"
        );
        return;
    };
    promtool.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = promtool.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}\n--- input:\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
