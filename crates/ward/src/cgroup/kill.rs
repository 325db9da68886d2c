//! Killing every process of an instance at once, escapees included: on v2,
//! `cgroup.kill` (the kernel SIGKILLs the whole tree, new forks included); on
//! v1, the freezer stops the group so nothing can fork while each pid in
//! `cgroup.procs` gets SIGKILL, then thaws it and the kills land.

use super::create::Instance;
use super::detect::Controller;
use std::fs;
use std::path::Path;

/// How often the freezer's state is read while it freezes (it is quick;
/// a task in uninterruptible sleep can hold it up).
const FREEZE_TRIES: u32 = 200;

impl Instance {
    /// SIGKILLs every process in the instance's cgroup.
    pub fn kill(&self) {
        if let Some(dir) = &self.v2 {
            if fs::write(dir.join("cgroup.kill"), "1").is_ok() {
                return;
            }
        }
        match self.v1_dir(Controller::Freezer) {
            Some(freezer) => kill_frozen(freezer),
            None => {
                // No freezer: kill what is there until nothing is (a fork
                // racing the kill is caught by the next round).
                for _ in 0..16 {
                    let pids = self.pids();
                    if pids.is_empty() {
                        break;
                    }
                    kill_all(&pids);
                }
            }
        }
    }
}

/// Freezes the freezer folder `dir`, SIGKILLs each of its pids, thaws it.
fn kill_frozen(dir: &Path) {
    let state = dir.join("freezer.state");
    if fs::write(&state, "FROZEN").is_ok() {
        for _ in 0..FREEZE_TRIES {
            match fs::read_to_string(&state) {
                Ok(s) if s.trim() == "FREEZING" => std::thread::sleep(std::time::Duration::from_micros(200)),
                _ => break,
            }
        }
    }
    let pids: Vec<u32> = fs::read_to_string(dir.join("cgroup.procs"))
        .map(|t| t.lines().filter_map(|l| l.trim().parse().ok()).collect())
        .unwrap_or_default();
    kill_all(&pids);
    let _ = fs::write(&state, "THAWED");
}

fn kill_all(pids: &[u32]) {
    for &pid in pids {
        if let Ok(pid) = libc::pid_t::try_from(pid) {
            if pid > 1 {
                // SAFETY: kill takes plain integers; an ESRCH is fine.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
    }
}
