//! `binds_to`: a dependent that says `binds_to: true` stops as soon as its
//! dependency has no ready instance left, waits, and starts again (a new
//! process) once the dependency is back; a dependent that does not say it
//! keeps running.

use crate::harness::{Ward, alive, kill};
use serde_json::Value;

/// `b` is bound to `a`, `c` only depends on it; `a` declares no readiness, so
/// running is ready. The backoff leaves time to look at `b` while `a` is down.
const SPEC: &str = r#"version: 1
services:
  a:
    command: ["sleep", "600"]
    backoff: { initial: 2s, jitter: 0 }
  b:
    command: ["sleep", "600"]
    depends_on: [a]
    binds_to: true
  c:
    command: ["sleep", "600"]
    depends_on: [a]
"#;

/// Starts the spec; returns ward and the pids of a, b and c from `status --json`.
fn start(tag: &str) -> (Ward, [u64; 3]) {
    let mut w = Ward::start(tag, SPEC);
    for s in ["a", "b", "c"] {
        w.wait_event(s, 0, "started", 10);
    }
    let pid = |w: &mut Ward, s: &str| w.instance(s, 0)["pid"].as_u64().expect("a pid");
    let pids = [pid(&mut w, "a"), pid(&mut w, "b"), pid(&mut w, "c")];
    (w, pids)
}

fn seq(e: &Value) -> u64 {
    e["seq"].as_u64().expect("a seq")
}

/// Waits for b to be stopped by ward (its stop signal, SIGTERM) because a is down.
fn wait_b_unbound(w: &mut Ward, b: u64) {
    let exited = w.wait_event("b", 0, "exited", 10);
    assert_eq!(exited["exit"]["signal"], 15, "b got its stop signal: {exited}");
    assert_eq!(exited["dossier"]["decision"]["state"], "waiting", "{exited}");
    assert!(!alive(b as u32), "b's process is gone");
}

/// Asserts that the last start of b came after the last start of a, as a new process.
fn assert_b_restarted_after_a(w: &mut Ward, b: u64) {
    let a_started = w.wait_event("a", 0, "started", 10);
    let b_started = w.wait_event("b", 0, "started", 10);
    assert!(seq(&b_started) > seq(&a_started), "b waited for a: {a_started} {b_started}");
    let new_b = b_started["pid"].as_u64().unwrap();
    assert_ne!(new_b, b, "b runs as a new process");
    let st = w.instance("b", 0);
    assert_eq!((st["state"].as_str(), st["pid"].as_u64()), (Some("running"), Some(new_b)), "{st}");
}

/// Asserts that c, which depends on a without binds_to, kept its process and saw no event.
fn assert_c_untouched(w: &mut Ward, c: u64) {
    let st = w.instance("c", 0);
    assert_eq!((st["state"].as_str(), st["pid"].as_u64()), (Some("running"), Some(c)), "{st}");
    let out = w.cli(&["events", "--json"]);
    let kinds: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["service"] == "c")
        .map(|e| e["kind"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(kinds, ["started"], "c was left alone");
}

#[test]
fn a_bound_dependent_stops_while_its_killed_dependency_backs_off_and_starts_after_it() {
    let (mut w, [a, b, c]) = start("binds-kill");
    assert!(kill(a as i32, libc::SIGKILL));
    let exited = w.wait_event("a", 0, "exited", 10);
    assert_eq!(exited["exit"]["signal"], 9);
    w.wait_event("a", 0, "backoff", 10);
    wait_b_unbound(&mut w, b);
    // a backs off for 2s: meanwhile b waits, without a process.
    let st = w.status();
    let of = |s: &str| st.iter().find(|i| i["service"] == s).cloned().unwrap_or_default();
    assert_eq!(of("a")["state"], "backoff", "{st:?}");
    assert_eq!((of("b")["state"].as_str(), of("b")["pid"].as_u64()), (Some("waiting"), None), "{st:?}");
    assert_b_restarted_after_a(&mut w, b);
    assert_eq!(w.instance("b", 0)["restarts"], 1);
    assert_c_untouched(&mut w, c);
}

#[test]
fn ward_stop_of_the_dependency_stops_a_bound_dependent_until_it_is_started() {
    let (mut w, [_, b, c]) = start("binds-stop");
    assert!(w.cli(&["stop", "a"]).status.success());
    w.wait_event("a", 0, "stopped", 10);
    wait_b_unbound(&mut w, b);
    let st = w.instance("b", 0);
    assert_eq!((st["state"].as_str(), st["pid"].as_u64()), (Some("waiting"), None), "{st}");
    let why = w.cli(&["why", "b"]);
    let why = String::from_utf8_lossy(&why.stdout);
    assert!(
        why.contains("waits for a to be ready; a is stopped") && !why.contains("starts it anyway"),
        "{why}"
    );
    assert_eq!(w.instance("a", 0)["state"], "stopped", "a stays stopped: nothing restarts it");
    assert!(w.cli(&["start", "a"]).status.success());
    assert_b_restarted_after_a(&mut w, b);
    assert_c_untouched(&mut w, c);
    assert!(w.cli(&["down"]).status.success());
    assert_eq!(w.wait_exit(15), 0);
}
