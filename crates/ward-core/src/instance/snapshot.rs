//! Snapshots: what the store keeps of an instance, so that a new run of ward
//! resumes it (same process, same gate, same counts) instead of starting over.

use super::{Action, AfterStop, Instance, InstanceState, TimerKind};
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
    /// The last decision about it, in words ([`Instance::decision`]).
    pub decision: Option<String>,
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
            decision: self.decision.clone(),
        }
    }

    /// Rebuilds an instance of `spec` from a snapshot. A process that was
    /// being started or stopped is resumed as running (the shell checks
    /// that it still lives); states that wait on the gate keep their `until`.
    /// An instance that was to run but has no process (its spawn was asked
    /// for and never answered, say the keeper crashed first) is `starting`
    /// again: [`crate::deployment::Deployment::restore`] asks for its spawn.
    pub fn from_snapshot(id: InstanceId, spec: &ServiceSpec, snap: &Snapshot) -> Instance {
        let mut inst = Instance::new(id, spec);
        inst.restarts = snap.restarts;
        inst.last_exit = snap.last_exit;
        inst.decision = snap.decision.clone();
        inst.gate.restore(snap.gate, snap.next_delay, &snap.crashes);
        inst.state = match (snap.state, snap.pid) {
            (InstanceState::Starting | InstanceState::Running, Some(_)) => InstanceState::Running,
            // A stop under way goes on (what was to follow it is not kept: it stays down).
            (InstanceState::Stopping { .. }, Some(_)) => InstanceState::Stopping { then: AfterStop::Stay },
            (InstanceState::Ready, Some(_)) => InstanceState::Ready,
            (InstanceState::Isolated, pid) => {
                inst.kept_alive = pid.is_some();
                InstanceState::Isolated
            }
            (InstanceState::Starting | InstanceState::Running | InstanceState::Ready, None) => {
                InstanceState::Starting
            }
            (InstanceState::Stopping { .. }, None) => InstanceState::Stopped,
            (state, _) => state,
        };
        if matches!(
            inst.state,
            InstanceState::Running
                | InstanceState::Ready
                | InstanceState::Isolated
                | InstanceState::Stopping { .. }
        ) {
            inst.pid = snap.pid;
            inst.started_at = snap.started_at;
        }
        inst.generation = 1;
        inst
    }

    /// What a restored instance needs done to go on where it was: a spawn
    /// that never happened, a stop under way (signalled again, its timeout
    /// armed again), the wait of its gate.
    pub fn resume(&mut self, now: MonoTime) -> Vec<Action> {
        let mut out = Vec::new();
        match self.state {
            InstanceState::Starting => out.push(Action::Spawn),
            InstanceState::Stopping { then } => self.begin_stop(then, now, &mut out),
            InstanceState::Backoff { until } | InstanceState::CrashLoop { until } => out
                .push(Action::ArmTimer { at: until, kind: TimerKind::Restart, generation: self.generation }),
            _ => {}
        }
        out
    }
}
