//! Health, readiness and dependencies, with real clients nobody here wrote:
//! systemd's own `systemd-notify` (readiness, status, watchdog, and its
//! BARRIER=1 that waits for ward to close a passed descriptor), and
//! `python3 -m http.server` behind an http probe, hung with SIGSTOP.

use crate::harness::{TempDir, Ward, alive, eventually, kill, ward_bin};
use serde_json::Value;
use std::process::Command;

/// A base port whose next port is free too (replica 1 gets base + 1).
fn free_ports() -> u16 {
    for _ in 0..50 {
        let Ok(l) = std::net::TcpListener::bind("127.0.0.1:0") else { continue };
        let Ok(addr) = l.local_addr() else { continue };
        let base = addr.port();
        drop(l);
        if base < 65000 && (0..3).all(|i| std::net::TcpListener::bind(("127.0.0.1", base + i)).is_ok()) {
            return base;
        }
    }
    panic!("no free ports");
}

fn endpoints(w: &Ward, service: &str) -> Value {
    let out = w.cli(&["endpoints", service, "--json"]);
    assert!(out.status.success(), "endpoints failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn replicas_in_rotation(w: &Ward, service: &str) -> Vec<u64> {
    let e = endpoints(w, service);
    e["endpoints"].as_array().unwrap().iter().filter_map(|e| e["replica"].as_u64()).collect()
}

fn seq(ev: &Value) -> u64 {
    ev["seq"].as_u64().unwrap()
}

fn pid_of(ev: &Value) -> u32 {
    ev["pid"].as_u64().unwrap() as u32
}

#[test]
fn systemd_notify_ready_then_its_dependent_starts() {
    let mut w = Ward::start(
        "notify",
        r#"version: 1
services:
  db:
    command: ["sh", "-c", "sleep 0.3; systemd-notify --ready --status='db is up' && echo notified; exec sleep 600"]
    ready: { notify: true }
  app:
    command: ["sleep", "600"]
    depends_on: [db]
"#,
    );
    let db_started = w.wait_event("db", 0, "started", 10);
    let ready = w.wait_event("db", 0, "ready", 10);
    let app = w.wait_event("app", 0, "started", 10);
    assert!(seq(&db_started) < seq(&ready) && seq(&ready) < seq(&app), "app starts after db is ready");
    let st = w.instance("db", 0);
    assert_eq!(st["state"], "ready");
    assert_eq!(st["status_text"], "db is up");
    // systemd-notify's barrier was released (it exits 1 after a timeout otherwise).
    eventually("systemd-notify to succeed", 10, || {
        String::from_utf8_lossy(&w.cli(&["logs", "db"]).stdout).contains("notified")
    });
    let table = String::from_utf8_lossy(&w.cli(&["status"]).stdout).to_string();
    assert!(table.contains("db/0: db is up"), "{table}");
}

/// A python http.server probed over http, ready once it answers; `policy` is
/// the `on_panic` value. Returns the ward, the port and the server's pid.
fn hung_server(tag: &str, policy: &str) -> (Ward, u16, u32) {
    let port = free_ports();
    let yaml = format!(
        r#"version: 1
services:
  web:
    command: ["python3", "-m", "http.server", "${{PORT}}", "--bind", "127.0.0.1"]
    ports: {{ PORT: {port} }}
    on_panic: {policy}
    stop: {{ timeout: 1s }}
    ready: {{ http: "http://127.0.0.1:${{PORT}}/", interval: 100ms, timeout: 500ms }}
    health: {{ http: "http://127.0.0.1:${{PORT}}/", interval: 200ms, timeout: 300ms, failures: 2, grace: 1s }}
    hooks: {{ on_isolate: ["sh", "-c", "env | grep ^WARD_ | sort > hook-$WARD_REPLICA.env"] }}
"#
    );
    let mut w = Ward::start(tag, &yaml);
    let pid = pid_of(&w.wait_event("web", 0, "started", 10));
    w.wait_event("web", 0, "ready", 15);
    assert_eq!(replicas_in_rotation(&w, "web"), vec![0]);
    let e = endpoints(&w, "web");
    assert_eq!(e["endpoints"][0]["addresses"][0], format!("127.0.0.1:{port}"));
    // The probe passes while it answers: no failure for a few intervals.
    eventually("a few passing probes", 5, || w.instance("web", 0)["uptime_ms"].as_u64() > Some(1600));
    assert!(!w.seen.iter().any(|e| e["kind"] == "health_failed"));
    // Hung: alive, but it answers nothing.
    assert!(kill(pid as i32, libc::SIGSTOP));
    let failed = w.wait_event("web", 0, "health_failed", 10);
    assert!(failed["error"].as_str().unwrap_or("").contains("no answer"), "{failed}");
    (w, port, pid)
}

#[test]
fn a_hung_server_is_restarted() {
    let (mut w, _, pid) = hung_server("hung-restart", "restart");
    let again = w.wait_event("web", 0, "started", 15);
    assert_ne!(pid_of(&again), pid);
    w.wait_event("web", 0, "ready", 15);
    assert!(!alive(pid), "the hung process was stopped");
}

#[test]
fn a_hung_server_is_shut_down() {
    let (mut w, _, pid) = hung_server("hung-shutdown", "shutdown");
    w.wait_event("web", 0, "shutdown", 15);
    assert_eq!(w.instance("web", 0)["state"], "shutdown");
    eventually("the hung process gone", 5, || !alive(pid));
    assert!(replicas_in_rotation(&w, "web").is_empty());
}

#[test]
fn a_hung_server_is_isolated_and_kept_alive_until_an_operator_stops_it() {
    let (mut w, _, pid) = hung_server("hung-isolate", "isolate");
    w.wait_event("web", 0, "isolated", 10);
    let st = w.instance("web", 0);
    assert_eq!(st["state"], "isolated");
    assert_eq!(st["pid"], pid);
    assert!(alive(pid), "kept for debugging");
    assert!(replicas_in_rotation(&w, "web").is_empty(), "out of rotation at once");
    // The hook ran with its environment.
    let hook = w.dir.0.join("hook-0.env");
    eventually("the on_isolate hook", 10, || {
        std::fs::read_to_string(&hook).is_ok_and(|t| t.contains("WARD_PID"))
    });
    let env = std::fs::read_to_string(&hook).unwrap();
    for line in ["WARD_EVENT=isolated", "WARD_SERVICE=web", "WARD_REPLICA=0", &format!("WARD_PID={pid}")] {
        assert!(env.lines().any(|l| l == line), "{line} in {env}");
    }
    assert!(env.lines().any(|l| l == "WARD_EXIT_CODE="), "alive: no exit code yet: {env}");
    // Still there a while later: ward never kills it by itself (the stop timeout is 1s).
    let u0 = st["uptime_ms"].as_u64().unwrap();
    eventually("two seconds isolated", 5, || w.instance("web", 0)["uptime_ms"].as_u64() > Some(u0 + 2000));
    assert!(alive(pid));
    let out = w.cli(&["stop", "web/0"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    w.wait_event("web", 0, "stopped", 10);
    eventually("the isolated process gone", 5, || !alive(pid));
}

#[test]
fn isolate_with_replace_brings_capacity_back() {
    let (mut w, port, pid) = hung_server("hung-replace", "{ action: isolate, replace: true }");
    w.wait_event("web", 0, "isolated", 10);
    w.wait_event("web", 1, "started", 10);
    w.wait_event("web", 1, "ready", 15);
    assert!(alive(pid), "the isolated one is kept");
    assert_eq!(replicas_in_rotation(&w, "web"), vec![1]);
    let e = endpoints(&w, "web");
    assert_eq!(e["endpoints"][0]["addresses"][0], format!("127.0.0.1:{}", port + 1));
    let text = String::from_utf8_lossy(&w.cli(&["endpoints", "web"]).stdout).to_string();
    assert!(text.contains("web/1  ready") && text.contains(&format!("127.0.0.1:{}", port + 1)), "{text}");
}

#[test]
fn the_watchdog_catches_a_service_that_stops_pinging() {
    let mut w = Ward::start(
        "watchdog",
        r#"version: 1
services:
  dog:
    command: ["sh", "-c", "systemd-notify --ready; for i in 1 2 3 4 5 6; do systemd-notify WATCHDOG=1; sleep 0.25; done; exec sleep 600"]
    ready: { notify: true, watchdog: 1s }
    on_panic: isolate
"#,
    );
    let ready = w.wait_event("dog", 0, "ready", 10);
    let failed = w.wait_event("dog", 0, "health_failed", 15);
    assert!(failed["error"].as_str().unwrap_or("").contains("watchdog timeout"), "{failed}");
    // Pings for about 1.5s, then the 1s deadline: not before 2s after ready.
    let after = failed["ts_ms"].as_u64().unwrap() - ready["ts_ms"].as_u64().unwrap();
    assert!(after >= 2000, "failed {after}ms after ready, while it still pinged");
    w.wait_event("dog", 0, "isolated", 5);
}

#[test]
fn a_three_level_chain_starts_and_stops_in_order() {
    let step = |name: &str, dep: Option<&str>| {
        let deps = dep.map(|d| format!("\n    depends_on: [{d}]")).unwrap_or_default();
        format!(
            "  {name}:\n    command: [\"sh\", \"-c\", \"sleep 0.2; systemd-notify --ready; exec sleep 600\"]\n    ready: {{ notify: true }}{deps}\n"
        )
    };
    let yaml = format!(
        "version: 1\nservices:\n{}{}{}",
        step("top", Some("mid")),
        step("mid", Some("base")),
        step("base", None)
    );
    let mut w = Ward::start("chain", &yaml);
    let base_ready = w.wait_event("base", 0, "ready", 10);
    let mid_started = w.wait_event("mid", 0, "started", 10);
    let mid_ready = w.wait_event("mid", 0, "ready", 10);
    let top_started = w.wait_event("top", 0, "started", 10);
    w.wait_event("top", 0, "ready", 10);
    assert!(seq(&base_ready) < seq(&mid_started) && seq(&mid_ready) < seq(&top_started));
    let out = w.cli(&["down"]);
    assert!(out.status.success());
    let top = w.wait_event("top", 0, "stopped", 15);
    let mid = w.wait_event("mid", 0, "stopped", 15);
    let base = w.wait_event("base", 0, "stopped", 15);
    assert!(seq(&top) < seq(&mid) && seq(&mid) < seq(&base), "stopped top, mid, base");
    assert_eq!(w.wait_exit(15), 0);
}

#[test]
fn check_refuses_a_dependency_cycle() {
    let dir = TempDir::new("cycle");
    let spec = dir.0.join("ward.yaml");
    let yaml = "version: 1\nservices:\n  a:\n    command: [x]\n    depends_on: [c]\n  b:\n    command: [y]\n    depends_on: [a]\n  c:\n    command: [z]\n    depends_on: [b]\n";
    std::fs::write(&spec, yaml).unwrap();
    let out = Command::new(ward_bin()).args(["check", "-f"]).arg(&spec).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("dependency cycle"));
}
