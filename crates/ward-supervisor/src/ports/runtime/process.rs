//! A runtime of real child processes, for programs that supervise their own
//! helpers without ward's keeper.
//!
//! Each instance runs as a direct child of the program, leading a process
//! group of its own, with its output appended to the launch's log file (or
//! inherited, see [`ProcessRuntime::inherit_output`]). A thread per child
//! waits for it without reaping it (`waitid` with `WNOWAIT`): while the
//! leader is a zombie its pid cannot be reused, so the rest of its group is
//! killed then, and only then is it reaped (with what it used, from
//! `wait4`) and its exit reported. A signal goes to the whole group, and
//! never once the leader is reaped: a recycled pid is never signalled.
//!
//! What it does not do (ward's keeper does): run as another user, cgroups
//! and their limits, rlimits, umask, containers, standing orders, and
//! surviving a crash of the program (its children die with it only if they
//! notice; nothing adopts them).

use super::{Exit, Launch, Report, Runtime, Rusage};
use std::collections::HashMap;
use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::sync::mpsc::UnboundedSender;
use ward_core::{ExitStatus, InstanceId};

/// Why a child process could not be started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProcessSpawnError {
    /// The launch has no argv.
    #[error("the command is empty")]
    EmptyCommand,
    /// The launch asks for something this runtime cannot do.
    #[error("{0} is not supported by the process runtime (ward's keeper supports it)")]
    Unsupported(&'static str),
    /// The log file could not be opened.
    #[error("cannot open the log {}: {source}", path.display())]
    Log {
        /// The log file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The program could not be started (not found, not executable…).
    #[error("cannot start {program}: {source}")]
    Exec {
        /// `argv[0]`.
        program: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// No thread could be started to wait for the child (it was killed).
    #[error("cannot start a thread to wait for pid {pid}: {source}")]
    Thread {
        /// The child, killed and reaped.
        pid: u32,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Live children: true once a child's exit is seen (it may not be signalled
/// any more). Held while signalling, so that no reap happens meanwhile.
type Children = Arc<Mutex<HashMap<u32, bool>>>;

fn lock(children: &Children) -> MutexGuard<'_, HashMap<u32, bool>> {
    children.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs each instance as a child process of this program (see the module docs).
#[derive(Debug)]
pub struct ProcessRuntime {
    children: Children,
    reports: UnboundedSender<Report>,
    inherit: bool,
}

impl ProcessRuntime {
    /// A runtime whose exits go to `reports` (give it the supervisor's
    /// [`Feeds::exits`](crate::Feeds::exits)). Each child's output is
    /// appended to its launch's log, the output port's path for it
    /// (`/dev/null` with [`NoOutput`](crate::ports::output::NoOutput)).
    pub fn new(reports: UnboundedSender<Report>) -> Self {
        ProcessRuntime { children: Children::default(), reports, inherit: false }
    }

    /// Children write to this program's stdout and stderr instead of their
    /// log files.
    pub fn inherit_output(mut self) -> Self {
        self.inherit = true;
        self
    }

    fn spawn(&mut self, launch: Launch) -> Result<u32, ProcessSpawnError> {
        if launch.user.is_some() {
            return Err(ProcessSpawnError::Unsupported("user:"));
        }
        if launch.image.is_some() {
            return Err(ProcessSpawnError::Unsupported("a container (image:)"));
        }
        let (program, args) = launch.argv.split_first().ok_or(ProcessSpawnError::EmptyCommand)?;
        let mut cmd = Command::new(program);
        cmd.args(args).envs(launch.env.iter().map(|(k, v)| (k, v))).stdin(Stdio::null()).process_group(0);
        if let Some(dir) = &launch.workdir {
            cmd.current_dir(dir);
        }
        if !self.inherit {
            let log = OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o640)
                .open(&launch.log)
                .map_err(|source| ProcessSpawnError::Log { path: launch.log.clone(), source })?;
            let err = log
                .try_clone()
                .map_err(|source| ProcessSpawnError::Log { path: launch.log.clone(), source })?;
            cmd.stdout(log).stderr(err);
        }
        // Held from the spawn until the waiter is set up: the waiter cannot
        // reap the child before it is in the table.
        let mut children = lock(&self.children);
        let child =
            cmd.spawn().map_err(|source| ProcessSpawnError::Exec { program: program.clone(), source })?;
        let pid = child.id();
        drop(child); // dropping a `Child` neither waits nor kills; the waiter reaps it
        let (table, reports) = (self.children.clone(), self.reports.clone());
        let waiter = std::thread::Builder::new()
            .name(format!("wait-{pid}"))
            .spawn(move || wait_for(pid, &table, &reports));
        if let Err(source) = waiter {
            let _ = kill_group(pid, libc::SIGKILL);
            reap(pid);
            return Err(ProcessSpawnError::Thread { pid, source });
        }
        children.insert(pid, false);
        Ok(pid)
    }
}

impl Runtime for ProcessRuntime {
    type Error = ProcessSpawnError;

    fn request(&mut self, batch: Vec<(u64, Launch)>) -> Vec<(u64, Result<u32, ProcessSpawnError>)> {
        batch.into_iter().map(|(req, launch)| (req, self.spawn(launch))).collect()
    }

    fn signal(&mut self, _id: &InstanceId, pid: u32, signal: i32) -> std::io::Result<()> {
        let children = lock(&self.children);
        if children.get(&pid) != Some(&false) {
            return Ok(()); // gone, or ending: not an error
        }
        match kill_group(pid, signal) {
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => Ok(()),
            other => other,
        }
    }

    fn cleanup(&mut self, _id: &InstanceId, pid: u32) {
        // An exited child's group is killed by its waiter; a live one
        // (named by no instance) goes now.
        if lock(&self.children).get(&pid) == Some(&false) {
            let _ = kill_group(pid, libc::SIGKILL);
        }
    }

    fn exited(&mut self, _id: &InstanceId, _pid: u32) {}

    fn start_time(&self, _pid: u32) -> Option<u64> {
        None // pids are never signalled after their reap: no need to tell them apart
    }

    fn alive(&self, pid: u32) -> bool {
        lock(&self.children).get(&pid) == Some(&false)
    }
}

/// Waits for child `pid` to end, kills the rest of its group, reaps it and
/// reports its exit (the body of its waiter thread).
fn wait_for(pid: u32, children: &Children, reports: &UnboundedSender<Report>) {
    let zombie = wait_no_reap(pid);
    let (status, rusage) = {
        let mut table = lock(children);
        table.insert(pid, true);
        let reaped = if zombie {
            // The leader is a zombie until reaped: its group id still names its group.
            let _ = kill_group(pid, libc::SIGKILL);
            reap(pid)
        } else {
            // Reaped by someone else (SIGCHLD ignored?): its pid may be
            // another process's already, so nothing is signalled.
            (ExitStatus::Unknown, None)
        };
        table.remove(&pid);
        reaped
    };
    let exit = Exit { seq: 0, pid, status, rusage, respawned: None, cgroup: None };
    // A supervisor that is gone does not care about exits any more.
    let _ = reports.send(Report::Exit(exit));
}

/// Blocks until child `pid` has ended, leaving it a zombie; false when it
/// is not ours to wait for (already reaped).
fn wait_no_reap(pid: u32) -> bool {
    loop {
        // SAFETY: a zeroed siginfo_t is a valid out-parameter for waitid.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: waitid only writes into `info`, which lives across the call.
        let rc =
            unsafe { libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, libc::WEXITED | libc::WNOWAIT) };
        if rc == 0 {
            return true;
        }
        if std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return false;
        }
    }
}

/// Reaps child `pid`: how it ended and what it used.
fn reap(pid: u32) -> (ExitStatus, Option<Rusage>) {
    let mut status = 0;
    loop {
        // SAFETY: a zeroed rusage is a valid out-parameter for wait4.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: wait4 only writes into `status` and `usage`, which live across the call.
        let rc = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
        if rc == pid as libc::pid_t {
            let cpu = |t: libc::timeval| t.tv_sec as u64 * 1000 + t.tv_usec as u64 / 1000;
            let rusage = Rusage {
                cpu_ms: cpu(usage.ru_utime) + cpu(usage.ru_stime),
                max_rss_kb: usage.ru_maxrss as u64,
            };
            return (decode(status), Some(rusage));
        }
        if std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return (ExitStatus::Unknown, None);
        }
    }
}

/// A wait status in ward's words.
fn decode(status: libc::c_int) -> ExitStatus {
    if libc::WIFEXITED(status) {
        ExitStatus::Code(libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        ExitStatus::Signal(libc::WTERMSIG(status))
    } else {
        ExitStatus::Unknown
    }
}

/// Sends `signal` to the process group led by `pid`.
fn kill_group(pid: u32, signal: i32) -> std::io::Result<()> {
    // Never 0 or 1: `kill(0)` and `kill(-1)` reach far more than one group.
    let pgid = match libc::pid_t::try_from(pid) {
        Ok(p) if p > 1 => p,
        _ => return Err(std::io::Error::from_raw_os_error(libc::ESRCH)),
    };
    // SAFETY: kill has no memory effects; a negative pid names a process group.
    if unsafe { libc::kill(-pgid, signal) } == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
}
