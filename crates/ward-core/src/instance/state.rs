//! The states of an instance, in the words users see.

use crate::time::MonoTime;

/// What happens once a stopping instance's process has exited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AfterStop {
    /// Stay down (`stopped`): an operator's stop, `down`, a binding dependency.
    Stay,
    /// Start again at once (operator `restart`, changed spec).
    Restart,
    /// Stay down as `shutdown` (a panic policy reached this instance).
    Shutdown,
    /// Be removed (scale down, service removed from the spec).
    Remove,
    /// The process failed a health check: its exit goes through the panic policy.
    Fail,
}

/// The state of an instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InstanceState {
    /// Waiting for its dependencies to be ready.
    Waiting,
    /// Spawn requested; the process is not confirmed yet.
    Starting,
    /// The process runs.
    Running,
    /// The process runs and is ready.
    Ready,
    /// Stop signal sent; waiting for the process to exit.
    Stopping {
        /// What comes after the exit.
        then: AfterStop,
    },
    /// Down, by request.
    Stopped,
    /// Crashed; the gate holds the restart until `until`.
    Backoff {
        /// When the restart is admitted.
        until: MonoTime,
    },
    /// Crashed too often; no restart until `until`.
    CrashLoop {
        /// When the cooldown ends.
        until: MonoTime,
    },
    /// Out of rotation and kept for debugging (process kept if it was alive).
    Isolated,
    /// Down because a panic policy shut it down.
    Shutdown,
    /// Exited 0 and not restarted: its work is done.
    Completed,
    /// Could not be spawned, or crashed under `restart: never`.
    Failed,
}

impl InstanceState {
    /// Every state word, in the order DESIGN.md lists them (with `waiting` first).
    pub const WORDS: [&'static str; 12] = [
        "waiting",
        "starting",
        "running",
        "ready",
        "stopping",
        "stopped",
        "backoff",
        "crashloop",
        "isolated",
        "shutdown",
        "completed",
        "failed",
    ];

    /// The word users see (`running`, `backoff`, `crashloop`, …).
    pub fn word(self) -> &'static str {
        match self {
            InstanceState::Waiting => "waiting",
            InstanceState::Starting => "starting",
            InstanceState::Running => "running",
            InstanceState::Ready => "ready",
            InstanceState::Stopping { .. } => "stopping",
            InstanceState::Stopped => "stopped",
            InstanceState::Backoff { .. } => "backoff",
            InstanceState::CrashLoop { .. } => "crashloop",
            InstanceState::Isolated => "isolated",
            InstanceState::Shutdown => "shutdown",
            InstanceState::Completed => "completed",
            InstanceState::Failed => "failed",
        }
    }

    /// True in the states where no process runs and none will start by itself.
    pub fn is_at_rest(self) -> bool {
        matches!(
            self,
            InstanceState::Stopped
                | InstanceState::Shutdown
                | InstanceState::Completed
                | InstanceState::Failed
                | InstanceState::Isolated
        )
    }
}
