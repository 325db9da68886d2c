//! The process runtime: each instance is a native process, forked and exec'd
//! by ward itself, leader of its own process group.
//!
//! `std::process::Command` is not used: it waits for a child whose exec
//! failed, which would race with the
//! [`Reaper`](super::reaper::Reaper), the only waiter in ward.
//! Here everything is prepared before the fork (argv, environment, the
//! program's path, the user's credentials, the log file), then
//! [`spawn::fork_child`] runs the child; exits come from the reaper.
//!
//! - `plan`: what the child needs, resolved from its launch before the fork
//!   (argv, limits, the log file).
//! - `identity`: the user a child runs as, and its credentials.
//! - `environment`: the child's environment, and its program found on `PATH`.
//! - `stat`: a process's start time and liveness, from `/proc/PID/stat`.

mod environment;
mod identity;
mod plan;
mod stat;
#[cfg(test)]
mod tests;

pub use identity::user_ids;
pub use stat::{process_alive, process_start_time};

use std::io;

use super::reaper::ReaperHandle;
use super::spawn::{self, Outcome};
use super::{Launch, Runtime, SpawnError};
use crate::cgroup::{Cgroups, Instance};
use plan::prepare;
use ward_core::InstanceId;
use ward_core::spec::ResourcesSpec;

/// Runs instances as native processes.
#[derive(Debug)]
pub struct ProcessRuntime {
    reaper: ReaperHandle,
    /// The deployment's cgroups, or why there are none.
    cgroups: Result<Cgroups, String>,
}

/// A child forked by [`ProcessRuntime::fork`], whose exec is under way.
#[derive(Debug)]
pub struct Forked {
    child: spawn::Forked,
    /// Its start time, when the clock told it (see `birth`).
    start_time: Option<u64>,
    /// The length of its log file just before it was forked.
    log_len: u64,
}

impl Forked {
    /// The child's start time (clock ticks after boot, as `/proc/PID/stat`
    /// shows it), when known without reading it there.
    pub fn start_time(&self) -> Option<u64> {
        self.start_time
    }

    /// The length of the child's log file just before it was forked: where
    /// its output starts.
    pub fn log_len(&self) -> u64 {
        self.log_len
    }
}

/// A failed spawn, with the pid of the child when one was forked (it exits
/// with 127 and is reaped like any other).
#[derive(Debug)]
struct Failed {
    child: Option<u32>,
    error: SpawnError,
}

impl From<SpawnError> for Failed {
    fn from(error: SpawnError) -> Self {
        Failed { child: None, error }
    }
}

impl ProcessRuntime {
    /// A runtime whose children are reaped by `reaper` (woken after each
    /// fork); takes a [`ReaperHandle`], or the `Reaper` itself.
    pub fn new(reaper: impl Into<ReaperHandle>) -> Self {
        ProcessRuntime { reaper: reaper.into(), cgroups: Err("no cgroups set up in this process".into()) }
    }

    /// Puts each instance whose launch asks for it in a cgroup of its own
    /// below `cgroups` (or, with the reason there are none, runs without).
    pub fn set_cgroups(&mut self, cgroups: Result<Cgroups, String>) {
        self.cgroups = cgroups;
    }

    /// The deployment's cgroups, or why there are none.
    pub fn cgroups(&self) -> Result<&Cgroups, &str> {
        self.cgroups.as_ref().map_err(String::as_str)
    }

    /// Spawns `launch`; on failure, also says which child was forked.
    fn start(&self, launch: &Launch) -> Result<u32, Failed> {
        let forked = self.fork(launch).map_err(Failed::from)?;
        Self::finish(launch, forked)
    }

    /// Forks the process of `launch`, which goes on to exec; [`ProcessRuntime::finish`]
    /// waits for the exec. Forking several before finishing any lets them exec in parallel.
    pub fn fork(&self, launch: &Launch) -> Result<Forked, SpawnError> {
        self.fork_in(launch, None).map(|(forked, _)| forked)
    }

    /// [`ProcessRuntime::fork`], in the cgroup of the instance's last
    /// process when `last` gives it (its folders and the limits they were
    /// made for; see [`Cgroups::reuse`]); also returns the cgroup the child
    /// was placed in, if any.
    pub fn fork_in(
        &self,
        launch: &Launch,
        last: Option<(Instance, ResourcesSpec)>,
    ) -> Result<(Forked, Option<Instance>), SpawnError> {
        let mut plan = prepare(launch)?;
        let mut placed = None;
        if launch.process.cgroup {
            match &self.cgroups {
                Ok(cgroups) => {
                    let name = crate::cgroup::instance_name(&launch.id.to_string());
                    let resources = launch.process.resources();
                    let inst = match last {
                        Some((last, was)) => cgroups.reuse(&name, last, &was, &resources)?,
                        None => cgroups.create(&name, &resources)?,
                    };
                    plan.cgroup_v2 = inst.v2_files()?;
                    plan.cgroup_procs = inst.v1_procs_files()?;
                    placed = Some(inst);
                }
                Err(why) if launch.process.limited() => return Err(SpawnError::NoCgroups(why.clone())),
                Err(_) => {}
            }
        }
        // A process that may hand over keeps its group at its exit, when a cgroup holds it.
        plan.spare_group =
            launch.process.handover && (plan.cgroup_v2.is_some() || !plan.cgroup_procs.is_empty());
        let log_len = rustix::fs::fstat(&plan.output).map_or(0, |st| st.st_size.max(0) as u64);
        let birth = super::birth::Birth::begin();
        let child = spawn::fork_child(plan, &self.reaper)?;
        Ok((Forked { child, start_time: birth.start_time(), log_len }, placed))
    }

    /// Waits for the exec of a child from [`ProcessRuntime::fork`]: its pid once it runs the
    /// program. A child whose exec failed exits with 127 and is reaped as usual.
    pub fn finish_fork(launch: &Launch, forked: Forked) -> Result<u32, SpawnError> {
        Self::finish(launch, forked).map_err(|failed| failed.error)
    }

    fn finish(launch: &Launch, forked: Forked) -> Result<u32, Failed> {
        match forked.child.outcome().map_err(SpawnError::Os)? {
            Outcome::Started(pid) => {
                tracing::debug!(instance = %launch.id, pid, "spawned");
                Ok(pid)
            }
            Outcome::TimedOut { pid, after } => Err(Failed {
                child: Some(pid),
                error: SpawnError::ExecTimedOut { program: launch.argv[0].clone(), after },
            }),
            Outcome::Failed { pid, errno } => Err(Failed {
                child: (pid != 0).then_some(pid),
                error: SpawnError::Exec {
                    program: launch.argv[0].clone(),
                    source: io::Error::from_raw_os_error(errno),
                },
            }),
        }
    }
}

impl ProcessRuntime {
    /// Sends `signal` to the process group led by `pid`, only while that
    /// leader is a child of ours not yet reaped (see `reaper::Shared`):
    /// a group already gone, or a number that is no longer ours, is left alone.
    pub fn signal_group(&mut self, pid: u32, signal: i32) -> io::Result<()> {
        if !self.reaper.signal_group(pid, signal)? {
            tracing::debug!(pid, signal, "not signalled: no unreaped child of ours leads that group");
        }
        Ok(())
    }
}

impl ProcessRuntime {
    /// Starts `launch`; returns once its exec succeeded or failed.
    pub fn spawn(&mut self, launch: &Launch) -> Result<u32, SpawnError> {
        self.start(launch).map_err(|failed| {
            if let Some(pid) = failed.child {
                tracing::debug!(instance = %launch.id, pid, error = %failed.error, "exec failed");
            }
            failed.error
        })
    }
}

impl Runtime for ProcessRuntime {
    type Error = SpawnError;

    fn start_time(&self, pid: u32) -> Option<u64> {
        crate::runtime::process::process_start_time(pid)
    }

    fn alive(&self, pid: u32) -> bool {
        crate::runtime::process::process_alive(pid)
    }
    fn request(&mut self, batch: Vec<(u64, Launch)>) -> Vec<(u64, Result<u32, SpawnError>)> {
        batch.into_iter().map(|(req, launch)| (req, self.spawn(&launch))).collect()
    }

    fn signal(&mut self, _id: &InstanceId, pid: u32, signal: i32) -> io::Result<()> {
        self.signal_group(pid, signal)
    }

    fn cleanup(&mut self, _id: &InstanceId, pid: u32) {
        // Whatever the leader left behind in its process group goes with it.
        let _ = self.signal_group(pid, libc::SIGKILL);
    }
}
