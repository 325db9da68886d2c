//! Runtimes: how instances are spawned, signalled, and how their exits are learned.
//!
//! The supervisor (crate `ward-supervisor`) sees only its runtime port, the
//! [`Runtime`] trait and a stream of [`Report`]s; these are ward's runtimes
//! behind that port.
//!
//! - `process`: native processes: fork/exec of an argv, one process group each.
//! - `birth`: a child's start time, from the clock read around its fork.
//! - `lineage`: whose is a process (`MAINPID=`): its cgroup, its parents.
//! - `oci`: OCI containers through runc (crun, youki), wrapping the process runtime.
//! - `reaper`: the one place that waits for children: each child's pidfd and
//!   a sweep for orphans, on one thread; every exit reported once.

pub mod adopt;
mod birth;
#[cfg(test)]
mod born_tests;
mod clone3;
pub mod lineage;
pub mod oci;
pub mod process;
pub mod reaper;
pub mod remote;
mod spawn;
mod users;
mod vspawn;

use std::path::PathBuf;
pub use ward_supervisor::ports::runtime::{
    Exit, ImageLaunch, KnownChild, Launch, Report, Respawned, Runtime, Rusage,
};

/// Why a spawn failed.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    /// The program or workdir is not there, not executable, etc. (errno from exec/chdir).
    #[error("cannot run {program}: {source}")]
    Exec {
        /// argv\[0\].
        program: String,
        /// The OS error the child reported.
        #[source]
        source: std::io::Error,
    },
    /// `user:` does not name a user of this system.
    #[error("unknown user {0:?}")]
    UnknownUser(String),
    /// `user:` needs ward to run as root.
    #[error("user {0:?} needs ward to run as root (it runs as uid {1})")]
    NotRoot(String, u32),
    /// The log file could not be opened.
    #[error("cannot open log file {path}: {source}")]
    Log {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The container could not be prepared (runtime binary, bundle, user, limits).
    #[error(transparent)]
    Container(#[from] oci::ContainerError),
    /// The instance's cgroup could not be made or limited.
    #[error(transparent)]
    Cgroup(#[from] crate::cgroup::CgroupError),
    /// Limits were asked for, but ward runs without cgroups.
    #[error("resources: need cgroups, and ward runs without them here ({0})")]
    NoCgroups(String),
    /// `group:` does not name a group of this system.
    #[error("unknown group {0:?}")]
    UnknownGroup(String),
    /// The child had not exec'd long after its fork, and was killed (see
    /// `reaper::deadline`).
    #[error(
        "{program} had not started {after:?} after its fork and was killed (its cgroup frozen, or its \
         program or working folder on a file system that does not answer?)"
    )]
    ExecTimedOut {
        /// argv\[0\].
        program: String,
        /// The deadline it missed.
        after: std::time::Duration,
    },
    /// Anything else from the OS (fork, pipe, a NUL byte in an argument…).
    #[error("spawn failed: {0}")]
    Os(#[from] std::io::Error),
}
