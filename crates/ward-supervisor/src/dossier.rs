//! Crash dossiers: everything ward knows of an exit, attached to its `exited`
//! event — the status, run time, CPU time and peak memory, the last lines of
//! output, the restart count, and what the gate and policies decided.

use super::Supervisor;
use crate::ports::runtime::Runtime;
use crate::view::{DecisionJson, Dossier};
use ward_core::instance::InstanceState;
use ward_core::{ExitStatus, InstanceId};

/// How many lines of output a dossier carries.
pub const OUTPUT_LINES: usize = 50;

impl<R: Runtime> Supervisor<R> {
    /// The dossier of the exit of `id` that was just decided.
    pub(super) fn dossier(&mut self, id: &InstanceId, status: ExitStatus) -> Dossier {
        let rusage = self.exit_rusage.remove(id);
        let cgroup = self.exit_cgroup.remove(id);
        let oom_killed = match cgroup.and_then(|c| c.oom_kills) {
            Some(kills) => kills > 0,
            None => status == ExitStatus::Signal(libc::SIGKILL) && self.oom_kill_rose(),
        };
        let Some(inst) = self.deployment.instance(id) else {
            return Dossier { rusage, oom_killed, cgroup, ..Dossier::default() };
        };
        let wall = |t| self.clock.wall_of(t);
        let (state, until_ms) = match inst.state() {
            InstanceState::Backoff { until } => ("backoff", Some(wall(until))),
            InstanceState::CrashLoop { until } => ("crashloop", Some(wall(until))),
            other => (other.word(), None),
        };
        // ward-core's own words for the decision it just took.
        let reason = inst.decision().unwrap_or("no decision recorded").to_string();
        Dossier {
            rusage,
            oom_killed,
            cgroup,
            restarts: inst.restarts(),
            output: self.output.tail(id, OUTPUT_LINES, self.run_end(id)),
            decision: DecisionJson { state: state.into(), until_ms, reason },
        }
    }

    /// True when the kernel's OOM-kill count rose since the last look.
    fn oom_kill_rose(&mut self) -> bool {
        let Some(now) = self.runtime.oom_kills() else { return false };
        let rose = now > self.oom_kills;
        self.oom_kills = now;
        rose
    }
}
