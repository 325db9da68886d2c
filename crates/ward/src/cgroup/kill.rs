//! Killing every process of an instance at once, escapees included: on v2,
//! `cgroup.kill` (the kernel SIGKILLs the whole tree, new forks included; the
//! folder is marked, as no child may be born in it after that); on
//! v1, the freezer stops the group so nothing can fork while each pid in
//! `cgroup.procs` gets SIGKILL, then thaws it and the kills land.

use super::create::Instance;
use super::detect::Controller;
use std::fs;
use std::path::Path;

/// Rounds of freeze-kill-thaw at most: a task still freezing when its
/// group's pids are read may fork once more; the next round gets its child.
const FREEZE_ROUNDS: u32 = 8;

impl Instance {
    /// Kills every process in the cgroup and waits (through a pidfd each,
    /// up to `each` per process) until they are gone, so that the folders
    /// can be removed at once.
    pub fn kill_and_wait(&self, each: std::time::Duration) {
        self.kill();
        let timeout = rustix::event::Timespec::try_from(each).ok();
        for pid in self.pids() {
            let Some(pid) = rustix::process::Pid::from_raw(pid as i32) else { continue };
            let Ok(fd) = rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()) else {
                continue;
            };
            let mut fds = [rustix::event::PollFd::new(&fd, rustix::event::PollFlags::IN)];
            let _ = rustix::event::poll(&mut fds, timeout.as_ref());
        }
    }

    /// SIGKILLs every process in the instance's cgroup (nothing to do when
    /// it holds none: then its v2 folder stays fit to be born in, see
    /// [`super::Cgroups::create`]).
    pub fn kill(&self) {
        if let Some(dir) = &self.v2 {
            if !populated(dir) {
                return;
            }
            // Marked first: a child born in it later would be killed at birth.
            let _ = rustix::fs::setxattr(dir, KILLED, b"1", rustix::fs::XattrFlags::empty());
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

/// Freezes the freezer folder `dir`, SIGKILLs each of its pids, thaws it;
/// again while new pids show up (no waiting for the freezer: a kill lands
/// on a frozen task as it thaws).
fn kill_frozen(dir: &Path) {
    let state = dir.join("freezer.state");
    let mut killed: Vec<u32> = Vec::new();
    for _ in 0..FREEZE_ROUNDS {
        let _ = fs::write(&state, "FROZEN");
        let pids = read_pids(dir);
        let fresh: Vec<u32> = pids.iter().copied().filter(|p| !killed.contains(p)).collect();
        kill_all(&pids);
        let _ = fs::write(&state, "THAWED");
        if fresh.is_empty() {
            break;
        }
        killed.extend(fresh);
    }
}

/// The extended attribute that marks a v2 folder once `cgroup.kill` was
/// written to it.
pub(super) const KILLED: &str = "user.ward.killed";

/// Whether v2 folder `dir` was marked as killed; true also when that cannot
/// be told (no user xattrs on this host), to be safe.
pub(super) fn was_killed(dir: &Path) -> bool {
    let mut value = [0u8; 4];
    !matches!(rustix::fs::getxattr(dir, KILLED, &mut value), Err(rustix::io::Errno::NODATA))
}

/// Whether v2 folder `dir` holds a process (`populated 1` in `cgroup.events`;
/// true when unreadable, to be safe).
pub(super) fn populated(dir: &Path) -> bool {
    events(dir).populated
}

/// What v2 folder `dir`'s `cgroup.events` says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Events {
    /// A process is in it or below (true when unreadable, to be safe).
    pub populated: bool,
    /// It is frozen, by its own `cgroup.freeze` or a parent's: a process
    /// born in it would not run until it is thawed.
    pub frozen: bool,
}

impl Events {
    /// What is assumed when they cannot be read: a process may be in it.
    pub const UNKNOWN: Events = Events { populated: true, frozen: false };
}

/// Reads `dir`'s `cgroup.events` (one read).
pub(super) fn events(dir: &Path) -> Events {
    crate::kfile::read(&dir.join("cgroup.events"), |text| {
        let on = |key: &str| text.lines().any(|l| l.trim().strip_prefix(key) == Some(" 1"));
        Some(Events { populated: on("populated"), frozen: on("frozen") })
    })
    .unwrap_or(Events::UNKNOWN)
}

fn read_pids(dir: &Path) -> Vec<u32> {
    fs::read_to_string(dir.join("cgroup.procs"))
        .map(|t| t.lines().filter_map(|l| l.trim().parse().ok()).collect())
        .unwrap_or_default()
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
