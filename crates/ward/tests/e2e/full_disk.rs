//! A full disk under the state folder (a small tmpfs mounted on `.ward`,
//! then filled): ward goes on restarting what dies, and once there is room
//! its store catches up, so that a new brain resumes from what it holds.

use crate::harness::{TempDir, Ward, eventually, kill};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs mounted for the test, unmounted when dropped.
struct Mount(PathBuf);

impl Mount {
    /// Mounts a tmpfs of `size` on `dir`; `None` where that is not allowed.
    fn tmpfs(dir: &Path, size: &str) -> Option<Mount> {
        if !rustix::process::geteuid().is_root() {
            return None;
        }
        std::fs::create_dir_all(dir).ok()?;
        let options = format!("size={size},mode=0700");
        let status = Command::new("mount").args(["-t", "tmpfs", "-o", &options, "tmpfs"]).arg(dir).status();
        status.ok().filter(|s| s.success()).map(|_| Mount(dir.to_path_buf()))
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        // Lazily: after a failed assertion, ward's processes (killed, not
        // yet gone) may still hold files there.
        let _ = Command::new("umount").arg("--lazy").arg(&self.0).status();
    }
}

/// Fills the file system of `dir` with `dir/filler` until it is full.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    while file.write_all(&chunk).is_ok() {}
    let _ = file.sync_all();
    path
}

const SPEC: &str = r#"version: 1
services:
  a:
    command: ["sleep", "300"]
    backoff: { initial: 0s, jitter: 0 }
    restart: always
  b:
    command: ["sleep", "300"]
    backoff: { initial: 0s, jitter: 0 }
    restart: always
"#;

/// Kills the running process of `service`/0 and waits for its next start.
fn crash(w: &mut Ward, service: &str, pid: u64) -> u64 {
    assert!(kill(pid as i32, libc::SIGKILL));
    w.wait_event(service, 0, "started", 20)["pid"].as_u64().expect("a pid")
}

#[test]
fn a_full_disk_stops_no_restart_and_the_store_catches_up_once_there_is_room() {
    let dir = TempDir::new("full-disk");
    let Some(mount) = Mount::tmpfs(&dir.0.join(".ward"), "8M") else {
        eprintln!("skipped: cannot mount a tmpfs here");
        return;
    };
    let mut w = Ward::start_in(dir, SPEC, &[]);
    let mut a = w.wait_event("a", 0, "started", 20)["pid"].as_u64().unwrap();
    let b = w.wait_event("b", 0, "started", 20)["pid"].as_u64().unwrap();

    let filler = fill(&mount.0);
    for _ in 0..3 {
        a = crash(&mut w, "a", a);
    }
    w.wait_log("the failed commit in ward's stderr", 20, |l| l.contains("store: commit failed"));
    assert_eq!(w.instance("a", 0)["restarts"], 3, "restarted all the same");

    // Room again: b's restart commits, and a's rows with it.
    std::fs::remove_file(filler).unwrap();
    crash(&mut w, "b", b);
    // A new brain starts from the store: a's restarts are there.
    let brain = w.brain_pid().expect("a brain");
    assert!(kill(brain as i32, libc::SIGKILL));
    w.wait_new_brain(brain);
    let resumed = w.instance("a", 0);
    assert_eq!(resumed["restarts"], 3, "{resumed}");
    assert_eq!(resumed["pid"].as_u64(), Some(a), "{resumed}");
    assert_eq!(w.instance("b", 0)["restarts"], 1);
    eventually("a's process still the one", 5, || crate::harness::alive(a as u32));

    assert!(w.cli(&["down"]).status.success());
    assert_eq!(w.wait_exit(30), 0);
    drop(mount);
}
