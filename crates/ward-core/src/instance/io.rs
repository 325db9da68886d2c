//! Inputs to the instance state machine and the actions it returns.

use crate::event::EventKind;
use crate::exit::ExitStatus;
use crate::spec::PanicScope;
use crate::time::MonoTime;

/// What the shell observed about an instance.
#[derive(Clone, Debug, PartialEq)]
pub enum Observation {
    /// The process was spawned with this pid.
    Spawned {
        /// Its pid.
        pid: u32,
    },
    /// The process could not be spawned.
    SpawnFailed {
        /// Why, in words.
        error: String,
    },
    /// The process exited.
    Exited {
        /// How.
        status: ExitStatus,
    },
    /// A timer armed by [`Action::ArmTimer`] fired.
    Timer {
        /// Which one.
        kind: TimerKind,
        /// The generation it was armed with.
        generation: u64,
    },
    /// The instance is ready (sd_notify or a readiness probe).
    Ready,
    /// A liveness check failed beyond its threshold.
    HealthFailed {
        /// What the check saw.
        reason: String,
    },
    /// The dependencies it waits for are ready.
    DependenciesReady,
    /// The answer to [`Action::CheckGone`]: does its process still live?
    Checked {
        /// True while the process (same pid, same start) lives.
        alive: bool,
    },
    /// Its process said (sd_notify `MAINPID=`) that its main process is now `pid`.
    MainPid {
        /// The process named.
        pid: u32,
        /// How that process relates to the instance, as the shell found it.
        kin: Kinship,
    },
}

/// How the process a `MAINPID=` names relates to the instance, as the shell
/// found it (in `/proc`, or in the instance's cgroup).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kinship {
    /// It is in the instance's cgroup.
    InCgroup,
    /// No cgroup: it descends from the instance's process, or is in its process group.
    Descendant,
    /// No cgroup: an orphan ward holds (its parent ended) that started after
    /// the instance's process and is no instance's process.
    Orphan,
    /// Outside the instance's cgroup, or (no cgroup) not of its family.
    Stranger,
    /// No such process runs.
    Gone,
    /// The sender runs in a container: its pids are numbers of its own pid namespace.
    Container,
}

/// What an operator (or the deployment) asks of an instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// Start it if it is down (releases its gate).
    Start,
    /// Start it once its dependencies are ready: wait if they are not.
    StartWhenReady {
        /// Are they ready now?
        deps_ready: bool,
    },
    /// Stop it and keep it down.
    Stop,
    /// Stop it, then start it again at once.
    Restart,
    /// Release its gate now and start it.
    Unblock,
    /// Take it out of rotation and keep it as it is, for debugging: a live
    /// process is kept (ward never kills it until an operator does), a
    /// pending restart is cancelled.
    Isolate,
    /// Stop it and mark it `shutdown` (a panic policy of its service).
    Shutdown,
    /// Stop it and remove it (scale down, removed service).
    Remove,
}

/// Why a command does not apply to the instance's state (the API answers 409).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{instance} is {state}: {why}")]
pub struct Rejection {
    /// The instance, as `service/N`.
    pub instance: String,
    /// Its state word.
    pub state: &'static str,
    /// Why the command does not apply.
    pub why: &'static str,
}

/// Which timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum TimerKind {
    /// The gate's wait is over: restart.
    Restart,
    /// The stop timeout: SIGKILL the group.
    StopTimeout,
    /// [`KILL_GRACE`] after a SIGKILL: is the process gone though its exit never came?
    KillTimeout,
}

/// How long after a SIGKILL a stopping instance whose exit has not arrived is
/// checked: if its process is gone, it is `lost` (its exit unknown) and the
/// stop completes; if it lives (uninterruptible sleep), it is killed again.
pub const KILL_GRACE: std::time::Duration = std::time::Duration::from_secs(3);

/// What the shell must do, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Spawn a process for the instance (report `Spawned` or `SpawnFailed`).
    Spawn,
    /// Send this signal to the instance's process group.
    Signal(i32),
    /// SIGKILL the instance's process group.
    Kill,
    /// Fire `Observation::Timer { kind, generation }` at `at`.
    ArmTimer {
        /// When.
        at: MonoTime,
        /// Which timer.
        kind: TimerKind,
        /// The generation to carry.
        generation: u64,
    },
    /// Record and publish this event.
    Emit(EventKind),
    /// A panic policy reaches beyond this instance.
    Panic {
        /// Service or everything.
        scope: PanicScope,
        /// The exit that caused it.
        status: ExitStatus,
    },
    /// Start a replacement for this isolated instance.
    Replace,
    /// Forget this instance: it is down and removed.
    Removed,
    /// Look whether its process still lives; answer with [`Observation::Checked`].
    CheckGone,
    /// Its main process is now `pid` (was `previous`): watch it; its end is
    /// the instance's exit, and the end of `previous` is not.
    WatchMainPid {
        /// The new main process.
        pid: u32,
        /// The one it replaces.
        previous: u32,
    },
    /// A `MAINPID=` that is not taken: log it.
    IgnoreMainPid {
        /// The process named.
        pid: u32,
        /// Why it is not taken.
        why: &'static str,
    },
}
