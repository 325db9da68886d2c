//! The per-instance state machine: `observe`/`command` take an input and `now`
//! and return the actions the shell must run, in order.
//!
//! Timers carry the instance's generation when armed; a timer whose
//! generation is no longer current is stale and does nothing. Every pair of
//! (state, input) is handled in one exhaustive `match` per input kind.
//!
//! - `state`: the states users see, and what a stop leads to.
//! - `io`: inputs (observations, commands) and actions.
//! - `machine`: the transitions.
//! - `main_pid`: a process that hands its place over to another (`MAINPID=`).
//! - `snapshot`: what the store keeps, and resuming from it.
//! - `decision`: the last decision about an instance, in words, recorded
//!   where it is taken (views such as `why` and crash dossiers read it).

mod commands;
mod decision;
mod io;
mod isolate;
mod machine;
mod main_pid;
mod snapshot;
mod state;

pub use io::{Action, Command, KILL_GRACE, Kinship, Observation, Rejection, TimerKind};
pub use snapshot::Snapshot;
pub use state::{AfterStop, InstanceState};

use crate::exit::ExitStatus;
use crate::gate::{Gate, GateConfig};
use crate::name::InstanceId;
use crate::spec::{ExitCodesSpec, OnPanic, RestartPolicy, ServiceSpec, StopSpec};
use crate::time::MonoTime;

/// The policy settings an instance needs, taken from its service's spec.
#[derive(Clone, Debug, PartialEq)]
pub struct InstancePolicy {
    /// Which exits restart.
    pub restart: RestartPolicy,
    /// What a failure leads to.
    pub on_panic: OnPanic,
    /// How to stop it.
    pub stop: StopSpec,
    /// Which exit codes are clean, and which never restart.
    pub exit_codes: ExitCodesSpec,
}

impl InstancePolicy {
    /// The policy of a service.
    pub fn of(spec: &ServiceSpec) -> Self {
        InstancePolicy {
            restart: spec.restart,
            on_panic: spec.on_panic,
            stop: spec.stop,
            exit_codes: spec.exit_codes.clone(),
        }
    }
}

/// One instance of a service and everything ward knows about it.
#[derive(Clone, Debug)]
pub struct Instance {
    id: InstanceId,
    policy: InstancePolicy,
    state: InstanceState,
    gate: Gate,
    generation: u64,
    pid: Option<u32>,
    started_at: Option<MonoTime>,
    restarts: u32,
    last_exit: Option<ExitStatus>,
    /// Alive and out of rotation (isolated after a failed health check).
    kept_alive: bool,
    /// The last decision about it (an exit, a failed spawn or check, a stop), in words.
    decision: Option<String>,
}

impl Instance {
    /// A new instance of `spec`, not yet started (`stopped`).
    pub fn new(id: InstanceId, spec: &ServiceSpec) -> Self {
        Instance {
            id,
            policy: InstancePolicy::of(spec),
            state: InstanceState::Stopped,
            gate: Gate::new(GateConfig::from(spec)),
            generation: 0,
            pid: None,
            started_at: None,
            restarts: 0,
            last_exit: None,
            kept_alive: false,
            decision: None,
        }
    }

    /// The last decision taken about it and why, in words, as it was taken:
    /// "exit code 3 is listed in exit_codes.no_restart: failed". `None`
    /// before anything was decided.
    pub fn decision(&self) -> Option<&str> {
        self.decision.as_deref()
    }

    /// Its id.
    pub fn id(&self) -> &InstanceId {
        &self.id
    }

    /// Its state.
    pub fn state(&self) -> InstanceState {
        self.state
    }

    /// Its restart gate.
    pub fn gate(&self) -> &Gate {
        &self.gate
    }

    /// The pid of its live process, if any.
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// When its current process started.
    pub fn started_at(&self) -> Option<MonoTime> {
        self.started_at
    }

    /// How many times it was restarted.
    pub fn restarts(&self) -> u32 {
        self.restarts
    }

    /// How its last process ended.
    pub fn last_exit(&self) -> Option<ExitStatus> {
        self.last_exit
    }

    /// The current generation: timers armed with another one are stale.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Its policy settings.
    pub fn policy(&self) -> &InstancePolicy {
        &self.policy
    }

    /// True while a process of it may be alive.
    pub fn is_alive(&self) -> bool {
        // Stopping without a pid: a stop raced the spawn, whose process is still to come.
        self.pid.is_some() || matches!(self.state, InstanceState::Starting | InstanceState::Stopping { .. })
    }

    /// True when it serves traffic: running or ready, not isolated.
    pub fn in_rotation(&self) -> bool {
        matches!(self.state, InstanceState::Running | InstanceState::Ready)
    }

    /// Takes new policy settings (a reload that changed only policy).
    pub fn set_policy(&mut self, spec: &ServiceSpec) {
        self.policy = InstancePolicy::of(spec);
        self.gate.reconfigure(GateConfig::from(spec));
    }
}

#[cfg(test)]
mod tests;
