//! Snapshots: what the store keeps of an instance, so that a new run of ward
//! resumes it (same process, same gate, same counts) instead of starting over.

use super::{Instance, InstanceState};
use crate::exit::ExitStatus;
use crate::gate::GateState;
use crate::name::InstanceId;
use crate::spec::ServiceSpec;
use crate::time::MonoTime;
use std::time::Duration;

/// Everything needed to rebuild an instance, in the core's own time.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// Its state.
    pub state: InstanceState,
    /// Its live process.
    pub pid: Option<u32>,
    /// When that process started.
    pub started_at: Option<MonoTime>,
    /// Restarts so far.
    pub restarts: u32,
    /// How its last process ended.
    pub last_exit: Option<ExitStatus>,
    /// Its gate's state.
    pub gate: GateState,
    /// The delay (before jitter) its next crash would wait.
    pub next_delay: Duration,
    /// The crash times in its gate's window, oldest first.
    pub crashes: Vec<MonoTime>,
}

impl Instance {
    /// What the store should keep of this instance.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            state: self.state,
            pid: self.pid,
            started_at: self.started_at,
            restarts: self.restarts,
            last_exit: self.last_exit,
            gate: self.gate.state(),
            next_delay: self.gate.next_delay(),
            crashes: self.gate.crash_times().collect(),
        }
    }

    /// Rebuilds an instance of `spec` from a snapshot. A process that was
    /// being started or stopped is resumed as running (the shell checks
    /// that it still lives); states that wait on the gate keep their `until`.
    pub fn from_snapshot(id: InstanceId, spec: &ServiceSpec, snap: &Snapshot) -> Instance {
        let mut inst = Instance::new(id, spec);
        inst.restarts = snap.restarts;
        inst.last_exit = snap.last_exit;
        inst.gate.restore(snap.gate, snap.next_delay, &snap.crashes);
        inst.state = match (snap.state, snap.pid) {
            (InstanceState::Starting | InstanceState::Stopping { .. } | InstanceState::Running, Some(_)) => {
                InstanceState::Running
            }
            (InstanceState::Ready, Some(_)) => InstanceState::Ready,
            (InstanceState::Isolated, pid) => {
                inst.kept_alive = pid.is_some();
                InstanceState::Isolated
            }
            (
                InstanceState::Starting
                | InstanceState::Stopping { .. }
                | InstanceState::Running
                | InstanceState::Ready,
                None,
            ) => InstanceState::Stopped,
            (state, _) => state,
        };
        if matches!(inst.state, InstanceState::Running | InstanceState::Ready | InstanceState::Isolated) {
            inst.pid = snap.pid;
            inst.started_at = snap.started_at;
        }
        inst.generation = 1;
        inst
    }
}
