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

/// A spec that no longer parses: the `[` is never closed (line 2, column 11).
const BROKEN: &str = "version: 1\nservices: [unclosed\n";

/// Kills the brain with SIGKILL and waits for the keeper's next one to answer.
fn kill9_brain(w: &mut Ward) {
    let brain = w.brain_pid().expect("a brain");
    assert!(kill(brain as i32, libc::SIGKILL));
    w.wait_new_brain(brain);
}

/// Waits for a brain's messages that the file is broken and it runs on the last good spec.
fn wait_fallback(w: &mut Ward) {
    w.wait_log("the spec error with its position", 20, |l| l.contains("ward.yaml:2:11:"));
    w.wait_log("the fallback", 20, |l| l.contains("ward runs on the last good spec kept in the store"));
}

#[test]
fn a_brain_restarted_on_a_broken_spec_file_runs_on_the_last_good_spec() {
    let s = "version: 1\nservices:\n  s:\n    command: [\"sleep\", \"600\"]\n";
    let mut w = Ward::start("brain-last-good", s);
    let pid = w.wait_event("s", 0, "started", 10)["pid"].as_u64().unwrap();

    // The file is broken while ward runs, then the brain dies: the next brain
    // says so, and supervises on the spec it last loaded.
    std::fs::write(&w.spec, BROKEN).unwrap();
    kill9_brain(&mut w);
    wait_fallback(&mut w);
    let st = w.instance("s", 0);
    assert_eq!((st["state"].as_str(), st["pid"].as_u64()), (Some("running"), Some(pid)), "{st}");
    let out = w.cli(&["reload"]);
    assert_eq!(out.status.code(), Some(1), "a broken file is still refused");
    assert!(String::from_utf8_lossy(&out.stderr).contains("ward.yaml:2:11:"));

    // Fixed, the file reloads, and becomes the last good spec: a service with
    // a workdir relative to the spec file, started by the brain after the next fallback.
    std::fs::create_dir(w.dir.0.join("sub")).unwrap();
    let fixed = format!(
        "{s}  u:\n    command: [\"sh\", \"-c\", \"pwd >> where; exec sleep 600\"]\n    workdir: ./sub\n"
    );
    std::fs::write(&w.spec, fixed).unwrap();
    let out = w.cli(&["reload"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let u = w.wait_event("u", 0, "started", 10)["pid"].as_u64().unwrap();
    std::fs::write(&w.spec, BROKEN).unwrap();
    kill9_brain(&mut w);
    wait_fallback(&mut w);
    assert_eq!(w.instance("s", 0)["pid"].as_u64(), Some(pid));
    assert_eq!(w.instance("u", 0)["pid"].as_u64(), Some(u), "the reloaded spec was kept");
    assert!(w.cli(&["restart", "u"]).status.success());
    let again = w.wait_event("u", 0, "started", 10)["pid"].as_u64().unwrap();
    assert_ne!(again, u);
    let sub = w.dir.0.join("sub");
    let runs = || std::fs::read_to_string(sub.join("where")).unwrap_or_default();
    eventually("u's second run wrote its folder", 10, || runs().lines().count() == 2);
    let sub = sub.canonicalize().unwrap().display().to_string();
    assert!(runs().lines().all(|l| l == sub), "u ran in {sub} both times: {}", runs());

    assert!(w.cli(&["down"]).status.success());
    assert_eq!(w.wait_exit(15), 0);
    assert!(!alive(pid as u32));
}

#[test]
fn a_fresh_ward_up_on_a_broken_spec_file_fails_even_with_a_last_good_spec_kept() {
    let mut w =
        Ward::start("brain-clean", "version: 1\nservices:\n  s:\n    command: [\"sleep\", \"600\"]\n");
    w.wait_event("s", 0, "started", 10);
    assert!(w.cli(&["down"]).status.success());
    assert_eq!(w.wait_exit(15), 0);
    std::fs::write(&w.spec, BROKEN).unwrap();
    let out = w.cli(&["up"]);
    assert_eq!(out.status.code(), Some(2), "a clean end leaves nothing to fall back on");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ward.yaml:2:11:") && !err.contains("last good"), "{err}");
}
