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

use std::borrow::Cow;
use std::ffi::{CStr, CString};
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicI32, Ordering};
use std::{mem, ptr};

use super::reaper::ReaperHandle;

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
}

/// What became of a fork/exec.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    /// The child runs the program.
    Started(u32),
    /// The child could not exec (or chdir, or switch user) and exits with 127.
    Failed { pid: u32, errno: i32 },
}

/// Everything the child reads, as raw values and pointers, built before the fork.
struct ChildArgs<'a> {
    program: *const libc::c_char,
    argv: &'a [*const libc::c_char],
    envp: &'a [*const libc::c_char],
    workdir: Option<&'a CStr>,
    creds: Option<&'a Creds>,
    cgroup_procs: &'a [RawFd],
    /// The v2 `cgroup.procs` to write, when the child was not born in its cgroup.
    v2_procs: Option<RawFd>,
    rlimits: &'a [(libc::__rlimit_resource_t, libc::rlim_t)],
    umask: Option<libc::mode_t>,
    stdin: RawFd,
    output: RawFd,
    /// The pipe a forked child reports a failure on (`-1` in a vfork child).
    report: RawFd,
    /// Where a vfork child leaves the errno of what failed (it shares the
    /// parent's memory, which waits until it exec'd or exited).
    failure: &'a AtomicI32,
    /// The signals to set back to their default (see [`disposed`]).
    disposed: &'a [libc::c_int],
}

/// How a child was started.
enum Started {
    /// Sharing the parent's memory (`CLONE_VFORK`): it exec'd or failed
    /// before the parent went on.
    Vforked(libc::pid_t),
    /// Through `fork`: its exec reports on this pipe.
    Forked(libc::pid_t, OwnedFd),
}

/// A forked child whose exec is still under way (or already known).
#[derive(Debug)]
pub(super) enum Forked {
    /// Its exec reports on this pipe.
    Pending { pid: u32, report: OwnedFd },
    /// Started by `posix_spawn`, which waited for the exec.
    Known(Outcome),
}

impl Forked {
    /// Waits for the child's exec: started, or failed with an errno.
    pub(super) fn outcome(self) -> io::Result<Outcome> {
        let (pid, report) = match self {
            Forked::Known(outcome) => return Ok(outcome),
            Forked::Pending { pid, report } => (pid, report),
        };
        match read_report(report) {
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
        let forking = reaper.forking();
        let spawned = super::vspawn::spawn(&plan.program, &argv, &envp, plan.workdir.as_ref(), input, out);
        if let Ok(pid) = spawned {
            forking.forked(pid);
        } else {
            drop(forking);
        }
        reaper.children_may_exist();
        return Ok(Forked::Known(match spawned {
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
    let forking = reaper.forking();
    let started = start_child(&mut args, plan.cgroup_v2.as_ref());
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
            Ok(Forked::Pending { pid: pid.unsigned_abs(), report })
        }
    }
}

/// Starts the child of `args` (signals blocked): born in its v2 cgroup
/// (`v2`) where it may be and the kernel can, sharing the keeper's memory
/// until its exec (see `clone3`); else moving itself in, and through `fork`
/// where clone3 cannot be used at all.
fn start_child(args: &mut ChildArgs<'_>, v2: Option<&crate::cgroup::V2Entry>) -> io::Result<Started> {
    use crate::cgroup::V2Entry;
    // SAFETY (both calls): `vfork_entry` runs only `child_main` (raw or
    // async-signal-safe calls on memory prepared before) and never returns;
    // `args` outlives the call, which waits for the child's exec.
    let vfork = |args: &mut ChildArgs<'_>, dir| unsafe {
        super::clone3::vfork_into(dir, vfork_entry, (args as *mut ChildArgs<'_>).cast())
    };
    let born_in = match v2 {
        Some(V2Entry::Folder(dir)) => Some(dir.as_raw_fd()),
        _ => None,
    };
    let mut cloned = Err(libc::ENOSYS);
    if let Some(dir) = born_in {
        cloned = vfork(args, Some(dir));
    }
    // Opened only where the child must move itself in; open until it has.
    let mut opened = None;
    if cloned.is_err() {
        // Not born in its cgroup (none to be born in, or the kernel cannot):
        // it moves itself in.
        args.v2_procs = match v2 {
            Some(V2Entry::Procs(procs)) => Some(procs.as_raw_fd()),
            Some(V2Entry::Folder(dir)) => {
                Some(opened.insert(V2Entry::procs_of(std::os::fd::AsFd::as_fd(dir))?).as_raw_fd())
            }
            None => None,
        };
        if born_in.is_none() || cloned != Err(libc::ENOSYS) {
            cloned = vfork(args, None);
        }
    }
    match cloned {
        Ok(pid) => Ok(Started::Vforked(pid)),
        Err(libc::ENOSYS) => {
            // The child's memory is its own: a failure comes back on a pipe.
            let (report_read, report_write) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
            let report_write = above_stdio(report_write)?;
            args.report = report_write.as_raw_fd();
            // SAFETY: the child branch runs only `child_main`, which makes raw
            // or async-signal-safe calls on memory prepared above and never returns.
            let pid = unsafe { libc::fork() };
            if pid == 0 {
                child_main(args);
            }
            if pid < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(Started::Forked(pid, report_read))
        }
        Err(errno) => Err(io::Error::from_raw_os_error(errno)),
    }
}

/// The child's entry after a vfork-like clone3: `arg` is its `ChildArgs`.
extern "C" fn vfork_entry(arg: *mut libc::c_void) -> ! {
    // SAFETY: `start_child` passes its `ChildArgs`, alive while the parent waits.
    child_main(unsafe { &*arg.cast::<ChildArgs<'_>>() })
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

/// The child, between fork and exec. Async-signal-safe calls only.
fn child_main(args: &ChildArgs<'_>) -> ! {
    let errno = setup_and_exec(args);
    // A vfork child shares the waiting parent's memory: the errno is left
    // there. A forked one writes it on the pipe.
    args.failure.store(if errno == 0 { libc::EINVAL } else { errno }, Ordering::Release);
    let bytes = errno.to_ne_bytes();
    // SAFETY: writes 4 bytes from a live stack buffer (to no descriptor in a
    // vfork child: -1), then ends the process without running any Rust or
    // atexit code.
    unsafe {
        if args.report >= 0 {
            libc::write(args.report, bytes.as_ptr().cast(), bytes.len());
        }
        libc::_exit(127)
    }
}

/// Prepares the child and execs; returns the errno of what failed.
fn setup_and_exec(args: &ChildArgs<'_>) -> i32 {
    // SAFETY: every call below is async-signal-safe and reads only memory
    // that the parent prepared before the fork and that outlives this call.
    unsafe {
        // Into the instance's cgroup first: nothing of it runs outside.
        for &fd in args.v2_procs.iter().chain(args.cgroup_procs) {
            if libc::write(fd, b"0".as_ptr().cast(), 1) != 1 {
                return errno();
            }
        }
        let mut default: libc::sigaction = mem::zeroed();
        default.sa_sigaction = libc::SIG_DFL;
        // An all-zero kernel `struct sigaction` is SIG_DFL without flags on
        // every Linux architecture, whatever its field order.
        let kernel_default = [0u64; 4];
        // glibc refuses its reserved signals (32, 33), which may still have
        // been ignored by whoever started ward, so the kernel is asked
        // directly for those.
        for &sig in args.disposed {
            if libc::sigaction(sig, &default, ptr::null_mut()) != 0 {
                libc::syscall(
                    libc::SYS_rt_sigaction,
                    sig,
                    kernel_default.as_ptr(),
                    ptr::null_mut::<u64>(),
                    mem::size_of::<u64>(),
                );
            }
        }
        let mut none: libc::sigset_t = mem::zeroed();
        libc::sigemptyset(&mut none);
        libc::sigprocmask(libc::SIG_SETMASK, &none, ptr::null_mut());

        if libc::setpgid(0, 0) != 0
            || libc::dup2(args.stdin, 0) < 0
            || libc::dup2(args.output, 1) < 0
            || libc::dup2(args.output, 2) < 0
        {
            return errno();
        }
        if let Some(dir) = args.workdir {
            if libc::chdir(dir.as_ptr()) != 0 {
                return errno();
            }
        }
        for &(resource, value) in args.rlimits {
            let limit = libc::rlimit { rlim_cur: value, rlim_max: value };
            if libc::setrlimit(resource, &limit) != 0 {
                return errno();
            }
        }
        if let Some(mask) = args.umask {
            libc::umask(mask);
        }
        if let Some(creds) = args.creds {
            // Raw system calls: glibc's wrappers would try to reach every
            // thread of the parent (a clone3 child runs no fork handlers).
            if libc::syscall(libc::SYS_setgroups, creds.groups.len(), creds.groups.as_ptr()) != 0
                || libc::syscall(libc::SYS_setresgid, creds.gid, creds.gid, creds.gid) != 0
                || libc::syscall(libc::SYS_setresuid, creds.uid, creds.uid, creds.uid) != 0
            {
                return errno();
            }
        }
        // Belt and braces for descriptors leaked without O_CLOEXEC by some
        // library: mark all above stderr close-on-exec (best effort; one
        // syscall, it fails only on kernels older than 5.11).
        libc::syscall(libc::SYS_close_range, 3 as libc::c_uint, libc::c_uint::MAX, libc::CLOSE_RANGE_CLOEXEC);
        libc::execve(args.program, args.argv.as_ptr(), args.envp.as_ptr());
        errno()
    }
}

/// The signals whose disposition is not the default in this process (a
/// handler, or ignored): those a child sets back to the default before its
/// exec. Looked at once, at the first spawn (64 system calls then, instead
/// of in every child): ward sets no handler after it starts spawning. A
/// handler that exec would reset anyway could otherwise run in a vfork
/// child, on the parent's memory, between its unblocking and its exec.
fn disposed() -> &'static [libc::c_int] {
    static DISPOSED: OnceLock<Vec<libc::c_int>> = OnceLock::new();
    DISPOSED.get_or_init(|| {
        (1..=64)
            .filter(|&sig| {
                let mut old = [0u64; 4];
                // SAFETY: a query (no new action) into a buffer as large as
                // the kernel's `struct sigaction` on every architecture.
                let rc = unsafe {
                    libc::syscall(
                        libc::SYS_rt_sigaction,
                        sig,
                        ptr::null::<u64>(),
                        old.as_mut_ptr(),
                        mem::size_of::<u64>(),
                    )
                };
                // SIG_DFL is 0, whatever the field order: anything else is a
                // handler, SIG_IGN or flags, and set back to be sure.
                rc == 0 && old.iter().any(|&w| w != 0) && sig != libc::SIGKILL && sig != libc::SIGSTOP
            })
            .collect()
    })
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

/// The calling thread's errno.
fn errno() -> i32 {
    // SAFETY: __errno_location returns the calling thread's errno slot.
    unsafe { *libc::__errno_location() }
}

/// Blocks every signal in the calling thread; returns the previous mask.
fn block_all_signals() -> libc::sigset_t {
    // SAFETY: both sets are valid, writable sigset_t values.
    unsafe {
        let mut all: libc::sigset_t = mem::zeroed();
        let mut saved: libc::sigset_t = mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut saved);
        saved
    }
}

/// Restores the mask saved by [`block_all_signals`].
fn restore_signals(saved: &libc::sigset_t) {
    // SAFETY: `saved` is a valid sigset_t filled by pthread_sigmask.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, saved, ptr::null_mut()) };
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
