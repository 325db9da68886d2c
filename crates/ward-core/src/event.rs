//! The one event vocabulary: the API stream, the store, hooks and logs all use it.

use crate::exit::ExitStatus;
use crate::name::InstanceId;
use crate::time::MonoTime;

/// What happened to an instance.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum EventKind {
    /// A process was spawned.
    Started {
        /// Its pid.
        pid: u32,
    },
    /// The instance reported or was probed ready.
    Ready,
    /// The process ended.
    Exited {
        /// How it ended.
        status: ExitStatus,
        /// How long it ran, in milliseconds.
        run_ms: u64,
    },
    /// A restart was admitted by the gate (a `started` follows).
    Restarted {
        /// How many restarts this instance has had.
        restarts: u32,
    },
    /// The gate holds the next restart until this time.
    Backoff {
        /// When the restart is admitted.
        until: MonoTime,
    },
    /// The gate tripped: no restart until the cooldown ends.
    Crashloop {
        /// When the cooldown ends.
        until: MonoTime,
    },
    /// An operator released the gate.
    Unblocked,
    /// The instance was taken out of rotation and kept for debugging.
    Isolated,
    /// The panic policy shut the instance down.
    Shutdown,
    /// The instance finished its work (exit 0, not restarted).
    Completed,
    /// A liveness probe failed.
    HealthFailed {
        /// What the probe saw.
        reason: String,
    },
    /// The instance was stopped (by an operator, `down`, a reload, or a scale-down).
    Stopped,
    /// A process from a previous run of ward was adopted.
    Adopted {
        /// Its pid.
        pid: u32,
    },
    /// The process could not be spawned.
    SpawnFailed {
        /// Why.
        error: String,
    },
    /// Its process is gone but its exit never arrived (its exit is unknown).
    Lost {
        /// Why ward counts it as gone.
        reason: String,
    },
    /// Its main process handed over to another (sd_notify `MAINPID=`): the
    /// instance lives on in `pid`.
    MainPid {
        /// The new main process.
        pid: u32,
    },
}

impl EventKind {
    /// The event's name as users see it (`exited`, `crashloop`, …).
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Started { .. } => "started",
            EventKind::Ready => "ready",
            EventKind::Exited { .. } => "exited",
            EventKind::Restarted { .. } => "restarted",
            EventKind::Backoff { .. } => "backoff",
            EventKind::Crashloop { .. } => "crashloop",
            EventKind::Unblocked => "unblocked",
            EventKind::Isolated => "isolated",
            EventKind::Shutdown => "shutdown",
            EventKind::Completed => "completed",
            EventKind::HealthFailed { .. } => "health_failed",
            EventKind::Stopped => "stopped",
            EventKind::Adopted { .. } => "adopted",
            EventKind::SpawnFailed { .. } => "spawn_failed",
            EventKind::Lost { .. } => "lost",
            EventKind::MainPid { .. } => "main_pid",
        }
    }
}

/// An event about one instance, before the shell stamps it with a sequence number and wall time.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Which instance.
    pub instance: InstanceId,
    /// What happened.
    pub kind: EventKind,
}
