//! `MAINPID=`: a daemon whose first process forks, names its child as the
//! main process (with the real `systemd-notify`) and exits 0 lives on in
//! that child: `status` shows the child's pid and `ready`, the parent's exit
//! is no exit of the instance, the child's death is (restart per policy),
//! and `down` leaves nothing. In a cgroup the child may stay in the
//! parent's process group; without one it must leave it (`setsid`).

use crate::harness::{Ward, alive, eventually};

/// Forks a child that writes its pid to `child.pid` and becomes `sleep 600`;
/// once the file is there, hands over to it and exits 0.
const FORKING: &str = r#"version: 1
services:
  daemon:
    command: ["sh", "-c", "rm -f child.pid; SPAWN sh -c 'echo $$$$ > child.pid.tmp; mv child.pid.tmp child.pid; exec sleep 600' & while [ ! -e child.pid ]; do sleep 0.05; done; systemd-notify --pid=$$! --ready --status=forked; exit 0"]
    ready: { notify: true }
    restart: always
    backoff: { initial: 100ms, jitter: 0 }
    stop: { timeout: 2s }
"#;

/// The pid in `child.pid` once it names a process other than `not`.
fn child_pid(w: &Ward, not: u32) -> u32 {
    let f = w.dir.0.join("child.pid");
    let read = || std::fs::read_to_string(&f).ok().and_then(|s| s.trim().parse::<u32>().ok());
    eventually("child.pid", 20, || read().is_some_and(|p| p != not));
    read().unwrap_or_default()
}

/// The hand-over, a `kill -9` of the new main process, the restart and `down`.
fn hands_over_and_its_child_is_the_instance(w: &mut Ward) {
    let ev = w.wait_event("daemon", 0, "main_pid", 30);
    let child = child_pid(w, 0);
    w.track(child);
    assert_eq!(ev["pid"].as_u64(), Some(u64::from(child)), "the event names the child: {ev}");
    let inst = w.wait_for("daemon/0 ready", 20, |e| e["service"] == "daemon" && e["kind"] == "ready");
    assert_eq!(inst["replica"], 0);
    let row = w.instance("daemon", 0);
    assert_eq!(row["pid"].as_u64(), Some(u64::from(child)), "status shows the child: {row}");
    assert_eq!(row["state"], "ready", "{row}");
    assert_eq!(row["status_text"], "forked", "{row}");
    // The parent's exit 0 was no exit of the instance.
    assert!(!w.seen.iter().any(|e| e["kind"] == "exited"), "no exit yet: {:#?}", w.seen);
    assert!(alive(child), "the child lives");

    // The child dies: that is the instance's exit (status unknown: ward is
    // not its parent), restarted per policy.
    assert!(crate::harness::kill(child as i32, libc::SIGKILL));
    let exited = w.wait_event("daemon", 0, "exited", 20);
    assert!(exited["exit"]["code"].is_null(), "an unknown exit: {exited}");
    w.wait_event("daemon", 0, "restarted", 20);
    let ev = w.wait_event("daemon", 0, "main_pid", 30);
    let second = child_pid(w, child);
    w.track(second);
    assert_eq!(ev["pid"].as_u64(), Some(u64::from(second)));
    w.wait_for("daemon/0 ready again", 20, |e| e["service"] == "daemon" && e["kind"] == "ready");

    // `down` stops the child (SIGTERM kills sleep) and leaves nothing.
    let down = w.cli(&["down"]);
    assert!(down.status.success(), "down: {}", String::from_utf8_lossy(&down.stderr));
    assert_eq!(w.wait_exit(30), 0);
    eventually("the second child to be gone", 10, || !alive(second));
}

#[test]
fn in_a_cgroup_a_forked_child_named_by_mainpid_is_the_instance() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: cgroups need root");
        return;
    }
    let yaml = FORKING.replace("SPAWN ", "") + "    cgroup: true\n";
    let mut w = Ward::start("mainpid-cgroup", &yaml);
    hands_over_and_its_child_is_the_instance(&mut w);
}

#[test]
fn without_a_cgroup_a_child_that_left_the_group_is_the_instance() {
    let yaml = FORKING.replace("SPAWN ", "setsid ") + "    cgroup: false\n";
    let mut w = Ward::start("mainpid-pgroup", &yaml);
    hands_over_and_its_child_is_the_instance(&mut w);
}

#[test]
fn a_mainpid_that_is_not_the_instances_is_ignored() {
    // pid 1 is never an instance's; the instance keeps its own process.
    let yaml = r#"version: 1
services:
  daemon:
    command: ["sh", "-c", "systemd-notify --pid=1 --ready; exec sleep 600"]
    ready: { notify: true }
"#;
    let mut w = Ward::start("mainpid-stranger", yaml);
    let started = w.wait_event("daemon", 0, "started", 20);
    w.wait_event("daemon", 0, "ready", 20);
    w.wait_log("the ignored MAINPID", 20, |l| l.contains("MAINPID=1 ignored"));
    let row = w.instance("daemon", 0);
    assert_eq!(row["pid"], started["pid"], "{row}");
    assert!(!w.seen.iter().any(|e| e["kind"] == "main_pid"));
    let down = w.cli(&["down"]);
    assert!(down.status.success());
    assert_eq!(w.wait_exit(30), 0);
}

#[test]
fn a_new_brain_adopts_the_handed_over_child_and_cleans_its_cgroup_up() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: cgroups need root");
        return;
    }
    let yaml = FORKING.replace("SPAWN ", "") + "    cgroup: true\n";
    let mut w = Ward::start("mainpid-brain", &yaml);
    w.wait_event("daemon", 0, "main_pid", 30);
    let child = child_pid(&w, 0);
    w.track(child);
    let brain = w.brain_pid().expect("a brain");
    assert!(crate::harness::kill(brain as i32, libc::SIGKILL));
    w.wait_new_brain(brain);
    let adopted = w.wait_event("daemon", 0, "adopted", 20);
    assert_eq!(adopted["pid"].as_u64(), Some(u64::from(child)), "the child, from the store: {adopted}");
    assert_eq!(w.instance("daemon", 0)["pid"].as_u64(), Some(u64::from(child)));
    // Its end is still the instance's exit; the keeper still holds its cgroup for it.
    assert!(crate::harness::kill(child as i32, libc::SIGKILL));
    w.wait_event("daemon", 0, "exited", 20);
    w.wait_event("daemon", 0, "main_pid", 30);
    let second = child_pid(&w, child);
    w.track(second);
    let status: serde_json::Value = serde_json::from_slice(&w.cli(&["status", "--json"]).stdout).unwrap();
    let isolation = status["isolation"].as_str().unwrap_or_default().to_string();
    let base = isolation.rsplit(" at ").next().map(std::path::PathBuf::from).unwrap_or_default();
    assert!(base.join("daemon@0").is_dir(), "the instance's cgroup: {isolation}");
    let down = w.cli(&["down"]);
    assert!(down.status.success(), "down: {}", String::from_utf8_lossy(&down.stderr));
    assert_eq!(w.wait_exit(30), 0);
    eventually("the second child to be gone", 10, || !alive(second));
    assert!(!base.exists(), "down left no cgroup: {}", base.display());
}
