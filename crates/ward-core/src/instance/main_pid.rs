//! A process that hands its place over to another: sd_notify `MAINPID=`.
//!
//! A daemon that forks (or re-executes itself) names its new main process.
//! As under systemd, the name is taken only for a process of the instance's
//! own: in its cgroup when it has one, else of its process's family (see
//! [`Kinship`]). Taken, the instance lives on in that process: its pid
//! becomes the instance's, its end is the instance's exit, and the end of
//! the process it replaces is not (a daemon's parent exiting 0 once its
//! child runs). The state, the run's start and the timers stay as they are:
//! it is the same run.

use super::{Action, Instance, InstanceState as S, Kinship};
use crate::event::EventKind;

impl Instance {
    pub(super) fn on_main_pid(&mut self, pid: u32, kin: Kinship, out: &mut Vec<Action>) {
        let live = match self.state {
            S::Running | S::Ready | S::Stopping { .. } => true,
            S::Isolated => self.kept_alive,
            S::Waiting
            | S::Starting
            | S::Stopped
            | S::Backoff { .. }
            | S::CrashLoop { .. }
            | S::Shutdown
            | S::Completed
            | S::Failed => false,
        };
        let Some(previous) = self.pid.filter(|_| live) else {
            return out.push(Action::IgnoreMainPid { pid, why: "it has no live process" });
        };
        if pid == previous {
            return; // already its main process
        }
        let why = match kin {
            _ if pid <= 1 => "pids 0 and 1 are never an instance's",
            Kinship::InCgroup | Kinship::Descendant | Kinship::Orphan => "",
            Kinship::Stranger => {
                "that process is neither in the instance's cgroup nor of its process's family"
            }
            Kinship::Gone => "no such process runs",
            Kinship::Container => "a container's pids are numbers of its own pid namespace",
        };
        if !why.is_empty() {
            return out.push(Action::IgnoreMainPid { pid, why });
        }
        self.pid = Some(pid);
        out.push(Action::Emit(EventKind::MainPid { pid }));
        out.push(Action::WatchMainPid { pid, previous });
        if matches!(self.state, S::Stopping { .. }) {
            // The stop under way reaches the new main process too.
            out.push(Action::Signal(self.policy.stop.signal));
        }
    }
}
