//! The keeper outlives its brain: kill -9 of the brain loses nothing.

use crate::harness::{Ward, alive, eventually, kill};

const SPEC: &str = r#"version: 1
services:
  chatty:
    command: ["sh", "-c", "while true; do date +%s%N; sleep 0.01; done"]
  waiter:
    command: ["sh", "-c", "trap 'exit 5' USR1; while true; do sleep 0.05; done"]
  gated:
    command: ["sh", "-c", "exit 3"]
    backoff: { initial: 30s, jitter: 0 }
  looped:
    command: ["sh", "-c", "exit 4"]
    backoff: { initial: 0s, jitter: 0 }
    crash_loop: { threshold: 2, window: 60s, cooldown: 10m }
"#;

fn gate_until(i: &serde_json::Value) -> u64 {
    i["gate"]["until_ms"].as_u64().unwrap()
}

#[test]
fn kill_9_of_the_brain_loses_no_service_no_gate_and_no_exit_code() {
    let mut w = Ward::start("brain", SPEC);
    let chatty = w.wait_event("chatty", 0, "started", 10)["pid"].as_u64().unwrap() as u32;
    let waiter = w.wait_event("waiter", 0, "started", 10)["pid"].as_u64().unwrap() as u32;
    w.wait_event("gated", 0, "backoff", 10);
    w.wait_event("looped", 0, "crashloop", 10);
    let gated = w.instance("gated", 0);
    let looped = w.instance("looped", 0);
    let last_seq = w.seen.iter().map(|e| e["seq"].as_u64().unwrap()).max().unwrap();

    // Freeze the brain, let `waiter` exit with 5 while the brain cannot
    // listen, then kill the brain: the exit must reach the next brain.
    let brain = w.brain_pid().expect("a brain");
    assert!(kill(brain as i32, libc::SIGSTOP));
    assert!(kill(waiter as i32, libc::SIGUSR1));
    eventually("waiter reaped by the keeper", 10, || {
        !std::path::Path::new(&format!("/proc/{waiter}")).exists()
    });
    assert!(kill(brain as i32, libc::SIGKILL));
    let new_brain = w.wait_new_brain(brain);
    assert_ne!(new_brain, brain);

    let exited = w.wait_event("waiter", 0, "exited", 10);
    let all = String::from_utf8_lossy(&w.cli(&["events", "--json"]).stdout).to_string();
    assert_eq!(exited["exit"]["code"], 5, "the exit code survived the brain: {exited}\n{all}");
    assert!(exited["seq"].as_u64().unwrap() > last_seq, "seq continues");
    w.wait_event("waiter", 0, "started", 10);

    // The same processes run; nothing was duplicated; gates are as before.
    assert!(alive(chatty));
    let st = w.instance("chatty", 0);
    assert_eq!(st["pid"].as_u64(), Some(chatty as u64));
    assert_eq!(st["restarts"], 0);
    let g = w.instance("gated", 0);
    assert_eq!(g["state"], "backoff");
    assert_eq!(g["restarts"], gated["restarts"]);
    assert!(gate_until(&g).abs_diff(gate_until(&gated)) < 50);
    let l = w.instance("looped", 0);
    assert_eq!(l["state"], "crashloop");
    assert!(gate_until(&l).abs_diff(gate_until(&looped)) < 50);
    let out = w.cli(&["events", "--json"]);
    let events: Vec<serde_json::Value> =
        String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let seqs: Vec<u64> = events.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|p| p[1] == p[0] + 1), "no gap, no duplicate: {seqs:?}");
    let waiter_exits = events.iter().filter(|e| e["service"] == "waiter" && e["kind"] == "exited").count();
    assert_eq!(waiter_exits, 1, "the exit is recorded once");
    assert!(!events.iter().any(|e| e["kind"] == "adopted"), "the keeper kept them: nothing to adopt");

    // chatty kept writing all along: no gap in its output across the kill.
    let log = std::fs::read_to_string(w.state().join("logs/chatty.0.log")).unwrap();
    let stamps: Vec<u64> = log.lines().filter_map(|l| l.trim().parse().ok()).collect();
    assert!(stamps.len() > 20);
    let worst = stamps.windows(2).map(|p| p[1].saturating_sub(p[0])).max().unwrap();
    assert!(worst < 1_000_000_000, "a gap of {worst} ns in chatty's output");
}

#[test]
fn the_keeper_restarts_a_brain_killed_while_idle_and_down_still_works() {
    let mut w = Ward::start("brain-down", "version: 1\nservices:\n  s:\n    command: [\"sleep\", \"600\"]\n");
    let pid = w.wait_event("s", 0, "started", 10)["pid"].as_u64().unwrap() as u32;
    let brain = w.brain_pid().expect("a brain");
    assert!(kill(brain as i32, libc::SIGKILL));
    w.wait_new_brain(brain);
    assert_eq!(w.instance("s", 0)["pid"].as_u64(), Some(pid as u64));
    assert!(w.cli(&["down"]).status.success());
    assert_eq!(w.wait_exit(15), 0);
    assert!(!alive(pid));
}
