//! The child, between fork and exec: into its cgroup, signals back to the
//! default, stdio, workdir, limits, user, then exec. Async-signal-safe calls
//! only, on memory the parent prepared.

use std::ffi::CStr;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicI32, Ordering};
use std::{mem, ptr};

use super::Creds;

/// Everything the child reads, as raw values and pointers, built before the fork.
pub(super) struct ChildArgs<'a> {
    pub(super) program: *const libc::c_char,
    pub(super) argv: &'a [*const libc::c_char],
    pub(super) envp: &'a [*const libc::c_char],
    pub(super) workdir: Option<&'a CStr>,
    pub(super) creds: Option<&'a Creds>,
    pub(super) cgroup_procs: &'a [RawFd],
    /// The v2 `cgroup.procs` to write, when the child was not born in its cgroup.
    pub(super) v2_procs: Option<RawFd>,
    pub(super) rlimits: &'a [(libc::__rlimit_resource_t, libc::rlim_t)],
    pub(super) umask: Option<libc::mode_t>,
    pub(super) stdin: RawFd,
    pub(super) output: RawFd,
    /// The pipe a forked child reports a failure on (`-1` in a vfork child).
    pub(super) report: RawFd,
    /// Where a vfork child leaves the errno of what failed (it shares the
    /// parent's memory, which waits until it exec'd or exited).
    pub(super) failure: &'a AtomicI32,
    /// The signals to set back to their default (see [`disposed`](super::signals::disposed)).
    pub(super) disposed: &'a [libc::c_int],
}

/// The child's entry after a vfork-like clone3: `arg` is its `ChildArgs`.
pub(super) extern "C" fn vfork_entry(arg: *mut libc::c_void) -> ! {
    // SAFETY: `start_child` passes its `ChildArgs`, alive while the parent waits.
    child_main(unsafe { &*arg.cast::<ChildArgs<'_>>() })
}

/// The child, between fork and exec. Async-signal-safe calls only.
pub(super) fn child_main(args: &ChildArgs<'_>) -> ! {
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

/// The calling thread's errno.
fn errno() -> i32 {
    // SAFETY: __errno_location returns the calling thread's errno slot.
    unsafe { *libc::__errno_location() }
}
