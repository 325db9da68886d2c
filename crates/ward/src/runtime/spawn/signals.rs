//! Signals around a fork: every one blocked across it, and the dispositions
//! (handlers, ignored) a child sets back to the default before its exec.

use std::sync::OnceLock;
use std::{mem, ptr};

/// The signals whose disposition is not the default in this process (a
/// handler, or ignored): those a child sets back to the default before its
/// exec. Looked at once, at the first spawn (64 system calls then, instead
/// of in every child): ward sets no handler after it starts spawning. A
/// handler that exec would reset anyway could otherwise run in a vfork
/// child, on the parent's memory, between its unblocking and its exec.
pub(super) fn disposed() -> &'static [libc::c_int] {
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

/// Blocks every signal in the calling thread; returns the previous mask.
pub(super) fn block_all_signals() -> libc::sigset_t {
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
pub(super) fn restore_signals(saved: &libc::sigset_t) {
    // SAFETY: `saved` is a valid sigset_t filled by pthread_sigmask.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, saved, ptr::null_mut()) };
}
