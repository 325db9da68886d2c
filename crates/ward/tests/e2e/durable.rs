//! ward survives its own crash: history, gates, and live services are kept.

use crate::harness::{Ward, alive};

const SPEC: &str = r#"version: 1
services:
  steady:
    command: ["sh", "-c", "while true; do echo tick; sleep 0.05; done"]
  gated:
    command: ["sh", "-c", "exit 3"]
    backoff: { initial: 30s, jitter: 0 }
  looped:
    command: ["sh", "-c", "exit 4"]
    backoff: { initial: 0s, jitter: 0 }
    crash_loop: { threshold: 2, window: 60s, cooldown: 10m }
"#;

#[test]
fn after_kill_9_ward_up_adopts_services_and_keeps_history_and_gates() {
    let mut w = Ward::start("adopt", SPEC);
    let steady = w.wait_event("steady", 0, "started", 10)["pid"].as_u64().unwrap();
    w.wait_event("gated", 0, "backoff", 10);
    w.wait_event("looped", 0, "crashloop", 10);
    let before_gated = w.instance("gated", 0);
    let before_looped = w.instance("looped", 0);
    let last_seq = w.cli(&["events", "--json"]).stdout;
    let last_seq: u64 = String::from_utf8_lossy(&last_seq)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|e| e["seq"].as_u64().unwrap())
        .max()
        .unwrap();

    w.kill9_and_rerun();
    let adopted = w.wait_event("steady", 0, "adopted", 10);
    assert_eq!(adopted["pid"].as_u64(), Some(steady), "the same process, adopted");
    assert!(adopted["seq"].as_u64().unwrap() > last_seq, "seq continues");
    assert!(alive(steady as u32));

    let st = w.instance("steady", 0);
    assert_eq!(st["state"], "running");
    assert_eq!(st["pid"].as_u64(), Some(steady));
    let gated = w.instance("gated", 0);
    assert_eq!(gated["state"], "backoff");
    assert_eq!(gated["restarts"], before_gated["restarts"]);
    let until_then = before_gated["gate"]["until_ms"].as_u64().unwrap();
    let until_now = gated["gate"]["until_ms"].as_u64().unwrap();
    assert!(until_now.abs_diff(until_then) < 50, "the same gate: {until_then} vs {until_now}");
    let looped = w.instance("looped", 0);
    assert_eq!(looped["state"], "crashloop");
    let (l1, l2) =
        (looped["gate"]["until_ms"].as_u64().unwrap(), before_looped["gate"]["until_ms"].as_u64().unwrap());
    assert!(l1.abs_diff(l2) < 50, "the same crash-loop cooldown: {l1} vs {l2}");

    // The history from before is there, in order, with no gap.
    let out = w.cli(&["events", "--json"]);
    let seqs: Vec<u64> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs[0], 1);
    assert!(seqs.windows(2).all(|p| p[1] == p[0] + 1), "no gap: {seqs:?}");

    // Only one copy of steady runs: no other process logs into its file.
    let starts = w.cli(&["events", "--json"]).stdout;
    let steady_starts = String::from_utf8_lossy(&starts)
        .lines()
        .filter(|l| l.contains("\"service\":\"steady\"") && l.contains("\"kind\":\"started\""))
        .count();
    assert_eq!(steady_starts, 1, "never two copies");

    // The adopted process is still supervised: its exit is seen (code unknown).
    crate::harness::kill(steady as i32, libc::SIGKILL);
    let exited = w.wait_event("steady", 0, "exited", 10);
    assert_eq!(exited["exit"]["unknown"], true);
    w.wait_event("steady", 0, "started", 10);
}

#[test]
fn a_clean_down_starts_afresh() {
    let mut w = Ward::start("fresh", "version: 1\nservices:\n  s:\n    command: [\"sleep\", \"600\"]\n");
    let first = w.wait_event("s", 0, "started", 10)["pid"].as_u64().unwrap();
    assert!(w.cli(&["down"]).status.success());
    assert_eq!(w.wait_exit(15), 0);
    w.rerun();
    let second = w.wait_event("s", 0, "started", 10)["pid"].as_u64().unwrap();
    assert_ne!(first, second);
    assert!(!w.seen.iter().any(|e| e["kind"] == "adopted"));
    assert_eq!(w.instance("s", 0)["restarts"], 0, "a fresh start");
}

#[test]
fn a_reused_pid_is_not_adopted() {
    let mut w = Ward::start("reused", "version: 1\nservices:\n  s:\n    command: [\"sleep\", \"600\"]\n");
    let old = w.wait_event("s", 0, "started", 10)["pid"].as_u64().unwrap();
    let up = w.up_pid();
    crate::harness::kill(up as i32, libc::SIGKILL);
    let _ = w.up.take().map(|mut c| c.wait());
    // Make the store's record name a different process under the same pid,
    // as if the pid had been reused by another program.
    let db = w.state().join("ward.db");
    let script = format!(
        "import sqlite3; c = sqlite3.connect('{}'); c.execute('UPDATE instances SET start_time = start_time + 7'); c.commit()",
        db.display()
    );
    let ok = std::process::Command::new("python3").args(["-c", &script]).status().unwrap();
    assert!(ok.success());
    w.rerun();
    let new = w.wait_event("s", 0, "started", 10)["pid"].as_u64().unwrap();
    assert_ne!(new, old, "a new process, not the stranger with the old pid");
    assert!(!w.seen.iter().any(|e| e["kind"] == "adopted"));
    assert!(alive(old as u32), "the stranger is left alone");
    crate::harness::kill(old as i32, libc::SIGKILL);
}
