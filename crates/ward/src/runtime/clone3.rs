//! A fork that starts the child inside a cgroup: `clone3(CLONE_INTO_CGROUP)`
//! (Linux 5.7, cgroup v2). Moving a process by writing `cgroup.procs` takes
//! the kernel's cgroup-wide threadgroup lock for writing, which waits for an
//! RCU grace period: milliseconds per spawn. Born in the cgroup, the child
//! costs nothing more than a fork. Falls back to `fork` (and the caller to
//! writing `cgroup.procs` in the child) where `clone3` cannot.
//!
//! The child of a raw `clone3` is like a `fork` child to the kernel, but
//! glibc runs no fork handlers in it: it must only make raw system calls or
//! async-signal-safe calls that keep no process-wide state (the spawn's child
//! does only that, and switches credentials with raw system calls).

use std::os::fd::RawFd;

/// `CLONE_INTO_CGROUP` (not in every libc crate version).
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// `struct clone_args` of clone3(2), up to `cgroup` (CLONE_ARGS_SIZE_VER2).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// What the fork did: the pid (0 in the child, negative on failure with
/// errno set), and whether the child was born in the cgroup.
pub(super) struct Forked {
    pub pid: libc::pid_t,
    pub placed: bool,
}

/// Forks; with `cgroup` (a v2 cgroup folder's descriptor) the child starts in it.
///
/// # Safety
/// As `fork`: the child may only run async-signal-safe code, and (see the
/// module doc) no glibc function that relies on fork handlers.
pub(super) unsafe fn fork_into(cgroup: Option<RawFd>) -> Forked {
    if let Some(fd) = cgroup.and_then(|fd| u64::try_from(fd).ok()) {
        let args = CloneArgs {
            flags: CLONE_INTO_CGROUP,
            exit_signal: libc::SIGCHLD as u64,
            cgroup: fd,
            ..CloneArgs::default()
        };
        // SAFETY: `args` is a valid clone_args of the size passed; no stack,
        // tid or pidfd pointers are given, so the kernel writes nothing.
        let rc =
            unsafe { libc::syscall(libc::SYS_clone3, &args as *const CloneArgs, size_of::<CloneArgs>()) };
        if rc >= 0 {
            return Forked { pid: rc as libc::pid_t, placed: true };
        }
        // ENOSYS (old kernel), E2BIG/EINVAL (no CLONE_INTO_CGROUP), EOPNOTSUPP,
        // EBUSY (a domain-invalid cgroup): fall back to a fork.
    }
    // SAFETY: the caller's contract.
    Forked { pid: unsafe { libc::fork() }, placed: false }
}
