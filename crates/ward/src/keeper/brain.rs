//! The keeper's side of its brain: starting one, and what a brain that
//! attaches learns first (every process held, every exit not acknowledged).

use super::{Brain, Keeper, Pending, now};
use crate::protocol::ToBrain;
use crate::runtime::{KnownChild, Launch};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use ward_core::ExitStatus;
use ward_core::InstanceId;

impl Keeper {
    /// Brain connection `id` attached: its hello names every process held
    /// and every exit not yet acknowledged, which follow it again.
    pub(super) fn attach(&mut self, id: u64, stream: UnixStream) {
        self.conn_pid = rustix::net::sockopt::socket_peercred(&stream)
            .ok()
            .map(|cred| cred.pid.as_raw_nonzero().get().unsigned_abs());
        self.conn = Some((id, super::outgoing::Outgoing::new(stream)));
        // Orders of the last brain are withdrawn: the new one gives its own
        // once it has resumed its state.
        for child in self.children.values_mut() {
            child.order = None;
        }
        let mut children: Vec<KnownChild> = self
            .children
            .iter()
            .map(|(pid, c)| KnownChild {
                pid: *pid,
                instance: c.instance.to_string(),
                // Read now, not at each start: an unreaped child's pid
                // cannot be reused, so only a brain needs it (for its store).
                start_time: crate::runtime::process::process_start_time(*pid),
            })
            .collect();
        for p in &self.pending {
            children.push(KnownChild { pid: p.pid, instance: String::new(), start_time: None });
        }
        tracing::debug!("keeper: a brain attached; {} instance processes held", children.len());
        let strays = self
            .strays
            .iter()
            .filter(|s| crate::runtime::process::process_alive(s.pid))
            .map(|s| KnownChild {
                pid: s.pid,
                instance: s.instance.clone(),
                start_time: crate::runtime::process::process_start_time(s.pid),
            })
            .collect();
        let isolation = Some(match self.runtime.cgroups() {
            Ok(cgroups) => cgroups.describe(),
            Err(why) => format!("process groups (no cgroups: {why})"),
        });
        self.send(&ToBrain::Hello { keeper_pid: std::process::id(), children, strays, isolation });
        let pending: Vec<Pending> = self.pending.iter().copied().collect();
        for p in pending {
            self.send(&p.exit_message());
        }
    }

    /// Starts a brain (`ward __brain`), or plans another try in a second.
    pub(super) fn start_brain(&mut self) {
        self.restart_at = None;
        let exe = match std::env::current_exe() {
            Ok(exe) => exe,
            Err(e) => {
                tracing::error!("keeper: cannot find ward's own executable: {e}");
                self.done = Some(1);
                return;
            }
        };
        let p = &self.paths;
        let mut argv = vec![exe.display().to_string()];
        for (flag, value) in [("--file", &p.spec), ("--state-dir", &p.state), ("--socket", &p.socket)] {
            argv.push(flag.to_string());
            argv.push(value.display().to_string());
        }
        argv.push("__brain".into());
        let launch = Launch {
            id: InstanceId::new(ward_core::ServiceName::new("ward").expect("a valid name"), 0),
            argv,
            env: [("WARD_KEEPER_SOCKET".into(), p.keeper_socket().display().to_string())]
                .into_iter()
                .chain(self.brain_env.iter().cloned())
                .collect(),
            workdir: std::env::current_dir().ok(),
            user: None,
            log: PathBuf::from("/dev/stderr"),
            image: None,
            process: Default::default(),
        };
        match self.runtime.spawn(&launch) {
            Ok(pid) => self.brain = Some(Brain { pid, started: now() }),
            Err(e) => {
                tracing::error!("keeper: cannot start the brain: {e}");
                self.restart_at = Some(now() + Duration::from_secs(1));
            }
        }
    }

    /// SIGTERM or SIGINT. The first is passed on to the brain, which stops
    /// every service its way (stop signals, timeouts, order). A second one,
    /// before the brain is done, does not wait for it (it may be stalled, or
    /// an operator has waited long enough: a second Ctrl-C), nor does one
    /// that comes while no brain runs (between a brain's death and the
    /// next): the keeper kills the brain and every instance process it holds
    /// (its process group and cgroup) and ends once they are reaped, with
    /// 128 + the signal's number.
    pub(super) fn stop_signal(&mut self, sig: i32) {
        match (&self.brain, self.stop) {
            (_, Stop::Forced) => return,
            (Some(brain), Stop::None) => {
                self.stop = Stop::Asked(sig);
                tracing::info!(
                    "keeper: {} passed to the brain; another one kills everything at once",
                    name(sig)
                );
                // SAFETY: kill takes plain integers; the brain is our child.
                unsafe { libc::kill(brain.pid as i32, sig) };
                return;
            }
            (Some(brain), Stop::Asked(_)) => {
                tracing::warn!("keeper: {} again: killing the brain and every instance now", name(sig));
                // SAFETY: as above.
                unsafe { libc::kill(brain.pid as i32, libc::SIGKILL) };
            }
            (None, _) => {
                tracing::warn!("keeper: {} while no brain runs: killing every instance now", name(sig))
            }
        }
        self.force_stop(sig);
    }

    /// The brain ended without saying everything was down (`status`): a
    /// new one starts at `at`; but if a stop was asked, it is not left
    /// undone, nor waited for: the keeper kills every instance itself.
    pub(super) fn brain_lost(&mut self, status: ExitStatus, at: Instant) {
        if let Stop::Asked(sig) = self.stop {
            tracing::error!(
                "keeper: the brain died ({status}) while stopping everything; killing every instance now"
            );
            self.force_stop(sig);
            return;
        }
        tracing::error!("keeper: the brain died ({status}); starting a new one");
        self.restart_at = Some(at);
    }

    /// Kills the brain (if one runs) and every instance process, also those
    /// of an earlier keeper; the keeper ends once its children are reaped,
    /// with 128 + `sig`.
    fn force_stop(&mut self, sig: i32) {
        self.stop = Stop::Forced;
        self.restart_at = None; // no brain starts again
        self.done.get_or_insert(128 + sig);
        // Forks under way become children first, so that none is missed.
        self.settle();
        let pids: Vec<u32> = self.children.keys().copied().collect();
        for pid in pids {
            if let Some(child) = self.children.get_mut(&pid) {
                child.order = None; // its exit restarts nothing
            }
            self.signal_child(pid, libc::SIGKILL);
        }
        // Processes an earlier keeper started (adopted by a brain after a
        // crash of the keeper) are not children: each still carrying its
        // token is killed by its group and its instance's cgroup.
        for s in self.strays.clone() {
            kill_stray(s.pid, &s.token);
            self.cgroup_cleanup(s.pid, Some(&s.instance));
        }
    }
}

/// SIGKILLs `pid`, a process an earlier keeper started, and its group, if
/// it still carries `token`: checked after a pidfd pinned the process, so a
/// reused pid is never hit (the keeper cannot wait for what it did not fork).
fn kill_stray(pid: u32, token: &str) {
    let Some(raw) = rustix::process::Pid::from_raw(pid as i32) else { return };
    let Ok(fd) = rustix::process::pidfd_open(raw, rustix::process::PidfdFlags::empty()) else { return };
    if super::journal::carries(pid, token)
        && rustix::process::pidfd_send_signal(&fd, rustix::process::Signal::KILL).is_ok()
    {
        // SAFETY: kill takes plain integers; the leader was alive just now,
        // so its group id is still its own.
        unsafe { libc::kill(-(pid as libc::pid_t), libc::SIGKILL) };
    }
}

/// How far a stop asked by signal went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Stop {
    /// None was asked.
    None,
    /// This signal was passed to the brain, which stops everything its way.
    Asked(i32),
    /// A second one came: the keeper killed everything itself.
    Forced,
}

/// A stop signal's name, for the log.
fn name(sig: i32) -> &'static str {
    match sig {
        libc::SIGINT => "SIGINT",
        libc::SIGTERM => "SIGTERM",
        _ => "a stop signal",
    }
}
