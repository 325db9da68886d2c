//! The faults of the trust work, each pinned by a test that failed before its
//! fix: exits trusted across clock steps, signals only to what is ours,
//! `down` that always ends.

use crate::harness::{Ward, alive, kill};

const SPEC: &str = r#"version: 1
services:
  steady:
    command: ["sleep", "600"]
    backoff: { initial: 0s, jitter: 0 }
    restart: always
"#;

/// Sets `key` in the store's `meta` table of a stopped ward.
fn set_meta(w: &Ward, key: &str, value: &str) {
    let db = rusqlite::Connection::open(w.state().join("ward.db")).unwrap();
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)", [key, value]).unwrap();
}

/// After the wall clock steps back (the store last recorded an exit numbered
/// "in the future"), exits still reach the brain: a killed service restarts,
/// and `down` ends.
#[test]
fn exits_are_trusted_after_the_clock_steps_back() {
    let mut w = Ward::start("clockstep", SPEC);
    w.wait_event("steady", 0, "started", 10);
    assert!(w.cli(&["down"]).status.success());
    assert_eq!(w.wait_exit(20), 0);
    // What a keeper numbering exits by wall-clock µs left behind before the
    // clock stepped back by an hour.
    let now_us = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_micros();
    set_meta(&w, "last_exit_seq", &(now_us + 3_600_000_000).to_string());
    w.rerun();
    let first = w.wait_event("steady", 0, "started", 10)["pid"].as_u64().unwrap() as u32;
    kill(first as i32, libc::SIGKILL);
    w.wait_event("steady", 0, "exited", 10);
    let second = w.wait_event("steady", 0, "started", 10)["pid"].as_u64().unwrap() as u32;
    assert_ne!(first, second);
    let st = w.instance("steady", 0);
    assert_eq!(st["state"], "running");
    assert_eq!(st["pid"].as_u64(), Some(u64::from(second)));
    // The second keeper of the same store numbers its exits above the first's too.
    assert!(w.cli(&["down"]).status.success());
    assert_eq!(w.wait_exit(20), 0);
    assert!(!alive(second));
}

/// The supervisor never waits for the keeper: while the keeper is frozen, a
/// start is accepted and `status` answers with the instance `starting`; once
/// the keeper goes on, it starts.
#[test]
fn the_supervisor_answers_while_the_keeper_is_frozen() {
    let mut w = Ward::start("frozen", SPEC);
    w.wait_event("steady", 0, "started", 10);
    assert!(w.cli(&["stop", "steady"]).status.success());
    w.wait_event("steady", 0, "stopped", 10);
    let keeper = w.up_pid() as i32;
    kill(keeper, libc::SIGSTOP);
    let start = w.cli(&["start", "steady"]);
    let st = w.cli(&["status", "--json"]);
    kill(keeper, libc::SIGCONT);
    assert!(start.status.success(), "{}", String::from_utf8_lossy(&start.stderr));
    let st: serde_json::Value = serde_json::from_slice(&st.stdout).unwrap();
    assert_eq!(st["instances"][0]["state"], "starting", "{st}");
    let pid = w.wait_event("steady", 0, "started", 10)["pid"].as_u64().unwrap() as u32;
    assert!(alive(pid));
    assert_eq!(w.instance("steady", 0)["state"], "running");
}

/// `down` always ends: a process that is gone but whose exit never reaches
/// the supervisor (here the keeper, its parent, is frozen) is reported
/// `lost` after the stop timeout and the kill grace, and `down` completes.
#[test]
fn down_ends_when_an_exit_never_arrives() {
    let (mut w, keeper) = frozen_keeper_with_a_dead_child("lost");
    let mut down = std::process::Command::new(crate::harness::ward_bin())
        .arg("--file")
        .arg(&w.spec)
        .arg("down")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let lost = w.wait_event("steady", 0, "lost", 15);
    assert!(lost["error"].as_str().unwrap().contains("never arrived"), "{lost}");
    let exited = w.wait_event("steady", 0, "exited", 5);
    assert_eq!(exited["exit"]["unknown"], true, "{exited}");
    w.wait_event("steady", 0, "stopped", 5);
    w.wait_log("the brain's end", 10, |l| l.contains("everything is down"));
    kill(keeper, libc::SIGCONT);
    assert_eq!(w.wait_exit(20), 0);
    let _ = down.wait();
}

/// A restart the keeper made under a standing order that the brain never
/// recorded (the brain frozen, then keeper and brain killed) is found again
/// by the next `ward up` through the keeper's journal and adopted: one
/// process for the replica, never a second copy.
#[test]
fn an_unrecorded_fast_restart_is_adopted_after_a_crash_of_keeper_and_brain() {
    let mut w = Ward::start("unrecorded", SPEC);
    let first = w.wait_event("steady", 0, "started", 10)["pid"].as_u64().unwrap() as u32;
    let keeper = w.up_pid();
    let brain = w.brain_pid().expect("a brain");
    kill(brain as i32, libc::SIGSTOP);
    kill(first as i32, libc::SIGKILL);
    // The keeper restarts it at once, on its own; the frozen brain records nothing.
    let mut replacement = 0;
    crate::harness::eventually("the keeper's replacement", 10, || {
        replacement = crate::harness::children(keeper).into_iter().find(|&p| p != brain).unwrap_or(0);
        replacement != 0 && replacement != first
    });
    w.track(replacement);
    kill(keeper as i32, libc::SIGKILL);
    kill(brain as i32, libc::SIGKILL);
    let _ = w.up.take().map(|mut up| up.wait());
    assert!(alive(replacement));
    w.rerun();
    let adopted = w.wait_event("steady", 0, "adopted", 10);
    assert_eq!(adopted["pid"].as_u64(), Some(u64::from(replacement)), "{adopted}");
    let st = w.instance("steady", 0);
    assert_eq!((st["state"].as_str(), st["pid"].as_u64()), (Some("running"), Some(u64::from(replacement))));
    assert!(w.cli(&["down"]).status.success());
    assert_eq!(w.wait_exit(20), 0);
    assert!(!alive(replacement), "down stopped the adopted replacement");
    let restarts_after_rerun = w
        .seen
        .iter()
        .filter(|e| e["kind"] == "started" && e["pid"].as_u64() != Some(u64::from(first)))
        .count();
    assert_eq!(restarts_after_rerun, 0, "no second copy was started: {:#?}", w.seen);
}

/// A `stop` whose exit never arrives ends `lost` too, and `ward why` says so.
#[test]
fn why_names_a_lost_process() {
    let (mut w, keeper) = frozen_keeper_with_a_dead_child("lostwhy");
    let stop = w.cli(&["stop", "steady"]);
    assert!(stop.status.success(), "{}", String::from_utf8_lossy(&stop.stderr));
    w.wait_event("steady", 0, "lost", 15);
    w.wait_event("steady", 0, "stopped", 5);
    let why = w.cli(&["why", "steady/0"]);
    let text = String::from_utf8_lossy(&why.stdout);
    kill(keeper, libc::SIGCONT);
    assert!(text.contains("steady/0 is stopped") && text.contains("lost:"), "{text}");
    assert!(text.contains("never arrived"), "{text}");
}

/// A ward whose service `steady` (stop timeout 1 s) was SIGKILLed while its
/// keeper is frozen (SIGSTOP): a zombie whose exit cannot come. Returns the
/// ward and the keeper's pid (to SIGCONT).
fn frozen_keeper_with_a_dead_child(tag: &str) -> (Ward, i32) {
    let spec = r#"version: 1
services:
  steady:
    command: ["sleep", "600"]
    stop: { timeout: 1s }
"#;
    let mut w = Ward::start(tag, spec);
    let pid = w.wait_event("steady", 0, "started", 10)["pid"].as_u64().unwrap() as u32;
    let keeper = w.up_pid() as i32;
    kill(keeper, libc::SIGSTOP);
    kill(pid as i32, libc::SIGKILL);
    (w, keeper)
}
