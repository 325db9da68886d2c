//! The low-level fork/exec of one child (the user database is `users`).
//!
//! Everything the child needs is prepared by the caller as a [`Plan`]; here
//! the pointer arrays are built, then the process forks. Between fork and
//! exec the child runs only async-signal-safe calls and allocates nothing
//! (ward is multi-threaded: another thread may have held the allocator's lock
//! at the fork). Nothing here is O(number of children): all of ward's own
//! descriptors are close-on-exec, so none needs closing one by one.
//!
//! A child started by a vfork-like clone (the usual case, see `clone3`)
//! shares ward's memory until its exec, and the parent waits meanwhile: a
//! failure before the exec is left there as an errno. A child of a real
//! `fork` (where clone3 cannot be used) sends it as 4 bytes on a
//! close-on-exec pipe instead: EOF means exec succeeded. The failed child
//! exits with 127 and is reaped by the reaper like any other; it is never
//! waited for here.
//!
//! - `start`: how the child is started: a vfork-like clone3 (into its
//!   cgroup when it may be), else `fork`.
//! - `child`: what the child runs between fork and exec.
//! - `signals`: the signal mask across the fork, and the dispositions a
//!   child sets back to the default.

mod child;
mod signals;
mod start;

use std::borrow::Cow;
use std::ffi::{CStr, CString};
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::ptr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

use super::reaper::ReaperHandle;
use child::ChildArgs;
use signals::{block_all_signals, disposed, restore_signals};
use start::{Started, start_child};

/// Credentials to switch to in the child.
#[derive(Debug)]
pub(super) struct Creds {
    pub uid: libc::uid_t,
    pub gid: libc::gid_t,
    /// Supplementary groups (the primary group included, as `initgroups` does).
    pub groups: Vec<libc::gid_t>,
    /// The user's name and home folder (for `USER`, `LOGNAME`, `HOME`).
    pub name: String,
    /// The home folder.
    pub home: String,
}

/// One child, fully prepared before the fork.
pub(super) struct Plan {
    /// The program to exec, already resolved through `PATH`.
    pub program: CString,
    pub argv: Vec<CString>,
    /// `NAME=value` strings: ward's own (read once, see `process`) and the launch's.
    pub envp: Vec<Cow<'static, CStr>>,
    pub workdir: Option<CString>,
    pub creds: Option<Creds>,
    /// Becomes the child's stdin (`/dev/null`, see [`dev_null`]).
    pub stdin: RawFd,
    /// Becomes the child's stdout and stderr (the log file).
    pub output: OwnedFd,
    /// How the child joins the instance's v2 cgroup folder: born in it
    /// (`clone3`), or moving itself in where that is unsafe (see
    /// `Cgroups::create`) or the kernel cannot.
    pub cgroup_v2: Option<crate::cgroup::V2Entry>,
    /// `cgroup.procs` of each v1 folder of the instance's cgroup: the child
    /// writes itself into each before anything else.
    pub cgroup_procs: Vec<OwnedFd>,
    /// `setrlimit` calls: resource and value (soft = hard).
    pub rlimits: Vec<(libc::__rlimit_resource_t, libc::rlim_t)>,
    /// The file mode mask.
    pub umask: Option<libc::mode_t>,
    /// Its process group is not killed when it is reaped (see `Forking::forked_sparing_group`).
    pub spare_group: bool,
    /// How long it may take to exec before it is killed (see `reaper::deadline`).
    pub exec_deadline: Duration,
}

/// What became of a fork/exec.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    /// The child runs the program.
    Started(u32),
    /// The child could not exec (or chdir, or switch user) and exits with 127.
    Failed { pid: u32, errno: i32 },
    /// The child had not exec'd `after` its fork and was killed (see `reaper::deadline`).
    TimedOut { pid: u32, after: Duration },
}

/// A forked child whose exec is still under way (or already known).
#[derive(Debug)]
pub(super) enum Forked {
    /// Its exec reports on this pipe (waited for under the reaper's deadline).
    Pending { pid: u32, report: OwnedFd, reaper: ReaperHandle, after: Duration },
    /// Started by `posix_spawn`, which waited for the exec.
    Known(Outcome),
}

impl Forked {
    /// Waits for the child's exec: started, or failed with an errno.
    pub(super) fn outcome(self) -> io::Result<Outcome> {
        let (pid, report, reaper, after) = match self {
            Forked::Known(outcome) => return Ok(outcome),
            Forked::Pending { pid, report, reaper, after } => (pid, report, reaper, after),
        };
        match reaper.within_deadline(pid, after, || read_report(report)) {
            (_, true) => Ok(Outcome::TimedOut { pid, after }),
            (report, false) => Self::reported(pid, report),
        }
    }

    fn reported(pid: u32, report: io::Result<Option<i32>>) -> io::Result<Outcome> {
        match report {
            Ok(None) => Ok(Outcome::Started(pid)),
            Ok(Some(errno)) => Ok(Outcome::Failed { pid, errno }),
            Err(err) => {
                // We cannot tell whether it runs: end it rather than leave an
                // instance nobody knows of (the reaper collects it).
                // SAFETY: kill takes plain integers; `pid` is our own child.
                unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
                Err(err)
            }
        }
    }
}

/// Forks the child of `plan` (telling `reaper` as soon as it exists), which
/// goes on to exec; [`Forked::outcome`] waits for the exec. Not waiting at
/// once lets several children exec at the same time, on several CPUs.
pub(super) fn fork_child(plan: Plan, reaper: &ReaperHandle) -> io::Result<Forked> {
    // Descriptors 0..=2 are overwritten in the child, so none that it reads
    // may sit there (possible if ward was started with one of them closed).
    let stdin = plan.stdin;
    let output = above_stdio(plan.output)?;
    // posix_spawn cannot place a child in a cgroup, set limits or a umask:
    // those take the fork path.
    if plan.creds.is_none()
        && plan.cgroup_v2.is_none()
        && plan.cgroup_procs.is_empty()
        && plan.rlimits.is_empty()
        && plan.umask.is_none()
    {
        let argv = null_terminated(&plan.argv);
        let envp = null_terminated(&plan.envp);
        let (input, out) = (stdin, output.as_raw_fd());
        let mut forking = reaper.forking(plan.exec_deadline);
        let spawned = super::vspawn::spawn(&plan.program, &argv, &envp, plan.workdir.as_ref(), input, out);
        let overdue = forking.overdue();
        if let Ok(pid) = spawned {
            forking.forked(pid);
        } else {
            drop(forking);
        }
        reaper.children_may_exist();
        return Ok(Forked::Known(match spawned {
            Ok(pid) if overdue => Outcome::TimedOut { pid, after: plan.exec_deadline },
            Ok(pid) => Outcome::Started(pid),
            Err(e) => Outcome::Failed { pid: 0, errno: e.raw_os_error().unwrap_or(libc::EINVAL) },
        }));
    }
    let argv = null_terminated(&plan.argv);
    let envp = null_terminated(&plan.envp);
    let cgroup_procs: Vec<RawFd> = plan.cgroup_procs.iter().map(AsRawFd::as_raw_fd).collect();
    let failure = AtomicI32::new(0);
    let mut args = ChildArgs {
        program: plan.program.as_ptr(),
        argv: &argv,
        envp: &envp,
        workdir: plan.workdir.as_deref(),
        creds: plan.creds.as_ref(),
        cgroup_procs: &cgroup_procs,
        v2_procs: None,
        rlimits: &plan.rlimits,
        umask: plan.umask,
        stdin,
        output: output.as_raw_fd(),
        report: -1,
        failure: &failure,
        disposed: disposed(),
    };

    // Block every signal across the fork, so that none of ward's handlers
    // runs in the child before it resets them; the child unblocks them.
    let saved = block_all_signals();
    let mut forking = reaper.forking(plan.exec_deadline);
    let started = start_child(&mut args, plan.cgroup_v2.as_ref());
    let overdue = forking.overdue();
    match &started {
        Ok(Started::Vforked(pid) | Started::Forked(pid, _)) if plan.spare_group => {
            forking.forked_sparing_group(pid.unsigned_abs())
        }
        Ok(Started::Vforked(pid) | Started::Forked(pid, _)) => forking.forked(pid.unsigned_abs()),
        Err(_) => drop(forking),
    }
    restore_signals(&saved);
    let started = started?;
    reaper.children_may_exist();
    drop((output, plan.cgroup_procs, plan.cgroup_v2));
    match started {
        Started::Vforked(pid) => {
            let pid = pid.unsigned_abs();
            Ok(Forked::Known(match failure.load(Ordering::Acquire) {
                0 if overdue => Outcome::TimedOut { pid, after: plan.exec_deadline },
                0 => Outcome::Started(pid),
                errno => Outcome::Failed { pid, errno },
            }))
        }
        Started::Forked(pid, report) => {
            // The child does this too; doing it here as well closes the race
            // with a signal to the group sent before the child got to run. It
            // fails harmlessly (EACCES/ESRCH) when the child already exec'd or ended.
            // SAFETY: setpgid takes plain integers.
            unsafe { libc::setpgid(pid, pid) };
            Ok(Forked::Pending {
                pid: pid.unsigned_abs(),
                report,
                reaper: reaper.clone(),
                after: plan.exec_deadline,
            })
        }
    }
}

/// Reads the child's report: EOF (exec succeeded) or a 4-byte errno.
fn read_report(fd: OwnedFd) -> io::Result<Option<i32>> {
    let mut pipe = std::fs::File::from(fd);
    let mut buf = [0u8; 4];
    let mut len = 0;
    while len < buf.len() {
        match pipe.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    match len {
        0 => Ok(None),
        4 => Ok(Some(i32::from_ne_bytes(buf))),
        _ => Err(io::Error::other("short exec report from the child")),
    }
}

/// `/dev/null`, opened once (above the standard descriptors, close-on-exec):
/// every child's stdin.
pub(super) fn dev_null() -> io::Result<RawFd> {
    static NULL: OnceLock<OwnedFd> = OnceLock::new();
    if let Some(fd) = NULL.get() {
        return Ok(fd.as_raw_fd());
    }
    let fd = above_stdio(OwnedFd::from(std::fs::File::open("/dev/null")?))?;
    Ok(NULL.get_or_init(|| fd).as_raw_fd())
}

/// Moves `fd` above the standard descriptors (a no-op when it already is).
fn above_stdio(fd: OwnedFd) -> io::Result<OwnedFd> {
    if fd.as_raw_fd() > 2 {
        return Ok(fd);
    }
    // SAFETY: F_DUPFD_CLOEXEC on a descriptor we own returns a new one.
    let new = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 3) };
    if new < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `new` was just returned by fcntl and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(new) })
}

/// The `char *const[]` form of `strings`, ending with a null pointer.
fn null_terminated<S: AsRef<CStr>>(strings: &[S]) -> Vec<*const libc::c_char> {
    let mut ptrs = Vec::with_capacity(strings.len() + 1);
    ptrs.extend(strings.iter().map(|s| s.as_ref().as_ptr()));
    ptrs.push(ptr::null());
    ptrs
}
