//! An instance whose cgroup was frozen by hand (as an operator would, to
//! look at it) holds nothing else up. A process born in a frozen folder
//! cannot exec, and until a vfork-like child has exec'd the keeper's loop
//! waits for it: the keeper starts nothing in a frozen folder (the
//! instance's start fails, saying so, and is tried again behind its
//! backoff), and a child whose exec hangs anyway is killed at the exec
//! deadline (`runtime::reaper::deadline`, unit-tested with a child held
//! before its exec). Needs root and a v2 hierarchy with `cgroup.freeze`.

use crate::harness::{Ward, alive, eventually, kill};
use std::path::PathBuf;

const SPEC: &str = r#"version: 1
services:
  a:
    command: ["sleep", "300"]
    backoff: { initial: 0s, jitter: 0 }
    crash_loop: { threshold: 3, window: 60s, cooldown: 1s }
  b:
    command: ["sleep", "300"]
    backoff: { initial: 0s, jitter: 0 }
"#;

/// The v2 cgroup folder of `pid`, when it has a `cgroup.freeze`.
fn v2_folder(pid: u32) -> Option<PathBuf> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    let path = text.lines().find_map(|l| l.strip_prefix("0::"))?.trim_start_matches('/').to_string();
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let mount = mounts.lines().find_map(|l| {
        let (left, right) = l.split_once(" - ")?;
        right.starts_with("cgroup2 ").then(|| left.split(' ').nth(4).map(PathBuf::from))?
    })?;
    let dir = mount.join(path);
    dir.join("cgroup.freeze").exists().then_some(dir)
}

/// Thaws the folder when dropped (also after a failed assertion), so that
/// what is in it can end.
struct Frozen(PathBuf);

impl Frozen {
    fn freeze(dir: PathBuf) -> Frozen {
        std::fs::write(dir.join("cgroup.freeze"), "1").expect("freeze");
        let events = dir.join("cgroup.events");
        eventually("the folder frozen", 10, || {
            std::fs::read_to_string(&events).is_ok_and(|t| t.lines().any(|l| l == "frozen 1"))
        });
        Frozen(dir)
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        let _ = std::fs::write(self.0.join("cgroup.freeze"), "0");
    }
}

#[test]
fn nothing_is_started_in_a_frozen_cgroup_and_other_restarts_go_on() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: needs root");
        return;
    }
    let mut w = Ward::start_with_env("frozen", SPEC, &[("WARD_EXEC_DEADLINE_MS", "60000")]);
    let a = w.wait_event("a", 0, "started", 20)["pid"].as_u64().unwrap() as u32;
    let b = w.wait_event("b", 0, "started", 20)["pid"].as_u64().unwrap() as u32;
    let Some(dir) = v2_folder(a) else {
        eprintln!("skipped: no v2 cgroup with cgroup.freeze here");
        return;
    };
    let frozen = Frozen::freeze(dir);

    // a dies frozen; the keeper, which would have restarted it at once in
    // the same folder, starts nothing there, nor does the brain; b's
    // restart is not held (the exec deadline, a minute here, would hold it
    // that long).
    assert!(kill(a as i32, libc::SIGKILL));
    assert!(kill(b as i32, libc::SIGKILL));
    let failed = w.wait_event("a", 0, "spawn_failed", 20);
    assert!(failed["error"].as_str().is_some_and(|e| e.contains("is frozen")), "{failed}");
    let b2 = w.wait_event("b", 0, "started", 5)["pid"].as_u64().unwrap() as u32;
    assert_ne!(b2, b);
    assert!(alive(b2), "b runs again while a cannot start");
    let why = String::from_utf8_lossy(&w.cli(&["why", "a/0"]).stdout).into_owned();
    assert!(why.contains("frozen"), "ward why says why: {why}");

    // Thawed, a starts again at its next try (after the crash-loop gate's cooldown).
    drop(frozen);
    let a2 = w.wait_event("a", 0, "started", 30)["pid"].as_u64().unwrap() as u32;
    assert_ne!(a2, a);
    eventually("a's new process alive", 5, || alive(a2));

    assert!(w.cli(&["down"]).status.success());
    assert_eq!(w.wait_exit(30), 0);
}
