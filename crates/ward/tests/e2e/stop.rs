//! Stopping: signals, the SIGKILL timeout, grandchildren, orphans, `down`.

use crate::harness::{Ward, alive, eventually, exists};

#[test]
fn a_child_ignoring_sigterm_and_its_grandchildren_are_gone_after_the_timeout() {
    let mut w = Ward::start(
        "stubborn",
        r#"version: 1
services:
  stubborn:
    command: ["sh", "-c", "trap '' TERM; sh -c 'trap \"\" TERM; sleep 600' & echo $! > gc.pid; while true; do sleep 1; done"]
    stop: { signal: SIGTERM, timeout: 1s }
"#,
    );
    let pid = w.wait_event("stubborn", 0, "started", 10)["pid"].as_u64().unwrap() as u32;
    let gc_file = w.dir.0.join("gc.pid");
    eventually("grandchild pid file", 10, || {
        std::fs::read_to_string(&gc_file).is_ok_and(|s| s.ends_with('\n'))
    });
    let gc: u32 = std::fs::read_to_string(&gc_file).unwrap().trim().parse().unwrap();
    w.track(gc);
    let out = w.cli(&["stop", "stubborn"]);
    assert!(out.status.success());
    let exited = w.wait_event("stubborn", 0, "exited", 10);
    assert_eq!(exited["exit"]["signal"], 9, "killed after the timeout: {exited}");
    assert!(exited["run_ms"].as_u64().unwrap() >= 1000);
    w.wait_event("stubborn", 0, "stopped", 5);
    eventually("leader and grandchild gone", 5, || !exists(pid) && !alive(gc));
    assert_eq!(w.instance("stubborn", 0)["state"], "stopped");
}

#[test]
fn an_orphaned_grandchild_is_reaped() {
    let mut w = Ward::start(
        "orphan",
        r#"version: 1
services:
  parent:
    command: ["sh", "-c", "(sleep 0.5 & echo $! > orphan.pid); exec sleep 600"]
"#,
    );
    w.wait_event("parent", 0, "started", 10);
    let f = w.dir.0.join("orphan.pid");
    eventually("orphan pid file", 10, || std::fs::read_to_string(&f).is_ok_and(|s| s.ends_with('\n')));
    let orphan: u32 = std::fs::read_to_string(&f).unwrap().trim().parse().unwrap();
    w.track(orphan);
    // Its parent subshell exited at once: it is ward's now. After it exits,
    // no zombie may stay (ward reaps it at once).
    eventually("orphan reaped (no zombie)", 5, || !exists(orphan));
}

#[test]
fn down_stops_in_dependency_order_and_ward_up_exits_0() {
    let mut w = Ward::start(
        "down",
        r#"version: 1
services:
  db:
    command: ["sleep", "600"]
  api:
    command: ["sleep", "600"]
    depends_on: [db]
  web:
    command: ["sleep", "600"]
    depends_on: [api]
"#,
    );
    w.wait_event("web", 0, "started", 10);
    let starts: Vec<String> = w
        .seen
        .iter()
        .filter(|e| e["kind"] == "started")
        .map(|e| e["service"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(starts, ["db", "api", "web"], "started in dependency order");
    let out = w.cli(&["down"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    w.wait_event("db", 0, "stopped", 15);
    let stops: Vec<String> = w
        .seen
        .iter()
        .filter(|e| e["kind"] == "stopped")
        .map(|e| e["service"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(stops, ["web", "api", "db"], "stopped in reverse dependency order");
    assert_eq!(w.wait_exit(15), 0);
    assert!(!w.state().join("ward.sock").exists(), "the socket is removed");
}

#[test]
fn sigterm_to_ward_stops_everything_gracefully() {
    let mut w = Ward::start(
        "sigterm",
        r#"version: 1
services:
  svc:
    command: ["sleep", "600"]
"#,
    );
    let pid = w.wait_event("svc", 0, "started", 10)["pid"].as_u64().unwrap() as u32;
    let up = w.up.as_ref().unwrap().id() as i32;
    crate::harness::kill(up, libc::SIGTERM);
    assert_eq!(w.wait_exit(15), 0);
    assert!(!alive(pid));
}

const STUBBORN: &str = r#"version: 1
services:
  stubborn:
    command: ["sh", "-c", "trap '' TERM; while true; do sleep 1; done"]
    stop: { signal: SIGTERM, timeout: 60s }
"#;

#[test]
fn a_second_sigterm_kills_at_once_what_the_first_is_still_stopping() {
    let mut w = Ward::start("sigterm-twice", STUBBORN);
    let pid = w.wait_event("stubborn", 0, "started", 10)["pid"].as_u64().unwrap() as u32;
    let up = w.up_pid() as i32;
    crate::harness::kill(up, libc::SIGTERM);
    w.wait_log("the stop under way", 10, |log| log.contains("SIGTERM: stopping every service"));
    assert!(alive(pid), "it ignores SIGTERM: the first stop waits for its timeout");
    crate::harness::kill(up, libc::SIGTERM);
    assert_eq!(w.wait_exit(15), 128 + libc::SIGTERM, "a forced stop says so in its code");
    assert!(!exists(pid), "killed, and reaped");
}

#[test]
fn a_stalled_brain_does_not_keep_ward_from_stopping() {
    let mut w = Ward::start("sigterm-stalled", STUBBORN);
    let pid = w.wait_event("stubborn", 0, "started", 10)["pid"].as_u64().unwrap() as u32;
    let brain = w.brain_pid().expect("a brain");
    assert!(crate::harness::kill(brain as i32, libc::SIGSTOP));
    let up = w.up_pid() as i32;
    crate::harness::kill(up, libc::SIGTERM);
    w.wait_log("the keeper passing it on", 10, |log| log.contains("SIGTERM passed to the brain"));
    assert!(alive(pid), "the stopped brain stops nothing");
    crate::harness::kill(up, libc::SIGTERM);
    assert_eq!(w.wait_exit(15), 128 + libc::SIGTERM);
    assert!(!exists(pid) && !exists(brain), "the instance and the brain are gone");
}

#[test]
fn a_stop_signal_while_no_brain_runs_leaves_nothing_running() {
    let mut w = Ward::start("sigterm-brainless", STUBBORN);
    let pid = w.wait_event("stubborn", 0, "started", 10)["pid"].as_u64().unwrap() as u32;
    // A store no brain can open: each new brain fails at once, and the
    // keeper waits a second before the next (no brain runs meanwhile).
    let brain = w.brain_pid().expect("a brain");
    assert!(crate::harness::kill(brain as i32, libc::SIGKILL));
    let db = w.state().join("ward.db");
    for extra in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(w.state().join(format!("ward.db{extra}")));
    }
    std::fs::write(&db, vec![0x5a; 8192]).unwrap();
    w.wait_log("a new brain refusing the store", 20, |log| log.contains("ward.db"));
    eventually("no brain running", 10, || w.brain_pid().is_none());
    let up = w.up_pid() as i32;
    crate::harness::kill(up, libc::SIGTERM);
    assert_eq!(w.wait_exit(15), 128 + libc::SIGTERM);
    assert!(!exists(pid), "the instance is killed, not left behind");
}

#[test]
fn a_forced_stop_also_kills_what_an_earlier_keeper_started() {
    // No cgroup: with one, the end's cleanup of ward's cgroups would kill it anyway.
    let spec = format!("{STUBBORN}    cgroup: false\n");
    let mut w = Ward::start("sigterm-strays", &spec);
    let pid = w.wait_event("stubborn", 0, "started", 10)["pid"].as_u64().unwrap() as u32;
    w.track(pid);
    // Keeper and brain crash: the instance runs on, and the next ward adopts it.
    let brain = w.brain_pid().expect("a brain");
    crate::harness::kill(w.up_pid() as i32, libc::SIGKILL);
    crate::harness::kill(brain as i32, libc::SIGKILL);
    let _ = w.up.take().map(|mut up| up.wait());
    assert!(alive(pid));
    w.rerun();
    w.wait_event("stubborn", 0, "adopted", 10);
    let up = w.up_pid() as i32;
    crate::harness::kill(up, libc::SIGTERM);
    w.wait_log("the stop under way", 10, |log| log.contains("SIGTERM: stopping every service"));
    assert!(alive(pid), "it ignores SIGTERM: the first stop waits for its timeout");
    crate::harness::kill(up, libc::SIGTERM);
    assert_eq!(w.wait_exit(15), 128 + libc::SIGTERM);
    eventually("the adopted process killed", 5, || !alive(pid));
}
